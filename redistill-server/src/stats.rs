//! Server-wide counters behind INFO.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters shared by every worker; relaxed atomics, read only for reporting.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub connections_received: AtomicU64,
    pub connected_clients: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub commands_processed: AtomicU64,
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

/// Per-command counters of one worker (INFO commandstats). Each worker writes only its
/// own, so counting never contends; INFO adds the workers up.
#[derive(Debug)]
pub(crate) struct CommandStats {
    commands: Box<[CommandCounters]>,
}

/// Redis's per-command figures.
#[derive(Debug, Default)]
pub(crate) struct CommandCounters {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    /// Refused before running (arity, or queued inside MULTI with an error).
    pub rejected: AtomicU64,
    /// Ran and answered an error.
    pub failed: AtomicU64,
}

impl CommandStats {
    pub fn new(commands: usize) -> Self {
        CommandStats {
            commands: (0..commands).map(|_| CommandCounters::default()).collect(),
        }
    }

    /// Counts a call; `elapsed` is its (possibly sampled and scaled) time, if measured.
    pub fn record(&self, index: usize, elapsed: Option<Duration>, failed: bool) {
        if let Some(c) = self.commands.get(index) {
            c.calls.fetch_add(1, Ordering::Relaxed);
            if let Some(elapsed) = elapsed {
                let usec = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
                c.usec.fetch_add(usec, Ordering::Relaxed);
            }
            if failed {
                c.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub fn reject(&self, index: usize) {
        if let Some(c) = self.commands.get(index) {
            c.rejected.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// (calls, usec, rejected, failed) of command `index`.
    pub fn get(&self, index: usize) -> (u64, u64, u64, u64) {
        self.commands.get(index).map_or((0, 0, 0, 0), |c| {
            (
                c.calls.load(Ordering::Relaxed),
                c.usec.load(Ordering::Relaxed),
                c.rejected.load(Ordering::Relaxed),
                c.failed.load(Ordering::Relaxed),
            )
        })
    }

    pub fn reset(&self) {
        for c in self.commands.iter() {
            for counter in [&c.calls, &c.usec, &c.rejected, &c.failed] {
                counter.store(0, Ordering::Relaxed);
            }
        }
    }
}
