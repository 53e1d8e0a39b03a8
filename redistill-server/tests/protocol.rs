//! Wire-level behaviour over raw sockets: pipelining, inline commands, partial requests,
//! protocol errors, QUIT, and backpressure on clients that do not read.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use common::{TestServer, exchange, info, read_to_close, wait_for, wait_until};

#[test]
fn pipelined_requests_answer_in_order() {
    let server = TestServer::start();
    let mut s = server.raw();
    let mut request = Vec::new();
    let mut expected = Vec::new();
    for i in 0..100 {
        request.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n$5\r\nk{i:04}\r\n$1\r\n{}\r\n", i % 10).as_bytes(),
        );
        expected.extend_from_slice(b"+OK\r\n");
    }
    for i in 0..100 {
        request.extend_from_slice(format!("*2\r\n$3\r\nGET\r\n$5\r\nk{i:04}\r\n").as_bytes());
        expected.extend_from_slice(format!("$1\r\n{}\r\n", i % 10).as_bytes());
    }
    exchange(&mut s, &request, &expected);
}

/// Pipelines that look members up in big collections (whose members the server prefetches
/// for a run of requests on one key) answer exactly as the same requests sent one by one:
/// sets, hashes and sorted sets, members present and missing, ZADD's options, runs that
/// change key or command, a key of another type and a missing key.
#[test]
fn member_pipelines_on_big_collections_answer_as_single_requests() {
    let fill = |c: &mut redis::Connection| {
        let mut p = redis::pipe();
        for i in 0..1000 {
            p.cmd("SADD").arg("set").arg(format!("m{i}")).ignore();
            p.cmd("HSET")
                .arg("hash")
                .arg(format!("f{i}"))
                .arg(i)
                .ignore();
            p.cmd("ZADD")
                .arg("zset")
                .arg(i)
                .arg(format!("m{i}"))
                .ignore();
        }
        p.cmd("SET").arg("string").arg("x").ignore();
        p.query::<()>(c).unwrap();
    };
    let mut p = redis::pipe();
    for i in (0..2000).step_by(37) {
        let (m, f) = (format!("m{i}"), format!("f{i}"));
        p.cmd("SISMEMBER").arg("set").arg(&m);
        p.cmd("SADD").arg("set").arg(&m).arg("extra");
        p.cmd("HGET").arg("hash").arg(&f);
        p.cmd("HINCRBY").arg("hash").arg(&f).arg(2);
        p.cmd("ZSCORE").arg("zset").arg(&m);
        p.cmd("ZADD")
            .arg("zset")
            .arg("GT")
            .arg("CH")
            .arg(i / 2)
            .arg(&m);
        p.cmd("ZINCRBY").arg("zset").arg(1).arg(&m);
        p.cmd("SISMEMBER").arg("string").arg(&m);
        p.cmd("ZSCORE").arg("missing").arg(&m);
    }
    for i in 0..100 {
        p.cmd("SISMEMBER").arg("set").arg(format!("m{}", i * 13));
    }
    p.ignore_errors();
    let run = |pipelined: bool| -> Vec<String> {
        let server = TestServer::start();
        let mut c = server.client();
        fill(&mut c);
        let replies: Vec<redis::RedisResult<redis::Value>> = if pipelined {
            p.query(&mut c).unwrap()
        } else {
            p.cmd_iter().map(|cmd| cmd.query(&mut c)).collect()
        };
        replies.iter().map(|r| format!("{r:?}")).collect()
    };
    let (pipelined, single) = (run(true), run(false));
    assert!(pipelined.iter().any(|r| r.contains("WRONGTYPE")));
    assert_eq!(pipelined, single);
}

#[test]
fn a_request_split_across_writes_is_reassembled() {
    let server = TestServer::start();
    let mut s = server.raw();
    s.set_nodelay(true).unwrap();
    let request =
        b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$11\r\nhello world\r\n*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
    for byte in request.iter() {
        s.write_all(&[*byte]).unwrap();
    }
    let expected = b"+OK\r\n$11\r\nhello world\r\n";
    let mut got = vec![0; expected.len()];
    s.read_exact(&mut got).unwrap();
    assert_eq!(got, expected);
}

