//! Parsing command arguments the way Redis does.

/// Redis's `string2ll`: optional `-`, digits, no leading zeros, no `+`, no spaces, fits i64.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    redistill_resp::parse_integer(s)
}

/// An integer argument, or `ERR value is not an integer or out of range`.
pub(crate) fn int_arg(s: &[u8]) -> Result<i64, &'static str> {
    parse_i64(s).ok_or(NOT_INTEGER)
}

/// The bytes of `s` up to its first NUL, as C reads a string.
pub(crate) fn c_str(s: &[u8]) -> &[u8] {
    s.split(|&b| b == 0).next().unwrap_or(s)
}

/// Redis's reply for an argument that is not an integer.
pub(crate) const NOT_INTEGER: &str = "ERR value is not an integer or out of range";

/// Redis's reply for an integer argument outside a C `int` (`getIntFromObjectOrReply`).
pub(crate) const NOT_INT32: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";

/// Redis's reply for a database index that names no database.
pub(crate) const DB_OUT_OF_RANGE: &str = "ERR DB index is out of range";

/// A database index as SELECT, MOVE and COPY's DB option read it: an integer that fits a C
/// `int`, then one of the `databases`.
pub(crate) fn db_index_arg(s: &[u8], databases: usize) -> Result<usize, &'static str> {
    let n = i32::try_from(int_arg(s)?).map_err(|_| NOT_INT32)?;
    usize::try_from(n)
        .ok()
        .filter(|&db| db < databases)
        .ok_or(DB_OUT_OF_RANGE)
}

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

/// A count Redis reads with `getPositiveLongFromObjectOrReply`: an integer from 0 up, or
/// `error` (for a non-integer too).
pub(super) fn non_negative(arg: &[u8], error: &'static str) -> Result<usize, super::CommandError> {
    parse_i64(arg)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| error.into())
}

/// [`non_negative`], and not 0.
pub(super) fn positive(arg: &[u8], error: &'static str) -> Result<usize, super::CommandError> {
    non_negative(arg, error).and_then(|n| if n > 0 { Ok(n) } else { Err(error.into()) })
}
