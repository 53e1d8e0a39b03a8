//! String commands, with expectations checked against redis-server 7.0.

use redistill_store::{
    Expiry, GetExOption, ManualClock, SetCondition, SetOptions, Store, StoreError,
};

const T0: u64 = 1_700_000_000_000;

fn store() -> (Store, ManualClock) {
    let clock = ManualClock::new(T0);
    let store = Store::builder()
        .shards(4)
        .clock(clock.clone())
        .seed(7)
        .build();
    (store, clock)
}

fn ex(e: Expiry) -> SetOptions {
    SetOptions {
        expiry: Some(e),
        ..Default::default()
    }
}

#[test]
fn set_conditions_get_and_keepttl() {
    let (s, _) = store();
    let nx = SetOptions {
        condition: SetCondition::IfAbsent,
        ..Default::default()
    };
    let xx = SetOptions {
        condition: SetCondition::IfPresent,
        ..Default::default()
    };
    assert!(!s.set(0, b"k", b"v", xx).unwrap().written);
    assert!(s.set(0, b"k", b"v1", nx).unwrap().written);
    assert!(!s.set(0, b"k", b"v2", nx).unwrap().written);
    let get = SetOptions {
        get: true,
        ..Default::default()
    };
    let out = s.set(0, b"k", b"v3", get).unwrap();
    assert_eq!(out.old.as_deref(), Some(&b"v1"[..]));
    s.set(0, b"k", b"v", ex(Expiry::Ex(100))).unwrap();
    let keep = SetOptions {
        keep_ttl: true,
        ..Default::default()
    };
    s.set(0, b"k", b"w", keep).unwrap();
    assert_eq!(s.ttl(0, b"k").unwrap(), 100);
    s.set(0, b"k", b"w", SetOptions::default()).unwrap();
    assert_eq!(s.ttl(0, b"k").unwrap(), -1);
    // SET ... GET on a non-string fails and writes nothing.
    s.hset(0, b"h", &[(b"f", b"v")]).unwrap();
    assert_eq!(s.set(0, b"h", b"x", get), Err(StoreError::WrongType));
    assert_eq!(s.hlen(0, b"h").unwrap(), 1);
}

#[test]
fn invalid_expire_times_carry_the_time_given() {
    let (s, _) = store();
    for (e, value) in [
        (Expiry::Ex(0), 0),
        (Expiry::Ex(-1), -1),
        (Expiry::Px(i64::MAX), i64::MAX),
        (Expiry::Ex(i64::MAX / 1000), i64::MAX / 1000),
    ] {
        let err = StoreError::InvalidExpire { value };
        assert_eq!(s.set(0, b"k", b"v", ex(e)), Err(err), "{e:?}");
    }
    assert_eq!(
        s.setex(0, b"k", 0, b"v"),
        Err(StoreError::InvalidExpire { value: 0 })
    );
    assert_eq!(
        s.psetex(0, b"k", -5, b"v"),
        Err(StoreError::InvalidExpire { value: -5 })
    );
    s.set(0, b"k", b"v", SetOptions::default()).unwrap();
    assert_eq!(
        s.getex(0, b"k", Some(GetExOption::Expire(Expiry::Ex(0)))),
        Err(StoreError::InvalidExpire { value: 0 })
    );
    assert_eq!(
        StoreError::InvalidExpire { value: 0 }.to_string(),
        "invalid expire time 0"
    );
}

#[test]
fn absolute_expiry_in_the_past_deletes() {
    let (s, _) = store();
    s.set(0, b"k", b"v", SetOptions::default()).unwrap();
    assert!(s.set(0, b"k", b"v", ex(Expiry::PxAt(1))).unwrap().written);
    assert_eq!(s.exists(0, &[b"k"]).unwrap(), 0);
    s.set(0, b"k", b"v", SetOptions::default()).unwrap();
    let got = s
        .getex(0, b"k", Some(GetExOption::Expire(Expiry::PxAt(1))))
        .unwrap();
    assert_eq!(got.as_deref(), Some(&b"v"[..]));
    assert_eq!(s.exists(0, &[b"k"]).unwrap(), 0);
}

