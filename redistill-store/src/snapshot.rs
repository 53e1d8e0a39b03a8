//! Snapshots of the keyspace: copying it out shard by shard, loading entries back in, and
//! the change counter that says whether a new snapshot is due.
//!
//! A copy is taken in batches of about [`SNAPSHOT_BATCH`] entries, each under one shard's
//! read lock, walking the keyspace with SCAN's cursor: readers are never blocked, a writer
//! waits at most for one batch to be copied, and the memory a snapshot needs is one batch of
//! copies, not a second keyspace. Each string entry is copied with one allocation; its key
//! and value are [`Bytes`] handles into that copy.
//!
//! The result is consistent per batch rather than a point-in-time image of the whole store:
//! a write that lands after its batch was copied is not in the snapshot (it will be in the
//! next one), exactly as a key written after the save would not be.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use crate::changes::Event;
use crate::entry::{
    Entry, KIND_INT, KIND_MASK, ObjValue, PACKED_HASH, PACKED_SET, PACKED_ZSET, head,
};
use crate::error::{Result, StoreError};
use crate::hashobj::{HashObj, HashRef};
use crate::packed::hash_ref;
use crate::quicklist::ListObj;
use crate::setobj::SetObj;
use crate::store::Store;
use crate::table::Slot;
use crate::zsetobj::ZSetObj;

/// Entries a snapshot copies per lock hold: small enough that a writer waits
/// microseconds, large enough that taking the lock costs nothing next to the copying.
pub const SNAPSHOT_BATCH: usize = 1024;

/// A value as a snapshot holds it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SnapshotValue {
    /// A string.
    String(Bytes),
    /// A string in the integer form counters use.
    Integer(i64),
    /// A hash's field/value pairs, in no particular order.
    Hash(Vec<(Bytes, Bytes)>),
    /// A list's elements, head first.
    List(Vec<Bytes>),
    /// A set's members, in no particular order.
    Set(Vec<Bytes>),
    /// A sorted set's members with their scores, lowest first.
    ZSet(Vec<(Bytes, f64)>),
}

/// One key of a snapshot: the key, its absolute expiry and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotEntry {
    /// The key.
    pub key: Bytes,
    /// Absolute expiry in unix milliseconds, if the key has a TTL.
    pub expire_at_ms: Option<u64>,
    /// The value.
    pub value: SnapshotValue,
}

/// A hash's pairs, copied.
fn hash_pairs(hash: HashRef<'_>) -> SnapshotValue {
    SnapshotValue::Hash(
        hash.pairs()
            .map(|(f, v)| (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)))
            .collect(),
    )
}

/// A sorted set's members with their scores, lowest first, copied.
fn zset_items(z: &ZSetObj) -> SnapshotValue {
    let mut items = Vec::with_capacity(z.len());
    z.iter_all(|s, m| items.push((Bytes::copy_from_slice(m), s)));
    SnapshotValue::ZSet(items)
}

