//! The HTTP health endpoint (`health_check_port`): `GET /health` (JSON) and `GET /metrics`
//! (Prometheus text), served by one thread with its own `mio::Poll`.
//!
//! It is exposed to whatever can reach the port, so no client may tie it up or grow its
//! memory: each connection has [`DEADLINE`] from accept to send its request and read the
//! answer, a request may not exceed [`REQUEST_LIMIT`] bytes, and at most
//! [`MAX_CONNECTIONS`] are open at once (further ones get `503` and are closed). Every
//! connection is answered once and closed (`Connection: close`).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;

use crate::config::Config;
use crate::metrics::Snapshot;
use crate::shared::Shared;

/// Time a connection has, from accept, to send its request and read the answer.
pub(crate) const DEADLINE: Duration = Duration::from_secs(5);

/// Largest request (request line and headers) read; a longer one gets `431`.
pub(crate) const REQUEST_LIMIT: usize = 8 * 1024;

/// Most HTTP connections open at once.
pub(crate) const MAX_CONNECTIONS: usize = 64;

/// Most request headers parsed; more get `431`.
const MAX_HEADERS: usize = 32;

const WAKER: Token = Token(usize::MAX);

/// Listener `i` has token `LISTENER_BASE - i`; connections use their slab index.
const LISTENER_BASE: usize = usize::MAX - 1;

/// The running endpoint, as the server keeps it.
pub(crate) struct Handle {
    addr: SocketAddr,
    waker: Arc<Waker>,
}

impl Handle {
    /// The first address the endpoint listens on, with its real port.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Wakes the thread so that it sees the shutdown flag and ends.
    pub fn wake(&self) {
        let _ = self.waker.wake();
    }
}

/// Binds `health_check_port` on every address the server listens on, or nothing when the
/// port is 0 (the endpoint is off).
///
/// # Errors
///
/// An address cannot be bound, e.g. the port is taken.
pub(crate) fn bind(config: &Config) -> io::Result<Vec<TcpListener>> {
    let port = config.server.health_check_port;
    if port == 0 {
        return Ok(Vec::new());
    }
    let addrs = if config.server.bind.is_empty() {
        vec![[127, 0, 0, 1].into()]
    } else {
        config.server.bind.clone()
    };
    addrs
        .into_iter()
        .map(|ip| {
            let listener = crate::acceptor::bind_named(SocketAddr::new(ip, port), "health")?;
            listener.set_nonblocking(true)?;
            Ok(TcpListener::from_std(listener))
        })
        .collect()
}

/// Starts the endpoint's thread on `listeners` (from [`bind`]); `None` when there are none.
///
/// # Errors
///
/// The poller, waker or thread cannot be created.
pub(crate) fn spawn(
    listeners: Vec<TcpListener>,
    shared: Arc<Shared>,
) -> io::Result<Option<(Handle, JoinHandle<()>)>> {
    let Some(first) = listeners.first() else {
        return Ok(None);
    };
    let addr = first.local_addr()?;
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let mut endpoint = Endpoint {
        poll,
        listeners,
        connections: Slab::with_capacity(MAX_CONNECTIONS),
        shared,
    };
    for (i, listener) in endpoint.listeners.iter_mut().enumerate() {
        endpoint.poll.registry().register(
            listener,
            Token(LISTENER_BASE - i),
            Interest::READABLE,
        )?;
    }
    let thread = thread::Builder::new()
        .name("redistill-health".into())
        .spawn(move || endpoint.run())?;
    log::info!("HTTP health endpoint on http://{addr} (/health, /metrics)");
    Ok(Some((Handle { addr, waker }, thread)))
}

struct Endpoint {
    poll: Poll,
    listeners: Vec<TcpListener>,
    connections: Slab<HttpConnection>,
    shared: Arc<Shared>,
}

