//! The sorted-set value: members ordered by score, then by member bytes.
//!
//! # Encodings
//!
//! - **Small** (Redis's `listpack`): one [`Pack`], a single byte buffer of entries in order,
//!   while the set has at most `zset-max-listpack-entries` members of at most
//!   `zset-max-listpack-value` bytes. Every operation is a linear walk of the buffer, as
//!   Redis's listpack is; a set that outgrows the limits converts once and never back.
//! - **Large** (reported as `skiplist`): the members in order in a run of packs of at most
//!   [`LEAF_MAX`] entries (leaves), with a Fenwick tree of the leaves' lengths for ranks,
//!   plus a member → score hash table ([`Table`]) for O(1) ZSCORE.
//!
//! # Why packed leaves rather than a skip list
//!
//! A skip list costs a node allocation per member with a level array (Redis: about 48 bytes
//! for the node, 24 for the member's sds, 24 for the dict entry plus the dict's bucket;
//! `MEMORY USAGE` says 116 to 118 bytes per 16-byte member, `used_memory` grows by 126 per
//! member over a million). Packed leaves hold a member in 9 + its length bytes with no
//! allocation of its own: with leaves kept 80% (random order) to 100% (ascending order)
//! full, the order costs 28 to 31 bytes per 16-byte member. The member table adds its
//! 24-byte slot at its load (40% to 85% as it grows: 28 to 60 bytes) and the allocation of
//! score and member (32 bytes): 97 to 127 bytes per member in all at a million, 102 to 123
//! at a hundred thousand (the `zset_memory` test holds it to Redis's figure).
//!
//! Finding a member's place is a binary search over the leaves' first entries (O(log n))
//! and a walk of one leaf (at most [`LEAF_MAX`] entries); a rank is a Fenwick prefix sum
//! (O(log n)); an element at a rank is a Fenwick descent plus a leaf walk. A leaf that
//! overflows first shares entries with a neighbour that has room, as a B*-tree does, and
//! only then splits; a split or a dropped leaf rebuilds the Fenwick tree and moves the leaf
//! array, O(n / [`LEAF_MAX`]) at most once per [`LEAF_MAX`] / 4 updates of that leaf: at a
//! million members a few hundred word operations per update, amortized, against the
//! pointer chasing of a skip list. Range removals drop whole leaves at once. Walks in
//! order read contiguous memory, which is where most sorted-set time goes (ZRANGE replies).
//!
//! # Order
//!
//! Scores are never NaN; they compare with `partial_cmp`, so `-0.0` and `0.0` are equal
//! and ties fall to the member bytes (memcmp), as in Redis.

use std::cmp::Ordering;

use ahash::RandomState;

use crate::codec::{read_varint, varint_len, write_varint};
use crate::memory::alloc_size;
use crate::table::{Slot, Table};

/// Most entries a leaf of a large set holds before it splits.
pub(crate) const LEAF_MAX: usize = 128;
/// Leaves larger than this many bytes split too (when they hold more than one entry).
const LEAF_BYTES: usize = 4096;

/// Redis's order: score, then member bytes.
#[inline]
pub(crate) fn cmp_key(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2)
        .unwrap_or(Ordering::Equal)
        .then_with(|| m1.cmp(m2))
}

/// A score as the compact encoding keeps it: Redis's listpack stores a score as its
/// text, in which `-0` reads back as `0`.
fn compact_score(score: f64) -> f64 {
    if score == 0.0 { 0.0 } else { score }
}

/// Where a rank falls: the entries that come before the first not matched.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seek<'a> {
    /// Entries sorting before (`score`, `member`).
    Key(f64, &'a [u8]),
    /// Entries scoring below `v` (with `true`: at or below).
    Score(f64, bool),
    /// Entries whose member is below `x` (with `true`: at or below): a lex bound, meaningful
    /// when every score is equal.
    Member(&'a [u8], bool),
}

impl Seek<'_> {
    #[inline]
    fn before(&self, s: f64, m: &[u8]) -> bool {
        match *self {
            Seek::Key(v, x) => cmp_key(s, m, v, x).is_lt(),
            Seek::Score(v, true) => s <= v,
            Seek::Score(v, false) => s < v,
            Seek::Member(x, true) => m <= x,
            Seek::Member(x, false) => m < x,
        }
    }

    /// The answer for an entry of score `s` when the score alone decides it.
    #[inline]
    fn by_score(&self, s: f64) -> Option<bool> {
        match *self {
            Seek::Key(v, _) if s < v => Some(true),
            Seek::Key(v, _) if s > v => Some(false),
            Seek::Score(..) => Some(self.before(s, &[])),
            Seek::Key(..) | Seek::Member(..) => None,
        }
    }
}

/// A score as a pack stores it: one LEB128 number `x`. An even `x` is an integer score,
/// `x / 2` zigzag-encoded (so small integer scores, the common case of ranks, counters and
/// positions, take a byte or two, as in Redis's listpack); `x = 1` is a score that is not
/// an integer below 2^53 in magnitude (or is -0), its 8 bytes following.
fn write_score(out: &mut Vec<u8>, score: f64) {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if score.fract() == 0.0 && score.abs() < EXACT && !(score == 0.0 && score.is_sign_negative()) {
        let n = score as i64;
        let zigzag = ((n << 1) ^ (n >> 63)) as u64;
        write_varint(out, (zigzag << 1) as usize);
    } else {
        out.push(1);
        out.extend_from_slice(&score.to_le_bytes());
    }
}

