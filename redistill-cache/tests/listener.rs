//! The removal listener: one test per cause, and what each operation reports.

use std::sync::Arc;

use parking_lot::Mutex;
use std::time::Duration;

use redistill_cache::{Cache, CacheBuilder, ManualClock, RemovalCause};

type Log = Arc<Mutex<Vec<(Vec<u8>, RemovalCause)>>>;

fn logged(builder: CacheBuilder) -> (Cache, Log) {
    let log = Log::default();
    let sink = log.clone();
    let cache = builder
        .listener(move |key, cause| sink.lock().push((key.to_vec(), cause)))
        .build();
    (cache, log)
}

fn events(log: &Log) -> Vec<(Vec<u8>, RemovalCause)> {
    log.lock().clone()
}

#[test]
fn replaced_on_overwrite_only() {
    let (cache, log) = logged(Cache::builder().no_background_expiry());
    cache.insert("k", "1");
    cache.insert("other", "1");
    assert!(events(&log).is_empty(), "a new key reports nothing");
    cache.insert("k", "2");
    cache.insert_with_ttl("k", "3", Duration::from_secs(5));
    assert_eq!(
        events(&log),
        [
            (b"k".to_vec(), RemovalCause::Replaced),
            (b"k".to_vec(), RemovalCause::Replaced)
        ]
    );
}

#[test]
fn removed_by_remove_clear_and_zero_ttl() {
    let (cache, log) = logged(Cache::builder().no_background_expiry());
    cache.insert("a", "1");
    cache.insert("b", "1");
    cache.insert("c", "1");
    assert!(cache.remove("a").is_some());
    assert!(cache.remove("a").is_none());
    cache.insert_with_ttl("b", "2", Duration::ZERO);
    assert!(!cache.contains_key("b"));
    cache.clear();
    assert!(cache.is_empty());
    assert_eq!(
        events(&log),
        [
            (b"a".to_vec(), RemovalCause::Removed),
            (b"b".to_vec(), RemovalCause::Removed),
            (b"c".to_vec(), RemovalCause::Removed)
        ]
    );
}

#[test]
fn expired_when_reclaimed() {
    let clock = ManualClock::new(1_000);
    let (cache, log) = logged(Cache::builder().clock(clock.clone()).no_background_expiry());
    cache.insert_with_ttl("a", "1", Duration::from_millis(10));
    cache.insert_with_ttl("b", "1", Duration::from_millis(10));
    cache.insert("c", "1");
    clock.advance(10);
    assert_eq!(cache.purge_expired(), 2);
    let mut got = events(&log);
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            (b"a".to_vec(), RemovalCause::Expired),
            (b"b".to_vec(), RemovalCause::Expired)
        ]
    );
    // Overwriting an expired key reports its expiry, not a replacement.
    log.lock().clear();
    cache.insert_with_ttl("d", "1", Duration::from_millis(10));
    clock.advance(10);
    cache.insert("d", "2");
    assert_eq!(events(&log), [(b"d".to_vec(), RemovalCause::Expired)]);
}

#[test]
fn expired_by_the_background_thread_without_reads() {
    // The listener's own call is the event waited for.
    let (sender, removals) = std::sync::mpsc::channel();
    let cache = Cache::builder()
        .background_expiry(Duration::from_millis(5), 1_000)
        .listener(move |key, cause| {
            let _ = sender.send((key.to_vec(), cause));
        })
        .build();
    cache.insert_with_ttl("k", "v", Duration::from_millis(1));
    let removal = removals
        .recv_timeout(Duration::from_secs(10))
        .expect("the background thread expires the key without a read");
    assert_eq!(removal, (b"k".to_vec(), RemovalCause::Expired));
    assert_eq!(cache.len(), 0);
    assert!(removals.try_recv().is_err(), "one removal only");
}

#[test]
fn evicted_under_the_memory_bound() {
    let (cache, log) = logged(
        Cache::builder()
            .max_memory(256 << 10)
            .shards(4)
            .no_background_expiry(),
    );
    let inserts = 20_000u32;
    for i in 0..inserts {
        cache.insert(i.to_be_bytes(), [1u8; 100]);
    }
    let got = events(&log);
    assert!(!got.is_empty());
    assert!(got.iter().all(|(_, c)| *c == RemovalCause::Evicted));
    assert_eq!(got.len() + cache.len(), inserts as usize);
    for (key, _) in &got {
        assert!(!cache.contains_key(key));
    }
}

#[test]
fn other_databases_and_non_removals_report_nothing() {
    let (cache, log) = logged(Cache::builder().no_background_expiry());
    let store = cache.store();
    store.incr_by(cache.db(), b"n", 5).unwrap();
    store.incr_by(cache.db(), b"n", 5).unwrap();
    store.hset(cache.db(), b"h", &[(b"f", b"v")]).unwrap();
    assert!(events(&log).is_empty());
    assert_eq!(store.del(cache.db(), &[b"h"]).unwrap(), 1);
    assert_eq!(events(&log), [(b"h".to_vec(), RemovalCause::Removed)]);
}
