//! The `redistill` binary as operators run it, like `redis-server`: `--logfile` reopened on
//! SIGHUP, `--daemonize yes` with its `--pidfile`, a bind error naming the address, `-v`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};

mod common;

use common::{PATIENCE, Running, exchange, redistill, wait_for, wait_until};

/// The port from the start-up line in the log file at `path`, once it is there.
fn port_in_log(path: &Path) -> u16 {
    wait_for("the start-up line in the log file", || {
        let text = std::fs::read_to_string(path).ok()?;
        let addr = text.split("connections on ").nth(1)?;
        addr.split([':', ' ']).nth(1)?.parse().ok()
    })
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s
}

fn signal(pid: u32, name: &str) -> bool {
    Command::new("kill")
        .args([name, &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .expect("kill")
        .success()
}

/// Whether `pid` runs: it exists and is not a zombie waiting for a parent that never reaps
/// it (a detached daemon's parent is whatever adopted it).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

/// Kills the daemon if a test ends before it exited.
struct Daemon(Option<u32>);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            signal(pid, "-KILL");
        }
    }
}

#[test]
fn a_taken_port_is_named_in_the_error() {
    let (first, _logs) = Running::start(redistill());
    let output = Command::new(env!("CARGO_BIN_EXE_redistill"))
        .args(["--port", &first.port.to_string()])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "Could not create server TCP listening socket 127.0.0.1:{}: bind: ",
            first.port
        )),
        "{stderr}"
    );
    assert!(stderr.contains("in use"), "{stderr}");
}

#[test]
fn dash_v_prints_the_version() {
    for flag in ["-v", "--version"] {
        let output = Command::new(env!("CARGO_BIN_EXE_redistill"))
            .arg(flag)
            .output()
            .expect("runs");
        assert!(output.status.success());
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains(env!("CARGO_PKG_VERSION")),
            "{flag}: {stdout}"
        );
    }
}

#[test]
fn the_log_file_is_reopened_on_sighup_after_a_rotation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("redistill.log");
    let rotated = dir.path().join("redistill.log.1");
    let mut command = redistill();
    command.arg("--logfile").arg(&log);
    let mut child = command.spawn().expect("starts");
    let port = port_in_log(&log);
    let mut s = connect(port);
    exchange(
        &mut s,
        b"CONFIG GET logfile\r\n",
        format!(
            "*2\r\n$7\r\nlogfile\r\n${}\r\n{}\r\n",
            log.display().to_string().len(),
            log.display()
        )
        .as_bytes(),
    );
    std::fs::rename(&log, &rotated).expect("rotate");
    assert!(signal(child.id(), "-HUP"));
    wait_until("a new log file with the SIGHUP line", || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("log file reopened"))
    });
    assert!(signal(child.id(), "-TERM"));
    let status = wait_for("redistill to exit", || child.try_wait().expect("wait"));
    assert!(status.success(), "{status}");
    let new = std::fs::read_to_string(&log).expect("new log");
    assert!(
        new.contains("bye bye"),
        "the last lines go to the new file: {new}"
    );
    let old = std::fs::read_to_string(&rotated).expect("old log");
    assert!(old.contains("ready to accept connections"), "{old}");
    assert!(!old.contains("bye bye"), "{old}");
    // Nothing goes to standard error meanwhile.
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .expect("stderr");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn a_daemon_detaches_writes_its_pid_file_and_removes_it_on_shutdown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("daemon.log");
    let pidfile = dir.path().join("daemon.pid");
    let status = Command::new(env!("CARGO_BIN_EXE_redistill"))
        .args(["--port", "0", "--workers", "1", "--daemonize", "yes"])
        .arg("--logfile")
        .arg(&log)
        .arg("--pidfile")
        .arg(&pidfile)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("runs");
    assert!(status.success(), "the starting process exits 0 at once");
    let pid: u32 = wait_for("the pid file", || {
        std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|t| t.strip_suffix('\n')?.parse().ok())
    });
    let mut daemon = Daemon(Some(pid));
    let port = port_in_log(&log);
    let mut s = connect(port);
    exchange(&mut s, b"PING\r\n", b"+PONG\r\n");
    exchange(
        &mut s,
        b"CONFIG GET daemonize\r\n",
        b"*2\r\n$9\r\ndaemonize\r\n$3\r\nyes\r\n",
    );
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.starts_with(&format!("{pid}:M ")), "{text}");
    s.write_all(b"SHUTDOWN NOSAVE\r\n").expect("send");
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).expect("closed");
    wait_until("the pid file to be removed", || !pidfile.exists());
    wait_until("the daemon to exit", || !alive(pid));
    daemon.0 = None;
}

