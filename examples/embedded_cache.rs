//! Cache-aside with a TTL from several threads, in-process, with no server.
//!
//! ```sh
//! cargo run --release --example embedded_cache
//! ```
//!
//! Each worker asks for user profiles; a miss "loads" the profile (an expensive call in real
//! life) and stores it for 60 seconds with `SET NX GET`, so concurrent loaders of the same key
//! agree on one value. A manual clock then jumps past the TTL to show reloading.

use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use redistill_store::{Expiry, ManualClock, SetCondition, SetOptions, Store, StoreError};

/// Returns the cached value of `key`, computing and caching it for `ttl_secs` on a miss.
fn get_or_compute(
    store: &Store,
    key: &[u8],
    ttl_secs: i64,
    compute: impl FnOnce() -> Vec<u8>,
) -> Result<Bytes, StoreError> {
    if let Some(hit) = store.get(0, key)? {
        return Ok(hit);
    }
    let value = compute();
    let opts = SetOptions {
        expiry: Some(Expiry::Ex(ttl_secs)),
        condition: SetCondition::IfAbsent,
        get: true,
        ..Default::default()
    };
    // If another thread stored the value first, keep theirs: every reader sees one value.
    let outcome = store.set(0, key, &value, opts)?;
    Ok(outcome.old.unwrap_or_else(|| Bytes::from(value)))
}

fn main() -> Result<(), StoreError> {
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Store::builder().clock(clock.clone()).build();
    let loads = AtomicUsize::new(0);

    let round = |label: &str| -> Result<(), StoreError> {
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..4u64)
                .map(|t| {
                    let (store, loads) = (&store, &loads);
                    s.spawn(move || -> Result<(), StoreError> {
                        let mut x = t + 1;
                        for _ in 0..10_000 {
                            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                            let user = (x >> 33) % 100;
                            let key = format!("user:{user}");
                            let v = get_or_compute(store, key.as_bytes(), 60, || {
                                loads.fetch_add(1, Ordering::Relaxed);
                                format!("{{\"id\":{user},\"name\":\"user {user}\"}}").into_bytes()
                            })?;
                            assert!(v.starts_with(b"{\"id\":"));
                        }
                        Ok(())
                    })
                })
                .collect();
            workers
                .into_iter()
                .try_for_each(|w| w.join().unwrap_or(Ok(())))
        })?;
        let stats = store.stats();
        println!(
            "{label}: loads={} hits={} misses={} keys={}",
            loads.load(Ordering::Relaxed),
            stats.keyspace_hits,
            stats.keyspace_misses,
            store.dbsize(0)?
        );
        Ok(())
    };

    round("cold cache")?;
    round("warm cache")?;
    // Jump past the TTL: entries expire, the active cycle reclaims them, loads happen again.
    clock.advance(61_000);
    let reclaimed = store.active_expire_cycle(10_000);
    println!(
        "after 61 s: active expiry removed {} keys",
        reclaimed.expired
    );
    round("after expiry")?;
    println!("used memory: {} bytes", store.used_memory());
    Ok(())
}
