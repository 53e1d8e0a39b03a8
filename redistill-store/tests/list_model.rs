//! Lists against a `VecDeque` model: random operation sequences under small node sizes and
//! compression, so that node splits, drops and (de)compression all happen, with the
//! store's invariants checked after every step.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use std::collections::VecDeque;

use proptest::prelude::*;
use redistill_store::{ListEnd, Store, StoreError};

#[derive(Debug, Clone)]
enum Op {
    Push(bool, Vec<Vec<u8>>),
    Pop(bool, usize),
    Set(i64, Vec<u8>),
    Insert(bool, u8, Vec<u8>),
    Rem(i64, u8),
    Trim(i64, i64),
    Index(i64),
    Range(i64, i64),
    Pos(u8, i64, usize, usize),
    Rotate(bool, bool),
}

/// Elements: a few short values that repeat (so LREM, LPOS and LINSERT find them), some
/// long, compressible ones, and integers (stored in integer form) with strings that look
/// like them but are not canonical.
fn element() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (0u8..6).prop_map(|k| vec![b'a' + k]),
        2 => (0u8..6, 1usize..200).prop_map(|(k, n)| vec![b'a' + k; n]),
        1 => proptest::collection::vec(any::<u8>(), 0..40),
        2 => prop_oneof![
            (-70_000i64..70_000).prop_map(|n| n.to_string().into_bytes()),
            any::<i64>().prop_map(|n| n.to_string().into_bytes()),
            Just(b"007".to_vec()),
            Just(b"-0".to_vec()),
            Just(b"+5".to_vec()),
            Just(b"99999999999999999999".to_vec()),
        ],
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<bool>(), proptest::collection::vec(element(), 1..8))
            .prop_map(|(l, v)| Op::Push(l, v)),
        3 => (any::<bool>(), 0usize..5).prop_map(|(l, n)| Op::Pop(l, n)),
        2 => (-30i64..30, element()).prop_map(|(i, v)| Op::Set(i, v)),
        2 => (any::<bool>(), 0u8..6, element()).prop_map(|(b, p, v)| Op::Insert(b, p, v)),
        1 => (-3i64..4, 0u8..6).prop_map(|(c, e)| Op::Rem(c, e)),
        1 => (-40i64..40, -40i64..40).prop_map(|(a, b)| Op::Trim(a, b)),
        1 => (-40i64..40).prop_map(Op::Index),
        1 => (-40i64..40, -40i64..40).prop_map(|(a, b)| Op::Range(a, b)),
        1 => (0u8..6, prop_oneof![1i64..4, -3i64..0], 0usize..3, 0usize..20)
            .prop_map(|(e, r, c, m)| Op::Pos(e, r, c, m)),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(a, b)| Op::Rotate(a, b)),
    ]
}

fn end(left: bool) -> ListEnd {
    if left { ListEnd::Left } else { ListEnd::Right }
}

/// Redis's index rules, on the model.
fn span(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { start + len } else { start }.max(0);
    let stop = if stop < 0 { stop + len } else { stop };
    (start <= stop && start < len).then(|| (start as usize, (stop.min(len - 1) + 1) as usize))
}

