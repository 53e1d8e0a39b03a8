//! Open-addressing hash table (linear probing) kept in hash order, so SCAN survives resizing.
//!
//! # Why a table of our own
//!
//! SCAN must return every key present for the whole iteration at least once, even while the
//! table grows or shrinks between calls. General-purpose maps do not expose positions, and
//! their iteration order changes on resize. This table maps a hash to its *home* slot with a
//! monotone function, `home(h) = h * capacity / 2^64` (the top bits, scaled), and resolves
//! collisions by linear probing. Linear probing keeps every entry in the unbroken run of
//! occupied slots that starts at its home (deletion shifts entries back instead of leaving
//! tombstones), so "all entries whose home is `b`" is a walk from `b` to the next empty slot.
//!
//! The scan cursor is a *hash threshold* `t`: a step visits the home bucket of `t`, returns
//! its entries with hash `>= t`, and moves `t` to the first hash of the next bucket. Because
//! `home` is monotone for every capacity, "every hash below `t` has been visited" stays true
//! across any number of resizes (to any capacity, not only powers of two): an entry present
//! for the whole scan has a fixed hash, and the threshold passes it exactly once. The store's
//! shard index is the low bits of the same hash (see [`crate::scan`]), and thresholds are
//! rounded up within that residue class, so the cursor also names the shard.
//!
//! Capacity is therefore free to grow by 1.5x, which keeps the average load higher (and the
//! memory per key lower) than doubling would.
//!
//! # Layout
//!
//! One array of 24-byte slots: the 16-byte entry, a 2-byte control word (0 = empty, else
//! probe distance + 1 in the high byte and 8 hash bits in the low byte, so most mismatches
//! never touch the entry's allocation) and a metadata word (the store keeps the eviction
//! access word there, updated with atomics under a read lock). A successful lookup touches
//! one line of the table and then the entry's own allocation.

use ahash::RandomState;

/// An entry the table can hold: something with a key, and a cheap empty value for vacant slots.
pub(crate) trait Slot: Default {
    /// The key bytes the entry is found by.
    fn key(&self) -> &[u8];

    /// Where the entry's own allocation starts, for prefetching; read from the slot alone.
    fn heap(&self) -> *const u8 {
        std::ptr::null()
    }
}

/// One slot: the entry, its control word and its metadata, together so that a lookup that
/// finds its entry touches a single cache line of the table.
#[derive(Default)]
struct Bucket<E, M> {
    e: E,
    /// 0 = empty; else probe distance + 1 in the high byte, 8 hash bits in the low byte.
    c: u16,
    meta: M,
}

/// Most slots a probe may travel before the table grows instead.
const MAX_DIST: usize = 250;
const MIN_CAP: usize = 8;
/// Grow past this load (numerator over 100); linear probing with an 8-bit tag filter stays
/// cheap up to here.
const MAX_LOAD: usize = 85;

/// A linear-probing hash table; see the module docs.
pub(crate) struct Table<E, M> {
    b: Vec<Bucket<E, M>>,
    len: usize,
    hasher: RandomState,
    /// Rotation applied to hashes (the store moves the shard-selecting bits to the bottom).
    rot: u32,
    /// No shrink is tried until `len` drops below this. A shrink fails (falls back to the
    /// old capacity) when the entries left are bunched in part of the hash range, as
    /// deleting keys in SCAN or active-expiry order leaves them: homes are monotone in the
    /// hash, so half the slots cannot hold them. Without this, every later deletion would
    /// retry the O(n) rebuild.
    shrink_below: usize,
    /// Entries moved by rebuilds, so tests can bound the work.
    #[cfg(test)]
    moved: usize,
}

/// Tag bits come from the middle of the hash: the top bits pick the home slot and the low
/// bits the shard, so neither is correlated with the tag.
fn tag(hash: u64) -> u16 {
    ((hash >> 24) & 0xff) as u16
}

fn over_load(len: usize, cap: usize) -> bool {
    len * 100 > cap * MAX_LOAD
}

impl<E: Slot, M: Default> Table<E, M> {
    /// An empty table that allocates on first insert.
    pub(crate) fn new(hasher: RandomState, rot: u32) -> Self {
        Self {
            b: Vec::new(),
            len: 0,
            hasher,
            rot,
            shrink_below: usize::MAX,
            #[cfg(test)]
            moved: 0,
        }
    }

