//! A server that does no work: it answers every request with one fixed reply.
//!
//! It reads each connection once per readiness event and writes one reply per request read,
//! as a real server on one thread does, so its CPU per request is the kernel's share alone:
//! the TCP receive, the send, and the loopback delivery of the reply. Set side by side with
//! redis-server and redistill (`scripts/io-floor.sh`), it shows how fast any server could
//! answer a benchmark row on this machine, and so which speed ratios are within reach.
//!
//! ```text
//! cargo run --release --example fixed_reply -- 7000 '$-1'    # SPOP or GET of a missing key
//! cargo run --release --example fixed_reply -- 7000 '*0'     # ZPOPMIN of a missing key
//! ```
//!
//! Requests are counted by their `*` (array) headers, so their arguments must hold no `*`;
//! redis-benchmark's and the load generator's requests do not.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

const LISTENER: Token = Token(usize::MAX);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(port), Some(reply)) = (
        args.first().and_then(|p| p.parse::<u16>().ok()),
        args.get(1),
    ) else {
        eprintln!("usage: fixed_reply PORT REPLY   (REPLY without its CRLF, e.g. '$-1' or '*0')");
        return ExitCode::from(2);
    };
    let reply = format!("{reply}\r\n").into_bytes();
    match serve(SocketAddr::from(([127, 0, 0, 1], port)), &reply) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fixed_reply: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Accepts connections on `addr` and answers each of their requests with `reply`, forever.
fn serve(addr: SocketAddr, reply: &[u8]) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(addr)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut connections: Vec<Option<TcpStream>> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut input = vec![0u8; 64 * 1024];
    let mut output = Vec::new();
    loop {
        poll.poll(&mut events, None)?;
        for event in &events {
            if event.token() == LISTENER {
                while let Ok((mut stream, _)) = listener.accept() {
                    stream.set_nodelay(true)?;
                    let token = Token(connections.len());
                    poll.registry()
                        .register(&mut stream, token, Interest::READABLE)?;
                    connections.push(Some(stream));
                }
                continue;
            }
            let slot = &mut connections[event.token().0];
            if let Some(stream) = slot
                && !answer(stream, &mut input, &mut output, reply)
            {
                *slot = None;
            }
        }
    }
}

/// Reads what `stream` has and writes `reply` once per request in it; false once the
/// connection is closed or failed. A read that fills `input` is followed by another, as
/// more may be waiting; a shorter one took all there was.
pub(crate) fn answer(
    stream: &mut TcpStream,
    input: &mut [u8],
    output: &mut Vec<u8>,
    reply: &[u8],
) -> bool {
    loop {
        match stream.read(input) {
            Ok(0) => return false,
            Ok(n) => {
                let requests = memchr::memchr_iter(b'*', &input[..n]).count();
                output.clear();
                for _ in 0..requests {
                    output.extend_from_slice(reply);
                }
                // The client reads its replies before it sends more, so the socket's
                // buffer always takes them whole.
                if stream.write_all(output).is_err() {
                    return false;
                }
                if n < input.len() {
                    return true;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}
