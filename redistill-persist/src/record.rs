//! The records a snapshot holds.

use bytes::Bytes;

use crate::ValueType;

/// One key of the keyspace: where it lives, when it expires, and its value.
///
/// The format stores what it is given: dropping keys whose expiry has
/// passed, or resolving duplicate keys or hash fields, is the loader's call.
///
/// ```
/// use bytes::Bytes;
/// use redistill_persist::{Record, Value};
///
/// let record = Record::new(0, "counter", Value::Integer(41)).with_expiry(1_700_000_000_000);
/// assert_eq!(record.key, Bytes::from_static(b"counter"));
/// assert_eq!(record.expire_at_ms, Some(1_700_000_000_000));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Logical database index (`SELECT`).
    pub db: u32,
    /// The key, binary-safe.
    pub key: Bytes,
    /// Absolute expiry as milliseconds since the Unix epoch, or `None` for no TTL.
    pub expire_at_ms: Option<u64>,
    /// The value.
    pub value: Value,
}

impl Record {
    /// A record without expiry.
    pub fn new(db: u32, key: impl Into<Bytes>, value: Value) -> Self {
        Record {
            db,
            key: key.into(),
            expire_at_ms: None,
            value,
        }
    }

    /// The same record, expiring at `expire_at_ms` (milliseconds since the Unix epoch).
    #[must_use]
    pub fn with_expiry(mut self, expire_at_ms: u64) -> Self {
        self.expire_at_ms = Some(expire_at_ms);
        self
    }
}

/// A value of any type the store holds.
///
/// New types (sorted sets) arrive as new variants with their
/// own [`ValueType`] tags, which is why the enum is non-exhaustive.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// A binary-safe string.
    String(Bytes),
    /// A string held in its integer form (e.g. a counter).
    Integer(i64),
    /// A hash, as field/value pairs in the order they were written.
    Hash(Vec<(Bytes, Bytes)>),
    /// A list's elements, head first (format version 2 on).
    List(Vec<Bytes>),
    /// A set's members, in no particular order (format version 3 on).
    Set(Vec<Bytes>),
    /// A sorted set's members with their scores, lowest first (format version 3 on).
    ZSet(Vec<(Bytes, f64)>),
    /// A server-side library's source code, named by the record's key (format version 4
    /// on). It is not a key of the keyspace: the server keeps it beside the keys (Redis
    /// keeps its function libraries so), and the format does not interpret it.
    Library(Bytes),
}

impl Value {
    /// The type tag this value is written with.
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::String(_) => ValueType::String,
            Value::Integer(_) => ValueType::Integer,
            Value::Hash(_) => ValueType::Hash,
            Value::List(_) => ValueType::List,
            Value::Set(_) => ValueType::Set,
            Value::ZSet(_) => ValueType::ZSet,
            Value::Library(_) => ValueType::Library,
        }
    }
}
