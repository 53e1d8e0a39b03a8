//! The list value, after Redis's quicklist: a deque of nodes, each a run of elements
//! packed back to back.
//!
//! A string element is stored as its length and bytes: one header byte up to 239 bytes,
//! three up to 64 KiB, five beyond. An integer in Redis's canonical form is stored as a
//! tag byte and its 1 to 8 bytes when that is shorter, as a listpack does; every value has
//! exactly one encoding, so elements compare equal by their encoded bytes.
//!
//! A node's bytes live in one buffer with the used part anywhere inside it, so pushing or
//! popping at either end of a node moves nothing; buffers grow to the allocator's size
//! class of what they hold, whose slack then costs nothing. How much a node holds is
//! `list-max-listpack-size` (a byte limit, or a count with an 8 KB safety limit); a small
//! list is a single node, kept inline in the list with no node table.
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

use crate::codec::canonical_i64;
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

/// First header byte of a string of 240 to 65535 bytes (a `u16` length follows); shorter
/// strings have their length as the header byte.
const STR16: u8 = 0xF0;
/// First header byte of a longer string (a `u32` length follows).
const STR32: u8 = 0xF1;
/// First header byte of an integer of `k` bytes (two's complement, little-endian, sign
/// extended) is `INT + k - 1`.
const INT: u8 = 0xF8;

/// An element as a node stores it: a header (for an integer, with its bytes) and a body
/// (a string's bytes). Each value has one encoding, so equal elements have equal bytes.
struct Encoded<'a> {
    head: [u8; 9],
    head_len: usize,
    body: &'a [u8],
}

impl Encoded<'_> {
    fn len(&self) -> usize {
        self.head_len + self.body.len()
    }

    fn write(&self, out: &mut [u8]) {
        out[..self.head_len].copy_from_slice(&self.head[..self.head_len]);
        out[self.head_len..self.len()].copy_from_slice(self.body);
    }

    fn extend(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.head[..self.head_len]);
        out.extend_from_slice(self.body);
    }

    fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        self.extend(&mut out);
        out
    }
}

/// How `v` is stored: as an integer when it is one in Redis's canonical form and that is
/// shorter (as a listpack stores integers), else as a string.
fn encode(v: &[u8]) -> Encoded<'_> {
    let mut head = [0u8; 9];
    let str_head = match v.len() {
        n if n < usize::from(STR16) => 1,
        n if n <= usize::from(u16::MAX) => 3,
        _ => 5,
    };
    if let Some(n) = canonical_i64(v) {
        let k = (1..8usize)
            .find(|&k| (-(1i64 << (8 * k - 1))..1i64 << (8 * k - 1)).contains(&n))
            .unwrap_or(8);
        if 1 + k < str_head + v.len() {
            head[0] = INT + (k - 1) as u8;
            head[1..=k].copy_from_slice(&n.to_le_bytes()[..k]);
            return Encoded {
                head,
                head_len: 1 + k,
                body: &[],
            };
        }
    }
    match str_head {
        1 => head[0] = v.len() as u8,
        3 => {
            head[0] = STR16;
            head[1..3].copy_from_slice(&(v.len() as u16).to_le_bytes());
        }
        _ => {
            head[0] = STR32;
            head[1..5].copy_from_slice(&(v.len() as u32).to_le_bytes());
        }
    }
    Encoded {
        head,
        head_len: str_head,
        body: v,
    }
}

/// An element read from a node.
enum Elem<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl Elem<'_> {
    fn to_bytes(&self) -> Bytes {
        match self {
            Elem::Str(b) => Bytes::copy_from_slice(b),
            Elem::Int(n) => Bytes::copy_from_slice(crate::codec::format_i64(*n, &mut [0; 20])),
        }
    }
}

/// The `n`-byte little-endian length at `at`.
fn le_len(data: &[u8], at: usize, n: usize) -> usize {
    let mut b = [0u8; 8];
    let src = data.get(at..at + n).unwrap_or_default();
    b[..src.len()].copy_from_slice(src);
    u64::from_le_bytes(b) as usize
}

/// The element at `off` in node data and where the next one starts.
fn element_at(data: &[u8], off: usize) -> (Elem<'_>, usize) {
    let (start, len) = match data[off] {
        b if b < STR16 => (off + 1, usize::from(b)),
        STR16 => (off + 3, le_len(data, off + 1, 2)),
        STR32 => (off + 5, le_len(data, off + 1, 4)),
        b if b >= INT => {
            let k = usize::from(b - INT) + 1;
            let mut n = [0u8; 8];
            n[..k].copy_from_slice(&data[off + 1..off + 1 + k]);
            let shift = 64 - 8 * k as u32;
            let v = (i64::from_le_bytes(n) << shift) >> shift;
            return (Elem::Int(v), off + 1 + k);
        }
        // Not written by `encode`: read as the rest of the node.
        _ => return (Elem::Str(&[]), data.len()),
    };
    let end = (start + len).min(data.len());
    (Elem::Str(&data[start..end]), end)
}

