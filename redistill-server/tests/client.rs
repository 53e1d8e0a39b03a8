//! Behaviour through a real client library (the `redis` crate), as applications see it.

mod common;

use std::collections::HashMap;
use std::thread;
use std::time::{Duration, Instant};

use common::TestServer;
use redis::{Commands, RedisResult, Value};

#[test]
fn strings_and_counters() {
    let server = TestServer::start();
    let mut c = server.client();
    let _: () = c.set("greeting", "hello").unwrap();
    assert_eq!(c.get::<_, String>("greeting").unwrap(), "hello");
    assert_eq!(c.append::<_, _, i64>("greeting", " world").unwrap(), 11);
    assert_eq!(c.strlen::<_, i64>("greeting").unwrap(), 11);
    assert_eq!(
        c.getrange::<_, String>("greeting", -5, -1).unwrap(),
        "world"
    );
    assert_eq!(c.incr::<_, _, i64>("hits", 5).unwrap(), 5);
    assert_eq!(c.decr::<_, _, i64>("hits", 2).unwrap(), 3);
    let float: f64 = redis::cmd("INCRBYFLOAT")
        .arg("f")
        .arg("1.5")
        .query(&mut c)
        .unwrap();
    assert_eq!(float, 1.5);
    let err: RedisResult<i64> = c.incr("greeting", 1);
    assert!(err.unwrap_err().to_string().contains("not an integer"));
    let _: () = c.mset(&[("a", "1"), ("b", "2")]).unwrap();
    let values: Vec<Option<String>> = c.mget(&["a", "missing", "b"]).unwrap();
    assert_eq!(values, [Some("1".into()), None, Some("2".into())]);
}

#[test]
fn expiry_and_keys() {
    let server = TestServer::start();
    let mut c = server.client();
    let _: () = c.set_ex("session", "data", 100).unwrap();
    let ttl: i64 = c.ttl("session").unwrap();
    assert!((99..=100).contains(&ttl), "ttl {ttl}");
    assert_eq!(c.ttl::<_, i64>("missing").unwrap(), -2);
    let _: () = c.set("plain", "v").unwrap();
    assert_eq!(c.ttl::<_, i64>("plain").unwrap(), -1);
    // An expiry in the past deletes the key at once.
    let _: () = redis::cmd("PEXPIREAT")
        .arg("plain")
        .arg(1)
        .query(&mut c)
        .unwrap();
    assert!(!c.exists::<_, bool>("plain").unwrap());
    assert!(c.persist::<_, bool>("session").unwrap());
    assert_eq!(c.ttl::<_, i64>("session").unwrap(), -1);
    let mut keys: Vec<String> = c.keys("s*").unwrap();
    keys.sort();
    assert_eq!(keys, ["session"]);
    let _: () = c.rename("session", "renamed").unwrap();
    assert_eq!(c.del::<_, i64>(&["renamed", "nothing"]).unwrap(), 1);
}

#[test]
fn hashes() {
    let server = TestServer::start();
    let mut c = server.client();
    let _: () = c
        .hset_multiple("user:1", &[("name", "ada"), ("visits", "1")])
        .unwrap();
    assert_eq!(c.hincr::<_, _, _, i64>("user:1", "visits", 2).unwrap(), 3);
    let all: HashMap<String, String> = c.hgetall("user:1").unwrap();
    assert_eq!(all["name"], "ada");
    assert_eq!(all["visits"], "3");
    assert_eq!(c.hlen::<_, i64>("user:1").unwrap(), 2);
    let err: RedisResult<Option<String>> = c.get("user:1");
    assert!(err.unwrap_err().to_string().contains("WRONGTYPE"));
}

#[test]
fn scan_iter_visits_every_key() {
    let server = TestServer::start();
    let mut c = server.client();
    for i in 0..500 {
        let _: () = c.set(format!("key:{i}"), i).unwrap();
    }
    let mut seen: Vec<String> = c
        .scan_match("key:*")
        .unwrap()
        .collect::<RedisResult<_>>()
        .unwrap();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 500);
}