pub(crate) fn copy_entry(e: &Entry) -> SnapshotEntry {
    if let Some(z) = e.packed(PACKED_ZSET) {
        return SnapshotEntry {
            key: Bytes::copy_from_slice(e.key()),
            expire_at_ms: e.expire(),
            value: zset_items(&ZSetObj::unpack(z)),
        };
    }
    if let Some(hash) = e.packed(PACKED_HASH).and(hash_ref(e)) {
        return SnapshotEntry {
            key: Bytes::copy_from_slice(e.key()),
            expire_at_ms: e.expire(),
            value: hash_pairs(hash),
        };
    }
    if let Some(set) = e.packed(PACKED_SET) {
        return SnapshotEntry {
            key: Bytes::copy_from_slice(e.key()),
            expire_at_ms: e.expire(),
            value: SnapshotValue::Set(SetObj::unpack(set).members()),
        };
    }
    match e {
        Entry::Str(blob) => {
            let h = head(blob);
            let copy = Bytes::copy_from_slice(blob);
            let value = &blob[h.value_start..];
            let value = if h.flags & KIND_MASK == KIND_INT && value.len() == 8 {
                let mut n = [0u8; 8];
                n.copy_from_slice(value);
                SnapshotValue::Integer(i64::from_le_bytes(n))
            } else {
                SnapshotValue::String(copy.slice(h.value_start..))
            };
            SnapshotEntry {
                key: copy.slice(h.key_start..h.key_end),
                expire_at_ms: h.expire,
                value,
            }
        }
        Entry::Obj(obj) => SnapshotEntry {
            key: Bytes::copy_from_slice(e.key()),
            expire_at_ms: e.expire(),
            value: match &obj.value {
                ObjValue::Str(v) => SnapshotValue::String(Bytes::copy_from_slice(v)),
                ObjValue::Hash(hash) => hash_pairs(hash.view()),
                ObjValue::List(list) => SnapshotValue::List(list.to_vec()),
                ObjValue::Set(set) => SnapshotValue::Set(set.members()),
                ObjValue::ZSet(z) => zset_items(z),
            },
        },
    }
}

