//! The change stream: every mutating operation reports what Redis 7.0 notifies for the
//! command it implements (checked against `redis-server` 7.0 subscribed to
//! `__keyevent@*__:*` with `notify-keyspace-events KEAn`), in Redis's order, and nothing
//! on the paths that change nothing.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use redistill_store::{
    Change, ChangeListener, Event, ExpireCommand, ExpireCondition, Expiry, GetExOption,
    ManualClock, Policy, SetCondition, SetOptions, SnapshotValue, Store,
};

/// Keys whose liveness a recorded database-wide change is asked about.
const PROBES: [&[u8]; 3] = [b"a", b"b", b"c"];

/// A recording listener: per-key changes as `"db:key:event"`, database-wide ones with the
/// probes their predicate says existed.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl ChangeListener for Recorder {
    fn changed(&self, change: Change<'_>) {
        let line = match change {
            Change::Key { db, key, event } => {
                format!("{db}:{}:{}", String::from_utf8_lossy(key), event.name())
            }
            Change::Flushed { dbs, existed } => {
                let live = dbs
                    .clone()
                    .flat_map(|db| PROBES.iter().map(move |k| (db, *k)))
                    .filter(|(db, k)| existed(*db, k))
                    .map(|(db, k)| format!("{db}{}", String::from_utf8_lossy(k)))
                    .collect::<Vec<_>>();
                format!("flushed {dbs:?} {}", live.join(","))
            }
            Change::Swapped { a, b, existed } => {
                let live = [a, b]
                    .into_iter()
                    .flat_map(|db| PROBES.iter().map(move |k| (db, *k)))
                    .filter(|(db, k)| existed(*db, k))
                    .map(|(db, k)| format!("{db}{}", String::from_utf8_lossy(k)))
                    .collect::<Vec<_>>();
                format!("swapped {a} {b} {}", live.join(","))
            }
            other => format!("{other:?}"),
        };
        self.0.lock().expect("recorder lock").push(line);
    }
}

impl Recorder {
    /// What was reported since the last call.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("recorder lock"))
    }
}

const NOW: u64 = 1_700_000_000_000;

fn store() -> (Store, Arc<Recorder>, ManualClock) {
    let recorder = Arc::new(Recorder::default());
    let clock = ManualClock::new(NOW);
    let store = Store::builder()
        .databases(4)
        .shards(4)
        .clock(clock.clone())
        .change_listener(recorder.clone())
        .build();
    (store, recorder, clock)
}

/// Asserts what the last operations reported, as `"db:key:event"` strings.
#[track_caller]
fn reported(recorder: &Recorder, expected: &[&str]) {
    assert_eq!(recorder.take(), expected);
}

fn set(store: &Store, key: &[u8], value: &[u8]) {
    store
        .set(0, key, value, SetOptions::default())
        .expect("set");
}

fn opts(expiry: Option<Expiry>, condition: SetCondition) -> SetOptions {
    SetOptions {
        expiry,
        condition,
        ..SetOptions::default()
    }
}

#[test]
fn set_family() {
    let (store, rec, _) = store();
    set(&store, b"a", b"1");
    reported(&rec, &["0:a:new", "0:a:set"]);
    set(&store, b"a", b"2");
    reported(&rec, &["0:a:set"]);
    let nx = opts(None, SetCondition::IfAbsent);
    assert!(!store.set(0, b"a", b"3", nx).unwrap().written);
    reported(&rec, &[]);
    let xx = opts(None, SetCondition::IfPresent);
    assert!(!store.set(0, b"zz", b"3", xx).unwrap().written);
    reported(&rec, &[]);
    store
        .set(
            0,
            b"b",
            b"1",
            opts(Some(Expiry::Ex(10)), SetCondition::Always),
        )
        .unwrap();
    reported(&rec, &["0:b:new", "0:b:set", "0:b:expire"]);
    let keep = SetOptions {
        keep_ttl: true,
        ..SetOptions::default()
    };
    store.set(0, b"b", b"2", keep).unwrap();
    reported(&rec, &["0:b:set"]);
    // A time in the past: Redis stores, then expires the key.
    store
        .set(
            0,
            b"b",
            b"1",
            opts(Some(Expiry::PxAt(1)), SetCondition::Always),
        )
        .unwrap();
    reported(&rec, &["0:b:set", "0:b:expire", "0:b:expired"]);
    store
        .set(
            0,
            b"c",
            b"1",
            opts(Some(Expiry::PxAt(1)), SetCondition::Always),
        )
        .unwrap();
    reported(&rec, &["0:c:new", "0:c:set", "0:c:expire", "0:c:expired"]);
    // Invalid expire: nothing.
    assert!(store.setex(0, b"a", 0, b"v").is_err());
    reported(&rec, &[]);

    assert!(!store.setnx(0, b"a", b"2").unwrap());
    reported(&rec, &[]);
    assert!(store.setnx(0, b"n", b"2").unwrap());
    reported(&rec, &["0:n:new", "0:n:set"]);
    store.setex(0, b"a", 10, b"v").unwrap();
    reported(&rec, &["0:a:set", "0:a:expire"]);
    store.psetex(0, b"a", 1000, b"v").unwrap();
    reported(&rec, &["0:a:set", "0:a:expire"]);
    store.getset(0, b"a", b"z").unwrap();
    reported(&rec, &["0:a:set"]);
    store.getset(0, b"g", b"z").unwrap();
    reported(&rec, &["0:g:new", "0:g:set"]);
}

