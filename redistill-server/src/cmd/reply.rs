//! Writing replies in the client's protocol version, and Redis's error texts.

use std::io::Write;

use bytes::Bytes;
use redistill_resp::{Version, encode};
use redistill_store::StoreError;

use super::args::c_str;

/// Appends replies to a client's output buffer.
pub(crate) struct Reply<'a> {
    out: &'a mut Vec<u8>,
    version: Version,
}

impl<'a> Reply<'a> {
    pub fn new(out: &'a mut Vec<u8>, version: Version) -> Self {
        Reply { out, version }
    }

    pub fn ok(&mut self) {
        encode::write_ok(self.out);
    }

    pub fn simple(&mut self, s: &[u8]) {
        encode::write_simple(self.out, s);
    }

    /// An error line, starting with its code (`ERR`, `WRONGTYPE`, ...), CR and LF already
    /// replaced. Only the dispatcher writes errors: handlers return theirs.
    pub(super) fn error(&mut self, msg: &[u8]) {
        encode::write_error(self.out, msg);
    }

    pub fn int(&mut self, v: i64) {
        encode::write_integer(self.out, v);
    }

    pub fn len(&mut self, n: usize) {
        self.int(i64::try_from(n).unwrap_or(i64::MAX));
    }

    pub fn bool_int(&mut self, b: bool) {
        self.int(i64::from(b));
    }

    pub fn bulk(&mut self, data: &[u8]) {
        encode::write_bulk(self.out, data);
    }

    /// A double: `,1.5` in RESP3, a bulk string of Redis's `%.17g` text in RESP2.
    pub fn double(&mut self, d: f64) {
        encode::write_double(self.out, self.version, d);
    }

    /// A double as a bulk string of Redis's `%.17g` text, in either protocol (ZSCAN).
    pub fn double_bulk(&mut self, d: f64) {
        encode::write_double(self.out, Version::Resp2, d);
    }

