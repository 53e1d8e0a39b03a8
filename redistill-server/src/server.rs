//! Starting and stopping the server: the shared state, the acceptor thread and the workers.

use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use parking_lot::RwLock;
use redistill_store::Store;

use crate::clients::Registry;
use crate::clock::CoarseClock;
use crate::config::Config;
use crate::persistence::{Persistence, PersistenceStatus, SaveTarget};
use crate::shutdown::ShutdownRequest;
use crate::stats::{CommandStats, Stats};
use crate::watch::Watches;
use crate::worker::{self, Incoming, WorkerHandle};

/// The acceptor's waker; listener `i` has token `i`.
const WAKER: Token = Token(usize::MAX);

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
    pub watches: Watches,
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
    pub slowlog: crate::slowlog::SlowLog,
    pub pause: crate::pause::Pause,
}

/// The normal class's output buffer limits in bytes and seconds; 0 for none.
#[derive(Debug, Default)]
pub(crate) struct OutputLimits {
    pub hard: AtomicUsize,
    pub soft: AtomicUsize,
    pub soft_seconds: AtomicU64,
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
    /// Copies what connections read on every command out of the configuration; called at
    /// start and after each CONFIG SET.
    pub fn refresh_limits(&self, config: &Config) {
        let normal = config.server.client_output_buffer_limit.normal;
        let bytes = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        let limits = &self.output_limits;
        limits
            .hard
            .store(bytes(normal.hard_limit_bytes), Ordering::Relaxed);
        limits
            .soft
            .store(bytes(normal.soft_limit_bytes), Ordering::Relaxed);
        limits
            .soft_seconds
            .store(normal.soft_limit_seconds, Ordering::Relaxed);
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

    /// Asks the worker owning `client` to close it.
    pub fn kill(&self, client: &crate::clients::ClientInfo) {
        client.killed.store(true, Ordering::Relaxed);
        if let Some(flag) = self.kills.get(client.worker) {
            flag.store(true, Ordering::Release);
        }
        if let Some(waker) = self.wakers.get().and_then(|w| w.get(client.worker)) {
            let _ = waker.wake();
        }
    }
}

/// A running server: its address, and the way to stop it.
///
/// # Examples
///
/// ```no_run
/// use redistill_server::{Server, config::Config};
///
/// let mut config = Config::default();
/// config.server.port = 0; // any free port
/// let server = Server::start(config)?;
/// println!("listening on {}", server.local_addr());
/// server.shutdown();
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Server {
    addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    acceptor_waker: Arc<Waker>,
    workers: Vec<WorkerHandle>,
    threads: Vec<JoinHandle<()>>,
    health: Option<crate::health::Handle>,
}

impl Server {
    /// Binds the listener, builds the store and starts the acceptor and worker threads.
    ///
    /// # Errors
    ///
    /// The address cannot be bound or a thread or poller cannot be created; with TLS
    /// enabled, also a certificate, key or CA file that cannot be used (the error, of kind
    /// `InvalidInput`, wraps a [`crate::tls::TlsError`] naming the file).
    pub fn start(config: Config) -> io::Result<Server> {
        Self::start_with_snapshot_sink(config, Arc::new(crate::FileSink))
    }

