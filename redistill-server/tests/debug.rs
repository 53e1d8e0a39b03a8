//! DEBUG end to end: RELOAD keeps every type's content and TTLs, OBJECT's status line has
//! Redis's fields in Redis's order, `enable-debug-command` decides who may run DEBUG,
//! SET-ACTIVE-EXPIRE stops and restarts the expiry cycle, and RESP3's push sample.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use common::{TestServer, exchange, wait_until};
use redis::Value;
use redistill_server::config::DebugCommandAccess;

fn server_with_snapshot(dir: &tempfile::TempDir) -> TestServer {
    let path = dir.path().join("dump.rdb");
    TestServer::with_config(|c| c.persistence.snapshot_path = path)
}

fn cmd(c: &mut redis::Connection, args: &[&str]) -> Value {
    let mut command = redis::cmd(args[0]);
    for a in &args[1..] {
        command.arg(*a);
    }
    command.query(c).expect("command answers")
}

fn status(c: &mut redis::Connection, args: &[&str]) -> String {
    match cmd(c, args) {
        Value::SimpleString(s) => s,
        Value::Okay => "OK".into(),
        other => panic!("{args:?} answered {other:?}, not a status"),
    }
}

/// Writes a key of every type, each also with a TTL.
fn fill(c: &mut redis::Connection) {
    let big = "x".repeat(100);
    let writes: &[&[&str]] = &[
        &["SET", "s", "hello"],
        &["SET", "n", "123"],
        &["SET", "big", &big],
        &["RPUSH", "l", "a", "b", "1", &big],
        &["HSET", "h", "f", "v", "g", "2"],
        &["HSET", "hbig", "f", &big],
        &["SADD", "si", "1", "2", "3"],
        &["SADD", "ss", "a", "b"],
        &["ZADD", "z", "0.1", "a", "-2.5", "b", "inf", "c"],
        &["ZADD", "zbig", "1", &big],
        &["SET", "s_ttl", "v", "EX", "1000"],
        &["RPUSH", "l_ttl", "a"],
        &["HSET", "h_ttl", "f", "v"],
        &["SADD", "s2_ttl", "m"],
        &["ZADD", "z_ttl", "1", "m"],
    ];
    for w in writes {
        cmd(c, w);
    }
    for k in ["l_ttl", "h_ttl", "s2_ttl", "z_ttl"] {
        cmd(c, &["PEXPIRE", k, "1000000"]);
    }
    cmd(c, &["SELECT", "3"]);
    cmd(c, &["SET", "other-db", "v"]);
    cmd(c, &["SELECT", "0"]);
}

const KEYS: &[&str] = &[
    "s", "n", "big", "l", "h", "hbig", "si", "ss", "z", "zbig", "s_ttl", "l_ttl", "h_ttl",
    "s2_ttl", "z_ttl",
];

fn ttls(c: &mut redis::Connection) -> Vec<i64> {
    KEYS.iter()
        .map(|k| match cmd(c, &["PTTL", k]) {
            Value::Int(n) => n,
            other => panic!("PTTL answered {other:?}"),
        })
        .collect()
}

#[test]
fn reload_keeps_every_type_and_ttls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server_with_snapshot(&dir);
    let mut c = server.client();
    fill(&mut c);
    let digest = status(&mut c, &["DEBUG", "DIGEST"]);
    assert_ne!(digest, "0".repeat(40));
    let mut args = vec!["DEBUG", "DIGEST-VALUE"];
    args.extend(KEYS);
    let values = cmd(&mut c, &args);
    let before = ttls(&mut c);

    assert_eq!(status(&mut c, &["DEBUG", "RELOAD"]), "OK");
    assert_eq!(status(&mut c, &["DEBUG", "DIGEST"]), digest);
    assert_eq!(cmd(&mut c, &args), values);
    for (key, (was, now)) in KEYS.iter().zip(before.iter().zip(ttls(&mut c))) {
        if *was < 0 {
            assert_eq!(now, *was, "{key} has no TTL");
        } else {
            assert!(now > 0 && now <= *was, "{key}: TTL {was} then {now}");
        }
    }

    // NOSAVE loads the file as it was: a key written since is gone, unless NOFLUSH keeps
    // the keyspace and merges the file into it.
    cmd(&mut c, &["SET", "later", "v"]);
    assert_eq!(
        status(&mut c, &["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]),
        "OK"
    );
    assert_eq!(cmd(&mut c, &["EXISTS", "later"]), Value::Int(1));
    assert_eq!(status(&mut c, &["DEBUG", "RELOAD", "NOSAVE"]), "OK");
    assert_eq!(cmd(&mut c, &["EXISTS", "later"]), Value::Int(0));
    assert_eq!(status(&mut c, &["DEBUG", "DIGEST"]), digest);
}

#[test]
fn reload_without_a_file_fails_as_redis_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = server_with_snapshot(&dir);
    let mut c = server.client();
    let err = redis::cmd("DEBUG")
        .arg("RELOAD")
        .arg("NOSAVE")
        .query::<Value>(&mut c)
        .expect_err("no file to load");
    assert!(
        err.to_string()
            .contains("Error trying to load the RDB dump, check server logs."),
        "{err}"
    );
}

