//! Removal notifications: the store's change stream, narrowed to one database and to the
//! four ways an entry leaves a cache.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use redistill_store::{Change, ChangeListener, Event};

/// Why an entry left the cache, as told to the listener set with
/// [`CacheBuilder::listener`](crate::CacheBuilder::listener).
///
/// # Examples
///
/// ```
/// use redistill_cache::RemovalCause;
/// assert!(RemovalCause::Evicted.was_automatic());
/// assert!(!RemovalCause::Removed.was_automatic());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RemovalCause {
    /// Its time to live passed (reported when the key is reclaimed: by the background
    /// expiry, a write to it, or a read that finds it expired and deletes it).
    Expired,
    /// The memory bound made room for another write.
    Evicted,
    /// An insert overwrote its value.
    Replaced,
    /// [`Cache::remove`](crate::Cache::remove), [`Cache::clear`](crate::Cache::clear), or a
    /// deleting command run through [`Cache::store`](crate::Cache::store).
    Removed,
}

impl RemovalCause {
    /// Whether the cache removed the entry by itself (expiry or eviction) rather than on
    /// a caller's request.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_cache::RemovalCause;
    /// assert!(RemovalCause::Expired.was_automatic());
    /// assert!(!RemovalCause::Replaced.was_automatic());
    /// ```
    pub fn was_automatic(self) -> bool {
        matches!(self, RemovalCause::Expired | RemovalCause::Evicted)
    }
}

/// The listener's type: the key and why it left.
pub(crate) type ListenerFn = Arc<dyn Fn(&[u8], RemovalCause) + Send + Sync>;

thread_local! {
    /// Set by a `new` event and taken by the `set` that follows it for the same key: a
    /// `set` with no `new` before it overwrote a live value.
    static CREATED: Cell<bool> = const { Cell::new(false) };
}

/// Turns the store's per-key events for database `db` into [`RemovalCause`]s.
///
/// The store reports one write's events back to back on the writing thread, under the
/// key's shard lock: `new` (only for a key that did not exist), then `set`, so a
/// thread-local flag tells an overwrite from a creation.
pub(crate) struct RemovalListener {
    pub(crate) db: usize,
    pub(crate) on_removal: ListenerFn,
}

impl fmt::Debug for RemovalListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemovalListener")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl ChangeListener for RemovalListener {
    fn changed(&self, change: Change<'_>) {
        let Change::Key { db, key, event } = change else {
            // FLUSHDB/FLUSHALL/SWAPDB run through `store()`: the keys are not listed.
            // `Cache::clear` deletes key by key when a listener is installed.
            return;
        };
        if db != self.db {
            return;
        }
        let created = CREATED.with(|c| c.replace(event == Event::New));
        let cause = match event {
            Event::Set if !created => RemovalCause::Replaced,
            Event::Del => RemovalCause::Removed,
            Event::Expired => RemovalCause::Expired,
            Event::Evicted => RemovalCause::Evicted,
            _ => return,
        };
        (self.on_removal)(key, cause);
    }
}
