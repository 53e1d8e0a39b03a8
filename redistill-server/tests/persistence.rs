//! Snapshots end to end: SAVE, BGSAVE (also inside EXEC), LASTSAVE, INFO persistence,
//! save points, SHUTDOWN SAVE/NOSAVE, loading at start (expired keys dropped, corrupt files
//! refused or moved aside), write errors injected through the snapshot sink, and a server
//! process killed with SIGKILL in the middle of a BGSAVE, over real sockets. Replies and
//! error texts are those of Redis 7.0.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use redis::Commands;
use redistill_persist::{PersistError, SnapshotWriter, save_snapshot};
use redistill_server::config::Config;
use redistill_server::{FileSink, Server, SnapshotFile, SnapshotSink};

/// A server whose snapshot lives at `path`, stopped when dropped.
struct Node {
    server: Option<Server>,
    addr: SocketAddr,
}

fn config(path: &Path, enabled: bool) -> Config {
    let mut config = Config::default();
    config.server.port = 0;
    config.server.workers = 2;
    config.persistence.enabled = enabled;
    config.persistence.snapshot_path = path.to_path_buf();
    config
}

impl Node {
    fn start(config: Config) -> Node {
        let server = Server::start(config).expect("server starts");
        let addr = server.local_addr();
        Node {
            server: Some(server),
            addr,
        }
    }

    fn enabled(path: &Path) -> Node {
        Node::start(config(path, true))
    }

    fn server(&self) -> &Server {
        self.server.as_ref().expect("running")
    }

    fn client(&self) -> redis::Connection {
        redis::Client::open(format!("redis://{}/", self.addr))
            .expect("url")
            .get_connection()
            .expect("connects")
    }

    fn raw(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connects");
        stream
            .set_read_timeout(Some(common::PATIENCE))
            .expect("timeout");
        stream
    }

    fn info(&self) -> String {
        let mut c = self.client();
        redis::cmd("INFO")
            .arg("persistence")
            .query(&mut c)
            .expect("info")
    }

    fn field(&self, name: &str) -> String {
        let info = self.info();
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("{name} in {info}"))
            .to_owned()
    }

    /// Waits until no save runs: BGSAVE's outcome is then in INFO.
    fn wait_for_bgsave(&self) {
        self.wait_for_field("rdb_bgsave_in_progress", "0", "the running save to end");
    }

    /// Waits until INFO's `name` reads `value`; `what` says what that means, for the
    /// failure message.
    fn wait_for_field(&self, name: &str, value: &str, what: &str) {
        common::wait_until(&format!("{what} ({name}:{value})"), || {
            self.field(name) == value
        });
    }

    /// A server whose saves all pass through `gate`.
    fn gated(config: Config, gate: &Gate) -> Node {
        let server = Server::start_with_snapshot_sink(config, Arc::new(gate.clone()))
            .expect("server starts");
        Node {
            addr: server.local_addr(),
            server: Some(server),
        }
    }

    /// Writes keys `k0`..`k39`, closes `gate` and starts a BGSAVE: it stays in progress
    /// until the gate opens.
    fn start_held_bgsave(&self, raw: &mut TcpStream, gate: &Gate) {
        let mut c = self.client();
        for i in 0..40 {
            let _: () = c.set(format!("k{i}"), i).expect("SET");
        }
        gate.close();
        exchange(raw, &resp(&["BGSAVE"]), "+Background saving started\r\n");
    }
}

/// A snapshot sink that holds every save at its start while it is closed, so that a save
/// stays in progress for as long as a test needs, however slow or fast the machine.
#[derive(Clone, Default)]
struct Gate(Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);

impl Gate {
    fn set_closed(&self, closed: bool) {
        let (lock, changed) = &*self.0;
        *lock.lock().expect("gate") = closed;
        changed.notify_all();
    }

    fn close(&self) {
        self.set_closed(true);
    }

    fn open(&self) {
        self.set_closed(false);
    }
}

impl SnapshotSink for Gate {
    fn create(&self, path: &Path) -> Result<Box<dyn SnapshotFile>, PersistError> {
        let (lock, changed) = &*self.0;
        let closed = lock.lock().expect("gate");
        drop(changed.wait_while(closed, |closed| *closed).expect("gate"));
        FileSink.create(path)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
    }
}

/// Sends one request and checks the exact reply bytes.
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

