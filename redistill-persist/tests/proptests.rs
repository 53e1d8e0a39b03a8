//! Property tests: random keyspaces round-trip, random bytes never panic.

mod common;

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use redistill_persist::{Record, SnapshotReader, SnapshotWriter, Value};

fn bytes_strategy() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..40).prop_map(Bytes::from)
}

/// Any score a sorted set may hold: every f64 but NaN.
fn score_strategy() -> impl Strategy<Value = f64> {
    any::<f64>().prop_map(|s| if s.is_nan() { 0.0 } else { s })
}

fn value_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        bytes_strategy().prop_map(Value::String),
        any::<i64>().prop_map(Value::Integer),
        vec((bytes_strategy(), bytes_strategy()), 0..6).prop_map(Value::Hash),
        vec(bytes_strategy(), 0..6).prop_map(Value::List),
        vec(bytes_strategy(), 0..6).prop_map(Value::Set),
        vec((bytes_strategy(), score_strategy()), 0..6).prop_map(Value::ZSet),
        bytes_strategy().prop_map(Value::Library),
    ]
}

fn record_strategy() -> impl Strategy<Value = Record> {
    (
        prop_oneof![0u32..16, any::<u32>()],
        bytes_strategy(),
        proptest::option::of(any::<u64>()),
        value_strategy(),
    )
        .prop_map(|(db, key, expire_at_ms, value)| Record {
            db,
            key,
            expire_at_ms,
            value,
        })
}

/// Reads as far as the input allows; must never panic.
fn drain(bytes: &[u8]) -> Option<usize> {
    let reader = SnapshotReader::new(bytes).ok()?;
    let mut count = 0;
    for item in reader {
        item.ok()?;
        count += 1;
    }
    Some(count)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_keyspaces_round_trip(
        records in vec(record_strategy(), 0..60),
        block_size in 1usize..2_000,
        created in any::<u64>(),
    ) {
        let mut writer = SnapshotWriter::with_block_size(Vec::new(), created, block_size).unwrap();
        for record in &records {
            writer.write_record(record).unwrap();
        }
        let (bytes, stats) = writer.finish().unwrap();
        prop_assert_eq!(stats.bytes, bytes.len() as u64);
        let mut reader = SnapshotReader::new(&bytes[..]).unwrap();
        prop_assert_eq!(reader.header().created_at_ms, created);
        let read = reader.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
        prop_assert_eq!(read, records);
        prop_assert_eq!(reader.stats(), Some(stats));
    }

    #[test]
    fn one_random_change_is_always_detected(
        records in vec(record_strategy(), 1..20),
        block_size in 1usize..500,
        position in any::<proptest::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let mut bytes = common::write(&records, block_size);
        let at = position.index(bytes.len());
        bytes[at] ^= xor;
        prop_assert!(common::read_all(&bytes).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..600)) {
        // Without the magic bytes nothing can be valid.
        prop_assert!(drain(&bytes).is_none());
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_header_never_panic(tail in vec(any::<u8>(), 0..600)) {
        let mut bytes = common::write(&[], 1)[..redistill_persist::HEADER_LEN].to_vec();
        bytes.extend_from_slice(&tail);
        drain(&bytes);
    }

    #[test]
    fn arbitrary_records_in_a_valid_block_never_panic(
        payload in vec(any::<u8>(), 0..300),
        record_count in 0u32..8,
    ) {
        // Valid checksums all round, so the record decoder itself is exercised.
        let mut bytes = common::write(&[], 1)[..redistill_persist::HEADER_LEN].to_vec();
        let mut block = vec![b'B'];
        block.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        block.extend_from_slice(&record_count.to_le_bytes());
        block.extend_from_slice(&payload);
        let block_crc = crc32c::crc32c(&block);
        block.extend_from_slice(&block_crc.to_le_bytes());
        bytes.extend_from_slice(&block);
        bytes.push(b'E');
        bytes.extend_from_slice(&u64::from(record_count).to_le_bytes());
        bytes.extend_from_slice(&1u64.to_le_bytes());
        let file_crc = crc32c::crc32c(&bytes);
        bytes.extend_from_slice(&file_crc.to_le_bytes());
        drain(&bytes);
    }
}
