//! Keyspace and TTL commands, with expectations checked against redis-server 7.0.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.
use redistill_store::{
    ExpireCommand as Cmd, ExpireCondition as Cond, ManualClock, ScanOptions, SetOptions, Store,
    StoreError, ValueType,
};

const T0: u64 = 1_700_000_000_000;

fn store() -> (Store, ManualClock) {
    let clock = ManualClock::new(T0);
    let store = Store::builder()
        .shards(8)
        .clock(clock.clone())
        .seed(3)
        .build();
    (store, clock)
}

fn set(s: &Store, db: usize, k: &[u8], v: &[u8]) {
    s.set(db, k, v, SetOptions::default()).unwrap();
}

#[test]
fn del_exists_type() {
    let (s, _) = store();
    set(&s, 0, b"a", b"1");
    s.hset(0, b"h", &[(b"f", b"v")]).unwrap();
    assert_eq!(s.exists(0, &[b"a", b"a", b"zz", b"h"]).unwrap(), 3);
    assert_eq!(s.value_type(0, b"a").unwrap(), Some(ValueType::String));
    assert_eq!(
        s.value_type(0, b"h").unwrap().map(ValueType::as_str),
        Some("hash")
    );
    assert_eq!(s.value_type(0, b"zz").unwrap(), None);
    assert_eq!(s.del(0, &[b"a", b"a", b"h", b"zz"]).unwrap(), 2);
    assert_eq!(s.unlink(0, &[b"a"]).unwrap(), 0);
    assert_eq!(s.dbsize(0).unwrap(), 0);
}

