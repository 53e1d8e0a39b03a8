//! The list value, after Redis's quicklist: a deque of nodes, each a run of elements
//! packed back to back.
//!
//! An element is stored as `[length: LEB128][bytes]`, one byte of overhead up to 127
//! bytes. A node's bytes live in one buffer with the used part anywhere inside it, so
//! pushing or popping at either end of a node moves nothing; buffers grow to the
//! allocator's size class of what they hold, whose slack then costs nothing. How much a
//! node holds is `list-max-listpack-size` (a byte limit, or a count with an 8 KB safety
//! limit); a small list is a single node, kept inline in the list with no node table.
//!
//! With `list-compress-depth` d > 0, every node more than d nodes from either end is kept
//! LZ4-compressed (when that saves at least 8 bytes), and decompressed when it comes
//! within d of an end or is edited. Walks (LINDEX, LSET, LINSERT) skip whole nodes by
//! their counts, from the nearer end.
//!
//! Elements carry no back-length (a listpack spends a byte on it), so popping at the tail
//! uses an index of where the last node's elements start, built by the first tail pop on a
//! node of 32 or more elements and kept current by pushes and pops in place.
//!
//! The byte total of all buffers is kept as they change, so a list's footprint is O(1).

use std::borrow::Cow;
use std::collections::VecDeque;

use bytes::Bytes;

use crate::entry::{read_varint, varint_len, write_varint};
use crate::memory::{alloc_size, usable_size};

/// Which end of a list (Redis's LEFT/RIGHT, head/tail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListEnd {
    /// The head (LPUSH, LPOP, LEFT).
    Left,
    /// The tail (RPUSH, RPOP, RIGHT).
    Right,
}

