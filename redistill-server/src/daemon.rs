//! Running as a daemon the way `redis-server` does: `daemonize` detaches the server from
//! its terminal, `pidfile` holds its process id while it runs, and SIGHUP reopens the log
//! file after a rotation.
//!
//! Detaching starts the same program again in a session of its own with no terminal
//! (standard input, output and error on `/dev/null`), and the first process exits 0 at
//! once, as Redis's parent does after its fork; the detached one serves and writes the pid
//! file.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::ServerConfig;

/// Set in the environment of the detached process, so that it serves rather than
/// detaching again. Not a `REDISTILL_` name: it is no configuration key.
const DETACHED_MARK: &str = "_REDISTILL_DETACHED";

/// The pid file a daemonized server writes when `pidfile` is not set.
pub const DEFAULT_PIDFILE: &str = "/var/run/redistill.pid";

/// Whether this process is the detached server that [`detach`] started.
#[must_use]
pub fn is_detached() -> bool {
    std::env::var_os(DETACHED_MARK).is_some()
}

/// Starts this program again, with the same arguments, detached from the terminal; the
/// caller then exits 0.
///
/// # Errors
///
/// The program cannot be found or started.
pub fn detach() -> io::Result<()> {
    let program = std::env::current_exe()?;
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    Command::new(program)
        .args(args)
        .env(DETACHED_MARK, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok(())
}

/// In the detached process: leaves the starting process's session and terminal.
///
/// # Errors
///
/// `setsid` failed.
pub fn new_session() -> io::Result<()> {
    #[cfg(unix)]
    rustix::process::setsid().map_err(io::Error::from)?;
    Ok(())
}

/// Where the pid file goes: `pidfile`, else [`DEFAULT_PIDFILE`] when daemonized, as Redis
/// decides.
#[must_use]
pub fn pidfile_path(config: &ServerConfig) -> Option<PathBuf> {
    match &config.pidfile {
        Some(path) => Some(path.clone()),
        None if config.daemonize => Some(PathBuf::from(DEFAULT_PIDFILE)),
        None => None,
    }
}

/// The pid file while the server runs: written on creation, removed when dropped.
#[derive(Debug)]
pub struct PidFile(PathBuf);

impl PidFile {
    /// Writes this process's id and a newline to `path`.
    ///
    /// # Errors
    ///
    /// The file cannot be written.
    pub fn create(path: &Path) -> io::Result<PidFile> {
        std::fs::write(path, format!("{}\n", std::process::id()))?;
        Ok(PidFile(path.to_path_buf()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.0) {
            log::warn!("Cannot remove the pid file {}: {e}", self.0.display());
        }
    }
}

/// Reopens the log file on every SIGHUP, from a thread of its own.
///
/// # Errors
///
/// The signal handler or the thread cannot be installed.
pub fn reopen_log_on_sighup() -> io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGHUP])?;
    std::thread::Builder::new()
        .name("redistill-sighup".into())
        .spawn(move || {
            for _ in signals.forever() {
                match crate::logging::reopen() {
                    Ok(true) => log::info!("Received SIGHUP: log file reopened"),
                    Ok(false) => log::info!("Received SIGHUP: no log file to reopen"),
                    Err(e) => log::warn!("Received SIGHUP: cannot reopen the log file: {e}"),
                }
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_daemon_gets_the_default_pid_file_unless_one_is_set() {
        let mut config = ServerConfig::default();
        assert_eq!(pidfile_path(&config), None);
        config.daemonize = true;
        assert_eq!(pidfile_path(&config), Some(PathBuf::from(DEFAULT_PIDFILE)));
        config.pidfile = Some(PathBuf::from("/tmp/x.pid"));
        assert_eq!(pidfile_path(&config), Some(PathBuf::from("/tmp/x.pid")));
    }

    #[test]
    fn the_pid_file_lives_as_long_as_its_guard() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("r.pid");
        let guard = PidFile::create(&path).expect("written");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, format!("{}\n", std::process::id()));
        drop(guard);
        assert!(!path.exists());
    }
}
