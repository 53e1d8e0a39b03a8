//! Scripts that run long: past `busy-reply-threshold` other clients are answered `-BUSY`
//! (commands flagged `allow-busy` still run), SCRIPT KILL stops a script that has not
//! written, one that wrote is UNKILLABLE until SHUTDOWN NOSAVE. Texts are Redis 7.0's.
//!
//! The two connections of the first tests land on different workers (connections are
//! handed to the two workers in turn). The `one_worker_` tests run a server with a single
//! worker, so that every client shares the thread running the script: the worker serves
//! them between the script's steps, as Redis does. Their transcript is also compared with a
//! real `redis-server` under `REDIS_DIFF=live`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};

use common::diff::RealRedis;
use common::{PATIENCE, TestServer, wait_until};

fn request(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(server: &TestServer) -> Conn {
        Conn::open_at(server.addr)
    }

    fn open_at(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connects");
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        Conn {
            reader: BufReader::new(stream),
        }
    }

    fn send(&mut self, args: &[&str]) {
        self.reader
            .get_mut()
            .write_all(&request(args))
            .expect("sends");
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("a reply line");
        line.trim_end().to_string()
    }

    fn call(&mut self, args: &[&str]) -> String {
        self.send(args);
        self.line()
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("sends");
    }
}

const BUSY: &str =
    "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

const BUSY_FUNCTION: &str =
    "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

fn server() -> TestServer {
    TestServer::with_config(|c| c.server.busy_reply_threshold = 100)
}

/// A server whose one worker serves every client.
fn one_worker_server() -> TestServer {
    TestServer::with_config(|c| {
        c.server.busy_reply_threshold = 100;
        c.server.workers = 1;
    })
}

/// Waits until the other connection's PING is refused as BUSY (the script has run past the
/// threshold).
fn wait_busy(probe: &mut Conn) {
    wait_until("the script to be reported busy", || {
        probe.call(&["PING"]) == BUSY
    });
}

#[test]
fn a_looping_script_is_busy_for_others_until_script_kill() {
    let server = server();
    let mut runner = Conn::open(&server);
    let mut other = Conn::open(&server);
    assert_eq!(
        other.call(&["SCRIPT", "KILL"]),
        "-NOTBUSY No scripts in execution right now."
    );
    runner.send(&["EVAL", "while true do end", "0"]);
    wait_busy(&mut other);
    assert_eq!(other.call(&["GET", "k"]), BUSY);
    // Commands flagged allow-busy run.
    assert_eq!(other.call(&["MULTI"]), "+OK");
    assert_eq!(other.call(&["DISCARD"]), "+OK");
    assert_eq!(other.call(&["SCRIPT", "KILL"]), "+OK");
    assert_eq!(
        runner.line(),
        format!(
            "-ERR Script killed by user with SCRIPT KILL... script: {}, on @user_script:1.",
            sha1("while true do end")
        )
    );
    assert_eq!(other.call(&["PING"]), "+PONG");
    assert_eq!(runner.call(&["PING"]), "+PONG");
}

#[test]
fn script_kill_stops_loops_in_coroutines_and_under_pcall() {
    let server = server();
    let mut runner = Conn::open(&server);
    let mut other = Conn::open(&server);
    for script in [
        "local co = coroutine.wrap(function() while true do end end) co()",
        "while true do pcall(function() while true do end end) end",
    ] {
        runner.send(&["EVAL", script, "0"]);
        wait_busy(&mut other);
        assert_eq!(other.call(&["SCRIPT", "KILL"]), "+OK");
        let reply = runner.line();
        assert!(
            reply.starts_with("-ERR Script killed by user with SCRIPT KILL..."),
            "{script}: {reply}"
        );
    }
    // The state is usable again, at full speed.
    assert_eq!(
        runner.call(&[
            "EVAL",
            "local s = 0 for i = 1, 1000000 do s = s + i end return s",
            "0"
        ]),
        ":500000500000"
    );
}

