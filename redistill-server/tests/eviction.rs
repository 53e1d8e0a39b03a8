//! `maxmemory` and `maxmemory-policy` through CONFIG SET, as a client sees them.

mod common;

use common::{TestServer, exchange, wait_until};
use redis::Connection;

fn info_field(c: &mut Connection, section: &str, field: &str) -> String {
    let text: String = redis::cmd("INFO").arg(section).query(c).expect("INFO");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("{field} missing from INFO {section}"))
        .to_owned()
}

fn config_set(c: &mut Connection, name: &str, value: &str) {
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg(name)
        .arg(value)
        .query(c)
        .expect("CONFIG SET");
}

#[test]
fn allkeys_lru_keeps_memory_under_maxmemory_and_counts_evictions() {
    let server = TestServer::start();
    let mut c = server.client();
    config_set(&mut c, "maxmemory", "2mb");
    config_set(&mut c, "maxmemory-policy", "allkeys-lru");
    let value = vec![b'v'; 1000];
    // 10 MB of keys, in pipelines of 100 SETs.
    for batch in 0..100 {
        let mut pipe = redis::pipe();
        for i in 0..100 {
            pipe.set(format!("key:{batch}:{i}"), &value).ignore();
        }
        let () = pipe.query(&mut c).unwrap();
    }
    let evicted: u64 = info_field(&mut c, "stats", "evicted_keys").parse().unwrap();
    assert!(evicted > 5000, "evicted_keys:{evicted}");
    let used: u64 = info_field(&mut c, "memory", "used_memory").parse().unwrap();
    assert!(used <= 2 * 1024 * 1024 + 64 * 1024, "used_memory:{used}");
    assert_eq!(info_field(&mut c, "memory", "maxmemory"), "2097152");
    assert_eq!(info_field(&mut c, "memory", "maxmemory_human"), "2.00M");
    assert_eq!(
        info_field(&mut c, "memory", "maxmemory_policy"),
        "allkeys-lru"
    );
    // The newest key is still there.
    let last: Option<Vec<u8>> = redis::cmd("GET").arg("key:99:99").query(&mut c).unwrap();
    assert_eq!(last.as_deref(), Some(&value[..]));
}

#[test]
fn noeviction_refuses_writes_with_redis_text_and_object_freq_follows_the_policy() {
    let server = TestServer::start();
    let mut c = server.client();
    let () = redis::cmd("SET").arg("hot").arg("1").query(&mut c).unwrap();
    let mut raw = server.raw();
    exchange(
        &mut raw,
        b"*3\r\n$6\r\nOBJECT\r\n$4\r\nFREQ\r\n$3\r\nhot\r\n",
        b"-ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
          Please note that when switching between policies at runtime LRU and LFU data \
          will take some time to adjust.\r\n",
    );
    config_set(&mut c, "maxmemory-policy", "allkeys-lfu");
    config_set(&mut c, "lfu-log-factor", "0");
    // A key written before the switch holds an LRU clock, which reads as an LFU counter
    // that depends on the time of day (in Redis too): start from a fresh key.
    let () = redis::cmd("DEL").arg("hot").query(&mut c).unwrap();
    let () = redis::cmd("SET").arg("hot").arg("v").query(&mut c).unwrap();
    for _ in 0..10 {
        let _: Option<String> = redis::cmd("GET").arg("hot").query(&mut c).unwrap();
    }
    // A new key starts at 5; with log factor 0 every read counts: 15, as Redis 7.0
    // answers for the same sequence.
    exchange(
        &mut raw,
        b"*3\r\n$6\r\nOBJECT\r\n$4\r\nFREQ\r\n$3\r\nhot\r\n",
        b":15\r\n",
    );

    config_set(&mut c, "maxmemory-policy", "noeviction");
    config_set(&mut c, "maxmemory", "1mb");
    let value = vec![b'v'; 1000];
    let mut refused = false;
    for i in 0..3000 {
        let r: redis::RedisResult<()> = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(&value)
            .query(&mut c);
        if r.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "noeviction never refused a write");
    exchange(
        &mut raw,
        b"*3\r\n$3\r\nSET\r\n$3\r\none\r\n$3\r\nmore\r\n",
        b"-OOM command not allowed when used memory > 'maxmemory'.\r\n",
    );
    // Reads and deletes still work.
    let got: Option<Vec<u8>> = redis::cmd("GET").arg("k0").query(&mut c).unwrap();
    assert_eq!(got.as_deref(), Some(&value[..]));
    let deleted: i64 = redis::cmd("DEL").arg("k0").query(&mut c).unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), "0");
}

