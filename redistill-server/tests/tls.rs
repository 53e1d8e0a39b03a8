//! TLS end to end: redis-cli and the `redis` crate over TLS, passwords on both ports,
//! client certificates, start-up errors, and the handshake bound.
//!
//! Certificates come from rcgen, made fresh for each test: a CA, a server certificate it
//! signs for 127.0.0.1 and localhost, and client certificates good and bad.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{PATIENCE, wait_until};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};
use redis::{Client, ClientTlsConfig, TlsCertificates};
use redistill_server::Server;
use redistill_server::config::Config;

/// A CA and the files a server and its clients need, in a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM.
struct Identity {
    cert: String,
    key: String,
}

impl Pki {
    fn new() -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("test fixture");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "redistill test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("test fixture"))
            .expect("test fixture");
        let pki = Pki {
            dir: tempfile::tempdir().expect("test fixture"),
            ca,
        };
        std::fs::write(pki.path("ca.pem"), pki.ca.pem()).expect("test fixture");
        let server = pki.issue(&["127.0.0.1", "localhost"], None);
        std::fs::write(pki.path("server.pem"), &server.cert).expect("test fixture");
        std::fs::write(pki.path("server.key"), &server.key).expect("test fixture");
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A certificate the CA signs; `expired` moves its validity into the past.
    fn issue(&self, names: &[&str], expired: Option<()>) -> Identity {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("test fixture");
        if expired.is_some() {
            params.not_before = date_time_ymd(2000, 1, 1);
            params.not_after = date_time_ymd(2001, 1, 1);
        }
        let key = KeyPair::generate().expect("test fixture");
        let cert = params.signed_by(&key, &self.ca).expect("test fixture");
        Identity {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    /// The `[security]` keys for TLS with these files.
    fn configure(&self, config: &mut Config) {
        config.security.tls_enabled = true;
        config.security.tls_cert_path = Some(self.path("server.pem"));
        config.security.tls_key_path = Some(self.path("server.key"));
    }

    /// A `redis` client for `rediss://addr`, trusting the test CA.
    fn client(&self, addr: SocketAddr, password: Option<&str>, id: Option<&Identity>) -> Client {
        let auth = password.map_or(String::new(), |p| format!(":{p}@"));
        Client::build_with_tls(
            format!("rediss://{auth}{addr}/"),
            TlsCertificates {
                client_tls: id.map(|id| ClientTlsConfig {
                    client_cert: id.cert.clone().into_bytes(),
                    client_key: id.key.clone().into_bytes(),
                }),
                root_cert: Some(self.ca.pem().into_bytes()),
            },
        )
        .expect("test fixture")
    }
}

/// A server stopped when dropped.
struct Running(Option<Server>);

impl Running {
    fn start(change: impl FnOnce(&mut Config)) -> Running {
        let mut config = Config::default();
        config.server.port = 0;
        config.server.workers = 2;
        change(&mut config);
        Running(Some(Server::start(config).expect("server starts")))
    }

    fn server(&self) -> &Server {
        self.0.as_ref().expect("test fixture")
    }

    fn tls_addr(&self) -> SocketAddr {
        self.server().tls_addr().expect("TLS is on")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(server) = self.0.take() {
            server.shutdown();
        }
    }
}

/// A port that was free a moment ago, for a TLS port beside an OS-chosen plain port.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("test fixture")
        .local_addr()
        .expect("test fixture")
        .port()
}

fn info_field(conn: &mut redis::Connection, field: &str) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query(conn)
        .expect("test fixture");
    info.lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO"))
        .trim()
        .parse()
        .expect("test fixture")
}

/// Whether the server closed `stream` without a reply: end of stream or a reset.
fn closed_without_reply(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("test fixture");
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Err(e) => matches!(
            e.kind(),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
        ),
        Ok(_) => false,
    }
}

/// `redis-cli --tls --cacert ca.pem -h 127.0.0.1 -p port`, then `args`. The tests that use
/// it fail when redis-cli is missing rather than pass without checking anything.
fn redis_cli(pki: &Pki, port: u16, args: &[&str]) -> std::process::Output {
    Command::new("redis-cli")
        .args(["--tls", "--cacert"])
        .arg(pki.path("ca.pem"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("redis-cli (Debian's redis-tools, built with TLS) is needed here: {e}")
        })
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_owned()
}

