//! The request fast path: client commands straight into argument lists.
//!
//! A server reads commands far more often than anything else, and a command is always a
//! flat list of strings: a RESP array of bulk strings, or an inline line as typed into
//! telnet. [`RequestDecoder`] parses either straight into argument lists
//! ([`RequestBatch`] or a reusable `Vec<Bytes>`) without building a
//! [`Frame`](crate::Frame) tree, and applies Redis 7.0's request rules exactly,
//! quirks included:
//!
//! - A request starting with `*` is a multibulk; anything else is an inline line.
//! - `*0` and any negative count (`*-1`, `*-10`) are consumed and ignored, as is an empty
//!   or all-blank inline line; Redis answers nothing to them.
//! - Counts and lengths follow `string2ll`: no `+`, no leading zeros, no `-0`.
//! - The byte after a header's `\r` and the two bytes after a bulk payload are skipped
//!   without being checked (`*1\r\n$4\r\nPINGxx` is a `PING`).
//! - A header or inline line containing a NUL byte before its terminator is never
//!   complete (Redis searches with `strchr`); it fails once more than the inline limit is
//!   buffered.
//! - Lengths are checked against [`Limits`]; before authentication the stricter
//!   unauthenticated limits apply (see [`RequestDecoder::set_auth_required`]).

use crate::error::Error;
use crate::inline::{Arg, split};
use crate::limits::Limits;
use crate::number::string2ll;
use bytes::{Bytes, BytesMut};

/// Where the decoder stands inside the request that starts at `RequestDecoder::start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At a request boundary.
    Start,
    /// Inside a multibulk with `remaining` arguments to go.
    Multibulk {
        remaining: usize,
        /// Length of the argument whose header is read but whose payload is not.
        bulk: Option<usize>,
    },
}

/// A complete request found in the buffer.
enum Found {
    /// A multibulk whose argument ranges are in `RequestDecoder::ranges`.
    Multibulk,
    /// An inline line spanning `start..end` (line ending excluded).
    Inline { start: usize, end: usize },
}

/// A resumable decoder of client requests.
///
/// Feed it the connection's read buffer. Two ways to take requests out:
///
/// - [`RequestDecoder::decode_batch`] takes every complete request in the buffer at
///   once into a reusable [`RequestBatch`]: one split of the buffer for the whole
///   pipeline, arguments read as `&[u8]` without touching a reference count, and
///   [`Bytes`] handles made only for the arguments the caller keeps (a `SET` value).
///   This is the server's fast path.
/// - [`RequestDecoder::decode_into`] takes one request into a caller-owned `Vec<Bytes>`,
///   each argument a slice of the received bytes.
///
/// Inline arguments with quotes are the only copies. Partial requests keep their
/// progress: the bytes of a large argument that arrives in many reads are not looked at
/// again on each read (see [`RequestDecoder::bytes_examined`]).
///
/// Errors are Redis's protocol errors; Redis sends [`Error::write_reply`]'s reply and
/// closes the connection, and so should a server using this.
///
/// # Examples
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use redistill_resp::RequestDecoder;
///
/// let mut decoder = RequestDecoder::new();
/// let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n*1\r\n$4\r\nPI"[..]);
/// let mut args = Vec::new();
///
/// assert!(decoder.decode_into(&mut buf, &mut args).unwrap());
/// assert_eq!(args, [Bytes::from_static(b"GET"), Bytes::from_static(b"k")]);
/// assert!(decoder.decode_into(&mut buf, &mut args).unwrap());
/// assert_eq!(args, [Bytes::from_static(b"PING")]);
/// assert!(!decoder.decode_into(&mut buf, &mut args).unwrap()); // needs more bytes
///
/// buf.extend_from_slice(b"NG\r\n");
/// assert!(decoder.decode_into(&mut buf, &mut args).unwrap());
/// assert_eq!(args, [Bytes::from_static(b"PING")]);
/// ```
#[derive(Debug, Clone)]
pub struct RequestDecoder {
    limits: Limits,
    auth_required: bool,
    state: State,
    /// Where the request in progress starts in the buffer.
    start: usize,
    /// End of the part of the request in progress already parsed.
    pos: usize,
    /// How far the current header or inline line has been searched for its end.
    scanned: usize,
    /// Argument ranges of the request in progress, as buffer offsets.
    ranges: Vec<(usize, usize)>,
    /// Requests decoded ahead by `decode_into`, handed out one per call from
    /// `ahead_next`, then the error that ended them, if any.
    ahead: RequestBatch,
    ahead_next: usize,
    ahead_err: Option<Error>,
    examined: u64,
}

impl Default for RequestDecoder {
    fn default() -> Self {
        Self::with_limits(Limits::default())
    }
}

