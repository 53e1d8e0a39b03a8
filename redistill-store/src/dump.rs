//! DUMP and RESTORE's side of the keyspace: a key's value copied out with the name of its
//! encoding, and a value put back with RESTORE's rules (BUSYKEY unless replacing, a past
//! expiry stores nothing but deletes what is replaced, and the access metadata IDLETIME
//! and FREQ give). The byte format lives in `redistill-persist`; this module knows values
//! only as [`SnapshotValue`]s.

use redistill_evict::lfu;

use crate::changes::Event;
use crate::error::Result;
use crate::snapshot::{SnapshotValue, copy_entry};
use crate::store::Store;

/// A key's value as DUMP serializes it.
#[derive(Debug, Clone, PartialEq)]
pub struct DumpSource {
    /// The value, copied.
    pub value: SnapshotValue,
    /// Its encoding as OBJECT ENCODING names it (`"listpack"`, `"intset"`, `"hashtable"`,
    /// `"skiplist"`, `"quicklist"`, `"int"`, `"embstr"`, `"raw"`): the serialization
    /// follows it.
    pub encoding: &'static str,
}

/// RESTORE's options beyond the key, expiry and value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// REPLACE: overwrite an existing key instead of failing with BUSYKEY.
    pub replace: bool,
    /// IDLETIME: seconds the key reads as idle, under a policy that tracks idle time.
    pub idle_secs: Option<u64>,
    /// FREQ: the LFU counter to start from, under an LFU policy.
    pub freq: Option<u8>,
}

/// What RESTORE did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Restored {
    /// The key now holds the value.
    Created,
    /// The expiry had already passed: nothing is stored (a key REPLACE would have
    /// overwritten is deleted), and RESTORE still answers OK.
    Expired,
    /// The key exists and REPLACE was not given.
    BusyKey,
}