#[test]
fn redis_cli_pings_over_tls() {
    let pki = Pki::new();
    let server = Running::start(|c| pki.configure(c));
    let addr = server.tls_addr();
    assert_eq!(
        addr,
        server.server().local_addr(),
        "tls_port 0: TLS on port"
    );
    let output = redis_cli(&pki, addr.port(), &["PING"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout(&output), "PONG", "{output:?}");
}

/// redis-cli over TLS with no password, a wrong one and the right one: Redis's texts, as
/// redis-cli shows them against redis-server 7.0.
#[test]
fn redis_cli_auth_over_tls() {
    let pki = Pki::new();
    let server = Running::start(|c| {
        pki.configure(c);
        c.security.password = Some("s3cret".to_owned());
    });
    let port = server.tls_addr().port();

    let missing = redis_cli(&pki, port, &["GET", "k"]);
    assert_eq!(
        stdout(&missing),
        "NOAUTH Authentication required.",
        "{missing:?}"
    );

    let wrong = redis_cli(&pki, port, &["--no-auth-warning", "-a", "nope", "GET", "k"]);
    assert_eq!(
        stderr(&wrong),
        "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.",
        "{wrong:?}"
    );
    assert_eq!(stdout(&wrong), "NOAUTH Authentication required.");

    let right = |args: &[&str]| {
        let mut all = vec!["--no-auth-warning", "-a", "s3cret"];
        all.extend_from_slice(args);
        let output = redis_cli(&pki, port, &all);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(stderr(&output), "", "{output:?}");
        stdout(&output)
    };
    assert_eq!(right(&["SET", "k", "over tls"]), "OK");
    assert_eq!(right(&["GET", "k"]), "over tls");
    assert!(right(&["INFO", "stats"]).contains("acl_access_denied_auth:1"));
}

/// With `tls_auth_clients`, redis-cli gets in with a certificate the CA signed, and is
/// turned away without one, with a self-signed one and with an expired one.
#[test]
fn redis_cli_client_certificates_over_tls() {
    let pki = Pki::new();
    let server = Running::start(|c| {
        pki.configure(c);
        c.security.tls_ca_cert_path = Some(pki.path("ca.pem"));
        c.security.tls_auth_clients = true;
    });
    let port = server.tls_addr().port();
    let write = |name: &str, id: &Identity| {
        std::fs::write(pki.path(&format!("{name}.pem")), &id.cert).expect("test fixture");
        std::fs::write(pki.path(&format!("{name}.key")), &id.key).expect("test fixture");
    };
    write("valid", &pki.issue(&["client"], None));
    write("expired", &pki.issue(&["client"], Some(())));
    let stranger = rcgen::generate_simple_self_signed(vec!["client".to_owned()]).unwrap();
    write(
        "stranger",
        &Identity {
            cert: stranger.cert.pem(),
            key: stranger.signing_key.serialize_pem(),
        },
    );
    let ping = |name: Option<&str>| {
        let files: Vec<String> = name
            .map(|n| {
                let path = |ext: &str| pki.path(&format!("{n}.{ext}")).display().to_string();
                vec![
                    "--cert".to_owned(),
                    path("pem"),
                    "--key".to_owned(),
                    path("key"),
                ]
            })
            .unwrap_or_default();
        let mut args: Vec<&str> = files.iter().map(String::as_str).collect();
        args.push("PING");
        redis_cli(&pki, port, &args)
    };

    let valid = ping(Some("valid"));
    assert!(valid.status.success(), "{valid:?}");
    assert_eq!(stdout(&valid), "PONG", "{valid:?}");
    for refused in [None, Some("stranger"), Some("expired")] {
        let output = ping(refused);
        // The handshake ends before PING is answered; redis-cli 7.0 reports
        // "Error: Server closed the connection" and exits 1.
        assert_eq!(stdout(&output), "", "{refused:?}: {output:?}");
        assert!(!output.status.success(), "{refused:?}: {output:?}");
        assert!(
            stderr(&output).starts_with("Error:"),
            "{refused:?}: {output:?}"
        );
    }
    let valid = ping(Some("valid"));
    assert_eq!(stdout(&valid), "PONG", "still served after the refusals");
}

#[test]
fn redis_crate_set_get_and_pipelines_over_tls() {
    let pki = Pki::new();
    let server = Running::start(|c| pki.configure(c));
    let mut conn = pki
        .client(server.tls_addr(), None, None)
        .get_connection()
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query(&mut conn)
        .unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut conn).unwrap();
    assert_eq!(v, "v");

    let mut pipe = redis::pipe();
    for i in 0..2000 {
        pipe.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
    }
    for i in 0..2000 {
        pipe.cmd("GET").arg(format!("key:{i}"));
    }
    let values: Vec<u64> = pipe.query(&mut conn).unwrap();
    assert_eq!(values, (0..2000).collect::<Vec<u64>>());

    // Replies far larger than the TLS buffers: output backpressure over TLS.
    let big = vec![b'x'; 3 << 20];
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg(&big[..])
        .query(&mut conn)
        .unwrap();
    let mut pipe = redis::pipe();
    for _ in 0..4 {
        pipe.cmd("GET").arg("big");
    }
    let got: Vec<Vec<u8>> = pipe.query(&mut conn).unwrap();
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|value| *value == big));
}

