//! Several threads against one store: no lost updates, atomic multi-key writes, and SCAN's
//! guarantee while another thread inserts and deletes.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use proptest::prelude::*;
use redistill_store::{ScanOptions, SetOptions, Store};

#[test]
fn concurrent_incr_loses_nothing() {
    let store = Store::builder().shards(4).build();
    let threads = 4;
    let per = 2_000;
    std::thread::scope(|s| {
        for t in 0..threads {
            let store = store.clone();
            s.spawn(move || {
                for i in 0..per {
                    store.incr_by(0, b"counter", 1).unwrap();
                    store
                        .incr_by(0, format!("c{}", i % 8).as_bytes(), 1)
                        .unwrap();
                    if t == 0 {
                        store.hincrby(0, b"h", b"f", 1).unwrap();
                    }
                }
            });
        }
    });
    assert_eq!(
        store.get(0, b"counter").unwrap().as_deref(),
        Some(format!("{}", threads * per).as_bytes())
    );
    let total: i64 = (0..8)
        .map(|i| {
            let v = store.get(0, format!("c{i}").as_bytes()).unwrap().unwrap();
            std::str::from_utf8(&v).unwrap().parse::<i64>().unwrap()
        })
        .sum();
    assert_eq!(total, (threads * per) as i64);
    assert_eq!(
        store.hget(0, b"h", b"f").unwrap().as_deref(),
        Some(format!("{per}").as_bytes())
    );
}

#[test]
fn mset_is_never_seen_half_applied() {
    // Keys spread over many shards so MSET really spans several locks.
    let store = Store::builder().shards(16).build();
    let keys: Vec<Vec<u8>> = (0..12).map(|i| format!("k{i}").into_bytes()).collect();
    let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let init: Vec<(&[u8], &[u8])> = key_refs.iter().map(|k| (*k, &b"0"[..])).collect();
    store.mset(0, &init).unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            for round in 1..=2_000u32 {
                let v = round.to_string();
                let pairs: Vec<(&[u8], &[u8])> =
                    key_refs.iter().map(|k| (*k, v.as_bytes())).collect();
                store.mset(0, &pairs).unwrap();
            }
            done.store(true, Ordering::Release);
        });
        s.spawn(|| {
            let mut checks = 0;
            while !done.load(Ordering::Acquire) || checks == 0 {
                let vals = store.mget(0, &key_refs).unwrap();
                let first = &vals[0];
                assert!(vals.iter().all(|v| v == first), "torn MSET: {vals:?}");
                checks += 1;
            }
        });
    });
}

fn scan_all(store: &Store) -> HashSet<Vec<u8>> {
    let mut seen = HashSet::new();
    let mut cursor = 0;
    loop {
        let (next, keys) = store
            .scan(
                0,
                cursor,
                ScanOptions {
                    count: Some(7),
                    ..Default::default()
                },
            )
            .unwrap();
        seen.extend(keys.into_iter().map(|k| k.to_vec()));
        cursor = next;
        if cursor == 0 {
            return seen;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Keys present for the whole scan are all returned, while a second thread grows and
    /// shrinks the same shards by inserting and deleting other keys.
    #[test]
    fn scan_returns_every_stable_key_under_concurrent_churn(
        stable in 1usize..400,
        churn in 1usize..3000,
        seed in any::<u64>(),
    ) {
        let store = Arc::new(Store::builder().databases(1).shards(4).seed(seed).build());
        for i in 0..stable {
            store.set(0, format!("stable:{i}").as_bytes(), b"v", SetOptions::default()).unwrap();
        }
        let stop = AtomicBool::new(false);
        let seen = std::thread::scope(|s| {
            s.spawn(|| {
                // Grow far past, then shrink back, repeatedly: every table resizes both ways.
                let mut round = 0;
                while !stop.load(Ordering::Acquire) {
                    for i in 0..churn {
                        store.set(0, format!("churn:{round}:{i}").as_bytes(), b"v", SetOptions::default()).unwrap();
                    }
                    for i in 0..churn {
                        store.del(0, &[format!("churn:{round}:{i}").as_bytes()]).unwrap();
                    }
                    round += 1;
                }
            });
            let seen = scan_all(&store);
            stop.store(true, Ordering::Release);
            seen
        });
        for i in 0..stable {
            let k = format!("stable:{i}").into_bytes();
            prop_assert!(seen.contains(&k), "missing {}", String::from_utf8_lossy(&k));
        }
    }
}

#[test]
fn scan_survives_deterministic_grow_and_shrink_between_calls() {
    let store = Store::builder().databases(1).shards(2).seed(11).build();
    for i in 0..300 {
        store
            .set(0, format!("s{i}").as_bytes(), b"v", SetOptions::default())
            .unwrap();
    }
    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut step = 0;
    loop {
        let (next, keys) = store
            .scan(
                0,
                cursor,
                ScanOptions {
                    count: Some(5),
                    ..Default::default()
                },
            )
            .unwrap();
        seen.extend(keys.into_iter().map(|k| k.to_vec()));
        // Alternate between a big burst of inserts and deleting them all again.
        if step % 2 == 0 {
            for i in 0..2000 {
                store
                    .set(
                        0,
                        format!("t{step}:{i}").as_bytes(),
                        b"v",
                        SetOptions::default(),
                    )
                    .unwrap();
            }
        } else {
            for i in 0..2000 {
                store
                    .del(0, &[format!("t{}:{i}", step - 1).as_bytes()])
                    .unwrap();
            }
        }
        step += 1;
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    for i in 0..300 {
        assert!(seen.contains(format!("s{i}").as_bytes()), "s{i} missing");
    }
}
