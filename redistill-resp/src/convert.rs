//! Conversions from [`Frame`]s to Rust values, for clients and tools.
//!
//! Every conversion is a `TryFrom<Frame>` whose error, [`FromFrameError`], says what was
//! expected and what came, so a tool can write `let n: i64 = frame.try_into()?`.
//!
//! | target | accepted frames |
//! | --- | --- |
//! | `i64`, `u64` | integer; simple, bulk or verbatim string or big number holding a Redis integer |
//! | `f64` | double, integer; a string holding a number, `inf`, `-inf` or `nan` |
//! | `bool` | boolean; integer `0` or `1` (RESP2's form of a boolean) |
//! | `String` | simple, bulk or verbatim string, big number (valid UTF-8); integer, double |
//! | `Bytes`, `Vec<u8>` | simple, bulk or verbatim string, big number |
//! | `Option<T>` | any null as `None`, anything else as `T` |
//! | `Vec<T>` | array, set or push, element by element |
//! | `HashMap<K, V>` | RESP3 map; array, set or push of key, value, key, value... (RESP2) |
//!
//! An error reply (simple or bulk) converts to nothing but a [`FromFrameError::Server`]
//! holding its text, and an attribute converts as the value it describes.

use crate::frame::Frame;
use crate::number::{parse_double, string2ll};
use bytes::Bytes;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

/// Why a [`Frame`] did not convert to the Rust type asked for.
///
/// # Examples
///
/// ```
/// use redistill_resp::{Frame, FromFrameError};
///
/// let err = i64::try_from(Frame::bulk("twelve")).unwrap_err();
/// assert_eq!(err.to_string(), "expected an integer, got the bulk string \"twelve\"");
///
/// let err = i64::try_from(Frame::SimpleError("WRONGTYPE Operation".into())).unwrap_err();
/// assert_eq!(err, FromFrameError::Server("WRONGTYPE Operation".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FromFrameError {
    /// The frame's type cannot hold the value asked for.
    #[error("expected {expected}, got {got}")]
    UnexpectedType {
        /// What the conversion needs, such as `"an integer"`.
        expected: &'static str,
        /// The frame's type, such as `"a bulk string"` or `"a null"`.
        got: &'static str,
    },
    /// The frame has a usable type but its content does not parse as the value asked for.
    #[error("expected {expected}, got the {kind} {text:?}")]
    InvalidValue {
        /// What the conversion needs.
        expected: &'static str,
        /// The frame's type, without its article: `"bulk string"`.
        kind: &'static str,
        /// The frame's content, lossily decoded as UTF-8.
        text: String,
    },
    /// A map came as a flat RESP2 array with an odd number of elements.
    #[error("expected a map, got {got} of {len} elements (an odd count)")]
    OddPairs {
        /// The frame's type.
        got: &'static str,
        /// How many elements it has.
        len: usize,
    },
    /// The element at `index` of an aggregate did not convert.
    #[error("element {index}: {source}")]
    Element {
        /// Its position in the aggregate (for a map, the position of the key or value in
        /// the flat list of pairs).
        index: usize,
        /// Why it did not convert.
        source: Box<FromFrameError>,
    },
    /// The server replied with an error: its text, code included.
    #[error("server error: {0}")]
    Server(String),
}

impl FromFrameError {
    fn unexpected(expected: &'static str, frame: &Frame) -> Self {
        if let Some(text) = error_text(frame) {
            return FromFrameError::Server(text);
        }
        FromFrameError::UnexpectedType {
            expected,
            got: type_name(frame),
        }
    }

    fn invalid(expected: &'static str, frame: &Frame, text: &[u8]) -> Self {
        let kind = type_name(frame);
        let kind = kind
            .strip_prefix("a ")
            .or_else(|| kind.strip_prefix("an "))
            .unwrap_or(kind);
        FromFrameError::InvalidValue {
            expected,
            kind,
            text: String::from_utf8_lossy(text).into_owned(),
        }
    }

