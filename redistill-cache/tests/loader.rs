//! Loader coalescing: one loader per missing key, waiters get its value, failures release
//! them.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, mpsc};

use redistill_cache::Cache;

const THREADS: usize = 16;

#[test]
fn sixteen_threads_one_loader_run_200_times() {
    for round in 0..200 {
        let cache = Cache::builder().no_background_expiry().shards(4).build();
        let calls = AtomicUsize::new(0);
        let start = Barrier::new(THREADS);
        let want = format!("value {round}");
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        cache.get_or_insert_with("key", || {
                            calls.fetch_add(1, Ordering::SeqCst);
                            // Give the other threads time to pile up behind this load.
                            for _ in 0..200 {
                                std::thread::yield_now();
                            }
                            want.clone()
                        })
                    })
                })
                .collect();
            for w in workers {
                assert_eq!(w.join().unwrap(), want.as_bytes());
            }
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1, "round {round}");
        assert_eq!(cache.get("key").unwrap(), want.as_bytes());
    }
}

#[test]
fn different_keys_load_independently() {
    let cache = Cache::builder().no_background_expiry().build();
    let calls = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..8u8 {
            let (cache, calls) = (&cache, &calls);
            s.spawn(move || {
                let v = cache.get_or_insert_with([t], || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    vec![t; 3]
                });
                assert_eq!(v, vec![t; 3]);
            });
        }
    });
    assert_eq!(calls.load(Ordering::SeqCst), 8);
}

/// A loader that panics: the panic reaches its caller, and each waiter goes round again;
/// exactly one waiter's loader then runs and every waiter gets its value.
#[test]
fn a_panicking_loader_releases_the_waiters() {
    for _ in 0..20 {
        let cache = Cache::builder().no_background_expiry().build();
        let (started_tx, started_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let calls = AtomicUsize::new(0);
        std::thread::scope(|s| {
            let cache = &cache;
            let leader = s.spawn(move || {
                std::panic::catch_unwind(AssertUnwindSafe(|| {
                    cache.get_or_insert_with("k", || -> Vec<u8> {
                        started_tx.send(()).unwrap();
                        let _ = go_rx.recv();
                        panic!("loader failed");
                    })
                }))
            });
            started_rx.recv().unwrap();
            let waiters: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        cache.get_or_insert_with("k", || {
                            calls.fetch_add(1, Ordering::SeqCst);
                            "recovered"
                        })
                    })
                })
                .collect();
            go_tx.send(()).unwrap();
            assert!(
                leader.join().unwrap().is_err(),
                "the panic reaches its caller"
            );
            for w in waiters {
                assert_eq!(w.join().unwrap(), "recovered");
            }
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}

/// A loader that errs: its caller gets the error, nothing is cached, the waiters retry.
#[test]
fn a_failing_loader_gives_its_error_to_its_caller_only() {
    for _ in 0..20 {
        let cache = Cache::builder().no_background_expiry().build();
        let (started_tx, started_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let calls = AtomicUsize::new(0);
        std::thread::scope(|s| {
            let cache = &cache;
            let leader = s.spawn(move || {
                cache.try_get_or_insert_with("k", || {
                    started_tx.send(()).unwrap();
                    let _ = go_rx.recv();
                    Err::<Vec<u8>, _>("timeout")
                })
            });
            started_rx.recv().unwrap();
            let waiters: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        cache.try_get_or_insert_with("k", || {
                            calls.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, &str>("fresh")
                        })
                    })
                })
                .collect();
            go_tx.send(()).unwrap();
            assert_eq!(leader.join().unwrap(), Err("timeout"));
            for w in waiters {
                assert_eq!(w.join().unwrap().unwrap(), "fresh");
            }
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.get("k").unwrap(), "fresh");
    }
}

/// A loaded value too big for the memory bound is not stored, but every caller gets it.
#[test]
fn waiters_get_the_value_even_when_the_cache_cannot_keep_it() {
    let cache = Cache::builder()
        .max_memory(1)
        .policy(redistill_cache::Policy::NoEviction)
        .no_background_expiry()
        .build();
    let v = cache.get_or_insert_with("k", || vec![7u8; 10_000]);
    assert_eq!(v.len(), 10_000);
}