    /// [`Server::start`], with saves (SAVE, BGSAVE, periodic, shutdown) writing through
    /// `sink` instead of the snapshot file directly.
    ///
    /// For tests and embedders: a sink that fails on purpose shows how the server reports
    /// a failed save (`-ERR`, `rdb_last_bgsave_status:err`) while it keeps serving. Loading
    /// at start still reads `snapshot_path`.
    ///
    /// # Errors
    ///
    /// As [`Server::start`].
    pub fn start_with_snapshot_sink(
        config: Config,
        sink: Arc<dyn crate::SnapshotSink>,
    ) -> io::Result<Server> {
        let tls = if config.security.tls_enabled {
            let tls = crate::tls::server_config(&config.security)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            Some(tls)
        } else {
            None
        };
        let clock = CoarseClock::new();
        let mut builder = Store::builder()
            .databases(config.server.databases as usize)
            .clock(clock.clone());
        if config.server.num_shards > 0 {
            builder = builder.shards(config.server.num_shards);
        }
        if config.memory.max_memory > 0 {
            builder =
                builder.max_memory(usize::try_from(config.memory.max_memory).unwrap_or(usize::MAX));
        }
        let memory = &config.memory;
        let store = builder
            .eviction_policy(memory.eviction_policy)
            .maxmemory_samples(memory.maxmemory_samples)
            .lfu_log_factor(memory.lfu_log_factor)
            .lfu_decay_time(memory.lfu_decay_time)
            .active_expire_effort(memory.active_expire_effort)
            .build();
        let persistence = Arc::new(Persistence::new(sink));
        persistence
            .load(&store, &config.persistence)
            .map_err(|message| io::Error::new(io::ErrorKind::InvalidData, message))?;

        if let Err(e) = crate::fdlimit::raise_for(config.server.max_connections) {
            log::warn!("cannot raise the open-file limit: {e}");
        }
        let listeners = bind_all(&config)?;
        let health_listeners = crate::health::bind(&config)?;
        let addr = listeners[0].0.local_addr()?;
        let tls_addr = match listeners.iter().find(|(_, is_tls)| *is_tls) {
            Some((listener, _)) => Some(listener.local_addr()?),
            None => None,
        };
        let worker_count = config.server.effective_workers().max(1);
        let read_chunk = config.server.buffer_size;

        let shared = Arc::new(Shared {
            store,
            clock,
            config: RwLock::new(config),
            stats: Stats::default(),
            shutdown: AtomicBool::new(false),
            next_client_id: AtomicU64::new(1),
            started: Instant::now(),
            gates: (0..worker_count).map(|_| Gate::default()).collect(),
            watches: Watches::default(),
            clients: Registry::default(),
            command_stats: (0..worker_count)
                .map(|_| CommandStats::new(crate::cmd::count()))
                .collect(),
            kills: (0..worker_count).map(|_| AtomicBool::new(false)).collect(),
            wakers: std::sync::OnceLock::new(),
            shutdown_request: ShutdownRequest::default(),
            persistence,
            tls,
            output_limits: OutputLimits::default(),
            slowlog: crate::slowlog::SlowLog::default(),
            pause: crate::pause::Pause::default(),
        });
        shared.refresh_limits(&shared.config.read());

        let mut workers = Vec::with_capacity(worker_count);
        let mut threads = Vec::with_capacity(worker_count + 2);
        for id in 0..worker_count {
            let (handle, thread) = worker::spawn(id, Arc::clone(&shared), read_chunk)?;
            workers.push(handle);
            threads.push(thread);
        }

        let _ = shared
            .wakers
            .set(workers.iter().map(WorkerHandle::waker).collect());
        let poll = Poll::new()?;
        let acceptor_waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let acceptor = Acceptor {
            poll,
            listeners,
            workers: workers.clone(),
            next: 0,
            shared: Arc::clone(&shared),
            rate_limit: crate::admission::RateLimit::default(),
            reserve: crate::fdlimit::Reserve::new(),
            last_fd_warning: None,
        };
        threads.push(
            thread::Builder::new()
                .name("redistill-accept".into())
                .spawn(move || acceptor.run())?,
        );
        let housekeeping_shared = Arc::clone(&shared);
        threads.push(
            thread::Builder::new()
                .name("redistill-housekeeping".into())
                .spawn(move || housekeeping(&housekeeping_shared))?,
        );
        let snapshot_shared = Arc::clone(&shared);
        threads.push(
            thread::Builder::new()
                .name("redistill-snapshot".into())
                .spawn(move || crate::persistence::periodic(&snapshot_shared))?,
        );

        let health =
            crate::health::spawn(health_listeners, Arc::clone(&shared))?.map(|(handle, thread)| {
                threads.push(thread);
                handle
            });

        Ok(Server {
            addr,
            tls_addr,
            shared,
            acceptor_waker,
            workers,
            threads,
            health,
        })
    }

    /// The address the server listens on (with the real port when 0 was asked for). With
    /// TLS on `port` (`tls_port` 0), this address speaks TLS.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the HTTP health endpoint, when `health_check_port` is set.
    pub fn health_addr(&self) -> Option<SocketAddr> {
        self.health.as_ref().map(crate::health::Handle::addr)
    }

    /// The address TLS clients connect to, when TLS is enabled.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// The store the server serves; an embedder may use it directly.
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// A handle that asks this server to shut down, e.g. from a signal handler thread.
    pub fn shutdown_trigger(&self) -> ShutdownTrigger {
        ShutdownTrigger(Arc::clone(&self.shared))
    }