impl RequestDecoder {
    /// A decoder with Redis's default [`Limits`], for an authenticated client.
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder with the given limits.
    ///
    /// ```
    /// use redistill_resp::{Limits, RequestDecoder};
    /// let d = RequestDecoder::with_limits(Limits::default().with_max_bulk_len(1 << 20));
    /// assert_eq!(d.limits().max_bulk_len(), 1 << 20);
    /// ```
    pub fn with_limits(limits: Limits) -> Self {
        RequestDecoder {
            limits,
            auth_required: false,
            state: State::Start,
            start: 0,
            pos: 0,
            scanned: 0,
            ranges: Vec::new(),
            ahead: RequestBatch::new(),
            ahead_next: 0,
            ahead_err: None,
            examined: 0,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether the client still has to authenticate.
    ///
    /// While true, a multibulk count over
    /// [`Limits::unauthenticated_max_multibulk_len`] or a bulk length over
    /// [`Limits::unauthenticated_max_bulk_len`] is refused, as Redis does when
    /// `requirepass` is set and the client has not sent `AUTH`.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use redistill_resp::{Error, RequestDecoder};
    ///
    /// let mut d = RequestDecoder::new();
    /// d.set_auth_required(true);
    /// let mut buf = BytesMut::from(&b"*11\r\n"[..]);
    /// let err = d.decode_into(&mut buf, &mut Vec::new()).unwrap_err();
    /// assert_eq!(err, Error::UnauthenticatedMultibulkLength { len: 11 });
    /// assert_eq!(err.to_string(), "Protocol error: unauthenticated multibulk length");
    /// ```
    pub fn set_auth_required(&mut self, required: bool) {
        self.auth_required = required;
    }

    /// Total bytes read to find request boundaries and lengths over this decoder's
    /// life; argument payloads are sliced, never read, and do not count.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use redistill_resp::RequestDecoder;
    ///
    /// let mut d = RequestDecoder::new();
    /// let mut buf = BytesMut::from(&b"*1\r\n$1000\r\n"[..]);
    /// buf.extend_from_slice(&[b'x'; 1000]);
    /// buf.extend_from_slice(b"\r\n");
    /// assert!(d.decode_into(&mut buf, &mut Vec::new()).unwrap());
    /// assert!(d.bytes_examined() < 20);
    /// ```
    pub fn bytes_examined(&self) -> u64 {
        self.examined
    }

    /// Forgets a request in progress, e.g. after an error when the buffer is discarded.
    pub fn reset(&mut self) {
        self.reset_parse();
        self.ahead.clear();
        self.ahead_next = 0;
        self.ahead_err = None;
    }

    fn reset_parse(&mut self) {
        self.state = State::Start;
        self.start = 0;
        self.pos = 0;
        self.scanned = 0;
        self.ranges.clear();
    }

    /// Decodes the next request into `args`.
    ///
    /// Returns `Ok(true)` with `args` holding the command and its arguments (cleared
    /// first), or `Ok(false)` if `buf` does not hold a whole request yet; append more bytes
    /// and call again. Requests Redis ignores (`*0`, `*-1`, blank lines) are consumed and
    /// skipped.
    ///
    /// All complete requests are taken out of `buf` at once (one split for the pipeline,
    /// as in [`RequestDecoder::decode_batch`]) and handed out one per call, so after
    /// `Ok(true)` the decoder may hold further requests whose bytes have already left
    /// `buf`: keep calling until `Ok(false)` before concluding that more input is needed.
    ///
    /// # Errors
    ///
    /// A protocol error with Redis's text, returned after the requests that preceded the
    /// bad one. The stream cannot be resynchronised after it; the decoder resets itself.
    pub fn decode_into(
        &mut self,
        buf: &mut BytesMut,
        args: &mut Vec<Bytes>,
    ) -> Result<bool, Error> {
        loop {
            if let Some(request) = self.ahead.get(self.ahead_next) {
                args.clear();
                args.extend((0..request.len()).filter_map(|i| request.bytes(i)));
                self.ahead_next += 1;
                return Ok(true);
            }
            if let Some(e) = self.ahead_err.take() {
                return Err(e);
            }
            self.ahead_next = 0;
            let mut ahead = std::mem::take(&mut self.ahead);
            let result = self.decode_batch(buf, &mut ahead);
            self.ahead = ahead;
            match result {
                Ok(0) => return Ok(false),
                Ok(_) => {}
                Err(e) if self.ahead.is_empty() => return Err(e),
                Err(e) => self.ahead_err = Some(e),
            }
        }
    }

    /// Like [`RequestDecoder::decode_into`], returning a fresh `Vec` per request.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use redistill_resp::RequestDecoder;
    ///
    /// let mut buf = BytesMut::from(&b"SET k \"v 1\"\r\n"[..]);
    /// let args = RequestDecoder::new().decode(&mut buf).unwrap().unwrap();
    /// assert_eq!(args, ["SET", "k", "v 1"]);
    /// ```
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, Error> {
        let mut args = Vec::new();
        Ok(self.decode_into(buf, &mut args)?.then_some(args))
    }

    /// Decodes every complete request in `buf` into `batch` (cleared first), removing
    /// their bytes from `buf` with a single split. Returns how many requests it holds.
    ///
    /// While [authentication is required](RequestDecoder::set_auth_required) it takes at
    /// most one request per call, so that an `AUTH` can lift the stricter limits before
    /// the next request is parsed, as in Redis.
    ///
    /// # Errors
    ///
    /// A protocol error with Redis's text. `batch` still holds the requests that came
    /// before the bad one: Redis runs those, then sends the error and closes the
    /// connection.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use redistill_resp::{RequestBatch, RequestDecoder};
    ///
    /// let mut decoder = RequestDecoder::new();
    /// let mut batch = RequestBatch::new();
    /// let mut buf = BytesMut::from(&b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\n*1\r\n$4"[..]);
    /// assert_eq!(decoder.decode_batch(&mut buf, &mut batch).unwrap(), 2);
    /// let cmds: Vec<Vec<&[u8]>> = batch.iter().map(|r| r.iter().collect()).collect();
    /// assert_eq!(cmds, [vec![&b"SET"[..], b"k", b"v"], vec![&b"GET"[..], b"k"]]);
    /// let value = batch.get(0).unwrap().bytes(2).unwrap(); // a zero-copy handle to keep
    /// assert_eq!(value, "v");
    /// assert_eq!(&buf[..], b"*1\r\n$4"); // the partial request stays
    /// ```
    pub fn decode_batch(
        &mut self,
        buf: &mut BytesMut,
        batch: &mut RequestBatch,
    ) -> Result<usize, Error> {
        batch.clear();
        let result = loop {
            if self.state == State::Start && !self.auth_required {
                // Whole, well-formed requests (nearly all of a pipeline) are read in one
                // pass; anything else, a partial request included, goes the general way.
                if let Some(end) = self.whole_multibulk(buf, batch) {
                    self.start = end;
                    self.pos = end;
                    self.scanned = 0;
                    continue;
                }
            }
            match self.find_request(buf) {
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
                Ok(Some(Found::Multibulk)) => {
                    let first = batch.args.len();
                    batch
                        .args
                        .extend(self.ranges.iter().map(|&(s, e)| Span::Data(s, e)));
                    batch.commands.push((first, batch.args.len()));
                }
                Ok(Some(Found::Inline { start, end })) => {
                    let first = batch.args.len();
                    let split_result = split(&buf[start..end], |a| {
                        batch.args.push(match a {
                            Arg::Range(s, e) => Span::Data(start + s, start + e),
                            Arg::Owned(v) => {
                                batch.owned.push(Bytes::from(v));
                                Span::Owned(batch.owned.len() - 1)
                            }
                        })
                    });
                    if let Err(e) = split_result {
                        batch.args.truncate(first);
                        break Err(e);
                    }
                    if batch.args.len() > first {
                        batch.commands.push((first, batch.args.len()));
                    }
                }
            }
            self.start = self.pos;
            if self.auth_required && !batch.commands.is_empty() {
                // Redis parses the next request only after running this one, which may
                // be the AUTH that lifts the stricter limits.
                break Ok(());
            }
        };
        match result {
            Ok(()) => {
                batch.data = self.drop_prefix(buf);
                Ok(batch.commands.len())
            }
            Err(e) => {
                batch.data = buf.split_to(self.start).freeze();
                self.reset_parse();
                Err(e)
            }
        }
    }

    /// Splits off the bytes before the request in progress, rebasing saved offsets.
    fn drop_prefix(&mut self, buf: &mut BytesMut) -> Bytes {
        let n = self.start;
        if n == 0 {
            return Bytes::new();
        }
        let head = buf.split_to(n).freeze();
        self.start = 0;
        self.pos = self.pos.saturating_sub(n);
        self.scanned = self.scanned.saturating_sub(n);
        if self.state == State::Start {
            // Ranges of a request already handed out.
            self.ranges.clear();
        }
        for r in &mut self.ranges {
            r.0 = r.0.saturating_sub(n);
            r.1 = r.1.saturating_sub(n);
        }
        head
    }

    /// Reads the multibulk at `self.start` in one pass when it is complete and every header
    /// is plainly valid (no sign, no leading zero, within the limits), adding it to
    /// `batch`. Returns its end; `None`, with `batch` as it was, for anything the general
    /// path must judge (including `*0`, partial requests and every error).
    #[inline]
    fn whole_multibulk(&mut self, buf: &[u8], batch: &mut RequestBatch) -> Option<usize> {
        let args = &mut batch.args;
        let at = self.start;
        let b = buf.get(at..)?;
        if b.first() != Some(&b'*') {
            return None;
        }
        let (n, mut p) = plain_header(b, 1)?;
        if n == 0 || n > self.limits.max_multibulk_len() {
            return None;
        }
        let first = args.len();
        let mut header_bytes = p;
        for _ in 0..n {
            let parsed = match b.get(p) {
                Some(b'$') => plain_header(b, p + 1),
                _ => None,
            };
            let Some((len, from)) = parsed.filter(|&(len, _)| len <= self.limits.max_bulk_len())
            else {
                args.truncate(first);
                return None;
            };
            header_bytes += from - p;
            let end = from + len;
            if end + 2 > b.len() {
                args.truncate(first);
                return None;
            }
            args.push(Span::Data(at + from, at + end));
            p = end + 2;
        }
        self.examined += header_bytes as u64;
        batch.commands.push((first, args.len()));
        Some(at + p)
    }

    /// Parses from `self.pos` until the request starting at `self.start` is complete
    /// (`self.pos` is then its end) or the buffer runs out.
    fn find_request(&mut self, buf: &[u8]) -> Result<Option<Found>, Error> {
        loop {
            if self.state == State::Start {
                let Some(&first) = buf.get(self.start) else {
                    return Ok(None);
                };
                self.pos = self.start;
                if first != b'*' {
                    return self.inline(buf);
                }
                match self.multibulk_header(buf)? {
                    None => return Ok(None),
                    Some(0) => {
                        self.start = self.pos;
                        continue;
                    }
                    Some(n) => {
                        self.state = State::Multibulk {
                            remaining: n,
                            bulk: None,
                        };
                        self.ranges.clear();
                    }
                }
            }
            return Ok(if self.bulks(buf)? {
                self.state = State::Start;
                Some(Found::Multibulk)
            } else {
                None
            });
        }
    }

    /// Finds the end of the line starting at `self.pos`: the first `stop` byte, with a
    /// NUL ending the search as C's `strchr` does. Returns its offset, or `None` with the
    /// search position saved.
    fn find(&mut self, buf: &[u8], stop: u8) -> Option<usize> {
        let from = self.scanned.max(self.pos);
        let hay = buf.get(from..).unwrap_or_default();
        match memchr::memchr2(stop, 0, hay) {
            Some(i) if hay[i] == stop => {
                self.examined += i as u64 + 1;
                self.scanned = 0;
                Some(from + i)
            }
            // Behind a NUL the terminator is never seen; stay put so the limit check
            // fires once enough bytes pile up.
            Some(i) => {
                self.examined += i as u64 + 1;
                self.scanned = from + i;
                None
            }
            None => {
                self.examined += hay.len() as u64;
                self.scanned = buf.len();
                None
            }
        }
    }

    /// The common case of a header, `<type><digits>\r` followed by one more byte, read
    /// without a search. Anything else goes the general way, which gives the same answer
    /// for these lines since digits are neither CR nor NUL.
    #[inline]
    fn quick_header(&mut self, buf: &[u8]) -> Option<usize> {
        // A NUL type byte ends `strchr`'s search before any CR: the general way waits.
        if self.scanned != 0 || buf.get(self.pos) == Some(&0) {
            return None;
        }
        let line = buf.get(self.pos + 1..)?;
        let mut i = usize::from(line.first() == Some(&b'-'));
        while i < line.len() && i < 21 && line[i].is_ascii_digit() {
            i += 1;
        }
        if i + 2 <= line.len() && line[i] == b'\r' {
            self.examined += i as u64 + 2;
            Some(self.pos + 1 + i)
        } else {
            None
        }
    }

    /// Finds the CR ending the `*`/`$` header at `self.pos`: `None` until its line is
    /// complete, `too_big` once more than the inline limit has come without one.
    fn header_end(
        &mut self,
        buf: &[u8],
        too_big: fn(usize) -> Error,
    ) -> Result<Option<usize>, Error> {
        if let Some(cr) = self.quick_header(buf) {
            return Ok(Some(cr));
        }
        let Some(cr) = self.find(buf, b'\r') else {
            if buf.len() - self.pos > self.limits.max_inline_len() {
                return Err(too_big(self.limits.max_inline_len()));
            }
            return Ok(None);
        };
        if cr + 2 > buf.len() {
            self.scanned = cr;
            return Ok(None);
        }
        Ok(Some(cr))
    }

    /// Reads `*<n>\r\n` at `self.pos`; returns `Some(0)` for a request to skip.
    fn multibulk_header(&mut self, buf: &[u8]) -> Result<Option<usize>, Error> {
        let start = self.pos;
        let Some(cr) = self.header_end(buf, |limit| Error::MultibulkCountTooBig { limit })? else {
            return Ok(None);
        };
        let n = string2ll(&buf[start + 1..cr])
            .filter(|&n| n <= i64::try_from(self.limits.max_multibulk_len()).unwrap_or(i64::MAX))
            .ok_or(Error::InvalidMultibulkLength { offset: 0 })?;
        if self.auth_required && n > self.limits.unauthenticated_max_multibulk_len() as i64 {
            return Err(Error::UnauthenticatedMultibulkLength { len: n });
        }
        self.pos = cr + 2;
        Ok(Some(n.max(0) as usize))
    }

    /// Reads bulks until the multibulk is complete; returns whether it is.
    fn bulks(&mut self, buf: &[u8]) -> Result<bool, Error> {
        let State::Multibulk {
            mut remaining,
            mut bulk,
        } = self.state
        else {
            return Ok(false);
        };
        let result = loop {
            if remaining == 0 {
                break Ok(true);
            }
            let len = match bulk {
                Some(len) => len,
                None => match self.bulk_header(buf) {
                    Ok(Some(len)) => len,
                    Ok(None) => break Ok(false),
                    Err(e) => break Err(e),
                },
            };
            let start = self.pos;
            if buf.len() - start < len.saturating_add(2) {
                bulk = Some(len);
                break Ok(false);
            }
            self.ranges.push((start, start + len));
            self.pos = start + len + 2;
            bulk = None;
            remaining -= 1;
        };
        self.state = State::Multibulk { remaining, bulk };
        result
    }

    /// Reads `$<len>\r\n` at `self.pos`.
    fn bulk_header(&mut self, buf: &[u8]) -> Result<Option<usize>, Error> {
        let start = self.pos;
        let Some(cr) = self.header_end(buf, |limit| Error::BulkCountTooBig { limit })? else {
            return Ok(None);
        };
        if buf[start] != b'$' {
            return Err(Error::ExpectedBulk { got: buf[start] });
        }
        let n = string2ll(&buf[start + 1..cr])
            .filter(|&n| n >= 0 && n as u64 <= self.limits.max_bulk_len() as u64)
            .ok_or(Error::InvalidBulkLength {
                offset: start - self.start,
            })?;
        if self.auth_required && n > self.limits.unauthenticated_max_bulk_len() as i64 {
            return Err(Error::UnauthenticatedBulkLength { len: n });
        }
        self.pos = cr + 2;
        Ok(Some(n as usize))
    }

    /// Finds the inline request at `self.pos`; on success `self.pos` is past its line
    /// feed.
    fn inline(&mut self, buf: &[u8]) -> Result<Option<Found>, Error> {
        let start = self.pos;
        let Some(lf) = self.find(buf, b'\n') else {
            if buf.len() - start > self.limits.max_inline_len() {
                return Err(Error::InlineTooBig {
                    limit: self.limits.max_inline_len(),
                });
            }
            return Ok(None);
        };
        let end = if lf > start && buf[lf - 1] == b'\r' {
            lf - 1
        } else {
            lf
        };
        self.pos = lf + 1;
        Ok(Some(Found::Inline { start, end }))
    }
}

/// A header's count or length at `b[i..]` when written plainly: 1 to 15 digits, no sign,
/// no leading zero (a lone `0` aside), then `\r` and one more byte (which Redis skips
/// unchecked). Returns it and the offset after the line; `None` for anything else, which
/// the general path then judges with `string2ll`. Calling `string2ll` here instead, with
/// its checked arithmetic over a found line, cost about 200 instructions per pipelined
/// request; the property tests hold both paths to the same answers.
#[inline]
fn plain_header(b: &[u8], i: usize) -> Option<(usize, usize)> {
    // One or two digits (argument counts, and most arguments' lengths) without the loop.
    match b.get(i..i + 4) {
        Some(&[d, b'\r', _, _]) if d.is_ascii_digit() => {
            return Some((usize::from(d - b'0'), i + 3));
        }
        Some(&[d1 @ b'1'..=b'9', d2 @ b'0'..=b'9', b'\r', _]) => {
            return Some((usize::from(d1 - b'0') * 10 + usize::from(d2 - b'0'), i + 4));
        }
        _ => {}
    }
    let digits = b.get(i..)?;
    let mut v = 0usize;
    let mut k = 0;
    while let Some(&d) = digits.get(k) {
        if !d.is_ascii_digit() {
            break;
        }
        v = v * 10 + usize::from(d - b'0');
        k += 1;
        if k > 15 {
            return None;
        }
    }
    let plain = k == 1 || (k > 1 && digits[0] != b'0');
    if plain && digits.get(k) == Some(&b'\r') && digits.len() > k + 1 {
        Some((v, i + k + 2))
    } else {
        None
    }
}

/// Where one argument of a [`RequestBatch`] lives.
#[derive(Debug, Clone, Copy)]
enum Span {
    /// A range of the batch's received bytes.
    Data(usize, usize),
    /// An inline argument rewritten by its quotes.
    Owned(usize),
}

/// The requests of one pipelined read, filled by [`RequestDecoder::decode_batch`].
///
/// Holds the received bytes once; each request's arguments are views into them. Reuse
/// one batch per connection so decoding allocates nothing once it has grown, and
/// [`clear`](RequestBatch::clear) it once the requests are executed: while it holds the
/// bytes, the read buffer cannot take back that memory and allocates anew when it grows.
#[derive(Debug, Clone, Default)]
pub struct RequestBatch {
    data: Bytes,
    args: Vec<Span>,
    commands: Vec<(usize, usize)>,
    owned: Vec<Bytes>,
}

impl RequestBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes of request data the batch holds on to (the requests' text, and arguments an
    /// inline request had to copy): what it costs in memory beyond its small index.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use redistill_resp::{RequestBatch, RequestDecoder};
    ///
    /// let mut batch = RequestBatch::new();
    /// let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"[..]);
    /// RequestDecoder::new().decode_batch(&mut buf, &mut batch).unwrap();
    /// assert_eq!(batch.byte_len(), 20);
    /// batch.clear();
    /// assert_eq!(batch.byte_len(), 0);
    /// ```
    pub fn byte_len(&self) -> usize {
        self.data.len() + self.owned.iter().map(Bytes::len).sum::<usize>()
    }

    /// Empties the batch, keeping its capacity.
    pub fn clear(&mut self) {
        self.data = Bytes::new();
        self.args.clear();
        self.commands.clear();
        self.owned.clear();
    }

    /// Number of requests.
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// Whether there are no requests.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// The `i`th request.
    pub fn get(&self, i: usize) -> Option<Request<'_>> {
        let &(first, end) = self.commands.get(i)?;
        Some(Request {
            batch: self,
            spans: self.args.get(first..end)?,
        })
    }

    /// The requests in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Request<'_>> + '_ {
        self.commands.iter().map(move |&(first, end)| Request {
            batch: self,
            spans: self.args.get(first..end).unwrap_or_default(),
        })
    }
}

