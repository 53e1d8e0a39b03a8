//! Encoding into any [`BufMut`].
//!
//! [`Frame::encode`] writes a whole frame; the free functions write the replies a server
//! sends most often without building a [`Frame`] or touching the heap. Functions that take
//! a [`Version`] write the RESP2 form Redis uses when the connection speaks RESP2:
//!
//! | RESP3 type | RESP2 form |
//! | --- | --- |
//! | null `_` | `$-1` ([`write_null`]) or `*-1` ([`write_null_array`]) |
//! | boolean | integer `:1` / `:0` |
//! | double | bulk string, `%.17g` or `inf`/`-inf`/`nan` |
//! | big number | bulk string |
//! | bulk error | simple error |
//! | verbatim string | bulk string of the text |
//! | map | flat array of `2n` elements |
//! | set, push | array |
//! | attribute | dropped; only its value is sent |

use crate::frame::{Frame, Version};
use crate::number::{MAX_I64_LEN, format_double, put_len};
use bytes::BufMut;

/// Writes `+OK\r\n`.
///
/// ```
/// let mut out = Vec::new();
/// redistill_resp::encode::write_ok(&mut out);
/// assert_eq!(out, b"+OK\r\n");
/// ```
#[inline]
pub fn write_ok(buf: &mut impl BufMut) {
    buf.put_slice(b"+OK\r\n");
}

/// Writes a simple string; CR and LF in `s` become spaces so the reply stays one line.
///
/// ```
/// let mut out = Vec::new();
/// redistill_resp::encode::write_simple(&mut out, b"PONG");
/// assert_eq!(out, b"+PONG\r\n");
/// ```
#[inline]
pub fn write_simple(buf: &mut impl BufMut, s: &[u8]) {
    buf.put_u8(b'+');
    put_line(buf, s);
    buf.put_slice(b"\r\n");
}

/// Writes a simple error, `-` + `msg` + CRLF; `msg` carries its own code (`ERR ...`).
///
/// Like Redis, CR and LF inside the message become spaces.
///
/// ```
/// let mut out = Vec::new();
/// redistill_resp::encode::write_error(&mut out, b"ERR unknown command");
/// assert_eq!(out, b"-ERR unknown command\r\n");
/// ```
#[inline]
pub fn write_error(buf: &mut impl BufMut, msg: &[u8]) {
    buf.put_u8(b'-');
    put_line(buf, msg);
    buf.put_slice(b"\r\n");
}

/// Writes `:<v>\r\n`.
///
/// ```
/// let mut out = Vec::new();
/// redistill_resp::encode::write_integer(&mut out, -42);
/// assert_eq!(out, b":-42\r\n");
/// ```
#[inline]
pub fn write_integer(buf: &mut impl BufMut, v: i64) {
    put_header(buf, b':', v);
}

/// Writes a bulk string `$<len>\r\n<data>\r\n`.
///
/// ```
/// let mut out = Vec::new();
/// redistill_resp::encode::write_bulk(&mut out, b"bar");
/// assert_eq!(out, b"$3\r\nbar\r\n");
/// ```
#[inline]
pub fn write_bulk(buf: &mut impl BufMut, data: &[u8]) {
    let n = data.len();
    if n < 100 {
        // Short values (most replies, and each element of a range) are assembled on the
        // stack and reach the buffer in one copy. Their one or two length digits are
        // written directly: `header_line`'s itoa and wider buffer cost 73 more
        // instructions per element of an LRANGE reply.
        // `$`, two digits, CRLF, 99 bytes, CRLF.
        let mut line = [0u8; 106];
        line[0] = b'$';
        let h = if n < 10 {
            line[1] = b'0' + n as u8;
            2
        } else {
            line[1] = b'0' + (n / 10) as u8;
            line[2] = b'0' + (n % 10) as u8;
            3
        };
        line[h..h + 2].copy_from_slice(b"\r\n");
        line[h + 2..h + 2 + n].copy_from_slice(data);
        line[h + 2 + n..h + 4 + n].copy_from_slice(b"\r\n");
        buf.put_slice(&line[..h + 4 + n]);
        return;
    }
    write_header(buf, b'$', n);
    buf.put_slice(data);
    buf.put_slice(b"\r\n");
}

