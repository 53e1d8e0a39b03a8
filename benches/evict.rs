//! Eviction policy costs, in ns per operation: the read path (`on_access`, atomics only)
//! and the miss path (one eviction plus one insert into a full single-shard cache), with
//! exact LRU (a hash map and a linked list) as the peer on the miss path.
//!
//! ```sh
//! cargo bench --bench evict
//! ```

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use redistill_evict::{AccessWord, Evictor, ExactLru, Policy, SimCache, TtlSpec};

const WORDS: usize = 4_096;
const CAPACITY: u64 = 100_000;

fn access(c: &mut Criterion) {
    let mut group = c.benchmark_group("evict/access");
    group.throughput(Throughput::Elements(1));
    for policy in Policy::ALL {
        let evictor = Evictor::new(policy);
        let words: Vec<AccessWord> = (0..WORDS).map(|i| evictor.new_word(i as u64)).collect();
        group.bench_function(BenchmarkId::from_parameter(policy), |b| {
            let mut i = 0usize;
            let mut now = 1_000_000u64;
            b.iter(|| {
                i = (i + 1) & (WORDS - 1);
                now += 1;
                evictor.on_access(black_box(&words[i]), now);
            });
        });
    }
    group.finish();
}

fn miss(c: &mut Criterion) {
    let mut group = c.benchmark_group("evict/miss");
    group.throughput(Throughput::Elements(1));
    let all_volatile = TtlSpec {
        fraction: 1.0,
        ..TtlSpec::default()
    };
    for policy in Policy::ALL.into_iter().filter(|p| p.can_evict()) {
        let mut cache = SimCache::new(policy, CAPACITY, 1).with_ttl(all_volatile);
        for key in 0..CAPACITY {
            cache.request(key, 1);
        }
        let mut next = CAPACITY;
        group.bench_function(BenchmarkId::from_parameter(policy), |b| {
            b.iter(|| {
                next += 1;
                black_box(cache.request(next, 1));
            });
        });
    }
    let mut lru = ExactLru::new(CAPACITY);
    for key in 0..CAPACITY {
        lru.request(key, 1);
    }
    let mut next = CAPACITY;
    group.bench_function("exact-lru (peer)", |b| {
        b.iter(|| {
            next += 1;
            black_box(lru.request(next, 1));
        });
    });
    group.finish();
}

criterion_group!(benches, access, miss);
criterion_main!(benches);