/// Reads a score written by [`write_score`] from the start of `b`: the score and its size.
#[inline]
fn read_score(b: &[u8]) -> (f64, usize) {
    let (x, n) = read_varint(b);
    if x == 1 {
        let mut s = [0u8; 8];
        if let Some(bytes) = b.get(n..n + 8) {
            s.copy_from_slice(bytes);
        }
        return (f64::from_le_bytes(s), n + 8);
    }
    let zigzag = (x >> 1) as u64;
    let v = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
    (v as f64, n)
}

/// The entry of a pack's bytes `buf` at byte offset `off`: score, member, and the offset
/// of the next.
#[inline]
fn read_entry(buf: &[u8], off: usize) -> (f64, &[u8], usize) {
    let (score, w) = read_score(&buf[off..]);
    let (mlen, n) = read_varint(&buf[off + w..]);
    let start = off + w + n;
    let end = (start + mlen).min(buf.len());
    (score, &buf[start..end], end)
}

/// The score of `member` in the packed sorted set `value`, read in place (ZSCORE and
/// ZMSCORE copy nothing).
pub(crate) fn packed_score(value: &[u8], member: &[u8]) -> Option<f64> {
    let (len, n) = read_varint(value);
    let buf = value.get(n..).unwrap_or_default();
    let mut off = 0;
    for _ in 0..len {
        if off >= buf.len() {
            break;
        }
        let (score, m, next) = read_entry(buf, off);
        if m == member {
            return Some(score);
        }
        off = next;
    }
    None
}

/// Entries in order in one buffer: `[score (see `write_score`)][member length: LEB128][member]`.
#[derive(Clone, Default)]
pub(crate) struct Pack {
    buf: Vec<u8>,
    len: usize,
}

impl Pack {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn bytes(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        alloc_size(self.buf.capacity())
    }

    /// The entry at byte offset `off` and the offset of the next.
    #[inline]
    fn read(&self, off: usize) -> (f64, &[u8], usize) {
        read_entry(&self.buf, off)
    }

    pub(crate) fn iter(&self) -> PackIter<'_> {
        PackIter { pack: self, off: 0 }
    }

    fn first(&self) -> Option<(f64, &[u8])> {
        (self.len > 0).then(|| {
            let (s, m, _) = self.read(0);
            (s, m)
        })
    }

    /// Index and byte offset of the first entry for which `before` is false.
    fn lower_bound(&self, before: impl Fn(f64, &[u8]) -> bool) -> (usize, usize) {
        let mut off = 0;
        let mut i = 0;
        while i < self.len {
            let (s, m, next) = self.read(off);
            if !before(s, m) {
                break;
            }
            off = next;
            i += 1;
        }
        (i, off)
    }

    /// Byte offset of entry `idx` (the end for `idx == len`).
    fn offset_of(&self, idx: usize) -> usize {
        let mut off = 0;
        for _ in 0..idx.min(self.len) {
            off = self.read(off).2;
        }
        off
    }

    fn insert_at(&mut self, off: usize, score: f64, member: &[u8]) {
        let mut e = Vec::with_capacity(9 + varint_len(member.len()) + member.len());
        write_score(&mut e, score);
        write_varint(&mut e, member.len());
        e.extend_from_slice(member);
        // Growth by an eighth, not doubling: the slack of every leaf is memory per member.
        if self.buf.capacity() - self.buf.len() < e.len() {
            self.buf
                .reserve_exact(e.len().max(self.buf.len() / 8).max(32));
        }
        self.buf.splice(off..off, e);
        self.len += 1;
    }

    fn push(&mut self, score: f64, member: &[u8]) {
        let off = self.buf.len();
        self.insert_at(off, score, member);
    }

    /// Removes `count` entries starting at byte offset `off`.
    fn remove_at(&mut self, off: usize, count: usize) {
        let mut end = off;
        for _ in 0..count {
            end = self.read(end).2;
        }
        self.buf.drain(off..end);
        self.len -= count;
    }

    /// Moves the entries from index `idx` on into a new pack.
    fn split_off(&mut self, idx: usize) -> Pack {
        let off = self.offset_of(idx);
        let tail = self.buf.split_off(off);
        self.buf.shrink_to_fit();
        let moved = self.len - idx;
        self.len = idx;
        Pack {
            buf: tail,
            len: moved,
        }
    }

    /// Puts `head`'s entries (all sorting before this pack's) in front.
    fn prepend(&mut self, head: Pack) {
        let mut buf = head.buf;
        buf.reserve_exact(self.buf.len());
        buf.extend_from_slice(&self.buf);
        self.buf = buf;
        self.len += head.len;
    }

    fn append(&mut self, other: &Pack) {
        self.buf.extend_from_slice(&other.buf);
        self.len += other.len;
    }

    /// Index, byte offset and score of `member`, by a linear search.
    fn find_member(&self, member: &[u8]) -> Option<(usize, usize, f64)> {
        let mut off = 0;
        for i in 0..self.len {
            let (s, m, next) = self.read(off);
            if m == member {
                return Some((i, off, s));
            }
            off = next;
        }
        None
    }

    /// Index and byte offset of the entry equal to (`score`, `member`).
    fn find_exact(&self, score: f64, member: &[u8]) -> Option<(usize, usize)> {
        let (i, off) = self.lower_bound(|s, m| cmp_key(s, m, score, member).is_lt());
        (i < self.len && self.read(off).1 == member).then_some((i, off))
    }

    fn shrink(&mut self) {
        if self.buf.capacity() > self.buf.len() * 2 {
            self.buf.shrink_to_fit();
        }
    }
}

