//! The `redistill` binary's body: command line, configuration, logging, serve until
//! SIGTERM, SIGINT or SHUTDOWN, then stop gracefully.

use std::process::ExitCode;

use crate::Server;
use crate::allocator::AllocatorControl;
use crate::cli::Cli;
use crate::{daemon, logging};

/// Runs the server as the `redistill` binary does, until it stops. INFO reports the
/// allocator [installed](crate::allocator::install) before, else the system allocator;
/// see [`run_with_allocator`].
///
/// The port is bound first and the snapshot loads while clients connect (see
/// [`Server::start_loading`]). A bad flag, a missing configuration file, an unknown key or
/// a bad value prints a message naming it and exits with status 2; a failure to start
/// (e.g. the port is taken, or the snapshot is damaged) exits with status 1. On SIGTERM, SIGINT or SHUTDOWN a configured
/// snapshot is saved first; if that save fails the server keeps running.
pub fn run() -> ExitCode {
    let cli = Cli::parse_process_args();
    let loaded = match cli.load_config() {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("redistill: {e}");
            return ExitCode::from(2);
        }
    };
    let server_config = &loaded.config.server;
    if server_config.daemonize && !daemon::is_detached() {
        return match daemon::detach() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("redistill: cannot daemonize: {e}");
                ExitCode::from(1)
            }
        };
    }
    if daemon::is_detached()
        && let Err(e) = daemon::new_session()
    {
        eprintln!("redistill: cannot start a session of its own: {e}");
    }
    logging::init(server_config.log_level);
    if let Some(path) = &server_config.logfile
        && let Err(e) = logging::log_to_file(path)
    {
        eprintln!("redistill: can't open the log file {}: {e}", path.display());
        return ExitCode::from(1);
    }
    if let Err(e) = daemon::reopen_log_on_sighup() {
        log::warn!("cannot install the SIGHUP handler: {e}");
    }
    let pidfile_path = daemon::pidfile_path(server_config);
    logging::log_loaded(&loaded);
    let workers = loaded.config.server.effective_workers();
    let server = match Server::start_loading(loaded.config) {
        Ok(server) => server,
        Err(e) => {
            log::error!("cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    // Removed when this function returns, whichever way.
    let _pidfile = pidfile_path.and_then(|path| match daemon::PidFile::create(&path) {
        Ok(guard) => Some(guard),
        Err(e) => {
            log::warn!("Failed to write PID file {}: {e}", path.display());
            None
        }
    });
    if let Err(e) = server.shutdown_trigger().on_signals() {
        log::error!("cannot install signal handlers: {e}");
        return ExitCode::from(1);
    }
    log::info!(
        "Redistill {} ready to accept connections on {} with {workers} worker(s)",
        env!("CARGO_PKG_VERSION"),
        server.local_addr(),
    );
    if server.is_loading() {
        log::info!(
            "Loading the snapshot: until it is in memory, commands that need the data are \
             answered -LOADING"
        );
    }
    loop {
        server.wait_for_shutdown_request();
        if let Some(e) = server.load_failure() {
            log::error!("cannot start: {e}");
            server.shutdown();
            return ExitCode::from(1);
        }
        if server.prepare_shutdown() {
            break;
        }
    }
    log::info!("Shutting down: no new connections; answering what clients already sent");
    let totals = server.shutdown();
    log::info!(
        "Redistill is now ready to exit, bye bye... ({} commands processed, {} connections \
         received)",
        totals.commands_processed,
        totals.connections_received,
    );
    ExitCode::SUCCESS
}

/// [`run`], with `allocator` describing the process's `#[global_allocator]` to INFO,
/// `MEMORY PURGE` and `MEMORY MALLOC-STATS` (see [`crate::allocator`]).
pub fn run_with_allocator(allocator: &'static dyn AllocatorControl) -> ExitCode {
    if crate::allocator::install(allocator).is_err() {
        eprintln!("redistill: an allocator control was installed already; keeping it");
    }
    run()
}
