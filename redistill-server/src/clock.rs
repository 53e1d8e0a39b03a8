//! A coarse wall clock for TTL checks.
//!
//! Reading the OS clock on every command costs more than many commands do, so workers
//! refresh one shared reading each time their event loop wakes, and the store reads that.
//! Commands of one pipelined batch therefore share a timestamp, as they do in Redis.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use redistill_store::{Clock, SystemClock};

/// The shared clock reading; clones see the same time.
#[derive(Debug, Clone)]
pub struct CoarseClock {
    now_ms: Arc<AtomicU64>,
}

impl CoarseClock {
    /// A clock reading the current time.
    pub fn new() -> Self {
        let clock = CoarseClock {
            now_ms: Arc::new(AtomicU64::new(0)),
        };
        clock.refresh();
        clock
    }

    /// Reads the OS clock into the shared reading.
    pub fn refresh(&self) {
        self.now_ms.store(SystemClock.now_ms(), Ordering::Relaxed);
    }

    /// Sets the shared reading, for a caller that drives time itself (no thread refreshes
    /// it then).
    pub(crate) fn set(&self, now_ms: u64) {
        self.now_ms.store(now_ms, Ordering::Relaxed);
    }
}

impl Default for CoarseClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for CoarseClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::Relaxed)
    }
}
