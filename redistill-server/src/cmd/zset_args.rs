//! Reading sorted-set arguments as Redis reads them: scores through C's `strtod`, score
//! and lex range ends, ZADD's flags.

use redistill_store::{LexBound, LexRange, ScoreBound, ScoreRange, ZAddOptions};

use super::CommandError;
use super::args::{SYNTAX, is};

/// Redis's reply for a score or increment that is not a float.
pub(crate) const NOT_FLOAT: &str = "ERR value is not a valid float";
/// Redis's reply for a score range end that is not a float.
pub(crate) const BAD_SCORE_RANGE: &str = "ERR min or max is not a float";
/// Redis's reply for a lex range end that is not `[x`, `(x`, `-` or `+`.
pub(crate) const BAD_LEX_RANGE: &str = "ERR min or max not valid string range item";

/// C's `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The bytes of `s` up to its first NUL, as C reads a string.
fn c_str(s: &[u8]) -> &[u8] {
    s.split(|&b| b == 0).next().unwrap_or(s)
}

/// Whether `s` starts with `word`, ignoring ASCII case.
fn starts_with_ci(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

/// What C's `strtod` makes of the start of `s`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Strtod {
    value: f64,
    /// How many bytes were read: 0 when no number starts `s`.
    used: usize,
    /// The value overflowed to an infinity or underflowed to zero (`errno == ERANGE` with
    /// a value Redis refuses).
    out_of_range: bool,
}

/// C's `strtod` (glibc, C locale): leading spaces, a sign, then `inf`/`infinity`, `nan`
/// (with an optional `(chars)`), a hexadecimal float (`0x1.8p3`) or a decimal one.
fn strtod(s: &[u8]) -> Strtod {
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

/// A score, increment or weight as Redis's `getDoubleFromObject` reads it: the whole
/// argument a float, no leading space, not NaN, not out of a double's range.
pub(crate) fn parse_score(s: &[u8]) -> Option<f64> {
    if s.first().is_none_or(|&b| is_c_space(b)) {
        return None;
    }
    let r = strtod(s);
    (r.used == s.len() && !r.out_of_range && !r.value.is_nan()).then_some(r.value)
}

/// [`parse_score`], or [`NOT_FLOAT`].
pub(crate) fn score_arg(s: &[u8]) -> Result<f64, &'static str> {
    parse_score(s).ok_or(NOT_FLOAT)
}

/// One end of a score range as Redis's `zslParseRange` reads it: `(` for an exclusive
/// end, then whatever `strtod` reads up to the end of the C string (so `""` is 0 and
/// `1e400` is `inf`), not NaN.
fn score_bound(s: &[u8]) -> Option<ScoreBound> {
    let (exclusive, number) = match s.split_first() {
        Some((b'(', rest)) => (true, rest),
        _ => (false, s),
    };
    let number = c_str(number);
    let r = strtod(number);
    if r.used != number.len() || r.value.is_nan() {
        return None;
    }
    Some(if exclusive {
        ScoreBound::Exclusive(r.value)
    } else {
        ScoreBound::Inclusive(r.value)
    })
}

/// A score range `min max`, or [`BAD_SCORE_RANGE`].
pub(crate) fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, &'static str> {
    match (score_bound(min), score_bound(max)) {
        (Some(min), Some(max)) => Ok(ScoreRange { min, max }),
        _ => Err(BAD_SCORE_RANGE),
    }
}

/// One end of a lex range as Redis's `zslParseLexRangeItem` reads it.
fn lex_bound(s: &[u8]) -> Option<LexBound<'_>> {
    let alone = |s: &[u8]| s.get(1).is_none_or(|&b| b == 0);
    match s.first()? {
        b'+' if alone(s) => Some(LexBound::Max),
        b'-' if alone(s) => Some(LexBound::Min),
        b'(' => Some(LexBound::Exclusive(&s[1..])),
        b'[' => Some(LexBound::Inclusive(&s[1..])),
        _ => None,
    }
}

/// A lex range `min max`, or [`BAD_LEX_RANGE`].
pub(crate) fn lex_range<'a>(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, &'static str> {
    match (lex_bound(min), lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(BAD_LEX_RANGE),
    }
}

/// ZADD's flags and its score/member pairs.
pub(crate) type ZAddArgs<'a> = (ZAddOptions, Vec<(f64, &'a [u8])>);

