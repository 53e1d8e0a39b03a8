//! S3-FIFO's per-shard queues (Yang et al., "FIFO queues are all you need for cache
//! eviction", SOSP 2023).
//!
//! The capacity is implicit: the store evicts only when it is over its memory limit, so
//! the bytes in the queues are the cache size, and "the small queue holds 10% of the cache"
//! becomes "the small queue holds at least 10% of the queued bytes". Queue slots are
//! invalidated lazily: a key the user deletes stays in its queue until popped, and is
//! recognised as gone because the store no longer finds it, or finds an entry with a
//! different stamp (the key was deleted and written again).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::keyspace::Keyspace;
use crate::word::s3;

/// Objects read at least this often while in the small queue move to the main queue
/// (the paper's `freq > 1`; libCacheSim's `move-to-main-threshold=2`).
const MOVE_TO_MAIN_FREQ: u32 = 2;

/// The small queue's share of the queued bytes, as a divisor (10%).
const SMALL_SHARE_DIVISOR: u64 = 10;

/// Ghost entries never shrink below this, so a nearly empty main queue still remembers
/// recent small-queue evictions.
const MIN_GHOST_ENTRIES: usize = 64;

/// One queue slot.
#[derive(Debug, Clone)]
struct Slot<K> {
    key: K,
    size: u64,
    stamp: u32,
}

/// Queue lengths and byte totals of one shard, for tests, `INFO` and debugging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct S3FifoStats {
    /// Slots in the small queue, stale ones included.
    pub small_len: usize,
    /// Bytes recorded in the small queue's slots.
    pub small_bytes: u64,
    /// Slots in the main queue, stale ones included.
    pub main_len: usize,
    /// Bytes recorded in the main queue's slots.
    pub main_bytes: u64,
    /// Fingerprints in the ghost queue.
    pub ghost_len: usize,
}

/// Passes a `u64` fingerprint through unchanged: it is already a hash.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Fingerprints of keys recently evicted from the small queue, in FIFO order.
#[derive(Debug, Default)]
struct Ghost {
    order: VecDeque<(u64, u64)>,
    // fingerprint -> sequence number of its newest slot in `order`, so that a slot left
    // behind by a ghost hit does not remove a newer insertion of the same fingerprint.
    present: HashMap<u64, u64, BuildHasherDefault<IdentityHasher>>,
    next_seq: u64,
}

impl Ghost {
    fn insert(&mut self, fingerprint: u64, capacity: usize) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.push_back((fingerprint, seq));
        self.present.insert(fingerprint, seq);
        self.trim(capacity);
    }

    fn trim(&mut self, capacity: usize) {
        while self.order.len() > capacity {
            self.pop_oldest();
        }
    }

    fn pop_oldest(&mut self) {
        if let Some((fp, seq)) = self.order.pop_front()
            && self.present.get(&fp) == Some(&seq)
        {
            self.present.remove(&fp);
        }
    }

    /// Removes `fingerprint` and reports whether it was there.
    fn take(&mut self, fingerprint: u64) -> bool {
        self.present.remove(&fingerprint).is_some()
    }

    fn len(&self) -> usize {
        self.present.len()
    }
}

/// The queues of one shard.
#[derive(Debug)]
pub(crate) struct S3FifoQueues<K> {
    small: VecDeque<Slot<K>>,
    main: VecDeque<Slot<K>>,
    small_bytes: u64,
    main_bytes: u64,
    ghost: Ghost,
    next_stamp: u32,
    /// Heap bytes of the queued key copies, as the keyspace sizes them
    /// ([`Keyspace::key_heap_bytes`]); kept so that memory accounting stays O(1).
    key_bytes: usize,
}

impl<K> Default for S3FifoQueues<K> {
    fn default() -> Self {
        Self {
            small: VecDeque::new(),
            main: VecDeque::new(),
            small_bytes: 0,
            main_bytes: 0,
            ghost: Ghost::default(),
            next_stamp: 0,
            key_bytes: 0,
        }
    }
}

/// Heap bytes of a hash map with `capacity` usable slots of `entry` bytes (hashbrown's
/// layout: buckets are a power of two kept at most 7/8 full, one control byte each).
fn map_bytes(capacity: usize, entry: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = (capacity.saturating_mul(8) / 7).next_power_of_two();
    buckets.saturating_mul(entry + 1).saturating_add(16)
}

/// A fixed, process-independent fingerprint, so ghost hits are reproducible.
fn fingerprint<K: Hash>(key: &K) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// The live access word of `slot`'s entry, or `None` when the slot is stale.
fn live_word<K, KS: Keyspace<K> + ?Sized>(ks: &KS, slot: &Slot<K>) -> Option<u32> {
    let entry = ks.lookup(&slot.key)?;
    let word = entry.access.get();
    (s3::stamp(word) == slot.stamp).then_some(word)
}

