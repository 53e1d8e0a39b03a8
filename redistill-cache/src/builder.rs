//! [`CacheBuilder`]: memory bound, policy, shards, TTL, clock, listener, background expiry.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redistill_store::{Clock, Policy, Store};

use crate::cache::{Cache, Inner};
use crate::listener::{ListenerFn, RemovalCause, RemovalListener};
use crate::loader::Inflight;

/// Default period of the background expiry: ten times a second, as Redis's `hz 10`.
///
/// # Examples
///
/// ```
/// use redistill_cache::{Cache, DEFAULT_EXPIRY_BUDGET, DEFAULT_EXPIRY_INTERVAL};
/// // The same as the default: a run every 100 ms examining up to 10,000 keys.
/// let cache = Cache::builder()
///     .background_expiry(DEFAULT_EXPIRY_INTERVAL, DEFAULT_EXPIRY_BUDGET)
///     .build();
/// assert!(cache.has_background_expiry());
/// ```
pub const DEFAULT_EXPIRY_INTERVAL: Duration = Duration::from_millis(100);

/// Default keys examined per background expiry run.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use redistill_cache::{Cache, DEFAULT_EXPIRY_BUDGET};
/// // Runs twice as often, each half as long.
/// let cache = Cache::builder()
///     .background_expiry(Duration::from_millis(50), DEFAULT_EXPIRY_BUDGET / 2)
///     .build();
/// # drop(cache);
/// ```
pub const DEFAULT_EXPIRY_BUDGET: usize = 10_000;

/// Configures and builds a [`Cache`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use redistill_cache::{Cache, Policy};
///
/// let cache = Cache::builder()
///     .max_memory(64 << 20)
///     .policy(Policy::AllKeysS3Fifo)
///     .time_to_live(Duration::from_secs(300))
///     .build();
/// cache.insert("k", "v");
/// assert_eq!(cache.max_memory(), 64 << 20);
/// ```
pub struct CacheBuilder {
    max_memory: usize,
    policy: Policy,
    shards: Option<usize>,
    ttl: Option<Duration>,
    clock: Option<Box<dyn FnOnce(redistill_store::StoreBuilder) -> redistill_store::StoreBuilder>>,
    listener: Option<ListenerFn>,
    expiry: Option<(Duration, usize)>,
    seed: Option<u64>,
}

impl Default for CacheBuilder {
    fn default() -> Self {
        Self {
            max_memory: 0,
            policy: Policy::AllKeysLfu,
            shards: None,
            ttl: None,
            clock: None,
            listener: None,
            expiry: Some((DEFAULT_EXPIRY_INTERVAL, DEFAULT_EXPIRY_BUDGET)),
            seed: None,
        }
    }
}

impl fmt::Debug for CacheBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("max_memory", &self.max_memory)
            .field("policy", &self.policy)
            .field("shards", &self.shards)
            .field("ttl", &self.ttl)
            .field("expiry", &self.expiry)
            .finish_non_exhaustive()
    }
}

impl CacheBuilder {
    /// Memory bound in bytes, counted as the store counts it (keys, values, expiry times,
    /// table slots and the allocator's size classes); 0 (the default) means none. A write
    /// that would go over it first evicts by the [`policy`](CacheBuilder::policy).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::Cache;
    /// let cache = Cache::builder().max_memory(256 << 10).shards(4).build();
    /// for i in 0..10_000u32 {
    ///     cache.insert(i.to_be_bytes(), [0u8; 100]);
    /// }
    /// assert!(cache.len() < 10_000);
    /// assert!(cache.memory_used() <= (256 << 10) + 4096);
    /// ```
    pub fn max_memory(mut self, bytes: usize) -> Self {
        self.max_memory = bytes;
        self
    }

