//! File descriptors: enough of them for `max_connections`, and a way out when they run out.
//!
//! Every client costs one descriptor, and the default soft limit (often 1024) is far below
//! the default `max_connections` (10000). At start the soft `RLIMIT_NOFILE` is raised toward
//! what the configuration needs, as far as the hard limit allows.
//!
//! Should descriptors still run out, `accept` fails with `EMFILE` or `ENFILE` and leaves the
//! connection in the backlog, where it would wait unanswered; with edge-triggered readiness
//! nothing would even wake the acceptor for it again. [`Reserve`] is the classic way out
//! (libev, nginx, Redis's own advice): hold one spare descriptor, and when descriptors run
//! out, close it, accept the waiting connection into the freed slot, tell it why it is
//! refused, close it, and take the spare back.

use std::fs::File;
use std::io;

/// Descriptors kept for everything but clients: listeners, pollers and wakers, the
/// health endpoint, snapshot files, log output. Redis keeps 32 as well.
pub(crate) const RESERVED: u64 = 32;

/// What raising the limit achieved, for the start-up log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Raised {
    /// The soft limit is at least what was wanted.
    Enough { soft: u64 },
    /// The hard limit stops short of what was wanted: about `clients` can be served.
    Short { soft: u64, clients: u64 },
}

/// The soft limit wanted for `max_connections` clients (0: no limit, so as many as the
/// hard limit allows).
fn wanted(max_connections: u32, hard: Option<u64>) -> u64 {
    match max_connections {
        // An unlimited hard limit still stops at the kernel's `nr_open`, which a soft limit
        // may not pass: ask for its default, 2^20.
        0 => hard.unwrap_or(UNLIMITED_CAP).min(UNLIMITED_CAP),
        n => u64::from(n) + RESERVED,
    }
}

/// The soft limit asked for when neither `max_connections` nor the hard limit bound it.
const UNLIMITED_CAP: u64 = 1 << 20;

/// Raises the soft `RLIMIT_NOFILE` toward `max_connections` plus [`RESERVED`], clamped to
/// the hard limit; never lowers it. Logs a warning when `max_connections` cannot be
/// honoured.
pub(crate) fn raise_for(max_connections: u32) -> io::Result<Raised> {
    let raised = raise(max_connections)?;
    match raised {
        Raised::Enough { soft } => log::debug!("open-file limit: {soft}"),
        Raised::Short { soft, clients } => log::warn!(
            "max_connections is {max_connections} but the open-file limit is {soft} (its hard \
             limit): about {clients} clients can connect; raise the hard limit (ulimit -Hn, \
             LimitNOFILE=) to serve more"
        ),
    }
    Ok(raised)
}

#[cfg(unix)]
fn raise(max_connections: u32) -> io::Result<Raised> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    // `None` is RLIM_INFINITY.
    let soft = limit.current.unwrap_or(u64::MAX);
    let hard = limit.maximum;
    let want = wanted(max_connections, hard);
    let target = hard.map_or(want, |hard| want.min(hard));
    let soft = if target > soft {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(target),
                maximum: hard,
            },
        )?;
        target
    } else {
        soft
    };
    if soft >= want {
        Ok(Raised::Enough { soft })
    } else {
        Ok(Raised::Short {
            soft,
            clients: soft.saturating_sub(RESERVED),
        })
    }
}

#[cfg(not(unix))]
fn raise(_max_connections: u32) -> io::Result<Raised> {
    Ok(Raised::Enough { soft: u64::MAX })
}

/// Whether `error` says the process or the system is out of file descriptors.
pub(crate) fn out_of_descriptors(error: &io::Error) -> bool {
    #[cfg(unix)]
    {
        use rustix::io::Errno;
        let code = error.raw_os_error();
        code == Some(Errno::MFILE.raw_os_error()) || code == Some(Errno::NFILE.raw_os_error())
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

/// One spare descriptor, given up for a moment when descriptors run out (see the module
/// docs).
#[derive(Debug)]
pub(crate) struct Reserve(Option<File>);

impl Reserve {
    /// Takes the spare descriptor; without one (descriptors already short) the acceptor can
    /// only leave excess connections in the backlog.
    pub fn new() -> Self {
        Reserve(open())
    }

    /// Frees the spare descriptor for `f`, then takes it back. Returns `None` when there was
    /// no spare to free.
    pub fn without<T>(&mut self, f: impl FnOnce() -> T) -> Option<T> {
        let spare = self.0.take()?;
        drop(spare);
        let out = f();
        self.0 = open();
        if self.0.is_none() {
            log::warn!("cannot take back the spare file descriptor");
        }
        Some(out)
    }
}

fn open() -> Option<File> {
    File::open(if cfg!(unix) { "/dev/null" } else { "NUL" }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_covers_clients_and_the_reserve() {
        assert_eq!(wanted(10_000, Some(1 << 20)), 10_000 + RESERVED);
        assert_eq!(wanted(0, Some(4096)), 4096);
        assert_eq!(wanted(0, Some(u64::MAX)), UNLIMITED_CAP);
        assert_eq!(wanted(0, None), UNLIMITED_CAP);
    }

    #[test]
    fn raising_never_lowers_the_limit() {
        let before = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        raise(1).expect("raise");
        let after = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        assert!(after.current.unwrap_or(u64::MAX) >= before.current.unwrap_or(u64::MAX));
        assert_eq!(before.maximum, after.maximum);
    }

    #[test]
    fn only_emfile_and_enfile_are_out_of_descriptors() {
        use rustix::io::Errno;
        assert!(out_of_descriptors(&Errno::MFILE.into()));
        assert!(out_of_descriptors(&Errno::NFILE.into()));
        assert!(!out_of_descriptors(&Errno::CONNABORTED.into()));
        assert!(!out_of_descriptors(&io::ErrorKind::WouldBlock.into()));
    }

    #[test]
    fn the_reserve_is_freed_and_taken_back() {
        let mut reserve = Reserve::new();
        assert_eq!(reserve.without(|| 7), Some(7));
        assert_eq!(reserve.without(|| 8), Some(8));
        let mut empty = Reserve(None);
        assert_eq!(empty.without(|| 9), None);
    }
}
