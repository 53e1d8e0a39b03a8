//! The store's error type and the Redis reply text each case maps to.

/// Everything a store operation can refuse.
///
/// Each variant documents the exact Redis 7 error reply a server should send for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The key holds a value of another type.
    ///
    /// Reply: `WRONGTYPE Operation against a key holding the wrong kind of value`.
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    /// The stored value or an argument is not an integer, or is out of range.
    ///
    /// Reply: `ERR value is not an integer or out of range`
    /// (for hashes: `ERR hash value is not an integer`, see [`StoreError::HashNotInteger`]).
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    /// The stored hash field is not an integer (HINCRBY).
    ///
    /// Reply: `ERR hash value is not an integer`.
    #[error("ERR hash value is not an integer")]
    HashNotInteger,
    /// An increment or decrement would overflow a signed 64-bit integer.
    ///
    /// Reply: `ERR increment or decrement would overflow`.
    #[error("ERR increment or decrement would overflow")]
    Overflow,
    /// DECRBY with `i64::MIN`, whose negation overflows.
    ///
    /// Reply: `ERR decrement would overflow`.
    #[error("ERR decrement would overflow")]
    DecrementOverflow,
    /// The stored value or increment is not a valid float.
    ///
    /// Reply: `ERR value is not a valid float`
    /// (for hashes: `ERR hash value is not a float`, see [`StoreError::HashNotFloat`]).
    #[error("ERR value is not a valid float")]
    NotFloat,
    /// The stored hash field is not a float (HINCRBYFLOAT).
    ///
    /// Reply: `ERR hash value is not a float`.
    #[error("ERR hash value is not a float")]
    HashNotFloat,
    /// INCRBYFLOAT / HINCRBYFLOAT would store NaN or an infinity.
    ///
    /// Reply: `ERR increment would produce NaN or Infinity`.
    #[error("ERR increment would produce NaN or Infinity")]
    NanOrInfinity,
    /// HINCRBYFLOAT's increment is an infinity.
    ///
    /// Reply: `ERR value is NaN or Infinity`.
    #[error("ERR value is NaN or Infinity")]
    IncrementNanOrInfinity,
    /// The key does not exist (RENAME, RENAMENX).
    ///
    /// Reply: `ERR no such key`.
    #[error("ERR no such key")]
    NoSuchKey,
    /// An expire time is zero, negative or overflows, for the named command.
    ///
    /// Reply: `ERR invalid expire time in '<command>' command`, e.g. `'set'`, `'getex'`,
    /// `'setex'`, `'expire'`.
    #[error("ERR invalid expire time in '{command}' command")]
    InvalidExpire {
        /// Lower-case command name as Redis prints it.
        command: &'static str,
    },
    /// Options that cannot be combined.
    ///
    /// Reply: `ERR syntax error`.
    #[error("ERR syntax error")]
    SyntaxError,
    /// NX and XX/GT/LT given together to EXPIRE and friends.
    ///
    /// Reply: `ERR NX and XX, GT or LT options at the same time are not compatible`.
    #[error("ERR NX and XX, GT or LT options at the same time are not compatible")]
    ExpireNxAndOthers,
    /// GT and LT given together to EXPIRE and friends.
    ///
    /// Reply: `ERR GT and LT options at the same time are not compatible`.
    #[error("ERR GT and LT options at the same time are not compatible")]
    ExpireGtAndLt,
    /// The write needs memory above `max_memory` and the policy may not evict.
    ///
    /// Reply: `OOM command not allowed when used memory > 'maxmemory'.`
    #[error("OOM command not allowed when used memory > 'maxmemory'.")]
    OutOfMemory,
    /// SETRANGE/APPEND would grow a string beyond 512 MB.
    ///
    /// Reply: `ERR string exceeds maximum allowed size (proto-max-bulk-len)`.
    #[error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")]
    StringTooLong {
        /// The size the string would have had.
        requested: u64,
    },
    /// SETRANGE with a negative offset.
    ///
    /// Reply: `ERR offset is out of range`.
    #[error("ERR offset is out of range")]
    OffsetOutOfRange,
    /// A database index beyond the configured count.
    ///
    /// Reply: `ERR DB index is out of range`.
    #[error("ERR DB index is out of range")]
    DbIndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// How many databases the store has.
        databases: usize,
    },
    /// RENAME/COPY/MOVE/SWAPDB-like operation whose source and destination are the same
    /// object (MOVE and COPY to the same key in the same database).
    ///
    /// Reply: `ERR source and destination objects are the same`.
    #[error("ERR source and destination objects are the same")]
    SameObject,
    /// HRANDFIELD with a count whose magnitude overflows: beyond `i64::MAX / 2` with
    /// values, or more repeated fields than can be held in memory.
    ///
    /// Reply: `ERR value is out of range`.
    #[error("ERR value is out of range")]
    ValueOutOfRange,
    /// A number outside the range a command reads it in (HRANDFIELD's count is read in
    /// `-i64::MAX..=i64::MAX`, so `i64::MIN` has no magnitude).
    ///
    /// Reply: `ERR value is out of range, value must between <min> and <max>` (sic).
    #[error("ERR value is out of range, value must between {min} and {max}")]
    ValueOutOfBounds {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// `active-expire-effort` outside 1 to 10.
    ///
    /// Reply: `ERR CONFIG SET failed (possibly related to argument 'active-expire-effort') -
    /// argument must be between 1 and 10 inclusive`.
    #[error(
        "ERR CONFIG SET failed (possibly related to argument 'active-expire-effort') - argument must be between 1 and 10 inclusive"
    )]
    InvalidExpireEffort {
        /// The value asked for.
        effort: i64,
    },
    /// An eviction setting (`maxmemory-samples`, `lfu-log-factor`, `lfu-decay-time`)
    /// outside the range Redis accepts.
    #[error("ERR {0}")]
    InvalidEvictionSetting(#[from] redistill_evict::EvictError),
}

/// Shorthand for results of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
