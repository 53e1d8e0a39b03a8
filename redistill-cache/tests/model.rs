//! The cache against a `HashMap` model: random sequences of inserts (with and without a
//! TTL), reads, removals, TTL queries, loaders and clock jumps on a manual clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use redistill_cache::{Cache, ManualClock, RemovalCause};

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, Vec<u8>),
    InsertTtl(u8, Vec<u8>, u64),
    Get(u8),
    Remove(u8),
    Ttl(u8),
    Contains(u8),
    GetOrInsert(u8, Vec<u8>),
    Advance(u64),
    Len,
    Purge,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..8;
    let value = proptest::collection::vec(any::<u8>(), 0..24);
    prop_oneof![
        3 => (key.clone(), value.clone()).prop_map(|(k, v)| Op::Insert(k, v)),
        3 => (key.clone(), value.clone(), 0u64..3_000).prop_map(|(k, v, t)| Op::InsertTtl(k, v, t)),
        4 => key.clone().prop_map(Op::Get),
        2 => key.clone().prop_map(Op::Remove),
        2 => key.clone().prop_map(Op::Ttl),
        1 => key.clone().prop_map(Op::Contains),
        2 => (key, value).prop_map(|(k, v)| Op::GetOrInsert(k, v)),
        2 => (0u64..2_000).prop_map(Op::Advance),
        1 => Just(Op::Len),
        1 => Just(Op::Purge),
    ]
}

/// The model: value and absolute expiry (ms) per key; an entry past its expiry is gone.
#[derive(Default)]
struct Model {
    map: HashMap<u8, (Vec<u8>, Option<u64>)>,
}

impl Model {
    fn live(&self, k: u8, now: u64) -> Option<&(Vec<u8>, Option<u64>)> {
        self.map
            .get(&k)
            .filter(|(_, exp)| exp.is_none_or(|e| e > now))
    }

    fn live_count(&self, now: u64) -> usize {
        self.map
            .keys()
            .filter(|k| self.live(**k, now).is_some())
            .count()
    }
}

#[derive(Default)]
struct Counts {
    replaced: AtomicUsize,
    removed: AtomicUsize,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn cache_matches_a_hashmap_model(ops in proptest::collection::vec(op(), 1..80)) {
        let clock = ManualClock::new(1_000_000);
        let counts = Arc::new(Counts::default());
        let seen = counts.clone();
        let cache = Cache::builder()
            .clock(clock.clone())
            .no_background_expiry()
            .shards(4)
            .listener(move |_, cause| match cause {
                RemovalCause::Replaced => { seen.replaced.fetch_add(1, Ordering::Relaxed); }
                RemovalCause::Removed => { seen.removed.fetch_add(1, Ordering::Relaxed); }
                _ => {}
            })
            .build();
        let mut model = Model::default();
        let (mut replaced, mut removed) = (0, 0);
        for op in ops {
            let now = 1_000_000 + clock_offset(&clock);
            match op {
                Op::Insert(k, v) => {
                    replaced += usize::from(model.live(k, now).is_some());
                    cache.insert([k], &v);
                    model.map.insert(k, (v, None));
                }
                Op::InsertTtl(k, v, ttl) => {
                    let was_live = model.live(k, now).is_some();
                    cache.insert_with_ttl([k], &v, Duration::from_millis(ttl));
                    if ttl == 0 {
                        removed += usize::from(was_live);
                        model.map.remove(&k);
                    } else {
                        replaced += usize::from(was_live);
                        model.map.insert(k, (v, Some(now + ttl)));
                    }
                }
                Op::Get(k) => {
                    let want = model.live(k, now).map(|(v, _)| v.clone());
                    prop_assert_eq!(cache.get([k]).map(|b| b.to_vec()), want);
                }
                Op::Remove(k) => {
                    let want = model.live(k, now).map(|(v, _)| v.clone());
                    removed += usize::from(want.is_some());
                    prop_assert_eq!(cache.remove([k]).map(|b| b.to_vec()), want);
                    model.map.remove(&k);
                }
                Op::Ttl(k) => {
                    let want = model
                        .live(k, now)
                        .and_then(|(_, exp)| *exp)
                        .map(|e| Duration::from_millis(e - now));
                    prop_assert_eq!(cache.ttl([k]), want);
                }
                Op::Contains(k) => {
                    prop_assert_eq!(cache.contains_key([k]), model.live(k, now).is_some());
                }
                Op::GetOrInsert(k, v) => {
                    let got = cache.get_or_insert_with([k], || v.clone());
                    match model.live(k, now) {
                        Some((old, _)) => prop_assert_eq!(&got[..], &old[..]),
                        None => {
                            prop_assert_eq!(&got[..], &v[..]);
                            model.map.insert(k, (v, None));
                        }
                    }
                }
                Op::Advance(ms) => clock.advance(ms),
                Op::Len => {
                    // Expired entries count until reclaimed.
                    let len = cache.len();
                    prop_assert!(model.live_count(now) <= len && len <= model.map.len());
                }
                Op::Purge => {
                    cache.purge_expired();
                    prop_assert_eq!(cache.len(), model.live_count(now));
                }
            }
        }
        prop_assert_eq!(counts.replaced.load(Ordering::Relaxed), replaced);
        prop_assert_eq!(counts.removed.load(Ordering::Relaxed), removed);
    }
}

fn clock_offset(clock: &ManualClock) -> u64 {
    use redistill_cache::Clock;
    clock.now_ms() - 1_000_000
}
