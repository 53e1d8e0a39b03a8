//! A consistency check of the whole store, for tests and fuzzing: what the write paths keep
//! in step (tables and their lookups, the TTL index, the memory accounting, the size
//! mirrors, the eviction policy's state) recomputed from the entries and compared.

use std::sync::atomic::Ordering;

use crate::entry::{Entry, KIND_INT, KIND_MASK, PACKED_SET, PACKED_ZSET, build};
use crate::evict::KeyView;
use crate::memory::alloc_size;
use crate::packed::hash_ref;
use crate::setobj::SetObj;
use crate::shard::{Shard, ShardState};
use crate::store::Store;
use crate::table::Slot;
use crate::zsetobj::ZSetObj;

impl Store {
    /// Checks that every shard is consistent with itself and with the store's counters:
    ///
    /// - each table's entries are found by a lookup of their own key, at their own slot, in
    ///   the shard their hash names, and number what the table (and `DBSIZE`, INFO
    ///   keyspace) reports; the load stays under the table's bound;
    /// - entry headers decode and re-encode to themselves; a hash is non-empty, its
    ///   field table consistent, its byte total and listpack latch right; a list is
    ///   non-empty, its byte total and node counts right;
    /// - the TTL index holds exactly the keys whose entries carry a TTL;
    /// - each shard's byte count equals the sum recomputed from its entries and index, and
    ///   with a memory limit set, the running total equals a full recount;
    /// - the eviction policy's state passes its own check, and no entry is queued live in
    ///   the S3-FIFO queues twice.
    ///
    /// Holds every shard's read lock while it runs. Writers running at the same time make
    /// the memory total comparison meaningless: call it between operations.
    ///
    /// # Errors
    ///
    /// A description of the first inconsistency found, naming its database and shard.
    ///
    /// # Examples
    ///
    /// ```
    /// let store = redistill_store::Store::builder().max_memory(1 << 20).build();
    /// store.set(0, b"k", b"v", Default::default())?;
    /// store.check_invariants().expect("consistent");
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Result<(), String> {
        let inner = &self.inner;
        let guards: Vec<Vec<_>> = inner
            .dbs
            .iter()
            .map(|db| db.shards.iter().map(|s| s.state.read()).collect())
            .collect();
        let mut used = std::mem::size_of_val(&*inner.dbs);
        for (d, (db, states)) in inner.dbs.iter().zip(&guards).enumerate() {
            used += std::mem::size_of_val(&*db.shards);
            let (mut keys, mut expires) = (0, 0);
            for (s, (shard, st)) in db.shards.iter().zip(states).enumerate() {
                self.check_shard(s, shard, st)
                    .map_err(|e| format!("db {d} shard {s}: {e}"))?;
                keys += st.table.len();
                expires += st.volatile.len();
                used += st.total_bytes();
            }
            let info = self.db_info(d).map_err(|e| e.to_string())?;
            if (info.keys, info.expires) != (keys, expires) {
                return Err(format!(
                    "db {d}: INFO keyspace says keys={} expires={}, the tables hold {keys} \
                     and {expires}",
                    info.keys, info.expires
                ));
            }
        }
        if self.max_memory() > 0 {
            let running = inner.approx_used.load(Ordering::Relaxed);
            if usize::try_from(running).ok() != Some(used) {
                return Err(format!(
                    "memory total {running} under a limit, a recount finds {used}"
                ));
            }
        }
        Ok(())
    }

    /// The checks of one shard, `s` of its database, under its read lock.
    fn check_shard(&self, s: usize, shard: &Shard, st: &ShardState) -> Result<(), String> {
        st.table.check()?;
        st.volatile.check()?;
        let mirrors = (
            shard.len.load(Ordering::Relaxed),
            shard.volatile_len.load(Ordering::Relaxed),
        );
        if mirrors != (st.table.len(), st.volatile.len()) {
            return Err(format!(
                "size mirrors {mirrors:?}, tables hold ({}, {})",
                st.table.len(),
                st.volatile.len()
            ));
        }
        let mut bytes = 0;
        let mut with_ttl = 0;
        for (_, entry) in st.table.iter() {
            let key = entry.key();
            let home = self.shard_index(self.hash(key));
            if home != s {
                return Err(format!("key {key:?} belongs in shard {home}"));
            }
            check_entry(entry).map_err(|e| format!("key {key:?}: {e}"))?;
            bytes += entry.footprint();
            if entry.has_expire() {
                with_ttl += 1;
                let h = st.volatile.hash(key);
                if st.volatile.find(h, key).is_none() {
                    return Err(format!("key {key:?} has a TTL but is not in the TTL index"));
                }
            }
        }
        for (_, copy) in st.volatile.iter() {
            let key = copy.key();
            let i = st.table.find(st.table.hash(key), key);
            if !i.is_some_and(|i| st.table.get(i).has_expire()) {
                return Err(format!("TTL index holds {key:?}, which has no TTL here"));
            }
            bytes += alloc_size(key.len());
        }
        if with_ttl != st.volatile.len() {
            return Err(format!(
                "{with_ttl} keys have a TTL, the TTL index holds {}",
                st.volatile.len()
            ));
        }
        if bytes != st.entry_bytes {
            return Err(format!(
                "entry bytes counted {}, recomputed {bytes}",
                st.entry_bytes
            ));
        }
        st.evict
            .check_invariants()
            .map_err(|e| format!("eviction state: {e}"))?;
        let view = KeyView::new(&st.table, &st.volatile, 0);
        let (small, main) = st.evict.s3fifo_live_counts(&view);
        if small + main > st.table.len() {
            return Err(format!(
                "S3-FIFO queues {small} + {main} live slots for {} keys",
                st.table.len()
            ));
        }
        Ok(())
    }
}

