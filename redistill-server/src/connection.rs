//! One client connection: its buffers, reading, executing in order, and writing back.
//!
//! Every complete request in what was read runs in order and its reply is appended to one
//! output buffer, which goes out with as few `write` calls as the socket allows. While the
//! unsent output is over [`OUTPUT_PAUSE`], the connection stops reading and executing:
//! a client that pipelines without reading its replies stalls on its own TCP window
//! instead of growing our memory.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use bytes::BytesMut;
use mio::{Interest, Registry, Token};
use redistill_resp::{Limits, RequestBatch, RequestDecoder};

use crate::client::Client;
use crate::clients::ClientInfo;
use crate::cmd::{self, Ctx};
use crate::shared::Shared;
use crate::transport::Transport;

/// Unsent output above which the connection stops reading and executing.
pub(crate) const OUTPUT_PAUSE: usize = 256 * 1024;

/// An output buffer grown past this by one big reply is given back once drained.
const OUTPUT_KEEP: usize = 64 * 1024;

/// Bytes one connection may move, read and written, in one turn (one call of
/// [`Connection::ready`]) before it stops reading and the worker serves the others: a client
/// that streams a long pipeline, or a huge value, or pipelines while reading its replies as
/// fast as they come, then shares its worker with the rest (and lets it notice shutdown), as
/// Redis reads a client a chunk per event; it goes on in the worker's next round.
const TURN_BUDGET: usize = 1 << 20;

/// What a connection costs besides its buffers: its own state and its client record,
/// counted in `used_memory` as Redis counts its client structure.
const CONNECTION_OVERHEAD: usize =
    std::mem::size_of::<Connection>() + std::mem::size_of::<ClientInfo>();

/// What the worker should do with the connection after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Open,
    Closed,
    /// Replies are waiting: call [`Connection::ready`] again, writable, before polling.
    FlushLater,
}

/// Why the connection is ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    No,
    /// Send what is buffered (an error, QUIT's +OK), then close.
    AfterFlush,
    /// Close without sending more (reset, I/O error, a limit exceeded).
    Now,
}

pub(crate) struct Connection {
    stream: Transport,
    token: Token,
    input: BytesMut,
    output: Vec<u8>,
    /// Bytes of `output` already written.
    written: usize,
    decoder: RequestDecoder,
    /// Requests decoded from the input and not yet all executed.
    batch: RequestBatch,
    /// Index in `batch` of the next request to execute.
    next_request: usize,
    /// The row of the command name last looked up.
    last_command: cmd::LastCommand,
    /// A protocol error found after the requests of `batch`: sent once they have run.
    protocol_error: Option<redistill_resp::Error>,
    client: Client,
    closing: Closing,
    /// Stopped reading because the output is over [`OUTPUT_PAUSE`], or (with `held`)
    /// because CLIENT PAUSE holds the next request.
    paused: bool,
    /// CLIENT PAUSE holds the next request; the worker drives the connection again when
    /// the pause ends.
    held: bool,
    /// Bytes this turn may still move (see [`TURN_BUDGET`]).
    turn_budget: usize,
    /// This turn stopped at its budget with input maybe still waiting: no new
    /// readiness event will report it, so the worker reads on in its next round.
    read_again: bool,
    /// When (unix seconds) the unsent output went over the soft output limit, while it is.
    soft_limit_since: Option<u64>,
    /// Bytes written and write calls since they were last added to the worker's INFO
    /// counters (`flush` has no access to them).
    unpublished_output: (u64, u64),
    /// WRITABLE interest is registered.
    want_write: bool,
    query_limit: usize,
    /// This connection's bytes in the memory count.
    memory: MemoryShare,
    /// The worker that owns this connection.
    worker: usize,
    /// Coarse time (unix ms) of the last readiness event, for the idle `timeout`.
    last_active_ms: u64,
    /// A command blocked the client since the worker last asked
    /// ([`Connection::take_new_block_deadline`]).
    newly_blocked: bool,
    /// Coarse time (unix ms) after which a TLS handshake still under way is given up
    /// (`tls_handshake_timeout`), so that idle or stalled peers cannot hold the handshake
    /// slots for ever.
    handshake_deadline_ms: u64,
}

