//! Compact entries: key, optional expiry and value packed into one allocation.
//!
//! A string entry is a single boxed byte slice:
//!
//! ```text
//! [flags: u8][key length: LEB128][key][expire-at ms: u64 LE, if FLAG_EXPIRE][value]
//! ```
//!
//! where the value is the raw bytes, or 8 bytes of `i64` for the integer form counters use,
//! or a small collection packed whole (Redis's listpack): then key and collection are one
//! allocation, with no object between them. Every other value is an [`Obj`]: the same
//! header (without a value) boxed next to a value in allocations of its own: a big hash's,
//! set's or sorted set's table, a list, or a string longer than [`INLINE_MAX`] or edited in
//! place (APPEND, SETRANGE), kept with spare room to grow as Redis's sds is.
//! RENAME then rebuilds only the header and moves the value. Entries are 16 bytes in the
//! table; an empty boxed slice (no allocation) marks vacant slots.

use crate::codec::{canonical_i64, read_varint, varint_len, write_varint};
use crate::hashobj::HashObj;
use crate::memory::alloc_size;
use crate::quicklist::ListObj;
use crate::setobj::SetObj;
use crate::table::Slot;
use crate::zsetobj::ZSetObj;

pub(crate) const KIND_MASK: u8 = 0b11;
pub(crate) const KIND_RAW: u8 = 0;
pub(crate) const KIND_INT: u8 = 1;
/// A small collection packed into the entry's own blob (which one: [`PACKED_TYPE_MASK`]).
pub(crate) const KIND_PACKED: u8 = 2;
/// The bits that say which collection a packed entry holds.
pub(crate) const PACKED_TYPE_MASK: u8 = 0b1_1000;
/// A packed hash: its field count (LEB128), then its pairs as `hashobj` packs them.
pub(crate) const PACKED_HASH: u8 = 0;
/// A packed set: an intset or a listpack, as `setobj` packs them.
pub(crate) const PACKED_SET: u8 = 0b0_1000;
/// A packed sorted set: its member count, then its entries as `zsetobj` packs them.
pub(crate) const PACKED_ZSET: u8 = 0b1_0000;
pub(crate) const FLAG_EXPIRE: u8 = 0b100;
/// Longest string Redis calls "embstr".
const EMBSTR_MAX: usize = 44;
/// Longest string value kept in the entry's own blob. Longer ones live in a buffer of their
/// own, so that RENAME and MOVE never copy them; up to here a copy costs less than the two
/// extra allocations would in memory.
pub(crate) const INLINE_MAX: usize = 4096;
/// Redis's `SDS_MAX_PREALLOC`: a growing string gets as much spare room as it holds, up to
/// this much.
const MAX_PREALLOC: usize = 1 << 20;
/// A decoded header: where things are inside the blob.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    pub(crate) flags: u8,
    pub(crate) key_start: usize,
    pub(crate) key_end: usize,
    pub(crate) expire: Option<u64>,
    pub(crate) value_start: usize,
}

/// Decodes the header of a blob built by [`build`]. Empty blobs decode to an empty key.
pub(crate) fn head(blob: &[u8]) -> Head {
    let Some(&flags) = blob.first() else {
        return Head {
            flags: 0,
            key_start: 0,
            key_end: 0,
            expire: None,
            value_start: 0,
        };
    };
    let (klen, n) = read_varint(&blob[1..]);
    let key_start = 1 + n;
    let key_end = (key_start + klen).min(blob.len());
    let (expire, value_start) = if flags & FLAG_EXPIRE != 0 {
        let mut b = [0u8; 8];
        let src = blob.get(key_end..key_end + 8).unwrap_or(&[0; 8]);
        b.copy_from_slice(src);
        (Some(u64::from_le_bytes(b)), key_end + 8)
    } else {
        (None, key_end)
    };
    Head {
        flags,
        key_start,
        key_end,
        expire,
        value_start: value_start.min(blob.len()),
    }
}

/// Where the key lies in `blob`: the lookup path, so keys shorter than 128 bytes (a
/// one-byte length) skip the general header decoding.
#[inline]
fn key_range(blob: &[u8]) -> (usize, usize) {
    match blob.get(1) {
        Some(&len) if len < 0x80 => (2, (2 + usize::from(len)).min(blob.len())),
        Some(_) => {
            let h = head(blob);
            (h.key_start, h.key_end)
        }
        None => (0, 0),
    }
}

