//! Active expiry through the server: keys that expire and are never read again are
//! reclaimed by the housekeeping cycle within seconds, as in Redis.

mod common;

use std::time::{Duration, Instant};

use common::TestServer;

#[test]
fn a_hundred_thousand_untouched_expired_keys_are_reclaimed_within_seconds() {
    const KEYS: usize = 100_000;
    let server = TestServer::start();
    let mut c = server.client();
    for batch in 0..KEYS / 1000 {
        let mut pipe = redis::pipe();
        for i in 0..1000 {
            pipe.cmd("SET")
                .arg(format!("session:{batch}:{i}"))
                .arg("v")
                .arg("PX")
                .arg(300)
                .ignore();
        }
        let () = pipe.query(&mut c).expect("SETs");
    }
    // A key without a TTL is left alone.
    let () = redis::cmd("SET")
        .arg("keep")
        .arg("v")
        .query(&mut c)
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let size: usize = redis::cmd("DBSIZE").query(&mut c).unwrap();
        if size == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} expired keys still held after 15 s",
            size - 1
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let info: String = redis::cmd("INFO").arg("stats").query(&mut c).unwrap();
    let expired: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("expired_keys:"))
        .expect("expired_keys")
        .parse()
        .unwrap();
    assert_eq!(expired, KEYS, "every key went through active expiry");
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