    fn element(index: usize, source: FromFrameError) -> Self {
        FromFrameError::Element {
            index,
            source: Box::new(source),
        }
    }
}

/// The frame's type as the errors name it, with its article.
fn type_name(frame: &Frame) -> &'static str {
    match frame {
        Frame::SimpleString(_) => "a simple string",
        Frame::SimpleError(_) => "a simple error",
        Frame::Integer(_) => "an integer",
        Frame::BulkString(_) => "a bulk string",
        Frame::NullBulkString | Frame::NullArray | Frame::Null => "a null",
        Frame::Array(_) => "an array",
        Frame::Boolean(_) => "a boolean",
        Frame::Double(_) => "a double",
        Frame::BigNumber(_) => "a big number",
        Frame::BulkError(_) => "a bulk error",
        Frame::VerbatimString { .. } => "a verbatim string",
        Frame::Map(_) => "a map",
        Frame::Set(_) => "a set",
        Frame::Attribute { .. } => "an attribute",
        Frame::Push(_) => "a push",
    }
}

fn error_text(frame: &Frame) -> Option<String> {
    match frame {
        Frame::SimpleError(e) | Frame::BulkError(e) => {
            Some(String::from_utf8_lossy(e).into_owned())
        }
        _ => None,
    }
}

/// An attribute stands for the value it describes.
fn unwrap_attribute(frame: Frame) -> Frame {
    match frame {
        Frame::Attribute { value, .. } => unwrap_attribute(*value),
        other => other,
    }
}

/// The payload of a string-like frame: simple, bulk, verbatim string or big number.
fn string_payload(frame: &Frame) -> Option<&Bytes> {
    match frame {
        Frame::SimpleString(b) | Frame::BulkString(b) | Frame::BigNumber(b) => Some(b),
        Frame::VerbatimString { text, .. } => Some(text),
        _ => None,
    }
}

const INTEGER: &str = "an integer";
const UNSIGNED: &str = "a non-negative integer";
const DOUBLE: &str = "a number";
const BOOLEAN: &str = "a boolean";
const STRING: &str = "a string";
const UTF8: &str = "a UTF-8 string";
const ARRAY: &str = "an array";
const MAP: &str = "a map";

impl TryFrom<Frame> for i64 {
    type Error = FromFrameError;

    /// An integer frame, or a string holding a Redis integer (as `GET` returns a counter).
    ///
    /// ```
    /// use redistill_resp::Frame;
    /// let n: i64 = Frame::Integer(-3).try_into()?;
    /// assert_eq!(n, -3);
    /// assert_eq!(i64::try_from(Frame::bulk("42"))?, 42);
    /// assert!(i64::try_from(Frame::Null).is_err());
    /// # Ok::<(), redistill_resp::FromFrameError>(())
    /// ```
    fn try_from(frame: Frame) -> Result<Self, Self::Error> {
        let frame = unwrap_attribute(frame);
        if let Frame::Integer(n) = frame {
            return Ok(n);
        }
        match string_payload(&frame) {
            Some(s) => string2ll(s).ok_or_else(|| FromFrameError::invalid(INTEGER, &frame, s)),
            None => Err(FromFrameError::unexpected(INTEGER, &frame)),
        }
    }
}

impl TryFrom<Frame> for u64 {
    type Error = FromFrameError;

    /// Like `i64`'s conversion, refusing negative values; big numbers up to `u64::MAX`.
    ///
    /// ```
    /// use redistill_resp::Frame;
    /// assert_eq!(u64::try_from(Frame::BigNumber("18446744073709551615".into()))?, u64::MAX);
    /// assert!(u64::try_from(Frame::Integer(-1)).is_err());
    /// # Ok::<(), redistill_resp::FromFrameError>(())
    /// ```
    fn try_from(frame: Frame) -> Result<Self, Self::Error> {
        let frame = unwrap_attribute(frame);
        if let Frame::Integer(n) = frame {
            return u64::try_from(n)
                .map_err(|_| FromFrameError::invalid(UNSIGNED, &frame, n.to_string().as_bytes()));
        }
        match string_payload(&frame) {
            Some(s) => std::str::from_utf8(s)
                .ok()
                .filter(|t| {
                    t.bytes().all(|b| b.is_ascii_digit()) && (t == &"0" || !t.starts_with('0'))
                })
                .and_then(|t| t.parse::<u64>().ok())
                .ok_or_else(|| FromFrameError::invalid(UNSIGNED, &frame, s)),
            None => Err(FromFrameError::unexpected(UNSIGNED, &frame)),
        }
    }
}