#[test]
fn a_function_is_killed_with_function_kill() {
    let server = server();
    let mut runner = Conn::open(&server);
    let mut other = Conn::open(&server);
    runner.send(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=spin\nredis.register_function('spin', function() while true do end end)",
    ]);
    assert_eq!(runner.line(), "$4");
    assert_eq!(runner.line(), "spin");
    runner.send(&["FCALL", "spin", "0"]);
    wait_until("the function to be reported busy", || {
        other.call(&["PING"]).starts_with("-BUSY")
    });
    assert_eq!(other.call(&["FUNCTION", "KILL"]), "+OK");
    assert_eq!(
        runner.line(),
        "-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2."
    );
}

#[test]
fn a_script_that_wrote_is_unkillable_and_shutdown_nosave_ends_it() {
    unkillable_until_shutdown_nosave(&server());
}

#[test]
fn one_worker_a_script_that_wrote_is_unkillable_and_shutdown_nosave_ends_it() {
    unkillable_until_shutdown_nosave(&one_worker_server());
}

/// A script that wrote and loops: SCRIPT KILL is refused, only SHUTDOWN NOSAVE ends it,
/// and its client is answered before the server goes.
fn unkillable_until_shutdown_nosave(server: &TestServer) {
    let mut runner = Conn::open(server);
    let mut other = Conn::open(server);
    runner.send(&["EVAL", "redis.call('SET', 'k', 'v') while true do end", "0"]);
    wait_busy(&mut other);
    // Only NOSAVE shuts down while a script is busy: nothing half written is saved.
    assert_eq!(other.call(&["SHUTDOWN"]), BUSY);
    assert_eq!(other.call(&["SHUTDOWN", "SAVE"]), BUSY);
    assert_eq!(
        other.call(&["SCRIPT", "KILL"]),
        "-UNKILLABLE Sorry the script already executed write commands against the dataset. \
         You can either wait the script termination or kill the server in a hard way using \
         the SHUTDOWN NOSAVE command."
    );
    other.send(&["SHUTDOWN", "NOSAVE"]);
    let mut rest = Vec::new();
    other
        .reader
        .read_to_end(&mut rest)
        .expect("closed after SHUTDOWN");
    assert!(rest.is_empty(), "SHUTDOWN answers nothing");
    let reply = runner.line();
    assert!(
        reply.starts_with("-ERR Script stopped by SHUTDOWN NOSAVE"),
        "{reply:?}"
    );
}

/// SHA1 in hex, as the server names scripts.
fn sha1(text: &str) -> String {
    // Asked of a fresh server: SCRIPT LOAD answers the SHA1.
    let server = TestServer::start();
    let mut conn = Conn::open(&server);
    conn.send(&["SCRIPT", "LOAD", text]);
    assert_eq!(conn.line(), "$40");
    conn.line()
}

/// One whole reply, as text: a line, and a bulk string's body line after its length.
fn read_reply(reader: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    if line.starts_with('$') && !line.starts_with("$-1") {
        reader.read_line(&mut line)?;
    }
    Ok(line)
}

const PAUSE_LIBRARY: &str = "#!lua name=pauselib\n\
    redis.register_function('w', function() return redis.call('set', 'x', '1') end)\n\
    redis.register_function{function_name='ro', callback=function() return redis.call('get', 'x') end, flags={'no-writes'}}\n\
    redis.register_function{function_name='pub', callback=function() return redis.call('publish', 'c', 'm') end, flags={'no-writes'}}";

/// Under CLIENT PAUSE WRITE, which of `cases` the server at `port` holds, each with its
/// reply: every case is sent at once on a connection of its own; those that have not
/// replied a second later are held, and reply once the pause is lifted.
fn held_under_pause_write(port: u16, cases: &[&[&str]]) -> Vec<(bool, String)> {
    let open = || {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        BufReader::new(stream)
    };
    let mut control = open();
    let mut call = |args: &[&str]| {
        control.get_mut().write_all(&request(args)).expect("sends");
        read_reply(&mut control).expect("reply")
    };
    call(&["FLUSHALL"]);
    call(&["FUNCTION", "FLUSH"]);
    call(&["FUNCTION", "LOAD", PAUSE_LIBRARY]);
    call(&["CLIENT", "PAUSE", "100000", "WRITE"]);
    let mut conns: Vec<_> = cases.iter().map(|_| open()).collect();
    for (conn, case) in conns.iter_mut().zip(cases) {
        conn.get_mut().write_all(&request(case)).expect("sends");
    }
    let window = std::time::Instant::now() + std::time::Duration::from_secs(1);
    let mut outcomes: Vec<Option<String>> = conns
        .iter_mut()
        .map(|conn| {
            let left = window.saturating_duration_since(std::time::Instant::now());
            let left = left.max(std::time::Duration::from_millis(1));
            conn.get_ref()
                .set_read_timeout(Some(left))
                .expect("timeout");
            read_reply(conn).ok()
        })
        .collect();
    call(&["CLIENT", "UNPAUSE"]);
    conns
        .iter_mut()
        .zip(outcomes.iter_mut())
        .map(|(conn, outcome)| match outcome.take() {
            Some(reply) => (false, reply),
            None => {
                conn.get_ref()
                    .set_read_timeout(Some(PATIENCE))
                    .expect("timeout");
                (true, read_reply(conn).expect("reply once unpaused"))
            }
        })
        .collect()
}

