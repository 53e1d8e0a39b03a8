//! Sorted sets against a simple model (a member → score map, sorted on demand by score
//! then member): random operation sequences under lowered compact-encoding limits, so
//! that conversions happen early and large sets split and merge their leaves, with the
//! store's invariants checked after every step.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use std::cmp::Ordering;
use std::collections::HashMap;

use proptest::prelude::*;
use redistill_store::{
    LexBound, LexRange, ScoreBound, ScoreRange, Store, StoreError, ZAddOptions, ZRangeBy,
    ZRangeSpec,
};

#[derive(Debug, Clone)]
enum Bound {
    Inc(f64),
    Exc(f64),
}

#[derive(Debug, Clone)]
enum Lex {
    Inc(Vec<u8>),
    Exc(Vec<u8>),
    Min,
    Max,
}

#[derive(Debug, Clone)]
enum By {
    Rank(i64, i64),
    Score(Bound, Bound),
    Lex(Lex, Lex),
}

#[derive(Debug, Clone)]
enum Op {
    Add(Vec<(f64, Vec<u8>)>, u8),
    AddMany(u16, u64),
    Incr(f64, Vec<u8>),
    Rem(Vec<Vec<u8>>),
    Range(By, bool, Option<(i64, i64)>),
    Count(Bound, Bound),
    LexCount(Lex, Lex),
    Rank(Vec<u8>, bool),
    RemRange(By),
    Pop(bool, usize),
    Score(Vec<u8>),
}

/// Scores that tie often, with both zeros and both infinities.
fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => (-3i32..4).prop_map(f64::from),
        1 => Just(-0.0),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(1.5),
        1 => any::<i16>().prop_map(|n| f64::from(n) / 7.0),
    ]
}

/// Members: a few short names that repeat, and some longer than the compact limit.
fn member() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => (0u8..12).prop_map(|k| vec![b'a' + k]),
        2 => (0u8..6, 1usize..3).prop_map(|(k, n)| vec![b'a' + k; n]),
        1 => (0u8..4, 20usize..40).prop_map(|(k, n)| vec![b'p' + k; n]),
        1 => (0u32..600).prop_map(|n| format!("m{n:03}").into_bytes()),
    ]
}

fn bound() -> impl Strategy<Value = Bound> {
    (any::<bool>(), score()).prop_map(|(inc, s)| if inc { Bound::Inc(s) } else { Bound::Exc(s) })
}

fn lex() -> impl Strategy<Value = Lex> {
    prop_oneof![
        3 => member().prop_map(Lex::Inc),
        3 => member().prop_map(Lex::Exc),
        1 => Just(Lex::Min),
        1 => Just(Lex::Max),
    ]
}

fn by() -> impl Strategy<Value = By> {
    prop_oneof![
        (-12i64..12, -12i64..12).prop_map(|(a, b)| By::Rank(a, b)),
        (bound(), bound()).prop_map(|(a, b)| By::Score(a, b)),
        (lex(), lex()).prop_map(|(a, b)| By::Lex(a, b)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (proptest::collection::vec((score(), member()), 1..6), any::<u8>())
            .prop_map(|(v, f)| Op::Add(v, f)),
        1 => (1u16..300, any::<u64>()).prop_map(|(n, seed)| Op::AddMany(n, seed)),
        2 => (score(), member()).prop_map(|(s, m)| Op::Incr(s, m)),
        3 => proptest::collection::vec(member(), 1..4).prop_map(Op::Rem),
        4 => (by(), any::<bool>(), proptest::option::of((-2i64..8, -2i64..8)))
            .prop_map(|(b, r, l)| Op::Range(b, r, l)),
        1 => (bound(), bound()).prop_map(|(a, b)| Op::Count(a, b)),
        1 => (lex(), lex()).prop_map(|(a, b)| Op::LexCount(a, b)),
        1 => (member(), any::<bool>()).prop_map(|(m, r)| Op::Rank(m, r)),
        1 => by().prop_map(Op::RemRange),
        1 => (any::<bool>(), 0usize..6).prop_map(|(m, n)| Op::Pop(m, n)),
        1 => member().prop_map(Op::Score),
    ]
}

fn cmp(a: &(f64, Vec<u8>), b: &(f64, Vec<u8>)) -> Ordering {
    a.0.partial_cmp(&b.0)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a.1.cmp(&b.1))
}

