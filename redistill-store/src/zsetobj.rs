//! The sorted-set value: members ordered by score, then by member bytes.
//!
//! # Encodings
//!
//! - **Small** (Redis's `listpack`): one [`Pack`], a single byte buffer of entries in order,
//!   while the set has at most `zset-max-listpack-entries` members of at most
//!   `zset-max-listpack-value` bytes. Every operation is a linear walk of the buffer, as
//!   Redis's listpack is; a set that outgrows the limits converts once and never back.
//! - **Large** (reported as `skiplist`): the members in order in packs of at most
//!   [`LEAF_MAX`] entries (leaves) under a counted B-tree (the order tree), plus a
//!   member → score hash table ([`Table`]) for O(1) ZSCORE. Its slots also keep integer
//!   scores inline ([`InlineScore`]), so that a rank reads a slot and then the order, never
//!   the member's own allocation.
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
//! at a hundred thousand (the `zset_memory` test holds it to Redis's figure). The tree
//! above the leaves adds a 16-byte summary per leaf, a fraction of a byte per member; its
//! counts are 32-bit, so a large set holds fewer than 2^32 members (400 GB of them).
//!
//! Every node of the order tree keeps, per subtree, its entry count and first score, and
//! knows its first leaf (whose first member settles equal scores); nodes and leaves live
//! in two slabs, so the tree is two allocations besides the leaves' bytes. A rank is a
//! walk from the root adding the counts to the left; the entry at a rank is a walk by the
//! counts; the place of a score, a member (lex ranges) or a (score, member) is a walk by
//! binary search among each node's kids: O(log n) each, then a walk of one leaf (at most
//! [`LEAF_MAX`] entries). An insert or delete edits one leaf and the counts on its path; a
//! leaf that overflows first shares entries with a neighbour that has room, as a B*-tree
//! does, and only then splits; a thin leaf merges into a neighbour, a thin node merges
//! with or borrows from its neighbour, and the root grows or shrinks a level: each touches
//! one path, O(log n) with no amortization. Range removals take a leaf's run at a time.
//! Walks in order read contiguous memory, which is where most sorted-set time goes
//! (ZRANGE replies).
//!
//! # Order
//!
//! Scores are never NaN; they compare with `partial_cmp`, so `-0.0` and `0.0` are equal
//! and ties fall to the member bytes (memcmp), as in Redis.

use std::cmp::Ordering;

use ahash::RandomState;

use crate::codec::{read_varint, varint_len, write_varint};
use crate::memory::alloc_size;
use crate::table::{Slot, Table, same_key};

