//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use bytes::Bytes;
use redistill_persist::{PersistError, Record, SnapshotReader, SnapshotWriter, Value};

pub const CREATED: u64 = 1_700_000_000_123;

/// One record of every value type, with and without expiry, across databases.
pub fn sample_records() -> Vec<Record> {
    vec![
        Record::new(0, "plain", Value::String(Bytes::from_static(b"hello"))),
        Record::new(0, "empty", Value::String(Bytes::new())),
        Record::new(
            1,
            Bytes::from_static(b"bin\x00\xff\r\n"),
            Value::String(Bytes::from_static(b"\x00\x01\x02\xfe\xff")),
        )
        .with_expiry(1_800_000_000_000),
        Record::new(0, "counter", Value::Integer(-42)),
        Record::new(2, "max", Value::Integer(i64::MAX)).with_expiry(1),
        Record::new(2, "min", Value::Integer(i64::MIN)),
        Record::new(
            3,
            "user:1",
            Value::Hash(vec![
                ("name".into(), "Ada".into()),
                ("lang".into(), Bytes::new()),
                (Bytes::new(), "empty field".into()),
            ]),
        ),
        Record::new(15, "session", Value::Hash(vec![("t".into(), "x".into())]))
            .with_expiry(u64::MAX),
        Record::new(u32::MAX, "", Value::Hash(Vec::new())),
        Record::new(
            4,
            "queue",
            Value::List(vec![
                "a".into(),
                Bytes::new(),
                Bytes::from_static(b"\x00\xff"),
            ]),
        ),
        Record::new(4, "later", Value::List(vec!["x".into()])).with_expiry(1_900_000_000_000),
        Record::new(5, "none", Value::List(Vec::new())),
        Record::new(
            6,
            "tags",
            Value::Set(vec!["a".into(), "42".into(), Bytes::from_static(b"\x00")]),
        )
        .with_expiry(1_900_000_000_000),
        Record::new(6, "no tags", Value::Set(Vec::new())),
        Record::new(
            7,
            "board",
            Value::ZSet(vec![
                ("low".into(), f64::NEG_INFINITY),
                (Bytes::new(), -0.0),
                ("mid".into(), 2.5),
                (Bytes::from_static(b"\x00\xff"), f64::MAX),
                ("top".into(), f64::INFINITY),
            ]),
        )
        .with_expiry(1_900_000_000_000),
        Record::new(7, "empty board", Value::ZSet(Vec::new())),
        Record::new(
            0,
            "mylib",
            Value::Library(Bytes::from_static(b"#!lua name=mylib\nreturn 1")),
        ),
    ]
}

/// Writes `records` with the given block size.
pub fn write(records: &[Record], block_size: usize) -> Vec<u8> {
    let mut writer = SnapshotWriter::with_block_size(Vec::new(), CREATED, block_size).unwrap();
    for record in records {
        writer.write_record(record).unwrap();
    }
    let (bytes, stats) = writer.finish().unwrap();
    assert_eq!(stats.records, records.len() as u64);
    assert_eq!(stats.bytes, bytes.len() as u64);
    bytes
}

/// Reads every record, or the first error.
pub fn read_all(bytes: &[u8]) -> Result<Vec<Record>, PersistError> {
    let mut reader = SnapshotReader::new(bytes)?;
    let records = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
    assert!(reader.is_complete());
    assert!(reader.next().is_none(), "a complete reader stays finished");
    Ok(records)
}

/// A small snapshot spread over several blocks.
pub fn small_snapshot() -> (Vec<Record>, Vec<u8>) {
    let records = sample_records();
    let bytes = write(&records, 48);
    (records, bytes)
}
