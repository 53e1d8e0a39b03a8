//! The acceptor thread: accepts connections on every listener, decides who is served
//! (protected mode, `max_connections`, the new-connection rate) and hands sockets to the
//! workers round-robin.

use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::config::Config;
use crate::shared::Shared;
use crate::stats::Stats;
use crate::worker::{Incoming, WorkerHandle};

/// The acceptor's waker; listener `i` has token `i`.
const WAKER: Token = Token(usize::MAX);

/// Starts the acceptor thread over `listeners` (each with whether it speaks TLS); returns
/// the waker that makes it look at the shutdown flag, and the thread.
pub(crate) fn spawn(
    listeners: Vec<(TcpListener, bool)>,
    workers: Vec<WorkerHandle>,
    shared: Arc<Shared>,
) -> io::Result<(Arc<Waker>, JoinHandle<()>)> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let acceptor = Acceptor {
        poll,
        listeners,
        workers,
        next: 0,
        shared,
        rate_limit: crate::admission::RateLimit::default(),
        reserve: crate::fdlimit::Reserve::new(),
        last_fd_warning: None,
    };
    let thread = thread::Builder::new()
        .name("redistill-accept".into())
        .spawn(move || acceptor.run())?;
    Ok((waker, thread))
}

/// Accepts connections and hands them to workers round-robin.
struct Acceptor {
    poll: Poll,
    /// Each listener, and whether it speaks TLS.
    listeners: Vec<(TcpListener, bool)>,
    workers: Vec<WorkerHandle>,
    next: usize,
    shared: Arc<Shared>,
    rate_limit: crate::admission::RateLimit,
    /// The spare descriptor that lets the acceptor refuse connections when none are left.
    reserve: crate::fdlimit::Reserve,
    /// When running out of descriptors was last logged: once a second is enough.
    last_fd_warning: Option<Instant>,
}

