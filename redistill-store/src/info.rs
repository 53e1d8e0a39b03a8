//! Introspection for INFO, OBJECT and MEMORY: counters, sizes and per-key details.

use std::sync::atomic::Ordering;

use crate::error::Result;
use crate::store::Store;
use crate::table::Slot;

/// Store-wide counters, as INFO `stats` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Successful key lookups (`keyspace_hits`).
    pub keyspace_hits: u64,
    /// Failed key lookups (`keyspace_misses`).
    pub keyspace_misses: u64,
    /// Keys removed because their TTL passed (`expired_keys`).
    pub expired_keys: u64,
    /// Keys removed by the eviction policy to stay under `max_memory` (`evicted_keys`).
    pub evicted_keys: u64,
    /// Total time spent evicting, in nanoseconds.
    pub eviction_time_ns: u64,
    /// Milliseconds the store has spent over `max_memory` because eviction could not bring
    /// it under (`noeviction`, no volatile key left), the current stretch included
    /// (`total_eviction_exceeded_time`). A stretch starts when a write finds usage over the
    /// limit and cannot evict enough, and ends at the next write that finds it under.
    pub eviction_exceeded_ms: u64,
    /// Milliseconds of the current stretch over the limit, 0 when under it
    /// (`current_eviction_exceeded_time`).
    pub current_eviction_exceeded_ms: u64,
}

/// Per-database counts, as INFO `keyspace` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DbInfo {
    /// Keys (`keys=`).
    pub keys: usize,
    /// Keys with a TTL (`expires=`).
    pub expires: usize,
    /// Running average of the remaining TTLs the active expiry cycle samples, in
    /// milliseconds (`avg_ttl=`); 0 until a cycle has sampled a key that has not expired.
    pub avg_ttl_ms: u64,
}

