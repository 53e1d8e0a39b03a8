//! Per-connection client state that commands read and change.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use redistill_resp::Version;

use crate::blocking::Waiter;
use crate::clients::ClientInfo;
use crate::push::Outbox;
use crate::watch::DirtyFlag;

/// What a connection's commands can see and change about their client.
#[derive(Debug)]
pub(crate) struct Client {
    /// What other threads see of this client (CLIENT LIST, CLIENT KILL).
    pub info: Arc<ClientInfo>,
    /// The selected database; change it with [`Client::select`].
    pub db: usize,
    /// RESP2 until HELLO 3; change it with [`Client::set_version`].
    pub version: Version,
    /// Set by QUIT: close once the reply is written.
    pub close_after_reply: bool,
    /// False until AUTH succeeds when a password is set.
    pub authenticated: bool,
    /// Counts fast commands to pick the ones timed for INFO commandstats.
    fast_commands: u32,
    /// When the last timed command of the current batch ended, if nothing ran since: the
    /// next timed command starts there instead of reading the clock again. The
    /// connection clears it before each batch.
    pub timing_mark: Option<std::time::Instant>,
    pub tx: Transaction,
    /// CLIENT NO-TOUCH ON: this client's reads leave keys' LRU/LFU figures alone; change
    /// it with [`Client::set_no_touch`].
    pub no_touch: bool,
    /// CLIENT REPLY: whether replies are sent.
    pub reply_mode: ReplyMode,
    /// Where the running command's reply starts in the output, past what goes out even
    /// when CLIENT REPLY silences replies, as Redis pushes it: Pub/Sub messages,
    /// confirmations and invalidations (see `cmd::execute`).
    pub reply_from: usize,
    /// The connection's slot in its worker, which other threads name to push to it.
    pub slot: usize,
    /// Where other threads push bytes for this client (see `push`), made by
    /// [`Client::outbox`] once something needs it.
    pub outbox: Option<Arc<Outbox>>,
    /// In MONITOR mode; change it with [`Client::set_monitor`].
    pub monitor: bool,
    /// Arguments of the running command that MONITOR must not show (credentials), set by
    /// its handler while some client monitors.
    pub redacted: Vec<usize>,
    /// Blocked on keys (BLPOP and the like): the connection runs nothing more until the
    /// wait ends; set with [`Client::block`].
    pub blocked: Option<Arc<Waiter>>,
    /// CLIENT TRACKING's options while it is on (see `cmd::tracking`).
    pub tracking: Option<crate::tracking::Mode>,
    /// Channels, shard channels and patterns subscribed to; change them through
    /// `cmd::pubsub`, which keeps the registry and the counts in `info` in step.
    pub subscriptions: crate::pubsub::Subscriptions,
}

/// CLIENT REPLY's modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ReplyMode {
    #[default]
    On,
    /// CLIENT REPLY OFF: no replies until CLIENT REPLY ON.
    Off,
    /// CLIENT REPLY SKIP was the last command: the next command's reply is dropped.
    SkipNext,
    /// The reply of the command now running is dropped.
    Skip,
}

/// MULTI/WATCH state.
#[derive(Debug, Default)]
pub(crate) struct Transaction {
    /// Commands queued since MULTI; `None` outside MULTI.
    pub queue: Option<Vec<Vec<Bytes>>>,
    /// A command was refused while queueing: EXEC answers EXECABORT.
    pub aborted: bool,
    /// Keys this client watches, as (db, key).
    pub watched: Vec<(usize, Bytes)>,
    /// The watched keys that existed when watched: if one is gone at EXEC (expired or
    /// evicted, which no writer reports), the transaction fails as in Redis.
    pub existed_when_watched: Vec<(usize, Bytes)>,
    /// Set by writers of a watched key.
    pub dirty: DirtyFlag,
    /// EXEC is running the queued commands (BGSAVE then schedules its save, as in Redis).
    pub in_exec: bool,
    /// Bytes of the queued commands' arguments, which count as the client's memory.
    pub queued_bytes: usize,
}

