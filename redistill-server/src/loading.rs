//! Loading the snapshot while the server already listens, as Redis does: clients connect at
//! once, data commands are answered `-LOADING` until the keyspace is in memory, and INFO,
//! `/health` and the log show the progress.
//!
//! [`Loading`] is the shared progress record: the snapshot driver updates it as it reads,
//! the command dispatcher, INFO persistence and the health endpoint read it without locks.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::{Condvar, Mutex};

/// Redis's reply to a command that needs the data while the snapshot loads.
pub(crate) const LOADING_ERROR: &str = "LOADING Redis is loading the dataset in memory";

/// How often a long load logs its progress.
pub(crate) const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Where a load stands, shared by the loader, the dispatcher, INFO and `/health`.
///
/// A load that failed stays active: the keyspace holds part of the file, so data commands
/// keep being refused and nothing is saved while the server exits.
///
/// Every command reads `active`: the record has a cache line of its own, away from the
/// save counters that change while a save runs.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct Loading {
    active: AtomicBool,
    /// Unix seconds the load began.
    start_unix: AtomicU64,
    total_bytes: AtomicU64,
    loaded_bytes: AtomicU64,
    /// The outcome once the load ended: `None` while running or never started.
    outcome: Mutex<Option<Result<(), String>>>,
    ended: Condvar,
}

impl Loading {
    /// Marks a load as started now; its size is set with [`Loading::size`] once known.
    pub fn begin(&self) {
        self.start_unix.store(unix_now(), Ordering::Relaxed);
        self.total_bytes.store(0, Ordering::Relaxed);
        self.loaded_bytes.store(0, Ordering::Relaxed);
        *self.outcome.lock() = None;
        self.active.store(true, Ordering::Release);
    }

    /// Records the size of the file being loaded.
    pub fn size(&self, total_bytes: u64) {
        self.total_bytes.store(total_bytes, Ordering::Relaxed);
    }

    /// Records how far the load has read.
    pub fn progress(&self, loaded_bytes: u64) {
        self.loaded_bytes.store(loaded_bytes, Ordering::Relaxed);
    }

    /// Ends the load with its outcome and wakes whoever waits for it. Only a load that
    /// succeeded stops being active.
    pub fn end(&self, outcome: Result<(), String>) {
        let mut slot = self.outcome.lock();
        if outcome.is_ok() {
            self.active.store(false, Ordering::Release);
        }
        *slot = Some(outcome);
        self.ended.notify_all();
    }

    /// Whether the keyspace is not (yet, or ever) fully loaded: data commands are refused
    /// with [`LOADING_ERROR`] and no save may run.
    pub fn active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    /// The failure of a load that ended badly.
    pub fn failure(&self) -> Option<String> {
        match &*self.outcome.lock() {
            Some(Err(e)) => Some(e.clone()),
            _ => None,
        }
    }

    /// Blocks until the load ends, and returns its outcome (`Ok` when none ran).
    pub fn wait(&self) -> Result<(), String> {
        let mut slot = self.outcome.lock();
        while slot.is_none() && self.active() {
            self.ended.wait(&mut slot);
        }
        slot.clone().unwrap_or(Ok(()))
    }

    /// The figures INFO and `/health` show.
    pub fn figures(&self) -> Figures {
        let total = self.total_bytes.load(Ordering::Relaxed);
        let loaded = self.loaded_bytes.load(Ordering::Relaxed);
        let start = self.start_unix.load(Ordering::Relaxed);
        let elapsed = unix_now().saturating_sub(start);
        let (perc, remaining) = if total == 0 {
            (0.0, 1)
        } else {
            (
                loaded as f64 / total as f64 * 100.0,
                total.saturating_sub(loaded),
            )
        };
        // As Redis estimates: the remaining bytes at the rate so far, 1 s before a second
        // has passed.
        let eta = if elapsed == 0 {
            1
        } else {
            elapsed.saturating_mul(remaining) / loaded.saturating_add(1)
        };
        Figures {
            start_unix: start,
            total_bytes: total,
            loaded_bytes: loaded,
            loaded_perc: perc,
            eta_seconds: eta,
        }
    }

    /// The lines INFO persistence adds while a load runs, after the AOF lines, as Redis
    /// writes them. The snapshot format records no memory figure, so
    /// `loading_rdb_used_mem` is 0.
    pub fn info_text(&self, out: &mut String) {
        if !self.active() {
            return;
        }
        let f = self.figures();
        let _ = write!(
            out,
            "loading_start_time:{}\r\nloading_total_bytes:{}\r\nloading_rdb_used_mem:0\r\n\
             loading_loaded_bytes:{}\r\nloading_loaded_perc:{:.2}\r\nloading_eta_seconds:{}\r\n",
            f.start_unix, f.total_bytes, f.loaded_bytes, f.loaded_perc, f.eta_seconds
        );
    }
}

/// A load's progress at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Figures {
    pub start_unix: u64,
    pub total_bytes: u64,
    pub loaded_bytes: u64,
    pub loaded_perc: f64,
    pub eta_seconds: u64,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_lines_appear_only_while_loading() {
        let loading = Loading::default();
        let mut out = String::new();
        loading.info_text(&mut out);
        assert!(out.is_empty());
        loading.begin();
        loading.size(1000);
        loading.progress(250);
        loading.info_text(&mut out);
        assert!(out.contains("loading_total_bytes:1000\r\n"), "{out}");
        assert!(out.contains("loading_loaded_bytes:250\r\n"), "{out}");
        assert!(out.contains("loading_loaded_perc:25.00\r\n"), "{out}");
        assert!(out.contains("loading_rdb_used_mem:0\r\n"), "{out}");
        loading.end(Ok(()));
        assert!(!loading.active());
        assert_eq!(loading.wait(), Ok(()));
    }

    #[test]
    fn the_eta_is_one_second_until_a_second_has_passed() {
        let loading = Loading::default();
        loading.begin();
        assert_eq!(loading.figures().eta_seconds, 1);
        assert!(loading.figures().loaded_perc.abs() < f64::EPSILON);
    }

    #[test]
    fn a_failed_load_stays_active_and_says_why() {
        let loading = Loading::default();
        loading.begin();
        loading.end(Err("bad".into()));
        assert_eq!(loading.wait(), Err("bad".into()));
        assert!(
            loading.active(),
            "a failed load leaves the keyspace refused"
        );
        assert_eq!(loading.failure().as_deref(), Some("bad"));
    }
}
