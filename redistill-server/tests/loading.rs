//! Loading the snapshot while serving, as Redis does: the port answers at once, commands
//! that need the data get `-LOADING`, those Redis flags `loading` run, INFO persistence and
//! `/health` show the progress, and nothing is saved over a snapshot not (fully) loaded.

mod common;

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use common::{PATIENCE, exchange, info, wait_for_within};
use redistill_persist::SnapshotWriter;
use redistill_server::Server;
use redistill_server::config::Config;

const LOADING: &[u8] = b"-LOADING Redis is loading the dataset in memory\r\n";

/// Writes a snapshot of `keys` strings `k<i>` = `v<i>` in db 0; returns its size.
fn write_snapshot(path: &Path, keys: u64) -> u64 {
    let file = BufWriter::with_capacity(1 << 20, File::create(path).expect("create"));
    let mut w = SnapshotWriter::new(file, 0).expect("header");
    for i in 0..keys {
        w.write_string(
            0,
            format!("k{i}").as_bytes(),
            None,
            format!("v{i}").as_bytes(),
        )
        .expect("record");
    }
    let (mut file, _) = w.finish().expect("finish");
    file.flush().expect("flush");
    std::fs::metadata(path).expect("metadata").len()
}

fn config(path: &Path) -> Config {
    let mut config = Config::default();
    config.server.port = 0;
    config.server.workers = 2;
    config.persistence.enabled = true;
    config.persistence.save_on_shutdown = true;
    config.persistence.snapshot_path = path.to_path_buf();
    config
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.local_addr()).expect("connects");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream
}

/// One HTTP GET; returns the status code and the body.
fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("health connects");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .expect("send");
    let mut all = String::new();
    s.read_to_string(&mut all).expect("response");
    let status = all
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    let body = all.split_once("\r\n\r\n").map(|(_, b)| b.to_owned());
    (status, body.unwrap_or_default())
}

#[test]
fn a_big_snapshot_loads_while_clients_are_told_loading() {
    const KEYS: u64 = 3_000_000;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.rsnap");
    let size = write_snapshot(&path, KEYS);
    let health_port = free_port();
    let mut cfg = config(&path);
    cfg.server.health_check_port = health_port;
    let server = Server::start_loading(cfg).expect("server starts");
    assert!(server.is_loading(), "the load runs after the port is bound");
    let mut s = connect(&server);

    // What Redis's table does not flag `loading` waits for the load (PING too, as in
    // Redis); INFO, CONFIG GET, CLIENT ... do not.
    exchange(&mut s, b"GET k1\r\n", LOADING);
    exchange(&mut s, b"DBSIZE\r\n", LOADING);
    exchange(&mut s, b"BGSAVE\r\n", LOADING);
    exchange(&mut s, b"PING\r\n", LOADING);
    exchange(&mut s, b"CLIENT SETNAME loader\r\n", b"+OK\r\n");
    exchange(
        &mut s,
        b"CONFIG GET maxmemory\r\n",
        b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
    // A transaction queueing one of them is aborted, as Redis does.
    exchange(&mut s, b"MULTI\r\n", b"+OK\r\n");
    exchange(&mut s, b"SET a 1\r\n", LOADING);
    exchange(
        &mut s,
        b"EXEC\r\n",
        b"-EXECABORT Transaction discarded because of previous errors.\r\n",
    );

    let fields = info(&mut s, "persistence");
    assert_eq!(fields["loading"], "1");
    assert_eq!(fields["async_loading"], "0");
    assert_eq!(fields["loading_total_bytes"], size.to_string());
    assert_eq!(fields["loading_rdb_used_mem"], "0");
    for field in [
        "loading_start_time",
        "loading_loaded_bytes",
        "loading_eta_seconds",
    ] {
        let n: u64 = fields[field].parse().expect("a number");
        if field == "loading_loaded_bytes" {
            assert!(n <= size);
        }
    }
    let perc: f64 = fields["loading_loaded_perc"].parse().expect("a percentage");
    assert!((0.0..=100.0).contains(&perc));
    assert!(fields["loading_loaded_perc"].contains('.'), "two decimals");

    let (status, body) = http_get(health_port, "/health");
    assert_eq!(status, 503, "not ready while loading: {body}");
    assert!(body.contains(r#""status":"loading""#), "{body}");
    assert!(body.contains(&format!(r#""total_bytes":{size}"#)), "{body}");

    // Then the data.
    wait_for_within(Duration::from_secs(300), "the load to end", || {
        (info(&mut s, "persistence")["loading"] == "0").then_some(())
    });
    assert_eq!(server.wait_loaded(), Ok(()));
    let fields = info(&mut s, "persistence");
    assert!(!fields.contains_key("loading_total_bytes"), "{fields:?}");
    assert_eq!(fields["rdb_last_load_keys_loaded"], KEYS.to_string());
    exchange(&mut s, b"DBSIZE\r\n", b":3000000\r\n");
    exchange(&mut s, b"GET k2999999\r\n", b"$8\r\nv2999999\r\n");
    let (status, body) = http_get(health_port, "/health");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""status":"ok""#), "{body}");
    server.shutdown();
}

#[test]
fn a_shutdown_while_loading_stops_the_load_and_saves_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.rsnap");
    write_snapshot(&path, 2_000_000);
    let before = std::fs::read(&path).expect("read");
    let server = Server::start_loading(config(&path)).expect("server starts");
    let mut s = connect(&server);
    exchange(&mut s, b"GET k1\r\n", LOADING);
    // SHUTDOWN runs while loading (Redis flags it `loading`) and never saves then.
    s.write_all(b"SHUTDOWN SAVE\r\n").expect("send");
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("closed");
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    server.wait_for_shutdown_request();
    assert!(server.prepare_shutdown());
    server.shutdown();
    assert!(
        std::fs::read(&path).expect("read") == before,
        "the snapshot is left as it was"
    );
}

#[test]
fn a_damaged_snapshot_fails_the_load_and_is_left_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cut.rsnap");
    let size = write_snapshot(&path, 10_000);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes.truncate(usize::try_from(size / 2).expect("small"));
    std::fs::write(&path, &bytes).expect("write");
    let server = Server::start_loading(config(&path)).expect("server starts");
    let error = server.wait_loaded().expect_err("the load fails");
    assert!(error.contains("cut.rsnap"), "{error}");
    assert_eq!(server.load_failure().as_deref(), Some(error.as_str()));
    // The failure asks for a shutdown; until then the partial keyspace is not served.
    server.wait_for_shutdown_request();
    let mut s = connect(&server);
    exchange(&mut s, b"GET k1\r\n", LOADING);
    assert!(
        server.prepare_shutdown(),
        "nothing to save, nothing to fail"
    );
    server.shutdown();
    assert!(
        std::fs::read(&path).expect("read") == bytes,
        "left as it was"
    );
}

#[test]
fn without_a_snapshot_the_server_is_ready_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start_loading(config(&dir.path().join("none.rsnap"))).expect("starts");
    assert_eq!(server.wait_loaded(), Ok(()));
    assert!(!server.is_loading());
    let mut s = connect(&server);
    exchange(&mut s, b"DBSIZE\r\n", b":0\r\n");
    assert_eq!(info(&mut s, "persistence")["loading"], "0");
    server.shutdown();
}
