//! Starting and stopping the server: builds the shared state, starts the acceptor, the
//! workers and the background threads, and stops them in order.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use mio::Waker;
use parking_lot::RwLock;
use redistill_store::Store;

use crate::blocking::{Blocking, BlockingListener};
use crate::clients::Registry;
use crate::clock::CoarseClock;
use crate::config::Config;
use crate::listeners::KeyspaceListeners;
use crate::persistence::{Persistence, PersistenceStatus, SaveTarget};
use crate::shared::{Gate, OutputLimits, Shared};
use crate::shutdown::ShutdownRequest;
use crate::stats::{CommandStats, Stats};
use crate::watch::{WatchListener, Watches};
use crate::worker::{self, WorkerHandle};

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
        Self::start_inner(config, sink, false)
    }

    /// Binds and serves at once, and loads the snapshot on a thread of its own, as Redis
    /// does (the `redistill` binary starts this way).
    ///
    /// While the snapshot loads, commands that need the data are answered `-LOADING Redis
    /// is loading the dataset in memory` (those Redis flags `loading`, such as PING, INFO
    /// and CONFIG, run), INFO persistence says `loading:1` with the progress, `/health`
    /// answers 503 with `"status":"loading"`, and no snapshot is saved. A load that fails
    /// asks the server to shut down, with [`Server::load_failure`] saying why; data
    /// commands stay refused and nothing is saved until it exits. See
    /// [`Server::wait_loaded`].
    ///
    /// # Errors
    ///
    /// As [`Server::start`], except that a snapshot that cannot be loaded is reported
    /// later, by [`Server::wait_loaded`] and [`Server::load_failure`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use redistill_server::{Server, config::Config};
    ///
    /// let mut config = Config::default();
    /// config.persistence.enabled = true;
    /// let server = Server::start_loading(config)?;
    /// // Clients may connect now; they get -LOADING until this returns.
    /// if let Err(e) = server.wait_loaded() {
    ///     eprintln!("the snapshot did not load: {e}");
    /// }
    /// server.shutdown();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start_loading(config: Config) -> io::Result<Server> {
        Self::start_inner(config, Arc::new(crate::FileSink), true)
    }

    fn start_inner(
        config: Config,
        sink: Arc<dyn crate::SnapshotSink>,
        background_load: bool,
    ) -> io::Result<Server> {
        let shared = if background_load {
            let shared = build_shared_unloaded(config, sink)?;
            let loads = {
                let p = &shared.config.read().persistence;
                p.enabled && crate::persistence::snapshot_to_load(p).is_some()
            };
            if loads {
                shared.persistence.loading().begin();
            }
            Arc::new(shared)
        } else {
            Arc::new(build_shared(config, sink)?)
        };
        crate::notifications::Notifications::attach(&shared);
        let (listeners, health_listeners, worker_count, read_chunk) = {
            let config = shared.config.read();
            if let Err(e) = crate::fdlimit::raise_for(config.server.max_connections) {
                log::warn!("cannot raise the open-file limit: {e}");
            }
            (
                crate::acceptor::bind_all(&config)?,
                crate::health::bind(&config)?,
                shared.gates.len(),
                config.server.buffer_size,
            )
        };
        let addr = listeners[0].0.local_addr()?;
        let tls_addr = match listeners.iter().find(|(_, is_tls)| *is_tls) {
            Some((listener, _)) => Some(listener.local_addr()?),
            None => None,
        };

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
        let (acceptor_waker, acceptor) =
            crate::acceptor::spawn(listeners, workers.clone(), Arc::clone(&shared))?;
        threads.push(acceptor);
        let housekeeping_shared = Arc::clone(&shared);
        threads.push(
            thread::Builder::new()
                .name("redistill-housekeeping".into())
                .spawn(move || crate::housekeeping::run(&housekeeping_shared))?,
        );
        let snapshot_shared = Arc::clone(&shared);
        threads.push(
            thread::Builder::new()
                .name("redistill-snapshot".into())
                .spawn(move || {
                    let s = &snapshot_shared;
                    crate::persistence::periodic(&s.persistence, &s.store, &s.config, &s.shutdown);
                })?,
        );

        let health =
            crate::health::spawn(health_listeners, Arc::clone(&shared))?.map(|(handle, thread)| {
                threads.push(thread);
                handle
            });
        if background_load {
            let loader_shared = Arc::clone(&shared);
            threads.push(
                thread::Builder::new()
                    .name("redistill-loader".into())
                    .spawn(move || load_in_background(&loader_shared))?,
            );
        }

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

    /// Blocks until the snapshot is loaded (at once for [`Server::start`], whose load is
    /// done before it returns), or the load failed, and says which.
    ///
    /// # Errors
    ///
    /// Why the snapshot could not be loaded.
    pub fn wait_loaded(&self) -> Result<(), String> {
        self.shared.persistence.loading().wait()
    }

    /// Why the snapshot could not be loaded, once a load started by
    /// [`Server::start_loading`] has failed.
    pub fn load_failure(&self) -> Option<String> {
        self.shared.persistence.loading().failure()
    }

    /// Whether the snapshot is still loading (or failed to load): data commands are
    /// answered `-LOADING`.
    pub fn is_loading(&self) -> bool {
        self.shared.persistence.loading().active()
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
        if persistence.loading().active() {
            // As Redis: a keyspace not (fully) loaded is never saved over the snapshot.
            log::warn!("The snapshot is not loaded: exiting without saving");
            persistence.wait_idle();
            return true;
        }
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
        // A script still running would keep its worker from ever stopping.
        shared.scripting.busy.stop_for_shutdown();
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

/// The state the server's threads share, built from `config`: the store (loaded from the
/// snapshot when persistence is enabled), the TLS configuration, one gate and one
/// statistics table per worker. Saves write through `sink`.
///
/// # Errors
///
/// A TLS certificate or key that cannot be used (`InvalidInput`), or a snapshot that cannot
/// be loaded (`InvalidData`).
pub(crate) fn build_shared(
    config: Config,
    sink: Arc<dyn crate::SnapshotSink>,
) -> io::Result<Shared> {
    let shared = build_shared_unloaded(config, sink)?;
    {
        let config = shared.config.read();
        shared
            .persistence
            .load(
                &shared.store,
                &config.persistence,
                &|| false,
                &|libraries, all| crate::cmd::restore_libraries(&shared, libraries, all),
            )
            .map_err(|message| io::Error::new(io::ErrorKind::InvalidData, message))?;
    }
    Ok(shared)
}

/// The body of the loader thread of [`Server::start_loading`]: loads the snapshot, gives up
/// when the server stops, and asks for a shutdown when the load fails.
fn load_in_background(shared: &Shared) {
    let config = shared.config.read().persistence.clone();
    let stop = || shared.shutdown.load(Ordering::Relaxed);
    let restore = |libraries, all| crate::cmd::restore_libraries(shared, libraries, all);
    if let Err(e) = shared
        .persistence
        .load(&shared.store, &config, &stop, &restore)
    {
        if stop() {
            log::warn!("{e}");
        } else {
            log::error!("{e}");
            shared.shutdown_request.request();
        }
    }
}

/// [`build_shared`] without loading the snapshot.
fn build_shared_unloaded(config: Config, sink: Arc<dyn crate::SnapshotSink>) -> io::Result<Shared> {
    let tls = if config.security.tls_enabled {
        let tls = crate::tls::server_config(&config.security)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Some(tls)
    } else {
        None
    };
    let clock = CoarseClock::new();
    let watches = Arc::new(Watches::default());
    let blocking = Arc::new(Blocking::default());
    let tracking = Arc::new(crate::tracking::Tracking::default());
    let notifications = Arc::new(crate::notifications::Notifications::default());
    let listener = KeyspaceListeners {
        watches: WatchListener(Arc::clone(&watches)),
        blocking: BlockingListener(Arc::clone(&blocking)),
        notifications: crate::notifications::NotificationListener(Arc::clone(&notifications)),
        tracking: crate::tracking::TrackingListener(Arc::clone(&tracking)),
    };
    let mut builder = Store::builder()
        .databases(config.server.databases as usize)
        .clock(clock.clone())
        .change_listener(Arc::new(listener));
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
    // The store's settings that have no builder option (the encodings), as CONFIG SET
    // applies them; the configuration has checked them against Redis's ranges.
    crate::cmd::apply_memory(&store, memory)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let persistence = Arc::new(Persistence::new(sink));
    let worker_count = config.server.effective_workers().max(1);
    let shared = Shared {
        store,
        clock,
        config: RwLock::new(config),
        stats: Stats::default(),
        shutdown: AtomicBool::new(false),
        next_client_id: AtomicU64::new(1),
        started: Instant::now(),
        gates: (0..worker_count).map(|_| Gate::default()).collect(),
        watches,
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
        pubsub_limits: OutputLimits::default(),
        slowlog: crate::slowlog::SlowLog::default(),
        pause: crate::pause::Pause::default(),
        mailboxes: crate::push::Mailboxes::new(worker_count),
        monitors: crate::monitors::Monitors::default(),
        pubsub: crate::pubsub::PubSub::default(),
        notifications,
        tracking,
        blocking,
        active_expire: AtomicBool::new(true),
        scripting: crate::script::Scripting::new()
            .map_err(|e| io::Error::other(format!("cannot start the Lua engine: {e}")))?,
    };
    shared.refresh_limits(&shared.config.read());
    Ok(shared)
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
