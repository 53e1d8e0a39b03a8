//! Formatting replies the way `redis-cli` prints them on a terminal.
//!
//! This is `redis-cli`'s `cliFormatReplyTTY`: strings quoted with C-style escapes,
//! `(integer) 1`, `(nil)`, `(error) ERR ...`, numbered and indented aggregates, RESP3's
//! `(double)`, `(true)`/`(false)`, maps as `1# "k" => "v"` and sets as `1~ "m"`.

use crate::frame::Frame;
use crate::number::format_double;
use std::fmt::Write;

/// Formats `frame` as `redis-cli` prints it in interactive mode, ending with a newline.
///
/// # Examples
///
/// ```
/// use redistill_resp::{cli::format_reply, Frame};
///
/// let reply = Frame::Array(vec![
///     Frame::bulk("a"),
///     Frame::Array(vec![Frame::Integer(1), Frame::NullBulkString]),
/// ]);
/// assert_eq!(format_reply(&reply), "1) \"a\"\n2) 1) (integer) 1\n   2) (nil)\n");
/// ```
pub fn format_reply(frame: &Frame) -> String {
    let mut out = String::new();
    format_into(&mut out, frame, "");
    out
}

fn format_into(out: &mut String, frame: &Frame, prefix: &str) {
    match frame {
        Frame::SimpleError(e) | Frame::BulkError(e) => {
            out.push_str("(error) ");
            out.push_str(&String::from_utf8_lossy(e));
            out.push('\n');
        }
        Frame::SimpleString(s) => {
            out.push_str(&String::from_utf8_lossy(s));
            out.push('\n');
        }
        Frame::Integer(v) => {
            let _ = writeln!(out, "(integer) {v}");
        }
        Frame::Double(d) => {
            out.push_str("(double) ");
            out.push_str(&String::from_utf8_lossy(format_double(*d).as_bytes()));
            out.push('\n');
        }
        Frame::BigNumber(n) => {
            out.push_str("(big number) ");
            out.push_str(&String::from_utf8_lossy(n));
            out.push('\n');
        }
        Frame::BulkString(b) => {
            push_repr(out, b);
            out.push('\n');
        }
        Frame::VerbatimString { text, .. } => {
            out.push_str(&String::from_utf8_lossy(text));
            out.push('\n');
        }
        Frame::Null | Frame::NullBulkString | Frame::NullArray => out.push_str("(nil)\n"),
        Frame::Boolean(b) => out.push_str(if *b { "(true)\n" } else { "(false)\n" }),
        // redis-cli shows no attributes, only the reply they annotate.
        Frame::Attribute { value, .. } => format_into(out, value, prefix),
        Frame::Array(items) => format_list(out, items, prefix, ')', "(empty array)\n"),
        Frame::Push(items) => format_list(out, items, prefix, ')', "(empty push)\n"),
        Frame::Set(items) => format_list(out, items, prefix, '~', "(empty set)\n"),
        Frame::Map(pairs) => {
            if pairs.is_empty() {
                out.push_str("(empty hash)\n");
                return;
            }
            let width = digits(pairs.len());
            let inner = format!("{prefix}{}", " ".repeat(width + 2));
            for (i, (k, v)) in pairs.iter().enumerate() {
                let _ = write!(
                    out,
                    "{}{:>width$}# ",
                    if i == 0 { "" } else { prefix },
                    i + 1
                );
                format_into(out, k, &inner);
                out.pop();
                out.push_str(" => ");
                // redis-cli 7.0 starts a non-empty array value on its own line.
                if matches!(v, Frame::Array(items) if !items.is_empty()) {
                    out.push('\n');
                    out.push_str(&inner);
                }
                format_into(out, v, &inner);
            }
        }
    }
}