/// The fields of a DEBUG OBJECT line, checked for Redis's names and order; returns the
/// encoding.
fn object_fields(line: &str) -> (String, Vec<(String, String)>) {
    assert!(line.starts_with("Value at:0x"), "{line}");
    let fields: Vec<(String, String)> = line["Value ".len()..]
        .split(' ')
        .map(|f| {
            let (k, v) = f.split_once(':').expect("name:value");
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    let mut expected = vec![
        "at",
        "refcount",
        "encoding",
        "serializedlength",
        "lru",
        "lru_seconds_idle",
    ];
    let encoding = fields[2].1.clone();
    if encoding == "quicklist" {
        expected.extend([
            "ql_nodes",
            "ql_avg_node",
            "ql_listpack_max",
            "ql_compressed",
            "ql_uncompressed_size",
        ]);
    }
    assert_eq!(names, expected, "{line}");
    for (name, value) in &fields[1..] {
        if name == "encoding" {
            continue;
        }
        assert!(value.parse::<f64>().is_ok(), "{name} is a number in {line}");
    }
    (encoding, fields)
}

#[test]
fn debug_object_reports_redis_fields_for_every_type() {
    let server = TestServer::start();
    let mut c = server.client();
    fill(&mut c);
    let cases = [
        ("s", "embstr"),
        ("n", "int"),
        ("big", "raw"),
        ("l", "quicklist"),
        ("h", "listpack"),
        ("hbig", "hashtable"),
        ("si", "intset"),
        ("ss", "listpack"),
        ("z", "listpack"),
        ("zbig", "skiplist"),
    ];
    for (key, encoding) in cases {
        let line = status(&mut c, &["DEBUG", "OBJECT", key]);
        let (found, fields) = object_fields(&line);
        assert_eq!(found, encoding, "{key}: {line}");
        if key == "l" {
            let field = |n: &str| fields.iter().find(|(k, _)| k == n).expect(n).1.clone();
            assert_eq!(field("ql_nodes"), "1");
            assert_eq!(field("ql_avg_node"), "4.00");
            assert_eq!(field("ql_listpack_max"), "-2");
            assert_eq!(field("ql_compressed"), "0");
        }
    }
    assert!(
        status(&mut c, &["DEBUG", "OBJECT", "n"]).contains(" refcount:2147483647 "),
        "small integers are shared objects in Redis"
    );
}

#[test]
fn enable_debug_command_no_refuses_every_client() {
    let server = TestServer::with_config(|c| {
        c.server.enable_debug_command = DebugCommandAccess::No;
    });
    let mut raw = server.raw();
    exchange(
        &mut raw,
        b"DEBUG DIGEST\r\n",
        b"-ERR DEBUG command not allowed. If the enable-debug-command option is set to \
          \"local\", you can run it from a local connection, otherwise you need to set this \
          option in the configuration file, and then restart the server.\r\n",
    );
    // Arity is checked first, as in Redis.
    exchange(
        &mut raw,
        b"DEBUG\r\n",
        b"-ERR wrong number of arguments for 'debug' command\r\n",
    );
    exchange(
        &mut raw,
        b"CONFIG GET enable-debug-command\r\n",
        b"*2\r\n$20\r\nenable-debug-command\r\n$2\r\nno\r\n",
    );
}

#[test]
fn local_clients_may_debug_by_default() {
    let server = TestServer::start();
    let mut raw = server.raw();
    exchange(
        &mut raw,
        b"DEBUG DIGEST\r\n",
        b"+0000000000000000000000000000000000000000\r\n",
    );
    exchange(
        &mut raw,
        b"CONFIG SET enable-debug-command yes\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - \
          can't set immutable config\r\n",
    );
}

#[test]
fn resp3_push_sample_is_a_push_then_a_reply() {
    let server = TestServer::start();
    let mut raw = server.raw();
    exchange(&mut raw, b"HELLO 3\r\n", b"%7\r\n");
    let mut rest = [0u8; 1];
    // Drain the rest of HELLO's map up to its last element, `*0\r\n` (modules).
    let mut tail = Vec::new();
    while !tail.ends_with(b"*0\r\n") {
        std::io::Read::read_exact(&mut raw, &mut rest).expect("hello");
        tail.push(rest[0]);
    }
    exchange(
        &mut raw,
        b"DEBUG PROTOCOL push\r\n",
        b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n\
          $40\r\nSome real reply following the push reply\r\n",
    );
}

#[test]
fn set_active_expire_stops_and_restarts_the_expiry_cycle() {
    let server = TestServer::with_config(|c| c.server.hz = 500);
    let mut c = server.client();
    assert_eq!(status(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "OK");
    for i in 0..20 {
        cmd(&mut c, &["SET", &format!("k{i}"), "v", "PX", "1"]);
    }
    let store = server.store();
    let entries = || store.db_info(0).map_or(0, |i| i.keys);
    // The housekeeping thread samples the command rate every 100 ms in the same loop that
    // runs the expiry cycle (every 2 ms at this hz), so a rate above zero proves that loop
    // went round many cycle periods after the keys expired: nothing may have reclaimed them
    // (reading them would, so only PINGs are sent).
    wait_until("the housekeeping loop to sample a command rate", || {
        cmd(&mut c, &["PING"]);
        let info: String = redis::cmd("INFO").arg("stats").query(&mut c).expect("INFO");
        info.lines()
            .find_map(|l| l.strip_prefix("instantaneous_ops_per_sec:"))
            .is_some_and(|v| v.trim() != "0")
    });
    assert_eq!(entries(), 20);
    assert_eq!(status(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), "OK");
    wait_until("the expiry cycle to reclaim the keys", || entries() == 0);
}

/// Whether a PING on each of `others`, sent right after `sleeper` sent DEBUG SLEEP, is
/// answered only once the sleep is over.
fn pings_wait_for_the_sleep(sleeper: &mut TcpStream, others: &mut [TcpStream]) -> bool {
    let (sent, started) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let sleeping = scope.spawn(move || {
            sleeper.write_all(b"DEBUG SLEEP 0.05\r\n").expect("send");
            sent.send(()).expect("signal");
            let mut ok = [0u8; 5];
            sleeper.read_exact(&mut ok).expect("reply");
            assert_eq!(&ok, b"+OK\r\n");
            Instant::now()
        });
        started.recv().expect("DEBUG sent");
        let answered: Vec<Instant> = others
            .iter_mut()
            .map(|c| {
                exchange(c, b"PING\r\n", b"+PONG\r\n");
                Instant::now()
            })
            .collect();
        let woke = sleeping.join().expect("sleeper");
        answered.iter().all(|&at| at >= woke)
    })
}

#[test]
fn debug_sleep_stops_every_worker() {
    let server = TestServer::with_config(|c| c.server.workers = 2);
    // Connections go to the two workers in turn, so one of the two others is on a worker
    // the sleeper is not on.
    let mut sleeper = server.raw();
    let mut others = [server.raw(), server.raw()];
    // A PING can be served before the sleeper's worker has read the DEBUG; a server that
    // stopped only one worker answers it early in every round.
    let stopped = (0..100).any(|_| pings_wait_for_the_sleep(&mut sleeper, &mut others));
    assert!(
        stopped,
        "a PING on another worker was answered during DEBUG SLEEP"
    );
}