#[test]
fn async_redis_client_over_tls() {
    let pki = Pki::new();
    let server = Running::start(|c| pki.configure(c));
    let client = pki.client(server.tls_addr(), None, None);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let _: () = redis::cmd("SET")
            .arg("a")
            .arg("1")
            .query_async(&mut conn)
            .await
            .unwrap();
        let n: i64 = redis::cmd("INCR")
            .arg("a")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 2);
    });
}

/// A blocking rustls client over TCP, for raw RESP bytes over TLS.
fn raw_tls(
    pki: &Pki,
    addr: SocketAddr,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in
        rustls_pki_types::CertificateDer::pem_file_iter(pki.path("ca.pem")).expect("test fixture")
    {
        roots
            .add(cert.expect("test fixture"))
            .expect("test fixture");
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from("localhost").expect("test fixture");
    let conn =
        rustls::ClientConnection::new(std::sync::Arc::new(config), name).expect("test fixture");
    let tcp = TcpStream::connect(addr).expect("test fixture");
    tcp.set_read_timeout(Some(PATIENCE)).expect("test fixture");
    rustls::StreamOwned::new(conn, tcp)
}

/// Reads until the server closes; a close without close_notify also ends the reply.
fn read_to_close(stream: &mut impl Read) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return got,
            Err(e) => panic!("read: {e}"),
        }
    }
}

#[test]
fn raw_resp_over_tls_pipelining_quit_and_protocol_errors() {
    let pki = Pki::new();
    let server = Running::start(|c| pki.configure(c));
    let addr = server.tls_addr();

    // A pipeline in one write: every reply, in order; then QUIT's +OK and the close.
    let mut s = raw_tls(&pki, addr);
    let mut request = Vec::new();
    let mut expected = Vec::new();
    for i in 0..500 {
        request.extend_from_slice(format!("SET k{i} {i}\r\nGET k{i}\r\n").as_bytes());
        expected
            .extend_from_slice(format!("+OK\r\n${}\r\n{i}\r\n", i.to_string().len()).as_bytes());
    }
    request.extend_from_slice(b"QUIT\r\n");
    expected.extend_from_slice(b"+OK\r\n");
    s.write_all(&request).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&read_to_close(&mut s)),
        String::from_utf8_lossy(&expected)
    );

    // A protocol error: the requests before it run, its reply goes out, then the close.
    let mut s = raw_tls(&pki, addr);
    s.write_all(b"SET before 1\r\n*1\r\n$abc\r\nSET after 1\r\n")
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&read_to_close(&mut s)),
        "+OK\r\n-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut s = raw_tls(&pki, addr);
    s.write_all(b"EXISTS before after\r\nQUIT\r\n").unwrap();
    assert_eq!(read_to_close(&mut s), b":1\r\n+OK\r\n");
}

