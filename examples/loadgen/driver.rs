//! The event loop: many connections on one thread, driven by mio.
//!
//! Each connection sends `pipeline` requests in one write and sends the next batch when
//! all of their replies are in, as redis-benchmark does; the run ends when exactly
//! `requests` replies have come back. Latency is taken per batch, from its write to the
//! first read of its replies, and counted once per request of the batch.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::reply::ReplyScanner;
use crate::workload::{Batch, Workload};

/// How long the run may go without any socket becoming ready.
const STALL: Duration = Duration::from_secs(30);

/// Initial size of a connection's read buffer; it grows only for a longer line.
const READ_BUFFER: usize = 64 * 1024;

/// How to drive the server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The server.
    pub addr: SocketAddr,
    /// Connections, each with its own batches in flight.
    pub clients: usize,
    /// Requests in all; the last batches are cut short so exactly this many go out.
    pub requests: u64,
    /// Requests per batch (pipeline depth).
    pub pipeline: usize,
    /// Random numbers for `__rand_int__` are below this; without it the placeholder is
    /// sent as it is.
    pub keyspace: Option<u64>,
    /// Seed of the random numbers.
    pub seed: u64,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Replies received, one per request sent.
    pub replies: u64,
    /// From the first write to the last reply.
    pub elapsed: Duration,
    /// Replies that were errors.
    pub errors: u64,
    /// The text of the first error reply.
    pub first_error: Option<String>,
    /// Per batch: microseconds to its first reply bytes, and its requests.
    batches: Vec<(u32, u32)>,
}

/// Latency figures in milliseconds, as redis-benchmark prints them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    /// Mean over requests.
    pub avg: f64,
    /// Lowest.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Highest.
    pub max: f64,
}

impl Report {
    /// Replies per second of the whole run.
    pub fn requests_per_second(&self) -> f64 {
        self.replies as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency distribution over requests.
    pub fn latency(&self) -> Latency {
        let mut batches = self.batches.clone();
        batches.sort_unstable();
        let total: u64 = batches.iter().map(|&(_, n)| u64::from(n)).sum();
        if total == 0 {
            return Latency::default();
        }
        let sum: f64 = batches
            .iter()
            .map(|&(us, n)| f64::from(us) * f64::from(n))
            .sum();
        let percentile = |p: f64| {
            let rank = ((p / 100.0 * total as f64).ceil() as u64).max(1);
            let mut seen = 0;
            for &(us, n) in &batches {
                seen += u64::from(n);
                if seen >= rank {
                    return f64::from(us) / 1000.0;
                }
            }
            0.0
        };
        Latency {
            avg: sum / total as f64 / 1000.0,
            min: f64::from(batches[0].0) / 1000.0,
            p50: percentile(50.0),
            p95: percentile(95.0),
            p99: percentile(99.0),
            max: f64::from(batches[batches.len() - 1].0) / 1000.0,
        }
    }
}

/// Counts shared by all connections.
struct Progress {
    total: u64,
    issued: u64,
    replies: u64,
    errors: u64,
    first_error: Option<String>,
    batches: Vec<(u32, u32)>,
    rng: fastrand::Rng,
}

/// One connection and its batch in flight.
struct Connection {
    stream: TcpStream,
    batch: Batch,
    scanner: ReplyScanner,
    input: Vec<u8>,
    filled: usize,
    /// Requests in the batch being written, and bytes of it written so far.
    sending: usize,
    written: usize,
    /// Replies the batch still owes.
    waiting: usize,
    sent_at: Instant,
    first_reply_after: Option<Duration>,
}

impl Connection {
    /// Starts the next batch, if any requests are left to issue.
    fn send_next(&mut self, pipeline: usize, progress: &mut Progress) -> io::Result<()> {
        let left = progress.total - progress.issued;
        if left == 0 {
            return Ok(());
        }
        let n = usize::try_from(left).map_or(pipeline, |left| left.min(pipeline));
        progress.issued += n as u64;
        self.batch.randomize(&mut progress.rng);
        self.sending = n;
        self.written = 0;
        self.waiting = n;
        self.sent_at = Instant::now();
        self.first_reply_after = None;
        self.flush()
    }