/// One request of a [`RequestBatch`]: the command name and its arguments.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    batch: &'a RequestBatch,
    spans: &'a [Span],
}

impl<'a> Request<'a> {
    /// Number of arguments, the command name included (never zero).
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Always false: Redis skips empty requests, so a batch never holds one.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    fn slice(&self, span: Span) -> &'a [u8] {
        match span {
            Span::Data(s, e) => self.batch.data.get(s..e).unwrap_or_default(),
            Span::Owned(i) => self.batch.owned.get(i).map(|b| &b[..]).unwrap_or_default(),
        }
    }

    /// Argument `i` (0 is the command name) as bytes, without any copy or reference
    /// count.
    pub fn arg(&self, i: usize) -> Option<&'a [u8]> {
        self.spans.get(i).map(|&s| self.slice(s))
    }

    /// Argument `i` as a [`Bytes`] handle sharing the received buffer, for values that
    /// outlive the batch.
    pub fn bytes(&self, i: usize) -> Option<Bytes> {
        Some(match *self.spans.get(i)? {
            Span::Data(s, e) => self.batch.data.slice(s..e),
            Span::Owned(o) => self.batch.owned.get(o)?.clone(),
        })
    }

    /// The arguments in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + '_ {
        self.spans.iter().map(|&s| self.slice(s))
    }

    /// All arguments as [`Bytes`] handles.
    pub fn to_vec(&self) -> Vec<Bytes> {
        (0..self.len()).filter_map(|i| self.bytes(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes everything in `input`, returning the commands and the error, if any.
    fn all(input: &[u8], auth: bool) -> (Vec<Vec<Bytes>>, Option<Error>) {
        let single = all_single(input, auth);
        let mut d = RequestDecoder::new();
        d.set_auth_required(auth);
        let mut buf = BytesMut::from(input);
        let mut batch = RequestBatch::new();
        let result = d.decode_batch(&mut buf, &mut batch);
        let cmds: Vec<Vec<Bytes>> = batch.iter().map(|r| r.to_vec()).collect();
        assert_eq!(
            (cmds, result.err()),
            single,
            "batch and single disagree on {input:?}"
        );
        single
    }

    fn all_single(input: &[u8], auth: bool) -> (Vec<Vec<Bytes>>, Option<Error>) {
        let mut d = RequestDecoder::new();
        d.set_auth_required(auth);
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        let mut args = Vec::new();
        loop {
            match d.decode_into(&mut buf, &mut args) {
                Ok(true) => out.push(args.clone()),
                Ok(false) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    fn cmds(input: &[u8]) -> Vec<Vec<Bytes>> {
        let (c, e) = all(input, false);
        assert_eq!(e, None, "{input:?}");
        c
    }

    fn err(input: &[u8]) -> Error {
        all(input, false).1.unwrap()
    }

    fn ping() -> Vec<Bytes> {
        vec![Bytes::from_static(b"PING")]
    }

    // Every case below was sent to redis-server 7.0.15 over a socket; the comment on
    // each error gives its reply.
    #[test]
    fn multibulk_errors_match_redis() {
        use Error::*;
        // -ERR Protocol error: invalid multibulk length
        for input in [
            &b"*3000000000\r\n"[..],
            b"*2147483648\r\n",
            b"*-0\r\n",
            b"*+1\r\n",
            b"*01\r\n",
            b"*\r\n",
            b"*a\r\n",
            b"*1                    \r\n",
        ] {
            assert_eq!(
                err(input),
                InvalidMultibulkLength { offset: 0 },
                "{input:?}"
            );
        }
        // -ERR Protocol error: invalid bulk length
        for input in [
            &b"*1\r\n$+4\r\n"[..],
            b"*1\r\n$-1\r\n",
            b"*1\r\n$04\r\n",
            b"*1\r\n$536870913\r\n",
            b"*1\r\n$a\r\n",
            b"*1\r\n$\r\n",
        ] {
            assert_eq!(err(input), InvalidBulkLength { offset: 4 }, "{input:?}");
        }
        // -ERR Protocol error: expected '$', got 'f'
        assert_eq!(err(b"*1\r\nfoo\r\n"), ExpectedBulk { got: b'f' });
        // -ERR Protocol error: expected '$', got ' '
        let e = err(b"*1\r\n\r\n");
        assert_eq!(e.to_string(), "Protocol error: expected '$', got ' '");
        assert_eq!(err(b"*1\r\n\n\r\n"), ExpectedBulk { got: b'\n' });
        // -ERR Protocol error: expected '$', got '\x80' (the raw byte)
        let mut reply = Vec::new();
        err(b"*1\r\n\x80\r\n").write_reply(&mut reply);
        assert_eq!(reply, b"-ERR Protocol error: expected '$', got '\x80'\r\n");
        // Redis's own test suite: wrong multibulk payload header.
        assert_eq!(
            err(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"),
            ExpectedBulk { got: b'f' }
        );
        // -ERR Protocol error: too big bulk count string
        let mut big = b"*1\r\n".to_vec();
        big.extend_from_slice(&[b'$'; 70000]);
        assert_eq!(err(&big), BulkCountTooBig { limit: 65536 });
        // -ERR Protocol error: too big mbulk count string
        let mut big = b"*".to_vec();
        big.extend_from_slice(&[b'1'; 70000]);
        assert_eq!(err(&big), MultibulkCountTooBig { limit: 65536 });
    }

    #[test]
    fn limits_before_authentication_match_redis() {
        // With requirepass set: -ERR Protocol error: unauthenticated multibulk length
        assert_eq!(
            all(b"*11\r\n", true).1,
            Some(Error::UnauthenticatedMultibulkLength { len: 11 })
        );
        assert_eq!(all(b"*10\r\n", true).1, None);
        // -ERR Protocol error: unauthenticated bulk length
        assert_eq!(
            all(b"*1\r\n$16385\r\n", true).1,
            Some(Error::UnauthenticatedBulkLength { len: 16385 })
        );
        assert_eq!(all(b"*1\r\n$16384\r\n", true).1, None);
        assert_eq!(
            all(b"*2147483648\r\n", true).1,
            Some(Error::InvalidMultibulkLength { offset: 0 })
        );
        assert_eq!(all(b"*11\r\n", false).1, None);
    }

    #[test]
    fn quirks_match_redis() {
        // Each answered +PONG (or nothing) on redis-server 7.0.15.
        assert_eq!(cmds(b"*-10\r\nPING\r\n"), [ping()]);
        assert_eq!(cmds(b"*0\r\nPING\r\n"), [ping()]);
        assert_eq!(cmds(b"*-1\r\n"), Vec::<Vec<Bytes>>::new());
        assert_eq!(cmds(b"*1\r\n$4\r\nPINGxx"), [ping()]);
        assert_eq!(cmds(b"*1\r\n$4\r\nPINGxxPING\r\n"), [ping(), ping()]);
        assert_eq!(cmds(b"*1\rX$4\r\nPING\r\n"), [ping()]);
        assert_eq!(cmds(b"*1\r\n$4\rXPING\r\n"), [ping()]);
        assert_eq!(cmds(b"\r\nPING\r\n"), [ping()]);
        assert_eq!(cmds(b"\nPING\n"), [ping()]);
        assert_eq!(cmds(b"  \r\nPING\r\n"), [ping()]);
        // A NUL before the line end leaves the request waiting, as in Redis.
        assert_eq!(cmds(b"*1\x00\r\n"), Vec::<Vec<Bytes>>::new());
        assert_eq!(cmds(b"ECHO a\x00b\r\n"), Vec::<Vec<Bytes>>::new());
        // So does a NUL where a bulk header's `$` belongs, whole or a byte at a time (the
        // quick header read once took it for a header and answered "expected '$'").
        assert_eq!(all(b"*1\r*\x00\r*", false), (vec![], None));
        assert_eq!(all(b"*1\r\n\x00\r\n", false), (vec![], None));
        // Near the limits: still waiting, not an error.
        assert_eq!(all(b"*2147483647\r\n", false).1, None);
        assert_eq!(all(b"*1\r\n$536870912\r\n", false).1, None);
    }

    #[test]
    fn inline_matches_redis() {
        let c = cmds(b"SET \"a\\x41\" b\r\nGET aA\r\n");
        assert_eq!(c, [vec!["SET", "aA", "b"], vec!["GET", "aA"]]);
        assert_eq!(err(b"PING \"a\"b\r\n"), Error::UnbalancedQuotes);
        assert_eq!(err(b"PING 'a'b\r\n"), Error::UnbalancedQuotes);
        assert_eq!(err(b"PING \"ab\r\n"), Error::UnbalancedQuotes);
        // A long line is fine once its line feed is buffered...
        let mut long = b"ECHO ".to_vec();
        long.extend_from_slice(&[b'A'; 70000]);
        long.extend_from_slice(b"\r\n");
        assert_eq!(cmds(&long)[0][1].len(), 70000);
        // ...but over 64 KB without one is refused: -ERR Protocol error: too big inline request
        assert_eq!(err(&[b'A'; 70000]), Error::InlineTooBig { limit: 65536 });
        assert_eq!(all(&[b'A'; 65536], false).1, None);
    }

    #[test]
    fn arguments_are_slices_of_the_buffer() {
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"[..]);
        let base = buf.as_ptr() as usize;
        let args = RequestDecoder::new().decode(&mut buf).unwrap().unwrap();
        assert_eq!(args[0].as_ptr() as usize, base + 8);
        assert_eq!(args[1].as_ptr() as usize, base + 17);
    }

    #[test]
    fn auth_takes_effect_before_the_next_request_is_parsed() {
        let mut d = RequestDecoder::new();
        d.set_auth_required(true);
        let mut buf = BytesMut::from(&b"AUTH pw\r\n*11\r\n"[..]);
        let mut batch = RequestBatch::new();
        assert_eq!(d.decode_batch(&mut buf, &mut batch), Ok(1));
        assert_eq!(batch.get(0).unwrap().arg(0), Some(&b"AUTH"[..]));
        d.set_auth_required(false);
        assert_eq!(d.decode_batch(&mut buf, &mut batch), Ok(0));
        assert_eq!(&buf[..], b"*11\r\n");
    }

    #[test]
    fn error_offsets_are_relative_to_the_request() {
        // Found by fuzzing: batch and single decoding once disagreed on this offset.
        assert_eq!(
            err(b"PING\r\n*1\r\n$a\r\n"),
            Error::InvalidBulkLength { offset: 4 }
        );
    }

    #[test]
    fn many_blank_lines_do_not_recurse() {
        let mut input = vec![b'\n'; 1 << 20];
        input.extend_from_slice(b"PING\r\n");
        assert_eq!(cmds(&input), [ping()]);
    }

    #[test]
    fn batch_keeps_requests_before_an_error() {
        let mut d = RequestDecoder::new();
        let mut buf = BytesMut::from(&b"PING\r\n*1\r\n$4\r\nPING\r\n*1\r\nfoo\r\n"[..]);
        let mut batch = RequestBatch::new();
        assert_eq!(
            d.decode_batch(&mut buf, &mut batch),
            Err(Error::ExpectedBulk { got: b'f' })
        );
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.get(1).unwrap().arg(0), Some(&b"PING"[..]));
    }

    #[test]
    fn resumes_without_rescanning() {
        let mut d = RequestDecoder::new();
        let mut buf = BytesMut::new();
        let mut args = Vec::new();
        let header = b"*2\r\n$3\r\nSET\r\n$1000000\r\n";
        for &b in header {
            buf.extend_from_slice(&[b]);
            assert!(!d.decode_into(&mut buf, &mut args).unwrap());
        }
        let after_header = d.bytes_examined();
        assert!(after_header <= header.len() as u64);
        for _ in 0..10000 {
            buf.extend_from_slice(&[b'v'; 100]);
            assert!(!d.decode_into(&mut buf, &mut args).unwrap());
        }
        buf.extend_from_slice(b"\r\n");
        assert!(d.decode_into(&mut buf, &mut args).unwrap());
        assert_eq!(args[1].len(), 1_000_000);
        // The megabyte of payload, delivered in 10 000 reads, cost no examination at all.
        assert_eq!(d.bytes_examined(), after_header);
    }
}
