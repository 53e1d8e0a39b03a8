//! The set value: an integer set, a small packed set, or a hash table, as Redis 7.2 keeps
//! sets.
//!
//! - **intset**: while every member is a canonical integer (`string2ll`) and there are at
//!   most `set-max-intset-entries` of them, a plain sorted `Vec<i64>` (binary search; eight
//!   bytes a member, where Redis's intset would use the narrowest width that fits).
//! - **listpack**: up to `set-max-listpack-entries` members of at most
//!   `set-max-listpack-value` bytes each, in insertion order in one allocation of
//!   length-prefixed members (`[length: LEB128][bytes]`), searched linearly.
//! - **hashtable**: the store's own [`Table`] of boxed members, 16 bytes a slot.
//!
//! Conversions only go "up", as Redis never converts a set back: an intset that gets a
//! non-integer member becomes a listpack if the result fits the listpack limits (else a
//! hash table), and one that outgrows `set-max-intset-entries` becomes a hash table; a
//! listpack that outgrows its limits becomes a hash table.

use ahash::RandomState;

use crate::codec::{canonical_i64, format_i64, read_varint, varint_len, write_varint};
use crate::memory::{alloc_size, usable_size};
use crate::table::{Slot, Table};

/// Default `set-max-intset-entries`.
pub const DEFAULT_SET_MAX_INTSET_ENTRIES: usize = 512;
/// Default `set-max-listpack-entries`.
pub const DEFAULT_SET_MAX_LISTPACK_ENTRIES: usize = 128;
/// Default `set-max-listpack-value`.
pub const DEFAULT_SET_MAX_LISTPACK_VALUE: usize = 64;

/// The limits an insertion checks, and the hasher a hash table is made with.
#[derive(Clone)]
pub(crate) struct SetLimits {
    pub(crate) intset_entries: usize,
    pub(crate) listpack_entries: usize,
    pub(crate) listpack_value: usize,
    pub(crate) hasher: RandomState,
}

/// A member of a hash-table set.
#[derive(Default, Clone)]
pub(crate) struct Member(pub(crate) Box<[u8]>);

impl Slot for Member {
    fn key(&self) -> &[u8] {
        &self.0
    }

    fn heap(&self) -> *const u8 {
        self.0.as_ptr()
    }
}

/// The packed small set: members one after another, each with its length before it.
#[derive(Default, Clone)]
pub(crate) struct Packed {
    buf: Vec<u8>,
    len: usize,
}

/// Makes room for `additional` more items, growing only to the allocator's size class of
/// what is needed, as Redis sizes an intset or listpack exactly: no doubling slack.
fn reserve_in_class<T>(v: &mut Vec<T>, additional: usize) {
    let needed = v.len() + additional;
    if needed > v.capacity() {
        let size = std::mem::size_of::<T>().max(1);
        let cap = (usable_size(needed * size) / size).max(needed);
        v.reserve_exact(cap - v.len());
    }
}

impl Packed {
    /// Each member with the byte range of its record (length prefix included).
    fn records(&self) -> impl Iterator<Item = (usize, usize, &[u8])> {
        let mut at = 0;
        std::iter::from_fn(move || {
            if at >= self.buf.len() {
                return None;
            }
            let (n, w) = read_varint(&self.buf[at..]);
            let start = at;
            let end = (at + w + n).min(self.buf.len());
            at = end;
            Some((start, end, &self.buf[start + w..end]))
        })
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.records().map(|(_, _, m)| m)
    }

    fn find(&self, member: &[u8]) -> Option<(usize, usize)> {
        self.records()
            .find(|(_, _, m)| *m == member)
            .map(|(s, e, _)| (s, e))
    }

    fn push(&mut self, member: &[u8]) {
        reserve_in_class(&mut self.buf, 10 + member.len());
        write_varint(&mut self.buf, member.len());
        self.buf.extend_from_slice(member);
        self.len += 1;
    }

    fn remove_range(&mut self, start: usize, end: usize) {
        self.buf.drain(start..end);
        self.len -= 1;
        if self.buf.capacity() > 2 * self.buf.len() + 64 {
            self.buf.shrink_to_fit();
        }
    }

