//! Reading sorted-set arguments as Redis reads them: scores (through [`super::c_float`]),
//! score and lex range ends, ZADD's flags.

use redistill_store::{LexBound, LexRange, ScoreBound, ScoreRange, ZAddOptions};

use super::CommandError;
use super::args::{SYNTAX, c_str, is};
use super::c_float::{parse_double, strtod};

/// Redis's reply for a score or increment that is not a float.
pub(crate) const NOT_FLOAT: &str = "ERR value is not a valid float";
/// Redis's reply for a score range end that is not a float.
pub(crate) const BAD_SCORE_RANGE: &str = "ERR min or max is not a float";
/// Redis's reply for a lex range end that is not `[x`, `(x`, `-` or `+`.
pub(crate) const BAD_LEX_RANGE: &str = "ERR min or max not valid string range item";

/// A score, increment or weight ([`parse_double`]), or [`NOT_FLOAT`].
pub(crate) fn score_arg(s: &[u8]) -> Result<f64, &'static str> {
    parse_double(s).ok_or(NOT_FLOAT)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(e: CommandError) -> String {
        String::from_utf8_lossy(&e.text("zadd")).into_owned()
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
