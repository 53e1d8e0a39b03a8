//! Memory limit enforcement through the policies of `redistill-evict`.
//!
//! # How the policies plug in
//!
//! - **Access word.** Every table slot carries an [`AccessWord`] next to its entry, updated
//!   on every read under the shard's *read* lock with atomics only
//!   ([`Evictor::on_access`]): the LRU clock (milliseconds, at the store's one-second
//!   access-clock resolution), Redis's LFU counter, or S3-FIFO's frequency bits.
//! - **Inserts.** A new entry gets its word from [`Evictor::on_insert`] under the shard's
//!   write lock the insert already holds; only S3-FIFO queues the key: its table hash,
//!   which finds the entry again through [`Keyspace::lookup_hashed`].
//! - **Accounting.** The policy's per-shard state (S3-FIFO's queues and ghost, the sampled
//!   policies' pool) counts towards the shard's bytes, so `max_memory` bounds it too;
//!   [`redistill_evict::ShardState::heap_bytes`] reports it in O(1).
//! - **Eviction.** Before a write that may grow memory, the store compares its running
//!   total with `max_memory`. While over it, it draws two shards among those with
//!   something to evict (keys with a TTL for the `volatile-*` policies; see
//!   [`pick_shards`]). Under LRU, LFU and TTL it locks both, asks the [`Evictor`] for each
//!   one's best candidate and removes the better of the two; under the other policies it
//!   locks the fuller shard alone and removes the victim the policy names there.
//!   `noeviction`, or a volatile policy with no key with a TTL left, refuses the write with
//!   [`StoreError::OutOfMemory`]; reads and deletes always work.
//! - **Sampling.** `KeyView` implements [`Keyspace`] over one shard: a random occupied
//!   slot in expected O(1), the volatile-key index for `volatile-*`, lookups by key.

use std::cell::{Cell, OnceCell};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use redistill_evict::{
    AccessWord, EntryRef, Evictor, Keyspace, SampleFrom, SplitMix64, pick_shards,
};

use crate::entry::Entry;
use crate::error::{Result, StoreError};
use crate::shard::{KeyCopy, ShardState};
use crate::store::Store;
use crate::table::{Slot, Table};

pub use redistill_evict::Policy;

/// The eviction policy type of the store: `redistill-evict`'s [`Policy`].
///
/// # Examples
///
/// ```
/// use redistill_store::{EvictionPolicy, Store};
/// let store = Store::builder().eviction_policy(EvictionPolicy::AllKeysLru).build();
/// assert_eq!(store.eviction_policy().name(), "allkeys-lru");
/// ```
pub type EvictionPolicy = Policy;

/// The key handle the policies keep: a shared copy of the key's bytes.
pub(crate) type Key = Arc<[u8]>;

/// Consecutive shards that may yield no victim before a write is refused: sampled policies
/// can come back empty-handed when every candidate was read since it was sampled.
const MAX_FRUITLESS: usize = 64;

/// One shard's keyspace as the policies see it; keys are handed out as copies, `Arc<[u8]>`
/// so that the pool clones them with a count increment.
///
/// `Keyspace::sample` returns a reference to a key, but keys live inside the entries'
/// packed blobs, so the view copies each sampled key into a write-once cell it owns.
pub(crate) struct KeyView<'a> {
    table: &'a Table<Entry, AccessWord>,
    volatile: &'a Table<KeyCopy, ()>,
    scratch: Vec<OnceCell<Key>>,
    used: Cell<usize>,
}

impl<'a> KeyView<'a> {
    /// A view that can hand out up to `samples` sampled keys.
    pub(crate) fn new(
        table: &'a Table<Entry, AccessWord>,
        volatile: &'a Table<KeyCopy, ()>,
        samples: usize,
    ) -> Self {
        Self {
            table,
            volatile,
            scratch: (0..samples).map(|_| OnceCell::new()).collect(),
            used: Cell::new(0),
        }
    }

    fn keep(&self, key: &[u8]) -> Option<&Key> {
        let n = self.used.get();
        let cell = self.scratch.get(n)?;
        self.used.set(n + 1);
        Some(cell.get_or_init(|| Arc::from(key)))
    }