/// Runs WATCH key, MULTI, SET, then `meanwhile` on another connection, then EXEC.
fn exec_after(
    server: &TestServer,
    key: &str,
    meanwhile: impl FnOnce(&mut Connection),
) -> Option<Vec<String>> {
    let mut c = server.client();
    let () = redis::cmd("WATCH").arg(key).query(&mut c).expect("reply");
    let () = redis::cmd("MULTI").query(&mut c).expect("reply");
    let () = redis::cmd("SET")
        .arg("marker")
        .arg("1")
        .query(&mut c)
        .expect("QUEUED");
    meanwhile(&mut server.client());
    redis::cmd("EXEC").query(&mut c).expect("EXEC")
}

#[test]
fn a_watched_key_evicted_before_exec_fails_the_transaction() {
    let server = TestServer::start();
    let mut other = server.client();
    let () = redis::cmd("SET")
        .arg("watched")
        .arg("v")
        .query(&mut other)
        .unwrap();
    let outcome = exec_after(&server, "watched", |other| {
        config_set(other, "maxmemory", "1mb");
        config_set(other, "maxmemory-policy", "allkeys-random");
        let value = vec![b'v'; 1000];
        let mut i = 0;
        while redis::cmd("EXISTS")
            .arg("watched")
            .query::<i64>(other)
            .unwrap()
            == 1
        {
            assert!(i < 1_000_000, "the watched key was never evicted");
            let mut pipe = redis::pipe();
            for j in 0..100 {
                pipe.set(format!("fill:{i}:{j}"), &value).ignore();
            }
            let () = pipe.query(other).unwrap();
            i += 1;
        }
    });
    assert_eq!(outcome, None, "EXEC must fail: a watched key was evicted");
}

#[test]
fn a_watched_key_that_expires_before_exec_fails_the_transaction() {
    let server = TestServer::start();
    let mut other = server.client();
    let () = redis::cmd("SET")
        .arg("watched")
        .arg("v")
        .query(&mut other)
        .unwrap();
    // Control: with nothing happening to the watched key, EXEC runs.
    let outcome = exec_after(&server, "watched", |_| {});
    assert_eq!(outcome, Some(vec!["OK".to_string()]), "nothing changed");

    // The key must still be alive when WATCH runs; where the machine took longer than a
    // short TTL between SET and WATCH, a longer one is tried.
    let mut c = server.client();
    let alive_when_watched = [100, 1_000, 10_000].into_iter().any(|ttl_ms| {
        let () = redis::cmd("SET")
            .arg("watched")
            .arg("v")
            .arg("PX")
            .arg(ttl_ms)
            .query(&mut other)
            .unwrap();
        let () = redis::cmd("WATCH").arg("watched").query(&mut c).unwrap();
        let pttl: i64 = redis::cmd("PTTL").arg("watched").query(&mut c).unwrap();
        if pttl <= 0 {
            let () = redis::cmd("UNWATCH").query(&mut c).unwrap();
        }
        pttl > 0
    });
    assert!(
        alive_when_watched,
        "the key expired before WATCH on every try"
    );
    let () = redis::cmd("MULTI").query(&mut c).unwrap();
    let () = redis::cmd("SET")
        .arg("marker")
        .arg("1")
        .query(&mut c)
        .unwrap();
    wait_until("the watched key to expire", || {
        redis::cmd("EXISTS")
            .arg("watched")
            .query::<i64>(&mut other)
            .unwrap()
            == 0
    });
    let outcome: Option<Vec<String>> = redis::cmd("EXEC").query(&mut c).unwrap();
    assert_eq!(outcome, None, "EXEC must fail: a watched key expired");
}