    /// Blocks until a shutdown is asked for: SIGTERM or SIGINT (once installed with
    /// [`ShutdownTrigger::on_signals`]), the SHUTDOWN command, or a [`ShutdownTrigger`].
    /// Then call [`Server::shutdown`].
    pub fn wait_for_shutdown_request(&self) {
        self.shared.shutdown_request.wait();
    }

    /// Snapshot status for health checks: last successful save, whether the last attempt
    /// succeeded, whether one runs now. Cheap: a few atomic loads and one sum of counters.
    pub fn persistence_status(&self) -> PersistenceStatus {
        self.shared.persistence.status(&self.shared.store)
    }

    /// The snapshot step of a graceful shutdown, to run after a shutdown request and before
    /// [`Server::shutdown`]. Saves when persistence is enabled with `save_on_shutdown`,
    /// unless SHUTDOWN already saved (or was told NOSAVE); a running BGSAVE is waited for.
    ///
    /// Returns `false` when the save failed: as Redis does, the server then keeps running,
    /// the request is withdrawn, and the caller goes back to waiting for the next one.
    pub fn prepare_shutdown(&self) -> bool {
        let shared = &self.shared;
        let persistence = &shared.persistence;
        if persistence.shutdown_handled() {
            persistence.wait_idle();
            return true;
        }
        let (wanted, target) = {
            let config = shared.config.read();
            let p = &config.persistence;
            (p.enabled && p.save_on_shutdown, SaveTarget::from_config(p))
        };
        if !wanted {
            persistence.wait_idle();
            return true;
        }
        log::info!("Saving the final snapshot before exiting.");
        match persistence.save_waiting(&shared.store, &target) {
            Ok(_) => {
                persistence.set_shutdown_target(target);
                true
            }
            Err(e) => {
                log::warn!(
                    "Error trying to save the DB, can't exit ({e}). Errors trying to shut \
                     down the server. Check the logs for more information."
                );
                shared.shutdown_request.reset();
                false
            }
        }
    }

    /// Blocks until the server stops.
    pub fn wait(mut self) {
        for thread in self.threads.drain(..) {
            // A worker that panicked has already lost its connections; the rest go on.
            let _ = thread.join();
        }
    }

    /// Stops accepting; each worker runs the requests its clients already sent, sends their
    /// replies (for up to a few seconds) and closes the connections; then the threads end.
    ///
    /// If the shutdown saved a snapshot ([`Server::prepare_shutdown`] or SHUTDOWN), the
    /// writes answered while draining are saved too before this returns. Returns the
    /// final totals.
    pub fn shutdown(self) -> Totals {
        let shared = Arc::clone(&self.shared);
        shared.shutdown.store(true, Ordering::SeqCst);
        let _ = self.acceptor_waker.wake();
        for worker in &self.workers {
            worker.wake();
        }
        if let Some(health) = &self.health {
            health.wake();
        }
        self.wait();
        shared.persistence.save_drained(&shared.store);
        Totals {
            commands_processed: shared.commands_processed(),
            connections_received: Stats::get(&shared.stats.connections_received),
        }
    }
}

/// What a server did over its life, as [`Server::shutdown`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Requests processed (since the last CONFIG RESETSTAT).
    pub commands_processed: u64,
    /// Connections accepted (since the last CONFIG RESETSTAT).
    pub connections_received: u64,
}

/// Asks a [`Server`] to shut down; cheap to clone and to send to other threads.
#[derive(Clone)]
pub struct ShutdownTrigger(Arc<Shared>);

impl ShutdownTrigger {
    /// Asks for a graceful shutdown.
    pub fn trigger(&self) {
        self.0.shutdown_request.request();
    }

    /// Triggers on SIGTERM or SIGINT, from a thread of its own.
    ///
    /// # Errors
    ///
    /// The signal handlers cannot be installed.
    pub fn on_signals(self) -> io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
        thread::Builder::new()
            .name("redistill-signals".into())
            .spawn(move || {
                // Every signal counts: one whose shutdown failed to save may be followed by
                // another once the operator fixed the cause.
                for signal in signals.forever() {
                    let name = if signal == SIGINT {
                        "SIGINT"
                    } else {
                        "SIGTERM"
                    };
                    log::warn!("Received {name}, shutting down");
                    self.trigger();
                }
            })?;
        Ok(())
    }
}

