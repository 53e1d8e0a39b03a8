//! Records come back exactly as written.

mod common;

use bytes::Bytes;
use common::{CREATED, read_all, sample_records, write};
use redistill_persist::{
    DEFAULT_BLOCK_SIZE, FormatVersion, PersistError, Record, SnapshotReader, SnapshotWriter, Value,
};

#[test]
fn every_value_type_round_trips_with_and_without_ttl() {
    let records = sample_records();
    for block_size in [1, 48, DEFAULT_BLOCK_SIZE] {
        let bytes = write(&records, block_size);
        assert_eq!(
            read_all(&bytes).unwrap(),
            records,
            "block size {block_size}"
        );
    }
}

#[test]
fn header_and_stats_are_reported() {
    let records = sample_records();
    let bytes = write(&records, 1);
    let mut reader = SnapshotReader::new(&bytes[..]).unwrap();
    assert_eq!(reader.header().version, FormatVersion::V4);
    assert_eq!(reader.header().created_at_ms, CREATED);
    assert_eq!(reader.header().flags, 0);
    assert_eq!(reader.stats(), None);
    let count = reader.by_ref().map(Result::unwrap).count();
    assert_eq!(count, records.len());
    let stats = reader.stats().unwrap();
    assert_eq!(stats.records, records.len() as u64);
    // Block size 1 closes a block after every record.
    assert_eq!(stats.blocks, records.len() as u64);
    assert_eq!(stats.bytes, bytes.len() as u64);
    assert_eq!(reader.offset(), bytes.len() as u64);
}

#[test]
fn empty_snapshot_round_trips() {
    let bytes = write(&[], DEFAULT_BLOCK_SIZE);
    assert_eq!(
        bytes.len(),
        redistill_persist::HEADER_LEN + redistill_persist::FOOTER_LEN
    );
    assert_eq!(read_all(&bytes).unwrap(), Vec::new());
}

#[test]
fn typed_writers_match_write_record() {
    let mut writer = SnapshotWriter::new(Vec::new(), CREATED).unwrap();
    writer.write_string(0, b"s", Some(5), b"v").unwrap();
    writer.write_integer(1, b"i", None, 9).unwrap();
    let fields: Vec<(Vec<u8>, Vec<u8>)> = vec![(b"f".to_vec(), b"1".to_vec())];
    writer
        .write_hash(2, b"h", None, fields.iter().map(|(f, v)| (&f[..], &v[..])))
        .unwrap();
    assert_eq!(writer.records(), 3);
    let (typed, _) = writer.finish().unwrap();

    let records = vec![
        Record::new(0, "s", Value::String("v".into())).with_expiry(5),
        Record::new(1, "i", Value::Integer(9)),
        Record::new(2, "h", Value::Hash(vec![("f".into(), "1".into())])),
    ];
    assert_eq!(typed, write(&records, DEFAULT_BLOCK_SIZE));
}

#[test]
fn a_record_larger_than_the_block_size_gets_its_own_block() {
    let big = Bytes::from(vec![7u8; 200_000]);
    let records = vec![
        Record::new(0, "a", Value::String("small".into())),
        Record::new(0, "big", Value::String(big.clone())),
        Record::new(0, "hash", Value::Hash(vec![("f".into(), big)])),
        Record::new(0, "b", Value::Integer(1)),
    ];
    let bytes = write(&records, DEFAULT_BLOCK_SIZE);
    let mut reader = SnapshotReader::new(&bytes[..]).unwrap();
    let read: Vec<Record> = reader.by_ref().map(Result::unwrap).collect();
    assert_eq!(read, records);
    // [a, big] closes the first block, [hash] the second, [b] the last.
    assert_eq!(reader.stats().unwrap().blocks, 3);
}

#[test]
fn many_records_fill_many_blocks() {
    let records: Vec<Record> = (0..5_000u32)
        .map(|i| {
            let key = format!("key:{i}");
            match i % 3 {
                0 => Record::new(i % 16, key, Value::String(format!("value-{i}").into())),
                1 => Record::new(i % 16, key, Value::Integer(i64::from(i) * 31))
                    .with_expiry(u64::from(i) + 1_700_000_000_000),
                _ => Record::new(
                    i % 16,
                    key,
                    Value::Hash(vec![
                        ("a".into(), format!("{i}").into()),
                        ("b".into(), "2".into()),
                    ]),
                ),
            }
        })
        .collect();
    let bytes = write(&records, 4096);
    let mut reader = SnapshotReader::new(&bytes[..]).unwrap();
    let read: Vec<Record> = reader.by_ref().map(Result::unwrap).collect();
    assert_eq!(read, records);
    assert!(reader.stats().unwrap().blocks > 10);
}

#[test]
fn oversized_string_is_refused_and_the_writer_stays_usable() {
    // Zeroed pages are mapped lazily and the check comes before any copy,
    // so this costs no real memory.
    let huge = vec![0u8; redistill_persist::MAX_STRING_LEN as usize + 1];
    let mut writer = SnapshotWriter::new(Vec::new(), CREATED).unwrap();
    writer.write_string(0, b"before", None, b"1").unwrap();
    let err = writer.write_string(0, b"k", None, &huge).unwrap_err();
    assert!(matches!(err, PersistError::RecordTooLarge { .. }), "{err}");
    let err = writer
        .write_hash(
            0,
            b"h",
            None,
            [(&b"f"[..], &b"v"[..]), (&b"g"[..], &huge[..])],
        )
        .unwrap_err();
    assert!(matches!(err, PersistError::RecordTooLarge { .. }), "{err}");
    let err = writer.write_integer(0, &huge, None, 1).unwrap_err();
    assert!(matches!(err, PersistError::RecordTooLarge { .. }), "{err}");
    drop(huge);
    writer.write_string(0, b"after", None, b"2").unwrap();
    let (bytes, stats) = writer.finish().unwrap();
    assert_eq!(stats.records, 2);
    let keys: Vec<Bytes> = read_all(&bytes)
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(keys, vec![Bytes::from("before"), Bytes::from("after")]);
}

/// Hands out at most one byte per call and is interrupted every other call,
/// as a slow pipe or a signal-heavy process would.
struct Trickle<'a> {
    bytes: &'a [u8],
    interrupt: bool,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(1).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

#[test]
fn short_and_interrupted_reads_are_handled() {
    let records = sample_records();
    let bytes = write(&records, 48);
    let reader = SnapshotReader::new(Trickle {
        bytes: &bytes,
        interrupt: false,
    })
    .unwrap();
    let read = reader.collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(read, records);
}
