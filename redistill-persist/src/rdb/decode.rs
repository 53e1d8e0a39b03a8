//! Reading a payload: the footer check, then one value of any type Redis 7.0 writes.

use std::collections::HashSet;

use bytes::Bytes;

use super::listpack::{self, Item};
use super::{DumpError, RDB_VERSION, canonical_i64, crc64, intset, lzf, types, ziplist};
use crate::Value;

/// Footer bytes: the RDB version and the CRC.
const FOOTER_LEN: usize = 10;

type Result<T> = std::result::Result<T, DumpError>;

fn bad<T>(why: &'static str) -> Result<T> {
    Err(DumpError::BadData(why))
}

/// Checks a payload's footer as RESTORE does before reading anything else: at least the
/// footer's 10 bytes, an RDB version no newer than [`RDB_VERSION`], and a matching CRC.
/// Returns the bytes the value is in.
///
/// # Errors
///
/// [`DumpError::VersionOrChecksum`] when any of them is wrong.
///
/// # Examples
///
/// ```
/// use redistill_persist::rdb::{DumpError, verify_dump};
/// let payload = b"\x00\xc0\x01\n\x00&x\xe7\xb6\xd1\x01\x11\xfc";
/// assert_eq!(verify_dump(payload)?, b"\x00\xc0\x01");
/// assert_eq!(verify_dump(&payload[..12]), Err(DumpError::VersionOrChecksum));
/// // The CRC starts from 0, so leading zero bytes do not change it (as in Redis): a value
/// // cut at its start passes this check and fails when it is read.
/// assert!(verify_dump(&payload[1..]).is_ok());
/// # Ok::<(), DumpError>(())
/// ```
pub fn verify_dump(payload: &[u8]) -> Result<&[u8]> {
    if payload.len() < FOOTER_LEN {
        return Err(DumpError::VersionOrChecksum);
    }
    let (body, footer) = payload.split_at(payload.len() - FOOTER_LEN);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&footer[2..]);
    let crc = crc64(0, &payload[..payload.len() - 8]);
    if version > RDB_VERSION || u64::from_le_bytes(stored) != crc {
        return Err(DumpError::VersionOrChecksum);
    }
    Ok(body)
}

/// Reads a whole DUMP payload: [`verify_dump`], then [`decode_value`] on what it holds.
///
/// # Errors
///
/// [`DumpError::VersionOrChecksum`] for a bad footer, [`DumpError::BadData`] for a value
/// that is malformed, empty, has duplicates, or is followed by stray bytes.
pub fn decode_dump(payload: &[u8]) -> Result<Value> {
    decode_value(verify_dump(payload)?)
}

/// Reads one value, `[type byte][value]`, that must fill `body` exactly.
///
/// # Errors
///
/// [`DumpError::BadData`] when the value is malformed, empty, has duplicate members or
/// fields, or does not end where `body` does.
///
/// # Examples
///
/// ```
/// use redistill_persist::Value;
/// use redistill_persist::rdb::decode_value;
/// // A plain list (RDB type 1) of two elements.
/// let v = decode_value(b"\x01\x02\x01a\x01b")?;
/// assert_eq!(v, Value::List(vec!["a".into(), "b".into()]));
/// assert!(decode_value(b"\x01\x03\x01a\x01b").is_err(), "claims three");
/// # Ok::<(), redistill_persist::rdb::DumpError>(())
/// ```
pub fn decode_value(body: &[u8]) -> Result<Value> {
    let mut r = Reader { buf: body, pos: 0 };
    let kind = r.byte()?;
    let value = r.value(kind)?;
    if r.pos != body.len() {
        return bad("bytes after the value");
    }
    Ok(value)
}

/// A string as stored: bytes, or an integer encoding.
enum Str {
    Bytes(Vec<u8>),
    Int(i64),
}

impl Str {
    fn into_bytes(self) -> Bytes {
        match self {
            Str::Bytes(b) => Bytes::from(b),
            Str::Int(n) => Bytes::from(n.to_string()),
        }
    }
}

/// An element of a packed encoding as bytes: a string element shares `blob`, the buffer
/// it was read from, instead of being copied on its own.
fn item_bytes(blob: &Bytes, item: Item<'_>) -> Bytes {
    match item {
        Item::Str(s) => blob.slice_ref(s),
        Item::Int(n) => Bytes::from(n.to_string()),
    }
}

fn item_score(item: Item<'_>) -> Result<f64> {
    match item {
        Item::Int(n) => Ok(n as f64),
        Item::Str(s) => parse_score(s),
    }
}

/// A score written as text (old sorted-set types, packed entries): `strtod`'s forms.
fn parse_score(s: &[u8]) -> Result<f64> {
    let text = std::str::from_utf8(s).map_err(|_| DumpError::BadData("score is not a number"))?;
    match text.parse::<f64>() {
        Ok(v) if !v.is_nan() => Ok(v),
        _ => bad("score is not a number"),
    }
}

