//! S3-FIFO's per-shard queues (Yang et al., "FIFO queues are all you need for cache
//! eviction", SOSP 2023).
//!
//! The capacity is implicit: the store evicts only when it is over its memory limit, so
//! the bytes in the queues are the cache size, and "the small queue holds 10% of the cache"
//! becomes "the small queue holds at least 10% of the queued bytes". Queue slots are
//! invalidated lazily: a key the user deletes stays in its queue until popped, and is
//! recognised as gone because the store no longer finds it, or finds an entry with a
//! different stamp (the key was deleted and written again).
//!
//! A slot keeps the key's 64-bit hash, the entry's stamp and its size, 16 bytes, and finds
//! its entry through the keyspace's own index ([`Keyspace::lookup_hashed`]); the ghost keeps
//! 32-bit fingerprints of those hashes. The queues thus cost a few dozen bytes per key
//! whatever the key's length, which matters because they count against the memory limit.

use std::collections::VecDeque;

use crate::ghost::Ghost;
use crate::keyspace::{EntryRef, Keyspace};
use crate::word::s3;

/// Objects read at least this often while in the small queue move to the main queue
/// (the paper's `freq > 1`; libCacheSim's `move-to-main-threshold=2`).
const MOVE_TO_MAIN_FREQ: u32 = 2;

/// The small queue's share of the queued bytes, as a divisor (10%).
const SMALL_SHARE_DIVISOR: u64 = 10;

/// Ghost entries never shrink below this, so a nearly empty main queue still remembers
/// recent small-queue evictions. Small, because a store has many shards and each pays it.
const MIN_GHOST_ENTRIES: usize = 16;

/// Bits of a slot's word that hold the entry's size; the stamp takes the other 24.
const SIZE_BITS: u32 = 40;

/// The largest size a slot records (1 TiB); larger entries count as this much.
const MAX_SLOT_SIZE: u64 = (1 << SIZE_BITS) - 1;

/// Arrays this small are never shrunk: resizing them would cost more than it saves.
const MIN_SHRINK_CAPACITY: usize = 16;

/// Appends to a queue whose memory counts against the limit: a full array grows by a
/// quarter (at least 4 slots) rather than doubling, so its spare room stays under a quarter
/// of its items instead of up to all of them. Still amortised O(1).
pub(crate) fn push<T>(queue: &mut VecDeque<T>, item: T) {
    if queue.len() == queue.capacity() {
        queue.reserve_exact((queue.len() / 4).max(4));
    }
    queue.push_back(item);
}

/// One queue slot, 16 bytes: the key's hash (as the keyspace computes it) and the entry's
/// stamp and size. The slot keeps no copy of the key: it finds its entry through
/// [`Keyspace::lookup_hashed`], the stamp telling it from another key of the same hash.
#[derive(Debug, Clone, Copy)]
struct Slot {
    hash: u64,
    /// The stamp in the top 24 bits, the size in the low [`SIZE_BITS`].
    stamp_size: u64,
}

impl Slot {
    fn new(hash: u64, stamp: u32, size: u64) -> Self {
        Self {
            hash,
            stamp_size: (u64::from(stamp & s3::STAMP_MASK) << SIZE_BITS) | size.min(MAX_SLOT_SIZE),
        }
    }

    fn stamp(self) -> u32 {
        (self.stamp_size >> SIZE_BITS) as u32
    }

    fn size(self) -> u64 {
        self.stamp_size & MAX_SLOT_SIZE
    }

    /// The live entry this slot stands for, or `None` when the slot is stale (its key was
    /// deleted, or deleted and written again under a new stamp).
    fn entry<K, KS: Keyspace<K> + ?Sized>(self, ks: &KS) -> Option<EntryRef<'_>> {
        let stamp = self.stamp();
        ks.lookup_hashed(self.hash, &|word| s3::stamp(word) == stamp)
    }

    /// The key of the live entry this slot stands for.
    fn key<K, KS: Keyspace<K> + ?Sized>(self, ks: &KS) -> Option<K> {
        let stamp = self.stamp();
        ks.key_hashed(self.hash, &|word| s3::stamp(word) == stamp)
    }
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

