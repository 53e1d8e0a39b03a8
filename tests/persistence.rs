//! The `redistill` binary and its snapshot: saved on SIGTERM, loaded at start, a damaged
//! file refused (exit status 1, file and offset named) unless the operator asks to start
//! empty, and a `kill -9` in the middle of BGSAVE leaving the previous snapshot whole.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Instant;

mod common;

use common::{PATIENCE, Running, redistill, wait_loaded, wait_until};

/// A fresh directory for one test under Cargo's scratch space.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("persistence-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn command(snapshot: &Path, extra: &[&str]) -> Command {
    let mut cmd = redistill();
    cmd.args(["--loglevel", "verbose"])
        .arg("--set")
        .arg("persistence.enabled=true")
        .arg("--set")
        .arg(format!("persistence.snapshot_path={}", snapshot.display()))
        .args(extra);
    cmd
}

/// Starts the binary and waits for its snapshot to load (it listens first and answers
/// `-LOADING` meanwhile, as Redis does); returns it, its port, and its later log lines.
fn start(snapshot: &Path, extra: &[&str]) -> (Running, u16, mpsc::Receiver<String>) {
    let (running, logs) = Running::start(command(snapshot, extra));
    let port = running.port;
    wait_loaded(port);
    (running, port, logs)
}

/// A minimal RESP client: one request, one simple reply line (or a whole bulk).
struct Conn(BufReader<TcpStream>);

impl Conn {
    fn open(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        Conn(BufReader::new(stream))
    }

    fn send(&mut self, args: &[&[u8]]) {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.0.get_mut().write_all(&req).expect("write");
    }

    /// One reply: status, error and integer lines as they are; a bulk as its contents.
    fn reply(&mut self) -> String {
        let mut line = String::new();
        self.0.read_line(&mut line).expect("reply");
        let line = line.trim_end().to_owned();
        if let Some(len) = line.strip_prefix('$') {
            let Ok(len) = len.parse::<usize>() else {
                return line; // $-1
            };
            let mut body = vec![0; len + 2];
            self.0.read_exact(&mut body).expect("bulk");
            body.truncate(len);
            return String::from_utf8_lossy(&body).into_owned();
        }
        line
    }

    fn call(&mut self, args: &[&str]) -> String {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&args);
        self.reply()
    }

    /// Sets `n` keys `key:<i>` to `value` with one pipelined batch.
    fn fill(&mut self, n: usize, value: &str) {
        for i in 0..n {
            let key = format!("key:{i}");
            self.send(&[b"SET", key.as_bytes(), value.as_bytes()]);
        }
        for _ in 0..n {
            assert_eq!(self.reply(), "+OK");
        }
    }

    fn info_field(&mut self, name: &str) -> String {
        let info = self.call(&["INFO", "persistence"]);
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("{name} in {info}"))
            .to_owned()
    }
}

#[test]
fn sigterm_saves_when_configured_and_the_next_start_loads_it() {
    let dir = scratch("sigterm");
    let path = dir.join("dump.rdst");
    let (mut child, port, logs) = start(&path, &[]);
    let mut c = Conn::open(port);
    c.fill(500, "v1");
    assert_eq!(c.call(&["HSET", "h", "f", "x"]), ":1");
    let ttl_set = Instant::now();
    assert_eq!(c.call(&["SET", "t", "1", "EX", "1000"]), "+OK");
    let pid = child.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let status = child.wait_for_exit();
    assert!(status.success(), "exit status {status}");
    // The process has exited: the log ends, and with it the channel.
    let saved: Vec<String> = logs.iter().collect();
    assert!(
        saved.iter().any(|l| l.contains("DB saved on disk")),
        "{saved:?}"
    );

    let (_child, port, logs) = start(&path, &[]);
    let mut c = Conn::open(port);
    assert_eq!(c.call(&["DBSIZE"]), ":502");
    assert_eq!(c.call(&["GET", "key:499"]), "v1");
    assert_eq!(c.call(&["HGET", "h", "f"]), "x");
    let ttl: i64 = c.call(&["TTL", "t"])[1..].parse().expect("ttl");
    // Whole seconds, rounded: no fewer left than the 1000 less those passed since the SET.
    let passed = i64::try_from(ttl_set.elapsed().as_secs()).expect("seconds");
    assert!(
        (999 - passed..=1000).contains(&ttl),
        "{ttl}, {passed} s later"
    );
    let lines: Vec<String> = logs.try_iter().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("502 keys loaded") && l.contains("seconds")),
        "{lines:?}"
    );
}