/// Writes the null Redis sends for a missing string: `$-1` in RESP2, `_` in RESP3.
///
/// ```
/// use redistill_resp::{encode::write_null, Version};
/// let mut out = Vec::new();
/// write_null(&mut out, Version::Resp2);
/// write_null(&mut out, Version::Resp3);
/// assert_eq!(out, b"$-1\r\n_\r\n");
/// ```
#[inline]
pub fn write_null(buf: &mut impl BufMut, version: Version) {
    buf.put_slice(match version {
        Version::Resp2 => b"$-1\r\n",
        Version::Resp3 => b"_\r\n",
    });
}

/// Writes the null Redis sends for a missing aggregate: `*-1` in RESP2, `_` in RESP3.
///
/// ```
/// use redistill_resp::{encode::write_null_array, Version};
/// let mut out = Vec::new();
/// write_null_array(&mut out, Version::Resp2);
/// assert_eq!(out, b"*-1\r\n");
/// ```
#[inline]
pub fn write_null_array(buf: &mut impl BufMut, version: Version) {
    buf.put_slice(match version {
        Version::Resp2 => b"*-1\r\n",
        Version::Resp3 => b"_\r\n",
    });
}

/// Writes an array header `*<n>\r\n`; the caller writes the `n` elements after it.
///
/// ```
/// use redistill_resp::encode::{write_array_header, write_bulk};
/// let mut out = Vec::new();
/// write_array_header(&mut out, 1);
/// write_bulk(&mut out, b"a");
/// assert_eq!(out, b"*1\r\n$1\r\na\r\n");
/// ```
#[inline]
pub fn write_array_header(buf: &mut impl BufMut, n: usize) {
    write_header(buf, b'*', n);
}

/// Writes a map header for `pairs` pairs: `%<pairs>` in RESP3, `*<2*pairs>` in RESP2.
///
/// ```
/// use redistill_resp::{encode::write_map_header, Version};
/// let mut out = Vec::new();
/// write_map_header(&mut out, Version::Resp2, 2);
/// write_map_header(&mut out, Version::Resp3, 2);
/// assert_eq!(out, b"*4\r\n%2\r\n");
/// ```
#[inline]
pub fn write_map_header(buf: &mut impl BufMut, version: Version, pairs: usize) {
    match version {
        Version::Resp2 => write_header(buf, b'*', pairs.saturating_mul(2)),
        Version::Resp3 => write_header(buf, b'%', pairs),
    }
}

/// A RESP3 aggregate header of type `resp3`, or the array header RESP2 uses instead.
#[inline]
fn write_aggregate_header(buf: &mut impl BufMut, version: Version, resp3: u8, n: usize) {
    let t = if version == Version::Resp3 {
        resp3
    } else {
        b'*'
    };
    write_header(buf, t, n);
}

/// Writes a set header: `~<n>` in RESP3, `*<n>` in RESP2.
///
/// ```
/// use redistill_resp::{encode::write_set_header, Version};
/// let mut out = Vec::new();
/// write_set_header(&mut out, Version::Resp3, 3);
/// assert_eq!(out, b"~3\r\n");
/// ```
#[inline]
pub fn write_set_header(buf: &mut impl BufMut, version: Version, n: usize) {
    write_aggregate_header(buf, version, b'~', n);
}

/// Writes a push header: `><n>` in RESP3, `*<n>` in RESP2.
///
/// ```
/// use redistill_resp::{encode::write_push_header, Version};
/// let mut out = Vec::new();
/// write_push_header(&mut out, Version::Resp3, 3);
/// assert_eq!(out, b">3\r\n");
/// ```
#[inline]
pub fn write_push_header(buf: &mut impl BufMut, version: Version, n: usize) {
    write_aggregate_header(buf, version, b'>', n);
}

