//! The `Store` handle, its builder, and the locking helpers every operation goes through.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use ahash::RandomState;
use parking_lot::RwLockWriteGuard;
use redistill_evict::{AccessWord, Evictor};

use crate::changes::{Change, ChangeListener, Event, Report};
use crate::clock::{Clock, SystemClock};
use crate::entry::Entry;
use crate::error::{Result, StoreError};
use crate::evict::Policy;
use crate::setobj::SetTable;
use crate::shard::{Shard, ShardState};
use crate::zsetobj::ZSetObj;

/// A collection type (list, hash, set) as [`Store::write_collection`] edits it.
pub(crate) trait Collection {
    /// The collection `e` holds, if it is of this type.
    fn of(e: &Entry) -> Option<&Self>;
    /// [`Collection::of`], to modify.
    fn of_mut(e: &mut Entry) -> Option<&mut Self>;
    /// Whether it holds nothing (and is to be deleted).
    fn is_empty(&self) -> bool;
    /// An entry for `key` holding a new, empty collection.
    fn new_entry(store: &Store, key: &[u8]) -> Entry;
}

thread_local! {
    /// Set while [`Store::without_touching`] runs on this thread.
    pub(crate) static NO_TOUCH: Cell<bool> = const { Cell::new(false) };
    /// Set while [`Store::past_memory_limit`] runs on this thread.
    static PAST_LIMIT: Cell<bool> = const { Cell::new(false) };
}

/// Largest shard count the builder accepts per database.
const MAX_SHARDS: usize = 1 << 12;

/// Configures and builds a [`Store`].
///
/// # Examples
///
/// ```
/// use redistill_store::{ManualClock, Store};
/// let store = Store::builder()
///     .databases(4)
///     .shards(8)
///     .max_memory(64 << 20)
///     .clock(ManualClock::new(0))
///     .build();
/// assert_eq!(store.databases(), 4);
/// assert_eq!(store.shards_per_db(), 8);
/// ```
pub struct StoreBuilder {
    databases: usize,
    shards: Option<usize>,
    max_memory: usize,
    evictor: Evictor,
    clock: Arc<dyn Clock>,
    seed: Option<u64>,
    expire_effort: u32,
    listener: Option<Arc<dyn ChangeListener>>,
}

impl Default for StoreBuilder {
    fn default() -> Self {
        Self {
            databases: 16,
            shards: None,
            max_memory: 0,
            evictor: Evictor::new(Policy::NoEviction),
            clock: Arc::new(SystemClock),
            seed: None,
            expire_effort: 1,
            listener: None,
        }
    }
}

impl std::fmt::Debug for StoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreBuilder")
            .field("databases", &self.databases)
            .field("shards", &self.shards)
            .field("max_memory", &self.max_memory)
            .field("policy", &self.evictor.policy())
            .finish_non_exhaustive()
    }
}

/// Default shards per database: four per core, a power of two between 16 and 1024.
fn default_shards() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores * 4).next_power_of_two().clamp(16, 1024)
}

impl StoreBuilder {
    /// Number of logical databases (SELECT 0..n). Default 16; at least 1.
    pub fn databases(mut self, n: usize) -> Self {
        self.databases = n.max(1);
        self
    }