#[test]
fn getex_getdel_getset() {
    let (s, clock) = store();
    s.set(0, b"k", b"v", SetOptions::default()).unwrap();
    s.getex(0, b"k", Some(GetExOption::Expire(Expiry::Px(1500))))
        .unwrap();
    assert_eq!(s.pttl(0, b"k").unwrap(), 1500);
    s.getex(0, b"k", Some(GetExOption::Persist)).unwrap();
    assert_eq!(s.pttl(0, b"k").unwrap(), -1);
    assert_eq!(s.getset(0, b"k", b"n").unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(s.getdel(0, b"k").unwrap().as_deref(), Some(&b"n"[..]));
    assert_eq!(s.getdel(0, b"k").unwrap(), None);
    s.psetex(0, b"t", 10, b"v").unwrap();
    clock.advance(10);
    assert_eq!(s.get(0, b"t").unwrap(), None);
}

#[test]
fn counters_and_integer_encoding() {
    let (s, _) = store();
    s.set(0, b"n", b"10", SetOptions::default()).unwrap();
    assert_eq!(s.object_encoding(0, b"n").unwrap(), Some("int"));
    assert_eq!(s.append(0, b"n", b"1").unwrap(), 3);
    assert_eq!(s.object_encoding(0, b"n").unwrap(), Some("raw"));
    assert_eq!(s.incr_by(0, b"n", 1).unwrap(), 102);
    assert_eq!(s.object_encoding(0, b"n").unwrap(), Some("int"));
    assert_eq!(s.get(0, b"n").unwrap().as_deref(), Some(&b"102"[..]));
    assert_eq!(s.decr_by(0, b"n", 2).unwrap(), 100);
    assert_eq!(s.incr_by(0, b"fresh", -1).unwrap(), -1);
    s.set(0, b"big", b"9223372036854775807", SetOptions::default())
        .unwrap();
    assert_eq!(s.incr_by(0, b"big", 1), Err(StoreError::Overflow));
    assert_eq!(
        s.decr_by(0, b"big", i64::MIN),
        Err(StoreError::DecrementOverflow)
    );
    for bad in [&b"abc"[..], b"010", b" 1", b"1.0", b""] {
        s.set(0, b"bad", bad, SetOptions::default()).unwrap();
        assert_eq!(s.incr_by(0, b"bad", 1), Err(StoreError::NotInteger));
    }
    // TTL survives INCR.
    s.set(0, b"c", b"1", ex(Expiry::Ex(50))).unwrap();
    s.incr_by(0, b"c", 1).unwrap();
    assert_eq!(s.ttl(0, b"c").unwrap(), 50);
}

#[test]
fn encodings_by_length() {
    let (s, _) = store();
    s.set(0, b"a", &[b'a'; 44], SetOptions::default()).unwrap();
    s.set(0, b"b", &[b'a'; 45], SetOptions::default()).unwrap();
    assert_eq!(s.object_encoding(0, b"a").unwrap(), Some("embstr"));
    assert_eq!(s.object_encoding(0, b"b").unwrap(), Some("raw"));
    assert_eq!(s.object_encoding(0, b"zz").unwrap(), None);
}

#[test]
fn incr_by_float_formats_like_redis() {
    let (s, _) = store();
    s.set(0, b"f", b"10.5", SetOptions::default()).unwrap();
    assert_eq!(&s.incr_by_float(0, b"f", b"0.1").unwrap()[..], b"10.6");
    s.set(0, b"g", b"3000", SetOptions::default()).unwrap();
    assert_eq!(
        &s.incr_by_float(0, b"g", b"0.1").unwrap()[..],
        b"3000.10000000000000009"
    );
    assert_eq!(s.incr_by_float(0, b"g", b"abc"), Err(StoreError::NotFloat));
    assert_eq!(
        s.incr_by_float(0, b"g", b"inf"),
        Err(StoreError::NanOrInfinity)
    );
    s.set(0, b"e", b"", SetOptions::default()).unwrap();
    assert_eq!(s.incr_by_float(0, b"e", b"1"), Err(StoreError::NotFloat));
}

#[test]
fn ranges() {
    let (s, _) = store();
    s.set(0, b"s", b"Hello World", SetOptions::default())
        .unwrap();
    let r = |a, b| s.getrange(0, b"s", a, b).unwrap();
    assert_eq!(&r(0, 4)[..], b"Hello");
    assert_eq!(&r(-5, -1)[..], b"World");
    assert_eq!(&r(-1, -5)[..], b"");
    assert_eq!(&r(5, 2)[..], b"");
    assert_eq!(&r(0, 100)[..], b"Hello World");
    assert_eq!(&r(-100, 2)[..], b"Hel");
    assert_eq!(s.setrange(0, b"s", 6, b"Redis").unwrap(), 11);
    assert_eq!(
        s.get(0, b"s").unwrap().as_deref(),
        Some(&b"Hello Redis"[..])
    );
    assert_eq!(s.setrange(0, b"p", 3, b"x").unwrap(), 4);
    assert_eq!(s.get(0, b"p").unwrap().as_deref(), Some(&b"\0\0\0x"[..]));
    assert_eq!(s.setrange(0, b"z", 0, b"").unwrap(), 0);
    assert_eq!(s.exists(0, &[b"z"]).unwrap(), 0);
    assert_eq!(
        s.setrange(0, b"z", -1, b"x"),
        Err(StoreError::OffsetOutOfRange)
    );
    assert!(matches!(
        s.setrange(0, b"z", 512 * 1024 * 1024, b"x"),
        Err(StoreError::StringTooLong { .. })
    ));
    assert_eq!(s.strlen(0, b"s").unwrap(), 11);
    s.set(0, b"n", b"-123", SetOptions::default()).unwrap();
    assert_eq!(s.strlen(0, b"n").unwrap(), 4);
    assert_eq!(&s.getrange(0, b"n", 1, 2).unwrap()[..], b"12");
}

#[test]
fn mset_mget_msetnx() {
    let (s, _) = store();
    s.mset(0, &[(b"a", b"1"), (b"b", b"2")]).unwrap();
    s.hset(0, b"h", &[(b"f", b"v")]).unwrap();
    let got = s.mget(0, &[b"a", b"x", b"b", b"h"]).unwrap();
    assert_eq!(got[0].as_deref(), Some(&b"1"[..]));
    assert_eq!(got[1], None);
    assert_eq!(got[2].as_deref(), Some(&b"2"[..]));
    assert_eq!(got[3], None);
    assert!(!s.msetnx(0, &[(b"c", b"3"), (b"a", b"9")]).unwrap());
    assert_eq!(s.exists(0, &[b"c"]).unwrap(), 0);
    assert!(s.msetnx(0, &[(b"c", b"3"), (b"d", b"4")]).unwrap());
    assert_eq!(s.dbsize(0).unwrap(), 5);
}

#[test]
fn zero_copy_get_and_db_range() {
    let (s, _) = store();
    s.set(0, b"k", b"value", SetOptions::default()).unwrap();
    let n = s.get_with(0, b"k", |v| v.len()).unwrap();
    assert_eq!(n, Some(5));
    assert_eq!(
        s.get(16, b"k"),
        Err(StoreError::DbIndexOutOfRange {
            index: 16,
            databases: 16
        })
    );
    assert_eq!(
        StoreError::DbIndexOutOfRange {
            index: 16,
            databases: 16
        }
        .to_string(),
        "database 16 does not exist; the store has 16"
    );
}
