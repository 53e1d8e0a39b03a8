//! A worker thread: one `mio::Poll` owning its connections for their whole life.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Poll, Registry, Token, Waker};
use slab::Slab;

use crate::connection::{Connection, Status};
use crate::shared::Shared;
use crate::stats::Stats;
use crate::transport::{HandshakeSlot, TlsStream, Transport};

/// The waker's token; connections use their slab index.
const WAKER: Token = Token(usize::MAX);

/// How long a shutting-down worker keeps writing replies to clients that read slowly.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// How long a worker sleeps without events before it looks at the shutdown flag anyway.
const POLL_TIMEOUT: Duration = Duration::from_millis(250);

/// Events taken in one round of serving the other connections while one runs long.
const MEANWHILE_EVENTS: usize = 256;

/// A socket the acceptor hands to a worker.
pub(crate) struct Incoming {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    /// Set for a socket from a TLS listener: the handshake slot it holds.
    pub tls: Option<HandshakeSlot>,
    /// Send this error line and close instead of serving (e.g. protected mode).
    pub refusal: Option<&'static [u8]>,
}

/// The acceptor's side of a worker: a channel for new sockets and a waker.
#[derive(Clone)]
pub(crate) struct WorkerHandle {
    sender: Sender<Incoming>,
    waker: Arc<Waker>,
}

impl WorkerHandle {
    /// Gives a freshly accepted socket to the worker.
    pub fn hand_over(&self, incoming: Incoming) {
        if self.sender.send(incoming).is_ok() {
            let _ = self.waker.wake();
        }
    }

    /// Wakes the worker so it notices shutdown.
    pub fn wake(&self) {
        let _ = self.waker.wake();
    }

    pub fn waker(&self) -> Arc<Waker> {
        Arc::clone(&self.waker)
    }
}

/// Starts worker `id`.
///
/// Sockets are read `read_chunk` bytes at a time into one buffer the worker reuses.
pub(crate) fn spawn(
    id: usize,
    shared: Arc<Shared>,
    read_chunk: usize,
) -> io::Result<(WorkerHandle, JoinHandle<()>)> {
    let poll = Poll::new()?;
    // Connections register through their own handle on the poll, so that the poll itself
    // stays free to be polled while a connection's turn is running (see `Worker::turn`).
    let registry = poll.registry().try_clone()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let (sender, receiver) = mpsc::channel();
    let thread = thread::Builder::new()
        .name(format!("redistill-worker-{id}"))
        .spawn(move || {
            Worker {
                id,
                poll,
                registry: &registry,
                receiver,
                connections: Slab::new(),
                shared: &shared,
                read_chunk: read_chunk.max(1024),
                scratch: vec![0; read_chunk.max(1024)],
                meanwhile: None,
                woken_meanwhile: false,
                missed: Vec::new(),
                flush_later: Vec::new(),
                held: Vec::new(),
                read_later: Vec::new(),
                last_idle_check_ms: 0,
                block_deadlines: Deadlines::default(),
            }
            .run();
        })?;
    Ok((WorkerHandle { sender, waker }, thread))
}

/// A slot of the worker's connections: empty while the connection is out for its turn
/// (see [`Worker::turn`]).
type Slot = Option<Box<Connection>>;

struct Worker<'w> {
    id: usize,
    poll: Poll,
    registry: &'w Registry,
    receiver: Receiver<Incoming>,
    connections: Slab<Slot>,
    shared: &'w Shared,
    /// The size of the read buffer.
    read_chunk: usize,
    scratch: Vec<u8>,
    /// What serving the others while a connection runs long uses, made the first time.
    meanwhile: Option<Box<Meanwhile>>,
    /// Serving the others took a wake-up: the kills it may have announced are looked at
    /// once the round ends.
    woken_meanwhile: bool,
    /// Events serving the others took for the connection whose turn was running: its slot
    /// and whether its peer had closed, for it to be driven once the turn is over.
    missed: Vec<(usize, bool)>,
    /// Connections whose replies wait for the end of the poll round.
    flush_later: Vec<usize>,
    /// Connections CLIENT PAUSE holds, driven again when it ends.
    held: Vec<usize>,
    /// Connections that read their budget in this round and may have more waiting.
    read_later: Vec<usize>,
    last_idle_check_ms: u64,
    block_deadlines: Deadlines,
}