fn resp(args: &[&str]) -> String {
    let mut out = format!("*{}\r\n", args.len());
    for a in args {
        out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    out
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

#[test]
fn every_type_and_ttl_survives_save_and_restart() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    {
        let node = Node::enabled(&path);
        let mut c = node.client();
        let _: () = c.set("string", "hello world").unwrap();
        let _: () = c.set("int", "-12345").unwrap();
        let _: i64 = c.incr("counter", 41).unwrap();
        let _: () = c.set("binary", &b"\x00\xff\r\n"[..]).unwrap();
        let _: () = c
            .hset_multiple("hash", &[("f1", "v1"), ("f2", "2")])
            .unwrap();
        let _: () = c.pset_ex("volatile", "soon", 500_000).unwrap();
        let _: usize = c
            .rpush("list", &[&b"a"[..], b"", b"\x00\xff", b"12"])
            .unwrap();
        let _: () = redis::cmd("SELECT").arg(5).query(&mut c).unwrap();
        let _: () = c.set("in-db-5", "x").unwrap();
        let _: bool = c.expire("in-db-5", 1_000).unwrap();
        let mut raw = node.raw();
        exchange(&mut raw, &resp(&["SAVE"]), "+OK\r\n");
        assert_eq!(node.field("rdb_changes_since_last_save"), "0");
        assert_eq!(node.field("rdb_last_bgsave_status"), "ok");
    }
    assert!(path.exists());
    let node = Node::enabled(&path);
    let mut c = node.client();
    assert_eq!(c.get::<_, String>("string").unwrap(), "hello world");
    assert_eq!(c.get::<_, i64>("int").unwrap(), -12345);
    assert_eq!(c.get::<_, i64>("counter").unwrap(), 41);
    assert_eq!(c.get::<_, Vec<u8>>("binary").unwrap(), b"\x00\xff\r\n");
    let encoding: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("counter")
        .query(&mut c)
        .unwrap();
    assert_eq!(encoding, "int");
    let mut hash: Vec<(String, String)> = c.hgetall("hash").unwrap();
    hash.sort();
    assert_eq!(
        hash,
        [("f1".into(), "v1".into()), ("f2".into(), "2".into())]
    );
    let list: Vec<Vec<u8>> = c.lrange("list", 0, -1).unwrap();
    assert_eq!(list, [&b"a"[..], b"", b"\x00\xff", b"12"]);
    let pttl: i64 = c.pttl("volatile").unwrap();
    assert!((400_000..=500_000).contains(&pttl), "{pttl}");
    assert_eq!(c.ttl::<_, i64>("string").unwrap(), -1);
    let _: () = redis::cmd("SELECT").arg(5).query(&mut c).unwrap();
    assert_eq!(c.get::<_, String>("in-db-5").unwrap(), "x");
    let ttl: i64 = c.ttl("in-db-5").unwrap();
    assert!((900..=1_000).contains(&ttl), "{ttl}");
    assert_eq!(node.field("rdb_last_load_keys_loaded"), "8");
    assert_eq!(node.field("rdb_changes_since_last_save"), "0");
}

#[test]
fn sets_of_every_encoding_survive_save_and_restart() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let big: Vec<String> = (0..1_000).map(|i| format!("member:{i}")).collect();
    let sets: Vec<(&str, Vec<Vec<u8>>, &str)> = vec![
        (
            "ints",
            vec![b"-3".to_vec(), b"7".to_vec(), b"100".to_vec()],
            "intset",
        ),
        (
            "small",
            vec![
                b"a".to_vec(),
                b"".to_vec(),
                b"\x00\xff".to_vec(),
                b"12".to_vec(),
            ],
            "listpack",
        ),
        (
            "big",
            big.iter().map(|m| m.as_bytes().to_vec()).collect(),
            "hashtable",
        ),
    ];
    {
        let node = Node::enabled(&path);
        let mut c = node.client();
        for (key, members, _) in &sets {
            let added: usize = c.sadd(*key, members).unwrap();
            assert_eq!(added, members.len());
        }
        let _: usize = c.sadd("volatile-set", "x").unwrap();
        let _: bool = c.pexpire("volatile-set", 500_000).unwrap();
        let mut raw = node.raw();
        exchange(&mut raw, &resp(&["SAVE"]), "+OK\r\n");
    }
    let node = Node::enabled(&path);
    let mut c = node.client();
    for (key, members, encoding) in &sets {
        let mut loaded: Vec<Vec<u8>> = c.smembers(*key).unwrap();
        loaded.sort();
        let mut expected = members.clone();
        expected.sort();
        assert_eq!(&loaded, &expected, "{key}");
        let found: String = redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg(*key)
            .query(&mut c)
            .unwrap();
        assert_eq!(&found, encoding, "{key}");
    }
    let pttl: i64 = c.pttl("volatile-set").unwrap();
    assert!((400_000..=500_000).contains(&pttl), "{pttl}");
    assert_eq!(node.field("rdb_last_load_keys_loaded"), "4");
}

#[test]
fn keys_expired_by_load_time_are_dropped() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    save_snapshot(&path, now_ms, |w| {
        w.write_string(0, b"live", Some(now_ms + 600_000), b"1")?;
        w.write_string(0, b"dead", Some(now_ms - 1), b"2")?;
        w.write_integer(0, b"forever", None, 3)?;
        Ok::<(), redistill_persist::PersistError>(())
    })
    .unwrap();
    let node = Node::enabled(&path);
    let mut c = node.client();
    assert_eq!(c.get::<_, Option<String>>("dead").unwrap(), None);
    assert_eq!(c.get::<_, i64>("live").unwrap(), 1);
    assert_eq!(c.get::<_, i64>("forever").unwrap(), 3);
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(dbsize, 2);
    assert_eq!(node.field("rdb_last_load_keys_loaded"), "2");
    assert_eq!(node.field("rdb_last_load_keys_expired"), "1");
}

