//! Throughput of `redistill-cache` (its default LFU policy, and S3-FIFO) against moka (`moka::sync::Cache`) and quick_cache on
//! the same workloads: Zipf 0.99 over 1M keys, 100-byte values, 90/10 and 50/50 read/write
//! mixes, 1 and 2 threads, all three caches holding the same number of entries (100,000,
//! a tenth of the keys; redistill-cache's byte bound is set to what 100,000 of these
//! entries take in it).
//!
//! ```sh
//! cargo bench -p redistill-cache --bench cache
//! ```
//!
//! Keys are `u64` for moka and quick_cache (their cheapest key type) and the same `u64`'s
//! eight big-endian bytes for redistill-cache. A read that hits returns an owned value:
//! a `Bytes` clone from moka and quick_cache, a `Bytes` copy of the stored bytes from
//! redistill-cache.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use redistill_cache::{Cache, Policy};
use redistill_evict::{SplitMix64, Zipf};

const KEYS: u64 = 1_000_000;
const CAPACITY: u64 = 100_000;
const VALUE_LEN: usize = 100;
const TRACE_LEN: usize = 1 << 20;
const BATCH: u64 = 10_000;

/// One operation: a key and whether it writes.
type Op = (u64, bool);

fn trace(write_pct: u64, seed: u64, zipf: &Zipf) -> Vec<Op> {
    let mut rng = SplitMix64::new(seed);
    (0..TRACE_LEN)
        .map(|_| (zipf.sample(&mut rng), rng.next_u64() % 100 < write_pct))
        .collect()
}

trait Bench: Sync {
    fn read(&self, key: u64) -> bool;
    fn write(&self, key: u64, value: &Bytes);
}

struct Redistill(Cache);
struct Moka(moka::sync::Cache<u64, Bytes>);
struct Quick(quick_cache::sync::Cache<u64, Bytes>);

impl Bench for Redistill {
    fn read(&self, key: u64) -> bool {
        black_box(self.0.get(key.to_be_bytes())).is_some()
    }
    fn write(&self, key: u64, value: &Bytes) {
        self.0.insert(key.to_be_bytes(), value);
    }
}

impl Bench for Moka {
    fn read(&self, key: u64) -> bool {
        black_box(self.0.get(&key)).is_some()
    }
    fn write(&self, key: u64, value: &Bytes) {
        self.0.insert(key, value.clone());
    }
}

impl Bench for Quick {
    fn read(&self, key: u64) -> bool {
        black_box(self.0.get(&key)).is_some()
    }
    fn write(&self, key: u64, value: &Bytes) {
        self.0.insert(key, value.clone());
    }
}

/// redistill-cache's bytes for `CAPACITY` entries of this shape.
fn redistill_bytes_for_capacity() -> usize {
    let probe = Cache::builder().no_background_expiry().build();
    let value = [7u8; VALUE_LEN];
    for k in 0..CAPACITY {
        probe.insert(k.to_be_bytes(), value);
    }
    probe.memory_used()
}

fn fill(cache: &dyn Bench, value: &Bytes) {
    for k in 0..KEYS {
        cache.write(k, value);
    }
}

/// Runs `iters` batches on each of `traces.len()` threads; the time from the start
/// barrier to the last thread's end.
fn run(cache: &dyn Bench, traces: &[Vec<Op>], iters: u64, value: &Bytes) -> Duration {
    let start = Barrier::new(traces.len() + 1);
    std::thread::scope(|s| {
        let workers: Vec<_> = traces
            .iter()
            .map(|trace| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    let mut hits = 0u64;
                    for i in 0..(iters * BATCH) as usize {
                        let (key, write) = trace[i % TRACE_LEN];
                        if write {
                            cache.write(key, value);
                        } else {
                            hits += u64::from(cache.read(key));
                        }
                    }
                    black_box(hits);
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        for w in workers {
            let _ = w.join();
        }
        t0.elapsed()
    })
}

fn throughput(c: &mut Criterion) {
    let zipf = Zipf::new(KEYS, 0.99);
    let value = Bytes::from(vec![1u8; VALUE_LEN]);
    let bytes = redistill_bytes_for_capacity();
    eprintln!(
        "redistill-cache: {CAPACITY} entries take {bytes} bytes ({} per entry)",
        bytes / CAPACITY as usize
    );
    let redistill = Redistill(Cache::builder().max_memory(bytes).build());
    let s3fifo = Redistill(
        Cache::builder()
            .max_memory(bytes)
            .policy(Policy::AllKeysS3Fifo)
            .build(),
    );
    let moka = Moka(moka::sync::Cache::new(CAPACITY));
    let quick = Quick(quick_cache::sync::Cache::new(CAPACITY as usize));
    let caches: [(&str, &dyn Bench); 4] = [
        ("redistill", &redistill),
        ("redistill_s3fifo", &s3fifo),
        ("moka", &moka),
        ("quick_cache", &quick),
    ];
    for (_, cache) in caches {
        fill(cache, &value);
    }
    for (label, write_pct) in [("read_90", 10), ("write_50", 50)] {
        let traces: Vec<Vec<Op>> = (0..2).map(|t| trace(write_pct, 11 + t, &zipf)).collect();
        for threads in [1usize, 2] {
            let mut group = c.benchmark_group(format!("cache/{label}/{threads}t"));
            group.sample_size(10);
            group.warm_up_time(Duration::from_secs(1));
            group.measurement_time(Duration::from_secs(3));
            group.throughput(Throughput::Elements(BATCH * threads as u64));
            for (name, cache) in caches {
                group.bench_function(BenchmarkId::from_parameter(name), |b| {
                    b.iter_custom(|iters| run(cache, &traces[..threads], iters, &value));
                });
            }
            group.finish();
        }
    }
    eprintln!(
        "entries held: redistill {} ({} bytes of {bytes}), redistill_s3fifo {}, moka {}, quick_cache {}",
        redistill.0.len(),
        redistill.0.memory_used(),
        s3fifo.0.len(),
        moka.0.entry_count(),
        quick.0.len()
    );
}

criterion_group!(benches, throughput);
criterion_main!(benches);
