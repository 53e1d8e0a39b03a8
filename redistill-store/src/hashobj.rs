//! The value of a hash, in one of Redis's two encodings.
//!
//! A small hash is a *listpack*: its fields and values packed one after another,
//! `[field length: LEB128][field][value length: LEB128][value]` each, in the order the
//! fields were first set, as Redis keeps them. It lives in its key's entry (see `entry`),
//! after its field count, so that key and hash are one allocation; so HGETALL, HKEYS and HSCAN of a
//! small hash answer in Redis's order. Lookups walk it, which for at most
//! `hash-max-listpack-entries` short fields costs less than hashing would, and each field
//! costs its bytes plus two length bytes. Past the limits (more fields than
//! `hash-max-listpack-entries`, or a field or value longer than `hash-max-listpack-value`)
//! the hash becomes a *hashtable*, each field and its value in an allocation of its own,
//! and stays one, as in Redis.

use crate::codec::{read_varint, varint_len, write_varint};
use crate::memory::alloc_size;
use crate::table::{Slot, Table};

/// Default `hash-max-listpack-entries`.
pub const LISTPACK_MAX_ENTRIES: usize = 512;
/// Default `hash-max-listpack-value`.
pub const LISTPACK_MAX_VALUE: usize = 64;

/// The limits below which a hash stays packed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PackLimits {
    /// Most fields (`hash-max-listpack-entries`).
    pub(crate) entries: usize,
    /// Longest field or value (`hash-max-listpack-value`).
    pub(crate) value: usize,
}

/// A hash field and its value in one allocation: `[field length: LEB128][field][value]`.
#[derive(Default, Clone)]
pub(crate) struct Field(pub(crate) Box<[u8]>);

impl Field {
    pub(crate) fn new(field: &[u8], value: &[u8]) -> Self {
        let mut out = Vec::with_capacity(varint_len(field.len()) + field.len() + value.len());
        write_varint(&mut out, field.len());
        out.extend_from_slice(field);
        out.extend_from_slice(value);
        Field(out.into_boxed_slice())
    }

    fn split(&self) -> (&[u8], &[u8]) {
        let (flen, n) = read_varint(&self.0);
        let end = (n + flen).min(self.0.len());
        (&self.0[n..end], &self.0[end..])
    }

    pub(crate) fn value(&self) -> &[u8] {
        self.split().1
    }

    pub(crate) fn footprint(&self) -> usize {
        alloc_size(self.0.len())
    }
}

impl Slot for Field {
    fn key(&self) -> &[u8] {
        self.split().0
    }

    fn heap(&self) -> *const u8 {
        self.0.as_ptr()
    }
}

/// A hash's fields, packed or in a table, owned: a table as a boxed value stores it, or a
/// packed hash taken out of its entry to be edited and written back.
pub(crate) enum HashObj {
    /// Fields and values packed in insertion order, with how many fields there are.
    Packed { bytes: Vec<u8>, len: usize },
    /// A field table, boxed so that a packed hash stays small.
    Table(Box<FieldTable>),
}

/// The fields of a hash past the packing limits.
pub(crate) struct FieldTable {
    fields: Table<Field, ()>,
    /// Sum of the fields' allocations, kept so memory accounting stays O(1).
    field_bytes: usize,
}

/// Where one packed pair lies: the field, the value, and the whole pair.
struct PackedPair {
    start: usize,
    field: (usize, usize),
    value: (usize, usize),
    end: usize,
}

/// Reads the pair starting at `at` in packed `bytes`.
fn pair_at(bytes: &[u8], at: usize) -> PackedPair {
    let (flen, n) = read_varint(&bytes[at..]);
    let field = (at + n, at + n + flen);
    let (vlen, m) = read_varint(&bytes[field.1..]);
    let value = (field.1 + m, field.1 + m + vlen);
    PackedPair {
        start: at,
        field,
        value,
        end: value.1,
    }
}

/// The pairs of packed `bytes`, in order.
fn packed_pairs(bytes: &[u8]) -> impl Iterator<Item = PackedPair> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        (at < bytes.len()).then(|| {
            let p = pair_at(bytes, at);
            at = p.end;
            p
        })
    })
}

fn push_pair(bytes: &mut Vec<u8>, field: &[u8], value: &[u8]) {
    let len = varint_len(field.len()) + field.len() + varint_len(value.len()) + value.len();
    bytes.reserve_exact(len);
    write_varint(bytes, field.len());
    bytes.extend_from_slice(field);
    write_varint(bytes, value.len());
    bytes.extend_from_slice(value);
}