/// Entries of a [`Pack`] in order.
pub(crate) struct PackIter<'a> {
    pack: &'a Pack,
    off: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = (f64, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.off >= self.pack.buf.len() {
            return None;
        }
        let (s, m, next) = self.pack.read(self.off);
        self.off = next;
        Some((s, m))
    }
}

/// A member with its score in one allocation, `[score: f64 LE][member]`: the hash table's
/// entry of a large set.
#[derive(Default)]
pub(crate) struct ZEntry(Box<[u8]>);

impl ZEntry {
    fn new(score: f64, member: &[u8]) -> Self {
        let mut v = Vec::with_capacity(8 + member.len());
        v.extend_from_slice(&score.to_le_bytes());
        v.extend_from_slice(member);
        ZEntry(v.into_boxed_slice())
    }

    pub(crate) fn score(&self) -> f64 {
        let mut s = [0u8; 8];
        if let Some(b) = self.0.get(..8) {
            s.copy_from_slice(b);
        }
        f64::from_le_bytes(s)
    }

    fn set_score(&mut self, score: f64) {
        self.0[..8].copy_from_slice(&score.to_le_bytes());
    }

    fn footprint(&self) -> usize {
        alloc_size(self.0.len())
    }
}

impl Slot for ZEntry {
    fn key(&self) -> &[u8] {
        self.0.get(8..).unwrap_or_default()
    }
}

/// The members of a large set in order: leaves plus a Fenwick tree of their lengths.
#[derive(Clone, Default)]
struct Leaves {
    leaves: Vec<Pack>,
    /// Each leaf's first score, so that finding a leaf by score reads one array rather
    /// than one leaf per step of the binary search.
    firsts: Vec<f64>,
    /// 1-based Fenwick tree over the leaves' lengths (`fen[0]` unused).
    fen: Vec<usize>,
    len: usize,
    /// Sum of the leaves' allocations.
    leaf_bytes: usize,
}

impl Leaves {
    fn rebuild(&mut self) {
        let n = self.leaves.len();
        self.fen.clear();
        self.fen.resize(n + 1, 0);
        for i in 1..=n {
            self.fen[i] += self.leaves[i - 1].len();
            let j = i + (i & i.wrapping_neg());
            if j <= n {
                self.fen[j] += self.fen[i];
            }
        }
        self.leaf_bytes = self.leaves.iter().map(Pack::heap_bytes).sum();
    }