    /// A double already written out (`text`): `,text` in RESP3, a bulk string in RESP2,
    /// as Redis's `addReplyHumanLongDouble` answers.
    pub fn double_text(&mut self, text: &[u8]) {
        if self.version == Version::Resp3 {
            self.out.push(b',');
            self.out.extend_from_slice(text);
            self.out.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// A double, or null.
    pub fn opt_double(&mut self, d: Option<f64>) {
        match d {
            Some(d) => self.double(d),
            None => self.null(),
        }
    }

    /// The protocol version replies are written in.
    pub fn version(&self) -> Version {
        self.version
    }

    pub fn null(&mut self) {
        encode::write_null(self.out, self.version);
    }

    pub fn opt_bulk(&mut self, v: Option<&[u8]>) {
        match v {
            Some(v) => self.bulk(v),
            None => self.null(),
        }
    }

    pub fn null_array(&mut self) {
        encode::write_null_array(self.out, self.version);
    }

    /// A `<CMD> HELP` answer: one status line each, as Redis's `addReplyHelp`.
    pub fn help(&mut self, lines: &[&str]) {
        self.array(lines.len());
        for line in lines {
            self.simple(line.as_bytes());
        }
    }

    pub fn array(&mut self, n: usize) {
        encode::write_array_header(self.out, n);
    }

    /// A set header: `~n` in RESP3, an array in RESP2.
    pub fn set(&mut self, n: usize) {
        if self.version == Version::Resp3 {
            let _ = write!(self.out, "~{n}\r\n");
        } else {
            self.array(n);
        }
    }

    pub fn map(&mut self, pairs: usize) {
        encode::write_map_header(self.out, self.version, pairs);
    }

    pub fn bulks<'b>(&mut self, items: impl ExactSizeIterator<Item = &'b [u8]>) {
        self.array(items.len());
        for item in items {
            self.bulk(item);
        }
    }

    pub fn opt_bulks(&mut self, items: &[Option<Bytes>]) {
        self.array(items.len());
        for item in items {
            self.opt_bulk(item.as_deref());
        }
    }
}

/// A store result's success value, as its command replies it.
pub(crate) trait Answer {
    fn write(&self, reply: &mut Reply<'_>);
}

/// `+OK`.
impl Answer for () {
    fn write(&self, reply: &mut Reply<'_>) {
        reply.ok();
    }
}

/// `:1` or `:0`.
impl Answer for bool {
    fn write(&self, reply: &mut Reply<'_>) {
        reply.bool_int(*self);
    }
}

/// A count.
impl Answer for usize {
    fn write(&self, reply: &mut Reply<'_>) {
        reply.len(*self);
    }
}

impl Answer for i64 {
    fn write(&self, reply: &mut Reply<'_>) {
        reply.int(*self);
    }
}

/// A bulk string.
impl Answer for Bytes {
    fn write(&self, reply: &mut Reply<'_>) {
        reply.bulk(self);
    }
}

/// A bulk string, or null.
impl Answer for Option<Bytes> {
    fn write(&self, reply: &mut Reply<'_>) {
        reply.opt_bulk(self.as_deref());
    }
}

/// An array of bulk strings.
impl Answer for Vec<Bytes> {
    fn write(&self, reply: &mut Reply<'_>) {
        reply.bulks(self.iter().map(|b| b.as_ref()));
    }
}

/// An array of bulk strings and nulls.
impl Answer for Vec<Option<Bytes>> {
    fn write(&self, reply: &mut Reply<'_>) {
        reply.opt_bulks(self);
    }
}

/// `ERR unknown command 'x', with args beginning with: 'a' 'b' `, exactly as Redis 7
/// builds it: name cut at 128 bytes, arguments added while the list is under 128 bytes,
/// each cut to what is left, C-string semantics (a NUL ends an argument), CR and LF shown
/// as spaces.
pub(crate) fn unknown_command_text(args: &[&[u8]]) -> Vec<u8> {
    const CAP: usize = 128;
    let name = c_str(args[0]);
    let mut listed = Vec::new();
    for arg in &args[1..] {
        if listed.len() >= CAP {
            break;
        }
        let arg = c_str(arg);
        let room = CAP - listed.len();
        listed.push(b'\'');
        listed.extend_from_slice(&arg[..arg.len().min(room)]);
        listed.extend_from_slice(b"' ");
    }
    let mut text = b"ERR unknown command '".to_vec();
    text.extend_from_slice(&name[..name.len().min(CAP)]);
    text.extend_from_slice(b"', with args beginning with: ");
    text.extend_from_slice(&listed);
    without_newlines(text)
}

/// `ERR unknown subcommand 'x'. Try CLIENT HELP.`, as Redis 7 builds it: the subcommand
/// cut at 128 bytes with C-string semantics, the command as sent in capitals.
pub(crate) fn unknown_subcommand_text(command: &[u8], sub: &[u8]) -> Vec<u8> {
    let sub = c_str(sub);
    let mut text = b"ERR unknown subcommand '".to_vec();
    text.extend_from_slice(&sub[..sub.len().min(128)]);
    text.extend_from_slice(b"'. Try ");
    text.extend(c_str(command).iter().map(u8::to_ascii_uppercase));
    text.extend_from_slice(b" HELP.");
    without_newlines(text)
}

/// CR and LF as spaces, as Redis writes error lines.
fn without_newlines(mut text: Vec<u8>) -> Vec<u8> {
    for b in &mut text {
        if *b == b'\r' || *b == b'\n' {
            *b = b' ';
        }
    }
    text
}

/// Redis's error text for a store error met by `command` (lower case), which the text of
/// an invalid expire time names.
pub(crate) fn store_error_text(e: &StoreError, command: &str) -> std::borrow::Cow<'static, str> {
    match e {
        StoreError::InvalidExpire { .. } => {
            format!("ERR invalid expire time in '{command}' command").into()
        }
        StoreError::ValueOutOfBounds { min, max } => {
            format!("ERR value is out of range, value must between {min} and {max}").into()
        }
        StoreError::InvalidEvictionSetting(e) => format!("ERR {e}").into(),
        e => fixed_error_text(e).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(args: &[&[u8]]) -> Vec<u8> {
        let mut out = b"-".to_vec();
        out.extend(unknown_command_text(args));
        out.extend_from_slice(b"\r\n");
        out
    }

    #[test]
    fn unknown_command_matches_redis() {
        assert_eq!(
            unknown(&[b"foo", b"a", b"b"]),
            b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
        );
        assert_eq!(
            unknown(&[b"FOO"]),
            b"-ERR unknown command 'FOO', with args beginning with: \r\n"
        );
        assert_eq!(
            unknown(&[b"foo", b"a\r\nb"]),
            b"-ERR unknown command 'foo', with args beginning with: 'a  b' \r\n"
        );
    }

    #[test]
    fn unknown_command_caps_the_argument_list() {
        let long = vec![b'x'; 200];
        let out = unknown(&[b"foo", &long, b"next"]);
        let expected = [
            &b"-ERR unknown command 'foo', with args beginning with: '"[..],
            &[b'x'; 128][..],
            b"' \r\n",
        ]
        .concat();
        assert_eq!(out, expected);
    }
}

/// Redis's reply text for a store error whose text does not depend on its data.
fn fixed_error_text(e: &StoreError) -> &'static str {
    match e {
        StoreError::WrongType => {
            "WRONGTYPE Operation against a key holding the wrong kind of value"
        }
        StoreError::NotInteger => "ERR value is not an integer or out of range",
        StoreError::HashNotInteger => "ERR hash value is not an integer",
        StoreError::Overflow => "ERR increment or decrement would overflow",
        StoreError::DecrementOverflow => "ERR decrement would overflow",
        StoreError::NotFloat => "ERR value is not a valid float",
        StoreError::HashNotFloat => "ERR hash value is not a float",
        StoreError::NanOrInfinity => "ERR increment would produce NaN or Infinity",
        StoreError::IncrementNanOrInfinity => "ERR value is NaN or Infinity",
        StoreError::NoSuchKey => "ERR no such key",
        StoreError::IndexOutOfRange => "ERR index out of range",
        StoreError::OutOfMemory => OOM,
        StoreError::StringTooLong { .. } => {
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
        }
        StoreError::OffsetOutOfRange => "ERR offset is out of range",
        StoreError::BitOffsetOutOfRange => "ERR bit offset is not an integer or out of range",
        StoreError::DbIndexOutOfRange { .. } => "ERR DB index is out of range",
        StoreError::SameObject => "ERR source and destination objects are the same",
        StoreError::ValueOutOfRange => "ERR value is out of range",
        StoreError::ScoreNaN => "ERR resulting score is not a number (NaN)",
        StoreError::NotHyperLogLog => "WRONGTYPE Key is not a valid HyperLogLog string value.",
        StoreError::CorruptHyperLogLog => "INVALIDOBJ Corrupted HLL object detected",
        StoreError::InvalidExpireEffort { .. } => {
            "ERR CONFIG SET failed (possibly related to argument 'active-expire-effort') - \
             argument must be between 1 and 10 inclusive"
        }
        // Those with data in their text are written by `Reply::command_error`; a variant
        // added to the store later reads as a generic error until it gets its own text.
        _ => "ERR operation failed",
    }
}

/// Redis's reply to a write refused for memory.
pub(crate) const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

#[cfg(test)]
mod store_error_tests {
    use super::*;

    fn text(e: &StoreError, command: &str) -> String {
        format!("-{}\r\n", store_error_text(e, command))
    }

    #[test]
    fn texts_are_redis_own() {
        assert_eq!(
            text(&StoreError::InvalidExpire { value: 0 }, "setex"),
            "-ERR invalid expire time in 'setex' command\r\n"
        );
        assert_eq!(
            text(&StoreError::WrongType, "get"),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
        assert_eq!(
            text(&StoreError::ValueOutOfBounds { min: -5, max: 5 }, "x"),
            "-ERR value is out of range, value must between -5 and 5\r\n"
        );
        assert_eq!(
            text(&StoreError::IndexOutOfRange, "lset"),
            "-ERR index out of range\r\n"
        );
        assert_eq!(
            text(&StoreError::OutOfMemory, "set"),
            "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
        );
    }
}
