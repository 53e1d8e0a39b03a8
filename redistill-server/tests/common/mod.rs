//! Starts a server in-process on a free port for a test, and raw-socket helpers.

#![allow(dead_code)]

pub mod diff;
pub mod keyspace_model;
pub mod linearizability;
pub mod rng;
mod wait;

#[allow(unused_imports)] // each test binary uses its own part of them
pub use wait::{PATIENCE, wait_for, wait_for_within, wait_until};

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use redistill_server::Server;
use redistill_server::config::Config;

/// A server on 127.0.0.1 with an OS-assigned port, stopped when dropped.
pub struct TestServer {
    server: Option<Server>,
    pub addr: SocketAddr,
}

impl TestServer {
    pub fn start() -> Self {
        Self::with_config(|_| {})
    }

    pub fn with_config(change: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::default();
        config.server.port = 0;
        config.server.workers = 2;
        change(&mut config);
        let server = Server::start(config).expect("server starts");
        let addr = server.local_addr();
        TestServer {
            server: Some(server),
            addr,
        }
    }

    pub fn client(&self) -> redis::Connection {
        redis::Client::open(format!("redis://{}/", self.addr))
            .expect("valid url")
            .get_connection()
            .expect("connects")
    }

    pub fn client_with_password(&self, password: &str) -> redis::Connection {
        redis::Client::open(format!("redis://:{password}@{}/", self.addr))
            .expect("valid url")
            .get_connection()
            .expect("connects and authenticates")
    }

    /// The running server's keyspace, to check what a command changed in it.
    pub fn store(&self) -> &redistill_store::Store {
        self.server.as_ref().expect("running").store()
    }

    pub fn raw(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connects");
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        stream
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
    }
}

/// Sends `request` and reads until exactly `expected.len()` bytes came back.
pub fn exchange(stream: &mut TcpStream, request: &[u8], expected: &[u8]) {
    stream.write_all(request).expect("write");
    let mut got = vec![0; expected.len()];
    stream.read_exact(&mut got).expect("reply");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected),
        "reply to {:?}",
        String::from_utf8_lossy(request)
    );
}

/// Reads until the peer closes; returns everything read.
pub fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    stream.read_to_end(&mut out).expect("read until close");
    out
}

/// INFO `section`'s `field:value` lines, over a RESP2 connection.
pub fn info(stream: &mut TcpStream, section: &str) -> BTreeMap<String, String> {
    stream
        .write_all(format!("INFO {section}\r\n").as_bytes())
        .expect("send");
    let mut header = Vec::new();
    let mut byte = [0u8];
    while !header.ends_with(b"\r\n") {
        stream.read_exact(&mut byte).expect("header");
        header.push(byte[0]);
    }
    let len: usize = std::str::from_utf8(&header[1..header.len() - 2])
        .expect("ascii")
        .parse()
        .expect("bulk length");
    let mut body = vec![0; len + 2];
    stream.read_exact(&mut body).expect("body");
    String::from_utf8(body)
        .expect("utf-8")
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
