//! The `redistill` binary's body: command line, configuration, logging, then serve.

use std::process::ExitCode;

use crate::Server;
use crate::cli::Cli;
use crate::logging;

/// Runs the server as the `redistill` binary does, until it stops.
///
/// A bad flag, a missing configuration file, an unknown key or a bad value prints a message
/// naming it and exits with status 2; a failure to start (e.g. the port is taken) exits
/// with status 1.
pub fn run() -> ExitCode {
    let cli = Cli::parse_process_args();
    let loaded = match cli.load_config() {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("redistill: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(loaded.config.server.log_level);
    logging::log_loaded(&loaded);
    let workers = loaded.config.server.effective_workers();
    let server = match Server::start(loaded.config) {
        Ok(server) => server,
        Err(e) => {
            log::error!("cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    log::info!(
        "Redistill {} ready to accept connections on {} with {workers} worker(s)",
        env!("CARGO_PKG_VERSION"),
        server.local_addr(),
    );
    server.wait();
    ExitCode::SUCCESS
}