    /// Shards per database, rounded up to a power of two (at most 4096). Default: four per
    /// available core, between 16 and 1024. More shards mean less lock contention.
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = Some(n.clamp(1, MAX_SHARDS).next_power_of_two());
        self
    }

    /// Memory limit in bytes for [`Store::used_memory`]; 0 (the default) means none.
    pub fn max_memory(mut self, bytes: usize) -> Self {
        self.max_memory = bytes;
        self
    }

    /// What to do when a write would exceed `max_memory` (Redis's `maxmemory-policy`).
    /// Default [`Policy::NoEviction`].
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Policy, SetOptions, Store};
    /// let store = Store::builder()
    ///     .databases(1)
    ///     .shards(4)
    ///     .max_memory(128 << 10)
    ///     .eviction_policy(Policy::AllKeysLru)
    ///     .build();
    /// for i in 0..1000u32 {
    ///     store.set(0, &i.to_be_bytes(), &[0u8; 200], SetOptions::default())?;
    /// }
    /// assert!(store.stats().evicted_keys > 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn eviction_policy(self, policy: Policy) -> Self {
        self.evictor.set_policy(policy);
        self
    }

    /// Keys sampled per eviction by the sampled policies (`maxmemory-samples`, default 5;
    /// values below 1 count as 1).
    pub fn maxmemory_samples(self, samples: u32) -> Self {
        let _ = self.evictor.set_samples(i64::from(samples.max(1)));
        self
    }

    /// How slowly the LFU counter grows (`lfu-log-factor`, default 10).
    pub fn lfu_log_factor(self, factor: u32) -> Self {
        let _ = self
            .evictor
            .set_lfu_log_factor(i64::from(factor.min(i32::MAX as u32)));
        self
    }

    /// Minutes per one-step decay of the LFU counter (`lfu-decay-time`, default 1; 0: none).
    pub fn lfu_decay_time(self, minutes: u32) -> Self {
        let _ = self
            .evictor
            .set_lfu_decay_time(i64::from(minutes.min(i32::MAX as u32)));
        self
    }

    /// The time source for expiry. Default: [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// `active-expire-effort`, 1 (the default) to 10; values outside are clamped. See
    /// [`Store::set_active_expire_effort`] for what it changes.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::Store;
    /// let store = Store::builder().active_expire_effort(4).build();
    /// assert_eq!(store.active_expire_effort(), 4);
    /// ```
    pub fn active_expire_effort(mut self, effort: u32) -> Self {
        self.expire_effort = effort.clamp(1, crate::expire::MAX_EXPIRE_EFFORT);
        self
    }

    /// Fixes the hash seed (reproducible layouts in tests and benches). Default: random.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Reports every change to the keyspace to `listener` (see the `changes` module for
    /// what is reported, when, and what a listener must not do). Default: none, and then
    /// reporting costs one branch per write.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use redistill_store::{Change, ChangeListener, Store};
    ///
    /// #[derive(Default)]
    /// struct Count(AtomicUsize);
    /// impl ChangeListener for Count {
    ///     fn changed(&self, _: Change<'_>) {
    ///         self.0.fetch_add(1, Ordering::Relaxed);
    ///     }
    /// }
    ///
    /// let count = Arc::new(Count::default());
    /// let store = Store::builder().change_listener(count.clone()).build();
    /// store.set(0, b"k", b"v", Default::default())?; // new, set
    /// assert_eq!(count.0.load(Ordering::Relaxed), 2);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn change_listener(mut self, listener: Arc<dyn ChangeListener>) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Builds the store. Allocates only the shard headers; tables grow on demand.
    pub fn build(self) -> Store {
        let shards = self.shards.unwrap_or_else(default_shards);
        let hasher = match self.seed {
            Some(s) => RandomState::with_seeds(s, s ^ 0x9e37_79b9, s.rotate_left(17), !s),
            None => RandomState::new(),
        };
        let dbs = (0..self.databases)
            .map(|_| Db {
                shards: (0..shards)
                    .map(|_| Shard::new(&hasher, shards.trailing_zeros()))
                    .collect(),
                expire_cursor: AtomicU64::new(0),
                avg_ttl_ms: AtomicU64::new(0),
            })
            .collect();
        let store = Store {
            inner: Arc::new(Inner {
                dbs,
                shard_bits: shards.trailing_zeros(),
                hasher,
                clock: self.clock,
                max_memory: AtomicUsize::new(self.max_memory),
                evictor: self.evictor,
                approx_used: Padded(AtomicI64::new(0)),
                external: Padded(AtomicI64::new(0)),
                evicted: Padded(AtomicU64::new(0)),
                evict_ns: Padded(AtomicU64::new(0)),
                over_limit_since_ms: Padded(AtomicU64::new(0)),
                over_limit_total_ms: AtomicU64::new(0),
                rng: Padded(AtomicU64::new(self.seed.unwrap_or(0x853c_49e6_748f_ea9b))),
                expire_cursor: AtomicUsize::new(0),
                expire_cut_short: AtomicBool::new(false),
                expire_effort: AtomicU32::new(self.expire_effort),
                lru_clock: AtomicU32::new(0),
                listener: self.listener,
                misses_reported: AtomicBool::new(false),
                list_fill: AtomicI64::new(crate::DEFAULT_LIST_MAX_LISTPACK_SIZE),
                list_compress: AtomicI64::new(crate::DEFAULT_LIST_COMPRESS_DEPTH),
                hash_max_entries: AtomicUsize::new(crate::HASH_MAX_LISTPACK_ENTRIES),
                hash_max_value: AtomicUsize::new(crate::HASH_MAX_LISTPACK_VALUE),
                set_intset_entries: AtomicUsize::new(crate::DEFAULT_SET_MAX_INTSET_ENTRIES),
                set_listpack_entries: AtomicUsize::new(crate::DEFAULT_SET_MAX_LISTPACK_ENTRIES),
                set_listpack_value: AtomicUsize::new(crate::DEFAULT_SET_MAX_LISTPACK_VALUE),
                zset_max_entries: AtomicI64::new(crate::DEFAULT_ZSET_MAX_LISTPACK_ENTRIES),
                zset_max_value: AtomicI64::new(crate::DEFAULT_ZSET_MAX_LISTPACK_VALUE),
                hll_sparse_max_bytes: AtomicUsize::new(crate::DEFAULT_HLL_SPARSE_MAX_BYTES),
            }),
        };
        // Starts the access clock (see `access_now`).
        store.now_ms();
        let base = store.used_memory() as i64;
        store.inner.approx_used.store(base, Ordering::Relaxed);
        store
    }
}

/// A value on cache lines of its own. The store-wide counters that writers update (the
/// memory total on every write under a limit, the eviction counters, the random sequence)
/// would otherwise share lines with fields every operation reads (the shard directory, the
/// hasher, the clock), and each update would evict those lines from the other cores.
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

pub(crate) struct Db {
    pub(crate) shards: Box<[Shard]>,
    /// Where active expiry resumes: a SCAN-style cursor over the shards' TTL indexes.
    pub(crate) expire_cursor: AtomicU64,
    /// Redis's `avg_ttl`: a running average, in milliseconds, of the remaining TTLs the
    /// active expiry cycle finds on the keys it samples; 0 until it has sampled one.
    pub(crate) avg_ttl_ms: AtomicU64,
}

