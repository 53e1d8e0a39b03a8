//! Intsets: the packed encoding of small all-integer sets (RDB type 11).
//!
//! ```text
//! [element width: u32 LE, 2, 4 or 8][count: u32 LE][elements: signed LE, ascending]
//! ```
//!
//! Every element takes the width of the widest one, and elements are unique and sorted.

/// Decodes and validates an intset: the width, the length against the count, and that the
/// elements are strictly ascending. `None` when malformed or empty.
pub(crate) fn decode(is: &[u8]) -> Option<Vec<i64>> {
    let header = is.get(..8)?;
    let width = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let count = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) || count == 0 || count.checked_mul(width)? != is.len() - 8 {
        return None;
    }
    let mut out: Vec<i64> = Vec::with_capacity(count);
    for chunk in is[8..].chunks_exact(width) {
        let v = match width {
            2 => i64::from(i16::from_le_bytes([chunk[0], chunk[1]])),
            4 => i64::from(i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])),
            _ => {
                let mut b = [0u8; 8];
                b.copy_from_slice(chunk);
                i64::from_le_bytes(b)
            }
        };
        if out.last().is_some_and(|&last| last >= v) {
            return None;
        }
        out.push(v);
    }
    Some(out)
}

/// Encodes `values` (any order, no duplicates) as Redis does: the narrowest width that
/// holds them all, sorted.
pub(crate) fn encode(values: &mut [i64]) -> Vec<u8> {
    values.sort_unstable();
    let width: usize = if values.iter().all(|&v| i16::try_from(v).is_ok()) {
        2
    } else if values.iter().all(|&v| i32::try_from(v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + width * values.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for v in values.iter() {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_at_each_width() {
        for values in [vec![3, 1, 2], vec![70_000, -1], vec![i64::MIN, 0, i64::MAX]] {
            let mut v = values.clone();
            let bytes = encode(&mut v);
            assert_eq!(decode(&bytes).unwrap(), v);
        }
        // SADD s 3 1 2 on Redis 7.0.
        assert_eq!(
            encode(&mut [3, 1, 2]),
            b"\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00"
        );
    }

    #[test]
    fn malformed_intsets_are_refused() {
        let good = encode(&mut [1, 2, 3]);
        assert!(decode(&good[..good.len() - 1]).is_none());
        let mut unsorted = good.clone();
        unsorted[8] = 9;
        assert!(decode(&unsorted).is_none());
        let mut width = good.clone();
        width[0] = 3;
        assert!(decode(&width).is_none());
        assert!(decode(&encode(&mut [])).is_none(), "empty");
    }
}