/// Accepts connections and hands them to workers round-robin.
struct Acceptor {
    poll: Poll,
    /// Each listener, and whether it speaks TLS.
    listeners: Vec<(TcpListener, bool)>,
    workers: Vec<WorkerHandle>,
    next: usize,
    shared: Arc<Shared>,
    rate_limit: crate::admission::RateLimit,
    /// The spare descriptor that lets the acceptor refuse connections when none are left.
    reserve: crate::fdlimit::Reserve,
    /// When running out of descriptors was last logged: once a second is enough.
    last_fd_warning: Option<Instant>,
}

impl Acceptor {
    fn run(mut self) {
        for (i, (listener, _)) in self.listeners.iter_mut().enumerate() {
            if let Err(e) = self
                .poll
                .registry()
                .register(listener, Token(i), Interest::READABLE)
            {
                log::error!("cannot register the listener: {e}");
                return;
            }
        }
        let mut events = Events::with_capacity(64);
        while !self.shared.shutdown.load(Ordering::Relaxed) {
            if let Err(e) = self.poll.poll(&mut events, None) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                log::error!("acceptor poll failed: {e}");
                return;
            }
            for event in &events {
                if event.token() != WAKER {
                    self.accept_all(event.token().0);
                }
            }
        }
    }

    fn accept_all(&mut self, listener: usize) {
        loop {
            let Some((accepted, tls)) = self
                .listeners
                .get(listener)
                .map(|(listener, tls)| (listener.accept(), *tls))
            else {
                return;
            };
            match accepted {
                Ok((stream, peer)) => self.dispatch(stream, peer, tls),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if crate::fdlimit::out_of_descriptors(&e) => {
                    if !self.refuse_without_descriptors(listener, &e) {
                        return;
                    }
                }
                Err(e) => {
                    // ECONNABORTED and friends concern one connection only.
                    log::warn!("accept failed: {e}");
                    return;
                }
            }
        }
    }

    /// Out of descriptors: the connection at the head of the backlog is accepted into the
    /// spare descriptor, told it is refused (a TLS client only sees the close) and closed,
    /// so that it neither waits unanswered nor keeps the listener readable for nothing.
    /// Returns whether a connection was taken off the backlog, so the caller goes on.
    fn refuse_without_descriptors(&mut self, listener: usize, error: &io::Error) -> bool {
        let now = Instant::now();
        if self
            .last_fd_warning
            .is_none_or(|last| now.saturating_duration_since(last) >= Duration::from_secs(1))
        {
            self.last_fd_warning = Some(now);
            log::warn!("accept failed: {error}; refusing new connections until clients leave");
        }
        let Some((listener, tls)) = self.listeners.get(listener) else {
            return false;
        };
        let tls = *tls;
        let refused = self.reserve.without(|| match listener.accept() {
            Ok((stream, _)) => {
                if !tls {
                    reject(stream, crate::admission::MAX_CLIENTS_REACHED);
                }
                true
            }
            Err(_) => false,
        });
        if refused == Some(true) {
            Stats::add(&self.shared.stats.rejected_connections, 1);
            true
        } else {
            false
        }
    }

    fn dispatch(&mut self, stream: TcpStream, peer: SocketAddr, tls: bool) {
        use crate::admission::{self, MAX_CLIENTS_REACHED, PROTECTED_MODE_DENIED, RATE_LIMITED};
        let config = self.shared.config.read();
        let rate = u64::from(config.server.max_new_connections_per_second);
        if rate > 0 && !self.rate_limit.admit(rate, Instant::now()) {
            drop(config);
            Stats::add(&self.shared.stats.rejected_connections, 1);
            // A TLS client could not read a plain error line; it just sees the close.
            if !tls {
                reject(stream, RATE_LIMITED);
            }
            return;
        }
        let denied = admission::protected_mode_refuses(&config, peer.ip());
        let handshakes = u64::from(config.security.tls_max_handshakes);
        if config.server.tcp_nodelay {
            let _ = stream.set_nodelay(true);
        }
        if config.server.tcp_keepalive > 0 {
            let keepalive = socket2::TcpKeepalive::new()
                .with_time(Duration::from_secs(u64::from(config.server.tcp_keepalive)));
            let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive);
        }
        let max = u64::from(config.server.max_connections);
        drop(config);
        let full = max > 0 && Stats::get(&self.shared.stats.connected_clients) >= max;
        let refusal = if full {
            Some(MAX_CLIENTS_REACHED)
        } else if denied {
            Some(PROTECTED_MODE_DENIED)
        } else {
            None
        };
        if refusal.is_some() {
            Stats::add(&self.shared.stats.rejected_connections, 1);
        }
        let slot = if tls {
            let Some(slot) = crate::transport::HandshakeSlot::take(&self.shared, handshakes) else {
                // Too many handshakes in flight: shed this one before it costs any crypto.
                if refusal.is_none() {
                    Stats::add(&self.shared.stats.rejected_connections, 1);
                }
                return;
            };
            Some(slot)
        } else {
            if let Some(refusal) = refusal {
                reject(stream, refusal);
                return;
            }
            None
        };
        // A refused TLS client is answered by a worker after the handshake, as Redis does.
        // As in Redis, a rejected connection counts in rejected_connections only.
        if refusal.is_none() {
            Stats::add(&self.shared.stats.connections_received, 1);
        }
        Stats::add(&self.shared.stats.connected_clients, 1);
        let worker = &self.workers[self.next % self.workers.len()];
        self.next = self.next.wrapping_add(1);
        worker.hand_over(Incoming {
            stream,
            peer,
            tls: slot,
            refusal,
        });
    }
}

