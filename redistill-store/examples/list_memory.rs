//! Bytes per list element in a store, from `Store::used_memory`, for the shapes
//! `scripts/collection-memory.py --type list` measures on a Redis server: lists of 10,
//! 1000 and 1,000,000 elements of 10 and 100 bytes (not integers), and 1,000,000 10-digit integers; 1,000,000
//! elements in all per shape, each element pushed on its own. Memory is counted with
//! jemalloc's size classes, the allocator of Redis and of the `redistill` binary.
//!
//! ```text
//! cargo run --release -p redistill-store --example list_memory
//! ```

use redistill_store::{SizeClasses, Store, set_size_classes};

const SHAPES: [(usize, usize, &str); 7] = [
    (10, 10, "str"),
    (10, 100, "str"),
    (1000, 10, "str"),
    (1000, 100, "str"),
    (1_000_000, 10, "str"),
    (1_000_000, 100, "str"),
    (1_000_000, 10, "int"),
];
const TOTAL: usize = 1_000_000;

fn main() -> Result<(), redistill_store::StoreError> {
    set_size_classes(SizeClasses::Jemalloc);
    println!("elements_per_list element_bytes kind bytes_per_element");
    for (n, size, kind) in SHAPES {
        let store = Store::new();
        let before = store.used_memory();
        let pad = vec![b'y'; size - 10];
        for list in 0..TOTAL / n {
            let key = format!("list:{list:08}");
            for i in 1..=n {
                let element = if kind == "int" {
                    (1_000_000_000 + i).to_string().into_bytes()
                } else {
                    let mut e = b"x".to_vec();
                    e.extend_from_slice(&pad);
                    e.extend_from_slice(format!("{i:09}").as_bytes());
                    e
                };
                store.rpush(0, key.as_bytes(), &[&element])?;
            }
        }
        let after = store.used_memory();
        println!(
            "{n} {size} {kind} {:.2}",
            (after - before) as f64 / TOTAL as f64
        );
    }
    Ok(())
}
