//! Listpacks: the packed encoding of small hashes, sorted sets and list nodes.
//!
//! ```text
//! [total bytes: u32 LE][element count: u16 LE, 65535 = unknown][entry]...[0xff]
//! entry: [encoding + data][backlen: 1..=5 bytes, the entry's encoding+data length]
//! ```
//!
//! An integer-looking string is stored as the smallest integer encoding that holds it
//! (7-bit unsigned, 13/16/24/32/64-bit signed), any other string with a 6-bit, 12-bit or
//! 32-bit length. [`decode`] checks every byte of the layout: the total, each entry's
//! encoding and bounds, each backlen (in its one canonical form), the count and the end
//! byte. [`ListpackBuilder`] writes what Redis's `lpAppend` writes for the same elements.

use super::canonical_i64;

const HEADER_LEN: usize = 6;
const EOF: u8 = 0xff;
/// The count field's value when the real count does not fit.
const UNKNOWN_COUNT: u16 = u16::MAX;

/// One listpack element as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item<'a> {
    /// A string element.
    Str(&'a [u8]),
    /// An element stored in an integer encoding.
    Int(i64),
}

/// The canonical backlen bytes for an entry of `len` bytes (Redis's `lpEncodeBacklen`):
/// 7 bits per byte, most significant first, every byte but the first flagged with 0x80.
fn backlen(len: usize, out: &mut [u8; 5]) -> usize {
    let n = match len {
        0..=127 => 1,
        128..=16_382 => 2,
        16_383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    for (i, slot) in out.iter_mut().take(n).enumerate() {
        let shift = 7 * (n - 1 - i);
        let bits = ((len >> shift) & 0x7f) as u8;
        *slot = if i == 0 { bits } else { bits | 0x80 };
    }
    n
}

/// Reads a little-endian signed integer of `width` bytes.
fn int_le(bytes: &[u8]) -> i64 {
    let mut v: u64 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        v |= u64::from(b) << (8 * i);
    }
    let bits = 8 * bytes.len() as u32;
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        v |= u64::MAX << bits;
    }
    v as i64
}

/// Decodes and validates a whole listpack; `None` when any part of it is malformed.
pub(crate) fn decode(lp: &[u8]) -> Option<Vec<Item<'_>>> {
    if lp.len() < HEADER_LEN + 1 {
        return None;
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    let count = u16::from_le_bytes([lp[4], lp[5]]);
    if total != lp.len() || lp[lp.len() - 1] != EOF {
        return None;
    }
    let end = lp.len() - 1;
    // Every entry takes at least two bytes.
    let mut items = Vec::with_capacity(usize::from(count).min((end - HEADER_LEN) / 2));
    let mut p = HEADER_LEN;
    while p < end {
        let enc = lp[p];
        let (item, header, data) = match enc {
            0x00..=0x7f => (Some(Item::Int(i64::from(enc))), 1, 0),
            0x80..=0xbf => (None, 1, usize::from(enc & 0x3f)),
            0xc0..=0xdf => {
                let lo = *lp.get(p + 1)?;
                let raw = (i64::from(enc & 0x1f) << 8) | i64::from(lo);
                let v = if raw >= 1 << 12 { raw - (1 << 13) } else { raw };
                (Some(Item::Int(v)), 2, 0)
            }
            0xe0..=0xef => {
                let lo = *lp.get(p + 1)?;
                (None, 2, (usize::from(enc & 0x0f) << 8) | usize::from(lo))
            }
            0xf0 => {
                let b = lp.get(p + 1..p + 5)?;
                (
                    None,
                    5,
                    u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize,
                )
            }
            0xf1..=0xf4 => {
                let width = match enc {
                    0xf1 => 2,
                    0xf2 => 3,
                    0xf3 => 4,
                    _ => 8,
                };
                let b = lp.get(p + 1..p + 1 + width)?;
                (Some(Item::Int(int_le(b))), 1 + width, 0)
            }
            // 0xf5..=0xfe are undefined; 0xff may only end the listpack.
            _ => return None,
        };
        let entry_len = header.checked_add(data)?;
        let data_end = p.checked_add(entry_len)?;
        if data_end > end {
            return None;
        }
        let item = item.unwrap_or(Item::Str(&lp[p + header..data_end]));
        let mut expected = [0u8; 5];
        let n = backlen(entry_len, &mut expected);
        // Compared byte by byte: a slice comparison calls `memcmp` for one or two bytes.
        let stored = lp.get(data_end..data_end + n)?;
        if data_end + n > end || stored.iter().zip(&expected).any(|(a, b)| a != b) {
            return None;
        }
        items.push(item);
        p = data_end + n;
    }
    if count != UNKNOWN_COUNT && usize::from(count) != items.len() {
        return None;
    }
    Some(items)
}

/// Writes a listpack as Redis's `lpAppend` would for the same elements.
#[derive(Debug)]
pub(crate) struct ListpackBuilder {
    buf: Vec<u8>,
    count: usize,
}

impl ListpackBuilder {
    /// An empty listpack.
    pub(crate) fn new() -> Self {
        ListpackBuilder {
            buf: vec![0; HEADER_LEN],
            count: 0,
        }
    }