/// A hash's field/value pairs, in its order.
pub(crate) enum Pairs<'a> {
    Packed(&'a [u8], usize),
    Table(Box<dyn Iterator<Item = (&'a [u8], &'a [u8])> + 'a>),
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Pairs::Packed(bytes, at) => {
                if *at >= bytes.len() {
                    return None;
                }
                let p = pair_at(bytes, *at);
                *at = p.end;
                Some((&bytes[p.field.0..p.field.1], &bytes[p.value.0..p.value.1]))
            }
            Pairs::Table(it) => it.next(),
        }
    }
}

/// A hash as stored, to read: packed in its entry, or a field table.
#[derive(Clone, Copy)]
pub(crate) enum HashRef<'a> {
    Packed { bytes: &'a [u8], len: usize },
    Table(&'a FieldTable),
}

/// Splits a packed hash's stored form into its field count and its pairs.
fn split_packed(value: &[u8]) -> (usize, &[u8]) {
    let (len, n) = read_varint(value);
    (len, &value[n.min(value.len())..])
}

impl<'a> HashRef<'a> {
    /// A packed hash, from its packed value.
    pub(crate) fn packed(value: &'a [u8]) -> Self {
        let (len, bytes) = split_packed(value);
        HashRef::Packed { bytes, len }
    }

    /// How many fields it holds.
    pub(crate) fn len(self) -> usize {
        match self {
            HashRef::Packed { len, .. } => len,
            HashRef::Table(t) => t.fields.len(),
        }
    }

    /// Whether it is packed (OBJECT ENCODING `listpack`).
    pub(crate) fn is_packed(self) -> bool {
        matches!(self, HashRef::Packed { .. })
    }

    /// The value of `field`.
    pub(crate) fn get(self, field: &[u8]) -> Option<&'a [u8]> {
        match self {
            HashRef::Packed { bytes, .. } => {
                find_packed(bytes, field).map(|p| &bytes[p.value.0..p.value.1])
            }
            HashRef::Table(t) => {
                let h = t.fields.hash(field);
                t.fields.find(h, field).map(|i| t.fields.get(i).value())
            }
        }
    }

    /// Every field and value: a packed hash's in insertion order.
    pub(crate) fn pairs(self) -> Pairs<'a> {
        match self {
            HashRef::Packed { bytes, .. } => Pairs::Packed(bytes, 0),
            HashRef::Table(t) => {
                Pairs::Table(Box::new(t.fields.iter().map(|(_, f)| (f.key(), f.value()))))
            }
        }
    }

    /// The pair at `index` in [`HashRef::pairs`] order for a packed hash, or of table slot
    /// `index` for a table (see [`HashRef::random_index`]).
    pub(crate) fn pair_at(self, index: usize) -> Option<(&'a [u8], &'a [u8])> {
        match self {
            HashRef::Packed { .. } => self.pairs().nth(index),
            HashRef::Table(t) => {
                let f = t.fields.get(index);
                Some((f.key(), f.value()))
            }
        }
    }

    /// A random index for [`HashRef::pair_at`], or `None` if empty.
    pub(crate) fn random_index(self, mut rnd: impl FnMut() -> u64) -> Option<usize> {
        match self {
            HashRef::Packed { len: 0, .. } => None,
            HashRef::Packed { len, .. } => Some((rnd() % len as u64) as usize),
            HashRef::Table(t) => t.fields.random_slot(rnd),
        }
    }

    /// Every index of [`HashRef::pair_at`].
    pub(crate) fn indexes(self) -> Vec<usize> {
        match self {
            HashRef::Packed { len, .. } => (0..len).collect(),
            HashRef::Table(t) => t.fields.iter().map(|(i, _)| i).collect(),
        }
    }

    /// The table of a hash that is one.
    pub(crate) fn table(self) -> Option<&'a Table<Field, ()>> {
        match self {
            HashRef::Packed { .. } => None,
            HashRef::Table(t) => Some(&t.fields),
        }
    }

    /// Checks the invariants: the packed layout and length, or the table's byte count. (A
    /// packed hash may be past limits lowered since it was made, as in Redis.)
    pub(crate) fn check(self) -> Result<(), String> {
        match self {
            HashRef::Packed { bytes, len } => {
                let mut n = 0;
                let mut end = 0;
                for p in packed_pairs(bytes) {
                    if p.end > bytes.len() {
                        return Err("packed pair runs past the end".into());
                    }
                    n += 1;
                    end = p.end;
                }
                if n != len || end != bytes.len() {
                    return Err(format!("packed length {len}, counted {n}"));
                }
                Ok(())
            }
            HashRef::Table(t) => {
                t.fields.check().map_err(|e| format!("fields: {e}"))?;
                let bytes: usize = t.fields.iter().map(|(_, f)| f.footprint()).sum();
                if bytes != t.field_bytes {
                    return Err(format!(
                        "field bytes counted {}, recomputed {bytes}",
                        t.field_bytes
                    ));
                }
                Ok(())
            }
        }
    }
}