    /// The eviction policy. Default [`Policy::AllKeysLfu`]: at equal memory it has the
    /// highest hit ratio of the store's policies on all but one of the traces measured (see
    /// the README; [`Policy::AllKeysS3Fifo`] ranks keys better and trails it by about a
    /// point at most: its queue slots, 16 bytes a key, and ghost, about 10 bytes a
    /// fingerprint, count against the bound, so it holds about 13% fewer entries in the
    /// same bytes). The `volatile-*`
    /// policies evict only entries with a TTL, and [`Policy::NoEviction`] none: inserts
    /// over the bound then fail ([`Cache::try_insert`] tells).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, Policy};
    /// let cache = Cache::builder().policy(Policy::AllKeysLru).build();
    /// assert_eq!(cache.policy(), Policy::AllKeysLru);
    /// ```
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Lock shards, rounded up to a power of two (at most 4096). Default: four per core,
    /// between 16 and 1024.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::Cache;
    /// let cache = Cache::builder().shards(5).build();
    /// assert_eq!(cache.store().shards_per_db(), 8);
    /// ```
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = Some(n);
        self
    }

    /// The time to live of entries inserted without one ([`Cache::insert`], the loaders).
    /// Default: none, entries live until evicted or removed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use redistill_cache::Cache;
    /// let cache = Cache::builder().time_to_live(Duration::from_secs(60)).build();
    /// cache.insert("k", "v");
    /// assert!(cache.ttl("k").is_some_and(|t| t <= Duration::from_secs(60)));
    /// ```
    pub fn time_to_live(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The time source for TTLs: tests pass a [`ManualClock`](crate::ManualClock).
    /// Default: the system clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use redistill_cache::{Cache, ManualClock};
    /// let clock = ManualClock::new(1_000);
    /// let cache = Cache::builder().clock(clock.clone()).build();
    /// cache.insert_with_ttl("k", "v", Duration::from_secs(1));
    /// clock.advance(1_000);
    /// assert_eq!(cache.get("k"), None);
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Box::new(move |b| b.clock(clock)));
        self
    }

    /// Calls `listener` with the key and the [`RemovalCause`] of every entry that leaves
    /// the cache, and of every value an insert overwrites.
    ///
    /// It runs on the thread that made the change, while the key's shard is locked: it
    /// must be quick and must not call back into the cache (hand the key to a channel
    /// instead).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use redistill_cache::{Cache, RemovalCause};
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// let cache = Cache::builder()
    ///     .listener(move |key, cause| log.lock().unwrap().push((key.to_vec(), cause)))
    ///     .build();
    /// cache.insert("k", "1");
    /// cache.insert("k", "2");
    /// cache.remove("k");
    /// assert_eq!(
    ///     *seen.lock().unwrap(),
    ///     [(b"k".to_vec(), RemovalCause::Replaced), (b"k".to_vec(), RemovalCause::Removed)]
    /// );
    /// ```
    pub fn listener(
        mut self,
        listener: impl Fn(&[u8], RemovalCause) + Send + Sync + 'static,
    ) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// Reclaims expired entries on a background thread every `interval`, examining up to
    /// `budget` keys a run (on by default: every [`DEFAULT_EXPIRY_INTERVAL`], up to
    /// [`DEFAULT_EXPIRY_BUDGET`] keys). The thread ends when the last handle of the cache
    /// is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use redistill_cache::Cache;
    /// let cache = Cache::builder().background_expiry(Duration::from_millis(10), 1_000).build();
    /// # drop(cache);
    /// ```
    pub fn background_expiry(mut self, interval: Duration, budget: usize) -> Self {
        self.expiry = Some((interval, budget.max(1)));
        self
    }

    /// No background expiry thread: expired entries stay in memory (invisible) until
    /// read, overwritten, evicted or reclaimed by [`Cache::purge_expired`].
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::Cache;
    /// let cache = Cache::builder().no_background_expiry().build();
    /// assert!(!cache.has_background_expiry());
    /// ```
    pub fn no_background_expiry(mut self) -> Self {
        self.expiry = None;
        self
    }

    /// Fixes the hash seed, for reproducible layouts in tests and benchmarks.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::Cache;
    /// let cache = Cache::builder().seed(7).build();
    /// # drop(cache);
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Builds the cache, and starts its background expiry thread if asked.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::Cache;
    /// let cache = Cache::builder().build();
    /// let other = cache.clone(); // the same cache
    /// other.insert("k", "v");
    /// assert!(cache.contains_key("k"));
    /// ```
    pub fn build(self) -> Cache {
        let mut b = Store::builder()
            .databases(1)
            .max_memory(self.max_memory)
            .eviction_policy(self.policy);
        if let Some(n) = self.shards {
            b = b.shards(n);
        }
        if let Some(seed) = self.seed {
            b = b.seed(seed);
        }
        if let Some(clock) = self.clock {
            b = clock(b);
        }
        if let Some(on_removal) = self.listener.clone() {
            b = b.change_listener(Arc::new(RemovalListener { db: 0, on_removal }));
        }
        let store = b.build();
        let expiry = self
            .expiry
            .map(|(interval, budget)| store.spawn_active_expiry(interval, budget));
        Cache::from_inner(Inner {
            store,
            db: 0,
            ttl: self.ttl,
            listening: self.listener.is_some(),
            inflight: Inflight::new(),
            expiry,
        })
    }
}