/// Writes a double as Redis 7.0 does: `,<%.17g>` in RESP3, a bulk string in RESP2.
///
/// ```
/// use redistill_resp::{encode::write_double, Version};
/// let mut out = Vec::new();
/// write_double(&mut out, Version::Resp3, 1.5);
/// write_double(&mut out, Version::Resp2, f64::INFINITY);
/// assert_eq!(out, b",1.5\r\n$3\r\ninf\r\n");
/// ```
#[inline]
pub fn write_double(buf: &mut impl BufMut, version: Version, d: f64) {
    let s = format_double(d);
    match version {
        Version::Resp2 => write_bulk(buf, s.as_bytes()),
        Version::Resp3 => {
            buf.put_u8(b',');
            buf.put_slice(s.as_bytes());
            buf.put_slice(b"\r\n");
        }
    }
}

/// Writes a boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
///
/// ```
/// use redistill_resp::{encode::write_bool, Version};
/// let mut out = Vec::new();
/// write_bool(&mut out, Version::Resp3, true);
/// write_bool(&mut out, Version::Resp2, false);
/// assert_eq!(out, b"#t\r\n:0\r\n");
/// ```
#[inline]
pub fn write_bool(buf: &mut impl BufMut, version: Version, b: bool) {
    buf.put_slice(match (version, b) {
        (Version::Resp3, true) => b"#t\r\n",
        (Version::Resp3, false) => b"#f\r\n",
        (Version::Resp2, true) => b":1\r\n",
        (Version::Resp2, false) => b":0\r\n",
    });
}

/// Writes a verbatim string: `=<len>\r\n<fmt>:<text>\r\n` in RESP3, a bulk string of
/// `text` in RESP2.
///
/// ```
/// use redistill_resp::{encode::write_verbatim, Version};
/// let mut out = Vec::new();
/// write_verbatim(&mut out, Version::Resp3, *b"txt", b"hi");
/// assert_eq!(out, b"=6\r\ntxt:hi\r\n");
/// ```
#[inline]
pub fn write_verbatim(buf: &mut impl BufMut, version: Version, format: [u8; 3], text: &[u8]) {
    match version {
        Version::Resp2 => write_bulk(buf, text),
        Version::Resp3 => {
            buf.put_u8(b'=');
            put_len(buf, text.len().saturating_add(4));
            buf.put_slice(b"\r\n");
            buf.put_slice(&format);
            buf.put_u8(b':');
            buf.put_slice(text);
            buf.put_slice(b"\r\n");
        }
    }
}

#[inline]
fn write_header(buf: &mut impl BufMut, t: u8, n: usize) {
    put_header(buf, t, i64::try_from(n).unwrap_or(i64::MAX));
}

/// Writes `<t><v>\r\n`. A single digit (SADD's and SISMEMBER's answers, most counts and
/// small arrays' headers) is one fixed four-byte copy, without itoa or a call to `memcpy`.
#[inline]
fn put_header(buf: &mut impl BufMut, t: u8, v: i64) {
    if let Ok(d @ 0..=9) = u8::try_from(v) {
        buf.put_slice(&[t, b'0' + d, b'\r', b'\n']);
        return;
    }
    let (line, len) = header_line(t, v);
    buf.put_slice(&line[..len]);
}

/// `<t><v>\r\n` assembled on the stack, so it reaches the buffer in one copy.
#[inline]
fn header_line(t: u8, v: i64) -> ([u8; MAX_I64_LEN + 3], usize) {
    let mut line = [0u8; MAX_I64_LEN + 3];
    let mut digits = itoa::Buffer::new();
    let d = digits.format(v).as_bytes();
    line[0] = t;
    line[1..=d.len()].copy_from_slice(d);
    line[d.len() + 1] = b'\r';
    line[d.len() + 2] = b'\n';
    (line, d.len() + 3)
}

