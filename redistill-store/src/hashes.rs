//! Hash commands: HSET, HGET, HDEL, HINCRBY, HRANDFIELD, HSCAN and friends.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use crate::changes::Event;
use crate::codec::canonical_i64;
use crate::entry::Entry;
use crate::error::{Result, StoreError};
use crate::float::{self, FloatError};
use crate::glob::glob_match;
use crate::hashobj::{HashObj, HashRef, PackLimits};
use crate::packed::hash_ref;
use crate::store::Store;
use crate::table::Slot;

/// A field and its value, as HGETALL returns them.
pub type FieldValue = (Bytes, Bytes);

/// A hash being written, with what its writes need: the packing limits in force and the
/// hasher for a table it may become.
struct Fields<'a> {
    hash: &'a mut HashObj,
    limits: PackLimits,
    hasher: &'a ahash::RandomState,
}

impl Fields<'_> {
    fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.hash.get(field)
    }

    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        self.hash.set(field, value, self.limits, self.hasher)
    }

    fn del(&mut self, field: &[u8]) -> bool {
        self.hash.del(field)
    }
}

fn hash_of(e: &Entry) -> Result<HashRef<'_>> {
    hash_ref(e).ok_or(StoreError::WrongType)
}

fn b(s: &[u8]) -> Bytes {
    Bytes::copy_from_slice(s)
}

impl Store {
    /// The limits below which hashes stay packed.
    pub(crate) fn hash_pack_limits(&self) -> PackLimits {
        PackLimits {
            entries: self.inner.hash_max_entries.load(Ordering::Relaxed),
            value: self.inner.hash_max_value.load(Ordering::Relaxed),
        }
    }