/// Where `field`'s pair lies, in packed `bytes`.
fn find_packed(bytes: &[u8], field: &[u8]) -> Option<PackedPair> {
    packed_pairs(bytes).find(|p| &bytes[p.field.0..p.field.1] == field)
}

/// A packed hash is stored as its field count, then its pairs.
impl HashObj {
    /// The packed value of an empty hash.
    pub(crate) const EMPTY_PACKED: &'static [u8] = &[0];

    /// How many fields the packed value `value` holds.
    pub(crate) fn packed_len(value: &[u8]) -> usize {
        split_packed(value).0
    }

    /// The owned, editable form of a packed value.
    pub(crate) fn unpack(value: &[u8]) -> Self {
        let (len, bytes) = split_packed(value);
        HashObj::Packed {
            bytes: bytes.to_vec(),
            len,
        }
    }

    /// The packed form, or `None` once past the limits of packing.
    pub(crate) fn pack(&self) -> Option<Vec<u8>> {
        match self {
            HashObj::Packed { bytes, len } => {
                let mut out = Vec::with_capacity(varint_len(*len) + bytes.len());
                write_varint(&mut out, *len);
                out.extend_from_slice(bytes);
                Some(out)
            }
            HashObj::Table(_) => None,
        }
    }
}

impl HashObj {
    /// An empty, packed hash.
    pub(crate) fn new() -> Self {
        HashObj::Packed {
            bytes: Vec::new(),
            len: 0,
        }
    }

