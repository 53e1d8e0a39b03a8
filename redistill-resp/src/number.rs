//! Number parsing and formatting with Redis's exact rules, without heap allocation.

use bytes::BufMut;

/// Longest decimal `i64` (`-9223372036854775808`).
pub(crate) const MAX_I64_LEN: usize = 20;

/// Parses a signed decimal exactly like Redis's `string2ll`.
///
/// Redis rejects a leading `+`, leading zeros (other than a lone `0`), `-0`, any
/// whitespace, an empty string and anything 21 bytes or longer; requests that
/// differ from Redis here would be accepted by one server and refused by the other.
pub(crate) fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Formats `v` into `out`, returning the used suffix of the buffer.
pub(crate) fn format_i64(v: i64, out: &mut [u8; MAX_I64_LEN]) -> &[u8] {
    // `itoa` writes two digits per step from a table: every reply's length header and
    // integer goes through here.
    let mut digits = itoa::Buffer::new();
    let text = digits.format(v).as_bytes();
    let start = out.len() - text.len();
    out[start..].copy_from_slice(text);
    &out[start..]
}

/// Writes a decimal integer.
pub(crate) fn put_i64(buf: &mut impl BufMut, v: i64) {
    let mut tmp = [0u8; MAX_I64_LEN];
    buf.put_slice(format_i64(v, &mut tmp));
}

/// Writes a length (lengths above `i64::MAX` cannot occur in memory).
pub(crate) fn put_len(buf: &mut impl BufMut, v: usize) {
    put_i64(buf, i64::try_from(v).unwrap_or(i64::MAX));
}

/// A double formatted the way Redis 7.0 replies with it (`%.17g`, `inf`, `-inf`, `nan`).
///
/// Lives on the stack: the longest `%.17g` output is `-1.2345678901234567e-308` (24 bytes).
pub(crate) struct DoubleBuf {
    buf: [u8; 32],
    len: usize,
}

impl DoubleBuf {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

struct Cursor<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl std::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Formats like C's `printf("%.17g", d)`, with glibc's spellings of the specials
/// except that NaN is always `nan` (glibc may print `-nan`).
pub(crate) fn format_double(d: f64) -> DoubleBuf {
    let mut out = DoubleBuf {
        buf: [0; 32],
        len: 0,
    };
    if d.is_nan() {
        out.buf[..3].copy_from_slice(b"nan");
        out.len = 3;
        return out;
    }
    if d.is_infinite() {
        let s: &[u8] = if d > 0.0 { b"inf" } else { b"-inf" };
        out.buf[..s.len()].copy_from_slice(s);
        out.len = s.len();
        return out;
    }
    // An integer of at most 17 digits prints as one (the scores of ranks, counters and
    // timestamps): written directly, without the general path's exponent formatting.
    if d.fract() == 0.0 && d.abs() < 1e17 {
        let mut n = d as i64;
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10).unsigned_abs() as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if d.is_sign_negative() {
            at -= 1;
            digits[at] = b'-';
        }
        let len = digits.len() - at;
        out.buf[..len].copy_from_slice(&digits[at..]);
        out.len = len;
        return out;
    }
    format_general(d, out)
}