/// A blocked client's timeout: (deadline in ms, slot, client id).
type Deadline = (u64, usize, u64);

/// Blocked clients' timeouts, soonest first. An entry whose client is no longer blocked
/// with that deadline (it was served, unblocked or closed) is stale: skipped when it comes
/// up, and dropped in bulk whenever the heap has doubled since the last sweep, so that
/// it holds at most about twice the waits still running rather than every wait begun
/// within the longest timeout.
#[derive(Default)]
struct Deadlines {
    heap: BinaryHeap<Reverse<Deadline>>,
    /// The size at which the next push sweeps stale entries out first.
    sweep_at: usize,
}

impl Deadlines {
    /// Below this many entries the heap is never swept.
    const MIN_SWEEP: usize = 1024;

    /// Adds `entry`, first dropping the stale entries (those `live` rejects) when the
    /// heap has reached the sweep size: linear in the heap, once per doubling.
    fn push(&mut self, entry: Deadline, live: impl Fn(&Deadline) -> bool) {
        if self.heap.len() >= self.sweep_at {
            self.heap.retain(|Reverse(e)| live(e));
            self.sweep_at = (2 * self.heap.len()).max(Self::MIN_SWEEP);
        }
        self.heap.push(Reverse(entry));
    }

    fn peek(&self) -> Option<&Deadline> {
        self.heap.peek().map(|Reverse(e)| e)
    }

    fn pop(&mut self) -> Option<Deadline> {
        self.heap.pop().map(|Reverse(e)| e)
    }
}

/// Whether the client in slot `index` of `connections` still waits with the timeout
/// `entry` was made for.
fn still_waits(connections: &Slab<Slot>, &(deadline, index, client): &Deadline) -> bool {
    connections
        .get(index)
        .and_then(Option::as_deref)
        .is_some_and(|c| c.client_id() == client && c.block_deadline() == Some(deadline))
}

/// The events and read buffer of the rounds that serve the other connections while one
/// runs long: those of the worker's own round are in use then.
struct Meanwhile {
    events: Events,
    scratch: Vec<u8>,
}