/// Refuses a collection with the same member twice, as Redis's loader does.
fn unique<'a>(members: impl Iterator<Item = &'a [u8]>, capacity: usize) -> Result<()> {
    let mut seen = HashSet::with_capacity_and_hasher(capacity, ahash::RandomState::new());
    for m in members {
        if !seen.insert(m) {
            return bad("duplicate members");
        }
    }
    Ok(())
}

fn non_empty<T>(v: Vec<T>) -> Result<Vec<T>> {
    if v.is_empty() {
        bad("empty collection")
    } else {
        Ok(v)
    }
}

fn pairs(items: Vec<Item<'_>>) -> Result<Vec<(Item<'_>, Item<'_>)>> {
    if !items.len().is_multiple_of(2) {
        return bad("odd number of packed entries");
    }
    let mut it = items.into_iter();
    let mut out = Vec::with_capacity(it.len() / 2);
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    Ok(out)
}

fn hash_from(fields: Vec<(Bytes, Bytes)>) -> Result<Value> {
    let fields = non_empty(fields)?;
    unique(fields.iter().map(|(f, _)| &f[..]), fields.len())?;
    Ok(Value::Hash(fields))
}

fn set_from(members: Vec<Bytes>) -> Result<Value> {
    let members = non_empty(members)?;
    unique(members.iter().map(|m| &m[..]), members.len())?;
    Ok(Value::Set(members))
}

