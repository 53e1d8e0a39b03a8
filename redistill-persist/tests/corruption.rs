//! Any changed, missing or extra byte is detected and located.

mod common;

use common::{read_all, small_snapshot};
use redistill_persist::{BLOCK_HEADER_LEN, FOOTER_LEN, HEADER_LEN, PersistError, SnapshotReader};

/// Offsets and total lengths of each block in a snapshot, found by walking
/// the frame headers.
fn blocks(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = HEADER_LEN;
    while bytes[at] == b'B' {
        let mut len = [0u8; 4];
        len.copy_from_slice(&bytes[at + 1..at + 5]);
        let len = u32::from_le_bytes(len) as usize;
        let total = BLOCK_HEADER_LEN + len + 4;
        out.push((at, total));
        at += total;
    }
    assert_eq!(bytes.len() - at, FOOTER_LEN);
    out
}

#[test]
fn the_sample_spans_several_blocks() {
    let (_, bytes) = small_snapshot();
    assert!(blocks(&bytes).len() >= 4, "{}", blocks(&bytes).len());
}

#[test]
fn every_flipped_byte_is_detected() {
    let (_, bytes) = small_snapshot();
    for pos in 0..bytes.len() {
        for pattern in [0x01u8, 0x80, 0xff, 0x5a] {
            let mut damaged = bytes.clone();
            damaged[pos] ^= pattern;
            assert!(
                read_all(&damaged).is_err(),
                "flip {pattern:#04x} at {pos} of {} went unnoticed",
                bytes.len()
            );
        }
    }
}

#[test]
fn a_flipped_payload_byte_names_its_block() {
    let (_, bytes) = small_snapshot();
    for (at, total) in blocks(&bytes) {
        for pos in at + BLOCK_HEADER_LEN..at + total {
            let mut damaged = bytes.clone();
            damaged[pos] ^= 0x10;
            match read_all(&damaged) {
                Err(PersistError::BlockChecksumMismatch { offset, .. }) => {
                    assert_eq!(offset, at as u64, "flip at {pos}")
                }
                other => panic!("flip at {pos}: {other:?}"),
            }
        }
    }
}

#[test]
fn header_damage_is_named() {
    let (_, bytes) = small_snapshot();
    let mut damaged = bytes.clone();
    damaged[0] = b'X';
    assert!(
        matches!(read_all(&damaged), Err(PersistError::BadMagic { found }) if &found == b"XDSTSNAP")
    );

    let mut damaged = bytes.clone();
    damaged[8] = 9;
    assert!(matches!(
        read_all(&damaged),
        Err(PersistError::UnsupportedVersion { version: 9 })
    ));

    for pos in 10..HEADER_LEN {
        let mut damaged = bytes.clone();
        damaged[pos] ^= 0x04;
        assert!(
            matches!(
                read_all(&damaged),
                Err(PersistError::HeaderChecksumMismatch { offset: 20, .. })
            ),
            "flip at {pos}"
        );
    }
}

#[test]
fn footer_damage_is_named() {
    let (_, bytes) = small_snapshot();
    let footer_at = bytes.len() - FOOTER_LEN;
    for pos in footer_at + 1..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[pos] ^= 0x02;
        match read_all(&damaged) {
            Err(PersistError::FileChecksumMismatch { offset, .. }) => {
                assert_eq!(offset, (bytes.len() - 4) as u64)
            }
            other => panic!("flip at {pos}: {other:?}"),
        }
    }
}

#[test]
fn truncation_at_every_length_is_detected_at_that_length() {
    let (records, bytes) = small_snapshot();
    for len in 0..bytes.len() {
        let mut reader = match SnapshotReader::new(&bytes[..len]) {
            Ok(reader) => reader,
            Err(PersistError::Truncated { offset, .. }) => {
                assert_eq!(offset, len as u64);
                continue;
            }
            Err(other) => panic!("cut at {len}: {other}"),
        };
        let mut yielded = 0;
        let err = loop {
            match reader.next() {
                Some(Ok(record)) => {
                    assert_eq!(
                        record, records[yielded],
                        "records before the cut are intact"
                    );
                    yielded += 1;
                }
                Some(Err(err)) => break err,
                None => panic!("cut at {len} read as a complete snapshot"),
            }
        };
        assert!(
            matches!(err, PersistError::Truncated { offset, .. } if offset == len as u64),
            "cut at {len}: {err}"
        );
        assert!(!reader.is_complete());
        assert!(reader.next().is_none(), "a failed reader stays finished");
    }
}

