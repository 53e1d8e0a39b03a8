//! Several threads against one store: no lost updates, atomic multi-key writes (MSET, and
//! MSETNX racing over overlapping keys), and SCAN's guarantee while other threads insert
//! and delete.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.
use std::collections::HashSet;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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

#[test]
fn overlapping_msetnx_has_exactly_one_winner_and_is_never_seen_mixed() {
    let store = Store::builder().shards(16).build();
    let rounds = 400;
    // A writes k0..k11, B writes k6..k17: six keys in common, over many shards.
    let keys = |r: usize, range: std::ops::Range<usize>| -> Vec<Vec<u8>> {
        range.map(|i| format!("r{r}:k{i}").into_bytes()).collect()
    };
    let barrier = Barrier::new(3);
    let wins = [AtomicUsize::new(0), AtomicUsize::new(0)];
    std::thread::scope(|s| {
        for (w, (range, value)) in [(0..12, b"A"), (6..18, b"B")].into_iter().enumerate() {
            let (store, barrier, wins, keys) = (&store, &barrier, &wins, &keys);
            s.spawn(move || {
                for r in 0..rounds {
                    let ks = keys(r, range.clone());
                    let pairs: Vec<(&[u8], &[u8])> =
                        ks.iter().map(|k| (k.as_slice(), &value[..])).collect();
                    barrier.wait();
                    if store.msetnx(0, &pairs).unwrap() {
                        wins[w].fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        // A reader racing both: MGET over all 18 keys sees nothing yet, or one side whole.
        let (store, barrier, keys) = (&store, &barrier, &keys);
        s.spawn(move || {
            for r in 0..rounds {
                let ks = keys(r, 0..18);
                let refs: Vec<&[u8]> = ks.iter().map(Vec::as_slice).collect();
                barrier.wait();
                for _ in 0..20 {
                    let vals = store.mget(0, &refs).unwrap();
                    let seen: Vec<Option<&[u8]>> = vals.iter().map(|v| v.as_deref()).collect();
                    let only = |side: &[u8], range: std::ops::Range<usize>| {
                        (0..18).all(|i| seen[i] == range.contains(&i).then_some(side))
                    };
                    assert!(
                        seen.iter().all(Option::is_none) || only(b"A", 0..12) || only(b"B", 6..18),
                        "round {r}: {seen:?}"
                    );
                }
            }
        });
    });
    // Every round had exactly one winner, and its keys hold its value alone.
    assert_eq!(
        wins[0].load(Ordering::Relaxed) + wins[1].load(Ordering::Relaxed),
        rounds
    );
    for r in 0..rounds {
        let ks = keys(r, 0..18);
        let refs: Vec<&[u8]> = ks.iter().map(Vec::as_slice).collect();
        let vals = store.mget(0, &refs).unwrap();
        let a = (0..18).all(|i| vals[i].as_deref() == (i < 12).then_some(&b"A"[..]));
        let b = (0..18).all(|i| vals[i].as_deref() == (i >= 6).then_some(&b"B"[..]));
        assert!(a ^ b, "round {r}: {vals:?}");
    }
}

/// Waits (yielding) until `counter` moves past `seen`, at most about two seconds, so the
/// scanner interleaves with the churn threads instead of racing ahead of them.
fn wait_past(counter: &AtomicUsize, seen: usize) -> usize {
    let start = std::time::Instant::now();
    loop {
        let now = counter.load(Ordering::Acquire);
        if now > seen || start.elapsed() > std::time::Duration::from_secs(2) {
            return now;
        }
        std::thread::yield_now();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Keys present for the whole scan are all returned, while two other threads grow and
    /// shrink the same shards by inserting and deleting other keys during the iteration.
    ///
    /// Each churn round inserts at least eight times as many keys as the stable set and then
    /// deletes them all, so every table with stable keys grows past its load limit and then
    /// shrinks below a quarter full (tables left empty are freed). The scanner waits for at
    /// least one churn phase (a burst of inserts or of deletes) to finish between two of its
    /// first calls, so those cursors are reused across resizes; the threads also run freely, so
    /// resizes race with the calls themselves.
    #[test]
    fn scan_returns_every_stable_key_under_concurrent_churn(
        stable in 1usize..200,
        extra in 0usize..800,
        count in 1usize..20,
        shards in 0u32..4,
        seed in any::<u64>(),
    ) {
        let churn = stable * 8 + extra;
        let store = Store::builder().databases(1).shards(1 << shards).seed(seed).build();
        for i in 0..stable {
            store.set(0, format!("stable:{i}").as_bytes(), b"v", SetOptions::default()).unwrap();
        }
        let stop = AtomicBool::new(false);
        let phases = AtomicUsize::new(0);
        let seen = std::thread::scope(|s| {
            for t in 0..2 {
                let (store, stop, phases) = (&store, &stop, &phases);
                s.spawn(move || {
                    let mut round = 0;
                    while !stop.load(Ordering::Acquire) {
                        for i in 0..churn {
                            let k = format!("churn:{t}:{round}:{i}");
                            store.set(0, k.as_bytes(), b"v", SetOptions::default()).unwrap();
                        }
                        phases.fetch_add(1, Ordering::AcqRel);
                        for i in 0..churn {
                            let k = format!("churn:{t}:{round}:{i}");
                            store.del(0, &[k.as_bytes()]).unwrap();
                        }
                        phases.fetch_add(1, Ordering::AcqRel);
                        round += 1;
                    }
                });
            }
            let mut seen = HashSet::new();
            let mut cursor = 0;
            let mut phase = wait_past(&phases, 0);
            let mut calls = 0;
            loop {
                let opts = ScanOptions { count: Some(count), ..Default::default() };
                let (next, keys) = store.scan(0, cursor, opts).unwrap();
                seen.extend(keys.into_iter().map(|k| k.to_vec()));
                calls += 1;
                cursor = next;
                if cursor == 0 {
                    break;
                }
                // The first calls each wait for a phase; later ones (churn keys can make
                // the walk long at small COUNTs) run against the free-running churn.
                if calls <= 24 {
                    phase = wait_past(&phases, phase);
                }
            }
            stop.store(true, Ordering::Release);
            (seen, calls)
        });
        let (seen, calls) = seen;
        prop_assert!(calls > 1 || stable <= count, "one call returned everything");
        for i in 0..stable {
            let k = format!("stable:{i}").into_bytes();
            prop_assert!(seen.contains(&k), "missing {}", String::from_utf8_lossy(&k));
        }
        for k in &seen {
            prop_assert!(k.starts_with(b"stable:") || k.starts_with(b"churn:"));
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
