//! The state every thread of the server shares: the store, the configuration, the
//! registries of clients and watches, the counters. Modules below the command table import
//! it; it imports none of them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use mio::Waker;
use parking_lot::{RwLock, RwLockWriteGuard};
use redistill_store::Store;

use crate::blocking::Blocking;
use crate::clients::Registry;
use crate::clock::CoarseClock;
use crate::config::Config;
use crate::monitors::Monitors;
use crate::persistence::Persistence;
use crate::push::{Mailboxes, Outbox};
use crate::shutdown::ShutdownRequest;
use crate::stats::{CommandStats, Stats};
use crate::watch::Watches;

/// State every worker shares: the store, the configuration, counters.
pub(crate) struct Shared {
    pub store: Store,
    pub clock: CoarseClock,
    pub config: RwLock<Config>,
    pub stats: Stats,
    pub shutdown: AtomicBool,
    pub next_client_id: AtomicU64,
    pub started: Instant,
    /// One gate per worker: commands hold their worker's for reading, EXEC holds all of
    /// them for writing (see `cmd::transactions`).
    pub gates: Vec<Gate>,
    pub watches: Arc<Watches>,
    pub clients: Registry,
    /// INFO commandstats, one table per worker.
    pub command_stats: Vec<CommandStats>,
    /// Per worker: a CLIENT KILL is waiting for it; with its waker, set once workers run.
    pub kills: Vec<AtomicBool>,
    pub wakers: std::sync::OnceLock<Vec<Arc<Waker>>>,
    /// Set by SIGTERM/SIGINT, SHUTDOWN or the embedder; the main thread then stops the
    /// server.
    pub shutdown_request: ShutdownRequest,
    /// Snapshot state: saves running, last save, its status (INFO, LASTSAVE, health).
    pub persistence: Arc<Persistence>,
    /// The TLS configuration every TLS connection shares, when TLS is enabled.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// `client-output-buffer-limit` for normal clients, kept here so that connections see
    /// CONFIG SET without reading the configuration per command.
    pub output_limits: OutputLimits,
    /// The same for the `pubsub` class: clients with any subscription.
    pub pubsub_limits: OutputLimits,
    pub slowlog: crate::slowlog::SlowLog,
    pub pause: crate::pause::Pause,
    /// Bytes for clients from threads other than their worker's (see `push`).
    pub mailboxes: Mailboxes,
    pub monitors: Monitors,
    /// Client-side caching's table and tracking clients (see `tracking`).
    pub tracking: Arc<crate::tracking::Tracking>,
    /// Every client's channel and pattern subscriptions (see `pubsub`).
    pub pubsub: crate::pubsub::PubSub,
    /// `notify-keyspace-events`, read by the store's listener (see `notifications`).
    pub notifications: Arc<crate::notifications::Notifications>,
    /// Clients blocked on keys (see `blocking`).
    pub blocking: Arc<Blocking>,
    /// The housekeeping thread reclaims expired keys (off after DEBUG SET-ACTIVE-EXPIRE 0).
    pub active_expire: AtomicBool,
    /// Lua scripts and functions (see `script`).
    pub scripting: crate::script::Scripting,
}

/// One class's output buffer limits in bytes and seconds; 0 for none.
#[derive(Debug, Default)]
pub(crate) struct OutputLimits {
    pub hard: AtomicUsize,
    pub soft: AtomicUsize,
    pub soft_seconds: AtomicU64,
}

impl OutputLimits {
    fn set(&self, class: &crate::config::OutputBufferLimit) {
        let bytes = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        self.hard
            .store(bytes(class.hard_limit_bytes), Ordering::Relaxed);
        self.soft
            .store(bytes(class.soft_limit_bytes), Ordering::Relaxed);
        self.soft_seconds
            .store(class.soft_limit_seconds, Ordering::Relaxed);
    }
}

/// A worker's gate, alone on its cache line so workers never share one.
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct Gate(RwLock<()>);

impl std::ops::Deref for Gate {
    type Target = RwLock<()>;

    fn deref(&self) -> &RwLock<()> {
        &self.0
    }
}

