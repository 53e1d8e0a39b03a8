//! WATCH bookkeeping: which transactions watch which keys, so that a write to a watched
//! key makes their EXEC fail.
//!
//! Writers consult the registry only while some key is watched ([`Watches::is_empty`] is
//! one relaxed load), so the common path pays nothing. Which keys a write really changed
//! is decided in `cmd::touched`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;

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

    /// Whether some transaction watches `key` of `db`.
    pub fn is_watched(&self, db: usize, key: &[u8]) -> bool {
        !self.is_empty()
            && self
                .by_db
                .lock()
                .get(&db)
                .is_some_and(|keys| keys.contains_key(key))
    }

    /// The watched keys of `db`, or of every database: what FLUSHDB, FLUSHALL and SWAPDB
    /// look at before they run.
    pub fn watched_in(&self, db: Option<usize>) -> Vec<(usize, Bytes)> {
        if self.is_empty() {
            return Vec::new();
        }
        let by_db = self.by_db.lock();
        by_db
            .iter()
            .filter(|(watched_db, _)| db.is_none_or(|db| db == **watched_db))
            .flat_map(|(db, keys)| keys.keys().map(|key| (*db, key.clone())))
            .collect()
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
        assert!(watches.is_watched(1, b"k"));
        assert!(!watches.is_watched(2, b"k"));
        assert_eq!(watches.watched_in(Some(1)), [(1, Bytes::from_static(b"k"))]);
        assert_eq!(watches.watched_in(None).len(), 2);
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
