//! The command layer without sockets, for tests and fuzzing: a [`Harness`] runs requests
//! for in-process clients through the same dispatcher connections use, and
//! [`program`] turns arbitrary bytes into command sequences that [`check`] runs and
//! verifies. Not a stable API.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use redistill_persist::PersistError;
use redistill_store::Store;

use crate::client::Client;
use crate::clients::ClientInfo;
use crate::cmd::{self, Ctx};
use crate::config::Config;
use crate::shared::Shared;
use crate::{SnapshotFile, SnapshotSink};

pub mod check;
pub mod program;

/// Where a harness's clock starts: a fixed time, so that runs repeat exactly.
pub const START_MS: u64 = 1_700_000_000_000;

/// A server's shared state and a few clients, with no sockets, threads or files.
///
/// Requests run as a connection runs them: under the client's worker gate (EXEC takes
/// every gate itself). What differs, and why it is safe:
///
/// - persistence is disabled, so nothing is loaded, and saves (SAVE, BGSAVE, SHUTDOWN
///   SAVE) write to a sink that discards the snapshot; BGSAVE still runs on a thread of
///   its own, which [`Harness`] waits for when dropped;
/// - SHUTDOWN only records the request, as it does in a server before the main thread
///   acts on it;
/// - the clock stands still at [`START_MS`] until [`Harness::advance_clock`], and expiry
///   runs only on access or in [`Harness::expire_cycle`];
/// - requests CLIENT PAUSE would hold run at once;
/// - a client that QUIT, SHUTDOWN or CLIENT KILL closes is replaced by a fresh one, as if
///   it had reconnected.
///
/// # Examples
///
/// ```
/// use redistill_server::{config::Config, testing::Harness};
///
/// let mut h = Harness::new(Config::default(), 1)?;
/// assert_eq!(h.run(0, &[b"SET", b"k", b"v"]), b"+OK\r\n");
/// assert_eq!(h.run(0, &[b"GET", b"k"]), b"$1\r\nv\r\n");
/// h.store().check_invariants().expect("consistent");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Harness {
    shared: Arc<Shared>,
    clients: Vec<Client>,
    /// Per client: the last request closed it, and it was replaced.
    replaced: Vec<bool>,
}

impl Harness {
    /// A harness over `config` (its persistence disabled) with `clients` clients; client
    /// `i` runs on worker `i` modulo the configured workers.
    ///
    /// # Errors
    ///
    /// The configuration enables TLS with certificates that cannot be used.
    pub fn new(mut config: Config, clients: usize) -> io::Result<Harness> {
        config.persistence.enabled = false;
        let shared = Arc::new(crate::server::build_shared(config, Arc::new(Discard))?);
        crate::notifications::Notifications::attach(&shared);
        shared.clock.set(START_MS);
        let mut harness = Harness {
            shared,
            clients: Vec::with_capacity(clients),
            replaced: vec![false; clients],
        };
        for i in 0..clients {
            let client = harness.connect(i);
            harness.clients.push(client);
        }
        Ok(harness)
    }

