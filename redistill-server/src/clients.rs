//! The registry of connected clients, for CLIENT LIST and CLIENT KILL from any worker.
//!
//! A connection's owner thread keeps its hot state (selected db, protocol) to itself and
//! mirrors it here only when it changes, so the registry costs nothing per command but one
//! relaxed store of the command's name.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use parking_lot::Mutex;

/// What other threads may read or ask of a client.
#[derive(Debug)]
pub(crate) struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub local_addr: Option<SocketAddr>,
    pub worker: usize,
    pub created: Instant,
    pub db: AtomicUsize,
    /// 2 or 3.
    pub resp: AtomicU8,
    /// Coarse unix ms of the last request.
    pub last_active_ms: AtomicU64,
    /// The last command run (see `cmd::last_command_label`), for `cmd=`; `usize::MAX`
    /// before any.
    pub last_command: AtomicUsize,
    pub names: Mutex<Names>,
    /// Set by CLIENT KILL; the owning worker closes the connection.
    pub killed: AtomicBool,
}

/// CLIENT SETNAME and SETINFO values.
#[derive(Debug, Default, Clone)]
pub(crate) struct Names {
    pub name: Option<Bytes>,
    pub lib_name: Option<Bytes>,
    pub lib_version: Option<Bytes>,
}

impl ClientInfo {
    pub fn new(
        id: u64,
        addr: SocketAddr,
        local_addr: Option<SocketAddr>,
        worker: usize,
        now_ms: u64,
    ) -> Self {
        ClientInfo {
            id,
            addr,
            local_addr,
            worker,
            created: Instant::now(),
            db: AtomicUsize::new(0),
            resp: AtomicU8::new(2),
            last_active_ms: AtomicU64::new(now_ms),
            last_command: AtomicUsize::new(usize::MAX),
            names: Mutex::new(Names::default()),
            killed: AtomicBool::new(false),
        }
    }

    /// One CLIENT LIST / CLIENT INFO line, with Redis's field names. Buffer sizes are not
    /// tracked per client and read as 0.
    pub fn line(&self, now_ms: u64) -> String {
        let names = self.names.lock().clone();
        let text = |b: &Option<Bytes>| {
            b.as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let idle = now_ms.saturating_sub(self.last_active_ms.load(Ordering::Relaxed)) / 1000;
        let mut line = String::new();
        let _ = writeln!(
            line,
            "id={} addr={} laddr={} fd=-1 name={} age={} idle={idle} flags=N db={} sub=0 psub=0 \
             ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 \
             omem=0 tot-mem=0 events=r cmd={} user=default redir=-1 resp={} lib-name={} \
             lib-ver={}",
            self.id,
            self.addr,
            self.local_addr.map(|a| a.to_string()).unwrap_or_default(),
            text(&names.name),
            self.created.elapsed().as_secs(),
            self.db.load(Ordering::Relaxed),
            crate::cmd::last_command_label(self.last_command.load(Ordering::Relaxed)),
            self.resp.load(Ordering::Relaxed),
            text(&names.lib_name),
            text(&names.lib_version),
        );
        line
    }
}

/// Every connected client, by id.
#[derive(Default)]
pub(crate) struct Registry {
    clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
}

impl Registry {
    pub fn add(&self, info: Arc<ClientInfo>) {
        self.clients.lock().insert(info.id, info);
    }

    pub fn remove(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    /// A snapshot of the clients, in id order.
    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        self.clients.lock().values().cloned().collect()
    }
}
