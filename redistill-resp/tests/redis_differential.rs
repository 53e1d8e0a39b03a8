//! Sends malformed requests to a real `redis-server` and to the [`RequestDecoder`], and
//! requires the same reply bytes: Redis answers a protocol error with `-ERR ...` and
//! closes the connection, and [`Error::write_reply`] must produce that reply exactly.
//!
//! Fails, saying how to get one, where no `redis-server` binary is installed.
// Helpers outside #[test] functions panic on purpose when something is off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::BytesMut;
use redistill_resp::RequestDecoder;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long the test waits for redis-server to start or to answer: far longer than it
/// takes on an idle machine.
const PATIENCE: Duration = Duration::from_secs(30);

/// redis-server on a port that was free a moment before, or `None` where it is not
/// installed. When something else takes the port first, redis-server exits and another
/// port is tried.
fn start_redis() -> Option<Server> {
    for _ in 0..10 {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let mut child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        // Readiness is the server's own log line, not a timer; an exit ends the log first.
        let out = child.stdout.take()?;
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            let ready = lines
                .by_ref()
                .map_while(Result::ok)
                .any(|l| l.contains("Ready to accept connections"));
            let _ = ready_tx.send(ready);
            // Keep draining the log so the server never blocks on a full pipe.
            lines.for_each(drop);
        });
        match ready_rx.recv_timeout(PATIENCE) {
            Ok(true) => return Some(Server { child, port }),
            Ok(false) => {
                let _ = child.wait();
            }
            Err(_) => panic!("redis-server neither started nor exited in {PATIENCE:?}"),
        }
    }
    panic!("redis-server exited at start on ten ports in a row");
}

/// Sends `input`, returns everything Redis writes before closing the connection.
fn redis_reply(port: u16, input: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(input).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    out
}

fn our_reply(input: &[u8], auth_required: bool) -> Vec<u8> {
    let mut d = RequestDecoder::new();
    d.set_auth_required(auth_required);
    let mut buf = BytesMut::from(input);
    let mut args = Vec::new();
    match d.decode_into(&mut buf, &mut args) {
        Ok(true) => panic!("{input:?} decoded to {args:?}, Redis refuses it"),
        Ok(false) => panic!("{input:?} is incomplete for us, Redis refuses it"),
        Err(e) => {
            let mut out = Vec::new();
            e.write_reply(&mut out);
            out
        }
    }
}

#[test]
fn protocol_errors_match_redis_server() {
    let Some(server) = start_redis() else {
        panic!(
            "this test compares with a real redis-server, which is not on PATH: \
             run scripts/test.sh (it installs Debian's redis-server) or install it"
        );
    };
    let mut cases: Vec<Vec<u8>> = [
        &b"*3000000000\r\n"[..],
        b"*2147483648\r\n",
        b"*-0\r\n",
        b"*+1\r\n",
        b"*01\r\n",
        b"*\r\n",
        b"*a\r\n",
        b"*1 \r\n",
        b"*1\r\n$+4\r\n",
        b"*1\r\n$-1\r\n",
        b"*1\r\n$04\r\n",
        b"*1\r\n$536870913\r\n",
        b"*1\r\n$a\r\n",
        b"*1\r\n$\r\n",
        b"*1\r\nfoo\r\n",
        b"*1\r\n\r\n",
        b"*1\r\n\n\r\n",
        b"*1\r\n\x80\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
        b"PING \"a\"b\r\n",
        b"PING 'a'b\r\n",
        b"PING \"ab\r\n",
        b"ECHO \"a\"\"b\"\r\n",
    ]
    .iter()
    .map(|c| c.to_vec())
    .collect();
    let mut big = b"*1\r\n".to_vec();
    big.extend_from_slice(&[b'$'; 70000]);
    cases.push(big);
    let mut big = b"*".to_vec();
    big.extend_from_slice(&[b'1'; 70000]);
    cases.push(big);
    cases.push(vec![b'A'; 70000]);

    for input in &cases {
        let theirs = redis_reply(server.port, input);
        let ours = our_reply(input, false);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs),
            "input {:?}",
            String::from_utf8_lossy(&input[..input.len().min(40)])
        );
        assert_eq!(ours, theirs);
    }

    // Before authentication the stricter limits apply.
    assert_eq!(
        redis_reply(server.port, b"CONFIG SET requirepass pw\r\nQUIT\r\n"),
        b"+OK\r\n+OK\r\n"
    );
    for input in [&b"*11\r\n"[..], b"*1\r\n$16385\r\n"] {
        assert_eq!(
            our_reply(input, true),
            redis_reply(server.port, input),
            "{input:?}"
        );
    }
}
