//! RESP2/RESP3 codec for Redis-compatible clients, servers, proxies and tools.
//!
//! Sans-IO: it decodes from [`Bytes`](bytes::Bytes) or a connection's
//! [`BytesMut`](bytes::BytesMut) read buffer and encodes into any
//! [`BufMut`](bytes::BufMut), so it fits any I/O model, blocking or not.
//!
//! - [`Frame`]: every RESP2 and RESP3 type, with the two RESP2 nulls kept apart so frames
//!   re-encode to the bytes they came from.
//! - [`decode()`] and the resumable [`Decoder`]: general frames, zero-copy (bulk payloads
//!   are slices of the input), linear-time however the input is split into reads.
//! - [`RequestDecoder`]: the server's fast path. Client commands, RESP arrays or inline
//!   lines, go straight into argument lists with Redis 7.0's exact rules and error texts
//!   ([`Error`]): a whole pipelined read at once into a reusable [`RequestBatch`], or one
//!   command at a time into a `Vec<Bytes>`.
//! - [`encode`]: [`Frame::encode`] for either [`Version`], plus allocation-free writers for
//!   the hot replies and the RESP2 forms Redis uses for RESP3-only types.
//! - [`split_args`]: Redis's `sdssplitargs` quoting rules, for inline commands and REPLs.
//! - [`cli`]: formats replies the way `redis-cli` prints them.
//! - [`Limits`]: Redis's defaults (512 MB bulks, 64 KB inline), each configurable.
//! - `TryFrom<Frame>` for `i64`, `u64`, `f64`, `bool`, `String`, `Bytes`, `Vec<u8>`,
//!   `Option<T>`, `Vec<T>` and `HashMap<K, V>` (from RESP3 maps and RESP2 flat arrays),
//!   with a [`FromFrameError`] that says what was expected and what came.
//! - `codec` (feature `tokio`, off by default): `tokio_util::codec` decoders and encoders
//!   for requests and frames, over the same incremental decoders.
//!
//! # Examples
//!
//! A server loop: decode pipelined requests, write replies into one buffer.
//!
//! ```
//! use bytes::BytesMut;
//! use redistill_resp::{encode, RequestBatch, RequestDecoder};
//!
//! let mut decoder = RequestDecoder::new();
//! let mut batch = RequestBatch::new();
//! let mut read_buf = BytesMut::from(&b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\n"[..]);
//! let mut write_buf = Vec::new();
//! decoder.decode_batch(&mut read_buf, &mut batch)?;
//! for request in batch.iter() {
//!     match request.arg(0) {
//!         Some(b"SET") => encode::write_ok(&mut write_buf),
//!         Some(b"GET") => encode::write_bulk(&mut write_buf, b"v"),
//!         _ => encode::write_error(&mut write_buf, b"ERR unknown command"),
//!     }
//! }
//! assert_eq!(write_buf, b"+OK\r\n$1\r\nv\r\n");
//! # Ok::<(), redistill_resp::Error>(())
//! ```
//!
//! A client: decode RESP3 replies as they arrive.
//!
//! ```
//! use bytes::BytesMut;
//! use redistill_resp::{Decoder, Frame};
//!
//! let mut decoder = Decoder::new();
//! let mut buf = BytesMut::from(&b"%1\r\n+server\r\n+redis\r\n,3.25\r\n"[..]);
//! let hello = decoder.decode(&mut buf)?.unwrap();
//! assert_eq!(hello, Frame::Map(vec![(Frame::simple("server"), Frame::simple("redis"))]));
//! assert_eq!(decoder.decode(&mut buf)?, Some(Frame::Double(3.25)));
//! # Ok::<(), redistill_resp::Error>(())
//! ```

#[cfg(feature = "proptest")]
pub mod arbitrary;
pub mod cli;
#[cfg(feature = "tokio")]
pub mod codec;
mod convert;
pub mod decode;
pub mod encode;
mod error;
mod frame;
mod inline;
mod limits;
mod number;
pub mod request;

pub use convert::FromFrameError;
pub use decode::{Decoder, decode, decode_with};
pub use error::Error;
pub use frame::{Frame, Version};
pub use inline::{split_args, split_args_bytes};
pub use limits::Limits;
pub use request::{Request, RequestBatch, RequestDecoder};

/// Compiles and runs the README's examples as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Parses an integer exactly as Redis's `string2ll` does: an optional `-`, digits, no
/// leading zeros, no `+`, no spaces, within `i64`. Servers use it for numeric arguments so
/// they accept and refuse what Redis does.
///
/// ```
/// use redistill_resp::parse_integer;
/// assert_eq!(parse_integer(b"-42"), Some(-42));
/// assert_eq!(parse_integer(b"042"), None);
/// assert_eq!(parse_integer(b"+1"), None);
/// assert_eq!(parse_integer(b"9223372036854775808"), None);
/// ```
pub fn parse_integer(s: &[u8]) -> Option<i64> {
    number::string2ll(s)
}

/// A double's text as Redis 7.0 writes it in replies: C's `%.17g`, with `inf`, `-inf` and
/// `nan` for the specials. Servers use it where Redis hashes or stores that text (DEBUG
/// DIGEST's scores).
///
/// ```
/// use redistill_resp::double_text;
/// assert_eq!(double_text(1.5), "1.5");
/// assert_eq!(double_text(0.1), "0.10000000000000001");
/// assert_eq!(double_text(f64::NEG_INFINITY), "-inf");
/// ```
#[must_use]
pub fn double_text(d: f64) -> String {
    String::from_utf8_lossy(number::format_double(d).as_bytes()).into_owned()
}
