//! Store throughput next to `DashMap<Bytes, Bytes>` and `moka::sync::Cache`: GET, SET and
//! INCR, on 1 and 2 threads, with uniform and Zipf(0.99) key choice (seeded).
//!
//! `cargo bench --bench store`
//!
//! With `STORE_BENCH_LOOP=<get|set|incr>:<store|dashmap>:<n>` in the environment the binary
//! instead runs `n` operations of the uniform trace on one thread and exits: a fixed amount
//! of work for instruction counts where no hardware counters are available. Run it under
//! `valgrind --tool=cachegrind --cache-sim=no` with `n` and with 0; the difference of the
//! two `I refs` totals divided by `n` is the instructions per operation.

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::cell::Cell;
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use dashmap::DashMap;
use redistill_store::{SetOptions, Store};

/// Keys in the working set; `cargo test` runs each bench once in a debug build, so it gets
/// a smaller one.
const KEYS: usize = if cfg!(debug_assertions) {
    10_000
} else {
    100_000
};
const VALUE: [u8; 64] = [b'v'; 64];
/// Operations per thread per criterion iteration.
const BATCH: usize = 1_000;
const TRACE: usize = if cfg!(debug_assertions) {
    1 << 14
} else {
    1 << 20
};

/// xorshift64*: small, seeded, good enough to pick keys.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn key(i: usize) -> [u8; 16] {
    prefixed(*b"key:000000000000", i)
}

/// The database the counters live in: apart from the GET/SET keys, so that the store's
/// tables hold the same 100,000 keys as each DashMap they are compared with.
const COUNTER_DB: usize = 1;

/// Counter keys, kept apart so INCR never meets the string values SET writes.
fn counter(i: usize) -> [u8; 16] {
    prefixed(*b"ctr:000000000000", i)
}

fn prefixed(mut k: [u8; 16], i: usize) -> [u8; 16] {
    let digits = format!("{i:012}");
    k[4..].copy_from_slice(digits.as_bytes());
    k
}

/// Key indexes: uniform, or Zipf(0.99) by inverting the cumulative distribution.
fn trace(zipf: bool, seed: u64) -> Vec<usize> {
    let mut rng = Rng(seed | 1);
    if !zipf {
        return (0..TRACE).map(|_| rng.next() as usize % KEYS).collect();
    }
    let mut cdf = Vec::with_capacity(KEYS);
    let mut sum = 0.0;
    for r in 1..=KEYS {
        sum += 1.0 / (r as f64).powf(0.99);
        cdf.push(sum);
    }
    (0..TRACE)
        .map(|_| {
            let u = rng.unit() * sum;
            // Rank r -> a scattered key, so hot keys do not share a shard by construction.
            let r = cdf.partition_point(|&c| c < u).min(KEYS - 1);
            (r.wrapping_mul(2_654_435_761)) % KEYS
        })
        .collect()
}

/// The database of the `own-db` variants: each thread reads a copy of the keys in a
/// database of its own.
const OWN_DB_BASE: usize = 2;

thread_local! {
    /// The bench thread's index, for the `own-db` variants.
    static THREAD: Cell<usize> = const { Cell::new(0) };
}

/// Runs `op` on `threads` threads, each doing `iters * BATCH` operations over its own slice
/// of the trace, and returns the longest of the threads' own timings.
///
/// Each thread starts its clock after a barrier that every thread has reached, so thread
/// spawning stays out of the figure and the threads' loops overlap from their first
/// operation.
fn run<F: Fn(&[u8; 16]) + Sync>(
    threads: usize,
    iters: u64,
    keys: &[[u8; 16]],
    idx: &[usize],
    op: F,
) -> Duration {
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (op, barrier) = (&op, &barrier);
                s.spawn(move || {
                    let start = t * (TRACE / threads.max(1));
                    THREAD.with(|c| c.set(t));
                    barrier.wait();
                    let began = Instant::now();
                    for n in 0..iters * BATCH as u64 {
                        op(&keys[idx[(start + n as usize) % TRACE]]);
                    }
                    began.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panic!("bench thread panicked")))
            .max()
            .unwrap_or_default()
    })
}