/// A valid snapshot with a few keys, then cut short by `cut` bytes.
fn truncated_snapshot(path: &Path, cut: usize) {
    let mut writer = SnapshotWriter::new(Vec::new(), 0).expect("snapshot written");
    for i in 0..100u32 {
        writer
            .write_string(0, format!("k{i}").as_bytes(), None, b"value")
            .expect("snapshot written");
    }
    let (bytes, _) = writer.finish().expect("snapshot written");
    std::fs::write(path, &bytes[..bytes.len() - cut]).expect("snapshot written");
}

#[test]
fn a_corrupt_snapshot_refuses_to_start_naming_file_and_offset() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    truncated_snapshot(&path, 7);
    let err = Server::start(config(&path, true))
        .err()
        .expect("refuses to start");
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("byte offset"), "{text}");
    assert!(text.contains("--start-empty-on-corrupt-snapshot"), "{text}");
    assert!(path.exists(), "the file is left for the operator");
}

#[test]
fn a_flipped_byte_anywhere_refuses_to_start_naming_file_and_offset() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    truncated_snapshot(&path, 0);
    let good = std::fs::read(&path).unwrap();
    // The header, the first record, the middle, the footer's checksum.
    for pos in [
        3,
        redistill_persist::HEADER_LEN + 9,
        good.len() / 2,
        good.len() - 1,
    ] {
        let mut damaged = good.clone();
        damaged[pos] ^= 0x20;
        std::fs::write(&path, &damaged).unwrap();
        let err = Server::start(config(&path, true))
            .err()
            .unwrap_or_else(|| panic!("a flip at {pos} went unnoticed"));
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains("byte offset"), "{text}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            damaged,
            "the file is left as it was"
        );
    }
}

#[test]
fn the_flag_starts_empty_and_moves_the_corrupt_file_aside() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    truncated_snapshot(&path, 1);
    let damaged = std::fs::read(&path).unwrap();
    let mut cfg = config(&path, true);
    cfg.persistence.start_empty_on_corrupt_snapshot = true;
    let node = Node::start(cfg);
    let mut c = node.client();
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(dbsize, 0, "a partial load is not kept");
    assert!(!path.exists());
    let aside: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("dump.rdst.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), damaged);
}

#[test]
fn a_failing_save_replies_err_keeps_serving_and_the_next_good_save_clears_it() {
    let dir = dir();
    // The snapshot's parent is a plain file, so no temporary file can be created there.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let path = blocker.join("dump.rdst");
    let node = Node::enabled(&path);
    let mut c = node.client();
    let _: () = c.set("k", "v").unwrap();
    let mut raw = node.raw();
    exchange(&mut raw, &resp(&["SAVE"]), "-ERR\r\n");
    assert_eq!(node.field("rdb_last_bgsave_status"), "err");
    exchange(
        &mut raw,
        &resp(&["BGSAVE"]),
        "+Background saving started\r\n",
    );
    node.wait_for_bgsave();
    assert_eq!(node.field("rdb_last_bgsave_status"), "err");
    assert_eq!(node.field("rdb_changes_since_last_save"), "1");
    let status = node.server().persistence_status();
    assert!(!status.last_save_ok);
    assert_eq!(status.saves, 2);
    // Still serving reads and writes.
    assert_eq!(c.get::<_, String>("k").unwrap(), "v");
    let _: () = c.set("k2", "v2").unwrap();

    std::fs::remove_file(&blocker).unwrap();
    std::fs::create_dir(&blocker).unwrap();
    exchange(
        &mut raw,
        &resp(&["BGSAVE"]),
        "+Background saving started\r\n",
    );
    node.wait_for_bgsave();
    assert_eq!(node.field("rdb_last_bgsave_status"), "ok");
    assert_eq!(node.field("rdb_changes_since_last_save"), "0");
    assert!(node.server().persistence_status().last_save_ok);
    assert!(path.exists());
}

/// Writes through the server's own file sink, but every write fails while `failing` is set:
/// the error comes from inside the snapshot writer, as a full disk's would.
struct FlakySink {
    failing: Arc<AtomicBool>,
}

struct FlakyFile {
    inner: Box<dyn SnapshotFile>,
    failing: Arc<AtomicBool>,
}

impl SnapshotSink for FlakySink {
    fn create(&self, path: &Path) -> Result<Box<dyn SnapshotFile>, PersistError> {
        Ok(Box::new(FlakyFile {
            inner: FileSink.create(path)?,
            failing: Arc::clone(&self.failing),
        }))
    }
}

impl Write for FlakyFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("injected write error"));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl SnapshotFile for FlakyFile {
    fn commit(self: Box<Self>) -> Result<(), PersistError> {
        self.inner.commit()
    }
}

/// `GET /health` on `addr`, as JSON.
fn health(addr: SocketAddr) -> serde_json::Value {
    let mut s = TcpStream::connect(addr).expect("connects");
    s.set_read_timeout(Some(common::PATIENCE)).expect("timeout");
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("request");
    let mut response = String::new();
    s.read_to_string(&mut response).expect("response");
    let (_, body) = response.split_once("\r\n\r\n").expect("a body");
    serde_json::from_str(body).expect("JSON")
}

