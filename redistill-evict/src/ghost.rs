//! S3-FIFO's ghost queue: fingerprints of keys recently evicted from the small queue, in
//! FIFO order, found in O(1) through a compact index.

use std::collections::VecDeque;

use crate::s3fifo::{is_sparse, push, shrunk};

/// Ring positions are kept modulo 2^24 in the index, so the ghost never holds more
/// fingerprints than this (a shard with a main queue of 16 million keys).
pub(crate) const MAX_GHOST_ENTRIES: usize = (1 << 24) - 2;

/// The ring-position bits of an index cell.
const POS_MASK: u32 = (1 << 24) - 1;

/// The smallest index, in cells.
const MIN_CELLS: usize = 8;

/// Fingerprints of keys recently evicted from the small queue, in FIFO order.
///
/// 32-bit fingerprints: two keys of one shard share one with odds of one in four billion,
/// and the cost of a false ghost hit is only that a new key starts in the main queue.
///
/// About 10 bytes a fingerprint, since the ghost counts against the memory limit: the
/// fingerprints in a ring (4 bytes each), and an open-addressing index of 4-byte cells,
/// kept a quarter to three quarters full (linear probing, deletion by backward shift, no
/// tombstones). A cell names the ring position of a present fingerprint's newest insertion
/// (24 bits) under 8 bits of the fingerprint, a tag that spares most probes a read of the
/// ring. A fingerprint removed by a ghost hit stays in the ring, unindexed, until it ages
/// out; the position in its cell is what keeps that old copy from removing a newer
/// insertion of the same fingerprint when it does.
#[derive(Debug, Default)]
pub(crate) struct Ghost {
    order: VecDeque<u32>,
    /// Ring position of `order`'s front, modulo 2^24.
    front: u32,
    /// 0 for an empty cell; else a tag in bits 24..32 and a ring position in bits 0..24.
    index: Vec<u32>,
    /// Fingerprints present: the index's non-empty cells.
    present: usize,
}

/// The tag of `fingerprint` in its index cell: never 0, so no used cell reads as empty.
fn tag(fingerprint: u32) -> u32 {
    (fingerprint & 0xFF).max(1)
}

impl Ghost {
    /// Appends `fingerprint`, then forgets the oldest ones beyond `capacity`.
    pub(crate) fn insert(&mut self, fingerprint: u32, capacity: usize) {
        let pos = self.front.wrapping_add(self.order.len() as u32) & POS_MASK;
        push(&mut self.order, fingerprint);
        let cell = (tag(fingerprint) << 24) | pos;
        match self.find(fingerprint) {
            Some(i) => self.index[i] = cell,
            None => {
                if (self.present + 1) * 4 > self.index.len() * 3 {
                    self.rebuild((self.present + 1) * 2);
                }
                self.place(fingerprint, cell);
                self.present += 1;
            }
        }
        self.trim(capacity);
    }

    /// Forgets the oldest fingerprints until at most `capacity` are left in the ring.
    pub(crate) fn trim(&mut self, capacity: usize) {
        while self.order.len() > capacity.min(MAX_GHOST_ENTRIES) {
            self.pop_oldest();
        }
    }

    fn pop_oldest(&mut self) {
        let Some(&fingerprint) = self.order.front() else {
            return;
        };
        if let Some(i) = self.find(fingerprint)
            && self.index[i] & POS_MASK == self.front
        {
            self.remove_cell(i);
        }
        self.order.pop_front();
        self.front = self.front.wrapping_add(1) & POS_MASK;
    }

    /// Removes `fingerprint` and reports whether it was there.
    pub(crate) fn take(&mut self, fingerprint: u32) -> bool {
        match self.find(fingerprint) {
            Some(i) => {
                self.remove_cell(i);
                true
            }
            None => false,
        }
    }

    /// Fingerprints present.
    pub(crate) fn len(&self) -> usize {
        self.present
    }

    /// Fingerprints in the ring, those removed by a hit but not yet aged out included.
    pub(crate) fn ring_len(&self) -> usize {
        self.order.len()
    }

