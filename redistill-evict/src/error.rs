//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong when configuring eviction.
///
/// The messages name the setting the way Redis's `CONFIG SET` does, so a server can pass
/// them on; the fields let it build Redis's exact reply text instead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EvictError {
    /// The name is not one of the policies of [`Policy::ALL`](crate::Policy::ALL).
    #[error(
        "unknown maxmemory-policy {name:?}: must be one of volatile-lru, volatile-lfu, \
         volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, \
         allkeys-s3fifo, noeviction"
    )]
    UnknownPolicy {
        /// The name as given.
        name: String,
    },
    /// A numeric setting is outside the range Redis accepts for it.
    #[error("{setting} must be between {min} and {max} inclusive, got {value}")]
    OutOfRange {
        /// The setting's Redis name, e.g. `maxmemory-samples`.
        setting: &'static str,
        /// The rejected value.
        value: i64,
        /// The smallest accepted value.
        min: i64,
        /// The largest accepted value.
        max: i64,
    },
}