#[test]
fn appended_bytes_are_detected() {
    let (_, bytes) = small_snapshot();
    for extra in [&b"\0"[..], b"E", b"B", b"RDSTSNAP", &[0xff; 100]] {
        let mut longer = bytes.clone();
        longer.extend_from_slice(extra);
        match read_all(&longer) {
            Err(PersistError::TrailingBytes { offset }) => assert_eq!(offset, bytes.len() as u64),
            other => panic!("appended {extra:?}: {other:?}"),
        }
    }
    // A whole second snapshot glued on is just as wrong.
    let mut doubled = bytes.clone();
    doubled.extend_from_slice(&bytes);
    assert!(matches!(
        read_all(&doubled),
        Err(PersistError::TrailingBytes { .. })
    ));
}

#[test]
fn removed_inserted_duplicated_or_reordered_blocks_are_detected() {
    let (_, bytes) = small_snapshot();
    let blocks = blocks(&bytes);
    let (a_at, a_len) = blocks[1];
    let (b_at, b_len) = blocks[2];
    let block_a = &bytes[a_at..a_at + a_len];
    let block_b = &bytes[b_at..b_at + b_len];

    let mut removed = bytes.clone();
    removed.drain(a_at..a_at + a_len);
    assert!(matches!(
        read_all(&removed),
        Err(PersistError::FileChecksumMismatch { .. })
    ));

    let mut duplicated = bytes.clone();
    duplicated.splice(a_at..a_at, block_a.iter().copied());
    assert!(matches!(
        read_all(&duplicated),
        Err(PersistError::FileChecksumMismatch { .. })
    ));

    let mut swapped = bytes[..a_at].to_vec();
    swapped.extend_from_slice(block_b);
    swapped.extend_from_slice(block_a);
    swapped.extend_from_slice(&bytes[b_at + b_len..]);
    assert_eq!(swapped.len(), bytes.len());
    assert!(matches!(
        read_all(&swapped),
        Err(PersistError::FileChecksumMismatch { .. })
    ));

    for pos in 0..bytes.len() {
        let mut shorter = bytes.clone();
        shorter.remove(pos);
        assert!(read_all(&shorter).is_err(), "removed byte {pos}");
        let mut longer = bytes.clone();
        longer.insert(pos, 0x42);
        assert!(read_all(&longer).is_err(), "inserted byte at {pos}");
    }
}

/// Builds a snapshot around a hand-made block whose checksum is valid, as a
/// faulty writer or a crafted file would.
fn with_block(payload: &[u8], record_count: u32) -> Vec<u8> {
    let mut bytes = common::write(&[], 1)[..HEADER_LEN].to_vec();
    let mut block = vec![b'B'];
    block.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    block.extend_from_slice(&record_count.to_le_bytes());
    block.extend_from_slice(payload);
    let block_crc = crc32c::crc32c(&block);
    block.extend_from_slice(&block_crc.to_le_bytes());
    bytes.extend_from_slice(&block);
    bytes.push(b'E');
    bytes.extend_from_slice(&u64::from(record_count).to_le_bytes());
    bytes.extend_from_slice(&1u64.to_le_bytes());
    let file_crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&file_crc.to_le_bytes());
    bytes
}

const PAYLOAD_AT: u64 = (HEADER_LEN + BLOCK_HEADER_LEN) as u64;

fn string_record(tag: u8, flags: u8, key_len: u32, value_len: u32) -> Vec<u8> {
    let mut record = vec![tag, flags];
    record.extend_from_slice(&0u32.to_le_bytes());
    record.extend_from_slice(&key_len.to_le_bytes());
    record.extend_from_slice(b"k");
    record.extend_from_slice(&value_len.to_le_bytes());
    record.extend_from_slice(b"value");
    record
}

#[test]
fn a_valid_crafted_block_is_read() {
    let bytes = with_block(&string_record(0x01, 0, 1, 5), 1);
    let records = read_all(&bytes).unwrap();
    assert_eq!(
        records[0].value,
        redistill_persist::Value::String("value".into())
    );
}

