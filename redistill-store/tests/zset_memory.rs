//! Memory per member of a large sorted set, against Redis 7.0's figures. In a binary of
//! its own, as it sets the process's allocator model.

#![allow(clippy::unwrap_used)]

use redistill_store::{Store, ZAddOptions};

#[test]
fn a_large_set_costs_less_memory_per_member_than_redis() {
    // Redis 7.0.15 reports `MEMORY USAGE` of 116 bytes per 16-byte member at 1,000
    // members and 118 at 1,000,000 (skiplist plus dict); used_memory grows about as much.
    redistill_store::set_size_classes(redistill_store::SizeClasses::Jemalloc);
    for n in [1_000usize, 100_000] {
        let store = Store::new();
        let names: Vec<String> = (0..n).map(|i| format!("member:{i:09}")).collect();
        let before = store.used_memory();
        for chunk in names.chunks(1000) {
            let args: Vec<(f64, &[u8])> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| (i as f64 * 1.5, m.as_bytes()))
                .collect();
            store.zadd(0, b"z", &args, ZAddOptions::default()).unwrap();
        }
        let per_member = (store.used_memory() - before) / n;
        let usage = store.memory_usage(0, b"z").unwrap().unwrap() / n;
        assert!(per_member <= 116, "{per_member} bytes per member at {n}");
        assert!(usage <= 116, "MEMORY USAGE {usage} bytes per member at {n}");
    }
}