/// Most entries a leaf of a large set holds before it splits. Finding a place walks half a
/// leaf on average, decoding each entry: at 128 that walk was most of a ZRANK's
/// instructions, at 32 it is a third, for about one more byte per member of tree.
pub(crate) const LEAF_MAX: usize = 32;
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

    /// Calls `f` with the entries from the first not `before` on, in order, until `f`
    /// returns false; false when it did.
    fn scan_from<'a>(
        &'a self,
        before: impl Fn(f64, &[u8]) -> bool,
        f: &mut impl FnMut(f64, &'a [u8]) -> bool,
    ) -> bool {
        let mut off = 0;
        let mut seeking = true;
        for _ in 0..self.len {
            let (s, m, next) = self.read(off);
            off = next;
            if seeking {
                if before(s, m) {
                    continue;
                }
                seeking = false;
            }
            if !f(s, m) {
                return false;
            }
        }
        true
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
        let most = 9 + varint_len(member.len()) + member.len();
        // Grown as `insert_at` grows it: by an eighth.
        if self.buf.capacity() - self.buf.len() < most {
            self.buf.reserve_exact(most.max(self.buf.len() / 8).max(32));
        }
        write_score(&mut self.buf, score);
        write_varint(&mut self.buf, member.len());
        self.buf.extend_from_slice(member);
        self.len += 1;
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

    /// Index of the entry equal to (`score`, `member`). Entries are told apart by score
    /// first: a member's bytes are compared only where the scores are equal.
    #[inline]
    fn index_of(&self, score: f64, member: &[u8]) -> Option<usize> {
        let buf = &self.buf[..];
        let mut off = 0;
        for i in 0..self.len {
            let (s, w) = read_score(buf.get(off..)?);
            let (mlen, n) = read_varint(buf.get(off + w..)?);
            let start = off + w + n;
            if s >= score {
                #[allow(clippy::float_cmp)]
                if s != score {
                    return None;
                }
                match buf.get(start..start + mlen)?.cmp(member) {
                    Ordering::Less => {}
                    Ordering::Equal => return Some(i),
                    Ordering::Greater => return None,
                }
            }
            off = start + mlen;
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

    fn heap(&self) -> *const u8 {
        self.0.as_ptr()
    }
}

/// A member's score kept a second time in its table slot, in the six bytes the slot has
/// spare, when it is an integer below 2^46 in magnitude (counters, ranks, positions,
/// millisecond times): a rank then reads the slot and the order, never the member's own
/// allocation, one cache miss fewer. Other scores read as absent here.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct InlineScore([u8; 6]);

impl InlineScore {
    /// `score` as a slot keeps it: its zigzag code plus one, 0 being "not kept here".
    fn of(score: f64) -> Self {
        const LIMIT: f64 = 70_368_744_177_664.0; // 2^46
        if score.fract() != 0.0
            || score.abs() >= LIMIT
            || (score == 0.0 && score.is_sign_negative())
        {
            return InlineScore::default();
        }
        let n = score as i64;
        let code = (((n << 1) ^ (n >> 63)) as u64 + 1).to_le_bytes();
        let mut b = [0u8; 6];
        b.copy_from_slice(&code[..6]);
        InlineScore(b)
    }

    /// The score kept, if any.
    #[inline]
    fn get(self) -> Option<f64> {
        let mut b = [0u8; 8];
        b[..6].copy_from_slice(&self.0);
        let code = u64::from_le_bytes(b).checked_sub(1)?;
        Some((((code >> 1) as i64) ^ -((code & 1) as i64)) as f64)
    }
}

/// Most subtrees a node of the order tree holds; one more makes it split. A node filled in
/// order splits into 32 kids and [`MIN_KIDS`], the 32 a 512-byte array with no slack.
#[cfg(not(test))]
const FANOUT: usize = 35;
/// Small nodes in tests, so that a few thousand members make a tree of several levels.
#[cfg(test)]
const FANOUT: usize = 6;
/// Fewest subtrees a node other than the root holds: one with fewer merges with a
/// neighbour or borrows from it. Low, so that nodes filled in order stay nearly full.
#[cfg(not(test))]
const MIN_KIDS: usize = FANOUT / 8;
#[cfg(test)]
const MIN_KIDS: usize = 2;

/// A node's summary of one subtree.
#[derive(Clone, Copy, Default)]
struct Kid {
    /// The subtree's first score: routes by score without reading a leaf.
    first: f64,
    /// Entries in the subtree (a set holds fewer than 2^32: see the module doc).
    count: u32,
    /// The subtree: a node, or a leaf under a node of the bottom level.
    id: u32,
}

impl Kid {
    fn len(&self) -> usize {
        self.count as usize
    }
}

/// A node of the order tree: up to [`FANOUT`] subtrees in order (one more while it
/// splits), its array grown a few kids at a time (the nodes of small sets hold few).
#[derive(Clone, Default)]
struct Node {
    kids: Vec<Kid>,
    /// The first leaf under this node: its first member routes among equal scores.
    lead: u32,
}

impl Node {
    fn kids(&self) -> &[Kid] {
        &self.kids
    }

    fn kids_mut(&mut self) -> &mut [Kid] {
        &mut self.kids
    }

    fn len(&self) -> usize {
        self.kids.len()
    }

    fn total(&self) -> usize {
        self.kids.iter().map(Kid::len).sum()
    }

    fn heap_bytes(&self) -> usize {
        if self.kids.capacity() == 0 {
            0
        } else {
            alloc_size(self.kids.capacity() * std::mem::size_of::<Kid>())
        }
    }

    /// Room for `more` kids.
    fn reserve(&mut self, more: usize) {
        grow_by(&mut self.kids, more);
    }

    fn insert(&mut self, at: usize, kid: Kid) {
        self.reserve(1);
        self.kids.insert(at, kid);
    }

    fn remove(&mut self, at: usize) -> Kid {
        let kid = self.kids.remove(at);
        if self.kids.capacity() > 2 * self.kids.len() + 4 {
            self.kids.shrink_to_fit();
        }
        kid
    }

    /// Moves the kids from `at` on to the end of `to`.
    fn move_tail(&mut self, at: usize, to: &mut Node) {
        to.reserve(self.kids.len() - at);
        to.kids.extend(self.kids.drain(at..));
    }

    /// Moves the first `k` kids to the end of `to`.
    fn move_head(&mut self, k: usize, to: &mut Node) {
        to.reserve(k);
        to.kids.extend(self.kids.drain(..k));
    }

    /// Puts `head`'s kids (all before this node's) in front.
    fn prepend(&mut self, head: &[Kid]) {
        self.reserve(head.len());
        self.kids.splice(0..0, head.iter().copied());
    }
}

/// Room for `more` elements in `v`: it grows by a thirty-second at least, to the end of the
/// allocator's size class, rather than doubling, since its slack is memory per member.
/// Growing copies the array: a few dozen moves per element added, amortized.
fn grow_by<T>(v: &mut Vec<T>, more: usize) {
    if v.capacity() - v.len() < more {
        let size = std::mem::size_of::<T>().max(1);
        let want = v.len() + more.max(v.len() / 32);
        let cap = (alloc_size(want * size) / size).max(want);
        v.reserve_exact(cap - v.len());
    }
}

/// Room for one more element in a slab.
fn grow<T>(v: &mut Vec<T>) {
    grow_by(v, 1);
}

/// Where a walk down the tree goes.
#[derive(Clone, Copy)]
enum Target<'a> {
    /// The entry at this rank.
    Rank(usize),
    /// The entry equal to (score, member).
    Exact(f64, &'a [u8]),
}

/// The members of a large set in order: packed leaves under a counted B-tree. Every node
/// keeps, per subtree, its entry count and first score, and knows its first leaf, so a
/// rank, an entry at a rank and the place of a score, a member or a (score, member) are
/// all a walk from the root, and a split or merge touches one path.
#[derive(Clone, Default)]
struct Order {
    /// Slab of leaves; a freed one is empty and listed in `free_leaves`.
    leaves: Vec<Pack>,
    free_leaves: Vec<u32>,
    /// Slab of nodes; a freed one is listed in `free_nodes`.
    nodes: Vec<Node>,
    free_nodes: Vec<u32>,
    /// Sum of the nodes' kid arrays' allocations.
    node_bytes: usize,
    root: u32,
    /// Levels of nodes above the leaves; 0 while empty.
    height: usize,
    len: usize,
    /// Sum of the leaves' allocations.
    leaf_bytes: usize,
}

impl Order {
    /// An order holding `packs` (non-empty, in order, each sorting before the next), built
    /// level by level.
    fn from_leaves(packs: Vec<Pack>) -> Order {
        let mut o = Order::default();
        let mut kids: Vec<Kid> = Vec::with_capacity(packs.len());
        for p in packs {
            o.len += p.len();
            let id = o.alloc_leaf(p);
            kids.push(o.leaf_kid(id));
        }
        if kids.is_empty() {
            return o;
        }
        o.height = 1;
        loop {
            let groups = kids.len().div_ceil(FANOUT);
            let mut next = Vec::with_capacity(groups);
            let mut at = 0;
            for g in 0..groups {
                // Even shares, so that no node but the root falls below `MIN_KIDS`.
                let take = (kids.len() - at) / (groups - g);
                let mut node = Node::default();
                for (j, k) in kids[at..at + take].iter().enumerate() {
                    node.insert(j, *k);
                }
                at += take;
                let id = o.alloc_node(node);
                o.refresh_lead(id, o.height);
                next.push(o.node_kid(id));
            }
            if next.len() == 1 {
                o.root = next[0].id;
                return o;
            }
            kids = next;
            o.height += 1;
        }
    }

    fn alloc_leaf(&mut self, p: Pack) -> u32 {
        self.leaf_bytes += p.heap_bytes();
        if let Some(id) = self.free_leaves.pop() {
            self.leaves[id as usize] = p;
            return id;
        }
        grow(&mut self.leaves);
        self.leaves.push(p);
        (self.leaves.len() - 1) as u32
    }

    fn free_leaf(&mut self, id: u32) -> Pack {
        let p = std::mem::take(&mut self.leaves[id as usize]);
        self.leaf_bytes -= p.heap_bytes();
        grow(&mut self.free_leaves);
        self.free_leaves.push(id);
        p
    }

    fn alloc_node(&mut self, node: Node) -> u32 {
        self.node_bytes += node.heap_bytes();
        if let Some(id) = self.free_nodes.pop() {
            self.nodes[id as usize] = node;
            return id;
        }
        grow(&mut self.nodes);
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    fn free_node(&mut self, id: u32) {
        let node = std::mem::take(&mut self.nodes[id as usize]);
        self.node_bytes -= node.heap_bytes();
        grow(&mut self.free_nodes);
        self.free_nodes.push(id);
    }

    fn leaf(&self, id: u32) -> &Pack {
        &self.leaves[id as usize]
    }

    fn node(&self, id: u32) -> &Node {
        &self.nodes[id as usize]
    }

    fn node_mut(&mut self, id: u32) -> &mut Node {
        &mut self.nodes[id as usize]
    }

    /// Edits a node's kid array, keeping the byte total.
    fn edit_node<R>(&mut self, id: u32, f: impl FnOnce(&mut Node) -> R) -> R {
        let node = &mut self.nodes[id as usize];
        let before = node.heap_bytes();
        let r = f(node);
        self.node_bytes = self.node_bytes - before + node.heap_bytes();
        r
    }

    /// Edits a leaf, keeping the byte total.
    fn with_leaf<R>(&mut self, id: u32, f: impl FnOnce(&mut Pack) -> R) -> R {
        let l = &mut self.leaves[id as usize];
        let before = l.heap_bytes();
        let r = f(l);
        self.leaf_bytes = self.leaf_bytes - before + l.heap_bytes();
        r
    }

    fn leaf_kid(&self, id: u32) -> Kid {
        let l = self.leaf(id);
        Kid {
            first: l.first().map_or(0.0, |(s, _)| s),
            count: l.len() as u32,
            id,
        }
    }

    fn node_kid(&self, id: u32) -> Kid {
        let n = self.node(id);
        Kid {
            first: n.kids().first().map_or(0.0, |k| k.first),
            count: n.total() as u32,
            id,
        }
    }

    /// The first leaf of `kid`, a subtree of a node at `level`.
    fn lead_of(&self, kid: &Kid, level: usize) -> u32 {
        if level == 1 {
            kid.id
        } else {
            self.node(kid.id).lead
        }
    }

    fn refresh_lead(&mut self, id: u32, level: usize) {
        if let Some(k) = self.node(id).kids().first() {
            let lead = self.lead_of(k, level);
            self.node_mut(id).lead = lead;
        }
    }

    /// Whether `kid`'s first entry comes before the place `seek` looks for.
    #[inline]
    fn kid_before(&self, kid: &Kid, level: usize, seek: Seek<'_>) -> bool {
        seek.by_score(kid.first).unwrap_or_else(|| {
            self.leaf(self.lead_of(kid, level))
                .first()
                .is_some_and(|(s, m)| seek.before(s, m))
        })
    }

    /// Whether `kid`'s first entry is at or before (`score`, `member`).
    #[inline]
    fn kid_at_or_before(&self, kid: &Kid, level: usize, score: f64, member: &[u8]) -> bool {
        if kid.first < score {
            return true;
        }
        if kid.first > score {
            return false;
        }
        self.leaf(self.lead_of(kid, level))
            .first()
            .is_some_and(|(s, m)| cmp_key(s, m, score, member).is_le())
    }

    /// The kid of node `id` (at `level`) to descend into: the last whose first entry
    /// `before` accepts (the first kid when none does). A binary search.
    #[inline]
    fn route(&self, id: u32, before: impl Fn(&Kid) -> bool) -> usize {
        let kids = self.node(id).kids();
        let (mut lo, mut hi) = (1, kids.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if before(&kids[mid]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo - 1
    }

    /// The kid of node `id` holding rank `r` of the node, and the rank within that kid.
    #[inline]
    fn route_rank(&self, id: u32, mut r: usize) -> (usize, usize) {
        let kids = self.node(id).kids();
        for (i, k) in kids.iter().enumerate() {
            if r < k.len() {
                return (i, r);
            }
            r -= k.len();
        }
        (kids.len().saturating_sub(1), r)
    }

    /// Entries before the first one not before `seek`: the rank where it falls.
    fn lower_bound(&self, seek: Seek<'_>) -> usize {
        if self.height == 0 {
            return 0;
        }
        let mut id = self.root;
        let mut rank = 0;
        for level in (1..=self.height).rev() {
            let i = self.route(id, |k| self.kid_before(k, level, seek));
            let kids = self.node(id).kids();
            rank += kids[..i].iter().map(Kid::len).sum::<usize>();
            id = kids[i].id;
        }
        rank + self.leaf(id).lower_bound(|s, m| seek.before(s, m)).0
    }

    /// The rank of the entry equal to (`score`, `member`), if there is one: a descent to
    /// the leaf that would hold it, adding the counts to its left.
    fn rank_of(&self, score: f64, member: &[u8]) -> Option<usize> {
        if self.height == 0 {
            return None;
        }
        let mut id = self.root;
        let mut rank = 0;
        for level in (1..=self.height).rev() {
            let i = self.route(id, |k| self.kid_at_or_before(k, level, score, member));
            let kids = self.node(id).kids();
            rank += kids[..i].iter().map(Kid::len).sum::<usize>();
            id = kids[i].id;
        }
        Some(rank + self.leaf(id).index_of(score, member)?)
    }

    /// Calls `f` with the entries from the first not before `seek` on, in order, until
    /// `f` returns false: one descent, where a bound's rank and then the run by rank
    /// would take three.
    fn scan_from<'a>(&'a self, seek: Seek<'_>, f: &mut impl FnMut(f64, &'a [u8]) -> bool) {
        if self.height > 0 {
            self.scan_node(self.root, self.height, Some(seek), f);
        }
    }

    /// [`Order::scan_from`] under node `id` at `level` (0: a leaf); with no `seek`, from
    /// the subtree's first entry. False once `f` returned false.
    fn scan_node<'a>(
        &'a self,
        id: u32,
        level: usize,
        seek: Option<Seek<'_>>,
        f: &mut impl FnMut(f64, &'a [u8]) -> bool,
    ) -> bool {
        if level == 0 {
            let leaf = self.leaf(id);
            return match seek {
                Some(seek) => leaf.scan_from(|s, m| seek.before(s, m), f),
                None => leaf.scan_from(|_, _| false, f),
            };
        }
        let first = seek.map_or(0, |seek| {
            self.route(id, |k| self.kid_before(k, level, seek))
        });
        let kids = self.node(id).kids();
        for (i, k) in kids.iter().enumerate().skip(first) {
            let seek = if i == first { seek } else { None };
            if !self.scan_node(k.id, level - 1, seek, f) {
                return false;
            }
        }
        true
    }

    fn insert(&mut self, score: f64, member: &[u8]) {
        if self.height == 0 {
            let mut p = Pack::default();
            p.push(score, member);
            let leaf = self.alloc_leaf(p);
            let mut root = Node::default();
            root.insert(0, self.leaf_kid(leaf));
            root.lead = leaf;
            self.root = self.alloc_node(root);
            self.height = 1;
            self.len = 1;
            return;
        }
        if let Some(right) = self.insert_in(self.root, self.height, score, member) {
            let mut root = Node::default();
            root.insert(0, self.node_kid(self.root));
            root.insert(1, right);
            self.root = self.alloc_node(root);
            self.height += 1;
            self.refresh_lead(self.root, self.height);
        }
        self.len += 1;
    }

    /// Inserts (`score`, `member`) under node `id` at `level`; the new right sibling of
    /// `id` if it split.
    fn insert_in(&mut self, id: u32, level: usize, score: f64, member: &[u8]) -> Option<Kid> {
        let seek = Seek::Key(score, member);
        let i = self.route(id, |k| self.kid_before(k, level, seek));
        let added = if level == 1 {
            self.insert_in_leaf(id, i, score, member)
        } else {
            let child = self.node(id).kids[i].id;
            match self.insert_in(child, level - 1, score, member) {
                None => {
                    let first = self.node(child).kids[0].first;
                    let k = &mut self.node_mut(id).kids[i];
                    k.count += 1;
                    k.first = first;
                    None
                }
                Some(right) => {
                    let left = self.node_kid(child);
                    self.edit_node(id, |node| {
                        node.kids[i] = left;
                        node.insert(i + 1, right);
                    });
                    Some(i + 1)
                }
            }
        };
        self.refresh_lead(id, level);
        let at = added?;
        let n = self.node(id).len();
        if n <= FANOUT {
            return None;
        }
        // Kids arriving at one end (entries added in order) leave the full node full.
        let cut = if at + 1 == n {
            at
        } else if at <= 1 {
            at + 1
        } else {
            n / 2
        }
        .clamp(MIN_KIDS, n - MIN_KIDS);
        let mut right = Node::default();
        self.edit_node(id, |node| {
            node.move_tail(cut, &mut right);
            node.kids.shrink_to_fit();
        });
        let rid = self.alloc_node(right);
        self.refresh_lead(rid, level);
        Some(self.node_kid(rid))
    }

    /// Inserts into kid `i` of the bottom node `id`, sharing with a neighbour or splitting
    /// the leaf when it overflows; the index of a kid added to the node.
    fn insert_in_leaf(&mut self, id: u32, i: usize, score: f64, member: &[u8]) -> Option<usize> {
        let seek = Seek::Key(score, member);
        let leaf = self.node(id).kids[i].id;
        let idx = self.with_leaf(leaf, |l| {
            let (idx, off) = l.lower_bound(|s, m| seek.before(s, m));
            l.insert_at(off, score, member);
            idx
        });
        let kid = self.leaf_kid(leaf);
        self.node_mut(id).kids[i] = kid;
        let l = self.leaf(leaf);
        if l.len() > LEAF_MAX && self.share(id, i) {
            return None;
        }
        let l = self.leaf(leaf);
        if l.len() <= LEAF_MAX && (l.bytes() <= LEAF_BYTES || l.len() == 1) {
            return None;
        }
        // Entries arriving in order (timestamps, counters) go to one end: the full leaf
        // stays full and the new entry starts a leaf of its own, so such sets fill their
        // leaves rather than leave them half empty.
        let at = if idx + 1 == l.len() {
            idx
        } else if idx == 0 {
            1
        } else {
            l.len() / 2
        };
        let tail = self.with_leaf(leaf, |l| l.split_off(at));
        let new = self.alloc_leaf(tail);
        let (left, right) = (self.leaf_kid(leaf), self.leaf_kid(new));
        self.edit_node(id, |node| {
            node.kids[i] = left;
            node.insert(i + 1, right);
        });
        Some(i + 1)
    }

    /// Moves entries of the overflowing leaf, kid `i` of the bottom node `id`, to a
    /// neighbour with room, evening the two out, as a B*-tree does before it splits: leaves
    /// filled in random order then stay about three-quarters full instead of two-thirds.
    /// False when neither neighbour has room.
    fn share(&mut self, id: u32, i: usize) -> bool {
        let roomy = |l: &Pack| l.len() < LEAF_MAX * 3 / 4;
        let kids = self.node(id).kids();
        let leaf = kids[i].id;
        let len = self.leaf(leaf).len();
        if let Some(next) = kids.get(i + 1).map(|k| k.id)
            && roomy(self.leaf(next))
        {
            let k = (len - self.leaf(next).len()) / 2;
            let l = self.leaf(leaf);
            let moved = l.bytes() - l.offset_of(len - k);
            if k > 0 && self.leaf(next).bytes() + moved <= LEAF_BYTES {
                let tail = self.with_leaf(leaf, |l| l.split_off(len - k));
                self.with_leaf(next, |n| n.prepend(tail));
                let (a, b) = (self.leaf_kid(leaf), self.leaf_kid(next));
                let kids = self.node_mut(id).kids_mut();
                kids[i] = a;
                kids[i + 1] = b;
                return true;
            }
        }
        let kids = self.node(id).kids();
        if let Some(prev) = i.checked_sub(1).map(|p| kids[p].id)
            && roomy(self.leaf(prev))
        {
            let k = (len - self.leaf(prev).len()) / 2;
            let moved = self.leaf(leaf).offset_of(k);
            if k > 0 && self.leaf(prev).bytes() + moved <= LEAF_BYTES {
                let rest = self.with_leaf(leaf, |l| l.split_off(k));
                let head = self.with_leaf(leaf, |l| std::mem::replace(l, rest));
                self.with_leaf(prev, |p| p.append(&head));
                let (a, b) = (self.leaf_kid(prev), self.leaf_kid(leaf));
                let kids = self.node_mut(id).kids_mut();
                kids[i - 1] = a;
                kids[i] = b;
                return true;
            }
        }
        false
    }

    /// Removes (`score`, `member`); false if it is not there.
    fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        self.remove_at(Target::Exact(score, member), 1, &mut |_, _| {}) == 1
    }

    /// Removes ranks `start..end`, handing each removed entry to `f` first, in order: a
    /// walk from the root per leaf touched.
    fn remove_range(&mut self, start: usize, end: usize, mut f: impl FnMut(f64, &[u8])) {
        let end = end.min(self.len);
        let mut left = end.saturating_sub(start);
        while left > 0 {
            let n = self.remove_at(Target::Rank(start), left, &mut f);
            if n == 0 {
                break;
            }
            left -= n;
        }
    }

    /// Removes up to `count` entries from `target` on, within the one leaf holding it;
    /// how many it removed.
    fn remove_at(
        &mut self,
        target: Target<'_>,
        count: usize,
        f: &mut impl FnMut(f64, &[u8]),
    ) -> usize {
        if self.height == 0 {
            return 0;
        }
        let n = self.remove_in(self.root, self.height, target, count, f);
        self.len -= n;
        if self.len == 0 {
            *self = Order::default();
            return n;
        }
        while self.height > 1 && self.node(self.root).len() == 1 {
            let old = self.root;
            self.root = self.node(old).kids[0].id;
            self.free_node(old);
            self.height -= 1;
        }
        n
    }

    fn remove_in(
        &mut self,
        id: u32,
        level: usize,
        target: Target<'_>,
        count: usize,
        f: &mut impl FnMut(f64, &[u8]),
    ) -> usize {
        let (i, sub) = match target {
            Target::Rank(r) => {
                let (i, r) = self.route_rank(id, r);
                (i, Target::Rank(r))
            }
            Target::Exact(s, m) => (
                self.route(id, |k| self.kid_at_or_before(k, level, s, m)),
                target,
            ),
        };
        let removed = if level == 1 {
            self.remove_in_leaf(id, i, sub, count, f)
        } else {
            let child = self.node(id).kids[i].id;
            let removed = self.remove_in(child, level - 1, sub, count, f);
            if removed > 0 {
                let first = self.node(child).kids().first().map_or(0.0, |k| k.first);
                let k = &mut self.node_mut(id).kids[i];
                k.count -= removed as u32;
                k.first = first;
                if self.node(child).len() < MIN_KIDS {
                    self.rebalance(id, i, level);
                }
            }
            removed
        };
        if removed > 0 {
            self.refresh_lead(id, level);
        }
        removed
    }

    /// Removes from the leaf at kid `i` of the bottom node `id`, then drops the leaf if it
    /// emptied or merges it into a neighbour if it is thin.
    fn remove_in_leaf(
        &mut self,
        id: u32,
        i: usize,
        target: Target<'_>,
        count: usize,
        f: &mut impl FnMut(f64, &[u8]),
    ) -> usize {
        let leaf = self.node(id).kids[i].id;
        let l = self.leaf(leaf);
        let (idx, off) = match target {
            Target::Rank(r) => (r, l.offset_of(r)),
            Target::Exact(s, m) => match l.find_exact(s, m) {
                Some(found) => found,
                None => return 0,
            },
        };
        let k = count.min(l.len().saturating_sub(idx));
        let mut at = off;
        for _ in 0..k {
            let (s, m, next) = l.read(at);
            f(s, m);
            at = next;
        }
        self.with_leaf(leaf, |l| l.remove_at(off, k));
        let len = self.leaf(leaf).len();
        if len == 0 {
            self.free_leaf(leaf);
            self.edit_node(id, |node| node.remove(i));
            return k;
        }
        let kid = self.leaf_kid(leaf);
        self.node_mut(id).kids[i] = kid;
        if len >= LEAF_MAX / 4 {
            self.with_leaf(leaf, Pack::shrink);
            return k;
        }
        let fits = |a: &Pack, b: &Pack| {
            a.len() + b.len() <= LEAF_MAX * 3 / 4 && a.bytes() + b.bytes() <= LEAF_BYTES
        };
        let kids = self.node(id).kids();
        let pair = if let Some(next) = kids.get(i + 1)
            && fits(self.leaf(leaf), self.leaf(next.id))
        {
            Some(i)
        } else if let Some(p) = i.checked_sub(1)
            && fits(self.leaf(kids[p].id), self.leaf(leaf))
        {
            Some(p)
        } else {
            None
        };
        match pair {
            Some(left) => {
                let right_kid = self.edit_node(id, |node| node.remove(left + 1));
                let right = self.free_leaf(right_kid.id);
                let lid = self.node(id).kids[left].id;
                self.with_leaf(lid, |l| l.append(&right));
                let kid = self.leaf_kid(lid);
                self.node_mut(id).kids[left] = kid;
            }
            None => self.with_leaf(leaf, Pack::shrink),
        }
        k
    }

    /// Kid `i` of node `id` (at `level` > 1) holds too few kids: merges it with a
    /// neighbour, or moves kids over from the neighbour to even the two out.
    fn rebalance(&mut self, id: u32, i: usize, level: usize) {
        let node = self.node(id);
        if node.len() < 2 {
            return;
        }
        let left = if i + 1 < node.len() { i } else { i - 1 };
        let (a, b) = (node.kids[left].id, node.kids[left + 1].id);
        let (na, nb) = (self.node(a).len(), self.node(b).len());
        let mut na_node = std::mem::take(self.node_mut(a));
        let mut nb_node = std::mem::take(self.node_mut(b));
        self.node_bytes -= na_node.heap_bytes() + nb_node.heap_bytes();
        let merged = na + nb <= FANOUT;
        if merged {
            nb_node.move_head(nb, &mut na_node);
        } else if na < nb {
            nb_node.move_head((nb - na) / 2, &mut na_node);
        } else {
            let at = na - (na - nb) / 2;
            let tail: Vec<Kid> = na_node.kids.drain(at..).collect();
            nb_node.prepend(&tail);
        }
        self.node_bytes += na_node.heap_bytes() + nb_node.heap_bytes();
        *self.node_mut(a) = na_node;
        *self.node_mut(b) = nb_node;
        if merged {
            self.free_node(b);
            self.edit_node(id, |node| node.remove(left + 1));
        }
        self.refresh_lead(a, level - 1);
        let ka = self.node_kid(a);
        self.node_mut(id).kids[left] = ka;
        if !merged {
            self.refresh_lead(b, level - 1);
            let kb = self.node_kid(b);
            self.node_mut(id).kids[left + 1] = kb;
        }
    }

    /// Calls `f` with ranks `start..end` in order (`rev`: from `end - 1` down).
    fn for_each(&self, start: usize, end: usize, rev: bool, mut f: impl FnMut(f64, &[u8])) {
        let end = end.min(self.len);
        if start >= end {
            return;
        }
        self.visit(self.root, self.height, start, end, rev, &mut f);
    }

    /// Ranks `lo..hi` of subtree `id` at `level` (0: a leaf).
    fn visit(
        &self,
        id: u32,
        level: usize,
        lo: usize,
        hi: usize,
        rev: bool,
        f: &mut impl FnMut(f64, &[u8]),
    ) {
        if level == 0 {
            let leaf = self.leaf(id);
            if !rev {
                for (s, m) in leaf.iter().skip(lo).take(hi - lo) {
                    f(s, m);
                }
                return;
            }
            let mut offs = [0usize; 2 * LEAF_MAX];
            let mut heap = Vec::new();
            let offs: &mut [usize] = if hi - lo <= offs.len() {
                &mut offs[..hi - lo]
            } else {
                heap.resize(hi - lo, 0);
                &mut heap
            };
            let mut off = leaf.offset_of(lo);
            for o in offs.iter_mut() {
                *o = off;
                off = leaf.read(off).2;
            }
            for &o in offs.iter().rev() {
                let (s, m, _) = leaf.read(o);
                f(s, m);
            }
            return;
        }
        let kids = self.node(id).kids();
        if rev {
            let mut end = kids.iter().map(Kid::len).sum::<usize>();
            for k in kids.iter().rev() {
                let start = end - k.len();
                if start < hi && end > lo {
                    let (a, b) = (lo.max(start) - start, hi.min(end) - start);
                    self.visit(k.id, level - 1, a, b, rev, f);
                }
                if start <= lo {
                    break;
                }
                end = start;
            }
        } else {
            let mut start = 0;
            for k in kids {
                let end = start + k.len();
                if start < hi && end > lo {
                    let (a, b) = (lo.max(start) - start, hi.min(end) - start);
                    self.visit(k.id, level - 1, a, b, rev, f);
                }
                if end >= hi {
                    break;
                }
                start = end;
            }
        }
    }

    /// Leaves in use.
    fn leaf_count(&self) -> usize {
        self.leaves.len() - self.free_leaves.len()
    }

    /// Counts the leaves' and nodes' allocations afresh (after a clone, which allocates to
    /// size).
    fn recount(&mut self) {
        self.leaf_bytes = self.leaves.iter().map(Pack::heap_bytes).sum();
        self.node_bytes = self.nodes.iter().map(Node::heap_bytes).sum();
    }

    fn heap_bytes(&self) -> usize {
        alloc_size(self.leaves.capacity() * std::mem::size_of::<Pack>())
            + alloc_size(self.free_leaves.capacity() * std::mem::size_of::<u32>())
            + alloc_size(self.nodes.capacity() * std::mem::size_of::<Node>())
            + self.node_bytes
            + alloc_size(self.free_nodes.capacity() * std::mem::size_of::<u32>())
            + self.leaf_bytes
    }

    /// Checks the tree: every node's kid counts, first scores and first leaf match what
    /// lies under it, nodes hold between [`MIN_KIDS`] (the root: one) and [`FANOUT`] kids,
    /// every leaf is non-empty, at most [`LEAF_MAX`] entries, at the same depth and used
    /// once, the slabs' free lists hold exactly the rest, and the totals are right.
    fn check(&self) -> Result<(), String> {
        if self.height == 0 {
            if self.len != 0 || self.leaf_count() != 0 {
                return Err(format!("empty tree counts {}", self.len));
            }
            return Ok(());
        }
        let mut leaf_seen = vec![false; self.leaves.len()];
        let mut node_seen = vec![false; self.nodes.len()];
        for &i in &self.free_leaves {
            if std::mem::replace(&mut leaf_seen[i as usize], true) || self.leaf(i).len() > 0 {
                return Err(format!("free leaf {i} listed twice or in use"));
            }
        }
        for &i in &self.free_nodes {
            if std::mem::replace(&mut node_seen[i as usize], true) {
                return Err(format!("free node {i} listed twice"));
            }
        }
        let top = self.check_node(self.root, self.height, true, &mut leaf_seen, &mut node_seen)?;
        if top.len() != self.len {
            return Err(format!("tree holds {}, counts {}", top.count, self.len));
        }
        if leaf_seen.iter().chain(&node_seen).any(|seen| !seen) {
            return Err("a leaf or node neither in the tree nor free".into());
        }
        let leaf_bytes: usize = self.leaves.iter().map(Pack::heap_bytes).sum();
        if leaf_bytes != self.leaf_bytes {
            return Err(format!(
                "leaves take {leaf_bytes}, counted {}",
                self.leaf_bytes
            ));
        }
        let node_bytes: usize = self.nodes.iter().map(Node::heap_bytes).sum();
        if node_bytes != self.node_bytes {
            return Err(format!(
                "nodes take {node_bytes}, counted {}",
                self.node_bytes
            ));
        }
        Ok(())
    }

    /// Checks subtree `id` at `level`; its true summary and first leaf.
    fn check_node(
        &self,
        id: u32,
        level: usize,
        root: bool,
        leaf_seen: &mut [bool],
        node_seen: &mut [bool],
    ) -> Result<Kid, String> {
        if level == 0 {
            if std::mem::replace(&mut leaf_seen[id as usize], true) {
                return Err(format!("leaf {id} used twice"));
            }
            let l = self.leaf(id);
            let n = l.iter().count();
            if n == 0 || n != l.len() || n > LEAF_MAX {
                return Err(format!("leaf {id} counts {}, holds {n}", l.len()));
            }
            return Ok(self.leaf_kid(id));
        }
        if std::mem::replace(&mut node_seen[id as usize], true) {
            return Err(format!("node {id} used twice"));
        }
        let node = self.node(id);
        let least = if root { 1 } else { MIN_KIDS };
        if node.len() < least || node.len() > FANOUT {
            return Err(format!(
                "node {id} at level {level} holds {} kids",
                node.len()
            ));
        }
        let mut lead = None;
        for k in node.kids() {
            let real = self.check_node(k.id, level - 1, false, leaf_seen, node_seen)?;
            if real.count != k.count || real.first.to_bits() != k.first.to_bits() {
                return Err(format!(
                    "node {id} says {} entries from {}, its kid holds {} from {}",
                    k.count, k.first, real.count, real.first
                ));
            }
            lead.get_or_insert(self.lead_of(k, level));
        }
        let mut first_leaf = id;
        for _ in 0..level {
            first_leaf = self.node(first_leaf).kids[0].id;
        }
        if lead != Some(node.lead) || node.lead != first_leaf {
            return Err(format!(
                "node {id}'s first leaf is {first_leaf}, it says {}",
                node.lead
            ));
        }
        Ok(self.node_kid(id))
    }
}

/// A large set: the members in order, and by name.
struct Big {
    order: Order,
    map: Table<ZEntry, InlineScore>,
    /// Sum of the map entries' allocations.
    entry_bytes: usize,
}

impl Big {
    fn new(hasher: RandomState) -> Big {
        Big {
            order: Order::default(),
            map: Table::new(hasher, 0),
            entry_bytes: 0,
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        let h = self.map.hash(member);
        self.map.find(h, member).map(|i| self.map.get(i).score())
    }

    /// Adds a member known to be absent to the table (not to the order).
    fn insert_entry(&mut self, h: u64, score: f64, member: &[u8]) {
        let e = ZEntry::new(score, member);
        self.entry_bytes += e.footprint();
        self.map.insert_new(h, e, InlineScore::of(score));
    }

    /// The member's rank and score. A slot whose tag matches and that keeps its score
    /// inline is taken at its word: the order is searched for (score, `member`), and
    /// finding it there proves the member is in the set with that score, whichever slot
    /// the score came from. A slot without an inline score is checked by its key.
    fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        let h = self.map.hash(member);
        for i in self.map.candidates(h) {
            match self.map.meta(i).get() {
                Some(s) => {
                    if let Some(rank) = self.order.rank_of(s, member) {
                        return Some((rank, s));
                    }
                }
                None => {
                    let e = self.map.get(i);
                    if same_key(e.key(), member) {
                        let s = e.score();
                        return Some((self.order.lower_bound(Seek::Key(s, member)), s));
                    }
                }
            }
        }
        None
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

/// A sorted set read in place: the entries of a packed value, walked where they lie, or a
/// set held in its own object. Reads of small sets copy nothing.
#[derive(Clone, Copy)]
pub(crate) enum ZSetRef<'a> {
    /// A packed value's entries (as a [`Pack`] holds them) and their count.
    Packed { buf: &'a [u8], len: usize },
    /// A set in its own object (or an owned copy being edited).
    Obj(&'a ZSetObj),
}

impl<'a> ZSetRef<'a> {
    /// The packed sorted set `value`, read in place.
    pub(crate) fn packed(value: &'a [u8]) -> Self {
        let (len, n) = read_varint(value);
        ZSetRef::Packed {
            buf: value.get(n..).unwrap_or_default(),
            len,
        }
    }

    /// The packed entries in order.
    fn entries(buf: &'a [u8], len: usize) -> impl Iterator<Item = (f64, &'a [u8])> {
        let mut off = 0;
        (0..len).map_while(move |_| {
            (off < buf.len()).then(|| {
                let (s, m, next) = read_entry(buf, off);
                off = next;
                (s, m)
            })
        })
    }

    pub(crate) fn len(self) -> usize {
        match self {
            ZSetRef::Packed { len, .. } => len,
            ZSetRef::Obj(z) => z.len(),
        }
    }

    /// The member's score.
    pub(crate) fn score(self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetRef::Packed { buf, len } => {
                Self::entries(buf, len).find_map(|(s, m)| (m == member).then_some(s))
            }
            ZSetRef::Obj(z) => z.score(member),
        }
    }

    /// How many members come before `seek`'s first unmatched one.
    pub(crate) fn lower_bound(self, seek: Seek<'_>) -> usize {
        match self {
            ZSetRef::Packed { buf, len } => Self::entries(buf, len)
                .take_while(|&(s, m)| seek.before(s, m))
                .count(),
            ZSetRef::Obj(z) => z.lower_bound(seek),
        }
    }

    /// Calls `f` with the members from the first not before `seek` on, lowest first,
    /// until `f` returns false.
    pub(crate) fn scan_from(self, seek: Seek<'_>, mut f: impl FnMut(f64, &'a [u8]) -> bool) {
        match self {
            ZSetRef::Packed { buf, len } => {
                for (s, m) in Self::entries(buf, len).skip_while(|&(s, m)| seek.before(s, m)) {
                    if !f(s, m) {
                        return;
                    }
                }
            }
            ZSetRef::Obj(z) => z.scan_from(seek, f),
        }
    }

    /// The member's 0-based rank (ascending) and score.
    pub(crate) fn rank(self, member: &[u8]) -> Option<(usize, f64)> {
        match self {
            ZSetRef::Packed { buf, len } => Self::entries(buf, len)
                .enumerate()
                .find_map(|(i, (s, m))| (m == member).then_some((i, s))),
            ZSetRef::Obj(z) => z.rank(member),
        }
    }

    /// Calls `f` with ranks `start..end` in order, or from `end - 1` down with `rev`.
    pub(crate) fn for_each(
        self,
        start: usize,
        end: usize,
        rev: bool,
        mut f: impl FnMut(f64, &[u8]),
    ) {
        match self {
            ZSetRef::Packed { buf, len } => {
                let end = end.min(len);
                if start >= end {
                    return;
                }
                let run = Self::entries(buf, len).skip(start).take(end - start);
                if rev {
                    let items: Vec<(f64, &[u8])> = run.collect();
                    for &(s, m) in items.iter().rev() {
                        f(s, m);
                    }
                } else {
                    for (s, m) in run {
                        f(s, m);
                    }
                }
            }
            ZSetRef::Obj(z) => z.for_each(start, end, rev, f),
        }
    }

    /// The entry at rank `r`.
    pub(crate) fn at(self, r: usize) -> Option<(f64, Vec<u8>)> {
        let mut out = None;
        self.for_each(r, r + 1, false, |s, m| out = Some((s, m.to_vec())));
        out
    }

    /// Every entry in order.
    pub(crate) fn iter_all(self, f: impl FnMut(f64, &[u8])) {
        self.for_each(0, self.len(), false, f);
    }

    /// The large set's member table, `None` while small.
    pub(crate) fn table(self) -> Option<&'a Table<ZEntry, InlineScore>> {
        match self {
            ZSetRef::Packed { .. } => None,
            ZSetRef::Obj(z) => z.table(),
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

    /// A set of `items` already in order (by score, then member, each after the one
    /// before), built in one pass with full leaves: a snapshot's, a DUMP payload's or a
    /// STORE result's. `None` when they are out of order or name a member twice, for the
    /// caller to add them one at a time. The encoding is [`ZSetObj::from_items`]'.
    pub(crate) fn from_sorted(items: &[(f64, &[u8])], lim: &Limits) -> Option<ZSetObj> {
        let ordered = items
            .windows(2)
            .all(|w| cmp_key(w[0].0, w[0].1, w[1].0, w[1].1).is_lt());
        if !ordered {
            return None;
        }
        let longest = items.iter().map(|(_, m)| m.len()).max().unwrap_or(0);
        if items.len() <= lim.max_entries && longest <= lim.max_value {
            // Equal members at different scores are not adjacent: look each one up.
            let mut seen = std::collections::HashSet::with_capacity_and_hasher(
                items.len(),
                lim.hasher.clone(),
            );
            if !items.iter().all(|&(_, m)| seen.insert(m)) {
                return None;
            }
            let mut p = Pack::default();
            for &(s, m) in items {
                p.push(compact_score(s), m);
            }
            return Some(ZSetObj { enc: Enc::Small(p) });
        }
        let mut big = Big::new(lim.hasher.clone());
        let mut leaf = Pack::default();
        let mut packs = Vec::new();
        for &(s, m) in items {
            let h = big.map.hash(m);
            if big.map.find(h, m).is_some() {
                return None;
            }
            big.insert_entry(h, s, m);
            if leaf.len() >= LEAF_MAX || (leaf.len() > 0 && leaf.bytes() + m.len() + 9 > LEAF_BYTES)
            {
                packs.push(std::mem::take(&mut leaf));
            }
            leaf.push(s, m);
        }
        if leaf.len() > 0 {
            packs.push(leaf);
        }
        big.order = Order::from_leaves(packs);
        Some(ZSetObj {
            enc: Enc::Big(Box::new(big)),
        })
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
        let mut packs = Vec::new();
        for (s, m) in p.iter() {
            let h = big.map.hash(m);
            big.insert_entry(h, s, m);
            leaf.push(s, m);
            if leaf.len() >= LEAF_MAX / 2 || leaf.bytes() >= LEAF_BYTES / 2 {
                packs.push(std::mem::take(&mut leaf));
            }
        }
        if leaf.len() > 0 {
            packs.push(leaf);
        }
        big.order = Order::from_leaves(packs);
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
            let h = b.map.hash(member);
            b.insert_entry(h, score, member);
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
                    *b.map.meta_mut(i) = InlineScore::of(new);
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
                let (e, _) = b.map.remove_at(i);
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

    /// Calls `f` with the members from the first not before `seek` on, lowest first,
    /// until `f` returns false.
    pub(crate) fn scan_from<'a>(
        &'a self,
        seek: Seek<'_>,
        mut f: impl FnMut(f64, &'a [u8]) -> bool,
    ) {
        match &self.enc {
            Enc::Small(p) => {
                p.scan_from(|s, m| seek.before(s, m), &mut f);
            }
            Enc::Big(b) => b.order.scan_from(seek, &mut f),
        }
    }

    /// The member's 0-based rank (ascending) and score.
    pub(crate) fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match &self.enc {
            Enc::Small(p) => p.find_member(member).map(|(i, _, s)| (i, s)),
            Enc::Big(b) => b.rank(member),
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
    #[cfg(test)]
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
                        let (e, _) = map.remove_at(i);
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
    pub(crate) fn table(&self) -> Option<&Table<ZEntry, InlineScore>> {
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
                for (i, e) in b.map.iter() {
                    let h = map.hash(e.key());
                    map.insert_new(h, ZEntry(e.0.clone()), *b.map.meta(i));
                }
                let mut order = b.order.clone();
                // Clones are allocated to size: their byte total is counted afresh.
                order.recount();
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
                o.check()?;
                let mut owned = Vec::new();
                o.for_each(0, o.len, false, |s, m| owned.push((s, m.to_vec())));
                let items: Vec<(f64, &[u8])> = owned.iter().map(|(s, m)| (*s, &m[..])).collect();
                check_order(&items)?;
                if items.len() != o.len || o.len != b.map.len() {
                    return Err(format!(
                        "order counts {}, holds {}, the table {}",
                        o.len,
                        items.len(),
                        b.map.len()
                    ));
                }
                for (s, m) in &items {
                    if b.score(m).map(f64::to_bits) != Some(s.to_bits()) {
                        return Err(format!(
                            "{m:?} scores {s} in order, {:?} in the table",
                            b.score(m)
                        ));
                    }
                }
                for (i, e) in b.map.iter() {
                    if *b.map.meta(i) != InlineScore::of(e.score()) {
                        return Err(format!(
                            "{:?} scores {} with {:?} kept in its slot",
                            e.key(),
                            e.score(),
                            b.map.meta(i)
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

    /// A xorshift generator from `seed` (not zero): each call answers below its bound.
    fn rng(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut x = seed;
        move |n| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n.max(1)
        }
    }

    fn lim() -> Limits {
        Limits {
            max_entries: 16,
            max_value: 64,
            hasher: RandomState::with_seeds(1, 2, 3, 4),
        }
    }

    /// Sets built in one pass from ordered items hold what inserting them one at a time
    /// makes, in the same encoding, and pass the structure's checks; items out of order or
    /// naming a member twice are refused.
    #[test]
    fn ordered_items_build_the_same_set_in_one_pass() {
        let lim = lim();
        let mut rnd = rng(0x2545_f491_4f6c_dd1du64);
        for round in 0..200 {
            let n = [0, 1, 5, 16, 17, 300, 3000][round % 7];
            let mut items: Vec<(f64, Vec<u8>)> = (0..n)
                .map(|i| {
                    let len = if rnd(50) == 0 {
                        70
                    } else {
                        1 + rnd(12) as usize
                    };
                    let mut m = format!("m{i}-").into_bytes();
                    m.resize(len.max(m.len()), b'x');
                    ((rnd(40) as f64) / 4.0 - 5.0, m)
                })
                .collect();
            items.sort_by(|a, b| cmp_key(a.0, &a.1, b.0, &b.1));
            let refs: Vec<(f64, &[u8])> = items.iter().map(|(s, m)| (*s, &m[..])).collect();
            let longest = refs.iter().map(|(_, m)| m.len()).max().unwrap_or(0);
            let built = ZSetObj::from_sorted(&refs, &lim).expect("ordered, distinct");
            let one_by_one = ZSetObj::from_items(refs.iter().copied(), n, longest, &lim);
            built.check().expect("valid structure");
            assert_eq!(built.is_big(), one_by_one.is_big(), "n {n}");
            let all = |z: &ZSetObj| {
                let mut v = Vec::new();
                z.iter_all(|s, m| v.push((s, m.to_vec())));
                v
            };
            assert_eq!(all(&built), all(&one_by_one));
            if n >= 2 {
                let mut swapped = refs.clone();
                swapped.swap(0, n - 1);
                assert!(ZSetObj::from_sorted(&swapped, &lim).is_none());
                let mut twice = refs.clone();
                twice[n - 1].1 = twice[0].1;
                twice[n - 1].0 = f64::INFINITY;
                assert!(ZSetObj::from_sorted(&twice, &lim).is_none());
            }
        }
    }

    /// Many leaves, random inserts, updates, deletes and range removals against a sorted
    /// vector, with the structure checked as it goes.
    #[test]
    fn large_sets_agree_with_a_sorted_vector() {
        let lim = lim();
        let mut z = ZSetObj::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut rnd = rng(0x9e37_79b9_7f4a_7c15u64);
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
                // A scan from a bound sees what follows the bound's rank, and stops when told.
                for v in [-101.0, -100.0, -37.0, 0.0, 42.0, 99.0, 100.0] {
                    for seek in [
                        Seek::Score(v, false),
                        Seek::Score(v, true),
                        Seek::Key(v, b"k3"),
                    ] {
                        let from = z.lower_bound(seek);
                        let mut seen = Vec::new();
                        z.scan_from(seek, |s, m| {
                            seen.push((s, m.to_vec()));
                            seen.len() < 300
                        });
                        let end = model.len().min(from + 300);
                        assert_eq!(seen, model[from.min(end)..end]);
                    }
                }
            }
        }
        z.check().unwrap();
    }

    /// Scores of every kind, kept in the slot or not: ranks of present members agree with a
    /// sorted vector, absent members have none (tag matches on other members' slots
    /// included), through updates that move members between inline and out-of-line scores.
    #[test]
    fn ranks_agree_with_a_sorted_vector_for_every_kind_of_score() {
        const EDGE: f64 = 70_368_744_177_664.0; // 2^46
        let lim = lim();
        let mut z = ZSetObj::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        let mut rnd = rng(0x2545_f491_4f6c_dd1du64);
        for step in 0..30_000u32 {
            let m = format!("member:{}", rnd(3000)).into_bytes();
            let k = rnd(7) as f64;
            let s = match rnd(10) {
                0 => -0.0,
                1 => 0.0,
                2 => k / 4.0 - 1.0,
                3 => EDGE - k + 3.0,
                4 => -EDGE + k - 3.0,
                5 => [
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    1e300,
                    9_007_199_254_740_993.0,
                ][k as usize % 4],
                _ => k - 3.0,
            };
            if rnd(4) == 0 {
                let had = model.iter().position(|(_, x)| *x == m);
                assert_eq!(z.remove(&m).is_some(), had.is_some());
                if let Some(i) = had {
                    model.remove(i);
                }
            } else {
                z.set(s, &m, &lim);
                model.retain(|(_, x)| *x != m);
                model.push((s, m));
                model.sort_by(|a, b| cmp_key(a.0, &a.1, b.0, &b.1));
            }
            if step % 1499 == 0 {
                z.check().unwrap();
                for (r, (s, m)) in model.iter().enumerate() {
                    // -0 and 0 are one score: which of them a member keeps is not at stake.
                    let (rank, score) = z.rank(m).expect("present");
                    assert_eq!((rank, score == *s), (r, true), "{m:?} {score} {s}");
                }
                for i in 3000..6000 {
                    assert_eq!(z.rank(format!("member:{i}").as_bytes()), None);
                }
            }
        }
    }

    /// A slot's inline score reads back exactly, or not at all where it cannot be kept.
    #[test]
    fn inline_scores_read_back_exactly() {
        const EDGE: f64 = 70_368_744_177_664.0; // 2^46
        let kept = [
            0.0,
            1.0,
            -1.0,
            42.0,
            -7.0,
            EDGE - 1.0,
            -(EDGE - 1.0),
            1.7e12,
        ];
        for s in kept {
            assert_eq!(
                InlineScore::of(s).get().map(f64::to_bits),
                Some(s.to_bits()),
                "{s}"
            );
        }
        let not_kept = [
            -0.0,
            0.5,
            EDGE,
            -EDGE,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for s in not_kept {
            assert_eq!(InlineScore::of(s).get(), None, "{s}");
        }
        let mut t: Table<ZEntry, InlineScore> = Table::new(RandomState::new(), 0);
        let h = t.hash(b"m");
        t.insert_new(h, ZEntry::new(1.0, b"m"), InlineScore::of(1.0));
        assert_eq!(
            t.array_bytes() / t.capacity(),
            24,
            "the inline score costs no slot bytes"
        );
    }

    #[test]
    fn leaves_filled_in_order_or_at_random_stay_full() {
        let lim = lim();
        for random in [false, true] {
            let mut z = ZSetObj::new();
            let mut rnd = rng(7);
            for i in 0..20_000u64 {
                let r = rnd(1_000_000);
                let s = if random { r as f64 } else { i as f64 };
                z.set(s, format!("member:{i:09}").as_bytes(), &lim);
            }
            let Enc::Big(b) = &z.enc else {
                panic!("not converted")
            };
            let fill = z.len() as f64 / (b.order.leaf_count() * LEAF_MAX) as f64;
            assert!(
                fill > if random { 0.7 } else { 0.95 },
                "random {random}: {fill}"
            );
            z.check().unwrap();
        }
    }

    /// The large encoding driven through many leaf and node splits, merges and root
    /// changes (small nodes in tests, long members for small leaves), the tree checked after
    /// every step, and ranks, ranges by rank and the places of scores, members and
    /// (score, member) bounds compared with a `BTreeMap` model.
    #[test]
    fn tree_stays_valid_through_splits_and_merges() {
        use std::collections::{BTreeMap, BTreeSet};
        type Entry = (i64, Vec<u8>);
        let lim = lim();
        for seed in 1..=2u64 {
            let mut z = ZSetObj::new();
            let mut by_member: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
            let mut ordered: BTreeSet<(i64, Vec<u8>)> = BTreeSet::new();
            let mut rnd = rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let (mut tallest, mut emptied) = (0, false);
            for step in 0..8000u32 {
                // Phases: fill, churn, drain to empty, then all scores equal (lex order).
                let phase = match step {
                    0..2500 => 0,
                    2500..4500 => 1,
                    4500..6000 => 2,
                    _ => 3,
                };
                let lex = phase == 3;
                let key = rnd(3000);
                let pad = if rnd(2) == 0 { 400 } else { rnd(40) } as usize;
                let m = format!("m{key:05}{}", "p".repeat(pad)).into_bytes();
                let s = if lex { 7 } else { rnd(60) as i64 - 30 };
                let op = rnd(100);
                let (sets, removes) = match phase {
                    0 | 3 => (85, 97),
                    1 => (50, 85),
                    _ => (0, 0),
                };
                match op {
                    _ if op < sets => {
                        z.set(s as f64, &m, &lim);
                        if let Some(old) = by_member.insert(m.clone(), s) {
                            ordered.remove(&(old, m.clone()));
                        }
                        ordered.insert((s, m));
                    }
                    _ if op < removes => {
                        let had = by_member.remove(&m);
                        if let Some(old) = had {
                            ordered.remove(&(old, m.clone()));
                        }
                        assert_eq!(z.remove(&m).map(|s| s as i64), had);
                    }
                    _ => {
                        let len = ordered.len() as u64;
                        let a = rnd(len + 1) as usize;
                        let span = if rnd(50) == 0 { len + 1 } else { 30 };
                        let b = a + rnd(span) as usize;
                        let mut gone = Vec::new();
                        z.remove_range(a, b, |s, m| gone.push((s as i64, m.to_vec())));
                        let want: Vec<(i64, Vec<u8>)> =
                            ordered.iter().skip(a).take(b - a).cloned().collect();
                        for (s, m) in &want {
                            ordered.remove(&(*s, m.clone()));
                            by_member.remove(m);
                        }
                        assert_eq!(gone, want);
                    }
                }
                z.check()
                    .unwrap_or_else(|e| panic!("seed {seed} step {step}: {e}"));
                assert_eq!(z.len(), ordered.len());
                if let Enc::Big(b) = &z.enc {
                    tallest = tallest.max(b.order.height);
                    emptied |= phase == 2 && b.order.height == 0;
                }
                if step % 7 != 0 {
                    continue;
                }
                let v = rnd(70) as i64 - 35;
                let probe = format!("m{:05}", rnd(3000)).into_bytes();
                let count = |f: &dyn Fn(&Entry) -> bool| ordered.iter().filter(|e| f(e)).count();
                for incl in [false, true] {
                    assert_eq!(
                        z.lower_bound(Seek::Score(v as f64, incl)),
                        count(&|(s, _)| if incl { *s <= v } else { *s < v })
                    );
                    if lex {
                        assert_eq!(
                            z.lower_bound(Seek::Member(&probe, incl)),
                            count(&|(_, m)| if incl { *m <= probe } else { *m < probe })
                        );
                    }
                }
                let sk = if lex { 7 } else { v };
                assert_eq!(
                    z.lower_bound(Seek::Key(sk as f64, &probe)),
                    count(&|(s, m)| (*s, m) < (sk, &probe))
                );
                if let Some((r, (s, m))) = ordered
                    .iter()
                    .enumerate()
                    .nth(rnd(ordered.len() as u64) as usize)
                {
                    assert_eq!(z.rank(m), Some((r, *s as f64)));
                }
                let len = ordered.len();
                let a = rnd(len as u64 + 1) as usize;
                let b = a + rnd(300) as usize;
                for rev in [false, true] {
                    let mut got = Vec::new();
                    z.for_each(a, b, rev, |s, m| got.push((s as i64, m.to_vec())));
                    let mut want: Vec<(i64, Vec<u8>)> =
                        ordered.iter().skip(a).take(b - a).cloned().collect();
                    if rev {
                        want.reverse();
                    }
                    assert_eq!(got, want, "seed {seed} step {step} {a}..{b} rev {rev}");
                }
            }
            assert!(
                tallest >= 3 && emptied,
                "tallest {tallest}, emptied {emptied}"
            );
        }
    }
}
