//! Sorted sets at the store level: the multi-key commands (ZUNION, ZINTER, ZDIFF and their
//! STORE forms, ZINTERCARD, ZRANGESTORE, ZMPOP), ZRANDMEMBER, ZSCAN, the encodings
//! results are created in, and the keyspace events each command reports. Expected values
//! were taken from Redis 7.0.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use redistill_store::{
    Aggregate, Change, ChangeListener, Event, ScoreBound, ScoreRange, Store, StoreError,
    ZAddOptions, ZRangeBy, ZRangeSpec, ZSetOp,
};

fn add(store: &Store, key: &[u8], members: &[(f64, &str)]) {
    let args: Vec<(f64, &[u8])> = members.iter().map(|(s, m)| (*s, m.as_bytes())).collect();
    store.zadd(0, key, &args, ZAddOptions::default()).unwrap();
}

fn pairs(v: &[(Bytes, f64)]) -> Vec<(String, f64)> {
    v.iter()
        .map(|(m, s)| (String::from_utf8(m.to_vec()).unwrap(), *s))
        .collect()
}

fn all(store: &Store, key: &[u8]) -> Vec<(String, f64)> {
    let spec = ZRangeSpec {
        by: ZRangeBy::Rank { start: 0, stop: -1 },
        rev: false,
        limit: None,
    };
    store
        .zrange_with(0, key, &spec, |it| {
            let mut out = Vec::new();
            it.for_each(|m, s| out.push((String::from_utf8(m.to_vec()).unwrap(), s)));
            out
        })
        .unwrap()
}

fn s(m: &str, score: f64) -> (String, f64) {
    (m.to_string(), score)
}

#[test]
fn union_weights_and_aggregates() {
    let store = Store::new();
    add(&store, b"a", &[(1.0, "x"), (2.0, "y")]);
    add(
        &store,
        b"b",
        &[(f64::INFINITY, "x"), (f64::NEG_INFINITY, "y"), (3.0, "z")],
    );
    let op = |w: Option<&[f64]>, agg| {
        pairs(
            &store
                .zsetop(0, ZSetOp::Union, &[b"a", b"b"], w, agg, None)
                .unwrap()
                .1,
        )
    };
    assert_eq!(
        op(None, Aggregate::Sum),
        [
            s("y", f64::NEG_INFINITY),
            s("z", 3.0),
            s("x", f64::INFINITY)
        ]
    );
    // 0 * inf is NaN, which a union counts as 0.
    assert_eq!(
        op(Some(&[1.0, 0.0]), Aggregate::Min),
        [s("x", 0.0), s("y", 0.0), s("z", 0.0)]
    );
    assert_eq!(
        op(Some(&[2.0, 1.0]), Aggregate::Max),
        [s("z", 3.0), s("y", 4.0), s("x", f64::INFINITY)]
    );
    // inf + -inf is 0 under SUM.
    add(&store, b"c", &[(f64::NEG_INFINITY, "x")]);
    let r = store
        .zsetop(0, ZSetOp::Union, &[b"b", b"c"], None, Aggregate::Sum, None)
        .unwrap();
    assert!(pairs(&r.1).contains(&s("x", 0.0)));
}

#[test]
fn inter_probes_later_inputs_without_zeroing_their_nan_products() {
    let store = Store::new();
    add(&store, b"a", &[(1.0, "x"), (2.0, "y")]);
    add(
        &store,
        b"b",
        &[(f64::INFINITY, "x"), (f64::NEG_INFINITY, "y"), (5.0, "w")],
    );
    let op = |keys: &[&[u8]], w: Option<&[f64]>, agg| {
        pairs(
            &store
                .zsetop(0, ZSetOp::Inter, keys, w, agg, None)
                .unwrap()
                .1,
        )
    };
    // As Redis 7.0: a NaN product of a probed input loses every MIN / MAX comparison.
    assert_eq!(
        op(&[b"a", b"b"], Some(&[1.0, 0.0]), Aggregate::Min),
        [s("x", 1.0), s("y", 2.0)]
    );
    assert_eq!(
        op(&[b"a", b"b"], Some(&[1.0, 0.0]), Aggregate::Max),
        [s("x", 1.0), s("y", 2.0)]
    );
    assert_eq!(
        op(&[b"a", b"b"], None, Aggregate::Sum),
        [s("y", f64::NEG_INFINITY), s("x", f64::INFINITY)]
    );
    assert!(op(&[b"a", b"missing"], None, Aggregate::Sum).is_empty());
    // The same key twice: each member meets itself.
    assert_eq!(
        op(&[b"a", b"a"], Some(&[1.0, 10.0]), Aggregate::Sum),
        [s("x", 11.0), s("y", 22.0)]
    );
}

