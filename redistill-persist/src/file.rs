//! Crash-safe snapshot files.
//!
//! A snapshot is written to a temporary file next to its target, synced,
//! renamed over the target and the directory synced, so that after a crash
//! the target holds either the previous snapshot or the new one, whole.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::{PersistError, SnapshotStats, SnapshotWriter};

/// A file that appears at its path only when [`commit`](Self::commit)ted.
///
/// Writes go to a temporary file in the target's directory (the same file
/// system, so the final rename is atomic). Dropping an `AtomicFile` without
/// committing it, for instance because a write failed, deletes the
/// temporary file and leaves whatever was at the target untouched.
///
/// A crash (or `std::process::abort`) runs no destructor, so it leaves the
/// temporary file behind, named `.<target name>.<random>.tmp`; the target
/// itself is still the previous version. The file is created readable and
/// writable by its owner only (mode `0600` on Unix), as a snapshot holds
/// every value of the keyspace.
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// use redistill_persist::AtomicFile;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("note.txt");
///
/// let mut file = AtomicFile::create(&path)?;
/// file.write_all(b"draft")?;
/// drop(file); // not committed: nothing appears
/// assert!(!path.exists());
///
/// let mut file = AtomicFile::create(&path)?;
/// file.write_all(b"final")?;
/// file.commit()?;
/// assert_eq!(std::fs::read(&path)?, b"final");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    temp: NamedTempFile,
    target: PathBuf,
}

impl AtomicFile {
    /// Creates the temporary file that will become `path` on commit.
    ///
    /// # Errors
    ///
    /// [`PersistError::File`] if the temporary file cannot be created.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, PersistError> {
        let target = path.as_ref().to_path_buf();
        let dir = parent_dir(&target);
        let prefix = match target.file_name() {
            Some(name) => format!(".{}.", name.to_string_lossy()),
            None => ".snapshot.".to_owned(),
        };
        let temp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|source| PersistError::File {
                action: "create a temporary file for",
                path: target.clone(),
                source,
            })?;
        Ok(AtomicFile { temp, target })
    }

    /// The path the file will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Makes the written data durable and moves it to the target path:
    /// flush, `fsync` the file, rename it over the target, `fsync` the
    /// directory so the rename itself survives a crash.
    ///
    /// # Errors
    ///
    /// [`PersistError::File`] naming the step that failed. If the rename has
    /// not happened yet, the target is untouched and the temporary file is
    /// removed. If only the final directory sync failed, the new file is in
    /// place but the rename might not survive a power loss.
    pub fn commit(mut self) -> Result<(), PersistError> {
        let target = self.target;
        let fail = |action: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source: io::Error| PersistError::File {
                action,
                path,
                source,
            }
        };
        self.temp
            .flush()
            .map_err(fail("flush the temporary file for", &target))?;
        self.temp
            .as_file()
            .sync_all()
            .map_err(fail("sync the temporary file for", &target))?;
        self.temp
            .persist(&target)
            .map_err(|err| fail("rename the temporary file onto", &target)(err.error))?;
        sync_dir(parent_dir(&target)).map_err(fail("sync the directory of", &target))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temp.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.temp.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

/// Writes a snapshot file crash-safely: `fill` adds the records, then the
/// snapshot is finished and committed as by [`AtomicFile::commit`].
///
/// If `fill` or any write fails, the error is returned, the temporary file is
/// removed, and the previous snapshot at `path`, if any, is left as it was.
///
/// # Errors
///
/// Whatever `fill` returns, or any [`PersistError`] from writing and
/// committing, converted into `E`.
///
/// # Examples
///
/// ```
/// use redistill_persist::{save_snapshot, SnapshotReader, PersistError};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("dump.rdst");
///
/// let stats = save_snapshot(&path, 1_700_000_000_000, |writer| {
///     writer.write_string(0, b"k", None, b"v")?;
///     Ok::<(), PersistError>(())
/// })?;
/// assert_eq!(stats.records, 1);
///
/// let records = SnapshotReader::open(&path)?.collect::<Result<Vec<_>, _>>()?;
/// assert_eq!(records.len(), 1);
/// # Ok(())
/// # }
/// ```
pub fn save_snapshot<F, E>(
    path: impl AsRef<Path>,
    created_at_ms: u64,
    fill: F,
) -> Result<SnapshotStats, E>
where
    F: FnOnce(&mut SnapshotWriter<AtomicFile>) -> Result<(), E>,
    E: From<PersistError>,
{
    let file = AtomicFile::create(path)?;
    let mut writer = SnapshotWriter::new(file, created_at_ms)?;
    fill(&mut writer)?;
    let (file, stats) = writer.finish()?;
    file.commit()?;
    Ok(stats)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Directories cannot be opened for syncing on this platform; the rename is
/// as durable as the file system makes it.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_file_name_lives_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("dump.rdst")), Path::new("."));
        assert_eq!(
            parent_dir(Path::new("/var/lib/dump.rdst")),
            Path::new("/var/lib")
        );
        assert_eq!(parent_dir(Path::new("data/dump.rdst")), Path::new("data"));
    }
}