    /// The hash this table uses for `key`.
    #[inline]
    pub(crate) fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key).rotate_left(self.rot)
    }

    /// The home slot: monotone in the hash, for any capacity.
    #[inline]
    fn home(&self, hash: u64) -> usize {
        ((u128::from(hash) * self.b.len() as u128) >> 64) as usize
    }

    fn next(&self, i: usize) -> usize {
        if i + 1 == self.b.len() { 0 } else { i + 1 }
    }

    /// Slots from `from` forward to `to`, wrapping.
    fn gap(&self, from: usize, to: usize) -> usize {
        if to >= from {
            to - from
        } else {
            to + self.b.len() - from
        }
    }

    pub(crate) fn hasher(&self) -> &RandomState {
        &self.hasher
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn capacity(&self) -> usize {
        self.b.len()
    }

    /// Heap bytes held by the arrays (not by the entries' own allocations).
    pub(crate) fn array_bytes(&self) -> usize {
        self.capacity() * std::mem::size_of::<Bucket<E, M>>()
    }

    /// Hints the CPU to fetch `hash`'s home slot.
    pub(crate) fn prefetch_slot(&self, hash: u64) {
        if let Some(b) = self.b.get(self.home(hash)) {
            prefetch_line(std::ptr::from_ref(b).cast());
        }
    }

    /// Hints the CPU to fetch where each of `keys` (up to 64) would be found: every key's
    /// home slot first, then, those on their way, each one's entry allocation.
    pub(crate) fn prefetch_keys(&self, keys: &[&[u8]]) {
        let mut hashes = [0u64; 64];
        let n = keys.len().min(hashes.len());
        for (h, key) in hashes.iter_mut().zip(&keys[..n]) {
            *h = self.hash(key);
            self.prefetch_slot(*h);
        }
        for &h in &hashes[..n] {
            self.prefetch_entry(h);
        }
    }

    /// Hints the CPU to fetch the allocation of the first entry on `hash`'s probe path
    /// whose tag matches; reads only slots (best fetched first with `prefetch_slot`).
    pub(crate) fn prefetch_entry(&self, hash: u64) {
        if self.len == 0 {
            return;
        }
        let t = tag(hash);
        let mut i = self.home(hash);
        for _ in 0..8 {
            let c = self.b[i].c;
            if c == 0 {
                return;
            }
            if c & 0xff == t {
                prefetch_line(self.b[i].e.heap().cast());
                return;
            }
            i = self.next(i);
        }
    }

    /// Slot index of `key`, if present.
    ///
    /// The walk needs no distance bound: the load limit guarantees an empty slot, and every
    /// entry sits in the unbroken run that starts at its home. Walking slices (the part from
    /// home to the end, then the wrapped part) keeps the per-slot work to the tag test.
    #[inline(always)]
    pub(crate) fn find(&self, hash: u64, key: &[u8]) -> Option<usize> {
        let home = self.home(hash);
        let t = tag(hash);
        let (wrapped, from_home) = self.b.split_at_checked(home)?;
        for (k, b) in from_home.iter().enumerate() {
            if b.c == 0 {
                return None;
            }
            if b.c & 0xff == t && same_key(b.e.key(), key) {
                return Some(home + k);
            }
        }
        for (k, b) in wrapped.iter().enumerate() {
            if b.c == 0 {
                return None;
            }
            if b.c & 0xff == t && same_key(b.e.key(), key) {
                return Some(k);
            }
        }
        None
    }

    /// Slot of an entry whose key hashes to `hash` and that `accept` takes (given the
    /// entry's metadata), for callers that kept a key's hash rather than its bytes.
    /// `accept` runs only for entries whose tag matches; the full hash of its key is
    /// checked after it.
    pub(crate) fn find_hashed(&self, hash: u64, accept: impl Fn(&M) -> bool) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let t = tag(hash);
        let mut i = self.home(hash);
        // The load limit guarantees an empty slot, so the walk ends.
        loop {
            let b = &self.b[i];
            if b.c == 0 {
                return None;
            }
            if b.c & 0xff == t && accept(&b.meta) && self.hash(b.e.key()) == hash {
                return Some(i);
            }
            i = self.next(i);
        }
    }

    /// Slots on `hash`'s probe path whose tag matches, in probe order: where an entry of
    /// that hash may be, found from the slots alone. Unlike [`Table::find`], no entry's key
    /// is read, for callers that can tell the entries apart by what the slot holds.
    #[inline]
    pub(crate) fn candidates(&self, hash: u64) -> impl Iterator<Item = usize> + '_ {
        let t = tag(hash);
        let home = self.home(hash);
        (home..self.b.len())
            .chain(0..home)
            .take_while(|&i| self.b[i].c != 0)
            .filter(move |&i| self.b[i].c & 0xff == t)
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> &E {
        &self.b[i].e
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> &mut E {
        &mut self.b[i].e
    }

    #[inline]
    pub(crate) fn meta(&self, i: usize) -> &M {
        &self.b[i].meta
    }

    pub(crate) fn meta_mut(&mut self, i: usize) -> &mut M {
        &mut self.b[i].meta
    }

    /// Inserts an entry whose key is known to be absent; returns its slot.
    pub(crate) fn insert_new(&mut self, hash: u64, entry: E, meta: M) -> usize {
        if over_load(self.len + 1, self.capacity()) {
            self.resize((self.capacity() * 3 / 2).max(MIN_CAP));
            self.shrink_below = usize::MAX;
        }
        loop {
            match self.place(hash) {
                Some(i) => {
                    self.b[i].e = entry;
                    self.b[i].meta = meta;
                    self.len += 1;
                    return i;
                }
                // A pathological cluster: spread it out and try again.
                None => self.resize(self.capacity() * 3 / 2),
            }
        }
    }

    /// Claims the first empty slot on `hash`'s probe path.
    fn place(&mut self, hash: u64) -> Option<usize> {
        let mut i = self.home(hash);
        for dist in 0..MAX_DIST {
            if self.b[i].c == 0 {
                self.b[i].c = (((dist + 1) as u16) << 8) | tag(hash);
                return Some(i);
            }
            i = self.next(i);
        }
        None
    }

    /// Removes the entry in slot `i`, shifting later entries of its run back.
    pub(crate) fn remove_at(&mut self, i: usize) -> (E, M) {
        let entry = std::mem::take(&mut self.b[i].e);
        let meta = std::mem::take(&mut self.b[i].meta);
        self.b[i].c = 0;
        self.len -= 1;
        let mut hole = i;
        let mut j = self.next(i);
        // Plain linear probing: any later entry of the run whose home lies at or before the
        // hole must move into it, or its probe path would cross an empty slot.
        loop {
            let c = self.b[j].c;
            if c == 0 {
                break;
            }
            let dist = (c >> 8) as usize;
            let shift = self.gap(hole, j);
            if dist > shift {
                self.b.swap(hole, j);
                self.b[hole].c = (((dist - shift) as u16) << 8) | (c & 0xff);
                self.b[j].c = 0;
                hole = j;
            }
            j = self.next(j);
        }
        if self.len == 0 {
            self.clear();
        } else if self.capacity() > MIN_CAP
            && self.len * 4 < self.capacity()
            && self.len < self.shrink_below
        {
            let old = self.capacity();
            self.resize(old / 2);
            // Retry only after half the entries are gone: amortised O(1) per deletion.
            self.shrink_below = if self.capacity() > (old / 2).max(MIN_CAP) {
                self.len / 2
            } else {
                usize::MAX
            };
        }
        (entry, meta)
    }

    /// Drops every entry and the arrays.
    pub(crate) fn clear(&mut self) {
        self.b = Vec::new();
        self.len = 0;
        self.shrink_below = usize::MAX;
    }

    /// Moves every entry into a table returned, leaving this one empty: what a caller
    /// frees after releasing its lock.
    pub(crate) fn take(&mut self) -> Self {
        let mut taken = Self::new(self.hasher.clone(), self.rot);
        taken.b = std::mem::take(&mut self.b);
        taken.len = std::mem::take(&mut self.len);
        self.shrink_below = usize::MAX;
        taken
    }

    /// Takes every entry out, leaving the table empty.
    pub(crate) fn drain(&mut self) -> Vec<(E, M)> {
        let b = std::mem::take(&mut self.b);
        self.len = 0;
        b.into_iter()
            .filter(|x| x.c != 0)
            .map(|x| (x.e, x.meta))
            .collect()
    }

    fn alloc(&mut self, cap: usize) {
        self.b = std::iter::repeat_with(Bucket::default).take(cap).collect();
        self.len = 0;
    }

    fn resize(&mut self, cap: usize) {
        let mut pending = self.drain();
        #[cfg(test)]
        {
            self.moved += pending.len();
        }
        let mut cap = cap.max(MIN_CAP);
        while over_load(pending.len(), cap) {
            cap = cap * 3 / 2;
        }
        loop {
            self.alloc(cap);
            let mut failed = false;
            while let Some((e, m)) = pending.pop() {
                let h = self.hash(e.key());
                match self.place(h) {
                    Some(i) => {
                        self.b[i].e = e;
                        self.b[i].meta = m;
                        self.len += 1;
                    }
                    None => {
                        pending.push((e, m));
                        failed = true;
                        break;
                    }
                }
            }
            if !failed {
                return;
            }
            // A pathological cluster: start over with twice the room.
            pending.extend(self.drain());
            cap *= 2;
        }
    }

    /// Iterates over occupied slots.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &E)> {
        self.b
            .iter()
            .enumerate()
            .filter(|(_, x)| x.c != 0)
            .map(|(i, x)| (i, &x.e))
    }

    /// One scan step from hash threshold `t`: pushes the slots of `t`'s home bucket whose
    /// hash is `>= t`, and returns the next threshold (`None` once past the last bucket).
    ///
    /// Thresholds keep the residue of `t` modulo `2^rot`: every hash in a store shard shares
    /// those low bits, so no entry is skipped by the rounding and the cursor keeps its shard.
    pub(crate) fn scan_step(&self, t: u64, out: &mut Vec<usize>) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        let cap = self.b.len();
        let b = self.home(t);
        let start = bucket_start(b, cap);
        let mut j = b;
        loop {
            let c = self.b[j].c;
            if c == 0 {
                break;
            }
            let back = (c >> 8) as usize - 1;
            let home = if j >= back { j - back } else { j + cap - back };
            if home == b && (start >= t || self.hash(self.b[j].e.key()) >= t) {
                out.push(j);
            }
            j = self.next(j);
            if j == b {
                break;
            }
        }
        if b + 1 >= cap {
            return None;
        }
        let next = bucket_start(b + 1, cap);
        let mask = (1u64 << self.rot) - 1;
        let residue = t & mask;
        // Smallest value >= next whose low bits are `residue`.
        let base = next & !mask;
        let candidate = base | residue;
        if candidate >= next {
            Some(candidate)
        } else {
            candidate.checked_add(mask + 1)
        }
    }

    /// Every occupied slot is where a lookup of its key lands, the count matches, and the load
    /// is within bounds (the lookup relies on an empty slot existing).
    pub(crate) fn check(&self) -> Result<(), String> {
        let mut n = 0;
        for (i, e) in self.iter() {
            n += 1;
            let key = e.key();
            match self.find(self.hash(key), key) {
                Some(j) if j == i => {}
                found => return Err(format!("{key:?} at slot {i}, a lookup finds {found:?}")),
            }
        }
        if n != self.len() {
            return Err(format!("table counts {} entries, holds {n}", self.len()));
        }
        if n > 0 && n >= self.capacity() {
            return Err(format!("{n} entries fill all {} slots", self.capacity()));
        }
        Ok(())
    }

    /// One call of HSCAN, SSCAN or ZSCAN over this table: walks from `cursor` with
    /// [`Table::scan_step`], handing each entry to `keep` (true: it was kept), until `count`
    /// were kept or ten times `count` steps were taken; the cursor to go on from, 0 when the
    /// walk is done.
    pub(crate) fn scan_from(
        &self,
        cursor: u64,
        count: usize,
        mut keep: impl FnMut(&E) -> bool,
    ) -> u64 {
        let count = count.max(1);
        let mut idx = Vec::new();
        let mut cur = Some(cursor);
        let (mut steps, mut kept) = (0, 0);
        while let Some(at) = cur {
            idx.clear();
            cur = self.scan_step(at, &mut idx);
            kept += idx.iter().filter(|&&i| keep(self.get(i))).count();
            steps += 1;
            if steps >= count * 10 || kept >= count {
                break;
            }
        }
        cur.unwrap_or(0)
    }

    /// A uniformly random occupied slot (expected O(1): the table is kept at least 1/8 full).
    pub(crate) fn random_slot(&self, mut rnd: impl FnMut() -> u64) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let cap = self.b.len();
        for _ in 0..64 {
            let i = self.home(rnd());
            if self.b[i].c != 0 {
                return Some(i);
            }
        }
        let start = self.home(rnd());
        (0..cap)
            .map(|k| (start + k) % cap)
            .find(|&i| self.b[i].c != 0)
    }
}