    /// Writes what the socket takes of the batch; a writable event resumes it.
    fn flush(&mut self) -> io::Result<()> {
        let bytes = self.batch.requests(self.sending);
        while self.written < bytes.len() {
            match self.stream.write(&bytes[self.written..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads and counts replies until the socket is drained or the batch is complete,
    /// then starts the next batch.
    fn receive(&mut self, pipeline: usize, progress: &mut Progress) -> io::Result<()> {
        loop {
            if self.filled == self.input.len() {
                self.input.resize(self.input.len() * 2, 0);
            }
            let space = self.input.len() - self.filled;
            let n = match self.stream.read(&mut self.input[self.filled..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "the server closed a connection",
                    ));
                }
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.first_reply_after
                .get_or_insert_with(|| self.sent_at.elapsed());
            self.filled += n;
            let scanned = self
                .scanner
                .scan(&self.input[..self.filled])
                .map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?;
            if scanned.replies > self.waiting {
                return Err(io::Error::new(
                    ErrorKind::InvalidData,
                    "more replies than requests",
                ));
            }
            if let (None, Some(range)) = (&progress.first_error, scanned.first_error) {
                progress.first_error =
                    Some(String::from_utf8_lossy(&self.input[range]).into_owned());
            }
            progress.errors += scanned.errors as u64;
            progress.replies += scanned.replies as u64;
            self.waiting -= scanned.replies;
            self.input.copy_within(scanned.consumed..self.filled, 0);
            self.filled -= scanned.consumed;
            if self.waiting == 0 && (self.filled > 0 || !self.scanner.at_boundary()) {
                return Err(io::Error::new(
                    ErrorKind::InvalidData,
                    "bytes after the last reply of a batch",
                ));
            }
            if self.waiting == 0 && scanned.replies > 0 {
                let latency = self.first_reply_after.unwrap_or_default();
                progress.batches.push((
                    u32::try_from(latency.as_micros()).unwrap_or(u32::MAX),
                    self.sending as u32,
                ));
                // A complete batch leaves nothing more to read until the next is sent.
                return self.send_next(pipeline, progress);
            }
            // A short read emptied the socket; its next bytes raise a new event.
            if n < space {
                return Ok(());
            }
        }
    }
}

/// Sends `settings.requests` copies of `workload` and waits for every reply.
///
/// # Errors
///
/// A connection that cannot be made, fails or is closed, a reply that is not RESP, or
/// [`STALL`] without progress.
pub fn run(settings: &Settings, workload: &Workload) -> io::Result<Report> {
    let pipeline = settings.pipeline.max(1);
    let mut poll = Poll::new()?;
    let mut connections = Vec::with_capacity(settings.clients);
    for i in 0..settings.clients.max(1) {
        let stream = std::net::TcpStream::connect(settings.addr)?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        let mut stream = TcpStream::from_std(stream);
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        connections.push(Connection {
            stream,
            batch: workload.batch(pipeline, settings.keyspace),
            scanner: ReplyScanner::new(),
            input: vec![0; READ_BUFFER],
            filled: 0,
            sending: 0,
            written: 0,
            waiting: 0,
            sent_at: Instant::now(),
            first_reply_after: None,
        });
    }
    let mut progress = Progress {
        total: settings.requests,
        issued: 0,
        replies: 0,
        errors: 0,
        first_error: None,
        batches: Vec::with_capacity(
            usize::try_from(settings.requests / pipeline as u64 + 1).unwrap_or(0),
        ),
        rng: fastrand::Rng::with_seed(settings.seed),
    };
    let started = Instant::now();
    for connection in &mut connections {
        connection.send_next(pipeline, &mut progress)?;
    }
    let mut events = Events::with_capacity(connections.len().max(64));
    while progress.replies < progress.total {
        poll.poll(&mut events, Some(STALL))?;
        if events.is_empty() {
            return Err(io::Error::new(
                ErrorKind::TimedOut,
                format!(
                    "{} of {} replies, then nothing for {STALL:?}",
                    progress.replies, progress.total
                ),
            ));
        }
        for event in &events {
            let connection = &mut connections[event.token().0];
            if event.is_writable() {
                connection.flush()?;
            }
            if event.is_readable() {
                connection.receive(pipeline, &mut progress)?;
            }
        }
    }
    Ok(Report {
        replies: progress.replies,
        elapsed: started.elapsed(),
        errors: progress.errors,
        first_error: progress.first_error,
        batches: progress.batches,
    })
}