pub(crate) struct Inner {
    pub(crate) dbs: Box<[Db]>,
    pub(crate) shard_bits: u32,
    pub(crate) hasher: RandomState,
    pub(crate) clock: Arc<dyn Clock>,
    /// The memory limit in bytes; 0 = none.
    pub(crate) max_memory: AtomicUsize,
    pub(crate) evictor: Evictor,
    /// Sum of shard byte deltas, maintained only when a memory limit is set (one shared
    /// atomic add per write is a cost paid only by stores that need the total); set from
    /// a full recount when a limit is turned on.
    pub(crate) approx_used: Padded<AtomicI64>,
    /// Bytes held outside the keyspace on its behalf that count against the limit (see
    /// [`Store::add_external_memory`]).
    pub(crate) external: Padded<AtomicI64>,
    /// Keys evicted to stay under the limit.
    pub(crate) evicted: Padded<AtomicU64>,
    /// Nanoseconds spent evicting.
    pub(crate) evict_ns: Padded<AtomicU64>,
    /// When the current stretch over the limit began (store clock, ms; 0 = not over): the
    /// first check that could not get under the limit starts it, the next check that finds
    /// usage under the limit ends it (Redis's `stat_last_eviction_exceeded_time`).
    pub(crate) over_limit_since_ms: Padded<AtomicU64>,
    /// Milliseconds of the stretches over the limit that have ended.
    pub(crate) over_limit_total_ms: AtomicU64,
    pub(crate) rng: Padded<AtomicU64>,
    /// The database the next active expiry cycle starts with.
    pub(crate) expire_cursor: AtomicUsize,
    /// The last cycle hit its time limit or budget (Redis's `timelimit_exit`).
    pub(crate) expire_cut_short: AtomicBool,
    /// `active-expire-effort`, 1 to 10.
    pub(crate) expire_effort: AtomicU32,
    /// The clock in seconds as last read: what reads store in access words, so a read of a
    /// key without TTL never has to consult the clock (Redis's `lruclock` plays this part).
    pub(crate) lru_clock: AtomicU32,
    /// Where changes are reported (see the `changes` module).
    pub(crate) listener: Option<Arc<dyn ChangeListener>>,
    /// Reads of missing keys are reported to the listener ([`Store::report_misses`]).
    pub(crate) misses_reported: AtomicBool,
    /// `list-max-listpack-size` as set (lists made from now on use it).
    pub(crate) list_fill: AtomicI64,
    /// `list-compress-depth` as set (lists made from now on use it).
    pub(crate) list_compress: AtomicI64,
    /// `hash-max-listpack-entries`: most fields a hash keeps packed.
    pub(crate) hash_max_entries: AtomicUsize,
    /// `hash-max-listpack-value`: longest field or value a hash keeps packed.
    pub(crate) hash_max_value: AtomicUsize,
    /// `set-max-intset-entries`: most members a set keeps as an intset.
    pub(crate) set_intset_entries: AtomicUsize,
    /// `set-max-listpack-entries`: most members a set keeps as a listpack.
    pub(crate) set_listpack_entries: AtomicUsize,
    /// `set-max-listpack-value`: longest member a listpack set keeps.
    pub(crate) set_listpack_value: AtomicUsize,
    /// `zset-max-listpack-entries` as set.
    pub(crate) zset_max_entries: AtomicI64,
    /// `zset-max-listpack-value` as set.
    pub(crate) zset_max_value: AtomicI64,
    /// `hll-sparse-max-bytes`: longest sparse HyperLogLog.
    pub(crate) hll_sparse_max_bytes: AtomicUsize,
}

/// A sharded keyspace with Redis semantics; cheap to clone and share between threads.
///
/// Every operation takes the database index first and returns
/// [`StoreError::DbIndexOutOfRange`] for an index past [`Store::databases`].
///
/// # Examples
///
/// ```
/// use redistill_store::{SetOptions, Store};
/// let store = Store::builder().build();
/// store.set(0, b"greeting", b"hello", SetOptions::default())?;
/// assert_eq!(store.get(0, b"greeting")?.as_deref(), Some(&b"hello"[..]));
/// assert_eq!(store.incr_by(0, b"visits", 1)?, 1);
/// # Ok::<(), redistill_store::StoreError>(())
/// ```
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("databases", &self.databases())
            .field("shards_per_db", &self.shards_per_db())
            .field("max_memory", &self.max_memory())
            .finish_non_exhaustive()
    }
}

/// Write access to the shard holding one key.
pub(crate) struct WriteCtx<'a> {
    pub(crate) st: RwLockWriteGuard<'a, ShardState>,
    pub(crate) shard: &'a Shard,
    pub(crate) hash: u64,
    /// The clock, read at most once and only when needed (most writes never need it).
    pub(crate) now: std::cell::Cell<Option<u64>>,
    pub(crate) store: &'a Store,
    /// Where this write's changes are reported.
    pub(crate) report: Report<'a>,
}

