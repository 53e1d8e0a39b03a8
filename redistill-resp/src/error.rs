//! The codec's error type.
//!
//! Request errors carry Redis 7's exact text as their `Display`. Redis answers each with
//! `-ERR <text>\r\n` and then closes the connection; [`Error::write_reply`] writes that
//! reply byte for byte.

use bytes::BufMut;
use std::fmt;

/// Everything that can go wrong while decoding.
///
/// The variants from `InvalidMultibulkLength` to `UnauthenticatedBulkLength` are the ones
/// Redis itself reports for client requests; the rest come from the general frame decoder,
/// which also reads replies and RESP3 types Redis never accepts as requests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The count after `*` is not a Redis integer, or exceeds the multibulk limit.
    ///
    /// Redis 7.0 replies `-ERR Protocol error: invalid multibulk length` (e.g. for `*a`,
    /// `*+1`, `*01`, `*-0`, `*2147483648`).
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength {
        /// Byte offset of the header within the frame being decoded.
        offset: usize,
    },
    /// The length after `$` is not a Redis integer, is negative, or exceeds the bulk limit.
    ///
    /// Redis 7.0 replies `-ERR Protocol error: invalid bulk length` (e.g. for `$+4`, `$04`,
    /// `$-1` inside a request, `$536870913`).
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength {
        /// Byte offset of the header within the frame being decoded.
        offset: usize,
    },
    /// A request element did not start with `$`.
    ///
    /// Redis 7.0 replies `-ERR Protocol error: expected '$', got 'f'`, with CR and LF shown
    /// as a space and any other byte sent raw.
    #[error("Protocol error: expected '$', got '{}'", ShownByte(*got))]
    ExpectedBulk {
        /// The byte found instead.
        got: u8,
    },
    /// An inline request has a quote that is not closed, or a closing quote that is not
    /// followed by a space or the end of the line.
    ///
    /// Redis 7.0 replies `-ERR Protocol error: unbalanced quotes in request`.
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// More than the inline limit buffered without a line feed.
    ///
    /// Redis 7.0 replies `-ERR Protocol error: too big inline request`.
    #[error("Protocol error: too big inline request")]
    InlineTooBig {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// More than the inline limit buffered after `*` without a carriage return.
    ///
    /// Redis 7.0 replies `-ERR Protocol error: too big mbulk count string`.
    #[error("Protocol error: too big mbulk count string")]
    MultibulkCountTooBig {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// More than the inline limit buffered after a bulk header start without a carriage
    /// return.
    ///
    /// Redis 7.0 replies `-ERR Protocol error: too big bulk count string`.
    #[error("Protocol error: too big bulk count string")]
    BulkCountTooBig {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// A client that has not authenticated sent more arguments than allowed (10 by default).
    ///
    /// Redis 7.0 replies `-ERR Protocol error: unauthenticated multibulk length`.
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength {
        /// The announced count.
        len: i64,
    },
    /// A client that has not authenticated announced a bulk longer than allowed
    /// (16384 bytes by default).
    ///
    /// Redis 7.0 replies `-ERR Protocol error: unauthenticated bulk length`.
    #[error("Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength {
        /// The announced length.
        len: i64,
    },
    /// A frame started with a byte that is no RESP2 or RESP3 type.
    #[error("Protocol error: invalid type byte '{}'", ShownByte(*byte))]
    InvalidTypeByte {
        /// The byte found.
        byte: u8,
        /// Its offset within the frame being decoded.
        offset: usize,
    },
    /// A map, set, push or attribute count is malformed or over the limit.
    #[error("Protocol error: invalid aggregate length")]
    InvalidAggregateLength {
        /// Byte offset of the header within the frame being decoded.
        offset: usize,
    },
    /// An integer frame (`:`) is not a decimal `i64`.
    #[error("Protocol error: invalid integer")]
    InvalidInteger {
        /// Byte offset of the frame.
        offset: usize,
    },
    /// A double frame (`,`) is not a number, `inf`, `-inf` or `nan`.
    #[error("Protocol error: invalid double")]
    InvalidDouble {
        /// Byte offset of the frame.
        offset: usize,
    },
    /// A boolean frame is neither `#t` nor `#f`.
    #[error("Protocol error: invalid boolean")]
    InvalidBoolean {
        /// Byte offset of the frame.
        offset: usize,
    },
    /// A null frame has content after `_`.
    #[error("Protocol error: invalid null")]
    InvalidNull {
        /// Byte offset of the frame.
        offset: usize,
    },
    /// A big number frame (`(`) is not an optionally signed run of digits.
    #[error("Protocol error: invalid big number")]
    InvalidBigNumber {
        /// Byte offset of the frame.
        offset: usize,
    },
    /// A verbatim string is shorter than four bytes or lacks the `:` after its format.
    #[error("Protocol error: invalid verbatim string")]
    InvalidVerbatim {
        /// Byte offset of the frame.
        offset: usize,
    },
    /// A line or a bulk payload was not terminated by `\r\n`.
    #[error("Protocol error: expected CRLF")]
    ExpectedCrlf {
        /// Offset where `\r\n` was expected.
        offset: usize,
    },
    /// Aggregates are nested deeper than the configured limit.
    #[error("Protocol error: nesting deeper than {limit} levels")]
    TooDeep {
        /// The configured limit.
        limit: usize,
    },
    /// A streamed RESP3 string or aggregate (`$?`, `*?`, `%?`, `~?`, `;`, `.`): this
    /// codec rejects them rather than guess; Redis itself never sends them.
    #[error("Protocol error: streamed RESP3 frames are not supported")]
    StreamedUnsupported {
        /// Byte offset of the frame.
        offset: usize,
    },
}

/// Shows a byte the way Redis's error sanitiser does, escaping what is not printable.
struct ShownByte(u8);

impl fmt::Display for ShownByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b'\r' | b'\n' => f.write_str(" "),
            b if b.is_ascii_graphic() || b == b' ' => write!(f, "{}", char::from(b)),
            b => write!(f, "\\x{b:02x}"),
        }
    }
}

impl Error {
    /// Writes the reply Redis sends for this error, `-ERR <text>\r\n`.
    ///
    /// For [`Error::ExpectedBulk`] the offending byte is written raw, as Redis does, so
    /// the reply matches Redis byte for byte even for non-ASCII bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_resp::Error;
    ///
    /// let mut out = Vec::new();
    /// Error::ExpectedBulk { got: b'f' }.write_reply(&mut out);
    /// assert_eq!(out, b"-ERR Protocol error: expected '$', got 'f'\r\n");
    /// ```
    pub fn write_reply(&self, buf: &mut impl BufMut) {
        buf.put_slice(b"-ERR ");
        match *self {
            Error::ExpectedBulk { got } => {
                buf.put_slice(b"Protocol error: expected '$', got '");
                buf.put_u8(if got == b'\r' || got == b'\n' {
                    b' '
                } else {
                    got
                });
                buf.put_slice(b"'");
            }
            _ => buf.put_slice(self.to_string().as_bytes()),
        }
        buf.put_slice(b"\r\n");
    }
}