    /// Gives back memory once the ring uses less than half of its array, or the index a
    /// quarter of its cells.
    pub(crate) fn shrink_if_sparse(&mut self) {
        if is_sparse(self.order.len(), self.order.capacity()) {
            self.order.shrink_to(shrunk(self.order.len()));
        }
        if self.index.len() > 2 * MIN_CELLS && self.present * 4 < self.index.len() {
            self.rebuild(self.present * 2);
        }
    }

    /// Heap bytes of the ring and the index.
    pub(crate) fn heap_bytes(&self) -> usize {
        (self.order.capacity() + self.index.capacity()).saturating_mul(std::mem::size_of::<u32>())
    }

    /// The fingerprint at the ring position `cell` names.
    fn fingerprint_at(&self, cell: u32) -> Option<u32> {
        let offset = cell.wrapping_sub(self.front) & POS_MASK;
        self.order.get(offset as usize).copied()
    }

    /// The home cell of `fingerprint`: monotone in it, for any index size.
    fn home(&self, fingerprint: u32) -> usize {
        ((u64::from(fingerprint) * self.index.len() as u64) >> 32) as usize
    }

    fn next(&self, i: usize) -> usize {
        if i + 1 == self.index.len() { 0 } else { i + 1 }
    }

    /// The cell of a present `fingerprint`. The walk ends: the index is never full.
    fn find(&self, fingerprint: u32) -> Option<usize> {
        if self.index.is_empty() {
            return None;
        }
        let t = tag(fingerprint);
        let mut i = self.home(fingerprint);
        loop {
            let cell = self.index[i];
            if cell == 0 {
                return None;
            }
            if cell >> 24 == t && self.fingerprint_at(cell) == Some(fingerprint) {
                return Some(i);
            }
            i = self.next(i);
        }
    }

    /// Puts `cell` in the first empty cell from `fingerprint`'s home on.
    fn place(&mut self, fingerprint: u32, cell: u32) {
        let mut i = self.home(fingerprint);
        while self.index[i] != 0 {
            i = self.next(i);
        }
        self.index[i] = cell;
    }