/// ZADD's flags and score/member pairs, as `zaddGenericCommand` checks them: flags first,
/// then an even, non-zero number of arguments, then the incompatible flags, then every
/// score.
pub(crate) fn parse_zadd<'a>(args: &[&'a [u8]]) -> Result<ZAddArgs<'a>, CommandError> {
    let mut opts = ZAddOptions::default();
    let mut at = 2;
    while let Some(arg) = args.get(at) {
        let flag = match () {
            () if is(arg, "NX") => &mut opts.nx,
            () if is(arg, "XX") => &mut opts.xx,
            () if is(arg, "CH") => &mut opts.ch,
            () if is(arg, "INCR") => &mut opts.incr,
            () if is(arg, "GT") => &mut opts.gt,
            () if is(arg, "LT") => &mut opts.lt,
            () => break,
        };
        *flag = true;
        at += 1;
    }
    let rest = &args[at..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(SYNTAX.into());
    }
    if opts.nx && opts.xx {
        return Err("ERR XX and NX options at the same time are not compatible".into());
    }
    if [opts.gt, opts.lt, opts.nx].iter().filter(|&&f| f).count() > 1 {
        return Err("ERR GT, LT, and/or NX options at the same time are not compatible".into());
    }
    if opts.incr && rest.len() > 2 {
        return Err("ERR INCR option supports a single increment-element pair".into());
    }
    let pairs = rest
        .chunks_exact(2)
        .map(|p| Ok((score_arg(p[0])?, p[1])))
        .collect::<Result<Vec<_>, &'static str>>()?;
    Ok((opts, pairs))
}

/// A SORT weight as Redis reads it: `strtod` over the whole C string (so `""` is 0 and
/// leading spaces are allowed), not NaN, not out of a double's range.
pub(crate) fn sort_weight(s: &[u8]) -> Option<f64> {
    let s = c_str(s);
    let r = strtod(s);
    (r.used == s.len() && !r.out_of_range && !r.value.is_nan()).then_some(r.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(e: CommandError) -> String {
        String::from_utf8_lossy(&e.text("zadd")).into_owned()
    }

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
            assert_eq!(parse_score(arg), Some(score), "{arg:?}");
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
            assert_eq!(parse_score(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn score_ranges_read_as_zsl_parse_range() {
        use ScoreBound::{Exclusive, Inclusive};
        let range = |a: &[u8], b: &[u8]| score_range(a, b).ok().map(|r| (r.min, r.max));
        assert_eq!(range(b"(1", b"2"), Some((Exclusive(1.0), Inclusive(2.0))));
        assert_eq!(range(b"", b"("), Some((Inclusive(0.0), Exclusive(0.0))));
        assert_eq!(
            range(b" 1", b"1e400"),
            Some((Inclusive(1.0), Inclusive(f64::INFINITY)))
        );
        assert_eq!(
            range(b"-inf", b"(+inf"),
            Some((Inclusive(f64::NEG_INFINITY), Exclusive(f64::INFINITY)))
        );
        assert_eq!(
            range(b"1\0junk", b"2"),
            Some((Inclusive(1.0), Inclusive(2.0)))
        );
        for bad in [&b"nan"[..], b"1 ", b"x", b"((1", b"[1"] {
            assert_eq!(score_range(bad, b"1"), Err(BAD_SCORE_RANGE), "{bad:?}");
        }
    }

    #[test]
    fn lex_ranges_read_as_zsl_parse_lex_range() {
        use LexBound::{Exclusive, Inclusive, Max, Min};
        let range = |a: &'static [u8], b: &'static [u8]| lex_range(a, b).map(|r| (r.min, r.max));
        assert_eq!(range(b"-", b"+"), Ok((Min, Max)));
        assert_eq!(range(b"[a", b"(b"), Ok((Inclusive(b"a"), Exclusive(b"b"))));
        assert_eq!(range(b"[", b"("), Ok((Inclusive(b""), Exclusive(b""))));
        for bad in [&b""[..], b"a", b"+a", b"-a", b"]a"] {
            assert_eq!(lex_range(bad, b"+"), Err(BAD_LEX_RANGE), "{bad:?}");
        }
    }

    #[test]
    fn zadd_flags_and_errors_in_redis_order() {
        fn parse(s: &'static str) -> Result<ZAddArgs<'static>, String> {
            let args: Vec<&[u8]> = s.split(' ').map(str::as_bytes).collect();
            parse_zadd(&args).map_err(text)
        }
        let (opts, pairs) = parse("ZADD z nx ch 1 a 2 b").expect("parsed");
        assert!(opts.nx && opts.ch && !opts.xx);
        assert_eq!(pairs, vec![(1.0, &b"a"[..]), (2.0, &b"b"[..])]);
        for (request, error) in [
            ("ZADD z 1 a 2", "ERR syntax error"),
            ("ZADD z foo 1 a", "ERR syntax error"),
            (
                "ZADD z nx xx 1 a",
                "ERR XX and NX options at the same time are not compatible",
            ),
            ("ZADD z nx xx 1", "ERR syntax error"),
            (
                "ZADD z gt lt 1 a",
                "ERR GT, LT, and/or NX options at the same time are not compatible",
            ),
            (
                "ZADD z nx gt 1 a",
                "ERR GT, LT, and/or NX options at the same time are not compatible",
            ),
            (
                "ZADD z incr 1 a 2 b",
                "ERR INCR option supports a single increment-element pair",
            ),
            (
                "ZADD z incr 1 a x b",
                "ERR INCR option supports a single increment-element pair",
            ),
            ("ZADD z 1 a x b", "ERR value is not a valid float"),
            ("ZADD z nan a", "ERR value is not a valid float"),
        ] {
            assert_eq!(parse(request).err().as_deref(), Some(error), "{request}");
        }
    }
}