    fn nth(&self, i: usize) -> Option<&[u8]> {
        self.iter().nth(i)
    }
}

/// A set value; see the module docs.
pub(crate) enum SetObj {
    /// Sorted, distinct integers.
    Ints(Vec<i64>),
    /// Members in insertion order, packed.
    Packed(Packed),
    /// A hash table of members, boxed so that the compact encodings stay small.
    Table(Box<MemberTable>),
    /// A hash table of integers, 8 bytes a slot with no allocation per member: an intset
    /// grown past `set-max-intset-entries` (Redis's hash table, reported as one).
    IntTable(Box<Table<IntMember, ()>>),
}

/// An integer member of an [`SetObj::IntTable`]: its little-endian bytes, as its key.
#[derive(Default, Clone, Copy)]
pub(crate) struct IntMember([u8; 8]);

impl IntMember {
    fn get(self) -> i64 {
        i64::from_le_bytes(self.0)
    }
}

impl Slot for IntMember {
    fn key(&self) -> &[u8] {
        &self.0
    }
}

/// Where an integer member is in an [`SetObj::IntTable`].
fn find_int(t: &Table<IntMember, ()>, n: i64) -> Option<usize> {
    let key = n.to_le_bytes();
    t.find(t.hash(&key), &key)
}

/// A big set's table, to walk by cursor or to pick from at random.
#[derive(Clone, Copy)]
pub(crate) enum SetTable<'a> {
    Members(&'a Table<Member, ()>),
    Ints(&'a Table<IntMember, ()>),
}

impl SetTable<'_> {
    /// [`Table::scan_from`] over the set's members, an integer as its decimal text.
    pub(crate) fn scan_from(
        self,
        cursor: u64,
        count: usize,
        mut keep: impl FnMut(&[u8]) -> bool,
    ) -> u64 {
        match self {
            SetTable::Members(t) => t.scan_from(cursor, count, |m| keep(&m.0)),
            SetTable::Ints(t) => {
                let mut buf = [0; 20];
                t.scan_from(cursor, count, |m| keep(format_i64(m.get(), &mut buf)))
            }
        }
    }

    /// Calls `f` with the member in slot `i` (an integer as its decimal text in `buf`).
    pub(crate) fn with_member<R>(
        self,
        i: usize,
        buf: &mut [u8; 20],
        f: impl FnOnce(&[u8]) -> R,
    ) -> R {
        match self {
            SetTable::Members(t) => f(&t.get(i).0),
            SetTable::Ints(t) => f(format_i64(t.get(i).get(), buf)),
        }
    }

    /// A uniformly random occupied slot.
    pub(crate) fn random_slot(self, rnd: impl FnMut() -> u64) -> Option<usize> {
        match self {
            SetTable::Members(t) => t.random_slot(rnd),
            SetTable::Ints(t) => t.random_slot(rnd),
        }
    }
}

/// The members of a set past the compact encodings' limits.
pub(crate) struct MemberTable {
    members: Table<Member, ()>,
    /// The sum of the members' allocations.
    bytes: usize,
}

/// An owned copy of a member: an integer of an intset, or bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MemberBuf {
    Int(i64),
    Bytes(Vec<u8>),
}

impl MemberBuf {
    /// The member's bytes, an integer as its decimal text in `buf`.
    pub(crate) fn as_slice<'a>(&'a self, buf: &'a mut [u8; 20]) -> &'a [u8] {
        match self {
            MemberBuf::Int(n) => format_i64(*n, buf),
            MemberBuf::Bytes(b) => b,
        }
    }

    pub(crate) fn to_bytes(&self) -> bytes::Bytes {
        match self {
            MemberBuf::Int(n) => bytes::Bytes::copy_from_slice(format_i64(*n, &mut [0; 20])),
            MemberBuf::Bytes(b) => bytes::Bytes::copy_from_slice(b),
        }
    }
}

impl MemberTable {
    /// Checks the table and the byte total of its members.
    pub(crate) fn check(&self) -> Result<(), String> {
        self.members.check()?;
        let bytes: usize = self
            .members
            .iter()
            .map(|(_, m)| alloc_size(m.0.len()))
            .sum();
        if bytes != self.bytes {
            return Err(format!(
                "member bytes counted {}, recomputed {bytes}",
                self.bytes
            ));
        }
        Ok(())
    }
}