/// The ghost's 32-bit fingerprint of a key hash (Fibonacci hashing, so that hashes that
/// differ only in their low bits, such as small integer keys, still spread).
fn fingerprint(hash: u64) -> u32 {
    (hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32
}

/// Whether an array of `capacity` holding `len` is worth shrinking: less than half used.
pub(crate) fn is_sparse(len: usize, capacity: usize) -> bool {
    capacity > MIN_SHRINK_CAPACITY && len.saturating_mul(2) < capacity
}

/// The capacity to shrink an array holding `len` to: a quarter of room, as it grows by.
pub(crate) fn shrunk(len: usize) -> usize {
    len.saturating_add(len / 4)
}

/// The queues of one shard.
#[derive(Debug, Default)]
pub(crate) struct S3FifoQueues {
    small: VecDeque<Slot>,
    main: VecDeque<Slot>,
    small_bytes: u64,
    main_bytes: u64,
    ghost: Ghost,
    next_stamp: u32,
}

impl S3FifoQueues {
    /// Heap bytes held by the queues: their arrays of 16-byte slots and the ghost's
    /// fingerprints. Inlined: every write reads it twice.
    #[inline]
    pub(crate) fn heap_bytes(&self) -> usize {
        (self.small.capacity() + self.main.capacity())
            .saturating_mul(std::mem::size_of::<Slot>())
            .saturating_add(self.ghost.heap_bytes())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.small.is_empty() && self.main.is_empty() && self.ghost.len() == 0
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::default();
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

    /// Queues a new entry whose key hashes to `hash` ([`Keyspace::key_hash`]) and returns
    /// its initial access word.
    pub(crate) fn insert<K, KS: Keyspace<K> + ?Sized>(
        &mut self,
        ks: &KS,
        hash: u64,
        size: u64,
    ) -> u32 {
        self.compact_if_mostly_stale(ks);
        let stamp = self.next_stamp & s3::STAMP_MASK;
        self.next_stamp = self.next_stamp.wrapping_add(1);
        let slot = Slot::new(hash, stamp, size);
        if self.ghost.take(fingerprint(hash)) {
            self.main_bytes = self.main_bytes.saturating_add(slot.size());
            push(&mut self.main, slot);
        } else {
            self.small_bytes = self.small_bytes.saturating_add(slot.size());
            push(&mut self.small, slot);
        }
        s3::pack(stamp, 0)
    }

    /// Picks the next victim, or `None` when both queues hold no live entry.
    pub(crate) fn evict<K, KS: Keyspace<K> + ?Sized>(&mut self, ks: &KS) -> Option<K> {
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
        self.shrink_if_sparse();
        victim
    }

    /// Gives back array memory once a queue or the ghost uses less than half of it (the
    /// small queue after a run of promotions, any of them after the memory limit was
    /// lowered). Amortised O(1): an array shrunk to a quarter of room over its items must
    /// grow by that quarter, or lose more than a third of them, before it is resized again.
    fn shrink_if_sparse(&mut self) {
        for queue in [&mut self.small, &mut self.main] {
            if is_sparse(queue.len(), queue.capacity()) {
                queue.shrink_to(shrunk(queue.len()));
            }
        }
        self.ghost.shrink_if_sparse();
    }

    fn ghost_capacity(&self) -> usize {
        self.main.len().max(MIN_GHOST_ENTRIES)
    }

    /// Keeps the ghost no longer than the main queue, as the paper sizes it.
    fn trim_ghost(&mut self) {
        let capacity = self.ghost_capacity();
        self.ghost.trim(capacity);
    }

    fn evict_small<K, KS: Keyspace<K> + ?Sized>(&mut self, ks: &KS) -> Option<K> {
        while let Some(slot) = self.small.pop_front() {
            self.small_bytes = self.small_bytes.saturating_sub(slot.size());
            let Some(entry) = slot.entry(ks) else {
                continue;
            };
            if s3::freq(entry.access.get()) >= MOVE_TO_MAIN_FREQ {
                reset_freq(entry.access, slot.stamp());
                self.main_bytes = self.main_bytes.saturating_add(slot.size());
                push(&mut self.main, slot);
            } else {
                let capacity = self.ghost_capacity();
                self.ghost.insert(fingerprint(slot.hash), capacity);
                return slot.key(ks);
            }
        }
        None
    }

    fn evict_main<K, KS: Keyspace<K> + ?Sized>(&mut self, ks: &KS) -> Option<K> {
        // Each reinsertion lowers a 2-bit counter, so a pass ends within 4 rounds of the
        // queue; the bound only guards against readers racing the counter back up.
        let mut budget = self.main.len().saturating_mul(4).saturating_add(4);
        while let Some(slot) = self.main.pop_front() {
            self.main_bytes = self.main_bytes.saturating_sub(slot.size());
            let Some(entry) = slot.entry(ks) else {
                continue;
            };
            if s3::freq(entry.access.get()) > 0 && budget > 0 {
                budget -= 1;
                decrement_freq(entry.access);
                self.main_bytes = self.main_bytes.saturating_add(slot.size());
                push(&mut self.main, slot);
            } else {
                return slot.key(ks);
            }
        }
        None
    }

    /// Drops stale slots once they make up most of the queues, so that a workload that
    /// writes and deletes keys without ever reaching the memory limit cannot grow the
    /// queues without bound. Amortised O(1): after a pass at least half the slots are
    /// live, and as many inserts must happen before the next pass.
    fn compact_if_mostly_stale<K, KS: Keyspace<K> + ?Sized>(&mut self, ks: &KS) {
        let slots = self.small.len() + self.main.len();
        if slots <= ks.key_count().saturating_mul(2).saturating_add(64) {
            return;
        }
        let mut small_bytes: u64 = 0;
        self.small.retain(|slot| {
            let live = slot.entry(ks).is_some();
            if live {
                small_bytes = small_bytes.saturating_add(slot.size());
            }
            live
        });
        let mut main_bytes: u64 = 0;
        self.main.retain(|slot| {
            let live = slot.entry(ks).is_some();
            if live {
                main_bytes = main_bytes.saturating_add(slot.size());
            }
            live
        });
        // Let the arrays give back what the stale slots took, so accounted memory drops.
        self.small.shrink_to(shrunk(self.small.len()));
        self.main.shrink_to(shrunk(self.main.len()));
        self.small_bytes = small_bytes;
        self.main_bytes = main_bytes;
        self.trim_ghost();
        self.ghost.shrink_if_sparse();
    }

    /// Checks the queues' internal accounting; used by tests.
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        let small: u64 = self.small.iter().map(|s| s.size()).sum();
        let main: u64 = self.main.iter().map(|s| s.size()).sum();
        if small != self.small_bytes || main != self.main_bytes {
            return Err(format!(
                "byte totals {}/{} disagree with slots {small}/{main}",
                self.small_bytes, self.main_bytes
            ));
        }
        if self.ghost.ring_len() > self.ghost_capacity() {
            return Err(format!(
                "ghost holds {} slots for a main queue of {}",
                self.ghost.ring_len(),
                self.main.len()
            ));
        }
        self.ghost.check().map_err(|e| format!("ghost: {e}"))?;
        Ok(())
    }

    /// Live slots per queue: `(small, main)`; used by tests.
    pub(crate) fn live_counts<K, KS: Keyspace<K> + ?Sized>(&self, ks: &KS) -> (usize, usize) {
        let small = self.small.iter().filter(|s| s.entry(ks).is_some());
        let main = self.main.iter().filter(|s| s.entry(ks).is_some());
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
    fn a_slot_packs_stamp_and_size_and_saturates_the_size() {
        let slot = Slot::new(9, s3::STAMP_MASK, 12_345);
        assert_eq!(
            (slot.hash, slot.stamp(), slot.size()),
            (9, s3::STAMP_MASK, 12_345)
        );
        let huge = Slot::new(1, 7, u64::MAX);
        assert_eq!((huge.stamp(), huge.size()), (7, MAX_SLOT_SIZE));
        assert_eq!(std::mem::size_of::<Slot>(), 16);
    }

    #[test]
    fn small_integer_hashes_get_distinct_fingerprints() {
        let mut seen: Vec<u32> = (0..100_000u64).map(fingerprint).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 100_000);
    }
}