/// Packs header and value into one exactly-sized allocation.
pub(crate) fn build(flags: u8, key: &[u8], expire: Option<u64>, value: &[u8]) -> Box<[u8]> {
    let flags = if expire.is_some() {
        flags | FLAG_EXPIRE
    } else {
        flags & !FLAG_EXPIRE
    };
    let len = 1 + varint_len(key.len()) + key.len() + expire.map_or(0, |_| 8) + value.len();
    let mut out = Vec::with_capacity(len);
    out.push(flags);
    write_varint(&mut out, key.len());
    out.extend_from_slice(key);
    if let Some(e) = expire {
        out.extend_from_slice(&e.to_le_bytes());
    }
    out.extend_from_slice(value);
    out.into_boxed_slice()
}

/// A stored string value, borrowed from its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrRef<'a> {
    Raw(&'a [u8]),
    Int(i64),
}

/// A value boxed apart from its header.
pub(crate) struct Obj {
    /// Header blob (flags, key, expiry) with no value part.
    pub(crate) head: Box<[u8]>,
    pub(crate) value: ObjValue,
}

/// The values an [`Obj`] holds.
pub(crate) enum ObjValue {
    /// A string in a growable buffer (Redis's "raw" encoding).
    Str(Vec<u8>),
    /// A hash.
    Hash(HashObj),
    /// A list.
    List(ListObj),
    /// A set.
    Set(SetObj),
    /// A sorted set.
    ZSet(ZSetObj),
}

/// One keyspace entry.
pub(crate) enum Entry {
    /// A string of at most [`INLINE_MAX`] bytes: header and value in one blob.
    Str(Box<[u8]>),
    /// Any other value.
    Obj(Box<Obj>),
}

/// Grows `buf` to hold `additional` more bytes as Redis's `sdsMakeRoomFor` does: the new
/// length again as spare room, at most [`MAX_PREALLOC`], so that a run of appends costs
/// amortized O(1) each while the slack stays bounded.
pub(crate) fn reserve_greedy(buf: &mut Vec<u8>, additional: usize) {
    let needed = buf.len().saturating_add(additional);
    if needed <= buf.capacity() {
        return;
    }
    let target = needed.saturating_add(needed.min(MAX_PREALLOC));
    buf.reserve_exact(target - buf.len());
}

impl Default for Entry {
    fn default() -> Self {
        Entry::Str(Box::default())
    }
}

impl Slot for Entry {
    #[inline]
    fn key(&self) -> &[u8] {
        let blob = self.head_blob();
        let (start, end) = key_range(blob);
        &blob[start..end]
    }

    fn heap(&self) -> *const u8 {
        match self {
            Entry::Str(b) => b.as_ptr(),
            Entry::Obj(o) => std::ptr::from_ref::<Obj>(o).cast(),
        }
    }
}

/// The type of a value, as TYPE reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueType {
    /// A string (`"string"`).
    String,
    /// A hash (`"hash"`).
    Hash,
    /// A list (`"list"`).
    List,
    /// A set (`"set"`).
    Set,
    /// A sorted set (`"zset"`).
    ZSet,
}

impl ValueType {
    /// Every type a value can have.
    pub const ALL: &[ValueType] = &[
        ValueType::String,
        ValueType::Hash,
        ValueType::List,
        ValueType::Set,
        ValueType::ZSet,
    ];

    /// The name TYPE replies with.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Hash => "hash",
            ValueType::List => "list",
            ValueType::Set => "set",
            ValueType::ZSet => "zset",
        }
    }

    /// The type TYPE names `name` (any case), as SCAN's TYPE option reads it.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::ValueType;
    /// assert_eq!(ValueType::from_name(b"HASH"), Some(ValueType::Hash));
    /// assert_eq!(ValueType::from_name(b"zset"), Some(ValueType::ZSet));
    /// assert_eq!(ValueType::from_name(b"stream"), None);
    /// ```
    pub fn from_name(name: &[u8]) -> Option<ValueType> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| name.eq_ignore_ascii_case(t.as_str().as_bytes()))
    }
}

impl Entry {
    #[inline]
    pub(crate) fn head_blob(&self) -> &[u8] {
        match self {
            Entry::Str(b) => b,
            Entry::Obj(o) => &o.head,
        }
    }