/// An entry's header is canonical, an integer string holds its 8 bytes, and a hash is
/// non-empty with its byte total and encoding latch right.
fn check_entry(entry: &Entry) -> Result<(), String> {
    let blob = entry.head_blob();
    let h = entry.head();
    if h.key_end > blob.len() || h.value_start > blob.len() {
        return Err("header runs past its blob".into());
    }
    let rebuilt = build(
        h.flags,
        &blob[h.key_start..h.key_end],
        h.expire,
        &blob[h.value_start..],
    );
    if *rebuilt != *blob {
        return Err("header does not re-encode to itself".into());
    }
    match entry {
        Entry::Str(_) => {
            if h.flags & KIND_MASK == KIND_INT && blob.len() - h.value_start != 8 {
                return Err("integer string without its 8 bytes".into());
            }
        }
        Entry::Obj(o) => {
            if h.value_start != o.head.len() {
                return Err("boxed value's header carries value bytes".into());
            }
        }
    }
    if let Some(list) = entry.as_list() {
        if list.is_empty() {
            return Err("empty list kept".into());
        }
        list.check().map_err(|e| format!("list: {e}"))?;
    }
    if let Some(value) = entry.packed(PACKED_ZSET) {
        let z = ZSetObj::unpack(value);
        if z.is_empty() {
            return Err("empty sorted set kept".into());
        }
        z.check().map_err(|e| format!("packed sorted set: {e}"))?;
    }
    if entry.as_zset().is_some_and(|z| !z.is_big()) {
        return Err("compact sorted set boxed apart from its key".into());
    }
    if let Some(z) = entry.as_zset() {
        if z.is_empty() {
            return Err("empty sorted set kept".into());
        }
        z.check().map_err(|e| format!("sorted set: {e}"))?;
        if let Some(t) = z.table() {
            t.check().map_err(|e| format!("sorted set members: {e}"))?;
        }
    }
    if let Some(value) = entry.packed(PACKED_SET) {
        let set = SetObj::unpack(value);
        if set.is_empty() {
            return Err("empty set kept".into());
        }
        if set.pack().as_deref() != Some(value) {
            return Err("packed set not as it packs".into());
        }
    }
    if entry
        .as_set()
        .is_some_and(|s| !matches!(s, SetObj::Table(_) | SetObj::IntTable(_)))
    {
        return Err("compact set boxed apart from its key".into());
    }
    match entry.as_set() {
        Some(SetObj::Table(t)) => t.check().map_err(|e| format!("set members: {e}"))?,
        Some(SetObj::IntTable(t)) => t.check().map_err(|e| format!("set integers: {e}"))?,
        _ => {}
    }
    if entry.as_hash().is_some_and(|h| h.view().is_packed()) {
        return Err("packed hash boxed apart from its key".into());
    }
    let Some(hash) = hash_ref(entry) else {
        return Ok(());
    };
    if hash.len() == 0 {
        return Err("empty hash kept".into());
    }
    hash.check()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{ExpireCommand, ExpireCondition, ManualClock, Policy, SetOptions, Store};

    #[test]
    fn a_busy_store_passes() {
        let clock = ManualClock::new(1_000_000);
        let store = Store::builder()
            .databases(2)
            .shards(4)
            .max_memory(64 << 10)
            .eviction_policy(Policy::AllKeysS3Fifo)
            .clock(clock.clone())
            .build();
        for i in 0..500u32 {
            let key = format!("k{}", i % 97);
            store
                .set(0, key.as_bytes(), &[b'x'; 100], SetOptions::default())
                .expect("set");
            store.psetex(1, key.as_bytes(), 10, b"v").expect("psetex");
            store
                .hset(
                    0,
                    format!("h{}", i % 13).as_bytes(),
                    &[(key.as_bytes(), &b"1"[..])],
                )
                .ok();
            if i % 50 == 0 {
                clock.advance(20);
                store.active_expire_cycle(usize::MAX);
            }
            store.check_invariants().expect("consistent");
        }
        store.swapdb(0, 1).expect("swapdb");
        store.flushdb(1).expect("flushdb");
        store.check_invariants().expect("consistent");
    }

    /// A read that finds its key expired deletes it; under a memory limit the running
    /// total must drop by what the entry held, or the store drifts towards evicting (or
    /// refusing writes) with memory to spare.
    #[test]
    fn a_read_deleting_an_expired_key_gives_its_memory_back() {
        let clock = ManualClock::new(1_000_000);
        let store = Store::builder()
            .shards(1)
            .max_memory(1 << 30)
            .clock(clock.clone())
            .build();
        store.psetex(0, b"k", 10, &[b'x'; 300]).expect("psetex");
        store
            .hset(0, b"h", &[(&b"f"[..], &b"v"[..])])
            .expect("hset");
        store
            .expire(
                0,
                b"h",
                1,
                ExpireCommand::Expire,
                ExpireCondition::default(),
            )
            .expect("expire");
        clock.advance(5_000);
        assert_eq!(store.get(0, b"k").expect("get"), None);
        assert_eq!(store.hgetall(0, b"h").expect("hgetall"), vec![]);
        store.check_invariants().expect("consistent");
    }
}