impl<K> S3FifoQueues<K> {
    /// Heap bytes held by the queues: their arrays, the ghost's, and the key copies.
    /// Inlined: every write reads it twice.
    #[inline]
    pub(crate) fn heap_bytes(&self) -> usize {
        let slot = std::mem::size_of::<Slot<K>>();
        let arrays = (self.small.capacity() + self.main.capacity()).saturating_mul(slot);
        let ghost = self
            .ghost
            .order
            .capacity()
            .saturating_mul(std::mem::size_of::<(u64, u64)>())
            .saturating_add(map_bytes(self.ghost.present.capacity(), 16));
        arrays.saturating_add(ghost).saturating_add(self.key_bytes)
    }
}

impl<K: Clone + Hash> S3FifoQueues<K> {
    pub(crate) fn is_empty(&self) -> bool {
        self.small.is_empty() && self.main.is_empty() && self.ghost.len() == 0
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    /// Forgets a slot's key copy (popped for good, or dropped as stale).
    fn release<KS: Keyspace<K> + ?Sized>(&mut self, ks: &KS, slot: &Slot<K>) {
        self.key_bytes = self.key_bytes.saturating_sub(ks.key_heap_bytes(&slot.key));
    }

    pub(crate) fn stats(&self) -> S3FifoStats {
        S3FifoStats {
            small_len: self.small.len(),
            small_bytes: self.small_bytes,
            main_len: self.main.len(),
            main_bytes: self.main_bytes,
            ghost_len: self.ghost.len(),
        }
    }

    /// Queues a new entry and returns its initial access word.
    pub(crate) fn insert<KS: Keyspace<K> + ?Sized>(&mut self, ks: &KS, key: &K, size: u64) -> u32 {
        self.compact_if_mostly_stale(ks);
        let stamp = self.next_stamp & s3::STAMP_MASK;
        self.next_stamp = self.next_stamp.wrapping_add(1);
        let slot = Slot {
            key: key.clone(),
            size,
            stamp,
        };
        self.key_bytes = self.key_bytes.saturating_add(ks.key_heap_bytes(key));
        if self.ghost.take(fingerprint(key)) {
            self.main_bytes = self.main_bytes.saturating_add(size);
            self.main.push_back(slot);
        } else {
            self.small_bytes = self.small_bytes.saturating_add(size);
            self.small.push_back(slot);
        }
        s3::pack(stamp, 0)
    }

    /// Picks the next victim, or `None` when both queues hold no live entry.
    pub(crate) fn evict<KS: Keyspace<K> + ?Sized>(&mut self, ks: &KS) -> Option<K> {
        let total = self.small_bytes.saturating_add(self.main_bytes);
        let from_small = !self.small.is_empty()
            && (self.small_bytes.saturating_mul(SMALL_SHARE_DIVISOR) >= total
                || self.main.is_empty());
        let mut victim = None;
        if from_small {
            victim = self.evict_small(ks);
        }
        if victim.is_none() {
            victim = self.evict_main(ks);
        }
        self.trim_ghost();
        victim
    }

    fn ghost_capacity(&self) -> usize {
        self.main.len().max(MIN_GHOST_ENTRIES)
    }

    /// Keeps the ghost no longer than the main queue, as the paper sizes it.
    fn trim_ghost(&mut self) {
        let capacity = self.ghost_capacity();
        self.ghost.trim(capacity);
    }

    fn evict_small<KS: Keyspace<K> + ?Sized>(&mut self, ks: &KS) -> Option<K> {
        while let Some(slot) = self.small.pop_front() {
            self.small_bytes = self.small_bytes.saturating_sub(slot.size);
            let Some(word) = live_word(ks, &slot) else {
                self.release(ks, &slot);
                continue;
            };
            if s3::freq(word) >= MOVE_TO_MAIN_FREQ {
                if let Some(entry) = ks.lookup(&slot.key) {
                    reset_freq(entry.access, slot.stamp);
                }
                self.main_bytes = self.main_bytes.saturating_add(slot.size);
                self.main.push_back(slot);
            } else {
                let capacity = self.ghost_capacity();
                self.ghost.insert(fingerprint(&slot.key), capacity);
                self.release(ks, &slot);
                return Some(slot.key);
            }
        }
        None
    }

    fn evict_main<KS: Keyspace<K> + ?Sized>(&mut self, ks: &KS) -> Option<K> {
        // Each reinsertion lowers a 2-bit counter, so a pass ends within 4 rounds of the
        // queue; the bound only guards against readers racing the counter back up.
        let mut budget = self.main.len().saturating_mul(4).saturating_add(4);
        while let Some(slot) = self.main.pop_front() {
            self.main_bytes = self.main_bytes.saturating_sub(slot.size);
            let Some(entry) = ks.lookup(&slot.key) else {
                self.release(ks, &slot);
                continue;
            };
            let word = entry.access.get();
            if s3::stamp(word) != slot.stamp {
                self.release(ks, &slot);
                continue;
            }
            if s3::freq(word) > 0 && budget > 0 {
                budget -= 1;
                decrement_freq(entry.access);
                self.main_bytes = self.main_bytes.saturating_add(slot.size);
                self.main.push_back(slot);
            } else {
                self.release(ks, &slot);
                return Some(slot.key);
            }
        }
        None
    }

    /// Drops stale slots once they make up most of the queues, so that a workload that
    /// writes and deletes keys without ever reaching the memory limit cannot grow the
    /// queues without bound. Amortised O(1): after a pass at least half the slots are
    /// live, and as many inserts must happen before the next pass.
    fn compact_if_mostly_stale<KS: Keyspace<K> + ?Sized>(&mut self, ks: &KS) {
        let slots = self.small.len() + self.main.len();
        if slots <= ks.key_count().saturating_mul(2).saturating_add(64) {
            return;
        }
        let mut small_bytes: u64 = 0;
        let mut key_bytes: usize = 0;
        self.small.retain(|slot| {
            let live = live_word(ks, slot).is_some();
            if live {
                small_bytes = small_bytes.saturating_add(slot.size);
                key_bytes = key_bytes.saturating_add(ks.key_heap_bytes(&slot.key));
            }
            live
        });
        let mut main_bytes: u64 = 0;
        self.main.retain(|slot| {
            let live = live_word(ks, slot).is_some();
            if live {
                main_bytes = main_bytes.saturating_add(slot.size);
                key_bytes = key_bytes.saturating_add(ks.key_heap_bytes(&slot.key));
            }
            live
        });
        // Let the arrays give back what the stale slots took, so accounted memory drops.
        self.small.shrink_to(self.small.len().saturating_mul(2));
        self.main.shrink_to(self.main.len().saturating_mul(2));
        self.key_bytes = key_bytes;
        self.small_bytes = small_bytes;
        self.main_bytes = main_bytes;
        self.trim_ghost();
    }

    /// Checks the queues' internal accounting; used by tests.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        let small: u64 = self.small.iter().map(|s| s.size).sum();
        let main: u64 = self.main.iter().map(|s| s.size).sum();
        if small != self.small_bytes || main != self.main_bytes {
            return Err(format!(
                "byte totals {}/{} disagree with slots {small}/{main}",
                self.small_bytes, self.main_bytes
            ));
        }
        if self.ghost.order.len() > self.ghost_capacity() {
            return Err(format!(
                "ghost holds {} slots for a main queue of {}",
                self.ghost.order.len(),
                self.main.len()
            ));
        }
        if self.ghost.present.len() > self.ghost.order.len() {
            return Err("ghost index larger than its queue".into());
        }
        Ok(())
    }

