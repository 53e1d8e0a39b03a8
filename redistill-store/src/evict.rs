//! Memory limit and the hook eviction policies plug into.
//!
//! # How a policy plugs in
//!
//! Before a write that may grow memory, the store compares its running total
//! ([`crate::Store::used_memory`]) with `max_memory`. With [`EvictionPolicy::NoEviction`] — the
//! only policy wired today — the write is refused with
//! [`StoreError::OutOfMemory`](crate::StoreError::OutOfMemory); reads and deletes always
//! work. The pieces other policies need are already in place:
//!
//! - **Access word.** Every table slot carries a 32-bit atomic next to its entry, written on
//!   every read under the shard's *read* lock (a relaxed store, no write lock). Today it holds
//!   the clock in seconds (an LRU clock, which also answers OBJECT IDLETIME); an LFU policy
//!   stores its log counter plus decay time there, S3-FIFO its frequency bits.
//! - **O(1) sampling.** Each shard table can pick a uniformly random occupied slot in expected
//!   O(1) (tables stay at least 1/8 full), which is what Redis-style sampled LRU, LFU, random
//!   and TTL eviction draw from; the per-shard volatile-key table serves the `volatile-*`
//!   variants.
//! - **Per-shard state.** Policy state that must change on insert (S3-FIFO's queues) lives
//!   next to the table and is mutated under the shard's write lock the insert already holds.

/// What the store does when a write would exceed `max_memory`.
///
/// # Examples
///
/// ```
/// use redistill_store::{EvictionPolicy, Store};
/// let store = Store::builder().eviction_policy(EvictionPolicy::NoEviction).build();
/// assert_eq!(store.eviction_policy().as_str(), "noeviction");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EvictionPolicy {
    /// Refuse writes that need memory once over the limit (Redis's `noeviction`). Nothing is
    /// ever removed behind the application's back; the price is failed writes when full.
    #[default]
    NoEviction,
}

impl EvictionPolicy {
    /// The name Redis's `maxmemory-policy` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            EvictionPolicy::NoEviction => "noeviction",
        }
    }
}
