//! The HTTP health endpoint over real sockets: `/health` JSON and `/metrics` Prometheus text
//! after known activity, error statuses, bind semantics, and clients that misbehave (garbage,
//! slowloris, too many connections) without stopping others from being answered.

mod common;

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::Instant;

use common::{PATIENCE, exchange, info, wait_for, wait_until};
use proptest::prelude::*;
use redistill_server::Server;
use redistill_server::config::Config;

/// A server with the health endpoint on, stopped when dropped.
struct HealthServer {
    server: Option<Server>,
    addr: SocketAddr,
    health: SocketAddr,
}

impl HealthServer {
    fn start() -> Self {
        Self::with_config(|_| {})
    }

    /// `health_check_port` 0 turns the endpoint off, so a free port is found first; another
    /// process may take it in between, hence the retries.
    fn with_config(change: impl Fn(&mut Config)) -> Self {
        let mut last_error = None;
        for _ in 0..10 {
            let free = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut config = Config::default();
            config.server.port = 0;
            config.server.workers = 2;
            config.server.health_check_port = free;
            change(&mut config);
            match Server::start(config) {
                Ok(server) => {
                    let health = server.health_addr().expect("the endpoint is on");
                    return HealthServer {
                        addr: server.local_addr(),
                        health,
                        server: Some(server),
                    };
                }
                Err(e) => last_error = Some(e),
            }
        }
        panic!("cannot start: {last_error:?}");
    }

    fn raw(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connects");
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        stream
    }

    fn http(&self) -> TcpStream {
        let stream = TcpStream::connect(self.health).expect("connects");
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        stream
    }

    /// Sends `request` whole and reads the response until the server closes.
    fn request(&self, request: &[u8]) -> Response {
        let mut s = self.http();
        s.write_all(request).expect("send");
        Response::read(&mut s)
    }

    fn get(&self, path: &str) -> Response {
        self.request(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
    }
}

impl Drop for HealthServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    /// Header names lower-cased.
    headers: BTreeMap<String, String>,
    body: String,
}

impl Response {
    fn read(s: &mut TcpStream) -> Response {
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read until close");
        Response::parse(&raw)
    }

    fn parse(raw: &[u8]) -> Response {
        let text = String::from_utf8(raw.to_vec()).expect("utf-8 response");
        let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().expect("status line");
        let mut parts = status_line.splitn(3, ' ');
        assert_eq!(parts.next(), Some("HTTP/1.1"), "{status_line}");
        let status = parts
            .next()
            .and_then(|s| s.parse().ok())
            .expect("status code");
        let headers = lines
            .map(|l| {
                let (name, value) = l.split_once(": ").expect("header line");
                (name.to_ascii_lowercase(), value.to_owned())
            })
            .collect();
        let response = Response {
            status,
            headers,
            body: body.to_owned(),
        };
        assert_eq!(response.header("connection"), "close");
        response
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {self:?}"))
    }

    fn json(&self) -> serde_json::Value {
        assert_eq!(self.status, 200, "{self:?}");
        assert_eq!(self.header("content-type"), "application/json");
        assert_eq!(self.header("content-length"), self.body.len().to_string());
        serde_json::from_str(&self.body).expect("valid JSON")
    }
}

/// Runs a fixed workload over one raw connection: 6 SETs (5 in db 0, 1 in db 2), a hit
/// and a miss, an error and SELECTs; 11 commands in all.
fn workload(server: &HealthServer) -> TcpStream {
    let mut s = server.raw();
    for i in 0..5 {
        exchange(&mut s, format!("SET k{i} v{i}\r\n").as_bytes(), b"+OK\r\n");
    }
    exchange(&mut s, b"GET k1\r\n", b"$2\r\nv1\r\n");
    exchange(&mut s, b"GET missing\r\n", b"$-1\r\n");
    exchange(
        &mut s,
        b"INCR k1\r\n",
        b"-ERR value is not an integer or out of range\r\n",
    );
    exchange(&mut s, b"SELECT 2\r\n", b"+OK\r\n");
    exchange(&mut s, b"SET other 1\r\n", b"+OK\r\n");
    exchange(&mut s, b"SELECT 0\r\n", b"+OK\r\n");
    s
}

