//! Everything in the server that follows the store's changes, behind the one listener the
//! store takes.

use redistill_store::{Change, ChangeListener};

use crate::blocking::BlockingListener;
use crate::notifications::NotificationListener;
use crate::tracking::TrackingListener;
use crate::watch::WatchListener;

/// Tells each part of the server that follows changes about every change: WATCH's
/// transactions, the clients blocked on keys, keyspace notifications, and client-side
/// caching's table.
pub(crate) struct KeyspaceListeners {
    pub watches: WatchListener,
    pub blocking: BlockingListener,
    pub notifications: NotificationListener,
    pub tracking: TrackingListener,
}

impl ChangeListener for KeyspaceListeners {
    /// Four relaxed loads when nothing is watched, nobody is blocked, notifications are
    /// off and nothing is tracked: this runs for every change the store makes, and each
    /// listener skips it while idle.
    #[inline]
    fn changed(&self, change: Change<'_>) {
        self.watches.see(&change);
        self.blocking.see(&change);
        self.notifications.see(&change);
        self.tracking.see(&change);
    }

    /// Only keyspace notifications follow key misses.
    fn missed(&self, db: usize, key: &[u8]) {
        self.notifications.missed(db, key);
    }
}
