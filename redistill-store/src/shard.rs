//! One shard of a database: a table behind a `RwLock`, the volatile-key index and counters.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::RwLock;
use redistill_evict::{AccessWord, Evictor, Policy};

use crate::changes::{Event, Report};
use crate::entry::Entry;
use crate::evict::{Key, KeyView};
use crate::table::{Slot, Table};

/// A copy of a key that has a TTL; the per-shard set of these is what expiry samples from.
#[derive(Default)]
pub(crate) struct KeyCopy(pub(crate) Box<[u8]>);

impl Slot for KeyCopy {
    fn key(&self) -> &[u8] {
        &self.0
    }
}

/// Lock-protected contents of a shard.
///
/// `repr(C)` so that `entry_bytes`, which every write updates, sits right after the lock
/// word, in the line the writer already holds (see [`Shard`]).
#[repr(C)]
pub(crate) struct ShardState {
    /// Heap bytes held by entries and volatile copies (tables' arrays and the eviction
    /// state excluded).
    pub(crate) entry_bytes: usize,
    /// The keyspace; the metadata word is the eviction access word (see [`crate::evict`]).
    pub(crate) table: Table<Entry, AccessWord>,
    /// Keys that carry a TTL, so expiry samples only keys that can expire.
    pub(crate) volatile: Table<KeyCopy, ()>,
    /// The eviction policy's per-shard state (sample pool, S3-FIFO queues).
    pub(crate) evict: redistill_evict::ShardState<Key>,
}

/// A shard with its statistics counters, which live outside the lock.
///
/// Laid out so that what every access writes shares the lock word's cache line: the
/// hit/miss counters (every read), `dirty` and the state's `entry_bytes` (every write).
/// When two cores use the same shard, an access then moves one line between them, not
/// two or three. Aligned so neighbouring shards never share a line.
#[repr(C, align(128))]
pub(crate) struct Shard {
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    /// Changes applied to this shard (Redis's `dirty`), for snapshot bookkeeping. Written
    /// only under the write lock.
    pub(crate) dirty: AtomicU64,
    /// Mirrors of the table sizes so callers can skip empty shards without locking.
    pub(crate) len: AtomicUsize,
    pub(crate) volatile_len: AtomicUsize,
    pub(crate) state: RwLock<ShardState>,
    pub(crate) expired: AtomicU64,
}