/// Whether two keys (or any short byte strings: command names, members) are equal, the
/// lengths up to 32 bytes compared in a few loads: a call into the C library's `memcmp`
/// costs more than the comparison itself there. The store compares keys this way; a
/// caller comparing a name per pipelined request can too.
///
/// # Examples
///
/// ```
/// use redistill_store::same_key;
/// assert!(same_key(b"GET", b"GET"));
/// assert!(!same_key(b"user:1000", b"user:1001"));
/// assert!(!same_key(b"ab", b"abc"));
/// ```
#[inline]
pub fn same_key(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    if n < 4 {
        // The first, middle and last bytes are every byte of 1 to 3.
        n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1])
    } else if n < 8 {
        half_word(a, 0) == half_word(b, 0) && half_word(a, n - 4) == half_word(b, n - 4)
    } else if (8..=16).contains(&n) {
        word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8)
    } else if (17..=32).contains(&n) {
        word(a, 0) == word(b, 0)
            && word(a, 8) == word(b, 8)
            && word(a, n - 16) == word(b, n - 16)
            && word(a, n - 8) == word(b, n - 8)
    } else {
        a == b
    }
}

/// Eight bytes of `s` from `at` as a word (zero past the end, which callers never reach).
#[inline]
fn word(s: &[u8], at: usize) -> u64 {
    s.get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_ne_bytes)
}

