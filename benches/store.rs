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
//!
//! With `STORE_BENCH_SCALING=<rounds>[:<filter>]` it instead prints the one-to-two-thread
//! scaling of each case, uniform then Zipf (those whose `dist/op/impl` name contains the
//! filter), from paired rounds: a one-thread run and a two-thread run back to back, the
//! median of the rounds' ratios. On a machine shared with other work this is the figure to
//! trust, not the ratio of two criterion medians taken apart.
//!
//! `STORE_BENCH_KEYS=<n>` sets the number of keys (default 100,000) in every mode.

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

/// Keys in the working set: 100,000, or `STORE_BENCH_KEYS` where set (to put the data in a
/// core's own cache, or far past the shared one). `cargo test` runs each bench once in a
/// debug build, so it gets a smaller default.
fn key_count() -> usize {
    static KEYS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *KEYS.get_or_init(|| match std::env::var("STORE_BENCH_KEYS") {
        Ok(n) => n
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or_else(|| panic!("STORE_BENCH_KEYS wants a positive count, got {n:?}")),
        Err(_) if cfg!(debug_assertions) => 10_000,
        Err(_) => 100_000,
    })
}
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
/// tables hold as many keys as each DashMap they are compared with.
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
    let n = key_count();
    if !zipf {
        return (0..TRACE).map(|_| rng.next() as usize % n).collect();
    }
    let mut cdf = Vec::with_capacity(n);
    let mut sum = 0.0;
    for r in 1..=n {
        sum += 1.0 / (r as f64).powf(0.99);
        cdf.push(sum);
    }
    (0..TRACE)
        .map(|_| {
            let u = rng.unit() * sum;
            // Rank r -> a scattered key, so hot keys do not share a shard by construction.
            let r = cdf.partition_point(|&c| c < u).min(n - 1);
            (r.wrapping_mul(2_654_435_761)) % n
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

/// Runs `op` `ops` times on each of `threads` threads, each over its own slice of the
/// trace, and returns the longest of the threads' own timings.
///
/// Thread `t` is pinned to core `t`, in the one-thread runs as in the two-thread ones, so
/// that a run never pays for the scheduler moving a thread off its warm caches. Each thread
/// starts its clock after a barrier that every thread has reached, so spawning stays out of
/// the figure and the threads' loops overlap from their first operation.
fn run<F: Fn(&[u8; 16]) + Sync>(
    threads: usize,
    ops: u64,
    keys: &[[u8; 16]],
    idx: &[usize],
    op: &F,
) -> Duration {
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, core) = (&barrier, cores.get(t % cores.len().max(1)).copied());
                s.spawn(move || {
                    if let Some(core) = core {
                        core_affinity::set_for_current(core);
                    }
                    let start = t * (TRACE / threads.max(1));
                    THREAD.with(|c| c.set(t));
                    barrier.wait();
                    let began = Instant::now();
                    for n in 0..ops {
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

/// What is done with each (operation, implementation) pair: timed by criterion, or run in
/// paired rounds for the scaling figures.
trait Visit {
    fn case<F: Fn(&[u8; 16]) + Sync>(&mut self, op: &str, imp: &str, keys: &[[u8; 16]], f: F);
}

/// The structures under test, each filled with the same [`key_count()`] keys.
struct Subjects {
    keys: Vec<[u8; 16]>,
    counters: Vec<[u8; 16]>,
    store: Store,
    dash: DashMap<Bytes, Bytes>,
    dash_int: DashMap<Bytes, i64>,
    moka: moka::sync::Cache<Bytes, Bytes>,
}

impl Subjects {
    fn new() -> Self {
        let n = key_count();
        let keys: Vec<[u8; 16]> = (0..n).map(key).collect();
        let counters: Vec<[u8; 16]> = (0..n).map(counter).collect();
        let store = Store::builder().seed(42).build();
        let dash: DashMap<Bytes, Bytes> = DashMap::new();
        let dash_int: DashMap<Bytes, i64> = DashMap::new();
        let moka: moka::sync::Cache<Bytes, Bytes> = moka::sync::Cache::new(n as u64 * 2);
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
        Self {
            keys,
            counters,
            store,
            dash,
            dash_int,
            moka,
        }
    }

    /// Every case, in the order the groups print.
    fn visit(&self, v: &mut impl Visit) {
        let (keys, counters) = (&self.keys, &self.counters);
        let (store, dash, dash_int, moka) = (&self.store, &self.dash, &self.dash_int, &self.moka);
        v.case("get", "store", keys, |k| {
            black_box(store.get_with(0, k, |v| v.len()).ok());
        });
        // The same reads, but each thread in a database of its own, so the threads never
        // touch the same shard: the difference from `store` is what sharing shards (their
        // lock words) between cores costs.
        v.case("get", "store-own-db", keys, |k| {
            let db = OWN_DB_BASE + THREAD.with(Cell::get);
            black_box(store.get_with(db, k, |v| v.len()).ok());
        });
        v.case("get", "dashmap", keys, |k| {
            black_box(dash.get(&k[..]).map(|v| v.len()));
        });
        v.case("get", "moka", keys, |k| {
            black_box(moka.get(&k[..]).map(|v| v.len()));
        });
        v.case("set", "store", keys, |k| {
            black_box(store.set(0, k, &VALUE, SetOptions::default()).ok());
        });
        v.case("set", "dashmap", keys, |k| {
            black_box(dash.insert(Bytes::copy_from_slice(k), Bytes::copy_from_slice(&VALUE)));
        });
        v.case("set", "moka", keys, |k| {
            moka.insert(Bytes::copy_from_slice(k), Bytes::copy_from_slice(&VALUE));
        });
        v.case("incr", "store", counters, |k| {
            black_box(
                store
                    .incr_by(COUNTER_DB, &k[..], 1)
                    .unwrap_or_else(|e| panic!("{e}")),
            );
        });
        v.case("incr", "dashmap", counters, |k| {
            *dash_int.entry(Bytes::copy_from_slice(k)).or_insert(0) += 1;
        });
    }
}

/// Criterion timing: one group per distribution and operation, each implementation's
/// one-thread and two-thread runs side by side (`uniform/set/store/1t`, `.../2t`), so the
/// two runs a scaling figure divides are taken minutes apart at most.
struct Timed<'a> {
    c: &'a mut Criterion,
    dist: &'static str,
    idx: Vec<usize>,
}

impl Visit for Timed<'_> {
    fn case<F: Fn(&[u8; 16]) + Sync>(&mut self, op: &str, imp: &str, keys: &[[u8; 16]], f: F) {
        let mut g = self.c.benchmark_group(format!("{}/{op}", self.dist));
        for threads in [1usize, 2] {
            g.throughput(Throughput::Elements((BATCH * threads) as u64));
            g.bench_function(BenchmarkId::new(imp, format!("{threads}t")), |b| {
                b.iter_custom(|n| run(threads, n * BATCH as u64, keys, &self.idx, &f))
            });
        }
        g.finish();
    }
}

fn bench(c: &mut Criterion) {
    let subjects = Subjects::new();
    for (dist, zipf) in [("uniform", false), ("zipf", true)] {
        let idx = trace(zipf, 7);
        subjects.visit(&mut Timed { c, dist, idx });
    }
}

/// Paired rounds for the scaling figures: each round times a one-thread run and then a
/// two-thread run of the same work per thread, back to back, and the figure is the median
/// of the rounds' ratios. On a machine shared with other work, throughput drifts by tens
/// of percent over minutes; a ratio of two runs a fraction of a second apart does not.
struct Paired {
    /// Only cases whose `dist/op/impl` name contains this.
    filter: String,
    /// The key distribution `idx` follows, for the figures' names.
    dist: &'static str,
    rounds: usize,
    ops: u64,
    idx: Vec<usize>,
}

/// The first quartile, median, third quartile and maximum of `v`.
fn quartiles(mut v: Vec<f64>) -> [f64; 4] {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    [v[n / 4], v[n / 2], v[n * 3 / 4], v[n - 1]]
}

impl Visit for Paired {
    fn case<F: Fn(&[u8; 16]) + Sync>(&mut self, op: &str, imp: &str, keys: &[[u8; 16]], f: F) {
        let name = format!("{}/{op}/{imp}", self.dist);
        if !name.contains(&self.filter) {
            return;
        }
        let rate = |threads: usize| {
            let t = run(threads, self.ops, keys, &self.idx, &f);
            (self.ops * threads as u64) as f64 / t.as_secs_f64()
        };
        let (mut one, mut two, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..self.rounds {
            // Alternate which run goes first, so a drift within a round favours neither.
            let (a, b) = if round % 2 == 0 {
                let a = rate(1);
                (a, rate(2))
            } else {
                let b = rate(2);
                (rate(1), b)
            };
            one.push(a);
            two.push(b);
            ratio.push(b / a);
        }
        let ([_, one, _, best_one], [_, two, _, best_two]) = (quartiles(one), quartiles(two));
        let [lo, ratio, hi, _] = quartiles(ratio);
        println!(
            "{name}: median 1t {:.2} M/s, 2t {:.2} M/s; paired scaling median \
             {ratio:.2}x (quartiles {lo:.2}..{hi:.2}); best 1t {:.2} M/s, 2t {:.2} M/s: {:.2}x",
            one / 1e6,
            two / 1e6,
            best_one / 1e6,
            best_two / 1e6,
            best_two / best_one,
        );
    }
}

/// The time for one cache line to move from core 0 to core 1 and back, in nanoseconds
/// (median of several runs): two pinned threads take turns bumping one counter. Every
/// write one core makes to a line the other core wrote last pays about half of this, so it
/// says how much the shared lines of a lock cost on this machine at this moment; on a
/// virtual machine it changes as the host moves the two cores about.
fn line_round_trip_ns() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    const TURNS: u64 = 200_000;
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let turn = AtomicU64::new(0);
            let began = Instant::now();
            std::thread::scope(|s| {
                for t in 0..2u64 {
                    let (turn, core) = (&turn, cores.get(t as usize).copied());
                    s.spawn(move || {
                        if let Some(core) = core {
                            core_affinity::set_for_current(core);
                        }
                        let mut next = t;
                        while next < 2 * TURNS {
                            if turn.load(Ordering::Acquire) == next {
                                turn.store(next + 1, Ordering::Release);
                                next += 2;
                            } else {
                                std::hint::spin_loop();
                            }
                        }
                    });
                }
            });
            // Each turn is one one-way move; a round trip is two.
            began.elapsed().as_secs_f64() * 1e9 / TURNS as f64
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

/// `STORE_BENCH_SCALING=<rounds>[:<filter>]`: the paired scaling figures on uniform and
/// then Zipf keys, for the cases whose `dist/op/impl` name contains the filter.
fn scaling(spec: &str) {
    let (rounds, filter) = spec.split_once(':').unwrap_or((spec, ""));
    let rounds: usize = rounds.parse().unwrap_or_else(|e| panic!("{rounds:?}: {e}"));
    let ops = if cfg!(debug_assertions) {
        10_000
    } else {
        250_000
    };
    println!(
        "{} keys; a cache line's round trip between cores 0 and 1: {:.0} ns",
        key_count(),
        line_round_trip_ns()
    );
    let mut paired = Paired {
        filter: filter.to_owned(),
        rounds: rounds.max(1),
        dist: "uniform",
        ops,
        idx: trace(false, 7),
    };
    // A control that shares nothing between the threads: arithmetic on the key, about as
    // long as a GET. Its scaling is what the machine gives two independent threads.
    paired.case(
        "control",
        "arithmetic",
        &vec![[1u8; 16]; key_count()],
        |k| {
            let mut x = u64::from(k[0]) | 1;
            for _ in 0..100 {
                x = black_box(x.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(7));
            }
            black_box(x);
        },
    );
    let subjects = Subjects::new();
    for (dist, zipf) in [("uniform", false), ("zipf", true)] {
        paired.dist = dist;
        paired.idx = trace(zipf, 7);
        subjects.visit(&mut paired);
    }
}

/// The fixed-work mode described in the module docs.
fn op_loop(spec: &str) {
    let mut parts = spec.split(':');
    let (Some(op), Some(imp), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("STORE_BENCH_LOOP wants <op>:<impl>:<n>, got {spec:?}");
    };
    let n: usize = n.parse().unwrap_or_else(|e| panic!("{n:?}: {e}"));
    let keys: Vec<[u8; 16]> = (0..key_count()).map(key).collect();
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
    if let Ok(rounds) = std::env::var("STORE_BENCH_SCALING") {
        scaling(&rounds);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