#[test]
fn passwords_on_plain_and_tls_ports() {
    let pki = Pki::new();
    let tls_port = free_port();
    let server = Running::start(|c| {
        pki.configure(c);
        c.security.tls_port = tls_port;
        c.security.password = Some("s3cret".to_owned());
    });
    let plain = server.server().local_addr();
    let tls = server.tls_addr();
    assert_ne!(plain, tls);
    assert_eq!(tls.port(), tls_port);

    // Plain TCP: missing, wrong, then the right password.
    let mut raw = TcpStream::connect(plain).unwrap();
    let reply = |raw: &mut TcpStream, request: &[u8], expected: &[u8]| {
        raw.write_all(request).unwrap();
        let mut got = vec![0; expected.len()];
        raw.read_exact(&mut got).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected)
        );
    };
    reply(
        &mut raw,
        b"GET k\r\n",
        b"-NOAUTH Authentication required.\r\n",
    );
    reply(
        &mut raw,
        b"AUTH nope\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    reply(&mut raw, b"AUTH s3cret\r\n", b"+OK\r\n");
    reply(&mut raw, b"SET k plain\r\n", b"+OK\r\n");

    // TLS: the same three cases through the redis crate.
    let mut anonymous = pki.client(tls, None, None).get_connection().unwrap();
    let err = redis::cmd("GET")
        .arg("k")
        .query::<String>(&mut anonymous)
        .unwrap_err();
    assert_eq!(err.code(), Some("NOAUTH"), "{err:?}");
    let wrong = pki.client(tls, Some("nope"), None).get_connection();
    let err = wrong.err().expect("a wrong password fails to connect");
    assert_eq!(err.kind(), redis::ErrorKind::AuthenticationFailed, "{err}");
    let mut right = pki
        .client(tls, Some("s3cret"), None)
        .get_connection()
        .unwrap();
    let v: String = redis::cmd("GET").arg("k").query(&mut right).unwrap();
    assert_eq!(v, "plain", "one keyspace behind both ports");
    assert!(info_field(&mut right, "acl_access_denied_auth") >= 2);
}

#[test]
fn plaintext_client_on_the_tls_port_is_closed_and_counted() {
    let pki = Pki::new();
    let server = Running::start(|c| pki.configure(c));
    // A TLS client connected before, mid-pipeline while the plaintext one arrives.
    let mut established = pki
        .client(server.tls_addr(), None, None)
        .get_connection()
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("1")
        .query(&mut established)
        .unwrap();
    let mut raw = TcpStream::connect(server.tls_addr()).unwrap();
    raw.write_all(b"PING\r\n").unwrap();
    assert!(closed_without_reply_or_alert(&mut raw));
    let n: i64 = redis::cmd("INCR").arg("k").query(&mut established).unwrap();
    assert_eq!(n, 2, "the established client is unharmed");

    let mut conn = pki
        .client(server.tls_addr(), None, None)
        .get_connection()
        .unwrap();
    let pong: String = redis::cmd("PING").query(&mut conn).unwrap();
    assert_eq!(pong, "PONG");
    // The server counts the failure on the worker, a moment after the close.
    wait_until("one handshake failure in INFO", || {
        info_field(&mut conn, "tls_handshake_failures") == 1
    });
}

/// The server may answer plaintext with a TLS alert record before closing: anything but
/// a RESP reply, then the end of the stream.
fn closed_without_reply_or_alert(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("test fixture");
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!("read: {e}"),
        }
    }
    // 0x15: a TLS alert record.
    got.is_empty() || got[0] == 0x15
}

#[test]
fn client_certificates_are_required_and_checked() {
    let pki = Pki::new();
    let server = Running::start(|c| {
        pki.configure(c);
        c.security.tls_ca_cert_path = Some(pki.path("ca.pem"));
        c.security.tls_auth_clients = true;
    });
    let addr = server.tls_addr();
    let ping = |id: Option<&Identity>| -> redis::RedisResult<String> {
        let mut conn = pki.client(addr, None, id).get_connection()?;
        redis::cmd("PING").query(&mut conn)
    };

    assert!(ping(None).is_err(), "no client certificate");
    let expired = pki.issue(&["client"], Some(()));
    assert!(ping(Some(&expired)).is_err(), "an expired certificate");
    let stranger = rcgen::generate_simple_self_signed(vec!["client".to_owned()]).unwrap();
    let stranger = Identity {
        cert: stranger.cert.pem(),
        key: stranger.signing_key.serialize_pem(),
    };
    assert!(ping(Some(&stranger)).is_err(), "a self-signed certificate");

    let valid = pki.issue(&["client"], None);
    assert_eq!(ping(Some(&valid)).unwrap(), "PONG");
    let mut conn = pki
        .client(addr, None, Some(&valid))
        .get_connection()
        .unwrap();
    wait_until("three handshake failures in INFO", || {
        info_field(&mut conn, "tls_handshake_failures") == 3
    });
}