    fn fen_add(&mut self, leaf: usize, delta: isize) {
        let mut i = leaf + 1;
        while i < self.fen.len() {
            self.fen[i] = self.fen[i].wrapping_add_signed(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// Entries in the leaves before `leaf`.
    fn prefix(&self, leaf: usize) -> usize {
        let mut i = leaf;
        let mut sum = 0;
        while i > 0 {
            sum += self.fen[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }

    /// The leaf holding rank `r` (< len) and its index in it.
    fn locate(&self, mut r: usize) -> (usize, usize) {
        let n = self.fen.len() - 1;
        let mut pos = 0;
        let mut step = n.checked_ilog2().map_or(0, |b| 1usize << b);
        while step > 0 {
            if pos + step <= n && self.fen[pos + step] <= r {
                pos += step;
                r -= self.fen[pos];
            }
            step >>= 1;
        }
        (pos, r)
    }

    /// The leaf where the first entry not before `seek` lies (0 for an empty run).
    fn leaf_for(&self, seek: Seek<'_>) -> usize {
        let before = |i: usize| {
            seek.by_score(self.firsts[i]).unwrap_or_else(|| {
                self.leaves[i]
                    .first()
                    .is_some_and(|(s, m)| seek.before(s, m))
            })
        };
        let (mut lo, mut hi) = (0, self.leaves.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if before(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo.saturating_sub(1)
    }

    fn lower_bound(&self, seek: Seek<'_>) -> usize {
        if self.leaves.is_empty() {
            return 0;
        }
        let leaf = self.leaf_for(seek);
        self.prefix(leaf) + self.leaves[leaf].lower_bound(|s, m| seek.before(s, m)).0
    }

    /// Records `leaf`'s first score after a change to it.
    fn sync_first(&mut self, leaf: usize) {
        if let Some((s, _)) = self.leaves[leaf].first() {
            self.firsts[leaf] = s;
        }
    }

    fn with_leaf<R>(&mut self, leaf: usize, f: impl FnOnce(&mut Pack) -> R) -> R {
        let before = self.leaves[leaf].heap_bytes();
        let r = f(&mut self.leaves[leaf]);
        self.leaf_bytes = self.leaf_bytes - before + self.leaves[leaf].heap_bytes();
        self.sync_first(leaf);
        r
    }

    fn insert_leaf(&mut self, at: usize, leaf: Pack) {
        self.firsts.insert(at, leaf.first().map_or(0.0, |(s, _)| s));
        self.leaves.insert(at, leaf);
    }

    fn remove_leaf(&mut self, at: usize) -> Pack {
        self.firsts.remove(at);
        self.leaves.remove(at)
    }

    fn insert(&mut self, score: f64, member: &[u8]) {
        if self.leaves.is_empty() {
            self.insert_leaf(0, Pack::default());
            self.rebuild();
        }
        let seek = Seek::Key(score, member);
        let leaf = self.leaf_for(seek);
        let idx = self.with_leaf(leaf, |l| {
            let (idx, off) = l.lower_bound(|s, m| seek.before(s, m));
            l.insert_at(off, score, member);
            idx
        });
        self.len += 1;
        let l = &self.leaves[leaf];
        if l.len() > LEAF_MAX && self.share(leaf) {
            return;
        }
        let l = &self.leaves[leaf];
        if l.len() > LEAF_MAX || (l.bytes() > LEAF_BYTES && l.len() > 1) {
            // Entries arriving in order (timestamps, counters) go to one end: the full
            // leaf stays full and the new entry starts a leaf of its own, so such sets
            // fill their leaves rather than leave them half empty.
            let at = if idx + 1 == l.len() {
                idx
            } else if idx == 0 {
                1
            } else {
                l.len() / 2
            };
            let tail = self.leaves[leaf].split_off(at);
            self.insert_leaf(leaf + 1, tail);
            self.sync_first(leaf);
            self.rebuild();
        } else {
            self.fen_add(leaf, 1);
        }
    }

    /// Moves entries of the overflowing `leaf` (its new entry already counted in `len`
    /// but not yet in the Fenwick tree) to a neighbour with room, evening the two out, as a
    /// B*-tree does before it splits: leaves filled in random order then stay about
    /// three-quarters full instead of two-thirds. False when neither neighbour has room.
    fn share(&mut self, leaf: usize) -> bool {
        let roomy = |l: &Pack| l.len() < LEAF_MAX * 3 / 4;
        let len = self.leaves[leaf].len();
        if leaf + 1 < self.leaves.len() && roomy(&self.leaves[leaf + 1]) {
            let next = leaf + 1;
            let k = (len - self.leaves[next].len()) / 2;
            let cut = self.leaves[leaf].offset_of(len - k);
            let moved = self.leaves[leaf].bytes() - cut;
            if k > 0 && self.leaves[next].bytes() + moved <= LEAF_BYTES {
                let before = self.leaves[leaf].heap_bytes() + self.leaves[next].heap_bytes();
                let tail = self.leaves[leaf].split_off(len - k);
                self.leaves[next].prepend(tail);
                self.sync_first(next);
                let after = self.leaves[leaf].heap_bytes() + self.leaves[next].heap_bytes();
                self.leaf_bytes = self.leaf_bytes + after - before;
                self.fen_add(leaf, 1 - k as isize);
                self.fen_add(next, k as isize);
                return true;
            }
        }
        if leaf > 0 && roomy(&self.leaves[leaf - 1]) {
            let prev = leaf - 1;
            let k = (len - self.leaves[prev].len()) / 2;
            let moved = self.leaves[leaf].offset_of(k);
            if k > 0 && self.leaves[prev].bytes() + moved <= LEAF_BYTES {
                let before = self.leaves[leaf].heap_bytes() + self.leaves[prev].heap_bytes();
                let rest = self.leaves[leaf].split_off(k);
                let head = std::mem::replace(&mut self.leaves[leaf], rest);
                self.leaves[prev].append(&head);
                self.sync_first(leaf);
                let after = self.leaves[leaf].heap_bytes() + self.leaves[prev].heap_bytes();
                self.leaf_bytes = self.leaf_bytes + after - before;
                self.fen_add(leaf, 1 - k as isize);
                self.fen_add(prev, k as isize);
                return true;
            }
        }
        false
    }

    fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let r = self.lower_bound(Seek::Key(score, member));
        if r >= self.len {
            return false;
        }
        let (leaf, idx) = self.locate(r);
        let off = self.leaves[leaf].offset_of(idx);
        if self.leaves[leaf].read(off).1 != member {
            return false;
        }
        self.with_leaf(leaf, |l| l.remove_at(off, 1));
        self.len -= 1;
        if !self.tidy(leaf) {
            self.fen_add(leaf, -1);
        }
        true
    }

    /// Drops an emptied leaf or merges a thin one into a neighbour; true if the leaves
    /// changed (and the Fenwick tree was rebuilt).
    fn tidy(&mut self, leaf: usize) -> bool {
        let len = self.leaves[leaf].len();
        if len == 0 {
            self.remove_leaf(leaf);
            self.rebuild();
            return true;
        }
        if len >= LEAF_MAX / 4 {
            self.with_leaf(leaf, Pack::shrink);
            return false;
        }
        let fits = |a: &Pack, b: &Pack| {
            a.len() + b.len() <= LEAF_MAX * 3 / 4 && a.bytes() + b.bytes() <= LEAF_BYTES
        };
        let (left, right) =
            if leaf + 1 < self.leaves.len() && fits(&self.leaves[leaf], &self.leaves[leaf + 1]) {
                (leaf, leaf + 1)
            } else if leaf > 0 && fits(&self.leaves[leaf - 1], &self.leaves[leaf]) {
                (leaf - 1, leaf)
            } else {
                self.with_leaf(leaf, Pack::shrink);
                return false;
            };
        let right = self.remove_leaf(right);
        self.leaves[left].append(&right);
        self.rebuild();
        true
    }

    /// Removes ranks `start..end`, handing each removed entry to `f` first, in order.
    /// Whole leaves inside the range are dropped together, so a range of many leaves costs
    /// one rebuild of the Fenwick tree, not one per leaf.
    fn remove_range(&mut self, start: usize, end: usize, mut f: impl FnMut(f64, &[u8])) {
        let end = end.min(self.len);
        if start >= end {
            return;
        }
        let (first, first_idx) = self.locate(start);
        let (last, last_idx) = self.locate(end - 1);
        if first == last {
            let k = end - start;
            let l = &self.leaves[first];
            let off = l.offset_of(first_idx);
            let mut at = off;
            for _ in 0..k {
                let (s, m, next) = l.read(at);
                f(s, m);
                at = next;
            }
            self.with_leaf(first, |l| l.remove_at(off, k));
            self.len -= k;
            if !self.tidy(first) {
                self.fen_add(first, -(k as isize));
            }
            return;
        }
        for (s, m) in self.leaves[first].iter().skip(first_idx) {
            f(s, m);
        }
        for leaf in &self.leaves[first + 1..last] {
            for (s, m) in leaf.iter() {
                f(s, m);
            }
        }
        for (s, m) in self.leaves[last].iter().take(last_idx + 1) {
            f(s, m);
        }
        let head = &mut self.leaves[first];
        let off = head.offset_of(first_idx);
        let cut = head.len() - first_idx;
        head.remove_at(off, cut);
        head.shrink();
        let tail = &mut self.leaves[last];
        tail.remove_at(0, last_idx + 1);
        tail.shrink();
        self.leaves.drain(first + 1..last);
        self.firsts.drain(first + 1..last);
        // The cut leaves are now `first` and `first + 1`; drop whichever emptied.
        for i in [first + 1, first] {
            if self.leaves[i].len() == 0 {
                self.remove_leaf(i);
            } else {
                self.sync_first(i);
            }
        }
        self.len -= end - start;
        self.rebuild();
        // The two cut leaves are neighbours now: merge them if both are thin.
        if let Some(i) = first.checked_sub(1).filter(|_| first >= self.leaves.len()) {
            self.tidy(i);
        } else if first < self.leaves.len() {
            self.tidy(first);
        }
    }

    /// Calls `f` with ranks `start..end` in order (`rev`: from `end - 1` down).
    fn for_each(&self, start: usize, end: usize, rev: bool, mut f: impl FnMut(f64, &[u8])) {
        if start >= end || start >= self.len {
            return;
        }
        let end = end.min(self.len);
        let (first_leaf, first_idx) = self.locate(start);
        let (last_leaf, last_idx) = self.locate(end - 1);
        if rev {
            let mut items: Vec<(f64, &[u8])> = Vec::new();
            for leaf in (first_leaf..=last_leaf).rev() {
                items.clear();
                let from = if leaf == first_leaf { first_idx } else { 0 };
                let to = if leaf == last_leaf {
                    last_idx + 1
                } else {
                    self.leaves[leaf].len()
                };
                items.extend(self.leaves[leaf].iter().skip(from).take(to - from));
                for &(s, m) in items.iter().rev() {
                    f(s, m);
                }
            }
        } else {
            let mut left = end - start;
            for leaf in first_leaf..=last_leaf {
                let from = if leaf == first_leaf { first_idx } else { 0 };
                for (s, m) in self.leaves[leaf].iter().skip(from).take(left) {
                    f(s, m);
                    left -= 1;
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        alloc_size(self.leaves.capacity() * std::mem::size_of::<Pack>())
            + alloc_size(self.firsts.capacity() * std::mem::size_of::<f64>())
            + alloc_size(self.fen.capacity() * std::mem::size_of::<usize>())
            + self.leaf_bytes
    }
}

/// A large set: the members in order, and by name.
struct Big {
    order: Leaves,
    map: Table<ZEntry, ()>,
    /// Sum of the map entries' allocations.
    entry_bytes: usize,
}

impl Big {
    fn new(hasher: RandomState) -> Big {
        Big {
            order: Leaves::default(),
            map: Table::new(hasher, 0),
            entry_bytes: 0,
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        let h = self.map.hash(member);
        self.map.find(h, member).map(|i| self.map.get(i).score())
    }
}

/// The limits under which a set stays small, and the hasher a large one's table uses.
#[derive(Clone)]
pub(crate) struct Limits {
    pub(crate) max_entries: usize,
    pub(crate) max_value: usize,
    pub(crate) hasher: RandomState,
}

enum Enc {
    Small(Pack),
    Big(Box<Big>),
}

/// A small sorted set lives in its key's entry: its member count, then its entries as a
/// [`Pack`] holds them.
impl ZSetObj {
    /// The packed value of an empty sorted set.
    pub(crate) const EMPTY_PACKED: &'static [u8] = &[0];

    /// How many members the packed value `value` holds.
    pub(crate) fn packed_len(value: &[u8]) -> usize {
        read_varint(value).0
    }

    /// The owned, editable form of a packed value.
    pub(crate) fn unpack(value: &[u8]) -> Self {
        let (len, n) = read_varint(value);
        ZSetObj {
            enc: Enc::Small(Pack {
                buf: value.get(n..).unwrap_or_default().to_vec(),
                len,
            }),
        }
    }

    /// The packed form, or `None` once past the limits of packing.
    pub(crate) fn pack(&self) -> Option<Vec<u8>> {
        match &self.enc {
            Enc::Small(p) => {
                let mut out = Vec::with_capacity(varint_len(p.len) + p.buf.len());
                write_varint(&mut out, p.len);
                out.extend_from_slice(&p.buf);
                Some(out)
            }
            Enc::Big(_) => None,
        }
    }
}

/// A sorted set.
pub(crate) struct ZSetObj {
    enc: Enc,
}

impl ZSetObj {
    /// An empty set in the small encoding.
    pub(crate) fn new() -> ZSetObj {
        ZSetObj {
            enc: Enc::Small(Pack::default()),
        }
    }

    /// A set of `items` (distinct members, any order), in the encoding Redis's
    /// `zsetTypeCreate` picks for its size and longest member.
    pub(crate) fn from_items<'a>(
        items: impl IntoIterator<Item = (f64, &'a [u8])>,
        size_hint: usize,
        longest: usize,
        lim: &Limits,
    ) -> ZSetObj {
        let mut z = ZSetObj::new();
        if size_hint > lim.max_entries || longest > lim.max_value {
            z.convert(lim.hasher.clone());
        }
        for (s, m) in items {
            z.insert_new(s, m, lim);
        }
        z
    }

    pub(crate) fn len(&self) -> usize {
        match &self.enc {
            Enc::Small(p) => p.len(),
            Enc::Big(b) => b.order.len,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn is_big(&self) -> bool {
        matches!(self.enc, Enc::Big(_))
    }

    /// Converts to the large encoding.
    fn convert(&mut self, hasher: RandomState) {
        let Enc::Small(p) = &self.enc else { return };
        let mut big = Big::new(hasher);
        let mut leaf = Pack::default();
        for (s, m) in p.iter() {
            let e = ZEntry::new(s, m);
            big.entry_bytes += e.footprint();
            let h = big.map.hash(m);
            big.map.insert_new(h, e, ());
            leaf.push(s, m);
            if leaf.len() >= LEAF_MAX / 2 || leaf.bytes() >= LEAF_BYTES / 2 {
                let at = big.order.leaves.len();
                big.order.insert_leaf(at, std::mem::take(&mut leaf));
            }
        }
        if leaf.len() > 0 {
            let at = big.order.leaves.len();
            big.order.insert_leaf(at, leaf);
        }
        big.order.len = p.len();
        big.order.rebuild();
        self.enc = Enc::Big(Box::new(big));
    }

    /// The member's score.
    pub(crate) fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.enc {
            Enc::Small(p) => p.find_member(member).map(|(_, _, s)| s),
            Enc::Big(b) => b.score(member),
        }
    }

    /// Adds a member known to be absent.
    pub(crate) fn insert_new(&mut self, score: f64, member: &[u8], lim: &Limits) {
        // As Redis 7.0, a member that would overflow the compact set converts it first and
        // then goes into the large one.
        if let Enc::Small(p) = &self.enc
            && (p.len() + 1 > lim.max_entries || member.len() > lim.max_value)
        {
            self.convert(lim.hasher.clone());
        }
        if let Enc::Small(p) = &mut self.enc {
            let score = compact_score(score);
            let (_, off) = p.lower_bound(|s, m| cmp_key(s, m, score, member).is_lt());
            p.insert_at(off, score, member);
            return;
        }
        if let Enc::Big(b) = &mut self.enc {
            let e = ZEntry::new(score, member);
            b.entry_bytes += e.footprint();
            let h = b.map.hash(member);
            b.map.insert_new(h, e, ());
            b.order.insert(score, member);
        }
    }

    /// Sets `member`'s score, adding it if absent; true if it was added.
    pub(crate) fn set(&mut self, score: f64, member: &[u8], lim: &Limits) -> bool {
        match self.score(member) {
            Some(old) => {
                self.update(old, score, member);
                false
            }
            None => {
                self.insert_new(score, member, lim);
                true
            }
        }
    }

    /// Moves an existing member from score `old` (its score now) to `new`.
    pub(crate) fn update(&mut self, old: f64, new: f64, member: &[u8]) {
        // Equal scores (0 and -0 included) leave the member as it is, as Redis does.
        #[allow(clippy::float_cmp)]
        if old == new {
            return;
        }
        match &mut self.enc {
            Enc::Small(p) => {
                if let Some((_, off)) = p.find_exact(old, member) {
                    p.remove_at(off, 1);
                }
                let new = compact_score(new);
                let (_, off) = p.lower_bound(|s, m| cmp_key(s, m, new, member).is_lt());
                p.insert_at(off, new, member);
            }
            Enc::Big(b) => {
                let h = b.map.hash(member);
                if let Some(i) = b.map.find(h, member) {
                    b.map.get_mut(i).set_score(new);
                }
                b.order.remove(old, member);
                b.order.insert(new, member);
            }
        }
    }

    /// Removes `member`; its score if it was there.
    pub(crate) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match &mut self.enc {
            Enc::Small(p) => {
                let (_, off, s) = p.find_member(member)?;
                p.remove_at(off, 1);
                p.shrink();
                Some(s)
            }
            Enc::Big(b) => {
                let h = b.map.hash(member);
                let i = b.map.find(h, member)?;
                let (e, ()) = b.map.remove_at(i);
                b.entry_bytes -= e.footprint();
                let s = e.score();
                b.order.remove(s, member);
                Some(s)
            }
        }
    }

    /// How many members come before `seek`'s first unmatched one: the rank where a bound
    /// falls.
    pub(crate) fn lower_bound(&self, seek: Seek<'_>) -> usize {
        match &self.enc {
            Enc::Small(p) => p.lower_bound(|s, m| seek.before(s, m)).0,
            Enc::Big(b) => b.order.lower_bound(seek),
        }
    }

    /// The member's 0-based rank (ascending) and score.
    pub(crate) fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match &self.enc {
            Enc::Small(p) => p.find_member(member).map(|(i, _, s)| (i, s)),
            Enc::Big(b) => {
                let s = b.score(member)?;
                Some((b.order.lower_bound(Seek::Key(s, member)), s))
            }
        }
    }

    /// Calls `f` with ranks `start..end` in order, or from `end - 1` down with `rev`.
    pub(crate) fn for_each(
        &self,
        start: usize,
        end: usize,
        rev: bool,
        mut f: impl FnMut(f64, &[u8]),
    ) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        match &self.enc {
            Enc::Small(p) => {
                if rev {
                    let items: Vec<(f64, &[u8])> = p.iter().skip(start).take(end - start).collect();
                    for &(s, m) in items.iter().rev() {
                        f(s, m);
                    }
                } else {
                    for (s, m) in p.iter().skip(start).take(end - start) {
                        f(s, m);
                    }
                }
            }
            Enc::Big(b) => b.order.for_each(start, end, rev, f),
        }
    }

    /// The entry at rank `r`.
    pub(crate) fn at(&self, r: usize) -> Option<(f64, Vec<u8>)> {
        let mut out = None;
        self.for_each(r, r + 1, false, |s, m| out = Some((s, m.to_vec())));
        out
    }

    /// Removes ranks `start..end`, handing each removed entry to `f`; how many removed.
    pub(crate) fn remove_range(
        &mut self,
        start: usize,
        end: usize,
        mut f: impl FnMut(f64, &[u8]),
    ) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match &mut self.enc {
            Enc::Small(p) => {
                let off = p.offset_of(start);
                let mut at = off;
                for _ in start..end {
                    let (s, m, next) = p.read(at);
                    f(s, m);
                    at = next;
                }
                p.remove_at(off, end - start);
                p.shrink();
            }
            Enc::Big(b) => {
                let Big {
                    order,
                    map,
                    entry_bytes,
                } = &mut **b;
                order.remove_range(start, end, |s, m| {
                    let h = map.hash(m);
                    if let Some(i) = map.find(h, m) {
                        let (e, ()) = map.remove_at(i);
                        *entry_bytes -= e.footprint();
                    }
                    f(s, m);
                });
            }
        }
        end - start
    }

    /// Every entry in order.
    pub(crate) fn iter_all(&self, f: impl FnMut(f64, &[u8])) {
        self.for_each(0, self.len(), false, f);
    }

    /// The large set's member table (SCAN and random picks), `None` while small.
    pub(crate) fn table(&self) -> Option<&Table<ZEntry, ()>> {
        match &self.enc {
            Enc::Small(_) => None,
            Enc::Big(b) => Some(&b.map),
        }
    }

    /// Heap bytes held, allocator rounding included.
    pub(crate) fn heap_bytes(&self) -> usize {
        match &self.enc {
            Enc::Small(p) => p.heap_bytes(),
            Enc::Big(b) => {
                alloc_size(std::mem::size_of::<Big>())
                    + b.order.heap_bytes()
                    + alloc_size(b.map.array_bytes())
                    + b.entry_bytes
            }
        }
    }

    /// A copy (COPY), in the same encoding.
    pub(crate) fn duplicate(&self) -> ZSetObj {
        match &self.enc {
            Enc::Small(p) => ZSetObj {
                enc: Enc::Small(p.clone()),
            },
            Enc::Big(b) => {
                let mut map = Table::new(b.map.hasher().clone(), 0);
                for (_, e) in b.map.iter() {
                    let h = map.hash(e.key());
                    map.insert_new(h, ZEntry(e.0.clone()), ());
                }
                let mut order = b.order.clone();
                // Clones are allocated to size: their byte total is counted afresh.
                order.rebuild();
                ZSetObj {
                    enc: Enc::Big(Box::new(Big {
                        order,
                        map,
                        entry_bytes: b.entry_bytes,
                    })),
                }
            }
        }
    }

    /// Checks the structure against itself: order, counts, byte totals, and that the
    /// member table and the order hold the same members with the same scores.
    pub(crate) fn check(&self) -> Result<(), String> {
        fn check_order(items: &[(f64, &[u8])]) -> Result<(), String> {
            for w in items.windows(2) {
                if !cmp_key(w[0].0, w[0].1, w[1].0, w[1].1).is_lt() {
                    return Err(format!("{:?} not before {:?}", w[0], w[1]));
                }
            }
            if items.iter().any(|(s, _)| s.is_nan()) {
                return Err("a NaN score".into());
            }
            Ok(())
        }
        match &self.enc {
            Enc::Small(p) => {
                let items: Vec<(f64, &[u8])> = p.iter().collect();
                if items.len() != p.len() {
                    return Err(format!("pack counts {}, holds {}", p.len(), items.len()));
                }
                check_order(&items)
            }
            Enc::Big(b) => {
                let o = &b.order;
                let mut items = Vec::new();
                for (i, l) in o.leaves.iter().enumerate() {
                    let n = l.iter().count();
                    if n == 0 || n != l.len() {
                        return Err(format!("leaf {i} counts {}, holds {n}", l.len()));
                    }
                    items.extend(l.iter());
                }
                check_order(&items)?;
                if items.len() != o.len || o.len != b.map.len() {
                    return Err(format!(
                        "order counts {}, holds {}, the table {}",
                        o.len,
                        items.len(),
                        b.map.len()
                    ));
                }
                let firsts: Vec<f64> = o
                    .leaves
                    .iter()
                    .filter_map(|l| l.first())
                    .map(|(s, _)| s)
                    .collect();
                if firsts
                    .iter()
                    .map(|s| s.to_bits())
                    .ne(o.firsts.iter().map(|s| s.to_bits()))
                {
                    return Err("leaves' first scores out of date".into());
                }
                let mut fresh = o.clone();
                fresh.rebuild();
                let leaf_bytes: usize = o.leaves.iter().map(Pack::heap_bytes).sum();
                if fresh.fen != o.fen || leaf_bytes != o.leaf_bytes {
                    return Err("Fenwick tree or leaf byte total out of date".into());
                }
                for (s, m) in &items {
                    if b.score(m).map(f64::to_bits) != Some(s.to_bits()) {
                        return Err(format!(
                            "{m:?} scores {s} in order, {:?} in the table",
                            b.score(m)
                        ));
                    }
                }
                let bytes: usize = b.map.iter().map(|(_, e)| e.footprint()).sum();
                if bytes != b.entry_bytes {
                    return Err(format!("entries take {bytes}, counted {}", b.entry_bytes));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> Limits {
        Limits {
            max_entries: 16,
            max_value: 64,
            hasher: RandomState::with_seeds(1, 2, 3, 4),
        }
    }

    /// Many leaves, random inserts, updates, deletes and range removals against a sorted
    /// vector, with the structure checked as it goes.
    #[test]
    fn large_sets_agree_with_a_sorted_vector() {
        let lim = lim();
        let mut z = ZSetObj::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for step in 0..40_000u32 {
            let m = format!("k{}", rnd(6000)).into_bytes();
            let s = (rnd(200) as f64) - 100.0;
            match rnd(20) {
                0..=11 => {
                    z.set(s, &m, &lim);
                    model.retain(|(_, x)| *x != m);
                    model.push((s, m));
                    model.sort_by(|a, b| cmp_key(a.0, &a.1, b.0, &b.1));
                }
                12..=16 => {
                    let had = model.iter().position(|(_, x)| *x == m);
                    assert_eq!(z.remove(&m).is_some(), had.is_some());
                    if let Some(i) = had {
                        model.remove(i);
                    }
                }
                _ => {
                    let len = model.len() as u64 + 1;
                    let a = rnd(len) as usize;
                    let b = a + rnd(if step % 500 == 0 { len } else { 40 }) as usize;
                    let mut gone = Vec::new();
                    let n = z.remove_range(a, b, |s, m| gone.push((s, m.to_vec())));
                    let want: Vec<(f64, Vec<u8>)> = model
                        .drain(a.min(model.len())..b.min(model.len()))
                        .collect();
                    assert_eq!(n, want.len());
                    assert_eq!(gone, want);
                }
            }
            if step % 997 == 0 {
                z.check().unwrap();
                let mut all = Vec::new();
                z.iter_all(|s, m| all.push((s, m.to_vec())));
                assert_eq!(all, model);
                for (r, (s, m)) in model.iter().enumerate().step_by(37) {
                    assert_eq!(z.rank(m), Some((r, *s)));
                    assert_eq!(z.at(r), Some((*s, m.clone())));
                }
                let mut rev = Vec::new();
                z.for_each(3, model.len().saturating_sub(2), true, |s, m| {
                    rev.push((s, m.to_vec()))
                });
                let mut want: Vec<_> = model
                    .get(3..model.len().saturating_sub(2))
                    .unwrap_or_default()
                    .to_vec();
                want.reverse();
                assert_eq!(rev, want);
            }
        }
        z.check().unwrap();
    }

    #[test]
    fn leaves_filled_in_order_or_at_random_stay_full() {
        let lim = lim();
        for random in [false, true] {
            let mut z = ZSetObj::new();
            let mut x = 7u64;
            for i in 0..20_000u64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let s = if random {
                    (x % 1_000_000) as f64
                } else {
                    i as f64
                };
                z.set(s, format!("member:{i:09}").as_bytes(), &lim);
            }
            let Enc::Big(b) = &z.enc else {
                panic!("not converted")
            };
            let fill = z.len() as f64 / (b.order.leaves.len() * LEAF_MAX) as f64;
            assert!(
                fill > if random { 0.7 } else { 0.95 },
                "random {random}: {fill}"
            );
            z.check().unwrap();
        }
    }
}
