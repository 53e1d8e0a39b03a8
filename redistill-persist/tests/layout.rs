//! The exact bytes the README documents, so other tools can rely on them.

mod common;

use redistill_persist::{Record, SnapshotReader, Value};

fn crc(bytes: &[u8]) -> [u8; 4] {
    crc32c::crc32c(bytes).to_le_bytes()
}

#[test]
fn bytes_match_the_documented_layout() {
    let records = vec![
        Record::new(2, "k", Value::String("vv".into())).with_expiry(0x0102_0304_0506_0708),
        Record::new(0, "n", Value::Integer(-2)),
        Record::new(1, "h", Value::Hash(vec![("f".into(), "x".into())])),
        Record::new(0, "l", Value::List(vec!["a".into(), "bc".into()])),
        Record::new(0, "s", Value::Set(vec!["7".into(), "m".into()])),
        Record::new(0, "lib", Value::Library("code".into())),
    ];
    let written = common::write(&records, 1 << 20);

    let mut expected = Vec::new();
    // Header.
    expected.extend_from_slice(b"RDSTSNAP");
    expected.extend_from_slice(&4u16.to_le_bytes());
    expected.extend_from_slice(&0u16.to_le_bytes());
    expected.extend_from_slice(&common::CREATED.to_le_bytes());
    let header_crc = crc(&expected);
    expected.extend_from_slice(&header_crc);
    assert_eq!(expected.len(), redistill_persist::HEADER_LEN);

    // One block holding the six records.
    let mut payload = Vec::new();
    payload.extend_from_slice(&[0x01, 0x01]); // string, has expiry
    payload.extend_from_slice(&2u32.to_le_bytes());
    payload.extend_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(b"k");
    payload.extend_from_slice(&2u32.to_le_bytes());
    payload.extend_from_slice(b"vv");
    payload.extend_from_slice(&[0x02, 0x00]); // integer, no expiry
    payload.extend_from_slice(&0u32.to_le_bytes());
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(b"n");
    payload.extend_from_slice(&(-2i64).to_le_bytes());
    payload.extend_from_slice(&[0x03, 0x00]); // hash, no expiry
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(b"h");
    payload.extend_from_slice(&1u32.to_le_bytes()); // one pair
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(b"f");
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(b"x");
    payload.extend_from_slice(&[0x04, 0x00]); // list, no expiry
    payload.extend_from_slice(&0u32.to_le_bytes());
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(b"l");
    payload.extend_from_slice(&2u32.to_le_bytes()); // two elements
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(b"a");
    payload.extend_from_slice(&2u32.to_le_bytes());
    payload.extend_from_slice(b"bc");
    payload.extend_from_slice(&[0x05, 0x00]); // set, no expiry
    payload.extend_from_slice(&0u32.to_le_bytes());
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(b"s");
    payload.extend_from_slice(&2u32.to_le_bytes()); // two members
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(b"7");
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(b"m");
    payload.extend_from_slice(&[0x07, 0x00]); // library, no expiry
    payload.extend_from_slice(&0u32.to_le_bytes());
    payload.extend_from_slice(&3u32.to_le_bytes());
    payload.extend_from_slice(b"lib");
    payload.extend_from_slice(&4u32.to_le_bytes());
    payload.extend_from_slice(b"code");
    let mut block = vec![b'B'];
    block.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    block.extend_from_slice(&6u32.to_le_bytes());
    block.extend_from_slice(&payload);
    let block_crc = crc(&block);
    block.extend_from_slice(&block_crc);
    expected.extend_from_slice(&block);

    // Footer.
    expected.push(b'E');
    expected.extend_from_slice(&6u64.to_le_bytes());
    expected.extend_from_slice(&1u64.to_le_bytes());
    let file_crc = crc(&expected);
    expected.extend_from_slice(&file_crc);

    assert_eq!(written, expected);
    let read = SnapshotReader::new(&expected[..])
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(read, records);
}