#[test]
fn select_isolates_databases() {
    let server = TestServer::start();
    let mut db2 = redis::Client::open(format!("redis://{}/2", server.addr))
        .unwrap()
        .get_connection()
        .unwrap();
    let _: () = db2.set("only-in-2", "x").unwrap();
    let mut db0 = server.client();
    assert!(!db0.exists::<_, bool>("only-in-2").unwrap());
    assert_eq!(redis::cmd("DBSIZE").query::<i64>(&mut db2).unwrap(), 1);
}

#[test]
fn concurrent_incr_loses_no_update() {
    let server = TestServer::start();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mut c = server.client();
            thread::spawn(move || {
                for _ in 0..500 {
                    let _: i64 = c.incr("counter", 1).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(server.client().get::<_, i64>("counter").unwrap(), 2000);
}

#[test]
fn connect_handshakes_of_clients_succeed() {
    let server = TestServer::start();
    let mut c = server.client();
    // What redis-py and go-redis send on connect.
    let ok: String = redis::cmd("CLIENT")
        .arg("SETINFO")
        .arg("LIB-NAME")
        .arg("redis-py")
        .query(&mut c)
        .unwrap();
    assert_eq!(ok, "OK");
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("worker-1")
        .query(&mut c)
        .unwrap();
    let name: String = redis::cmd("CLIENT").arg("GETNAME").query(&mut c).unwrap();
    assert_eq!(name, "worker-1");
    let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut c).unwrap();
    assert!(info.contains("name=worker-1") && info.contains("lib-name=redis-py"));
    let hello: Value = redis::cmd("HELLO").arg(3).query(&mut c).unwrap();
    assert!(matches!(hello, Value::Map(_)), "{hello:?}");
    let maxmemory: HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmem*")
        .query(&mut c)
        .unwrap();
    assert_eq!(maxmemory["maxmemory"], "0");
    let info: String = redis::cmd("INFO").arg("keyspace").query(&mut c).unwrap();
    assert!(info.starts_with("# Keyspace"));
}

#[test]
fn multi_exec_runs_queued_commands_atomically() {
    let server = TestServer::start();
    let mut c = server.client();
    let (count, ttl): (i64, i64) = redis::pipe()
        .atomic()
        .incr("rate:user", 1)
        .expire("rate:user", 3600)
        .ignore()
        .ttl("rate:user")
        .query(&mut c)
        .unwrap();
    assert_eq!((count, ttl), (1, 3600));
}

#[test]
fn exec_fails_when_a_watched_key_changed() {
    let server = TestServer::start();
    let mut c = server.client();
    let mut other = server.client();
    let _: () = redis::cmd("WATCH").arg("balance").query(&mut c).unwrap();
    let _: () = other.set("balance", 100).unwrap();
    let _: () = redis::cmd("MULTI").query(&mut c).unwrap();
    let _: () = redis::cmd("SET")
        .arg("balance")
        .arg(0)
        .query(&mut c)
        .unwrap();
    let result: Value = redis::cmd("EXEC").query(&mut c).unwrap();
    assert_eq!(result, Value::Nil, "EXEC must abort");
    assert_eq!(c.get::<_, i64>("balance").unwrap(), 100);

    // Without interference the same transaction commits.
    let _: () = redis::cmd("WATCH").arg("balance").query(&mut c).unwrap();
    let _: () = other.set("unrelated", 1).unwrap();
    let _: () = redis::cmd("MULTI").query(&mut c).unwrap();
    let _: () = redis::cmd("SET")
        .arg("balance")
        .arg(0)
        .query(&mut c)
        .unwrap();
    let result: Value = redis::cmd("EXEC").query(&mut c).unwrap();
    assert_eq!(result, Value::Array(vec![Value::Okay]));
}

/// Two clients increment one counter through MULTI/EXEC with GET then SET; if EXEC were
/// not atomic, interleaving would lose updates.
#[test]
fn exec_is_atomic_with_respect_to_other_clients() {
    let server = TestServer::start();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let mut c = server.client();
            thread::spawn(move || {
                for _ in 0..200 {
                    let (_,): (i64,) = redis::pipe().atomic().incr("n", 1).query(&mut c).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(server.client().get::<_, i64>("n").unwrap(), 400);
}

#[test]
fn info_reports_sections_and_command_stats() {
    let server = TestServer::start();
    let mut c = server.client();
    let _: () = c.set("k", "v").unwrap();
    let _: Option<String> = c.get("k").unwrap();
    let _: Option<String> = c.get("missing").unwrap();
    let _ = redis::cmd("GET").query::<String>(&mut c);
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut c)
        .unwrap();
    assert!(stats.starts_with("# Commandstats\r\n"), "{stats}");
    assert!(stats.contains("cmdstat_set:calls=1,"), "{stats}");
    assert!(stats.contains("cmdstat_get:calls=2,"), "{stats}");
    assert!(
        stats.contains(",rejected_calls=1,failed_calls=0"),
        "{stats}"
    );
    let all: String = redis::cmd("INFO").query(&mut c).unwrap();
    for section in [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Keyspace",
    ] {
        assert!(all.contains(section), "{section} missing");
    }
    assert!(!all.contains("# Commandstats"), "not a default section");
    assert!(
        all.contains("keyspace_hits:1\r\n") && all.contains("keyspace_misses:1\r\n"),
        "{all}"
    );
    assert!(all.contains("db0:keys=1,expires=0,avg_ttl=0\r\n"), "{all}");
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut c)
        .unwrap();
    assert!(!stats.contains("cmdstat_set"), "{stats}");
}

/// Section lists, subcommand names, errorstats and RESETSTAT as Redis 7.0 prints them
/// (the same commands against redis-server 7.0 give these counts).
#[test]
fn info_sections_errorstats_and_resetstat_follow_redis() {
    let server = TestServer::start();
    let mut c = server.client();
    let headers = |c: &mut redis::Connection, args: &[&str]| -> Vec<String> {
        let text: String = redis::cmd("INFO").arg(args).query(c).unwrap();
        text.lines()
            .filter(|l| l.starts_with("# "))
            .map(|l| l[2..].to_owned())
            .collect()
    };
    let default = [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Modules",
        "Errorstats",
        "Cluster",
        "Keyspace",
    ];
    assert_eq!(headers(&mut c, &[]), default);
    assert_eq!(headers(&mut c, &["default"]), default);
    let everything = headers(&mut c, &["everything"]);
    assert!(
        everything.contains(&"Commandstats".to_owned()),
        "{everything:?}"
    );
    assert_eq!(headers(&mut c, &["all"]), everything);
    // Several sections, printed in Redis's order whatever the order asked.
    assert_eq!(
        headers(&mut c, &["keyspace", "CPU", "server"]),
        ["Server", "CPU", "Keyspace"]
    );
    assert!(headers(&mut c, &["nosuch"]).is_empty());

    let replication: String = redis::cmd("INFO").arg("replication").query(&mut c).unwrap();
    for field in [
        "role:master\r\n",
        "connected_slaves:0\r\n",
        "master_repl_offset:0\r\n",
        "master_replid:",
    ] {
        assert!(replication.contains(field), "{field} in {replication}");
    }
    let cpu: String = redis::cmd("INFO").arg("cpu").query(&mut c).unwrap();
    for field in [
        "used_cpu_sys:",
        "used_cpu_user:",
        "used_cpu_sys_children:",
        "used_cpu_user_children:",
    ] {
        assert!(cpu.contains(field), "{field} in {cpu}");
    }

    let _: () = c.set("k", "v").unwrap();
    let _: Option<String> = c.get("k").unwrap();
    let _: Option<String> = c.get("missing").unwrap();
    let _ = redis::cmd("HGET").arg("k").arg("f").query::<String>(&mut c);
    let _ = redis::cmd("INCR").arg("k").query::<i64>(&mut c);
    let _ = redis::cmd("CONFIG").arg("NOSUCH").query::<String>(&mut c);
    let _: HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("x")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("MULTI").query(&mut c).unwrap();
    let _: String = redis::cmd("INCR").arg("k").query(&mut c).unwrap();
    let _ = redis::cmd("EXEC").query::<Value>(&mut c);
    let all: String = redis::cmd("INFO").arg("everything").query(&mut c).unwrap();
    for line in [
        "errorstat_ERR:count=3\r\n",
        "errorstat_WRONGTYPE:count=1\r\n",
        "total_error_replies:4\r\n",
        "cmdstat_config|get:calls=1,",
        "cmdstat_client|setname:calls=1,",
        "cmdstat_incr:calls=2,usec=",
        ",rejected_calls=0,failed_calls=2\r\n",
        "keyspace_hits:2\r\n",
        "keyspace_misses:1\r\n",
    ] {
        assert!(all.contains(line), "{line} in {all}");
    }
    // An unknown subcommand is no command: Redis lists neither `config` nor `config|nosuch`.
    assert!(!all.contains("cmdstat_config:"), "{all}");
    let field = |text: &str, name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {text}"))
    };
    // Every request so far was read and answered (the last INFO's answer is not written yet).
    assert!(field(&all, "total_net_input_bytes") > 100, "{all}");
    assert!(field(&all, "total_net_output_bytes") > 100, "{all}");
    assert!(field(&all, "total_reads_processed") >= 10, "{all}");
    assert!(field(&all, "total_writes_processed") >= 10, "{all}");

    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
    let all: String = redis::cmd("INFO").arg("everything").query(&mut c).unwrap();
    for line in [
        "keyspace_hits:0\r\n",
        "keyspace_misses:0\r\n",
        "expired_keys:0\r\n",
        "evicted_keys:0\r\n",
        "total_error_replies:0\r\n",
        "# Errorstats\r\n\r\n",
    ] {
        assert!(all.contains(line), "{line} in {all}");
    }
    assert!(!all.contains("errorstat_"), "{all}");
}

/// The `usec=` of one command in INFO commandstats.
fn command_usec(c: &mut redis::Connection, command: &str) -> u64 {
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(c)
        .expect("INFO");
    let line = stats
        .lines()
        .find(|l| l.starts_with(&format!("cmdstat_{command}:")))
        .unwrap_or_else(|| panic!("no {command} in {stats}"));
    let usec = line.split(',').find_map(|f| f.strip_prefix("usec="));
    usec.and_then(|u| u.parse().ok()).expect("a usec= field")
}

#[test]
fn command_stats_time_the_work_and_not_the_wait_between_requests() {
    let server = TestServer::start();
    let mut c = server.client();
    let mut pipe = redis::pipe();
    for i in 0..20_000 {
        pipe.set(format!("key:{i}"), i).ignore();
    }
    let () = pipe.query(&mut c).unwrap();
    let _: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
    assert!(
        command_usec(&mut c, "keys") > 0,
        "KEYS over 20,000 keys takes time"
    );

    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
    // Time every command rather than one fast command in a sample, scaled up.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg(0)
        .query(&mut c)
        .unwrap();
    // Idle time between two requests belongs to neither: the server's time for each SET
    // lies within the client's round trip for it, which leaves the pause out.
    let set = |c: &mut redis::Connection, key: &str| {
        let sent = Instant::now();
        let _: () = c.set(key, 1).unwrap();
        sent.elapsed()
    };
    let first = set(&mut c, "a");
    // Idle time made on purpose, not a wait: whatever its length, none of it may count.
    std::thread::sleep(Duration::from_millis(300));
    let round_trips = first + set(&mut c, "b");
    let usec = command_usec(&mut c, "set");
    assert!(
        u128::from(usec) <= round_trips.as_micros(),
        "two SETs took {usec} us, within round trips of {round_trips:?}"
    );
}
