//! Server-wide counters behind INFO.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters shared by every worker; relaxed atomics, read only for reporting.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub connections_received: AtomicU64,
    pub connected_clients: AtomicU64,
    pub rejected_connections: AtomicU64,
    /// Failed AUTH and HELLO AUTH attempts (`acl_access_denied_auth`).
    pub auth_failures: AtomicU64,
    /// TLS handshakes accepted and not yet completed or failed.
    pub tls_handshakes_in_progress: AtomicU64,
    /// TLS connections that ended before their handshake completed.
    pub tls_handshake_failures: AtomicU64,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn sub(counter: &AtomicU64, n: u64) {
        counter.fetch_sub(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// A counter only one thread (its worker) adds to: a plain load and store instead of an
/// atomic read-modify-write, which would cost a locked instruction per command. Other
/// threads read it, and reset it by moving its baseline, so a reset never races an add.
#[derive(Debug, Default)]
pub(crate) struct OwnedCounter {
    value: AtomicU64,
    baseline: AtomicU64,
}

impl OwnedCounter {
    /// Adds `n`; only the owning worker calls this.
    pub fn add(&self, n: u64) {
        let v = self.value.load(Ordering::Relaxed);
        self.value.store(v.wrapping_add(n), Ordering::Relaxed);
    }

    /// The count since the last reset.
    pub fn get(&self) -> u64 {
        let v = self.value.load(Ordering::Relaxed);
        v.wrapping_sub(self.baseline.load(Ordering::Relaxed))
    }

    /// Starts counting from zero again; any thread may call this.
    pub fn reset(&self) {
        self.baseline
            .store(self.value.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// One worker's counters: commands processed and, per command, INFO commandstats. Each
/// worker writes only its own, so counting never contends; INFO adds the workers up.
#[derive(Debug)]
pub(crate) struct CommandStats {
    /// Every request run or refused (`total_commands_processed`).
    pub processed: OwnedCounter,
    commands: Box<[CommandCounters]>,
}

/// Redis's per-command figures.
#[derive(Debug, Default)]
pub(crate) struct CommandCounters {
    pub calls: OwnedCounter,
    pub usec: OwnedCounter,
    /// Refused before running (arity, or queued inside MULTI with an error).
    pub rejected: OwnedCounter,
    /// Ran and answered an error.
    pub failed: OwnedCounter,
}

impl CommandStats {
    pub fn new(commands: usize) -> Self {
        CommandStats {
            processed: OwnedCounter::default(),
            commands: (0..commands).map(|_| CommandCounters::default()).collect(),
        }
    }

    /// Counts a call; `elapsed` is its (possibly sampled and scaled) time, if measured.
    pub fn record(&self, index: usize, elapsed: Option<Duration>, failed: bool) {
        if let Some(c) = self.commands.get(index) {
            c.calls.add(1);
            if let Some(elapsed) = elapsed {
                c.usec
                    .add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
            }
            if failed {
                c.failed.add(1);
            }
        }
    }

    /// Counts a call refused before it ran.
    pub fn reject(&self, index: usize) {
        if let Some(c) = self.commands.get(index) {
            c.rejected.add(1);
        }
    }

    /// (calls, usec, rejected, failed) of the command at `index`.
    pub fn get(&self, index: usize) -> (u64, u64, u64, u64) {
        self.commands.get(index).map_or((0, 0, 0, 0), |c| {
            (
                c.calls.get(),
                c.usec.get(),
                c.rejected.get(),
                c.failed.get(),
            )
        })
    }

    /// CONFIG RESETSTAT: every figure from zero again.
    pub fn reset(&self) {
        self.processed.reset();
        for c in self.commands.iter() {
            for counter in [&c.calls, &c.usec, &c.rejected, &c.failed] {
                counter.reset();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owned_counter_counts_from_its_last_reset() {
        let c = OwnedCounter::default();
        c.add(5);
        assert_eq!(c.get(), 5);
        c.reset();
        assert_eq!(c.get(), 0);
        c.add(2);
        assert_eq!(c.get(), 2);
    }
}