const WORKLOAD_COMMANDS: u64 = 11;

#[test]
fn health_reports_the_servers_figures() {
    let server = HealthServer::start();
    let _client = workload(&server);
    let health = server.get("/health").json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["keys"], 6);
    assert_eq!(health["db_keys"]["db0"], 5);
    assert_eq!(health["db_keys"]["db2"], 1);
    assert_eq!(health["connected_clients"], 1);
    assert_eq!(health["total_commands_processed"], WORKLOAD_COMMANDS);
    assert!(health["used_memory"].as_u64().expect("number") > 0);
    assert!(health["used_memory_rss"].as_u64().expect("number") > 0);
    assert!(health["uptime_in_seconds"].is_u64());
    assert_eq!(health["redis_version"], redistill_server::REDIS_VERSION);
    assert!(health["last_save"]["status"].is_null());
    assert!(health["last_save"]["unix_time"].is_null());
}

#[test]
fn health_and_metrics_report_the_last_save() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("dump.rdst");
    let server = HealthServer::with_config(|c| c.persistence.snapshot_path = path.clone());
    let mut s = server.raw();
    exchange(&mut s, b"SET k v\r\nSAVE\r\n", b"+OK\r\n+OK\r\n");
    exchange(&mut s, b"LASTSAVE\r\n", b":");
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        s.read_exact(&mut byte).expect("LASTSAVE reply");
        line.push(byte[0]);
    }
    let lastsave: u64 = String::from_utf8_lossy(&line)
        .trim()
        .parse()
        .expect("a time");
    let health = server.get("/health").json();
    assert_eq!(health["last_save"]["status"], "ok");
    assert_eq!(health["last_save"]["unix_time"], lastsave);
    let metrics = parse_metrics(&server.get("/metrics").body);
    assert_eq!(value(&metrics, "redistill_last_save_ok", None), 1.0);
    assert_eq!(
        value(&metrics, "redistill_last_save_timestamp_seconds", None),
        lastsave as f64
    );
}

/// A failed save turns `status` to `"error"`, with the save's own status `"err"` as INFO
/// spells it; the next good save turns it back.
#[test]
fn health_status_is_error_while_the_last_save_failed() {
    let dir = tempfile::tempdir().expect("a temp dir");
    // The snapshot's parent is a plain file, so no temporary file can be created there.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, b"not a directory").expect("write");
    let path = blocker.join("dump.rdst");
    let server = HealthServer::with_config(|c| c.persistence.snapshot_path = path.clone());
    let mut s = server.raw();
    exchange(&mut s, b"SET k v\r\nSAVE\r\n", b"+OK\r\n-ERR\r\n");
    let health = server.get("/health").json();
    assert_eq!(health["status"], "error", "{health}");
    assert_eq!(health["last_save"]["status"], "err");
    let metrics = parse_metrics(&server.get("/metrics").body);
    assert_eq!(value(&metrics, "redistill_last_save_ok", None), 0.0);

    std::fs::remove_file(&blocker).expect("remove");
    std::fs::create_dir(&blocker).expect("mkdir");
    exchange(&mut s, b"SAVE\r\n", b"+OK\r\n");
    let health = server.get("/health").json();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["last_save"]["status"], "ok");
}

