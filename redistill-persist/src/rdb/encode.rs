//! Writing a payload: one value in the type Redis 7.0 would write for its encoding, then
//! the footer.

use bytes::Bytes;

use super::listpack::ListpackBuilder;
use super::{RDB_VERSION, canonical_i64, crc64, intset, lzf, score_int, score_text, types};
use crate::Value;

/// The size limit of a list's listpack nodes, Redis's default `list-max-listpack-size -2`
/// (8 KiB); a longer element gets a node of its own.
const LIST_NODE_BYTES: usize = 8 * 1024;
/// `QUICKLIST_NODE_CONTAINER_PACKED`.
const PACKED_NODE: usize = 2;

/// Which of a type's encodings a value is written in: the one matching how the value is
/// held, so that the reading server can keep it the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Small and packed: a listpack hash or sorted set, an intset (a set of integers; other
    /// packed sets are written plain, since Redis 7.0 has no listpack sets).
    Packed,
    /// A hash table or skiplist: plain hashes, sets and sorted sets.
    Table,
}

/// The DUMP payload of `value`, written as Redis 7.0 writes a value held in `layout`.
/// Strings and lists have one layout each: any is fine for them.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use redistill_persist::Value;
/// use redistill_persist::rdb::{Layout, encode_dump};
///
/// // SET s hello, then DUMP s, on Redis 7.0.
/// let payload = encode_dump(&Value::String(Bytes::from("hello")), Layout::Packed);
/// assert_eq!(payload, b"\x00\x05hello\n\x00cr\xdfve4 \n");
/// ```
pub fn encode_dump(value: &Value, layout: Layout) -> Vec<u8> {
    encode_dump_with(value, layout, true)
}

