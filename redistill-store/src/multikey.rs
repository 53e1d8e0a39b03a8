//! Commands on several keys at one point in time.
//!
//! A command that names several keys (EXISTS, MGET, DEL, MSET, ...) locks every shard
//! holding one of them before it looks at any, in the store's global (database, shard)
//! order, and releases them together: another command sees all of its effects or none,
//! and it sees all of its keys as they were at one instant, as Redis's single thread
//! gives. Reads take read locks; writes take write locks.

use std::cell::Cell;

use parking_lot::{RwLockReadGuard, RwLockWriteGuard};

use crate::changes::Event;
use crate::entry::Entry;
use crate::error::Result;
use crate::shard::{Shard, ShardState};
use crate::store::{NO_TOUCH, Store};

/// Guards on the shards of a set of keys, with each key's hash; the keys' order is kept.
struct Locked<G> {
    hashes: Vec<u64>,
    /// Shard index of each guard, ascending, and the guard.
    guards: Vec<(usize, G)>,
}

impl<G> Locked<G> {
    /// [`Locked::of`], shared.
    fn of_ref(&self, i: usize, shard_of: impl Fn(u64) -> usize) -> Option<(&G, u64)> {
        let hash = *self.hashes.get(i)?;
        let s = shard_of(hash);
        let at = self.guards.binary_search_by_key(&s, |(s, _)| *s).ok()?;
        Some((&self.guards[at].1, hash))
    }

    /// The guard of the shard holding key `i`, and the key's hash.
    fn of(&mut self, i: usize, shard_of: impl Fn(u64) -> usize) -> Option<(&mut G, u64)> {
        let hash = *self.hashes.get(i)?;
        let s = shard_of(hash);
        let at = self.guards.binary_search_by_key(&s, |(s, _)| *s).ok()?;
        Some((&mut self.guards[at].1, hash))
    }
}

impl Store {
    fn lock_keys<'a, G>(
        &'a self,
        db: usize,
        keys: &[&[u8]],
        lock: impl Fn(&'a Shard) -> G,
    ) -> Result<Locked<G>> {
        let d = self.db(db)?;
        let hashes: Vec<u64> = keys.iter().map(|k| self.hash(k)).collect();
        let mut shards: Vec<usize> = hashes.iter().map(|&h| self.shard_index(h)).collect();
        shards.sort_unstable();
        shards.dedup();
        let guards = shards
            .into_iter()
            .map(|s| (s, lock(&d.shards[s])))
            .collect();
        Ok(Locked { hashes, guards })
    }

    /// Hands `f` each key's live entry (`None` if absent or expired), in the keys' order,
    /// with every shard involved read-locked for the whole call.
    ///
    /// Counts a hit or miss per key; with `touch`, a found key's access word is bumped as a
    /// read does (unless [`Store::without_touching`] is in force). Expired keys read as
    /// absent and are left to the active cycle or the next single-key access.
    pub(crate) fn read_keys(
        &self,
        db: usize,
        keys: &[&[u8]],
        touch: bool,
        mut f: impl FnMut(usize, Option<&Entry>),
    ) -> Result<()> {
        let now = self.now_ms();
        let mut locked = self.lock_keys(db, keys, |shard| shard.state.read())?;
        let touch = touch && !NO_TOUCH.with(Cell::get);
        for (i, key) in keys.iter().enumerate() {
            let Some((st, hash)) = locked.of(i, |h| self.shard_index(h)) else {
                continue;
            };
            let st: &RwLockReadGuard<'_, ShardState> = st;
            let found = st
                .table
                .find(hash, key)
                .filter(|&slot| !st.table.get(slot).is_expired(now));
            if let Some(slot) = found
                && touch
            {
                self.record_access(st.table.meta(slot));
            }
            self.shard(db, self.shard_index(hash))
                .record_lookup(found.is_some());
            if found.is_none() {
                self.missed(db, key);
            }
            f(i, found.map(|slot| st.table.get(slot)));
        }
        Ok(())
    }

