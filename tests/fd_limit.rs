//! The `redistill` binary under an open-file limit far below `max_connections`: it says so
//! at start, and once descriptors run out each further connection is told
//! `ERR max number of clients reached` and closed at once (none waits unanswered in the
//! backlog), while connected clients keep being served and room returns when they leave.
//! Linux only: the limit is set with the shell's `ulimit`.

#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Instant;

mod common;

use common::{PATIENCE, Running, wait_for};

/// Hard and soft open-file limit the server runs under.
const LIMIT: u32 = 64;

const MAX_CLIENTS_REACHED: &[u8] = b"-ERR max number of clients reached\r\n";

/// The binary under `ulimit -n LIMIT` (hard and soft), with the default
/// `max_connections` of 10000.
fn limited() -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -n {LIMIT} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_redistill"))
        .args(["--port", "0", "--workers", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    command
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s
}

/// PING on a fresh connection: `Some(stream)` if it was served, `None` if it was refused
/// with Redis's error and closed. Anything else (no answer within the read timeout, a
/// different reply) fails the test.
fn ping(port: u16) -> Option<TcpStream> {
    let mut s = connect(port);
    s.write_all(b"PING\r\n").expect("ping");
    let mut reply = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("no answer: {e} (after {reply:?})"),
        }
        if reply == b"+PONG\r\n" {
            return Some(s);
        }
    }
    assert_eq!(
        String::from_utf8_lossy(&reply),
        String::from_utf8_lossy(MAX_CLIENTS_REACHED)
    );
    None
}

#[test]
fn out_of_descriptors_refuses_cleanly_and_keeps_serving() {
    let (server, logs) = Running::start(limited());
    let port = server.port;
    let warned = logs
        .try_iter()
        .any(|line| line.contains("max_connections is 10000 but the open-file limit is 64"));
    assert!(warned, "no warning that max_connections cannot be honoured");

    let mut established = connect(port);
    established.write_all(b"SET k v\r\n").expect("set");
    let mut ok = [0u8; 5];
    established.read_exact(&mut ok).expect("reply");
    assert_eq!(&ok, b"+OK\r\n");

    // Each connection is answered or refused at once: one left waiting in the backlog,
    // with no client leaving to make room, would fail its read.
    let mut held = Vec::new();
    let mut refused = 0;
    let started = Instant::now();
    for _ in 0..2 * LIMIT {
        match ping(port) {
            Some(s) => held.push(s),
            None => refused += 1,
        }
    }
    eprintln!(
        "{} served, {refused} refused in {:?} under ulimit -n {LIMIT}",
        held.len(),
        started.elapsed()
    );
    assert!(held.len() >= 16, "only {} clients served", held.len());
    assert!(refused >= LIMIT as usize, "only {refused} refused");

    // Everyone connected is still served.
    for s in held.iter_mut().chain(std::iter::once(&mut established)) {
        s.write_all(b"GET k\r\n").expect("get");
        let mut reply = [0u8; 7];
        s.read_exact(&mut reply).expect("reply");
        assert_eq!(&reply, b"$1\r\nv\r\n");
    }

    // Room returns once clients leave (each worker sees the closes in its own time).
    drop(held);
    let mut admitted = wait_for("room for a client after the others left", || ping(port));
    admitted.write_all(b"INFO stats\r\n").expect("info");
    let mut info = Vec::new();
    let mut buf = [0u8; 4096];
    while !info.ends_with(b"\r\n\r\n") {
        let n = admitted.read(&mut buf).expect("info");
        assert!(n > 0, "closed during INFO");
        info.extend_from_slice(&buf[..n]);
    }
    let info = String::from_utf8_lossy(&info);
    let rejected: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("rejected_connections:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rejected_connections in INFO");
    assert!(
        rejected >= refused,
        "INFO counts {rejected}, {refused} were refused"
    );
}
