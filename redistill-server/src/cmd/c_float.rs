//! Reading floats as Redis reads them: through C's `strtod` (glibc, C locale), with the
//! checks of `getDoubleFromObject` and `getLongDoubleFromObject` on top.
//!
//! The store's `float` module has its own reader because INCRBYFLOAT works in 80-bit long
//! doubles, and `redistill_resp` reads RESP3 double frames by the protocol's grammar; every
//! float argument of a command is read here.

use super::args::c_str;

/// C's `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Whether `s` starts with `word`, ignoring ASCII case.
fn starts_with_ci(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

/// What C's `strtod` makes of the start of `s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Strtod {
    pub(crate) value: f64,
    /// How many bytes were read: 0 when no number starts `s`.
    pub(crate) used: usize,
    /// The value overflowed to an infinity or underflowed to zero (`errno == ERANGE` with
    /// a value Redis refuses).
    pub(crate) out_of_range: bool,
}

/// C's `strtod` (glibc, C locale): leading spaces, a sign, then `inf`/`infinity`, `nan`
/// (with an optional `(chars)`), a hexadecimal float (`0x1.8p3`) or a decimal one.
pub(crate) fn strtod(s: &[u8]) -> Strtod {
    let none = Strtod {
        value: 0.0,
        used: 0,
        out_of_range: false,
    };
    let mut i = s.iter().take_while(|&&b| is_c_space(b)).count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let signed = |v: f64| if negative { -v } else { v };
    let rest = &s[i..];
    if starts_with_ci(rest, b"inf") {
        let len = if starts_with_ci(rest, b"infinity") {
            8
        } else {
            3
        };
        return Strtod {
            value: signed(f64::INFINITY),
            used: i + len,
            out_of_range: false,
        };
    }
    if starts_with_ci(rest, b"nan") {
        let mut used = i + 3;
        if s.get(used) == Some(&b'(') {
            let inner = s[used + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            if s.get(used + 1 + inner) == Some(&b')') {
                used += inner + 2;
            }
        }
        return Strtod {
            value: f64::NAN,
            used,
            out_of_range: false,
        };
    }
    if let Some(hex) = hex_float(rest) {
        return Strtod {
            value: signed(hex.value),
            used: i + hex.used,
            out_of_range: hex.out_of_range,
        };
    }
    let int_digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut end = int_digits;
    let mut digits = int_digits;
    if rest.get(end) == Some(&b'.') {
        let frac = rest[end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        digits += frac;
        end += 1 + frac;
    }
    if digits == 0 {
        return none;
    }
    let mantissa_end = end;
    if matches!(rest.get(end), Some(b'e' | b'E')) {
        let mut j = end + 1;
        if matches!(rest.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_digits = rest[j.min(rest.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if exp_digits > 0 {
            end = j + exp_digits;
        }
    }
    let text = std::str::from_utf8(&rest[..end]).unwrap_or("0");
    // Rust reads every decimal form strtod does, correctly rounded as glibc.
    let value = text.parse::<f64>().unwrap_or(0.0);
    let nonzero = rest[..mantissa_end]
        .iter()
        .any(|b| matches!(b, b'1'..=b'9'));
    Strtod {
        value: signed(value),
        used: i + end,
        out_of_range: value.is_infinite() || (value == 0.0 && nonzero),
    }
}

/// A hexadecimal float (`0x` then hex digits, an optional fraction and `p` exponent) at
/// the start of `s`, or `None` when `s` holds none (strtod then reads the `0` alone).
fn hex_float(s: &[u8]) -> Option<Strtod> {
    if !(starts_with_ci(s, b"0x")) {
        return None;
    }
    let body = &s[2..];
    let int = body.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let mut end = int;
    let mut frac = 0;
    if body.get(end) == Some(&b'.') {
        frac = body[end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        end += 1 + frac;
    }
    if int + frac == 0 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut exp: i64 = 0;
    let mut nonzero = false;
    for (k, &b) in body[..end].iter().enumerate() {
        let Some(d) = char::from(b).to_digit(16) else {
            continue;
        };
        nonzero |= d != 0;
        let fraction_digit = k > int;
        if mantissa >> 59 == 0 {
            mantissa = mantissa * 16 + u64::from(d);
            if fraction_digit {
                exp -= 4;
            }
        } else {
            // Past 60 bits the digit only keeps its weight (and, below, its sticky bit).
            mantissa |= u64::from(d != 0);
            if !fraction_digit {
                exp += 4;
            }
        }
    }
    if matches!(body.get(end), Some(b'p' | b'P')) {
        let mut j = end + 1;
        let negative = body.get(j) == Some(&b'-');
        if matches!(body.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let n = body[j.min(body.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if n > 0 {
            let p = body[j..j + n]
                .iter()
                .fold(0i64, |acc, b| (acc * 10 + i64::from(b - b'0')).min(1 << 20));
            exp += if negative { -p } else { p };
            end = j + n;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let mut value = mantissa as f64;
    // Scaled in steps that cannot overflow or underflow on their own.
    let mut e = exp.clamp(-1 << 20, 1 << 20);
    while e != 0 {
        let step = e.clamp(-1000, 1000);
        value *= 2f64.powi(i32::try_from(step).unwrap_or(0));
        e -= step;
    }
    Some(Strtod {
        value,
        used: 2 + end,
        out_of_range: value.is_infinite() || (value == 0.0 && nonzero),
    })
}

/// A float argument as Redis's `getDoubleFromObject` reads it (scores, increments, weights,
/// coordinates): the whole
/// argument a float, no leading space, not NaN, not out of a double's range.
pub(crate) fn parse_double(s: &[u8]) -> Option<f64> {
    if s.first().is_none_or(|&b| is_c_space(b)) {
        return None;
    }
    let r = strtod(s);
    (r.used == s.len() && !r.out_of_range && !r.value.is_nan()).then_some(r.value)
}

/// A SORT weight as Redis reads it: `strtod` over the whole C string (so `""` is 0 and
/// leading spaces are allowed), not NaN, not out of a double's range.
pub(crate) fn sort_weight(s: &[u8]) -> Option<f64> {
    let s = c_str(s);
    let r = strtod(s);
    (r.used == s.len() && !r.out_of_range && !r.value.is_nan()).then_some(r.value)
}

/// A float argument as Redis's `getLongDoubleFromObject` reads it (timeouts): as
/// [`parse_double`], except that a value past a double's range is not refused, since a long
/// double holds it: it reads as an infinity (or as the smallest positive double, for a
/// positive value too small for a double). Redis refuses a value past even a long double's
/// range (about 1e4932) as not a float; here it reads as an infinity too.
pub(crate) fn parse_long_double(s: &[u8]) -> Option<f64> {
    if s.first().is_none_or(|&b| is_c_space(b)) {
        return None;
    }
    let r = strtod(s);
    if r.used != s.len() || r.value.is_nan() {
        return None;
    }
    Some(if r.out_of_range && r.value == 0.0 {
        f64::MIN_POSITIVE.copysign(if s.first() == Some(&b'-') { -1.0 } else { 1.0 })
    } else {
        r.value
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_strtod_and_redis_checks() {
        for (arg, score) in [
            (&b"1"[..], 1.0),
            (b"-2.5", -2.5),
            (b"+3", 3.0),
            (b".5", 0.5),
            (b"5.", 5.0),
            (b"1e3", 1000.0),
            (b"inf", f64::INFINITY),
            (b"+inf", f64::INFINITY),
            (b"-inf", f64::NEG_INFINITY),
            (b"Infinity", f64::INFINITY),
            (b"0x10", 16.0),
            (b"0x1p-1", 0.5),
            (b"0x.8", 0.5),
            (b"4.9e-324", 4.9e-324),
        ] {
            assert_eq!(parse_double(arg), Some(score), "{arg:?}");
        }
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"-nan",
            b"1e400",
            b"1e-400",
            b"abc",
            b"1e",
            b"0x",
            b"1\0",
            b"--1",
            b"in",
        ] {
            assert_eq!(parse_double(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn long_doubles_keep_what_a_double_cannot_hold() {
        assert_eq!(parse_long_double(b"1e400"), Some(f64::INFINITY));
        assert_eq!(parse_long_double(b"1e-400"), Some(f64::MIN_POSITIVE));
        assert_eq!(parse_long_double(b"0x10"), Some(16.0));
        for bad in [&b""[..], b" 1", b"nan", b"1x", b"1\0"] {
            assert_eq!(parse_long_double(bad), None, "{bad:?}");
        }
    }
}
