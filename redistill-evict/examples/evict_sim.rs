//! Replays cache traces through every eviction policy and an exact LRU reference, and
//! prints hit and miss ratios at cache sizes of 0.1%, 1% and 10% of each trace's
//! footprint (the summed size of its distinct keys; with unit sizes, its distinct keys).
//!
//! ```sh
//! cargo run --release -p redistill-evict --example evict_sim
//! cargo run --release -p redistill-evict --example evict_sim -- --requests 2000000 --objects 200000 --seed 7
//! cargo run --release -p redistill-evict --example evict_sim -- --trace my.trace   # "key [size]" per line
//! ```
//!
//! Synthetic traces: Zipf with alpha 0.6, 0.8, 1.0 and 1.2 over `--objects` unit-size keys,
//! and Zipf 1.0 where every 4,000 requests are followed by a scan of 1,000 keys that are
//! requested once. Volatile policies: `--ttl-fraction` of the keys (by key hash, default
//! 0.5) have a TTL of one to two hours, longer than the trace, so nothing expires; misses
//! those policies cannot make room for count as misses (the server would reply OOM).
//! `--shards N` splits the policies' caches into N shards by key hash; each eviction draws
//! two shards and takes the better-ranked victim of the two (the fuller shard's, for
//! policies that do not rank), as the store does. Exact LRU stays one list.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use redistill_evict::sim::{self, Request};
use redistill_evict::{ExactLru, Policy, SimCache, SimStats, TtlSpec};

const SIZES: [(f64, &str); 3] = [(0.001, "0.1%"), (0.01, "1%"), (0.1, "10%")];

#[derive(Clone, Copy)]
enum Row {
    ExactLru,
    Policy(Policy, u32),
}

impl Row {
    fn label(self) -> String {
        match self {
            Row::ExactLru => "exact LRU (reference)".into(),
            Row::Policy(p, 5) => p.to_string(),
            Row::Policy(p, samples) => format!("{p} ({samples} samples)"),
        }
    }
}