/// Largest node a count-limited fill allows (Redis's `SIZE_SAFETY_LIMIT`).
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Largest count a positive fill may ask (Redis's `FILL_MAX`).
const FILL_MAX: i64 = (1 << 15) - 1;
/// Largest compress depth (Redis's `COMPRESS_MAX`).
const COMPRESS_MAX: i64 = (1 << 16) - 1;
/// Nodes smaller than this are never compressed (Redis's `MIN_COMPRESS_BYTES`).
const MIN_COMPRESS_BYTES: usize = 48;
/// Nodes of at least this many elements get a tail index once popped at the tail.
const TAIL_INDEX_MIN: u32 = 32;
/// A compressed node must be at least this much smaller to be kept compressed.
const MIN_COMPRESS_IMPROVE: usize = 8;

/// Bytes an element takes in a node.
fn enc_len(v: &[u8]) -> usize {
    varint_len(v.len()) + v.len()
}

/// The element at `off` in node data: its bytes and where the next one starts.
fn element_at(data: &[u8], off: usize) -> (&[u8], usize) {
    let (len, n) = read_varint(&data[off..]);
    let start = off + n;
    let end = (start + len).min(data.len());
    (&data[start..end], end)
}

/// The elements of node data, in order.
fn elements(data: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    let mut offs = Vec::new();
    let mut off = 0;
    while off < data.len() {
        offs.push(off);
        off = element_at(data, off).1;
    }
    offs.into_iter().map(move |o| element_at(data, o).0)
}

/// The offset of element `o` in node data (the data's length for `o == count`).
fn offset_of(data: &[u8], o: usize) -> usize {
    let mut off = 0;
    for _ in 0..o {
        off = element_at(data, off).1;
    }
    off
}

fn encode_into(out: &mut Vec<u8>, v: &[u8]) {
    write_varint(out, v.len());
    out.extend_from_slice(v);
}

/// One node: elements packed in `buf[start..end]`, or, when `compressed`, all of `buf` is
/// the LZ4 block of that data with its length prepended.
#[derive(Clone, Default)]
struct Node {
    buf: Box<[u8]>,
    start: u32,
    end: u32,
    count: u32,
    compressed: bool,
    /// Compression was tried on the data as it is and saved too little.
    incompressible: bool,
}

impl Node {
    fn with(data: &[u8], count: usize) -> Node {
        let mut node = Node::default();
        node.set_raw(data, count);
        node
    }

    fn heap(&self) -> usize {
        alloc_size(self.buf.len())
    }

    /// The packed elements; the node must not be compressed.
    fn data(&self) -> &[u8] {
        debug_assert!(!self.compressed);
        &self.buf[self.start as usize..self.end as usize]
    }

    /// The packed elements, decompressed into a copy if need be.
    fn raw(&self) -> Cow<'_, [u8]> {
        if self.compressed {
            Cow::Owned(
                lz4_flex::decompress_size_prepended(&self.buf).expect("a node compressed here"),
            )
        } else {
            Cow::Borrowed(self.data())
        }
    }

    fn raw_len(&self) -> usize {
        if self.compressed {
            let mut n = [0u8; 4];
            n.copy_from_slice(&self.buf[..4]);
            u32::from_le_bytes(n) as usize
        } else {
            (self.end - self.start) as usize
        }
    }

    /// Replaces the contents with `data` (`count` elements) in a buffer of its size class.
    fn set_raw(&mut self, data: &[u8], count: usize) {
        let mut buf = vec![0u8; usable_size(data.len())].into_boxed_slice();
        buf[..data.len()].copy_from_slice(data);
        self.buf = buf;
        self.start = 0;
        self.end = data.len() as u32;
        self.count = count as u32;
        self.compressed = false;
        self.incompressible = false;
    }

    /// Makes room for `front` more bytes before the data and `back` after it, moving the
    /// data to a buffer of the size class it then needs when it lacks the room; the
    /// spare room of that class goes to the side that grows.
    fn make_room(&mut self, front: usize, back: usize) {
        let (start, end) = (self.start as usize, self.end as usize);
        if start >= front && self.buf.len() - end >= back {
            return;
        }
        let len = end - start;
        let cap = usable_size(len + front + back);
        let new_start = if front > 0 { cap - len - back } else { 0 };
        let mut buf = vec![0u8; cap].into_boxed_slice();
        buf[new_start..new_start + len].copy_from_slice(&self.buf[start..end]);
        self.buf = buf;
        self.start = new_start as u32;
        self.end = (new_start + len) as u32;
    }

    /// Gives back a buffer at least twice the size class of its data.
    fn maybe_shrink(&mut self) {
        let len = (self.end - self.start) as usize;
        if self.buf.len() > 64 && alloc_size(self.buf.len()) >= 2 * alloc_size(len.max(1)) {
            let data = self.data().to_vec();
            self.set_raw(&data, self.count as usize);
        }
    }

    fn push_front(&mut self, v: &[u8]) {
        let n = enc_len(v);
        self.make_room(n, 0);
        let at = self.start as usize - n;
        let mut hdr = Vec::with_capacity(10);
        write_varint(&mut hdr, v.len());
        self.buf[at..at + hdr.len()].copy_from_slice(&hdr);
        self.buf[at + hdr.len()..at + n].copy_from_slice(v);
        self.start = at as u32;
        self.count += 1;
        self.incompressible = false;
    }

    fn push_back(&mut self, v: &[u8]) {
        let n = enc_len(v);
        self.make_room(0, n);
        let at = self.end as usize;
        let mut hdr = Vec::with_capacity(10);
        write_varint(&mut hdr, v.len());
        self.buf[at..at + hdr.len()].copy_from_slice(&hdr);
        self.buf[at + hdr.len()..at + n].copy_from_slice(v);
        self.end = (at + n) as u32;
        self.count += 1;
        self.incompressible = false;
    }

    fn pop_front(&mut self) -> Bytes {
        let data = self.data();
        let (v, next) = element_at(data, 0);
        let out = Bytes::copy_from_slice(v);
        self.start += next as u32;
        self.count -= 1;
        self.incompressible = false;
        self.maybe_shrink();
        out
    }

    /// Pops the last element, which starts at `at` in the buffer when that is known.
    fn pop_back(&mut self, at: Option<usize>) -> Bytes {
        let start = self.start as usize;
        let last = at.unwrap_or_else(|| start + offset_of(self.data(), self.count as usize - 1));
        let out = Bytes::copy_from_slice(element_at(&self.buf[..self.end as usize], last).0);
        self.end = last as u32;
        self.count -= 1;
        self.incompressible = false;
        self.maybe_shrink();
        out
    }

    /// Replaces `remove` elements from position `o` with `insert`.
    fn splice(&mut self, o: usize, remove: usize, insert: &[&[u8]]) {
        let data = self.raw();
        let a = offset_of(&data, o);
        let mut b = a;
        for _ in 0..remove {
            b = element_at(&data, b).1;
        }
        let added: usize = insert.iter().map(|v| enc_len(v)).sum();
        let mut out = Vec::with_capacity(data.len() - (b - a) + added);
        out.extend_from_slice(&data[..a]);
        for v in insert {
            encode_into(&mut out, v);
        }
        out.extend_from_slice(&data[b..]);
        let count = self.count as usize - remove + insert.len();
        self.set_raw(&out, count);
    }

    /// Keeps the elements `keep` says to (it is handed each one's position); how many
    /// went.
    fn retain(&mut self, mut keep: impl FnMut(usize, &[u8]) -> bool) -> usize {
        let data = self.raw().into_owned();
        let mut out = Vec::with_capacity(data.len());
        let mut kept = 0;
        for (o, v) in elements(&data).enumerate() {
            if keep(o, v) {
                encode_into(&mut out, v);
                kept += 1;
            }
        }
        let gone = self.count as usize - kept;
        if gone > 0 {
            self.set_raw(&out, kept);
        }
        gone
    }

    /// Splits off the elements from `o` on into a node of their own.
    fn split_off(&mut self, o: usize) -> Node {
        let data = self.data();
        let at = offset_of(data, o);
        let right = Node::with(&data[at..], self.count as usize - o);
        let left = data[..at].to_vec();
        self.set_raw(&left, o);
        right
    }

    fn compress(&mut self) -> bool {
        if self.compressed || self.incompressible {
            return false;
        }
        let data = self.data();
        if data.len() < MIN_COMPRESS_BYTES {
            self.incompressible = true;
            return false;
        }
        let packed = lz4_flex::compress_prepend_size(data);
        if packed.len() + MIN_COMPRESS_IMPROVE > data.len() {
            self.incompressible = true;
            return false;
        }
        let len = data.len() as u32;
        self.buf = packed.into_boxed_slice();
        self.start = 0;
        self.end = len;
        self.compressed = true;
        true
    }

    fn decompress(&mut self) {
        if self.compressed {
            let data = self.raw().into_owned();
            self.set_raw(&data, self.count as usize);
        }
    }
}