impl Store {
    /// DUMP's view of `key`: its value and encoding, or `None` when it does not exist.
    /// Counts as a read of the key.
    ///
    /// # Errors
    ///
    /// [`crate::StoreError::DbIndexOutOfRange`] for a bad `db`.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{SnapshotValue, Store};
    /// let store = Store::new();
    /// store.sadd(0, b"s", &[b"1", b"2"])?;
    /// let dumped = store.dump_value(0, b"s")?.unwrap();
    /// assert_eq!(dumped.encoding, "intset");
    /// assert!(matches!(dumped.value, SnapshotValue::Set(m) if m.len() == 2));
    /// assert_eq!(store.dump_value(0, b"missing")?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn dump_value(&self, db: usize, key: &[u8]) -> Result<Option<DumpSource>> {
        self.read(db, key, |e| {
            e.map(|e| DumpSource {
                value: copy_entry(e).value,
                encoding: e.encoding(),
            })
        })
    }

    /// RESTORE: stores `value` at `key` with an absolute expiry, as a new key (any old
    /// value is replaced whole, with REPLACE), reporting [`Event::Restore`], then sets the
    /// access metadata the options give. The check for an existing key and the write happen
    /// under one lock, so a concurrent writer cannot slip between them.
    ///
    /// # Errors
    ///
    /// [`crate::StoreError::DbIndexOutOfRange`] for a bad `db`.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use redistill_store::{ManualClock, RestoreOptions, Restored, SnapshotValue, Store};
    ///
    /// let store = Store::builder().clock(ManualClock::new(1_000_000)).build();
    /// let v = SnapshotValue::String(Bytes::from_static(b"v"));
    /// let idle = RestoreOptions { idle_secs: Some(30), ..Default::default() };
    /// assert_eq!(store.restore_key(0, b"k", None, v.clone(), idle)?, Restored::Created);
    /// assert_eq!(store.object_idletime(0, b"k")?, Some(30));
    /// assert_eq!(store.restore_key(0, b"k", None, v.clone(), Default::default())?, Restored::BusyKey);
    ///
    /// // A past expiry with REPLACE deletes the old value and stores nothing.
    /// let replace = RestoreOptions { replace: true, ..Default::default() };
    /// assert_eq!(store.restore_key(0, b"k", Some(5), v, replace)?, Restored::Expired);
    /// assert_eq!(store.get(0, b"k")?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn restore_key(
        &self,
        db: usize,
        key: &[u8],
        expire_at_ms: Option<u64>,
        value: SnapshotValue,
        options: RestoreOptions,
    ) -> Result<Restored> {
        self.check_db(db)?;
        let now = self.now_ms();
        let entry = if expire_at_ms.is_some_and(|at| at <= now) {
            None
        } else {
            self.build_entry(key, expire_at_ms, value)
        };
        let policy = self.inner.evictor.policy();
        let word = if policy.is_lfu() {
            options
                .freq
                .map(|f| (u32::from(lfu::minutes(now)) << 8) | u32::from(f))
        } else if policy.tracks_idle_time() {
            // The low 32 bits of the access time in ms, as the LRU clock keeps it.
            options
                .idle_secs
                .map(|s| now.saturating_sub(s.saturating_mul(1000)) as u32)
        } else {
            None
        };
        self.with_write(db, key, |ctx| {
            let existing = ctx.live(key);
            if existing.is_some() && !options.replace {
                return Ok(Restored::BusyKey);
            }
            let Some(entry) = entry else {
                if let Some(i) = existing {
                    ctx.remove(i);
                    ctx.emit(key, Event::Del);
                }
                return Ok(Restored::Expired);
            };
            ctx.put(existing, key, entry);
            if existing.is_some() {
                ctx.emit(key, Event::New);
            }
            ctx.emit(key, Event::Restore);
            if let (Some(word), Some(i)) = (word, ctx.st.table.find(ctx.hash, key)) {
                ctx.st.table.meta(i).set(word);
            }
            Ok(Restored::Created)
        })
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::{ManualClock, Policy};

    #[test]
    fn freq_sets_the_lfu_counter_under_lfu() {
        let store = Store::builder()
            .clock(ManualClock::new(10_000_000))
            .eviction_policy(Policy::AllKeysLfu)
            .build();
        let v = SnapshotValue::Integer(1);
        let opts = RestoreOptions {
            freq: Some(200),
            idle_secs: Some(5),
            ..RestoreOptions::default()
        };
        assert_eq!(
            store.restore_key(0, b"k", None, v, opts).unwrap(),
            Restored::Created
        );
        assert_eq!(store.object_freq(0, b"k").unwrap(), Some(200));
    }

    #[derive(Default)]
    struct Log(std::sync::Mutex<Vec<&'static str>>);

    impl crate::ChangeListener for Log {
        fn changed(&self, change: crate::Change<'_>) {
            if let crate::Change::Key { event, .. } = change {
                self.0.lock().unwrap().push(event.name());
            }
        }
    }

    #[test]
    fn events_are_redis_notifications() {
        let log = std::sync::Arc::new(Log::default());
        let store = Store::builder()
            .clock(ManualClock::new(1_000_000))
            .change_listener(log.clone())
            .build();
        let v = || SnapshotValue::Integer(1);
        let replace = RestoreOptions {
            replace: true,
            ..RestoreOptions::default()
        };
        let plain = RestoreOptions::default();
        store.restore_key(0, b"k", None, v(), plain).unwrap();
        store.restore_key(0, b"k", None, v(), plain).unwrap();
        store.restore_key(0, b"k", None, v(), replace).unwrap();
        store.restore_key(0, b"k", Some(10), v(), replace).unwrap();
        store
            .restore_key(0, b"gone", Some(10), v(), replace)
            .unwrap();
        assert_eq!(
            *log.0.lock().unwrap(),
            ["new", "restore", "new", "restore", "del"],
            "BUSYKEY and a past expiry on a missing key report nothing"
        );
    }

    #[test]
    fn encodings_come_with_the_value() {
        let store = Store::new();
        store.hset(0, b"h", &[(b"f", b"v")]).unwrap();
        let h = store.dump_value(0, b"h").unwrap().unwrap();
        assert_eq!(h.encoding, "listpack");
        assert_eq!(
            h.value,
            SnapshotValue::Hash(vec![(Bytes::from("f"), Bytes::from("v"))])
        );
    }
}