impl Endpoint {
    fn run(mut self) {
        let mut events = Events::with_capacity(128);
        while !self.shared.shutdown.load(Ordering::Relaxed) {
            let timeout = self
                .connections
                .iter()
                .map(|(_, c)| c.deadline)
                .min()
                .map(|d| d.saturating_duration_since(Instant::now()));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                log::error!("health endpoint poll failed: {e}");
                return;
            }
            for event in &events {
                match event.token() {
                    WAKER => {}
                    Token(t) if t > LISTENER_BASE - self.listeners.len() => {
                        self.accept_all(LISTENER_BASE - t);
                    }
                    Token(index) => self.drive(index),
                }
            }
            self.close_expired();
        }
    }

    fn accept_all(&mut self, listener: usize) {
        loop {
            let Some(accepted) = self.listeners.get(listener).map(TcpListener::accept) else {
                return;
            };
            match accepted {
                Ok((stream, _)) => self.adopt(stream),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::warn!("health endpoint accept failed: {e}");
                    return;
                }
            }
        }
    }

    fn adopt(&mut self, mut stream: TcpStream) {
        if self.connections.len() >= MAX_CONNECTIONS {
            // Best effort: a fresh socket's send buffer takes this small answer whole.
            let _ = stream.write(&response(
                503,
                "text/plain; charset=utf-8",
                b"too many connections\n",
                false,
            ));
            let _ = stream.shutdown(Shutdown::Write);
            return;
        }
        let entry = self.connections.vacant_entry();
        let token = Token(entry.key());
        if self
            .poll
            .registry()
            .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            .is_err()
        {
            return;
        }
        entry.insert(HttpConnection {
            stream,
            input: Vec::new(),
            output: Vec::new(),
            written: 0,
            deadline: Instant::now() + DEADLINE,
            state: State::Reading,
        });
        // Bytes that came before registration bring no edge of their own.
        self.drive(token.0);
    }

    fn drive(&mut self, index: usize) {
        let Some(conn) = self.connections.get_mut(index) else {
            return;
        };
        if conn.advance(&self.shared) {
            let mut conn = self.connections.remove(index);
            let _ = self.poll.registry().deregister(&mut conn.stream);
        }
    }

    /// Closes connections past their deadline, answering `408` to those that never sent a
    /// whole request.
    fn close_expired(&mut self) {
        let now = Instant::now();
        let expired: Vec<usize> = self
            .connections
            .iter()
            .filter(|(_, c)| c.deadline <= now)
            .map(|(index, _)| index)
            .collect();
        for index in expired {
            let mut conn = self.connections.remove(index);
            if conn.state == State::Reading {
                let _ = conn.stream.write(&response(
                    408,
                    "text/plain; charset=utf-8",
                    b"request timeout\n",
                    false,
                ));
            }
            let _ = self.poll.registry().deregister(&mut conn.stream);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the whole request head.
    Reading,
    /// Sending the answer.
    Writing,
    /// Answer sent and our side shut: reading until the client closes, so that closing
    /// with its unread bytes pending does not reset the connection before it read ours.
    Lingering,
}

struct HttpConnection {
    stream: TcpStream,
    input: Vec<u8>,
    output: Vec<u8>,
    written: usize,
    deadline: Instant,
    state: State,
}

impl HttpConnection {
    /// Makes what progress the socket allows; true once the connection is finished.
    fn advance(&mut self, shared: &Shared) -> bool {
        if self.state == State::Reading {
            match self.read_request() {
                Ok(None) => return false,
                Ok(Some(head)) => {
                    self.output = answer(&head, shared);
                    self.state = State::Writing;
                }
                Err(Closed) => return true,
            }
        }
        if self.state == State::Writing {
            while self.written < self.output.len() {
                match self.stream.write(&self.output[self.written..]) {
                    Ok(0) => return true,
                    Ok(n) => self.written += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return true,
                }
            }
            if self.stream.shutdown(Shutdown::Write).is_err() {
                return true;
            }
            self.state = State::Lingering;
        }
        let mut sink = [0u8; 1024];
        loop {
            match self.stream.read(&mut sink) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
    }

    /// Reads what the socket has. `Ok(Some)` once the request head is complete or known
    /// to be bad (then it is the error to answer), `Ok(None)` while more is needed.
    fn read_request(&mut self) -> Result<Option<Head>, Closed> {
        let mut buf = [0u8; 2048];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) if self.input.is_empty() => return Err(Closed),
                // The client stopped sending mid-request; it may still read the answer.
                Ok(0) => return Ok(Some(Head::Bad(400))),
                Ok(n) => {
                    self.input.extend_from_slice(&buf[..n]);
                    match parse(&self.input) {
                        Parsed::Partial if self.input.len() >= REQUEST_LIMIT => {
                            return Ok(Some(Head::Bad(431)));
                        }
                        Parsed::Partial => {}
                        Parsed::Done(head) => return Ok(Some(head)),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Closed),
            }
        }
    }
}

/// The peer is gone; nothing more to do for it.
struct Closed;