impl TryFrom<Frame> for f64 {
    type Error = FromFrameError;

    /// A double or integer frame, or a string holding a number (as RESP2 sends scores).
    ///
    /// ```
    /// use redistill_resp::Frame;
    /// assert_eq!(f64::try_from(Frame::Double(1.5))?, 1.5);
    /// assert_eq!(f64::try_from(Frame::bulk("-inf"))?, f64::NEG_INFINITY);
    /// assert_eq!(f64::try_from(Frame::Integer(2))?, 2.0);
    /// # Ok::<(), redistill_resp::FromFrameError>(())
    /// ```
    fn try_from(frame: Frame) -> Result<Self, Self::Error> {
        let frame = unwrap_attribute(frame);
        match frame {
            Frame::Double(d) => return Ok(d),
            #[allow(clippy::cast_precision_loss)] // as Redis itself reads an integer as a double
            Frame::Integer(n) => return Ok(n as f64),
            _ => {}
        }
        match string_payload(&frame) {
            Some(s) => parse_double(s).ok_or_else(|| FromFrameError::invalid(DOUBLE, &frame, s)),
            None => Err(FromFrameError::unexpected(DOUBLE, &frame)),
        }
    }
}

impl TryFrom<Frame> for bool {
    type Error = FromFrameError;

    /// A boolean frame, or the integer `0` or `1` RESP2 sends instead.
    ///
    /// ```
    /// use redistill_resp::Frame;
    /// assert!(bool::try_from(Frame::Boolean(true))?);
    /// assert!(!bool::try_from(Frame::Integer(0))?);
    /// assert!(bool::try_from(Frame::Integer(2)).is_err());
    /// # Ok::<(), redistill_resp::FromFrameError>(())
    /// ```
    fn try_from(frame: Frame) -> Result<Self, Self::Error> {
        let frame = unwrap_attribute(frame);
        match frame {
            Frame::Boolean(b) => Ok(b),
            Frame::Integer(0) => Ok(false),
            Frame::Integer(1) => Ok(true),
            Frame::Integer(n) => Err(FromFrameError::invalid(
                BOOLEAN,
                &frame,
                n.to_string().as_bytes(),
            )),
            other => Err(FromFrameError::unexpected(BOOLEAN, &other)),
        }
    }
}

impl TryFrom<Frame> for String {
    type Error = FromFrameError;

    /// A string-like frame holding UTF-8, or an integer or double as Redis writes it.
    ///
    /// ```
    /// use redistill_resp::Frame;
    /// assert_eq!(String::try_from(Frame::simple("PONG"))?, "PONG");
    /// assert_eq!(String::try_from(Frame::Integer(7))?, "7");
    /// assert!(String::try_from(Frame::bulk(&b"\xff"[..])).is_err());
    /// # Ok::<(), redistill_resp::FromFrameError>(())
    /// ```
    fn try_from(frame: Frame) -> Result<Self, Self::Error> {
        let frame = unwrap_attribute(frame);
        match frame {
            Frame::Integer(n) => return Ok(n.to_string()),
            Frame::Double(d) => return Ok(crate::double_text(d)),
            _ => {}
        }
        match string_payload(&frame) {
            Some(s) => {
                String::from_utf8(s.to_vec()).map_err(|_| FromFrameError::invalid(UTF8, &frame, s))
            }
            None => Err(FromFrameError::unexpected(STRING, &frame)),
        }
    }
}

impl TryFrom<Frame> for Bytes {
    type Error = FromFrameError;