impl Transaction {
    /// Queues a command of the transaction (a copy of its arguments).
    pub fn enqueue(&mut self, args: &[&[u8]]) {
        if let Some(queue) = &mut self.queue {
            self.queued_bytes += args.iter().map(|a| a.len()).sum::<usize>();
            queue.push(args.iter().map(|a| Bytes::copy_from_slice(a)).collect());
        }
    }

    /// Ends MULTI, handing back what was queued (`None` outside MULTI).
    pub fn take_queue(&mut self) -> Option<Vec<Vec<Bytes>>> {
        self.queued_bytes = 0;
        self.queue.take()
    }
}

impl Client {
    pub fn new(info: Arc<ClientInfo>, authenticated: bool) -> Self {
        Client {
            info,
            db: 0,
            version: Version::Resp2,
            close_after_reply: false,
            authenticated,
            fast_commands: 0,
            timing_mark: None,
            tx: Transaction::default(),
            no_touch: false,
            reply_mode: ReplyMode::On,
            reply_from: 0,
            slot: 0,
            outbox: None,
            monitor: false,
            redacted: Vec::new(),
            blocked: None,
            tracking: None,
            subscriptions: crate::pubsub::Subscriptions::default(),
        }
    }

    /// Whether this fast command is the one in [`crate::stats::FAST_TIMING_SAMPLE`] to time.
    pub fn next_fast_sample(&mut self) -> bool {
        self.fast_commands = self.fast_commands.wrapping_add(1);
        self.fast_commands % crate::stats::FAST_TIMING_SAMPLE == 1
    }

    pub fn id(&self) -> u64 {
        self.info.id
    }

    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.info.db.store(db, Ordering::Relaxed);
    }

    pub fn set_version(&mut self, version: Version) {
        self.version = version;
        if version == Version::Resp3 {
            // Other threads push to RESP3 clients (invalidations redirected to them).
            self.outbox();
        }
        let resp = if version == Version::Resp3 { 3 } else { 2 };
        self.info.resp.store(resp, Ordering::Relaxed);
    }

    pub fn set_no_touch(&mut self, on: bool) {
        self.no_touch = on;
        self.info.no_touch.store(on, Ordering::Relaxed);
    }

    /// CLIENT NO-EVICT: this server never evicts clients, so it is only reported.
    pub fn set_no_evict(&self, on: bool) {
        self.info.no_evict.store(on, Ordering::Relaxed);
    }

    /// This client's outbox, made on first use.
    pub fn outbox(&mut self) -> &Arc<Outbox> {
        let (worker, slot, id) = (self.info.worker, self.slot, self.info.id);
        let info = &self.info;
        self.outbox.get_or_insert_with(|| {
            let outbox = Arc::new(Outbox::new(worker, slot, id));
            let _ = info.tracking.outbox.set(Arc::clone(&outbox));
            outbox
        })
    }

    pub fn set_monitor(&mut self, on: bool) {
        self.monitor = on;
        self.info.monitor.store(on, Ordering::Relaxed);
    }

    /// The client waits on keys until `waiter` is finished.
    pub fn block(&mut self, waiter: Arc<Waiter>) {
        self.blocked = Some(waiter);
        self.info.blocked.store(true, Ordering::Relaxed);
    }

    /// The reply that ends the client's wait, once there is one; the client is then no
    /// longer blocked.
    pub fn take_unblocking_reply(&mut self) -> Option<Vec<u8>> {
        let reply = self.blocked.as_ref()?.take_reply()?;
        self.blocked = None;
        self.info.blocked.store(false, Ordering::Relaxed);
        Some(reply)
    }

    pub fn name(&self) -> Option<Bytes> {
        self.info.names.lock().name.clone()
    }

    pub fn set_name(&self, name: Option<Bytes>) {
        self.info.names.lock().name = name;
    }
}