/// [`format_double`] of a finite `d`, by way of Rust's exponent formatting, into `out`.
fn format_general(d: f64, mut out: DoubleBuf) -> DoubleBuf {
    // Rust's `{:.16e}` rounds exactly like glibc, giving the 17 significant digits
    // `%.17g` starts from; only the layout differs.
    let mut sci = [0u8; 32];
    let mut c = Cursor {
        buf: &mut sci,
        len: 0,
    };
    if std::fmt::write(&mut c, format_args!("{d:.16e}")).is_err() {
        return out;
    }
    let sci_len = c.len;
    let sci = &sci[..sci_len];
    let (negative, body) = match sci.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, sci),
    };
    let e_pos = body.iter().position(|&b| b == b'e').unwrap_or(body.len());
    let exp: i32 = std::str::from_utf8(body.get(e_pos + 1..).unwrap_or(b"0"))
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut digits = [0u8; 17];
    let mut nd = 0;
    for &b in &body[..e_pos] {
        if b.is_ascii_digit() && nd < digits.len() {
            digits[nd] = b;
            nd += 1;
        }
    }
    let w = |out: &mut DoubleBuf, b: u8| {
        if out.len < out.buf.len() {
            out.buf[out.len] = b;
            out.len += 1;
        }
    };
    if negative {
        w(&mut out, b'-');
    }
    if !(-4..17).contains(&exp) {
        let mut last = nd;
        while last > 1 && digits[last - 1] == b'0' {
            last -= 1;
        }
        w(&mut out, digits[0]);
        if last > 1 {
            w(&mut out, b'.');
            for &b in &digits[1..last] {
                w(&mut out, b);
            }
        }
        w(&mut out, b'e');
        w(&mut out, if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            w(&mut out, b'0');
        }
        let mut tmp = [0u8; MAX_I64_LEN];
        for &b in format_i64(i64::from(e), &mut tmp) {
            w(&mut out, b);
        }
    } else {
        // Fixed notation with 17 significant digits, trailing zeros removed.
        let mut last = nd;
        let int_digits = if exp >= 0 { exp as usize + 1 } else { 0 };
        while last > int_digits.max(1) && digits[last - 1] == b'0' {
            last -= 1;
        }
        if exp >= 0 {
            for &b in &digits[..int_digits] {
                w(&mut out, b);
            }
            if last > int_digits {
                w(&mut out, b'.');
                for &b in &digits[int_digits..last] {
                    w(&mut out, b);
                }
            }
        } else {
            w(&mut out, b'0');
            w(&mut out, b'.');
            for _ in 0..(-exp - 1) {
                w(&mut out, b'0');
            }
            for &b in &digits[..last] {
                w(&mut out, b);
            }
        }
    }
    out
}

/// Parses a RESP3 double: decimal or exponent notation, `inf`, `-inf`, `nan`.
pub(crate) fn parse_double(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() > 512 {
        return None;
    }
    if s.eq_ignore_ascii_case(b"inf") || s.eq_ignore_ascii_case(b"+inf") {
        return Some(f64::INFINITY);
    }
    if s.eq_ignore_ascii_case(b"-inf") {
        return Some(f64::NEG_INFINITY);
    }
    if s.eq_ignore_ascii_case(b"nan") || s.eq_ignore_ascii_case(b"-nan") {
        return Some(f64::NAN);
    }
    // Rust's parser alone would also take `infinity` and similar spellings.
    if !s
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn string2ll_matches_redis() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"12"), Some(12));
        assert_eq!(string2ll(b"-12"), Some(-12));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b"01",
            b"-0",
            b" 1",
            b"1 ",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"000000000000000000001",
        ] {
            assert_eq!(string2ll(bad), None, "{bad:?}");
        }
    }

    /// 0.1, 1e17 and 1.5e-5 were also read back from Redis 7.0 with ZSCORE, in RESP2 and
    /// RESP3, byte for byte.
    #[test]
    fn double_matches_printf_17g() {
        let cases: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (3.0, "3"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1e17, "1e+17"),
            (1e16, "10000000000000000"),
            (1.5e-5, "1.5e-05"),
            (1.25e-7, "1.2499999999999999e-07"),
            (0.0001, "0.0001"),
            (123456.789, "123456.789"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "4.9406564584124654e-324"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (-2.5, "-2.5"),
            (100.0, "100"),
            (-7.0, "-7"),
            (99_999_999_999_999_984.0, "99999999999999984"),
            (-99_999_999_999_999_984.0, "-99999999999999984"),
            (1_700_000_000_123.0, "1700000000123"),
        ];
        for &(d, want) in cases {
            assert_eq!(format_double(d).as_bytes(), want.as_bytes(), "{d:e}");
        }
    }

    proptest! {
        #[test]
        fn i64_round_trips(v in any::<i64>()) {
            let mut tmp = [0u8; MAX_I64_LEN];
            let s = format_i64(v, &mut tmp);
            let want = v.to_string();
            prop_assert_eq!(s, want.as_bytes());
            prop_assert_eq!(string2ll(s), Some(v));
        }

        #[test]
        fn integer_doubles_print_as_the_general_path_prints_them(n in -99_999_999_999_999_984_i64..=99_999_999_999_999_984) {
            let d = n as f64;
            let blank = || DoubleBuf { buf: [0; 32], len: 0 };
            let (fast, general) = (format_double(d), format_general(d, blank()));
            prop_assert_eq!(fast.as_bytes(), general.as_bytes());
        }

        #[test]
        fn double_round_trips(bits in any::<u64>()) {
            let d = f64::from_bits(bits);
            let back = parse_double(format_double(d).as_bytes()).unwrap();
            prop_assert!(back.to_bits() == d.to_bits() || (d.is_nan() && back.is_nan()));
        }
    }
}
