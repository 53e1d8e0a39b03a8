//! [`Cache`]: the handle, its reads, writes and loaders.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use redistill_store::{ExpiryThread, Policy, ScanOptions, SetOptions, Store, StoreError};

use crate::builder::CacheBuilder;
use crate::loader::{Inflight, Leader, Role};

/// TTLs longer than this (about a century) are stored as no TTL at all.
const MAX_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Keys [`Cache::clear`] asks SCAN for at a time.
const CLEAR_BATCH: usize = 1_000;

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) db: usize,
    pub(crate) ttl: Option<Duration>,
    pub(crate) listening: bool,
    pub(crate) inflight: Inflight,
    /// Stopped (and joined) when the last handle drops this.
    pub(crate) expiry: Option<ExpiryThread>,
}

/// A concurrent in-process cache of byte keys and values, bounded in bytes.
///
/// Cloning is cheap and every clone is the same cache. Keys and values go in as anything
/// that is `AsRef<[u8]>` (`&str`, `String`, `Vec<u8>`, `[u8; N]`, `Bytes`) and come out as
/// [`Bytes`]. Values are copied in, so a caller's buffer is never pinned.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use redistill_cache::Cache;
///
/// let cache = Cache::builder().max_memory(32 << 20).build();
/// cache.insert("user:1", "alice");
/// cache.insert_with_ttl("session:9", "token", Duration::from_secs(30));
/// assert_eq!(cache.get("user:1").as_deref(), Some(&b"alice"[..]));
///
/// // A miss runs the loader once, however many threads ask at the same time.
/// let profile = cache.get_or_insert_with("user:2", || format!("profile of {}", 2));
/// assert_eq!(profile, "profile of 2");
/// ```
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("len", &self.len())
            .field("memory_used", &self.memory_used())
            .field("max_memory", &self.max_memory())
            .field("policy", &self.policy())
            .field("ttl", &self.inner.ttl)
            .finish_non_exhaustive()
    }
}

impl Default for Cache {
    fn default() -> Self {
        Self::new()
    }
}

impl Cache {
    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// A builder with the defaults: no memory bound, LFU eviction, no TTL, background expiry.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::Cache;
    /// let cache = Cache::builder().max_memory(1 << 20).build();
    /// assert_eq!(cache.max_memory(), 1 << 20);
    /// ```
    pub fn builder() -> CacheBuilder {
        CacheBuilder::default()
    }

    /// A cache with the builder's defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// let cache = redistill_cache::Cache::new();
    /// assert!(cache.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// The value of `key`, if present and not expired. Counts a hit or a miss for the
    /// eviction policy and [`Cache::store`]'s stats.
    ///
    /// A key that holds a hash, list or other collection (written through
    /// [`Cache::store`]) reads as absent here.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// cache.insert("k", b"v");
    /// assert_eq!(cache.get("k").as_deref(), Some(&b"v"[..]));
    /// assert_eq!(cache.get("missing"), None);
    /// ```
    pub fn get(&self, key: impl AsRef<[u8]>) -> Option<Bytes> {
        self.inner
            .store
            .get(self.inner.db, key.as_ref())
            .ok()
            .flatten()
    }

    /// Like [`Cache::get`] without copying the value: `f` sees its bytes under the shard's
    /// read lock, so it should be quick (parse or copy them) and must not call the cache.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// cache.insert("n", "42");
    /// let n = cache.get_with("n", |v| std::str::from_utf8(v).ok()?.parse::<u32>().ok());
    /// assert_eq!(n, Some(Some(42)));
    /// ```
    pub fn get_with<R>(&self, key: impl AsRef<[u8]>, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        self.inner
            .store
            .get_with(self.inner.db, key.as_ref(), f)
            .ok()
            .flatten()
    }

    /// Whether `key` is present and not expired (without counting as an access).
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// cache.insert("k", "v");
    /// assert!(cache.contains_key("k"));
    /// assert!(!cache.contains_key("other"));
    /// ```
    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> bool {
        self.inner
            .store
            .exists(self.inner.db, &[key.as_ref()])
            .is_ok_and(|n| n > 0)
    }