    /// Hands `f` every key's live entry at once (`None` if absent or expired), in the
    /// keys' order, with every shard involved read-locked for the whole call: what a
    /// command reading several values together (SINTER, SUNION) needs. Counts a hit or
    /// miss per key and bumps a found key's access word, as single-key reads do.
    pub(crate) fn read_entries<R>(
        &self,
        db: usize,
        keys: &[&[u8]],
        f: impl FnOnce(&[Option<&Entry>]) -> R,
    ) -> Result<R> {
        let now = self.now_ms();
        let locked = self.lock_keys(db, keys, |shard| shard.state.read())?;
        let touch = !NO_TOUCH.with(Cell::get);
        let mut entries = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let Some((st, hash)) = locked.of_ref(i, |h| self.shard_index(h)) else {
                entries.push(None);
                continue;
            };
            let st: &ShardState = st;
            let found = st
                .table
                .find(hash, key)
                .filter(|&slot| !st.table.get(slot).is_expired(now));
            if let Some(slot) = found
                && touch
            {
                self.record_access(st.table.meta(slot));
            }
            self.shard(db, self.shard_index(hash))
                .record_lookup(found.is_some());
            if found.is_none() {
                self.missed(db, key);
            }
            entries.push(found.map(|slot| st.table.get(slot)));
        }
        Ok(f(&entries))
    }

    /// Runs `f` with every shard holding one of `keys` write-locked, keeping the
    /// memory-limit total current (and evicting after a write that grew it, as single-key
    /// writes do).
    pub(crate) fn write_keys<R>(
        &self,
        db: usize,
        keys: &[&[u8]],
        f: impl FnOnce(&mut KeysWrite<'_>) -> R,
    ) -> Result<R> {
        let locked = self.lock_keys(db, keys, |shard| shard.state.write())?;
        let mut ctx = KeysWrite {
            store: self,
            db,
            report: self.report(db),
            now: self.now_ms(),
            locked,
        };
        let total = |ctx: &KeysWrite<'_>| -> usize {
            ctx.locked.guards.iter().map(|(_, g)| g.total_bytes()).sum()
        };
        let before = total(&ctx);
        let r = f(&mut ctx);
        let after = total(&ctx);
        drop(ctx);
        self.account(before, after);
        self.settle(after.saturating_sub(before));
        Ok(r)
    }

    /// LMPOP and ZMPOP: pops from the first of `keys` that holds a collection, and
    /// reports `event` if it popped anything. `len` gives the length of the collection an
    /// entry holds, `None` for another type: WRONGTYPE as soon as such a key comes first,
    /// as Redis checks the keys in order. `pop` pops from an entry, returning what it took
    /// and whether the collection is now empty (and so deleted). `None` when no key holds
    /// one.
    pub(crate) fn pop_first<T>(
        &self,
        db: usize,
        keys: &[&[u8]],
        event: Event,
        len: fn(&Entry) -> Option<usize>,
        pop: impl Fn(&mut Entry) -> (Vec<T>, bool),
    ) -> Result<Option<(bytes::Bytes, Vec<T>)>> {
        self.write_keys(db, keys, |w| {
            for (i, &key) in keys.iter().enumerate() {
                match w.get(i, key) {
                    None => continue,
                    Some(e) => len(e).ok_or(crate::error::StoreError::WrongType)?,
                };
                let (popped, emptied) = w.update(i, key, &pop).unwrap_or((Vec::new(), false));
                if !popped.is_empty() {
                    w.emit(key, event);
                }
                if emptied {
                    w.remove(i, key);
                }
                return Ok(Some((bytes::Bytes::copy_from_slice(key), popped)));
            }
            Ok(None)
        })?
    }
}

/// Write access to the shards of several keys of one database, all locked (see
/// [`Store::write_keys`]). Keys are named by their position in the slice given there.
pub(crate) struct KeysWrite<'a> {
    store: &'a Store,
    db: usize,
    report: crate::changes::Report<'a>,
    now: u64,
    locked: Locked<RwLockWriteGuard<'a, ShardState>>,
}