/// Redis 7.0 holds EVAL, EVALSHA and FCALL under CLIENT PAUSE WRITE by what the script or
/// function declares: read-only ones (`no-writes`) run, those that may write wait, and a
/// script without shebang is held as before 7.0 (EVAL, EVALSHA) or not (the `_RO` forms).
#[test]
fn client_pause_write_holds_scripts_by_their_declared_flags_as_redis_does() {
    let cases: &[&[&str]] = &[
        &["EVAL", "return 1", "0"],
        &["EVAL", "#!lua\nreturn 1", "0"],
        &["EVAL", "#!lua flags=no-writes\nreturn 1", "0"],
        &["EVAL", "#!lua flags=allow-oom\nreturn 1", "0"],
        &["EVAL", "#!lua flags=bogus\nreturn 1", "0"],
        &["EVAL_RO", "return 1", "0"],
        &["EVAL_RO", "#!lua\nreturn 1", "0"],
        &[
            "EVAL_RO",
            "#!lua flags=no-writes\nreturn redis.call('get', 'x')",
            "0",
        ],
        &["EVALSHA", "0123456789012345678901234567890123456789", "0"],
        &["FCALL", "w", "0"],
        &["FCALL", "ro", "0"],
        &["FCALL", "ro", "-1"],
        &["FCALL", "pub", "0"],
        &["FCALL", "nosuch", "0"],
        &["FCALL_RO", "w", "0"],
        &["FCALL_RO", "ro", "0"],
    ];
    let redis = common::diff::RealRedis::start();
    let server = TestServer::start();
    let theirs = held_under_pause_write(redis.port, cases);
    let ours = held_under_pause_write(server.addr.port(), cases);
    for ((case, theirs), ours) in cases.iter().zip(&theirs).zip(&ours) {
        assert_eq!(ours, theirs, "{case:?}: (held, reply), redistill vs redis");
    }
    let held: Vec<bool> = theirs.iter().map(|(held, _)| *held).collect();
    assert_eq!(
        held,
        [
            true, true, false, true, true, false, true, false, true, true, false, false, false,
            true, true, false
        ],
        "what redis-server holds"
    );
}