    /// The payload of a string-like frame, without copying.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use redistill_resp::Frame;
    /// assert_eq!(Bytes::try_from(Frame::bulk("v"))?, "v");
    /// assert!(Bytes::try_from(Frame::Integer(1)).is_err());
    /// # Ok::<(), redistill_resp::FromFrameError>(())
    /// ```
    fn try_from(frame: Frame) -> Result<Self, Self::Error> {
        match unwrap_attribute(frame) {
            Frame::SimpleString(b) | Frame::BulkString(b) | Frame::BigNumber(b) => Ok(b),
            Frame::VerbatimString { text, .. } => Ok(text),
            other => Err(FromFrameError::unexpected(STRING, &other)),
        }
    }
}

impl TryFrom<Frame> for Vec<u8> {
    type Error = FromFrameError;

    /// The payload of a string-like frame, copied.
    ///
    /// ```
    /// use redistill_resp::Frame;
    /// assert_eq!(Vec::<u8>::try_from(Frame::bulk("v"))?, b"v");
    /// # Ok::<(), redistill_resp::FromFrameError>(())
    /// ```
    fn try_from(frame: Frame) -> Result<Self, Self::Error> {
        Bytes::try_from(frame).map(Vec::from)
    }
}

impl<T> TryFrom<Frame> for Option<T>
where
    T: TryFrom<Frame, Error = FromFrameError>,
{
    type Error = FromFrameError;

    /// `None` for any of the three nulls, otherwise the value.
    ///
    /// ```
    /// use redistill_resp::Frame;
    /// assert_eq!(Option::<String>::try_from(Frame::NullBulkString)?, None);
    /// assert_eq!(Option::<i64>::try_from(Frame::Integer(1))?, Some(1));
    /// # Ok::<(), redistill_resp::FromFrameError>(())
    /// ```
    fn try_from(frame: Frame) -> Result<Self, Self::Error> {
        let frame = unwrap_attribute(frame);
        if frame.is_null() {
            Ok(None)
        } else {
            T::try_from(frame).map(Some)
        }
    }
}

/// The elements of an array, set or push.
fn elements(frame: Frame, expected: &'static str) -> Result<Vec<Frame>, FromFrameError> {
    match unwrap_attribute(frame) {
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => Ok(items),
        other => Err(FromFrameError::unexpected(expected, &other)),
    }
}

impl<T> TryFrom<Frame> for Vec<T>
where
    T: TryFrom<Frame, Error = FromFrameError>,
{
    type Error = FromFrameError;

    /// Each element of an array, set or push; the error names the first that failed.
    ///
    /// ```
    /// use redistill_resp::Frame;
    /// let frame = Frame::Array(vec![Frame::bulk("a"), Frame::NullBulkString]);
    /// assert_eq!(Vec::<Option<String>>::try_from(frame)?, [Some("a".to_string()), None]);
    ///
    /// let err = Vec::<i64>::try_from(Frame::Array(vec![Frame::Integer(1), Frame::Null]));
    /// assert_eq!(err.unwrap_err().to_string(), "element 1: expected an integer, got a null");
    /// # Ok::<(), redistill_resp::FromFrameError>(())
    /// ```
    fn try_from(frame: Frame) -> Result<Self, Self::Error> {
        elements(frame, ARRAY)?
            .into_iter()
            .enumerate()
            .map(|(i, f)| T::try_from(f).map_err(|e| FromFrameError::element(i, e)))
            .collect()
    }
}

