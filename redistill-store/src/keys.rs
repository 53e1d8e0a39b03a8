//! Keyspace commands: DEL, EXISTS, TYPE, RENAME, COPY, MOVE, RANDOMKEY, KEYS, FLUSH*, SWAPDB.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use crate::changes::{Change, Event};
use crate::entry::ValueType;
use crate::error::{Result, StoreError};
use crate::glob::glob_match;
use crate::store::Store;

impl Store {
    /// DEL (and UNLINK): deletes the keys, returns how many existed.
    ///
    /// The values are freed after the shard locks are released, so deleting a big hash or
    /// string holds up no other command on its shard.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"a", b"1", Default::default())?;
    /// assert_eq!(store.del(0, &[b"a", b"b"])?, 1);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn del(&self, db: usize, keys: &[&[u8]]) -> Result<usize> {
        if let [key] = keys {
            let removed = self.with_write(db, key, |ctx| {
                let removed = ctx.live(key).map(|i| ctx.remove(i));
                if removed.is_some() {
                    ctx.emit(key, Event::Del);
                }
                Ok(removed)
            })?;
            return Ok(usize::from(removed.is_some()));
        }
        let removed = self.write_keys(db, keys, |ctx| {
            keys.iter()
                .enumerate()
                .filter_map(|(i, k)| ctx.remove(i, k))
                .collect::<Vec<_>>()
        })?;
        Ok(removed.len())
    }

    /// UNLINK: the same as [`Store::del`], which already frees values outside the locks.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"a", b"1", Default::default())?;
    /// assert_eq!(store.unlink(0, &[b"a", b"b"])?, 1);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn unlink(&self, db: usize, keys: &[&[u8]]) -> Result<usize> {
        self.del(db, keys)
    }

    /// EXISTS: how many of the keys exist, duplicates counted each time.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"a", b"1", Default::default())?;
    /// assert_eq!(store.exists(0, &[b"a", b"a", b"b"])?, 2);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn exists(&self, db: usize, keys: &[&[u8]]) -> Result<usize> {
        self.count_live(db, keys, false)
    }

    /// Whether `key` is live, as the server's own bookkeeping asks it (WATCH, EXEC): no
    /// hit or miss counted, no access recorded, no miss reported.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"a", b"1", Default::default())?;
    /// assert!(store.contains(0, b"a")?);
    /// assert!(!store.contains(0, b"b")?);
    /// assert_eq!(store.stats().keyspace_misses, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn contains(&self, db: usize, key: &[u8]) -> Result<bool> {
        self.peek(db, key, |entry, _| entry.is_some())
    }

    /// TOUCH: how many of the keys exist (duplicates counted each time), recording an
    /// access to each as a read does.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Policy, Store};
    /// let store = Store::builder().eviction_policy(Policy::AllKeysLfu).lfu_log_factor(0).build();
    /// store.set(0, b"a", b"1", Default::default())?;
    /// let before = store.object_freq(0, b"a")?;
    /// assert_eq!(store.touch(0, &[b"a", b"b"])?, 1);
    /// assert!(store.object_freq(0, b"a")? > before);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn touch(&self, db: usize, keys: &[&[u8]]) -> Result<usize> {
        self.count_live(db, keys, true)
    }

    /// EXISTS and TOUCH: the live keys among `keys`, all looked at in one instant.
    fn count_live(&self, db: usize, keys: &[&[u8]], touch: bool) -> Result<usize> {
        if let [key] = keys {
            return self.read_opts(db, key, touch, |e| usize::from(e.is_some()));
        }
        let mut n = 0;
        self.read_keys(db, keys, touch, |_, e| n += usize::from(e.is_some()))?;
        Ok(n)
    }

    /// TYPE: the value's type, `None` if absent (Redis replies `none`).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Store, ValueType};
    /// let store = Store::new();
    /// store.set(0, b"s", b"v", Default::default())?;
    /// store.hset(0, b"h", &[(b"f", b"v")])?;
    /// assert_eq!(store.value_type(0, b"s")?, Some(ValueType::String));
    /// assert_eq!(store.value_type(0, b"h")?, Some(ValueType::Hash));
    /// store.rpush(0, b"l", &[b"a"])?;
    /// assert_eq!(store.value_type(0, b"l")?, Some(ValueType::List));
    /// assert_eq!(store.value_type(0, b"missing")?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn value_type(&self, db: usize, key: &[u8]) -> Result<Option<ValueType>> {
        self.read_opts(db, key, false, |e| e.map(|e| e.value_type()))
    }

    /// RENAME: moves `src` to `dst` (overwriting it), keeping the TTL.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.psetex(0, b"old", 60_000, b"v")?;
    /// store.rename(0, b"old", b"new")?;
    /// assert_eq!(store.get(0, b"new")?.as_deref(), Some(&b"v"[..]));
    /// assert!(store.pttl(0, b"new")? > 0); // the TTL moves with the value
    /// assert!(store.rename(0, b"old", b"new").is_err()); // no such key
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn rename(&self, db: usize, src: &[u8], dst: &[u8]) -> Result<()> {
        self.rename_impl(db, src, dst, false).map(|_| ())
    }

    /// RENAMENX: like RENAME but only if `dst` does not exist; true if renamed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"a", b"1", Default::default())?;
    /// store.set(0, b"b", b"2", Default::default())?;
    /// assert!(!store.renamenx(0, b"a", b"b")?);
    /// assert!(store.renamenx(0, b"a", b"c")?);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn renamenx(&self, db: usize, src: &[u8], dst: &[u8]) -> Result<bool> {
        self.rename_impl(db, src, dst, true)
    }

    fn rename_impl(&self, db: usize, src: &[u8], dst: &[u8], nx: bool) -> Result<bool> {
        self.transfer(db, src, db, dst, Transfer::Rename { nx })
    }

    /// COPY: copies `src` in `db` to `dst` in `dst_db`; true if copied.
    ///
    /// Without `replace` an existing destination is left alone (returns false).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"src", b"v", Default::default())?;
    /// assert!(store.copy(0, b"src", 1, b"dst", false)?);
    /// assert!(!store.copy(0, b"src", 1, b"dst", false)?); // destination exists
    /// assert!(store.copy(0, b"src", 1, b"dst", true)?); // REPLACE
    /// assert!(store.copy(0, b"src", 0, b"src", false).is_err()); // same object
    /// assert_eq!(store.get(1, b"dst")?.as_deref(), Some(&b"v"[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn copy(
        &self,
        db: usize,
        src: &[u8],
        dst_db: usize,
        dst: &[u8],
        replace: bool,
    ) -> Result<bool> {
        if db == dst_db && src == dst {
            self.check_db(db)?;
            return Err(StoreError::SameObject);
        }
        self.check_memory()?;
        self.transfer(db, src, dst_db, dst, Transfer::Copy { replace })
    }

    /// MOVE: moves `key` to `dst_db` if it is absent there; true if moved.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"k", b"v", Default::default())?;
    /// assert!(store.move_key(0, b"k", 3)?);
    /// assert_eq!(store.exists(0, &[b"k"])?, 0);
    /// assert_eq!(store.exists(3, &[b"k"])?, 1);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn move_key(&self, db: usize, key: &[u8], dst_db: usize) -> Result<bool> {
        self.check_db(db)?;
        self.check_db(dst_db)?;
        if db == dst_db {
            return Err(StoreError::SameObject);
        }
        self.transfer(db, key, dst_db, key, Transfer::Move)
    }

    /// Shared body of RENAME/COPY/MOVE: both shards locked in the global order.
    fn transfer(
        &self,
        db: usize,
        src: &[u8],
        dst_db: usize,
        dst: &[u8],
        kind: Transfer,
    ) -> Result<bool> {
        self.check_db(db)?;
        self.check_db(dst_db)?;
        let now = self.now_ms();
        let (hs, hd) = (self.hash(src), self.hash(dst));
        let (ss, sd) = (self.shard_index(hs), self.shard_index(hd));
        let mut guards = self.lock_many(vec![(db, ss), (dst_db, sd)]);
        let pos_s = guards
            .iter()
            .position(|(g, _)| *g == (db, ss))
            .ok_or(StoreError::NoSuchKey)?;
        let pos_d = guards
            .iter()
            .position(|(g, _)| *g == (dst_db, sd))
            .ok_or(StoreError::NoSuchKey)?;
        let (shard_s, shard_d) = (self.shard(db, ss), self.shard(dst_db, sd));
        let (report_s, report_d) = (self.report(db), self.report(dst_db));
        let before: usize = guards.iter().map(|(_, g)| g.total_bytes()).sum();
        let result = (|| {
            // Purge an expired destination first: a removal shifts slots, and the source's
            // slot index must stay valid once taken.
            let dst_live = guards[pos_d]
                .1
                .live(shard_d, hd, dst, now, report_d)
                .is_some();
            let Some(si) = guards[pos_s].1.live(shard_s, hs, src, now, report_s) else {
                return match kind {
                    Transfer::Rename { .. } => Err(StoreError::NoSuchKey),
                    // COPY reads its source; RENAME and MOVE look it up to write.
                    Transfer::Copy { .. } => {
                        self.missed(db, src);
                        Ok(false)
                    }
                    Transfer::Move => Ok(false),
                };
            };
            if db == dst_db && src == dst {
                // RENAME k k is a no-op that succeeds; RENAMENX k k reports "not renamed".
                return Ok(!matches!(kind, Transfer::Rename { nx: true }));
            }
            let may_overwrite = matches!(
                kind,
                Transfer::Rename { nx: false } | Transfer::Copy { replace: true }
            );
            if dst_live && !may_overwrite {
                return Ok(false);
            }
            // RENAME and MOVE move the value itself: only its header is rebuilt.
            let new = match kind {
                Transfer::Copy { .. } => guards[pos_s].1.table.get(si).duplicate(dst),
                Transfer::Rename { .. } | Transfer::Move => {
                    let mut entry = guards[pos_s].1.remove(shard_s, si);
                    if src != dst {
                        entry.rekey(dst);
                    }
                    entry
                }
            };
            // The removal above may have shifted slots; look the destination up again.
            let st_d = &mut guards[pos_d].1;
            if let Some(i) = st_d.table.find(hd, dst) {
                st_d.remove(shard_d, i);
            }
            st_d.insert(shard_d, hd, new, self.evictor(), now);
            // Redis adds the destination anew (`new`), then reports the command's events.
            report_d.key(dst, Event::New);
            match kind {
                Transfer::Rename { .. } => {
                    report_s.key(src, Event::RenameFrom);
                    report_d.key(dst, Event::RenameTo);
                }
                Transfer::Move => {
                    report_s.key(src, Event::MoveFrom);
                    report_d.key(dst, Event::MoveTo);
                }
                Transfer::Copy { .. } => report_d.key(dst, Event::CopyTo),
            }
            Ok(true)
        })();
        let after: usize = guards.iter().map(|(_, g)| g.total_bytes()).sum();
        drop(guards);
        self.account(before, after);
        self.settle(after.saturating_sub(before));
        result
    }

    /// RANDOMKEY: a random live key, `None` if the database is empty.
    ///
    /// As Redis's `dbRandomKey` on a primary: a sampled key that has expired is deleted
    /// (lazy expiry) and another is drawn, so a live key is found however many expired
    /// ones are still waiting for the active cycle, and `None` means no live key is left.
    /// (Redis gives up after 100 draws and may return an expired key only on a replica,
    /// which may not delete keys; the store always may.) Each draw picks a random
    /// non-empty shard, then a random key in it.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ManualClock, Store};
    /// let clock = ManualClock::new(1_000_000);
    /// let store = Store::builder().clock(clock.clone()).build();
    /// assert_eq!(store.random_key(0)?, None);
    /// for i in 0..1000u32 {
    ///     store.psetex(0, &i.to_be_bytes(), 10, b"v")?;
    /// }
    /// store.set(0, b"live", b"v", Default::default())?;
    /// clock.advance(10);
    /// assert_eq!(store.random_key(0)?.as_deref(), Some(&b"live"[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn random_key(&self, db: usize) -> Result<Option<Bytes>> {
        use std::sync::atomic::Ordering::Relaxed;
        let d = self.db(db)?;
        let n = d.shards.len();
        let now = self.now_ms();
        loop {
            // A random shard, or the first non-empty one after it; none left: empty.
            let start = self.next_random() as usize & (n - 1);
            let Some(s) = (0..n)
                .map(|k| (start + k) & (n - 1))
                .find(|&s| d.shards[s].len.load(Relaxed) > 0)
            else {
                return Ok(None);
            };
            let shard = &d.shards[s];
            let expired = {
                let st = shard.state.read();
                let Some(i) = st.table.random_slot(|| self.next_random()) else {
                    continue;
                };
                let e = st.table.get(i);
                if !e.is_expired(now) {
                    return Ok(Some(Bytes::copy_from_slice(crate::table::Slot::key(e))));
                }
                crate::table::Slot::key(e).to_vec()
            };
            // Every expired draw deletes a key, so the loop ends within the number of keys.
            let mut st = shard.state.write();
            let before = st.total_bytes();
            st.live(shard, self.hash(&expired), &expired, now, self.report(db));
            let after = st.total_bytes();
            drop(st);
            self.account(before, after);
        }
    }

    /// KEYS: every live key matching the glob `pattern` (see [`glob_match`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// for k in [&b"user:1"[..], b"user:2", b"order:1"] {
    ///     store.set(0, k, b"v", Default::default())?;
    /// }
    /// let mut users = store.keys(0, b"user:*")?;
    /// users.sort();
    /// assert_eq!(users, vec![&b"user:1"[..], &b"user:2"[..]]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn keys(&self, db: usize, pattern: &[u8]) -> Result<Vec<Bytes>> {
        let d = self.db(db)?;
        let now = self.now_ms();
        let all = pattern == b"*";
        let mut out = Vec::new();
        // Every shard at once, so the answer is the keyspace of one instant.
        let guards: Vec<_> = d.shards.iter().map(|s| s.state.read()).collect();
        for st in &guards {
            for (_, e) in st.table.iter() {
                let k = crate::table::Slot::key(e);
                if !e.is_expired(now) && (all || glob_match(pattern, k)) {
                    out.push(Bytes::copy_from_slice(k));
                }
            }
        }
        Ok(out)
    }

    /// DBSIZE: number of keys in `db` (keys expired but not yet reclaimed included, as in Redis).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"a", b"1", Default::default())?;
    /// store.hset(0, b"h", &[(b"f", b"v")])?;
    /// assert_eq!(store.dbsize(0)?, 2);
    /// assert_eq!(store.dbsize(1)?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn dbsize(&self, db: usize) -> Result<usize> {
        let d = self.db(db)?;
        // Counted under every shard's read lock, so a RENAME between two shards is seen
        // before or after, never half done.
        let guards: Vec<_> = d.shards.iter().map(|s| s.state.read()).collect();
        Ok(guards.iter().map(|st| st.table.len()).sum())
    }

    /// FLUSHDB: removes every key of `db`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"a", b"1", Default::default())?;
    /// store.set(1, b"b", b"1", Default::default())?;
    /// store.flushdb(0)?;
    /// assert_eq!((store.dbsize(0)?, store.dbsize(1)?), (0, 1));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn flushdb(&self, db: usize) -> Result<()> {
        self.check_db(db)?;
        self.flush(db..db + 1);
        Ok(())
    }

    /// FLUSHALL: removes every key of every database.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"a", b"1", Default::default())?;
    /// store.set(1, b"b", b"1", Default::default())?;
    /// store.flushall();
    /// assert_eq!((store.dbsize(0)?, store.dbsize(1)?), (0, 0));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn flushall(&self) {
        self.flush(0..self.databases());
    }

    /// Empties the databases in `dbs` in one step: every shard of them is locked before
    /// any is emptied, and the entries are freed after the locks are released.
    fn flush(&self, dbs: std::ops::Range<usize>) {
        let mut guards: Vec<_> = self.inner.dbs[dbs.clone()]
            .iter()
            .flat_map(|d| d.shards.iter())
            .map(|shard| (shard, shard.state.write()))
            .collect();
        if self.reports() {
            let now = self.now_ms();
            let per_db = self.shards_per_db();
            let start = dbs.start;
            let existed = |db: usize, key: &[u8]| {
                let Some(at) = db.checked_sub(start).filter(|_| dbs.contains(&db)) else {
                    return false;
                };
                let hash = self.hash(key);
                let st = &guards[at * per_db + self.shard_index(hash)].1;
                st.table
                    .find(hash, key)
                    .is_some_and(|i| !st.table.get(i).is_expired(now))
            };
            self.report_change(Change::Flushed {
                dbs: dbs.clone(),
                existed: &existed,
            });
        }
        let mut freed = Vec::with_capacity(guards.len());
        for (shard, st) in &mut guards {
            let before = st.total_bytes();
            freed.push(st.take_all(shard));
            // An empty shard still holds its eviction state's arrays.
            self.account(before, st.total_bytes());
        }
        for d in &self.inner.dbs[dbs] {
            d.avg_ttl_ms.store(0, Ordering::Relaxed);
        }
        drop(guards);
        drop(freed);
    }

    /// SWAPDB: exchanges the contents of two databases atomically.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"a", b"in 0", Default::default())?;
    /// store.swapdb(0, 1)?;
    /// assert_eq!(store.get(1, b"a")?.as_deref(), Some(&b"in 0"[..]));
    /// assert_eq!(store.dbsize(0)?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn swapdb(&self, a: usize, b: usize) -> Result<()> {
        self.check_db(a)?;
        self.check_db(b)?;
        if a == b {
            return Ok(());
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let n = self.shards_per_db();
        let mut ids: Vec<(usize, usize)> = (0..n).map(|s| (lo, s)).collect();
        ids.extend((0..n).map(|s| (hi, s)));
        let mut guards = self.lock_many(ids);
        if self.reports() {
            let now = self.now_ms();
            let live_in = |at: usize, key: &[u8]| {
                let hash = self.hash(key);
                let st = &guards[at + self.shard_index(hash)].1;
                st.table
                    .find(hash, key)
                    .is_some_and(|i| !st.table.get(i).is_expired(now))
            };
            let existed =
                |d: usize, key: &[u8]| (d == a || d == b) && (live_in(0, key) || live_in(n, key));
            self.report_change(Change::Swapped {
                a,
                b,
                existed: &existed,
            });
        }
        let (first, second) = guards.split_at_mut(n);
        for (s, ((_, ga), (_, gb))) in first.iter_mut().zip(second.iter_mut()).enumerate() {
            ga.swap_with(gb, self.shard(lo, s), self.shard(hi, s));
        }
        // The TTL estimate describes the keys, so it moves with them, as in Redis.
        let (da, db) = (&self.inner.dbs[lo], &self.inner.dbs[hi]);
        let t = da.avg_ttl_ms.load(Ordering::Relaxed);
        da.avg_ttl_ms
            .store(db.avg_ttl_ms.swap(t, Ordering::Relaxed), Ordering::Relaxed);
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Transfer {
    Rename { nx: bool },
    Copy { replace: bool },
    Move,
}