impl SetObj {
    /// An empty set: an intset until a member calls for another encoding.
    pub(crate) fn new() -> SetObj {
        SetObj::Ints(Vec::new())
    }

    /// How many members it holds.
    pub(crate) fn len(&self) -> usize {
        match self {
            SetObj::Ints(v) => v.len(),
            SetObj::Packed(p) => p.len,
            SetObj::Table(t) => t.members.len(),
            SetObj::IntTable(t) => t.len(),
        }
    }

    /// Whether it holds none.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `member` is in it.
    pub(crate) fn contains(&self, member: &[u8]) -> bool {
        match self {
            SetObj::Ints(v) => canonical_i64(member).is_some_and(|n| v.binary_search(&n).is_ok()),
            SetObj::Packed(p) => p.find(member).is_some(),
            SetObj::Table(t) => t.members.find(t.members.hash(member), member).is_some(),
            SetObj::IntTable(t) => canonical_i64(member).is_some_and(|n| find_int(t, n).is_some()),
        }
    }

    /// Calls `f` with every member, an integer as its decimal text.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&[u8])) {
        match self {
            SetObj::Ints(v) => {
                let mut buf = [0; 20];
                for &n in v {
                    f(format_i64(n, &mut buf));
                }
            }
            SetObj::Packed(p) => p.iter().for_each(f),
            SetObj::Table(t) => t.members.iter().for_each(|(_, m)| f(&m.0)),
            SetObj::IntTable(t) => {
                let mut buf = [0; 20];
                for (_, m) in t.iter() {
                    f(format_i64(m.get(), &mut buf));
                }
            }
        }
    }

    /// Every member, copied.
    pub(crate) fn members(&self) -> Vec<bytes::Bytes> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|m| out.push(bytes::Bytes::copy_from_slice(m)));
        out
    }

    /// The encoding OBJECT ENCODING reports.
    pub(crate) fn encoding(&self) -> &'static str {
        match self {
            SetObj::Ints(_) => "intset",
            SetObj::Packed(_) => "listpack",
            SetObj::Table(_) | SetObj::IntTable(_) => "hashtable",
        }
    }

    /// Adds `member`; true if it was new. Converts the encoding first when the new member
    /// does not fit it.
    pub(crate) fn add(&mut self, member: &[u8], limits: &SetLimits) -> bool {
        if let SetObj::Table(t) = self {
            let MemberTable { members, bytes } = &mut **t;
            // The common case for big sets: one hash, one probe.
            let h = members.hash(member);
            if members.find(h, member).is_some() {
                return false;
            }
            *bytes += alloc_size(member.len());
            members.insert_new(h, Member(member.into()), ());
            return true;
        }
        if let SetObj::IntTable(t) = self
            && let Some(n) = canonical_i64(member)
        {
            if find_int(t, n).is_some() {
                return false;
            }
            let key = n.to_le_bytes();
            let h = t.hash(&key);
            t.insert_new(h, IntMember(key), ());
            return true;
        }
        if self.contains(member) {
            return false;
        }
        let len = self.len();
        match self {
            SetObj::Ints(v) => match canonical_i64(member) {
                Some(n) if len < limits.intset_entries => {
                    if let Err(at) = v.binary_search(&n) {
                        reserve_in_class(v, 1);
                        v.insert(at, n);
                    }
                    return true;
                }
                Some(_) => self.convert_to_int_table(limits),
                None => {
                    // The integers too must fit as listpack members.
                    let widest = v.iter().map(|n| decimal_len(*n)).max().unwrap_or(0);
                    if len < limits.listpack_entries
                        && member.len().max(widest) <= limits.listpack_value
                    {
                        self.convert_to_packed();
                    } else {
                        self.convert_to_table(limits);
                    }
                }
            },
            SetObj::Packed(_) => {
                if len >= limits.listpack_entries || member.len() > limits.listpack_value {
                    self.convert_to_table(limits);
                }
            }
            // A member that is not an integer.
            SetObj::IntTable(_) => self.convert_to_table(limits),
            SetObj::Table(_) => {}
        }
        match self {
            SetObj::Ints(_) => false, // converted above: never reached
            SetObj::Packed(p) => {
                p.push(member);
                true
            }
            SetObj::Table(t) => {
                let MemberTable { members, bytes } = &mut **t;
                let h = members.hash(member);
                *bytes += alloc_size(member.len());
                members.insert_new(h, Member(member.into()), ());
                true
            }
            SetObj::IntTable(t) => {
                // Only an integer lands here (anything else converted above).
                let Some(n) = canonical_i64(member) else {
                    return false;
                };
                let key = n.to_le_bytes();
                let h = t.hash(&key);
                t.insert_new(h, IntMember(key), ());
                true
            }
        }
    }

    /// Removes `member`; true if it was there.
    pub(crate) fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            SetObj::Ints(v) => match canonical_i64(member).map(|n| v.binary_search(&n)) {
                Some(Ok(at)) => {
                    v.remove(at);
                    if v.capacity() > 2 * v.len() + 8 {
                        v.shrink_to_fit();
                    }
                    true
                }
                _ => false,
            },
            SetObj::Packed(p) => match p.find(member) {
                Some((s, e)) => {
                    p.remove_range(s, e);
                    true
                }
                None => false,
            },
            SetObj::Table(t) => match t.members.find(t.members.hash(member), member) {
                Some(i) => {
                    let (m, ()) = t.members.remove_at(i);
                    t.bytes -= alloc_size(m.0.len());
                    true
                }
                None => false,
            },
            SetObj::IntTable(t) => match canonical_i64(member).and_then(|n| find_int(t, n)) {
                Some(i) => {
                    t.remove_at(i);
                    true
                }
                None => false,
            },
        }
    }

    /// Removes the member at a uniformly random position and returns it (an integer as its
    /// decimal text), or `None` when empty. A hash table's member is taken from its slot as
    /// it is, without looking it up again or copying it.
    pub(crate) fn pop_random(&mut self, mut rnd: impl FnMut() -> u64) -> Option<bytes::Bytes> {
        match self {
            SetObj::Table(t) => {
                let i = t.members.random_slot(rnd)?;
                let (m, ()) = t.members.remove_at(i);
                t.bytes -= alloc_size(m.0.len());
                Some(bytes::Bytes::from(m.0))
            }
            SetObj::IntTable(t) => {
                let i = t.random_slot(rnd)?;
                let (m, ()) = t.remove_at(i);
                Some(MemberBuf::Int(m.get()).to_bytes())
            }
            SetObj::Ints(_) | SetObj::Packed(_) => {
                let m = self.random(&mut rnd)?.to_bytes();
                self.remove(&m);
                Some(m)
            }
        }
    }

    /// The member at a uniformly random position, or `None` when empty.
    pub(crate) fn random(&self, mut rnd: impl FnMut() -> u64) -> Option<MemberBuf> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        match self {
            SetObj::Ints(v) => Some(MemberBuf::Int(v[(rnd() % len as u64) as usize])),
            SetObj::Packed(p) => p
                .nth((rnd() % len as u64) as usize)
                .map(|m| MemberBuf::Bytes(m.to_vec())),
            SetObj::Table(t) => t
                .members
                .random_slot(rnd)
                .map(|i| MemberBuf::Bytes(t.members.get(i).0.to_vec())),
            SetObj::IntTable(t) => t.random_slot(rnd).map(|i| MemberBuf::Int(t.get(i).get())),
        }
    }

    /// Every member as an owned value (integers stay integers).
    pub(crate) fn member_bufs(&self) -> Vec<MemberBuf> {
        match self {
            SetObj::Ints(v) => v.iter().map(|&n| MemberBuf::Int(n)).collect(),
            SetObj::Packed(p) => p.iter().map(|m| MemberBuf::Bytes(m.to_vec())).collect(),
            SetObj::Table(t) => t
                .members
                .iter()
                .map(|(_, m)| MemberBuf::Bytes(m.0.to_vec()))
                .collect(),
            SetObj::IntTable(t) => t.iter().map(|(_, m)| MemberBuf::Int(m.get())).collect(),
        }
    }

    /// The hash table, for a cursor walk; `None` for the compact encodings.
    pub(crate) fn table(&self) -> Option<SetTable<'_>> {
        match self {
            SetObj::Table(t) => Some(SetTable::Members(&t.members)),
            SetObj::IntTable(t) => Some(SetTable::Ints(t)),
            SetObj::Ints(_) | SetObj::Packed(_) => None,
        }
    }

    /// Makes an intset a table of integers.
    fn convert_to_int_table(&mut self, limits: &SetLimits) {
        if let SetObj::Ints(v) = self {
            let mut t = Table::new(limits.hasher.clone(), 0);
            for n in v.iter() {
                let key = n.to_le_bytes();
                let h = t.hash(&key);
                t.insert_new(h, IntMember(key), ());
            }
            *self = SetObj::IntTable(Box::new(t));
        }
    }

    fn convert_to_packed(&mut self) {
        let mut p = Packed::default();
        self.for_each(|m| p.push(m));
        *self = SetObj::Packed(p);
    }

    fn convert_to_table(&mut self, limits: &SetLimits) {
        let mut members = Table::new(limits.hasher.clone(), 0);
        let mut bytes = 0;
        self.for_each(|m| {
            let h = members.hash(m);
            bytes += alloc_size(m.len());
            members.insert_new(h, Member(m.into()), ());
        });
        *self = SetObj::Table(Box::new(MemberTable { members, bytes }));
    }

    /// Heap bytes the value holds (allocator rounding included).
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            SetObj::Ints(v) => alloc_size(v.capacity() * 8),
            SetObj::Packed(p) => alloc_size(p.buf.capacity()),
            SetObj::Table(t) => {
                alloc_size(std::mem::size_of::<MemberTable>())
                    + alloc_size(t.members.array_bytes())
                    + t.bytes
            }
            SetObj::IntTable(t) => {
                alloc_size(std::mem::size_of::<Table<IntMember, ()>>())
                    + alloc_size(t.array_bytes())
            }
        }
    }

    /// A copy (COPY), in the same encoding.
    pub(crate) fn duplicate(&self) -> SetObj {
        match self {
            SetObj::Ints(v) => SetObj::Ints(v.clone()),
            SetObj::Packed(p) => SetObj::Packed(p.clone()),
            SetObj::Table(t) => {
                let mut members = Table::new(t.members.hasher().clone(), 0);
                for (_, m) in t.members.iter() {
                    let h = members.hash(&m.0);
                    members.insert_new(h, m.clone(), ());
                }
                SetObj::Table(Box::new(MemberTable {
                    members,
                    bytes: t.bytes,
                }))
            }
            SetObj::IntTable(t) => {
                let mut copy = Table::new(t.hasher().clone(), 0);
                for (_, &m) in t.iter() {
                    let h = copy.hash(&m.0);
                    copy.insert_new(h, m, ());
                }
                SetObj::IntTable(Box::new(copy))
            }
        }
    }
}

