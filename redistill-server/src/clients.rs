//! The registry of connected clients, for CLIENT LIST and CLIENT KILL from any worker.
//!
//! A connection's owner thread keeps its hot state (selected db, protocol) to itself and
//! mirrors it here only when it changes, so the registry costs nothing per command but one
//! relaxed store of the command's name.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, AtomicUsize, Ordering};
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
    /// The last command run (a code of the command table), for `cmd=`; `usize::MAX`
    /// before any.
    pub last_command: AtomicUsize,
    pub names: Mutex<Names>,
    /// Set by CLIENT KILL; the owning worker closes the connection.
    pub killed: AtomicBool,
    /// CLIENT NO-EVICT and NO-TOUCH, for the `e` and `T` flags.
    pub no_evict: AtomicBool,
    pub no_touch: AtomicBool,
    /// In MONITOR mode, for the `O` flag.
    pub monitor: AtomicBool,
    /// Blocked on keys, for the `b` flag.
    pub blocked: AtomicBool,
    /// CLIENT TRACKING as others see it, and where they push to the client.
    pub tracking: crate::tracking::Published,
    /// Subscribed channels, patterns and shard channels: `sub=`, `psub=`, `ssub=`, and
    /// the `P` flag while any is not 0.
    pub subscriptions: [AtomicUsize; 3],
    /// The socket's file descriptor.
    pub fd: i32,
    /// Buffer figures the owning worker publishes after each event it handles.
    pub buffers: Buffers,
}

/// A connection's buffers as CLIENT LIST reports them, published with relaxed stores.
#[derive(Debug)]
pub(crate) struct Buffers {
    /// Unparsed bytes in the query buffer, and its capacity.
    pub query_len: AtomicUsize,
    pub query_capacity: AtomicUsize,
    /// Reply bytes not yet written, and the output buffer's capacity.
    pub output_pending: AtomicUsize,
    pub output_capacity: AtomicUsize,
    /// Commands queued by MULTI, or -1 outside MULTI.
    pub multi: AtomicI64,
    /// Waiting for the socket to take more output (`events=rw`).
    pub writing: AtomicBool,
}

impl Default for Buffers {
    fn default() -> Self {
        Buffers {
            query_len: AtomicUsize::new(0),
            query_capacity: AtomicUsize::new(0),
            output_pending: AtomicUsize::new(0),
            output_capacity: AtomicUsize::new(0),
            multi: AtomicI64::new(-1),
            writing: AtomicBool::new(false),
        }
    }
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
        fd: i32,
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
            no_evict: AtomicBool::new(false),
            no_touch: AtomicBool::new(false),
            monitor: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
            tracking: crate::tracking::Published::default(),
            subscriptions: Default::default(),
            fd,
            buffers: Buffers::default(),
        }
    }

    /// Redis's client type `pubsub` (any subscription) rather than `normal`.
    pub fn is_pubsub(&self) -> bool {
        self.subscriptions
            .iter()
            .any(|count| count.load(Ordering::Relaxed) > 0)
    }

    /// One CLIENT LIST / CLIENT INFO line, with Redis's field names. Buffers are reported
    /// as the owning worker last published them: `qbuf` and `rbs` from the query buffer,
    /// `omem` the unsent replies (`obl`/`oll`, Redis's reply-list internals, read 0),
    /// `tot-mem` both buffers' capacity.
    /// `command_label` names a `last_command` code (the command table knows the names).
    pub fn line(
        &self,
        now_ms: u64,
        command_label: impl Fn(usize) -> std::borrow::Cow<'static, str>,
    ) -> String {
        let names = self.names.lock().clone();
        let text = |b: &Option<Bytes>| {
            b.as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let idle = now_ms.saturating_sub(self.last_active_ms.load(Ordering::Relaxed)) / 1000;
        let b = &self.buffers;
        let get = |a: &AtomicUsize| a.load(Ordering::Relaxed);
        let (qbuf, rbs) = (get(&b.query_len), get(&b.query_capacity));
        let (omem, out_capacity) = (get(&b.output_pending), get(&b.output_capacity));
        let multi = b.multi.load(Ordering::Relaxed);
        let [sub, psub, ssub] = [0, 1, 2].map(|i| get(&self.subscriptions[i]));
        // Redis's letters, in its order: monitor, Pub/Sub, MULTI, blocked, tracking (on,
        // broken redirection, broadcast), no-evict, no-touch; N for none.
        let tracking: Vec<char> = self.tracking.flags().collect();
        let mut flags = String::new();
        for (on, letter) in [
            (self.monitor.load(Ordering::Relaxed), 'O'),
            (sub + psub + ssub > 0, 'P'),
            (multi >= 0, 'x'),
            (self.blocked.load(Ordering::Relaxed), 'b'),
            (tracking.contains(&'t'), 't'),
            (tracking.contains(&'R'), 'R'),
            (tracking.contains(&'B'), 'B'),
            (self.no_evict.load(Ordering::Relaxed), 'e'),
            (self.no_touch.load(Ordering::Relaxed), 'T'),
        ] {
            if on {
                flags.push(letter);
            }
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let events = if b.writing.load(Ordering::Relaxed) {
            "rw"
        } else {
            "r"
        };
        let mut line = String::new();
        let _ = writeln!(
            line,
            "id={} addr={} laddr={} fd={} name={} age={} idle={idle} flags={flags} db={} sub={sub} \
             psub={psub} ssub={ssub} multi={multi} qbuf={qbuf} qbuf-free={} argv-mem=0 multi-mem=0 \
             rbs={rbs} rbp={rbs} obl=0 oll=0 omem={omem} tot-mem={} events={events} cmd={} \
             user=default redir={} resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.local_addr.map(|a| a.to_string()).unwrap_or_default(),
            self.fd,
            text(&names.name),
            self.created.elapsed().as_secs(),
            self.db.load(Ordering::Relaxed),
            rbs.saturating_sub(qbuf),
            rbs + out_capacity,
            command_label(self.last_command.load(Ordering::Relaxed)),
            self.tracking.redir(),
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

    /// The client with id `id`, if connected.
    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.clients.lock().get(&id).cloned()
    }

    /// A snapshot of the clients, in id order.
    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        self.clients.lock().values().cloned().collect()
    }
}