#[test]
fn an_injected_write_error_fails_save_and_bgsave_until_a_good_save_clears_it() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let failing = Arc::new(AtomicBool::new(false));
    // The health port must be named; another process may take a free one first.
    let server = (0..10)
        .find_map(|_| {
            let mut cfg = config(&path, true);
            cfg.server.health_check_port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let sink = FlakySink {
                failing: Arc::clone(&failing),
            };
            Server::start_with_snapshot_sink(cfg, Arc::new(sink)).ok()
        })
        .expect("server starts");
    let health_addr = server.health_addr().expect("health endpoint on");
    let node = Node {
        addr: server.local_addr(),
        server: Some(server),
    };
    let mut c = node.client();
    let mut raw = node.raw();
    let _: () = c.set("k", "v").unwrap();
    exchange(&mut raw, &resp(&["SAVE"]), "+OK\r\n");
    let good = std::fs::read(&path).unwrap();

    failing.store(true, Ordering::SeqCst);
    let _: () = c.set("k2", "v2").unwrap();
    exchange(&mut raw, &resp(&["SAVE"]), "-ERR\r\n");
    assert_eq!(node.field("rdb_last_bgsave_status"), "err");
    assert_eq!(health(health_addr)["last_save"]["status"], "err");
    exchange(
        &mut raw,
        &resp(&["BGSAVE"]),
        "+Background saving started\r\n",
    );
    node.wait_for_bgsave();
    assert_eq!(node.field("rdb_last_bgsave_status"), "err");
    assert_eq!(node.field("rdb_changes_since_last_save"), "1");
    assert!(!node.server().persistence_status().last_save_ok);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        good,
        "the last good snapshot stays"
    );
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 1, "failed saves leave no temporary file");
    // Reads, writes and other commands are served as before.
    assert_eq!(c.get::<_, String>("k").unwrap(), "v");
    let _: () = c.set("k3", "v3").unwrap();
    exchange(&mut raw, &resp(&["PING"]), "+PONG\r\n");

    failing.store(false, Ordering::SeqCst);
    exchange(&mut raw, &resp(&["SAVE"]), "+OK\r\n");
    assert_eq!(node.field("rdb_last_bgsave_status"), "ok");
    assert_eq!(node.field("rdb_changes_since_last_save"), "0");
    assert_eq!(health(health_addr)["last_save"]["status"], "ok");
    assert!(node.server().persistence_status().last_save_ok);
    let records = redistill_persist::SnapshotReader::open(&path)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(records.len(), 3);
}

#[test]
fn save_and_bgsave_refuse_while_a_bgsave_runs() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let gate = Gate::default();
    let node = Node::gated(config(&path, false), &gate);
    let mut c = node.client();
    let mut raw = node.raw();
    node.start_held_bgsave(&mut raw, &gate);
    let busy = "-ERR Background save already in progress\r\n";
    exchange(&mut raw, &resp(&["BGSAVE"]), busy);
    exchange(&mut raw, &resp(&["BGSAVE", "SCHEDULE"]), busy);
    exchange(&mut raw, &resp(&["SAVE"]), busy);
    assert_eq!(node.field("rdb_bgsave_in_progress"), "1");
    assert!(node.server().persistence_status().in_progress);
    assert_ne!(node.field("rdb_current_bgsave_time_sec"), "-1");
    assert_eq!(node.field("current_save_keys_total"), "40");
    // Other clients are served meanwhile.
    assert_eq!(c.get::<_, i64>("k7").unwrap(), 7);
    gate.open();
    node.wait_for_bgsave();
    assert_eq!(node.field("rdb_last_bgsave_status"), "ok");
    assert_eq!(node.field("rdb_current_bgsave_time_sec"), "-1");
    assert_eq!(node.field("current_save_keys_total"), "0");
    assert_ne!(node.field("rdb_last_bgsave_time_sec"), "-1");
    exchange(&mut raw, &resp(&["SAVE"]), "+OK\r\n");
}

