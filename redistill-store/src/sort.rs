//! SORT's store side: its STORE destination, written as a list.

use crate::changes::Event;
use crate::entry::Entry;
use crate::error::Result;
use crate::quicklist::ListEnd;
use crate::store::Store;

impl Store {
    /// Replaces `key` with a list of `elements` (whatever it held), reporting `event`, or
    /// deletes it when `elements` is empty (reporting `del` if it existed), as SORT STORE
    /// does. Returns the list's length.
    ///
    /// # Errors
    ///
    /// [`crate::StoreError::OutOfMemory`] over the memory limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Event, Store};
    /// let store = Store::new();
    /// store.set(0, b"dst", b"x", Default::default())?;
    /// assert_eq!(store.store_list(0, b"dst", &[b"a", b"b"], Event::SortStore)?, 2);
    /// assert_eq!(store.lrange(0, b"dst", 0, -1)?, [&b"a"[..], b"b"]);
    /// assert_eq!(store.store_list(0, b"dst", &[], Event::SortStore)?, 0);
    /// assert_eq!(store.exists(0, &[b"dst"])?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn store_list(
        &self,
        db: usize,
        key: &[u8],
        elements: &[&[u8]],
        event: Event,
    ) -> Result<usize> {
        if !elements.is_empty() {
            self.check_memory()?;
        }
        let mut list = self.new_list_obj();
        for e in elements {
            list.push(ListEnd::Right, e);
        }
        self.write_keys(db, &[key], |w| {
            if elements.is_empty() {
                w.remove(0, key);
            } else {
                w.put(0, key, Entry::new_list(key, list));
                w.emit(key, event);
            }
        })?;
        Ok(elements.len())
    }
}