/// Copies a line, turning CR and LF into spaces as Redis does for error texts.
#[inline]
fn put_line(buf: &mut impl BufMut, s: &[u8]) {
    // Replies are mostly a few bytes, where a plain loop beats a vectorised search.
    let clean = if s.len() < 32 {
        !s.iter().any(|&b| b == b'\r' || b == b'\n')
    } else {
        memchr::memchr2(b'\r', b'\n', s).is_none()
    };
    if clean {
        buf.put_slice(s);
    } else {
        for &b in s {
            buf.put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
    }
}

impl Frame {
    /// Encodes this frame for a connection speaking `version`.
    ///
    /// In RESP3 every frame is written in its own form, so decoding the output yields an
    /// equal frame. In RESP2, RESP3-only types take the forms listed in
    /// [the module docs](crate::encode). Simple strings and errors never contain CR or LF
    /// on the wire; any inside them are written as spaces.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_resp::{Frame, Version};
    ///
    /// let map = Frame::Map(vec![(Frame::simple("k"), Frame::Boolean(true))]);
    /// let mut resp3 = Vec::new();
    /// map.encode(Version::Resp3, &mut resp3);
    /// assert_eq!(resp3, b"%1\r\n+k\r\n#t\r\n");
    /// let mut resp2 = Vec::new();
    /// map.encode(Version::Resp2, &mut resp2);
    /// assert_eq!(resp2, b"*2\r\n+k\r\n:1\r\n");
    /// ```
    pub fn encode(&self, version: Version, buf: &mut impl BufMut) {
        match self {
            Frame::SimpleString(s) => write_simple(buf, s),
            Frame::SimpleError(s) => write_error(buf, s),
            Frame::Integer(v) => write_integer(buf, *v),
            Frame::BulkString(b) => write_bulk(buf, b),
            Frame::NullBulkString => buf.put_slice(b"$-1\r\n"),
            Frame::NullArray => buf.put_slice(b"*-1\r\n"),
            Frame::Null => write_null(buf, version),
            Frame::Boolean(b) => write_bool(buf, version, *b),
            Frame::Double(d) => write_double(buf, version, *d),
            Frame::BigNumber(n) => match version {
                Version::Resp2 => write_bulk(buf, n),
                Version::Resp3 => {
                    buf.put_u8(b'(');
                    put_line(buf, n);
                    buf.put_slice(b"\r\n");
                }
            },
            Frame::BulkError(e) => match version {
                Version::Resp2 => write_error(buf, e),
                Version::Resp3 => {
                    buf.put_u8(b'!');
                    put_len(buf, e.len());
                    buf.put_slice(b"\r\n");
                    buf.put_slice(e);
                    buf.put_slice(b"\r\n");
                }
            },
            Frame::VerbatimString { format, text } => write_verbatim(buf, version, *format, text),
            Frame::Array(items) => {
                write_array_header(buf, items.len());
                items.iter().for_each(|f| f.encode(version, buf));
            }
            Frame::Set(items) => {
                write_set_header(buf, version, items.len());
                items.iter().for_each(|f| f.encode(version, buf));
            }
            Frame::Push(items) => {
                write_push_header(buf, version, items.len());
                items.iter().for_each(|f| f.encode(version, buf));
            }
            Frame::Map(pairs) => {
                write_map_header(buf, version, pairs.len());
                encode_pairs(pairs, version, buf);
            }
            Frame::Attribute { attributes, value } => {
                if version == Version::Resp3 {
                    write_header(buf, b'|', attributes.len());
                    encode_pairs(attributes, version, buf);
                }
                value.encode(version, buf);
            }
        }
    }

    /// Encodes into a new `Vec`; a convenience over [`Frame::encode`].
    ///
    /// ```
    /// use redistill_resp::{Frame, Version};
    /// assert_eq!(Frame::Integer(7).to_vec(Version::Resp2), b":7\r\n");
    /// ```
    pub fn to_vec(&self, version: Version) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(version, &mut v);
        v
    }
}