/// One sample line of the text format: name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses a Prometheus text page, checking that every sample's family was announced with
/// `# HELP` and `# TYPE` first, counters end in `_total`, and no family repeats.
fn parse_metrics(text: &str) -> Vec<Sample> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helped = Vec::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().expect("name");
            assert!(!helped.contains(&name.to_owned()), "HELP twice for {name}");
            helped.push(name.to_owned());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("name and type");
            assert!(helped.last().is_some_and(|h| h == name), "TYPE before HELP");
            assert!(matches!(kind, "counter" | "gauge"), "{line}");
            if kind == "counter" {
                assert!(name.ends_with("_total"), "counter {name}");
            }
            assert!(types.insert(name.to_owned(), kind.to_owned()).is_none());
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "line {line:?}");
        let (series, value) = line.rsplit_once(' ').expect("series and value");
        let value: f64 = value.parse().expect("numeric value");
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => {
                let labels = labels.strip_suffix('}').expect("closing brace");
                let labels = labels
                    .split(',')
                    .map(|pair| {
                        let (k, v) = pair.split_once('=').expect("label pair");
                        let v = v
                            .strip_prefix('"')
                            .and_then(|v| v.strip_suffix('"'))
                            .expect("quoted");
                        (k.to_owned(), v.to_owned())
                    })
                    .collect();
                (name, labels)
            }
            None => (series, BTreeMap::new()),
        };
        assert!(
            name.starts_with("redistill_") || name.starts_with("redis_"),
            "{name}"
        );
        assert!(types.contains_key(name), "sample {name} without # TYPE");
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

fn value(samples: &[Sample], name: &str, label: Option<(&str, &str)>) -> f64 {
    samples
        .iter()
        .find(|s| {
            s.name == name && label.is_none_or(|(k, v)| s.labels.get(k).is_some_and(|l| l == v))
        })
        .unwrap_or_else(|| panic!("no sample {name} {label:?}"))
        .value
}

#[test]
fn metrics_are_prometheus_text_matching_info() {
    let server = HealthServer::start();
    let mut client = workload(&server);
    let response = server.get("/metrics");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let samples = parse_metrics(&response.body);
    let v = |name: &str| value(&samples, name, None);
    assert_eq!(v("redistill_commands_processed_total"), 11.0);
    assert_eq!(v("redistill_connected_clients"), 1.0);
    assert_eq!(v("redistill_connections_received_total"), 1.0);
    assert_eq!(v("redistill_rejected_connections_total"), 0.0);
    assert_eq!(v("redistill_keyspace_hits_total"), 1.0);
    assert_eq!(v("redistill_keyspace_misses_total"), 1.0);
    assert_eq!(v("redistill_expired_keys_total"), 0.0);
    assert_eq!(v("redistill_evicted_keys_total"), 0.0);
    assert_eq!(v("redistill_eviction_seconds_total"), 0.0);
    assert_eq!(v("redistill_eviction_exceeded_seconds_total"), 0.0);
    assert_eq!(v("redistill_keys"), 6.0);
    assert_eq!(v("redistill_max_clients"), 10_000.0);
    assert!(v("redistill_used_memory_bytes") > 0.0);
    assert!(v("redistill_used_memory_rss_bytes") > 0.0);
    assert!(v("redistill_uptime_seconds") >= 0.0);
    let db = |n: &str| value(&samples, "redistill_db_keys", Some(("db", n)));
    assert_eq!((db("db0"), db("db2")), (5.0, 1.0));
    let cmd = |name: &str, c: &str| value(&samples, name, Some(("cmd", c)));
    assert_eq!(cmd("redistill_commands_total", "set"), 6.0);
    assert_eq!(cmd("redistill_commands_total", "get"), 2.0);
    assert_eq!(cmd("redistill_commands_total", "select"), 2.0);
    assert_eq!(cmd("redistill_commands_failed_calls_total", "incr"), 1.0);
    assert!(cmd("redistill_commands_duration_seconds_total", "set") >= 0.0);
    assert!(
        !samples
            .iter()
            .any(|s| s.labels.get("cmd").is_some_and(|c| c == "hset")),
        "commands never called are left out, as in INFO commandstats"
    );

    // INFO reports the same figures under Redis's field names.
    let info = info(&mut client, "everything");
    let field = |name: &str| -> f64 {
        info.get(name)
            .unwrap_or_else(|| panic!("INFO lacks {name}"))
            .parse()
            .expect("number")
    };
    for (info_name, metric) in [
        ("connected_clients", "redistill_connected_clients"),
        (
            "total_connections_received",
            "redistill_connections_received_total",
        ),
        (
            "rejected_connections",
            "redistill_rejected_connections_total",
        ),
        ("keyspace_hits", "redistill_keyspace_hits_total"),
        ("keyspace_misses", "redistill_keyspace_misses_total"),
        ("expired_keys", "redistill_expired_keys_total"),
        ("evicted_keys", "redistill_evicted_keys_total"),
        ("maxclients", "redistill_max_clients"),
    ] {
        assert_eq!(field(info_name), v(metric), "{info_name}");
    }
    assert!(field("total_commands_processed") >= 11.0);
    assert!(field("used_memory") > 0.0 && field("used_memory_rss") > 0.0);
    assert!(field("uptime_in_seconds") >= 0.0);
    assert!(info["cmdstat_set"].starts_with("calls=6,usec="));
    assert!(info["cmdstat_incr"].ends_with("rejected_calls=0,failed_calls=1"));
    assert!(info["db0"].starts_with("keys=5,expires=0"));
}