#[test]
fn start_up_errors_name_the_file() {
    let pki = Pki::new();
    let missing = pki.path("missing.pem");
    let mut config = Config::default();
    config.server.port = 0;
    pki.configure(&mut config);
    config.security.tls_cert_path = Some(missing.clone());
    let err = Server::start(config).err().expect("refuses to start");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains(&display(&missing)), "{err}");

    let garbage = pki.path("garbage.key");
    std::fs::write(&garbage, "-----BEGIN PRIVATE KEY-----\nnot base64!\n").unwrap();
    let mut config = Config::default();
    config.server.port = 0;
    pki.configure(&mut config);
    config.security.tls_key_path = Some(garbage.clone());
    let err = Server::start(config).err().expect("refuses to start");
    assert!(err.to_string().contains(&display(&garbage)), "{err}");
    assert!(err.to_string().contains("security.tls_key_path"), "{err}");

    // A CA bundle for client certificates that is not there.
    let missing_ca = pki.path("missing-ca.pem");
    let mut config = Config::default();
    config.server.port = 0;
    pki.configure(&mut config);
    config.security.tls_ca_cert_path = Some(missing_ca.clone());
    config.security.tls_auth_clients = true;
    let err = Server::start(config).err().expect("refuses to start");
    assert!(err.to_string().contains(&display(&missing_ca)), "{err}");
    assert!(
        err.to_string().contains("security.tls_ca_cert_path"),
        "{err}"
    );
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn handshake_bound_refuses_the_excess_while_established_clients_are_served() {
    let pki = Pki::new();
    let server = Running::start(|c| {
        pki.configure(c);
        c.security.tls_max_handshakes = 2;
    });
    let addr = server.tls_addr();
    let mut established = pki.client(addr, None, None).get_connection().unwrap();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query(&mut established)
        .unwrap();

    // Two peers that connect and never say hello hold both handshake slots.
    let holders: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    wait_until("both silent peers to hold a handshake slot", || {
        info_field(&mut established, "tls_handshakes_in_progress") == 2
    });
    let mut excess = TcpStream::connect(addr).unwrap();
    assert!(
        closed_without_reply(&mut excess),
        "a third handshake is shed"
    );
    let refused = pki
        .client(addr, None, None)
        .get_connection()
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
    assert!(refused.is_err(), "so is a real client's");
    assert_eq!(info_field(&mut established, "rejected_connections"), 2);

    let v: String = redis::cmd("GET").arg("k").query(&mut established).unwrap();
    assert_eq!(v, "v", "the established client is still served");

    drop(holders);
    wait_until("the slots to come back once the peers left", || {
        info_field(&mut established, "tls_handshakes_in_progress") == 0
    });
    let mut again = pki.client(addr, None, None).get_connection().unwrap();
    let pong: String = redis::cmd("PING").query(&mut again).unwrap();
    assert_eq!(pong, "PONG", "slots come back when handshakes end");
}

