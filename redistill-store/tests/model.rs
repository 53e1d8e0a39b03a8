//! Model-based test: random operation sequences against a `BTreeMap` with explicit expiry
//! times, the clock advanced by the test. Both must give the same results.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.
use std::collections::BTreeMap;

use proptest::prelude::*;
use redistill_store::{
    ExpireCommand, ExpireCondition, Expiry, ManualClock, SetOptions, Store, StoreError,
};

#[derive(Debug, Clone)]
enum Op {
    Set(u8, Vec<u8>, Option<u16>),
    Get(u8),
    Del(u8),
    Incr(u8, i8),
    Append(u8, Vec<u8>),
    Pexpire(u8, i16),
    Persist(u8),
    Pttl(u8),
    Exists(u8),
    Rename(u8, u8),
    HSet(u8, u8, Vec<u8>),
    HGet(u8, u8),
    HDel(u8, u8),
    HLen(u8),
    Advance(u16),
    ActiveExpire,
}

#[derive(Debug, Clone, PartialEq)]
enum R {
    Bytes(Option<Vec<u8>>),
    Int(i64),
    Err(StoreError),
    Unit,
}

#[derive(Debug, Clone)]
enum V {
    Str(Vec<u8>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
}

#[derive(Default)]
struct Model {
    now: u64,
    map: BTreeMap<Vec<u8>, (V, Option<u64>)>,
}

impl Model {
    fn live(&mut self, k: &[u8]) -> Option<&mut (V, Option<u64>)> {
        let now = self.now;
        if self
            .map
            .get(k)
            .is_some_and(|(_, e)| e.is_some_and(|e| e <= now))
        {
            self.map.remove(k);
        }
        self.map.get_mut(k)
    }