impl<K, V, S> TryFrom<Frame> for HashMap<K, V, S>
where
    K: TryFrom<Frame, Error = FromFrameError> + Eq + Hash,
    V: TryFrom<Frame, Error = FromFrameError>,
    S: BuildHasher + Default,
{
    type Error = FromFrameError;

    /// A RESP3 map, or the flat key, value, ... array RESP2 sends for one (`HGETALL`,
    /// `CONFIG GET`). A repeated key keeps its last value.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use redistill_resp::Frame;
    ///
    /// let resp3 = Frame::Map(vec![(Frame::simple("a"), Frame::Integer(1))]);
    /// let resp2 = Frame::Array(vec![Frame::bulk("a"), Frame::bulk("1")]);
    /// let m3: HashMap<String, i64> = resp3.try_into()?;
    /// let m2: HashMap<String, i64> = resp2.try_into()?;
    /// assert_eq!(m3, m2);
    /// assert_eq!(m2["a"], 1);
    /// # Ok::<(), redistill_resp::FromFrameError>(())
    /// ```
    fn try_from(frame: Frame) -> Result<Self, Self::Error> {
        let pair = |i: usize, k: Frame, v: Frame| -> Result<(K, V), FromFrameError> {
            let key = K::try_from(k).map_err(|e| FromFrameError::element(2 * i, e))?;
            let value = V::try_from(v).map_err(|e| FromFrameError::element(2 * i + 1, e))?;
            Ok((key, value))
        };
        match unwrap_attribute(frame) {
            Frame::Map(pairs) => pairs
                .into_iter()
                .enumerate()
                .map(|(i, (k, v))| pair(i, k, v))
                .collect(),
            other => {
                let got = type_name(&other);
                let items = elements(other, MAP)?;
                if items.len() % 2 != 0 {
                    return Err(FromFrameError::OddPairs {
                        got,
                        len: items.len(),
                    });
                }
                let mut it = items.into_iter();
                let mut map = HashMap::with_capacity_and_hasher(it.len() / 2, S::default());
                let mut i = 0;
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    let (key, value) = pair(i, k, v)?;
                    map.insert(key, value);
                    i += 1;
                }
                Ok(map)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_what_was_expected_and_what_came() {
        let e = u64::try_from(Frame::Integer(-5)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected a non-negative integer, got the integer \"-5\""
        );
        let e = bool::try_from(Frame::bulk("yes")).unwrap_err();
        assert_eq!(e.to_string(), "expected a boolean, got a bulk string");
        let e =
            HashMap::<String, String>::try_from(Frame::Array(vec![Frame::bulk("k")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected a map, got an array of 1 elements (an odd count)"
        );
        let e = String::try_from(Frame::BulkError("ERR no".into())).unwrap_err();
        assert_eq!(e.to_string(), "server error: ERR no");
        let e = Vec::<String>::try_from(Frame::Integer(1)).unwrap_err();
        assert_eq!(e.to_string(), "expected an array, got an integer");
    }

    #[test]
    fn integers_follow_redis_rules() {
        assert_eq!(i64::try_from(Frame::bulk("-0")).ok(), None);
        assert_eq!(i64::try_from(Frame::bulk("007")).ok(), None);
        assert_eq!(u64::try_from(Frame::bulk("007")).ok(), None);
        assert_eq!(u64::try_from(Frame::bulk("0")).ok(), Some(0));
        assert_eq!(u64::try_from(Frame::bulk("+1")).ok(), None);
        assert_eq!(
            i64::try_from(Frame::VerbatimString {
                format: *b"txt",
                text: "12".into()
            })
            .ok(),
            Some(12)
        );
    }

    #[test]
    fn attributes_convert_as_their_value() {
        let f = Frame::Attribute {
            attributes: vec![(Frame::simple("ttl"), Frame::Integer(3))],
            value: Box::new(Frame::Integer(9)),
        };
        assert_eq!(i64::try_from(f).ok(), Some(9));
    }

    #[test]
    fn nested_maps_and_lists() {
        let f = Frame::Map(vec![(
            Frame::simple("list"),
            Frame::Set(vec![Frame::Double(1.0), Frame::bulk("2.5")]),
        )]);
        let m: HashMap<String, Vec<f64>> = f.try_into().unwrap();
        assert_eq!(m["list"], [1.0, 2.5]);
        let e = HashMap::<String, i64>::try_from(Frame::Array(vec![
            Frame::bulk("a"),
            Frame::bulk("1"),
            Frame::bulk("b"),
            Frame::bulk("x"),
        ]))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "element 3: expected an integer, got the bulk string \"x\""
        );
    }
}