impl WriteCtx<'_> {
    /// The clock in ms, read on first use.
    pub(crate) fn now(&self) -> u64 {
        match self.now.get() {
            Some(n) => n,
            None => {
                let n = self.store.now_ms();
                self.now.set(Some(n));
                n
            }
        }
    }

    /// Slot of the live entry for `key` (the key this context was opened for).
    #[inline]
    pub(crate) fn live(&mut self, key: &[u8]) -> Option<usize> {
        let (hash, shard) = (self.hash, self.shard);
        let i = self.st.table.find(hash, key)?;
        if self.st.table.get(i).has_expire() {
            let now = self.now();
            return self.st.live(shard, hash, key, now, self.report);
        }
        Some(i)
    }

    #[inline]
    pub(crate) fn entry(&self, i: usize) -> &Entry {
        self.st.table.get(i)
    }

    pub(crate) fn insert(&mut self, entry: Entry) -> usize {
        let now = self.store.access_now_ms();
        let (hash, shard) = (self.hash, self.shard);
        self.st
            .insert(shard, hash, entry, &self.store.inner.evictor, now)
    }

    pub(crate) fn remove(&mut self, i: usize) -> Entry {
        let shard = self.shard;
        self.st.remove(shard, i)
    }

    /// Counts an access to slot `i` for eviction, as a lookup does, changing nothing.
    #[inline]
    pub(crate) fn touch(&self, i: usize) {
        self.store.record_access(self.st.table.meta(i));
    }

    #[inline]
    pub(crate) fn update<R>(&mut self, i: usize, f: impl FnOnce(&mut Entry) -> R) -> R {
        self.touch(i);
        let shard = self.shard;
        self.st.update(shard, i, f)
    }

    /// Inserts or replaces the whole entry for the key, reporting [`Event::New`] for a
    /// key it creates.
    pub(crate) fn put(&mut self, existing: Option<usize>, key: &[u8], entry: Entry) {
        match existing {
            Some(i) => self.update(i, |e| *e = entry),
            None => {
                self.insert(entry);
                self.emit(key, Event::New);
            }
        }
    }

    /// Reports `event` on `key` (this context's key, or another of its shard).
    #[inline]
    pub(crate) fn emit(&self, key: &[u8], event: Event) {
        self.report.key(key, event);
    }
}

impl Store {
    /// A builder with the documented defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::Store;
    /// let store = Store::builder().databases(1).shards(4).build();
    /// assert_eq!((store.databases(), store.shards_per_db()), (1, 4));
    /// ```
    pub fn builder() -> StoreBuilder {
        StoreBuilder::default()
    }

    /// A store with all defaults: 16 databases, no memory limit, system clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let store = redistill_store::Store::new();
    /// assert_eq!(store.databases(), 16);
    /// assert_eq!(store.max_memory(), 0);
    /// ```
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Number of databases.
    pub fn databases(&self) -> usize {
        self.inner.dbs.len()
    }

    /// Shards per database.
    pub fn shards_per_db(&self) -> usize {
        1 << self.inner.shard_bits
    }

    /// The configured memory limit (0 = none).
    pub fn max_memory(&self) -> usize {
        self.inner.max_memory.load(Ordering::Relaxed)
    }

