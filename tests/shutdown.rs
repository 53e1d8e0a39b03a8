//! The `redistill` binary stops gracefully on SIGTERM and on SHUTDOWN: it exits 0 within a
//! bounded time, and every reply a client received is complete and reflects its command.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::mpsc;
use std::thread;

mod common;

use common::{PATIENCE, Running, redistill, wait_loaded};

/// Starts the binary on a free port; returns it and its port.
fn start() -> (Running, u16) {
    let (running, _logs) = Running::start(redistill());
    let port = running.port;
    (running, port)
}

/// Reads `stream` on a thread until the server closes it; the thread returns every byte
/// read, and the receiver gets the running total after each read.
fn read_until_closed(stream: &TcpStream) -> (thread::JoinHandle<Vec<u8>>, mpsc::Receiver<usize>) {
    let mut reader = stream.try_clone().expect("clone");
    let (progress_tx, progress_rx) = mpsc::channel();
    let replies = thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    all.extend_from_slice(&buf[..n]);
                    let _ = progress_tx.send(all.len());
                }
            }
        }
        all
    });
    (replies, progress_rx)
}

#[test]
fn sigterm_during_pipelined_load_answers_then_exits_zero() {
    let (mut child, port) = start();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    // Replies until the server closes; they must be :1, :2, ... without a gap.
    let (replies, progress_rx) = read_until_closed(&stream);
    let writer = thread::spawn(move || {
        let batch = b"INCR counter\r\n".repeat(100);
        while stream.write_all(&batch).is_ok() {}
    });
    // Some replies have arrived: the load is running.
    while progress_rx.recv_timeout(PATIENCE).expect("replies flow") < 10_000 {}
    let pid = child.child.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = child.wait_for_exit();
    assert!(status.success(), "exit status {status}");
    let all = replies.join().expect("reader");
    writer.join().expect("writer");
    let text = String::from_utf8(all).expect("ascii replies");
    assert!(text.ends_with("\r\n"), "a reply was cut short");
    let values: Vec<u64> = text
        .split_terminator("\r\n")
        .map(|r| {
            r.strip_prefix(':')
                .and_then(|n| n.parse().ok())
                .expect("integer reply")
        })
        .collect();
    assert!(values.len() > 100);
    for (i, v) in values.iter().enumerate() {
        assert_eq!(*v, i as u64 + 1, "replies must count up without a gap");
    }
}

#[test]
fn shutdown_command_closes_the_connection_and_exits_zero() {
    let (mut child, port) = start();
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s.write_all(b"SHUTDOWN ABORT\r\nSHUTDOWN SAVE NOSAVE\r\n")
        .expect("send");
    let expected = b"-ERR No shutdown in progress.\r\n-ERR syntax error\r\n";
    let mut got = vec![0; expected.len()];
    s.read_exact(&mut got).expect("replies");
    assert_eq!(got, expected);
    s.write_all(b"SHUTDOWN NOSAVE\r\n").expect("send");
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("closed");
    assert!(rest.is_empty(), "SHUTDOWN answers nothing, as in Redis");
    let status = child.wait_for_exit();
    assert!(status.success(), "exit status {status}");
}

/// As above with several clients spread over both workers, each counting its own key: every
/// worker drains, and no client loses a reply or sees one for a command that did not run.
#[test]
fn sigterm_drains_every_client_on_every_worker() {
    const CLIENTS: usize = 4;
    let (mut child, port) = start();
    let (progress_tx, progress_rx) = mpsc::channel();
    let mut readers = Vec::new();
    let mut writers = Vec::new();
    for client in 0..CLIENTS {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        let mut reader = stream.try_clone().expect("clone");
        let progress = progress_tx.clone();
        readers.push(thread::spawn(move || {
            let mut all = Vec::new();
            let mut buf = [0u8; 65536];
            let mut announced = false;
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        all.extend_from_slice(&buf[..n]);
                        if !announced && all.len() >= 4096 {
                            announced = true;
                            let _ = progress.send(client);
                        }
                    }
                }
            }
            all
        }));
        writers.push(thread::spawn(move || {
            let batch = format!("INCR counter:{client}\r\n")
                .repeat(100)
                .into_bytes();
            while stream.write_all(&batch).is_ok() {}
        }));
    }
    // Every client's load is running before the signal.
    for _ in 0..CLIENTS {
        progress_rx
            .recv_timeout(PATIENCE)
            .expect("replies flow to every client");
    }
    let pid = child.child.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = child.wait_for_exit();
    assert!(status.success(), "exit status {status}");
    for (client, reader) in readers.into_iter().enumerate() {
        let text = String::from_utf8(reader.join().expect("reader")).expect("ascii replies");
        assert!(
            text.ends_with("\r\n"),
            "client {client}: a reply was cut short"
        );
        for (i, reply) in text.split_terminator("\r\n").enumerate() {
            assert_eq!(
                reply,
                format!(":{}", i + 1),
                "client {client}: replies must count up without a gap"
            );
        }
    }
    for writer in writers {
        writer.join().expect("writer");
    }
}

