//! A connection's byte stream: plain TCP, or TLS over TCP driven without blocking.
//!
//! [`Transport`] is an enum rather than a trait object so that a plain connection costs one
//! predictable branch per `read` or `write` and nothing else: no allocation, no extra
//! copy, no virtual call.
//!
//! A TLS connection is a [`rustls::ServerConnection`] fed from the non-blocking socket as
//! readiness events arrive: the handshake advances inside ordinary reads (and the writes
//! they trigger), so a slow or stalled peer never holds up the worker. Plaintext the
//! connection writes before the handshake completes waits in rustls and goes out after it.

use std::io::{self, Read, Write};
use std::sync::Arc;

use mio::event::Source;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use crate::shared::Shared;
use crate::stats::Stats;

/// Encrypted and plaintext bytes rustls may hold for one connection before `write`
/// pushes back. The connection's own output buffer does the rest of the buffering.
const TLS_BUFFER_LIMIT: usize = 64 * 1024;

/// The byte stream under a connection.
pub(crate) enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

impl Transport {
    /// Whether a `read` that returned less than asked for has drained the socket. True
    /// for plain TCP; TLS may have read a whole record that held less plaintext while
    /// more records wait in the socket.
    #[inline]
    pub fn short_read_drains(&self) -> bool {
        matches!(self, Transport::Plain(_))
    }

    /// Whether bytes already accepted by `write` are still waiting for the socket.
    #[inline]
    pub fn has_buffered(&self) -> bool {
        match self {
            Transport::Plain(_) => false,
            Transport::Tls(tls) => tls.conn.wants_write(),
        }
    }

    /// Sends what `write` accepted and still holds, as far as the socket takes it.
    #[inline]
    pub fn send_buffered(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(_) => Ok(()),
            Transport::Tls(tls) => tls.send_tls().map(|_| ()),
        }
    }

    /// Whether a TLS handshake is still under way.
    pub fn is_handshaking(&self) -> bool {
        match self {
            Transport::Plain(_) => false,
            Transport::Tls(tls) => tls.conn.is_handshaking(),
        }
    }

    /// Best effort before closing: tell a TLS peer the stream ends here (close_notify),
    /// so it can tell a clean close from a truncation.
    pub fn close_notify(&mut self) {
        if let Transport::Tls(tls) = self
            && !tls.conn.is_handshaking()
        {
            tls.conn.send_close_notify();
            let _ = tls.send_tls();
        }
    }

    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.tcp().local_addr()
    }

    /// The socket's file descriptor, for CLIENT LIST's `fd=`.
    pub fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.tcp().as_raw_fd()
    }

    fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(tcp) => tcp,
            Transport::Tls(tls) => &tls.tcp,
        }
    }
}

impl Read for Transport {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(tcp) => tcp.read(buf),
            Transport::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Transport {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(tcp) => tcp.write(buf),
            Transport::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffered()
    }
}

impl Source for Transport {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        match self {
            Transport::Plain(tcp) => tcp.register(registry, token, interest),
            Transport::Tls(tls) => tls.tcp.register(registry, token, interest),
        }
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        match self {
            Transport::Plain(tcp) => tcp.reregister(registry, token, interest),
            Transport::Tls(tls) => tls.tcp.reregister(registry, token, interest),
        }
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        match self {
            Transport::Plain(tcp) => tcp.deregister(registry),
            Transport::Tls(tls) => tls.tcp.deregister(registry),
        }
    }
}

/// One of the bounded number of TLS handshakes allowed in flight
/// (`security.tls_max_handshakes`). Taken by the acceptor, given back when the handshake
/// completes or the connection ends; a connection that ends first counts as a failed
/// handshake.
pub(crate) struct HandshakeSlot {
    shared: Arc<Shared>,
    completed: bool,
}

impl HandshakeSlot {
    /// Takes a slot, or `None` when `limit` (0: none) handshakes are already in flight.
    pub fn take(shared: &Arc<Shared>, limit: u64) -> Option<HandshakeSlot> {
        let in_flight = &shared.stats.tls_handshakes_in_progress;
        // Only the acceptor thread takes slots, so the check and the add do not race
        // with each other; workers only give slots back.
        if limit > 0 && Stats::get(in_flight) >= limit {
            return None;
        }
        Stats::add(in_flight, 1);
        Some(HandshakeSlot {
            shared: Arc::clone(shared),
            completed: false,
        })
    }
}

impl Drop for HandshakeSlot {
    fn drop(&mut self) {
        let stats = &self.shared.stats;
        Stats::sub(&stats.tls_handshakes_in_progress, 1);
        if !self.completed {
            Stats::add(&stats.tls_handshake_failures, 1);
        }
    }
}

/// TLS over a non-blocking socket.
///
/// Fields drop in order: the handshake slot is given back (and a failure counted) before
/// the socket closes, so a peer that sees the close also sees the slot free.
pub(crate) struct TlsStream {
    /// Held until the handshake completes.
    slot: Option<HandshakeSlot>,
    conn: rustls::ServerConnection,
    tcp: TcpStream,
    /// The socket has reported end of stream.
    eof: bool,
}

impl TlsStream {
    pub fn new(
        tcp: TcpStream,
        config: Arc<rustls::ServerConfig>,
        slot: Option<HandshakeSlot>,
    ) -> io::Result<TlsStream> {
        let mut conn = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
        conn.set_buffer_limit(Some(TLS_BUFFER_LIMIT));
        Ok(TlsStream {
            slot,
            conn,
            tcp,
            eof: false,
        })
    }

    /// Returns plaintext the peer sent, reading and decrypting records (and advancing the
    /// handshake) as needed. `Ok(0)` is the end of the stream, clean or not: either way
    /// the client will send no more.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            if self.eof {
                return Ok(0);
            }
            match self.conn.read_tls(&mut self.tcp) {
                Ok(0) => self.eof = true,
                Ok(_) => {
                    let processed = self.conn.process_new_packets();
                    // Handshake replies, or the alert that explains a failure.
                    let sent = self.send_tls();
                    if let Err(e) = processed {
                        log::debug!("TLS error: {e}");
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                    }
                    sent?;
                    if !self.conn.is_handshaking()
                        && let Some(mut slot) = self.slot.take()
                    {
                        slot.completed = true;
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Accepts plaintext for encryption, as much as rustls's buffer takes, and sends it.
    ///
    /// Nothing is taken before the handshake completes: the connection keeps it (a
    /// refusal line) in its own buffer, which keeps it counted as unsent, and writes it
    /// once the handshake is done.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.conn.is_handshaking() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        loop {
            let accepted = self.conn.writer().write(buf)?;
            if accepted > 0 || buf.is_empty() {
                self.send_tls()?;
                return Ok(accepted);
            }
            // rustls's buffer is full: make room, or report that the socket is.
            if !self.conn.wants_write() || !self.send_tls()? {
                return Err(io::ErrorKind::WouldBlock.into());
            }
        }
    }

    /// Writes encrypted bytes until none are left (`true`) or the socket is full
    /// (`false`).
    fn send_tls(&mut self) -> io::Result<bool> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.tcp) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}