#[test]
fn bgsave_inside_exec_is_scheduled_and_runs_after_the_transaction() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let gate = Gate::default();
    let node = Node::gated(config(&path, false), &gate);
    let mut raw = node.raw();
    exchange(
        &mut raw,
        &format!(
            "{}{}{}{}",
            resp(&["MULTI"]),
            resp(&["SET", "k", "v"]),
            resp(&["BGSAVE"]),
            resp(&["EXEC"])
        ),
        "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n+Background saving scheduled\r\n",
    );
    node.wait_for_field(
        "rdb_changes_since_last_save",
        "0",
        "the scheduled save to succeed",
    );
    node.wait_for_bgsave();
    assert_eq!(node.field("rdb_last_bgsave_status"), "ok");
    assert_eq!(node.field("rdb_saves"), "1");
    let records = redistill_persist::SnapshotReader::open(&path)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(records.len(), 1);

    // SCHEDULE reads the same; errors are per command, in the EXEC reply.
    exchange(
        &mut raw,
        &format!(
            "{}{}{}{}",
            resp(&["MULTI"]),
            resp(&["BGSAVE", "SCHEDULE"]),
            resp(&["BGSAVE", "NOW"]),
            resp(&["EXEC"])
        ),
        "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+Background saving scheduled\r\n\
         -ERR syntax error\r\n",
    );
    // No save runs until the snapshot thread starts the scheduled one: wait for it to
    // start, then to end, so that the BGSAVE below does not meet it.
    node.wait_for_field("rdb_saves", "2", "the scheduled save to start");
    node.wait_for_bgsave();

    // While a save runs, EXEC's BGSAVE is refused as a plain one is.
    node.start_held_bgsave(&mut raw, &gate);
    exchange(
        &mut raw,
        &format!(
            "{}{}{}",
            resp(&["MULTI"]),
            resp(&["BGSAVE"]),
            resp(&["EXEC"])
        ),
        "+OK\r\n+QUEUED\r\n*1\r\n-ERR Background save already in progress\r\n",
    );
    gate.open();
    node.wait_for_bgsave();
    assert_eq!(node.field("rdb_saves"), "3", "nothing was left scheduled");
}

/// Names the snapshot of the server [`crash_child`] runs in a process of its own.
const CRASH_CHILD_SNAPSHOT: &str = "REDISTILL_TEST_CRASH_SNAPSHOT";

/// Not a test on its own: [`kill_9_during_bgsave_leaves_the_previous_snapshot_loadable`]
/// runs this test binary again with only this one, so that it has a server process to
/// kill. It serves the snapshot named by the variable, prints its port and waits.
#[test]
#[ignore = "started by kill_9_during_bgsave_leaves_the_previous_snapshot_loadable"]
fn crash_child() {
    let Some(path) = std::env::var_os(CRASH_CHILD_SNAPSHOT) else {
        return;
    };
    let server = Server::start(config(Path::new(&path), true)).expect("server starts");
    println!("port={}", server.local_addr().port());
    std::io::stdout().flush().expect("stdout");
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// The child process, killed if the test ends early.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn temp_files(dir: &Path) -> Vec<(PathBuf, u64)> {
    std::fs::read_dir(dir)
        .expect("the directory lists")
        .map(|e| e.expect("an entry"))
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .map(|e| (e.path(), e.metadata().expect("its size").len()))
        .collect()
}

#[test]
fn kill_9_during_bgsave_leaves_the_previous_snapshot_loadable() {
    use std::io::BufRead;

    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let mut child = Child(
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["crash_child", "--exact", "--ignored", "--nocapture"])
            .env(CRASH_CHILD_SNAPSHOT, &path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the child starts"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let port: u16 = std::io::BufReader::new(stdout)
        .lines()
        .map(|l| l.expect("child output"))
        .find_map(|l| l.strip_prefix("port=").map(|p| p.parse().unwrap()))
        .expect("the child prints its port");
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .expect("connects");
    let value = "x".repeat(20_000);
    for i in 0..20 {
        let _: () = c.set(format!("old{i}"), &value).unwrap();
    }
    let _: () = redis::cmd("SAVE").query(&mut c).unwrap();
    let good = std::fs::read(&path).unwrap();

    for i in 0..60 {
        let _: () = c.set(format!("new{i}"), &value).unwrap();
    }
    // 80 keys at 200 ms each: the save writes its first block within a second, then runs
    // on for a quarter of a minute, long enough to be killed in the middle however slowly
    // this test gets to it.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("rdb-key-save-delay")
        .arg("200000")
        .query(&mut c)
        .unwrap();
    let reply: String = redis::cmd("BGSAVE").query(&mut c).unwrap();
    assert_eq!(reply, "Background saving started");
    // Kill it once the new snapshot is partly on disk: more than one block written.
    common::wait_until("the save to write its first block", || {
        temp_files(dir.path())
            .iter()
            .any(|(_, len)| *len > redistill_persist::DEFAULT_BLOCK_SIZE as u64)
    });
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(info.contains("rdb_bgsave_in_progress:1"), "{info}");
    child.0.kill().expect("SIGKILL");
    child.0.wait().expect("the child ends");

    assert_eq!(
        std::fs::read(&path).unwrap(),
        good,
        "the previous snapshot is whole"
    );
    assert_eq!(
        temp_files(dir.path()).len(),
        1,
        "the partial file is left behind"
    );
    let node = Node::enabled(&path);
    let mut c = node.client();
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(dbsize, 20);
    assert_eq!(c.get::<_, String>("old7").unwrap(), value);
    assert_eq!(node.field("rdb_last_load_keys_loaded"), "20");
    assert!(temp_files(dir.path()).is_empty(), "removed at start");
}

#[test]
fn replies_and_errors_match_redis() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let node = Node::start(config(&path, false));
    let mut raw = node.raw();
    let before = node.server().persistence_status().last_save_unix;
    exchange(&mut raw, &resp(&["BGSAVE", "NOW"]), "-ERR syntax error\r\n");
    exchange(
        &mut raw,
        &resp(&["LASTSAVE", "x"]),
        "-ERR wrong number of arguments for 'lastsave' command\r\n",
    );
    exchange(
        &mut raw,
        &resp(&["SAVE", "x"]),
        "-ERR wrong number of arguments for 'save' command\r\n",
    );
    exchange(&mut raw, &resp(&["MULTI"]), "+OK\r\n");
    exchange(
        &mut raw,
        &resp(&["SAVE"]),
        "-ERR Command not allowed inside a transaction\r\n",
    );
    exchange(
        &mut raw,
        &resp(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    exchange(&mut raw, &resp(&["SAVE"]), "+OK\r\n");
    let mut c = node.client();
    let lastsave: u64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    assert!(lastsave >= before);
    let cfg: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("dir")
        .query(&mut c)
        .unwrap();
    assert_eq!(cfg[1], dir.path().display().to_string());
    let info = node.info();
    for field in [
        "loading:0",
        "rdb_saves:1",
        "aof_enabled:0",
        "rdb_last_bgsave_time_sec:-1",
        "module_fork_in_progress:0",
    ] {
        assert!(info.contains(field), "{field} in {info}");
    }
}

#[test]
fn shutdown_save_saves_even_when_not_configured() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let node = Node::start(config(&path, false));
    let mut c = node.client();
    let _: () = c.set("k", "v").unwrap();
    let mut raw = node.raw();
    raw.write_all(resp(&["SHUTDOWN", "SAVE"]).as_bytes())
        .unwrap();
    let mut rest = Vec::new();
    raw.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "SHUTDOWN closes without a reply");
    assert!(path.exists());
    assert!(node.server().prepare_shutdown());
    drop(node);
    let node = Node::enabled(&path);
    assert_eq!(node.client().get::<_, String>("k").unwrap(), "v");
}

