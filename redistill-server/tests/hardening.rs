//! Hostile and careless clients against one server: a connection flood past `maxclients`,
//! random bytes, and bulk lengths past `proto-max-bulk-len`. Each is refused as Redis 7
//! refuses it, and a well-behaved client keeps getting answers throughout.
//!
//! Memory bounds, which need the server in a process of its own, are checked in the root
//! package's `tests/memory_bounds.rs`.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};

use common::{TestServer, exchange, info, read_to_close, wait_until};
use proptest::prelude::*;

/// Redis 7's answer to a connection over `maxclients`, before it closes it.
const MAX_CLIENTS_REACHED: &[u8] = b"-ERR max number of clients reached\r\n";

/// 10,000 connection attempts against `maxclients 1000`: the first 1000 are served and
/// stay open, the other 9000 each read Redis's error and are closed, INFO counts them as
/// Redis does, and a client connected first is answered all along.
#[test]
fn connection_flood_past_maxclients_is_rejected_cleanly() {
    const MAX: usize = 1000;
    const ATTEMPTS: usize = 10_000;
    let server = TestServer::with_config(|c| c.server.max_connections = MAX as u32);
    let mut established = server.raw();
    exchange(&mut established, b"SET counter 0\r\n", b"+OK\r\n");

    let mut held: Vec<TcpStream> = (1..MAX).map(|_| server.raw()).collect();
    // Every held connection is served: all pings out, then all pongs in.
    for s in &mut held {
        s.write_all(b"PING\r\n").expect("ping");
    }
    for s in &mut held {
        let mut pong = [0u8; 7];
        s.read_exact(&mut pong).expect("pong");
        assert_eq!(&pong, b"+PONG\r\n");
    }

    // Four threads of connection attempts, while the established client keeps asking.
    const FLOODERS: usize = 4;
    let (rejected, answered) = std::thread::scope(|scope| {
        let flooders: Vec<_> = (0..FLOODERS)
            .map(|t| {
                let server = &server;
                scope.spawn(move || {
                    let mut rejected = 0;
                    for attempt in (MAX + t..ATTEMPTS).step_by(FLOODERS) {
                        let mut s = server.raw();
                        // The error, then the close: nothing else.
                        assert_eq!(
                            read_to_close(&mut s),
                            MAX_CLIENTS_REACHED,
                            "attempt {attempt}"
                        );
                        rejected += 1;
                    }
                    rejected
                })
            })
            .collect();
        let mut answered = 0;
        while !flooders.iter().all(|f| f.is_finished()) {
            answered += 1;
            exchange(
                &mut established,
                b"INCR counter\r\n",
                format!(":{answered}\r\n").as_bytes(),
            );
        }
        let rejected: usize = flooders
            .into_iter()
            .map(|f| f.join().expect("flooder"))
            .sum();
        (rejected, answered)
    });
    assert_eq!(rejected, ATTEMPTS - MAX);
    assert!(answered > 0);

    let info = info(&mut established, "everything");
    assert_eq!(info["rejected_connections"], (ATTEMPTS - MAX).to_string());
    assert_eq!(info["connected_clients"], MAX.to_string());
    // As in Redis, refused connections are not counted as received.
    assert_eq!(info["total_connections_received"], MAX.to_string());
    assert_eq!(info["maxclients"], MAX.to_string());

    // Held clients are still served after the flood.
    let counter = answered.to_string();
    let expected = format!("${}\r\n{counter}\r\n", counter.len());
    for s in held.iter_mut().step_by(97) {
        exchange(s, b"GET counter\r\n", expected.as_bytes());
    }
    drop(held);
    // Once the held connections are closed (each worker in its own time), there is room.
    wait_until("room for a client after the held ones closed", || {
        let mut s = server.raw();
        s.write_all(b"PING\r\n").expect("ping");
        let mut reply = [0u8; 7];
        s.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
    });
}

