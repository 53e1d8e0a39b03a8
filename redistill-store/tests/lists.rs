//! Lists: the commands' results and errors, the events they report (checked against
//! `redis-server` 7.0 subscribed to `__keyevent@*__:*` with `notify-keyspace-events KEAn`),
//! and every keyspace path (TYPE, DEL, RENAME, MOVE, COPY, SCAN TYPE, MEMORY USAGE,
//! expiry, eviction, FLUSHALL) working on them.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use redistill_store::{
    Change, ChangeListener, ExpireCommand, ExpireCondition, ListEnd, ManualClock, Policy,
    ScanOptions, Store, StoreError, ValueType,
};

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl ChangeListener for Recorder {
    fn changed(&self, change: Change<'_>) {
        if let Change::Key { db, key, event } = change {
            let line = format!("{db}:{}:{}", String::from_utf8_lossy(key), event.name());
            self.0.lock().expect("recorder lock").push(line);
        }
    }
}

impl Recorder {
    #[track_caller]
    fn saw(&self, expected: &[&str]) {
        let got = std::mem::take(&mut *self.0.lock().expect("recorder lock"));
        assert_eq!(got, expected);
    }
}

fn recorded() -> (Store, Arc<Recorder>) {
    let rec = Arc::new(Recorder::default());
    let store = Store::builder()
        .databases(2)
        .shards(8)
        .change_listener(rec.clone())
        .build();
    (store, rec)
}

fn all(store: &Store, key: &[u8]) -> Vec<Bytes> {
    store.lrange(0, key, 0, -1).expect("lrange")
}

#[test]
fn pushes_and_pops_report_redis_events() {
    let (s, rec) = recorded();
    assert_eq!(s.rpush(0, b"a", &[b"x", b"y"]).unwrap(), 2);
    rec.saw(&["0:a:new", "0:a:rpush"]);
    assert_eq!(s.lpush(0, b"a", &[b"w"]).unwrap(), 3);
    rec.saw(&["0:a:lpush"]);
    assert_eq!(
        s.list_push(0, b"b", ListEnd::Left, &[b"x"], true).unwrap(),
        0
    );
    rec.saw(&[]);
    assert_eq!(s.list_pop(0, b"a", ListEnd::Left, 0).unwrap(), Some(vec![]));
    rec.saw(&[]);
    assert_eq!(
        s.list_pop(0, b"a", ListEnd::Right, 2)
            .unwrap()
            .unwrap()
            .len(),
        2
    );
    rec.saw(&["0:a:rpop"]);
    assert_eq!(s.lpop(0, b"a").unwrap().as_deref(), Some(&b"w"[..]));
    rec.saw(&["0:a:lpop", "0:a:del"]);
    assert_eq!(s.lpop(0, b"a").unwrap(), None);
    assert_eq!(s.list_pop(0, b"a", ListEnd::Left, 3).unwrap(), None);
    rec.saw(&[]);
    s.check_invariants().unwrap();
}

#[test]
fn edits_report_only_what_changed() {
    let (s, rec) = recorded();
    s.rpush(0, b"a", &[b"1", b"2", b"3"]).unwrap();
    rec.saw(&["0:a:new", "0:a:rpush"]);
    assert_eq!(s.lrem(0, b"a", 0, b"zz").unwrap(), 0);
    assert_eq!(s.linsert(0, b"a", true, b"zz", b"q").unwrap(), -1);
    assert_eq!(s.lset(0, b"a", 9, b"q"), Err(StoreError::IndexOutOfRange));
    rec.saw(&[]);
    assert_eq!(s.lrem(0, b"a", 1, b"2").unwrap(), 1);
    rec.saw(&["0:a:lrem"]);
    assert_eq!(s.linsert(0, b"a", false, b"1", b"z").unwrap(), 3);
    rec.saw(&["0:a:linsert"]);
    s.lset(0, b"a", 0, b"0").unwrap();
    rec.saw(&["0:a:lset"]);
    // Redis reports LTRIM even when it keeps everything.
    s.ltrim(0, b"a", 0, -1).unwrap();
    rec.saw(&["0:a:ltrim"]);
    s.ltrim(0, b"a", 1, 0).unwrap();
    rec.saw(&["0:a:ltrim", "0:a:del"]);
    s.ltrim(0, b"a", 0, 1).unwrap();
    assert_eq!(s.lrem(0, b"a", 0, b"x").unwrap(), 0);
    assert_eq!(s.linsert(0, b"a", true, b"x", b"y").unwrap(), 0);
    assert_eq!(s.lset(0, b"a", 0, b"x"), Err(StoreError::NoSuchKey));
    rec.saw(&[]);
    s.rpush(0, b"e", &[b"x", b"x"]).unwrap();
    rec.saw(&["0:e:new", "0:e:rpush"]);
    assert_eq!(s.lrem(0, b"e", -5, b"x").unwrap(), 2);
    rec.saw(&["0:e:lrem", "0:e:del"]);
    s.check_invariants().unwrap();
}