#[test]
fn shutdown_nosave_skips_the_configured_save() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let node = Node::enabled(&path);
    let _: () = node.client().set("k", "v").unwrap();
    let mut raw = node.raw();
    raw.write_all(resp(&["SHUTDOWN", "NOSAVE"]).as_bytes())
        .unwrap();
    let mut rest = Vec::new();
    raw.read_to_end(&mut rest).unwrap();
    assert!(node.server().prepare_shutdown());
    assert!(!path.exists());
}

#[test]
fn a_shutdown_whose_save_fails_replies_an_error_and_keeps_running() {
    let dir = dir();
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, b"file").unwrap();
    let node = Node::enabled(&blocker.join("dump.rdst"));
    let mut raw = node.raw();
    exchange(
        &mut raw,
        &resp(&["SHUTDOWN"]),
        "-ERR Errors trying to SHUTDOWN. Check logs.\r\n",
    );
    exchange(&mut raw, &resp(&["PING"]), "+PONG\r\n");
    // The exit path of a signal fails the same way and withdraws the request.
    assert!(!node.server().prepare_shutdown());
    exchange(&mut raw, &resp(&["PING"]), "+PONG\r\n");
}

#[test]
fn the_shutdown_step_saves_when_configured() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let node = Node::enabled(&path);
    let _: () = node.client().set("k", "v").unwrap();
    assert!(node.server().prepare_shutdown());
    drop(node);
    let node = Node::enabled(&path);
    assert_eq!(node.client().get::<_, String>("k").unwrap(), "v");
}

#[test]
fn writes_answered_while_draining_are_saved_too() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let mut node = Node::enabled(&path);
    let mut c = node.client();
    let _: () = c.set("before", "1").unwrap();
    assert!(node.server().prepare_shutdown());
    // Between the shutdown's save and the workers stopping, requests still run.
    let _: () = c.set("while-draining", "2").unwrap();
    let totals = node.server.take().expect("running").shutdown();
    assert!(totals.commands_processed >= 2, "{totals:?}");
    let node = Node::enabled(&path);
    let mut c = node.client();
    assert_eq!(c.get::<_, String>("before").unwrap(), "1");
    assert_eq!(c.get::<_, String>("while-draining").unwrap(), "2");
}

#[derive(Debug, Clone)]
enum Val {
    Str(Vec<u8>),
    Int(i64),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
}

fn keyspace() -> impl Strategy<Value = Vec<(u8, Vec<u8>, Val, Option<u32>)>> {
    let bytes = || prop::collection::vec(any::<u8>(), 0..24);
    let val = prop_oneof![
        bytes().prop_map(Val::Str),
        any::<i64>().prop_map(Val::Int),
        prop::collection::vec((bytes(), bytes()), 1..6).prop_map(Val::Hash),
    ];
    prop::collection::vec(
        (0u8..4, bytes(), val, prop::option::of(1u32..1_000_000)),
        0..40,
    )
}