/// Where the elements of a suffix of the last node start (offsets into its buffer,
/// ascending), so that popping at the tail need not walk the node from its head, as
/// elements carry no back-length.
type TailIndex = VecDeque<u32>;

/// A list: its nodes (the first inline, so that a small list is one allocation), its
/// length, and the byte total of the nodes' buffers.
#[derive(Clone)]
pub(crate) struct ListObj {
    first: Node,
    rest: VecDeque<Node>,
    len: usize,
    node_bytes: usize,
    compressed_nodes: u32,
    /// Built by the first tail pop on a large last node; dropped whenever the last node is
    /// replaced or its buffer moves.
    tail: Option<Box<TailIndex>>,
    /// `list-max-listpack-size` as clamped when the list was made.
    fill: i16,
    /// `list-compress-depth` as clamped when the list was made.
    depth: u16,
}

impl ListObj {
    /// An empty list with these settings (clamped as Redis's quicklist does).
    pub(crate) fn new(fill: i64, depth: i64) -> Self {
        ListObj {
            first: Node::default(),
            rest: VecDeque::new(),
            len: 0,
            node_bytes: 0,
            compressed_nodes: 0,
            tail: None,
            fill: fill.clamp(-5, FILL_MAX) as i16,
            depth: depth.clamp(0, COMPRESS_MAX) as u16,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes the list holds (allocator rounding included).
    pub(crate) fn heap_bytes(&self) -> usize {
        let tail = self.tail.as_ref().map_or(0, |t| {
            alloc_size(std::mem::size_of::<TailIndex>()) + alloc_size(t.capacity() * 4)
        });
        self.node_bytes + alloc_size(self.rest.capacity() * std::mem::size_of::<Node>()) + tail
    }

    fn nodes(&self) -> usize {
        1 + self.rest.len()
    }

    fn node(&self, i: usize) -> &Node {
        match i {
            0 => &self.first,
            _ => &self.rest[i - 1],
        }
    }

    /// Runs `f` on node `i`, keeping the byte total and compressed count right, and
    /// dropping the tail index if `f` moved the last node's buffer. (Every edit but a
    /// push or pop in place moves it; the push and pop paths keep the index current.)
    fn with_node<R>(&mut self, i: usize, f: impl FnOnce(&mut Node) -> R) -> R {
        let last = i + 1 == self.nodes();
        let node = match i {
            0 => &mut self.first,
            _ => &mut self.rest[i - 1],
        };
        let (bytes, packed, at) = (node.heap(), node.compressed, node.buf.as_ptr());
        let r = f(node);
        self.node_bytes = self.node_bytes + node.heap() - bytes;
        self.compressed_nodes =
            self.compressed_nodes + u32::from(node.compressed) - u32::from(packed);
        if last && node.buf.as_ptr() != at {
            self.tail = None;
        }
        r
    }

    fn insert_node(&mut self, i: usize, node: Node) {
        self.tail = None;
        self.node_bytes += node.heap();
        self.compressed_nodes += u32::from(node.compressed);
        if i == 0 {
            let old = std::mem::replace(&mut self.first, node);
            self.rest.push_front(old);
        } else {
            self.rest.insert(i - 1, node);
        }
    }

    fn remove_node(&mut self, i: usize) {
        self.tail = None;
        let node = if i == 0 {
            let next = self.rest.pop_front().unwrap_or_default();
            std::mem::replace(&mut self.first, next)
        } else {
            self.rest.remove(i - 1).unwrap_or_default()
        };
        self.node_bytes -= node.heap();
        self.compressed_nodes -= u32::from(node.compressed);
        if self.rest.capacity() > 8 && self.rest.len() * 4 < self.rest.capacity() {
            self.rest.shrink_to(self.rest.len() * 2);
        }
    }

    /// Most bytes a node may hold.
    fn max_bytes(&self) -> usize {
        match self.fill {
            f if f < 0 => 4096 << (-f - 1),
            _ => SIZE_SAFETY_LIMIT,
        }
    }

    /// Whether a node of `bytes` bytes and `count` elements takes `more` bytes more in
    /// one more element (an empty node takes anything).
    fn fits(&self, bytes: usize, count: u32, more: usize) -> bool {
        count == 0
            || (bytes + more <= self.max_bytes() && (self.fill < 0 || count < self.fill as u32))
    }

    fn node_fits(&self, i: usize, more: usize) -> bool {
        let n = self.node(i);
        self.fits(n.raw_len(), n.count, more)
    }

    /// Keeps the nodes within `depth` of either end uncompressed and compresses those that
    /// pushes and insertions made interior.
    fn settle(&mut self) {
        let d = usize::from(self.depth);
        if d == 0 {
            return;
        }
        let n = self.nodes();
        if self.compressed_nodes > 0 {
            for i in 0..d.min(n) {
                self.with_node(i, Node::decompress);
                self.with_node(n - 1 - i, Node::decompress);
            }
        }
        // An insertion near an end pushes at most two nodes past the depth.
        for k in d..(d + 3).min(n.saturating_sub(d)) {
            self.with_node(k, Node::compress);
            self.with_node(n - 1 - k, Node::compress);
        }
    }

    /// Compresses node `i` again after an edit, if it lies deeper than `depth`.
    fn recompress(&mut self, i: usize) {
        let d = usize::from(self.depth);
        if d > 0 && i >= d && i + d < self.nodes() {
            self.with_node(i, Node::compress);
        }
    }

    /// The node holding element `idx` and its position there, found from the nearer end.
    fn locate(&self, idx: usize) -> (usize, usize) {
        if idx < self.len / 2 {
            let mut before = 0;
            for i in 0..self.nodes() {
                let c = self.node(i).count as usize;
                if idx < before + c {
                    return (i, idx - before);
                }
                before += c;
            }
        } else {
            let mut after = self.len;
            for i in (0..self.nodes()).rev() {
                let c = self.node(i).count as usize;
                after -= c;
                if idx >= after {
                    return (i, idx - after);
                }
            }
        }
        (self.nodes() - 1, self.node(self.nodes() - 1).count as usize)
    }

    pub(crate) fn push(&mut self, end: ListEnd, v: &[u8]) {
        let more = enc_len(v);
        match end {
            ListEnd::Left => {
                if self.node_fits(0, more) {
                    self.with_node(0, |n| n.push_front(v));
                } else {
                    self.insert_node(0, Node::default());
                    self.with_node(0, |n| n.push_front(v));
                }
            }
            ListEnd::Right => {
                let last = self.nodes() - 1;
                if self.node_fits(last, more) {
                    let at = self.node(last).end;
                    self.with_node(last, |n| n.push_back(v));
                    if let Some(tail) = &mut self.tail {
                        tail.push_back(at);
                    }
                } else {
                    self.insert_node(last + 1, Node::default());
                    self.with_node(last + 1, |n| n.push_back(v));
                }
            }
        }
        self.len += 1;
        self.settle();
    }

    pub(crate) fn pop(&mut self, end: ListEnd) -> Option<Bytes> {
        if self.len == 0 {
            return None;
        }
        let (i, out) = match end {
            ListEnd::Left => {
                let out = self.with_node(0, Node::pop_front);
                // Elements popped at the head of the last node leave the tail index.
                let start = self.first.start;
                if let Some(tail) = self.tail.as_mut().filter(|_| self.rest.is_empty()) {
                    while tail.front().is_some_and(|&at| at < start) {
                        tail.pop_front();
                    }
                }
                (0, out)
            }
            ListEnd::Right => {
                let last = self.nodes() - 1;
                let at = self.tail_pop_offset(last);
                (last, self.with_node(last, |n| n.pop_back(at)))
            }
        };
        self.len -= 1;
        self.drop_if_empty(i);
        self.settle();
        Some(out)
    }

    /// Where the last element of the last node (`last`) starts, from the tail index,
    /// which is built when missing for a node large enough to be worth it.
    fn tail_pop_offset(&mut self, last: usize) -> Option<usize> {
        let node = self.node(last);
        if self.tail.as_ref().is_none_or(|t| t.is_empty()) {
            if node.count < TAIL_INDEX_MIN {
                self.tail = None;
                return None;
            }
            let data = node.data();
            let mut index = TailIndex::with_capacity(node.count as usize);
            let mut off = 0;
            while off < data.len() {
                index.push_back(node.start + off as u32);
                off = element_at(data, off).1;
            }
            self.tail = Some(Box::new(index));
        }
        self.tail
            .as_mut()
            .and_then(|t| t.pop_back())
            .map(|at| at as usize)
    }

    /// Removes node `i` if it holds nothing, unless it is the only one.
    fn drop_if_empty(&mut self, i: usize) {
        if self.node(i).count == 0 {
            if self.nodes() > 1 {
                self.remove_node(i);
            } else {
                self.with_node(0, |n| *n = Node::default());
            }
        }
    }

    pub(crate) fn get(&self, idx: usize) -> Option<Bytes> {
        if idx >= self.len {
            return None;
        }
        let (i, o) = self.locate(idx);
        let raw = self.node(i).raw();
        let off = offset_of(&raw, o);
        Some(Bytes::copy_from_slice(element_at(&raw, off).0))
    }

    /// Replaces element `idx`; false if there is none.
    pub(crate) fn set(&mut self, idx: usize, v: &[u8]) -> bool {
        if idx >= self.len {
            return false;
        }
        let (i, o) = self.locate(idx);
        self.with_node(i, Node::decompress);
        let node = self.node(i);
        let old = element_at(node.data(), offset_of(node.data(), o)).0.len();
        let rest = node.raw_len() - varint_len(old) - old;
        if node.count == 1 || self.fits(rest, node.count - 1, enc_len(v)) {
            self.with_node(i, |n| n.splice(o, 1, &[v]));
            self.recompress(i);
            self.settle();
        } else {
            self.remove_range(idx, idx + 1);
            self.insert(idx, v);
        }
        true
    }

    /// Inserts `v` before element `idx` (`idx == len` appends).
    pub(crate) fn insert(&mut self, idx: usize, v: &[u8]) {
        if idx == 0 || idx >= self.len {
            let end = if idx == 0 {
                ListEnd::Left
            } else {
                ListEnd::Right
            };
            return self.push(end, v);
        }
        let more = enc_len(v);
        let (i, o) = self.locate(idx);
        self.with_node(i, Node::decompress);
        if self.node_fits(i, more) {
            self.with_node(i, |n| n.splice(o, 0, &[v]));
            self.recompress(i);
        } else if o == 0 && self.node_fits(i - 1, more) {
            // The element goes at the boundary: the previous node has room for it.
            self.with_node(i - 1, |n| {
                n.decompress();
                n.push_back(v);
            });
            self.recompress(i - 1);
            self.recompress(i);
        } else {
            // Split the full node at the insertion point; the element joins whichever
            // half has room, or a node of its own between them.
            let right = self.with_node(i, |n| n.split_off(o));
            self.insert_node(i + 1, right);
            if self.node_fits(i, more) {
                self.with_node(i, |n| n.push_back(v));
            } else if self.node_fits(i + 1, more) {
                self.with_node(i + 1, |n| n.push_front(v));
            } else {
                self.insert_node(i + 1, Node::with(&[], 0));
                self.with_node(i + 1, |n| n.push_back(v));
            }
            for k in i..(i + 3).min(self.nodes()) {
                self.recompress(k);
            }
        }
        self.len += 1;
        self.settle();
    }

    /// Copies of the elements `start..end`.
    pub(crate) fn range(&self, start: usize, end: usize) -> Vec<Bytes> {
        let end = end.min(self.len);
        if start >= end {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(end - start);
        let (mut i, mut o) = self.locate(start);
        while out.len() < end - start && i < self.nodes() {
            let raw = self.node(i).raw();
            for v in elements(&raw).skip(o) {
                if out.len() == end - start {
                    break;
                }
                out.push(Bytes::copy_from_slice(v));
            }
            i += 1;
            o = 0;
        }
        out
    }

    /// Hands `f` each element with its index, from the head (or from the tail), until `f`
    /// returns false.
    pub(crate) fn scan(&self, from_tail: bool, mut f: impl FnMut(usize, &[u8]) -> bool) {
        if from_tail {
            let mut idx = self.len;
            for i in (0..self.nodes()).rev() {
                let raw = self.node(i).raw();
                for v in elements(&raw).rev() {
                    idx -= 1;
                    if !f(idx, v) {
                        return;
                    }
                }
            }
        } else {
            let mut idx = 0;
            for i in 0..self.nodes() {
                let raw = self.node(i).raw();
                for v in elements(&raw) {
                    if !f(idx, v) {
                        return;
                    }
                    idx += 1;
                }
            }
        }
    }

    /// Removes the elements `start..end`, dropping whole nodes where it can.
    fn remove_range(&mut self, start: usize, end: usize) {
        let end = end.min(self.len);
        if start >= end {
            return;
        }
        let mut i = 0;
        let mut before = 0;
        while i < self.nodes() && before < end {
            let c = self.node(i).count as usize;
            let (lo, hi) = (start.max(before), end.min(before + c));
            if lo >= hi {
                before += c;
                i += 1;
                continue;
            }
            if lo == before && hi == before + c && self.nodes() > 1 {
                self.remove_node(i);
            } else if lo == before && hi == before + c {
                self.with_node(0, |n| *n = Node::default());
                i += 1;
            } else {
                self.with_node(i, |n| n.splice(lo - before, hi - lo, &[]));
                self.recompress(i);
                i += 1;
            }
            // `start..end` and `before` count positions as they were before any removal.
            before += c;
            self.len -= hi - lo;
        }
        self.settle();
    }

    /// Keeps only the elements `start..end`.
    pub(crate) fn trim(&mut self, start: usize, end: usize) {
        let end = end.min(self.len);
        let start = start.min(end);
        self.remove_range(end, self.len);
        self.remove_range(0, start);
    }

    /// Removes up to `limit` (0: all) elements equal to `v`, searching from the head (or
    /// from the tail); how many it removed.
    pub(crate) fn remove_matches(&mut self, v: &[u8], limit: usize, from_tail: bool) -> usize {
        let mut doomed = Vec::new();
        self.scan(from_tail, |i, e| {
            if e == v {
                doomed.push(i);
            }
            limit == 0 || doomed.len() < limit
        });
        if doomed.is_empty() {
            return 0;
        }
        doomed.sort_unstable();
        let mut next = doomed.iter().copied().peekable();
        let (mut i, mut before) = (0, 0);
        while i < self.nodes() {
            let c = self.node(i).count as usize;
            if next.peek().is_some_and(|&d| d < before + c) {
                let gone = self.with_node(i, |n| {
                    n.retain(|o, _| next.next_if_eq(&(before + o)).is_none())
                });
                self.len -= gone;
                if self.node(i).count == 0 && self.nodes() > 1 {
                    self.remove_node(i);
                } else {
                    self.drop_if_empty(i);
                    self.recompress(i);
                    i += 1;
                }
            } else {
                i += 1;
            }
            before += c;
        }
        self.settle();
        doomed.len()
    }

    /// Copies of every element, head first.
    pub(crate) fn to_vec(&self) -> Vec<Bytes> {
        self.range(0, self.len)
    }

    /// Checks the list against itself: counts, byte totals, node limits, and which nodes
    /// are compressed.
    pub(crate) fn check(&self) -> Result<(), String> {
        let (mut len, mut bytes, mut packed) = (0, 0, 0);
        let n = self.nodes();
        let d = usize::from(self.depth);
        for i in 0..n {
            let node = self.node(i);
            let raw = node.raw();
            let found = elements(&raw).count();
            if found != node.count as usize {
                return Err(format!("node {i} counts {}, holds {found}", node.count));
            }
            if node.count == 0 && n > 1 {
                return Err(format!("empty node {i} of {n}"));
            }
            if node.count > 1
                && (raw.len() > self.max_bytes()
                    || (self.fill >= 0 && node.count > self.fill.max(1) as u32))
            {
                return Err(format!(
                    "node {i} holds {} elements in {} bytes, over the fill {}",
                    node.count,
                    raw.len(),
                    self.fill
                ));
            }
            let interior = d > 0 && i >= d && i + d < n;
            if node.compressed && !interior {
                return Err(format!("node {i} of {n} compressed within depth {d}"));
            }
            if interior && !node.compressed {
                let mut probe = node.clone();
                probe.incompressible = false;
                if probe.compress() {
                    return Err(format!("node {i} of {n} left uncompressed at depth {d}"));
                }
            }
            len += node.count as usize;
            bytes += node.heap();
            packed += u32::from(node.compressed);
        }
        if len != self.len {
            return Err(format!("list length {}, nodes hold {len}", self.len));
        }
        if let Some(tail) = &self.tail {
            let node = self.node(n - 1);
            let data = node.data();
            let mut starts = Vec::new();
            let mut off = 0;
            while off < data.len() {
                starts.push(node.start + off as u32);
                off = element_at(data, off).1;
            }
            if !starts.ends_with(&tail.iter().copied().collect::<Vec<_>>()) {
                return Err(format!(
                    "tail index {tail:?} is not where the last node's last elements start \
                     ({starts:?})"
                ));
            }
        }
        if (bytes, packed) != (self.node_bytes, self.compressed_nodes) {
            return Err(format!(
                "node bytes and compressed nodes counted {:?}, recomputed {:?}",
                (self.node_bytes, self.compressed_nodes),
                (bytes, packed)
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{ListEnd, ListObj};

    fn filled(fill: i64, depth: i64, n: usize, size: usize) -> ListObj {
        let mut l = ListObj::new(fill, depth);
        for i in 0..n {
            let mut v = format!("{i:08}").into_bytes();
            v.resize(size.max(8), b'z');
            l.push(ListEnd::Right, &v);
        }
        l.check().expect("consistent");
        l
    }

    #[test]
    fn settings_clamp_as_redis_quicklist_does() {
        let l = ListObj::new(-100, i64::MAX);
        assert_eq!((l.fill, l.depth), (-5, u16::MAX));
        let l = ListObj::new(1 << 40, -3);
        assert_eq!((l.fill, l.depth), (i16::MAX, 0));
    }

    #[test]
    fn small_lists_are_one_inline_node() {
        let l = filled(-2, 0, 100, 10);
        assert_eq!((l.nodes(), l.rest.capacity()), (1, 0));
        assert_eq!(l.heap_bytes(), l.first.heap());
    }

    #[test]
    fn nodes_respect_byte_and_count_limits() {
        for (fill, per_node) in [(-1, 4096 / 101), (-2, 8192 / 101), (-5, 65536 / 101)] {
            let l = filled(fill, 0, 2000, 100);
            assert_eq!(l.node(0).count as usize, per_node, "fill {fill}");
            assert_eq!(l.nodes(), 2000usize.div_ceil(per_node), "fill {fill}");
        }
        let l = filled(3, 0, 10, 10);
        assert_eq!(l.nodes(), 4);
        // A count fill still stops at 8 KB.
        let l = filled(1000, 0, 200, 1000);
        assert_eq!(l.node(0).count, 8);
        // Fill 0 holds one element a node, as in Redis.
        assert_eq!(filled(0, 0, 5, 10).nodes(), 5);
        // An element larger than a node gets a node of its own.
        let l = filled(-1, 0, 3, 10_000);
        assert_eq!(l.nodes(), 3);
    }

    #[test]
    fn indexes_walk_from_the_nearer_end_across_nodes() {
        let l = filled(4, 0, 23, 10);
        for i in 0..23 {
            let v = l.get(i).expect("in range");
            assert_eq!(&v[..8], format!("{i:08}").as_bytes());
        }
        assert_eq!(l.get(23), None);
        assert_eq!(l.range(3, 9).len(), 6);
        assert_eq!(l.range(20, 100).len(), 3);
        assert!(l.range(5, 5).is_empty());
    }

    #[test]
    fn tail_pops_use_an_index_kept_right_through_pushes_and_pops_at_both_ends() {
        let mut l = filled(-2, 0, 300, 10);
        let mut model: std::collections::VecDeque<Vec<u8>> =
            l.to_vec().iter().map(|b| b.to_vec()).collect();
        let (mut seed, mut indexed) = (7u64, 0);
        for step in 0..5000u32 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = format!("{step}")
                .repeat((seed >> 60) as usize + 1)
                .into_bytes();
            match (seed >> 33) % 5 {
                0 => {
                    l.push(ListEnd::Left, &v);
                    model.push_front(v);
                }
                1 => {
                    l.push(ListEnd::Right, &v);
                    model.push_back(v);
                }
                2 => assert_eq!(l.pop(ListEnd::Left).map(|b| b.to_vec()), model.pop_front()),
                _ => assert_eq!(l.pop(ListEnd::Right).map(|b| b.to_vec()), model.pop_back()),
            }
            l.check().expect("consistent");
            indexed += usize::from(l.tail.as_ref().is_some_and(|t| !t.is_empty()));
        }
        assert!(indexed > 1000, "the index served {indexed} steps");
        assert_eq!(
            l.to_vec(),
            model
                .iter()
                .map(|v| bytes::Bytes::from(v.clone()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn interior_nodes_compress_and_come_back_at_the_ends() {
        let mut l = filled(-1, 1, 1000, 100);
        let n = l.nodes();
        assert_eq!(l.compressed_nodes as usize, n - 2);
        let plain = filled(-1, 0, 1000, 100);
        assert!(l.heap_bytes() * 3 < plain.heap_bytes());
        // Popping a whole node brings the next one within the depth, uncompressed.
        for _ in 0..100 {
            l.pop(ListEnd::Left);
        }
        l.check().expect("consistent");
        assert_eq!(l.compressed_nodes as usize, l.nodes() - 2);
        assert_eq!(&l.get(500).expect("in range")[..8], b"00000600");
        assert!(l.set(500, b"edited"));
        l.insert(300, b"inserted");
        l.check().expect("consistent");
        assert_eq!(&l.get(501).expect("in range")[..], b"edited".as_slice());
        assert_eq!(&l.get(300).expect("in range")[..], b"inserted".as_slice());
        l.trim(10, 20);
        l.check().expect("consistent");
        assert_eq!(l.compressed_nodes, 0);
    }
}