#[test]
fn db_avg_ttl_is_info_avg_ttl_in_seconds() {
    let server = HealthServer::start();
    let mut s = server.raw();
    let set_at = Instant::now();
    for i in 0..100 {
        exchange(
            &mut s,
            format!("SET t{i} v EX 1000\r\n").as_bytes(),
            b"+OK\r\n",
        );
    }
    // The expiry cycle samples ten times a second; poll until it has.
    let metric = wait_for("the expiry cycle to sample avg_ttl", || {
        let samples = parse_metrics(&server.get("/metrics").body);
        let avg = value(
            &samples,
            "redistill_db_avg_ttl_seconds",
            Some(("db", "db0")),
        );
        (avg > 0.0).then_some(avg)
    });
    let info = info(&mut s, "keyspace");
    let avg_ms: f64 = info["db0"]
        .rsplit_once("avg_ttl=")
        .expect("avg_ttl")
        .1
        .parse()
        .unwrap();
    // Both are what is left of a 1000-second TTL, no less than has passed since the SETs
    // (less the 2.5 s Redis's running average may round down by): one in seconds, the
    // other in milliseconds.
    let least = 1000.0 - set_at.elapsed().as_secs_f64() - 2.5;
    assert!(
        (least..=1000.0).contains(&metric),
        "{metric} s, at least {least}"
    );
    assert!(
        (least..=1000.0).contains(&(avg_ms / 1000.0)),
        "{avg_ms} ms, at least {least} s"
    );
}

#[test]
fn head_answers_headers_only_and_queries_are_ignored() {
    let server = HealthServer::start();
    let full = server.get("/health?verbose=1");
    assert_eq!(full.status, 200);
    let head = server.request(b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), "application/json");
    assert!(head.body.is_empty());
    assert!(
        head.header("content-length")
            .parse::<usize>()
            .expect("length")
            > 0
    );
    let http10 = server.request(b"GET /metrics HTTP/1.0\r\n\r\n");
    assert_eq!(http10.status, 200);
}