#[test]
fn lmove_reports_the_push_then_the_pop_as_redis_does() {
    let (s, rec) = recorded();
    s.rpush(0, b"a", &[b"x", b"y"]).unwrap();
    rec.saw(&["0:a:new", "0:a:rpush"]);
    let m = s
        .lmove(0, b"a", b"b", ListEnd::Left, ListEnd::Left)
        .unwrap();
    assert_eq!(m.as_deref(), Some(&b"x"[..]));
    rec.saw(&["0:b:new", "0:b:lpush", "0:a:lpop"]);
    let m = s
        .lmove(0, b"a", b"b", ListEnd::Right, ListEnd::Right)
        .unwrap();
    assert_eq!(m.as_deref(), Some(&b"y"[..]));
    rec.saw(&["0:b:rpush", "0:a:rpop", "0:a:del"]);
    assert_eq!(all(&s, b"b"), [&b"x"[..], b"y"]);
    // Rotation.
    s.lmove(0, b"b", b"b", ListEnd::Left, ListEnd::Right)
        .unwrap();
    rec.saw(&["0:b:rpush", "0:b:lpop"]);
    assert_eq!(all(&s, b"b"), [&b"y"[..], b"x"]);
    // A one-element list rotated onto itself stays.
    s.rpush(0, b"one", &[b"v"]).unwrap();
    rec.saw(&["0:one:new", "0:one:rpush"]);
    s.lmove(0, b"one", b"one", ListEnd::Right, ListEnd::Left)
        .unwrap();
    assert_eq!(all(&s, b"one"), [&b"v"[..]]);
    rec.saw(&["0:one:lpush", "0:one:rpop"]);
    assert_eq!(
        s.lmove(0, b"none", b"b", ListEnd::Left, ListEnd::Left)
            .unwrap(),
        None
    );
    rec.saw(&[]);
    s.check_invariants().unwrap();
}

#[test]
fn lmove_checks_types_before_moving_anything() {
    let s = Store::new();
    s.set(0, b"str", b"v", Default::default()).unwrap();
    s.rpush(0, b"l", &[b"a"]).unwrap();
    let l = ListEnd::Left;
    assert_eq!(s.lmove(0, b"str", b"l", l, l), Err(StoreError::WrongType));
    assert_eq!(s.lmove(0, b"l", b"str", l, l), Err(StoreError::WrongType));
    assert_eq!(all(&s, b"l"), [&b"a"[..]]);
    // A missing source is checked first: nothing to move, no error.
    assert_eq!(s.lmove(0, b"missing", b"str", l, l), Ok(None));
    s.check_invariants().unwrap();
}