#[test]
fn inline_commands_follow_redis_quoting() {
    let server = TestServer::start();
    let mut s = server.raw();
    exchange(&mut s, b"PING\r\n", b"+PONG\r\n");
    exchange(&mut s, b"SET k \"a b\\x41\"\r\n", b"+OK\r\n");
    exchange(&mut s, b"GET k\n", b"$4\r\na bA\r\n");
    exchange(
        &mut s,
        b"\r\n\r\nECHO 'it''s'\r\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    );
}

#[test]
fn protocol_error_replies_then_closes_only_that_connection() {
    let server = TestServer::start();
    let mut bad = server.raw();
    let mut good = server.raw();
    // Requests before the bad one in the same read still run, as in Redis.
    bad.write_all(b"SET before 1\r\n*1\r\n$abc\r\nSET after 1\r\n")
        .unwrap();
    assert_eq!(
        read_to_close(&mut bad),
        b"+OK\r\n-ERR Protocol error: invalid bulk length\r\n"
    );
    exchange(&mut good, b"EXISTS before after\r\n", b":1\r\n");
    exchange(&mut good, b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn quit_answers_ok_and_closes() {
    let server = TestServer::start();
    let mut s = server.raw();
    s.write_all(b"QUIT\r\nPING\r\n").unwrap();
    assert_eq!(read_to_close(&mut s), b"+OK\r\n");
}

#[test]
fn half_closed_client_still_gets_its_replies() {
    let server = TestServer::start();
    let mut s = server.raw();
    s.write_all(b"SET a 1\r\nINCR a\r\n").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_close(&mut s), b"+OK\r\n:2\r\n");
}

#[test]
fn unknown_command_and_arity_errors_use_redis_text() {
    let server = TestServer::start();
    let mut s = server.raw();
    exchange(
        &mut s,
        b"FOO a b\r\n",
        b"-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n",
    );
    exchange(
        &mut s,
        b"GET\r\n",
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    exchange(&mut s, b"SET k v NX XX\r\n", b"-ERR syntax error\r\n");
    exchange(
        &mut s,
        b"SET k v EX 0\r\n",
        b"-ERR invalid expire time in 'set' command\r\n",
    );
    exchange(
        &mut s,
        b"SET k v EX x\r\n",
        b"-ERR value is not an integer or out of range\r\n",
    );
    exchange(&mut s, b"SET k v\r\n", b"+OK\r\n");
    exchange(
        &mut s,
        b"HSET k f v\r\n",
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
}

#[test]
fn hello_3_switches_to_resp3_replies() {
    let server = TestServer::start();
    let mut s = server.raw();
    exchange(
        &mut s,
        b"HELLO 4\r\n",
        b"-NOPROTO unsupported protocol version\r\n",
    );
    exchange(&mut s, b"GET missing\r\n", b"$-1\r\n");
    s.write_all(b"HELLO 3\r\n").unwrap();
    // The map's id field varies; read up to its last entry, which does not.
    let end = b"$7\r\nmodules\r\n*0\r\n";
    let mut hello = Vec::new();
    let mut byte = [0u8; 1];
    while !hello.ends_with(end) {
        s.read_exact(&mut byte).unwrap();
        hello.push(byte[0]);
    }
    assert!(hello.starts_with(b"%7\r\n$6\r\nserver\r\n"), "{hello:?}");
    exchange(&mut s, b"GET missing\r\n", b"_\r\n");
    exchange(
        &mut s,
        b"HSET h f v\r\nHGETALL h\r\n",
        b":1\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n",
    );
}

/// A client that pipelines large replies and never reads cannot make the server buffer
/// without bound: the server stops reading it, so the client's writes block, and other
/// clients are still served.
#[test]
fn client_that_never_reads_is_paused_not_buffered() {
    let server = TestServer::start();
    let mut setup = server.raw();
    let value = "x".repeat(64 * 1024);
    exchange(
        &mut setup,
        format!("SET big {value}\r\n").as_bytes(),
        b"+OK\r\n",
    );

    let mut hog = server.raw();
    hog.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    let batch = b"GET big\r\n".repeat(1024);
    // Every GET asks for 64 KiB; 64 MiB of requests would be 450 GiB of replies.
    let limit = 64 << 20;
    let mut sent = 0usize;
    let blocked = loop {
        match hog.write(&batch) {
            Ok(n) => sent += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break true;
            }
            Err(e) => panic!("unexpected write error: {e}"),
        }
        if sent >= limit {
            break false;
        }
    };
    assert!(
        blocked,
        "the server kept reading a client that never reads ({sent} bytes sent)"
    );
    assert!(sent < limit);
    let mut other = server.raw();
    exchange(&mut other, b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn errors_while_queueing_abort_exec() {
    let server = TestServer::start();
    let mut s = server.raw();
    exchange(&mut s, b"MULTI\r\n", b"+OK\r\n");
    exchange(&mut s, b"SET k v\r\n", b"+QUEUED\r\n");
    exchange(
        &mut s,
        b"GET\r\n",
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    exchange(
        &mut s,
        b"EXEC\r\n",
        b"-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    exchange(&mut s, b"EXISTS k\r\n", b":0\r\n");
    exchange(&mut s, b"EXEC\r\n", b"-ERR EXEC without MULTI\r\n");
    exchange(
        &mut s,
        b"MULTI\r\nINCR c\r\nINCR c\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n:2\r\n",
    );
    // A runtime error inside EXEC is that command's reply; the others still run.
    exchange(
        &mut s,
        b"MULTI\r\nSET s x\r\nINCR s\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n-ERR value is not an integer or out of range\r\n",
    );
    exchange(
        &mut s,
        b"MULTI\r\nMULTI\r\nDISCARD\r\n",
        b"+OK\r\n-ERR MULTI calls can not be nested\r\n+OK\r\n",
    );
}

/// With `timeout 1`, clients that stay silent are closed a little after a second (the
/// check runs once a second), on both workers, while clients that keep sending commands
/// stay connected well past the timeout.
#[test]
fn idle_clients_are_closed_after_timeout_and_active_ones_are_not() {
    use std::time::Instant;
    let server = TestServer::with_config(|c| c.server.timeout = 1);
    // Connections go to the two workers in turn: two of each kind reach both. Each idle
    // client's last request reaches the server after the instant kept with it.
    let mut idle: Vec<(TcpStream, Instant)> = Vec::new();
    let mut active: Vec<TcpStream> = Vec::new();
    for _ in 0..2 {
        let mut s = server.raw();
        let pinged = Instant::now();
        exchange(&mut s, b"PING\r\n", b"+PONG\r\n");
        s.set_nonblocking(true).expect("nonblocking");
        idle.push((s, pinged));
        let mut s = server.raw();
        exchange(&mut s, b"PING\r\n", b"+PONG\r\n");
        active.push(s);
    }
    // Keep the active clients busy while waiting for the idle ones to be closed.
    let mut closed_after = [None; 2];
    wait_until("the idle clients to be closed", || {
        for s in &mut active {
            exchange(s, b"INCR busy\r\n", b":");
            let mut rest = Vec::new();
            let mut byte = [0u8];
            while !rest.ends_with(b"\r\n") {
                s.read_exact(&mut byte).expect("reply");
                rest.push(byte[0]);
            }
        }
        for ((s, pinged), closed) in idle.iter_mut().zip(&mut closed_after) {
            if closed.is_some() {
                continue;
            }
            let mut buf = [0u8; 16];
            match s.read(&mut buf) {
                Ok(0) => *closed = Some(pinged.elapsed()),
                Ok(n) => panic!("an idle client got {:?}", &buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                    *closed = Some(pinged.elapsed());
                }
                Err(e) => panic!("idle client: {e}"),
            }
        }
        closed_after.iter().all(Option::is_some)
    });
    // The server times idleness with its coarse clock, which may lag a few milliseconds.
    for at in closed_after.into_iter().flatten() {
        assert!(at >= Duration::from_millis(950), "closed after only {at:?}");
    }
    // Active well past the timeout, and still served: a request at least every 200 ms.
    let until = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < until {
        for s in &mut active {
            exchange(s, b"PING\r\n", b"+PONG\r\n");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let info = info(&mut active[0], "clients");
    assert_eq!(info["connected_clients"], "2");
}

#[test]
fn client_list_shows_clients_and_kill_closes_one() {
    let server = TestServer::start();
    let mut victim = server.raw();
    exchange(&mut victim, b"CLIENT SETNAME victim\r\n", b"+OK\r\n");
    exchange(&mut victim, b"CLIENT ID\r\n", b":1\r\n");
    let mut admin = server.client();
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut admin).unwrap();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[0].starts_with("id=1 ")
            && lines[0].contains(" name=victim ")
            && lines[0].contains(" cmd=client|id "),
        "{list}"
    );
    assert!(lines[1].contains(" cmd=client|list "), "{list}");
    let fd: i32 = lines[0]
        .split(" fd=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|fd| fd.parse().ok())
        .expect("fd=");
    assert!(fd > 2, "a socket's descriptor: {list}");
    // A transaction being queued shows in flags and multi, once the victim's worker has
    // published them: it does so after writing the replies, so the admin may look first.
    exchange(
        &mut victim,
        b"MULTI\r\nSET a 1\r\nSET b 2\r\n",
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n",
    );
    let list = wait_for("CLIENT LIST to show the victim's transaction", || {
        let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut admin).unwrap();
        let victim_line = list.lines().next().unwrap_or_default();
        (victim_line.contains(" flags=x ") && victim_line.contains(" multi=2 ")).then_some(list)
    });
    assert!(list.lines().nth(1).is_some_and(|l| l.contains(" flags=N ")));
    exchange(&mut victim, b"DISCARD\r\n", b"+OK\r\n");
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(1)
        .query(&mut admin)
        .unwrap();
    assert_eq!(killed, 1);
    assert_eq!(read_to_close(&mut victim), b"");
    let none: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(1)
        .query(&mut admin)
        .unwrap();
    assert_eq!(none, 0);
    let err = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("1.2.3.4:5")
        .query::<String>(&mut admin);
    assert!(err.unwrap_err().to_string().contains("No such client"));
}

/// Texts checked against redis-server 7.0 started with `--requirepass secret`.
#[test]
fn auth_gates_commands_until_the_password_is_given() {
    let server = TestServer::with_config(|c| c.security.password = Some("secret".into()));
    let mut s = server.raw();
    exchange(
        &mut s,
        b"GET a\r\n",
        b"-NOAUTH Authentication required.\r\n",
    );
    exchange(
        &mut s,
        b"NOSUCH\r\n",
        b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n",
    );
    exchange(
        &mut s,
        b"AUTH\r\n",
        b"-ERR wrong number of arguments for 'auth' command\r\n",
    );
    exchange(&mut s, b"AUTH a b c\r\n", b"-ERR syntax error\r\n");
    let wrongpass = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    exchange(&mut s, b"AUTH wrong\r\n", wrongpass);
    exchange(&mut s, b"AUTH default wrong\r\n", wrongpass);
    exchange(&mut s, b"AUTH bob secret\r\n", wrongpass);
    // A prefix or an extension of the password is as wrong as any other.
    exchange(&mut s, b"AUTH secre\r\n", wrongpass);
    exchange(&mut s, b"AUTH secrets\r\n", wrongpass);
    exchange(&mut s, b"HELLO 3 AUTH default wrong\r\n", wrongpass);
    exchange(
        &mut s,
        b"HELLO 3\r\n",
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n",
    );
    exchange(&mut s, b"AUTH secret\r\nGET a\r\n", b"+OK\r\n$-1\r\n");

    let mut other = server.raw();
    exchange(
        &mut other,
        b"AUTH default secret\r\nPING\r\n",
        b"+OK\r\n+PONG\r\n",
    );
    let mut hello = server.client_with_password("secret");
    let info: String = redis::cmd("INFO").arg("stats").query(&mut hello).unwrap();
    assert!(info.contains("acl_access_denied_auth:6\r\n"), "{info}");
}

/// CLIENT PAUSE holds writes (WRITE) or every command (ALL) until its timeout or CLIENT
/// UNPAUSE, as redis-server 7.0 does; reads go on under WRITE, and queueing inside MULTI
/// is not held, only EXEC.
///
/// A held command is answered no sooner than its pause ends, counted from before CLIENT
/// PAUSE was sent, less the few milliseconds the server's coarse clock may lag; commands
/// that must not be held are checked under a pause longer than any reply is waited for.
#[test]
fn client_pause_holds_commands_until_it_ends() {
    use std::time::Instant;
    let server = TestServer::start();
    let mut admin = server.raw();
    let mut s = server.raw();
    exchange(&mut admin, b"CLIENT PAUSE 100000 WRITE\r\n", b"+OK\r\n");
    exchange(&mut s, b"GET k\r\n", b"$-1\r\n");
    exchange(&mut s, b"MULTI\r\nSET k 1\r\n", b"+OK\r\n+QUEUED\r\n");
    exchange(&mut s, b"DISCARD\r\n", b"+OK\r\n");
    // A write sent now stays unanswered while the pause lasts, then UNPAUSE lets it run.
    // The sleep is the window in which a wrongly answered write would show: there is no
    // state to wait for when the check is that nothing arrives (a slow machine can only
    // make it pass for the wrong reason, never fail for one).
    s.write_all(b"SET k 2\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    s.set_nonblocking(true).unwrap();
    let early = s.read(&mut [0u8; 16]);
    assert!(
        early.is_err_and(|e| e.kind() == ErrorKind::WouldBlock),
        "a write was answered during a WRITE pause"
    );
    s.set_nonblocking(false).unwrap();
    exchange(&mut admin, b"CLIENT UNPAUSE\r\n", b"+OK\r\n");
    exchange(&mut s, b"", b"+OK\r\n");

    let paused = Instant::now();
    exchange(&mut admin, b"CLIENT PAUSE 400 WRITE\r\n", b"+OK\r\n");
    exchange(&mut s, b"MULTI\r\nSET k 1\r\n", b"+OK\r\n+QUEUED\r\n");
    exchange(&mut s, b"EXEC\r\n", b"*1\r\n+OK\r\n");
    let held = paused.elapsed();
    assert!(
        held >= Duration::from_millis(350),
        "EXEC ran after {held:?}"
    );

    let paused = Instant::now();
    exchange(&mut admin, b"CLIENT PAUSE 300 ALL\r\n", b"+OK\r\n");
    exchange(&mut s, b"PING\r\n", b"+PONG\r\n");
    let held = paused.elapsed();
    assert!(
        held >= Duration::from_millis(250),
        "PING ran after {held:?}"
    );
    exchange(&mut admin, b"GET k\r\n", b"$1\r\n1\r\n");
}

/// CONFIG REWRITE edits the file the server started from, keeping its comments, and
/// refuses as Redis does when there is none.
#[test]
fn config_rewrite_writes_set_values_into_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("redistill.toml");
    std::fs::write(&path, "# kept\n[server]\ntimeout = 7\n").unwrap();
    let file = path.clone();
    let server = TestServer::with_config(move |c| {
        c.server.timeout = 7;
        c.source = redistill_server::config::ConfigSource::File(file);
    });
    let mut s = server.raw();
    exchange(
        &mut s,
        b"CONFIG SET maxmemory 1mb timeout 0\r\nCONFIG REWRITE\r\n",
        b"+OK\r\n+OK\r\n",
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "# kept\n[server]\ntimeout = 0\n\n[memory]\nmax_memory = 1048576\n"
    );
    let plain = TestServer::start();
    let mut s = plain.raw();
    exchange(
        &mut s,
        b"CONFIG REWRITE\r\n",
        b"-ERR The server is running without a config file\r\n",
    );
}

/// SLOWLOG with `slowlog-log-slower-than 0`: every command is logged, newest first, with
/// its arguments shortened and passwords redacted as Redis does; fast commands too,
/// though INFO times only a sample of them.
#[test]
fn slowlog_logs_commands_over_the_threshold() {
    let server = TestServer::start();
    let mut c = server.client();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg(0)
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut c).unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("logger")
        .query(&mut c)
        .unwrap();
    let long = "x".repeat(200);
    let _: () = redis::cmd("SET").arg("k").arg(&long).query(&mut c).unwrap();
    for _ in 0..20 {
        let _: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    }
    let _ = redis::cmd("AUTH").arg("secret").query::<String>(&mut c);
    let entries: Vec<redis::Value> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(-1)
        .query(&mut c)
        .unwrap();
    // SLOWLOG RESET, CLIENT SETNAME, SET, 20 GETs and AUTH; ids go on from before the
    // reset, where CONFIG SET was 0.
    assert_eq!(entries.len(), 24, "{entries:?}");
    let fields = |entry: &redis::Value| -> (i64, Vec<String>, String) {
        let redis::Value::Array(f) = entry else {
            panic!("an entry is an array: {entry:?}");
        };
        assert_eq!(f.len(), 6);
        let id: i64 = redis::from_redis_value(f[0].clone()).unwrap();
        let args: Vec<String> = redis::from_redis_value(f[3].clone()).unwrap();
        let name: String = redis::from_redis_value(f[5].clone()).unwrap();
        (id, args, name)
    };
    let (id, args, name) = fields(&entries[0]);
    assert_eq!(
        (id, args, name.as_str()),
        (
            24,
            vec!["AUTH".to_owned(), "(redacted)".to_owned()],
            "logger"
        )
    );
    let (_, args, _) = fields(&entries[21]);
    assert_eq!(args[2], format!("{}... (72 more bytes)", &long[..128]));
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut c).unwrap();
    assert_eq!(len, 25);
    let two: Vec<redis::Value> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(2)
        .query(&mut c)
        .unwrap();
    assert_eq!(two.len(), 2);
    // Inside a transaction each command is logged on its own, and EXEC is not.
    let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut c).unwrap();
    let (): () = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("t")
        .arg(1)
        .ignore()
        .cmd("INCR")
        .arg("t")
        .ignore()
        .query(&mut c)
        .unwrap();
    let entries: Vec<redis::Value> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(-1)
        .query(&mut c)
        .unwrap();
    let names: Vec<String> = entries.iter().map(|e| fields(e).1[0].clone()).collect();
    assert_eq!(names, ["INCR", "SET", "MULTI", "SLOWLOG"], "{names:?}");
    // A negative threshold logs nothing; a short log keeps the newest entries.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-max-len")
        .arg(3)
        .query(&mut c)
        .unwrap();
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut c).unwrap();
    assert_eq!(len, 3);
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg(-1)
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut c).unwrap();
    let _: String = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut c).unwrap();
    assert_eq!(len, 0);
}

/// RESET logs out when a password is set; replies checked against redis-server 7.0
/// started with `--requirepass secret`.
#[test]
fn reset_logs_out_and_restores_a_fresh_connection() {
    let server = TestServer::with_config(|c| c.security.password = Some("secret".into()));
    let mut s = server.raw();
    exchange(
        &mut s,
        b"AUTH secret\r\nCLIENT SETNAME foo\r\nSELECT 3\r\nMULTI\r\nSET a 1\r\nRESET\r\n",
        b"+OK\r\n+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n+RESET\r\n",
    );
    exchange(
        &mut s,
        b"CLIENT GETNAME\r\nGET a\r\n",
        b"-NOAUTH Authentication required.\r\n-NOAUTH Authentication required.\r\n",
    );
    exchange(
        &mut s,
        b"AUTH secret\r\nCLIENT GETNAME\r\nEXEC\r\nDBSIZE\r\n",
        b"+OK\r\n$-1\r\n-ERR EXEC without MULTI\r\n:0\r\n",
    );
    // CLIENT NO-EVICT and NO-TOUCH show as flags `e` and `T`; RESET clears both, as
    // Redis 7.2 does (7.0 kept NO-EVICT).
    let flags = |s: &mut std::net::TcpStream| -> String {
        s.write_all(b"CLIENT INFO\r\n").unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        let at = text.find(" flags=").expect("flags") + 7;
        text[at..].split(' ').next().unwrap().to_owned()
    };
    exchange(
        &mut s,
        b"CLIENT NO-EVICT on\r\nCLIENT NO-TOUCH on\r\n",
        b"+OK\r\n+OK\r\n",
    );
    assert_eq!(flags(&mut s), "eT");
    exchange(&mut s, b"RESET\r\nAUTH secret\r\n", b"+RESET\r\n+OK\r\n");
    assert_eq!(flags(&mut s), "N");
}

#[test]
fn auth_without_a_password_set_behaves_as_redis() {
    let server = TestServer::start();
    let mut s = server.raw();
    exchange(
        &mut s,
        b"AUTH x\r\n",
        b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
    );
    exchange(&mut s, b"AUTH default x\r\n", b"+OK\r\n");
    exchange(
        &mut s,
        b"AUTH bob x\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
}

/// A reply far over the output limit closes only that client, without the server building it.
#[test]
fn hrandfield_with_a_huge_negative_count_closes_only_that_client() {
    let server = TestServer::start();
    let mut s = server.raw();
    exchange(&mut s, b"HSET h f v\r\n", b":1\r\n");
    exchange(
        &mut s,
        b"HRANDFIELD h -3\r\n",
        b"*3\r\n$1\r\nf\r\n$1\r\nf\r\n$1\r\nf\r\n",
    );
    exchange(
        &mut s,
        b"HRANDFIELD h -9223372036854775807 WITHVALUES\r\n",
        b"-ERR value is out of range\r\n",
    );
    exchange(
        &mut s,
        b"HRANDFIELD missing -9223372036854775807\r\n",
        b"*0\r\n",
    );
    s.write_all(b"HRANDFIELD h -9223372036854775807\r\nPING\r\n")
        .unwrap();
    assert_eq!(read_to_close(&mut s), b"");
    let mut other = server.raw();
    exchange(&mut other, b"HLEN h\r\n", b":1\r\n");
}

/// The same for ZRANDMEMBER.
#[test]
fn zrandmember_with_a_huge_negative_count_closes_only_that_client() {
    let server = TestServer::start();
    let mut s = server.raw();
    exchange(&mut s, b"ZADD z 1 m\r\n", b":1\r\n");
    exchange(
        &mut s,
        b"ZRANDMEMBER z -2 WITHSCORES\r\n",
        b"*4\r\n$1\r\nm\r\n$1\r\n1\r\n$1\r\nm\r\n$1\r\n1\r\n",
    );
    exchange(
        &mut s,
        b"ZRANDMEMBER z -9223372036854775807 WITHSCORES\r\n",
        b"-ERR value is out of range\r\n",
    );
    exchange(
        &mut s,
        b"ZRANDMEMBER missing -9223372036854775807\r\n",
        b"*0\r\n",
    );
    s.write_all(b"ZRANDMEMBER z -9223372036854775807\r\nPING\r\n")
        .unwrap();
    assert_eq!(read_to_close(&mut s), b"");
    let mut other = server.raw();
    exchange(&mut other, b"ZCARD z\r\n", b":1\r\n");
}

/// A request as clients encode it: a RESP array of bulk strings.
fn resp_command(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

#[test]
fn go_redis_connect_handshake_succeeds() {
    // go-redis v9 opens each connection with HELLO 3 (authenticating inside it), then
    // pipelines its identity, the database and the client name, lower case as it sends them.
    let server = TestServer::with_config(|c| c.security.password = Some("secret".into()));
    let mut s = server.raw();
    s.write_all(&resp_command(&["hello", "3", "auth", "default", "secret"]))
        .unwrap();
    let mut hello = vec![0u8; 4];
    s.read_exact(&mut hello).unwrap();
    assert_eq!(&hello, b"%7\r\n", "HELLO 3 answers a RESP3 map");
    let mut rest = Vec::new();
    let mut byte = [0u8; 1];
    while !rest.ends_with(b"*0\r\n") {
        s.read_exact(&mut byte).unwrap();
        rest.push(byte[0]);
    }
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.contains("$5\r\nproto\r\n:3\r\n"), "{rest}");
    let mut pipeline = Vec::new();
    for command in [
        &["client", "setinfo", "LIB-NAME", "go-redis(,go1.22.1)"][..],
        &["client", "setinfo", "LIB-VER", "9.5.1"],
        &["select", "2"],
        &["client", "setname", "checkout-service"],
        &["ping"],
        &["client", "info"],
    ] {
        pipeline.extend_from_slice(&resp_command(command));
    }
    exchange(&mut s, &pipeline, b"+OK\r\n+OK\r\n+OK\r\n+OK\r\n+PONG\r\n=");
    // CLIENT INFO in RESP3 is a verbatim string: `=<len>\r\ntxt:<line>\r\n`.
    let mut len = Vec::new();
    while !len.ends_with(b"\r\n") {
        s.read_exact(&mut byte).unwrap();
        len.push(byte[0]);
    }
    let len: usize = String::from_utf8_lossy(&len).trim().parse().unwrap();
    let mut info = vec![0u8; len];
    s.read_exact(&mut info).unwrap();
    let info = String::from_utf8_lossy(&info);
    assert!(info.starts_with("txt:id="), "{info}");
    for field in [
        " name=checkout-service ",
        " db=2 ",
        " resp=3 ",
        " lib-name=go-redis(,go1.22.1) ",
        " lib-ver=9.5.1",
    ] {
        assert!(info.contains(field), "{field:?} missing from {info}");
    }
}
