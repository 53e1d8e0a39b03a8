//! Hit ratios of `redistill-cache` (under each all-keys policy), moka and quick_cache at
//! equal memory, on the trace simulator's synthetic traces (see
//! `redistill-evict/examples/evict_sim.rs`): Zipf 0.6, 0.8, 0.99 and 1.2, and Zipf 1.0
//! with a one-time scan of 1,000 keys after every 4,000 requests.
//!
//! ```sh
//! cargo run --release -p redistill-cache --example hit_ratio
//! cargo run --release -p redistill-cache --example hit_ratio -- --requests 2000000 --objects 200000
//! ```
//!
//! Each request reads its key and, on a miss, inserts it with a 100-byte value
//! (cache-aside). All caches get the same memory: the budget is what redistill-cache's
//! own counter reports for 1% (and 10%) of the keys held under no limit. moka and
//! quick_cache are bounded in entries, so each gets the budget divided by its heap bytes
//! per entry, measured here with a counting allocator (filled to that many entries,
//! bytes requested from the allocator). The table shows the entries each held at the end.

// A counting global allocator needs `unsafe impl GlobalAlloc`; it only forwards to the
// system allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use redistill_cache::{Cache, Policy};

struct Counting;

static HEAP: AtomicIsize = AtomicIsize::new(0);

fn size(layout: Layout) -> isize {
    isize::try_from(layout.size()).unwrap_or(isize::MAX)
}

// SAFETY: every call is forwarded unchanged to `System`; only a counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HEAP.fetch_add(size(layout), Ordering::Relaxed);
        // SAFETY: the caller's contract is `System::alloc`'s.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HEAP.fetch_sub(size(layout), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        HEAP.fetch_add(size(layout), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        HEAP.fetch_add(
            isize::try_from(new_size).unwrap_or(isize::MAX) - size(layout),
            Ordering::Relaxed,
        );
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn heap() -> isize {
    HEAP.load(Ordering::Relaxed)
}

/// Heap bytes per entry of a cache made by `make` for `n` entries and filled with `n`.
fn heap_per_entry<S: Subject>(n: u64, make: impl FnOnce(u64) -> S) -> f64 {
    let before = heap();
    let mut cache = make(n);
    for k in 0..n {
        cache.request(k);
    }
    let held = cache.held().max(1);
    let bytes = heap() - before;
    drop(cache);
    bytes as f64 / held as f64
}
use redistill_evict::sim::{Request, scan_mixed_trace, zipf_trace};

const VALUE: [u8; 100] = [7; 100];

trait Subject {
    /// Reads `key`, inserting it on a miss; true on a hit.
    fn request(&mut self, key: u64) -> bool;
    fn held(&self) -> usize;
}

impl Subject for Cache {
    fn request(&mut self, key: u64) -> bool {
        let k = key.to_be_bytes();
        let hit = self.get_with(k, |_| ()).is_some();
        if !hit {
            self.insert(k, VALUE);
        }
        hit
    }
    fn held(&self) -> usize {
        self.len()
    }
}

impl Subject for moka::sync::Cache<u64, [u8; 100]> {
    fn request(&mut self, key: u64) -> bool {
        let hit = self.get(&key).is_some();
        if !hit {
            self.insert(key, VALUE);
        }
        hit
    }
    fn held(&self) -> usize {
        self.run_pending_tasks();
        usize::try_from(self.entry_count()).unwrap_or(usize::MAX)
    }
}

impl Subject for quick_cache::unsync::Cache<u64, [u8; 100]> {
    fn request(&mut self, key: u64) -> bool {
        let hit = self.get(&key).is_some();
        if !hit {
            self.insert(key, VALUE);
        }
        hit
    }
    fn held(&self) -> usize {
        self.len()
    }
}

/// Bytes redistill-cache takes for `entries` entries of this shape.
fn bytes_for(entries: u64) -> usize {
    let probe = Cache::builder().no_background_expiry().shards(16).build();
    for k in 0..entries {
        probe.insert(k.to_be_bytes(), VALUE);
    }
    probe.memory_used()
}

fn replay(subject: &mut dyn Subject, trace: &[Request]) -> (f64, usize) {
    let hits = trace.iter().filter(|(k, _)| subject.request(*k)).count();
    (hits as f64 * 100.0 / trace.len() as f64, subject.held())
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let requests = usize::try_from(arg(&args, "--requests", 1_000_000)).unwrap_or(1_000_000);
    let objects = arg(&args, "--objects", 100_000);
    let seed = arg(&args, "--seed", 42);
    let traces: Vec<(String, Vec<Request>)> = vec![
        ("Zipf 0.6".into(), zipf_trace(objects, 0.6, requests, seed)),
        ("Zipf 0.8".into(), zipf_trace(objects, 0.8, requests, seed)),
        (
            "Zipf 0.99".into(),
            zipf_trace(objects, 0.99, requests, seed),
        ),
        ("Zipf 1.2".into(), zipf_trace(objects, 1.2, requests, seed)),
        (
            "Zipf 1.0 + scans".into(),
            scan_mixed_trace(objects, 1.0, requests, 4_000, 1_000, seed),
        ),
    ];
    let policies = [
        Policy::AllKeysLfu,
        Policy::AllKeysS3Fifo,
        Policy::AllKeysLru,
    ];
    println!("{requests} requests over {objects} keys; hit % (entries held at the end)\n");
    for (fraction, label) in [(0.01, "1%"), (0.1, "10%")] {
        let n = ((objects as f64 * fraction) as u64).max(1);
        let bytes = bytes_for(n);
        let moka_per = heap_per_entry(n, moka::sync::Cache::<u64, [u8; 100]>::new);
        let quick_per = heap_per_entry(n, |n| {
            quick_cache::unsync::Cache::<u64, [u8; 100]>::new(usize::try_from(n).unwrap_or(1))
        });
        let redistill_per = heap_per_entry(n, |_| {
            Cache::builder().shards(16).no_background_expiry().build()
        });
        let moka_cap = (bytes as f64 / moka_per) as u64;
        let quick_cap = (bytes as f64 / quick_per) as u64;
        println!(
            "#### memory {bytes} bytes: what redistill-cache counts for {n} entries ({label} of the keys)\n"
        );
        println!(
            "heap bytes per entry: redistill-cache {redistill_per:.0}, moka {moka_per:.0} \
             (so {moka_cap} entries), quick_cache {quick_per:.0} (so {quick_cap} entries)\n"
        );
        let mut header = String::from("| trace |");
        for p in policies {
            header.push_str(&format!(" redistill {p} |"));
        }
        header.push_str(" moka | quick_cache |");
        println!("{header}");
        println!("|{}", " --- |".repeat(policies.len() + 3));
        for (name, trace) in &traces {
            let mut row = format!("| {name} |");
            for policy in policies {
                let mut cache = Cache::builder()
                    .max_memory(bytes)
                    .policy(policy)
                    .shards(16)
                    .seed(seed)
                    .no_background_expiry()
                    .build();
                let (ratio, held) = replay(&mut cache, trace);
                row.push_str(&format!(" {ratio:.2} ({held}) |"));
            }
            let mut moka = moka::sync::Cache::new(moka_cap);
            let (ratio, held) = replay(&mut moka, trace);
            row.push_str(&format!(" {ratio:.2} ({held}) |"));
            let mut quick =
                quick_cache::unsync::Cache::new(usize::try_from(quick_cap).unwrap_or(1));
            let (ratio, held) = replay(&mut quick, trace);
            row.push_str(&format!(" {ratio:.2} ({held}) |"));
            println!("{row}");
        }
        println!();
    }
}