impl Shared {
    /// Every worker's gate, held for writing: no other command runs until they drop
    /// (EXEC, SORT, DEBUG SLEEP and RELOAD).
    pub fn every_gate(&self) -> Vec<RwLockWriteGuard<'_, ()>> {
        self.gates.iter().map(|gate| gate.write()).collect()
    }

    /// Copies what connections read on every command out of the configuration; called at
    /// start and after each CONFIG SET.
    pub fn refresh_limits(&self, config: &Config) {
        let classes = &config.server.client_output_buffer_limit;
        self.output_limits.set(&classes.normal);
        self.pubsub_limits.set(&classes.pubsub);
        self.notifications
            .configure(&config.server.notify_keyspace_events);
        self.store
            .report_misses(self.notifications.publishes_misses());
        self.scripting
            .busy
            .set_threshold(config.server.busy_reply_threshold);
        self.tracking
            .set_max_keys(config.server.tracking_table_max_keys);
        self.slowlog.configure(
            config.server.slowlog_log_slower_than,
            config.server.slowlog_max_len,
        );
    }

    /// Redis's `used_memory`: the keyspace's bytes plus what clients hold (buffers, queued
    /// transactions), the figure `maxmemory` is compared with.
    pub fn used_memory(&self) -> u64 {
        let used = self.store.used_memory() + self.store.external_memory();
        u64::try_from(used).unwrap_or(u64::MAX)
    }

    /// Requests processed by every worker since start or CONFIG RESETSTAT.
    pub fn commands_processed(&self) -> u64 {
        self.command_stats.iter().map(|w| w.processed.get()).sum()
    }

    /// Bytes read from and written to clients since start or CONFIG RESETSTAT.
    pub fn net_bytes(&self) -> (u64, u64) {
        self.command_stats.iter().fold((0, 0), |(i, o), w| {
            (i + w.net_input.get(), o + w.net_output.get())
        })
    }

    /// Socket reads and writes since start or CONFIG RESETSTAT.
    pub fn net_calls(&self) -> (u64, u64) {
        self.command_stats
            .iter()
            .fold((0, 0), |(r, w), s| (r + s.reads.get(), w + s.writes.get()))
    }

    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Wakes every worker, so that connections held by CLIENT PAUSE run again.
    pub fn wake_workers(&self) {
        for waker in self.wakers.get().into_iter().flatten() {
            let _ = waker.wake();
        }
    }

    /// Hands `bytes` to the client behind `outbox`, for its worker to send; capped at the
    /// hard output limit.
    pub fn push(&self, outbox: &Arc<Outbox>, bytes: &[u8]) {
        let cap = self.output_limits.hard.load(Ordering::Relaxed);
        let waker = self.wakers.get().and_then(|w| w.get(outbox.worker));
        self.mailboxes.push(outbox, bytes, cap, waker.map(|w| &**w));
    }

    /// [`Shared::push`] of a Pub/Sub message: capped at the `pubsub` class's hard limit.
    pub fn push_message(&self, outbox: &Arc<Outbox>, bytes: &[u8]) {
        let cap = self.pubsub_limits.hard.load(Ordering::Relaxed);
        let waker = self.wakers.get().and_then(|w| w.get(outbox.worker));
        self.mailboxes.push(outbox, bytes, cap, waker.map(|w| &**w));
    }

    /// Serves the clients blocked on keys this thread's last command gave data. Their
    /// workers are woken, except `worker`, the one running this thread, which looks at its
    /// mailbox at the end of each round anyway: a wake-up there would cost a system call
    /// per client served.
    pub fn serve_blocked(&self, worker: usize) {
        self.blocking
            .serve_ready(&self.store, |outbox| self.wake_unblocked(outbox, worker));
    }

    /// Tells the worker owning `outbox` that its blocked client's wait has ended (served,
    /// or CLIENT UNBLOCK). `worker`, the one running this thread, is not woken: it looks
    /// at its mailbox at the end of each round anyway.
    pub fn wake_unblocked(&self, outbox: &Arc<Outbox>, worker: usize) {
        if outbox.worker == worker {
            self.mailboxes.push(outbox, b"", 0, None);
        } else {
            self.push(outbox, b"");
        }
    }

    /// Asks the worker owning `client` to close it.
    pub fn kill(&self, client: &crate::clients::ClientInfo) {
        client.killed.store(true, Ordering::Relaxed);
        // Gone at once for CLIENT TRACKING's redirections, as in Redis.
        self.tracking.client_gone(client.id);
        if let Some(flag) = self.kills.get(client.worker) {
            flag.store(true, Ordering::Release);
        }
        if let Some(waker) = self.wakers.get().and_then(|w| w.get(client.worker)) {
            let _ = waker.wake();
        }
    }
}