#[test]
fn sets_count_as_scores_of_one() {
    let store = Store::new();
    add(&store, b"z", &[(5.0, "a"), (7.0, "b")]);
    store.sadd(0, b"s", &[b"a", b"c"]).unwrap();
    store.sadd(0, b"ints", &[b"1", b"2"]).unwrap();
    let run = |op, keys: &[&[u8]], w: Option<&[f64]>| {
        pairs(
            &store
                .zsetop(0, op, keys, w, Aggregate::Sum, None)
                .unwrap()
                .1,
        )
    };
    assert_eq!(
        run(ZSetOp::Union, &[b"z", b"s"], Some(&[1.0, 3.0])),
        [s("c", 3.0), s("b", 7.0), s("a", 8.0)]
    );
    assert_eq!(run(ZSetOp::Inter, &[b"s", b"z"], None), [s("a", 6.0)]);
    assert_eq!(run(ZSetOp::Diff, &[b"s", b"z"], None), [s("c", 1.0)]);
    assert_eq!(
        run(ZSetOp::Union, &[b"ints"], None),
        [s("1", 1.0), s("2", 1.0)]
    );
    assert_eq!(store.zintercard(0, &[b"z", b"s"], 0).unwrap(), 1);
    store.set(0, b"str", b"v", Default::default()).unwrap();
    assert_eq!(
        store.zsetop(
            0,
            ZSetOp::Union,
            &[b"z", b"str"],
            None,
            Aggregate::Sum,
            None
        ),
        Err(StoreError::WrongType)
    );
    assert_eq!(
        store.zintercard(0, &[b"str"], 0),
        Err(StoreError::WrongType)
    );
}

#[test]
fn diff_keeps_first_input_scores() {
    let store = Store::new();
    add(&store, b"a", &[(1.0, "x"), (2.0, "y"), (3.0, "z")]);
    add(&store, b"b", &[(9.0, "y")]);
    let r = store
        .zsetop(
            0,
            ZSetOp::Diff,
            &[b"a", b"b", b"missing"],
            None,
            Aggregate::Sum,
            None,
        )
        .unwrap();
    assert_eq!(pairs(&r.1), [s("x", 1.0), s("z", 3.0)]);
    let r = store
        .zsetop(0, ZSetOp::Diff, &[b"a", b"a"], None, Aggregate::Sum, None)
        .unwrap();
    assert!(r.1.is_empty());
}

#[test]
fn store_forms_replace_or_delete_the_destination_and_pick_redis_encodings() {
    let store = Store::new();
    let names: Vec<String> = (0..200).map(|i| format!("m{i:03}")).collect();
    let big: Vec<(f64, &str)> = names
        .iter()
        .enumerate()
        .map(|(i, m)| (i as f64, &m[..]))
        .collect();
    add(&store, b"big", &big);
    assert_eq!(store.object_encoding(0, b"big").unwrap(), Some("skiplist"));
    add(&store, b"small", &[(1.0, "m001"), (2.0, "m002")]);
    store
        .set(0, b"dst", b"a string", Default::default())
        .unwrap();
    let (n, v) = store
        .zsetop(
            0,
            ZSetOp::Inter,
            &[b"big", b"small"],
            None,
            Aggregate::Sum,
            Some(b"dst"),
        )
        .unwrap();
    assert!(v.is_empty());
    assert_eq!(n, 2);
    assert_eq!(all(&store, b"dst"), [s("m001", 2.0), s("m002", 4.0)]);
    // A small result of a large input is compact again, as Redis creates results.
    assert_eq!(store.object_encoding(0, b"dst").unwrap(), Some("listpack"));
    let (n, _) = store
        .zsetop(
            0,
            ZSetOp::Union,
            &[b"big", b"small"],
            None,
            Aggregate::Sum,
            Some(b"dst"),
        )
        .unwrap();
    assert_eq!(n, 200);
    assert_eq!(store.object_encoding(0, b"dst").unwrap(), Some("skiplist"));
    let (n, _) = store
        .zsetop(
            0,
            ZSetOp::Diff,
            &[b"small", b"big"],
            None,
            Aggregate::Sum,
            Some(b"dst"),
        )
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(store.exists(0, &[b"dst"]).unwrap(), 0);

    let spec = ZRangeSpec {
        by: ZRangeBy::Score(ScoreRange {
            min: ScoreBound::Inclusive(10.0),
            max: ScoreBound::Exclusive(13.0),
        }),
        rev: true,
        limit: None,
    };
    assert_eq!(store.zrangestore(0, b"r", b"big", &spec).unwrap(), 3);
    assert_eq!(
        all(&store, b"r"),
        [s("m010", 10.0), s("m011", 11.0), s("m012", 12.0)]
    );
    assert_eq!(store.object_encoding(0, b"r").unwrap(), Some("listpack"));
    // Storing onto its own source.
    let top = ZRangeSpec {
        by: ZRangeBy::Rank { start: 0, stop: 0 },
        rev: true,
        limit: None,
    };
    assert_eq!(store.zrangestore(0, b"r", b"r", &top).unwrap(), 1);
    assert_eq!(all(&store, b"r"), [s("m012", 12.0)]);
    assert_eq!(store.zrangestore(0, b"r", b"missing", &top).unwrap(), 0);
    assert_eq!(store.exists(0, &[b"r"]).unwrap(), 0);
    store.check_invariants().unwrap();
}