    fn apply(&mut self, op: &Op) -> R {
        match op {
            Op::Set(k, v, ttl) => {
                let k = key(*k);
                self.map.remove(&k);
                self.map.insert(
                    k,
                    (V::Str(v.clone()), ttl.map(|t| self.now + u64::from(t) + 1)),
                );
                R::Unit
            }
            Op::Get(k) => match self.live(&key(*k)) {
                None => R::Bytes(None),
                Some((V::Str(v), _)) => R::Bytes(Some(v.clone())),
                Some(_) => R::Err(StoreError::WrongType),
            },
            Op::Del(k) => R::Int(i64::from(
                self.live(&key(*k)).is_some() && self.map.remove(&key(*k)).is_some(),
            )),
            Op::Exists(k) => R::Int(i64::from(self.live(&key(*k)).is_some())),
            Op::Incr(k, d) => {
                let k = key(*k);
                let cur = match self.live(&k) {
                    None => None,
                    Some((V::Str(v), e)) => Some((v.clone(), *e)),
                    Some(_) => return R::Err(StoreError::WrongType),
                };
                let (n, e) = match cur {
                    None => (0i64, None),
                    Some((v, e)) => match std::str::from_utf8(&v)
                        .ok()
                        .and_then(|s| s.parse::<i64>().ok())
                        .filter(|n| n.to_string().as_bytes() == v)
                    {
                        Some(n) => (n, e),
                        None => return R::Err(StoreError::NotInteger),
                    },
                };
                let n = n + i64::from(*d);
                self.map.insert(k, (V::Str(n.to_string().into_bytes()), e));
                R::Int(n)
            }
            Op::Append(k, v) => {
                let k = key(*k);
                match self.live(&k) {
                    None => {
                        self.map.insert(k, (V::Str(v.clone()), None));
                        R::Int(v.len() as i64)
                    }
                    Some((V::Str(cur), _)) => {
                        cur.extend_from_slice(v);
                        R::Int(cur.len() as i64)
                    }
                    Some(_) => R::Err(StoreError::WrongType),
                }
            }
            Op::Pexpire(k, ms) => {
                let k = key(*k);
                let now = self.now;
                match self.live(&k) {
                    None => R::Int(0),
                    Some(entry) => {
                        let when = now as i64 + i64::from(*ms);
                        if when <= now as i64 {
                            self.map.remove(&k);
                        } else {
                            entry.1 = Some(when as u64);
                        }
                        R::Int(1)
                    }
                }
            }
            Op::Persist(k) => match self.live(&key(*k)) {
                Some(entry) if entry.1.is_some() => {
                    entry.1 = None;
                    R::Int(1)
                }
                _ => R::Int(0),
            },
            Op::Pttl(k) => {
                let now = self.now;
                match self.live(&key(*k)) {
                    None => R::Int(-2),
                    Some((_, None)) => R::Int(-1),
                    Some((_, Some(e))) => R::Int((*e - now) as i64),
                }
            }
            Op::Rename(a, b) => {
                let (a, b) = (key(*a), key(*b));
                if self.live(&b).is_none() {
                    self.map.remove(&b);
                }
                match self.live(&a) {
                    None => R::Err(StoreError::NoSuchKey),
                    Some(_) => {
                        if let Some(v) = self.map.remove(&a) {
                            self.map.insert(b, v);
                        }
                        R::Unit
                    }
                }
            }
            Op::HSet(k, f, v) => {
                let k = key(*k);
                match self.live(&k) {
                    None => {
                        let mut h = BTreeMap::new();
                        h.insert(vec![*f], v.clone());
                        self.map.insert(k, (V::Hash(h), None));
                        R::Int(1)
                    }
                    Some((V::Hash(h), _)) => {
                        R::Int(i64::from(h.insert(vec![*f], v.clone()).is_none()))
                    }
                    Some(_) => R::Err(StoreError::WrongType),
                }
            }
            Op::HGet(k, f) => match self.live(&key(*k)) {
                None => R::Bytes(None),
                Some((V::Hash(h), _)) => R::Bytes(h.get(&vec![*f]).cloned()),
                Some(_) => R::Err(StoreError::WrongType),
            },
            Op::HDel(k, f) => {
                let k = key(*k);
                let r = match self.live(&k) {
                    None => return R::Int(0),
                    Some((V::Hash(h), _)) => i64::from(h.remove(&vec![*f]).is_some()),
                    Some(_) => return R::Err(StoreError::WrongType),
                };
                if matches!(self.map.get(&k), Some((V::Hash(h), _)) if h.is_empty()) {
                    self.map.remove(&k);
                }
                R::Int(r)
            }
            Op::HLen(k) => match self.live(&key(*k)) {
                None => R::Int(0),
                Some((V::Hash(h), _)) => R::Int(h.len() as i64),
                Some(_) => R::Err(StoreError::WrongType),
            },
            Op::Advance(ms) => {
                self.now += u64::from(*ms);
                R::Unit
            }
            Op::ActiveExpire => R::Unit,
        }
    }
}

fn key(k: u8) -> Vec<u8> {
    format!("key:{}", k % 6).into_bytes()
}

fn run(s: &Store, clock: &ManualClock, op: &Op) -> R {
    let r = |x: Result<i64, StoreError>| x.map_or_else(R::Err, R::Int);
    match op {
        Op::Set(k, v, ttl) => {
            let opts = SetOptions {
                expiry: ttl.map(|t| Expiry::Px(i64::from(t) + 1)),
                ..Default::default()
            };
            s.set(0, &key(*k), v, opts).map_or_else(R::Err, |_| R::Unit)
        }
        Op::Get(k) => s
            .get(0, &key(*k))
            .map_or_else(R::Err, |v| R::Bytes(v.map(|b| b.to_vec()))),
        Op::Del(k) => r(s.del(0, &[&key(*k)]).map(|n| n as i64)),
        Op::Exists(k) => r(s.exists(0, &[&key(*k)]).map(|n| n as i64)),
        Op::Incr(k, d) => r(s.incr_by(0, &key(*k), i64::from(*d))),
        Op::Append(k, v) => r(s.append(0, &key(*k), v).map(|n| n as i64)),
        Op::Pexpire(k, ms) => r(s
            .expire(
                0,
                &key(*k),
                i64::from(*ms),
                ExpireCommand::PExpire,
                ExpireCondition::Always,
            )
            .map(i64::from)),
        Op::Persist(k) => r(s.persist(0, &key(*k)).map(i64::from)),
        Op::Pttl(k) => r(s.pttl(0, &key(*k))),
        Op::Rename(a, b) => s
            .rename(0, &key(*a), &key(*b))
            .map_or_else(R::Err, |_| R::Unit),
        Op::HSet(k, f, v) => r(s
            .hset(0, &key(*k), &[(&[*f][..], &v[..])])
            .map(|n| n as i64)),
        Op::HGet(k, f) => s
            .hget(0, &key(*k), &[*f])
            .map_or_else(R::Err, |v| R::Bytes(v.map(|b| b.to_vec()))),
        Op::HDel(k, f) => r(s.hdel(0, &key(*k), &[&[*f][..]]).map(|n| n as i64)),
        Op::HLen(k) => r(s.hlen(0, &key(*k)).map(|n| n as i64)),
        Op::Advance(ms) => {
            clock.advance(u64::from(*ms));
            R::Unit
        }
        Op::ActiveExpire => {
            s.active_expire_cycle(100);
            R::Unit
        }
    }
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..6),
        (-20i64..20).prop_map(|n| n.to_string().into_bytes()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0u8..6;
    prop_oneof![
        (k.clone(), value(), proptest::option::of(0u16..50)).prop_map(|(k, v, t)| Op::Set(k, v, t)),
        k.clone().prop_map(Op::Get),
        k.clone().prop_map(Op::Del),
        (k.clone(), any::<i8>()).prop_map(|(k, d)| Op::Incr(k, d)),
        (k.clone(), value()).prop_map(|(k, v)| Op::Append(k, v)),
        (k.clone(), -10i16..60).prop_map(|(k, ms)| Op::Pexpire(k, ms)),
        k.clone().prop_map(Op::Persist),
        k.clone().prop_map(Op::Pttl),
        k.clone().prop_map(Op::Exists),
        (k.clone(), k.clone()).prop_map(|(a, b)| Op::Rename(a, b)),
        (k.clone(), 0u8..4, value()).prop_map(|(k, f, v)| Op::HSet(k, f, v)),
        (k.clone(), 0u8..4).prop_map(|(k, f)| Op::HGet(k, f)),
        (k.clone(), 0u8..4).prop_map(|(k, f)| Op::HDel(k, f)),
        k.prop_map(Op::HLen),
        (0u16..40).prop_map(Op::Advance),
        Just(Op::ActiveExpire),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn store_agrees_with_model(ops in proptest::collection::vec(op(), 1..80)) {
        let clock = ManualClock::new(1_000_000);
        let store = Store::builder().databases(1).shards(2).clock(clock.clone()).build();
        let mut model = Model { now: 1_000_000, ..Default::default() };
        for (i, op) in ops.iter().enumerate() {
            let want = model.apply(op);
            let got = run(&store, &clock, op);
            prop_assert_eq!(&got, &want, "op #{} {:?}", i, op);
        }
        // Same live keys at the end.
        let now = model.now;
        let mut live: Vec<Vec<u8>> = model.map.iter()
            .filter(|(_, (_, e))| e.is_none_or(|e| e > now))
            .map(|(k, _)| k.clone()).collect();
        live.sort();
        let mut got: Vec<Vec<u8>> = store.keys(0, b"*").unwrap().into_iter().map(|b| b.to_vec()).collect();
        got.sort();
        prop_assert_eq!(got, live);
    }
}
