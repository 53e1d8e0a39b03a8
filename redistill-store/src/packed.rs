//! Small collections packed into their key's entry, and the write path they share.
//!
//! A small hash (and any collection type that implements [`Packable`]) is kept as Redis
//! keeps it in a listpack, but inside the entry's own blob, after the key: key and
//! collection are one allocation, with no object between them, which is what makes a key
//! holding a few elements cheaper here than in Redis. A hash is read in place (`HashRef`),
//! and so is a sorted set (`ZSetRef`); a set's membership and any type's count are read in
//! place too; other reads of a set go through a copy ([`unpacked`]), a few hundred bytes
//! under the default limits. A write copies the collection out
//! ([`Packable::unpack`]), edits the owned copy and, if it changed, writes it back: packed
//! again while it fits its limits, else as the type's big form in an `Obj`, for good. A
//! big collection is edited in place.

use crate::changes::Event;
use crate::entry::{Entry, ObjValue, PACKED_HASH, PACKED_SET, PACKED_ZSET};
use crate::error::{Result, StoreError};
use crate::hashobj::{HashObj, HashRef};
use crate::setobj::SetObj;
use crate::store::Store;
use crate::zsetobj::ZSetObj;

/// A collection type whose small values live packed in their entry.
pub(crate) trait Packable: Sized {
    /// The type bits of its packed entries (`entry::PACKED_*`).
    const TYPE: u8;
    /// The owned, editable form of the packed value `value`.
    fn unpack(value: &[u8]) -> Self;
    /// Its packed form, or `None` once it is past the limits of packing.
    fn pack(&self) -> Option<Vec<u8>>;
    /// The boxed collection `e` holds, if it holds one of this type.
    fn boxed(e: &Entry) -> Option<&Self>;
    /// [`Packable::boxed`], to modify.
    fn boxed_mut(e: &mut Entry) -> Option<&mut Self>;
    /// This collection as a boxed value.
    fn into_value(self) -> ObjValue;
    /// How many elements `e` holds, packed or boxed; `None` for another type.
    fn len_of(e: &Entry) -> Option<usize>;
    /// The packed value of an empty collection.
    const EMPTY: &'static [u8];
}

/// Implements [`Packable`] for a value type from its packing methods and its `Entry`
/// accessors.
macro_rules! packable {
    ($t:ty, $ty_bits:expr, $variant:ident, $of:ident, $of_mut:ident) => {
        impl Packable for $t {
            const TYPE: u8 = $ty_bits;
            const EMPTY: &'static [u8] = <$t>::EMPTY_PACKED;

            fn unpack(value: &[u8]) -> Self {
                <$t>::unpack(value)
            }

            fn pack(&self) -> Option<Vec<u8>> {
                <$t>::pack(self)
            }

            fn boxed(e: &Entry) -> Option<&Self> {
                e.$of()
            }

            fn boxed_mut(e: &mut Entry) -> Option<&mut Self> {
                e.$of_mut()
            }

            fn into_value(self) -> ObjValue {
                ObjValue::$variant(self)
            }

            fn len_of(e: &Entry) -> Option<usize> {
                match e.packed(Self::TYPE) {
                    Some(value) => Some(<$t>::packed_len(value)),
                    None => e.$of().map(<$t>::len),
                }
            }
        }
    };
}

packable!(HashObj, PACKED_HASH, Hash, as_hash, as_hash_mut);
packable!(SetObj, PACKED_SET, Set, as_set, as_set_mut);
packable!(ZSetObj, PACKED_ZSET, ZSet, as_zset, as_zset_mut);

/// The hash `e` holds, packed or boxed, or `None` for another type.
pub(crate) fn hash_ref(e: &Entry) -> Option<HashRef<'_>> {
    match e.packed(PACKED_HASH) {
        Some(value) => Some(HashRef::packed(value)),
        None => e.as_hash().map(HashObj::view),
    }
}

/// A collection as read from its entry: the boxed value itself, or a packed one copied out.
pub(crate) enum Unpacked<'a, T> {
    Boxed(&'a T),
    Packed(T),
}

impl<T> std::ops::Deref for Unpacked<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Unpacked::Boxed(t) => t,
            Unpacked::Packed(t) => t,
        }
    }
}

/// The collection of type `T` that `e` holds, or `None` for another type.
pub(crate) fn unpacked<T: Packable>(e: &Entry) -> Option<Unpacked<'_, T>> {
    match e.packed(T::TYPE) {
        Some(value) => Some(Unpacked::Packed(T::unpack(value))),
        None => T::boxed(e).map(Unpacked::Boxed),
    }
}