impl Connection {
    /// A connection over `stream`. With a `refusal`, the connection runs nothing: it sends
    /// that error line (after the TLS handshake, on TLS) and closes.
    pub fn new(
        stream: Transport,
        peer: SocketAddr,
        token: Token,
        id: u64,
        worker: usize,
        shared: &Shared,
        refusal: Option<&'static [u8]>,
    ) -> Self {
        let config = shared.config.read();
        let limits = Limits::default().with_max_bulk_len(
            usize::try_from(config.server.proto_max_bulk_len).unwrap_or(usize::MAX),
        );
        let query_limit =
            usize::try_from(config.server.client_query_buffer_limit).unwrap_or(usize::MAX);
        let now_ms = redistill_store::Clock::now_ms(&shared.clock);
        let info = std::sync::Arc::new(ClientInfo::new(
            id,
            peer,
            stream.local_addr().ok(),
            worker,
            now_ms,
            stream.raw_fd(),
        ));
        shared.clients.add(std::sync::Arc::clone(&info));
        let mut decoder = RequestDecoder::with_limits(limits);
        decoder.set_auth_required(config.security.password.is_some());
        let mut client = Client::new(info, config.security.password.is_none());
        client.slot = token.0;
        Connection {
            stream,
            token,
            input: BytesMut::with_capacity(config.server.buffer_size.max(512)),
            output: refusal.map(<[u8]>::to_vec).unwrap_or_default(),
            written: 0,
            decoder,
            batch: RequestBatch::new(),
            next_request: 0,
            last_command: cmd::LastCommand::default(),
            protocol_error: None,
            client,
            closing: if refusal.is_some() {
                Closing::AfterFlush
            } else {
                Closing::No
            },
            paused: false,
            held: false,
            turn_budget: TURN_BUDGET,
            read_again: false,
            soft_limit_since: None,
            unpublished_output: (0, 0),
            want_write: false,
            query_limit,
            memory: MemoryShare {
                buffer_size: config.server.buffer_size.max(512),
                counted: 0,
            },
            worker,
            last_active_ms: now_ms,
            handshake_deadline_ms: now_ms + u64::from(config.security.tls_handshake_timeout) * 1000,
            newly_blocked: false,
        }
    }

    pub fn register(&mut self, registry: &Registry) -> io::Result<()> {
        registry.register(&mut self.stream, self.token, Interest::READABLE)
    }

    /// Stops polling the socket and releases what the client held (its WATCHed keys and
    /// its share of the memory count).
    pub fn close(&mut self, registry: &Registry, shared: &Shared) {
        if self.closing != Closing::Now {
            self.stream.close_notify();
        }
        let _ = registry.deregister(&mut self.stream);
        cmd::disconnect(shared, &mut self.client);
        self.memory.release(shared);
    }

    /// Brings this connection's part of the store's external memory up to date (see
    /// [`MemoryShare`]).
    fn account_memory(&mut self, shared: &Shared) {
        self.memory
            .update(&self.input, &self.batch, &self.output, &self.client, shared);
    }

    /// Gives back a query buffer that a big request grew, once little of it is in use.
    fn shrink_input(&mut self) {
        let nominal = self.memory.buffer_size;
        if self.input.capacity() > 2 * nominal && self.input.len() <= nominal / 2 {
            // The decoder's offsets count from the buffer's start, which the copy keeps.
            let mut fresh = BytesMut::with_capacity(nominal);
            fresh.extend_from_slice(&self.input);
            self.input = fresh;
        }
    }

    /// Handles readiness: writes pending output, reads and executes, writes the replies.
    ///
    /// With `defer_flush`, a connection that read and ran requests without pausing returns
    /// before writing; the worker writes its replies with [`Connection::ready`] once every
    /// event of the poll round has been handled, as Redis writes in `beforeSleep`. The
    /// replies of one round then reach their clients together, which spares a client
    /// driving many connections a wake-up per reply.
    #[allow(clippy::too_many_arguments)]
    pub fn ready(
        &mut self,
        readable: bool,
        read_closed: bool,
        writable: bool,
        defer_flush: bool,
        shared: &Shared,
        scratch: &mut [u8],
        registry: &Registry,
    ) -> Status {
        let status = self.handle(
            readable,
            read_closed,
            writable,
            defer_flush,
            shared,
            scratch,
            registry,
        );
        self.publish_output(shared);
        status
    }

