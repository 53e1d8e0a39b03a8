//! Conversions between RESP replies and Lua values, as Redis 7.0 documents them.
//!
//! Reply to Lua (made on Lua's stack by [`super::call`]): integer to number, bulk string to string, nil bulk or nil array to
//! `false`, array to table, status to `{ok=...}`, error to `{err=...}`; with RESP3, map to
//! `{map={...}}`, set to `{set={...}}`, null to `nil`, boolean to boolean, double to
//! `{double=...}`, big number to `{big_number=...}`, verbatim string to
//! `{verbatim_string={format=..., string=...}}`.
//!
//! Lua to reply: number to integer (truncated), string to bulk string, `true` to 1 (RESP3
//! `#t`), `false` to nil (RESP3 `#f`), a table with `err` to an error, with `ok` to a
//! status, `double`, `big_number`, `map`, `set` and `verbatim_string` to their RESP3
//! types (downgraded in RESP2), any other table to an array of its elements up to the first
//! `nil`.

use mlua::{Lua, Table, Value};
use redistill_resp::{Version, encode};

/// Tables nested deeper than this end the conversion with an error element.
const MAX_DEPTH: usize = 200;

/// `{err=text}`.
pub(crate) fn error_table(lua: &Lua, text: &[u8]) -> mlua::Result<Value> {
    let t = lua.create_table_with_capacity(0, 1)?;
    t.raw_set("err", lua.create_string(text)?)?;
    Ok(Value::Table(t))
}

/// A Lua number as Redis converts it to an integer reply: C's cast, whose result for
/// values out of range (and NaN) is `i64::MIN` on the machines Redis runs on.
pub(crate) fn number_to_integer(n: f64) -> i64 {
    // 2^63 as a float: values at or above it, or below -2^63, are out of range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if n.is_nan() || !(-LIMIT..LIMIT).contains(&n) {
        return i64::MIN;
    }
    #[allow(clippy::cast_possible_truncation)]
    let i = n as i64;
    i
}

/// Writes the script's result `value` as a reply in `version`. `script` is the protocol the
/// script chose with `redis.setresp`: as in Redis, it decides how booleans convert (RESP2:
/// true is 1 and false is null; RESP3: booleans, written in the caller's protocol).
pub(crate) fn lua_to_reply(value: &Value, out: &mut Vec<u8>, version: Version, script: Version) {
    write_value(value, out, (version, script), 0);
}

/// The caller's protocol and the script's (see [`lua_to_reply`]).
type Protocols = (Version, Version);

fn write_value(value: &Value, out: &mut Vec<u8>, protocols: Protocols, depth: usize) {
    let version = protocols.0;
    match value {
        Value::String(s) => encode::write_bulk(out, &s.as_bytes()),
        Value::Integer(i) => encode::write_integer(out, *i),
        Value::Number(n) => encode::write_integer(out, number_to_integer(*n)),
        Value::Boolean(b) if protocols.1 == Version::Resp3 => encode::write_bool(out, version, *b),
        Value::Boolean(true) => encode::write_integer(out, 1),
        Value::Table(t) => write_table(t, out, protocols, depth),
        _ => encode::write_null(out, version),
    }
}

/// A string field of `t`, read without metamethods; numbers count as strings, as
/// `lua_isstring` has it.
fn string_field(t: &Table, name: &str) -> Option<Vec<u8>> {
    match t.raw_get::<Value>(name).ok()? {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        // Lua's own text of the number.
        Value::Integer(_) | Value::Number(_) => t
            .raw_get::<mlua::String>(name)
            .ok()
            .map(|s| s.as_bytes().to_vec()),
        _ => None,
    }
}

fn write_table(t: &Table, out: &mut Vec<u8>, protocols: Protocols, depth: usize) {
    let version = protocols.0;
    if depth >= MAX_DEPTH {
        encode::write_error(out, b"ERR reached lua stack limit");
        return;
    }
    if let Some(err) = string_field(t, "err") {
        let text: Vec<u8> = err
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
            .collect();
        encode::write_error(out, &text);
        return;
    }
    if let Some(ok) = string_field(t, "ok") {
        let text: Vec<u8> = ok
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
            .collect();
        encode::write_simple(out, &text);
        return;
    }
    if let Ok(Value::Number(d)) = t.raw_get::<Value>("double") {
        encode::write_double(out, version, d);
        return;
    }
    if let Ok(Value::Integer(d)) = t.raw_get::<Value>("double") {
        #[allow(clippy::cast_precision_loss)]
        encode::write_double(out, version, d as f64);
        return;
    }
    if let Some(big) = string_field(t, "big_number") {
        if version == Version::Resp3 {
            out.push(b'(');
            out.extend_from_slice(&big);
            out.extend_from_slice(b"\r\n");
        } else {
            encode::write_bulk(out, &big);
        }
        return;
    }
    if let Ok(Value::Table(map)) = t.raw_get::<Value>("map") {
        let pairs: Vec<(Value, Value)> =
            map.pairs::<Value, Value>().filter_map(Result::ok).collect();
        encode::write_map_header(out, version, pairs.len());
        for (k, v) in &pairs {
            write_value(k, out, protocols, depth + 1);
            write_value(v, out, protocols, depth + 1);
        }
        return;
    }
    if let Ok(Value::Table(set)) = t.raw_get::<Value>("set") {
        let members: Vec<Value> = set
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .map(|(k, _)| k)
            .collect();
        encode::write_set_header(out, version, members.len());
        for k in &members {
            write_value(k, out, protocols, depth + 1);
        }
        return;
    }
    if let Ok(Value::Table(verbatim)) = t.raw_get::<Value>("verbatim_string") {
        let format = string_field(&verbatim, "format").unwrap_or_default();
        let text = string_field(&verbatim, "string").unwrap_or_default();
        let mut f = *b"txt";
        if format.len() == 3 {
            f.copy_from_slice(&format);
        }
        encode::write_verbatim(out, version, f, &text);
        return;
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    encode::write_array_header(out, items.len());
    for v in &items {
        write_value(v, out, protocols, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_numbers_convert_as_c_does() {
        assert_eq!(number_to_integer(3.99), 3);
        assert_eq!(number_to_integer(-3.99), -3);
        assert_eq!(number_to_integer(1e300), i64::MIN);
        assert_eq!(number_to_integer(f64::NAN), i64::MIN);
    }
}
