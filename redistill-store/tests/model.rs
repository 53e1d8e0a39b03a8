//! Model-based test: random operation sequences against a `BTreeMap` with explicit expiry
//! times, the clock advanced by the test. Both must give the same results.
//!
//! The model spells out Redis 7's rules (checked against redis-server 7.0): SET's NX/XX/GET/
//! KEEPTTL and past absolute times, GETEX (which checks the key before its time) and GETDEL,
//! EXPIRE's NX/XX/GT/LT (no TTL counts as infinite), COPY with and without REPLACE, hash
//! counters, and INCRBYFLOAT on values whose sums are exact in binary (so Redis's
//! `long double` formatting is the plain decimal). Lists join in (pushes, pops, LRANGE),
//! so that every command meets keys of every type, and emptied lists disappear.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.
use std::collections::BTreeMap;

use proptest::prelude::*;
use redistill_store::{
    Clock, ExpireCommand, ExpireCondition, Expiry, GetExOption, ListEnd, ManualClock, SetCondition,
    SetOptions, Store, StoreError, ValueType,
};

/// SET's expiry option; absolute times are relative to the clock when the op runs.
#[derive(Debug, Clone, Copy)]
enum SetTtl {
    None,
    Px(i16),
    PxAt(i16),
    KeepTtl,
}

/// GETEX's option, with absolute times as in [`SetTtl`].
#[derive(Debug, Clone, Copy)]
enum GetExOpt {
    None,
    Persist,
    Px(i16),
    PxAt(i16),
}

#[derive(Debug, Clone)]
enum Op {
    Set(u8, Vec<u8>, Option<u16>),
    SetFull(u8, Vec<u8>, SetTtl, SetCondition, bool),
    Get(u8),
    GetDel(u8),
    GetEx(u8, GetExOpt),
    Del(u8),
    Incr(u8, i8),
    IncrByFloat(u8, i8),
    Append(u8, Vec<u8>),
    SetRange(u8, i8, Vec<u8>),
    Strlen(u8),
    Type(u8),
    Pexpire(u8, i16),
    /// PEXPIRE (false) or PEXPIREAT (true, relative to now) with a condition.
    PexpireCond(u8, i16, bool, ExpireCondition),
    Persist(u8),
    Pttl(u8),
    Exists(u8),
    Rename(u8, u8),
    Copy(u8, u8, bool),
    HSet(u8, u8, Vec<u8>),
    HSetNx(u8, u8, Vec<u8>),
    HGet(u8, u8),
    HDel(u8, u8),
    HLen(u8),
    HGetAll(u8),
    HIncrBy(u8, u8, i8),
    HIncrByFloat(u8, u8, i8),
    /// RPUSH (false) or LPUSH (true).
    Push(u8, bool, Vec<u8>),
    /// LPOP (true) or RPOP (false).
    Pop(u8, bool),
    LRange(u8),
    Advance(u16),
    ActiveExpire,
}

#[derive(Debug, Clone, PartialEq)]
enum R {
    Bytes(Option<Vec<u8>>),
    Int(i64),
    Err(StoreError),
    Unit,
    /// SET: written, old value (with GET).
    Set(bool, Option<Vec<u8>>),
    Pairs(Vec<(Vec<u8>, Vec<u8>)>),
    Type(Option<ValueType>),
    List(Option<Vec<Vec<u8>>>),
    /// A float sum the model cannot format exactly (not a multiple of 1/4): not compared,
    /// and the key is dropped from both sides.
    Inexact,
}

