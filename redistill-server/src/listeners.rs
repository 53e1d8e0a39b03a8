//! Everything in the server that follows the store's changes, behind the one listener the
//! store takes.

use redistill_store::{Change, ChangeListener};

use crate::blocking::BlockingListener;
use crate::watch::WatchListener;

/// Tells each part of the server that follows changes about every change: WATCH's
/// transactions, and the clients blocked on keys.
pub(crate) struct KeyspaceListeners {
    pub watches: WatchListener,
    pub blocking: BlockingListener,
}

impl ChangeListener for KeyspaceListeners {
    /// Two relaxed loads when nothing is watched and nobody is blocked: this runs for every
    /// change the store makes, and each listener skips it while idle.
    #[inline]
    fn changed(&self, change: Change<'_>) {
        self.watches.see(&change);
        self.blocking.see(&change);
    }
}