/// A fresh directory for one test under Cargo's scratch space.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("shutdown-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The binary with snapshots on (saved on shutdown, loaded at start) at `path`.
fn persistent(path: &std::path::Path) -> Command {
    let mut command = redistill();
    command
        .arg("--set")
        .arg("persistence.enabled=true")
        .arg("--set")
        .arg(format!("persistence.snapshot_path={}", path.display()));
    command
}

/// One request, one reply line (a bulk's contents for a bulk), over a fresh connection.
fn call(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s.write_all(request.as_bytes()).expect("send");
    let mut reply = Vec::new();
    let mut byte = [0u8];
    let mut lines = 0;
    while lines < 1 || (reply.starts_with(b"$") && !reply.starts_with(b"$-1") && lines < 2) {
        s.read_exact(&mut byte).expect("reply");
        reply.push(byte[0]);
        if reply.ends_with(b"\r\n") {
            lines += 1;
        }
    }
    let text = String::from_utf8(reply).expect("ascii");
    match text.split_once("\r\n") {
        Some((head, body)) if head.starts_with('$') && !body.is_empty() => {
            body.trim_end().to_owned()
        }
        _ => text.trim_end().to_owned(),
    }
}

/// `signal` while a client pipelines `INCR counter` and `SET key:<i> <i>` pairs as fast
/// as it can, with snapshots on: the process exits 0 within a bounded time, every reply is
/// whole and in order, and after a restart from the snapshot every write whose reply came
/// back is there.
fn signal_during_pipelined_writes_saves_every_answered_one(signal: &str) {
    let dir = scratch(signal);
    let path = dir.join("dump.rdst");
    let (mut child, _logs) = Running::start(persistent(&path));
    let port = child.port;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    let (replies, progress_rx) = read_until_closed(&stream);
    let writer = thread::spawn(move || {
        let mut i = 0u64;
        loop {
            let mut batch = String::new();
            for _ in 0..100 {
                i += 1;
                batch.push_str(&format!("INCR counter\r\nSET key:{i} {i}\r\n"));
            }
            if stream.write_all(batch.as_bytes()).is_err() {
                return i;
            }
        }
    });
    while progress_rx.recv_timeout(PATIENCE).expect("replies flow") < 20_000 {}
    let pid = child.child.id().to_string();
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = child.wait_for_exit();
    assert!(status.success(), "exit status {status} after SIG{signal}");
    let sent = writer.join().expect("writer");
    let text = String::from_utf8(replies.join().expect("reader")).expect("ascii replies");
    assert!(text.ends_with("\r\n"), "a reply was cut short");
    // The drain answers every command the server had read; the last one read may be
    // either of a pair.
    let mut answered = 0u64;
    let mut sets = 0u64;
    for (n, reply) in text.split_terminator("\r\n").enumerate() {
        if n % 2 == 0 {
            answered += 1;
            assert_eq!(reply, format!(":{answered}"), "INCR replies count up");
        } else {
            sets += 1;
            assert_eq!(reply, "+OK", "reply {n}");
        }
    }
    assert!(answered > 1000, "only {answered} pairs answered");
    assert!(path.exists(), "no snapshot at {}", path.display());

    let (restarted, _logs) = Running::start(persistent(&path));
    let port = restarted.port;
    wait_loaded(port);
    let counter: u64 = call(port, "GET counter\r\n").parse().expect("counter");
    assert!(
        counter >= answered,
        "{answered} INCRs were answered, {counter} survived the restart"
    );
    assert!(
        counter <= sent,
        "more INCRs ({counter}) than were sent ({sent})"
    );
    assert_eq!(call(port, &format!("GET key:{sets}\r\n")), sets.to_string());
    assert_eq!(call(port, "GET key:1\r\n"), "1");
    let keys: u64 = call(port, "DBSIZE\r\n")[1..].parse().expect("dbsize");
    assert!(keys > sets, "{keys} keys for {sets} answered SETs");
    eprintln!(
        "SIG{signal}: {answered} INCRs and {sets} SETs answered, \
         {counter} INCRs and {keys} keys after reload"
    );
}

#[test]
fn sigterm_during_pipelined_writes_saves_every_answered_one() {
    signal_during_pipelined_writes_saves_every_answered_one("TERM");
}

#[test]
fn sigint_during_pipelined_writes_saves_every_answered_one() {
    signal_during_pipelined_writes_saves_every_answered_one("INT");
}