impl Entry {
    /// Runs `f` on the collection of type `T` this entry holds, in place if boxed; a
    /// packed one is edited as a copy, written back when `changed` says `f`'s result
    /// changed it. `None` for another type.
    pub(crate) fn edit_packable<T: Packable, R>(
        &mut self,
        f: impl FnOnce(&mut T) -> R,
        changed: impl FnOnce(&R) -> bool,
    ) -> Option<R> {
        match self.packed(T::TYPE) {
            Some(value) => {
                let mut owned = T::unpack(value);
                let r = f(&mut owned);
                if changed(&r) {
                    self.store_packable(owned);
                }
                Some(r)
            }
            None => T::boxed_mut(self).map(f),
        }
    }

    /// An entry for `key` holding `value`, packed while it packs.
    pub(crate) fn new_packable<T: Packable>(key: &[u8], value: T) -> Entry {
        let mut e = Entry::new_packed(key, None, T::TYPE, T::EMPTY);
        e.store_packable(value);
        e
    }

    /// Makes this entry hold `value` instead of its value, keeping its key and expiry:
    /// packed in the blob while it packs, else boxed.
    pub(crate) fn store_packable<T: Packable>(&mut self, value: T) {
        let h = self.head();
        let key = &self.head_blob()[h.key_start..h.key_end];
        *self = match value.pack() {
            Some(bytes) => Entry::new_packed(key, h.expire, T::TYPE, &bytes),
            None => Entry::new_obj(key, h.expire, value.into_value()),
        };
    }
}

impl Store {
    /// Modifies the collection of type `T` at `key`, creating it (empty, packed) when
    /// `create` is set. `f` returns its result and the event its change is reported as
    /// (`None`: nothing changed). [`Event::New`] precedes the event of a collection created;
    /// an emptied one is deleted and reported as [`Event::Del`], as Redis keeps no empty
    /// collections. A missing key (without `create`) answers `absent()`; a key of another
    /// type fails with WRONGTYPE.
    pub(crate) fn write_packable<T: Packable, R>(
        &self,
        db: usize,
        key: &[u8],
        create: bool,
        f: impl FnOnce(&mut T) -> Result<(R, Option<Event>)>,
        absent: impl FnOnce() -> Result<R>,
    ) -> Result<R> {
        self.write_packable_unless(db, key, create, |_| None, f, absent)
    }

    /// [`Store::write_packable`], first asking `unchanged` of a packed value whether `f`
    /// would leave it as it is: its answer then stands for `f`'s without copying the value
    /// out (an SADD of members already there), and the key is only touched, as a read.
    pub(crate) fn write_packable_unless<T: Packable, R>(
        &self,
        db: usize,
        key: &[u8],
        create: bool,
        unchanged: impl FnOnce(&[u8]) -> Option<R>,
        f: impl FnOnce(&mut T) -> Result<(R, Option<Event>)>,
        absent: impl FnOnce() -> Result<R>,
    ) -> Result<R> {
        self.with_write(db, key, |ctx| {
            let (i, created) = match ctx.live(key) {
                Some(i) => {
                    let e = ctx.entry(i);
                    T::len_of(e).ok_or(StoreError::WrongType)?;
                    if let Some(r) = e.packed(T::TYPE).and_then(unchanged) {
                        ctx.touch(i);
                        return Ok(r);
                    }
                    (i, false)
                }
                None if create => {
                    let entry = Entry::new_packed(key, None, T::TYPE, T::EMPTY);
                    (ctx.insert(entry), true)
                }
                None => return absent(),
            };
            let r = ctx.update(i, |e| {
                e.edit_packable(f, |r| matches!(r, Ok((_, Some(_)))))
                    .unwrap_or(Err(StoreError::WrongType))
            });
            if let Ok((_, Some(event))) = &r {
                if created {
                    ctx.emit(key, Event::New);
                }
                ctx.emit(key, *event);
            }
            // Slot `i` still holds the collection: nothing was inserted or removed since.
            if T::len_of(ctx.entry(i)) == Some(0) {
                ctx.remove(i);
                if !created {
                    ctx.emit(key, Event::Del);
                }
            }
            r.map(|(r, _)| r)
        })
    }

    /// How many elements the collection of type `T` at `key` holds (0 for a missing key),
    /// read from its packed count or its box, without copying it.
    pub(crate) fn packable_len<T: Packable>(&self, db: usize, key: &[u8]) -> Result<usize> {
        self.read(db, key, |e| {
            e.map_or(Ok(0), |e| T::len_of(e).ok_or(StoreError::WrongType))
        })?
    }
}