impl Worker<'_> {
    fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        while !self.shared.shutdown.load(Ordering::Relaxed) {
            if let Err(e) = self.poll.poll(&mut events, Some(self.poll_timeout())) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                log::error!("worker poll failed: {e}");
                break;
            }
            self.shared.clock.refresh();
            self.close_idle_clients();
            self.resume_held();
            self.time_out_blocked();
            for event in &events {
                if event.token() == WAKER {
                    self.adopt_new_connections();
                    self.close_killed_clients();
                    self.deliver_pushed();
                } else {
                    self.handle(event);
                }
            }
            self.read_on();
            for (index, read_closed) in std::mem::take(&mut self.missed) {
                self.drive(index, true, read_closed, true, true);
            }
            // Broadcast invalidations go out once per round, as Redis's once per cycle,
            // queued before the round's replies are written as Redis queues them.
            crate::cmd::end_tracking_round(self.shared);
            self.flush_round();
            if std::mem::take(&mut self.woken_meanwhile) {
                self.close_killed_clients();
            }
            // Last in the round: clients of this worker that its own commands served in
            // it (see `blocking`) were listed without a wake-up.
            self.deliver_pushed();
        }
        self.drain(&mut events);
        let connections: Vec<Box<Connection>> = self.connections.drain().flatten().collect();
        for conn in connections {
            self.close(conn);
        }
    }

    /// Drives a connection as its readiness event says.
    fn handle(&mut self, event: &mio::event::Event) {
        self.drive(
            event.token().0,
            event.is_readable(),
            event.is_read_closed() || event.is_error(),
            event.is_writable(),
            true,
        );
    }

    /// Connections stopped at their read budget go on once everyone had a turn.
    fn read_on(&mut self) {
        for index in std::mem::take(&mut self.read_later) {
            self.drive(index, true, false, false, true);
        }
    }

    /// Writes the replies of the whole round together.
    fn flush_round(&mut self) {
        let mut pending = std::mem::take(&mut self.flush_later);
        for index in pending.drain(..) {
            self.drive(index, false, false, true, false);
        }
        self.flush_later = pending;
    }

    /// Serves the other connections, once, without waiting, while the connection whose
    /// turn it is runs long (a script past `busy-reply-threshold`), as Redis processes
    /// events while blocked: each is answered as clients of other workers are then (`-BUSY`,
    /// or the commands allowed while busy run), and new connections are taken in. The
    /// running connection is out of its slot meanwhile, so its own events wait for the
    /// end of the round (`missed`). Pushed messages and kills wait for it too.
    ///
    /// The `first` time in a turn, every other connection is driven once as if ready: the
    /// events this round had already taken for them, which no poll reports again, wait
    /// behind the running connection's.
    fn serve_meanwhile(&mut self, first: bool) {
        let mut own = self.meanwhile.take().unwrap_or_else(|| {
            Box::new(Meanwhile {
                events: Events::with_capacity(MEANWHILE_EVENTS),
                scratch: Vec::new(),
            })
        });
        if self
            .poll
            .poll(&mut own.events, Some(Duration::ZERO))
            .is_ok()
        {
            // The turn's read buffer is out with it: this round reads into its own.
            if own.scratch.is_empty() {
                own.scratch = vec![0; self.read_chunk];
            }
            std::mem::swap(&mut self.scratch, &mut own.scratch);
            // Also those handed over before the turn began, whose wake-up its round took.
            self.adopt_new_connections();
            if first {
                let others: Vec<usize> = self
                    .connections
                    .iter()
                    .filter_map(|(index, conn)| conn.is_some().then_some(index))
                    .collect();
                for index in others {
                    self.drive(index, true, false, true, true);
                }
            }
            for event in &own.events {
                let index = event.token().0;
                if event.token() == WAKER {
                    self.adopt_new_connections();
                    self.woken_meanwhile = true;
                } else if matches!(self.connections.get(index), Some(None)) {
                    let read_closed = event.is_read_closed() || event.is_error();
                    self.missed.push((index, read_closed));
                } else {
                    self.handle(event);
                }
            }
            self.read_on();
            self.flush_round();
            std::mem::swap(&mut self.scratch, &mut own.scratch);
        }
        self.meanwhile = Some(own);
    }

    /// At shutdown: runs the requests every client already sent, then keeps writing their
    /// replies until all are out or [`DRAIN_LIMIT`] has passed.
    fn drain(&mut self, events: &mut Events) {
        for conn in self
            .connections
            .iter_mut()
            .filter_map(|(_, c)| c.as_deref_mut())
        {
            conn.finish(self.shared, self.registry);
        }
        let deadline = Instant::now() + DRAIN_LIMIT;
        while self
            .connections
            .iter()
            .any(|(_, c)| c.as_deref().is_some_and(Connection::has_pending_output))
        {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                log::warn!("shutdown: some clients did not read all their replies in time");
                return;
            }
            if self.poll.poll(events, Some(left)).is_err() {
                return;
            }
            for event in events.iter() {
                if let Some(Some(conn)) = self.connections.get_mut(event.token().0) {
                    conn.finish(self.shared, self.registry);
                }
            }
        }
    }

    /// Closes clients idle for longer than the `timeout` setting (0: never), checked at
    /// most once a second.
    fn close_idle_clients(&mut self) {
        let now = redistill_store::Clock::now_ms(&self.shared.clock);
        if now.saturating_sub(self.last_idle_check_ms) < 1000 {
            return;
        }
        self.last_idle_check_ms = now;
        if self.shared.tls.is_some() {
            self.close_where(|conn| conn.handshake_expired(now));
        }
        let shared = self.shared;
        let over_limit: Vec<usize> = self
            .connections
            .iter_mut()
            .filter_map(|(index, conn)| {
                let conn = conn.as_deref_mut()?;
                conn.over_soft_output_limit(shared).then_some(index)
            })
            .collect();
        for index in over_limit {
            log::warn!("closing a client: output over client-output-buffer-limit's soft limit");
            self.remove(index);
        }
        let timeout_ms = u64::from(self.shared.config.read().server.timeout) * 1000;
        if timeout_ms == 0 {
            return;
        }
        self.close_where(|conn| conn.idle_longer_than(timeout_ms, now));
    }

    /// Closes the clients CLIENT KILL marked, if any was marked since the last look.
    fn close_killed_clients(&mut self) {
        if !self.shared.kills[self.id].swap(false, Ordering::Acquire) {
            return;
        }
        self.close_where(Connection::is_killed);
    }

    /// Moves what other threads pushed to this worker's clients (see `push`) into their
    /// output, and writes it.
    /// A client resumed here may serve another of this worker's clients in turn, so this
    /// goes on until nothing is listed.
    fn deliver_pushed(&mut self) {
        loop {
            let listed = self.shared.mailboxes.take(self.id);
            if listed.is_empty() {
                return;
            }
            for outbox in listed {
                let listed_here = self
                    .connections
                    .get(outbox.slot)
                    .and_then(Option::as_deref)
                    .is_some_and(|conn| conn.client_id() == outbox.client);
                if !listed_here {
                    continue;
                }
                self.turn(outbox.slot, |conn, shared, scratch, registry| {
                    conn.receive_pushed(shared);
                    conn.ready(false, false, true, false, shared, scratch, registry)
                });
            }
        }
    }

    fn adopt_new_connections(&mut self) {
        while let Ok(incoming) = self.receiver.try_recv() {
            let Some(stream) = self.transport(incoming.stream, incoming.tls) else {
                Stats::sub(&self.shared.stats.connected_clients, 1);
                continue;
            };
            let entry = self.connections.vacant_entry();
            let token = Token(entry.key());
            let id = self.shared.next_client_id();
            let mut conn = Box::new(Connection::new(
                stream,
                incoming.peer,
                token,
                id,
                self.id,
                self.shared,
                incoming.refusal,
            ));
            if let Err(e) = conn.register(self.registry) {
                log::warn!("cannot register a connection: {e}");
                // Also takes it out of the client registry Connection::new put it in.
                self.close(conn);
                continue;
            }
            entry.insert(Some(conn));
            // Bytes may have arrived before registration; edge-triggered polling would
            // not report them again.
            self.drive(token.0, true, false, false, false);
        }
    }

    /// The stream a new connection speaks over: plain TCP, or TLS when it came with a
    /// handshake slot.
    fn transport(&self, stream: TcpStream, tls: Option<HandshakeSlot>) -> Option<Transport> {
        let Some(slot) = tls else {
            return Some(Transport::Plain(stream));
        };
        let config = self.shared.tls.as_ref()?;
        match TlsStream::new(stream, Arc::clone(config), Some(slot)) {
            Ok(tls) => Some(Transport::Tls(Box::new(tls))),
            Err(e) => {
                log::warn!("cannot start a TLS session: {e}");
                None
            }
        }
    }

    fn drive(
        &mut self,
        index: usize,
        readable: bool,
        read_closed: bool,
        writable: bool,
        defer_flush: bool,
    ) {
        self.turn(index, |conn, shared, scratch, registry| {
            conn.ready(
                readable,
                read_closed,
                writable,
                defer_flush,
                shared,
                scratch,
                registry,
            )
        });
    }

    /// Gives the connection in slot `index` its turn: `act` on it, then what its state asks
    /// of the worker. The connection is out of its slot meanwhile, so that a command that
    /// runs long in it can serve the other connections (see `serve_meanwhile`); an event
    /// for it then, found in the empty slot, has it read on after its turn.
    fn turn(
        &mut self,
        index: usize,
        act: impl FnOnce(&mut Connection, &Shared, &mut [u8], &Registry) -> Status,
    ) {
        let Some(slot) = self.connections.get_mut(index) else {
            return;
        };
        let Some(mut conn) = slot.take() else {
            if !self.read_later.contains(&index) {
                self.read_later.push(index);
            }
            return;
        };
        let (shared, registry) = (self.shared, self.registry);
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut first = true;
        let mut serve = || self.serve_meanwhile(std::mem::take(&mut first));
        let status = crate::meanwhile::offering(&mut serve, || {
            act(&mut conn, shared, &mut scratch, registry)
        });
        self.scratch = scratch;
        if status == Status::Closed {
            self.connections.remove(index);
            self.close(conn);
            return;
        }
        let new_deadline = conn
            .take_new_block_deadline()
            .map(|deadline| (deadline, index, conn.client_id()));
        if conn.is_held() && !self.held.contains(&index) {
            self.held.push(index);
        }
        if conn.wants_to_read() && !self.read_later.contains(&index) {
            self.read_later.push(index);
        }
        self.connections[index] = Some(conn);
        if let Some(entry) = new_deadline {
            let connections = &self.connections;
            self.block_deadlines
                .push(entry, |e| still_waits(connections, e));
        }
        if status == Status::FlushLater {
            self.flush_later.push(index);
        }
    }

    /// How long to wait for events: until the CLIENT PAUSE holding connections ends, at
    /// most [`POLL_TIMEOUT`].
    fn poll_timeout(&self) -> Duration {
        if !self.read_later.is_empty() {
            // Input is waiting already: only look for other events.
            return Duration::ZERO;
        }
        let now = redistill_store::Clock::now_ms(&self.shared.clock);
        let timeout = match self.block_deadlines.peek() {
            Some((deadline, ..)) => {
                Duration::from_millis(deadline.saturating_sub(now)).min(POLL_TIMEOUT)
            }
            None => POLL_TIMEOUT,
        };
        if self.held.is_empty() {
            return timeout;
        }
        self.shared
            .pause
            .ends_at(now)
            .map_or(Duration::ZERO, |end| {
                Duration::from_millis(end - now).min(timeout)
            })
    }

    /// Gives the timeout reply to blocked clients whose timeout has passed, and runs what
    /// they sent after the blocking command.
    fn time_out_blocked(&mut self) {
        let now = redistill_store::Clock::now_ms(&self.shared.clock);
        while let Some(&entry) = self.block_deadlines.peek() {
            if entry.0 > now {
                return;
            }
            self.block_deadlines.pop();
            if !still_waits(&self.connections, &entry) {
                continue;
            }
            self.turn(entry.1, |conn, shared, scratch, registry| {
                conn.time_out_block(shared);
                conn.ready(false, false, true, false, shared, scratch, registry)
            });
        }
    }

    /// Drives the connections CLIENT PAUSE held, once it no longer holds everything; those
    /// it still holds (writes under PAUSE WRITE) come back to the list.
    fn resume_held(&mut self) {
        if self.held.is_empty() {
            return;
        }
        let now = redistill_store::Clock::now_ms(&self.shared.clock);
        if self.shared.pause.active(now) == Some(crate::pause::PauseMode::All) {
            return;
        }
        for index in std::mem::take(&mut self.held) {
            // A slot freed and reused by a new connection is driven harmlessly.
            self.drive(index, false, false, true, false);
        }
    }

    /// Closes every connection for which `condition` holds.
    fn close_where(&mut self, condition: impl Fn(&Connection) -> bool) {
        let doomed: Vec<usize> = self
            .connections
            .iter()
            .filter(|(_, conn)| conn.as_deref().is_some_and(&condition))
            .map(|(index, _)| index)
            .collect();
        for index in doomed {
            self.remove(index);
        }
    }

    /// Closes the connection in slot `index`.
    fn remove(&mut self, index: usize) {
        if let Some(conn) = self.connections.remove(index) {
            self.close(conn);
        }
    }

    /// Stops polling a connection, releases its client state and counts it gone.
    fn close(&self, mut conn: Box<Connection>) {
        conn.close(self.registry, self.shared);
        Stats::sub(&self.shared.stats.connected_clients, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_deadlines_are_swept_once_the_heap_doubles() {
        let mut deadlines = Deadlines::default();
        // Waits served at once: only the newest is still running.
        for client in 0..10_000u64 {
            deadlines.push((1_000 + client, 0, client), |&(_, _, c)| c + 1 == client);
        }
        assert!(deadlines.heap.len() <= Deadlines::MIN_SWEEP + 1);
        // Waits still running are all kept, soonest first.
        let mut deadlines = Deadlines::default();
        for client in (0..3_000u64).rev() {
            deadlines.push((client, 0, client), |_| true);
        }
        assert_eq!(deadlines.heap.len(), 3_000);
        assert_eq!(deadlines.pop(), Some((0, 0, 0)));
        assert_eq!(deadlines.peek(), Some(&(1, 0, 1)));
    }
}