#[test]
fn multi_set() {
    let (store, rec, _) = store();
    set(&store, b"a", b"1");
    rec.take();
    store.mset(0, &[(b"a", b"1"), (b"m", b"2")]).unwrap();
    reported(&rec, &["0:a:set", "0:m:new", "0:m:set"]);
    assert!(!store.msetnx(0, &[(b"a", b"1"), (b"q", b"2")]).unwrap());
    reported(&rec, &[]);
    assert!(store.msetnx(0, &[(b"q", b"1"), (b"r", b"2")]).unwrap());
    reported(&rec, &["0:q:new", "0:q:set", "0:r:new", "0:r:set"]);
}

#[test]
fn getdel_and_getex() {
    let (store, rec, _) = store();
    set(&store, b"a", b"1");
    rec.take();
    store.getdel(0, b"a").unwrap();
    reported(&rec, &["0:a:del"]);
    store.getdel(0, b"a").unwrap();
    reported(&rec, &[]);
    store.hset(0, b"h", &[(b"f", b"v")]).unwrap();
    rec.take();
    assert!(store.getdel(0, b"h").is_err());
    reported(&rec, &[]);

    set(&store, b"a", b"1");
    rec.take();
    let ex = |e| Some(GetExOption::Expire(e));
    store.getex(0, b"a", None).unwrap();
    reported(&rec, &[]);
    store.getex(0, b"a", ex(Expiry::Ex(100))).unwrap();
    reported(&rec, &["0:a:expire"]);
    store.getex(0, b"a", Some(GetExOption::Persist)).unwrap();
    reported(&rec, &["0:a:persist"]);
    store.getex(0, b"a", Some(GetExOption::Persist)).unwrap();
    reported(&rec, &[]);
    assert!(store.getex(0, b"a", ex(Expiry::Px(0))).is_err());
    reported(&rec, &[]);
    store.getex(0, b"a", ex(Expiry::PxAt(1))).unwrap();
    reported(&rec, &["0:a:del"]);
    store.getex(0, b"a", ex(Expiry::Ex(1))).unwrap();
    reported(&rec, &[]);
}

#[test]
fn string_edits_and_counters() {
    let (store, rec, _) = store();
    set(&store, b"a", b"1");
    rec.take();
    store.append(0, b"a", b"xy").unwrap();
    reported(&rec, &["0:a:append"]);
    store.append(0, b"n", b"xy").unwrap();
    reported(&rec, &["0:n:new", "0:n:append"]);
    store.setrange(0, b"a", 1, b"Z").unwrap();
    reported(&rec, &["0:a:setrange"]);
    store.setrange(0, b"a", 1, b"").unwrap();
    store.setrange(0, b"e", 3, b"").unwrap();
    reported(&rec, &[]);
    store.setrange(0, b"e", 2, b"x").unwrap();
    reported(&rec, &["0:e:new", "0:e:setrange"]);
    assert!(store.setrange(0, b"e", -1, b"x").is_err());
    reported(&rec, &[]);

    store.incr_by(0, b"j", 1).unwrap();
    reported(&rec, &["0:j:new", "0:j:incrby"]);
    store.decr_by(0, b"j", 1).unwrap();
    reported(&rec, &["0:j:incrby"]);
    assert!(store.incr_by(0, b"a", 1).is_err());
    set(&store, b"big", i64::MAX.to_string().as_bytes());
    rec.take();
    assert!(store.incr_by(0, b"big", 1).is_err());
    reported(&rec, &[]);
    store.incr_by_float(0, b"j", b"1.5").unwrap();
    reported(&rec, &["0:j:incrbyfloat"]);
    store.incr_by_float(0, b"f", b"1.5").unwrap();
    reported(&rec, &["0:f:new", "0:f:incrbyfloat"]);
    assert!(store.incr_by_float(0, b"f", b"x").is_err());
    reported(&rec, &[]);
}