#[derive(Debug, Clone)]
enum V {
    Str(Vec<u8>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    List(std::collections::VecDeque<Vec<u8>>),
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
            Op::SetFull(k, v, ttl, cond, get) => {
                let k = key(*k);
                let now = self.now;
                let expire = match ttl {
                    SetTtl::Px(t) if *t <= 0 => return invalid_expire(i64::from(*t)),
                    SetTtl::Px(t) => Some(now + *t as u64),
                    SetTtl::PxAt(d) => Some((now as i64 + i64::from(*d)) as u64),
                    SetTtl::None | SetTtl::KeepTtl => None,
                };
                let existing = self.live(&k).cloned();
                let old = match (&existing, get) {
                    (Some((V::Str(v), _)), true) => Some(v.clone()),
                    (Some(_), true) => return R::Err(StoreError::WrongType),
                    _ => None,
                };
                let allowed = match cond {
                    SetCondition::Always => true,
                    SetCondition::IfAbsent => existing.is_none(),
                    SetCondition::IfPresent => existing.is_some(),
                };
                if !allowed {
                    return R::Set(false, old);
                }
                let expire = match ttl {
                    SetTtl::KeepTtl => existing.and_then(|e| e.1),
                    _ => expire,
                };
                // An absolute time already past stores nothing and deletes the old value.
                if expire.is_some_and(|e| e <= now) {
                    self.map.remove(&k);
                } else {
                    self.map.insert(k, (V::Str(v.clone()), expire));
                }
                R::Set(true, old)
            }
            Op::GetDel(k) => {
                let k = key(*k);
                match self.live(&k) {
                    None => R::Bytes(None),
                    Some((V::Str(v), _)) => {
                        let v = v.clone();
                        self.map.remove(&k);
                        R::Bytes(Some(v))
                    }
                    Some(_) => R::Err(StoreError::WrongType),
                }
            }
            Op::GetEx(k, opt) => {
                let k = key(*k);
                let now = self.now;
                let when = match opt {
                    GetExOpt::Px(t) => Some(now as i64 + i64::from(*t)),
                    GetExOpt::PxAt(d) => Some(now as i64 + i64::from(*d)),
                    GetExOpt::None | GetExOpt::Persist => None,
                };
                match self.live(&k) {
                    None => R::Bytes(None),
                    // The key and its type are checked before the time (Redis 7.0).
                    Some((V::Str(_), _))
                        if let GetExOpt::Px(t) = opt
                            && *t <= 0 =>
                    {
                        invalid_expire(i64::from(*t))
                    }
                    Some((V::Str(v), e)) => {
                        let when = when.map(|w| w as u64);
                        let v = v.clone();
                        match (opt, when) {
                            (GetExOpt::Persist, _) => *e = None,
                            (_, Some(w)) if w > now => *e = Some(w),
                            // A time already past deletes the key after reading it.
                            (_, Some(_)) => {
                                self.map.remove(&k);
                            }
                            _ => {}
                        }
                        R::Bytes(Some(v))
                    }
                    Some(_) => R::Err(StoreError::WrongType),
                }
            }
            Op::IncrByFloat(k, q) => {
                let k = key(*k);
                let (cur, e) = match self.live(&k) {
                    None => (0, None),
                    Some((V::Str(v), e)) => match decimal(v) {
                        Some(x) => (x, *e),
                        None => return R::Err(StoreError::NotFloat),
                    },
                    Some(_) => return R::Err(StoreError::WrongType),
                };
                let Some(out) = quarter_sum(cur, *q) else {
                    return R::Inexact;
                };
                self.map.insert(k, (V::Str(out.clone()), e));
                R::Bytes(Some(out))
            }
            Op::SetRange(k, off, v) => {
                if *off < 0 {
                    return R::Err(StoreError::OffsetOutOfRange);
                }
                let (k, off) = (key(*k), *off as usize);
                match self.live(&k) {
                    None if v.is_empty() => R::Int(0),
                    None => {
                        let mut buf = vec![0; off];
                        buf.extend_from_slice(v);
                        let n = buf.len();
                        self.map.insert(k, (V::Str(buf), None));
                        R::Int(n as i64)
                    }
                    Some((V::Str(cur), _)) => {
                        if !v.is_empty() {
                            if cur.len() < off + v.len() {
                                cur.resize(off + v.len(), 0);
                            }
                            cur[off..off + v.len()].copy_from_slice(v);
                        }
                        R::Int(cur.len() as i64)
                    }
                    Some(_) => R::Err(StoreError::WrongType),
                }
            }
            Op::Strlen(k) => match self.live(&key(*k)) {
                None => R::Int(0),
                Some((V::Str(v), _)) => R::Int(v.len() as i64),
                Some(_) => R::Err(StoreError::WrongType),
            },
            Op::Type(k) => R::Type(match self.live(&key(*k)) {
                None => None,
                Some((V::Str(_), _)) => Some(ValueType::String),
                Some((V::Hash(_), _)) => Some(ValueType::Hash),
                Some((V::List(_), _)) => Some(ValueType::List),
            }),
            Op::PexpireCond(k, amount, _, cond) => {
                let k = key(*k);
                let now = self.now;
                let when = now as i64 + i64::from(*amount);
                let Some(entry) = self.live(&k) else {
                    return R::Int(0);
                };
                let current = entry.1.map(|c| c as i64);
                let ok = match cond {
                    ExpireCondition::Always => true,
                    ExpireCondition::Nx => current.is_none(),
                    ExpireCondition::Xx => current.is_some(),
                    // No TTL counts as an infinite one.
                    ExpireCondition::Gt => current.is_some_and(|c| when > c),
                    ExpireCondition::Lt => current.is_none_or(|c| when < c),
                    ExpireCondition::XxLt => current.is_some_and(|c| when < c),
                };
                if !ok {
                    return R::Int(0);
                }
                if when <= now as i64 {
                    self.map.remove(&k);
                } else {
                    entry.1 = Some(when as u64);
                }
                R::Int(1)
            }
            Op::Copy(a, b, replace) => {
                let (a, b) = (key(*a), key(*b));
                if a == b {
                    return R::Err(StoreError::SameObject);
                }
                let dst_live = self.live(&b).is_some();
                match self.live(&a).cloned() {
                    None => R::Int(0),
                    Some(_) if dst_live && !replace => R::Int(0),
                    Some(v) => {
                        self.map.insert(b, v);
                        R::Int(1)
                    }
                }
            }
            Op::HSetNx(k, f, v) => {
                let k = key(*k);
                match self.live(&k) {
                    None => {
                        let h = BTreeMap::from([(vec![*f], v.clone())]);
                        self.map.insert(k, (V::Hash(h), None));
                        R::Int(1)
                    }
                    Some((V::Hash(h), _)) => match h.entry(vec![*f]) {
                        std::collections::btree_map::Entry::Occupied(_) => R::Int(0),
                        std::collections::btree_map::Entry::Vacant(slot) => {
                            slot.insert(v.clone());
                            R::Int(1)
                        }
                    },
                    Some(_) => R::Err(StoreError::WrongType),
                }
            }
            Op::HGetAll(k) => match self.live(&key(*k)) {
                None => R::Pairs(Vec::new()),
                Some((V::Hash(h), _)) => {
                    R::Pairs(h.iter().map(|(f, v)| (f.clone(), v.clone())).collect())
                }
                Some(_) => R::Err(StoreError::WrongType),
            },
            Op::HIncrBy(k, f, d) => {
                let k = key(*k);
                let h = match self.live(&k) {
                    None => {
                        self.map.insert(k.clone(), (V::Hash(BTreeMap::new()), None));
                        match self.map.get_mut(&k) {
                            Some((V::Hash(h), _)) => h,
                            _ => unreachable!(),
                        }
                    }
                    Some((V::Hash(h), _)) => h,
                    Some(_) => return R::Err(StoreError::WrongType),
                };
                let cur = match h.get(&vec![*f]) {
                    None => 0,
                    Some(v) => match canonical(v) {
                        Some(n) => n,
                        None => return R::Err(StoreError::HashNotInteger),
                    },
                };
                let n = cur + i64::from(*d);
                h.insert(vec![*f], n.to_string().into_bytes());
                R::Int(n)
            }
            Op::HIncrByFloat(k, f, q) => {
                let k = key(*k);
                let cur = match self.live(&k) {
                    None => None,
                    Some((V::Hash(h), _)) => h.get(&vec![*f]).cloned(),
                    Some(_) => return R::Err(StoreError::WrongType),
                };
                let cur = match cur {
                    None => 0,
                    Some(v) => match decimal(&v) {
                        Some(x) => x,
                        None => return R::Err(StoreError::HashNotFloat),
                    },
                };
                let Some(out) = quarter_sum(cur, *q) else {
                    return R::Inexact;
                };
                match self
                    .map
                    .entry(k)
                    .or_insert_with(|| (V::Hash(BTreeMap::new()), None))
                {
                    (V::Hash(h), _) => {
                        h.insert(vec![*f], out.clone());
                    }
                    _ => unreachable!(),
                }
                R::Bytes(Some(out))
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
                    Some((v, e)) => match canonical(&v) {
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
            Op::Push(k, left, v) => {
                let k = key(*k);
                if self.live(&k).is_none() {
                    self.map
                        .insert(k.clone(), (V::List(Default::default()), None));
                }
                match self.map.get_mut(&k) {
                    Some((V::List(l), _)) => {
                        if *left {
                            l.push_front(v.clone());
                        } else {
                            l.push_back(v.clone());
                        }
                        R::Int(l.len() as i64)
                    }
                    _ => R::Err(StoreError::WrongType),
                }
            }
            Op::Pop(k, left) => {
                let k = key(*k);
                let (v, emptied) = match self.live(&k) {
                    None => return R::Bytes(None),
                    Some((V::List(l), _)) => {
                        let v = if *left { l.pop_front() } else { l.pop_back() };
                        (v, l.is_empty())
                    }
                    Some(_) => return R::Err(StoreError::WrongType),
                };
                if emptied {
                    self.map.remove(&k);
                }
                R::Bytes(v)
            }
            Op::LRange(k) => match self.live(&key(*k)) {
                None => R::List(None),
                Some((V::List(l), _)) => R::List(Some(l.iter().cloned().collect())),
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

fn invalid_expire(value: i64) -> R {
    R::Err(StoreError::InvalidExpire { value })
}

/// Redis's integer form: what `string2ll` accepts (no sign but '-', no leading zeros).
fn canonical(v: &[u8]) -> Option<i64> {
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|n| n.to_string().as_bytes() == v)
}

/// A decimal `[-]digits[.digits]` in millionths. The value strategy leaves out the bytes
/// of every other form `strtold` reads (exponents, hex, inf, nan, '+'), so this is exactly
/// the set of values Redis's float commands accept.
fn decimal(v: &[u8]) -> Option<i128> {
    let (neg, rest) = match v.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, v),
    };
    let (int, frac) = match rest.iter().position(|&b| b == b'.') {
        Some(p) => (&rest[..p], &rest[p + 1..]),
        None => (rest, &[][..]),
    };
    let digits = |d: &[u8]| d.iter().all(u8::is_ascii_digit);
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || frac.len() > 6 {
        return None;
    }
    let mut n: i128 = 0;
    for &d in int {
        n = n * 10 + i128::from(d - b'0');
    }
    let mut f: i128 = 0;
    for i in 0..6 {
        f = f * 10 + frac.get(i).map_or(0, |&d| i128::from(d - b'0'));
    }
    let x = n * 1_000_000 + f;
    Some(if neg { -x } else { x })
}

/// `q / 4` as the increment argument INCRBYFLOAT gets.
fn quarter_text(q: i8) -> Vec<u8> {
    format_millionths(i128::from(q) * 250_000)
}

/// `cur + q / 4` formatted as Redis does, if the sum is a multiple of 1/4: then it is exact
/// in binary and `%.17Lf` with trailing zeros trimmed is its plain decimal. `None` otherwise.
fn quarter_sum(cur: i128, q: i8) -> Option<Vec<u8>> {
    if cur % 250_000 != 0 {
        return None;
    }
    Some(format_millionths(cur + i128::from(q) * 250_000))
}

fn format_millionths(x: i128) -> Vec<u8> {
    let (int, frac) = (x.abs() / 1_000_000, x.abs() % 1_000_000);
    let sign = if x < 0 { "-" } else { "" };
    let s = if frac == 0 {
        format!("{sign}{int}")
    } else {
        let f = format!("{frac:06}");
        format!("{sign}{int}.{}", f.trim_end_matches('0'))
    };
    s.into_bytes()
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
        Op::SetFull(k, v, ttl, cond, get) => {
            let now = clock.now_ms() as i64;
            let opts = SetOptions {
                expiry: match ttl {
                    SetTtl::Px(t) => Some(Expiry::Px(i64::from(*t))),
                    SetTtl::PxAt(d) => Some(Expiry::PxAt(now + i64::from(*d))),
                    SetTtl::None | SetTtl::KeepTtl => None,
                },
                condition: *cond,
                get: *get,
                keep_ttl: matches!(ttl, SetTtl::KeepTtl),
            };
            s.set(0, &key(*k), v, opts)
                .map_or_else(R::Err, |o| R::Set(o.written, o.old.map(|b| b.to_vec())))
        }
        Op::GetDel(k) => s
            .getdel(0, &key(*k))
            .map_or_else(R::Err, |v| R::Bytes(v.map(|b| b.to_vec()))),
        Op::GetEx(k, opt) => {
            let now = clock.now_ms() as i64;
            let opt = match opt {
                GetExOpt::None => None,
                GetExOpt::Persist => Some(GetExOption::Persist),
                GetExOpt::Px(t) => Some(GetExOption::Expire(Expiry::Px(i64::from(*t)))),
                GetExOpt::PxAt(d) => Some(GetExOption::Expire(Expiry::PxAt(now + i64::from(*d)))),
            };
            s.getex(0, &key(*k), opt)
                .map_or_else(R::Err, |v| R::Bytes(v.map(|b| b.to_vec())))
        }
        Op::IncrByFloat(k, q) => s
            .incr_by_float(0, &key(*k), &quarter_text(*q))
            .map_or_else(R::Err, |v| R::Bytes(Some(v.to_vec()))),
        Op::SetRange(k, off, v) => r(s
            .setrange(0, &key(*k), i64::from(*off), v)
            .map(|n| n as i64)),
        Op::Strlen(k) => r(s.strlen(0, &key(*k)).map(|n| n as i64)),
        Op::Type(k) => s.value_type(0, &key(*k)).map_or_else(R::Err, R::Type),
        Op::PexpireCond(k, amount, at, cond) => {
            let (amount, command) = if *at {
                (
                    clock.now_ms() as i64 + i64::from(*amount),
                    ExpireCommand::PExpireAt,
                )
            } else {
                (i64::from(*amount), ExpireCommand::PExpire)
            };
            r(s.expire(0, &key(*k), amount, command, *cond).map(i64::from))
        }
        Op::Copy(a, b, replace) => r(s.copy(0, &key(*a), 0, &key(*b), *replace).map(i64::from)),
        Op::HSetNx(k, f, v) => r(s.hsetnx(0, &key(*k), &[*f], v).map(i64::from)),
        Op::HGetAll(k) => s.hgetall(0, &key(*k)).map_or_else(R::Err, |pairs| {
            let mut pairs: Vec<_> = pairs
                .into_iter()
                .map(|(f, v)| (f.to_vec(), v.to_vec()))
                .collect();
            pairs.sort();
            R::Pairs(pairs)
        }),
        Op::HIncrBy(k, f, d) => r(s.hincrby(0, &key(*k), &[*f], i64::from(*d))),
        Op::HIncrByFloat(k, f, q) => s
            .hincrbyfloat(0, &key(*k), &[*f], &quarter_text(*q))
            .map_or_else(R::Err, |v| R::Bytes(Some(v.to_vec()))),
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
        Op::Push(k, left, v) => {
            let end = if *left { ListEnd::Left } else { ListEnd::Right };
            r(s.list_push(0, &key(*k), end, &[v], false).map(|n| n as i64))
        }
        Op::Pop(k, left) => {
            let popped = if *left {
                s.lpop(0, &key(*k))
            } else {
                s.rpop(0, &key(*k))
            };
            popped.map_or_else(R::Err, |v| R::Bytes(v.map(|b| b.to_vec())))
        }
        Op::LRange(k) => s.lrange(0, &key(*k), 0, -1).map_or_else(R::Err, |l| {
            R::List((!l.is_empty()).then(|| l.iter().map(|b| b.to_vec()).collect()))
        }),
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

/// Any bytes but those that make other float forms (`1e3`, `0x1p3`, `inf`, `nan`, `+1`) or
/// end `strtold` early (NUL): see [`decimal`].
fn value_byte() -> impl Strategy<Value = u8> {
    any::<u8>().prop_filter("float syntax", |b| !b"eEiInNxXpP+\0".contains(b))
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(value_byte(), 0..6),
        (-20i64..20).prop_map(|n| n.to_string().into_bytes()),
        (-40i64..40).prop_map(|q| quarter_text(q as i8)),
    ]
}

fn set_ttl() -> impl Strategy<Value = SetTtl> {
    prop_oneof![
        Just(SetTtl::None),
        Just(SetTtl::KeepTtl),
        (-2i16..50).prop_map(SetTtl::Px),
        (-10i16..50).prop_map(SetTtl::PxAt),
    ]
}

fn set_condition() -> impl Strategy<Value = SetCondition> {
    prop_oneof![
        Just(SetCondition::Always),
        Just(SetCondition::IfAbsent),
        Just(SetCondition::IfPresent),
    ]
}

fn getex_opt() -> impl Strategy<Value = GetExOpt> {
    prop_oneof![
        Just(GetExOpt::None),
        Just(GetExOpt::Persist),
        (-2i16..50).prop_map(GetExOpt::Px),
        (-10i16..50).prop_map(GetExOpt::PxAt),
    ]
}

fn expire_condition() -> impl Strategy<Value = ExpireCondition> {
    prop_oneof![
        Just(ExpireCondition::Always),
        Just(ExpireCondition::Nx),
        Just(ExpireCondition::Xx),
        Just(ExpireCondition::Gt),
        Just(ExpireCondition::Lt),
        Just(ExpireCondition::XxLt),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0u8..6;
    prop_oneof![
        (k.clone(), value(), proptest::option::of(0u16..50)).prop_map(|(k, v, t)| Op::Set(k, v, t)),
        (
            k.clone(),
            value(),
            set_ttl(),
            set_condition(),
            any::<bool>()
        )
            .prop_map(|(k, v, t, c, g)| Op::SetFull(k, v, t, c, g)),
        k.clone().prop_map(Op::Get),
        k.clone().prop_map(Op::GetDel),
        (k.clone(), getex_opt()).prop_map(|(k, o)| Op::GetEx(k, o)),
        (k.clone(), -40i8..40).prop_map(|(k, q)| Op::IncrByFloat(k, q)),
        (k.clone(), -1i8..8, value()).prop_map(|(k, o, v)| Op::SetRange(k, o, v)),
        k.clone().prop_map(Op::Strlen),
        k.clone().prop_map(Op::Type),
        (k.clone(), -10i16..60, any::<bool>(), expire_condition())
            .prop_map(|(k, ms, at, c)| Op::PexpireCond(k, ms, at, c)),
        (k.clone(), k.clone(), any::<bool>()).prop_map(|(a, b, r)| Op::Copy(a, b, r)),
        (k.clone(), 0u8..4, value()).prop_map(|(k, f, v)| Op::HSetNx(k, f, v)),
        k.clone().prop_map(Op::HGetAll),
        (k.clone(), 0u8..4, any::<i8>()).prop_map(|(k, f, d)| Op::HIncrBy(k, f, d)),
        (k.clone(), 0u8..4, -40i8..40).prop_map(|(k, f, q)| Op::HIncrByFloat(k, f, q)),
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
        k.clone().prop_map(Op::HLen),
        (k.clone(), any::<bool>(), value()).prop_map(|(k, l, v)| Op::Push(k, l, v)),
        (k.clone(), any::<bool>()).prop_map(|(k, l)| Op::Pop(k, l)),
        k.prop_map(Op::LRange),
        (0u16..40).prop_map(Op::Advance),
        Just(Op::ActiveExpire),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn store_agrees_with_model(ops in proptest::collection::vec(op(), 1..120)) {
        let clock = ManualClock::new(1_000_000);
        let store = Store::builder().databases(1).shards(2).clock(clock.clone()).build();
        let mut model = Model { now: 1_000_000, ..Default::default() };
        for (i, op) in ops.iter().enumerate() {
            let want = model.apply(op);
            let got = run(&store, &clock, op);
            if want == R::Inexact {
                // Only float sums the model cannot format exactly; both sides drop the key.
                prop_assert!(matches!(got, R::Bytes(Some(_))), "op #{} {:?}: {:?}", i, op, got);
                let (Op::IncrByFloat(k, _) | Op::HIncrByFloat(k, _, _)) = op else {
                    unreachable!()
                };
                store.del(0, &[&key(*k)]).unwrap();
                model.map.remove(&key(*k));
                continue;
            }
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