/// Where the element after the one at `off` starts.
#[inline]
fn skip(data: &[u8], off: usize) -> usize {
    match data[off] {
        b if b < STR16 => off + 1 + usize::from(b),
        _ => element_at(data, off).1,
    }
}

/// Where each element of node data starts and ends, in order.
fn spans(data: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut off = 0;
    std::iter::from_fn(move || {
        let at = off;
        (at < data.len()).then(|| {
            off = skip(data, at);
            (at, off)
        })
    })
}

/// The offset of element `o` in node data (the data's length for `o == count`).
fn offset_of(data: &[u8], o: usize) -> usize {
    let mut off = 0;
    for _ in 0..o {
        off = skip(data, off);
    }
    off
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

    /// Pushes `e` at the front if the buffer has the room, which leaves the node's heap
    /// bytes as they were (the common case); false, with nothing done, otherwise. End
    /// nodes, the only ones pushed to, are never compressed.
    #[inline]
    fn push_front_in_place(&mut self, e: &Encoded<'_>) -> bool {
        debug_assert!(!self.compressed);
        let (n, start) = (e.len(), self.start as usize);
        if start < n {
            return false;
        }
        e.write(&mut self.buf[start - n..start]);
        self.start = (start - n) as u32;
        self.count += 1;
        self.incompressible = false;
        true
    }

    /// [`Node::push_front_in_place`] at the back.
    #[inline]
    fn push_back_in_place(&mut self, e: &Encoded<'_>) -> bool {
        debug_assert!(!self.compressed);
        let (n, end) = (e.len(), self.end as usize);
        if self.buf.len() - end < n {
            return false;
        }
        e.write(&mut self.buf[end..end + n]);
        self.end = (end + n) as u32;
        self.count += 1;
        self.incompressible = false;
        true
    }

    fn push_front_encoded(&mut self, e: &Encoded<'_>) {
        self.make_room(e.len(), 0);
        let pushed = self.push_front_in_place(e);
        debug_assert!(pushed);
    }

    fn push_back_encoded(&mut self, e: &Encoded<'_>) {
        self.make_room(0, e.len());
        let pushed = self.push_back_in_place(e);
        debug_assert!(pushed);
    }

    fn pop_front(&mut self) -> Bytes {
        let data = self.data();
        let (v, next) = element_at(data, 0);
        let out = v.to_bytes();
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
        let out = element_at(&self.buf[..self.end as usize], last)
            .0
            .to_bytes();
        self.end = last as u32;
        self.count -= 1;
        self.incompressible = false;
        self.maybe_shrink();
        out
    }

    /// Replaces `remove` elements from position `o` with `insert`, if any.
    fn splice(&mut self, o: usize, remove: usize, insert: Option<&Encoded<'_>>) {
        let data = self.raw();
        let a = offset_of(&data, o);
        let mut b = a;
        for _ in 0..remove {
            b = skip(&data, b);
        }
        let added = insert.map_or(0, Encoded::len);
        let mut out = Vec::with_capacity(data.len() - (b - a) + added);
        out.extend_from_slice(&data[..a]);
        if let Some(e) = insert {
            e.extend(&mut out);
        }
        out.extend_from_slice(&data[b..]);
        let count = self.count as usize - remove + usize::from(insert.is_some());
        self.set_raw(&out, count);
    }

    /// Keeps the elements `keep` says to (it is handed each one's position); how many
    /// went.
    fn retain(&mut self, mut keep: impl FnMut(usize) -> bool) -> usize {
        let data = self.raw().into_owned();
        let mut out = Vec::with_capacity(data.len());
        let mut kept = 0;
        for (o, (a, b)) in spans(&data).enumerate() {
            if keep(o) {
                out.extend_from_slice(&data[a..b]);
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

/// A list: its first node inline, so that a small list is one allocation beside its key,
/// and what a list of more than one node (or with a tail index) needs, boxed apart so that
/// a small list stays small: 48 bytes in all.
#[derive(Clone)]
pub(crate) struct ListObj {
    first: Node,
    /// `None` while the list is its first node alone, with no tail index; its length is
    /// then the node's count.
    more: Option<Box<More>>,
    /// `list-max-listpack-size` as clamped when the list was made.
    fill: i16,
    /// `list-compress-depth` as clamped when the list was made.
    depth: u16,
}

/// The nodes after the first, and the totals of a list that has them.
#[derive(Clone, Default)]
struct More {
    rest: VecDeque<Node>,
    /// The list's length (all nodes).
    len: usize,
    /// Byte total of the buffers of `rest`.
    rest_bytes: usize,
    /// How many nodes of `rest` are compressed.
    compressed: u32,
    /// Built by the first tail pop on a large last node; dropped whenever the last node is
    /// replaced or its buffer moves.
    tail: Option<TailIndex>,
}

/// The `rest` of a list that has none.
static NO_NODES: VecDeque<Node> = VecDeque::new();

impl ListObj {
    /// An empty list with these settings (clamped as Redis's quicklist does).
    pub(crate) fn new(fill: i64, depth: i64) -> Self {
        ListObj {
            first: Node::default(),
            more: None,
            fill: fill.clamp(-5, FILL_MAX) as i16,
            depth: depth.clamp(0, COMPRESS_MAX) as u16,
        }
    }

    /// A list of `elements`, head first, with these settings: each node is packed whole,
    /// cut where pushes at the tail would cut it, and the nodes deeper than `depth` are
    /// compressed, so the list is the one those pushes build, without their per-element
    /// bookkeeping.
    pub(crate) fn from_elements<'a>(
        fill: i64,
        depth: i64,
        elements: impl IntoIterator<Item = &'a [u8]>,
    ) -> Self {
        let mut list = ListObj::new(fill, depth);
        let mut nodes = Vec::new();
        // One buffer for every node's data, sized for a full node so it never regrows.
        let mut data = Vec::with_capacity(list.max_bytes());
        let mut count = 0u32;
        let mut len = 0usize;
        for v in elements {
            let e = encode(v);
            if !list.fits(data.len(), count, e.len()) {
                nodes.push(Node::with(&data, count as usize));
                data.clear();
                count = 0;
            }
            e.extend(&mut data);
            count += 1;
            len += 1;
        }
        if count > 0 {
            nodes.push(Node::with(&data, count as usize));
        }
        let mut nodes = nodes.into_iter();
        if let Some(first) = nodes.next() {
            list.first = first;
        }
        let rest: VecDeque<Node> = nodes.collect();
        if !rest.is_empty() {
            list.more = Some(Box::new(More {
                len,
                rest_bytes: rest.iter().map(Node::heap).sum(),
                rest,
                ..More::default()
            }));
        }
        let d = usize::from(list.depth);
        if d > 0 {
            for k in d..list.nodes().saturating_sub(d) {
                list.with_node(k, Node::compress);
            }
        }
        list
    }

    pub(crate) fn len(&self) -> usize {
        match &self.more {
            Some(m) => m.len,
            None => self.first.count as usize,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counts `n` elements more (added to a node already). A list that is its first node
    /// alone counts them in the node.
    fn grew(&mut self, n: usize) {
        if let Some(m) = &mut self.more {
            m.len += n;
        }
    }

    /// Counts `n` elements fewer (taken from a node already).
    fn shrank(&mut self, n: usize) {
        if let Some(m) = &mut self.more {
            m.len -= n;
        }
    }

    /// The part of a list beyond its first node, made when first needed: its length is
    /// then that of the first node and of `joining`, a node about to join it.
    fn more_mut(&mut self, joining: u32) -> &mut More {
        let len = self.first.count as usize + joining as usize;
        self.more.get_or_insert_with(|| {
            Box::new(More {
                len,
                ..More::default()
            })
        })
    }

    /// Drops the boxed part once the list is one node with no tail index again.
    fn tidy(&mut self) {
        if self
            .more
            .as_ref()
            .is_some_and(|m| m.rest.is_empty() && m.tail.is_none())
        {
            self.more = None;
        }
    }

    fn rest(&self) -> &VecDeque<Node> {
        self.more.as_ref().map_or(&NO_NODES, |m| &m.rest)
    }

    fn tail(&self) -> Option<&TailIndex> {
        self.more.as_ref().and_then(|m| m.tail.as_ref())
    }

    fn drop_tail(&mut self) {
        if let Some(m) = &mut self.more {
            m.tail = None;
        }
    }

    /// The list's layout as DEBUG OBJECT reports it: (nodes, packed bytes of all nodes,
    /// `list-max-listpack-size`, `list-compress-depth`). A compressed node counts its
    /// compressed bytes.
    pub(crate) fn layout(&self) -> (usize, usize, i64, u64) {
        let nodes = usize::from(self.first.count > 0) + self.rest().len();
        let bytes = self.first.buf.len() + self.rest().iter().map(|n| n.buf.len()).sum::<usize>();
        (nodes, bytes, i64::from(self.fill), u64::from(self.depth))
    }

    /// Heap bytes the list holds (allocator rounding included).
    pub(crate) fn heap_bytes(&self) -> usize {
        let more = self.more.as_ref().map_or(0, |m| {
            let tail = m.tail.as_ref().map_or(0, |t| alloc_size(t.capacity() * 4));
            alloc_size(std::mem::size_of::<More>())
                + m.rest_bytes
                + alloc_size(m.rest.capacity() * std::mem::size_of::<Node>())
                + tail
        });
        self.first.heap() + more
    }

    /// How many nodes are compressed.
    fn compressed_nodes(&self) -> u32 {
        u32::from(self.first.compressed) + self.more.as_ref().map_or(0, |m| m.compressed)
    }

    fn nodes(&self) -> usize {
        1 + self.rest().len()
    }

    fn node(&self, i: usize) -> &Node {
        match i {
            0 => &self.first,
            _ => &self.rest()[i - 1],
        }
    }

    /// Runs `f` on node `i`, keeping the byte total and compressed count right, and
    /// dropping the tail index if `f` moved the last node's buffer. (Every edit but a
    /// push or pop in place moves it; the push and pop paths keep the index current.)
    fn with_node<R>(&mut self, i: usize, f: impl FnOnce(&mut Node) -> R) -> R {
        let last = i + 1 == self.nodes();
        let (r, moved) = match (i, &mut self.more) {
            (0, _) | (_, None) => {
                let at = self.first.buf.as_ptr();
                let r = f(&mut self.first);
                (r, self.first.buf.as_ptr() != at)
            }
            (_, Some(m)) => {
                let node = &mut m.rest[i - 1];
                let (bytes, packed, at) = (node.heap(), node.compressed, node.buf.as_ptr());
                let r = f(node);
                m.rest_bytes = m.rest_bytes + node.heap() - bytes;
                m.compressed = m.compressed + u32::from(node.compressed) - u32::from(packed);
                (r, node.buf.as_ptr() != at)
            }
        };
        if last && moved {
            self.drop_tail();
            self.tidy();
        }
        r
    }

    fn insert_node(&mut self, i: usize, node: Node) {
        self.more_mut(node.count).tail = None;
        // Before the first, the new node takes its place and the first moves on.
        let node = match i {
            0 => std::mem::replace(&mut self.first, node),
            _ => node,
        };
        let m = self.more_mut(0);
        m.rest_bytes += node.heap();
        m.compressed += u32::from(node.compressed);
        m.rest.insert(i.saturating_sub(1), node);
    }

    fn remove_node(&mut self, i: usize) {
        let Some(m) = &mut self.more else {
            return;
        };
        m.tail = None;
        let gone = m.rest.remove(i.saturating_sub(1)).unwrap_or_default();
        m.rest_bytes -= gone.heap();
        m.compressed -= u32::from(gone.compressed);
        if i == 0 {
            // The second node becomes the first.
            self.first = gone;
        }
        if m.rest.capacity() > 8 && m.rest.len() * 4 < m.rest.capacity() {
            m.rest.shrink_to(m.rest.len() * 2);
        }
        self.tidy();
    }

    /// Most bytes a node may hold.
    fn max_bytes(&self) -> usize {
        match self.fill {
            f if f < 0 => 4096 << (-f - 1),
            _ => SIZE_SAFETY_LIMIT,
        }
    }

    /// Whether a node of `bytes` bytes and `count` elements is within the fill.
    fn within_limits(&self, bytes: usize, count: u32) -> bool {
        bytes <= self.max_bytes() && (self.fill < 0 || count <= self.fill as u32)
    }

    /// Whether a node of `bytes` bytes and `count` elements takes `more` bytes more in
    /// one more element (an empty node takes anything).
    fn fits(&self, bytes: usize, count: u32, more: usize) -> bool {
        count == 0 || self.within_limits(bytes + more, count + 1)
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
        if self.compressed_nodes() > 0 {
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
        if idx < self.len() / 2 {
            let mut before = 0;
            for i in 0..self.nodes() {
                let c = self.node(i).count as usize;
                if idx < before + c {
                    return (i, idx - before);
                }
                before += c;
            }
        } else {
            let mut after = self.len();
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
        self.push_encoded(end, &encode(v));
    }

    /// [`ListObj::push`] of an element already encoded.
    #[inline]
    fn push_encoded(&mut self, end: ListEnd, e: &Encoded<'_>) {
        let more = e.len();
        match end {
            ListEnd::Left => {
                if !self.node_fits(0, more) {
                    self.insert_node(0, Node::default());
                }
                if !self.first.push_front_in_place(e) {
                    self.with_node(0, |n| n.push_front_encoded(e));
                }
            }
            ListEnd::Right => {
                let last = self.nodes() - 1;
                if self.node_fits(last, more) {
                    let at = self.node(last).end;
                    let in_place = match (last, &mut self.more) {
                        (0, _) | (_, None) => self.first.push_back_in_place(e),
                        (_, Some(m)) => m.rest[last - 1].push_back_in_place(e),
                    };
                    if !in_place {
                        self.with_node(last, |n| n.push_back_encoded(e));
                    }
                    if let Some(tail) = self.more.as_mut().and_then(|m| m.tail.as_mut()) {
                        tail.push_back(at);
                    }
                } else {
                    self.insert_node(last + 1, Node::default());
                    self.with_node(last + 1, |n| n.push_back_encoded(e));
                }
            }
        }
        self.grew(1);
        self.settle();
    }

    pub(crate) fn pop(&mut self, end: ListEnd) -> Option<Bytes> {
        if self.is_empty() {
            return None;
        }
        let (i, out) = match end {
            ListEnd::Left => {
                let out = self.with_node(0, Node::pop_front);
                // Elements popped at the head of the last node leave the tail index.
                let start = self.first.start;
                if let Some(m) = self.more.as_mut().filter(|m| m.rest.is_empty())
                    && let Some(tail) = &mut m.tail
                {
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
        self.shrank(1);
        self.drop_if_empty(i);
        self.settle();
        Some(out)
    }

    /// Where the last element of the last node (`last`) starts, from the tail index,
    /// which is built when missing for a node large enough to be worth it.
    fn tail_pop_offset(&mut self, last: usize) -> Option<usize> {
        let node = self.node(last);
        if self.tail().is_none_or(VecDeque::is_empty) {
            if node.count < TAIL_INDEX_MIN {
                self.drop_tail();
                self.tidy();
                return None;
            }
            let mut index = TailIndex::with_capacity(node.count as usize);
            index.extend(spans(node.data()).map(|(a, _)| node.start + a as u32));
            self.more_mut(0).tail = Some(index);
        }
        self.more
            .as_mut()
            .and_then(|m| m.tail.as_mut())
            .and_then(VecDeque::pop_back)
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
        if idx >= self.len() {
            return None;
        }
        let (i, o) = self.locate(idx);
        let raw = self.node(i).raw();
        let off = offset_of(&raw, o);
        Some(element_at(&raw, off).0.to_bytes())
    }

    /// Replaces element `idx`; false if there is none.
    pub(crate) fn set(&mut self, idx: usize, v: &[u8]) -> bool {
        if idx >= self.len() {
            return false;
        }
        let (i, o) = self.locate(idx);
        self.with_node(i, Node::decompress);
        let node = self.node(i);
        let at = offset_of(node.data(), o);
        let rest = node.raw_len() - (skip(node.data(), at) - at);
        let e = encode(v);
        if node.count == 1 || self.fits(rest, node.count - 1, e.len()) {
            self.with_node(i, |n| n.splice(o, 1, Some(&e)));
            self.recompress(i);
            self.settle();
        } else {
            self.remove_range(idx, idx + 1);
            self.insert_encoded(idx, &e);
        }
        true
    }

    /// Inserts `v` before element `idx` (`idx == len` appends).
    pub(crate) fn insert(&mut self, idx: usize, v: &[u8]) {
        self.insert_encoded(idx, &encode(v));
    }

    /// [`ListObj::insert`] of an element already encoded.
    fn insert_encoded(&mut self, idx: usize, e: &Encoded<'_>) {
        if idx == 0 || idx >= self.len() {
            let end = if idx == 0 {
                ListEnd::Left
            } else {
                ListEnd::Right
            };
            return self.push_encoded(end, e);
        }
        let more = e.len();
        let (i, o) = self.locate(idx);
        self.with_node(i, Node::decompress);
        if self.node_fits(i, more) {
            self.with_node(i, |n| n.splice(o, 0, Some(e)));
            self.recompress(i);
        } else if o == 0 && self.node_fits(i - 1, more) {
            // The element goes at the boundary: the previous node has room for it.
            self.with_node(i - 1, |n| {
                n.decompress();
                n.push_back_encoded(e);
            });
            self.recompress(i - 1);
            self.recompress(i);
        } else {
            // Split the full node at the insertion point; the element joins whichever
            // half has room, or a node of its own between them.
            let right = self.with_node(i, |n| n.split_off(o));
            self.insert_node(i + 1, right);
            if self.node_fits(i, more) {
                self.with_node(i, |n| n.push_back_encoded(e));
            } else if self.node_fits(i + 1, more) {
                self.with_node(i + 1, |n| n.push_front_encoded(e));
            } else {
                self.insert_node(i + 1, Node::with(&[], 0));
                self.with_node(i + 1, |n| n.push_back_encoded(e));
            }
            for k in i..(i + 3).min(self.nodes()) {
                self.recompress(k);
            }
            // As Redis does after a split: join neighbours that now fit in one node, the
            // highest pair first so that the lower indexes stay put.
            for k in (i.saturating_sub(1)..i + 3).rev() {
                self.try_merge(k);
            }
        }
        self.grew(1);
        self.settle();
    }

    /// Joins nodes `k` and `k + 1` if their elements fit in one node.
    fn try_merge(&mut self, k: usize) {
        if k + 1 >= self.nodes() {
            return;
        }
        let (a, b) = (self.node(k), self.node(k + 1));
        let bytes = a.raw_len() + b.raw_len();
        let count = a.count + b.count;
        if !self.within_limits(bytes, count) {
            return;
        }
        let mut data = a.raw().into_owned();
        data.extend_from_slice(&b.raw());
        self.with_node(k, |n| n.set_raw(&data, count as usize));
        self.remove_node(k + 1);
        self.recompress(k);
    }

    /// Copies of the elements `start..end`.
    ///
    /// The strings of each node are copied out in one allocation that they share.
    pub(crate) fn range(&self, start: usize, end: usize) -> Vec<Bytes> {
        let end = end.min(self.len());
        if start >= end {
            return Vec::new();
        }
        let want = end - start;
        let mut out = Vec::with_capacity(want);
        let (mut i, mut o) = self.locate(start);
        while out.len() < want && i < self.nodes() {
            let raw = self.node(i).raw();
            let from = offset_of(&raw, o);
            let (mut to, mut n) = (from, 0);
            while to < raw.len() && out.len() + n < want {
                to = skip(&raw, to);
                n += 1;
            }
            let chunk = Bytes::copy_from_slice(&raw[from..to]);
            let mut off = from;
            for _ in 0..n {
                let (v, next) = element_at(&raw, off);
                out.push(match v {
                    Elem::Str(b) => chunk.slice(next - b.len() - from..next - from),
                    Elem::Int(_) => v.to_bytes(),
                });
                off = next;
            }
            i += 1;
            o = 0;
        }
        out
    }

    /// Calls `f` with each element of `start..end` in order, an integer as its decimal
    /// text, without copying (the range of [`ListObj::range`], unclamped `end` included).
    pub(crate) fn for_each_in(&self, start: usize, end: usize, mut f: impl FnMut(&[u8])) {
        let mut left = end.min(self.len()).saturating_sub(start);
        if left == 0 {
            return;
        }
        let (first, o) = self.locate(start);
        for i in first..self.nodes() {
            let raw = self.node(i).raw();
            let mut off = if i == first { offset_of(&raw, o) } else { 0 };
            while left > 0 && off < raw.len() {
                let (v, next) = element_at(&raw, off);
                match v {
                    Elem::Str(b) => f(b),
                    Elem::Int(n) => f(crate::codec::format_i64(n, &mut [0; 20])),
                }
                off = next;
                left -= 1;
            }
            if left == 0 {
                return;
            }
        }
    }

    /// Hands `f` the index of each element, from the head (or from the tail), with whether
    /// it equals `v`, until `f` returns false. Elements are compared in their encoded
    /// form, which is unique to each value.
    pub(crate) fn scan_matches(
        &self,
        v: &[u8],
        from_tail: bool,
        mut f: impl FnMut(usize, bool) -> bool,
    ) {
        let probe = encode(v).to_vec();
        if from_tail {
            let mut idx = self.len();
            for i in (0..self.nodes()).rev() {
                let raw = self.node(i).raw();
                let all: Vec<_> = spans(&raw).collect();
                for (a, b) in all.into_iter().rev() {
                    idx -= 1;
                    if !f(idx, raw[a..b] == probe[..]) {
                        return;
                    }
                }
            }
        } else {
            let mut idx = 0;
            for i in 0..self.nodes() {
                let raw = self.node(i).raw();
                for (a, b) in spans(&raw) {
                    if !f(idx, raw[a..b] == probe[..]) {
                        return;
                    }
                    idx += 1;
                }
            }
        }
    }

    /// Removes the elements `start..end`, dropping whole nodes where it can.
    fn remove_range(&mut self, start: usize, end: usize) {
        let end = end.min(self.len());
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
                self.with_node(i, |n| n.splice(lo - before, hi - lo, None));
                self.recompress(i);
                i += 1;
            }
            // `start..end` and `before` count positions as they were before any removal.
            before += c;
            self.shrank(hi - lo);
        }
        self.settle();
    }

    /// Keeps only the elements `start..end`.
    pub(crate) fn trim(&mut self, start: usize, end: usize) {
        let end = end.min(self.len());
        let start = start.min(end);
        self.remove_range(end, self.len());
        self.remove_range(0, start);
    }

    /// Removes up to `limit` (0: all) elements equal to `v`, searching from the head (or
    /// from the tail); how many it removed.
    pub(crate) fn remove_matches(&mut self, v: &[u8], limit: usize, from_tail: bool) -> usize {
        let mut doomed = Vec::new();
        self.scan_matches(v, from_tail, |i, matched| {
            if matched {
                doomed.push(i);
            }
            limit == 0 || doomed.len() < limit
        });
        if doomed.is_empty() {
            return 0;
        }
        if from_tail {
            // Found from the tail, so in descending order.
            doomed.reverse();
        }
        let mut next = doomed.iter().copied().peekable();
        let (mut i, mut before) = (0, 0);
        while i < self.nodes() {
            let c = self.node(i).count as usize;
            if next.peek().is_some_and(|&d| d < before + c) {
                let gone = self.with_node(i, |n| {
                    n.retain(|o| next.next_if_eq(&(before + o)).is_none())
                });
                self.shrank(gone);
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
        self.range(0, self.len())
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
            let mut found = 0;
            for (a, b) in spans(&raw) {
                found += 1;
                let value = element_at(&raw, a).0.to_bytes();
                if b > raw.len() || encode(&value).to_vec() != raw[a..b] {
                    return Err(format!(
                        "node {i}: element at {a} is not encoded as its value"
                    ));
                }
            }
            if found != node.count as usize {
                return Err(format!("node {i} counts {}, holds {found}", node.count));
            }
            if node.count == 0 && n > 1 {
                return Err(format!("empty node {i} of {n}"));
            }
            if node.count > 1 && !self.within_limits(raw.len(), node.count) {
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
        if len != self.len() {
            return Err(format!("list length {}, nodes hold {len}", self.len()));
        }
        if let Some(tail) = self.tail() {
            let node = self.node(n - 1);
            let starts: Vec<u32> = spans(node.data())
                .map(|(a, _)| node.start + a as u32)
                .collect();
            if !starts.ends_with(&tail.iter().copied().collect::<Vec<_>>()) {
                return Err(format!(
                    "tail index {tail:?} is not where the last node's last elements start \
                     ({starts:?})"
                ));
            }
        }
        let counted = (
            self.first.heap() + self.more.as_ref().map_or(0, |m| m.rest_bytes),
            self.compressed_nodes(),
        );
        if (bytes, packed) != counted {
            return Err(format!(
                "node bytes and compressed nodes counted {counted:?}, recomputed {:?}",
                (bytes, packed)
            ));
        }
        if self
            .more
            .as_ref()
            .is_some_and(|m| m.rest.is_empty() && m.tail.is_none())
        {
            return Err("a one-node list keeps its boxed part".into());
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
    fn built_whole_is_built_as_pushes_build() {
        for (fill, depth) in [(-2, 0), (-1, 1), (5, 0), (3, 2), (128, 1), (-5, 3)] {
            for (n, size) in [(0, 8), (1, 8), (7, 8), (600, 9), (300, 100), (50, 5000)] {
                let pushed = filled(fill, depth, n, size);
                let values: Vec<Vec<u8>> = (0..n)
                    .map(|i| {
                        let mut v = format!("{i:08}").into_bytes();
                        v.resize(size.max(8), b'z');
                        v
                    })
                    .collect();
                let built = ListObj::from_elements(fill, depth, values.iter().map(|v| &v[..]));
                built.check().expect("consistent");
                assert_eq!(built.to_vec(), pushed.to_vec(), "{fill} {depth} {n} {size}");
                assert_eq!(built.len(), n);
                assert_eq!(built.nodes(), pushed.nodes(), "{fill} {depth} {n} {size}");
                assert_eq!(
                    built.compressed_nodes(),
                    pushed.compressed_nodes(),
                    "{fill} {depth} {n} {size}"
                );
            }
        }
    }

    #[test]
    fn elements_round_trip_through_their_encoding() {
        let mut values: Vec<Vec<u8>> = [
            0i64,
            1,
            9,
            10,
            -1,
            127,
            128,
            -128,
            -129,
            32767,
            1 << 40,
            i64::MAX,
            i64::MIN,
        ]
        .iter()
        .map(|n| n.to_string().into_bytes())
        .collect();
        for s in [
            "",
            "x",
            "007",
            "-0",
            "+1",
            "1.0",
            " 1",
            "18446744073709551616",
        ] {
            values.push(s.as_bytes().to_vec());
        }
        for n in [239, 240, 65535, 65536] {
            values.push(vec![b'v'; n]);
        }
        for v in &values {
            let e = super::encode(v).to_vec();
            let (back, next) = super::element_at(&e, 0);
            assert_eq!((&back.to_bytes()[..], next), (&v[..], e.len()), "{v:?}");
            assert_eq!(super::skip(&e, 0), e.len());
        }
        // Integers take fewer bytes than their digits; short strings one byte more.
        assert_eq!(super::encode(b"1234567890").len(), 5);
        assert_eq!(super::encode(b"-9223372036854775808").len(), 9);
        assert_eq!(super::encode(b"5").len(), 2);
        assert_eq!(super::encode(b"abcdefghij").len(), 11);
        assert_eq!(super::encode(&[b'v'; 239]).len(), 240);
        assert_eq!(super::encode(&[b'v'; 240]).len(), 243);
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
        assert_eq!((l.nodes(), l.rest().capacity()), (1, 0));
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
    fn insertions_that_split_nodes_merge_neighbours_that_fit() {
        // Nodes [0 1 2 3] [4]: inserting before 3 splits the full first node into
        // [0 1 2 new] [3], and [3] then joins [4].
        let mut l = filled(4, 0, 5, 10);
        assert_eq!(l.nodes(), 2);
        l.insert(3, b"new");
        l.check().expect("consistent");
        assert_eq!((l.nodes(), l.node(0).count, l.node(1).count), (2, 4, 2));
        assert_eq!(&l.get(3).expect("in range")[..], b"new");
        assert_eq!(&l.get(4).expect("in range")[..8], b"00000003");
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
            indexed += usize::from(l.tail().is_some_and(|t| !t.is_empty()));
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
    fn ranges_read_in_place_match_copied_ranges() {
        // Small nodes, compressed interiors, and integers stored in integer form.
        let mut l = ListObj::new(3, 1);
        for i in 0..40 {
            let v = if i % 3 == 0 {
                format!("{}", i * 1000 - 7000)
            } else {
                format!("value {i:>4} aaaaaaaaaaaaaaaaaaaaaaaa")
            };
            l.push(ListEnd::Right, v.as_bytes());
        }
        assert!(l.compressed_nodes() > 0);
        for start in 0..42 {
            for end in start..44 {
                let mut seen = Vec::new();
                l.for_each_in(start, end, |e| seen.push(bytes::Bytes::copy_from_slice(e)));
                assert_eq!(seen, l.range(start, end), "{start}..{end}");
            }
        }
    }

    #[test]
    fn interior_nodes_compress_and_come_back_at_the_ends() {
        let mut l = filled(-1, 1, 1000, 100);
        let n = l.nodes();
        assert_eq!(l.compressed_nodes() as usize, n - 2);
        let plain = filled(-1, 0, 1000, 100);
        assert!(l.heap_bytes() * 3 < plain.heap_bytes());
        // Popping a whole node brings the next one within the depth, uncompressed.
        for _ in 0..100 {
            l.pop(ListEnd::Left);
        }
        l.check().expect("consistent");
        assert_eq!(l.compressed_nodes() as usize, l.nodes() - 2);
        assert_eq!(&l.get(500).expect("in range")[..8], b"00000600");
        assert!(l.set(500, b"edited"));
        l.insert(300, b"inserted");
        l.check().expect("consistent");
        assert_eq!(&l.get(501).expect("in range")[..], b"edited".as_slice());
        assert_eq!(&l.get(300).expect("in range")[..], b"inserted".as_slice());
        l.trim(10, 20);
        l.check().expect("consistent");
        assert_eq!(l.compressed_nodes(), 0);
    }
}
