//! Cache eviction policies under Redis's names, plus S3-FIFO, for a sharded keyspace.
//!
//! The crate knows nothing of the store that uses it. A store gives every entry an
//! [`AccessWord`] (one `AtomicU32`), keeps a [`ShardState`] per shard, implements
//! [`Keyspace`] for a shard (count, O(1) random sample, lookup), and shares one
//! [`Evictor`] that holds the [`Policy`] and Redis's settings (`maxmemory-samples`,
//! `lfu-log-factor`, `lfu-decay-time`). Reads update the access word with atomics only;
//! inserts and evictions run under the shard's write lock.
//!
//! | policy | per read | per eviction |
//! | --- | --- | --- |
//! | `noeviction` | LRU clock store | none: the write fails with OOM |
//! | `allkeys-lru`, `volatile-lru` | LRU clock store | `maxmemory-samples` samples into a 16-slot pool |
//! | `allkeys-lfu`, `volatile-lfu` | Redis's log counter (decay + probabilistic increment) | as LRU |
//! | `allkeys-random`, `volatile-random` | LRU clock store | one sample |
//! | `volatile-ttl` | LRU clock store | as LRU, ranked by expiry |
//! | `allkeys-s3fifo` | 2-bit counter bump until saturated | queue pops, O(1) amortised |
//!
//! The [`sim`] module replays traces through the policies with a simulated keyspace and
//! an exact LRU reference; this crate's `examples/evict_sim.rs` prints the table
//! (`cargo run --release -p redistill-evict --example evict_sim`).
//!
//! # Examples
//!
//! ```
//! use redistill_evict::{Evictor, Keyspace, Policy, ShardState, SimKeyspace};
//!
//! let evictor = Evictor::new("allkeys-s3fifo".parse()?);
//! let mut shard = ShardState::with_seed(7);
//! let mut keys = SimKeyspace::new();
//! let (mut used, max_memory, now) = (0, 3, 0);
//!
//! for key in [1u64, 2, 3, 1, 1, 4] {
//!     if let Some(word) = keys.word(&key) {
//!         evictor.on_access(word, now); // a read: atomics only
//!         continue;
//!     }
//!     while used + 1 > max_memory {
//!         // `None` would mean "cannot evict": reject the write with OOM.
//!         let victim = evictor.evict(&mut shard, &keys, now).expect("something to evict");
//!         used -= keys.remove(victim).unwrap_or(0);
//!     }
//!     let word = evictor.on_insert(&mut shard, &keys, &key, 1, now);
//!     keys.insert(key, 1, word, None);
//!     used += 1;
//! }
//! // Key 1 was read twice while in the small queue, so it moved to the main queue and
//! // the never-read key 2 was evicted instead.
//! assert!(keys.contains(1) && !keys.contains(2));
//! assert_eq!(keys.key_count(), 3);
//! # Ok::<(), redistill_evict::EvictError>(())
//! ```

mod choose;
mod error;
mod evictor;
mod ghost;
mod keyspace;
mod policies;
mod policy;
mod rng;
mod s3fifo;
mod shard;
pub mod sim;
mod word;

pub use choose::pick_shards;
pub use error::EvictError;
pub use evictor::{DEFAULT_LFU_DECAY_TIME, DEFAULT_LFU_LOG_FACTOR, DEFAULT_SAMPLES, Evictor};
pub use keyspace::{EntryRef, Keyspace, SampleFrom};
pub use policies::{EvictionPolicy, Lfu, Lru, NoEviction, Random, S3Fifo, Ttl, Victim};
pub use policy::Policy;
pub use rng::SplitMix64;
pub use s3fifo::S3FifoStats;
pub use shard::{POOL_SIZE, ShardState};
pub use sim::{ExactLru, Outcome, SimCache, SimKeyspace, SimStats, TtlSpec, Zipf};
pub use word::{AccessWord, lfu};

/// Compiles and runs the README's Rust examples as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
