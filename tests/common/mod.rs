//! Runs the `redistill` binary for tests: on a free port, with its log lines, until exit.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

#[path = "../../redistill-server/tests/common/wait.rs"]
mod wait;

#[allow(unused_imports)] // each test binary uses its own part of them
pub use wait::{PATIENCE, wait_for, wait_for_within, wait_until};

/// The binary with two workers on a port the OS picks; its log goes to a pipe.
pub fn redistill() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_redistill"));
    command
        .args(["--port", "0", "--workers", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// A server process, killed if a test ends before it exits.
pub struct Running {
    pub child: Child,
    /// The port from its start-up line.
    pub port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Spawns `command` (see [`redistill`]) and waits for its start-up line; returns the
    /// process and its log lines from then on.
    pub fn start(mut command: Command) -> (Running, mpsc::Receiver<String>) {
        let mut child = command.spawn().expect("redistill starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (port_tx, port_rx) = mpsc::channel();
        let (log_tx, log_rx) = mpsc::channel();
        // Reads the log to its end even when nobody listens, so the process never blocks
        // on a full pipe.
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("connections on ").nth(1) {
                    let port = addr
                        .split([':', ' '])
                        .nth(1)
                        .and_then(|p| p.parse::<u16>().ok());
                    let _ = port_tx.send(port);
                }
                let _ = log_tx.send(line);
            }
        });
        let mut running = Running { child, port: 0 };
        running.port = port_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("start-up line")
            .expect("port in the start-up line");
        (running, log_rx)
    }

    /// Waits for the process to exit, failing the test after [`PATIENCE`].
    pub fn wait_for_exit(&mut self) -> ExitStatus {
        wait_for("redistill to exit", || self.child.try_wait().expect("wait"))
    }
}

/// Sends `request` and reads exactly `expected.len()` bytes back, which must match.
pub fn exchange(s: &mut TcpStream, request: &[u8], expected: &[u8]) {
    s.write_all(request).expect("write");
    let mut got = vec![0; expected.len()];
    s.read_exact(&mut got).expect("reply");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
}

/// Waits until the server on `port` has loaded its snapshot: it listens first and answers
/// `-LOADING` meanwhile, as Redis does, while INFO (which runs during a load) says
/// `loading:1`. A debug build on a busy machine may take a minute on millions of keys.
pub fn wait_loaded(port: u16) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    let limit = Duration::from_secs(300);
    wait_for_within(limit, "the snapshot to load", || {
        s.write_all(b"INFO persistence\r\n").expect("send");
        let mut header = Vec::new();
        let mut byte = [0u8];
        while !header.ends_with(b"\r\n") {
            s.read_exact(&mut byte).expect("header");
            header.push(byte[0]);
        }
        let len: usize = std::str::from_utf8(&header[1..header.len() - 2])
            .ok()
            .and_then(|n| n.parse().ok())
            .expect("a bulk reply");
        let mut body = vec![0; len + 2];
        s.read_exact(&mut body).expect("body");
        let loaded = String::from_utf8_lossy(&body).contains("\r\nloading:0\r\n");
        loaded.then_some(())
    });
}