#[test]
fn lmpop_takes_the_first_list_and_stops_at_another_type() {
    let (s, rec) = recorded();
    s.rpush(0, b"b", &[b"1", b"2"]).unwrap();
    s.rpush(0, b"c", &[b"3"]).unwrap();
    s.set(0, b"s", b"v", Default::default()).unwrap();
    rec.saw(&[
        "0:b:new",
        "0:b:rpush",
        "0:c:new",
        "0:c:rpush",
        "0:s:new",
        "0:s:set",
    ]);
    let (k, v) = s
        .lmpop(0, &[b"a", b"b", b"c"], ListEnd::Right, 5)
        .unwrap()
        .unwrap();
    assert_eq!(
        (&k[..], v),
        (&b"b"[..], vec![Bytes::from("2"), Bytes::from("1")])
    );
    rec.saw(&["0:b:rpop", "0:b:del"]);
    assert_eq!(
        s.lmpop(0, &[b"a", b"s", b"c"], ListEnd::Left, 1),
        Err(StoreError::WrongType)
    );
    let (k, _) = s
        .lmpop(0, &[b"c", b"s"], ListEnd::Left, 1)
        .unwrap()
        .unwrap();
    assert_eq!(&k[..], b"c");
    rec.saw(&["0:c:lpop", "0:c:del"]);
    assert_eq!(s.lmpop(0, &[b"a", b"b"], ListEnd::Left, 1).unwrap(), None);
    s.check_invariants().unwrap();
}

#[test]
fn other_types_are_wrongtype_and_lists_are_wrongtype_elsewhere() {
    let s = Store::new();
    s.set(0, b"s", b"v", Default::default()).unwrap();
    s.rpush(0, b"l", &[b"a"]).unwrap();
    assert_eq!(s.rpush(0, b"s", &[b"x"]), Err(StoreError::WrongType));
    assert_eq!(s.llen(0, b"s"), Err(StoreError::WrongType));
    assert_eq!(s.lrange(0, b"s", 0, -1), Err(StoreError::WrongType));
    assert_eq!(s.lpop(0, b"s"), Err(StoreError::WrongType));
    assert_eq!(s.lpos(0, b"s", b"x", 1, 0, 0), Err(StoreError::WrongType));
    assert_eq!(s.get(0, b"l"), Err(StoreError::WrongType));
    assert_eq!(s.hget(0, b"l", b"f"), Err(StoreError::WrongType));
}

#[test]
fn keyspace_paths_handle_lists() {
    let clock = ManualClock::new(1_000_000);
    let s = Store::builder()
        .databases(2)
        .shards(4)
        .clock(clock.clone())
        .max_memory(1 << 30)
        .build();
    s.rpush(0, b"l", &[b"a", b"b", b"c"]).unwrap();
    assert_eq!(s.value_type(0, b"l").unwrap(), Some(ValueType::List));
    assert_eq!(ValueType::from_name(b"LIST"), Some(ValueType::List));
    assert_eq!(s.object_encoding(0, b"l").unwrap(), Some("quicklist"));
    assert!(s.memory_usage(0, b"l").unwrap().unwrap() > 3);
    s.rename(0, b"l", b"m").unwrap();
    assert!(s.copy(0, b"m", 1, b"c", false).unwrap());
    s.rpush(1, b"c", &[b"d"]).unwrap();
    assert_eq!(all(&s, b"m"), [&b"a"[..], b"b", b"c"]);
    assert!(s.move_key(0, b"m", 1).unwrap());
    assert_eq!(s.lrange(1, b"m", 0, -1).unwrap().len(), 3);
    assert_eq!(s.lrange(1, b"c", 0, -1).unwrap().len(), 4);
    s.set(1, b"s", b"v", Default::default()).unwrap();
    let opts = ScanOptions {
        value_type: Some(ValueType::List),
        count: Some(100),
        ..Default::default()
    };
    let (_, mut keys) = s.scan(1, 0, opts).unwrap();
    keys.sort();
    assert_eq!(keys, [&b"c"[..], b"m"]);
    s.expire(1, b"m", 5, ExpireCommand::Expire, ExpireCondition::Always)
        .unwrap();
    clock.advance(6_000);
    assert_eq!(s.llen(1, b"m").unwrap(), 0);
    s.check_invariants().unwrap();
    assert_eq!(s.del(1, &[b"c"]).unwrap(), 1);
    s.rpush(0, b"x", &[b"1"]).unwrap();
    s.flushall();
    assert_eq!(s.dbsize(0).unwrap(), 0);
    s.check_invariants().unwrap();
}