#[test]
fn unknown_type_tags_are_named_with_their_offset() {
    for tag in [0x00, 0x08, 0x7f, 0xff] {
        let bytes = with_block(&string_record(tag, 0, 1, 5), 1);
        match read_all(&bytes) {
            Err(PersistError::UnknownTypeTag { offset, tag: found }) => {
                assert_eq!((offset, found), (PAYLOAD_AT, tag))
            }
            other => panic!("tag {tag:#x}: {other:?}"),
        }
    }
}

/// The same file, its header saying format version 1 (checksums redone).
fn as_version_1(bytes: Vec<u8>) -> Vec<u8> {
    as_version(bytes, 1)
}

/// The same file relabelled as format `version`, checksums redone.
fn as_version(mut bytes: Vec<u8>, version: u16) -> Vec<u8> {
    bytes[8..10].copy_from_slice(&version.to_le_bytes());
    let header_crc = crc32c::crc32c(&bytes[..20]);
    bytes[20..24].copy_from_slice(&header_crc.to_le_bytes());
    let end = bytes.len() - 4;
    let file_crc = crc32c::crc32c(&bytes[..end]);
    bytes[end..].copy_from_slice(&file_crc.to_le_bytes());
    bytes
}

#[test]
fn list_records_are_unknown_to_version_1_files() {
    let mut list = vec![0x04, 0x00];
    list.extend_from_slice(&0u32.to_le_bytes());
    list.extend_from_slice(&1u32.to_le_bytes());
    list.extend_from_slice(b"k");
    list.extend_from_slice(&1u32.to_le_bytes());
    list.extend_from_slice(&1u32.to_le_bytes());
    list.extend_from_slice(b"e");
    let v2 = with_block(&list, 1);
    assert_eq!(
        read_all(&v2).unwrap()[0].value,
        redistill_persist::Value::List(vec!["e".into()])
    );
    match read_all(&as_version_1(v2)) {
        Err(PersistError::UnknownTypeTag { offset, tag: 0x04 }) => assert_eq!(offset, PAYLOAD_AT),
        other => panic!("{other:?}"),
    }
    // A list claiming more elements than its block could hold.
    let mut list = vec![0x04, 0x00];
    list.extend_from_slice(&0u32.to_le_bytes());
    list.extend_from_slice(&1u32.to_le_bytes());
    list.extend_from_slice(b"k");
    list.extend_from_slice(&3u32.to_le_bytes());
    list.extend_from_slice(&0u32.to_le_bytes());
    assert!(matches!(
        read_all(&with_block(&list, 1)),
        Err(PersistError::LengthTooLarge { len: 3, max: 1, .. })
    ));
}

#[test]
fn lengths_beyond_the_block_or_the_limit_are_refused() {
    let bytes = with_block(&string_record(0x01, 0, 1, 6), 1);
    match read_all(&bytes) {
        Err(PersistError::LengthTooLarge {
            offset,
            len: 6,
            max: 5,
        }) => {
            assert_eq!(offset, PAYLOAD_AT + 11)
        }
        other => panic!("{other:?}"),
    }
    let bytes = with_block(&string_record(0x01, 0, u32::MAX, 5), 1);
    match read_all(&bytes) {
        Err(PersistError::LengthTooLarge { offset, len, max }) => {
            assert_eq!((offset, len), (PAYLOAD_AT + 6, u64::from(u32::MAX)));
            assert_eq!(max, u64::from(redistill_persist::MAX_STRING_LEN));
        }
        other => panic!("{other:?}"),
    }

    // A hash claiming more pairs than its bytes could hold allocates nothing.
    let mut hash = vec![0x03, 0x00];
    hash.extend_from_slice(&0u32.to_le_bytes());
    hash.extend_from_slice(&1u32.to_le_bytes());
    hash.extend_from_slice(b"h");
    hash.extend_from_slice(&u32::MAX.to_le_bytes());
    hash.extend_from_slice(&[0u8; 16]);
    let bytes = with_block(&hash, 1);
    assert!(matches!(
        read_all(&bytes),
        Err(PersistError::LengthTooLarge { len, max: 2, .. }) if len == u64::from(u32::MAX)
    ));
}