#[test]
fn client_no_touch_reads_leave_the_lfu_counter_alone() {
    let server = TestServer::start();
    let mut c = server.client();
    config_set(&mut c, "maxmemory-policy", "allkeys-lfu");
    // Factor 0: every access increments the counter, so the figures are exact.
    config_set(&mut c, "lfu-log-factor", "0");
    let () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let freq =
        |c: &mut Connection| -> i64 { redis::cmd("OBJECT").arg("FREQ").arg("k").query(c).unwrap() };
    let start = freq(&mut c);

    let mut quiet = server.client();
    let () = redis::cmd("CLIENT")
        .arg("NO-TOUCH")
        .arg("ON")
        .query(&mut quiet)
        .unwrap();
    for _ in 0..10 {
        let _: String = redis::cmd("GET").arg("k").query(&mut quiet).unwrap();
    }
    assert_eq!(freq(&mut c), start, "NO-TOUCH reads do not count");

    let () = redis::cmd("CLIENT")
        .arg("NO-TOUCH")
        .arg("OFF")
        .query(&mut quiet)
        .unwrap();
    for _ in 0..10 {
        let _: String = redis::cmd("GET").arg("k").query(&mut quiet).unwrap();
    }
    assert_eq!(
        freq(&mut c),
        start + 10,
        "reads count again after NO-TOUCH OFF"
    );
    let err = redis::cmd("CLIENT")
        .arg("NO-TOUCH")
        .arg("maybe")
        .query::<()>(&mut quiet)
        .unwrap_err();
    assert!(err.to_string().contains("syntax error"), "{err}");
}

/// Writes 1 KB values under `prefix` in pipelines of 100 until `total` keys or the first
/// refusal; returns the first error, if any.
fn fill(c: &mut Connection, prefix: &str, total: usize, ttl: bool) -> Option<redis::RedisError> {
    let value = vec![b'v'; 1000];
    for batch in 0..total / 100 {
        let mut pipe = redis::pipe();
        for i in 0..100 {
            let cmd = pipe
                .cmd("SET")
                .arg(format!("{prefix}:{batch}:{i}"))
                .arg(&value);
            if ttl {
                cmd.arg("EX").arg(3600);
            }
            cmd.ignore();
        }
        if let Err(e) = pipe.query::<()>(c) {
            return Some(e);
        }
    }
    None
}

