//! Parsing command arguments the way Redis does.

/// Redis's `string2ll`: optional `-`, digits, no leading zeros, no `+`, no spaces, fits i64.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    redistill_resp::parse_integer(s)
}

/// An integer argument, or `ERR value is not an integer or out of range`.
pub(crate) fn int_arg(s: &[u8]) -> Result<i64, &'static str> {
    parse_i64(s).ok_or(NOT_INTEGER)
}

/// Redis's reply for an argument that is not an integer.
pub(crate) const NOT_INTEGER: &str = "ERR value is not an integer or out of range";

/// Redis's reply for options it cannot parse.
pub(crate) const SYNTAX: &str = "ERR syntax error";

/// Arguments as (key, value) pairs; the caller has checked the count is even.
pub(crate) fn pairs<'a>(args: &[&'a [u8]]) -> Vec<(&'a [u8], &'a [u8])> {
    args.chunks_exact(2).map(|p| (p[0], p[1])).collect()
}

/// Whether `arg` equals `word`, ignoring ASCII case.
pub(crate) fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}