fn zset_from(mut items: Vec<(Bytes, f64)>) -> Result<Value> {
    items = non_empty(items)?;
    unique(items.iter().map(|(m, _)| &m[..]), items.len())?;
    let order =
        |a: &(Bytes, f64), b: &(Bytes, f64)| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0));
    // Packed payloads come in order already.
    if !items.is_sorted_by(|a, b| order(a, b).is_le()) {
        items.sort_by(order);
    }
    Ok(Value::ZSet(items))
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// A length field: a length, or the marker of a specially encoded string.
enum Len {
    Plain(u64),
    Encoded(u8),
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return bad("a length runs past the payload");
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// `rdbLoadLenByRef`: 6, 14, 32 or 64 bits, or an encoded-string marker.
    fn len_field(&mut self) -> Result<Len> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Len::Plain(u64::from(b & 0x3f)),
            1 => Len::Plain((u64::from(b & 0x3f) << 8) | u64::from(self.byte()?)),
            2 if b == 0x80 => Len::Plain(u64::from(u32::from_be_bytes(self.array()?))),
            2 if b == 0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
            2 => return bad("unknown length encoding"),
            _ => Len::Encoded(b & 0x3f),
        })
    }

    /// A length that counts bytes or elements still to come, each at least
    /// `min_bytes_each` long: refused when the payload cannot hold them, so that a claimed
    /// size never reaches an allocation unchecked.
    fn count(&mut self, min_bytes_each: usize) -> Result<usize> {
        let Len::Plain(n) = self.len_field()? else {
            return bad("an encoded string where a length belongs");
        };
        match usize::try_from(n) {
            Ok(n) if n.saturating_mul(min_bytes_each) <= self.remaining() => Ok(n),
            _ => bad("a length runs past the payload"),
        }
    }

    /// `rdbGenericLoadStringObject`.
    fn string(&mut self) -> Result<Str> {
        let len = match self.len_field()? {
            Len::Plain(n) => n,
            Len::Encoded(0) => return Ok(Str::Int(i64::from(self.byte()? as i8))),
            Len::Encoded(1) => return Ok(Str::Int(i64::from(i16::from_le_bytes(self.array()?)))),
            Len::Encoded(2) => return Ok(Str::Int(i64::from(i32::from_le_bytes(self.array()?)))),
            Len::Encoded(3) => {
                let compressed = self.count(1)?;
                let Len::Plain(out_len) = self.len_field()? else {
                    return bad("an encoded string where a length belongs");
                };
                let input = self.take(compressed)?;
                let out_len =
                    usize::try_from(out_len).map_err(|_| DumpError::BadData("LZF length"))?;
                return lzf::decompress(input, out_len)
                    .map(Str::Bytes)
                    .ok_or(DumpError::BadData("invalid LZF compressed string"));
            }
            Len::Encoded(_) => return bad("unknown string encoding"),
        };
        let n = usize::try_from(len).map_err(|_| DumpError::BadData("string length"))?;
        Ok(Str::Bytes(self.take(n)?.to_vec()))
    }

    fn bytes(&mut self) -> Result<Bytes> {
        Ok(self.string()?.into_bytes())
    }

    /// A blob holding a packed encoding (listpack, ziplist, intset).
    fn blob(&mut self) -> Result<Bytes> {
        match self.string()? {
            Str::Bytes(b) => Ok(Bytes::from(b)),
            Str::Int(_) => bad("an integer where a packed encoding belongs"),
        }
    }

    /// A score as old sorted sets store it: a length byte, or 253/254/255 for nan/inf/-inf.
    fn text_score(&mut self) -> Result<f64> {
        match self.byte()? {
            253 => bad("score is not a number"),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => parse_score(self.take(usize::from(n))?),
        }
    }

    fn binary_score(&mut self) -> Result<f64> {
        let v = f64::from_le_bytes(self.array()?);
        if v.is_nan() {
            return bad("score is not a number");
        }
        Ok(v)
    }

    fn value(&mut self, kind: u8) -> Result<Value> {
        match kind {
            // Integers come back as integers however they were written, as Redis gives
            // any integer-looking string its integer encoding on load.
            types::STRING => Ok(match self.string()? {
                Str::Int(n) => Value::Integer(n),
                Str::Bytes(b) => match canonical_i64(&b) {
                    Some(n) => Value::Integer(n),
                    None => Value::String(Bytes::from(b)),
                },
            }),
            types::LIST => {
                let n = self.count(1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.bytes()?);
                }
                Ok(Value::List(non_empty(items)?))
            }
            types::SET => {
                let n = self.count(1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.bytes()?);
                }
                set_from(items)
            }
            types::ZSET | types::ZSET_2 => {
                let n = self.count(2)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    let member = self.bytes()?;
                    let score = if kind == types::ZSET {
                        self.text_score()?
                    } else {
                        self.binary_score()?
                    };
                    items.push((member, score));
                }
                zset_from(items)
            }
            types::HASH => {
                let n = self.count(2)?;
                let mut fields = Vec::with_capacity(n);
                for _ in 0..n {
                    let f = self.bytes()?;
                    fields.push((f, self.bytes()?));
                }
                hash_from(fields)
            }
            types::LIST_ZIPLIST => {
                let blob = self.blob()?;
                let items = ziplist::decode(&blob).ok_or(DumpError::BadData("ziplist"))?;
                Ok(Value::List(non_empty(
                    items.into_iter().map(|i| item_bytes(&blob, i)).collect(),
                )?))
            }
            types::SET_INTSET => {
                let blob = self.blob()?;
                let ints = intset::decode(&blob).ok_or(DumpError::BadData("intset"))?;
                Ok(Value::Set(
                    ints.into_iter()
                        .map(|n| Bytes::from(n.to_string()))
                        .collect(),
                ))
            }
            types::SET_LISTPACK => {
                let blob = self.blob()?;
                let items = listpack::decode(&blob).ok_or(DumpError::BadData("listpack"))?;
                set_from(items.into_iter().map(|i| item_bytes(&blob, i)).collect())
            }
            types::ZSET_ZIPLIST | types::ZSET_LISTPACK => {
                let blob = self.blob()?;
                let items = if kind == types::ZSET_ZIPLIST {
                    ziplist::decode(&blob).ok_or(DumpError::BadData("ziplist"))?
                } else {
                    listpack::decode(&blob).ok_or(DumpError::BadData("listpack"))?
                };
                let mut out = Vec::with_capacity(items.len() / 2);
                for (m, s) in pairs(items)? {
                    out.push((item_bytes(&blob, m), item_score(s)?));
                }
                zset_from(out)
            }
            types::HASH_ZIPLIST | types::HASH_LISTPACK => {
                let blob = self.blob()?;
                let items = if kind == types::HASH_ZIPLIST {
                    ziplist::decode(&blob).ok_or(DumpError::BadData("ziplist"))?
                } else {
                    listpack::decode(&blob).ok_or(DumpError::BadData("listpack"))?
                };
                let fields = pairs(items)?
                    .into_iter()
                    .map(|(f, v)| (item_bytes(&blob, f), item_bytes(&blob, v)))
                    .collect();
                hash_from(fields)
            }
            types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => self.quicklist(kind),
            _ => bad("unknown value type"),
        }
    }

    /// A quicklist: a node count, then each node's packed blob (type 18 puts a container
    /// kind first: 1 for a plain node holding one element, 2 for a listpack). Empty packed
    /// nodes are skipped, as Redis does; an empty list is refused.
    fn quicklist(&mut self, kind: u8) -> Result<Value> {
        const PLAIN: u64 = 1;
        const PACKED: u64 = 2;
        let nodes = self.count(2)?;
        let mut items = Vec::new();
        for _ in 0..nodes {
            let container = if kind == types::LIST_QUICKLIST_2 {
                match self.len_field()? {
                    Len::Plain(c @ (PLAIN | PACKED)) => c,
                    _ => return bad("unknown quicklist container"),
                }
            } else {
                PACKED
            };
            let blob = self.blob()?;
            if container == PLAIN {
                items.push(blob);
                continue;
            }
            let decoded = if kind == types::LIST_QUICKLIST {
                ziplist::decode(&blob).ok_or(DumpError::BadData("ziplist"))?
            } else {
                listpack::decode(&blob).ok_or(DumpError::BadData("listpack"))?
            };
            items.extend(decoded.into_iter().map(|i| item_bytes(&blob, i)));
        }
        Ok(Value::List(non_empty(items)?))
    }
}