    fn entry_ref(&self, i: usize) -> EntryRef<'_> {
        EntryRef {
            access: self.table.meta(i),
            expires_at_ms: self.table.get(i).expire(),
        }
    }
}

impl Keyspace<Key> for KeyView<'_> {
    fn key_count(&self) -> usize {
        self.table.len()
    }

    fn volatile_count(&self) -> usize {
        self.volatile.len()
    }

    fn sample(&self, from: SampleFrom, rand: u64) -> Option<(&Key, EntryRef<'_>)> {
        let mut rng = SplitMix64::new(rand);
        let i = match from {
            SampleFrom::AllKeys => self.table.random_slot(|| rng.next_u64())?,
            SampleFrom::Volatile => {
                let v = self.volatile.random_slot(|| rng.next_u64())?;
                let key = self.volatile.get(v).key();
                self.table.find(self.table.hash(key), key)?
            }
        };
        let key = self.keep(self.table.get(i).key())?;
        Some((key, self.entry_ref(i)))
    }

    fn lookup(&self, key: &Key) -> Option<EntryRef<'_>> {
        let i = self.table.find(self.table.hash(key), key)?;
        Some(self.entry_ref(i))
    }

    fn key_hash(&self, key: &Key) -> u64 {
        self.table.hash(key)
    }

    fn lookup_hashed(&self, hash: u64, accept: &dyn Fn(u32) -> bool) -> Option<EntryRef<'_>> {
        let i = self.table.find_hashed(hash, |word| accept(word.get()))?;
        Some(self.entry_ref(i))
    }

    fn key_hashed(&self, hash: u64, accept: &dyn Fn(u32) -> bool) -> Option<Key> {
        let i = self.table.find_hashed(hash, |word| accept(word.get()))?;
        Some(Key::from(self.table.get(i).key()))
    }
}

impl Store {
    /// The policies' settings and the policy in force.
    pub(crate) fn evictor(&self) -> &Evictor {
        &self.inner.evictor
    }

    /// Evicts until the running total is at most `max_memory`.
    ///
    /// # Errors
    ///
    /// [`StoreError::OutOfMemory`] when over the limit and the policy cannot evict
    /// anything (`noeviction`, or no key with a TTL under a volatile policy).
    pub(crate) fn evict_to_limit(&self, max: usize) -> Result<()> {
        let over = |s: &Store| s.limited_usage() > max;
        if !over(self) {
            return Ok(());
        }
        let policy = self.evictor().policy();
        if !policy.can_evict() {
            return Err(StoreError::OutOfMemory);
        }
        let started = Instant::now();
        let result = self.evict_loop(policy.is_volatile(), over);
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.inner.evict_ns.fetch_add(ns, Ordering::Relaxed);
        result
    }

    /// Starts or ends a stretch of time over the limit, for INFO's
    /// `current_eviction_exceeded_time` and `total_eviction_exceeded_time`: `over` says the
    /// check just made could not get usage under the limit. One relaxed load when nothing
    /// changes.
    pub(crate) fn track_over_limit(&self, over: bool) {
        let since = &self.inner.over_limit_since_ms;
        let start = since.load(Ordering::Relaxed);
        if over {
            if start == 0 {
                let now = self.now_ms().max(1);
                let _ = since.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
            }
        } else if start != 0
            && since
                .compare_exchange(start, 0, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let elapsed = self.now_ms().saturating_sub(start);
            self.inner
                .over_limit_total_ms
                .fetch_add(elapsed, Ordering::Relaxed);
        }
    }