    /// Adds what was written since the last call to INFO's `total_net_output_bytes` and
    /// `total_writes_processed`.
    fn publish_output(&mut self, shared: &Shared) {
        let (bytes, writes) = std::mem::take(&mut self.unpublished_output);
        if writes > 0 {
            let stats = &shared.command_stats[self.worker];
            stats.net_output.add(bytes);
            stats.writes.add(writes);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn handle(
        &mut self,
        readable: bool,
        read_closed: bool,
        writable: bool,
        defer_flush: bool,
        shared: &Shared,
        scratch: &mut [u8],
        registry: &Registry,
    ) -> Status {
        self.last_active_ms = redistill_store::Clock::now_ms(&shared.clock);
        self.client
            .info
            .last_active_ms
            .store(self.last_active_ms, std::sync::atomic::Ordering::Relaxed);
        self.turn_budget = TURN_BUDGET;
        if writable {
            self.flush();
        }
        if self.paused && self.pending() <= OUTPUT_PAUSE {
            // Output drained: run what was already read, then read what is waiting.
            self.paused = false;
            self.execute_buffered(shared);
            if !self.paused {
                self.read(shared, scratch, true);
            }
        } else if (readable || read_closed) && !self.paused {
            self.read(shared, scratch, read_closed);
            if defer_flush && !self.paused && self.closing == Closing::No {
                return Status::FlushLater;
            }
        }
        self.flush();
        // The flush may have sent everything at once (a large socket buffer, or TLS
        // taking it into its own): then no WRITABLE event will come to resume a paused
        // connection, so resume it now.
        while self.paused
            && !self.held
            && !self.read_again
            && self.pending() <= OUTPUT_PAUSE
            && self.closing == Closing::No
        {
            self.paused = false;
            self.execute_buffered(shared);
            if !self.paused {
                self.read(shared, scratch, true);
            }
            self.flush();
        }
        if self.closing == Closing::Now || (self.closing == Closing::AfterFlush && !self.unsent()) {
            return Status::Closed;
        }
        let want_write = self.unsent();
        if want_write != self.want_write {
            let interest = if want_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if registry
                .reregister(&mut self.stream, self.token, interest)
                .is_err()
            {
                return Status::Closed;
            }
            self.want_write = want_write;
        }
        self.publish_buffers(shared);
        Status::Open
    }

    /// Mirrors the buffer figures into the client registry for CLIENT LIST: a handful of
    /// relaxed stores per event, never per command.
    fn publish_buffers(&mut self, shared: &Shared) {
        use std::sync::atomic::Ordering::Relaxed;
        self.account_memory(shared);
        let b = &self.client.info.buffers;
        b.query_len.store(self.input.len(), Relaxed);
        b.query_capacity.store(self.input.capacity(), Relaxed);
        b.output_pending.store(self.pending(), Relaxed);
        b.output_capacity.store(self.output.capacity(), Relaxed);
        let multi = self
            .client
            .tx
            .queue
            .as_ref()
            .map_or(-1, |q| i64::try_from(q.len()).unwrap_or(i64::MAX));
        b.multi.store(multi, Relaxed);
        b.writing.store(self.want_write, Relaxed);
    }

    /// Whether the client has been idle for longer than `timeout_ms` at time `now_ms`.
    /// Like Redis, a client waiting for its replies to drain is not idle, nor is a monitor
    /// or a subscriber.
    pub fn idle_longer_than(&self, timeout_ms: u64, now_ms: u64) -> bool {
        self.pending() == 0
            && !self.client.monitor
            && self.client.subscriptions.is_empty()
            && self.client.blocked.is_none()
            && now_ms.saturating_sub(self.last_active_ms) > timeout_ms
    }

    pub fn client_id(&self) -> u64 {
        self.client.id()
    }

    /// Moves what other threads pushed to this client (see `push`) into its output; closes
    /// the client when that takes the output over the output buffer limits.
    pub fn receive_pushed(&mut self, shared: &Shared) {
        let within_limits = receive_pushed(
            &self.client,
            &mut self.output,
            self.written,
            &mut self.soft_limit_since,
            shared,
        );
        if !within_limits {
            self.closing = Closing::Now;
            return;
        }
        self.resume_if_unblocked(shared);
    }

    /// When (store clock, ms) the wait of this blocked client times out, if it waits
    /// with a timeout.
    pub fn block_deadline(&self) -> Option<u64> {
        self.client.blocked.as_ref()?.deadline_ms
    }

    /// The timeout of a wait begun since the last call, for the worker to watch.
    pub fn take_new_block_deadline(&mut self) -> Option<u64> {
        if !std::mem::take(&mut self.newly_blocked) {
            return None;
        }
        self.block_deadline()
    }

    /// The blocked client's timeout has passed: unless it was served meanwhile, it gets
    /// its timeout reply, and its next requests run.
    pub fn time_out_block(&mut self, shared: &Shared) {
        if let Some(waiter) = &self.client.blocked
            && shared.blocking.time_out(waiter)
        {
            self.resume_if_unblocked(shared);
        }
    }

    /// Once the blocked client's wait has ended, sends the reply that ended it and runs
    /// the requests that came after the blocking one.
    fn resume_if_unblocked(&mut self, shared: &Shared) {
        let Some(reply) = self.client.take_unblocking_reply() else {
            return;
        };
        if self.client.reply_mode != crate::client::ReplyMode::Off {
            self.output.extend_from_slice(&reply);
        }
        self.execute_buffered(shared);
    }

    /// Whether a TLS handshake has gone on for longer than `tls_handshake_timeout`.
    pub fn handshake_expired(&self, now_ms: u64) -> bool {
        now_ms > self.handshake_deadline_ms && self.stream.is_handshaking()
    }

    /// At shutdown: runs the requests already received (reading nothing more) and writes
    /// what the socket takes of the replies; call again on each WRITABLE event until
    /// [`Connection::has_pending_output`] is false.
    pub fn finish(&mut self, shared: &Shared, registry: &Registry) {
        self.flush();
        self.publish_output(shared);
        if self.pending() <= OUTPUT_PAUSE && self.closing != Closing::Now {
            self.paused = false;
            self.execute_buffered(shared);
            self.flush();
        }
        let want_write = self.unsent();
        if want_write && !self.want_write {
            let interest = Interest::READABLE | Interest::WRITABLE;
            if registry
                .reregister(&mut self.stream, self.token, interest)
                .is_err()
            {
                self.closing = Closing::Now;
            }
            self.want_write = true;
        }
    }

    /// Whether replies are still waiting for the socket (and the connection is usable).
    /// A TLS connection still in its handshake has nothing it could deliver while the
    /// server drains, since draining reads nothing more.
    pub fn has_pending_output(&self) -> bool {
        self.closing != Closing::Now
            && !self.stream.is_handshaking()
            && (self.unsent()
                || (self.next_request < self.batch.len() && self.client.blocked.is_none()))
    }

    /// Whether the unsent output has been over the soft output limit for longer than its
    /// seconds. A client that stopped reading no longer runs commands (its output is
    /// paused), so its worker asks this once a second rather than wait for a reply.
    pub fn over_soft_output_limit(&mut self, shared: &Shared) -> bool {
        let pending = self.pending();
        pending > 0 && over_output_limit(pending, &mut self.soft_limit_since, &self.client, shared)
    }

    /// Whether CLIENT PAUSE holds this connection's next request.
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// Whether the turn stopped at its budget with input maybe left, and the
    /// connection could go on now: the worker drives it again, readable, after the other
    /// connections had a turn. (One waiting for its client to read its replies goes on at
    /// the WRITABLE event instead.)
    pub fn wants_to_read(&self) -> bool {
        self.read_again
            && self.closing == Closing::No
            && !self.held
            && !(self.paused && self.pending() > OUTPUT_PAUSE)
    }

    /// Whether CLIENT KILL asked for this connection to close.
    pub fn is_killed(&self) -> bool {
        self.client
            .info
            .killed
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn pending(&self) -> usize {
        self.output.len() - self.written
    }

    /// Whether any output has yet to reach the socket: replies not yet written, or (on
    /// TLS) bytes written and still held encrypted.
    fn unsent(&self) -> bool {
        self.pending() > 0 || self.stream.has_buffered()
    }

    /// Reads until the socket is drained, executing requests as they complete.
    ///
    /// A read that returns less than asked for has emptied the socket, and new bytes
    /// bring a new edge-triggered event, so the usual extra `read` that would only say
    /// `WouldBlock` is skipped, unless the peer has closed (`until_eof`): then its EOF
    /// brings no further event and must be read now.
    fn read(&mut self, shared: &Shared, scratch: &mut [u8], until_eof: bool) {
        self.read_again = self.turn_budget == 0;
        if self.read_again {
            return;
        }
        // A refused TLS client is still read from until its handshake completes, so that
        // the refusal can be sent.
        while (self.closing == Closing::No
            || (self.closing == Closing::AfterFlush && self.stream.is_handshaking()))
            && !self.paused
        {
            match self.stream.read(scratch) {
                Ok(0) => {
                    // The peer will send no more; answer what it sent, then close. Before
                    // the handshake completes there is nothing it could be sent.
                    self.closing = if self.stream.is_handshaking() {
                        Closing::Now
                    } else {
                        Closing::AfterFlush
                    };
                }
                Ok(n) => {
                    let stats = &shared.command_stats[self.worker];
                    stats.net_input.add(n as u64);
                    stats.reads.add(1);
                    self.input.extend_from_slice(&scratch[..n]);
                    // Counted before it runs: a big argument may have to evict, or be
                    // refused, first.
                    self.account_memory(shared);
                    self.execute_buffered(shared);
                    let drained =
                        n < scratch.len() && !until_eof && self.stream.short_read_drains();
                    if self.input.len() > self.query_limit {
                        log::warn!(
                            "closing client id={} addr={}: query buffer over client-query-buffer-limit",
                            self.client.id(),
                            self.client.info.addr
                        );
                        self.closing = Closing::Now;
                    }
                    if drained {
                        return;
                    }
                    self.turn_budget = self.turn_budget.saturating_sub(n);
                    if self.turn_budget == 0 {
                        self.read_again = true;
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => self.closing = Closing::Now,
            }
        }
    }

    /// Executes every complete request in the input buffer, in order, stopping while the
    /// output is over [`OUTPUT_PAUSE`].
    fn execute_buffered(&mut self, shared: &Shared) {
        // Time spent away (waiting for the socket) is not the next command's.
        self.client.timing_mark = None;
        // A blocked client runs nothing until its wait ends.
        if self.client.blocked.is_some() {
            return;
        }
        loop {
            // One argument list per batch, reused for each of its requests.
            let mut argv: Vec<&[u8]> = Vec::new();
            // The worker's gate, held across the batch rather than taken per command (see
            // `cmd::transactions`); released for EXEC, and when the batch ends.
            let mut gate = None;
            while self.next_request < self.batch.len() {
                // What was pushed before the next command goes out before its reply.
                if self
                    .client
                    .outbox
                    .as_ref()
                    .is_some_and(|outbox| outbox.is_listed())
                    && !receive_pushed(
                        &self.client,
                        &mut self.output,
                        self.written,
                        &mut self.soft_limit_since,
                        shared,
                    )
                {
                    self.closing = Closing::Now;
                }
                if self.closing != Closing::No {
                    return;
                }
                if self.output.len() - self.written > OUTPUT_PAUSE {
                    self.paused = true;
                    return;
                }
                argv.clear();
                if let Some(request) = self.batch.get(self.next_request) {
                    argv.extend(request.iter());
                }
                if argv.is_empty() {
                    self.next_request += 1;
                    continue;
                }
                // Looked up once: for the pause, the gate, and then to run.
                let lookup = self.last_command.resolve(&argv);
                self.held = cmd::held_by_pause(shared, &self.client, &lookup, &argv);
                if self.held {
                    self.paused = true;
                    return;
                }
                self.next_request += 1;
                let mut busy = None;
                if cmd::takes_all_gates(&lookup) {
                    gate = None;
                    busy = shared.scripting.busy.busy();
                } else if gate.is_none() {
                    match cmd::gate_or_busy(shared, self.worker) {
                        cmd::GateOutcome::Held(held) => gate = Some(held),
                        cmd::GateOutcome::Busy { function } => busy = Some(function),
                    }
                }
                let mut ctx = Ctx {
                    shared,
                    worker: self.worker,
                    client: &mut self.client,
                    out: &mut self.output,
                };
                match busy {
                    None => cmd::execute(&mut ctx, &argv, lookup),
                    Some(function) => cmd::execute_while_busy(&mut ctx, &argv, lookup, function),
                }
                if crate::blocking::has_ready() {
                    shared.serve_blocked(self.worker);
                }
                self.memory
                    .update(&self.input, &self.batch, &self.output, &self.client, shared);
                if self.client.close_after_reply {
                    self.closing = Closing::AfterFlush;
                } else if over_output_limit(
                    self.output.len() - self.written,
                    &mut self.soft_limit_since,
                    &self.client,
                    shared,
                ) {
                    // As Redis: the client is closed at once, and nothing more of its
                    // output is sent, the reply that went over the limit included.
                    log::warn!(
                        "closing client id={} addr={}: output over client-output-buffer-limit",
                        self.client.id(),
                        self.client.info.addr
                    );
                    self.closing = Closing::Now;
                }
                if self.client.blocked.is_some() {
                    self.newly_blocked = true;
                    return;
                }
            }
            if let Some(e) = self.protocol_error.take() {
                // As Redis: the requests before the error ran; now its reply, then close.
                e.write_reply(&mut self.output);
                self.closing = Closing::AfterFlush;
            }
            if self.closing != Closing::No {
                return;
            }
            // Until AUTH, Redis caps request sizes far lower (the decoder then takes one
            // request at a time, so AUTH lifts the caps before the next is parsed).
            self.decoder.set_auth_required(!self.client.authenticated);
            self.next_request = 0;
            self.client.timing_mark = None;
            drop(gate);
            drop(argv);
            match self.decoder.decode_batch(&mut self.input, &mut self.batch) {
                Ok(0) => {
                    self.shrink_input();
                    return;
                }
                Ok(n) => {
                    // Most pipelined requests name a key first: start fetching them all
                    // (a request whose first argument is no key only wastes a hint).
                    if n > 1 {
                        let keys = self.batch.iter().filter_map(|r| r.arg(1));
                        shared.store.prefetch(self.client.db, keys);
                        prefetch_members(
                            &self.batch,
                            &mut self.last_command,
                            &shared.store,
                            self.client.db,
                        );
                    }
                }
                Err(e) => self.protocol_error = Some(e),
            }
        }
    }

    /// Writes as much pending output as the socket takes; nothing once the connection
    /// is being dropped.
    fn flush(&mut self) {
        if self.closing == Closing::Now {
            return;
        }
        while self.pending() > 0 {
            match self.stream.write(&self.output[self.written..]) {
                Ok(0) => {
                    self.closing = Closing::Now;
                    return;
                }
                Ok(n) => {
                    self.written += n;
                    self.turn_budget = self.turn_budget.saturating_sub(n);
                    self.unpublished_output.0 += n as u64;
                    self.unpublished_output.1 += 1;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.closing = Closing::Now;
                    return;
                }
            }
        }
        if self.stream.send_buffered().is_err() {
            self.closing = Closing::Now;
        }
        self.output.clear();
        self.written = 0;
        if self.output.capacity() > OUTPUT_KEEP {
            self.output.shrink_to(OUTPUT_KEEP);
        }
    }
}

/// A connection's bytes in the store's external memory, which `used_memory` and the
/// memory limit count as Redis counts its clients' memory: the query buffer with the
/// requests being run, the output buffer, the queued transaction and the connection's own
/// state.
struct MemoryShare {
    /// The query buffer's size when nothing big is in it (`buffer_size`).
    buffer_size: usize,
    /// What this connection has added to the count.
    counted: usize,
}

impl MemoryShare {
    /// Recounts after reading (before the requests run, so that a big argument may have to
    /// evict or be refused first) and after each command (a big reply); a comparison when
    /// nothing changed. A query buffer up to twice its nominal size counts as that size, so
    /// the figure moves when a request outgrows the buffer, not with every small request.
    fn update(
        &mut self,
        input: &BytesMut,
        batch: &RequestBatch,
        output: &Vec<u8>,
        client: &Client,
        shared: &Shared,
    ) {
        let query = input.capacity() + batch.byte_len();
        let query = if query <= 2 * self.buffer_size {
            self.buffer_size
        } else {
            query
        };
        let now = CONNECTION_OVERHEAD + query + output.capacity() + client.tx.queued_bytes;
        if now != self.counted {
            shared
                .store
                .add_external_memory(now as i64 - self.counted as i64);
            self.counted = now;
        }
    }

    /// Takes the connection's bytes out of the count (it is closing).
    fn release(&mut self, shared: &Shared) {
        shared.store.add_external_memory(-(self.counted as i64));
        self.counted = 0;
    }
}

/// Moves what other threads pushed to `client` (see `push`) to the end of `output`, of
/// which `written` bytes are sent. False when the client must be closed: bytes were dropped,
/// or the output is now over the output buffer limits.
fn receive_pushed(
    client: &Client,
    output: &mut Vec<u8>,
    written: usize,
    soft_limit_since: &mut Option<u64>,
    shared: &Shared,
) -> bool {
    let Some(outbox) = &client.outbox else {
        return true;
    };
    let complete = if client.monitor && client.reply_mode == crate::client::ReplyMode::Off {
        // As Redis: a client that turned its replies off is sent no MONITOR lines either
        // (but Pub/Sub messages and invalidations, which Redis pushes, are sent).
        outbox.take_into(&mut Vec::new())
    } else {
        outbox.take_into(output)
    };
    if complete && !over_output_limit(output.len() - written, soft_limit_since, client, shared) {
        return true;
    }
    log::warn!(
        "closing client id={} addr={}: output over client-output-buffer-limit",
        client.id(),
        client.info.addr
    );
    false
}

/// Redis's client-output-buffer-limit rule for the client's class, checked as Redis does when
/// a reply is added: `pending` unsent bytes at or over the hard limit, or at or over the
/// soft limit for longer than its seconds (`since` keeps when it was first over).
fn over_output_limit(
    pending: usize,
    since: &mut Option<u64>,
    client: &Client,
    shared: &Shared,
) -> bool {
    // Redis's client classes: a client with any subscription is a `pubsub` one.
    let limits = if client.subscriptions.is_empty() {
        &shared.output_limits
    } else {
        &shared.pubsub_limits
    };
    let hard = limits.hard.load(Ordering::Relaxed);
    let soft = limits.soft.load(Ordering::Relaxed);
    if hard > 0 && pending >= hard {
        return true;
    }
    if soft == 0 || pending < soft {
        *since = None;
        return false;
    }
    let now = redistill_store::Clock::now_ms(&shared.clock) / 1000;
    match *since {
        None => {
            *since = Some(now);
            false
        }
        Some(first) => now.saturating_sub(first) > limits.soft_seconds.load(Ordering::Relaxed),
    }
}

/// When a batch starts with a command that looks a member up in its key's collection
/// (SADD, SISMEMBER, HGET, ZSCORE, ZADD, ...), starts fetching the members that the
/// batch's requests of that command name, for each run of at least two of them on one key:
/// a pipeline on one big set, hash or sorted set then overlaps its lookups' cache misses.
fn prefetch_members(
    batch: &RequestBatch,
    last_command: &mut cmd::LastCommand,
    store: &redistill_store::Store,
    db: usize,
) {
    let Some(name) = batch.get(0).and_then(|r| r.arg(0)) else {
        return;
    };
    let Some(member) = last_command
        .resolve(&[name])
        .ok()
        .and_then(|resolved| resolved.command.member)
    else {
        return;
    };
    let flush = |key: &[u8], members: &[&[u8]]| {
        if members.len() > 1 {
            store.prefetch_members(db, key, members);
        }
    };
    let mut members: [&[u8]; 64] = [&[]; 64];
    let mut n = 0;
    let mut run_key: &[u8] = &[];
    for r in batch.iter() {
        let found = member
            .index(r.len())
            .and_then(|i| Some((r.arg(0)?, r.arg(1)?, r.arg(i)?)));
        let Some((this_name, key, m)) = found else {
            continue;
        };
        if !redistill_store::same_key(this_name, name) {
            continue;
        }
        if n == members.len() || (n > 0 && !redistill_store::same_key(key, run_key)) {
            flush(run_key, &members[..n]);
            n = 0;
        }
        run_key = key;
        members[n] = m;
        n += 1;
    }
    flush(run_key, &members[..n]);
}