    /// Empties cell `i`, moving later cells of its run back so that every cell stays
    /// reachable from its home without crossing an empty one.
    fn remove_cell(&mut self, i: usize) {
        self.index[i] = 0;
        self.present -= 1;
        let mut hole = i;
        let mut j = self.next(i);
        loop {
            let cell = self.index[j];
            if cell == 0 {
                break;
            }
            let home = self.home(self.fingerprint_at(cell).unwrap_or(0));
            // The cell stays unless its home lies after the hole, up to the cell itself.
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.index[hole] = cell;
                self.index[j] = 0;
                hole = j;
            }
            j = self.next(j);
        }
    }

    /// Rehashes the present fingerprints into an index of `cells` cells (at least 8).
    fn rebuild(&mut self, cells: usize) {
        let old = std::mem::replace(&mut self.index, vec![0; cells.max(MIN_CELLS)]);
        for cell in old.into_iter().filter(|&c| c != 0) {
            let fingerprint = self.fingerprint_at(cell).unwrap_or(0);
            self.place(fingerprint, cell);
        }
    }

    /// Checks the index against the ring; used by tests.
    pub(crate) fn check(&self) -> Result<(), String> {
        let used = self.index.iter().filter(|&&c| c != 0).count();
        if used != self.present {
            return Err(format!("{used} index cells used, {} counted", self.present));
        }
        if used > self.order.len() || (used > 0 && used >= self.index.len()) {
            return Err(format!(
                "{used} cells used of {} for a ring of {}",
                self.index.len(),
                self.order.len()
            ));
        }
        for (i, &cell) in self.index.iter().enumerate().filter(|(_, c)| **c != 0) {
            let Some(fingerprint) = self.fingerprint_at(cell) else {
                return Err(format!("cell {i} points past the ring"));
            };
            if tag(fingerprint) != cell >> 24 {
                return Err(format!("cell {i} has the wrong tag"));
            }
            if self.find(fingerprint) != Some(i) {
                return Err(format!("cell {i} is not found from its home"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::SplitMix64;

    #[test]
    fn forgets_oldest_first_and_a_hit_removes_the_fingerprint() {
        let mut g = Ghost::default();
        for fp in 0..5 {
            g.insert(fp, 3);
        }
        assert_eq!(g.len(), 3);
        assert!(!g.take(0) && !g.take(1));
        assert!(g.take(4));
        assert!(!g.take(4));
        assert_eq!(g.len(), 2);
        assert_eq!(g.check(), Ok(()));
    }

    #[test]
    fn a_slot_left_by_a_hit_does_not_drop_a_newer_insertion() {
        let mut g = Ghost::default();
        g.insert(7, 2);
        assert!(g.take(7));
        g.insert(7, 2);
        // The first slot of 7 ages out; the second one must survive it.
        g.insert(8, 2);
        assert!(g.take(7));
    }

    /// The ghost as a plain queue of (fingerprint, sequence number) and a map from each
    /// fingerprint to its newest sequence number.
    #[derive(Default)]
    struct Model {
        order: std::collections::VecDeque<(u32, u64)>,
        present: HashMap<u32, u64>,
        seq: u64,
    }

    impl Model {
        fn insert(&mut self, fp: u32, capacity: usize) {
            self.order.push_back((fp, self.seq));
            self.present.insert(fp, self.seq);
            self.seq += 1;
            while self.order.len() > capacity {
                let (fp, seq) = self.order.pop_front().unwrap();
                if self.present.get(&fp) == Some(&seq) {
                    self.present.remove(&fp);
                }
            }
        }
    }

    /// Runs `ops` random inserts and hits against the model, fingerprints drawn by `fp`,
    /// starting at ring position `front` (to cross the 2^24 wrap).
    fn agrees_with_the_model(front: u32, fp: impl Fn(&mut SplitMix64) -> u32) {
        let mut rng = SplitMix64::new(u64::from(front) + 1);
        let mut g = Ghost {
            front,
            ..Ghost::default()
        };
        let mut m = Model::default();
        let mut capacity = 20;
        for step in 0..20_000 {
            if step % 500 == 0 {
                capacity = (rng.next_u64() % 200) as usize;
            }
            let fp = fp(&mut rng);
            if rng.next_u64().is_multiple_of(3) {
                assert_eq!(g.take(fp), m.present.remove(&fp).is_some(), "step {step}");
            } else {
                g.insert(fp, capacity);
                m.insert(fp, capacity);
            }
            if step % 97 == 0 {
                g.shrink_if_sparse();
            }
            assert_eq!(g.len(), m.present.len(), "step {step}");
            assert_eq!(g.ring_len(), m.order.len(), "step {step}");
            if step % 50 == 0 {
                assert_eq!(g.check(), Ok(()), "step {step}");
            }
        }
    }

    #[test]
    fn agrees_with_a_queue_and_map_on_repeated_fingerprints() {
        // Few distinct fingerprints: repeats, hits and shared homes are common.
        agrees_with_the_model(0, |rng| (rng.next_u64() % 64) as u32);
        agrees_with_the_model(0, |rng| ((rng.next_u64() % 64) as u32) << 26);
    }

    #[test]
    fn agrees_with_a_queue_and_map_across_the_position_wrap() {
        agrees_with_the_model(POS_MASK - 100, |rng| rng.next_u64() as u32);
        agrees_with_the_model(POS_MASK - 3, |rng| (rng.next_u64() % 300) as u32);
    }

    #[test]
    fn costs_about_ten_bytes_a_fingerprint() {
        let mut g = Ghost::default();
        let mut rng = SplitMix64::new(5);
        for _ in 0..100_000 {
            g.insert(rng.next_u64() as u32, 10_000);
        }
        assert_eq!(g.len(), 10_000);
        let bytes = g.heap_bytes();
        assert!(bytes <= 10_000 * 14, "{bytes}");
        assert_eq!(g.check(), Ok(()));
    }
}