fn format_list(out: &mut String, items: &[Frame], prefix: &str, sep: char, empty: &str) {
    if items.is_empty() {
        out.push_str(empty);
        return;
    }
    let width = digits(items.len());
    // Nested replies line up under the first character after "N) ".
    let inner = format!("{prefix}{}", " ".repeat(width + 2));
    for (i, item) in items.iter().enumerate() {
        let _ = write!(
            out,
            "{}{:>width$}{sep} ",
            if i == 0 { "" } else { prefix },
            i + 1
        );
        format_into(out, item, &inner);
    }
}

fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Quotes bytes like Redis's `sdscatrepr`.
fn push_repr(out: &mut String, s: &[u8]) {
    out.push('"');
    for &b in s {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(char::from(b)),
            b => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert_eq!(format_reply(&Frame::simple("OK")), "OK\n");
        assert_eq!(
            format_reply(&Frame::SimpleError("ERR x".into())),
            "(error) ERR x\n"
        );
        assert_eq!(format_reply(&Frame::Integer(-3)), "(integer) -3\n");
        assert_eq!(format_reply(&Frame::NullBulkString), "(nil)\n");
        assert_eq!(format_reply(&Frame::Null), "(nil)\n");
        assert_eq!(format_reply(&Frame::Double(1.5)), "(double) 1.5\n");
        assert_eq!(format_reply(&Frame::Boolean(true)), "(true)\n");
        assert_eq!(
            format_reply(&Frame::bulk(&b"a\"b\\\n\x01\xff"[..])),
            "\"a\\\"b\\\\\\n\\x01\\xff\"\n"
        );
        assert_eq!(format_reply(&Frame::Array(vec![])), "(empty array)\n");
        assert_eq!(format_reply(&Frame::Map(vec![])), "(empty hash)\n");
        assert_eq!(format_reply(&Frame::Set(vec![])), "(empty set)\n");
    }

    /// Expected texts were printed by redis-cli 7.0 (`--no-raw`) for the same replies.
    #[test]
    fn aggregates_match_redis_cli() {
        let ten: Vec<Frame> = (1..=10).map(|i| Frame::bulk(i.to_string())).collect();
        let nested = Frame::Array(vec![Frame::Array(ten.clone()), Frame::bulk("x")]);
        let mut want = String::new();
        for i in 1..=10 {
            let pre = if i == 1 { "1) " } else { "   " };
            want.push_str(&format!("{pre}{i:>2}) \"{i}\"\n"));
        }
        want.push_str("2) \"x\"\n");
        assert_eq!(format_reply(&nested), want);

        let map = Frame::Map(vec![
            (Frame::bulk("a"), Frame::Integer(1)),
            (
                Frame::bulk("b"),
                Frame::Array(vec![Frame::bulk("x"), Frame::bulk("y")]),
            ),
        ]);
        assert_eq!(
            format_reply(&map),
            "1# \"a\" => (integer) 1\n2# \"b\" => \n   1) \"x\"\n   2) \"y\"\n"
        );
        let in_array = Frame::Array(vec![
            Frame::Integer(1),
            Frame::Map(vec![
                (
                    Frame::bulk("y"),
                    Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)]),
                ),
                (Frame::bulk("x"), Frame::Integer(1)),
            ]),
        ]);
        assert_eq!(
            format_reply(&in_array),
            "1) (integer) 1\n2) 1# \"y\" => \n      1) (integer) 1\n      2) (integer) 2\n   2# \"x\" => (integer) 1\n"
        );
        let map_in_map = Frame::Map(vec![(
            Frame::bulk("a"),
            Frame::Map(vec![(Frame::bulk("x"), Frame::Integer(1))]),
        )]);
        assert_eq!(
            format_reply(&map_in_map),
            "1# \"a\" => 1# \"x\" => (integer) 1\n"
        );
        let empty = Frame::Map(vec![(Frame::bulk("a"), Frame::Array(vec![]))]);
        assert_eq!(format_reply(&empty), "1# \"a\" => (empty array)\n");
        let set = Frame::Set(vec![Frame::bulk("m"), Frame::bulk("n")]);
        assert_eq!(format_reply(&set), "1~ \"m\"\n2~ \"n\"\n");
    }
}