    pub(crate) fn head(&self) -> Head {
        head(self.head_blob())
    }

    pub(crate) fn expire(&self) -> Option<u64> {
        self.head().expire
    }

    /// Whether the entry carries a TTL: one byte read, no header decoding.
    #[inline]
    pub(crate) fn has_expire(&self) -> bool {
        self.head_blob()
            .first()
            .is_some_and(|f| f & FLAG_EXPIRE != 0)
    }

    #[inline]
    pub(crate) fn is_expired(&self, now: u64) -> bool {
        self.has_expire() && self.expire().is_some_and(|e| e <= now)
    }

    pub(crate) fn value_type(&self) -> ValueType {
        match self {
            Entry::Str(_) if self.packed(PACKED_HASH).is_some() => ValueType::Hash,
            Entry::Str(_) if self.packed(PACKED_SET).is_some() => ValueType::Set,
            Entry::Str(_) if self.packed(PACKED_ZSET).is_some() => ValueType::ZSet,
            Entry::Str(_) => ValueType::String,
            Entry::Obj(o) => match o.value {
                ObjValue::Str(_) => ValueType::String,
                ObjValue::Hash(_) => ValueType::Hash,
                ObjValue::List(_) => ValueType::List,
                ObjValue::Set(_) => ValueType::Set,
                ObjValue::ZSet(_) => ValueType::ZSet,
            },
        }
    }

    /// The value of a collection of type `ty` packed into this entry's blob.
    #[inline]
    pub(crate) fn packed(&self, ty: u8) -> Option<&[u8]> {
        match self {
            Entry::Str(b) => {
                let flags = b.first().copied().unwrap_or(0);
                if flags & KIND_MASK != KIND_PACKED || flags & PACKED_TYPE_MASK != ty {
                    return None;
                }
                let (_, key_end) = key_range(b);
                let ttl = if flags & FLAG_EXPIRE != 0 { 8 } else { 0 };
                Some(b.get(key_end + ttl..).unwrap_or_default())
            }
            Entry::Obj(_) => None,
        }
    }

    /// An entry holding a collection of type `ty` packed as `value`.
    pub(crate) fn new_packed(key: &[u8], expire: Option<u64>, ty: u8, value: &[u8]) -> Entry {
        Entry::Str(build(KIND_PACKED | ty, key, expire, value))
    }

    /// The hash, or `None` for other types.
    pub(crate) fn as_hash(&self) -> Option<&HashObj> {
        match self {
            Entry::Obj(o) => match &o.value {
                ObjValue::Hash(h) => Some(h),
                ObjValue::Str(_) | ObjValue::List(_) | ObjValue::Set(_) | ObjValue::ZSet(_) => None,
            },
            Entry::Str(_) => None,
        }
    }

    /// The hash, mutably, or `None` for other types.
    pub(crate) fn as_hash_mut(&mut self) -> Option<&mut HashObj> {
        match self {
            Entry::Obj(o) => match &mut o.value {
                ObjValue::Hash(h) => Some(h),
                ObjValue::Str(_) | ObjValue::List(_) | ObjValue::Set(_) | ObjValue::ZSet(_) => None,
            },
            Entry::Str(_) => None,
        }
    }

    /// The list, or `None` for other types.
    pub(crate) fn as_list(&self) -> Option<&ListObj> {
        match self {
            Entry::Obj(o) => match &o.value {
                ObjValue::List(l) => Some(l),
                ObjValue::Str(_) | ObjValue::Hash(_) | ObjValue::Set(_) | ObjValue::ZSet(_) => None,
            },
            Entry::Str(_) => None,
        }
    }

    /// The list, mutably, or `None` for other types.
    pub(crate) fn as_list_mut(&mut self) -> Option<&mut ListObj> {
        match self {
            Entry::Obj(o) => match &mut o.value {
                ObjValue::List(l) => Some(l),
                ObjValue::Str(_) | ObjValue::Hash(_) | ObjValue::Set(_) | ObjValue::ZSet(_) => None,
            },
            Entry::Str(_) => None,
        }
    }

    /// The set, or `None` for other types.
    pub(crate) fn as_set(&self) -> Option<&SetObj> {
        match self {
            Entry::Obj(o) => match &o.value {
                ObjValue::Set(s) => Some(s),
                ObjValue::Str(_) | ObjValue::Hash(_) | ObjValue::List(_) | ObjValue::ZSet(_) => {
                    None
                }
            },
            Entry::Str(_) => None,
        }
    }