impl Store {
    /// How many changes the keyspace has seen since the store was built: every key written,
    /// deleted, expired or evicted counts (Redis's `dirty` counter). A snapshot remembers the
    /// figure it was taken at; the difference is `rdb_changes_since_last_save`.
    ///
    /// # Examples
    ///
    /// ```
    /// let store = redistill_store::Store::new();
    /// let before = store.changes();
    /// store.set(0, b"k", b"v", Default::default())?;
    /// store.del(0, &[&b"k"[..]])?;
    /// assert_eq!(store.changes() - before, 2);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn changes(&self) -> u64 {
        self.inner
            .dbs
            .iter()
            .flat_map(|db| db.shards.iter())
            .map(|s| s.dirty.load(Ordering::Relaxed))
            .sum()
    }

    /// Copies a batch of live entries of `db` into `out` (cleared first), starting at
    /// `cursor` (0 to begin), and returns the cursor to continue from, 0 once the database
    /// is done. Keys already expired are left out.
    ///
    /// The cursor is SCAN's (see [`Store::scan`]): every key present for the whole walk is
    /// copied, none twice, however the tables grow or shrink between calls. One call holds
    /// one shard's read lock while it copies about [`SNAPSHOT_BATCH`] entries, so a
    /// writer to that shard waits at most for one batch.
    ///
    /// # Errors
    ///
    /// [`StoreError::DbIndexOutOfRange`] for a bad `db`.
    pub fn snapshot_batch(
        &self,
        db: usize,
        cursor: u64,
        out: &mut Vec<SnapshotEntry>,
    ) -> Result<u64> {
        out.clear();
        let d = self.db(db)?;
        let now = self.now_ms();
        let mask = (d.shards.len() - 1) as u64;
        let mut t = cursor;
        let mut idx = Vec::new();
        loop {
            let shard_idx = (t & mask) as usize;
            let shard = &d.shards[shard_idx];
            let mut next = None;
            if shard.len.load(Ordering::Relaxed) > 0 {
                let st = shard.state.read();
                next = Some(t);
                while let Some(at) = next {
                    idx.clear();
                    next = st.table.scan_step(at, &mut idx);
                    out.extend(
                        idx.iter()
                            .map(|&i| st.table.get(i))
                            .filter(|e| !e.is_expired(now))
                            .map(copy_entry),
                    );
                    if out.len() >= SNAPSHOT_BATCH {
                        break;
                    }
                }
            }
            t = match next {
                Some(n) => n,
                // This shard is done: the next one starts at threshold 0 of its residue class.
                None if shard_idx + 1 < d.shards.len() => shard_idx as u64 + 1,
                None => return Ok(0),
            };
            if out.len() >= SNAPSHOT_BATCH {
                return Ok(t);
            }
        }
    }

    /// Visits the whole keyspace in batches: `visit(db, entries)` gets one batch at a time
    /// (see [`Store::snapshot_batch`]) and may drain it. No lock is held while `visit` runs,
    /// and memory grows by one batch of copies. Stops at the first error `visit` returns.
    ///
    /// The result is consistent per batch, not a point-in-time image: a key written after
    /// its batch was copied is not in it (it will be in the next snapshot).
    ///
    /// # Errors
    ///
    /// The first error of `visit`.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{SnapshotValue, Store};
    ///
    /// let store = Store::builder().databases(2).build();
    /// store.set(0, b"name", b"redistill", Default::default())?;
    /// store.incr_by(1, b"hits", 7)?;
    /// store.hset(1, b"user", &[(b"id", b"1")])?;
    ///
    /// let mut seen = Vec::new();
    /// store.for_each_snapshot_batch(|db, entries| {
    ///     seen.extend(entries.drain(..).map(|e| (db, e.key, e.value)));
    ///     Ok::<(), std::convert::Infallible>(())
    /// }).unwrap();
    /// seen.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    /// assert_eq!(seen.len(), 3);
    /// assert_eq!(seen[1].2, SnapshotValue::Integer(7));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn for_each_snapshot_batch<E>(
        &self,
        mut visit: impl FnMut(usize, &mut Vec<SnapshotEntry>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut buf = Vec::new();
        for db in 0..self.databases() {
            let mut cursor = 0;
            // The index is always in range here.
            while let Ok(next) = self.snapshot_batch(db, cursor, &mut buf) {
                if !buf.is_empty() {
                    visit(db, &mut buf)?;
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(())
    }

    /// RESTORE: puts an entry into `db`, replacing any value the key has, with an
    /// absolute expiry, and reports it ([`Event::New`], [`Event::Restore`]). Returns
    /// `false`, storing nothing, when the expiry has already passed or the hash has no
    /// fields. Memory accounting sees the entry like any other write, but the memory limit
    /// does not refuse it. A snapshot is loaded with [`Store::load_entry`], which reports
    /// nothing.
    ///
    /// # Errors
    ///
    /// [`StoreError::DbIndexOutOfRange`] for a bad `db`.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use redistill_store::{ManualClock, SnapshotValue, Store};
    ///
    /// let store = Store::builder().clock(ManualClock::new(1_000)).build();
    /// let v = SnapshotValue::String(Bytes::from_static(b"v"));
    /// assert!(store.restore(0, b"k", Some(5_000), v.clone())?);
    /// assert!(!store.restore(0, b"gone", Some(500), v)?);
    /// assert_eq!(store.pttl(0, b"k")?, 4_000);
    /// assert_eq!(store.get(0, b"gone")?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn restore(
        &self,
        db: usize,
        key: &[u8],
        expire_at_ms: Option<u64>,
        value: SnapshotValue,
    ) -> Result<bool> {
        self.put_entry(db, key, expire_at_ms, value, true)
    }

    /// Loads one snapshot entry: [`Store::restore`] without reporting the change, since
    /// loading rebuilds a keyspace rather than changing one. A snapshot is loaded whole
    /// (the memory limit does not refuse it; eviction, if any, catches up afterwards).
    ///
    /// # Errors
    ///
    /// [`StoreError::DbIndexOutOfRange`] for a bad `db`.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use redistill_store::{SnapshotValue, Store};
    ///
    /// let store = Store::new();
    /// assert!(store.load_entry(0, b"k", None, SnapshotValue::Integer(7))?);
    /// assert_eq!(store.get(0, b"k")?.as_deref(), Some(&b"7"[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn load_entry(
        &self,
        db: usize,
        key: &[u8],
        expire_at_ms: Option<u64>,
        value: SnapshotValue,
    ) -> Result<bool> {
        self.put_entry(db, key, expire_at_ms, value, false)
    }

    fn put_entry(
        &self,
        db: usize,
        key: &[u8],
        expire_at_ms: Option<u64>,
        value: SnapshotValue,
        report: bool,
    ) -> Result<bool> {
        self.check_db(db)?;
        if expire_at_ms.is_some_and(|at| at <= self.now_ms()) {
            return Ok(false);
        }
        let Some(entry) = self.build_entry(key, expire_at_ms, value) else {
            return Ok(false);
        };
        self.with_write(db, key, |ctx| {
            if !report {
                ctx.report.listener = None;
            }
            // Redis's RESTORE deletes any value first, so the key is always added anew.
            let existing = ctx.live(key);
            ctx.put(existing, key, entry);
            if existing.is_some() {
                ctx.emit(key, Event::New);
            }
            ctx.emit(key, Event::Restore);
            Ok::<bool, StoreError>(true)
        })
    }

    /// The entry holding `value` at `key`, encoded as this store's limits choose; `None`
    /// for an empty collection.
    pub(crate) fn build_entry(
        &self,
        key: &[u8],
        expire_at_ms: Option<u64>,
        value: SnapshotValue,
    ) -> Option<Entry> {
        let entry = match value {
            SnapshotValue::String(v) => Entry::new_str(key, &v, expire_at_ms),
            SnapshotValue::Integer(n) => Entry::new_int(key, n, expire_at_ms),
            SnapshotValue::Hash(fields) => {
                if fields.is_empty() {
                    return None;
                }
                let limits = self.hash_pack_limits();
                let mut hash = HashObj::new();
                for (f, v) in &fields {
                    hash.set(f, v, limits, &self.inner.hasher);
                }
                let mut entry = Entry::new_packable(key, hash);
                if expire_at_ms.is_some() {
                    entry.set_expire(expire_at_ms);
                }
                entry
            }
            SnapshotValue::List(elements) => {
                if elements.is_empty() {
                    return None;
                }
                let list = ListObj::from_elements(
                    self.list_max_listpack_size(),
                    self.list_compress_depth(),
                    elements.iter().map(|e| &e[..]),
                );
                let mut entry = Entry::new_list(key, list);
                if expire_at_ms.is_some() {
                    entry.set_expire(expire_at_ms);
                }
                entry
            }
            SnapshotValue::Set(members) => {
                if members.is_empty() {
                    return None;
                }
                let limits = self.set_limits();
                let mut set = SetObj::new();
                for m in &members {
                    set.add(m, &limits);
                }
                let mut entry = Entry::new_packable(key, set);
                if expire_at_ms.is_some() {
                    entry.set_expire(expire_at_ms);
                }
                entry
            }
            SnapshotValue::ZSet(items) => {
                let zset = self.zset_load(&items);
                if zset.is_empty() {
                    return None;
                }
                let mut entry = Entry::new_packable(key, zset);
                if expire_at_ms.is_some() {
                    entry.set_expire(expire_at_ms);
                }
                entry
            }
        };
        Some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ManualClock, SetOptions};

    fn all(store: &Store) -> Vec<(usize, SnapshotEntry)> {
        let mut out = Vec::new();
        store
            .for_each_snapshot_batch(|db, entries| {
                out.extend(entries.drain(..).map(|e| (db, e)));
                Ok::<(), ()>(())
            })
            .unwrap();
        out.sort_by(|a, b| (a.0, &a.1.key).cmp(&(b.0, &b.1.key)));
        out
    }

    #[test]
    fn copy_then_restore_gives_the_same_keyspace() {
        let clock = ManualClock::new(1_000_000);
        let a = Store::builder().databases(3).clock(clock.clone()).build();
        a.set(0, b"s", b"hello", SetOptions::default()).unwrap();
        a.set(0, b"n", b"-42", SetOptions::default()).unwrap();
        a.psetex(1, b"t", 5_000, b"ttl").unwrap();
        a.hset(2, b"h", &[(b"f1", b"v1"), (b"f2", b"v2")]).unwrap();
        a.hset(2, b"hx", &[(b"f", b"v")]).unwrap();
        a.expire(
            2,
            b"hx",
            9_000,
            crate::ExpireCommand::PExpire,
            crate::ExpireCondition::Always,
        )
        .unwrap();
        a.psetex(0, b"dead", 10, b"x").unwrap();
        a.rpush(1, b"l", &[b"a", b"b", b"c"]).unwrap();
        clock.advance(10);

        let copy = all(&a);
        assert_eq!(copy.len(), 6, "the expired key is left out");
        let b = Store::builder().databases(3).clock(clock.clone()).build();
        for (db, e) in copy.clone() {
            assert!(b.load_entry(db, &e.key, e.expire_at_ms, e.value).unwrap());
        }
        let sorted = |mut v: Vec<(usize, SnapshotEntry)>| {
            for (_, e) in v.iter_mut() {
                if let SnapshotValue::Hash(f) = &mut e.value {
                    f.sort();
                }
            }
            v
        };
        assert_eq!(sorted(all(&b)), sorted(copy));
        assert_eq!(b.object_encoding(0, b"n").unwrap(), Some("int"));
        assert_eq!(b.pttl(1, b"t").unwrap(), 4_990);
        assert_eq!(b.dbsize(2).unwrap(), 2);
        assert_eq!(b.lrange(1, b"l", 0, -1).unwrap(), [&b"a"[..], b"b", b"c"]);
    }

    #[test]
    fn batches_copy_every_key_present_throughout_exactly_once_while_tables_change() {
        let s = Store::builder().databases(1).shards(4).seed(7).build();
        for i in 0..20_000u32 {
            s.set(
                0,
                format!("old:{i}").as_bytes(),
                b"v",
                SetOptions::default(),
            )
            .unwrap();
        }
        let mut seen = std::collections::HashMap::new();
        let (mut cursor, mut batch, mut round) = (0, Vec::new(), 0u32);
        loop {
            cursor = s.snapshot_batch(0, cursor, &mut batch).unwrap();
            assert!(batch.len() < SNAPSHOT_BATCH + 64, "{}", batch.len());
            for e in batch.drain(..) {
                *seen.entry(e.key).or_insert(0u32) += 1;
            }
            // Grow the tables between batches, and delete some keys added earlier.
            for j in 0..500 {
                s.set(
                    0,
                    format!("new:{round}:{j}").as_bytes(),
                    b"v",
                    SetOptions::default(),
                )
                .unwrap();
            }
            if round > 0 {
                let gone = format!("new:{}:0", round - 1);
                s.del(0, &[gone.as_bytes()]).unwrap();
            }
            round += 1;
            if cursor == 0 {
                break;
            }
        }
        for i in 0..20_000u32 {
            let key = Bytes::from(format!("old:{i}"));
            assert_eq!(seen.get(&key), Some(&1), "old:{i}");
        }
        assert!(seen.values().all(|&n| n == 1), "no key is copied twice");
    }

    #[test]
    fn changes_count_writes_not_reads() {
        let s = Store::new();
        let c0 = s.changes();
        s.set(0, b"a", b"1", SetOptions::default()).unwrap();
        s.incr_by(0, b"a", 1).unwrap();
        let _ = s.get(0, b"a").unwrap();
        let _ = s.get(0, b"missing").unwrap();
        assert_eq!(s.changes() - c0, 2);
    }

    #[test]
    fn restore_refuses_a_bad_db() {
        let s = Store::builder().databases(1).build();
        let v = SnapshotValue::Integer(1);
        assert!(matches!(
            s.restore(3, b"k", None, v),
            Err(StoreError::DbIndexOutOfRange { .. })
        ));
    }
}
