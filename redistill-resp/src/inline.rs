//! Splitting an inline command line into arguments, exactly as Redis's `sdssplitargs`.
//!
//! Rules (Redis 7.0, confirmed against the real server):
//! - Arguments are separated by runs of whitespace (space, `\t`, `\n`, `\r`, `\v`, `\f`);
//!   an unquoted argument ends only at space, `\t`, `\n` or `\r`.
//! - `"..."` understands `\xHH` (two hex digits), `\n \r \t \b \a`, and a backslash before
//!   any other byte stands for that byte (`\\`, `\"`); `\x` without two hex digits is `x`.
//! - `'...'` takes every byte literally except `\'`, which is a quote.
//! - A quote may open in the middle of an argument (`a"b"` is `ab`), but a closing quote
//!   must be followed by whitespace or the end of the line, and every quote must close;
//!   otherwise the line is refused with "unbalanced quotes".
//! - The line ends at its first NUL byte, as it does for C's string functions.

use crate::error::Error;
use bytes::Bytes;

/// One argument: a range of the line when it had no quotes, else the unquoted bytes.
pub(crate) enum Arg {
    Range(usize, usize),
    Owned(Vec<u8>),
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits `line`, calling `out` for each argument in order.
pub(crate) fn split(line: &[u8], mut out: impl FnMut(Arg)) -> Result<(), Error> {
    let line = match memchr::memchr(0, line) {
        Some(nul) => &line[..nul],
        None => line,
    };
    // Past the end reads as NUL, mirroring the C string the algorithm was written for.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut p = 0;
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Ok(());
        }
        let start = p;
        let mut owned: Option<Vec<u8>> = None;
        let (mut inq, mut insq) = (false, false);
        loop {
            let c = at(p);
            if inq {
                let cur = owned.get_or_insert_with(Vec::new);
                if c == b'\\'
                    && at(p + 1) == b'x'
                    && let (Some(h), Some(l)) = (hex(at(p + 2)), hex(at(p + 3)))
                {
                    cur.push(h * 16 + l);
                    p += 4;
                    continue;
                }
                if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(Error::UnbalancedQuotes);
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(Error::UnbalancedQuotes);
                } else {
                    cur.push(c);
                }
            } else if insq {
                let cur = owned.get_or_insert_with(Vec::new);
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(Error::UnbalancedQuotes);
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(Error::UnbalancedQuotes);
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' | b'\'' => {
                        // The bytes so far were literal; from here on they are rewritten.
                        owned.get_or_insert_with(|| line[start..p].to_vec());
                        if c == b'"' {
                            inq = true;
                        } else {
                            insq = true;
                        }
                    }
                    _ => {
                        if let Some(cur) = owned.as_mut() {
                            cur.push(c);
                        }
                    }
                }
            }
            p += 1;
        }
        out(match owned {
            Some(v) => Arg::Owned(v),
            None => Arg::Range(start, p),
        });
    }
}

/// Splits an inline command line into its arguments, as Redis does for requests typed
/// into telnet and as `redis-cli` does for what the user types.
///
/// `line` should not include its line ending (a trailing `\r` or `\n` would be whitespace
/// anyway). An empty or all-blank line gives no arguments.
///
/// # Errors
///
/// [`Error::UnbalancedQuotes`] for an unterminated quote or a closing quote followed by
/// something other than whitespace.
///
/// # Examples
///
/// ```
/// use redistill_resp::split_args;
///
/// let args = split_args(br#"SET "a\x41 b" 'it\'s' plain"#).unwrap();
/// assert_eq!(args, vec![b"SET".to_vec(), b"aA b".to_vec(), b"it's".to_vec(), b"plain".to_vec()]);
/// assert!(split_args(br#"GET "a"b"#).is_err());
/// assert!(split_args(b"   ").unwrap().is_empty());
/// ```
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let mut args = Vec::new();
    split(line, |a| {
        args.push(match a {
            Arg::Range(s, e) => line[s..e].to_vec(),
            Arg::Owned(v) => v,
        })
    })?;
    Ok(args)
}