/// Everything a keyspace holds, read through the store, sorted.
fn dump(server: &Server) -> Vec<(usize, Bytes, Option<u64>, String)> {
    let mut out = Vec::new();
    server
        .store()
        .for_each_snapshot_batch(|db, entries| {
            for e in entries.drain(..) {
                let value = match e.value {
                    redistill_store::SnapshotValue::Hash(mut f) => {
                        f.sort();
                        format!("{f:?}")
                    }
                    other => format!("{other:?}"),
                };
                out.push((db, e.key, e.expire_at_ms, value));
            }
            Ok::<(), ()>(())
        })
        .expect("infallible");
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_keyspaces_round_trip(keys in keyspace()) {
        let dir = dir();
        let path = dir.path().join("dump.rdst");
        let node = Node::enabled(&path);
        let store = node.server().store().clone();
        for (db, key, val, ttl) in &keys {
            let db = usize::from(*db);
            match val {
                Val::Str(v) => {
                    store.set(db, key, v, Default::default()).unwrap();
                }
                Val::Int(n) => {
                    store.set(db, key, n.to_string().as_bytes(), Default::default()).unwrap();
                }
                Val::Hash(fields) => {
                    let _ = store.del(db, &[&key[..]]);
                    let pairs: Vec<(&[u8], &[u8])> =
                        fields.iter().map(|(f, v)| (&f[..], &v[..])).collect();
                    store.hset(db, key, &pairs).unwrap();
                }
            }
            if let Some(ttl) = ttl {
                store
                    .expire(
                        db,
                        key,
                        i64::from(*ttl) + 60_000,
                        redistill_store::ExpireCommand::PExpire,
                        redistill_store::ExpireCondition::Always,
                    )
                    .unwrap();
            }
        }
        let before = dump(node.server());
        let mut raw = node.raw();
        exchange(&mut raw, &resp(&["SAVE"]), "+OK\r\n");
        drop(raw);
        drop(node);
        let node = Node::enabled(&path);
        prop_assert_eq!(dump(node.server()), before);
    }
}

#[test]
fn periodic_saves_happen_when_something_changed() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let mut cfg = config(&path, true);
    cfg.persistence.snapshot_interval = 1;
    let node = Node::start(cfg);
    let _: () = node.client().set("k", "v").unwrap();
    node.wait_for_field("rdb_changes_since_last_save", "0", "a periodic save");
    assert!(path.exists());
    assert_eq!(node.field("rdb_last_bgsave_status"), "ok");
    let records = redistill_persist::SnapshotReader::open(&path)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(records.len(), 1);
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

#[test]
fn save_points_set_by_config_set_save_once_enough_changes_are_made_in_time() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let mut cfg = config(&path, true);
    cfg.persistence.snapshot_interval = 0;
    let node = Node::start(cfg);
    let mut c = node.client();
    let mut raw = node.raw();
    exchange(
        &mut raw,
        &resp(&["CONFIG", "GET", "save"]),
        "*2\r\n$4\r\nsave\r\n$0\r\n\r\n",
    );
    exchange(
        &mut raw,
        &resp(&["CONFIG", "SET", "save", "1 2"]),
        "+OK\r\n",
    );
    exchange(
        &mut raw,
        &resp(&["CONFIG", "GET", "save"]),
        "*2\r\n$4\r\nsave\r\n$3\r\n1 2\r\n",
    );
    let _: () = c.set("a", 1).unwrap();
    let lastsave: u64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    // One change is short of the point however long it waits: give the schedule over a
    // second of ticks past the point's time.
    common::wait_until("two seconds past the last save", || {
        unix_now() >= lastsave + 3
    });
    assert_eq!(node.field("rdb_changes_since_last_save"), "1");
    assert!(!path.exists(), "one change of two saved nothing");

    let _: () = c.set("b", 2).unwrap();
    node.wait_for_field("rdb_changes_since_last_save", "0", "the save point's save");
    assert_eq!(node.field("rdb_last_bgsave_status"), "ok");
    let records = redistill_persist::SnapshotReader::open(&path)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(records.len(), 2);
    let saved_at: u64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    assert!(saved_at > lastsave + 1, "{saved_at} vs {lastsave}");

    exchange(&mut raw, &resp(&["CONFIG", "SET", "save", ""]), "+OK\r\n");
    exchange(
        &mut raw,
        &resp(&["CONFIG", "GET", "save"]),
        "*2\r\n$4\r\nsave\r\n$0\r\n\r\n",
    );
}

#[test]
fn a_snapshot_over_the_memory_limit_loads_then_evicts_down_to_it() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    {
        let node = Node::enabled(&path);
        let store = node.server().store().clone();
        for i in 0..2_000u32 {
            store
                .set(0, &i.to_be_bytes(), &[7u8; 1_000], Default::default())
                .unwrap();
        }
        let mut raw = node.raw();
        exchange(&mut raw, &resp(&["SAVE"]), "+OK\r\n");
    }
    let limit = 512 * 1024;
    let mut cfg = config(&path, true);
    cfg.memory.max_memory = limit;
    cfg.memory.eviction_policy = redistill_server::config::EvictionPolicy::AllKeysLru;
    let node = Node::start(cfg);
    let store = node.server().store();
    assert_eq!(node.field("rdb_last_load_keys_loaded"), "2000");
    assert!(
        store.used_memory() as u64 <= limit,
        "{}",
        store.used_memory()
    );
    let kept = store.dbsize(0).unwrap();
    assert!(kept > 0 && kept < 2_000, "{kept}");
}