/// FUNCTION STATS on `port`, where a function (then a script) spins on another connection
/// past a 100 ms `busy-reply-threshold`: the reply while the function runs (its
/// `duration_ms` checked, then zeroed), and while the script runs.
fn function_stats_while_busy(port: u16) -> (redis::Value, redis::RedisResult<redis::Value>) {
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .expect("url")
        .get_connection()
        .expect("connects");
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("busy-reply-threshold")
        .arg(100)
        .query(&mut c)
        .expect("config");
    let () = redis::cmd("FUNCTION")
        .arg("FLUSH")
        .query(&mut c)
        .expect("flush");
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg("#!lua name=spin\nredis.register_function('spin', function() while true do end end)\nredis.register_function('other', function() return 1 end)")
        .query(&mut c)
        .expect("load");
    let mut runner = BufReader::new(TcpStream::connect(("127.0.0.1", port)).expect("connects"));
    runner
        .get_ref()
        .set_read_timeout(Some(PATIENCE))
        .expect("timeout");
    let stats = |c: &mut redis::Connection| -> redis::RedisResult<redis::Value> {
        redis::cmd("FUNCTION").arg("STATS").query(c)
    };
    let busy = |c: &mut redis::Connection| {
        wait_until("the script to be reported busy", || {
            redis::cmd("PING").query::<String>(c).is_err()
        });
    };
    runner
        .get_mut()
        .write_all(&request(&["FCALL", "spin", "2", "k1", "k2", "arg"]))
        .expect("sends");
    busy(&mut c);
    let mut while_function = stats(&mut c).expect("FUNCTION STATS while a function runs");
    if let redis::Value::Array(fields) = &mut while_function
        && let redis::Value::Array(running) = &mut fields[1]
    {
        let redis::Value::Int(ms) = running[5] else {
            panic!("duration_ms: {running:?}");
        };
        assert!(ms >= 100, "ran past the threshold: {ms} ms");
        running[5] = redis::Value::Int(0);
    }
    let () = redis::cmd("FUNCTION")
        .arg("KILL")
        .query(&mut c)
        .expect("kill");
    read_reply(&mut runner).expect("the killed function's error");
    runner
        .get_mut()
        .write_all(&request(&["EVAL", "while true do end", "0"]))
        .expect("sends");
    busy(&mut c);
    let while_script = stats(&mut c);
    let () = redis::cmd("SCRIPT")
        .arg("KILL")
        .query(&mut c)
        .expect("kill");
    read_reply(&mut runner).expect("the killed script's error");
    (while_function, while_script)
}

#[test]
fn function_stats_shows_the_running_function_as_redis_does() {
    let redis = common::diff::RealRedis::start();
    let server = TestServer::start();
    let (theirs_function, theirs_script) = function_stats_while_busy(redis.port);
    let (ours_function, ours_script) = function_stats_while_busy(server.addr.port());
    assert_eq!(ours_function, theirs_function);
    let text = |r: redis::RedisResult<redis::Value>| format!("{:?}", r.map_err(|e| e.to_string()));
    assert_eq!(text(ours_script), text(theirs_script));
    // The running function, named, with the command that called it.
    let shown = format!("{ours_function:?}");
    for part in [
        "spin",
        "FCALL",
        "k1",
        "k2",
        "arg",
        "duration_ms",
        "libraries_count",
    ] {
        assert!(shown.contains(part), "{part} in {shown}");
    }
}

/// Clients of the worker running a looping script, as Redis answers them: the script's
/// `-BUSY` for PING and data commands (also to a client that connects meanwhile) and for
/// SHUTDOWN without NOSAVE and for FUNCTION KILL, the commands allowed while busy run
/// (MULTI, SCRIPT KILL), a request sent in part is kept, SCRIPT KILL from one of them stops
/// the script, what the script's own client sent meanwhile is answered after it, and each
/// client goes on with the state it had (the transaction opened while busy). Returns every
/// reply line, in order.
fn eval_busy_transcript(addr: SocketAddr) -> Vec<String> {
    let mut runner = Conn::open_at(addr);
    let mut probe = Conn::open_at(addr);
    let mut transcript = Vec::new();
    runner.send(&["EVAL", "while true do end", "0"]);
    wait_busy(&mut probe);
    for args in [
        &["GET", "k"][..],
        &["PING"],
        &["PING", "hello"],
        &["SHUTDOWN"],
        &["SHUTDOWN", "SAVE"],
        &["MULTI"],
    ] {
        transcript.push(probe.call(args));
    }
    let mut late = Conn::open_at(addr);
    transcript.push(late.call(&["PING"]));
    transcript.push(late.call(&["SET", "k", "v"]));
    // Half a request now, the rest once the script has ended.
    probe.send_raw(b"*2\r\n$3\r\nGET\r\n$1\r\n");
    // The script's own client sends on and closes its side: answered after the script.
    runner.send(&["PING"]);
    runner
        .reader
        .get_ref()
        .shutdown(std::net::Shutdown::Write)
        .expect("half-closes");
    // FUNCTION KILL stops only functions.
    transcript.push(late.call(&["FUNCTION", "KILL"]));
    transcript.push(late.call(&["SCRIPT", "KILL"]));
    transcript.push(runner.line());
    transcript.push(runner.line());
    let mut rest = Vec::new();
    runner.reader.read_to_end(&mut rest).expect("closed");
    transcript.push(format!(
        "then closed, after {:?}",
        String::from_utf8_lossy(&rest)
    ));
    probe.send_raw(b"k\r\n");
    transcript.push(probe.line());
    transcript.push(probe.call(&["EXEC"]));
    transcript.push(probe.line());
    transcript.push(late.call(&["PING"]));
    transcript
}