/// [`split_args`] for a [`Bytes`] line: arguments without quotes are slices of it.
///
/// ```
/// use bytes::Bytes;
/// use redistill_resp::split_args_bytes;
///
/// let line = Bytes::from_static(b"GET key");
/// let args = split_args_bytes(&line).unwrap();
/// assert_eq!(args, vec![Bytes::from_static(b"GET"), Bytes::from_static(b"key")]);
/// ```
pub fn split_args_bytes(line: &Bytes) -> Result<Vec<Bytes>, Error> {
    let mut args = Vec::new();
    split(line, |a| {
        args.push(match a {
            Arg::Range(s, e) => line.slice(s..e),
            Arg::Owned(v) => Bytes::from(v),
        })
    })?;
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(line: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        split_args(line)
    }

    fn ok(line: &[u8]) -> Vec<Vec<u8>> {
        s(line).unwrap()
    }

    #[test]
    fn matches_redis() {
        // Each expectation was checked against redis-server 7.0 through ECHO/SET.
        assert_eq!(ok(br#"SET "a\x41" b"#), [&b"SET"[..], b"aA", b"b"]);
        assert_eq!(ok(br"ECHO 'a\'b'"), [&b"ECHO"[..], b"a'b"]);
        assert_eq!(ok(br"ECHO 'a\nb'"), [&b"ECHO"[..], b"a\\nb"]);
        assert_eq!(
            ok(br#"ECHO "\n\r\t\b\a\\\"\q""#),
            [&b"ECHO"[..], b"\n\r\t\x08\x07\\\"q"]
        );
        assert_eq!(ok(br#"ECHO "\x4g""#), [&b"ECHO"[..], b"x4g"]);
        assert_eq!(ok(br#"ECHO "\xzz""#), [&b"ECHO"[..], b"xzz"]);
        assert_eq!(ok(br#"ECHO "\xff""#), [&b"ECHO"[..], b"\xff"]);
        assert_eq!(ok(br#"ECHO """#), [&b"ECHO"[..], b""]);
        assert_eq!(ok(b"  ECHO   x  "), [&b"ECHO"[..], b"x"]);
        assert_eq!(ok(b"ECHO x\ty"), [&b"ECHO"[..], b"x", b"y"]);
        assert_eq!(ok(b"ECHO a\rb"), [&b"ECHO"[..], b"a", b"b"]);
        assert_eq!(ok(br#"ECHO a"b""#), [&b"ECHO"[..], b"ab"]);
        assert_eq!(ok(b"ECHO 'a'  'b'"), [&b"ECHO"[..], b"a", b"b"]);
        assert_eq!(ok(b"a\x0bb \x0bc"), [&b"a\x0bb"[..], b"c"]);
        assert_eq!(ok(b"\"a\"\x0b"), [&b"a"[..]]);
        assert_eq!(ok(b"a\0b c"), [&b"a"[..]]);
        assert!(ok(b"").is_empty());
        assert!(ok(b" \t ").is_empty());
    }

    #[test]
    fn unbalanced() {
        for line in [
            &br#"PING "a"b"#[..],
            br"PING 'a'b",
            br#"PING "ab"#,
            br#"ECHO "a""b""#,
            br"ECHO 'ab",
            br#"ECHO "a\"#,
            b"ECHO \"a\0\"",
        ] {
            assert_eq!(s(line), Err(Error::UnbalancedQuotes), "{line:?}");
        }
    }

    #[test]
    fn unquoted_args_are_slices() {
        let line = Bytes::from_static(b"SET k 'v'");
        let args = split_args_bytes(&line).unwrap();
        assert_eq!(args[1].as_ptr(), line[4..].as_ptr());
        assert_eq!(args[2], Bytes::from_static(b"v"));
    }
}