/// A snapshot of a few keys, written by a server, then cut short.
fn damaged_snapshot(name: &str) -> PathBuf {
    let dir = scratch(name);
    let path = dir.join("dump.rdst");
    let mut writer = redistill_persist::SnapshotWriter::new(Vec::new(), 0).expect("writer");
    for i in 0..50u32 {
        writer
            .write_string(0, format!("k{i}").as_bytes(), None, b"value")
            .expect("record");
    }
    let (bytes, _) = writer.finish().expect("finish");
    std::fs::write(&path, &bytes[..bytes.len() - 3]).expect("write");
    path
}

#[test]
fn a_damaged_snapshot_stops_the_start_with_status_1_naming_file_and_offset() {
    let path = damaged_snapshot("damaged");
    let out = command(&path, &[]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("byte offset"), "{err}");
    assert!(path.exists());
}

#[test]
fn the_flag_starts_empty_with_the_damaged_file_moved_aside() {
    let path = damaged_snapshot("flag");
    let (_child, port, logs) = start(&path, &["--start-empty-on-corrupt-snapshot"]);
    let mut c = Conn::open(port);
    assert_eq!(c.call(&["DBSIZE"]), ":0");
    assert!(!path.exists());
    let dir = path.parent().expect("dir");
    let aside = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("dump.rdst.corrupt-")
        })
        .count();
    assert_eq!(aside, 1);
    let lines: Vec<String> = logs.try_iter().collect();
    assert!(
        lines.iter().any(|l| l.contains("moved to")),
        "the move is logged: {lines:?}"
    );
}

#[test]
fn kill_9_during_bgsave_leaves_the_previous_snapshot_whole() {
    let dir = scratch("kill9");
    let path = dir.join("dump.rdst");
    let (mut child, port, _logs) = start(&path, &[]);
    let mut c = Conn::open(port);
    let old = "o".repeat(200);
    c.fill(3_000, &old);
    assert_eq!(c.call(&["SAVE"]), "+OK");
    let before = std::fs::read(&path).expect("snapshot");

    c.fill(3_000, &"n".repeat(200));
    // 5 ms per key: the save streams its first blocks within two seconds and would take
    // fifteen in all, long enough to be killed in the middle however slowly this test
    // gets to it.
    assert_eq!(
        c.call(&["CONFIG", "SET", "rdb-key-save-delay", "5000"]),
        "+OK"
    );
    assert_eq!(c.call(&["BGSAVE"]), "+Background saving started");
    assert_eq!(c.info_field("rdb_bgsave_in_progress"), "1");
    // Wait until the new file has data in it, so the kill lands mid-write.
    wait_until("a partial snapshot on disk", || {
        std::fs::read_dir(&dir)
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .any(|e| e.metadata().is_ok_and(|m| m.len() > 64 * 1024))
    });
    assert_eq!(c.info_field("rdb_bgsave_in_progress"), "1");
    child.child.kill().expect("kill -9");
    let _ = child.child.wait();

    assert_eq!(std::fs::read(&path).expect("snapshot"), before);
    let (_child, port, logs) = start(&path, &[]);
    let mut c = Conn::open(port);
    assert_eq!(c.call(&["DBSIZE"]), ":3000");
    assert_eq!(c.call(&["GET", "key:2999"]), old);
    // The cut-short temporary file is cleaned up at start, and that is logged.
    let temps = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .count();
    assert_eq!(temps, 0);
    let lines: Vec<String> = logs.try_iter().collect();
    assert!(
        lines.iter().any(|l| l.contains("did not finish")),
        "{lines:?}"
    );
}