    /// A fresh client in position `index`, registered as a connection registers it.
    fn connect(&self, index: usize) -> Client {
        let shared = &self.shared;
        let id = shared.next_client_id();
        let port = u16::try_from(40_000 + id % 20_000).unwrap_or(40_000);
        let info = Arc::new(ClientInfo::new(
            id,
            SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 6379))),
            index % shared.gates.len(),
            redistill_store::Clock::now_ms(&shared.clock),
            -1,
        ));
        shared.clients.add(Arc::clone(&info));
        let authenticated = shared.config.read().security.password.is_none();
        Client::new(info, authenticated)
    }

    /// Runs one request for `client` and returns its reply bytes (none where CLIENT
    /// REPLY silences it). A client the request closes is replaced by a fresh one; a
    /// blocking command that would wait times out at once.
    ///
    /// # Panics
    ///
    /// `client` is not below the count given to [`Harness::new`].
    pub fn run(&mut self, client: usize, args: &[&[u8]]) -> Vec<u8> {
        let shared = &*self.shared;
        let c = &mut self.clients[client];
        let worker = c.info.worker;
        let mut out = Vec::new();
        {
            if args.is_empty() {
                return out;
            }
            let lookup = cmd::resolve(args);
            let _gate = (!cmd::takes_all_gates(&lookup)).then(|| shared.gates[worker].read());
            let mut ctx = Ctx {
                shared,
                worker,
                client: c,
                out: &mut out,
            };
            cmd::execute(&mut ctx, args, lookup);
            if crate::blocking::has_ready() {
                shared.serve_blocked(worker);
            }
            // Nothing else runs while a harness client would wait: a blocking command
            // times out at once.
            if let Some(waiter) = c.blocked.clone() {
                shared.blocking.time_out(&waiter);
            }
            if let Some(reply) = c.take_unblocking_reply() {
                out.extend_from_slice(&reply);
            }
        }
        self.reconnect_closed();
        out
    }

    /// Replaces every client that asked to be closed or was killed.
    fn reconnect_closed(&mut self) {
        for i in 0..self.clients.len() {
            let c = &self.clients[i];
            self.replaced[i] = c.close_after_reply || c.info.killed.load(Ordering::Relaxed);
            if self.replaced[i] {
                let fresh = self.connect(i);
                let mut old = std::mem::replace(&mut self.clients[i], fresh);
                cmd::disconnect(&self.shared, &mut old);
            }
        }
    }

    /// Whether the last request closed `client` (QUIT, SHUTDOWN, CLIENT KILL), which was
    /// then replaced by a fresh client.
    pub fn was_replaced(&self, client: usize) -> bool {
        self.replaced[client]
    }

    /// Whether `client`'s replies are being dropped (CLIENT REPLY OFF or SKIP).
    pub fn replies_silenced(&self, client: usize) -> bool {
        self.clients[client].reply_mode != crate::client::ReplyMode::On
    }

    /// Whether `client` is in MONITOR mode.
    pub fn is_monitoring(&self, client: usize) -> bool {
        self.clients[client].monitor
    }

    /// Whether `client` has any Pub/Sub subscription.
    pub fn is_subscribed(&self, client: usize) -> bool {
        !self.clients[client].subscriptions.is_empty()
    }

    /// Whether `client` speaks RESP3 (after HELLO 3).
    pub fn is_resp3(&self, client: usize) -> bool {
        self.clients[client].version == redistill_resp::Version::Resp3
    }

    /// How many clients there are.
    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// The store the commands run on.
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// Moves the clock forward by `ms`.
    pub fn advance_clock(&self, ms: u64) {
        let now = redistill_store::Clock::now_ms(&self.shared.clock);
        self.shared.clock.set(now.saturating_add(ms));
    }

    /// Runs one active expiry cycle, as the housekeeping thread does.
    pub fn expire_cycle(&self) {
        self.shared.store.active_expire_cycle(usize::MAX);
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        for client in &mut self.clients {
            cmd::disconnect(&self.shared, client);
        }
        self.shared.persistence.wait_idle();
    }
}

/// Every command the table runs, subcommands as `container sub` (`config get`), with
/// Redis's arity of the row (names included; negative for a minimum).
pub fn commands() -> Vec<(String, i32)> {
    cmd::rows()
        .map(|c| (c.full_name().replace('|', " "), c.arity))
        .collect()
}

/// A snapshot sink that discards what it is given.
struct Discard;

impl SnapshotSink for Discard {
    fn create(&self, _path: &std::path::Path) -> Result<Box<dyn SnapshotFile>, PersistError> {
        Ok(Box::new(Discarded))
    }
}

struct Discarded;

impl io::Write for Discarded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl SnapshotFile for Discarded {
    fn commit(self: Box<Self>) -> Result<(), PersistError> {
        Ok(())
    }
}
