//! Hashes against a model that keeps fields in the order they were first set, as Redis's
//! listpack does: random HSET, HSETNX, HDEL, HINCRBY and reads under small packing limits,
//! so that hashes start packed and become tables part way. While the store reports a hash
//! as `listpack`, HGETALL must answer in the model's order; once it reports `hashtable`, in
//! any order. The encoding must change exactly when Redis would change it.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

use proptest::prelude::*;
use redistill_store::Store;

#[derive(Debug, Clone)]
enum Op {
    Set(Vec<(Vec<u8>, Vec<u8>)>),
    SetNx(Vec<u8>, Vec<u8>),
    Del(Vec<Vec<u8>>),
    IncrBy(Vec<u8>, i64),
    Get(Vec<u8>),
}

fn field() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => (0u8..8).prop_map(|k| vec![b'f', b'0' + k]),
        1 => (0u8..3, 5usize..12).prop_map(|(k, n)| vec![b'a' + k; n]),
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (0u8..10).prop_map(|k| vec![b'0' + k]),
        1 => Just(Vec::new()),
        1 => (1usize..12).prop_map(|n| vec![b'v'; n]),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => proptest::collection::vec((field(), value()), 1..4).prop_map(Op::Set),
        1 => (field(), value()).prop_map(|(f, v)| Op::SetNx(f, v)),
        2 => proptest::collection::vec(field(), 1..3).prop_map(Op::Del),
        1 => (field(), -3i64..4).prop_map(|(f, n)| Op::IncrBy(f, n)),
        1 => field().prop_map(Op::Get),
    ]
}

/// Packing limits used: small enough that both conversions happen often.
const MAX_ENTRIES: usize = 6;
const MAX_VALUE: usize = 8;

#[derive(Default)]
struct Model {
    fields: Vec<(Vec<u8>, Vec<u8>)>,
    /// Whether Redis would have made it a hash table by now (it never goes back).
    table: bool,
}

impl Model {
    fn set(&mut self, f: &[u8], v: &[u8]) -> bool {
        if f.len() > MAX_VALUE || v.len() > MAX_VALUE {
            self.table = true;
        }
        let new = match self.fields.iter_mut().find(|(k, _)| k == f) {
            Some((_, old)) => {
                *old = v.to_vec();
                false
            }
            None => {
                self.fields.push((f.to_vec(), v.to_vec()));
                true
            }
        };
        if self.fields.len() > MAX_ENTRIES {
            self.table = true;
        }
        new
    }

    fn get(&self, f: &[u8]) -> Option<&Vec<u8>> {
        self.fields.iter().find(|(k, _)| k == f).map(|(_, v)| v)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn hashes_match_an_insertion_ordered_model(ops in proptest::collection::vec(op(), 1..60)) {
        let store = Store::new();
        store.set_hash_max_listpack_entries(MAX_ENTRIES);
        store.set_hash_max_listpack_value(MAX_VALUE);
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Set(pairs) => {
                    let refs: Vec<(&[u8], &[u8])> =
                        pairs.iter().map(|(f, v)| (&f[..], &v[..])).collect();
                    let new = pairs.iter().filter(|(f, v)| model.set(f, v)).count();
                    prop_assert_eq!(store.hset(0, b"h", &refs).unwrap(), new);
                }
                Op::SetNx(f, v) => {
                    let set = model.get(&f).is_none() && model.set(&f, &v);
                    prop_assert_eq!(store.hsetnx(0, b"h", &f, &v).unwrap(), set);
                }
                Op::Del(fs) => {
                    let refs: Vec<&[u8]> = fs.iter().map(|f| &f[..]).collect();
                    let mut n = 0;
                    for f in &fs {
                        if let Some(i) = model.fields.iter().position(|(k, _)| k == f) {
                            model.fields.remove(i);
                            n += 1;
                        }
                    }
                    prop_assert_eq!(store.hdel(0, b"h", &refs).unwrap(), n);
                    if model.fields.is_empty() {
                        // An emptied hash is deleted: the next one starts packed.
                        model.table = false;
                    }
                }
                Op::IncrBy(f, by) => {
                    let cur = match model.get(&f) {
                        None => Some(0),
                        Some(v) => std::str::from_utf8(v).ok().and_then(|s| s.parse::<i64>().ok()),
                    };
                    match cur {
                        Some(n) => {
                            model.set(&f, (n + by).to_string().as_bytes());
                            prop_assert_eq!(store.hincrby(0, b"h", &f, by).unwrap(), n + by);
                        }
                        None => prop_assert!(store.hincrby(0, b"h", &f, by).is_err()),
                    }
                }
                Op::Get(f) => {
                    let got = store.hget(0, b"h", &f).unwrap().map(|b| b.to_vec());
                    prop_assert_eq!(got.as_ref(), model.get(&f));
                }
            }
            let mut all: Vec<(Vec<u8>, Vec<u8>)> = store
                .hgetall(0, b"h")
                .unwrap()
                .into_iter()
                .map(|(f, v)| (f.to_vec(), v.to_vec()))
                .collect();
            let encoding = store.object_encoding(0, b"h").unwrap();
            if model.fields.is_empty() {
                prop_assert_eq!(encoding, None);
                continue;
            }
            if model.table {
                prop_assert_eq!(encoding, Some("hashtable"));
                let mut want = model.fields.clone();
                want.sort();
                all.sort();
                prop_assert_eq!(all, want);
            } else {
                prop_assert_eq!(encoding, Some("listpack"));
                prop_assert_eq!(&all, &model.fields);
                let keys: Vec<Vec<u8>> =
                    store.hkeys(0, b"h").unwrap().into_iter().map(|k| k.to_vec()).collect();
                let want: Vec<Vec<u8>> = model.fields.iter().map(|(f, _)| f.clone()).collect();
                prop_assert_eq!(keys, want);
                let (cursor, scanned) = store.hscan(0, b"h", 0, None, 1).unwrap();
                prop_assert_eq!(cursor, 0);
                prop_assert_eq!(scanned.len(), model.fields.len());
            }
            store.check_invariants().unwrap();
        }
    }
}