    fn evict_loop(&self, volatile: bool, over: impl Fn(&Store) -> bool) -> Result<()> {
        let per_db = self.shards_per_db();
        let total = self.databases() * per_db;
        let evictable = |n: usize| {
            let sh = self.shard(n / per_db, n % per_db);
            let len = if volatile { &sh.volatile_len } else { &sh.len };
            len.load(Ordering::Relaxed)
        };
        let ranks = self.evictor().ranks_victims();
        let mut fruitless = 0;
        while over(self) {
            let Some((a, b)) = pick_shards(total, || self.next_random(), |n| evictable(n) > 0)
            else {
                return Err(StoreError::OutOfMemory);
            };
            let id = |n: usize| (n / per_db, n % per_db);
            let evicted = match b {
                Some(b) if ranks => self.evict_better(id(a), id(b)),
                // Policies that do not rank take from the fuller shard, which keeps shards
                // even, as one global queue or random draw would.
                Some(b) if evictable(b) > evictable(a) => self.evict_one(id(b)),
                _ => self.evict_one(id(a)),
            };
            if evicted {
                fruitless = 0;
            } else {
                fruitless += 1;
                if fruitless >= MAX_FRUITLESS {
                    return Err(StoreError::OutOfMemory);
                }
            }
        }
        Ok(())
    }

    /// Scratch cells a view needs for one candidate search: sampled policies draw up to
    /// `samples` keys per round, for at most 16 rounds; random and S3-FIFO draw one.
    fn view_samples(&self) -> usize {
        let evictor = self.evictor();
        let samples = if evictor.ranks_victims() {
            (evictor.samples() as usize)
                .saturating_mul(16)
                .saturating_add(2)
        } else {
            2
        };
        samples.min(1 << 16)
    }

    /// Evicts one key from a shard, holding only that shard's lock; false if none was.
    fn evict_one(&self, (db, s): (usize, usize)) -> bool {
        let now = self.now_ms();
        let samples = self.view_samples();
        let mut guard = self.shard(db, s).state.write();
        let st = &mut *guard;
        // The policy's own state may change size while it searches (S3-FIFO moves keys
        // between queues and into its ghost): the accounting spans the search too.
        let before = st.total_bytes();
        let victim = {
            let view = KeyView::new(&st.table, &st.volatile, samples);
            self.evictor().evict(&mut st.evict, &view, now)
        };
        let evicted = victim.is_some_and(|key| self.remove_victim(db, s, st, &key));
        self.account(before, st.total_bytes());
        evicted
    }

    /// Compares the best candidates of two shards, both locked (in the store's global
    /// order), and evicts the better one; false if neither had one.
    fn evict_better(&self, a: (usize, usize), b: (usize, usize)) -> bool {
        let now = self.now_ms();
        let samples = self.view_samples();
        let mut guards = self.lock_many(vec![a, b]);
        let before: usize = guards.iter().map(|(_, g)| g.total_bytes()).sum();
        // Ties (common under LFU, where fresh keys share one counter value) go to the
        // fuller shard: favouring either side of a tie by position would drain it.
        let mut best: Option<(usize, (u64, usize))> = None;
        for (i, (_, guard)) in guards.iter_mut().enumerate() {
            let st = &mut **guard;
            let view = KeyView::new(&st.table, &st.volatile, samples);
            if let Some(victim) = self.evictor().candidate(&mut st.evict, &view, now) {
                let key = (victim.rank, st.table.len());
                if best.is_none_or(|(_, best)| key > best) {
                    best = Some((i, key));
                }
            }
        }
        let evicted = best.is_some_and(|(i, _)| {
            let ((db, s), guard) = &mut guards[i];
            let st = &mut **guard;
            st.evict
                .take_candidate()
                .is_some_and(|key| self.remove_victim(*db, *s, st, &key))
        });
        let after: usize = guards.iter().map(|(_, g)| g.total_bytes()).sum();
        self.account(before, after);
        evicted
    }

    /// Removes the policy's victim `key` from a locked shard and counts the eviction; the
    /// caller accounts for the bytes freed.
    fn remove_victim(&self, db: usize, s: usize, st: &mut ShardState, key: &[u8]) -> bool {
        let Some(i) = st.table.find(st.table.hash(key), key) else {
            return false;
        };
        st.remove(self.shard(db, s), i);
        self.inner.evicted.fetch_add(1, Ordering::Relaxed);
        self.report(db).key(key, crate::changes::Event::Evicted);
        true
    }
}
