//! Decoder limits, with Redis's defaults.

/// Bounds applied while decoding untrusted input.
///
/// The defaults are Redis 7.0's: `proto-max-bulk-len` 512 MB, a multibulk count of at
/// most `INT_MAX`, `PROTO_INLINE_MAX_SIZE` 64 KB, and for clients that still have to
/// authenticate at most 10 arguments of at most 16384 bytes each.
///
/// # Examples
///
/// ```
/// use redistill_resp::Limits;
///
/// let limits = Limits::default().with_max_bulk_len(1024 * 1024).with_max_depth(32);
/// assert_eq!(limits.max_bulk_len(), 1024 * 1024);
/// assert_eq!(limits.max_inline_len(), 64 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    max_bulk_len: usize,
    max_multibulk_len: usize,
    max_inline_len: usize,
    max_depth: usize,
    unauthenticated_max_multibulk_len: usize,
    unauthenticated_max_bulk_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self::REDIS
    }
}

impl Limits {
    /// Redis 7.0's defaults.
    pub const REDIS: Limits = Limits {
        max_bulk_len: 512 * 1024 * 1024,
        max_multibulk_len: i32::MAX as usize,
        max_inline_len: 64 * 1024,
        max_depth: 128,
        unauthenticated_max_multibulk_len: 10,
        unauthenticated_max_bulk_len: 16384,
    };

    /// Longest bulk string accepted (`proto-max-bulk-len`, default 512 MB).
    pub const fn max_bulk_len(&self) -> usize {
        self.max_bulk_len
    }
    /// Sets [`Limits::max_bulk_len`].
    pub const fn with_max_bulk_len(mut self, v: usize) -> Self {
        self.max_bulk_len = v;
        self
    }
    /// Largest element count of an array, set, push or map (default `INT_MAX`).
    pub const fn max_multibulk_len(&self) -> usize {
        self.max_multibulk_len
    }
    /// Sets [`Limits::max_multibulk_len`].
    pub const fn with_max_multibulk_len(mut self, v: usize) -> Self {
        self.max_multibulk_len = v;
        self
    }
    /// Most bytes buffered while waiting for the end of an inline request or of a
    /// `*`/`$` header (`PROTO_INLINE_MAX_SIZE`, default 64 KB).
    pub const fn max_inline_len(&self) -> usize {
        self.max_inline_len
    }
    /// Sets [`Limits::max_inline_len`].
    pub const fn with_max_inline_len(mut self, v: usize) -> Self {
        self.max_inline_len = v;
        self
    }
    /// Deepest nesting of aggregates accepted by the general decoder (default 128;
    /// Redis's own replies nest a handful of levels).
    pub const fn max_depth(&self) -> usize {
        self.max_depth
    }
    /// Sets [`Limits::max_depth`].
    pub const fn with_max_depth(mut self, v: usize) -> Self {
        self.max_depth = v;
        self
    }
    /// Most arguments a client may send before it authenticates (default 10).
    pub const fn unauthenticated_max_multibulk_len(&self) -> usize {
        self.unauthenticated_max_multibulk_len
    }
    /// Sets [`Limits::unauthenticated_max_multibulk_len`].
    pub const fn with_unauthenticated_max_multibulk_len(mut self, v: usize) -> Self {
        self.unauthenticated_max_multibulk_len = v;
        self
    }
    /// Longest argument a client may send before it authenticates (default 16384).
    pub const fn unauthenticated_max_bulk_len(&self) -> usize {
        self.unauthenticated_max_bulk_len
    }
    /// Sets [`Limits::unauthenticated_max_bulk_len`].
    pub const fn with_unauthenticated_max_bulk_len(mut self, v: usize) -> Self {
        self.unauthenticated_max_bulk_len = v;
        self
    }
}