    /// Bytes written so far (without the end byte).
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Elements written so far.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Appends a string element, in an integer encoding if it is a canonical integer.
    pub(crate) fn push(&mut self, s: &[u8]) {
        match canonical_i64(s) {
            Some(n) => self.push_int(n),
            None => self.push_str(s),
        }
    }

    /// Appends an integer element in its integer encoding.
    pub(crate) fn push_int(&mut self, n: i64) {
        let (bytes, len) = int_entry(n);
        self.buf.extend_from_slice(&bytes[..len]);
        self.push_backlen(len);
    }

    fn push_str(&mut self, s: &[u8]) {
        let len = s.len();
        // Header, bytes and backlen, grown for once.
        self.buf.reserve(len + 10);
        match str_header_len(len) {
            1 => self.buf.push(0x80 | len as u8),
            2 => self
                .buf
                .extend_from_slice(&[0xe0 | (len >> 8) as u8, len as u8]),
            _ => {
                self.buf.push(0xf0);
                self.buf.extend_from_slice(&(len as u32).to_le_bytes());
            }
        }
        self.buf.extend_from_slice(s);
        self.push_backlen(str_header_len(len) + len);
    }

    fn push_backlen(&mut self, entry_len: usize) {
        self.count += 1;
        // Most entries are short: their backlen is their length.
        if entry_len < 128 {
            self.buf.push(entry_len as u8);
            return;
        }
        let mut b = [0u8; 5];
        let n = backlen(entry_len, &mut b);
        self.buf.extend_from_slice(&b[..n]);
    }

    /// The finished listpack.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = u16::try_from(self.count).unwrap_or(UNKNOWN_COUNT);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// The header length of a string entry of `len` bytes.
fn str_header_len(len: usize) -> usize {
    match len {
        0..=63 => 1,
        64..=4095 => 2,
        _ => 5,
    }
}

/// The encoding and data of an integer entry, and how many of the 9 bytes it takes.
fn int_entry(n: i64) -> ([u8; 9], usize) {
    let mut b = [0u8; 9];
    let le = n.to_le_bytes();
    let len = if (0..=127).contains(&n) {
        b[0] = n as u8;
        1
    } else if (-4096..=4095).contains(&n) {
        let u = (n & 0x1fff) as u16;
        b[0] = 0xc0 | (u >> 8) as u8;
        b[1] = u as u8;
        2
    } else {
        let (enc, width) = if i16::try_from(n).is_ok() {
            (0xf1, 2)
        } else if (-(1 << 23)..(1 << 23)).contains(&n) {
            (0xf2, 3)
        } else if i32::try_from(n).is_ok() {
            (0xf3, 4)
        } else {
            (0xf4, 8)
        };
        b[0] = enc;
        b[1..=width].copy_from_slice(&le[..width]);
        1 + width
    };
    (b, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(items: &[&[u8]]) -> Vec<u8> {
        let mut b = ListpackBuilder::new();
        for i in items {
            b.push(i);
        }
        b.finish()
    }

    #[test]
    fn every_encoding_round_trips() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 300];
        let items: Vec<&[u8]> = vec![
            b"",
            b"a",
            b"0",
            b"127",
            b"128",
            b"-1",
            b"-4096",
            b"4095",
            b"4096",
            b"-32768",
            b"32767",
            b"-8388608",
            b"8388607",
            b"2147483647",
            b"-2147483649",
            b"9223372036854775807",
            b"-9223372036854775808",
            b"007",
            b"-0",
            &mid,
            &long,
        ];
        let lp = build(&items);
        let decoded = decode(&lp).unwrap();
        assert_eq!(decoded.len(), items.len());
        for (got, want) in decoded.iter().zip(&items) {
            let text = match got {
                Item::Str(s) => s.to_vec(),
                Item::Int(n) => n.to_string().into_bytes(),
            };
            assert_eq!(&text, want);
        }
    }

    #[test]
    fn same_bytes_as_redis() {
        // A listpack Redis 7.0 wrote for HSET h f v n 1 (from a DUMP).
        let lp = build(&[b"f", b"v", b"n", b"1"]);
        assert_eq!(
            lp,
            b"\x12\x00\x00\x00\x04\x00\x81f\x02\x81v\x02\x81n\x02\x01\x01\xff"
        );
    }

    #[test]
    fn damaged_listpacks_are_refused() {
        let lp = build(&[b"hello", b"12", b"world"]);
        for cut in 0..lp.len() {
            assert!(decode(&lp[..cut]).is_none(), "cut at {cut}");
        }
        let mut wrong_count = lp.clone();
        wrong_count[4] = 2;
        assert!(decode(&wrong_count).is_none());
        let mut bad_backlen = lp.clone();
        bad_backlen[6 + 6] = 7;
        assert!(decode(&bad_backlen).is_none());
        let mut bad_enc = lp.clone();
        bad_enc[6] = 0xf5;
        assert!(decode(&bad_enc).is_none());
        let mut unknown_count = lp;
        unknown_count[4] = 0xff;
        unknown_count[5] = 0xff;
        assert_eq!(decode(&unknown_count).unwrap().len(), 3);
    }
}