#[test]
fn zmpop_pops_from_the_first_nonempty_sorted_set() {
    let store = Store::new();
    add(&store, b"b", &[(1.0, "x"), (2.0, "y"), (3.0, "z")]);
    store.set(0, b"str", b"v", Default::default()).unwrap();
    let (key, popped) = store
        .zmpop(0, &[b"a", b"b", b"str"], true, 2)
        .unwrap()
        .unwrap();
    assert_eq!(&key[..], b"b");
    assert_eq!(pairs(&popped), [s("z", 3.0), s("y", 2.0)]);
    assert_eq!(
        store.zmpop(0, &[b"a", b"str", b"b"], false, 1),
        Err(StoreError::WrongType)
    );
    let (_, popped) = store.zmpop(0, &[b"b"], false, 10).unwrap().unwrap();
    assert_eq!(pairs(&popped), [s("x", 1.0)]);
    assert_eq!(store.exists(0, &[b"b"]).unwrap(), 0);
    assert_eq!(store.zmpop(0, &[b"a", b"b"], false, 1).unwrap(), None);
}

#[test]
fn zrandmember_distinct_for_positive_counts_repeats_for_negative() {
    let store = Store::builder().seed(7).build();
    for (key, n) in [(&b"small"[..], 20), (&b"big"[..], 1000)] {
        let names: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
        let members: Vec<(f64, &str)> = names.iter().map(|m| (1.0, &m[..])).collect();
        add(&store, key, &members);
        for count in [1, 3, n / 3, n / 2, n - 1, n, n + 5] {
            let got = store.zrandmember(0, key, count as i64).unwrap();
            assert_eq!(got.len(), count.min(n), "{count} of {n}");
            let distinct: HashSet<&Bytes> = got.iter().map(|(m, _)| m).collect();
            assert_eq!(distinct.len(), got.len(), "repeats in a positive count");
            assert!(got.iter().all(|(m, s)| *s == 1.0 && m.starts_with(b"m")));
        }
        let got = store.zrandmember(0, key, -(3 * n as i64)).unwrap();
        assert_eq!(got.len(), 3 * n);
        let distinct: HashSet<&Bytes> = got.iter().map(|(m, _)| m).collect();
        assert!(distinct.len() < got.len(), "a negative count repeats");
    }
    assert!(store.zrandmember(0, b"missing", 5).unwrap().is_empty());
    assert!(store.zrandmember(0, b"small", 0).unwrap().is_empty());
}

