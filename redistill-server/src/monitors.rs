//! The clients in MONITOR mode: each receives, through its [`Outbox`], a line for every
//! command any client runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::RwLock;

use crate::push::Outbox;

/// Every monitoring client's outbox, with a count that commands read to skip all of it
/// while there is none.
#[derive(Default)]
pub(crate) struct Monitors {
    count: AtomicUsize,
    outboxes: RwLock<Vec<Arc<Outbox>>>,
}

impl Monitors {
    /// Whether any client monitors: one relaxed load, for every command.
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Relaxed) > 0
    }

    pub fn add(&self, outbox: Arc<Outbox>) {
        let mut outboxes = self.outboxes.write();
        outboxes.push(outbox);
        self.count.store(outboxes.len(), Ordering::Relaxed);
    }

    pub fn remove(&self, outbox: &Arc<Outbox>) {
        let mut outboxes = self.outboxes.write();
        outboxes.retain(|o| !Arc::ptr_eq(o, outbox));
        self.count.store(outboxes.len(), Ordering::Relaxed);
    }

    /// Calls `f` with each monitoring client's outbox.
    pub fn for_each(&self, mut f: impl FnMut(&Arc<Outbox>)) {
        for outbox in self.outboxes.read().iter() {
            f(outbox);
        }
    }
}