#[test]
fn hashes() {
    let (store, rec, _) = store();
    store.hset(0, b"h", &[(b"a", b"1")]).unwrap();
    reported(&rec, &["0:h:new", "0:h:hset"]);
    // Redis reports HSET even when no field changes.
    store.hset(0, b"h", &[(b"a", b"1")]).unwrap();
    reported(&rec, &["0:h:hset"]);
    assert!(!store.hsetnx(0, b"h", b"a", b"1").unwrap());
    reported(&rec, &[]);
    assert!(store.hsetnx(0, b"h", b"c", b"1").unwrap());
    reported(&rec, &["0:h:hset"]);
    assert!(store.hsetnx(0, b"nh", b"a", b"1").unwrap());
    reported(&rec, &["0:nh:new", "0:nh:hset"]);
    assert_eq!(store.hdel(0, b"h", &[b"x"]).unwrap(), 0);
    assert_eq!(store.hdel(0, b"missing", &[b"x"]).unwrap(), 0);
    reported(&rec, &[]);
    assert_eq!(store.hdel(0, b"h", &[b"a"]).unwrap(), 1);
    reported(&rec, &["0:h:hdel"]);
    assert_eq!(store.hdel(0, b"h", &[b"c"]).unwrap(), 1);
    reported(&rec, &["0:h:hdel", "0:h:del"]);
    store.hincrby(0, b"h2", b"a", 1).unwrap();
    reported(&rec, &["0:h2:new", "0:h2:hincrby"]);
    store.hincrbyfloat(0, b"h2", b"a", b"1.5").unwrap();
    reported(&rec, &["0:h2:hincrbyfloat"]);
    assert!(store.hincrby(0, b"h2", b"a", 1).is_err());
    assert!(store.hincrbyfloat(0, b"h3", b"a", b"inf").is_err());
    set(&store, b"s", b"v");
    rec.take();
    assert!(store.hset(0, b"s", &[(b"a", b"1")]).is_err());
    reported(&rec, &[]);
}

#[test]
fn deletes() {
    let (store, rec, _) = store();
    set(&store, b"a", b"1");
    set(&store, b"b", b"1");
    rec.take();
    assert_eq!(store.del(0, &[b"zz"]).unwrap(), 0);
    reported(&rec, &[]);
    assert_eq!(store.del(0, &[b"a"]).unwrap(), 1);
    reported(&rec, &["0:a:del"]);
    set(&store, b"a", b"1");
    rec.take();
    assert_eq!(store.unlink(0, &[b"a", b"b", b"c", b"a"]).unwrap(), 2);
    reported(&rec, &["0:a:del", "0:b:del"]);
}

#[test]
fn expire_family() {
    let (store, rec, _) = store();
    set(&store, b"a", b"1");
    rec.take();
    let expire = |amount, cond| {
        store
            .expire(0, b"a", amount, ExpireCommand::Expire, cond)
            .unwrap()
    };
    assert!(expire(100, ExpireCondition::Always));
    reported(&rec, &["0:a:expire"]);
    assert!(!expire(50, ExpireCondition::Gt));
    assert!(!expire(50, ExpireCondition::Nx));
    reported(&rec, &[]);
    assert!(expire(200, ExpireCondition::Xx));
    reported(&rec, &["0:a:expire"]);
    assert!(store.persist(0, b"a").unwrap());
    reported(&rec, &["0:a:persist"]);
    assert!(!store.persist(0, b"a").unwrap());
    assert!(!expire(10, ExpireCondition::Xx));
    reported(&rec, &[]);
    assert!(expire(0, ExpireCondition::Always));
    reported(&rec, &["0:a:del"]);
    assert!(!expire(10, ExpireCondition::Always));
    reported(&rec, &[]);
    set(&store, b"a", b"1");
    rec.take();
    let at = store
        .expire(
            0,
            b"a",
            1,
            ExpireCommand::PExpireAt,
            ExpireCondition::Always,
        )
        .unwrap();
    assert!(at);
    reported(&rec, &["0:a:del"]);
}

#[test]
fn rename_move_copy() {
    let (store, rec, _) = store();
    store.mset(0, &[(b"a", b"1"), (b"b", b"2")]).unwrap();
    rec.take();
    store.rename(0, b"a", b"b").unwrap();
    reported(&rec, &["0:b:new", "0:a:rename_from", "0:b:rename_to"]);
    store.rename(0, b"b", b"b").unwrap();
    assert!(store.rename(0, b"a", b"c").is_err());
    reported(&rec, &[]);
    set(&store, b"a", b"1");
    rec.take();
    assert!(!store.renamenx(0, b"a", b"b").unwrap());
    reported(&rec, &[]);
    assert!(store.renamenx(0, b"a", b"c").unwrap());
    reported(&rec, &["0:c:new", "0:a:rename_from", "0:c:rename_to"]);
    assert!(!store.renamenx(0, b"c", b"c").unwrap());
    reported(&rec, &[]);

    assert!(store.move_key(0, b"c", 3).unwrap());
    reported(&rec, &["3:c:new", "0:c:move_from", "3:c:move_to"]);
    set(&store, b"c", b"1");
    rec.take();
    assert!(!store.move_key(0, b"c", 3).unwrap());
    assert!(!store.move_key(0, b"zz", 3).unwrap());
    reported(&rec, &[]);

    assert!(store.copy(0, b"b", 0, b"d", false).unwrap());
    reported(&rec, &["0:d:new", "0:d:copy_to"]);
    assert!(!store.copy(0, b"b", 0, b"d", false).unwrap());
    assert!(!store.copy(0, b"zz", 0, b"d", true).unwrap());
    assert!(store.copy(0, b"b", 0, b"b", true).is_err());
    reported(&rec, &[]);
    assert!(store.copy(0, b"b", 0, b"d", true).unwrap());
    reported(&rec, &["0:d:new", "0:d:copy_to"]);
    assert!(store.copy(0, b"b", 2, b"d", false).unwrap());
    reported(&rec, &["2:d:new", "2:d:copy_to"]);
}