/// The same for a looping function, with its own `-BUSY` text (for SCRIPT KILL too) and
/// FUNCTION KILL.
fn fcall_busy_transcript(addr: SocketAddr) -> Vec<String> {
    let mut runner = Conn::open_at(addr);
    let mut probe = Conn::open_at(addr);
    let mut transcript = Vec::new();
    runner.send(&[
        "FUNCTION",
        "LOAD",
        "REPLACE",
        "#!lua name=spin\nredis.register_function('spin', function() while true do end end)",
    ]);
    transcript.push(runner.line());
    transcript.push(runner.line());
    runner.send(&["FCALL", "spin", "0"]);
    wait_until("the function to be reported busy", || {
        probe.call(&["PING"]).starts_with("-BUSY")
    });
    transcript.push(probe.call(&["GET", "k"]));
    let mut late = Conn::open_at(addr);
    transcript.push(late.call(&["PING"]));
    // SCRIPT KILL stops only scripts.
    transcript.push(late.call(&["SCRIPT", "KILL"]));
    transcript.push(late.call(&["FUNCTION", "KILL"]));
    transcript.push(runner.line());
    transcript.push(probe.call(&["PING"]));
    transcript.push(runner.call(&["PING"]));
    transcript
}

/// A real redis-server answering `-BUSY` after 100 ms, as [`one_worker_server`].
fn real_redis() -> RealRedis {
    let redis = RealRedis::start();
    let mut conn = Conn::open_at(SocketAddr::from(([127, 0, 0, 1], redis.port)));
    assert_eq!(
        conn.call(&["CONFIG", "SET", "busy-reply-threshold", "100"]),
        "+OK"
    );
    redis
}

/// Under `REDIS_DIFF=live`, `transcript` of a real redis-server equals `ours`.
fn compare_live(ours: &[String], transcript: fn(SocketAddr) -> Vec<String>) {
    if std::env::var("REDIS_DIFF").unwrap_or_default() != "live" {
        return;
    }
    let redis = real_redis();
    let theirs = transcript(SocketAddr::from(([127, 0, 0, 1], redis.port)));
    assert_eq!(
        ours, theirs,
        "redistill (left) and redis-server (right) differ"
    );
}

#[test]
fn one_worker_a_looping_script_is_busy_for_the_clients_of_its_worker() {
    let server = one_worker_server();
    let ours = eval_busy_transcript(server.addr);
    let killed = format!(
        "-ERR Script killed by user with SCRIPT KILL... script: {}, on @user_script:1.",
        sha1("while true do end")
    );
    let expected = [
        BUSY,
        BUSY,
        BUSY, // GET, PING, PING hello
        BUSY,
        BUSY,
        "+OK", // SHUTDOWN, SHUTDOWN SAVE, MULTI
        BUSY,
        BUSY, // a client that connected while busy: PING, SET
        BUSY,
        "+OK",
        &killed, // FUNCTION KILL, SCRIPT KILL, and the script's own reply
        "+PONG",
        "then closed, after \"\"", // what its client sent meanwhile
        "+QUEUED",
        "*1",
        "$-1", // the GET sent in two parts, queued; EXEC
        "+PONG",
    ];
    assert_eq!(ours, expected);
    // Nothing ran while busy: the SET was refused.
    assert_eq!(Conn::open(&server).call(&["EXISTS", "k"]), ":0");
    compare_live(&ours, eval_busy_transcript);
}

#[test]
fn one_worker_a_looping_function_is_busy_until_function_kill() {
    let server = one_worker_server();
    let ours = fcall_busy_transcript(server.addr);
    let expected = [
        "$4",
        "spin",
        BUSY_FUNCTION,
        BUSY_FUNCTION,
        BUSY_FUNCTION, // SCRIPT KILL
        "+OK",
        "-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.",
        "+PONG",
        "+PONG",
    ];
    assert_eq!(ours, expected);
    compare_live(&ours, fcall_busy_transcript);
}
