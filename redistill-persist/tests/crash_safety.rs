//! Replacing a snapshot file never loses the previous one.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod common;

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use common::{CREATED, sample_records};
use redistill_persist::{
    AtomicFile, PersistError, Record, SnapshotReader, SnapshotWriter, Value, save_snapshot,
};

/// Passes the first `budget` bytes through, then fails like a full disk.
#[derive(Debug)]
struct FailAfter<W> {
    inner: W,
    budget: usize,
}

impl<W: Write> Write for FailAfter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.budget == 0 {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "no space left"));
        }
        let n = buf.len().min(self.budget);
        let written = self.inner.write(&buf[..n])?;
        self.budget -= written;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn load(path: &Path) -> Vec<Record> {
    SnapshotReader::open(path)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn save(path: &Path, records: &[Record]) {
    save_snapshot(path, CREATED, |writer| {
        records
            .iter()
            .try_for_each(|record| writer.write_record(record))
    })
    .unwrap();
}

/// Names in `dir`: nothing but the snapshot itself may be left behind.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn newer_records() -> Vec<Record> {
    (0..2_000u32)
        .map(|i| Record::new(0, format!("new:{i}"), Value::Integer(i64::from(i))))
        .collect()
}

#[test]
fn save_creates_and_then_replaces_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.rdst");
    save(&path, &sample_records());
    assert_eq!(load(&path), sample_records());
    save(&path, &newer_records());
    assert_eq!(load(&path), newer_records());
    assert_eq!(entries(dir.path()), vec!["dump.rdst".to_owned()]);
}

#[test]
fn a_write_failing_at_any_point_leaves_the_previous_snapshot_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.rdst");
    save(&path, &sample_records());
    let before = fs::read(&path).unwrap();

    let full_len = common::write(&newer_records(), redistill_persist::DEFAULT_BLOCK_SIZE).len();
    let mut budget = 0;
    while budget < full_len {
        let file = AtomicFile::create(&path).unwrap();
        let failing = FailAfter {
            inner: file,
            budget,
        };
        let result = (|| {
            let mut writer = SnapshotWriter::new(failing, CREATED)?;
            for record in newer_records() {
                writer.write_record(&record)?;
            }
            writer.finish()
        })();
        let err = result.unwrap_err();
        assert!(
            matches!(&err, PersistError::Io { source } if source.kind() == io::ErrorKind::StorageFull),
            "budget {budget}: {err}"
        );
        // The failed writer and its temporary file were dropped above.
        assert_eq!(fs::read(&path).unwrap(), before, "budget {budget}");
        assert_eq!(entries(dir.path()), vec!["dump.rdst".to_owned()]);
        budget += 997;
    }
    assert_eq!(load(&path), sample_records());
}

#[test]
fn a_failed_writer_refuses_further_use() {
    let failing = FailAfter {
        inner: Vec::new(),
        budget: 30,
    };
    let mut writer = SnapshotWriter::with_block_size(failing, CREATED, 1).unwrap();
    let err = writer.write_string(0, b"key", None, b"value").unwrap_err();
    assert!(matches!(err, PersistError::Io { .. }), "{err}");
    assert!(matches!(
        writer.write_string(0, b"key", None, b"value"),
        Err(PersistError::WriterFailed)
    ));
    assert!(matches!(writer.finish(), Err(PersistError::WriterFailed)));

    let failing = FailAfter {
        inner: Vec::new(),
        budget: 10,
    };
    let err = SnapshotWriter::new(failing, CREATED).unwrap_err();
    assert!(matches!(err, PersistError::Io { .. }), "{err}");
}

#[test]
fn an_error_while_filling_leaves_the_previous_snapshot_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.rdst");
    save(&path, &sample_records());

    #[derive(Debug)]
    enum SaveError {
        // Carried for the caller's benefit; this test only looks at the variant.
        #[allow(dead_code)]
        Persist(PersistError),
        Interrupted,
    }
    impl From<PersistError> for SaveError {
        fn from(err: PersistError) -> Self {
            SaveError::Persist(err)
        }
    }

    let result = save_snapshot(&path, CREATED, |writer| {
        for (i, record) in newer_records().iter().enumerate() {
            if i == 1_500 {
                return Err(SaveError::Interrupted);
            }
            writer.write_record(record)?;
        }
        Ok(())
    });
    assert!(matches!(result, Err(SaveError::Interrupted)));
    assert_eq!(load(&path), sample_records());
    assert_eq!(entries(dir.path()), vec!["dump.rdst".to_owned()]);
}

#[test]
fn a_crash_before_commit_leaves_the_previous_snapshot_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.rdst");
    save(&path, &sample_records());

    let mut writer = SnapshotWriter::new(AtomicFile::create(&path).unwrap(), CREATED).unwrap();
    for record in newer_records() {
        writer.write_record(&record).unwrap();
    }
    let (file, _) = writer.finish().unwrap();
    // A crash runs no destructors: the temporary file stays, uncommitted.
    std::mem::forget(file);

    assert_eq!(load(&path), sample_records());
    let names = entries(dir.path());
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names[0].starts_with(".dump.rdst.") && names[0].ends_with(".tmp"),
        "{names:?}"
    );
}

#[test]
fn an_unwritable_directory_is_a_file_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("dump.rdst");
    let err = save_snapshot(&path, CREATED, |_| Ok::<(), PersistError>(())).unwrap_err();
    match &err {
        PersistError::File { path: named, .. } => assert_eq!(named, &path),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("dump.rdst"), "{err}");
    assert!(matches!(
        SnapshotReader::open(&path),
        Err(PersistError::File {
            action: "open the snapshot",
            ..
        })
    ));
}

#[cfg(unix)]
#[test]
fn a_committed_snapshot_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.rdst");
    save(&path, &sample_records());
    let mode = fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}
