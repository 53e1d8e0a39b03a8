//! Byte-level encodings the value types share: LEB128 lengths, and Redis's canonical
//! integers (the strings that the integer encodings may store as numbers).

/// Reads a LEB128 number from the start of `b`: its value and how many bytes it took.
#[inline]
pub(crate) fn read_varint(b: &[u8]) -> (usize, usize) {
    match b.first() {
        Some(&byte) if byte < 0x80 => return (byte as usize, 1),
        _ => {}
    }
    // Up to 8 bytes at once, without a branch per byte: the first byte with its high bit
    // clear ends the number, and the 7-bit groups below it are packed together.
    if let Some(word) = b.get(..8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let x = u64::from_le_bytes(word);
        let ends = !x & 0x8080_8080_8080_8080;
        if ends != 0 {
            let bytes = ends.trailing_zeros() / 8 + 1;
            let x = (x & (u64::MAX >> (64 - 8 * bytes))) & 0x7f7f_7f7f_7f7f_7f7f;
            // Pairs of groups into 14 bits, pairs of those into 28, then the two halves.
            let v = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
            let v = (v & 0x0000_3fff_0000_3fff) | ((v & 0x3fff_0000_3fff_0000) >> 2);
            let v = (v & 0x0000_0000_0fff_ffff) | ((v & 0x0fff_ffff_0000_0000) >> 4);
            return (v as usize, bytes as usize);
        }
    }
    read_varint_slow(b)
}

/// [`read_varint`] a byte at a time: near the end of `b`, or past 8 bytes.
fn read_varint_slow(b: &[u8]) -> (usize, usize) {
    let mut v = 0usize;
    let mut shift = 0;
    for (i, byte) in b.iter().enumerate() {
        v |= ((byte & 0x7f) as usize).checked_shl(shift).unwrap_or(0);
        if byte & 0x80 == 0 {
            return (v, i + 1);
        }
        shift += 7;
    }
    (v, b.len())
}

/// Appends `v` as LEB128.
pub(crate) fn write_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// How many bytes `v` takes as LEB128.
pub(crate) fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Parses `v` as Redis's canonical integer (`string2ll`): what SET stores in integer form.
pub(crate) fn canonical_i64(v: &[u8]) -> Option<i64> {
    if v.is_empty() || v.len() > 20 {
        return None;
    }
    if v == b"0" {
        return Some(0);
    }
    let (neg, digits) = match v[0] {
        b'-' => (true, &v[1..]),
        _ => (false, v),
    };
    if digits.is_empty() || digits[0] == b'0' || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut acc: i64 = 0;
    for &d in digits {
        let d = i64::from(d - b'0');
        acc = acc.checked_mul(10)?;
        acc = if neg {
            acc.checked_sub(d)?
        } else {
            acc.checked_add(d)?
        };
    }
    Some(acc)
}

/// `n` in decimal, written into `buf` without allocating (a GET of a counter).
#[inline]
pub(crate) fn format_i64(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    let mut v = n.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varints_read_back_whatever_follows(v in any::<usize>(), shift in 0u32..64, tail in proptest::collection::vec(any::<u8>(), 0..10)) {
            let v = v >> shift;
            let mut buf = Vec::new();
            write_varint(&mut buf, v);
            let n = buf.len();
            prop_assert_eq!(n, varint_len(v));
            buf.extend_from_slice(&tail);
            prop_assert_eq!(read_varint(&buf), (v, n));
            prop_assert_eq!(read_varint_slow(&buf), (v, n));
        }

        #[test]
        fn any_bytes_read_as_the_bytewise_reader_does(buf in proptest::collection::vec(any::<u8>(), 0..12), high in any::<u16>()) {
            // Mostly continuation bytes, so that long and unterminated numbers come up.
            let buf: Vec<u8> = buf.iter().enumerate().map(|(i, &b)| if high >> i & 1 == 1 { b | 0x80 } else { b }).collect();
            prop_assert_eq!(read_varint(&buf), read_varint_slow(&buf));
        }
    }

    #[test]
    fn canonical_integers_match_string2ll() {
        assert_eq!(canonical_i64(b"10"), Some(10));
        assert_eq!(canonical_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(canonical_i64(b"9223372036854775808"), None);
        for bad in [&b"010"[..], b"+1", b"-0", b" 1", b"1 ", b"", b"-", b"1.0"] {
            assert_eq!(canonical_i64(bad), None, "{bad:?}");
        }
    }
}