#[test]
fn lists_count_against_the_memory_limit_and_are_evicted() {
    let s = Store::builder()
        .databases(1)
        .shards(4)
        .max_memory(256 << 10)
        .eviction_policy(Policy::AllKeysLru)
        .build();
    for i in 0..500u32 {
        let key = format!("l{i}");
        for _ in 0..10 {
            s.rpush(0, key.as_bytes(), &[&[b'x'; 100][..]]).unwrap();
        }
        s.check_invariants().unwrap();
    }
    assert!(s.stats().evicted_keys > 0);
    let strict = Store::builder()
        .databases(1)
        .shards(4)
        .max_memory(64 << 10)
        .build();
    let mut refused = false;
    for _ in 0..2_000 {
        if strict.rpush(0, b"l", &[&[b'x'; 100][..]]) == Err(StoreError::OutOfMemory) {
            refused = true;
            break;
        }
    }
    assert!(
        refused,
        "pushes past the limit are refused under noeviction"
    );
    assert!(strict.llen(0, b"l").unwrap() > 100);
    assert_eq!(
        strict.list_push(0, b"l", ListEnd::Left, &[b"x"], true),
        Err(StoreError::OutOfMemory),
        "LPUSHX too"
    );
    assert!(strict.lpop(0, b"l").unwrap().is_some(), "pops still work");
}

#[test]
fn lpos_follows_rank_count_and_maxlen() {
    let s = Store::new();
    s.rpush(0, b"l", &[b"a", b"b", b"c", b"1", b"2", b"3", b"c", b"c"])
        .unwrap();
    assert_eq!(s.lpos(0, b"l", b"c", 1, 0, 0).unwrap(), [2, 6, 7]);
    assert_eq!(s.lpos(0, b"l", b"c", -2, 0, 0).unwrap(), [6, 2]);
    assert_eq!(s.lpos(0, b"l", b"c", 4, 0, 0).unwrap(), Vec::<usize>::new());
    assert_eq!(s.lpos(0, b"l", b"c", -1, 0, 2).unwrap(), [7, 6]);
    assert_eq!(s.lpos(0, b"l", b"c", -1, 0, 1).unwrap(), [7]);
    assert_eq!(s.lpos(0, b"l", b"a", 1, 1, 1).unwrap(), [0]);
    assert_eq!(s.lpos(0, b"l", b"b", 1, 1, 1).unwrap(), Vec::<usize>::new());
    assert_eq!(
        s.lpos(0, b"missing", b"b", 1, 0, 0).unwrap(),
        Vec::<usize>::new()
    );
}

#[test]
fn compression_shrinks_compressible_lists() {
    let plain = Store::builder().databases(1).build();
    let packed = Store::builder().databases(1).build();
    packed.set_list_compress_depth(1).unwrap();
    for store in [&plain, &packed] {
        for i in 0..10_000u32 {
            let element = format!("event:{i:06}:{}", "payload ".repeat(10));
            store.rpush(0, b"l", &[element.as_bytes()]).unwrap();
        }
        store.check_invariants().unwrap();
    }
    let (a, b) = (
        plain.memory_usage(0, b"l").unwrap().unwrap(),
        packed.memory_usage(0, b"l").unwrap().unwrap(),
    );
    assert!(b * 4 < a, "compressed {b} bytes, plain {a}");
    assert_eq!(plain.lrange(0, b"l", 0, -1), packed.lrange(0, b"l", 0, -1));
    assert_eq!(plain.lindex(0, b"l", 5_000), packed.lindex(0, b"l", 5_000));
    // The settings apply to lists made afterwards, as in Redis.
    packed.set_list_compress_depth(0).unwrap();
    packed.rpush(0, b"l", &[b"more"]).unwrap();
    let after = packed.memory_usage(0, b"l").unwrap().unwrap();
    assert!(after * 4 < a, "still compressed: {after} bytes");
    packed.check_invariants().unwrap();
}