#[test]
fn volatile_lru_evicts_only_keys_with_a_ttl_and_refuses_writes_once_none_is_left() {
    let server = TestServer::start();
    let mut c = server.client();
    config_set(&mut c, "maxmemory", "2mb");
    config_set(&mut c, "maxmemory-policy", "volatile-lru");
    assert!(fill(&mut c, "cache", 1000, true).is_none());
    assert!(
        fill(&mut c, "data", 1500, false).is_none(),
        "TTL keys make room"
    );
    let evicted: u64 = info_field(&mut c, "stats", "evicted_keys").parse().unwrap();
    assert!(evicted >= 500, "evicted_keys:{evicted}");
    let data: Vec<String> = redis::cmd("KEYS").arg("data:*").query(&mut c).unwrap();
    assert_eq!(data.len(), 1500, "keys without a TTL are never evicted");

    // Once only keys without a TTL are left, writes get Redis's OOM error.
    let err = fill(&mut c, "more", 2000, false).expect("a refusal");
    assert!(err.to_string().contains("OOM"), "{err}");
    let mut raw = server.raw();
    exchange(
        &mut raw,
        b"*3\r\n$3\r\nSET\r\n$3\r\none\r\n$3\r\nmore\r\n",
        b"-OOM command not allowed when used memory > 'maxmemory'.\r\n",
    );
    let ttl_keys: i64 = {
        let info: String = redis::cmd("INFO").arg("keyspace").query(&mut c).unwrap();
        let db0 = info
            .lines()
            .find_map(|l| l.strip_prefix("db0:"))
            .unwrap()
            .to_owned();
        db0.split(',')
            .find_map(|f| f.strip_prefix("expires="))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(ttl_keys, 0, "every key with a TTL was evicted first");
    let got: Option<Vec<u8>> = redis::cmd("GET").arg("data:0:0").query(&mut c).unwrap();
    assert!(got.is_some(), "reads still work");
}

#[test]
fn allkeys_s3fifo_over_the_wire_holds_the_limit_and_keeps_a_hot_key() {
    let server = TestServer::start();
    let mut c = server.client();
    config_set(&mut c, "maxmemory", "2mb");
    config_set(&mut c, "maxmemory-policy", "allkeys-s3fifo");
    assert_eq!(
        info_field(&mut c, "memory", "maxmemory_policy"),
        "allkeys-s3fifo"
    );
    let value = vec![b'v'; 1000];
    let () = redis::cmd("SET")
        .arg("hot")
        .arg(&value)
        .query(&mut c)
        .unwrap();
    for batch in 0..100 {
        let mut pipe = redis::pipe();
        for i in 0..100 {
            pipe.set(format!("cold:{batch}:{i}"), &value).ignore();
            if i % 10 == 0 {
                pipe.get("hot").ignore();
            }
        }
        let () = pipe.query(&mut c).unwrap();
    }
    let evicted: u64 = info_field(&mut c, "stats", "evicted_keys").parse().unwrap();
    assert!(evicted > 5000, "evicted_keys:{evicted}");
    let used: u64 = info_field(&mut c, "memory", "used_memory").parse().unwrap();
    assert!(used <= 2 * 1024 * 1024 + 64 * 1024, "used_memory:{used}");
    let hot: Option<Vec<u8>> = redis::cmd("GET").arg("hot").query(&mut c).unwrap();
    assert_eq!(
        hot.as_deref(),
        Some(&value[..]),
        "a key read often survives"
    );
}

#[test]
fn info_reports_the_time_spent_over_maxmemory() {
    let server = TestServer::start();
    let mut c = server.client();
    config_set(&mut c, "maxmemory", "1mb");
    let field =
        |c: &mut Connection, name: &str| -> u64 { info_field(c, "stats", name).parse().unwrap() };
    assert_eq!(field(&mut c, "total_eviction_exceeded_time"), 0);
    let err = fill(&mut c, "k", 3000, false).expect("noeviction refuses");
    assert!(err.to_string().contains("OOM"), "{err}");
    // The stretch started at the refusal; wait until the server's clock has moved on.
    wait_until("the stretch over maxmemory to reach 20 ms", || {
        field(&mut c, "current_eviction_exceeded_time") >= 20
    });
    // Making room and writing again ends it; the total keeps it.
    let () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    let () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    assert_eq!(field(&mut c, "current_eviction_exceeded_time"), 0);
    assert!(field(&mut c, "total_eviction_exceeded_time") >= 20);
}

fn info_number(c: &mut Connection, section: &str, field: &str) -> u64 {
    info_field(c, section, field).parse().expect("a number")
}

#[test]
fn a_big_argument_counts_against_maxmemory_before_the_command_runs() {
    let server = TestServer::start();
    let mut c = server.client();
    let () = redis::cmd("SET")
        .arg("small")
        .arg("v")
        .query(&mut c)
        .unwrap();
    let used = info_number(&mut c, "memory", "used_memory");
    config_set(&mut c, "maxmemory", &(used + 200_000).to_string());
    // The 2 MB value alone would fit the store's accounting before the write; held in the
    // query buffer it already counts, as in Redis, and noeviction refuses the SET.
    let big = vec![b'x'; 2 << 20];
    let err = redis::cmd("SET")
        .arg("big")
        .arg(&big)
        .query::<()>(&mut c)
        .expect_err("over the limit with the argument counted");
    assert!(err.to_string().contains("OOM"), "{err}");
    // Once it is gone the buffer is given back, and a small write fits again.
    let () = redis::cmd("SET")
        .arg("small2")
        .arg("v")
        .query(&mut c)
        .unwrap();
    let used = info_number(&mut c, "memory", "used_memory");
    let max = info_number(&mut c, "memory", "maxmemory");
    assert!(used <= max, "used_memory:{used} over maxmemory:{max}");
}

#[test]
fn clients_holding_unfinished_big_requests_count_and_make_room_by_eviction() {
    use std::io::Write;
    let server = TestServer::start();
    let mut c = server.client();
    config_set(&mut c, "maxmemory", "16mb");
    config_set(&mut c, "maxmemory-policy", "allkeys-lru");
    let value = vec![b'v'; 1000];
    for batch in 0..4 {
        let mut pipe = redis::pipe();
        for i in 0..1000 {
            pipe.set(format!("key:{batch}:{i}"), &value).ignore();
        }
        let () = pipe.query(&mut c).unwrap();
    }
    assert_eq!(info_number(&mut c, "stats", "evicted_keys"), 0);
    // Five clients each send 3 MB of a 9 MB SET and stop there.
    let chunk = vec![b'x'; 3 << 20];
    let holders: Vec<_> = (0..5)
        .map(|_| {
            let mut s = server.raw();
            s.write_all(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$9000000\r\n")
                .unwrap();
            s.write_all(&chunk).unwrap();
            s
        })
        .collect();
    wait_until("the held requests to show in mem_clients_normal", || {
        info_number(&mut c, "memory", "mem_clients_normal") >= 15 << 20
    });
    // Any command, here INFO itself, evicts keys to make room for the buffers.
    let evicted = info_number(&mut c, "stats", "evicted_keys");
    assert!(evicted > 0, "nothing evicted for 15 MB of client buffers");
    let used = info_number(&mut c, "memory", "used_memory");
    assert!(
        used >= 15 << 20,
        "used_memory:{used} leaves the buffers out"
    );
    drop(holders);
    wait_until("the closed clients' buffers to leave the count", || {
        info_number(&mut c, "memory", "mem_clients_normal") < 1 << 20
    });
}

#[test]
fn a_command_of_any_kind_evicts_once_memory_is_over_the_limit() {
    let server = TestServer::start();
    let mut c = server.client();
    config_set(&mut c, "maxmemory", "20mb");
    config_set(&mut c, "maxmemory-policy", "allkeys-lru");
    let () = redis::cmd("SET")
        .arg("other")
        .arg("v")
        .query(&mut c)
        .unwrap();
    // Under the limit when it starts, SETRANGE may allocate 64 MB, as in Redis.
    let n: u64 = redis::cmd("SETRANGE")
        .arg("big")
        .arg(64 * 1024 * 1024 - 1)
        .arg("x")
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 64 << 20);
    // A read, not a write, is the next command: it evicts first.
    let _: Option<String> = redis::cmd("GET").arg("nokey").query(&mut c).unwrap();
    let used = info_number(&mut c, "memory", "used_memory");
    assert!(
        used <= 20 << 20,
        "used_memory:{used} after the next command"
    );
    assert!(info_number(&mut c, "stats", "evicted_keys") >= 1);
}

#[test]
fn transactions_under_oom_are_refused_as_redis_refuses_them() {
    let server = TestServer::start();
    let mut c = server.client();
    let mut admin = server.client();
    let () = redis::cmd("SET").arg("x").arg("1").query(&mut c).unwrap();
    let () = redis::cmd("MULTI").query(&mut c).unwrap();
    let queued: String = redis::cmd("SET").arg("x").arg("2").query(&mut c).unwrap();
    assert_eq!(queued, "QUEUED");
    config_set(&mut admin, "maxmemory", "1");
    let err = redis::cmd("EXEC").query::<()>(&mut c).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ExecAbort: Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'."
    );
    let x: String = redis::cmd("GET").arg("x").query(&mut c).unwrap();
    assert_eq!(x, "1");
    let err = redis::cmd("SET")
        .arg("x")
        .arg("3")
        .query::<()>(&mut c)
        .unwrap_err();
    assert_eq!(err.code(), Some("OOM"), "{err}");
    let deleted: u64 = redis::cmd("DEL").arg("x").query(&mut c).unwrap();
    assert_eq!(deleted, 1);
}