impl Store {
    /// Hit, miss and expiry counters summed over all shards, and the eviction counters.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ManualClock, Store};
    /// let clock = ManualClock::new(0);
    /// let store = Store::builder().clock(clock.clone()).build();
    /// store.psetex(0, b"k", 10, b"v")?;
    /// store.get(0, b"k")?;
    /// store.get(0, b"missing")?;
    /// clock.advance(10);
    /// store.get(0, b"k")?; // expired: deleted on access, and a miss
    /// let stats = store.stats();
    /// assert_eq!((stats.keyspace_hits, stats.keyspace_misses), (1, 2));
    /// assert_eq!(stats.expired_keys, 1);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn stats(&self) -> Stats {
        let mut s = Stats {
            evicted_keys: self.inner.evicted.load(Ordering::Relaxed),
            eviction_time_ns: self.inner.evict_ns.load(Ordering::Relaxed),
            ..Stats::default()
        };
        let since = self.inner.over_limit_since_ms.load(Ordering::Relaxed);
        if since != 0 {
            s.current_eviction_exceeded_ms = self.now_ms().saturating_sub(since);
        }
        s.eviction_exceeded_ms =
            self.inner.over_limit_total_ms.load(Ordering::Relaxed) + s.current_eviction_exceeded_ms;
        for db in self.inner.dbs.iter() {
            for sh in db.shards.iter() {
                s.keyspace_hits += sh.hits.load(Ordering::Relaxed);
                s.keyspace_misses += sh.misses.load(Ordering::Relaxed);
                s.expired_keys += sh.expired.load(Ordering::Relaxed);
            }
        }
        s
    }

    /// Key and TTL counts of one database.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"a", b"1", Default::default())?;
    /// store.psetex(0, b"b", 60_000, b"2")?;
    /// let info = store.db_info(0)?;
    /// assert_eq!((info.keys, info.expires), (2, 1));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn db_info(&self, db: usize) -> Result<DbInfo> {
        let d = self.db(db)?;
        let mut info = DbInfo {
            avg_ttl_ms: d.avg_ttl_ms.load(Ordering::Relaxed),
            ..DbInfo::default()
        };
        for sh in d.shards.iter() {
            info.keys += sh.len.load(Ordering::Relaxed);
            info.expires += sh.volatile_len.load(Ordering::Relaxed);
        }
        Ok(info)
    }

    /// Heap bytes the keyspace holds: entries (allocator rounding included), table arrays and
    /// the TTL index. This is the figure `max_memory` is compared with.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// let empty = store.used_memory();
    /// store.set(0, b"k", &[0u8; 1000], Default::default())?;
    /// assert!(store.used_memory() >= empty + 1000);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn used_memory(&self) -> usize {
        let mut total = std::mem::size_of_val(&*self.inner.dbs);
        for db in self.inner.dbs.iter() {
            total += std::mem::size_of_val(&*db.shards);
            for sh in db.shards.iter() {
                total += sh.state.read().total_bytes();
            }
        }
        total
    }

    /// OBJECT ENCODING: `"int"`, `"embstr"`, `"raw"`, `"listpack"` or `"hashtable"`, and
    /// `"quicklist"` for every list (as Redis 7.0 reports them, however small).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"n", b"12345", Default::default())?;
    /// store.set(0, b"s", b"hello", Default::default())?;
    /// assert_eq!(store.object_encoding(0, b"n")?, Some("int"));
    /// assert_eq!(store.object_encoding(0, b"s")?, Some("embstr"));
    /// store.rpush(0, b"l", &[b"a"])?;
    /// assert_eq!(store.object_encoding(0, b"l")?, Some("quicklist"));
    /// assert_eq!(store.object_encoding(0, b"missing")?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn object_encoding(&self, db: usize, key: &[u8]) -> Result<Option<&'static str>> {
        self.peek(db, key, |e, _| e.map(|e| e.encoding()))
    }

    /// OBJECT IDLETIME: seconds since the key was last read or written.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ManualClock, Store};
    /// let clock = ManualClock::new(1_000_000);
    /// let store = Store::builder().clock(clock.clone()).build();
    /// store.set(0, b"k", b"v", Default::default())?;
    /// clock.advance(5_000);
    /// assert_eq!(store.object_idletime(0, b"k")?, Some(5));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn object_idletime(&self, db: usize, key: &[u8]) -> Result<Option<u64>> {
        let now = self.now_ms();
        let evictor = self.evictor();
        self.peek(db, key, |e, access| {
            e.map(|_| evictor.idle_ms(access, now) / 1000)
        })
    }

    /// OBJECT FREQ: the key's decayed LFU counter; `None` for a missing key. Meaningful
    /// only under an LFU policy ([`crate::Policy::is_lfu`]).
    pub fn object_freq(&self, db: usize, key: &[u8]) -> Result<Option<u8>> {
        let now = self.now_ms();
        let evictor = self.evictor();
        self.peek(db, key, |e, access| {
            e.map(|_| evictor.lfu_frequency(access, now))
        })
    }

    /// The raw 32-bit access word of a key (the eviction policy's per-entry state).
    pub fn access_word(&self, db: usize, key: &[u8]) -> Result<Option<u32>> {
        self.peek(db, key, |e, access| e.map(|_| access.get()))
    }

    /// MEMORY USAGE: bytes attributable to the key (its allocations, its table slot, and its
    /// TTL-index copy if it has a TTL).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"k", &[0u8; 1000], Default::default())?;
    /// assert!(store.memory_usage(0, b"k")?.unwrap() >= 1000);
    /// assert_eq!(store.memory_usage(0, b"missing")?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn memory_usage(&self, db: usize, key: &[u8]) -> Result<Option<usize>> {
        self.peek(db, key, |e, _| {
            e.map(|e| {
                let slot = std::mem::size_of::<crate::entry::Entry>() + 8;
                let ttl = if e.expire().is_some() {
                    crate::memory::alloc_size(e.key().len()) + 18
                } else {
                    0
                };
                e.footprint() + slot + ttl
            })
        })
    }
}