/// The first byte of a packed set: which compact encoding follows.
const PACKED_INTS: u8 = 0;
const PACKED_MEMBERS: u8 = 1;

/// The narrowest of Redis's intset widths (2, 4 or 8 bytes) that holds every one of `v`
/// (sorted).
fn int_width(v: &[i64]) -> usize {
    let (lo, hi) = (
        v.first().copied().unwrap_or(0),
        v.last().copied().unwrap_or(0),
    );
    if i16::try_from(lo).is_ok() && i16::try_from(hi).is_ok() {
        2
    } else if i32::try_from(lo).is_ok() && i32::try_from(hi).is_ok() {
        4
    } else {
        8
    }
}

/// A packed intset's integers, read in place.
pub(crate) struct PackedInts<'a> {
    ints: &'a [u8],
    width: usize,
    len: usize,
}

impl<'a> PackedInts<'a> {
    fn of(value: &'a [u8]) -> Self {
        let width = usize::from(value.get(1).copied().unwrap_or(8)).clamp(1, 8);
        let (len, n) = read_varint(value.get(2..).unwrap_or_default());
        let ints = value.get(2 + n..).unwrap_or_default();
        PackedInts {
            ints,
            width,
            len: len.min(ints.len() / width),
        }
    }

    /// Integer `i` (below `len`).
    fn get(&self, i: usize) -> i64 {
        let mut b = [0u8; 8];
        b[..self.width].copy_from_slice(&self.ints[i * self.width..(i + 1) * self.width]);
        // Sign-extend from the width's top bit.
        let shift = 64 - 8 * self.width as u32;
        (i64::from_le_bytes(b) << shift) >> shift
    }
}