struct Model {
    scores: HashMap<Vec<u8>, f64>,
    /// Whether the set has converted to the large encoding (never back).
    big: bool,
}

impl Model {
    fn sorted(&self) -> Vec<(f64, Vec<u8>)> {
        let mut v: Vec<(f64, Vec<u8>)> = self.scores.iter().map(|(m, s)| (*s, m.clone())).collect();
        v.sort_by(cmp);
        v
    }

    /// Adds or updates a member, converting first as Redis 7.0 does; a compact set keeps
    /// `-0` as `0`.
    fn insert(&mut self, s: f64, m: &[u8], entries: usize, value: usize) {
        if !self.scores.contains_key(m) && (self.scores.len() + 1 > entries || m.len() > value) {
            self.big = true;
        }
        self.update(s, m);
    }

    fn update(&mut self, s: f64, m: &[u8]) {
        let s = if !self.big && s == 0.0 { 0.0 } else { s };
        self.scores.insert(m.to_vec(), s);
    }

    fn remove(&mut self, m: &[u8]) -> bool {
        let had = self.scores.remove(m).is_some();
        if self.scores.is_empty() {
            self.big = false;
        }
        had
    }
}

fn in_score(s: f64, min: &Bound, max: &Bound) -> bool {
    let lo = match *min {
        Bound::Inc(v) => s >= v,
        Bound::Exc(v) => s > v,
    };
    let hi = match *max {
        Bound::Inc(v) => s <= v,
        Bound::Exc(v) => s < v,
    };
    lo && hi
}

fn in_lex(m: &[u8], min: &Lex, max: &Lex) -> bool {
    let lo = match min {
        Lex::Inc(x) => m >= &x[..],
        Lex::Exc(x) => m > &x[..],
        Lex::Min => true,
        Lex::Max => false,
    };
    let hi = match max {
        Lex::Inc(x) => m <= &x[..],
        Lex::Exc(x) => m < &x[..],
        Lex::Min => false,
        Lex::Max => true,
    };
    lo && hi
}

fn score_bound(b: &Bound) -> ScoreBound {
    match *b {
        Bound::Inc(v) => ScoreBound::Inclusive(v),
        Bound::Exc(v) => ScoreBound::Exclusive(v),
    }
}

fn lex_bound(l: &Lex) -> LexBound<'_> {
    match l {
        Lex::Inc(x) => LexBound::Inclusive(x),
        Lex::Exc(x) => LexBound::Exclusive(x),
        Lex::Min => LexBound::Min,
        Lex::Max => LexBound::Max,
    }
}

fn range_by(by: &By) -> ZRangeBy<'_> {
    match by {
        By::Rank(a, b) => ZRangeBy::Rank {
            start: *a,
            stop: *b,
        },
        By::Score(a, b) => ZRangeBy::Score(ScoreRange {
            min: score_bound(a),
            max: score_bound(b),
        }),
        By::Lex(a, b) => ZRangeBy::Lex(LexRange {
            min: lex_bound(a),
            max: lex_bound(b),
        }),
    }
}

/// ZRANGE's index rules.
fn span(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { start + len } else { start }.max(0);
    let stop = if stop < 0 { stop + len } else { stop };
    (start <= stop && start < len).then(|| (start as usize, (stop.min(len - 1) + 1) as usize))
}

/// What the model says a range selects, in reply order.
fn model_range(
    sorted: &[(f64, Vec<u8>)],
    by: &By,
    rev: bool,
    limit: Option<(i64, i64)>,
) -> Vec<(f64, Vec<u8>)> {
    let mut v: Vec<(f64, Vec<u8>)> = sorted.to_vec();
    if rev {
        v.reverse();
    }
    match by {
        By::Rank(a, b) => span(v.len(), *a, *b)
            .map(|(s, e)| v[s..e].to_vec())
            .unwrap_or_default(),
        By::Score(..) | By::Lex(..) => {
            let keep: Vec<(f64, Vec<u8>)> = v
                .into_iter()
                .filter(|(s, m)| match by {
                    By::Score(min, max) => in_score(*s, min, max),
                    By::Lex(min, max) => in_lex(m, min, max),
                    By::Rank(..) => true,
                })
                .collect();
            match limit {
                None => keep,
                Some((off, _)) if off < 0 => Vec::new(),
                Some((off, count)) => keep
                    .into_iter()
                    .skip(off as usize)
                    .take(if count < 0 {
                        usize::MAX
                    } else {
                        count as usize
                    })
                    .collect(),
            }
        }
    }
}