/// A bulk length over `proto-max-bulk-len` (512 MiB by default) is refused at its header,
/// before any of it is buffered, with Redis 7's text; the client is closed, others not.
#[test]
fn bulk_length_over_the_limit_is_refused_at_the_header() {
    let server = TestServer::start();
    let mut other = server.raw();
    exchange(&mut other, b"SET k v\r\n", b"+OK\r\n");
    let mut s = server.raw();
    s.write_all(b"*1\r\n$1000000000\r\n").expect("send");
    assert_eq!(
        read_to_close(&mut s),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
    // A configured lower limit is applied the same way; just under it is taken.
    let small = TestServer::with_config(|c| c.server.proto_max_bulk_len = 1 << 20);
    let mut s = small.raw();
    s.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n")
        .expect("send");
    assert_eq!(
        read_to_close(&mut s),
        b"-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut s = small.raw();
    let value = vec![b'x'; 1 << 20];
    s.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048576\r\n")
        .expect("send");
    exchange(&mut s, &[&value[..], b"\r\n"].concat(), b"+OK\r\n");
    exchange(&mut other, b"GET k\r\n", b"$1\r\nv\r\n");
}

/// A bulk under the limit announced and then trickled is waited for: the connection
/// stays open and the others are served meanwhile.
#[test]
fn a_trickled_bulk_is_waited_for_without_blocking_others() {
    let server = TestServer::start();
    let mut slow = server.raw();
    slow.write_all(b"*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$100000\r\n")
        .expect("send");
    let mut other = server.raw();
    for chunk in 0..10 {
        slow.write_all(&[b'a' + chunk; 10_000]).expect("trickle");
        exchange(&mut other, b"EXISTS slow\r\n", b":0\r\n");
    }
    exchange(&mut slow, b"\r\n", b"+OK\r\n");
    exchange(&mut other, b"STRLEN slow\r\n", b":100000\r\n");
}

/// A reply that takes a client past the normal class's hard output limit closes it, and
/// nothing of its pending output is sent, the oversize reply included (Redis 7.0 with
/// `client-output-buffer-limit "normal 1mb 0 0"` sends 0 bytes too). CONFIG SET applies
/// to connections already open, and other clients are served throughout.
#[test]
fn a_reply_over_the_hard_output_limit_closes_only_that_client() {
    let server = TestServer::start();
    let mut other = server.raw();
    let mut s = server.raw();
    exchange(
        &mut other,
        b"CONFIG SET client-output-buffer-limit \"normal 1mb 0 0\"\r\n",
        b"+OK\r\n",
    );
    let value = vec![b'x'; 2 << 20];
    s.write_all(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$2097152\r\n")
        .expect("send");
    exchange(&mut s, &[&value[..], b"\r\n"].concat(), b"+OK\r\n");
    exchange(&mut s, b"GETRANGE big 0 9\r\n", b"$10\r\nxxxxxxxxxx\r\n");
    s.write_all(b"PING\r\nGET big\r\nPING\r\n").expect("send");
    assert_eq!(read_to_close(&mut s), b"");
    exchange(&mut other, b"STRLEN big\r\n", b":2097152\r\n");
    // Without a limit the same reply is sent whole.
    exchange(
        &mut other,
        b"CONFIG SET client-output-buffer-limit \"normal 0 0 0\"\r\n",
        b"+OK\r\n",
    );
    let mut expected = b"$2097152\r\n".to_vec();
    expected.extend_from_slice(&value);
    expected.extend_from_slice(b"\r\n");
    exchange(&mut other, b"GET big\r\n", &expected);
}

/// A client that stops reading while its unsent output stays over the normal class's soft
/// limit for longer than the limit's seconds is closed; one under it is not.
#[test]
fn output_over_the_soft_limit_for_too_long_closes_the_client() {
    let server = TestServer::with_config(|c| {
        c.server.client_output_buffer_limit.normal =
            redistill_server::config::OutputBufferLimit::new(0, 64 << 10, 1);
    });
    let mut other = server.raw();
    let value = vec![b'x'; 64 << 10];
    other
        .write_all(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$65536\r\n")
        .expect("send");
    exchange(&mut other, &[&value[..], b"\r\n"].concat(), b"+OK\r\n");
    let mut hog = server.raw();
    // Served once, so that INFO counts it among the connected clients from now on.
    exchange(&mut hog, b"PING\r\n", b"+PONG\r\n");
    // 64 MiB of replies, far more than the sockets hold.
    hog.write_all(&b"GET big\r\n".repeat(1000)).expect("send");
    // Not reading, the hog stays over the soft limit until the server closes it.
    wait_until("the client over the soft limit to be closed", || {
        info(&mut other, "clients")["connected_clients"] == "1"
    });
    let got = read_to_close(&mut hog);
    assert!(
        got.len() < 1000 * value.len(),
        "closed before all replies: {}",
        got.len()
    );
    exchange(&mut other, b"PING\r\n", b"+PONG\r\n");
}

/// One server for every proptest case.
fn shared_server() -> &'static TestServer {
    static SERVER: std::sync::OnceLock<TestServer> = std::sync::OnceLock::new();
    SERVER.get_or_init(TestServer::start)
}

/// RESP-shaped garbage: the markers and numbers the decoder branches on, in any order.
fn resp_garbage() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"*".to_vec()),
        Just(b"$".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"'".to_vec()),
        any::<i64>().prop_map(|n| n.to_string().into_bytes()),
        (0u32..100).prop_map(|n| n.to_string().into_bytes()),
        Just(b"GET".to_vec()),
        Just(b"SET".to_vec()),
        Just(b"MULTI".to_vec()),
        Just(b"EXEC".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(piece, 0..64).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Whatever a client sends, the server answers or closes that client, never hangs on it,
    /// and keeps answering a well-behaved client.
    #[test]
    fn garbage_bytes_affect_only_their_connection(
        bytes in prop_oneof![proptest::collection::vec(any::<u8>(), 0..4096), resp_garbage()]
    ) {
        let server = shared_server();
        let mut s = server.raw();
        let _ = s.write_all(&bytes);
        let _ = s.shutdown(Shutdown::Write);
        // Answers, then the close that follows the end of input; a reset is fine too.
        let mut replies = Vec::new();
        if let Err(e) = s.read_to_end(&mut replies) {
            prop_assert!(
                !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
                "the server neither answered nor closed: {}", e
            );
        }
        let mut good = server.raw();
        exchange(&mut good, b"PING\r\n", b"+PONG\r\n");
    }
}
