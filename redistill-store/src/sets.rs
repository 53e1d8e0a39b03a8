//! Set commands: SADD, SREM, SMEMBERS, SPOP, SRANDMEMBER, SMOVE, SINTER/SUNION/SDIFF (and
//! their STORE forms), SINTERCARD and SSCAN; and the set encoding settings.

use std::sync::atomic::Ordering;

use crate::entry::Entry;
use crate::setobj::{SetLimits, SetObj};
use crate::store::Store;

impl Store {
    /// The set limits in force, with the store's hasher.
    pub(crate) fn set_limits(&self) -> SetLimits {
        SetLimits {
            intset_entries: self.inner.set_intset_entries.load(Ordering::Relaxed),
            listpack_entries: self.inner.set_listpack_entries.load(Ordering::Relaxed),
            listpack_value: self.inner.set_listpack_value.load(Ordering::Relaxed),
            hasher: self.inner.hasher.clone(),
        }
    }

    /// Sets `set-max-intset-entries`: most members a set of integers keeps in the compact
    /// integer encoding. Sets already larger keep their encoding until written.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.set_max_intset_entries(), 512);
    /// store.set_set_max_intset_entries(2);
    /// assert_eq!(store.set_max_intset_entries(), 2);
    /// ```
    pub fn set_set_max_intset_entries(&self, n: usize) {
        self.inner.set_intset_entries.store(n, Ordering::Relaxed);
    }

    /// `set-max-intset-entries` as set (default 512).
    pub fn set_max_intset_entries(&self) -> usize {
        self.inner.set_intset_entries.load(Ordering::Relaxed)
    }

    /// Sets `set-max-listpack-entries`: most members a set keeps in the compact packed
    /// encoding.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.set_max_listpack_entries(), 128);
    /// store.set_set_max_listpack_entries(4);
    /// assert_eq!(store.set_max_listpack_entries(), 4);
    /// ```
    pub fn set_set_max_listpack_entries(&self, n: usize) {
        self.inner.set_listpack_entries.store(n, Ordering::Relaxed);
    }

    /// `set-max-listpack-entries` as set (default 128).
    pub fn set_max_listpack_entries(&self) -> usize {
        self.inner.set_listpack_entries.load(Ordering::Relaxed)
    }

    /// Sets `set-max-listpack-value`: longest member a packed set keeps.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.set_max_listpack_value(), 64);
    /// store.set_set_max_listpack_value(8);
    /// assert_eq!(store.set_max_listpack_value(), 8);
    /// ```
    pub fn set_set_max_listpack_value(&self, n: usize) {
        self.inner.set_listpack_value.store(n, Ordering::Relaxed);
    }

    /// `set-max-listpack-value` as set (default 64).
    pub fn set_max_listpack_value(&self) -> usize {
        self.inner.set_listpack_value.load(Ordering::Relaxed)
    }
}

#[allow(dead_code)]
fn _entry_of(e: &Entry) -> Option<&SetObj> {
    e.as_set()
}