    /// Stores `value` under `key` with the cache's default TTL (if any), replacing any
    /// value and TTL it had.
    ///
    /// An insert the memory bound refuses (under [`Policy::NoEviction`] or a `volatile-*`
    /// policy with nothing it may evict) stores nothing: [`Cache::try_insert`] says so.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// cache.insert("k", "1");
    /// cache.insert(String::from("k"), vec![b'2']);
    /// assert_eq!(cache.get("k").as_deref(), Some(&b"2"[..]));
    /// ```
    pub fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        let _ = self.try_insert(key, value);
    }

    /// [`Cache::insert`], telling whether the store took the value.
    ///
    /// # Errors
    ///
    /// [`StoreError::OutOfMemory`] when the memory bound could not make room,
    /// [`StoreError::StringTooLong`] for a value over 512 MiB.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, Policy, StoreError};
    /// let cache = Cache::builder().max_memory(64 << 10).policy(Policy::NoEviction).build();
    /// let mut refused = None;
    /// for i in 0..10_000u32 {
    ///     if let Err(e) = cache.try_insert(i.to_be_bytes(), [0u8; 100]) {
    ///         refused = Some(e);
    ///         break;
    ///     }
    /// }
    /// assert_eq!(refused, Some(StoreError::OutOfMemory));
    /// ```
    pub fn try_insert(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<(), StoreError> {
        self.write(key.as_ref(), value.as_ref(), self.inner.ttl)
    }

    /// Stores `value` under `key` for `ttl`. A zero `ttl` removes the key (the value would
    /// be expired on arrival); TTLs are kept in whole milliseconds, rounded up.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use redistill_cache::{Cache, ManualClock};
    /// let clock = ManualClock::new(0);
    /// let cache = Cache::builder().clock(clock.clone()).build();
    /// cache.insert_with_ttl("k", "v", Duration::from_millis(1_500));
    /// assert_eq!(cache.ttl("k"), Some(Duration::from_millis(1_500)));
    /// clock.advance(1_500);
    /// assert!(!cache.contains_key("k"));
    /// ```
    pub fn insert_with_ttl(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>, ttl: Duration) {
        let _ = self.try_insert_with_ttl(key, value, ttl);
    }

    /// [`Cache::insert_with_ttl`], telling whether the store took the value.
    ///
    /// # Errors
    ///
    /// As [`Cache::try_insert`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # let cache = redistill_cache::Cache::new();
    /// cache.try_insert_with_ttl("k", "v", Duration::from_secs(5))?;
    /// # Ok::<(), redistill_cache::StoreError>(())
    /// ```
    pub fn try_insert_with_ttl(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.write(key.as_ref(), value.as_ref(), Some(ttl))
    }

    fn write(&self, key: &[u8], value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        let expiry = match ttl {
            Some(t) if t.is_zero() => {
                self.inner.store.del(self.inner.db, &[key])?;
                return Ok(());
            }
            Some(t) if t <= MAX_TTL => {
                // Whole milliseconds, rounded up so that a TTL never ends early.
                let ms = t.as_nanos().div_ceil(1_000_000);
                Some(redistill_store::Expiry::Px(
                    i64::try_from(ms).unwrap_or(i64::MAX),
                ))
            }
            _ => None,
        };
        let opts = SetOptions {
            expiry,
            ..SetOptions::default()
        };
        self.inner
            .store
            .set(self.inner.db, key, value, opts)
            .map(drop)
    }

    /// Removes `key`, returning the value it held.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// cache.insert("k", "v");
    /// assert_eq!(cache.remove("k").as_deref(), Some(&b"v"[..]));
    /// assert_eq!(cache.remove("k"), None);
    /// ```
    pub fn remove(&self, key: impl AsRef<[u8]>) -> Option<Bytes> {
        let (store, db, key) = (&self.inner.store, self.inner.db, key.as_ref());
        match store.getdel(db, key) {
            Ok(v) => v,
            Err(_) => {
                // A collection written through `store()`: delete it all the same.
                let _ = store.del(db, &[key]);
                None
            }
        }
    }

    /// The time `key` has left to live: `None` if it is absent or has no TTL.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # let cache = redistill_cache::Cache::new();
    /// cache.insert("forever", "v");
    /// cache.insert_with_ttl("brief", "v", Duration::from_secs(10));
    /// assert_eq!(cache.ttl("forever"), None);
    /// assert!(cache.ttl("brief").is_some_and(|t| t <= Duration::from_secs(10)));
    /// ```
    pub fn ttl(&self, key: impl AsRef<[u8]>) -> Option<Duration> {
        let ms = self.inner.store.pttl(self.inner.db, key.as_ref()).ok()?;
        u64::try_from(ms).ok().map(Duration::from_millis)
    }

    /// Entries held, counting expired ones not yet reclaimed (the background expiry
    /// reclaims them within a few runs; [`Cache::purge_expired`] does it at once).
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// cache.insert("a", "1");
    /// cache.insert("b", "2");
    /// assert_eq!(cache.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.store.dbsize(self.inner.db).unwrap_or(0)
    }

    /// Whether [`Cache::len`] is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// assert!(cache.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every entry. With a listener installed, each is removed and reported as
    /// [`RemovalCause::Removed`](crate::RemovalCause::Removed) in turn; without one, the
    /// database is emptied at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// cache.insert("a", "1");
    /// cache.clear();
    /// assert!(cache.is_empty());
    /// ```
    pub fn clear(&self) {
        let (store, db) = (&self.inner.store, self.inner.db);
        if !self.inner.listening {
            let _ = store.flushdb(db);
            return;
        }
        let opts = ScanOptions {
            count: Some(CLEAR_BATCH),
            ..ScanOptions::default()
        };
        let mut cursor = 0;
        loop {
            let Ok((next, keys)) = store.scan(db, cursor, opts) else {
                return;
            };
            let keys: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
            let _ = store.del(db, &keys);
            if next == 0 {
                return;
            }
            cursor = next;
        }
    }

    /// Reclaims every expired entry now, returning how many were removed (each reported
    /// as [`RemovalCause::Expired`](crate::RemovalCause::Expired)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use redistill_cache::{Cache, ManualClock};
    /// let clock = ManualClock::new(0);
    /// let cache = Cache::builder().clock(clock.clone()).no_background_expiry().build();
    /// cache.insert_with_ttl("k", "v", Duration::from_secs(1));
    /// clock.advance(1_000);
    /// assert_eq!(cache.len(), 1); // expired, not yet reclaimed
    /// assert_eq!(cache.purge_expired(), 1);
    /// assert_eq!(cache.len(), 0);
    /// ```
    pub fn purge_expired(&self) -> usize {
        let mut removed = 0;
        loop {
            let stats = self.inner.store.active_expire_cycle(usize::MAX);
            removed += stats.expired;
            if stats.expired == 0 && !stats.cut_short {
                return removed;
            }
        }
    }

    /// Whether a background thread reclaims expired entries.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// assert!(cache.has_background_expiry());
    /// ```
    pub fn has_background_expiry(&self) -> bool {
        self.inner
            .expiry
            .as_ref()
            .is_some_and(ExpiryThread::is_running)
    }

    /// Bytes the entries take, as the memory bound counts them.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// let before = cache.memory_used();
    /// cache.insert("k", [0u8; 1000]);
    /// assert!(cache.memory_used() >= before + 1000);
    /// ```
    pub fn memory_used(&self) -> usize {
        self.inner.store.used_memory()
    }

    /// The memory bound in bytes (0: none).
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::builder().max_memory(1 << 20).build();
    /// assert_eq!(cache.max_memory(), 1 << 20);
    /// ```
    pub fn max_memory(&self) -> usize {
        self.inner.store.max_memory()
    }

    /// Changes the memory bound; a lower one evicts down to it on the next write.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// cache.set_max_memory(8 << 20);
    /// assert_eq!(cache.max_memory(), 8 << 20);
    /// ```
    pub fn set_max_memory(&self, bytes: usize) {
        self.inner.store.set_max_memory(bytes);
    }

    /// The eviction policy in force.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, Policy};
    /// assert_eq!(Cache::new().policy(), Policy::AllKeysLfu);
    /// ```
    pub fn policy(&self) -> Policy {
        self.inner.store.eviction_policy()
    }

    /// Changes the eviction policy at run time.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::{Cache, Policy};
    /// let cache = Cache::new();
    /// cache.set_policy(Policy::AllKeysLfu);
    /// assert_eq!(cache.policy(), Policy::AllKeysLfu);
    /// ```
    pub fn set_policy(&self, policy: Policy) {
        self.inner.store.set_eviction_policy(policy);
    }

    /// The underlying [`Store`], for everything beyond a cache's calls: hashes, counters,
    /// SCAN, stats. The cache's entries live in database [`Cache::db`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// let (store, db) = (cache.store(), cache.db());
    /// assert_eq!(store.incr_by(db, b"hits", 1)?, 1);
    /// store.hset(db, b"user:1", &[(b"name", b"alice")])?;
    /// assert_eq!(cache.get("hits").as_deref(), Some(&b"1"[..]));
    /// assert_eq!(store.stats().keyspace_hits, 1);
    /// # Ok::<(), redistill_cache::StoreError>(())
    /// ```
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The database of [`Cache::store`] that holds the entries.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(redistill_cache::Cache::new().db(), 0);
    /// ```
    pub fn db(&self) -> usize {
        self.inner.db
    }

    /// The value of `key`, or on a miss the value `init` makes, stored with the default
    /// TTL. While `init` runs, other callers for the same key wait for its value instead
    /// of running theirs.
    ///
    /// If `init` panics, the panic goes on in this caller, and the callers waiting on it
    /// go round again: one of them runs its own `init`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// let v = cache.get_or_insert_with("k", || "loaded");
    /// assert_eq!(v, "loaded");
    /// let v = cache.get_or_insert_with("k", || -> &str { unreachable!("cached") });
    /// assert_eq!(v, "loaded");
    /// ```
    pub fn get_or_insert_with<V: Into<Bytes>>(
        &self,
        key: impl AsRef<[u8]>,
        init: impl FnOnce() -> V,
    ) -> Bytes {
        match self.try_get_or_insert_with(key, || Ok::<V, std::convert::Infallible>(init())) {
            Ok(v) => v,
            Err(e) => match e {},
        }
    }

    /// [`Cache::get_or_insert_with`] with a loader that may fail. An error goes to this
    /// caller only and nothing is stored; callers waiting on the load go round again, and
    /// one of them runs its own `init`.
    ///
    /// # Errors
    ///
    /// The error of this caller's own `init`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// let r = cache.try_get_or_insert_with("k", || Err::<String, _>("backend down"));
    /// assert_eq!(r, Err("backend down"));
    /// assert!(!cache.contains_key("k"));
    /// let r = cache.try_get_or_insert_with("k", || Ok::<_, &str>("v"));
    /// assert_eq!(r.as_deref(), Ok(&b"v"[..]));
    /// ```
    pub fn try_get_or_insert_with<V: Into<Bytes>, E>(
        &self,
        key: impl AsRef<[u8]>,
        init: impl FnOnce() -> Result<V, E>,
    ) -> Result<Bytes, E> {
        let key = key.as_ref();
        let leader = loop {
            if let Some(v) = self.get(key) {
                return Ok(v);
            }
            match self.inner.inflight.join(key) {
                Role::Waiter(w) => {
                    if let Some(v) = w.wait() {
                        return Ok(v);
                    }
                }
                Role::Leader(leader) => break leader,
            }
        };
        // A load that ended between the miss and the join left its value here.
        if let Some(v) = self.get(key) {
            leader.complete(v.clone());
            return Ok(v);
        }
        let value = init()?.into();
        Ok(self.publish(key, leader, value))
    }

    /// [`Cache::get_or_insert_with`] for async code: `init` is awaited only by the one
    /// caller that loads the key, and the others wait without blocking their thread. Works
    /// on any executor (tokio, async-std, a plain `block_on`). If the loading future is
    /// dropped before it finishes, a waiting caller takes over with its own `init`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let v = cache.get_or_insert_with_async("k", async { "loaded".to_string() }).await;
    /// assert_eq!(v, "loaded");
    /// # });
    /// ```
    pub async fn get_or_insert_with_async<V: Into<Bytes>>(
        &self,
        key: impl AsRef<[u8]>,
        init: impl Future<Output = V>,
    ) -> Bytes {
        let r = self
            .try_get_or_insert_with_async(key, async {
                Ok::<V, std::convert::Infallible>(init.await)
            })
            .await;
        match r {
            Ok(v) => v,
            Err(e) => match e {},
        }
    }

    /// [`Cache::try_get_or_insert_with`] for async code (see
    /// [`Cache::get_or_insert_with_async`]).
    ///
    /// # Errors
    ///
    /// The error of this caller's own `init`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let cache = redistill_cache::Cache::new();
    /// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// # rt.block_on(async {
    /// let r = cache.try_get_or_insert_with_async("k", async { Err::<Vec<u8>, _>(404) }).await;
    /// assert_eq!(r, Err(404));
    /// # });
    /// ```
    pub async fn try_get_or_insert_with_async<V: Into<Bytes>, E>(
        &self,
        key: impl AsRef<[u8]>,
        init: impl Future<Output = Result<V, E>>,
    ) -> Result<Bytes, E> {
        let key = key.as_ref();
        let leader = loop {
            if let Some(v) = self.get(key) {
                return Ok(v);
            }
            match self.inner.inflight.join(key) {
                Role::Waiter(w) => {
                    if let Some(v) = w.wait_async().await {
                        return Ok(v);
                    }
                }
                Role::Leader(leader) => break leader,
            }
        };
        if let Some(v) = self.get(key) {
            leader.complete(v.clone());
            return Ok(v);
        }
        let value = init.await?.into();
        Ok(self.publish(key, leader, value))
    }

    /// Stores a loaded value, then hands it to the waiters.
    fn publish(&self, key: &[u8], leader: Leader<'_>, value: Bytes) -> Bytes {
        let _ = self.write(key, &value, self.inner.ttl);
        leader.complete(value.clone());
        value
    }
}
