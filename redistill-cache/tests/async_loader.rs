//! The async loaders under a multi-threaded tokio runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use redistill_cache::Cache;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_async_loads_run_one_loader() {
    for round in 0..50 {
        let cache = Cache::builder().no_background_expiry().build();
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (cache, calls) = (cache.clone(), calls.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_insert_with_async("key", async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            for _ in 0..10 {
                                tokio::task::yield_now().await;
                            }
                            format!("value {round}")
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), format!("value {round}"));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "round {round}");
    }
}

/// A loading task that is cancelled releases the waiters: one of them loads instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_load_hands_over_to_a_waiter() {
    let cache = Cache::builder().no_background_expiry().build();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let stuck = {
        let cache = cache.clone();
        tokio::spawn(async move {
            cache
                .get_or_insert_with_async("k", async move {
                    let _ = started_tx.send(());
                    std::future::pending::<Vec<u8>>().await
                })
                .await
        })
    };
    started_rx.await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let (cache, calls) = (cache.clone(), calls.clone());
            tokio::spawn(async move {
                cache
                    .get_or_insert_with_async("k", async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        "second"
                    })
                    .await
            })
        })
        .collect();
    tokio::task::yield_now().await;
    stuck.abort();
    assert!(stuck.await.unwrap_err().is_cancelled());
    for w in waiters {
        assert_eq!(w.await.unwrap(), "second");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_errors_reach_their_caller_only() {
    let cache = Cache::builder().no_background_expiry().build();
    let r = cache
        .try_get_or_insert_with_async("k", async { Err::<Vec<u8>, _>("down") })
        .await;
    assert_eq!(r, Err("down"));
    assert!(!cache.contains_key("k"));
    let r = cache
        .try_get_or_insert_with_async("k", async { Ok::<_, &str>("up") })
        .await;
    assert_eq!(r.unwrap(), "up");
}