#[test]
fn a_snapshot_this_server_cannot_hold_is_refused_and_never_moved_aside() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    save_snapshot(&path, 0, |w| {
        w.write_string(0, b"k", None, b"v")?;
        w.write_string(40, b"far", None, b"v")?;
        Ok::<(), redistill_persist::PersistError>(())
    })
    .unwrap();
    let mut cfg = config(&path, true);
    cfg.persistence.start_empty_on_corrupt_snapshot = true;
    let err = Server::start(cfg).err().expect("refuses to start");
    let text = err.to_string();
    assert!(text.contains("database 40"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(path.exists(), "an intact file is never moved aside");
    cfg = config(&path, true);
    cfg.server.databases = 64;
    let node = Node::start(cfg);
    let mut c = node.client();
    let _: () = redis::cmd("SELECT").arg(40).query(&mut c).unwrap();
    assert_eq!(c.get::<_, String>("far").unwrap(), "v");
}

const LIBRARY: &str = "#!lua name=mylib\n\
    redis.register_function('echo_key', function(keys) return keys[1] end)\n\
    redis.register_function{function_name='ro', callback=function() return 'ro' end, \
    flags={'no-writes'}, description='read only'}";

fn function_list(c: &mut redis::Connection) -> redis::Value {
    redis::cmd("FUNCTION")
        .arg("LIST")
        .arg("WITHCODE")
        .query(c)
        .expect("FUNCTION LIST")
}

fn fcall(c: &mut redis::Connection, name: &str) -> redis::RedisResult<String> {
    redis::cmd("FCALL").arg(name).arg(1).arg("k").query(c)
}

#[test]
fn function_libraries_survive_save_shutdown_save_restart_and_debug_reload() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let listed = {
        let node = Node::enabled(&path);
        let mut c = node.client();
        let _: String = redis::cmd("FUNCTION")
            .arg("LOAD")
            .arg(LIBRARY)
            .query(&mut c)
            .unwrap();
        let _: () = c.set("key", "v").unwrap();
        // A library loaded is a change to save, as in Redis.
        assert_eq!(node.field("rdb_changes_since_last_save"), "2");
        exchange(&mut node.raw(), &resp(&["SAVE"]), "+OK\r\n");
        function_list(&mut c)
    };
    let node = Node::enabled(&path);
    let mut c = node.client();
    assert_eq!(function_list(&mut c), listed);
    assert_eq!(node.field("rdb_changes_since_last_save"), "0");
    assert_eq!(fcall(&mut c, "echo_key").unwrap(), "k");
    assert_eq!(fcall(&mut c, "ro").unwrap(), "ro");
    // FLUSHALL leaves the functions, as in Redis.
    let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    assert_eq!(function_list(&mut c), listed);
    // DEBUG RELOAD saves and loads them back; with NOSAVE the file's replace them all.
    let _: () = redis::cmd("DEBUG").arg("RELOAD").query(&mut c).unwrap();
    assert_eq!(function_list(&mut c), listed);
    let _: () = redis::cmd("FUNCTION").arg("FLUSH").query(&mut c).unwrap();
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg("#!lua name=other\nredis.register_function('other', function() return 1 end)")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("DEBUG")
        .arg("RELOAD")
        .arg("NOSAVE")
        .query(&mut c)
        .unwrap();
    assert_eq!(function_list(&mut c), listed);
    assert!(fcall(&mut c, "other").is_err());
    // FUNCTION FLUSH deletes them, and the shutdown's save keeps the deletion.
    let changes: u64 = node.field("rdb_changes_since_last_save").parse().unwrap();
    let _: () = redis::cmd("FUNCTION").arg("FLUSH").query(&mut c).unwrap();
    assert_eq!(
        node.field("rdb_changes_since_last_save"),
        (changes + 1).to_string()
    );
    assert!(node.server().prepare_shutdown());
    drop(node);
    let node = Node::enabled(&path);
    let mut c = node.client();
    assert_eq!(function_list(&mut c), redis::Value::Array(vec![]));
    // A library loaded, then the shutdown's save.
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg(LIBRARY)
        .query(&mut c)
        .unwrap();
    assert!(node.server().prepare_shutdown());
    drop(node);
    let node = Node::enabled(&path);
    let mut c = node.client();
    assert_eq!(function_list(&mut c), listed);
    assert_eq!(fcall(&mut c, "echo_key").unwrap(), "k");
}

#[test]
fn a_snapshot_whose_library_does_not_load_refuses_to_start_naming_it() {
    let dir = dir();
    let path = dir.path().join("dump.rdst");
    let mut writer = SnapshotWriter::new(Vec::new(), 0).unwrap();
    writer
        .write_library(b"broken", b"#!lua name=broken\nthis is not lua")
        .unwrap();
    let (bytes, _) = writer.finish().unwrap();
    std::fs::write(&path, bytes).unwrap();
    let error = Server::start(config(&path, true))
        .err()
        .expect("refuses to start")
        .to_string();
    assert!(
        error.contains("function library 'broken' does not load: ERR Error compiling function"),
        "{error}"
    );
}
