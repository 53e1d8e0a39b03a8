//! The store's error type.

/// Everything a store operation can refuse.
///
/// Each variant carries what the caller needs to report it; `Display` is plain text for
/// people. A server turns each variant into its protocol's reply itself (Redistill's
/// server writes Redis's exact error text from the variant and its data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The key holds a value of another type.
    #[error("the key holds a value of another type")]
    WrongType,
    /// The stored value or an argument is not an integer, or is out of range.
    #[error("the value is not an integer or is out of range")]
    NotInteger,
    /// The stored hash field is not an integer (HINCRBY).
    #[error("the hash field's value is not an integer")]
    HashNotInteger,
    /// An increment or decrement would overflow a signed 64-bit integer.
    #[error("the increment or decrement would overflow")]
    Overflow,
    /// DECRBY with `i64::MIN`, whose negation overflows.
    #[error("the decrement would overflow")]
    DecrementOverflow,
    /// The stored value or increment is not a valid float.
    #[error("the value is not a valid float")]
    NotFloat,
    /// The stored hash field is not a float (HINCRBYFLOAT).
    #[error("the hash field's value is not a float")]
    HashNotFloat,
    /// INCRBYFLOAT / HINCRBYFLOAT would store NaN or an infinity.
    #[error("the increment would produce NaN or an infinity")]
    NanOrInfinity,
    /// HINCRBYFLOAT's increment is an infinity.
    #[error("the increment is NaN or an infinity")]
    IncrementNanOrInfinity,
    /// LSET's index is past either end of the list.
    #[error("the index is out of range")]
    IndexOutOfRange,
    /// The key does not exist (RENAME, RENAMENX, LSET).
    #[error("no such key")]
    NoSuchKey,
    /// An expire time is zero, negative, or overflows once made absolute.
    #[error("invalid expire time {value}")]
    InvalidExpire {
        /// The time as given, in the unit and form (relative or absolute) of the call.
        value: i64,
    },
    /// The write needs memory above `max_memory` and the policy may not evict.
    #[error("memory in use is over the limit and no key may be evicted")]
    OutOfMemory,
    /// SETRANGE/APPEND would grow a string beyond 512 MB ([`crate::MAX_STRING_LEN`]), or a
    /// list element is longer than that.
    #[error("a string of {requested} bytes would exceed the largest allowed")]
    StringTooLong {
        /// The size the string would have had.
        requested: u64,
    },
    /// A bit offset (SETBIT, GETBIT, BITFIELD) that is negative or past the largest
    /// string ([`crate::MAX_STRING_LEN`] bytes), or not an integer.
    #[error("the bit offset is not an integer or out of range")]
    BitOffsetOutOfRange,
    /// SETRANGE with a negative offset.
    #[error("the offset is negative")]
    OffsetOutOfRange,
    /// A database index beyond the configured count.
    #[error("database {index} does not exist; the store has {databases}")]
    DbIndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// How many databases the store has.
        databases: usize,
    },
    /// COPY or MOVE whose source and destination are the same key of the same database.
    #[error("the source and destination are the same key")]
    SameObject,
    /// HRANDFIELD with a count whose magnitude overflows: beyond `i64::MAX / 2` with
    /// values, or more repeated fields than can be held in memory.
    #[error("the count is out of range")]
    ValueOutOfRange,
    /// A number outside the range a command reads it in (HRANDFIELD's count is read in
    /// `-i64::MAX..=i64::MAX`, so `i64::MIN` has no magnitude).
    #[error("the value must be between {min} and {max}")]
    ValueOutOfBounds {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// The key holds a string that is not a HyperLogLog (no `HYLL` header, an unknown
    /// encoding, or a dense one of the wrong length).
    #[error("the key holds a string that is not a HyperLogLog")]
    NotHyperLogLog,
    /// The key holds a HyperLogLog whose registers do not decode.
    #[error("the HyperLogLog is corrupted")]
    CorruptHyperLogLog,
    /// ZINCRBY or ZADD INCR would make a score NaN (`+inf` plus `-inf`).
    #[error("the resulting score is not a number (NaN)")]
    ScoreNaN,
    /// `active-expire-effort` outside 1 to 10.
    #[error("the active expire effort must be between 1 and 10, got {effort}")]
    InvalidExpireEffort {
        /// The value asked for.
        effort: i64,
    },
    /// An eviction setting (`maxmemory-samples`, `lfu-log-factor`, `lfu-decay-time`)
    /// outside the range Redis accepts.
    #[error(transparent)]
    InvalidEvictionSetting(#[from] redistill_evict::EvictError),
}

/// Shorthand for results of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