    /// The hash, to read.
    pub(crate) fn view(&self) -> HashRef<'_> {
        match self {
            HashObj::Packed { bytes, len } => HashRef::Packed { bytes, len: *len },
            HashObj::Table(t) => HashRef::Table(t),
        }
    }

    /// How many fields it holds.
    pub(crate) fn len(&self) -> usize {
        self.view().len()
    }

    /// The value of `field`.
    pub(crate) fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.view().get(field)
    }

    /// Sets a field; true if it is new. A packed hash becomes a table first when the field
    /// or value is longer than the limits allow, and after, when it holds too many fields.
    pub(crate) fn set(
        &mut self,
        field: &[u8],
        value: &[u8],
        limits: PackLimits,
        hasher: &ahash::RandomState,
    ) -> bool {
        if field.len() > limits.value || value.len() > limits.value {
            self.make_table(hasher);
        }
        let new = match self {
            HashObj::Packed { bytes, len } => match find_packed(bytes, field) {
                Some(p) => {
                    let mut encoded = Vec::with_capacity(varint_len(value.len()) + value.len());
                    write_varint(&mut encoded, value.len());
                    encoded.extend_from_slice(value);
                    bytes.splice(p.field.1..p.end, encoded);
                    false
                }
                None => {
                    push_pair(bytes, field, value);
                    *len += 1;
                    true
                }
            },
            HashObj::Table(t) => {
                let FieldTable {
                    fields,
                    field_bytes,
                } = &mut **t;
                let h = fields.hash(field);
                let f = Field::new(field, value);
                *field_bytes += f.footprint();
                match fields.find(h, field) {
                    Some(i) => {
                        let old = std::mem::replace(fields.get_mut(i), f);
                        *field_bytes -= old.footprint();
                        false
                    }
                    None => {
                        fields.insert_new(h, f, ());
                        true
                    }
                }
            }
        };
        if self.len() > limits.entries {
            self.make_table(hasher);
        }
        new
    }

    /// Removes a field; true if it was there.
    pub(crate) fn del(&mut self, field: &[u8]) -> bool {
        match self {
            HashObj::Packed { bytes, len } => match find_packed(bytes, field) {
                Some(p) => {
                    bytes.drain(p.start..p.end);
                    *len -= 1;
                    true
                }
                None => false,
            },
            HashObj::Table(t) => {
                let FieldTable {
                    fields,
                    field_bytes,
                } = &mut **t;
                let h = fields.hash(field);
                match fields.find(h, field) {
                    Some(i) => {
                        let (old, _) = fields.remove_at(i);
                        *field_bytes -= old.footprint();
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// Makes a packed hash a table, keeping its fields.
    fn make_table(&mut self, hasher: &ahash::RandomState) {
        if let HashObj::Packed { bytes, len } = self {
            let mut fields = Table::new(hasher.clone(), 0);
            let mut field_bytes = 0;
            for p in packed_pairs(bytes) {
                let f = Field::new(&bytes[p.field.0..p.field.1], &bytes[p.value.0..p.value.1]);
                field_bytes += f.footprint();
                let h = fields.hash(f.key());
                fields.insert_new(h, f, ());
            }
            debug_assert_eq!(fields.len(), *len);
            *self = HashObj::Table(Box::new(FieldTable {
                fields,
                field_bytes,
            }));
        }
    }

    /// Heap bytes of its contents (allocator rounding included).
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            HashObj::Packed { bytes, .. } => alloc_size(bytes.capacity()),
            HashObj::Table(t) => {
                alloc_size(std::mem::size_of::<FieldTable>())
                    + alloc_size(t.fields.array_bytes())
                    + t.field_bytes
            }
        }
    }

    /// A copy, in the same encoding (COPY).
    pub(crate) fn duplicate(&self) -> Self {
        match self {
            HashObj::Packed { bytes, len } => HashObj::Packed {
                bytes: bytes.clone(),
                len: *len,
            },
            HashObj::Table(t) => {
                let FieldTable {
                    fields,
                    field_bytes,
                } = &**t;
                let mut copy = Table::new(fields.hasher().clone(), 0);
                for (_, f) in fields.iter() {
                    let h = copy.hash(f.key());
                    copy.insert_new(h, f.clone(), ());
                }
                HashObj::Table(Box::new(FieldTable {
                    fields: copy,
                    field_bytes: *field_bytes,
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: PackLimits = PackLimits {
        entries: 4,
        value: 8,
    };

    fn fields(h: &HashObj) -> Vec<(Vec<u8>, Vec<u8>)> {
        h.view()
            .pairs()
            .map(|(f, v)| (f.to_vec(), v.to_vec()))
            .collect()
    }

    #[test]
    fn packed_hashes_keep_insertion_order_through_updates_and_deletes() {
        let s = ahash::RandomState::new();
        let mut h = HashObj::new();
        assert!(h.set(b"a", b"1", LIMITS, &s));
        assert!(h.set(b"b", b"2", LIMITS, &s));
        assert!(h.set(b"c", b"3", LIMITS, &s));
        assert!(!h.set(b"a", b"longer", LIMITS, &s));
        assert!(h.del(b"b"));
        assert!(!h.del(b"b"));
        assert!(h.set(b"b", b"", LIMITS, &s));
        let want: Vec<(Vec<u8>, Vec<u8>)> = [("a", "longer"), ("c", "3"), ("b", "")]
            .iter()
            .map(|(f, v)| (f.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        assert_eq!(fields(&h), want);
        assert_eq!((h.len(), h.view().is_packed()), (3, true));
        assert_eq!(h.get(b"c"), Some(&b"3"[..]));
        h.view().check().unwrap();
    }

    #[test]
    fn hashes_past_the_limits_become_tables_with_every_field() {
        let s = ahash::RandomState::new();
        let mut many = HashObj::new();
        for i in 0..5u8 {
            many.set(&[b'f', i], &[i], LIMITS, &s);
        }
        assert!(!many.view().is_packed());
        assert_eq!(many.len(), 5);
        assert_eq!(many.get(&[b'f', 3]), Some(&[3u8][..]));
        many.view().check().unwrap();
        let mut long = HashObj::new();
        long.set(b"a", b"1", LIMITS, &s);
        assert!(long.set(b"b", b"123456789", LIMITS, &s));
        assert!(!long.view().is_packed());
        assert_eq!(long.get(b"a"), Some(&b"1"[..]));
    }

    #[test]
    fn long_fields_and_values_pack_with_multibyte_lengths() {
        let s = ahash::RandomState::new();
        let wide = PackLimits {
            entries: 128,
            value: 1000,
        };
        let mut h = HashObj::new();
        let long = vec![b'x'; 300];
        h.set(&long, &long, wide, &s);
        h.set(b"k", &long[..200], wide, &s);
        h.set(&long, b"v", wide, &s);
        assert!(h.view().is_packed());
        assert_eq!(h.get(&long), Some(&b"v"[..]));
        assert_eq!(h.get(b"k").map(<[u8]>::len), Some(200));
        assert!(h.del(&long));
        assert_eq!(fields(&h), vec![(b"k".to_vec(), long[..200].to_vec())]);
        h.view().check().unwrap();
    }
}