    /// Sets `hash-max-listpack-entries`: a hash with more fields than this is kept as a
    /// hash table rather than packed (Redis's listpack encoding, which keeps fields in the
    /// order they were first set). Hashes already past it stay tables.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.hash_max_listpack_entries(), redistill_store::HASH_MAX_LISTPACK_ENTRIES);
    /// store.set_hash_max_listpack_entries(2);
    /// store.hset(0, b"h", &[(b"a", b"1"), (b"b", b"2")])?;
    /// assert_eq!(store.object_encoding(0, b"h")?, Some("listpack"));
    /// store.hset(0, b"h", &[(b"c", b"3")])?;
    /// assert_eq!(store.object_encoding(0, b"h")?, Some("hashtable"));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn set_hash_max_listpack_entries(&self, n: usize) {
        self.inner.hash_max_entries.store(n, Ordering::Relaxed);
    }

    /// `hash-max-listpack-entries` as set (default 512).
    pub fn hash_max_listpack_entries(&self) -> usize {
        self.inner.hash_max_entries.load(Ordering::Relaxed)
    }

    /// Sets `hash-max-listpack-value`: a hash with a field or value longer than this many
    /// bytes is kept as a hash table.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set_hash_max_listpack_value(4);
    /// store.hset(0, b"h", &[(b"a", b"1234")])?;
    /// assert_eq!(store.object_encoding(0, b"h")?, Some("listpack"));
    /// store.hset(0, b"h", &[(b"b", b"12345")])?;
    /// assert_eq!(store.object_encoding(0, b"h")?, Some("hashtable"));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn set_hash_max_listpack_value(&self, n: usize) {
        self.inner.hash_max_value.store(n, Ordering::Relaxed);
    }

    /// `hash-max-listpack-value` as set (default 64).
    pub fn hash_max_listpack_value(&self) -> usize {
        self.inner.hash_max_value.load(Ordering::Relaxed)
    }

    /// Reads the hash at `key` (`None` if absent), failing with WRONGTYPE for other types.
    fn read_hash<R>(
        &self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(Option<HashRef<'_>>) -> R,
    ) -> Result<R> {
        self.read(db, key, |e| match e {
            None => Ok(f(None)),
            Some(e) => hash_of(e).map(|h| f(Some(h))),
        })?
    }

    /// [`Store::write_packable`] on a hash, checking the memory limit first when `create`
    /// is set. When `f` succeeds and `changed` says its result changed the hash, reports
    /// `event`.
    fn write_hash<R>(
        &self,
        db: usize,
        key: &[u8],
        create: bool,
        (event, changed): (Event, fn(&R) -> bool),
        f: impl FnOnce(&mut Fields<'_>) -> Result<R>,
        absent: impl FnOnce() -> R,
    ) -> Result<R> {
        if create {
            self.check_memory()?;
        }
        let limits = self.hash_pack_limits();
        let hasher = &self.inner.hasher;
        self.write_packable(
            db,
            key,
            create,
            |hash: &mut HashObj| {
                f(&mut Fields {
                    hash,
                    limits,
                    hasher,
                })
                .map(|r| {
                    let e = changed(&r).then_some(event);
                    (r, e)
                })
            },
            || Ok(absent()),
        )
    }

    /// HSET: sets fields, returns how many were new.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.hset(0, b"h", &[(b"a", b"1"), (b"b", b"2")])?, 2);
    /// assert_eq!(store.hget(0, b"h", b"a")?.as_deref(), Some(&b"1"[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hset(&self, db: usize, key: &[u8], pairs: &[(&[u8], &[u8])]) -> Result<usize> {
        self.write_hash(
            db,
            key,
            true,
            (Event::HSet, |_| true),
            |h| Ok(pairs.iter().filter(|(f, v)| h.set(f, v)).count()),
            || 0,
        )
    }

    /// HSETNX: sets the field only if absent; true if set.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert!(store.hsetnx(0, b"h", b"f", b"1")?);
    /// assert!(!store.hsetnx(0, b"h", b"f", b"2")?);
    /// assert_eq!(store.hget(0, b"h", b"f")?.as_deref(), Some(&b"1"[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hsetnx(&self, db: usize, key: &[u8], field: &[u8], value: &[u8]) -> Result<bool> {
        self.write_hash(
            db,
            key,
            true,
            (Event::HSet, |&set| set),
            |h| Ok(h.get(field).is_none() && h.set(field, value)),
            || false,
        )
    }

    /// HGET.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.hset(0, b"user:1", &[(b"name", b"alice")])?;
    /// assert_eq!(store.hget(0, b"user:1", b"name")?.as_deref(), Some(&b"alice"[..]));
    /// assert_eq!(store.hget(0, b"user:1", b"age")?, None);
    /// store.set(0, b"s", b"v", Default::default())?;
    /// assert!(store.hget(0, b"s", b"f").is_err()); // WRONGTYPE
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hget(&self, db: usize, key: &[u8], field: &[u8]) -> Result<Option<Bytes>> {
        self.read_hash(db, key, |h| h.and_then(|h| h.get(field)).map(b))
    }

    /// HMGET: values in order, `None` for missing fields.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.hset(0, b"h", &[(b"a", b"1"), (b"b", b"2")])?;
    /// let v = store.hmget(0, b"h", &[b"a", b"x", b"b"])?;
    /// assert_eq!(v[0].as_deref(), Some(&b"1"[..]));
    /// assert_eq!(v[1], None);
    /// assert_eq!(v[2].as_deref(), Some(&b"2"[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hmget(&self, db: usize, key: &[u8], fields: &[&[u8]]) -> Result<Vec<Option<Bytes>>> {
        self.read_hash(db, key, |h| {
            fields
                .iter()
                .map(|f| h.and_then(|h| h.get(f)).map(b))
                .collect()
        })
    }

    /// HGETALL: every field and value.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.hset(0, b"h", &[(b"a", b"1"), (b"b", b"2")])?;
    /// let mut all = store.hgetall(0, b"h")?;
    /// all.sort();
    /// assert_eq!(all[0], (b"a"[..].into(), b"1"[..].into()));
    /// assert_eq!(all.len(), 2);
    /// assert!(store.hgetall(0, b"missing")?.is_empty());
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hgetall(&self, db: usize, key: &[u8]) -> Result<Vec<FieldValue>> {
        self.read_hash(db, key, |h| {
            h.map(|h| h.pairs().map(|(f, v)| (b(f), b(v))).collect())
                .unwrap_or_default()
        })
    }

    /// HKEYS.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.hset(0, b"h", &[(b"a", b"1"), (b"b", b"2")])?;
    /// let mut keys = store.hkeys(0, b"h")?;
    /// keys.sort();
    /// assert_eq!(keys, vec![&b"a"[..], &b"b"[..]]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hkeys(&self, db: usize, key: &[u8]) -> Result<Vec<Bytes>> {
        self.read_hash(db, key, |h| {
            h.map(|h| h.pairs().map(|(f, _)| b(f)).collect())
                .unwrap_or_default()
        })
    }

    /// HVALS.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.hset(0, b"h", &[(b"a", b"1"), (b"b", b"2")])?;
    /// let mut vals = store.hvals(0, b"h")?;
    /// vals.sort();
    /// assert_eq!(vals, vec![&b"1"[..], &b"2"[..]]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hvals(&self, db: usize, key: &[u8]) -> Result<Vec<Bytes>> {
        self.read_hash(db, key, |h| {
            h.map(|h| h.pairs().map(|(_, v)| b(v)).collect())
                .unwrap_or_default()
        })
    }

    /// HDEL: removes fields, returns how many existed. Deletes the key when emptied.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.hset(0, b"h", &[(b"a", b"1"), (b"b", b"2")])?;
    /// assert_eq!(store.hdel(0, b"h", &[b"a", b"x"])?, 1);
    /// assert_eq!(store.hdel(0, b"h", &[b"b"])?, 1);
    /// assert_eq!(store.exists(0, &[b"h"])?, 0); // the emptied hash is gone
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hdel(&self, db: usize, key: &[u8], fields: &[&[u8]]) -> Result<usize> {
        self.write_hash(
            db,
            key,
            false,
            (Event::HDel, |&n| n > 0),
            |h| Ok(fields.iter().filter(|f| h.del(f)).count()),
            || 0,
        )
    }

    /// HLEN.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.hset(0, b"h", &[(b"a", b"1"), (b"b", b"2")])?;
    /// assert_eq!(store.hlen(0, b"h")?, 2);
    /// assert_eq!(store.hlen(0, b"missing")?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hlen(&self, db: usize, key: &[u8]) -> Result<usize> {
        self.read_hash(db, key, |h| h.map_or(0, HashRef::len))
    }

    /// HEXISTS.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.hset(0, b"h", &[(b"a", b"1")])?;
    /// assert!(store.hexists(0, b"h", b"a")?);
    /// assert!(!store.hexists(0, b"h", b"b")?);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hexists(&self, db: usize, key: &[u8], field: &[u8]) -> Result<bool> {
        self.read_hash(db, key, |h| h.is_some_and(|h| h.get(field).is_some()))
    }

    /// HSTRLEN: length of the field's value, 0 if absent.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.hset(0, b"h", &[(b"a", b"hello")])?;
    /// assert_eq!(store.hstrlen(0, b"h", b"a")?, 5);
    /// assert_eq!(store.hstrlen(0, b"h", b"b")?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hstrlen(&self, db: usize, key: &[u8], field: &[u8]) -> Result<usize> {
        self.read_hash(db, key, |h| {
            h.and_then(|h| h.get(field)).map_or(0, <[u8]>::len)
        })
    }

    /// HINCRBY: adds to an integer field, returns the new value.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.hincrby(0, b"h", b"n", 5)?, 5);
    /// assert_eq!(store.hincrby(0, b"h", b"n", -7)?, -2);
    /// store.hset(0, b"h", &[(b"s", b"abc")])?;
    /// assert!(store.hincrby(0, b"h", b"s", 1).is_err()); // hash value is not an integer
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hincrby(&self, db: usize, key: &[u8], field: &[u8], delta: i64) -> Result<i64> {
        self.write_hash(
            db,
            key,
            true,
            (Event::HIncrBy, |_| true),
            |h| {
                let cur = match h.get(field) {
                    Some(v) => canonical_i64(v).ok_or(StoreError::HashNotInteger)?,
                    None => 0,
                };
                let n = cur.checked_add(delta).ok_or(StoreError::Overflow)?;
                h.set(field, n.to_string().as_bytes());
                Ok(n)
            },
            || 0,
        )
    }

    /// HINCRBYFLOAT: adds a float given as text, returns the new value as Redis formats it.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(&store.hincrbyfloat(0, b"h", b"f", b"10.5")?[..], b"10.5");
    /// assert_eq!(&store.hincrbyfloat(0, b"h", b"f", b"0.1")?[..], b"10.6");
    /// assert_eq!(&store.hincrbyfloat(0, b"h", b"f", b"-0.6")?[..], b"10");
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hincrbyfloat(&self, db: usize, key: &[u8], field: &[u8], incr: &[u8]) -> Result<Bytes> {
        if !float::is_valid(incr) {
            return Err(StoreError::NotFloat);
        }
        if float::is_infinite(incr) {
            return Err(StoreError::IncrementNanOrInfinity);
        }
        self.write_hash(
            db,
            key,
            true,
            (Event::HIncrByFloat, |_| true),
            |h| {
                let cur = h.get(field).unwrap_or(b"0").to_vec();
                let out = float::add(&cur, incr).map_err(|e| match e {
                    FloatError::NotFloat => StoreError::HashNotFloat,
                    FloatError::NanOrInfinity => StoreError::NanOrInfinity,
                })?;
                h.set(field, &out);
                Ok(Bytes::from(out))
            },
            Bytes::new,
        )
    }

    /// Whether HRANDFIELD accepts `count`, before any key is looked up (as Redis checks it):
    /// `i64::MIN` is [`StoreError::ValueOutOfBounds`] (Redis reads the count in
    /// `-i64::MAX..=i64::MAX`), and with values a magnitude over `i64::MAX / 2` is
    /// [`StoreError::ValueOutOfRange`] (the reply would hold twice as many elements).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Store, StoreError};
    /// assert!(Store::check_hrandfield_count(-5, true).is_ok());
    /// assert_eq!(
    ///     Store::check_hrandfield_count(i64::MIN, false),
    ///     Err(StoreError::ValueOutOfBounds { min: -i64::MAX, max: i64::MAX })
    /// );
    /// assert_eq!(
    ///     Store::check_hrandfield_count(i64::MAX / 2 + 1, true),
    ///     Err(StoreError::ValueOutOfRange)
    /// );
    /// ```
    pub fn check_hrandfield_count(count: i64, with_values: bool) -> Result<()> {
        if count == i64::MIN {
            return Err(StoreError::ValueOutOfBounds {
                min: -i64::MAX,
                max: i64::MAX,
            });
        }
        if with_values && count.unsigned_abs() > (i64::MAX / 2) as u64 {
            return Err(StoreError::ValueOutOfRange);
        }
        Ok(())
    }

    /// HRANDFIELD.
    ///
    /// With `count = None`: one random field (`None` result list if the key is absent).
    /// A positive count returns up to that many *distinct* fields; a negative count returns
    /// exactly `-count` fields, possibly repeated. With `with_values` each field comes with
    /// its value.
    ///
    /// # Errors
    ///
    /// The count errors of [`Store::check_hrandfield_count`], whether or not the key exists;
    /// and [`StoreError::ValueOutOfRange`] for a negative count whose repeated fields cannot
    /// be allocated (Redis would stream them until the client's output limit closed it).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::Store;
    /// let store = Store::new();
    /// store.hset(0, b"h", &[(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])?;
    /// assert_eq!(store.hrandfield(0, b"h", Some(2), false)?.len(), 2); // distinct
    /// assert_eq!(store.hrandfield(0, b"h", Some(10), false)?.len(), 3); // all of them
    /// let repeated = store.hrandfield(0, b"h", Some(-5), true)?; // may repeat
    /// assert_eq!(repeated.len(), 5);
    /// assert!(repeated.iter().all(|(_, v)| v.is_some()));
    /// assert!(store.hrandfield(0, b"h", Some(i64::MIN), false).is_err());
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hrandfield(
        &self,
        db: usize,
        key: &[u8],
        count: Option<i64>,
        with_values: bool,
    ) -> Result<Vec<(Bytes, Option<Bytes>)>> {
        if let Some(c) = count {
            Self::check_hrandfield_count(c, with_values)?;
        }
        self.read_hash(db, key, |h| {
            let Some(h) = h else { return Ok(Vec::new()) };
            let len = h.len();
            // A packed hash is read once, not walked again for each pick.
            let packed: Vec<(&[u8], &[u8])> = if h.is_packed() {
                h.pairs().collect()
            } else {
                Vec::new()
            };
            let pick = |i: usize| {
                let pair = if h.is_packed() {
                    packed.get(i).copied()
                } else {
                    h.pair_at(i)
                };
                let (f, v) = pair.unwrap_or_default();
                (b(f), with_values.then(|| b(v)))
            };
            let rnd = || self.next_random();
            Ok(match count {
                None => h.random_index(rnd).map(pick).into_iter().collect(),
                Some(c) if c < 0 => {
                    // Reserved up front, so a count no memory can hold is an error rather
                    // than a capacity overflow panic or an aborting allocation.
                    let mut out = Vec::new();
                    usize::try_from(c.unsigned_abs())
                        .ok()
                        .and_then(|n| out.try_reserve_exact(n).ok())
                        .ok_or(StoreError::ValueOutOfRange)?;
                    out.extend(
                        (0..c.unsigned_abs())
                            .filter_map(|_| h.random_index(rnd))
                            .map(pick),
                    );
                    out
                }
                Some(c) => {
                    let c = c as u64;
                    let mut all = h.indexes();
                    if c as usize >= len {
                        return Ok(all.into_iter().map(pick).collect());
                    }
                    // Partial Fisher-Yates: the first `c` slots become a uniform sample.
                    for k in 0..c as usize {
                        let j = k + (self.next_random() as usize) % (len - k);
                        all.swap(k, j);
                    }
                    all.truncate(c as usize);
                    all.into_iter().map(pick).collect()
                }
            })
        })?
    }

    /// HSCAN: returns the next cursor (0 when done) and a batch of fields with values.
    ///
    /// Small hashes come back whole with cursor 0, as Redis does for listpack hashes; big
    /// ones are walked with the same resize-proof cursor as SCAN.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// let fields: Vec<(Vec<u8>, Vec<u8>)> =
    ///     (0..500).map(|i| (format!("f{i}").into_bytes(), b"v".to_vec())).collect();
    /// let pairs: Vec<(&[u8], &[u8])> = fields.iter().map(|(f, v)| (&f[..], &v[..])).collect();
    /// store.hset(0, b"big", &pairs)?;
    /// let (mut cursor, mut seen) = (0, 0);
    /// loop {
    ///     let (next, batch) = store.hscan(0, b"big", cursor, None, 50)?;
    ///     seen += batch.len();
    ///     cursor = next;
    ///     if cursor == 0 { break; }
    /// }
    /// assert_eq!(seen, 500);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn hscan(
        &self,
        db: usize,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Vec<FieldValue>)> {
        let keep = |f: &[u8]| pattern.is_none_or(|p| p == b"*" || glob_match(p, f));
        self.read_hash(db, key, |h| {
            let Some(h) = h else { return (0, Vec::new()) };
            let Some(table) = h.table() else {
                let out = h
                    .pairs()
                    .filter(|(f, _)| keep(f))
                    .map(|(f, v)| (b(f), b(v)))
                    .collect();
                return (0, out);
            };
            let mut out = Vec::new();
            let cur = table.scan_from(cursor, count, |f| {
                let kept = keep(f.key());
                if kept {
                    out.push((b(f.key()), b(f.value())));
                }
                kept
            });
            (cur, out)
        })
    }
}