    /// The set, mutably, or `None` for other types.
    pub(crate) fn as_set_mut(&mut self) -> Option<&mut SetObj> {
        match self {
            Entry::Obj(o) => match &mut o.value {
                ObjValue::Set(s) => Some(s),
                ObjValue::Str(_) | ObjValue::Hash(_) | ObjValue::List(_) | ObjValue::ZSet(_) => {
                    None
                }
            },
            Entry::Str(_) => None,
        }
    }

    /// The sorted set, or `None` for other types.
    pub(crate) fn as_zset(&self) -> Option<&ZSetObj> {
        match self {
            Entry::Obj(o) => match &o.value {
                ObjValue::ZSet(z) => Some(z),
                _ => None,
            },
            Entry::Str(_) => None,
        }
    }

    /// The sorted set, mutably, or `None` for other types.
    pub(crate) fn as_zset_mut(&mut self) -> Option<&mut ZSetObj> {
        match self {
            Entry::Obj(o) => match &mut o.value {
                ObjValue::ZSet(z) => Some(z),
                _ => None,
            },
            Entry::Str(_) => None,
        }
    }

    /// The string value, or `None` for other types.
    #[inline]
    pub(crate) fn str_value(&self) -> Option<StrRef<'_>> {
        match self {
            Entry::Str(b) => {
                // Only the flags and the key's end are needed to find the value.
                let flags = b.first().copied().unwrap_or(0);
                if flags & KIND_MASK == KIND_PACKED {
                    return None;
                }
                let (_, key_end) = key_range(b);
                let ttl = if flags & FLAG_EXPIRE != 0 { 8 } else { 0 };
                let v = b.get(key_end + ttl..).unwrap_or_default();
                if flags & KIND_MASK == KIND_INT {
                    let mut buf = [0u8; 8];
                    if v.len() == 8 {
                        buf.copy_from_slice(v);
                    }
                    Some(StrRef::Int(i64::from_le_bytes(buf)))
                } else {
                    Some(StrRef::Raw(v))
                }
            }
            Entry::Obj(o) => match &o.value {
                ObjValue::Str(v) => Some(StrRef::Raw(v)),
                ObjValue::Hash(_) | ObjValue::List(_) | ObjValue::Set(_) | ObjValue::ZSet(_) => {
                    None
                }
            },
        }
    }

    /// A string entry for `value`: in integer form when Redis would use it, else as
    /// [`Entry::new_text`] stores it.
    pub(crate) fn new_str(key: &[u8], value: &[u8], expire: Option<u64>) -> Entry {
        match canonical_i64(value) {
            Some(n) => Entry::new_int(key, n, expire),
            None => Entry::new_text(key, value, expire),
        }
    }

    /// A string entry for `value` as bytes, never in integer form (INCRBYFLOAT's results):
    /// in the blob up to [`INLINE_MAX`] bytes, else in a buffer of its own.
    pub(crate) fn new_text(key: &[u8], value: &[u8], expire: Option<u64>) -> Entry {
        if value.len() > INLINE_MAX {
            Entry::new_obj(key, expire, ObjValue::Str(value.to_vec()))
        } else {
            Entry::Str(build(KIND_RAW, key, expire, value))
        }
    }

    pub(crate) fn new_obj(key: &[u8], expire: Option<u64>, value: ObjValue) -> Entry {
        Entry::Obj(Box::new(Obj {
            head: build(0, key, expire, &[]),
            value,
        }))
    }

    /// The string's growable buffer, moving an inline or integer string (stored under
    /// `key`) into one first; `None` for other types. What APPEND and SETRANGE edit in
    /// place; the string is then "raw", as Redis reports such strings.
    pub(crate) fn str_buf_mut(&mut self) -> Option<&mut Vec<u8>> {
        if let Entry::Str(_) = self {
            let value = match self.str_value()? {
                StrRef::Raw(b) => b.to_vec(),
                StrRef::Int(n) => n.to_string().into_bytes(),
            };
            let h = self.head();
            let moved = Entry::new_obj(
                &self.head_blob()[h.key_start..h.key_end],
                h.expire,
                ObjValue::Str(value),
            );
            *self = moved;
        }
        match self {
            Entry::Obj(o) => match &mut o.value {
                ObjValue::Str(v) => Some(v),
                ObjValue::Hash(_) | ObjValue::List(_) | ObjValue::Set(_) | ObjValue::ZSet(_) => {
                    None
                }
            },
            Entry::Str(_) => None,
        }
    }

    /// APPEND: adds `tail` to a string in place (amortized O(`tail`)); the new length, or
    /// `None` for other types.
    pub(crate) fn append(&mut self, tail: &[u8]) -> Option<usize> {
        let buf = self.str_buf_mut()?;
        reserve_greedy(buf, tail.len());
        buf.extend_from_slice(tail);
        Some(buf.len())
    }

    /// SETRANGE: writes `bytes` at `offset`, zero-padding a gap, in place; the new length,
    /// or `None` for other types.
    pub(crate) fn set_range(&mut self, offset: usize, bytes: &[u8]) -> Option<usize> {
        let buf = self.str_buf_mut()?;
        let end = offset + bytes.len();
        if buf.len() < end {
            reserve_greedy(buf, end - buf.len());
            buf.resize(end, 0);
        }
        buf[offset..end].copy_from_slice(bytes);
        Some(buf.len())
    }

    /// Makes this entry the string [`Entry::new_str`] would build for `key` (the key it is
    /// stored under), reusing the allocation when the new blob has the same length: a SET
    /// that overwrites a value with one of the same size, the common case for caches and
    /// counters, then allocates and frees nothing.
    pub(crate) fn assign_str(&mut self, key: &[u8], value: &[u8], expire: Option<u64>) {
        let int_bytes;
        let (kind, v) = match canonical_i64(value) {
            Some(n) => {
                int_bytes = n.to_le_bytes();
                (KIND_INT, &int_bytes[..])
            }
            None => (KIND_RAW, value),
        };
        if let Entry::Str(b) = self {
            let (key_start, key_end) = key_range(b);
            let ttl = if expire.is_some() { 8 } else { 0 };
            if b.len() == key_end + ttl + v.len()
                && crate::table::same_key(&b[key_start..key_end], key)
                && let Some(first) = b.first_mut()
            {
                *first = if expire.is_some() {
                    kind | FLAG_EXPIRE
                } else {
                    kind
                };
                let rest = &mut b[key_end..];
                let rest = match expire {
                    Some(e) => {
                        let (t, rest) = rest.split_at_mut(8);
                        t.copy_from_slice(&e.to_le_bytes());
                        rest
                    }
                    None => rest,
                };
                rest.copy_from_slice(v);
                return;
            }
        }
        *self = match kind {
            KIND_INT => Entry::Str(build(kind, key, expire, v)),
            _ => Entry::new_text(key, value, expire),
        };
    }

    pub(crate) fn new_int(key: &[u8], n: i64, expire: Option<u64>) -> Entry {
        Entry::Str(build(KIND_INT, key, expire, &n.to_le_bytes()))
    }

    /// Overwrites an integer-form string in place (INCR's fast path); false if the entry is
    /// not in integer form.
    pub(crate) fn set_int_in_place(&mut self, n: i64) -> bool {
        match self {
            Entry::Str(b) => {
                let flags = b.first().copied().unwrap_or(0);
                let (_, key_end) = key_range(b);
                let ttl = if flags & FLAG_EXPIRE != 0 { 8 } else { 0 };
                match b.get_mut(key_end + ttl..) {
                    Some(v) if flags & KIND_MASK == KIND_INT && v.len() == 8 => {
                        v.copy_from_slice(&n.to_le_bytes());
                        true
                    }
                    _ => false,
                }
            }
            Entry::Obj(_) => false,
        }
    }

    /// A list entry for `list` (which must not be empty once stored).
    pub(crate) fn new_list(key: &[u8], list: ListObj) -> Entry {
        Entry::new_obj(key, None, ObjValue::List(list))
    }

    /// Replaces the expiry, rebuilding the header (the blob of an inline string).
    pub(crate) fn set_expire(&mut self, expire: Option<u64>) {
        let blob = match self {
            Entry::Str(b) => b,
            Entry::Obj(o) => &mut o.head,
        };
        let h = head(blob);
        *blob = build(
            h.flags,
            &blob[h.key_start..h.key_end],
            expire,
            &blob[h.value_start..],
        );
    }

    /// Puts the entry under another key, keeping its expiry. A value of its own allocation
    /// stays where it is: only the header is rebuilt (RENAME).
    pub(crate) fn rekey(&mut self, key: &[u8]) {
        let blob = match self {
            Entry::Str(b) => b,
            Entry::Obj(o) => &mut o.head,
        };
        let h = head(blob);
        *blob = build(h.flags, key, h.expire, &blob[h.value_start..]);
    }

    /// A copy of the value under another key, with the same expiry (COPY).
    pub(crate) fn duplicate(&self, key: &[u8]) -> Entry {
        let expire = self.expire();
        match self {
            Entry::Str(b) => {
                let h = head(b);
                Entry::Str(build(h.flags, key, expire, &b[h.value_start..]))
            }
            Entry::Obj(o) => {
                let value = match &o.value {
                    ObjValue::Str(v) => ObjValue::Str(v.as_slice().to_vec()),
                    ObjValue::Hash(hash) => ObjValue::Hash(hash.duplicate()),
                    ObjValue::List(list) => ObjValue::List(list.clone()),
                    ObjValue::Set(set) => ObjValue::Set(set.duplicate()),
                    ObjValue::ZSet(z) => ObjValue::ZSet(z.duplicate()),
                };
                Entry::new_obj(key, expire, value)
            }
        }
    }

    /// Heap bytes this entry holds (allocator rounding included), excluding its table slot.
    #[inline]
    pub(crate) fn footprint(&self) -> usize {
        match self {
            Entry::Str(b) => alloc_size(b.len()),
            Entry::Obj(o) => {
                let value = match &o.value {
                    ObjValue::Str(v) => alloc_size(v.capacity()),
                    ObjValue::Hash(h) => h.heap_bytes(),
                    ObjValue::List(l) => l.heap_bytes(),
                    ObjValue::Set(s) => s.heap_bytes(),
                    ObjValue::ZSet(z) => z.heap_bytes(),
                };
                alloc_size(std::mem::size_of::<Obj>()) + alloc_size(o.head.len()) + value
            }
        }
    }

    /// The encoding OBJECT ENCODING reports.
    pub(crate) fn encoding(&self) -> &'static str {
        match self {
            Entry::Str(b) => {
                let h = head(b);
                if let Some(set) = self.packed(PACKED_SET) {
                    crate::setobj::packed_encoding(set)
                } else if h.flags & KIND_MASK == KIND_PACKED {
                    "listpack"
                } else if h.flags & KIND_MASK == KIND_INT {
                    "int"
                } else if b.len() - h.value_start <= EMBSTR_MAX {
                    "embstr"
                } else {
                    "raw"
                }
            }
            Entry::Obj(o) => match &o.value {
                ObjValue::Str(_) => "raw",
                ObjValue::Hash(h) if h.view().is_packed() => "listpack",
                ObjValue::Hash(_) => "hashtable",
                // Redis 7.0 reports every list as a quicklist, however small.
                ObjValue::List(_) => "quicklist",
                ObjValue::Set(s) => s.encoding(),
                ObjValue::ZSet(z) if z.is_big() => "skiplist",
                ObjValue::ZSet(_) => "listpack",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_is_two_words() {
        assert_eq!(std::mem::size_of::<Entry>(), 16);
    }

    /// Every boxed value costs an `Obj` beside its key, so the value types keep what only
    /// big values need boxed apart: a small list, hash or set is 64 bytes here.
    #[test]
    fn objects_are_64_bytes() {
        assert_eq!(std::mem::size_of::<Obj>(), 64);
    }

    #[test]
    fn blob_round_trip() {
        let e = Entry::new_str(b"key", b"hello", Some(42));
        assert_eq!(e.key(), b"key");
        assert_eq!(e.expire(), Some(42));
        assert_eq!(e.str_value(), Some(StrRef::Raw(b"hello")));
        let i = Entry::new_str(b"k", b"-17", None);
        assert_eq!(i.str_value(), Some(StrRef::Int(-17)));
        assert_eq!(i.encoding(), "int");
        let long = vec![b'x'; 300];
        let e = Entry::new_str(&long, &long, None);
        assert_eq!(e.key(), &long[..]);
        assert_eq!(e.encoding(), "raw");
    }

    #[test]
    fn assign_str_matches_a_fresh_entry_whether_or_not_it_reuses_the_blob() {
        let cases: [(&[u8], Option<u64>); 6] = [
            (b"hello", None),
            (b"world", Some(7)),
            (b"12345", None),
            (b"-9", Some(9)),
            (b"much longer value", None),
            (b"", None),
        ];
        for (old, old_ttl) in cases {
            for (new, new_ttl) in cases {
                let mut e = Entry::new_str(b"key", old, old_ttl);
                e.assign_str(b"key", new, new_ttl);
                let fresh = Entry::new_str(b"key", new, new_ttl);
                assert_eq!(e.head_blob(), fresh.head_blob(), "{old:?} -> {new:?}");
            }
        }
    }

    fn str_buf_ptr(e: &Entry) -> *const u8 {
        match e {
            Entry::Obj(o) => match &o.value {
                ObjValue::Str(v) => v.as_ptr(),
                ObjValue::Hash(_) | ObjValue::List(_) | ObjValue::Set(_) | ObjValue::ZSet(_) => {
                    panic!("not a string")
                }
            },
            Entry::Str(_) => panic!("inline"),
        }
    }

    #[test]
    fn long_strings_live_apart_and_rekeying_moves_them_without_a_copy() {
        let long = vec![b'v'; INLINE_MAX + 1];
        let mut e = Entry::new_str(b"a", &long, Some(9));
        assert_eq!(e.encoding(), "raw");
        let before = str_buf_ptr(&e);
        e.rekey(b"renamed");
        assert_eq!(str_buf_ptr(&e), before);
        assert_eq!((e.key(), e.expire()), (&b"renamed"[..], Some(9)));
        assert_eq!(e.str_value(), Some(StrRef::Raw(&long)));
        let copy = e.duplicate(b"copy");
        assert_ne!(str_buf_ptr(&copy), before);
        assert_eq!(copy.str_value(), e.str_value());
        let short = Entry::new_str(b"s", &long[..INLINE_MAX], None);
        assert!(matches!(short, Entry::Str(_)));
    }

    #[test]
    fn appends_grow_in_place_with_bounded_spare_room() {
        let mut e = Entry::new_str(b"k", b"12", Some(5));
        let mut reallocations = 0;
        let mut last = std::ptr::null();
        let mut expected = b"12".to_vec();
        for i in 0..20_000u32 {
            let chunk = [b'a' + (i % 26) as u8; 100];
            expected.extend_from_slice(&chunk);
            assert_eq!(e.append(&chunk), Some(expected.len()));
            let now = str_buf_ptr(&e);
            if now != last {
                reallocations += 1;
                last = now;
            }
        }
        assert_eq!(e.str_value(), Some(StrRef::Raw(&expected)));
        assert_eq!(
            (e.key(), e.expire(), e.encoding()),
            (&b"k"[..], Some(5), "raw")
        );
        // Doubling up to 1 MB, then 1 MB steps: a few dozen moves for 2 MB, not 20,000.
        assert!(reallocations < 40, "{reallocations} reallocations");
        let spare = e.footprint() - expected.len();
        assert!(spare <= (1 << 20) + 4096, "{spare} bytes spare");
    }

    #[test]
    fn set_range_overwrites_in_place_and_zero_pads() {
        let mut e = Entry::new_str(b"k", b"Hello World", None);
        assert_eq!(e.set_range(6, b"Redis"), Some(11));
        assert_eq!(e.str_value(), Some(StrRef::Raw(b"Hello Redis")));
        let at = str_buf_ptr(&e);
        assert_eq!(e.set_range(0, b"J"), Some(11));
        assert_eq!(str_buf_ptr(&e), at);
        assert_eq!(e.set_range(13, b"!"), Some(14));
        assert_eq!(e.str_value(), Some(StrRef::Raw(b"Jello Redis\0\0!")));
        let mut n = Entry::new_str(b"n", b"-42", None);
        assert_eq!(n.set_range(0, b"+"), Some(3));
        assert_eq!(n.str_value(), Some(StrRef::Raw(b"+42")));
        let mut h = Entry::new_packable(b"h", crate::hashobj::HashObj::new());
        assert_eq!(h.set_range(0, b"x"), None);
        assert_eq!(h.append(b"x"), None);
    }
}
