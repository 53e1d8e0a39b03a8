//! The background expiry thread lives exactly as long as the cache's handles. Alone in
//! its test binary, so no other cache's thread is counted.

use std::time::Duration;

use redistill_cache::{Cache, RemovalCause};

/// Threads of this process named as the store names its expiry thread.
#[cfg(target_os = "linux")]
fn expiry_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        // Linux keeps 15 bytes of a thread name: "redistill-expiry" shows as "redistill-expir".
        .filter(|name| name.trim_end() == "redistill-expir")
        .count()
}

#[cfg(target_os = "linux")]
#[test]
fn the_thread_ends_when_the_last_handle_drops() {
    let (sender, removals) = std::sync::mpsc::channel();
    let cache = Cache::builder()
        .background_expiry(Duration::from_millis(5), 100)
        .listener(move |_, cause| {
            let _ = sender.send(cause);
        })
        .build();
    assert!(cache.has_background_expiry());
    // The thread names itself before its first pass, so once it has expired a key no one
    // reads, it is there under its name.
    cache.insert_with_ttl("k", "v", Duration::from_millis(1));
    assert_eq!(
        removals.recv_timeout(Duration::from_secs(10)),
        Ok(RemovalCause::Expired)
    );
    assert_eq!(expiry_threads(), 1);
    let clone = cache.clone();
    let store = cache.store().clone();
    drop(cache);
    assert_eq!(expiry_threads(), 1, "a handle is left");
    drop(clone);
    // The last handle's drop stops the thread and joins it.
    assert_eq!(expiry_threads(), 0);
    // The store itself outlives the cache for whoever holds it.
    store.set(0, b"k", b"v", Default::default()).unwrap();

    let quiet = Cache::builder().no_background_expiry().build();
    assert!(!quiet.has_background_expiry());
    assert_eq!(expiry_threads(), 0);
}