impl Shard {
    pub(crate) fn new(hasher: &ahash::RandomState, rot: u32) -> Self {
        Self {
            state: RwLock::new(ShardState {
                table: Table::new(hasher.clone(), rot),
                volatile: Table::new(hasher.clone(), rot),
                entry_bytes: 0,
                evict: redistill_evict::ShardState::new(),
            }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            expired: AtomicU64::new(0),
            len: AtomicUsize::new(0),
            volatile_len: AtomicUsize::new(0),
            dirty: AtomicU64::new(0),
        }
    }

    /// Counts a keyspace hit or miss.
    ///
    /// A plain load and store rather than an atomic add: this runs on every read, and a
    /// locked instruction there costs several percent of GET throughput. The price is that
    /// two threads reading the same shard at the same instant may count once instead of
    /// twice; statistics stay exact whenever accesses to a shard do not overlap.
    #[inline]
    pub(crate) fn record_lookup(&self, hit: bool) {
        let c = if hit { &self.hits } else { &self.misses };
        c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }

    /// Counts a change. Every caller holds the write lock, so a plain load and store is
    /// exact and saves a locked instruction on every write.
    #[inline]
    fn record_change(&self) {
        self.dirty
            .store(self.dirty.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
}

fn key_copy_bytes(key: &[u8]) -> usize {
    crate::memory::alloc_size(key.len())
}

impl ShardState {
    /// All heap bytes this shard accounts for, the eviction policy's state included.
    pub(crate) fn total_bytes(&self) -> usize {
        self.entry_bytes
            + self.table.array_bytes()
            + self.volatile.array_bytes()
            + self.evict.heap_bytes()
    }

    fn sync_counts(&self, shard: &Shard) {
        shard.len.store(self.table.len(), Ordering::Relaxed);
        shard
            .volatile_len
            .store(self.volatile.len(), Ordering::Relaxed);
    }

    fn add_volatile(&mut self, key: &[u8]) {
        let h = self.volatile.hash(key);
        if self.volatile.find(h, key).is_none() {
            self.volatile
                .insert_new(h, KeyCopy(key.to_vec().into_boxed_slice()), ());
            self.entry_bytes += key_copy_bytes(key);
        }
    }

    fn remove_volatile(&mut self, key: &[u8]) {
        let h = self.volatile.hash(key);
        if let Some(i) = self.volatile.find(h, key) {
            self.volatile.remove_at(i);
            self.entry_bytes -= key_copy_bytes(key);
        }
    }

    /// Slot of a live `key`; an expired one is deleted on the way (lazy expiry) and
    /// reported as [`Event::Expired`].
    pub(crate) fn live(
        &mut self,
        shard: &Shard,
        hash: u64,
        key: &[u8],
        now: u64,
        report: Report<'_>,
    ) -> Option<usize> {
        let i = self.table.find(hash, key)?;
        if self.table.get(i).is_expired(now) {
            self.remove(shard, i);
            shard.expired.fetch_add(1, Ordering::Relaxed);
            report.key(key, Event::Expired);
            return None;
        }
        Some(i)
    }

    /// Inserts an entry whose key is absent, registering it with the eviction policy.
    pub(crate) fn insert(
        &mut self,
        shard: &Shard,
        hash: u64,
        entry: Entry,
        evictor: &Evictor,
        now_ms: u64,
    ) -> usize {
        // Only S3-FIFO queues keys (by their table hash); every other policy keeps nothing.
        let access = if evictor.policy() == Policy::AllKeysS3Fifo {
            let view = KeyView::new(&self.table, &self.volatile, 0);
            evictor.on_insert_hashed(
                &mut self.evict,
                &view,
                hash,
                entry.footprint() as u64,
                now_ms,
            )
        } else {
            evictor.new_word(now_ms)
        };
        self.entry_bytes += entry.footprint();
        if entry.expire().is_some() {
            let key = entry.key().to_vec();
            self.add_volatile(&key);
        }
        let i = self.table.insert_new(hash, entry, access);
        self.sync_counts(shard);
        shard.record_change();
        i
    }

    /// Removes the entry in slot `i`.
    pub(crate) fn remove(&mut self, shard: &Shard, i: usize) -> Entry {
        let (entry, _) = self.table.remove_at(i);
        self.entry_bytes -= entry.footprint();
        if entry.expire().is_some() {
            self.remove_volatile(entry.key());
        }
        self.sync_counts(shard);
        shard.record_change();
        entry
    }

    /// Runs `f` on the entry in slot `i`, keeping the accounting and volatile index right.
    #[inline]
    pub(crate) fn update<R>(
        &mut self,
        shard: &Shard,
        i: usize,
        f: impl FnOnce(&mut Entry) -> R,
    ) -> R {
        shard.record_change();
        let entry = self.table.get_mut(i);
        let before = entry.footprint();
        let had_ttl = entry.has_expire();
        let r = f(entry);
        let entry = self.table.get(i);
        let after = entry.footprint();
        let has_ttl = entry.has_expire();
        self.entry_bytes = self.entry_bytes + after - before;
        if had_ttl != has_ttl {
            let key = entry.key().to_vec();
            if has_ttl {
                self.add_volatile(&key);
            } else {
                self.remove_volatile(&key);
            }
            self.sync_counts(shard);
        }
        r
    }

    /// Empties the shard, handing back its entries so that the caller frees them after
    /// releasing the lock.
    pub(crate) fn take_all(&mut self, shard: &Shard) -> Table<Entry, AccessWord> {
        let entries = self.table.take();
        self.volatile.clear();
        self.entry_bytes = 0;
        self.evict = redistill_evict::ShardState::new();
        self.sync_counts(shard);
        shard.record_change();
        entries
    }

    /// Exchanges contents with another shard (SWAPDB).
    pub(crate) fn swap_with(&mut self, other: &mut ShardState, shard: &Shard, other_shard: &Shard) {
        std::mem::swap(self, other);
        shard.record_change();
        self.sync_counts(shard);
        other.sync_counts(other_shard);
    }
}

#[cfg(test)]
mod tests {
    use super::Shard;

    fn addr<T>(r: &T) -> usize {
        std::ptr::from_ref(r).addr()
    }

    /// The layout `Shard` documents: the lock word, the counters every access writes and
    /// the state's `entry_bytes` in one cache line, so an access moves one line between
    /// cores. A field added in the wrong place, or a lock type that puts its word after the
    /// data, fails here.
    #[test]
    fn what_every_access_writes_shares_the_lock_word_line() {
        let shard = Shard::new(&ahash::RandomState::new(), 0);
        let base = addr(&shard);
        let lock = addr(&shard.state) - base;
        let st = shard.state.read();
        // The lock word precedes the data it guards.
        assert_eq!(addr(&*st) - base, lock + std::mem::size_of::<usize>());
        for (name, at) in [
            ("hits", addr(&shard.hits)),
            ("misses", addr(&shard.misses)),
            ("dirty", addr(&shard.dirty)),
            ("entry_bytes", addr(&st.entry_bytes)),
        ] {
            let off = at - base;
            assert_eq!(off / 64, lock / 64, "{name} at {off}, lock word at {lock}");
        }
    }
}