#[test]
fn unknown_paths_other_methods_and_malformed_requests_get_errors() {
    let server = HealthServer::start();
    assert_eq!(server.get("/").status, 404);
    assert_eq!(server.get("/healthz").status, 404);
    assert_eq!(server.get("/health/extra").status, 404);
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let r = server
            .request(format!("{method} /health HTTP/1.1\r\nContent-Length: 0\r\n\r\n").as_bytes());
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), "GET, HEAD");
    }
    for bad in [
        &b"GET\r\n\r\n"[..],
        b"GET /health HTTP/9.9\r\n\r\n",
        b"GET /health HTTP/1.1\r\nNo colon here\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        b"*1\r\n$4\r\nPING\r\n",
    ] {
        assert_eq!(server.request(bad).status, 400, "{bad:?}");
    }
    // A head that stops short, then the client closes its side: still answered.
    let mut half = server.http();
    half.write_all(b"GET /health HTTP/1.1\r\nHost:")
        .expect("send");
    half.shutdown(Shutdown::Write).expect("half close");
    assert_eq!(Response::read(&mut half).status, 400);
    // Too large a head: 8 KiB is the cap.
    let big = format!(
        "GET /health HTTP/1.1\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(9 * 1024)
    );
    let mut s = server.http();
    // The server may close before taking all of it; the answer is still there to read.
    let _ = s.write_all(big.as_bytes());
    assert_eq!(Response::read(&mut s).status, 431);
    let many: String = (0..40).map(|i| format!("X-{i}: y\r\n")).collect();
    let r = server.request(format!("GET /health HTTP/1.1\r\n{many}\r\n").as_bytes());
    assert_eq!(r.status, 431);
    // A connection that sends nothing and closes gets nothing.
    let mut silent = server.http();
    silent.shutdown(Shutdown::Write).expect("half close");
    let mut rest = Vec::new();
    silent.read_to_end(&mut rest).expect("closed");
    assert!(rest.is_empty());
    assert_eq!(server.get("/health").status, 200);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever bytes arrive, the answer is a well-formed HTTP response (or nothing for an
    /// empty request), and the endpoint keeps serving.
    #[test]
    fn garbage_gets_an_http_error_never_a_crash(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..2048),
            "[ -~\r\n]{0,512}".prop_map(String::into_bytes),
            "(GET|HEAD|POST) /[a-z?=]{0,12} HTTP/1\\.[01]\r\n([A-Za-z-]{1,8}: [ -~]{0,16}\r\n){0,4}\r\n"
                .prop_map(String::into_bytes),
        ]
    ) {
        let server = shared_server();
        let mut s = server.http();
        let _ = s.write_all(&bytes);
        let _ = s.shutdown(Shutdown::Write);
        let mut raw = Vec::new();
        // A reset after the answer is acceptable: what was read is still checked.
        let _ = s.read_to_end(&mut raw);
        if bytes.is_empty() {
            prop_assert!(raw.is_empty());
        } else {
            let r = Response::parse(&raw);
            prop_assert!(matches!(r.status, 200 | 400 | 404 | 405 | 431), "{:?}", r);
        }
        prop_assert_eq!(server.get("/health").status, 200);
    }
}

/// One server for every proptest case: starting one per case would dominate the run.
fn shared_server() -> &'static HealthServer {
    static SERVER: std::sync::OnceLock<HealthServer> = std::sync::OnceLock::new();
    SERVER.get_or_init(HealthServer::start)
}