#[test]
fn rename_copy_move() {
    let (s, _) = store();
    assert_eq!(s.rename(0, b"nokey", b"x"), Err(StoreError::NoSuchKey));
    assert_eq!(s.renamenx(0, b"nokey", b"x"), Err(StoreError::NoSuchKey));
    set(&s, 0, b"s", b"v");
    s.rename(0, b"s", b"s").unwrap();
    assert!(!s.renamenx(0, b"s", b"s").unwrap());
    s.expire(0, b"s", 100, Cmd::Expire, Cond::Always).unwrap();
    s.rename(0, b"s", b"t").unwrap();
    assert_eq!(s.exists(0, &[b"s"]).unwrap(), 0);
    assert_eq!(s.ttl(0, b"t").unwrap(), 100);
    set(&s, 0, b"u", b"other");
    assert!(!s.renamenx(0, b"t", b"u").unwrap());
    s.rename(0, b"t", b"u").unwrap();
    assert_eq!(s.get(0, b"u").unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(s.db_info(0).unwrap().expires, 1);

    assert_eq!(s.copy(0, b"u", 0, b"u", false), Err(StoreError::SameObject));
    assert!(s.copy(0, b"u", 1, b"u", false).unwrap());
    assert!(!s.copy(0, b"u", 1, b"u", false).unwrap());
    set(&s, 0, b"u", b"new");
    assert!(s.copy(0, b"u", 1, b"u", true).unwrap());
    assert_eq!(s.get(1, b"u").unwrap().as_deref(), Some(&b"new"[..]));
    assert!(!s.copy(0, b"missing", 1, b"x", true).unwrap());

    s.hset(0, b"h", &[(b"a", b"1"), (b"b", b"2")]).unwrap();
    assert!(s.copy(0, b"h", 0, b"h2", false).unwrap());
    s.hset(0, b"h", &[(b"c", b"3")]).unwrap();
    assert_eq!(s.hlen(0, b"h2").unwrap(), 2);

    assert_eq!(s.move_key(0, b"h", 0), Err(StoreError::SameObject));
    assert!(s.move_key(0, b"h", 2).unwrap());
    assert!(!s.move_key(0, b"h", 2).unwrap());
    assert_eq!(s.hlen(2, b"h").unwrap(), 3);
    set(&s, 0, b"h2x", b"1");
    set(&s, 2, b"h2x", b"2");
    assert!(!s.move_key(0, b"h2x", 2).unwrap());
}

#[test]
fn expire_conditions_follow_redis() {
    let (s, clock) = store();
    assert!(!s.expire(0, b"k", 10, Cmd::Expire, Cond::Always).unwrap());
    set(&s, 0, b"k", b"v");
    // GT on a key without TTL: no TTL is infinite, nothing is greater.
    assert!(!s.expire(0, b"k", 100, Cmd::Expire, Cond::Gt).unwrap());
    assert!(!s.expire(0, b"k", 100, Cmd::Expire, Cond::Xx).unwrap());
    assert!(s.expire(0, b"k", 100, Cmd::Expire, Cond::Lt).unwrap());
    assert_eq!(s.ttl(0, b"k").unwrap(), 100);
    assert!(!s.expire(0, b"k", 50, Cmd::Expire, Cond::Gt).unwrap());
    assert!(s.expire(0, b"k", 200, Cmd::Expire, Cond::Gt).unwrap());
    assert!(!s.expire(0, b"k", 300, Cmd::Expire, Cond::Nx).unwrap());
    assert!(s.expire(0, b"k", 300, Cmd::Expire, Cond::Xx).unwrap());
    assert_eq!(s.pttl(0, b"k").unwrap(), 300_000);
    assert_eq!(s.expiretime(0, b"k").unwrap(), (T0 as i64 + 300_000) / 1000);
    assert_eq!(s.pexpiretime(0, b"k").unwrap(), T0 as i64 + 300_000);
    clock.advance(1_499);
    assert_eq!(s.ttl(0, b"k").unwrap(), 299);
    assert!(s.persist(0, b"k").unwrap());
    assert!(!s.persist(0, b"k").unwrap());
    assert_eq!(s.ttl(0, b"k").unwrap(), -1);
    assert_eq!(s.ttl(0, b"nokey").unwrap(), -2);
    assert_eq!(s.expiretime(0, b"nokey").unwrap(), -2);
    // A negative or past time deletes the key and reports success.
    assert!(s.expire(0, b"k", -1, Cmd::Expire, Cond::Always).unwrap());
    assert_eq!(s.exists(0, &[b"k"]).unwrap(), 0);
    set(&s, 0, b"k", b"v");
    assert!(s.expire(0, b"k", 5, Cmd::ExpireAt, Cond::Always).unwrap());
    assert_eq!(s.exists(0, &[b"k"]).unwrap(), 0);
    set(&s, 0, b"k", b"v");
    assert_eq!(
        s.expire(0, b"k", i64::MAX, Cmd::Expire, Cond::Always),
        Err(StoreError::InvalidExpire { value: i64::MAX })
    );
    assert_eq!(
        s.expire(0, b"k", i64::MAX, Cmd::PExpire, Cond::Always),
        Err(StoreError::InvalidExpire { value: i64::MAX })
    );
    assert!(
        s.expire(
            0,
            b"k",
            s.now_ms() as i64 + 10,
            Cmd::PExpireAt,
            Cond::Always
        )
        .unwrap()
    );
    assert_eq!(s.pttl(0, b"k").unwrap(), 10);
}

#[test]
fn active_expiry_reclaims_untouched_keys() {
    let (s, clock) = store();
    for i in 0..2000u32 {
        let k = format!("vol:{i}");
        s.psetex(0, k.as_bytes(), 1000, b"v").unwrap();
    }
    for i in 0..500u32 {
        set(&s, 0, format!("keep:{i}").as_bytes(), b"v");
    }
    assert_eq!(s.db_info(0).unwrap().expires, 2000);
    clock.advance(1000);
    let mut cycles = 0;
    while s.dbsize(0).unwrap() > 500 {
        let st = s.active_expire_cycle(400);
        assert!(st.sampled <= 400 + 20, "budget respected: {st:?}");
        cycles += 1;
        assert!(cycles < 200, "expiry makes progress");
    }
    assert_eq!(s.db_info(0).unwrap().expires, 0);
    assert_eq!(s.stats().expired_keys, 2000);
    // With nothing expired, one cycle samples each volatile shard once and stops.
    s.psetex(0, b"later", 100_000, b"v").unwrap();
    let st = s.active_expire_cycle(10_000);
    assert_eq!(st.expired, 0);
    assert!(st.sampled <= 20);
}

#[test]
fn expired_keys_are_invisible_everywhere() {
    let (s, clock) = store();
    s.psetex(0, b"gone", 5, b"v").unwrap();
    set(&s, 0, b"stay", b"v");
    clock.advance(5);
    assert_eq!(
        s.keys(0, b"*").unwrap(),
        vec![bytes::Bytes::from_static(b"stay")]
    );
    let (_, keys) = s
        .scan(
            0,
            0,
            ScanOptions {
                count: Some(1000),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(s.random_key(0).unwrap().as_deref(), Some(&b"stay"[..]));
    assert_eq!(s.exists(0, &[b"gone"]).unwrap(), 0);
    assert_eq!(s.stats().expired_keys, 1);
}

#[test]
fn keys_glob_scan_type_and_flush() {
    let (s, _) = store();
    for k in ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo"] {
        set(&s, 0, k.as_bytes(), b"1");
    }
    s.hset(0, b"hash", &[(b"f", b"v")]).unwrap();
    let mut got = s.keys(0, b"h?llo").unwrap();
    got.sort();
    assert_eq!(
        got,
        ["h*llo", "hallo", "hello", "hxllo"]
            .map(bytes::Bytes::from)
            .to_vec()
    );
    assert_eq!(s.keys(0, b"h\\*llo").unwrap().len(), 1);
    assert_eq!(s.keys(0, b"h[^e]llo").unwrap().len(), 3);
    let opts = ScanOptions {
        count: Some(100),
        value_type: Some(ValueType::Hash),
        ..Default::default()
    };
    let mut cursor = 0;
    let mut hashes = Vec::new();
    loop {
        let (next, keys) = s.scan(0, cursor, opts).unwrap();
        hashes.extend(keys);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(hashes, vec![bytes::Bytes::from_static(b"hash")]);
    assert!(s.random_key(0).unwrap().is_some());
    assert_eq!(s.random_key(1).unwrap(), None);
    s.swapdb(0, 1).unwrap();
    assert_eq!(s.dbsize(0).unwrap(), 0);
    assert_eq!(s.dbsize(1).unwrap(), 7);
    assert_eq!(s.get(1, b"hello").unwrap().as_deref(), Some(&b"1"[..]));
    s.flushdb(1).unwrap();
    assert_eq!(s.dbsize(1).unwrap(), 0);
    set(&s, 3, b"x", b"y");
    s.flushall();
    assert_eq!(s.dbsize(3).unwrap(), 0);
    assert!(matches!(
        s.swapdb(0, 99),
        Err(StoreError::DbIndexOutOfRange { .. })
    ));
}

#[test]
fn hashes_follow_redis() {
    let (s, _) = store();
    assert_eq!(
        s.hset(0, b"h", &[(b"a", b"1"), (b"b", b"2"), (b"a", b"3")])
            .unwrap(),
        2
    );
    assert_eq!(s.hget(0, b"h", b"a").unwrap().as_deref(), Some(&b"3"[..]));
    assert!(!s.hsetnx(0, b"h", b"a", b"x").unwrap());
    assert!(s.hsetnx(0, b"h", b"c", b"x").unwrap());
    assert_eq!(s.hlen(0, b"h").unwrap(), 3);
    assert!(s.hexists(0, b"h", b"c").unwrap());
    assert_eq!(s.hstrlen(0, b"h", b"c").unwrap(), 1);
    let m = s.hmget(0, b"h", &[b"a", b"zz"]).unwrap();
    assert_eq!(m[0].as_deref(), Some(&b"3"[..]));
    assert_eq!(m[1], None);
    let mut all = s.hgetall(0, b"h").unwrap();
    all.sort();
    assert_eq!(all.len(), 3);
    assert_eq!(s.hkeys(0, b"h").unwrap().len(), 3);
    assert_eq!(s.hvals(0, b"h").unwrap().len(), 3);
    assert_eq!(s.hincrby(0, b"h", b"a", 5).unwrap(), 8);
    assert_eq!(s.hincrby(0, b"h", b"c", 1), Err(StoreError::HashNotInteger));
    assert_eq!(
        s.hincrby(0, b"h", b"a", i64::MAX),
        Err(StoreError::Overflow)
    );
    assert_eq!(
        &s.hincrbyfloat(0, b"h", b"f", b"10.5").unwrap()[..],
        b"10.5"
    );
    assert_eq!(&s.hincrbyfloat(0, b"h", b"f", b"0.1").unwrap()[..], b"10.6");
    assert_eq!(
        s.hincrbyfloat(0, b"h", b"c", b"1"),
        Err(StoreError::HashNotFloat)
    );
    assert_eq!(
        s.hincrbyfloat(0, b"h", b"f", b"abc"),
        Err(StoreError::NotFloat)
    );
    assert_eq!(s.object_encoding(0, b"h").unwrap(), Some("listpack"));
    set(&s, 0, b"str", b"v");
    assert_eq!(s.hget(0, b"str", b"a"), Err(StoreError::WrongType));
    assert_eq!(
        s.hset(0, b"str", &[(b"a", b"1")]),
        Err(StoreError::WrongType)
    );
    assert_eq!(s.get(0, b"h"), Err(StoreError::WrongType));
    assert_eq!(s.incr_by(0, b"h", 1), Err(StoreError::WrongType));
    assert_eq!(s.hdel(0, b"h", &[b"a", b"b", b"zz"]).unwrap(), 2);
    assert_eq!(s.hdel(0, b"h", &[b"c", b"f"]).unwrap(), 2);
    assert_eq!(
        s.exists(0, &[b"h"]).unwrap(),
        0,
        "an emptied hash is deleted"
    );
    assert_eq!(s.hgetall(0, b"h").unwrap(), vec![]);
}

#[test]
fn hash_encoding_and_hrandfield() {
    let (s, _) = store();
    let fields: Vec<String> = (0..600).map(|i| format!("f{i}")).collect();
    for f in &fields[..512] {
        s.hset(0, b"h", &[(f.as_bytes(), b"v")]).unwrap();
    }
    assert_eq!(s.object_encoding(0, b"h").unwrap(), Some("listpack"));
    s.hset(0, b"h", &[(fields[512].as_bytes(), b"v")]).unwrap();
    assert_eq!(s.object_encoding(0, b"h").unwrap(), Some("hashtable"));
    s.hset(0, b"long", &[(b"f", &[b'x'; 65][..])]).unwrap();
    assert_eq!(s.object_encoding(0, b"long").unwrap(), Some("hashtable"));

    s.hset(0, b"small", &[(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
        .unwrap();
    assert_eq!(s.hrandfield(0, b"small", Some(0), false).unwrap().len(), 0);
    assert_eq!(s.hrandfield(0, b"small", Some(5), true).unwrap().len(), 3);
    let two = s.hrandfield(0, b"small", Some(2), false).unwrap();
    assert_eq!(two.len(), 2);
    assert_ne!(two[0].0, two[1].0, "positive count gives distinct fields");
    let rep = s.hrandfield(0, b"small", Some(-5), true).unwrap();
    assert_eq!(rep.len(), 5);
    assert!(rep.iter().all(|(_, v)| v.is_some()));
    assert_eq!(s.hrandfield(0, b"small", None, false).unwrap().len(), 1);
    assert_eq!(s.hrandfield(0, b"nokey", None, false).unwrap().len(), 0);
    assert_eq!(
        s.hrandfield(0, b"small", Some(-4_611_686_018_427_387_904), true),
        Err(StoreError::ValueOutOfRange)
    );
    // As redis-server 7.0: i64::MIN is outside the range the count is read in, key or not;
    // with values, a magnitude past i64::MAX / 2 is out of range either way round.
    let bounds = Err(StoreError::ValueOutOfBounds {
        min: -i64::MAX,
        max: i64::MAX,
    });
    for key in [&b"small"[..], b"nokey"] {
        for with_values in [false, true] {
            assert_eq!(s.hrandfield(0, key, Some(i64::MIN), with_values), bounds);
        }
        assert_eq!(
            s.hrandfield(0, key, Some(i64::MAX / 2 + 1), true),
            Err(StoreError::ValueOutOfRange)
        );
    }
    assert_eq!(
        s.hrandfield(0, b"small", Some(i64::MAX / 2), true)
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        s.hrandfield(0, b"small", Some(i64::MAX), false)
            .unwrap()
            .len(),
        3
    );
    // Repeated fields that no memory can hold are refused, not a panic or an abort.
    for count in [-i64::MAX, -(1 << 58)] {
        assert_eq!(
            s.hrandfield(0, b"small", Some(count), false),
            Err(StoreError::ValueOutOfRange)
        );
    }
    assert_eq!(
        s.hrandfield(0, b"nokey", Some(-i64::MAX), false),
        Ok(vec![])
    );

    // HSCAN over a big hash visits every field.
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0;
    loop {
        let (next, batch) = s.hscan(0, b"h", cursor, None, 10).unwrap();
        seen.extend(batch.into_iter().map(|(f, _)| f));
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 513);
    let (c, small) = s.hscan(0, b"small", 0, Some(b"[ab]"), 10).unwrap();
    assert_eq!((c, small.len()), (0, 2));
}

#[test]
fn stats_and_introspection() {
    let (s, clock) = store();
    set(&s, 0, b"k", b"v");
    s.get(0, b"k").unwrap();
    s.get(0, b"nope").unwrap();
    let st = s.stats();
    assert_eq!((st.keyspace_hits, st.keyspace_misses), (1, 1));
    clock.advance(5_000);
    assert_eq!(s.object_idletime(0, b"k").unwrap(), Some(5));
    s.get(0, b"k").unwrap();
    assert_eq!(s.object_idletime(0, b"k").unwrap(), Some(0));
    let usage = s.memory_usage(0, b"k").unwrap().unwrap();
    assert!((16..200).contains(&usage), "{usage}");
    assert_eq!(s.memory_usage(0, b"nope").unwrap(), None);
}

#[test]
fn max_memory_noeviction_rejects_writes_but_not_reads_or_deletes() {
    let s = Store::builder().shards(4).max_memory(64 * 1024).build();
    let mut i = 0u32;
    let err = loop {
        match s.set(
            0,
            format!("k{i}").as_bytes(),
            &[0u8; 100],
            SetOptions::default(),
        ) {
            Ok(_) => i += 1,
            Err(e) => break e,
        }
        assert!(i < 10_000, "limit enforced");
    };
    assert_eq!(err, StoreError::OutOfMemory);
    assert!(s.get(0, b"k0").unwrap().is_some());
    assert_eq!(
        s.hset(0, b"h", &[(b"f", b"v")]),
        Err(StoreError::OutOfMemory)
    );
    assert!(s.del(0, &[b"k0", b"k1", b"k2", b"k3", b"k4"]).unwrap() == 5);
    // Freed room makes writes possible again.
    let mut freed = 0;
    for j in 5..i {
        freed += s.del(0, &[format!("k{j}").as_bytes()]).unwrap();
        if s.set(0, b"again", b"v", SetOptions::default()).is_ok() {
            break;
        }
    }
    assert!(freed > 0);
    // Like Redis, the check precedes the write, so one write (and a table resize) may overshoot.
    let used = s.used_memory();
    assert!(used <= 64 * 1024 + 16 * 1024, "{used}");
}

#[test]
fn expiry_thread_reclaims_keys_and_stops() {
    let (s, clock) = store();
    for i in 0..100 {
        s.psetex(0, format!("k{i}").as_bytes(), 10, b"v").unwrap();
    }
    clock.advance(10);
    let thread = s.spawn_active_expiry(std::time::Duration::from_millis(1), 1000);
    assert!(thread.is_running());
    // The deadline only bounds a broken run; the condition is what is waited for.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while s.dbsize(0).unwrap() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "expiry thread made no progress"
        );
        std::thread::yield_now();
    }
    thread.stop();
    assert_eq!(s.stats().expired_keys, 100);
}

#[test]
fn type_exists_and_ttl_do_not_touch_the_access_word() {
    let (s, clock) = store();
    set(&s, 0, b"k", b"v");
    clock.advance(7_000);
    s.value_type(0, b"k").unwrap();
    s.exists(0, &[b"k"]).unwrap();
    s.ttl(0, b"k").unwrap();
    assert_eq!(s.object_idletime(0, b"k").unwrap(), Some(7));
    s.get(0, b"k").unwrap();
    assert_eq!(s.object_idletime(0, b"k").unwrap(), Some(0));
    assert_eq!(s.stats().keyspace_hits, 4);
}

#[test]
fn randomkey_finds_a_live_key_among_many_expired_ones() {
    let (s, clock) = store();
    for i in 0..20_000u32 {
        s.psetex(0, format!("gone:{i}").as_bytes(), 10, b"v")
            .unwrap();
    }
    let live: Vec<Vec<u8>> = (0..5).map(|i| format!("live:{i}").into_bytes()).collect();
    for k in &live {
        set(&s, 0, k, b"v");
    }
    clock.advance(10);
    // 5 live keys in 20,005: sampling alone would miss them; Redis deletes each expired
    // key it draws and draws again, so it always answers with a live one.
    for _ in 0..20 {
        let k = s.random_key(0).unwrap().expect("a live key is left");
        assert!(live.contains(&k.to_vec()), "{k:?}");
    }
    assert!(s.stats().expired_keys > 0, "expired draws were deleted");
    // With only expired keys left, every one is deleted on the way to "empty".
    s.del(0, &live.iter().map(Vec::as_slice).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(s.random_key(0).unwrap(), None);
    assert_eq!(s.dbsize(0).unwrap(), 0);
    assert_eq!(s.stats().expired_keys, 20_000);
    assert_eq!(s.db_info(0).unwrap().expires, 0);
}