/// Whether the packed set `value` holds `member`, read in place: a binary search of an
/// intset, a walk of a listpack (SISMEMBER and SMISMEMBER copy nothing).
pub(crate) fn packed_contains(value: &[u8], member: &[u8]) -> bool {
    if value.first() == Some(&PACKED_MEMBERS) {
        let (len, n) = read_varint(&value[1..]);
        let mut at = 1 + n;
        for _ in 0..len {
            let (mlen, w) = read_varint(value.get(at..).unwrap_or_default());
            let end = (at + w + mlen).min(value.len());
            if value.get(at + w..end) == Some(member) {
                return true;
            }
            at = end;
        }
        return false;
    }
    let Some(n) = canonical_i64(member) else {
        return false;
    };
    let ints = PackedInts::of(value);
    let (mut lo, mut hi) = (0, ints.len);
    while lo < hi {
        let mid = usize::midpoint(lo, hi);
        match ints.get(mid).cmp(&n) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// A set read in place: the packed bytes of a small set, or a boxed set. Reads (SMEMBERS,
/// SRANDMEMBER, the set algebra, SSCAN) go through it, so that a packed set is never
/// copied out to be read.
#[derive(Clone, Copy)]
pub(crate) enum SetRef<'a> {
    /// A packed value (see [`SetObj::pack`]).
    Packed(&'a [u8]),
    /// A boxed set.
    Obj(&'a SetObj),
}

/// A packed listpack's members, read in place.
fn packed_members(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let (len, n) = read_varint(value.get(1..).unwrap_or_default());
    let mut at = 1 + n;
    (0..len).map_while(move |_| {
        let (mlen, w) = read_varint(value.get(at..)?);
        let end = (at + w + mlen).min(value.len());
        let m = value.get(at + w..end)?;
        at = end;
        Some(m)
    })
}

impl<'a> SetRef<'a> {
    /// How many members it holds.
    pub(crate) fn len(self) -> usize {
        match self {
            SetRef::Packed(value) => SetObj::packed_len(value),
            SetRef::Obj(s) => s.len(),
        }
    }

    /// Whether `member` is in it.
    pub(crate) fn contains(self, member: &[u8]) -> bool {
        match self {
            SetRef::Packed(value) => packed_contains(value, member),
            SetRef::Obj(s) => s.contains(member),
        }
    }

    /// Calls `f` with every member, an integer as its decimal text.
    pub(crate) fn for_each(self, mut f: impl FnMut(&[u8])) {
        match self {
            SetRef::Packed(value) if value.first() == Some(&PACKED_MEMBERS) => {
                packed_members(value).for_each(f);
            }
            SetRef::Packed(value) => {
                let ints = PackedInts::of(value);
                let mut buf = [0; 20];
                for i in 0..ints.len {
                    f(format_i64(ints.get(i), &mut buf));
                }
            }
            SetRef::Obj(s) => s.for_each(f),
        }
    }

    /// The hash table of a big set; `None` for the compact encodings.
    pub(crate) fn table(self) -> Option<SetTable<'a>> {
        match self {
            SetRef::Packed(_) => None,
            SetRef::Obj(s) => s.table(),
        }
    }

    /// The members of a compact set listed for picking by position, borrowed where they
    /// are bytes; `None` for a hash-table set.
    pub(crate) fn compact_members(self) -> Option<CompactMembers<'a>> {
        Some(match self {
            SetRef::Packed(value) if value.first() == Some(&PACKED_MEMBERS) => {
                CompactMembers::Bytes(packed_members(value).collect())
            }
            SetRef::Packed(value) => CompactMembers::Ints(PackedInts::of(value)),
            SetRef::Obj(SetObj::Ints(v)) => CompactMembers::IntSlice(v),
            SetRef::Obj(SetObj::Packed(p)) => CompactMembers::Bytes(p.iter().collect()),
            SetRef::Obj(SetObj::Table(_) | SetObj::IntTable(_)) => return None,
        })
    }
}

/// A compact set's members, by position (see [`SetRef::compact_members`]).
pub(crate) enum CompactMembers<'a> {
    Ints(PackedInts<'a>),
    IntSlice(&'a [i64]),
    Bytes(Vec<&'a [u8]>),
}

impl CompactMembers<'_> {
    /// How many members.
    pub(crate) fn len(&self) -> usize {
        match self {
            CompactMembers::Ints(p) => p.len,
            CompactMembers::IntSlice(v) => v.len(),
            CompactMembers::Bytes(v) => v.len(),
        }
    }

    /// Calls `f` with member `i` (below [`CompactMembers::len`]), an integer as its
    /// decimal text.
    pub(crate) fn with<R>(&self, i: usize, f: impl FnOnce(&[u8]) -> R) -> R {
        let mut buf = [0; 20];
        match self {
            CompactMembers::Ints(p) => f(format_i64(p.get(i), &mut buf)),
            CompactMembers::IntSlice(v) => f(format_i64(v[i], &mut buf)),
            CompactMembers::Bytes(v) => f(v[i]),
        }
    }
}

/// The OBJECT ENCODING of a packed set.
pub(crate) fn packed_encoding(value: &[u8]) -> &'static str {
    match value.first() {
        Some(&PACKED_MEMBERS) => "listpack",
        _ => "intset",
    }
}

/// A small set lives in its key's entry: an intset as `[0][width][count: LEB128]` and the
/// integers in that many little-endian bytes each, as Redis's intset; a listpack as
/// `[1][count: LEB128]` and its length-prefixed members.
impl SetObj {
    /// The packed value of an empty set.
    pub(crate) const EMPTY_PACKED: &'static [u8] = &[PACKED_INTS, 2, 0];

    /// How many members the packed value `value` holds.
    pub(crate) fn packed_len(value: &[u8]) -> usize {
        let at = if value.first() == Some(&PACKED_MEMBERS) {
            1
        } else {
            2
        };
        read_varint(value.get(at..).unwrap_or_default()).0
    }

    /// The owned, editable form of a packed value.
    pub(crate) fn unpack(value: &[u8]) -> Self {
        match value.first() {
            Some(&PACKED_MEMBERS) => {
                let (len, n) = read_varint(&value[1..]);
                SetObj::Packed(Packed {
                    buf: value[(1 + n).min(value.len())..].to_vec(),
                    len,
                })
            }
            _ => {
                let ints = PackedInts::of(value);
                SetObj::Ints((0..ints.len).map(|i| ints.get(i)).collect())
            }
        }
    }

    /// The packed form, or `None` once past the limits of packing.
    pub(crate) fn pack(&self) -> Option<Vec<u8>> {
        match self {
            SetObj::Ints(v) => {
                let width = int_width(v);
                let mut out = Vec::with_capacity(2 + varint_len(v.len()) + width * v.len());
                out.extend_from_slice(&[PACKED_INTS, width as u8]);
                write_varint(&mut out, v.len());
                for n in v {
                    out.extend_from_slice(&n.to_le_bytes()[..width]);
                }
                Some(out)
            }
            SetObj::Packed(p) => {
                let mut out = Vec::with_capacity(1 + varint_len(p.len) + p.buf.len());
                out.push(PACKED_MEMBERS);
                write_varint(&mut out, p.len);
                out.extend_from_slice(&p.buf);
                Some(out)
            }
            SetObj::Table(_) | SetObj::IntTable(_) => None,
        }
    }
}

/// Length of `n`'s decimal text.
fn decimal_len(n: i64) -> usize {
    let digits = n
        .unsigned_abs()
        .checked_ilog10()
        .map_or(1, |d| d as usize + 1);
    digits + usize::from(n < 0)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn intsets_pack_at_the_narrowest_width_and_unpack_to_the_same_integers() {
        let cases: [(&[i64], usize); 6] = [
            (&[-32768, 0, 32767], 2),
            (&[-32769, 5], 4),
            (&[0, 32768], 4),
            (&[i64::from(i32::MIN), i64::from(i32::MAX)], 4),
            (&[-1, i64::from(i32::MAX) + 1], 8),
            (&[i64::MIN, -1, 0, i64::MAX], 8),
        ];
        for (ints, width) in cases {
            let set = SetObj::Ints(ints.to_vec());
            let packed = set.pack().unwrap();
            assert_eq!((packed[0], usize::from(packed[1])), (PACKED_INTS, width));
            assert_eq!(packed.len(), 3 + width * ints.len(), "{ints:?}");
            let SetObj::Ints(back) = SetObj::unpack(&packed) else {
                panic!("not an intset")
            };
            assert_eq!(back, ints);
        }
        let mut members = SetObj::Packed(Packed::default());
        if let SetObj::Packed(p) = &mut members {
            p.push(b"a");
            p.push(&[b'x'; 300]);
        }
        let back = SetObj::unpack(&members.pack().unwrap());
        assert_eq!(back.members(), members.members());
        assert_eq!(packed_encoding(&members.pack().unwrap()), "listpack");
    }

    fn limits(intset: usize, listpack: usize, value: usize) -> SetLimits {
        SetLimits {
            intset_entries: intset,
            listpack_entries: listpack,
            listpack_value: value,
            hasher: RandomState::with_seeds(1, 2, 3, 4),
        }
    }

    fn member() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            (-300i64..300).prop_map(|n| n.to_string().into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..3),
            proptest::collection::vec(any::<u8>(), 120..140),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any bytes, members long enough for a two-byte length prefix included, in any
        /// encoding: the set agrees with a model, and the encoding only ever moves up.
        #[test]
        fn agrees_with_a_model(
            ops in proptest::collection::vec((any::<bool>(), member()), 1..200),
            intset in 0usize..8,
            listpack in 0usize..8,
            value in 0usize..200,
        ) {
            let limits = limits(intset, listpack, value);
            let mut set = SetObj::new();
            let mut model = BTreeSet::new();
            let rank = |e: &str| ["intset", "listpack", "hashtable"].iter().position(|x| *x == e);
            let mut highest = 0;
            for (add, m) in ops {
                if add {
                    prop_assert_eq!(set.add(&m, &limits), model.insert(m.clone()));
                } else {
                    prop_assert_eq!(set.remove(&m), model.remove(&m));
                }
                prop_assert_eq!(set.len(), model.len());
                prop_assert!(set.contains(&m) == model.contains(&m));
                if let Some(packed) = set.pack() {
                    prop_assert_eq!(packed_contains(&packed, &m), model.contains(&m));
                }
                let r = rank(set.encoding()).unwrap_or(0);
                prop_assert!(r >= highest, "{} after a higher encoding", set.encoding());
                highest = r;
                let mut all = BTreeSet::new();
                set.for_each(|m| { all.insert(m.to_vec()); });
                prop_assert_eq!(&all, &model);
                let copy = set.duplicate();
                prop_assert_eq!(copy.encoding(), set.encoding());
                prop_assert_eq!(copy.len(), set.len());
            }
        }
    }

    #[test]
    fn intsets_grow_into_tables_of_integers_until_a_string_arrives() {
        let limits = limits(512, 128, 64);
        let mut set = SetObj::new();
        for n in -300..300i64 {
            assert!(set.add(n.to_string().as_bytes(), &limits));
        }
        assert!(matches!(set, SetObj::IntTable(_)));
        assert_eq!((set.len(), set.encoding()), (600, "hashtable"));
        assert!(set.contains(b"-300") && !set.contains(b"300") && !set.contains(b"007"));
        assert!(!set.add(b"42", &limits));
        assert!(set.remove(b"42") && !set.remove(b"42"));
        assert!(set.add(b"x", &limits));
        assert!(matches!(set, SetObj::Table(_)));
        assert_eq!(set.len(), 600);
        assert!(set.contains(b"-300") && set.contains(b"x") && !set.contains(b"42"));
    }

    #[test]
    fn integers_format_as_redis_does() {
        let mut buf = [0; 20];
        for n in [0, 1, -1, 42, i64::MIN, i64::MAX, -9_000] {
            assert_eq!(format_i64(n, &mut buf), n.to_string().as_bytes());
            assert_eq!(decimal_len(n), n.to_string().len());
        }
    }
}