fn bench(c: &mut Criterion) {
    let keys: Vec<[u8; 16]> = (0..KEYS).map(key).collect();
    let counters: Vec<[u8; 16]> = (0..KEYS).map(counter).collect();
    let store = Store::builder().seed(42).build();
    let dash: DashMap<Bytes, Bytes> = DashMap::new();
    let dash_int: DashMap<Bytes, i64> = DashMap::new();
    let moka: moka::sync::Cache<Bytes, Bytes> = moka::sync::Cache::new(KEYS as u64 * 2);
    for (k, c) in keys.iter().zip(&counters) {
        store
            .set(0, k, &VALUE, SetOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .set(COUNTER_DB, c, b"0", SetOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        for db in [OWN_DB_BASE, OWN_DB_BASE + 1] {
            store
                .set(db, k, &VALUE, SetOptions::default())
                .unwrap_or_else(|e| panic!("{e}"));
        }
        dash.insert(Bytes::copy_from_slice(k), Bytes::copy_from_slice(&VALUE));
        dash_int.insert(Bytes::copy_from_slice(c), 0);
        moka.insert(Bytes::copy_from_slice(k), Bytes::copy_from_slice(&VALUE));
    }
    for (dist, zipf) in [("uniform", false), ("zipf", true)] {
        let idx = trace(zipf, 7);
        for threads in [1usize, 2] {
            let mut g = c.benchmark_group(format!("{dist}/{threads}t"));
            g.throughput(Throughput::Elements((BATCH * threads) as u64));
            g.bench_function(BenchmarkId::new("get", "store"), |b| {
                b.iter_custom(|n| {
                    run(threads, n, &keys, &idx, |k| {
                        black_box(store.get_with(0, k, |v| v.len()).ok());
                    })
                })
            });
            // The same reads, but each thread in a database of its own, so the threads
            // never touch the same shard: the difference from `store` is what sharing
            // shards (their lock words) between cores costs.
            g.bench_function(BenchmarkId::new("get", "store-own-db"), |b| {
                b.iter_custom(|n| {
                    run(threads, n, &keys, &idx, |k| {
                        let db = OWN_DB_BASE + THREAD.with(Cell::get);
                        black_box(store.get_with(db, k, |v| v.len()).ok());
                    })
                })
            });
            g.bench_function(BenchmarkId::new("get", "dashmap"), |b| {
                b.iter_custom(|n| {
                    run(threads, n, &keys, &idx, |k| {
                        black_box(dash.get(&k[..]).map(|v| v.len()));
                    })
                })
            });
            g.bench_function(BenchmarkId::new("get", "moka"), |b| {
                b.iter_custom(|n| {
                    run(threads, n, &keys, &idx, |k| {
                        black_box(moka.get(&k[..]).map(|v| v.len()));
                    })
                })
            });
            g.bench_function(BenchmarkId::new("set", "store"), |b| {
                b.iter_custom(|n| {
                    run(threads, n, &keys, &idx, |k| {
                        black_box(store.set(0, k, &VALUE, SetOptions::default()).ok());
                    })
                })
            });
            g.bench_function(BenchmarkId::new("set", "dashmap"), |b| {
                b.iter_custom(|n| {
                    run(threads, n, &keys, &idx, |k| {
                        black_box(
                            dash.insert(Bytes::copy_from_slice(k), Bytes::copy_from_slice(&VALUE)),
                        );
                    })
                })
            });
            g.bench_function(BenchmarkId::new("set", "moka"), |b| {
                b.iter_custom(|n| {
                    run(threads, n, &keys, &idx, |k| {
                        moka.insert(Bytes::copy_from_slice(k), Bytes::copy_from_slice(&VALUE));
                    })
                })
            });
            g.bench_function(BenchmarkId::new("incr", "store"), |b| {
                b.iter_custom(|n| {
                    run(threads, n, &counters, &idx, |k| {
                        black_box(
                            store
                                .incr_by(COUNTER_DB, &k[..], 1)
                                .unwrap_or_else(|e| panic!("{e}")),
                        );
                    })
                })
            });
            g.bench_function(BenchmarkId::new("incr", "dashmap"), |b| {
                b.iter_custom(|n| {
                    run(threads, n, &counters, &idx, |k| {
                        *dash_int.entry(Bytes::copy_from_slice(k)).or_insert(0) += 1;
                    })
                })
            });
            g.finish();
        }
    }
}

/// The fixed-work mode described in the module docs.
fn op_loop(spec: &str) {
    let mut parts = spec.split(':');
    let (Some(op), Some(imp), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("STORE_BENCH_LOOP wants <op>:<impl>:<n>, got {spec:?}");
    };
    let n: usize = n.parse().unwrap_or_else(|e| panic!("{n:?}: {e}"));
    let keys: Vec<[u8; 16]> = (0..KEYS).map(key).collect();
    let idx = trace(false, 7);
    let at = |i: usize| &keys[idx[i % TRACE]];
    let integers = op == "incr";
    match imp {
        "store" => {
            let store = Store::builder().seed(42).build();
            for k in &keys {
                let v: &[u8] = if integers { b"0" } else { &VALUE };
                store
                    .set(0, k, v, SetOptions::default())
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            match op {
                "get" => (0..n).for_each(|i| {
                    black_box(store.get_with(0, at(i), |v| v.len()).ok());
                }),
                "set" => (0..n).for_each(|i| {
                    black_box(store.set(0, at(i), &VALUE, SetOptions::default()).ok());
                }),
                _ => (0..n).for_each(|i| {
                    black_box(store.incr_by(0, at(i), 1).ok());
                }),
            }
        }
        _ => {
            let dash: DashMap<Bytes, Bytes> = DashMap::new();
            let dash_int: DashMap<Bytes, i64> = DashMap::new();
            for k in &keys {
                if integers {
                    dash_int.insert(Bytes::copy_from_slice(k), 0);
                } else {
                    dash.insert(Bytes::copy_from_slice(k), Bytes::copy_from_slice(&VALUE));
                }
            }
            match op {
                "get" => (0..n).for_each(|i| {
                    black_box(dash.get(&at(i)[..]).map(|v| v.len()));
                }),
                "set" => (0..n).for_each(|i| {
                    let k = Bytes::copy_from_slice(at(i));
                    black_box(dash.insert(k, Bytes::copy_from_slice(&VALUE)));
                }),
                _ => (0..n).for_each(|i| {
                    *dash_int.entry(Bytes::copy_from_slice(at(i))).or_insert(0) += 1;
                }),
            }
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    targets = bench
}

// `criterion_main!`, plus the fixed-work mode.
fn main() {
    if let Ok(spec) = std::env::var("STORE_BENCH_LOOP") {
        op_loop(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