impl KeysWrite<'_> {
    /// The locked state of key `i`'s shard, the shard, and the key's hash.
    fn shard_of(&mut self, i: usize) -> Option<(&mut ShardState, &Shard, u64)> {
        let store = self.store;
        let (st, hash) = self.locked.of(i, |h| store.shard_index(h))?;
        Some((
            &mut **st,
            store.shard(self.db, store.shard_index(hash)),
            hash,
        ))
    }

    /// Key `i`'s (`key`'s) locked shard state, shard and hash, with its live slot if any;
    /// an expired entry is deleted on the way.
    fn live(
        &mut self,
        i: usize,
        key: &[u8],
    ) -> Option<(&mut ShardState, &Shard, u64, Option<usize>)> {
        let (now, report) = (self.now, self.report);
        let (st, shard, hash) = self.shard_of(i)?;
        let slot = st.live(shard, hash, key, now, report);
        Some((st, shard, hash, slot))
    }

    /// Whether key `i` (`key`) is live; an expired one is deleted on the way.
    pub(crate) fn exists(&mut self, i: usize, key: &[u8]) -> bool {
        self.get(i, key).is_some()
    }

    /// Deletes key `i` (`key`), handing back its entry (for the caller to free after the
    /// locks are released) and reporting [`Event::Del`]; `None` if it was not live.
    pub(crate) fn remove(&mut self, i: usize, key: &[u8]) -> Option<Entry> {
        let report = self.report;
        let (st, shard, _, slot) = self.live(i, key)?;
        let entry = st.remove(shard, slot?);
        report.key(key, Event::Del);
        Some(entry)
    }

    /// Stores `entry` as key `i`'s (`key`'s) value, replacing any; a key it creates is
    /// reported as [`Event::New`].
    pub(crate) fn put(&mut self, i: usize, key: &[u8], entry: Entry) {
        let (store, report) = (self.store, self.report);
        match self.live(i, key) {
            Some((st, shard, _, Some(slot))) => {
                store.record_access(st.table.meta(slot));
                st.update(shard, slot, |e| *e = entry);
            }
            Some((st, shard, hash, None)) => {
                st.insert(shard, hash, entry, store.evictor(), store.access_now_ms());
                report.key(key, Event::New);
            }
            None => {}
        }
    }

    /// Key `i`'s (`key`'s) live entry; an expired one is deleted on the way.
    pub(crate) fn get(&mut self, i: usize, key: &[u8]) -> Option<&Entry> {
        let (st, _, _, slot) = self.live(i, key)?;
        Some(st.table.get(slot?))
    }

    /// Runs `f` on key `i`'s (`key`'s) live entry, keeping the shard's accounting right
    /// and counting an access; `None` if the key is not live.
    pub(crate) fn update<R>(
        &mut self,
        i: usize,
        key: &[u8],
        f: impl FnOnce(&mut Entry) -> R,
    ) -> Option<R> {
        let store = self.store;
        let (st, shard, _, slot) = self.live(i, key)?;
        let slot = slot?;
        store.record_access(st.table.meta(slot));
        Some(st.update(shard, slot, f))
    }

    /// The live entries of the first `keys.len()` locked keys (`keys` as given to
    /// [`Store::write_keys`], or a prefix of them) all at once; expired ones are deleted
    /// first.
    pub(crate) fn entries(&mut self, keys: &[&[u8]]) -> Vec<Option<&Entry>> {
        for (i, key) in keys.iter().enumerate() {
            self.live(i, key);
        }
        let store = self.store;
        keys.iter()
            .enumerate()
            .map(|(i, key)| {
                let (st, hash) = self.locked.of_ref(i, |h| store.shard_index(h))?;
                let slot = st.table.find(hash, key)?;
                Some(st.table.get(slot))
            })
            .collect()
    }

    /// Like [`Self::entries`], for a command that reads `keys[reads]` (and may write the
    /// others): a miss among those is reported (see [`Store::report_misses`]), in order.
    pub(crate) fn entries_reading(
        &mut self,
        keys: &[&[u8]],
        reads: std::ops::Range<usize>,
    ) -> Vec<Option<&Entry>> {
        let (store, db) = (self.store, self.report.db);
        let entries = self.entries(keys);
        for (key, entry) in keys.iter().zip(&entries).take(reads.end).skip(reads.start) {
            if entry.is_none() {
                store.missed(db, key);
            }
        }
        entries
    }

    /// Like [`Self::get`], for a command that reads the key: a miss is reported.
    pub(crate) fn get_reading(&mut self, i: usize, key: &[u8]) -> Option<&Entry> {
        let (store, db) = (self.store, self.report.db);
        let entry = self.get(i, key);
        if entry.is_none() {
            store.missed(db, key);
        }
        entry
    }

    /// Reports `event` on `key`, one of the locked keys.
    pub(crate) fn emit(&self, key: &[u8], event: Event) {
        self.report.key(key, event);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use crate::{SetOptions, Store};

    /// A store of 16 shards and two keys that live on different ones.
    fn two_shards() -> (Store, Vec<u8>, Vec<u8>) {
        let store = Store::builder().shards(16).build();
        let shard = |k: &[u8]| store.shard_index(store.hash(k));
        let a = b"rA".to_vec();
        let b = (0..)
            .map(|i| format!("rB{i}").into_bytes())
            .find(|b| shard(b) != shard(&a))
            .expect("a key on another shard");
        (store, a, b)
    }

    /// Runs `writer` to completion on one thread while `check` runs in a loop on another
    /// (at least once, and until the writer is done).
    fn while_writing(writer: impl FnOnce() + Send, check: impl Fn() + Send + Sync) {
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                writer();
                done.store(true, Ordering::Release);
            });
            s.spawn(|| {
                check();
                while !done.load(Ordering::Acquire) {
                    check();
                }
            });
        });
    }

    #[test]
    fn multi_key_reads_never_see_a_rename_half_done() {
        let (store, a, b) = two_shards();
        store.set(0, &a, b"v", SetOptions::default()).unwrap();
        let pair: [&[u8]; 2] = [&a, &b];
        while_writing(
            || {
                for _ in 0..20_000 {
                    store.rename(0, &a, &b).unwrap();
                    store.rename(0, &b, &a).unwrap();
                }
            },
            || {
                assert_eq!(store.exists(0, &pair).unwrap(), 1, "EXISTS mid-rename");
                assert_eq!(store.touch(0, &pair).unwrap(), 1, "TOUCH mid-rename");
                let values = store.mget(0, &pair).unwrap();
                assert_eq!(values.iter().flatten().count(), 1, "MGET: {values:?}");
                assert_eq!(store.dbsize(0).unwrap(), 1, "DBSIZE mid-rename");
                assert_eq!(store.keys(0, b"*").unwrap().len(), 1, "KEYS mid-rename");
            },
        );
    }

    #[test]
    fn lmove_between_shards_is_never_seen_half_done() {
        use crate::ListEnd;
        let (store, a, b) = two_shards();
        store.rpush(0, &a, &[b"v"]).unwrap();
        let pair: [&[u8]; 2] = [&a, &b];
        while_writing(
            || {
                for _ in 0..10_000 {
                    let (l, r) = (ListEnd::Left, ListEnd::Right);
                    assert!(store.lmove(0, &a, &b, l, r).unwrap().is_some());
                    assert!(store.lmove(0, &b, &a, r, l).unwrap().is_some());
                }
            },
            || {
                // The one element is in exactly one list: the source is deleted as it
                // empties, in the same step as the destination is made.
                assert_eq!(store.exists(0, &pair).unwrap(), 1, "EXISTS mid-LMOVE");
            },
        );
        store.check_invariants().unwrap();
    }

    #[test]
    fn smove_and_set_algebra_between_shards_are_never_seen_half_done() {
        let (store, a, b) = two_shards();
        store.sadd(0, &a, &[b"v"]).unwrap();
        let pair: [&[u8]; 2] = [&a, &b];
        while_writing(
            || {
                for _ in 0..10_000 {
                    assert!(store.smove(0, &a, &b, b"v").unwrap());
                    assert!(store.smove(0, &b, &a, b"v").unwrap());
                    // The union of the two is one member, whichever holds it.
                    let stored = store.sunion(0, &pair, Some(b"u")).unwrap();
                    assert_eq!(stored, crate::SetOpOutcome::Stored(1));
                }
            },
            || {
                // The one member is in exactly one set: the source is deleted as it
                // empties, in the same step as the destination gets it.
                assert_eq!(store.exists(0, &pair).unwrap(), 1, "EXISTS mid-SMOVE");
                let union = store.sunion(0, &pair, None).unwrap();
                assert_eq!(union, crate::SetOpOutcome::Members(vec![b"v"[..].into()]));
                assert_eq!(store.sintercard(0, &pair, 0).unwrap(), 0);
            },
        );
        store.check_invariants().unwrap();
    }

    #[test]
    fn multi_key_deletes_and_flushes_are_never_seen_half_done() {
        let (store, a, b) = two_shards();
        let pair: [&[u8]; 2] = [&a, &b];
        while_writing(
            || {
                for round in 0..10_000 {
                    store.mset(0, &[(&a, b"1"), (&b, b"1")]).unwrap();
                    if round % 2 == 0 {
                        assert_eq!(store.del(0, &pair).unwrap(), 2);
                    } else {
                        store.flushdb(0).unwrap();
                    }
                }
            },
            || {
                let n = store.exists(0, &pair).unwrap();
                assert!(
                    n == 0 || n == 2,
                    "EXISTS saw {n} of two keys written together"
                );
            },
        );
    }
}
