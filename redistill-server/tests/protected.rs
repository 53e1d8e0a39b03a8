//! Who gets served: protected mode for clients from other hosts, and the limit on new
//! connections per second.
//!
//! A client "from another host" is this machine reaching the server through one of its
//! non-loopback addresses: the server then sees that address as the peer, exactly as
//! for a remote client. Where the machine has no such address the protected-mode tests
//! say so and pass; the decision itself is unit-tested in the server's `admission`
//! module.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};

use redistill_server::Server;
use redistill_server::config::Config;

/// Redis 7's text, with this server's names for the ways out.
const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is \
enabled and no password is set for the default user. In this mode connections are only \
accepted from the loopback interface. If you want to connect from external computers to \
Redis you may adopt one of the following solutions: 1) Just disable protected mode sending \
the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to \
Redis from the same host the server is running, however MAKE SURE Redis is not publicly \
accessible from internet if you do so. 2) Alternatively you can just disable the protected \
mode by editing the configuration file (redistill.toml), and setting protected_mode = false \
in its [server] section, and then restarting the server. 3) If you started the server \
manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an \
authentication password for the default user (security.password, REDIS_PASSWORD or \
'--requirepass'). NOTE: You only need to do one of the above things in order for the server \
to start accepting connections from the outside.\r\n";

/// A server on 0.0.0.0, stopped when dropped.
struct Running(Option<Server>);

impl Running {
    fn start(change: impl FnOnce(&mut Config)) -> Running {
        let mut config = Config::default();
        config.server.port = 0;
        config.server.workers = 2;
        config.server.bind = vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)];
        change(&mut config);
        Running(Some(Server::start(config).expect("server starts")))
    }

    fn port(&self) -> u16 {
        self.0.as_ref().expect("running").local_addr().port()
    }

    fn connect(&self, ip: IpAddr) -> TcpStream {
        let stream = TcpStream::connect(SocketAddr::new(ip, self.port())).expect("connects");
        stream
            .set_read_timeout(Some(common::PATIENCE))
            .expect("timeout");
        stream
    }

    fn local(&self) -> TcpStream {
        self.connect(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(server) = self.0.take() {
            server.shutdown();
        }
    }
}

/// An IPv4 address of this machine that is not loopback, if it has one: the source
/// address the kernel would use towards a documentation-range host (nothing is sent).
fn non_loopback_ip() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    if ip.is_loopback() || ip.is_unspecified() {
        eprintln!("no non-loopback address on this machine: skipping");
        return None;
    }
    Some(ip)
}

fn read_to_close(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!("read: {e}"),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn exchange(stream: &mut TcpStream, request: &str, expected: &str) {
    stream.write_all(request.as_bytes()).expect("write");
    let mut got = vec![0; expected.len()];
    stream.read_exact(&mut got).expect("reply");
    assert_eq!(
        String::from_utf8_lossy(&got),
        expected,
        "reply to {request:?}"
    );
}

fn stat(stream: &mut TcpStream, field: &str) -> u64 {
    stream.write_all(b"INFO stats\r\n").expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    // One bulk string: read until its end.
    while !got.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut buf).expect("read");
        assert!(n > 0, "closed");
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {text}"))
        .trim()
        .parse()
        .expect("a number")
}

#[test]
fn a_remote_client_is_denied_and_closed_while_loopback_is_served() {
    let Some(ip) = non_loopback_ip() else { return };
    let server = Running::start(|_| {});
    let mut remote = server.connect(ip);
    remote.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_to_close(&mut remote), DENIED);

    let mut local = server.local();
    exchange(&mut local, "PING\r\n", "+PONG\r\n");
    assert_eq!(stat(&mut local, "rejected_connections"), 1);
}

#[test]
fn a_password_or_protected_mode_off_lets_remote_clients_in() {
    let Some(ip) = non_loopback_ip() else { return };
    let server = Running::start(|c| c.security.password = Some("pw".to_owned()));
    let mut remote = server.connect(ip);
    exchange(
        &mut remote,
        "GET k\r\n",
        "-NOAUTH Authentication required.\r\n",
    );
    exchange(&mut remote, "AUTH pw\r\n", "+OK\r\n");

    let server = Running::start(|c| c.server.protected_mode = false);
    let mut remote = server.connect(ip);
    exchange(&mut remote, "PING\r\n", "+PONG\r\n");
}

#[test]
fn config_set_protected_mode_no_from_loopback_opens_the_door() {
    let Some(ip) = non_loopback_ip() else { return };
    let server = Running::start(|_| {});
    let mut remote = server.connect(ip);
    assert!(read_to_close(&mut remote).starts_with("-DENIED "));

    let mut local = server.local();
    exchange(&mut local, "CONFIG SET protected-mode no\r\n", "+OK\r\n");
    let mut remote = server.connect(ip);
    exchange(&mut remote, "PING\r\n", "+PONG\r\n");
}

#[test]
fn connections_over_the_rate_are_refused_and_counted_while_others_are_served() {
    const RATE: u32 = 3;
    const ATTEMPTS: usize = 12;
    let server = Running::start(|c| c.server.max_new_connections_per_second = RATE);
    // May itself fall in a window that is already full: retry until admitted.
    let mut established = common::wait_for("a connection admitted under the rate", || {
        let mut s = server.local();
        s.write_all(b"PING\r\n").unwrap();
        let mut got = [0u8; 7];
        s.read_exact(&mut got).unwrap();
        (&got == b"+PONG\r\n").then_some(s)
    });
    let before = stat(&mut established, "rejected_connections");

    // Connections one after another, at least twelve and until one goes over the rate.
    let mut refused = 0;
    let mut attempts = 0;
    common::wait_until("a connection over the rate to be refused", || {
        let mut s = server.local();
        s.write_all(b"PING\r\n").unwrap();
        let reply = read_line(&mut s);
        if reply == "-ERR max number of new connections per second reached\r\n" {
            refused += 1;
            assert_eq!(read_to_close(&mut s), "", "closed after the error");
        } else {
            assert_eq!(reply, "+PONG\r\n");
        }
        attempts += 1;
        attempts >= ATTEMPTS && refused > 0
    });
    assert_eq!(
        stat(&mut established, "rejected_connections") - before,
        refused
    );
    exchange(&mut established, "PING\r\n", "+PONG\r\n");
}

fn read_line(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => got.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}
