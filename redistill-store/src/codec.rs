//! Byte-level encodings the value types share: LEB128 lengths, and Redis's canonical
//! integers (the strings that the integer encodings may store as numbers).

/// Reads a LEB128 number from the start of `b`: its value and how many bytes it took.
pub(crate) fn read_varint(b: &[u8]) -> (usize, usize) {
    let mut v = 0usize;
    let mut shift = 0;
    for (i, byte) in b.iter().enumerate() {
        v |= ((byte & 0x7f) as usize) << shift;
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
