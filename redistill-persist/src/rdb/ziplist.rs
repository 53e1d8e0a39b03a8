//! Ziplists: the packed encoding Redis used before listpacks (RDB types 10, 12, 13 and the
//! nodes of type 14), read only.
//!
//! ```text
//! [total bytes: u32 LE][offset of the last entry: u32 LE][count: u16 LE][entry]...[0xff]
//! entry: [previous entry's length: 1 byte, or 0xfe + u32 LE][encoding][data]
//! ```
//!
//! [`decode`] checks the total, the tail offset, each entry's previous-length field,
//! encoding and bounds, the count (unless 65535, "unknown") and the end byte.

use super::listpack::Item;

const HEADER_LEN: usize = 10;
const END: u8 = 0xff;

/// Decodes and validates a whole ziplist; `None` when any part of it is malformed.
pub(crate) fn decode(zl: &[u8]) -> Option<Vec<Item<'_>>> {
    if zl.len() < HEADER_LEN + 1 {
        return None;
    }
    let total = u32::from_le_bytes([zl[0], zl[1], zl[2], zl[3]]) as usize;
    let tail = u32::from_le_bytes([zl[4], zl[5], zl[6], zl[7]]) as usize;
    let count = u16::from_le_bytes([zl[8], zl[9]]);
    if total != zl.len() || zl[zl.len() - 1] != END {
        return None;
    }
    let end = zl.len() - 1;
    // Every entry takes at least two bytes.
    let mut items = Vec::with_capacity(usize::from(count).min((end - HEADER_LEN) / 2));
    let (mut p, mut prev_len, mut last) = (HEADER_LEN, 0usize, HEADER_LEN);
    while p < end {
        let start = p;
        let stated_prev = if zl[p] < 0xfe {
            p += 1;
            usize::from(zl[start])
        } else if zl[p] == 0xfe {
            let b = zl.get(p + 1..p + 5)?;
            p += 5;
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
        } else {
            return None;
        };
        if stated_prev != prev_len {
            return None;
        }
        let enc = *zl.get(p)?;
        let (item, header, data) = match enc {
            0x00..=0x3f => (None, 1, usize::from(enc & 0x3f)),
            0x40..=0x7f => {
                let lo = *zl.get(p + 1)?;
                (None, 2, (usize::from(enc & 0x3f) << 8) | usize::from(lo))
            }
            0x80..=0xbf => {
                let b = zl.get(p + 1..p + 5)?;
                (
                    None,
                    5,
                    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize,
                )
            }
            0xc0 | 0xd0 | 0xe0 | 0xf0 | 0xfe => {
                let width = match enc {
                    0xc0 => 2,
                    0xd0 => 4,
                    0xe0 => 8,
                    0xf0 => 3,
                    _ => 1,
                };
                let b = zl.get(p + 1..p + 1 + width)?;
                let mut v: u64 = 0;
                for (i, &x) in b.iter().enumerate() {
                    v |= u64::from(x) << (8 * i);
                }
                let bits = 8 * width as u32;
                if bits < 64 && v & (1 << (bits - 1)) != 0 {
                    v |= u64::MAX << bits;
                }
                (Some(Item::Int(v as i64)), 1 + width, 0)
            }
            0xf1..=0xfd => (Some(Item::Int(i64::from(enc & 0x0f) - 1)), 1, 0),
            _ => return None,
        };
        let data_end = p.checked_add(header)?.checked_add(data)?;
        if data_end > end {
            return None;
        }
        items.push(item.unwrap_or(Item::Str(&zl[p + header..data_end])));
        last = start;
        prev_len = data_end - start;
        p = data_end;
    }
    if tail != last || (count != u16::MAX && usize::from(count) != items.len()) {
        return None;
    }
    Some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ziplist as Redis 6 wrote it for RPUSH l a 12 -5000 (one string, two integers).
    const SAMPLE: &[u8] =
        b"\x14\x00\x00\x00\x0f\x00\x00\x00\x03\x00\x00\x01a\x03\xfd\x02\xc0\x78\xec\xff";

    #[test]
    fn decodes_strings_and_integers() {
        let items = decode(SAMPLE).unwrap();
        assert_eq!(items, [Item::Str(b"a"), Item::Int(12), Item::Int(-5000)]);
    }

    #[test]
    fn damaged_ziplists_are_refused() {
        for cut in 0..SAMPLE.len() {
            assert!(decode(&SAMPLE[..cut]).is_none(), "cut at {cut}");
        }
        for (at, value) in [(4, 0x0e), (8, 2), (13, 2), (15, 3), (16, 0xc1)] {
            let mut bad = SAMPLE.to_vec();
            bad[at] = value;
            assert!(decode(&bad).is_none(), "byte {at} = {value:#x}");
        }
    }
}