/// Four bytes of `s` from `at`, as [`word`] reads eight.
#[inline]
fn half_word(s: &[u8], at: usize) -> u32 {
    s.get(at..at + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, u32::from_ne_bytes)
}

/// The smallest hash whose home is bucket `b` (or later), i.e. `ceil(b * 2^64 / cap)`.
fn bucket_start(b: usize, cap: usize) -> u64 {
    let v = ((b as u128) << 64).div_ceil(cap as u128);
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// A hint to pull the cache line at `p` into the cache; reads nothing, so any address,
/// even a stale one, is allowed. A no-op where no stable prefetch instruction exists.
#[allow(unsafe_code)]
pub(crate) fn prefetch_line(p: *const i8) {
    // SAFETY: PREFETCHT0 only hints the cache; it has no architectural effect, never
    // faults, and dereferences nothing, so no pointer validity is required.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Debug, Clone, PartialEq)]
    struct K(Box<[u8]>);
    impl Slot for K {
        fn key(&self) -> &[u8] {
            &self.0
        }
    }

    fn table() -> Table<K, ()> {
        Table::new(RandomState::with_seeds(1, 2, 3, 4), 0)
    }

    #[test]
    fn prefetching_is_harmless_on_any_table_and_any_hash() {
        let mut t = table();
        t.prefetch_slot(7);
        t.prefetch_entry(7);
        for i in 0..1000u32 {
            let key = i.to_le_bytes();
            let h = t.hash(&key);
            t.insert_new(h, K(Box::new(key)), ());
        }
        for i in 0..2000u32 {
            let h = t.hash(&i.to_le_bytes());
            t.prefetch_slot(h);
            t.prefetch_entry(h);
            t.prefetch_entry(u64::MAX - h);
        }
        assert_eq!(t.len(), 1000);
        for i in 0..2000u32 {
            let key = i.to_le_bytes();
            assert_eq!(t.find(t.hash(&key), &key).is_some(), i < 1000);
        }
    }

    #[test]
    fn insert_find_remove_many() {
        let mut t = table();
        for i in 0..5000u32 {
            let k = i.to_be_bytes();
            let h = t.hash(&k);
            assert!(t.find(h, &k).is_none());
            t.insert_new(h, K(Box::new(k)), ());
        }
        assert_eq!(t.len(), 5000);
        for i in (0..5000u32).step_by(2) {
            let k = i.to_be_bytes();
            let idx = t.find(t.hash(&k), &k).unwrap();
            t.remove_at(idx);
        }
        for i in 0..5000u32 {
            let k = i.to_be_bytes();
            assert_eq!(t.find(t.hash(&k), &k).is_some(), i % 2 == 1, "{i}");
        }
        for i in (1..5000u32).step_by(2) {
            let k = i.to_be_bytes();
            let idx = t.find(t.hash(&k), &k).unwrap();
            t.remove_at(idx);
        }
        assert_eq!(t.len(), 0);
        assert_eq!(t.capacity(), 0);
    }

    #[test]
    fn deleting_in_hash_order_stays_linear() {
        // SCAN-then-DEL and active expiry delete in hash order, which leaves the survivors
        // bunched at the top of the hash range where half the slots cannot hold them.
        let mut t = table();
        let n = 20_000u32;
        for i in 0..n {
            let k = i.to_be_bytes();
            t.insert_new(t.hash(&k), K(Box::new(k)), ());
        }
        let mut keys: Vec<(u64, u32)> = (0..n).map(|i| (t.hash(&i.to_be_bytes()), i)).collect();
        keys.sort_unstable();
        let grown = t.moved;
        for (h, i) in keys {
            let idx = t.find(h, &i.to_be_bytes()).unwrap();
            t.remove_at(idx);
        }
        assert_eq!(t.len(), 0);
        let rebuilt = t.moved - grown;
        assert!(
            rebuilt < 4 * n as usize,
            "{rebuilt} entries moved by shrinks"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Random inserts and removals agree with a `HashSet`, and a full scan sees each key
        /// exactly once (no concurrent change, so no duplicates either).
        #[test]
        fn agrees_with_a_set(ops in proptest::collection::vec((proptest::prelude::any::<bool>(), 0u16..300), 1..600)) {
            let mut t = table();
            let mut model = std::collections::HashSet::new();
            for (insert, k) in ops {
                let key = k.to_le_bytes();
                let h = t.hash(&key);
                match (insert, t.find(h, &key)) {
                    (true, None) => {
                        t.insert_new(h, K(Box::new(key)), ());
                    }
                    (false, Some(i)) => {
                        t.remove_at(i);
                    }
                    _ => {}
                }
                if insert { model.insert(k); } else { model.remove(&k); }
                proptest::prop_assert_eq!(t.len(), model.len());
            }
            for k in 0u16..300 {
                let key = k.to_le_bytes();
                proptest::prop_assert_eq!(t.find(t.hash(&key), &key).is_some(), model.contains(&k));
            }
            let mut seen = Vec::new();
            let mut cursor = Some(0);
            while let Some(c) = cursor {
                let mut idx = Vec::new();
                cursor = t.scan_step(c, &mut idx);
                seen.extend(idx.into_iter().map(|i| t.get(i).clone()));
            }
            proptest::prop_assert_eq!(seen.len(), model.len());
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// The word-wise comparison agrees with slice equality, also for keys that differ
        /// in one byte only.
        #[test]
        fn same_key_agrees_with_slice_equality(
            a in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..48),
            flip in proptest::prelude::any::<proptest::sample::Index>(),
            extra in proptest::prelude::any::<bool>(),
        ) {
            proptest::prop_assert!(same_key(&a, &a.clone()));
            let mut b = a.clone();
            if let Some(i) = (!b.is_empty()).then(|| flip.index(b.len())) {
                b[i] ^= 1;
                proptest::prop_assert!(!same_key(&a, &b));
            }
            let mut c = a.clone();
            if extra {
                c.push(0);
            }
            proptest::prop_assert_eq!(same_key(&a, &c), a == c);
        }
    }

    #[test]
    fn full_scan_visits_each_key_once_without_changes() {
        let mut t = table();
        for i in 0..1000u32 {
            let k = i.to_be_bytes();
            t.insert_new(t.hash(&k), K(Box::new(k)), ());
        }
        let mut seen = Vec::new();
        let mut cursor = Some(0);
        while let Some(c) = cursor {
            let mut idx = Vec::new();
            cursor = t.scan_step(c, &mut idx);
            seen.extend(idx.into_iter().map(|i| t.get(i).clone()));
        }
        assert_eq!(seen.len(), 1000);
    }
}