fn position(len: usize, index: i64) -> Option<usize> {
    let i = if index < 0 { index + len as i64 } else { index };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn run(fill: i64, depth: i64, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let store = Store::builder().databases(1).shards(2).build();
    store.set_list_max_listpack_size(fill).unwrap();
    store.set_list_compress_depth(depth).unwrap();
    let key = b"l";
    let mut model: VecDeque<Vec<u8>> = VecDeque::new();
    for op in ops {
        match op {
            Op::Push(left, values) => {
                let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
                let n = store.list_push(0, key, end(left), &refs, false).unwrap();
                for v in values {
                    if left {
                        model.push_front(v);
                    } else {
                        model.push_back(v);
                    }
                }
                prop_assert_eq!(n, model.len());
            }
            Op::Pop(left, count) => {
                let got = store.list_pop(0, key, end(left), count).unwrap();
                if model.is_empty() {
                    prop_assert_eq!(got, None);
                } else {
                    let want: Vec<Vec<u8>> = (0..count.min(model.len()))
                        .filter_map(|_| {
                            if left {
                                model.pop_front()
                            } else {
                                model.pop_back()
                            }
                        })
                        .collect();
                    let got: Vec<Vec<u8>> = got.unwrap().into_iter().map(|b| b.to_vec()).collect();
                    prop_assert_eq!(got, want);
                }
            }
            Op::Set(index, v) => {
                let got = store.lset(0, key, index, &v);
                match (model.is_empty(), position(model.len(), index)) {
                    (true, _) => prop_assert_eq!(got, Err(StoreError::NoSuchKey)),
                    (false, None) => prop_assert_eq!(got, Err(StoreError::IndexOutOfRange)),
                    (false, Some(i)) => {
                        prop_assert_eq!(got, Ok(()));
                        model[i] = v;
                    }
                }
            }
            Op::Insert(before, pivot, v) => {
                let pivot = vec![b'a' + pivot];
                let got = store.linsert(0, key, before, &pivot, &v).unwrap();
                let want = if model.is_empty() {
                    0
                } else if let Some(i) = model.iter().position(|e| *e == pivot) {
                    model.insert(if before { i } else { i + 1 }, v);
                    model.len() as i64
                } else {
                    -1
                };
                prop_assert_eq!(got, want);
            }
            Op::Rem(count, e) => {
                let e = vec![b'a' + e];
                let got = store.lrem(0, key, count, &e).unwrap();
                let limit = if count == 0 {
                    usize::MAX
                } else {
                    count.unsigned_abs() as usize
                };
                let mut hits: Vec<usize> = model
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| **x == e)
                    .map(|(i, _)| i)
                    .collect();
                if count < 0 {
                    hits.reverse();
                }
                hits.truncate(limit);
                hits.sort_unstable();
                for &i in hits.iter().rev() {
                    model.remove(i);
                }
                prop_assert_eq!(got, hits.len());
            }
            Op::Trim(a, b) => {
                store.ltrim(0, key, a, b).unwrap();
                match span(model.len(), a, b) {
                    Some((s, e)) => {
                        model.truncate(e);
                        model.drain(..s);
                    }
                    None => model.clear(),
                }
            }
            Op::Index(i) => {
                let got = store.lindex(0, key, i).unwrap().map(|b| b.to_vec());
                let want = position(model.len(), i).map(|i| model[i].clone());
                prop_assert_eq!(got, want);
            }
            Op::Range(a, b) => {
                let got: Vec<Vec<u8>> = store
                    .lrange(0, key, a, b)
                    .unwrap()
                    .into_iter()
                    .map(|b| b.to_vec())
                    .collect();
                let want: Vec<Vec<u8>> = span(model.len(), a, b)
                    .map(|(s, e)| model.range(s..e).cloned().collect())
                    .unwrap_or_default();
                prop_assert_eq!(got, want);
            }
            Op::Pos(e, rank, count, maxlen) => {
                let e = vec![b'a' + e];
                let got = store.lpos(0, key, &e, rank, count, maxlen).unwrap();
                let order: Vec<usize> = if rank < 0 {
                    (0..model.len()).rev().collect()
                } else {
                    (0..model.len()).collect()
                };
                let compared = if maxlen == 0 { order.len() } else { maxlen };
                let want: Vec<usize> = order
                    .into_iter()
                    .take(compared)
                    .filter(|&i| model[i] == e)
                    .skip(rank.unsigned_abs() as usize - 1)
                    .take(if count == 0 { usize::MAX } else { count })
                    .collect();
                prop_assert_eq!(got, want);
            }
            Op::Rotate(from, to) => {
                let got = store.lmove(0, key, key, end(from), end(to)).unwrap();
                let v = if from {
                    model.pop_front()
                } else {
                    model.pop_back()
                };
                if let Some(v) = v.clone() {
                    if to {
                        model.push_front(v);
                    } else {
                        model.push_back(v);
                    }
                }
                prop_assert_eq!(got.map(|b| b.to_vec()), v);
            }
        }
        let all: Vec<Vec<u8>> = store
            .lrange(0, key, 0, -1)
            .unwrap()
            .into_iter()
            .map(|b| b.to_vec())
            .collect();
        prop_assert_eq!(&all, &model.iter().cloned().collect::<Vec<_>>());
        prop_assert_eq!(
            store.exists(0, &[key]).unwrap(),
            usize::from(!model.is_empty())
        );
        if let Err(e) = store.check_invariants() {
            return Err(TestCaseError::fail(e));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(96)
    })]

    #[test]
    fn lists_match_a_deque(
        fill in prop_oneof![Just(-1i64), Just(0), Just(1), Just(2), Just(3), Just(5)],
        depth in 0i64..3,
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        run(fill, depth, ops)?;
    }
}