#[test]
fn the_earlier_default_snapshot_file_still_loads_and_saves_go_to_the_new_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let previous = dir.path().join("redistill.rdb");
    let file = std::fs::File::create(&previous).expect("create");
    let mut w = redistill::persist::SnapshotWriter::new(file, 0).expect("header");
    w.write_string(0, b"kept", None, b"from-before")
        .expect("record");
    w.finish().expect("finish");
    let mut command = redistill();
    command
        .current_dir(dir.path())
        .args(["--set", "persistence.enabled=true"]);
    let (running, _logs) = Running::start(command);
    common::wait_loaded(running.port);
    let mut s = connect(running.port);
    exchange(&mut s, b"GET kept\r\n", b"$11\r\nfrom-before\r\n");
    exchange(
        &mut s,
        b"CONFIG GET dbfilename\r\n",
        b"*2\r\n$10\r\ndbfilename\r\n$10\r\ndump.rsnap\r\n",
    );
    let cwd = dir.path().display().to_string();
    exchange(
        &mut s,
        b"CONFIG GET dir\r\n",
        format!("*2\r\n$3\r\ndir\r\n${}\r\n{cwd}\r\n", cwd.len()).as_bytes(),
    );
    exchange(&mut s, b"SAVE\r\n", b"+OK\r\n");
    assert!(dir.path().join("dump.rsnap").exists());
    assert!(
        previous.exists(),
        "the earlier file is left for the operator"
    );
}

#[test]
fn the_binary_listens_before_a_big_snapshot_loads_and_a_sigterm_then_saves_nothing() {
    const KEYS: u64 = 3_000_000;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.rsnap");
    let file =
        std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).expect("create"));
    let mut w = redistill::persist::SnapshotWriter::new(file, 0).expect("header");
    for i in 0..KEYS {
        w.write_string(0, format!("k{i}").as_bytes(), None, b"v")
            .expect("record");
    }
    let (mut file, _) = w.finish().expect("finish");
    file.flush().expect("flush");
    drop(file);
    let before = std::fs::read(&path).expect("read");
    let start = || {
        let mut command = redistill();
        command.args(["--set", "persistence.enabled=true", "--set"]);
        command.arg(format!("persistence.snapshot_path={}", path.display()));
        Running::start(command)
    };

    // The start-up line comes before the load ends: data commands are told to wait.
    let (mut first, logs) = start();
    let mut s = connect(first.port);
    exchange(
        &mut s,
        b"GET k1\r\n",
        b"-LOADING Redis is loading the dataset in memory\r\n",
    );
    assert!(signal(first.child.id(), "-TERM"));
    let status = first.wait_for_exit();
    assert!(status.success(), "{status}");
    let log: Vec<String> = logs.iter().collect();
    assert!(
        log.iter().any(|l| l.contains("exiting without saving")),
        "{log:?}"
    );
    assert!(
        std::fs::read(&path).expect("read") == before,
        "the snapshot is left as it was"
    );

    let started = std::time::Instant::now();
    let (second, logs) = start();
    common::wait_loaded(second.port);
    let took = started.elapsed();
    let mut s = connect(second.port);
    exchange(&mut s, b"DBSIZE\r\n", b":3000000\r\n");
    // A load longer than the 5 s between progress lines logged at least one.
    if took > std::time::Duration::from_secs(6) {
        let log: Vec<String> = logs.try_iter().collect();
        assert!(
            log.iter().any(|l| l.contains("Loading ")
                && l.contains("% of ")
                && l.contains("seconds left")),
            "no progress line in a {took:?} load: {log:?}"
        );
    }
}