/// Clients that send nothing, stall mid-request, or dribble a request a byte at a time do
/// not hold up anyone else: with all of them open, `GET /health` is answered before any
/// of them is cut off. They are themselves cut off with `408` once their deadline passes,
/// which bytes trickled in the meantime do not extend.
#[test]
fn slowloris_does_not_delay_other_clients() {
    let server = HealthServer::start();
    let mut silent: Vec<TcpStream> = (0..8).map(|_| server.http()).collect();
    let mut slow = server.http();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .expect("send");
    let mut slow_bytes = server.http();
    slow_bytes.write_all(b"G").expect("send");
    let mut dribblers: Vec<TcpStream> = (0..4).map(|_| server.http()).collect();
    for d in &mut dribblers {
        d.write_all(b"GET /health HTTP/1.1\r\nX-Dribble: ")
            .expect("send");
    }
    let mut served_beside_stalled = 0;
    // Each dribbler sends one more byte of a header that never ends every few milliseconds,
    // far more often than its deadline: bytes that extended the deadline would keep it
    // open until this wait gives up.
    wait_until("every stalled client to be cut off", || {
        for d in dribblers.iter_mut().filter(|d| !answered(d)) {
            // A write racing the cut-off may fail; the answer is still there to read.
            let _ = d.write_all(b"a");
        }
        assert_eq!(server.get("/health").json()["status"], "ok");
        let stalled = || silent.iter().chain([&slow, &slow_bytes]).chain(&dribblers);
        if !stalled().any(answered) {
            served_beside_stalled += 1;
        }
        stalled().all(answered)
    });
    assert!(
        served_beside_stalled > 0,
        "GET /health was answered only once the stalled clients were cut off"
    );
    for s in silent
        .iter_mut()
        .chain([&mut slow, &mut slow_bytes])
        .chain(&mut dribblers)
    {
        let mut raw = Vec::new();
        // Bytes sent after the cut-off may have the close come as a reset.
        let _ = s.read_to_end(&mut raw);
        assert_eq!(Response::parse(&raw).status, 408);
    }
}

/// Whether the server has answered `stream` or closed it, without reading what it sent.
fn answered(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).expect("nonblocking");
    let seen = stream.peek(&mut [0u8; 1]);
    stream.set_nonblocking(false).expect("blocking");
    !matches!(seen, Err(e) if e.kind() == ErrorKind::WouldBlock)
}

/// Past the cap on open HTTP connections, new ones are answered `503` and closed; the
/// endpoint serves again once connections close.
#[test]
fn connections_over_the_cap_get_503() {
    let server = HealthServer::start();
    // The cap is 64. Each stalled connection is known to be adopted once a later
    // connection was answered, since the endpoint takes them in order.
    let mut stalled: Vec<TcpStream> = (0..64).map(|_| server.http()).collect();
    // The answer comes on accept, before any request.
    let over = Response::read(&mut server.http());
    assert_eq!(over.status, 503);
    assert_eq!(over.body, "too many connections\n");
    for s in &mut stalled {
        let _ = s.shutdown(Shutdown::Both);
    }
    drop(stalled);
    // The endpoint sees those closes in its own time.
    wait_until(
        "the endpoint to serve again after connections closed",
        || server.get("/health").status == 200,
    );
}

#[test]
fn endpoint_listens_on_the_servers_bind_addresses_only() {
    // All of 127.0.0.0/8 is loopback on Linux.
    let server = HealthServer::with_config(|c| c.server.bind = vec![[127, 0, 0, 2].into()]);
    assert_eq!(
        server.health.ip(),
        "127.0.0.2".parse::<std::net::IpAddr>().unwrap()
    );
    assert_eq!(server.get("/health").status, 200);
    let elsewhere = TcpStream::connect(("127.0.0.1", server.health.port()));
    assert_eq!(
        elsewhere.expect_err("not bound there").kind(),
        ErrorKind::ConnectionRefused
    );
}

#[test]
fn off_by_default_and_a_taken_port_fails_the_start() {
    let mut config = Config::default();
    config.server.port = 0;
    config.server.workers = 1;
    let server = Server::start(config.clone()).expect("starts");
    assert_eq!(server.health_addr(), None);
    server.shutdown();

    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    config.server.health_check_port = taken.local_addr().expect("addr").port();
    let err = Server::start(config).err().expect("the port is taken");
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
}

#[test]
fn shutdown_stops_the_endpoint() {
    let mut server = HealthServer::start();
    let health = server.health;
    let mut idle = server.http();
    assert_eq!(server.get("/health").status, 200);
    server.server.take().expect("running").shutdown();
    assert!(TcpStream::connect(health).is_err(), "still listening");
    // An open connection is closed with the endpoint.
    let mut rest = Vec::new();
    let _ = idle.read_to_end(&mut rest);
    assert!(rest.is_empty());
}
