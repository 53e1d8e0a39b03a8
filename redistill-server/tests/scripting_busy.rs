//! Scripts that run long: past `busy-reply-threshold` other clients are answered `-BUSY`
//! (commands flagged `allow-busy` still run), SCRIPT KILL stops a script that has not
//! written, one that wrote is UNKILLABLE until SHUTDOWN NOSAVE. Texts are Redis 7.0's.
//!
//! The two connections of each test land on different workers (connections are handed to
//! the two workers in turn), as a script occupies the thread of the worker running it.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

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
        let stream = TcpStream::connect(server.addr).expect("connects");
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
}

const BUSY: &str =
    "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

fn server() -> TestServer {
    TestServer::with_config(|c| c.server.busy_reply_threshold = 100)
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
    let server = server();
    let mut runner = Conn::open(&server);
    let mut other = Conn::open(&server);
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
    // The script was stopped, so its client is answered before the server goes.
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