/// What matters of a request head: a method and path, or the error status it earns.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Head {
    Request { method: String, path: String },
    Bad(u16),
}

enum Parsed {
    Partial,
    Done(Head),
}

fn parse(input: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(input) {
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Ok(httparse::Status::Complete(_)) => match (request.method, request.path) {
            (Some(method), Some(path)) => Parsed::Done(Head::Request {
                method: method.to_owned(),
                path: path.to_owned(),
            }),
            _ => Parsed::Done(Head::Bad(400)),
        },
        Err(httparse::Error::TooManyHeaders) => Parsed::Done(Head::Bad(431)),
        Err(_) => Parsed::Done(Head::Bad(400)),
    }
}

/// The whole HTTP response to `head`.
fn answer(head: &Head, shared: &Shared) -> Vec<u8> {
    const TEXT: &str = "text/plain; charset=utf-8";
    let (method, path) = match head {
        Head::Bad(431) => return response(431, TEXT, b"request too large\n", false),
        Head::Bad(status) => return response(*status, TEXT, b"bad request\n", false),
        Head::Request { method, path } => (method.as_str(), path.as_str()),
    };
    // A query string selects nothing here.
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    let head_only = method == "HEAD";
    if path != "/health" && path != "/metrics" {
        return response(404, TEXT, b"not found\n", head_only);
    }
    if method != "GET" && !head_only {
        return response(405, TEXT, b"method not allowed\n", false);
    }
    if path == "/health" && shared.persistence.loading().active() {
        let body = loading_json(shared);
        return response(503, "application/json", body.as_bytes(), head_only);
    }
    let snapshot = Snapshot::read(shared, path == "/metrics");
    if path == "/health" {
        let body = snapshot.health_json();
        response(200, "application/json", body.as_bytes(), head_only)
    } else {
        let body = snapshot.prometheus();
        response(
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            body.as_bytes(),
            head_only,
        )
    }
}

/// The `/health` document while the snapshot loads (or failed to load): not ready, with
/// INFO's `loading_*` figures.
fn loading_json(shared: &Shared) -> String {
    let f = shared.persistence.loading().figures();
    let failure = shared.persistence.loading().failure();
    serde_json::json!({
        "status": if failure.is_some() { "error" } else { "loading" },
        "version": env!("CARGO_PKG_VERSION"),
        "redis_version": crate::REDIS_VERSION,
        "loading": {
            "start_time": f.start_unix,
            "total_bytes": f.total_bytes,
            "loaded_bytes": f.loaded_bytes,
            "loaded_perc": (f.loaded_perc * 100.0).round() / 100.0,
            "eta_seconds": f.eta_seconds,
            "error": failure,
        },
    })
    .to_string()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// A complete `Connection: close` response; `head_only` leaves out the body (HEAD).
fn response(status: u16, content_type: &str, body: &[u8], head_only: bool) -> Vec<u8> {
    let allow = if status == 405 {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\n{allow}Connection: close\r\n\r\n",
        reason(status),
        body.len(),
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str) -> Head {
        Head::Request {
            method: method.to_owned(),
            path: path.to_owned(),
        }
    }

    #[test]
    fn parse_takes_a_whole_head_only() {
        assert!(matches!(
            parse(b"GET /health HTTP/1.1\r\n"),
            Parsed::Partial
        ));
        assert!(matches!(
            parse(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"),
            Parsed::Done(h) if h == request("GET", "/health")
        ));
        assert!(matches!(
            parse(b"\x00\x01garbage\r\n\r\n"),
            Parsed::Done(Head::Bad(400))
        ));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: y\r\n")).collect();
        let request = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert!(matches!(
            parse(request.as_bytes()),
            Parsed::Done(Head::Bad(431))
        ));
    }

    #[test]
    fn responses_carry_length_and_close() {
        let r = response(405, "text/plain", b"no\n", false);
        let text = String::from_utf8(r).unwrap();
        assert!(text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
        assert!(text.contains("\r\nContent-Length: 3\r\n"));
        assert!(text.contains("\r\nAllow: GET, HEAD\r\n"));
        assert!(text.contains("\r\nConnection: close\r\n"));
        assert!(text.ends_with("\r\n\r\nno\n"));
        let head = response(200, "application/json", b"{}", true);
        assert!(String::from_utf8(head).unwrap().ends_with(
            "Content-Length: 2\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
        ));
    }
}
