//! Active expiry through the server: keys that expire and are never read again are
//! reclaimed by the housekeeping cycle within seconds, as in Redis.

mod common;

use std::time::Instant;

use common::{TestServer, wait_for, wait_until};

/// How far below the TTLs it samples INFO's `avg_ttl` may read: Redis's running average
/// rounds each step down, by under 50 ms, which adds up to under 2.5 s.
const AVG_TTL_ROUNDING_MS: u64 = 2_500;

/// SETs `{prefix}:{i}` for `i` below `n`, each with `ttl` (such as `("PX", 300)`), in
/// pipelines of a thousand.
fn set_volatile(c: &mut redis::Connection, prefix: &str, n: usize, ttl: (&str, u64)) {
    for start in (0..n).step_by(1000) {
        let mut pipe = redis::pipe();
        for i in start..n.min(start + 1000) {
            pipe.cmd("SET")
                .arg(format!("{prefix}:{i}"))
                .arg("v")
                .arg(ttl.0)
                .arg(ttl.1)
                .ignore();
        }
        let () = pipe.query(c).expect("SETs");
    }
}

/// The value of INFO field `name` (without its colon) in `info`.
fn info_field<T: std::str::FromStr>(info: &str, name: &str) -> T {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("INFO lacks a readable {name}"))
}

/// SETs `key` with no TTL.
fn set_plain(c: &mut redis::Connection, key: &str) {
    let () = redis::cmd("SET").arg(key).arg("v").query(c).expect("SET");
}

#[test]
fn a_hundred_thousand_untouched_expired_keys_are_reclaimed_within_seconds() {
    const KEYS: usize = 100_000;
    let server = TestServer::start();
    let mut c = server.client();
    set_volatile(&mut c, "session", KEYS, ("PX", 300));
    // A key without a TTL is left alone.
    set_plain(&mut c, "keep");

    wait_until("the expired keys to be reclaimed", || {
        redis::cmd("DBSIZE").query::<usize>(&mut c).unwrap() == 1
    });
    let info: String = redis::cmd("INFO").arg("stats").query(&mut c).unwrap();
    let expired: usize = info_field(&info, "expired_keys");
    assert_eq!(expired, KEYS, "every key went through active expiry");
    // Cycles that found every sampled key expired moved the stale estimate off zero.
    let stale: f64 = info_field(&info, "expired_stale_perc");
    assert!(stale > 0.0 && stale <= 100.0, "expired_stale_perc:{stale}");
    let kept: Option<String> = redis::cmd("GET").arg("keep").query(&mut c).unwrap();
    assert_eq!(kept.as_deref(), Some("v"));
}

#[test]
fn active_expire_effort_from_the_config_and_from_config_set_reaches_the_store() {
    let server = TestServer::with_config(|c| c.memory.active_expire_effort = 3);
    assert_eq!(server.store().active_expire_effort(), 3);
    let mut c = server.client();
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("active-expire-effort")
        .arg(10)
        .query(&mut c)
        .unwrap();
    assert_eq!(server.store().active_expire_effort(), 10);
    let got: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("active-expire-effort")
        .query(&mut c)
        .unwrap();
    assert_eq!(got, ["active-expire-effort", "10"]);

    let err = redis::cmd("CONFIG")
        .arg("SET")
        .arg("active-expire-effort")
        .arg(0)
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("argument must be between 1 and 10 inclusive"),
        "{err}"
    );
    assert_eq!(
        server.store().active_expire_effort(),
        10,
        "a refused value changes nothing"
    );
}

#[test]
fn info_keyspace_reports_the_average_ttl_the_expiry_cycle_samples() {
    let server = TestServer::start();
    let mut c = server.client();
    let set_at = Instant::now();
    set_volatile(&mut c, "k", 1000, ("EX", 1000));
    set_plain(&mut c, "plain");

    // The housekeeping cycle samples ten times a second; poll until it has.
    let avg_ttl = wait_for("the expiry cycle to sample avg_ttl", || {
        let info: String = redis::cmd("INFO").arg("keyspace").query(&mut c).unwrap();
        let line = info
            .lines()
            .find_map(|l| l.strip_prefix("db0:"))
            .expect("db0 line")
            .to_owned();
        assert!(
            line.starts_with("keys=1001,expires=1000,avg_ttl="),
            "{line}"
        );
        let avg: u64 = line.rsplit('=').next().unwrap().parse().unwrap();
        (avg > 0).then_some(avg)
    });
    // Milliseconds left of a 1000-second TTL, no fewer than have passed since the SETs
    // (less the few seconds the running average may round down by).
    let passed = u64::try_from(set_at.elapsed().as_millis()).unwrap();
    let least = 1_000_000 - passed - AVG_TTL_ROUNDING_MS;
    assert!(
        (least..=1_000_000).contains(&avg_ttl),
        "avg_ttl={avg_ttl}, {passed} ms after the SETs"
    );
}

#[test]
fn hz_from_the_config_and_from_config_set_shows_in_info() {
    let server = TestServer::with_config(|c| c.server.hz = 25);
    let mut c = server.client();
    let hz = |c: &mut redis::Connection| -> (u32, u32) {
        let info: String = redis::cmd("INFO").arg("server").query(c).unwrap();
        (info_field(&info, "hz"), info_field(&info, "configured_hz"))
    };
    assert_eq!(hz(&mut c), (25, 25));
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("hz")
        .arg(1000)
        .query(&mut c)
        .unwrap();
    // Redis keeps hz within 1 to 500.
    assert_eq!(hz(&mut c), (500, 500));
}