/// Binds every configured address on the configured port, and on `tls_port` when TLS has
/// a port of its own; with TLS enabled and `tls_port` 0, `port` itself speaks TLS. With
/// port 0 the first bind picks a free port and the other addresses use the same one.
/// Each listener comes with whether it speaks TLS.
fn bind_all(config: &Config) -> io::Result<Vec<(TcpListener, bool)>> {
    let security = &config.security;
    let mut ports = vec![(
        config.server.port,
        security.tls_enabled && security.tls_port == 0,
    )];
    if security.tls_enabled && security.tls_port != 0 {
        ports.push((security.tls_port, true));
    }
    let mut listeners = Vec::new();
    let addrs = if config.server.bind.is_empty() {
        vec![[127, 0, 0, 1].into()]
    } else {
        config.server.bind.clone()
    };
    for (mut port, tls) in ports {
        for ip in &addrs {
            let listener = StdListener::bind(SocketAddr::new(*ip, port))?;
            listener.set_nonblocking(true)?;
            port = listener.local_addr()?.port();
            listeners.push((TcpListener::from_std(listener), tls));
        }
    }
    Ok(listeners)
}

/// Best-effort error line to a connection we will not serve, then close it.
fn reject(stream: TcpStream, reply: &'static [u8]) {
    use std::io::Write;
    let mut stream = stream;
    let _ = stream.write(reply);
}

/// Refreshes the coarse clock while workers sleep, reclaims expired keys `hz` times a
/// second, and samples the rates and the memory peak every 100 ms.
fn housekeeping(shared: &Shared) {
    const SAMPLE_EVERY: Duration = Duration::from_millis(100);
    let (mut next_cycle, mut next_sample) = (Instant::now(), Instant::now());
    while !shared.shutdown.load(Ordering::Relaxed) {
        shared.clock.refresh();
        let stats = &shared.stats;
        let now = Instant::now();
        if now >= next_cycle {
            // Redis's slow expiry cycle: bounded by time (a quarter of its period at the
            // default effort), not by a key count, so a large batch of expired keys is
            // reclaimed at the rate the cycle can delete them.
            let period = expiry_period(shared.config.read().server.hz);
            let cycle = shared.store.active_expire_cycle_for(usize::MAX, period);
            stats.expiry.record(&cycle, now.elapsed());
            next_cycle = now + period;
        }
        if now >= next_sample {
            stats.ops_rate.sample(now, shared.commands_processed());
            stats
                .memory_peak
                .fetch_max(shared.used_memory(), Ordering::Relaxed);
            next_sample = now + SAMPLE_EVERY;
        }
        thread::park_timeout(
            next_cycle
                .min(next_sample)
                .saturating_duration_since(Instant::now()),
        );
    }
}

/// The time between active expiry cycles at `hz` cycles a second, kept within Redis's
/// bounds (a `Config` built in code is not range-checked).
fn expiry_period(hz: u32) -> Duration {
    Duration::from_secs(1) / hz.clamp(crate::config::HZ_MIN, crate::config::HZ_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_cycles_run_hz_times_a_second_within_redis_bounds() {
        assert_eq!(expiry_period(10), Duration::from_millis(100));
        assert_eq!(expiry_period(100), Duration::from_millis(10));
        assert_eq!(expiry_period(500), Duration::from_millis(2));
        assert_eq!(expiry_period(5000), Duration::from_millis(2));
        assert_eq!(expiry_period(0), Duration::from_secs(1));
    }
}