struct Options {
    requests: usize,
    objects: u64,
    seed: u64,
    ttl_fraction: f64,
    threads: usize,
    shards: usize,
    traces: Vec<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        requests: 1_000_000,
        objects: 100_000,
        seed: 42,
        ttl_fraction: 0.5,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        shards: 1,
        traces: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let bad = |e: &dyn std::fmt::Display| format!("{flag}: {e}");
        match flag.as_str() {
            "--requests" => o.requests = value()?.parse().map_err(|e| bad(&e))?,
            "--objects" => o.objects = value()?.parse().map_err(|e| bad(&e))?,
            "--seed" => o.seed = value()?.parse().map_err(|e| bad(&e))?,
            "--ttl-fraction" => o.ttl_fraction = value()?.parse().map_err(|e| bad(&e))?,
            "--threads" => o.threads = value()?.parse().map_err(|e| bad(&e))?,
            "--shards" => o.shards = value()?.parse().map_err(|e| bad(&e))?,
            "--trace" => o.traces.push(value()?),
            "-h" | "--help" => {
                return Err("usage: evict_sim [--requests N] [--objects N] [--seed S] \
                            [--ttl-fraction F] [--threads N] [--shards N] [--trace FILE]..."
                    .into());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

fn run(row: Row, trace: &[Request], capacity: u64, o: &Options, ttl: TtlSpec) -> SimStats {
    match row {
        Row::ExactLru => {
            let mut lru = ExactLru::new(capacity);
            for &(key, size) in trace {
                lru.request(key, size);
            }
            lru.stats()
        }
        Row::Policy(policy, samples) => {
            let mut cache = SimCache::with_shards(policy, capacity, o.shards, o.seed).with_ttl(ttl);
            if cache.evictor().set_samples(i64::from(samples)).is_err() {
                return SimStats::default();
            }
            for &(key, size) in trace {
                cache.request(key, size);
            }
            cache.stats()
        }
    }
}

fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let ttl = TtlSpec {
        fraction: o.ttl_fraction,
        ..TtlSpec::default()
    };
    let rows = [
        Row::ExactLru,
        Row::Policy(Policy::AllKeysLru, 5),
        Row::Policy(Policy::AllKeysLru, 10),
        Row::Policy(Policy::AllKeysLfu, 5),
        Row::Policy(Policy::AllKeysRandom, 5),
        Row::Policy(Policy::AllKeysS3Fifo, 5),
        Row::Policy(Policy::VolatileLru, 5),
        Row::Policy(Policy::VolatileLfu, 5),
        Row::Policy(Policy::VolatileRandom, 5),
        Row::Policy(Policy::VolatileTtl, 5),
        Row::Policy(Policy::NoEviction, 5),
    ];

    let mut traces: Vec<(String, Vec<Request>)> = Vec::new();
    if o.traces.is_empty() {
        for (i, alpha) in [0.6, 0.8, 1.0, 1.2].into_iter().enumerate() {
            let t = sim::zipf_trace(o.objects, alpha, o.requests, o.seed + i as u64);
            traces.push((format!("Zipf {alpha:.1}"), t));
        }
        let t = sim::scan_mixed_trace(o.objects, 1.0, o.requests, 4_000, 1_000, o.seed + 9);
        traces.push((
            "Zipf 1.0 + one-time scans (1,000 keys after every 4,000 requests)".into(),
            t,
        ));
    }
    for path in &o.traces {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        };
        match sim::parse_trace(&text) {
            Ok(t) => traces.push((path.clone(), t)),
            Err((line, text)) => {
                eprintln!("{path}:{line}: bad line {text:?}");
                std::process::exit(1);
            }
        }
    }

    let started = Instant::now();
    println!(
        "requests per synthetic trace: {}, objects: {}, seed: {}, keys with a TTL: {:.0}%, \
         shards: {}",
        o.requests,
        o.objects,
        o.seed,
        o.ttl_fraction * 100.0,
        o.shards
    );
    for (name, trace) in &traces {
        let footprint = sim::footprint(trace);
        let jobs: Vec<(usize, usize)> = (0..rows.len())
            .flat_map(|r| (0..SIZES.len()).map(move |s| (r, s)))
            .collect();
        let results: Vec<std::sync::Mutex<SimStats>> = jobs
            .iter()
            .map(|_| std::sync::Mutex::new(SimStats::default()))
            .collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..o.threads.max(1) {
                scope.spawn(|| {
                    loop {
                        let j = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(r, s)) = jobs.get(j) else { break };
                        let capacity = ((footprint as f64 * SIZES[s].0).round() as u64).max(1);
                        let stats = run(rows[r], trace, capacity, &o, ttl);
                        if let Ok(mut slot) = results[j].lock() {
                            *slot = stats;
                        }
                    }
                });
            }
        });
        let stats = |r: usize, s: usize| -> SimStats {
            results[r * SIZES.len() + s]
                .lock()
                .map(|g| *g)
                .unwrap_or_default()
        };

        println!();
        println!(
            "### {name}: {} requests, footprint {footprint}",
            trace.len()
        );
        println!();
        println!("hit % / miss % at cache sizes relative to the footprint");
        println!();
        print!("| policy |");
        for (frac, label) in SIZES {
            let capacity = ((footprint as f64 * frac).round() as u64).max(1);
            print!(" {label} ({capacity}) |");
        }
        println!();
        println!("| --- |{}", " --- |".repeat(SIZES.len()));
        for (r, row) in rows.iter().enumerate() {
            print!("| {} |", row.label());
            for s in 0..SIZES.len() {
                let st = stats(r, s);
                print!(
                    " {:.2} / {:.2} |",
                    st.hit_ratio() * 100.0,
                    st.miss_ratio() * 100.0
                );
            }
            println!();
        }
        let lru10 = rows
            .iter()
            .position(|r| matches!(r, Row::Policy(Policy::AllKeysLru, 10)));
        let s3 = rows
            .iter()
            .position(|r| matches!(r, Row::Policy(Policy::AllKeysS3Fifo, _)));
        if let (Some(l), Some(f)) = (lru10, s3) {
            println!();
            for (s, (_, label)) in SIZES.iter().enumerate() {
                let exact = stats(0, s).miss_ratio() * 100.0;
                println!(
                    "- {label}: allkeys-lru (10 samples) miss - exact LRU miss = {:+.2} pp; \
                     allkeys-s3fifo miss - exact LRU miss = {:+.2} pp",
                    stats(l, s).miss_ratio() * 100.0 - exact,
                    stats(f, s).miss_ratio() * 100.0 - exact,
                );
            }
        }
    }
    eprintln!("simulated in {:.1} s", started.elapsed().as_secs_f64());
}