fn items(store: &Store, key: &[u8], spec: &ZRangeSpec<'_>) -> Vec<(f64, Vec<u8>)> {
    store
        .zrange_with(0, key, spec, |it| {
            let n = it.len();
            let mut out = Vec::new();
            it.for_each(|m, s| out.push((s, m.to_vec())));
            assert_eq!(out.len(), n);
            out
        })
        .unwrap()
}

fn run(entries: usize, value: usize, same_score: bool, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let store = Store::builder().databases(1).shards(2).build();
    store.set_zset_max_listpack_entries(entries as i64).unwrap();
    store.set_zset_max_listpack_value(value as i64).unwrap();
    let key = b"z";
    let mut model = Model {
        scores: HashMap::new(),
        big: false,
    };
    let fix = |s: f64| if same_score { 0.0 } else { s };
    for op in ops {
        let sorted = model.sorted();
        match op {
            Op::Add(members, flags) => {
                let mut opts = ZAddOptions {
                    xx: flags & 1 != 0,
                    ch: flags & 2 != 0,
                    gt: flags & 4 != 0,
                    lt: flags & 8 != 0 && flags & 4 == 0,
                    ..Default::default()
                };
                opts.nx = flags & 16 != 0 && !opts.xx && !opts.gt && !opts.lt;
                opts.incr = flags & 32 != 0;
                let members: Vec<(f64, Vec<u8>)> = if opts.incr {
                    members.into_iter().take(1).collect()
                } else {
                    members
                };
                let args: Vec<(f64, &[u8])> =
                    members.iter().map(|(s, m)| (fix(*s), &m[..])).collect();
                let got = store.zadd(0, key, &args, opts);
                let (mut added, mut changed, mut incr, mut nan) = (0, 0, None, false);
                for &(s, m) in &args {
                    match model.scores.get(m).copied() {
                        Some(cur) => {
                            if opts.nx {
                                continue;
                            }
                            let new = if opts.incr { cur + s } else { s };
                            if new.is_nan() {
                                nan = true;
                                break;
                            }
                            if (opts.lt && new >= cur) || (opts.gt && new <= cur) {
                                continue;
                            }
                            incr = Some(new);
                            if new != cur {
                                model.update(new, m);
                                changed += 1;
                            }
                        }
                        None => {
                            if opts.xx {
                                continue;
                            }
                            model.insert(s, m, entries, value);
                            added += 1;
                            incr = Some(s);
                        }
                    }
                }
                if nan {
                    prop_assert_eq!(got, Err(StoreError::ScoreNaN));
                } else {
                    let got = got.unwrap();
                    prop_assert_eq!(got.count, if opts.ch { added + changed } else { added });
                    prop_assert_eq!(got.incr, if opts.incr { incr } else { None });
                }
            }
            Op::AddMany(n, seed) => {
                let mut x = seed | 1;
                let mut members = Vec::new();
                for _ in 0..n {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let s = fix(f64::from((x % 41) as u32) - 20.0);
                    members.push((s, format!("r{:04}", (x >> 20) % 2000).into_bytes()));
                }
                let args: Vec<(f64, &[u8])> = members.iter().map(|(s, m)| (*s, &m[..])).collect();
                let got = store.zadd(0, key, &args, ZAddOptions::default()).unwrap();
                let mut added = 0;
                for (s, m) in &members {
                    if !model.scores.contains_key(m) {
                        added += 1;
                    }
                    model.insert(*s, m, entries, value);
                }
                prop_assert_eq!(got.count, added);
            }
            Op::Incr(by, m) => {
                let by = fix(by);
                let got = store.zincrby(0, key, by, &m);
                let new = model.scores.get(&m).map_or(by, |cur| cur + by);
                if new.is_nan() {
                    prop_assert_eq!(got, Err(StoreError::ScoreNaN));
                } else {
                    prop_assert_eq!(got, Ok(new));
                    match model.scores.get(&m).copied() {
                        Some(cur) if cur == new => {}
                        Some(_) => model.update(new, &m),
                        None => model.insert(new, &m, entries, value),
                    }
                }
            }
            Op::Rem(members) => {
                let args: Vec<&[u8]> = members.iter().map(|m| &m[..]).collect();
                let got = store.zrem(0, key, &args).unwrap();
                let want = members.iter().filter(|m| model.remove(m)).count();
                prop_assert_eq!(got, want);
            }
            Op::Range(by, rev, limit) => {
                let limit = if matches!(by, By::Rank(..)) {
                    None
                } else {
                    limit
                };
                let lex_ok = !matches!(by, By::Lex(..)) || same_score;
                let spec = ZRangeSpec {
                    by: range_by(&by),
                    rev,
                    limit,
                };
                let got = items(&store, key, &spec);
                if lex_ok {
                    prop_assert_eq!(got, model_range(&sorted, &by, rev, limit));
                }
            }
            Op::Count(min, max) => {
                let r = ScoreRange {
                    min: score_bound(&min),
                    max: score_bound(&max),
                };
                let want = sorted
                    .iter()
                    .filter(|(s, _)| in_score(*s, &min, &max))
                    .count();
                prop_assert_eq!(store.zcount(0, key, &r).unwrap(), want);
            }
            Op::LexCount(min, max) => {
                let r = LexRange {
                    min: lex_bound(&min),
                    max: lex_bound(&max),
                };
                let got = store.zlexcount(0, key, &r).unwrap();
                if same_score {
                    let want = sorted.iter().filter(|(_, m)| in_lex(m, &min, &max)).count();
                    prop_assert_eq!(got, want);
                }
            }
            Op::Rank(m, rev) => {
                let got = store.zrank(0, key, &m, rev).unwrap();
                let want = sorted.iter().position(|(_, x)| *x == m).map(|i| {
                    let r = if rev { sorted.len() - 1 - i } else { i };
                    (r, sorted[i].0)
                });
                prop_assert_eq!(got, want);
            }
            Op::RemRange(by) => {
                let lex_ok = !matches!(by, By::Lex(..)) || same_score;
                let got = store.zremrange(0, key, &range_by(&by)).unwrap();
                if lex_ok {
                    let gone = model_range(&sorted, &by, false, None);
                    for (_, m) in &gone {
                        model.remove(m);
                    }
                    prop_assert_eq!(got, gone.len());
                } else {
                    // Undefined in Redis too; follow the store so later steps compare.
                    let live: Vec<Vec<u8>> = model.scores.keys().cloned().collect();
                    for m in live {
                        if store.zscore(0, key, &m).unwrap().is_none() {
                            model.remove(&m);
                        }
                    }
                }
            }
            Op::Pop(max, n) => {
                let got: Vec<(f64, Vec<u8>)> = store
                    .zpop(0, key, max, n)
                    .unwrap()
                    .into_iter()
                    .map(|(m, s)| (s, m.to_vec()))
                    .collect();
                let mut want = sorted.clone();
                if max {
                    want.reverse();
                }
                want.truncate(n);
                for (_, m) in &want {
                    model.remove(m);
                }
                prop_assert_eq!(got, want);
            }
            Op::Score(m) => {
                prop_assert_eq!(
                    store.zscore(0, key, &m).unwrap(),
                    model.scores.get(&m).copied()
                );
            }
        }
        let all = items(
            &store,
            key,
            &ZRangeSpec {
                by: ZRangeBy::Rank { start: 0, stop: -1 },
                rev: false,
                limit: None,
            },
        );
        let want = model.sorted();
        prop_assert_eq!(all.len(), want.len());
        for (g, w) in all.iter().zip(&want) {
            prop_assert_eq!(&g.1, &w.1);
            prop_assert_eq!(g.0.to_bits(), w.0.to_bits(), "score of {:?}", w.1);
        }
        prop_assert_eq!(store.zcard(0, key).unwrap(), want.len());
        let encoding = store.object_encoding(0, key).unwrap();
        let expected = match (want.is_empty(), model.big) {
            (true, _) => None,
            (false, true) => Some("skiplist"),
            (false, false) => Some("listpack"),
        };
        prop_assert_eq!(encoding, expected);
        if let Err(e) = store.check_invariants() {
            return Err(TestCaseError::fail(e));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn sorted_sets_follow_the_model(
        entries in prop_oneof![0usize..6, Just(16usize), Just(128usize)],
        value in 1usize..24,
        same_score in proptest::bool::weighted(0.3),
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        run(entries, value, same_score, ops)?;
    }
}
