//! WATCH bookkeeping: which transactions watch which keys, so that a change to a watched
//! key makes their EXEC fail.
//!
//! The store reports every key it changes to a [`WatchListener`], which flags the
//! transactions watching it. A write that changes nothing (SET NX on an existing key, DEL
//! of a missing one, an EXPIRE whose condition fails) is not reported, so it leaves the
//! transactions alone, as in Redis. The listener consults the registry only while some key
//! is watched ([`Watches::is_empty`] is one relaxed load), so the common path pays nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use redistill_store::{Change, ChangeListener, Event};

/// A transaction's "a watched key changed" flag, shared with the registry.
pub(crate) type DirtyFlag = Arc<AtomicBool>;

/// Watched keys per database, each with the flags of the transactions watching it.
#[derive(Default)]
pub(crate) struct Watches {
    registrations: AtomicUsize,
    by_db: Mutex<HashMap<usize, HashMap<Bytes, Vec<DirtyFlag>>>>,
}

impl Watches {
    pub fn is_empty(&self) -> bool {
        self.registrations.load(Ordering::Relaxed) == 0
    }

    pub fn watch(&self, db: usize, key: Bytes, flag: &DirtyFlag) {
        let mut by_db = self.by_db.lock();
        let watchers = by_db.entry(db).or_default().entry(key).or_default();
        if !watchers.iter().any(|f| Arc::ptr_eq(f, flag)) {
            watchers.push(Arc::clone(flag));
            self.registrations.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn unwatch(&self, keys: &[(usize, Bytes)], flag: &DirtyFlag) {
        if keys.is_empty() {
            return;
        }
        let mut by_db = self.by_db.lock();
        for (db, key) in keys {
            let Some(keys_of_db) = by_db.get_mut(db) else {
                continue;
            };
            if let Some(watchers) = keys_of_db.get_mut(key.as_ref()) {
                let before = watchers.len();
                watchers.retain(|f| !Arc::ptr_eq(f, flag));
                self.registrations
                    .fetch_sub(before - watchers.len(), Ordering::Relaxed);
                if watchers.is_empty() {
                    keys_of_db.remove(key.as_ref());
                }
            }
            if keys_of_db.is_empty() {
                by_db.remove(db);
            }
        }
    }

    /// A key of `db` was written.
    pub fn touch(&self, db: usize, key: &[u8]) {
        if self.is_empty() {
            return;
        }
        if let Some(watchers) = self.by_db.lock().get(&db).and_then(|keys| keys.get(key)) {
            for flag in watchers {
                flag.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Flags the watchers of every watched key of the databases `dbs` accepts for which
    /// `changed(db, key)` holds: what FLUSHDB, FLUSHALL and SWAPDB change.
    pub fn touch_where(&self, dbs: impl Fn(usize) -> bool, changed: impl Fn(usize, &[u8]) -> bool) {
        if self.is_empty() {
            return;
        }
        let by_db = self.by_db.lock();
        for (&db, keys) in by_db.iter().filter(|(db, _)| dbs(**db)) {
            for (key, watchers) in keys {
                if changed(db, key) {
                    for flag in watchers {
                        flag.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
    }
}

/// Flags the transactions watching the keys the store reports changed.
///
/// Runs while the store holds the changed key's shard lock, and takes only the registry's
/// own lock, which is never held while the store is called.
pub(crate) struct WatchListener(pub Arc<Watches>);

impl WatchListener {
    /// Whether any key is watched: while none is, changes need not be looked at.
    #[inline]
    fn is_idle(&self) -> bool {
        self.0.is_empty()
    }

    /// Flags the transactions watching what `change` changed.
    fn record(&self, change: &Change<'_>) {
        let watches = &self.0;
        match *change {
            // A key that expired was either live when watched, and EXEC finds it gone, or
            // already expired then, and its removal changes nothing (as in Redis).
            Change::Key {
                event: Event::Expired,
                ..
            } => {}
            Change::Key { db, key, .. } => watches.touch(db, key),
            Change::Flushed { ref dbs, existed } => {
                watches.touch_where(|db| dbs.contains(&db), existed);
            }
            // A watched key of either database changes if it was in either of them.
            Change::Swapped { a, b, existed } => {
                watches.touch_where(|db| db == a || db == b, existed);
            }
            _ => {}
        }
    }
}

impl WatchListener {
    /// Looks at `change` unless idle: what [`ChangeListener::changed`] does, by
    /// reference, so that one change can be shown to several listeners without a copy.
    #[inline]
    pub(crate) fn see(&self, change: &Change<'_>) {
        if !self.is_idle() {
            self.record(change);
        }
    }
}

impl ChangeListener for WatchListener {
    #[inline]
    fn changed(&self, change: Change<'_>) {
        self.see(&change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_flags_only_watchers_of_that_key_and_db() {
        let watches = Watches::default();
        let a: DirtyFlag = Arc::default();
        let b: DirtyFlag = Arc::default();
        watches.watch(0, Bytes::from_static(b"k"), &a);
        watches.watch(1, Bytes::from_static(b"k"), &b);
        watches.touch(0, b"other");
        assert!(!a.load(Ordering::Relaxed));
        watches.touch(0, b"k");
        assert!(a.load(Ordering::Relaxed));
        assert!(!b.load(Ordering::Relaxed));
        assert!(!b.load(Ordering::Relaxed));
        watches.touch_where(|db| db == 1, |_, key| key == b"other");
        assert!(!b.load(Ordering::Relaxed));
        watches.touch_where(|db| db == 1, |_, key| key == b"k");
        assert!(b.load(Ordering::Relaxed));
    }

    #[test]
    fn the_listener_flags_changed_keys_but_not_expired_ones() {
        let watches = Arc::new(Watches::default());
        let listener = WatchListener(Arc::clone(&watches));
        let flag: DirtyFlag = Arc::default();
        watches.watch(0, Bytes::from_static(b"k"), &flag);
        let key = |event| Change::Key {
            db: 0,
            key: b"k",
            event,
        };
        listener.changed(key(Event::Expired));
        assert!(!flag.load(Ordering::Relaxed));
        listener.changed(key(Event::Evicted));
        assert!(flag.load(Ordering::Relaxed));

        let flag: DirtyFlag = Arc::default();
        watches.watch(3, Bytes::from_static(b"k"), &flag);
        listener.changed(Change::Swapped {
            a: 1,
            b: 2,
            existed: &|_, _| true,
        });
        listener.changed(Change::Flushed {
            dbs: 3..4,
            existed: &|_, _| false,
        });
        assert!(!flag.load(Ordering::Relaxed));
        listener.changed(Change::Flushed {
            dbs: 0..16,
            existed: &|db, key| db == 3 && key == b"k",
        });
        assert!(flag.load(Ordering::Relaxed));
    }

    #[test]
    fn unwatch_empties_the_registry() {
        let watches = Watches::default();
        let a: DirtyFlag = Arc::default();
        let keys = [(0, Bytes::from_static(b"x")), (0, Bytes::from_static(b"y"))];
        for (db, key) in &keys {
            watches.watch(*db, key.clone(), &a);
            watches.watch(*db, key.clone(), &a);
        }
        assert!(!watches.is_empty());
        watches.unwatch(&keys, &a);
        assert!(watches.is_empty());
        assert!(watches.by_db.lock().is_empty());
    }
}