#[test]
fn inconsistent_blocks_are_malformed() {
    let record = string_record(0x01, 0, 1, 5);
    // Reserved flag bits.
    let bytes = with_block(&string_record(0x01, 0x02, 1, 5), 1);
    assert!(
        matches!(read_all(&bytes), Err(PersistError::Malformed { offset, .. }) if offset == PAYLOAD_AT + 1)
    );
    // Bytes left after the last record.
    let mut padded = record.clone();
    padded.push(0);
    assert!(matches!(
        read_all(&with_block(&padded, 1)),
        Err(PersistError::Malformed { .. })
    ));
    // Fewer records than claimed.
    let mut two = record.clone();
    two.extend_from_slice(&record);
    assert!(matches!(
        read_all(&with_block(&two, 3)),
        Err(PersistError::Malformed { .. })
    ));
    // A block with no records.
    assert!(matches!(
        read_all(&with_block(&[], 0)),
        Err(PersistError::Malformed { .. })
    ));
}

#[test]
fn an_absurd_block_length_is_refused_before_reading() {
    let mut bytes = common::write(&[], 1)[..HEADER_LEN].to_vec();
    bytes.push(b'B');
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(&1u32.to_le_bytes());
    match read_all(&bytes) {
        Err(PersistError::LengthTooLarge { offset, .. }) => {
            assert_eq!(offset, HEADER_LEN as u64 + 1)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_block_length_beyond_the_data_is_truncation_at_the_end_of_the_data() {
    let mut bytes = common::write(&[], 1)[..HEADER_LEN].to_vec();
    bytes.push(b'B');
    bytes.extend_from_slice(&redistill_persist::MAX_BLOCK_LEN.to_le_bytes());
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&[0u8; 100]);
    match read_all(&bytes) {
        Err(PersistError::Truncated { offset, expected }) => {
            assert_eq!(offset, bytes.len() as u64);
            assert_eq!(expected, "the rest of a block");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_frame_tags_and_flags_are_named() {
    let (_, bytes) = small_snapshot();
    let mut damaged = bytes.clone();
    damaged[HEADER_LEN] = b'Z';
    assert!(matches!(
        read_all(&damaged),
        Err(PersistError::UnknownFrameTag { offset, tag: b'Z' }) if offset == HEADER_LEN as u64
    ));

    let mut flagged = bytes[..HEADER_LEN].to_vec();
    flagged[10] = 1;
    let header_crc = crc32c::crc32c(&flagged[..20]);
    flagged[20..24].copy_from_slice(&header_crc.to_le_bytes());
    assert!(matches!(
        SnapshotReader::new(&flagged[..]),
        Err(PersistError::UnsupportedFlags {
            offset: 10,
            flags: 1
        })
    ));
}

#[test]
fn errors_read_well() {
    let (_, bytes) = small_snapshot();
    let err = read_all(&bytes[..bytes.len() - 1]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "snapshot truncated at offset {}: expected the footer",
            bytes.len() - 1
        )
    );
    let err = read_all(b"GIF89a..").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("not a snapshot file: bad magic bytes"),
        "{err}"
    );
}

#[test]
fn set_records_are_unknown_to_version_2_files() {
    let mut set = vec![0x05, 0x00];
    set.extend_from_slice(&0u32.to_le_bytes());
    set.extend_from_slice(&1u32.to_le_bytes());
    set.extend_from_slice(b"k");
    set.extend_from_slice(&1u32.to_le_bytes());
    set.extend_from_slice(&1u32.to_le_bytes());
    set.extend_from_slice(b"m");
    let v3 = with_block(&set, 1);
    assert_eq!(
        read_all(&v3).unwrap()[0].value,
        redistill_persist::Value::Set(vec!["m".into()])
    );
    for version in [1, 2] {
        match read_all(&as_version(v3.clone(), version)) {
            Err(PersistError::UnknownTypeTag { offset, tag: 0x05 }) => {
                assert_eq!(offset, PAYLOAD_AT);
            }
            other => panic!("version {version}: {other:?}"),
        }
    }
    // A set claiming more members than its block could hold.
    let mut set = vec![0x05, 0x00];
    set.extend_from_slice(&0u32.to_le_bytes());
    set.extend_from_slice(&1u32.to_le_bytes());
    set.extend_from_slice(b"k");
    set.extend_from_slice(&3u32.to_le_bytes());
    set.extend_from_slice(&0u32.to_le_bytes());
    assert!(matches!(
        read_all(&with_block(&set, 1)),
        Err(PersistError::LengthTooLarge { len: 3, max: 1, .. })
    ));
}

#[test]
fn zset_records_have_the_documented_layout_and_are_unknown_before_version_3() {
    let mut zset = vec![0x06, 0x00];
    zset.extend_from_slice(&0u32.to_le_bytes());
    zset.extend_from_slice(&1u32.to_le_bytes());
    zset.extend_from_slice(b"z");
    zset.extend_from_slice(&2u32.to_le_bytes()); // two members
    zset.extend_from_slice(&1u32.to_le_bytes());
    zset.extend_from_slice(b"a");
    zset.extend_from_slice(&f64::NEG_INFINITY.to_le_bytes());
    zset.extend_from_slice(&2u32.to_le_bytes());
    zset.extend_from_slice(b"bc");
    zset.extend_from_slice(&1.5f64.to_le_bytes());
    let v3 = with_block(&zset, 1);
    let want =
        redistill_persist::Value::ZSet(vec![("a".into(), f64::NEG_INFINITY), ("bc".into(), 1.5)]);
    assert_eq!(read_all(&v3).unwrap()[0].value, want);
    let written = common::write(&[redistill_persist::Record::new(0, "z", want)], 1 << 20);
    assert_eq!(written, v3);
    for version in [1, 2] {
        match read_all(&as_version(v3.clone(), version)) {
            Err(PersistError::UnknownTypeTag { offset, tag: 0x06 }) => {
                assert_eq!(offset, PAYLOAD_AT);
            }
            other => panic!("version {version}: {other:?}"),
        }
    }
    // A NaN score is refused where it lies.
    let mut nan = zset.clone();
    let at = nan.len() - 8;
    nan[at..].copy_from_slice(&f64::NAN.to_le_bytes());
    match read_all(&with_block(&nan, 1)) {
        Err(PersistError::Malformed { offset, .. }) => {
            assert_eq!(offset, PAYLOAD_AT + at as u64);
        }
        other => panic!("{other:?}"),
    }
    // More members than the block could hold, at 12 bytes each at least.
    let mut many = zset[..11].to_vec();
    many.extend_from_slice(&2u32.to_le_bytes());
    many.extend_from_slice(&[0u8; 20]);
    assert!(matches!(
        read_all(&with_block(&many, 1)),
        Err(PersistError::LengthTooLarge { len: 2, max: 1, .. })
    ));
    // The writer refuses a NaN score and keeps nothing of the record.
    let mut w = redistill_persist::SnapshotWriter::new(Vec::new(), common::CREATED).unwrap();
    let members: [(&[u8], f64); 2] = [(b"a", 1.0), (b"b", f64::NAN)];
    assert!(matches!(
        w.write_zset(0, b"z", None, members),
        Err(PersistError::NanScore)
    ));
    assert_eq!(w.records(), 0);
}

#[test]
fn library_records_have_the_documented_layout_and_are_unknown_before_version_4() {
    let mut library = vec![0x07, 0x00];
    library.extend_from_slice(&0u32.to_le_bytes());
    library.extend_from_slice(&3u32.to_le_bytes());
    library.extend_from_slice(b"lib");
    library.extend_from_slice(&4u32.to_le_bytes());
    library.extend_from_slice(b"code");
    let v4 = with_block(&library, 1);
    let want = redistill_persist::Value::Library("code".into());
    assert_eq!(read_all(&v4).unwrap()[0].value, want);
    let written = common::write(&[redistill_persist::Record::new(0, "lib", want)], 1 << 20);
    assert_eq!(written, v4);
    for version in [1, 2, 3] {
        match read_all(&as_version(v4.clone(), version)) {
            Err(PersistError::UnknownTypeTag { offset, tag: 0x07 }) => {
                assert_eq!(offset, PAYLOAD_AT);
            }
            other => panic!("version {version}: {other:?}"),
        }
    }
    // Code longer than what is left of its block.
    let mut long = library[..13].to_vec();
    long.extend_from_slice(&9u32.to_le_bytes());
    long.extend_from_slice(b"code");
    assert!(matches!(
        read_all(&with_block(&long, 1)),
        Err(PersistError::LengthTooLarge { len: 9, max: 4, .. })
    ));
}
