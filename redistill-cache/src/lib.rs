//! An in-process cache on [`redistill_store`]: byte keys and values, a byte-accurate
//! memory bound, LFU eviction (or any of the store's nine policies, S3-FIFO included), TTLs reclaimed in
//! the background, loaders that run once per missing key, and removal notifications.
//!
//! ```
//! use std::time::Duration;
//! use redistill_cache::{Cache, RemovalCause};
//!
//! let cache = Cache::builder()
//!     .max_memory(64 << 20)
//!     .time_to_live(Duration::from_secs(600))
//!     .listener(|key, cause| {
//!         if cause == RemovalCause::Evicted {
//!             eprintln!("evicted {}", String::from_utf8_lossy(key));
//!         }
//!     })
//!     .build();
//!
//! cache.insert("user:1", "alice");
//! assert_eq!(cache.get("user:1").as_deref(), Some(&b"alice"[..]));
//! let v = cache.get_or_insert_with("user:2", || "bob");
//! assert_eq!(v, "bob");
//! // Everything the store offers is one call away.
//! assert_eq!(cache.store().incr_by(cache.db(), b"visits", 1)?, 1);
//! # Ok::<(), redistill_cache::StoreError>(())
//! ```
//!
//! With the `serde` feature, [`TypedCache`] stores any `Serialize + DeserializeOwned` key
//! and value through a [`Codec`]: [`Postcard`] (compact) or [`Json`].

mod builder;
mod cache;
mod listener;
mod loader;
#[cfg(feature = "serde")]
mod typed;

/// The README's examples, compiled and run as doc tests so they cannot go stale.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use builder::{CacheBuilder, DEFAULT_EXPIRY_BUDGET, DEFAULT_EXPIRY_INTERVAL};
pub use bytes::Bytes;
pub use cache::Cache;
pub use listener::RemovalCause;
pub use redistill_store::{Clock, ManualClock, Policy, Store, StoreError, SystemClock};
#[cfg(feature = "serde")]
pub use typed::{Codec, CodecError, Json, Postcard, TypedCache};
