//! The RESP2/RESP3 value model.

use bytes::Bytes;

/// Which protocol a connection speaks; selects how RESP3-only types are encoded.
///
/// Redis starts every connection in RESP2 and switches with `HELLO 3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Version {
    /// RESP2: RESP3-only types are sent in the RESP2 forms Redis uses for them.
    #[default]
    Resp2,
    /// RESP3: every type is sent in its own form.
    Resp3,
}

/// One RESP2 or RESP3 value.
///
/// String payloads are [`Bytes`]; decoded frames share the input buffer instead of
/// copying it. The two RESP2 nulls stay apart (`$-1` is [`Frame::NullBulkString`], `*-1`
/// is [`Frame::NullArray`]) so a decoded frame re-encodes to the same bytes.
///
/// Equality is structural, with `f64`'s rules for doubles: a `nan` is not equal to itself.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use redistill_resp::{Frame, Version};
///
/// let frame = Frame::Array(vec![
///     Frame::BulkString(Bytes::from_static(b"GET")),
///     Frame::BulkString(Bytes::from_static(b"key")),
/// ]);
/// let mut out = Vec::new();
/// frame.encode(Version::Resp2, &mut out);
/// assert_eq!(out, b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+OK\r\n`: a line without CR or LF.
    SimpleString(Bytes),
    /// `-ERR message\r\n`: the text after `-`, error code included.
    SimpleError(Bytes),
    /// `:42\r\n`.
    Integer(i64),
    /// `$5\r\nhello\r\n`: binary-safe.
    BulkString(Bytes),
    /// RESP2's null bulk string, `$-1\r\n`.
    NullBulkString,
    /// `*2\r\n...`.
    Array(Vec<Frame>),
    /// RESP2's null array, `*-1\r\n`.
    NullArray,
    /// RESP3's null, `_\r\n`.
    Null,
    /// RESP3 `#t\r\n` / `#f\r\n`.
    Boolean(bool),
    /// RESP3 `,1.5\r\n`, including `inf`, `-inf` and `nan`.
    Double(f64),
    /// RESP3 `(3492890328409238509324850943850943825024385\r\n`: the digits, optional `-`.
    BigNumber(Bytes),
    /// RESP3 `!21\r\nSYNTAX invalid syntax\r\n`: a binary-safe error.
    BulkError(Bytes),
    /// RESP3 `=15\r\ntxt:Some string\r\n`.
    VerbatimString {
        /// The three-byte format, such as `txt` or `mkd`.
        format: [u8; 3],
        /// The text after `format:`.
        text: Bytes,
    },
    /// RESP3 `%1\r\n+key\r\n:1\r\n`: pairs in wire order.
    Map(Vec<(Frame, Frame)>),
    /// RESP3 `~2\r\n...`.
    Set(Vec<Frame>),
    /// RESP3 `|1\r\n...`: out-of-band attributes and the value they describe.
    ///
    /// On the wire the attribute map comes first and the value follows it; the value is
    /// what counts as an element of an enclosing aggregate.
    Attribute {
        /// The attribute pairs.
        attributes: Vec<(Frame, Frame)>,
        /// The value that follows them.
        value: Box<Frame>,
    },
    /// RESP3 `>3\r\n...`: out-of-band data such as pub/sub messages.
    Push(Vec<Frame>),
}

impl Frame {
    /// A bulk string from anything that converts into [`Bytes`].
    ///
    /// ```
    /// use redistill_resp::Frame;
    /// assert_eq!(Frame::bulk("hi"), Frame::BulkString("hi".into()));
    /// ```
    pub fn bulk(b: impl Into<Bytes>) -> Frame {
        Frame::BulkString(b.into())
    }

    /// A simple string from anything that converts into [`Bytes`].
    ///
    /// ```
    /// use redistill_resp::Frame;
    /// assert_eq!(Frame::simple("OK"), Frame::SimpleString("OK".into()));
    /// ```
    pub fn simple(b: impl Into<Bytes>) -> Frame {
        Frame::SimpleString(b.into())
    }

    /// Whether this is any of the three nulls.
    ///
    /// ```
    /// use redistill_resp::Frame;
    /// assert!(Frame::NullBulkString.is_null() && Frame::NullArray.is_null());
    /// assert!(!Frame::Integer(0).is_null());
    /// ```
    pub fn is_null(&self) -> bool {
        matches!(self, Frame::Null | Frame::NullBulkString | Frame::NullArray)
    }

    /// Whether this is a simple or bulk error.
    ///
    /// ```
    /// use redistill_resp::Frame;
    /// assert!(Frame::SimpleError("ERR x".into()).is_error());
    /// ```
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::SimpleError(_) | Frame::BulkError(_))
    }

    /// The payload of a simple string, bulk string, verbatim string or big number.
    ///
    /// ```
    /// use redistill_resp::Frame;
    /// assert_eq!(Frame::bulk("v").as_bytes(), Some(&b"v"[..]));
    /// assert_eq!(Frame::Integer(1).as_bytes(), None);
    /// ```
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Frame::SimpleString(b) | Frame::BulkString(b) | Frame::BigNumber(b) => Some(b),
            Frame::VerbatimString { text, .. } => Some(text),
            _ => None,
        }
    }
}