impl Acceptor {
    fn run(mut self) {
        for (i, (listener, _)) in self.listeners.iter_mut().enumerate() {
            if let Err(e) = self
                .poll
                .registry()
                .register(listener, Token(i), Interest::READABLE)
            {
                log::error!("cannot register the listener: {e}");
                return;
            }
        }
        let mut events = Events::with_capacity(64);
        while !self.shared.shutdown.load(Ordering::Relaxed) {
            if let Err(e) = self.poll.poll(&mut events, None) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                log::error!("acceptor poll failed: {e}");
                return;
            }
            for event in &events {
                if event.token() != WAKER {
                    self.accept_all(event.token().0);
                }
            }
        }
    }

    fn accept_all(&mut self, listener: usize) {
        loop {
            let Some((accepted, tls)) = self
                .listeners
                .get(listener)
                .map(|(listener, tls)| (listener.accept(), *tls))
            else {
                return;
            };
            match accepted {
                Ok((stream, peer)) => self.dispatch(stream, peer, tls),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if crate::fdlimit::out_of_descriptors(&e) => {
                    if !self.refuse_without_descriptors(listener, &e) {
                        return;
                    }
                }
                Err(e) => {
                    // ECONNABORTED and friends concern one connection only.
                    log::warn!("accept failed: {e}");
                    return;
                }
            }
        }
    }

    /// Out of descriptors: the connection at the head of the backlog is accepted into the
    /// spare descriptor, told it is refused (a TLS client only sees the close) and closed,
    /// so that it neither waits unanswered nor keeps the listener readable for nothing.
    /// Returns whether a connection was taken off the backlog, so the caller goes on.
    fn refuse_without_descriptors(&mut self, listener: usize, error: &io::Error) -> bool {
        let now = Instant::now();
        if self
            .last_fd_warning
            .is_none_or(|last| now.saturating_duration_since(last) >= Duration::from_secs(1))
        {
            self.last_fd_warning = Some(now);
            log::warn!("accept failed: {error}; refusing new connections until clients leave");
        }
        let Some((listener, tls)) = self.listeners.get(listener) else {
            return false;
        };
        let tls = *tls;
        let refused = self.reserve.without(|| match listener.accept() {
            Ok((stream, _)) => {
                if !tls {
                    reject(stream, crate::admission::MAX_CLIENTS_REACHED);
                }
                true
            }
            Err(_) => false,
        });
        if refused == Some(true) {
            Stats::add(&self.shared.stats.rejected_connections, 1);
            true
        } else {
            false
        }
    }

    fn dispatch(&mut self, stream: TcpStream, peer: SocketAddr, tls: bool) {
        use crate::admission::{self, MAX_CLIENTS_REACHED, PROTECTED_MODE_DENIED, RATE_LIMITED};
        let config = self.shared.config.read();
        let rate = u64::from(config.server.max_new_connections_per_second);
        if rate > 0 && !self.rate_limit.admit(rate, Instant::now()) {
            drop(config);
            Stats::add(&self.shared.stats.rejected_connections, 1);
            // A TLS client could not read a plain error line; it just sees the close.
            if !tls {
                reject(stream, RATE_LIMITED);
            }
            return;
        }
        let denied = admission::protected_mode_refuses(&config, peer.ip());
        let handshakes = u64::from(config.security.tls_max_handshakes);
        if config.server.tcp_nodelay {
            let _ = stream.set_nodelay(true);
        }
        if config.server.tcp_keepalive > 0 {
            let keepalive = socket2::TcpKeepalive::new()
                .with_time(Duration::from_secs(u64::from(config.server.tcp_keepalive)));
            let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive);
        }
        let max = u64::from(config.server.max_connections);
        drop(config);
        let full = max > 0 && Stats::get(&self.shared.stats.connected_clients) >= max;
        let refusal = if full {
            Some(MAX_CLIENTS_REACHED)
        } else if denied {
            Some(PROTECTED_MODE_DENIED)
        } else {
            None
        };
        if refusal.is_some() {
            Stats::add(&self.shared.stats.rejected_connections, 1);
        }
        let slot = if tls {
            let Some(slot) = crate::transport::HandshakeSlot::take(&self.shared, handshakes) else {
                // Too many handshakes in flight: shed this one before it costs any crypto.
                if refusal.is_none() {
                    Stats::add(&self.shared.stats.rejected_connections, 1);
                }
                return;
            };
            Some(slot)
        } else {
            if let Some(refusal) = refusal {
                reject(stream, refusal);
                return;
            }
            None
        };
        // A refused TLS client is answered by a worker after the handshake, as Redis does.
        // As in Redis, a rejected connection counts in rejected_connections only.
        if refusal.is_none() {
            Stats::add(&self.shared.stats.connections_received, 1);
        }
        Stats::add(&self.shared.stats.connected_clients, 1);
        let worker = &self.workers[self.next % self.workers.len()];
        self.next = self.next.wrapping_add(1);
        worker.hand_over(Incoming {
            stream,
            peer,
            tls: slot,
            refusal,
        });
    }
}

/// Binds every configured address on the configured port, and on `tls_port` when TLS has
/// a port of its own; with TLS enabled and `tls_port` 0, `port` itself speaks TLS. With
/// port 0 the first bind picks a free port and the other addresses use the same one.
/// Each listener comes with whether it speaks TLS.
pub(crate) fn bind_all(config: &Config) -> io::Result<Vec<(TcpListener, bool)>> {
    let security = &config.security;
    let mut ports = vec![(
        config.server.port,
        security.tls_enabled && security.tls_port == 0,
    )];
    if security.tls_enabled && security.tls_port != 0 {
        ports.push((security.tls_port, true));
    }
    let mut listeners = Vec::new();
    let addrs = if config.server.bind.is_empty() {
        vec![[127, 0, 0, 1].into()]
    } else {
        config.server.bind.clone()
    };
    for (mut port, tls) in ports {
        for ip in &addrs {
            let listener = bind_named(SocketAddr::new(*ip, port), "server")?;
            listener.set_nonblocking(true)?;
            port = listener.local_addr()?.port();
            listeners.push((TcpListener::from_std(listener), tls));
        }
    }
    Ok(listeners)
}

/// Binds `addr`, with an error that names the address and the port as Redis's does
/// ("Could not create server TCP listening socket 127.0.0.1:6379: bind: Address already in
/// use"); `what` says whose socket it is.
pub(crate) fn bind_named(addr: SocketAddr, what: &str) -> io::Result<StdListener> {
    StdListener::bind(addr).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("Could not create {what} TCP listening socket {addr}: bind: {e}"),
        )
    })
}

/// Best-effort error line to a connection we will not serve, then close it.
fn reject(stream: TcpStream, reply: &'static [u8]) {
    use std::io::Write;
    let mut stream = stream;
    let _ = stream.write(reply);
}