    /// Live slots per queue: `(small, main)`; used by tests.
    pub(crate) fn live_counts<KS: Keyspace<K> + ?Sized>(&self, ks: &KS) -> (usize, usize) {
        let small = self.small.iter().filter(|s| live_word(ks, s).is_some());
        let main = self.main.iter().filter(|s| live_word(ks, s).is_some());
        (small.count(), main.count())
    }
}

/// Clears the frequency bits of the entry stamped `stamp`, keeping the stamp.
fn reset_freq(word: &crate::AccessWord, stamp: u32) {
    word.set(s3::pack(stamp, 0));
}

/// Lowers the 2-bit frequency by one while readers may be raising it.
fn decrement_freq(word: &crate::AccessWord) {
    let _ = word.atomic().fetch_update(
        std::sync::atomic::Ordering::Relaxed,
        std::sync::atomic::Ordering::Relaxed,
        |w| (s3::freq(w) > 0).then(|| w - 1),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ghost_forgets_oldest_first_and_a_hit_removes_the_fingerprint() {
        let mut g = Ghost::default();
        for fp in 0..5 {
            g.insert(fp, 3);
        }
        assert_eq!(g.len(), 3);
        assert!(!g.take(0) && !g.take(1));
        assert!(g.take(4));
        assert!(!g.take(4));
        assert_eq!(g.len(), 2);
    }

    #[test]
    fn ghost_slot_left_by_a_hit_does_not_drop_a_newer_insertion() {
        let mut g = Ghost::default();
        g.insert(7, 2);
        assert!(g.take(7));
        g.insert(7, 2);
        // The first slot of 7 ages out; the second one must survive it.
        g.insert(8, 2);
        assert!(g.take(7));
    }

    #[test]
    fn identity_hasher_passes_u64_through() {
        let mut h = IdentityHasher::default();
        h.write_u64(0xDEAD_BEEF);
        assert_eq!(h.finish(), 0xDEAD_BEEF);
    }
}
