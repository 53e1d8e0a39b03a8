//! The general RESP2/RESP3 frame decoder.
//!
//! Two entry points:
//! - [`decode`] / [`decode_with`]: one frame from the start of a [`Bytes`], for input that
//!   is already complete (a file, a test, a whole reply). Called again after more bytes
//!   arrive it starts over, so for streams use the [`Decoder`].
//! - [`Decoder`]: a stateful decoder over a connection's [`BytesMut`] read buffer. It
//!   remembers how far it has validated, so a frame that arrives in many small reads costs
//!   work in proportion to its size, not to the number of reads times its size.
//!
//! Both return bulk payloads as slices of the input, never copies.

use crate::error::Error;
use crate::frame::Frame;
use crate::limits::Limits;
use crate::number::{parse_double, string2ll};
use bytes::{Bytes, BytesMut};

/// What a frame's first line announces.
#[derive(Debug, Clone, Copy)]
enum Head {
    Simple { start: usize, end: usize },
    Error { start: usize, end: usize },
    BigNumber { start: usize, end: usize },
    Integer(i64),
    Double(f64),
    Boolean(bool),
    Null,
    NullBulk,
    NullArray,
    Bulk { kind: BulkKind, len: usize },
    Aggregate { kind: AggKind, len: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BulkKind {
    String,
    Error,
    Verbatim,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AggKind {
    Array,
    Set,
    Push,
    Map,
    Attribute,
}

impl AggKind {
    /// How many frames follow a header announcing `len`.
    fn children(self, len: usize) -> usize {
        match self {
            AggKind::Array | AggKind::Set | AggKind::Push => len,
            AggKind::Map => len.saturating_mul(2),
            AggKind::Attribute => len.saturating_mul(2).saturating_add(1),
        }
    }
}

/// Reads the header line of the frame at `pos`.
///
/// `scanned` is how far this line has already been searched for its CR, so a line that
/// arrives in pieces is searched once overall. `open` is the number of enclosing
/// aggregates. Returns the head and the offset just past the line.
fn read_head(
    buf: &[u8],
    pos: usize,
    scanned: &mut usize,
    open: usize,
    limits: &Limits,
    examined: &mut u64,
) -> Result<Option<(Head, usize)>, Error> {
    let Some(&t) = buf.get(pos) else {
        return Ok(None);
    };
    if !matches!(
        t,
        b'+' | b'-'
            | b':'
            | b'$'
            | b'*'
            | b'_'
            | b'#'
            | b','
            | b'('
            | b'!'
            | b'='
            | b'%'
            | b'~'
            | b'|'
            | b'>'
            | b';'
            | b'.'
    ) {
        *examined += 1;
        return Err(Error::InvalidTypeByte {
            byte: t,
            offset: pos,
        });
    }
    // Length and integer lines are short runs of digits: read them directly instead of
    // searching, when this line has not been searched before.
    if *scanned == 0
        && matches!(
            t,
            b'$' | b'*' | b':' | b'%' | b'~' | b'>' | b'|' | b'!' | b'='
        )
    {
        let line = buf.get(pos + 1..).unwrap_or_default();
        let mut i = usize::from(line.first() == Some(&b'-'));
        while i < line.len() && i < 21 && line[i].is_ascii_digit() {
            i += 1;
        }
        if line.get(i..i + 2) == Some(b"\r\n") {
            *examined += i as u64 + 2;
            return head_from_line(t, buf, pos, pos + 1 + i, open, limits).map(Some);
        }
    }
    let from = (*scanned).max(pos + 1);
    let hay = buf.get(from..).unwrap_or_default();
    let Some(i) = memchr::memchr2(b'\r', b'\n', hay) else {
        *examined += hay.len() as u64;
        *scanned = buf.len();
        return Ok(None);
    };
    *examined += i as u64 + 1;
    let cr = from + i;
    if buf[cr] == b'\n' {
        return Err(Error::ExpectedCrlf { offset: cr });
    }
    let Some(&lf) = buf.get(cr + 1) else {
        *scanned = cr;
        return Ok(None);
    };
    *examined += 1;
    if lf != b'\n' {
        return Err(Error::ExpectedCrlf { offset: cr });
    }
    *scanned = 0;
    head_from_line(t, buf, pos, cr, open, limits).map(Some)
}

/// Interprets the complete line `buf[pos + 1..cr]` of a frame of type `t`.
fn head_from_line(
    t: u8,
    buf: &[u8],
    pos: usize,
    cr: usize,
    open: usize,
    limits: &Limits,
) -> Result<(Head, usize), Error> {
    let (start, end, next) = (pos + 1, cr, cr + 2);
    let line = &buf[start..end];
    if line == b"?" && matches!(t, b'$' | b'*' | b'%' | b'~' | b'|' | b'>')
        || t == b';'
        || t == b'.'
    {
        return Err(Error::StreamedUnsupported { offset: pos });
    }
    let head = match t {
        b'+' => Head::Simple { start, end },
        b'-' => Head::Error { start, end },
        b'(' => {
            let digits = line.strip_prefix(b"-").unwrap_or(line);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(Error::InvalidBigNumber { offset: pos });
            }
            Head::BigNumber { start, end }
        }
        b':' => Head::Integer(string2ll(line).ok_or(Error::InvalidInteger { offset: pos })?),
        b',' => Head::Double(parse_double(line).ok_or(Error::InvalidDouble { offset: pos })?),
        b'#' => match line {
            b"t" => Head::Boolean(true),
            b"f" => Head::Boolean(false),
            _ => return Err(Error::InvalidBoolean { offset: pos }),
        },
        b'_' if line.is_empty() => Head::Null,
        b'_' => return Err(Error::InvalidNull { offset: pos }),
        b'$' | b'!' | b'=' => {
            let kind = match t {
                b'$' => BulkKind::String,
                b'!' => BulkKind::Error,
                _ => BulkKind::Verbatim,
            };
            match string2ll(line) {
                Some(-1) if kind == BulkKind::String => Head::NullBulk,
                Some(n) if n >= 0 && n as u64 <= limits.max_bulk_len() as u64 => {
                    let len = n as usize;
                    if kind == BulkKind::Verbatim && len < 4 {
                        return Err(Error::InvalidVerbatim { offset: pos });
                    }
                    Head::Bulk { kind, len }
                }
                _ => return Err(Error::InvalidBulkLength { offset: pos }),
            }
        }
        _ => {
            let kind = match t {
                b'*' => AggKind::Array,
                b'~' => AggKind::Set,
                b'>' => AggKind::Push,
                b'%' => AggKind::Map,
                _ => AggKind::Attribute,
            };
            let bad = if kind == AggKind::Array {
                Error::InvalidMultibulkLength { offset: pos }
            } else {
                Error::InvalidAggregateLength { offset: pos }
            };
            match string2ll(line) {
                Some(-1) if kind == AggKind::Array => Head::NullArray,
                Some(n) if n >= 0 && n as u64 <= limits.max_multibulk_len() as u64 => {
                    if open >= limits.max_depth() {
                        return Err(Error::TooDeep {
                            limit: limits.max_depth(),
                        });
                    }
                    Head::Aggregate {
                        kind,
                        len: n as usize,
                    }
                }
                _ => return Err(bad),
            }
        }
    };
    Ok((head, next))
}

/// Checks a bulk payload of `len` bytes at `start`: present, CRLF-terminated, and for a
/// verbatim string shaped `fmt:`. Returns the offset past its CRLF.
fn check_payload(
    buf: &[u8],
    start: usize,
    kind: BulkKind,
    len: usize,
    examined: &mut u64,
) -> Result<Option<usize>, Error> {
    let end = start.saturating_add(len);
    if buf.len() < end.saturating_add(2) {
        return Ok(None);
    }
    *examined += 2;
    if &buf[end..end + 2] != b"\r\n" {
        return Err(Error::ExpectedCrlf { offset: end });
    }
    if kind == BulkKind::Verbatim {
        *examined += 1;
        if buf[start + 3] != b':' {
            return Err(Error::InvalidVerbatim { offset: start });
        }
    }
    Ok(Some(end + 2))
}

/// Decodes one frame from the start of `buf` with Redis's default [`Limits`].
///
/// Returns the frame and the number of bytes it took, or `None` if `buf` holds only
/// part of a frame. Bulk payloads are slices of `buf`.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use redistill_resp::{decode, Frame};
///
/// let buf = Bytes::from_static(b"*2\r\n$3\r\nfoo\r\n,1.5\r\n:7\r\n");
/// let (frame, used) = decode(&buf).unwrap().unwrap();
/// assert_eq!(frame, Frame::Array(vec![Frame::bulk("foo"), Frame::Double(1.5)]));
/// assert_eq!(used, 19);
/// assert_eq!(decode(&buf.slice(..10)).unwrap(), None);
/// ```
pub fn decode(buf: &Bytes) -> Result<Option<(Frame, usize)>, Error> {
    decode_with(buf, &Limits::default())
}

/// [`decode`] with explicit limits.
///
/// ```
/// use bytes::Bytes;
/// use redistill_resp::{decode_with, Error, Limits};
///
/// let limits = Limits::default().with_max_bulk_len(3);
/// let err = decode_with(&Bytes::from_static(b"$4\r\nabcd\r\n"), &limits).unwrap_err();
/// assert!(matches!(err, Error::InvalidBulkLength { .. }));
/// ```
pub fn decode_with(buf: &Bytes, limits: &Limits) -> Result<Option<(Frame, usize)>, Error> {
    let mut examined = 0;
    parse(buf, 0, 0, limits, &mut examined)
}

fn parse(
    buf: &Bytes,
    pos: usize,
    open: usize,
    limits: &Limits,
    examined: &mut u64,
) -> Result<Option<(Frame, usize)>, Error> {
    let mut scanned = 0;
    let Some((head, next)) = read_head(buf, pos, &mut scanned, open, limits, examined)? else {
        return Ok(None);
    };
    let frame = match head {
        Head::Simple { start, end } => Frame::SimpleString(buf.slice(start..end)),
        Head::Error { start, end } => Frame::SimpleError(buf.slice(start..end)),
        Head::BigNumber { start, end } => Frame::BigNumber(buf.slice(start..end)),
        Head::Integer(v) => Frame::Integer(v),
        Head::Double(v) => Frame::Double(v),
        Head::Boolean(v) => Frame::Boolean(v),
        Head::Null => Frame::Null,
        Head::NullBulk => Frame::NullBulkString,
        Head::NullArray => Frame::NullArray,
        Head::Bulk { kind, len } => {
            let Some(after) = check_payload(buf, next, kind, len, examined)? else {
                return Ok(None);
            };
            let frame = match kind {
                BulkKind::String => Frame::BulkString(buf.slice(next..next + len)),
                BulkKind::Error => Frame::BulkError(buf.slice(next..next + len)),
                BulkKind::Verbatim => Frame::VerbatimString {
                    format: [buf[next], buf[next + 1], buf[next + 2]],
                    text: buf.slice(next + 4..next + len),
                },
            };
            return Ok(Some((frame, after)));
        }
        Head::Aggregate { kind, len } => {
            return parse_aggregate(buf, next, kind, len, open + 1, limits, examined);
        }
    };
    Ok(Some((frame, next)))
}

fn parse_aggregate(
    buf: &Bytes,
    mut pos: usize,
    kind: AggKind,
    len: usize,
    open: usize,
    limits: &Limits,
    examined: &mut u64,
) -> Result<Option<(Frame, usize)>, Error> {
    // Every frame takes at least three bytes, so the input bounds what a count may
    // reserve: a huge announced count with little behind it allocates little.
    let room = buf.len().saturating_sub(pos) / 3;
    let pairs = matches!(kind, AggKind::Map | AggKind::Attribute);
    let cap = if pairs {
        len.min(room / 2)
    } else {
        len.min(room)
    };
    macro_rules! next {
        () => {
            match parse(buf, pos, open, limits, examined)? {
                Some((f, p)) => {
                    pos = p;
                    f
                }
                None => return Ok(None),
            }
        };
    }
    let frame = if pairs {
        let mut items = Vec::with_capacity(cap);
        for _ in 0..len {
            let k = next!();
            let v = next!();
            items.push((k, v));
        }
        if kind == AggKind::Map {
            Frame::Map(items)
        } else {
            let value = next!();
            Frame::Attribute {
                attributes: items,
                value: Box::new(value),
            }
        }
    } else {
        let mut items = Vec::with_capacity(cap);
        for _ in 0..len {
            items.push(next!());
        }
        match kind {
            AggKind::Set => Frame::Set(items),
            AggKind::Push => Frame::Push(items),
            _ => Frame::Array(items),
        }
    };
    Ok(Some((frame, pos)))
}

/// A resumable frame decoder for a stream's read buffer.
///
/// Each call validates only the bytes that arrived since the previous call, recording
/// each header it reads. Once a whole frame is buffered it is split off the front of the
/// buffer, frozen, and built from those records without reading the bytes again; bulk
/// payloads are slices of it.
///
/// After an error the stream cannot be resynchronised: drop the connection (the decoder
/// itself resets and may be reused for a new stream).
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use redistill_resp::{Decoder, Frame};
///
/// let mut decoder = Decoder::new();
/// let mut buf = BytesMut::from(&b"$5\r\nhel"[..]);
/// assert_eq!(decoder.decode(&mut buf).unwrap(), None);
/// buf.extend_from_slice(b"lo\r\n+OK\r\n");
/// assert_eq!(decoder.decode(&mut buf).unwrap(), Some(Frame::bulk("hello")));
/// assert_eq!(decoder.decode(&mut buf).unwrap(), Some(Frame::simple("OK")));
/// assert_eq!(decoder.decode(&mut buf).unwrap(), None);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Decoder {
    limits: Limits,
    /// End of the validated prefix of the frame in progress.
    pos: usize,
    /// How far the header line at `pos` has been searched.
    scanned: usize,
    /// A bulk whose header is read but whose payload has not fully arrived.
    pending: Option<(BulkKind, usize)>,
    /// Frames still expected by each open aggregate, innermost last.
    stack: Vec<usize>,
    /// Every head of the frame in progress with the offset past its line, in wire order,
    /// so the frame is built from this once complete instead of parsing the bytes again.
    tape: Vec<(Head, usize)>,
    examined: u64,
}

impl Decoder {
    /// A decoder with Redis's default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder with the given limits.
    ///
    /// ```
    /// use redistill_resp::{Decoder, Limits};
    /// let decoder = Decoder::with_limits(Limits::default().with_max_depth(8));
    /// assert_eq!(decoder.limits().max_depth(), 8);
    /// ```
    pub fn with_limits(limits: Limits) -> Self {
        Decoder {
            limits,
            ..Self::default()
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Total bytes this decoder has read to find frame boundaries and values, over its
    /// whole life. Bulk payloads are sliced, never read, so they do not count.
    ///
    /// This exists to show the decoder's cost: for any way of splitting a stream into
    /// reads it stays within a small constant times the bytes of the frames' headers.
    pub fn bytes_examined(&self) -> u64 {
        self.examined
    }

    /// Forgets any frame in progress.
    pub fn reset(&mut self) {
        self.pos = 0;
        self.scanned = 0;
        self.pending = None;
        self.stack.clear();
        self.tape.clear();
    }

    /// Decodes the next frame at the front of `buf`, removing its bytes from `buf`.
    ///
    /// Returns `Ok(None)` when `buf` does not yet hold a whole frame; call again after
    /// appending more bytes, without touching the bytes already in `buf`.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Error> {
        match self.advance(buf) {
            Ok(Some(len)) => {
                let frame_bytes = buf.split_to(len).freeze();
                let mut at = 0;
                let frame = build(&self.tape, &mut at, &frame_bytes);
                let whole = at == self.tape.len();
                self.reset();
                match frame {
                    Some(frame) if whole => Ok(Some(frame)),
                    // The tape holds exactly the validated heads of one frame, so this
                    // cannot happen; refusing the input beats handing out a wrong frame.
                    _ => Err(Error::ExpectedCrlf { offset: len }),
                }
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.reset();
                Err(e)
            }
        }
    }

    /// Validates as far as `buf` allows; returns the frame's length once it is complete.
    fn advance(&mut self, buf: &[u8]) -> Result<Option<usize>, Error> {
        loop {
            if let Some((kind, len)) = self.pending {
                match check_payload(buf, self.pos, kind, len, &mut self.examined)? {
                    Some(end) => {
                        self.pending = None;
                        self.pos = end;
                        if self.finish_element() {
                            return Ok(Some(self.pos));
                        }
                        continue;
                    }
                    None => return Ok(None),
                }
            }
            let Some((head, next)) = read_head(
                buf,
                self.pos,
                &mut self.scanned,
                self.stack.len(),
                &self.limits,
                &mut self.examined,
            )?
            else {
                return Ok(None);
            };
            self.pos = next;
            self.tape.push((head, next));
            match head {
                Head::Bulk { kind, len } => self.pending = Some((kind, len)),
                Head::Aggregate { kind, len } if kind.children(len) > 0 => {
                    self.stack.push(kind.children(len));
                }
                _ => {
                    if self.finish_element() {
                        return Ok(Some(self.pos));
                    }
                }
            }
        }
    }

    /// Records one finished frame; returns whether that completed the top-level frame.
    fn finish_element(&mut self) -> bool {
        while let Some(top) = self.stack.last_mut() {
            *top -= 1;
            if *top > 0 {
                return false;
            }
            self.stack.pop();
        }
        true
    }
}

/// Builds the frame whose heads start at `tape[*at]`, advancing `at` past them.
fn build(tape: &[(Head, usize)], at: &mut usize, data: &Bytes) -> Option<Frame> {
    let &(head, next) = tape.get(*at)?;
    *at += 1;
    let slice = |s: usize, e: usize| (e <= data.len() && s <= e).then(|| data.slice(s..e));
    Some(match head {
        Head::Simple { start, end } => Frame::SimpleString(slice(start, end)?),
        Head::Error { start, end } => Frame::SimpleError(slice(start, end)?),
        Head::BigNumber { start, end } => Frame::BigNumber(slice(start, end)?),
        Head::Integer(v) => Frame::Integer(v),
        Head::Double(v) => Frame::Double(v),
        Head::Boolean(v) => Frame::Boolean(v),
        Head::Null => Frame::Null,
        Head::NullBulk => Frame::NullBulkString,
        Head::NullArray => Frame::NullArray,
        Head::Bulk { kind, len } => {
            let payload = slice(next, next.checked_add(len)?)?;
            match kind {
                BulkKind::String => Frame::BulkString(payload),
                BulkKind::Error => Frame::BulkError(payload),
                BulkKind::Verbatim => Frame::VerbatimString {
                    format: [*payload.first()?, *payload.get(1)?, *payload.get(2)?],
                    text: payload.slice(4..),
                },
            }
        }
        Head::Aggregate { kind, len } => {
            // Every element is on the tape already, so `len` is backed by real input.
            let cap = len.min(tape.len() - *at);
            match kind {
                AggKind::Map | AggKind::Attribute => {
                    let mut pairs = Vec::with_capacity(cap);
                    for _ in 0..len {
                        let k = build(tape, at, data)?;
                        let v = build(tape, at, data)?;
                        pairs.push((k, v));
                    }
                    if kind == AggKind::Map {
                        Frame::Map(pairs)
                    } else {
                        Frame::Attribute {
                            attributes: pairs,
                            value: Box::new(build(tape, at, data)?),
                        }
                    }
                }
                _ => {
                    let mut items = Vec::with_capacity(cap);
                    for _ in 0..len {
                        items.push(build(tape, at, data)?);
                    }
                    match kind {
                        AggKind::Set => Frame::Set(items),
                        AggKind::Push => Frame::Push(items),
                        _ => Frame::Array(items),
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(input: &'static [u8]) -> Result<Option<(Frame, usize)>, Error> {
        decode(&Bytes::from_static(input))
    }

    fn one(input: &'static [u8]) -> Frame {
        let (f, used) = d(input).unwrap().unwrap();
        assert_eq!(used, input.len());
        f
    }

    #[test]
    fn every_type() {
        assert_eq!(one(b"+OK\r\n"), Frame::simple("OK"));
        assert_eq!(one(b"-ERR x\r\n"), Frame::SimpleError("ERR x".into()));
        assert_eq!(one(b":-5\r\n"), Frame::Integer(-5));
        assert_eq!(one(b"$0\r\n\r\n"), Frame::bulk(""));
        assert_eq!(one(b"$2\r\n\r\n\r\n"), Frame::bulk("\r\n"));
        assert_eq!(one(b"$-1\r\n"), Frame::NullBulkString);
        assert_eq!(one(b"*-1\r\n"), Frame::NullArray);
        assert_eq!(one(b"*0\r\n"), Frame::Array(vec![]));
        assert_eq!(one(b"_\r\n"), Frame::Null);
        assert_eq!(one(b"#t\r\n"), Frame::Boolean(true));
        assert_eq!(one(b"#f\r\n"), Frame::Boolean(false));
        assert_eq!(one(b",1.5\r\n"), Frame::Double(1.5));
        assert_eq!(one(b",inf\r\n"), Frame::Double(f64::INFINITY));
        assert_eq!(one(b",-inf\r\n"), Frame::Double(f64::NEG_INFINITY));
        assert!(matches!(one(b",nan\r\n"), Frame::Double(x) if x.is_nan()));
        assert_eq!(one(b",1e3\r\n"), Frame::Double(1000.0));
        assert_eq!(one(b"(-123\r\n"), Frame::BigNumber("-123".into()));
        assert_eq!(one(b"!3\r\nE x\r\n"), Frame::BulkError("E x".into()));
        assert_eq!(
            one(b"=8\r\ntxt:abcd\r\n"),
            Frame::VerbatimString {
                format: *b"txt",
                text: "abcd".into()
            }
        );
        assert_eq!(
            one(b"%1\r\n+a\r\n:1\r\n"),
            Frame::Map(vec![(Frame::simple("a"), Frame::Integer(1))])
        );
        assert_eq!(one(b"~1\r\n_\r\n"), Frame::Set(vec![Frame::Null]));
        assert_eq!(one(b">1\r\n:1\r\n"), Frame::Push(vec![Frame::Integer(1)]));
        assert_eq!(
            one(b"*2\r\n|1\r\n+ttl\r\n:3\r\n:1\r\n:2\r\n"),
            Frame::Array(vec![
                Frame::Attribute {
                    attributes: vec![(Frame::simple("ttl"), Frame::Integer(3))],
                    value: Box::new(Frame::Integer(1)),
                },
                Frame::Integer(2),
            ])
        );
    }

    #[test]
    fn bulk_is_a_slice_of_the_input() {
        let buf = Bytes::from_static(b"$3\r\nabc\r\n");
        let (f, _) = decode(&buf).unwrap().unwrap();
        let Frame::BulkString(b) = f else { panic!() };
        assert_eq!(b.as_ptr(), buf[4..].as_ptr());
    }

    #[test]
    fn malformed_forms() {
        use Error::*;
        let cases: &[(&'static [u8], Error)] = &[
            (
                b"x\r\n",
                InvalidTypeByte {
                    byte: b'x',
                    offset: 0,
                },
            ),
            (b"+a\nb\r\n", ExpectedCrlf { offset: 2 }),
            (b"+a\rb\r\n", ExpectedCrlf { offset: 2 }),
            (b":1.5\r\n", InvalidInteger { offset: 0 }),
            (b":\r\n", InvalidInteger { offset: 0 }),
            (b":+1\r\n", InvalidInteger { offset: 0 }),
            (b",abc\r\n", InvalidDouble { offset: 0 }),
            (b",infinity\r\n", InvalidDouble { offset: 0 }),
            (b",\r\n", InvalidDouble { offset: 0 }),
            (b"#x\r\n", InvalidBoolean { offset: 0 }),
            (b"#\r\n", InvalidBoolean { offset: 0 }),
            (b"_x\r\n", InvalidNull { offset: 0 }),
            (b"(12a\r\n", InvalidBigNumber { offset: 0 }),
            (b"(\r\n", InvalidBigNumber { offset: 0 }),
            (b"$-2\r\n", InvalidBulkLength { offset: 0 }),
            (b"$+1\r\n", InvalidBulkLength { offset: 0 }),
            (b"$01\r\n", InvalidBulkLength { offset: 0 }),
            (b"$\r\n", InvalidBulkLength { offset: 0 }),
            (b"!-1\r\n", InvalidBulkLength { offset: 0 }),
            (b"$1\r\nab\r\n", ExpectedCrlf { offset: 5 }),
            (b"=3\r\ntxt\r\n", InvalidVerbatim { offset: 0 }),
            (b"=4\r\ntxtx\r\n", InvalidVerbatim { offset: 4 }),
            (b"*-2\r\n", InvalidMultibulkLength { offset: 0 }),
            (b"*a\r\n", InvalidMultibulkLength { offset: 0 }),
            (b"%-1\r\n", InvalidAggregateLength { offset: 0 }),
            (b"~x\r\n", InvalidAggregateLength { offset: 0 }),
            (b"$?\r\n", StreamedUnsupported { offset: 0 }),
            (b"*?\r\n", StreamedUnsupported { offset: 0 }),
            (b"%?\r\n", StreamedUnsupported { offset: 0 }),
            (b"~?\r\n", StreamedUnsupported { offset: 0 }),
            (b";4\r\nabcd\r\n", StreamedUnsupported { offset: 0 }),
            (b".\r\n", StreamedUnsupported { offset: 0 }),
            (
                b"*1\r\n*1\r\n?\r\n",
                InvalidTypeByte {
                    byte: b'?',
                    offset: 8,
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                &decode(&Bytes::from_static(input)).unwrap_err(),
                want,
                "{input:?}"
            );
            let mut dec = Decoder::new();
            let mut buf = BytesMut::from(*input);
            assert_eq!(&dec.decode(&mut buf).unwrap_err(), want, "{input:?}");
        }
    }

    #[test]
    fn incomplete_forms() {
        for input in [
            &b""[..],
            b"+OK",
            b"+OK\r",
            b"$3\r\nab",
            b"$3\r\nabc",
            b"$3\r\nabc\r",
            b"*2\r\n:1\r\n",
            b"%1\r\n+a\r\n",
            b"|1\r\n+a\r\n+b\r\n",
        ] {
            assert_eq!(
                decode(&Bytes::copy_from_slice(input)).unwrap(),
                None,
                "{input:?}"
            );
        }
    }

    #[test]
    fn limits_apply() {
        let limits = Limits::default()
            .with_max_depth(2)
            .with_max_multibulk_len(2);
        let ok = Bytes::from_static(b"*1\r\n*1\r\n:1\r\n");
        assert!(decode_with(&ok, &limits).unwrap().is_some());
        let deep = Bytes::from_static(b"*1\r\n*1\r\n*1\r\n:1\r\n");
        assert_eq!(
            decode_with(&deep, &limits),
            Err(Error::TooDeep { limit: 2 })
        );
        let long = Bytes::from_static(b"*3\r\n");
        assert_eq!(
            decode_with(&long, &limits),
            Err(Error::InvalidMultibulkLength { offset: 0 })
        );
        let mut dec = Decoder::with_limits(limits);
        let mut buf = BytesMut::from(&deep[..]);
        assert_eq!(dec.decode(&mut buf), Err(Error::TooDeep { limit: 2 }));
    }

    #[test]
    fn huge_count_reserves_little() {
        let buf = Bytes::from_static(b"*2000000000\r\n:1\r\n");
        assert_eq!(decode(&buf).unwrap(), None);
    }
}