#[test]
fn zscan_visits_every_member_while_the_set_changes() {
    let store = Store::new();
    let names: Vec<String> = (0..3000).map(|i| format!("m{i}")).collect();
    let members: Vec<(f64, &str)> = names
        .iter()
        .enumerate()
        .map(|(i, m)| (i as f64, &m[..]))
        .collect();
    add(&store, b"z", &members);
    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut round = 0;
    loop {
        let (next, batch) = store.zscan(0, b"z", cursor, None, 20).unwrap();
        for (m, score) in batch.into_iter().filter(|(m, _)| m.starts_with(b"m")) {
            let i: usize = std::str::from_utf8(&m[1..]).unwrap().parse().unwrap();
            assert_eq!(score, i as f64);
            seen.insert(i);
        }
        // Growth between calls: members present throughout must still be seen.
        round += 1;
        let extra = format!("x{round}");
        add(&store, b"z", &[(0.0, &extra)]);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert!((0..3000).all(|i| seen.contains(&i)));
    let (cursor, small) = {
        add(
            &store,
            b"small",
            &[(1.0, "apple"), (2.0, "banana"), (3.0, "avocado")],
        );
        store.zscan(0, b"small", 0, Some(b"a*"), 1).unwrap()
    };
    assert_eq!(cursor, 0);
    assert_eq!(pairs(&small), [s("apple", 1.0), s("avocado", 3.0)]);
}

#[derive(Default)]
struct Log(Mutex<Vec<(String, &'static str)>>);

impl ChangeListener for Log {
    fn changed(&self, change: Change<'_>) {
        if let Change::Key { key, event, .. } = change {
            self.0
                .lock()
                .unwrap()
                .push((String::from_utf8(key.to_vec()).unwrap(), event.name()));
        }
    }
}

#[test]
fn commands_report_redis_keyspace_events() {
    let log = Arc::new(Log::default());
    let store = Store::builder().change_listener(log.clone()).build();
    let take = || std::mem::take(&mut *log.0.lock().unwrap());
    let k = |key: &str, e: &'static str| (key.to_string(), e);

    add(&store, b"z", &[(1.0, "a"), (2.0, "b"), (3.0, "c")]);
    add(&store, b"z", &[(1.0, "a")]); // nothing changed: no event
    assert_eq!(take(), [k("z", "new"), k("z", "zadd")]);
    store.zincrby(0, b"z", 1.0, b"a").unwrap();
    assert_eq!(take(), [k("z", "zincr")]);
    store.zrem(0, b"z", &[b"nope"]).unwrap();
    store.zrem(0, b"z", &[b"a"]).unwrap();
    assert_eq!(take(), [k("z", "zrem")]);
    store
        .zremrange(0, b"z", &ZRangeBy::Rank { start: 5, stop: 9 })
        .unwrap();
    assert_eq!(take(), []);
    store.zpop(0, b"z", false, 1).unwrap();
    store.zpop(0, b"z", true, 1).unwrap();
    assert_eq!(
        take(),
        [k("z", "zpopmin"), k("z", "zpopmax"), k("z", "del")]
    );

    add(&store, b"z", &[(1.0, "a"), (2.0, "b")]);
    take();
    store
        .zremrange(
            0,
            b"z",
            &ZRangeBy::Score(ScoreRange {
                min: ScoreBound::Inclusive(f64::NEG_INFINITY),
                max: ScoreBound::Inclusive(1.0),
            }),
        )
        .unwrap();
    assert_eq!(take(), [k("z", "zremrangebyscore")]);
    store
        .zsetop(0, ZSetOp::Union, &[b"z"], None, Aggregate::Sum, Some(b"u"))
        .unwrap();
    store
        .zsetop(0, ZSetOp::Inter, &[b"z"], None, Aggregate::Sum, Some(b"u"))
        .unwrap();
    store
        .zsetop(
            0,
            ZSetOp::Diff,
            &[b"z", b"z"],
            None,
            Aggregate::Sum,
            Some(b"u"),
        )
        .unwrap();
    assert_eq!(
        take(),
        [
            k("u", "new"),
            k("u", "zunionstore"),
            k("u", "zinterstore"),
            k("u", "del")
        ]
    );
    let all = ZRangeSpec {
        by: ZRangeBy::Rank { start: 0, stop: -1 },
        rev: false,
        limit: None,
    };
    store.zrangestore(0, b"r", b"z", &all).unwrap();
    assert_eq!(take(), [k("r", "new"), k("r", "zrangestore")]);
    store.zmpop(0, &[b"r"], false, 5).unwrap();
    assert_eq!(take(), [k("r", "zpopmin"), k("r", "del")]);
    let incr = ZAddOptions {
        incr: true,
        ..Default::default()
    };
    store.zadd(0, b"z", &[(1.0, b"b")], incr).unwrap();
    assert_eq!(take(), [k("z", "zincr")]);
    assert!(matches!(Event::ZAdd.class(), 'z'));
}

#[test]
fn zadd_flag_combinations_follow_redis() {
    let store = Store::new();
    add(&store, b"z", &[(5.0, "a")]);
    let o = |f: fn(&mut ZAddOptions)| {
        let mut opts = ZAddOptions::default();
        f(&mut opts);
        opts
    };
    let r = store
        .zadd(
            0,
            b"z",
            &[(3.0, b"a"), (1.0, b"b")],
            o(|o| (o.gt, o.ch) = (true, true)),
        )
        .unwrap();
    // GT refuses the lower score but still adds the new member.
    assert_eq!(
        (r.count, store.zscore(0, b"z", b"a").unwrap()),
        (1, Some(5.0))
    );
    let r = store
        .zadd(
            0,
            b"z",
            &[(1.0, b"a")],
            o(|o| (o.incr, o.lt) = (true, true)),
        )
        .unwrap();
    assert_eq!(r.incr, None); // 5 + 1 is not less than 5: ZADD answers nil
    let r = store
        .zadd(0, b"z", &[(9.0, b"a"), (9.0, b"new")], o(|o| o.xx = true))
        .unwrap();
    assert_eq!(r.count, 0);
    assert_eq!(store.zscore(0, b"z", b"new").unwrap(), None);
    let r = store
        .zadd(
            0,
            b"z",
            &[(9.0, b"a"), (9.0, b"c")],
            o(|o| (o.nx, o.ch) = (true, true)),
        )
        .unwrap();
    assert_eq!(
        (r.count, store.zscore(0, b"z", b"a").unwrap()),
        (1, Some(9.0))
    );
    let r = store
        .zadd(0, b"z", &[(0.0, b"a")], o(|o| o.incr = true))
        .unwrap();
    assert_eq!(r.incr, Some(9.0)); // unchanged, but processed: the score, not nil
    let r = store
        .zadd(0, b"none", &[(1.0, b"a")], o(|o| o.xx = true))
        .unwrap();
    assert_eq!(r.count, 0);
    assert_eq!(store.exists(0, &[b"none"]).unwrap(), 0);
    assert_eq!(
        store.zadd(0, b"z", &[(f64::NAN, b"a")], ZAddOptions::default()),
        Err(StoreError::NotFloat)
    );
    assert_eq!(
        store.zincrby(0, b"z", f64::NAN, b"a"),
        Err(StoreError::NotFloat)
    );
    // -0 and 0 are the same score: no change is counted.
    add(&store, b"zero", &[(0.0, "m")]);
    let r = store
        .zadd(0, b"zero", &[(-0.0, b"m")], o(|o| o.ch = true))
        .unwrap();
    assert_eq!(r.count, 0);
}

#[test]
fn snapshots_copy_and_load_sorted_sets_in_their_encodings() {
    use redistill_store::SnapshotValue;
    let store = Store::new();
    add(&store, b"small", &[(2.0, "b"), (1.0, "a"), (-0.0, "z")]);
    let names: Vec<String> = (0..300).map(|i| format!("m{i:03}")).collect();
    let big: Vec<(f64, &str)> = names
        .iter()
        .enumerate()
        .map(|(i, m)| (-(i as f64), &m[..]))
        .collect();
    add(&store, b"big", &big);
    add(&store, b"big", &[(-0.0, "negzero")]);
    let mut out = Vec::new();
    let mut cursor = 0;
    let mut copied = Vec::new();
    loop {
        cursor = store.snapshot_batch(0, cursor, &mut out).unwrap();
        copied.append(&mut out);
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(copied.len(), 2);
    let loaded = Store::new();
    for e in copied {
        if let SnapshotValue::ZSet(items) = &e.value {
            assert!(items.windows(2).all(|w| w[0].1 <= w[1].1), "lowest first");
        } else {
            panic!("{:?} is not a sorted set", e.key);
        }
        assert!(
            loaded
                .load_entry(0, &e.key, e.expire_at_ms, e.value)
                .unwrap()
        );
    }
    for key in [&b"small"[..], b"big"] {
        assert_eq!(all(&loaded, key), all(&store, key));
        assert_eq!(
            loaded.object_encoding(0, key).unwrap(),
            store.object_encoding(0, key).unwrap()
        );
    }
    // A compact set keeps -0 as 0 (Redis's listpack holds scores as text); a large one
    // keeps it, through a snapshot too.
    assert_eq!(all(&loaded, b"small")[0].1.to_bits(), 0.0f64.to_bits());
    assert_eq!(
        loaded
            .zscore(0, b"big", b"negzero")
            .unwrap()
            .map(f64::to_bits),
        Some((-0.0f64).to_bits())
    );
    // A member named twice keeps its last score; a NaN score reads as 0.
    let items = vec![
        (Bytes::from_static(b"x"), 1.0),
        (Bytes::from_static(b"x"), 3.0),
        (Bytes::from_static(b"y"), f64::NAN),
    ];
    loaded
        .load_entry(0, b"dup", None, SnapshotValue::ZSet(items))
        .unwrap();
    assert_eq!(all(&loaded, b"dup"), [s("y", 0.0), s("x", 3.0)]);
    assert!(
        !loaded
            .load_entry(0, b"e", None, SnapshotValue::ZSet(Vec::new()))
            .unwrap()
    );
    loaded.check_invariants().unwrap();
}

#[test]
fn ranges_by_lex_and_score_with_rev_and_limit_in_both_encodings() {
    use redistill_store::{LexBound, LexRange};
    for big in [false, true] {
        let store = Store::new();
        if big {
            store.set_zset_max_listpack_entries(0).unwrap();
        }
        let letters = ["a", "b", "c", "d", "e", "f", "g"];
        let members: Vec<(f64, &str)> = letters.iter().map(|m| (0.0, *m)).collect();
        add(&store, b"z", &members);
        let want_enc = if big { "skiplist" } else { "listpack" };
        assert_eq!(store.object_encoding(0, b"z").unwrap(), Some(want_enc));
        let lex = |min, max, rev, limit| {
            let spec = ZRangeSpec {
                by: ZRangeBy::Lex(LexRange { min, max }),
                rev,
                limit,
            };
            store
                .zrange_with(0, b"z", &spec, |it| {
                    let mut out = String::new();
                    it.for_each(|m, _| out.push_str(std::str::from_utf8(m).unwrap()));
                    out
                })
                .unwrap()
        };
        assert_eq!(
            lex(
                LexBound::Inclusive(b"b"),
                LexBound::Exclusive(b"e"),
                false,
                None
            ),
            "bcd"
        );
        assert_eq!(
            lex(LexBound::Exclusive(b"b"), LexBound::Max, true, Some((1, 2))),
            "fe"
        );
        assert_eq!(
            lex(LexBound::Min, LexBound::Inclusive(b"c"), true, None),
            "cba"
        );
        assert_eq!(lex(LexBound::Max, LexBound::Min, false, None), "");
        assert_eq!(
            lex(
                LexBound::Exclusive(b"c"),
                LexBound::Exclusive(b"c"),
                false,
                None
            ),
            ""
        );
        assert_eq!(
            lex(LexBound::Min, LexBound::Max, false, Some((5, -1))),
            "fg"
        );
        assert_eq!(lex(LexBound::Min, LexBound::Max, false, Some((-1, 3))), "");
        let r = LexRange {
            min: LexBound::Exclusive(b"a"),
            max: LexBound::Inclusive(b"c"),
        };
        assert_eq!(store.zlexcount(0, b"z", &r).unwrap(), 2);
        // Over different scores Redis first checks the last member against the low end:
        // "" is not above "(", so nothing is in range (Redis 7.0 answers 0).
        add(&store, b"mixed", &[(f64::NEG_INFINITY, "ab"), (1.5, "")]);
        let odd = LexRange {
            min: LexBound::Exclusive(b""),
            max: LexBound::Inclusive(b"ab"),
        };
        assert_eq!(
            store.zremrange(0, b"mixed", &ZRangeBy::Lex(odd)).unwrap(),
            0
        );
        assert_eq!(store.zremrange(0, b"z", &ZRangeBy::Lex(r)).unwrap(), 2);
        assert_eq!(all(&store, b"z").len(), 5);
        let spec = ZRangeSpec {
            by: ZRangeBy::Rank {
                start: -2,
                stop: -1,
            },
            rev: true,
            limit: None,
        };
        assert_eq!(store.zrangestore(0, b"d", b"z", &spec).unwrap(), 2);
        assert_eq!(all(&store, b"d"), [s("a", 0.0), s("d", 0.0)]);
        store.check_invariants().unwrap();
    }
}