/// Two pipelined replies each far over the output pause threshold: the connection pauses
/// after the first and must resume even when the socket (or TLS) takes all of it at once.
#[test]
fn large_pipelined_replies_resume_on_plain_and_tls() {
    let pki = Pki::new();
    let tls_port = free_port();
    let server = Running::start(|c| {
        pki.configure(c);
        c.security.tls_port = tls_port;
        c.server.workers = 1;
    });
    let big = vec![b'x'; 3 << 20];
    let mut set = format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${}\r\n", big.len()).into_bytes();
    set.extend_from_slice(&big);
    set.extend_from_slice(b"\r\n");
    let mut reply = format!("${}\r\n", big.len()).into_bytes();
    reply.extend_from_slice(&big);
    reply.extend_from_slice(b"\r\n");
    let expected = [&b"+OK\r\n"[..], &reply, &reply, b"+OK\r\n"].concat();

    let mut request = set.clone();
    request.extend_from_slice(b"GET big\r\nGET big\r\nQUIT\r\n");
    let mut plain = TcpStream::connect(server.server().local_addr()).unwrap();
    plain.set_read_timeout(Some(PATIENCE)).unwrap();
    plain.write_all(&request).unwrap();
    assert!(read_to_close(&mut plain) == expected, "plain");

    let mut tls = raw_tls(&pki, server.tls_addr());
    tls.write_all(&request).unwrap();
    assert!(read_to_close(&mut tls) == expected, "TLS");
}

#[test]
fn refusals_reach_tls_clients_after_the_handshake() {
    let pki = Pki::new();
    let server = Running::start(|c| {
        pki.configure(c);
        c.server.max_connections = 1;
    });
    let mut first = raw_tls(&pki, server.tls_addr());
    first.write_all(b"PING\r\n").unwrap();
    let mut pong = [0u8; 7];
    first.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"+PONG\r\n");
    let mut second = raw_tls(&pki, server.tls_addr());
    assert_eq!(
        String::from_utf8_lossy(&read_to_close(&mut second)),
        "-ERR max number of clients reached\r\n"
    );
    first.write_all(b"PING\r\n").unwrap();
    first.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"+PONG\r\n", "the connected client is still served");
}

#[test]
fn protected_mode_denies_remote_tls_clients_after_the_handshake() {
    // This machine's non-loopback address, if it has one: connecting through it makes the
    // server see a remote peer.
    let ip = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").and_then(|()| s.local_addr()))
        .map(|addr| addr.ip())
        .ok()
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified());
    let Some(ip) = ip else {
        eprintln!("no non-loopback address on this machine: skipping");
        return;
    };
    let pki = Pki::new();
    let server = Running::start(|c| {
        pki.configure(c);
        c.server.bind = vec![std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)];
    });
    let mut remote = raw_tls(&pki, SocketAddr::new(ip, server.tls_addr().port()));
    remote.write_all(b"PING\r\n").unwrap();
    let reply = String::from_utf8_lossy(&read_to_close(&mut remote)).into_owned();
    assert!(
        reply.starts_with("-DENIED Redis is running in protected mode because"),
        "{reply}"
    );
    assert!(reply.ends_with("from the outside.\r\n"), "{reply}");
}

#[test]
fn with_a_ca_but_no_tls_auth_clients_certificates_are_optional_but_checked() {
    let pki = Pki::new();
    let server = Running::start(|c| {
        pki.configure(c);
        c.security.tls_ca_cert_path = Some(pki.path("ca.pem"));
    });
    let addr = server.tls_addr();
    let ping = |id: Option<&Identity>| -> redis::RedisResult<String> {
        let mut conn = pki.client(addr, None, id).get_connection()?;
        redis::cmd("PING").query(&mut conn)
    };
    assert_eq!(ping(None).unwrap(), "PONG", "no certificate");
    assert_eq!(
        ping(Some(&pki.issue(&["client"], None))).unwrap(),
        "PONG",
        "a valid certificate"
    );
    let expired = pki.issue(&["client"], Some(()));
    assert!(
        ping(Some(&expired)).is_err(),
        "a presented certificate is checked"
    );
}

#[test]
fn a_stalled_handshake_is_closed_after_the_timeout_and_frees_its_slot() {
    let pki = Pki::new();
    let server = Running::start(|c| {
        pki.configure(c);
        c.security.tls_handshake_timeout = 1;
        c.security.tls_max_handshakes = 1;
    });
    let addr = server.tls_addr();
    let mut silent = TcpStream::connect(addr).unwrap();
    assert!(closed_without_reply(&mut silent), "closed by the server");
    let mut conn = pki.client(addr, None, None).get_connection().unwrap();
    let pong: String = redis::cmd("PING").query(&mut conn).unwrap();
    assert_eq!(pong, "PONG", "the slot is free again");
    assert_eq!(info_field(&mut conn, "tls_handshake_failures"), 1);
}