#[test]
fn restore_reports_and_loading_does_not() {
    let (store, rec, _) = store();
    let v = || SnapshotValue::String(Bytes::from_static(b"v"));
    assert!(store.restore(0, b"r", None, v()).unwrap());
    reported(&rec, &["0:r:new", "0:r:restore"]);
    assert!(store.restore(0, b"r", None, v()).unwrap());
    reported(&rec, &["0:r:new", "0:r:restore"]);
    assert!(!store.restore(0, b"gone", Some(1), v()).unwrap());
    reported(&rec, &[]);
    assert!(store.load_entry(0, b"l", None, v()).unwrap());
    assert!(store.load_entry(0, b"r", None, v()).unwrap());
    reported(&rec, &[]);
}

#[test]
fn flushes_and_swaps_tell_which_keys_existed() {
    let (store, rec, clock) = store();
    set(&store, b"a", b"1");
    store
        .set(
            0,
            b"b",
            b"1",
            opts(Some(Expiry::Px(10)), SetCondition::Always),
        )
        .unwrap();
    store.set(1, b"c", b"1", SetOptions::default()).unwrap();
    clock.advance(10);
    rec.take();
    // b has expired: it did not exist any more.
    store.flushdb(0).unwrap();
    reported(&rec, &["flushed 0..1 0a"]);
    set(&store, b"a", b"1");
    rec.take();
    store.swapdb(0, 1).unwrap();
    reported(&rec, &["swapped 0 1 0a,0c,1a,1c"]);
    store.swapdb(2, 2).unwrap();
    assert!(store.swapdb(0, 9).is_err());
    reported(&rec, &[]);
    store.flushall();
    reported(&rec, &["flushed 0..4 0c,1a"]);
}

#[test]
fn expiry_reports_expired_keys() {
    let (store, rec, clock) = store();
    for key in [&b"a"[..], b"b", b"c", b"d"] {
        store
            .set(
                0,
                key,
                b"1",
                opts(Some(Expiry::Px(10)), SetCondition::Always),
            )
            .unwrap();
    }
    clock.advance(10);
    rec.take();
    // A write path that meets an expired key removes it first.
    set(&store, b"a", b"2");
    reported(&rec, &["0:a:expired", "0:a:new", "0:a:set"]);
    assert_eq!(store.del(0, &[b"b"]).unwrap(), 0);
    reported(&rec, &["0:b:expired"]);
    // A single-key read deletes what it found expired.
    assert_eq!(store.get(0, b"c").unwrap(), None);
    reported(&rec, &["0:c:expired"]);
    // The active cycle reports what it removes.
    let stats = store.active_expire_cycle(1000);
    assert_eq!(stats.expired, 1);
    reported(&rec, &["0:d:expired"]);
}

#[test]
fn eviction_reports_evicted_keys() {
    let recorder = Arc::new(Recorder::default());
    let store = Store::builder()
        .databases(1)
        .shards(4)
        .max_memory(64 << 10)
        .eviction_policy(Policy::AllKeysRandom)
        .change_listener(recorder.clone())
        .build();
    for i in 0..1000u32 {
        store
            .set(0, &i.to_be_bytes(), &[0u8; 200], SetOptions::default())
            .unwrap();
    }
    let evicted = store.stats().evicted_keys;
    assert!(evicted > 0);
    let events = recorder.take();
    let reported_evictions = events.iter().filter(|e| e.ends_with(":evicted")).count();
    assert_eq!(reported_evictions as u64, evicted);
}

#[test]
fn no_listener_changes_nothing() {
    let store = Store::builder().databases(2).build();
    store.set(0, b"a", b"1", SetOptions::default()).unwrap();
    store.flushall();
    store.swapdb(0, 1).unwrap();
    assert_eq!(store.dbsize(0).unwrap(), 0);
    let _ = Event::New;
}
