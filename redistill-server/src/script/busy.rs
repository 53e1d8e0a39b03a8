//! What other threads know of the script running now: since when, whether it wrote,
//! whether SCRIPT KILL, FUNCTION KILL or SHUTDOWN NOSAVE asked it to stop. The engine's
//! hook checks the stop request; connections check [`Busy::busy`] before waiting for the
//! gates a script holds.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

/// Why a running script must stop.
const STOP_NONE: u8 = 0;
const STOP_KILL: u8 = 1;
const STOP_SHUTDOWN: u8 = 2;

/// The error a script stopped by SCRIPT KILL or FUNCTION KILL ends with: Redis 7.0 names
/// SCRIPT KILL for a function too.
pub(crate) const KILLED: &str = "Script killed by user with SCRIPT KILL...";

/// The run state of scripts, shared by every thread.
#[derive(Debug, Default)]
pub(crate) struct Busy {
    /// A script or function runs now.
    running: AtomicBool,
    /// It is a function (FCALL): the busy and kill replies name FUNCTION.
    function: AtomicBool,
    /// It has written: SCRIPT KILL cannot stop it.
    wrote: AtomicBool,
    /// When it started, in unix milliseconds.
    started_ms: AtomicU64,
    /// It has run past the threshold: busy until it ends, whatever the clock does next.
    timed_out: AtomicBool,
    /// `busy-reply-threshold` in milliseconds (0: busy at once).
    threshold_ms: AtomicU64,
    /// A stop request (`STOP_*`).
    stop: AtomicU8,
    /// The last function FCALL ran: FUNCTION STATS names it while it runs.
    caller: Mutex<Caller>,
}

/// A function and the command that called it, kept in buffers reused from call to call.
#[derive(Debug, Default)]
struct Caller {
    name: Vec<u8>,
    /// The command's arguments, one after the other, ending at `ends`.
    args: Vec<u8>,
    ends: Vec<usize>,
}

/// The function running now, as FUNCTION STATS shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunningFunction {
    pub name: Vec<u8>,
    /// The command that called it, as the client sent it.
    pub command: Vec<Vec<u8>>,
    pub duration_ms: u64,
}

/// What runs now, for FUNCTION STATS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Running {
    Nothing,
    /// A script (EVAL or EVALSHA).
    Script,
    Function(RunningFunction),
}

/// What SCRIPT KILL or FUNCTION KILL found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum KillOutcome {
    /// The running script will stop.
    Killed,
    /// Nothing runs.
    NotBusy,
    /// The running script wrote: only SHUTDOWN NOSAVE ends it.
    Unkillable,
    /// SCRIPT KILL found a function running, or FUNCTION KILL a script: the running one
    /// (`function`: a function) stays busy.
    OtherKind { function: bool },
}

fn now_ms() -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(now.as_millis()).unwrap_or(u64::MAX)
}

impl Busy {
    /// Sets `busy-reply-threshold`.
    pub fn set_threshold(&self, ms: u64) {
        self.threshold_ms.store(ms, Ordering::Relaxed);
    }

    /// A script (or, with `function`, a function) starts.
    pub fn start(&self, function: bool) {
        self.function.store(function, Ordering::Relaxed);
        self.wrote.store(false, Ordering::Relaxed);
        self.stop.store(STOP_NONE, Ordering::Relaxed);
        self.timed_out.store(false, Ordering::Relaxed);
        self.started_ms.store(now_ms(), Ordering::Relaxed);
        self.running.store(true, Ordering::Release);
    }

    /// Records the function FCALL is about to run, and the command that called it, before
    /// [`Busy::start`].
    pub fn set_caller(&self, name: &[u8], args: &[&[u8]]) {
        let mut caller = self.caller.lock();
        let Caller {
            name: caller_name,
            args: caller_args,
            ends,
        } = &mut *caller;
        caller_name.clear();
        caller_name.extend_from_slice(name);
        caller_args.clear();
        ends.clear();
        for arg in args {
            caller_args.extend_from_slice(arg);
            ends.push(caller_args.len());
        }
    }

    /// What runs now: nothing, a script, or a function with its caller and how long it
    /// has run.
    pub fn running(&self) -> Running {
        if !self.running.load(Ordering::Acquire) {
            return Running::Nothing;
        }
        if !self.function.load(Ordering::Relaxed) {
            return Running::Script;
        }
        let started = self.started_ms.load(Ordering::Relaxed);
        let caller = self.caller.lock();
        let mut start = 0;
        let command = caller
            .ends
            .iter()
            .map(|&end| {
                let arg = caller.args[start..end].to_vec();
                start = end;
                arg
            })
            .collect();
        Running::Function(RunningFunction {
            name: caller.name.clone(),
            command,
            duration_ms: now_ms().saturating_sub(started),
        })
    }

    /// The running script has ended; whether it was asked to stop.
    pub fn finish(&self) -> bool {
        self.running.store(false, Ordering::Release);
        self.stop.swap(STOP_NONE, Ordering::Relaxed) != STOP_NONE
    }

    /// The running script has written.
    pub fn wrote(&self) {
        self.wrote.store(true, Ordering::Relaxed);
    }

    /// Whether a script has run past the threshold: other clients get `-BUSY`. `Some(true)`
    /// when it is a function. Once past it, the script stays busy until it ends.
    pub fn busy(&self) -> Option<bool> {
        if !self.running.load(Ordering::Acquire) {
            return None;
        }
        if !self.timed_out.load(Ordering::Relaxed) {
            let started = self.started_ms.load(Ordering::Relaxed);
            let elapsed = now_ms().saturating_sub(started);
            if elapsed < self.threshold_ms.load(Ordering::Relaxed) {
                return None;
            }
            if !self.timed_out.swap(true, Ordering::Relaxed) {
                log::warn!(
                    "Slow script detected: still in execution after {elapsed} milliseconds. \
                     You can try killing the script using the {} command.",
                    if self.function.load(Ordering::Relaxed) {
                        "FUNCTION KILL"
                    } else {
                        "SCRIPT KILL"
                    }
                );
            }
        }
        Some(self.function.load(Ordering::Relaxed))
    }

    /// SCRIPT KILL (`function` false) or FUNCTION KILL: as in Redis, each stops only its
    /// own kind.
    pub fn kill(&self, function: bool) -> KillOutcome {
        if !self.running.load(Ordering::Acquire) {
            return KillOutcome::NotBusy;
        }
        if self.wrote.load(Ordering::Relaxed) {
            return KillOutcome::Unkillable;
        }
        let running_function = self.function.load(Ordering::Relaxed);
        if running_function != function {
            return KillOutcome::OtherKind {
                function: running_function,
            };
        }
        self.stop.store(STOP_KILL, Ordering::Relaxed);
        KillOutcome::Killed
    }

    /// SHUTDOWN NOSAVE: the running script stops whatever it did.
    pub fn stop_for_shutdown(&self) {
        if self.running.load(Ordering::Acquire) {
            self.stop.store(STOP_SHUTDOWN, Ordering::Relaxed);
        }
    }

    /// The hook's check: an error stops the script.
    pub fn check(&self) -> mlua::Result<()> {
        match self.stop.load(Ordering::Relaxed) {
            STOP_NONE => Ok(()),
            STOP_SHUTDOWN => Err(mlua::Error::RuntimeError(
                "Script stopped by SHUTDOWN NOSAVE".into(),
            )),
            _ => Err(mlua::Error::RuntimeError(KILLED.into())),
        }
    }
}