fn encode_pairs(pairs: &[(Frame, Frame)], version: Version, buf: &mut impl BufMut) {
    for (k, v) in pairs {
        k.encode(version, buf);
        v.encode(version, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn bulks_of_every_length_class_have_their_header() {
        for n in (0..=200).chain([1000, 100_000]) {
            let data = vec![b'x'; n];
            let mut out = Vec::new();
            write_bulk(&mut out, &data);
            let mut want = format!("${n}\r\n").into_bytes();
            want.extend_from_slice(&data);
            want.extend_from_slice(b"\r\n");
            assert_eq!(out, want, "{n} bytes");
        }
    }

    fn enc(f: &Frame, v: Version) -> Vec<u8> {
        f.to_vec(v)
    }

    #[test]
    fn resp2_forms_of_resp3_types() {
        let r2 = Version::Resp2;
        assert_eq!(enc(&Frame::Null, r2), b"$-1\r\n");
        assert_eq!(enc(&Frame::Boolean(true), r2), b":1\r\n");
        assert_eq!(
            enc(&Frame::Double(0.1), r2),
            b"$19\r\n0.10000000000000001\r\n"
        );
        assert_eq!(
            enc(&Frame::Double(f64::NEG_INFINITY), r2),
            b"$4\r\n-inf\r\n"
        );
        assert_eq!(enc(&Frame::Double(f64::NAN), r2), b"$3\r\nnan\r\n");
        assert_eq!(enc(&Frame::BigNumber("123".into()), r2), b"$3\r\n123\r\n");
        assert_eq!(
            enc(&Frame::BulkError("ERR a\r\nb".into()), r2),
            b"-ERR a  b\r\n"
        );
        let verb = Frame::VerbatimString {
            format: *b"txt",
            text: "hi".into(),
        };
        assert_eq!(enc(&verb, r2), b"$2\r\nhi\r\n");
        let map = Frame::Map(vec![(Frame::bulk("a"), Frame::Integer(1))]);
        assert_eq!(enc(&map, r2), b"*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(
            enc(&Frame::Set(vec![Frame::Integer(1)]), r2),
            b"*1\r\n:1\r\n"
        );
        assert_eq!(enc(&Frame::Push(vec![]), r2), b"*0\r\n");
        let attr = Frame::Attribute {
            attributes: vec![(Frame::simple("ttl"), Frame::Integer(3))],
            value: Box::new(Frame::Integer(1)),
        };
        assert_eq!(enc(&attr, r2), b":1\r\n");
        assert_eq!(enc(&attr, Version::Resp3), b"|1\r\n+ttl\r\n:3\r\n:1\r\n");
    }

    #[test]
    fn resp3_forms() {
        let r3 = Version::Resp3;
        assert_eq!(enc(&Frame::Null, r3), b"_\r\n");
        assert_eq!(enc(&Frame::NullBulkString, r3), b"$-1\r\n");
        assert_eq!(enc(&Frame::NullArray, r3), b"*-1\r\n");
        assert_eq!(enc(&Frame::Boolean(false), r3), b"#f\r\n");
        assert_eq!(enc(&Frame::Double(f64::INFINITY), r3), b",inf\r\n");
        assert_eq!(
            enc(&Frame::Double(-1e300), r3),
            b",-1.0000000000000001e+300\r\n"
        );
        assert_eq!(enc(&Frame::BigNumber("-9".into()), r3), b"(-9\r\n");
        assert_eq!(enc(&Frame::BulkError("X y".into()), r3), b"!3\r\nX y\r\n");
        assert_eq!(enc(&Frame::Set(vec![]), r3), b"~0\r\n");
        assert_eq!(
            enc(&Frame::Push(vec![Frame::Integer(1)]), r3),
            b">1\r\n:1\r\n"
        );
        assert_eq!(enc(&Frame::SimpleString("a\nb".into()), r3), b"+a b\r\n");
    }

    #[test]
    fn hot_helpers() {
        let mut out = bytes::BytesMut::new();
        write_ok(&mut out);
        write_integer(&mut out, i64::MIN);
        write_bulk(&mut out, b"");
        write_null(&mut out, Version::Resp2);
        write_null_array(&mut out, Version::Resp3);
        write_array_header(&mut out, 0);
        write_error(&mut out, b"ERR x");
        assert_eq!(
            out.freeze(),
            Bytes::from_static(
                b"+OK\r\n:-9223372036854775808\r\n$0\r\n\r\n$-1\r\n_\r\n*0\r\n-ERR x\r\n"
            )
        );
    }
}