/// [`encode_dump`], LZF-compressing strings longer than 20 bytes only when `compress` is
/// set (Redis's `rdbcompression`).
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use redistill_persist::Value;
/// use redistill_persist::rdb::{Layout, decode_dump, encode_dump, encode_dump_with};
///
/// let v = Value::String(Bytes::from("ab".repeat(100)));
/// let plain = encode_dump_with(&v, Layout::Packed, false);
/// assert!(plain.len() > encode_dump(&v, Layout::Packed).len());
/// assert_eq!(decode_dump(&plain)?, v);
/// # Ok::<(), redistill_persist::rdb::DumpError>(())
/// ```
pub fn encode_dump_with(value: &Value, layout: Layout, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let write_string = |out: &mut Vec<u8>, s: &[u8]| write_string(out, s, compress);
    match value {
        // RDB keeps a library's code as a string (after an opcode of its own, not a value
        // type): a library encodes as that string.
        Value::String(s) | Value::Library(s) => {
            out.push(types::STRING);
            write_string(&mut out, s);
        }
        Value::Integer(n) => {
            out.push(types::STRING);
            write_integer(&mut out, *n);
        }
        Value::List(items) => write_list(&mut out, items, compress),
        Value::Hash(fields) if layout == Layout::Packed => {
            out.push(types::HASH_LISTPACK);
            let mut lp = ListpackBuilder::new();
            for (f, v) in fields {
                lp.push(f);
                lp.push(v);
            }
            write_string(&mut out, &lp.finish());
        }
        Value::Hash(fields) => {
            out.push(types::HASH);
            write_len(&mut out, fields.len() as u64);
            for (f, v) in fields {
                write_string(&mut out, f);
                write_string(&mut out, v);
            }
        }
        Value::Set(members) => {
            let ints: Option<Vec<i64>> = if layout == Layout::Packed {
                members.iter().map(|m| canonical_i64(m)).collect()
            } else {
                None
            };
            if let Some(mut ints) = ints {
                out.push(types::SET_INTSET);
                write_string(&mut out, &intset::encode(&mut ints));
            } else {
                out.push(types::SET);
                write_len(&mut out, members.len() as u64);
                for m in members {
                    write_string(&mut out, m);
                }
            }
        }
        Value::ZSet(items) if layout == Layout::Packed => {
            out.push(types::ZSET_LISTPACK);
            let mut lp = ListpackBuilder::new();
            for (m, s) in items {
                lp.push(m);
                // An integral score goes straight to its integer encoding, as its text
                // would after parsing.
                match score_int(*s) {
                    Some(n) => lp.push_int(n),
                    None => lp.push(score_text(*s).as_bytes()),
                }
            }
            write_string(&mut out, &lp.finish());
        }
        Value::ZSet(items) => {
            // Highest score first, as Redis walks its skiplist backwards.
            out.push(types::ZSET_2);
            write_len(&mut out, items.len() as u64);
            for (m, s) in items.iter().rev() {
                write_string(&mut out, m);
                out.extend_from_slice(&s.to_le_bytes());
            }
        }
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// A list as a quicklist of listpack nodes of at most [`LIST_NODE_BYTES`].
fn write_list(out: &mut Vec<u8>, items: &[Bytes], compress: bool) {
    let mut nodes = Vec::new();
    let mut lp = ListpackBuilder::new();
    for item in items {
        // Redis's estimate for an append (`_quicklistNodeAllowInsert`): the node's bytes,
        // the element's length and 8 bytes of overhead, against the size limit.
        if lp.count() > 0 && lp.len() + 1 + item.len() + 8 > LIST_NODE_BYTES {
            nodes.push(std::mem::replace(&mut lp, ListpackBuilder::new()).finish());
        }
        lp.push(item);
    }
    if lp.count() > 0 {
        nodes.push(lp.finish());
    }
    out.push(types::LIST_QUICKLIST_2);
    write_len(out, nodes.len() as u64);
    for node in nodes {
        write_len(out, PACKED_NODE as u64);
        write_string(out, &node, compress);
    }
}

/// `rdbSaveLen`: 6, 14, 32 or 64 bits.
fn write_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]);
    } else if let Ok(n) = u32::try_from(n) {
        out.push(0x80);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The 8, 16 or 32-bit integer encoding of `n`, if one holds it.
fn write_int_encoded(out: &mut Vec<u8>, n: i64) -> bool {
    if let Ok(v) = i8::try_from(n) {
        out.extend_from_slice(&[0xc0, v as u8]);
    } else if let Ok(v) = i16::try_from(n) {
        out.push(0xc1);
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i32::try_from(n) {
        out.push(0xc2);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// `rdbSaveRawString`: an integer encoding for a short canonical integer, LZF for a string
/// longer than 20 bytes that it shrinks by more than 4, else length and bytes.
fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11
        && let Some(n) = canonical_i64(s)
        && write_int_encoded(out, n)
    {
        return;
    }
    if compress
        && s.len() > 20
        && let Some(packed) = lzf::compress(s, s.len() - 4)
    {
        out.push(0xc3);
        write_len(out, packed.len() as u64);
        write_len(out, s.len() as u64);
        out.extend_from_slice(&packed);
        return;
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// `rdbSaveLongLongAsStringObject`.
fn write_integer(out: &mut Vec<u8>, n: i64) {
    if !write_int_encoded(out, n) {
        let text = n.to_string();
        write_len(out, text.len() as u64);
        out.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::decode_dump;

    #[test]
    fn lengths_of_every_width_round_trip() {
        for n in [
            0u64,
            63,
            64,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
        ] {
            let mut out = vec![types::LIST];
            write_len(&mut out, n);
            let expected = match n {
                0..=63 => 1,
                64..=16_383 => 2,
                16_384..=0xffff_ffff => 5,
                _ => 9,
            };
            assert_eq!(out.len(), 1 + expected, "{n}");
        }
    }

    #[test]
    fn payloads_match_redis_byte_for_byte() {
        let hash = Value::Hash(vec![("f".into(), "v".into()), ("n".into(), "1".into())]);
        assert_eq!(
            encode_dump(&hash, Layout::Packed),
            b"\x10\x12\x12\x00\x00\x00\x04\x00\x81f\x02\x81v\x02\x81n\x02\x01\x01\xff\n\x00\xfc\xe4\x08\xf1y\"\xe0\x16"
        );
        let set = Value::Set(vec!["3".into(), "1".into(), "2".into()]);
        assert_eq!(
            encode_dump(&set, Layout::Packed),
            b"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00\n\x00\xa5\x02\\\xe2mnM\x1b"
        );
        let list = Value::List(vec!["a".into(), "1".into()]);
        assert_eq!(
            encode_dump(&list, Layout::Packed),
            b"\x12\x01\x02\x0c\x0c\x00\x00\x00\x02\x00\x81a\x02\x01\x01\xff\n\x00\x94\x96+#\xac\x17\xaa\x85"
        );
    }

    #[test]
    fn every_layout_round_trips() {
        let long: Vec<Bytes> = (0..3000)
            .map(|i| Bytes::from(format!("element:{i}")))
            .collect();
        let values = [
            Value::String(Bytes::from(vec![b'x'; 100_000])),
            Value::String("12345678901".into()),
            Value::Integer(i64::MIN),
            Value::Integer(-100_000),
            Value::List(long.clone()),
            Value::Set(long.clone()),
            Value::Set(vec!["-5".into(), "70000".into(), "9000000000".into()]),
            Value::Hash(long.iter().map(|m| (m.clone(), m.clone())).collect()),
            Value::ZSet(
                long.iter()
                    .enumerate()
                    .map(|(i, m)| (m.clone(), i as f64 / 3.0))
                    .collect(),
            ),
        ];
        for v in &values {
            for layout in [Layout::Packed, Layout::Table] {
                let payload = encode_dump(v, layout);
                let mut back = decode_dump(&payload).unwrap();
                if let (Value::Set(a), Value::Set(b)) = (&mut back, v) {
                    let mut b = b.clone();
                    a.sort();
                    b.sort();
                    assert_eq!(*a, b);
                    continue;
                }
                match (&back, v) {
                    (Value::String(s), Value::String(t)) => assert_eq!(s, t),
                    (Value::Integer(_) | Value::String(_), _) => {}
                    (a, b) => assert_eq!(a, b),
                }
            }
        }
    }
}
