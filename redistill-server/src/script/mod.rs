//! Server-side Lua: the engine (one sandboxed Lua 5.1 state for the server, as Redis has),
//! the conversions between replies and Lua values, the `redis` object, the script cache,
//! function libraries, and the run state other clients see while a script is busy.
//!
//! Scripts run one at a time, holding every worker's gate (see `cmd::scripting`), so the
//! state behind [`Scripting::state`] is never contended by commands.

pub(crate) mod api;
pub(crate) mod busy;
pub(crate) mod cache;
pub(crate) mod call;
pub(crate) mod convert;
pub(crate) mod engine;
pub(crate) mod functions;
pub(crate) mod rand48;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

use crate::client::Client;
use crate::cmd::LastCommand;

/// Everything scripting keeps: the Lua state with its caches, and the run state.
pub(crate) struct Scripting {
    pub state: Mutex<State>,
    pub busy: Arc<busy::Busy>,
    /// How many libraries and functions there are, readable while a script holds the
    /// state (FUNCTION STATS answers then).
    libraries_count: AtomicUsize,
    functions_count: AtomicUsize,
}

/// The Lua state and what it has loaded, with the client that runs scripts' commands.
pub(crate) struct State {
    pub engine: engine::Engine,
    pub scripts: cache::ScriptCache,
    pub libraries: functions::Libraries,
    /// The client `redis.call` runs commands as; its reply buffer is reused.
    pub client: Client,
    pub out: Vec<u8>,
    /// The command scripts called last, looked up again by a comparison.
    pub last_command: LastCommand,
}

/// What running a script borrows of the state: the engine, and the client its commands
/// run as with that client's reply buffer.
pub(crate) struct Runner<'s> {
    pub engine: &'s engine::Engine,
    pub client: &'s mut Client,
    pub out: &'s mut Vec<u8>,
    pub last_command: &'s mut LastCommand,
}

impl State {
    /// The caches, to find what to run, beside what running it borrows.
    pub fn split(&mut self) -> (&cache::ScriptCache, &functions::Libraries, Runner<'_>) {
        let runner = Runner {
            engine: &self.engine,
            client: &mut self.client,
            out: &mut self.out,
            last_command: &mut self.last_command,
        };
        (&self.scripts, &self.libraries, runner)
    }
}

impl Scripting {
    /// A fresh engine with empty caches.
    pub fn new() -> mlua::Result<Scripting> {
        let busy = Arc::new(busy::Busy::default());
        let engine = engine::Engine::new(Arc::clone(&busy))?;
        Ok(Scripting {
            state: Mutex::new(State {
                engine,
                scripts: cache::ScriptCache::default(),
                libraries: functions::Libraries::default(),
                client: script_client(),
                out: Vec::with_capacity(1024),
                last_command: LastCommand::default(),
            }),
            busy,
            libraries_count: AtomicUsize::new(0),
            functions_count: AtomicUsize::new(0),
        })
    }

    /// Records how many libraries and functions there are after a change.
    pub fn set_counts(&self, libraries: &functions::Libraries) {
        self.libraries_count
            .store(libraries.libraries.len(), Ordering::Relaxed);
        self.functions_count
            .store(libraries.function_count(), Ordering::Relaxed);
    }

    /// How many libraries and functions there are.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.libraries_count.load(Ordering::Relaxed),
            self.functions_count.load(Ordering::Relaxed),
        )
    }
}

/// What INFO memory reports of scripting.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct MemoryReport {
    /// The Lua state's bytes.
    pub vm_eval: usize,
    /// Bytes the script cache holds.
    pub scripts_eval: usize,
    pub cached_scripts: usize,
    pub functions: usize,
    pub libraries: usize,
    /// Bytes of the libraries' code.
    pub functions_code: usize,
}

impl Scripting {
    /// INFO memory's figures; zeros while a script runs (it holds the state).
    pub fn memory(&self) -> MemoryReport {
        let Some(state) = self.state.try_lock() else {
            return MemoryReport::default();
        };
        MemoryReport {
            vm_eval: state.engine.used_memory(),
            scripts_eval: state.scripts.bytes(),
            cached_scripts: state.scripts.len(),
            functions: state.libraries.function_count(),
            libraries: state.libraries.libraries.len(),
            functions_code: state.libraries.code_bytes(),
        }
    }
}

/// The client scripts' commands run as: never connected, always authenticated.
fn script_client() -> Client {
    let addr = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
    let info = crate::clients::ClientInfo::new(0, addr, None, 0, 0, -1);
    let mut client = Client::new(Arc::new(info), true);
    // Blocking commands answer at once, as inside MULTI.
    client.tx.in_exec = true;
    client
}
