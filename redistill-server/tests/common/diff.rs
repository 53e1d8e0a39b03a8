//! Talking to two servers for differential tests: raw replies, and a real redis-server.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};

use bytes::{Bytes, BytesMut};
use redistill_resp::{Frame, Version, decode};

/// A connection that sends commands and returns each reply's raw bytes.
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
}

impl Conn {
    /// Connects and starts from an empty keyspace in database 0.
    pub fn open(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(super::PATIENCE))
            .expect("timeout");
        let mut conn = Conn {
            stream,
            buf: BytesMut::new(),
        };
        for setup in [&b"FLUSHALL"[..], b"SELECT 0"] {
            let args: Vec<Vec<u8>> = setup.split(|&c| c == b' ').map(<[u8]>::to_vec).collect();
            conn.request(&args);
        }
        conn
    }

    /// Sends one command and returns its reply's raw bytes.
    pub fn request(&mut self, args: &[Vec<u8>]) -> Vec<u8> {
        self.send(args);
        loop {
            let bytes = Bytes::copy_from_slice(&self.buf);
            if let Some((_, used)) = decode(&bytes).expect("valid reply") {
                let _ = self.buf.split_to(used);
                return bytes[..used].to_vec();
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("reply");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

impl Conn {
    /// Sends one command without waiting for a reply (CLIENT REPLY OFF sends none).
    pub fn send(&mut self, args: &[Vec<u8>]) {
        let frame = Frame::Array(args.iter().map(|a| Frame::bulk(a.clone())).collect());
        self.stream
            .write_all(&frame.to_vec(Version::Resp3))
            .expect("send");
    }
}

/// A real `redis-server` on a free loopback port, stopped when dropped.
pub struct RealRedis {
    child: Child,
    pub port: u16,
}

impl RealRedis {
    /// Starts redis-server on a port that was free a moment before; when something else
    /// takes that port first, redis-server exits and another port is tried.
    pub fn start() -> RealRedis {
        for _ in 0..10 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let mut child = Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                ])
                .args(["--appendonly", "no", "--loglevel", "warning"])
                // DEBUG is off by default in Redis 7 and on for loopback clients here.
                .args(["--enable-debug-command", "yes"])
                .stdout(Stdio::null())
                .spawn()
                .expect(
                    "REDIS_DIFF needs redis-server on PATH (scripts/test.sh installs \
                     Debian's redis-server)",
                );
            let pid = child.id();
            let started = super::wait_for("redis-server to answer or exit", || {
                if child.try_wait().expect("redis-server's status").is_some() {
                    return Some(false);
                }
                answers_as(port, pid).then_some(true)
            });
            if started {
                return RealRedis { child, port };
            }
        }
        panic!("redis-server exited at start on ten ports in a row");
    }
}

/// Whether the server on `port` is the process `pid` (from INFO's `process_id`), and not
/// whatever else took the port.
fn answers_as(port: u16, pid: u32) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let mut info = Vec::new();
    let asked = stream
        .set_read_timeout(Some(super::PATIENCE))
        .and_then(|()| stream.write_all(b"INFO server\r\nQUIT\r\n"))
        .and_then(|()| stream.read_to_end(&mut info));
    asked.is_ok() && String::from_utf8_lossy(&info).contains(&format!("process_id:{pid}\r\n"))
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
