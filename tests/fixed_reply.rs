//! The fixed-reply example, `examples/fixed_reply.rs`, that `scripts/io-floor.sh` sets beside
//! the servers: it answers each request it reads with one reply, however the requests are
//! split across reads, and reports a closed connection.

#[path = "../examples/fixed_reply.rs"]
#[allow(dead_code)]
mod fixed_reply;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};

const REPLY: &[u8] = b"$-1\r\n";

/// A connected pair: the client's end, and the server's end as the example polls it.
struct Pair {
    client: mio::net::TcpStream,
    server: mio::net::TcpStream,
    poll: Poll,
    events: Events,
}

impl Pair {
    fn new() -> Pair {
        let mut listener =
            TcpListener::bind("127.0.0.1:0".parse().expect("address")).expect("listen");
        let client = TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
        client.set_nonblocking(true).expect("nonblocking client");
        let mut client = mio::net::TcpStream::from_std(client);
        let mut poll = Poll::new().expect("poll");
        let mut events = Events::with_capacity(8);
        poll.registry()
            .register(&mut listener, Token(0), Interest::READABLE)
            .expect("register");
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut server = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    let left = deadline.checked_duration_since(Instant::now());
                    assert!(left.is_some(), "no connection to accept");
                    poll.poll(&mut events, left).expect("poll");
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        // As the example sets its connections: each reply goes out as it is written.
        server.set_nodelay(true).expect("nodelay");
        poll.registry()
            .register(&mut server, Token(1), Interest::READABLE)
            .expect("register");
        // Replies wake the exchange too.
        poll.registry()
            .register(&mut client, Token(2), Interest::READABLE)
            .expect("register");
        Pair {
            client,
            server,
            poll,
            events,
        }
    }

    /// Sends `bytes`, then lets the example answer what arrives until `replies` replies
    /// came back, and returns what came back. Panics if the example reports the
    /// connection closed.
    fn exchange(&mut self, bytes: &[u8], replies: usize) -> Vec<u8> {
        self.client.write_all(bytes).expect("send");
        let mut input = vec![0u8; 16];
        let mut output = Vec::new();
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while got.len() < replies * REPLY.len() {
            let left = deadline.checked_duration_since(Instant::now());
            assert!(left.is_some(), "only {got:?} came back");
            self.poll.poll(&mut self.events, left).expect("poll");
            let open = fixed_reply::answer(&mut self.server, &mut input, &mut output, REPLY);
            assert!(open, "the connection was reported closed");
            let mut chunk = [0u8; 256];
            loop {
                match self.client.read(&mut chunk) {
                    Ok(n) if n > 0 => got.extend_from_slice(&chunk[..n]),
                    Ok(_) => panic!("the server closed the connection"),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("read: {e}"),
                }
            }
        }
        got
    }
}

#[test]
fn answers_each_request_once_however_requests_are_split() {
    let mut pair = Pair::new();
    // Two requests in one write: two replies.
    let two = b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nSPOP\r\n$5\r\nmyset\r\n";
    assert_eq!(pair.exchange(two, 2), REPLY.repeat(2));
    // A request split across writes is answered once, when its header arrives; the
    // 16-byte input buffer splits longer writes across reads too.
    assert_eq!(pair.exchange(b"*2\r\n$3\r\nGET", 1), REPLY);
    let rest = b"\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    assert_eq!(pair.exchange(rest, 2), REPLY.repeat(2));
}

#[test]
fn reports_a_connection_the_client_closed() {
    let mut pair = Pair::new();
    pair.client.shutdown(Shutdown::Write).expect("shutdown");
    let mut input = vec![0u8; 16];
    let mut output = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while fixed_reply::answer(&mut pair.server, &mut input, &mut output, REPLY) {
        let left = deadline.checked_duration_since(Instant::now());
        assert!(left.is_some(), "the close was never reported");
        pair.poll.poll(&mut pair.events, left).expect("poll");
    }
}