    /// Changes the memory limit at run time (0 = none), as `CONFIG SET maxmemory` does.
    ///
    /// Turning a limit on recounts the memory in use (every shard, under its read lock),
    /// since the running total is kept only while a limit is set. Lowering it below the
    /// usage evicts at once under an evicting policy, as Redis does.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Policy, SetOptions, Store};
    /// let store = Store::builder()
    ///     .databases(1)
    ///     .shards(4)
    ///     .eviction_policy(Policy::AllKeysRandom)
    ///     .build();
    /// for i in 0..1000u32 {
    ///     store.set(0, &i.to_be_bytes(), &[0u8; 200], SetOptions::default())?;
    /// }
    /// store.set_max_memory(128 << 10);
    /// assert!(store.used_memory() <= 128 << 10);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn set_max_memory(&self, bytes: usize) {
        let old = self.inner.max_memory.swap(bytes, Ordering::Relaxed);
        if bytes == 0 {
            return;
        }
        if old == 0 {
            // Writes racing with the recount may be counted twice or not at all; the next
            // change of the limit, or a restart, corrects that small drift.
            let used = self.used_memory();
            self.inner
                .approx_used
                .store(i64::try_from(used).unwrap_or(i64::MAX), Ordering::Relaxed);
        }
        // Nothing to evict, or a policy that may not evict: later writes report OOM.
        let _ = self.evict_to_limit(bytes);
    }

    /// Records `delta` bytes more (or fewer) of memory held outside the keyspace that
    /// `max_memory` should count: a server's client buffers, say, which Redis counts in
    /// `used_memory` and evicts for. The limit is then checked against the keyspace's bytes
    /// plus these.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Policy, SetOptions, Store};
    /// let store = Store::builder()
    ///     .databases(1)
    ///     .shards(4)
    ///     .max_memory(1 << 20)
    ///     .eviction_policy(Policy::AllKeysLru)
    ///     .build();
    /// for i in 0..1000u32 {
    ///     store.set(0, &i.to_be_bytes(), &[0u8; 500], SetOptions::default())?;
    /// }
    /// // 600 KB of request buffers elsewhere: the next check evicts to make room for them.
    /// store.add_external_memory(600 << 10);
    /// assert!(store.over_memory_limit());
    /// store.enforce_memory_limit()?;
    /// assert!(store.used_memory() + store.external_memory() <= 1 << 20);
    /// store.add_external_memory(-(600 << 10));
    /// assert_eq!(store.external_memory(), 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn add_external_memory(&self, delta: i64) {
        if delta != 0 {
            self.inner.external.fetch_add(delta, Ordering::Relaxed);
        }
    }

    /// The bytes recorded with [`Store::add_external_memory`].
    pub fn external_memory(&self) -> usize {
        usize::try_from(self.inner.external.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Whether memory in use, the keyspace's and the external bytes together, is over
    /// `max_memory` (false when there is no limit): two relaxed loads, cheap enough to ask
    /// before every command.
    #[inline]
    pub fn over_memory_limit(&self) -> bool {
        let max = self.inner.max_memory.load(Ordering::Relaxed);
        max > 0 && self.limited_usage() > max
    }

    /// The figure the limit is compared with: the running keyspace total plus the
    /// external bytes.
    #[inline]
    pub(crate) fn limited_usage(&self) -> usize {
        let used = self.inner.approx_used.load(Ordering::Relaxed)
            + self.inner.external.load(Ordering::Relaxed);
        usize::try_from(used).unwrap_or(0)
    }

    /// Evicts until memory in use is under `max_memory`, as Redis does before every
    /// command; an embedder calls this where Redis would, the store itself calls it before
    /// each write that may grow memory.
    ///
    /// # Errors
    ///
    /// [`StoreError::OutOfMemory`] while usage stays over the limit: `noeviction`, or no key
    /// left that the policy may evict. A caller refuses commands that may grow memory
    /// then, and runs the others.
    pub fn enforce_memory_limit(&self) -> Result<()> {
        self.check_memory()
    }

    /// The eviction policy in force.
    pub fn eviction_policy(&self) -> Policy {
        self.inner.evictor.policy()
    }

    /// Switches the eviction policy at run time (`CONFIG SET maxmemory-policy`). Entries
    /// keep their access words; state of the old policy is dropped shard by shard.
    pub fn set_eviction_policy(&self, policy: Policy) {
        self.inner.evictor.set_policy(policy);
    }

    /// `maxmemory-samples` in force.
    pub fn maxmemory_samples(&self) -> u32 {
        self.inner.evictor.samples()
    }

    /// Sets `maxmemory-samples` (1 to 2147483647).
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidEvictionSetting`] outside that range.
    pub fn set_maxmemory_samples(&self, samples: i64) -> Result<()> {
        self.inner
            .evictor
            .set_samples(samples)
            .map_err(StoreError::from)
    }

    /// Sets `lfu-log-factor` (0 to 2147483647).
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidEvictionSetting`] outside that range.
    pub fn set_lfu_log_factor(&self, factor: i64) -> Result<()> {
        self.inner
            .evictor
            .set_lfu_log_factor(factor)
            .map_err(StoreError::from)
    }

    /// Sets `lfu-decay-time` in minutes (0 to 2147483647).
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidEvictionSetting`] outside that range.
    pub fn set_lfu_decay_time(&self, minutes: i64) -> Result<()> {
        self.inner
            .evictor
            .set_lfu_decay_time(minutes)
            .map_err(StoreError::from)
    }

    /// The store clock's current time in unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        let now = self.inner.clock.now_ms();
        let secs = (now / 1000) as u32;
        // Only write when the second changes, so the shared line stays read-mostly.
        if self.inner.lru_clock.load(Ordering::Relaxed) != secs {
            self.inner.lru_clock.store(secs, Ordering::Relaxed);
        }
        now
    }

    /// The value stored in an entry's access word on reads and writes: the clock in seconds
    /// as of the store's last clock reading. Like Redis's cron-updated `lruclock`, it advances
    /// whenever the store reads its clock (expiry checks, writes with TTLs, OBJECT IDLETIME,
    /// and [`Store::active_expire_cycle`], which a server runs about ten times a second), so
    /// plain GETs and SETs never pay for a clock read.
    #[inline]
    pub(crate) fn access_now_ms(&self) -> u64 {
        u64::from(self.inner.lru_clock.load(Ordering::Relaxed)) * 1000
    }

    /// Runs `f` with this thread's reads leaving the keys' access words alone, so that
    /// inspecting keys does not change which ones eviction picks: Redis's
    /// `CLIENT NO-TOUCH`. Writes still count as accesses, as a new value does in Redis.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Policy, Store};
    ///
    /// let store = Store::builder().eviction_policy(Policy::AllKeysLfu).lfu_log_factor(0).build();
    /// store.set(0, b"k", b"v", Default::default())?;
    /// let before = store.object_freq(0, b"k")?;
    /// Store::without_touching(|| store.get(0, b"k"))?;
    /// assert_eq!(store.object_freq(0, b"k")?, before);
    /// store.get(0, b"k")?;
    /// assert!(store.object_freq(0, b"k")? > before);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn without_touching<R>(f: impl FnOnce() -> R) -> R {
        /// Puts the previous setting back, also if `f` unwinds.
        struct Restore(bool);
        impl Drop for Restore {
            fn drop(&mut self) {
                NO_TOUCH.with(|c| c.set(self.0));
            }
        }
        let _restore = Restore(NO_TOUCH.with(|c| c.replace(true)));
        f()
    }

    /// Runs `f` with writes allowed past `max_memory`: the policy still evicts what it
    /// can, but a write it cannot make room for goes ahead instead of failing with
    /// [`StoreError::OutOfMemory`]. For what Redis checks once per command rather than per
    /// write: a script flagged `allow-oom`, and a script's writes after its first.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Store, StoreError};
    ///
    /// let store = Store::builder().max_memory(1).build();
    /// assert!(matches!(store.set(0, b"k", b"v", Default::default()), Err(StoreError::OutOfMemory)));
    /// Store::past_memory_limit(|| store.set(0, b"k", b"v", Default::default()))?;
    /// assert!(store.get(0, b"k")?.is_some());
    /// # Ok::<(), StoreError>(())
    /// ```
    pub fn past_memory_limit<R>(f: impl FnOnce() -> R) -> R {
        /// Puts the previous setting back, also if `f` unwinds.
        struct Restore(bool);
        impl Drop for Restore {
            fn drop(&mut self) {
                PAST_LIMIT.with(|c| c.set(self.0));
            }
        }
        let _restore = Restore(PAST_LIMIT.with(|c| c.replace(true)));
        f()
    }

    /// Records an access in an entry's access word (the policy decides what that means;
    /// the LRU clock is only stored when its second changed, so the line stays clean).
    #[inline]
    pub(crate) fn record_access(&self, word: &AccessWord) {
        self.inner.evictor.on_access(word, self.access_now_ms());
    }

    #[inline]
    pub(crate) fn db(&self, db: usize) -> Result<&Db> {
        self.inner.dbs.get(db).ok_or(StoreError::DbIndexOutOfRange {
            index: db,
            databases: self.inner.dbs.len(),
        })
    }

    pub(crate) fn check_db(&self, db: usize) -> Result<()> {
        self.db(db).map(|_| ())
    }

    /// Hints the CPU to fetch where `keys` live, so that a batch of lookups (a pipeline's
    /// requests) overlaps its cache misses instead of taking them one after another.
    ///
    /// It changes nothing and answers nothing: a key that is missing, or that moves before
    /// it is looked up, only loses the hint. Up to 64 keys are used (a run of one key counts
    /// once).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::Store;
    ///
    /// let store = Store::new();
    /// store.set(0, b"a", b"1", Default::default())?;
    /// let batch: [&[u8]; 3] = [b"a", b"b", b"c"];
    /// store.prefetch(0, batch);
    /// for key in batch {
    ///     store.get(0, key)?;
    /// }
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn prefetch<'k>(&self, db: usize, keys: impl IntoIterator<Item = &'k [u8]>) {
        let Ok(d) = self.db(db) else { return };
        let mut hashes = [0u64; 64];
        let mut n = 0;
        // First every key's slot, then (the slots now on their way) each entry's own
        // allocation: two rounds of misses in flight together instead of two per key. A
        // key repeating the one before it (a pipeline on one counter, set or queue) is
        // already on its way, and costs only the comparison.
        let mut previous: Option<&[u8]> = None;
        for key in keys {
            if n == hashes.len() {
                break;
            }
            if previous.is_some_and(|p| crate::table::same_key(p, key)) {
                continue;
            }
            previous = Some(key);
            let h = self.hash(key);
            hashes[n] = h;
            let shard = &d.shards[self.shard_index(h)];
            shard.state.read().table.prefetch_slot(h);
            n += 1;
        }
        for &h in &hashes[..n] {
            let shard = &d.shards[self.shard_index(h)];
            shard.state.read().table.prefetch_entry(h);
        }
    }

    /// Hints the CPU to fetch where `members` (up to 64) would be found in the collection at
    /// `key`: a pipeline of SADDs, SISMEMBERs, HGETs or ZSCOREs on one big set, hash or
    /// sorted set then overlaps its lookups' cache misses, as [`Store::prefetch`] does for
    /// keys. It changes nothing and answers nothing; a small (packed) collection, a missing
    /// key or one of another type only loses the hint.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::Store;
    ///
    /// let store = Store::new();
    /// let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    /// let members: Vec<&[u8]> = members.iter().map(|m| m.as_bytes()).collect();
    /// store.sadd(0, b"tags", &members)?;
    /// store.prefetch_members(0, b"tags", &members[..16]);
    /// for m in &members[..16] {
    ///     assert!(store.sismember(0, b"tags", m)?);
    /// }
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn prefetch_members(&self, db: usize, key: &[u8], members: &[&[u8]]) {
        let Ok(d) = self.db(db) else { return };
        let h = self.hash(key);
        let st = d.shards[self.shard_index(h)].state.read();
        let Some(i) = st.table.find(h, key) else {
            return;
        };
        let e = st.table.get(i);
        if let Some(set) = e.as_set() {
            if let Some(SetTable::Members(t)) = set.table() {
                t.prefetch_keys(members);
            }
        } else if let Some(hash) = e.as_hash() {
            if let Some(t) = hash.view().table() {
                t.prefetch_keys(members);
            }
        } else if let Some(t) = e.as_zset().and_then(ZSetObj::table) {
            t.prefetch_keys(members);
        }
    }

    /// The key's hash, rotated so the shard-selecting bits are the lowest ones: tables place
    /// keys by the top bits, and a scan threshold's low bits then name its shard.
    #[inline]
    pub(crate) fn hash(&self, key: &[u8]) -> u64 {
        self.inner
            .hasher
            .hash_one(key)
            .rotate_left(self.inner.shard_bits)
    }

    #[inline]
    pub(crate) fn shard_index(&self, hash: u64) -> usize {
        (hash & ((1u64 << self.inner.shard_bits) - 1)) as usize
    }

    pub(crate) fn next_random(&self) -> u64 {
        // splitmix64 over a shared counter: cheap, and only used off the hot paths.
        let mut z = self
            .inner
            .rng
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Looks `key` up under a read lock and hands the live entry (or `None`) to `f`.
    ///
    /// Counts a keyspace hit or miss and bumps the entry's access word. An expired entry
    /// reads as absent and is deleted under a write lock afterwards.
    #[inline(always)]
    pub(crate) fn read<R>(
        &self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(Option<&Entry>) -> R,
    ) -> Result<R> {
        self.read_opts(db, key, true, f)
    }

    /// Like [`Store::read`]; `touch = false` leaves the access word alone, as Redis's
    /// `LOOKUP_NOTOUCH` does for TYPE, EXISTS and TTL (they still count as hits or misses).
    #[inline(always)]
    pub(crate) fn read_opts<R>(
        &self,
        db: usize,
        key: &[u8],
        touch: bool,
        f: impl FnOnce(Option<&Entry>) -> R,
    ) -> Result<R> {
        let d = self.db(db)?;
        let hash = self.hash(key);
        let shard = &d.shards[self.shard_index(hash)];
        let mut expired_at = None;
        {
            let st = shard.state.read();
            if let Some(i) = st.table.find(hash, key) {
                let e = st.table.get(i);
                let now = if e.has_expire() { self.now_ms() } else { 0 };
                if e.is_expired(now) {
                    expired_at = Some(now);
                } else {
                    if touch && !NO_TOUCH.with(Cell::get) {
                        self.record_access(st.table.meta(i));
                    }
                    shard.record_lookup(true);
                    return Ok(f(Some(e)));
                }
            }
        }
        shard.record_lookup(false);
        if let Some(now) = expired_at {
            // The deletion frees memory the running total under a limit must give back.
            let mut st = shard.state.write();
            let before = st.total_bytes();
            st.live(shard, hash, key, now, self.report(db));
            let after = st.total_bytes();
            drop(st);
            self.account(before, after);
        }
        self.missed(db, key);
        Ok(f(None))
    }

    /// Looks `key` up without touching statistics or access words (TTL, TYPE-like probes).
    pub(crate) fn peek<R>(
        &self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(Option<&Entry>, &AccessWord) -> R,
    ) -> Result<R> {
        let d = self.db(db)?;
        let hash = self.hash(key);
        let shard = &d.shards[self.shard_index(hash)];
        let now = self.now_ms();
        let st = shard.state.read();
        let none = AccessWord::new(0);
        match st.table.find(hash, key) {
            Some(i) if !st.table.get(i).is_expired(now) => {
                Ok(f(Some(st.table.get(i)), st.table.meta(i)))
            }
            _ => Ok(f(None, &none)),
        }
    }

    /// Opens the shard of `key` for writing.
    pub(crate) fn write(&self, db: usize, key: &[u8]) -> Result<WriteCtx<'_>> {
        let d = self.db(db)?;
        let hash = self.hash(key);
        let shard = &d.shards[self.shard_index(hash)];
        Ok(WriteCtx {
            st: shard.state.write(),
            shard,
            hash,
            now: std::cell::Cell::new(None),
            store: self,
            report: self.report(db),
        })
    }

    /// Modifies the collection at `key`, creating it when `create` is set (and `f` is
    /// then the first to see it). `f` returns its result and the event its change is
    /// reported as (`None`: nothing changed). [`Event::New`] precedes the event of a
    /// collection created; an emptied one is deleted and reported as [`Event::Del`]
    /// after it, as Redis never keeps empty collections. A missing key (without
    /// `create`) answers `absent()`; a key of another type fails with WRONGTYPE.
    pub(crate) fn write_collection<T: Collection, R>(
        &self,
        db: usize,
        key: &[u8],
        create: bool,
        f: impl FnOnce(&mut T) -> Result<(R, Option<Event>)>,
        absent: impl FnOnce() -> Result<R>,
    ) -> Result<R> {
        self.with_write(db, key, |ctx| {
            let (i, created) = match ctx.live(key) {
                Some(i) => {
                    T::of(ctx.entry(i)).ok_or(StoreError::WrongType)?;
                    (i, false)
                }
                None if create => (ctx.insert(T::new_entry(self, key)), true),
                None => return absent(),
            };
            let r = ctx.update(i, |e| T::of_mut(e).map_or(Err(StoreError::WrongType), f));
            if let Ok((_, Some(event))) = &r {
                if created {
                    ctx.emit(key, Event::New);
                }
                ctx.emit(key, *event);
            }
            // Slot `i` still holds the collection: nothing was inserted or removed since.
            if T::of(ctx.entry(i)).is_some_and(T::is_empty) {
                ctx.remove(i);
                if !created {
                    ctx.emit(key, Event::Del);
                }
            }
            r.map(|(r, _)| r)
        })
    }

    /// Runs a write against `key`'s shard, keeping the memory-limit total current.
    pub(crate) fn with_write<R>(
        &self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(&mut WriteCtx<'_>) -> Result<R>,
    ) -> Result<R> {
        let mut ctx = self.write(db, key)?;
        let before = ctx.st.total_bytes();
        let r = f(&mut ctx);
        let after = ctx.st.total_bytes();
        drop(ctx);
        self.account(before, after);
        self.settle(after.saturating_sub(before));
        r
    }

    pub(crate) fn account(&self, before: usize, after: usize) {
        if before != after && self.inner.max_memory.load(Ordering::Relaxed) > 0 {
            let delta = after as i64 - before as i64;
            self.inner.approx_used.fetch_add(delta, Ordering::Relaxed);
        }
    }

    /// After a write that grew memory by `grew` bytes, with no lock held: evicts while
    /// usage is over the limit by more than that growth.
    ///
    /// The check before a write passes for every writer that arrives while usage is under
    /// the limit, so writers on several threads can together overshoot it by one entry
    /// each; this second check makes each write return with usage over the limit by at most
    /// what that write itself added. Two relaxed loads when nothing needs evicting.
    pub(crate) fn settle(&self, grew: usize) {
        let max = self.inner.max_memory.load(Ordering::Relaxed);
        if max == 0 || grew == 0 {
            return;
        }
        // A policy that may not evict leaves usage where it is: later writes get OOM.
        let _ = self.evict_to_limit(max.saturating_add(grew));
    }

    /// Evicts down to the limit, or fails with [`StoreError::OutOfMemory`] when a growing
    /// write must be refused.
    ///
    /// Like Redis, the check happens before the command runs and holds no lock: once usage
    /// is over the limit, the policy evicts; when it cannot, commands that may grow memory
    /// are refused; reads and deletes always work.
    pub(crate) fn check_memory(&self) -> Result<()> {
        let max = self.inner.max_memory.load(Ordering::Relaxed);
        if max == 0 {
            self.track_over_limit(false);
            return Ok(());
        }
        // Under a limit the access clock must move even when nothing else reads the clock
        // (no TTLs, no expiry cycle): otherwise every entry written or read since the last
        // reading would carry the same LRU time and the policy could not tell them apart.
        self.now_ms();
        let result = self.evict_to_limit(max);
        self.track_over_limit(result.is_err());
        if result.is_err() && PAST_LIMIT.with(Cell::get) {
            return Ok(());
        }
        result
    }

    /// Write guards on several shards, taken in ascending (db, shard) order so that any two
    /// multi-key operations lock in the same order and cannot deadlock.
    pub(crate) fn lock_many(
        &self,
        mut ids: Vec<(usize, usize)>,
    ) -> Vec<((usize, usize), RwLockWriteGuard<'_, ShardState>)> {
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .map(|(db, s)| ((db, s), self.inner.dbs[db].shards[s].state.write()))
            .collect()
    }

    /// Where changes to database `db` are reported.
    #[inline]
    pub(crate) fn report(&self, db: usize) -> Report<'_> {
        Report {
            listener: self.inner.listener.as_deref(),
            db,
        }
    }

    /// Reports a database-wide change, if a listener is installed.
    pub(crate) fn report_change(&self, change: Change<'_>) {
        if let Some(listener) = &self.inner.listener {
            listener.changed(change);
        }
    }

    /// Whether reads that look up a missing key tell the listener
    /// ([`ChangeListener::missed`]); off by default, when a miss costs one relaxed load.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use redistill_store::{Change, ChangeListener, SetOptions, Store};
    ///
    /// #[derive(Default)]
    /// struct Misses(Mutex<Vec<Vec<u8>>>);
    ///
    /// impl ChangeListener for Misses {
    ///     fn changed(&self, _: Change<'_>) {}
    ///     fn missed(&self, _db: usize, key: &[u8]) {
    ///         self.0.lock().unwrap().push(key.to_vec());
    ///     }
    /// }
    ///
    /// let misses = Arc::new(Misses::default());
    /// let store = Store::builder().change_listener(misses.clone()).build();
    /// store.get(0, b"a")?;
    /// store.report_misses(true);
    /// store.get(0, b"b")?;
    /// store.mget(0, &[b"c", b"b"])?;
    /// // SET ... GET reads its key; a plain write looks it up without reporting.
    /// store.set(0, b"d", b"v", SetOptions { get: true, ..Default::default() })?;
    /// store.set(0, b"e", b"v", SetOptions::default())?;
    /// store.get(0, b"e")?;
    /// let seen: Vec<Vec<u8>> = misses.0.lock().unwrap().clone();
    /// assert_eq!(seen, [&b"b"[..], b"c", b"b", b"d"]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn report_misses(&self, on: bool) {
        self.inner.misses_reported.store(on, Ordering::Relaxed);
    }

    /// A read looked `key` up in database `db` and did not find it: reported to the
    /// listener if [`Store::report_misses`] asked for it.
    #[inline]
    pub(crate) fn missed(&self, db: usize, key: &[u8]) {
        if self.inner.misses_reported.load(Ordering::Relaxed) {
            self.report_miss(db, key);
        }
    }

    #[cold]
    fn report_miss(&self, db: usize, key: &[u8]) {
        if let Some(listener) = &self.inner.listener {
            listener.missed(db, key);
        }
    }

    /// Whether a listener is installed.
    pub(crate) fn reports(&self) -> bool {
        self.inner.listener.is_some()
    }

    pub(crate) fn shard(&self, db: usize, s: usize) -> &Shard {
        &self.inner.dbs[db].shards[s]
    }
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}
