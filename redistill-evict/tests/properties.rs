//! Property tests of each policy's invariants, driven through the same traits a store uses.

use std::cell::RefCell;

use proptest::prelude::*;
use redistill_evict::sim::{self, zipf_trace};
use redistill_evict::{
    AccessWord, EntryRef, EvictError, Evictor, ExactLru, Keyspace, Outcome, Policy, SampleFrom,
    ShardState, SimCache, SimKeyspace, lfu,
};

/// A keyspace that records every key it hands out as a sample.
struct Recording<'a> {
    inner: &'a SimKeyspace,
    sampled: RefCell<Vec<u64>>,
}

impl Keyspace<u64> for Recording<'_> {
    fn key_count(&self) -> usize {
        self.inner.key_count()
    }
    fn volatile_count(&self) -> usize {
        self.inner.volatile_count()
    }
    fn sample(&self, from: SampleFrom, rand: u64) -> Option<(&u64, EntryRef<'_>)> {
        let got = self.inner.sample(from, rand);
        if let Some((k, _)) = got {
            self.sampled.borrow_mut().push(*k);
        }
        got
    }
    fn lookup(&self, key: &u64) -> Option<EntryRef<'_>> {
        self.inner.lookup(key)
    }
    fn key_hash(&self, key: &u64) -> u64 {
        self.inner.key_hash(key)
    }
    fn lookup_hashed(&self, hash: u64, accept: &dyn Fn(u32) -> bool) -> Option<EntryRef<'_>> {
        self.inner.lookup_hashed(hash, accept)
    }
    fn key_hashed(&self, hash: u64, accept: &dyn Fn(u32) -> bool) -> Option<u64> {
        self.inner.key_hashed(hash, accept)
    }
}

fn flip_case(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn policy_names_round_trip_in_any_case(i in 0..Policy::ALL.len(), mask: u64) {
        let p = Policy::ALL[i];
        prop_assert_eq!(p.to_string(), p.name());
        prop_assert_eq!(flip_case(p.name(), mask).parse::<Policy>(), Ok(p));
    }

    #[test]
    fn unknown_policy_names_are_rejected(name in "[a-zA-Z-]{0,20}") {
        let known = Policy::ALL.iter().any(|p| p.name().eq_ignore_ascii_case(&name));
        prop_assume!(!known);
        prop_assert_eq!(name.parse::<Policy>(), Err(EvictError::UnknownPolicy { name: name.clone() }));
    }

    #[test]
    fn settings_accept_exactly_redis_ranges(v in prop_oneof![any::<i64>(), -3i64..3, (i32::MAX as i64 - 2)..(i32::MAX as i64 + 2)]) {
        let e = Evictor::new(Policy::AllKeysLru);
        prop_assert_eq!(e.set_samples(v).is_ok(), (1..=i64::from(i32::MAX)).contains(&v));
        prop_assert_eq!(e.set_lfu_log_factor(v).is_ok(), (0..=i64::from(i32::MAX)).contains(&v));
        prop_assert_eq!(e.set_lfu_decay_time(v).is_ok(), (0..=i64::from(i32::MAX)).contains(&v));
    }

    #[test]
    fn lfu_log_incr_adds_at_most_one_and_saturates(c: u8, factor in 0u32..1000, r in 0.0f64..1.0) {
        let next = lfu::log_incr(c, factor, r);
        prop_assert!(next == c || u16::from(next) == u16::from(c) + 1);
        if c == u8::MAX {
            prop_assert_eq!(next, u8::MAX);
        }
        // Redis's probability: 1 / ((c - LFU_INIT_VAL) * factor + 1), certain up to the init value.
        let base = (f64::from(c) - f64::from(lfu::INIT_VAL)).max(0.0);
        let expect_incr = c < u8::MAX && r < 1.0 / (base * f64::from(factor) + 1.0);
        prop_assert_eq!(next > c, expect_incr);
    }

    #[test]
    fn lfu_decays_one_step_per_decay_period(c: u8, t0 in 0u64..(1 << 40), minutes in 0u64..65_000, decay in 0u32..100) {
        let word = lfu::pack(c, t0);
        let now = t0 + minutes * 60_000;
        let elapsed = u64::from(lfu::elapsed(lfu::minutes(t0), lfu::minutes(now)));
        // Redis's LFUTimeElapsed counts 65535, not 65536, minutes per lap of the 16-bit clock.
        let wrapped = u64::from(lfu::minutes(t0)) + minutes > 65_535;
        let minutes = if wrapped { minutes - 1 } else { minutes };
        prop_assert_eq!(elapsed, minutes);
        let expected = if decay == 0 { c } else {
            u8::try_from(u64::from(c).saturating_sub(minutes / u64::from(decay))).unwrap()
        };
        prop_assert_eq!(lfu::decr_and_return(word, now, decay), expected);
    }

    #[test]
    fn lfu_counter_is_monotone_under_accesses(draws in proptest::collection::vec(any::<u64>(), 1..600), factor in 0i64..20) {
        let e = Evictor::new(Policy::AllKeysLfu);
        e.set_lfu_log_factor(factor).unwrap();
        let word = e.new_word(0);
        prop_assert_eq!(e.lfu_frequency(&word, 0), lfu::INIT_VAL);
        let mut last = lfu::INIT_VAL;
        for r in draws {
            e.on_access_with_random(&word, 1_000, r);
            let c = e.lfu_frequency(&word, 1_000);
            prop_assert!(c >= last);
            last = c;
        }
        if factor == 0 {
            // With no damping every hit counts, up to the 255 ceiling.
            e.set_lfu_log_factor(0).unwrap();
            for _ in 0..300 { e.on_access(&word, 1_000); }
            prop_assert_eq!(e.lfu_frequency(&word, 1_000), 255);
        }
    }

    #[test]
    fn sampled_policies_evict_the_best_of_their_sample(
        entries in proptest::collection::vec((0u64..1_000_000, any::<u8>(), 1u64..1_000_000), 1..60),
        samples in 1i64..20,
        which in 0usize..3,
        seed: u64,
    ) {
        let policy = [Policy::AllKeysLru, Policy::AllKeysLfu, Policy::VolatileTtl][which];
        let e = Evictor::new(policy);
        e.set_samples(samples).unwrap();
        let now = 2_000_000u64;
        let mut keys = SimKeyspace::new();
        for (i, &(t, c, ttl)) in entries.iter().enumerate() {
            let word = match policy {
                Policy::AllKeysLfu => AccessWord::new(lfu::pack(c, now)),
                _ => AccessWord::new(t as u32),
            };
            keys.insert(i as u64, 1, word, Some(now + ttl));
        }
        let rec = Recording { inner: &keys, sampled: RefCell::new(Vec::new()) };
        let mut shard = ShardState::with_seed(seed);
        let victim = e.evict(&mut shard, &rec, now).unwrap();
        let sampled = rec.sampled.borrow();
        prop_assert!(sampled.contains(&victim));
        let score = |k: u64| -> u64 {
            let (t, c, ttl) = entries[k as usize];
            match policy {
                Policy::AllKeysLru => now - t,
                Policy::AllKeysLfu => 255 - u64::from(c),
                _ => u64::MAX - (now + ttl),
            }
        };
        for &k in sampled.iter() {
            prop_assert!(score(victim) >= score(k), "victim {} (score {}) but sampled {} (score {})", victim, score(victim), k, score(k));
        }
    }

    #[test]
    fn volatile_policies_only_evict_keys_with_a_ttl(
        ttls in proptest::collection::vec(proptest::option::of(1u64..1_000_000), 0..80),
        which in 0usize..4,
        seed: u64,
    ) {
        let policy = [Policy::VolatileLru, Policy::VolatileLfu, Policy::VolatileRandom, Policy::VolatileTtl][which];
        let e = Evictor::new(policy);
        let mut shard = ShardState::with_seed(seed);
        let mut keys = SimKeyspace::new();
        for (i, ttl) in ttls.iter().enumerate() {
            let word = e.on_insert(&mut shard, &keys, &(i as u64), 1, i as u64);
            keys.insert(i as u64, 1, word, *ttl);
        }
        let volatile = ttls.iter().filter(|t| t.is_some()).count();
        let mut evicted = 0;
        while let Some(victim) = e.evict(&mut shard, &keys, 5_000) {
            prop_assert!(ttls[victim as usize].is_some());
            keys.remove(victim);
            evicted += 1;
            prop_assert!(evicted <= volatile);
        }
        // Only "no volatile key left" may stop a volatile policy.
        prop_assert_eq!(evicted, volatile);
        prop_assert_eq!(keys.key_count(), ttls.len() - volatile);
    }

    #[test]
    fn noeviction_never_evicts(ops in proptest::collection::vec((0u64..100, 1u64..5), 1..300), capacity in 1u64..50) {
        let mut cache = SimCache::new(Policy::NoEviction, capacity, 1);
        for (key, size) in ops {
            cache.request(key, size);
            prop_assert!(cache.used() <= capacity);
        }
        prop_assert_eq!(cache.stats().evictions, 0);
        let mut shard = ShardState::with_seed(0);
        prop_assert_eq!(cache.evictor().evict(&mut shard, cache.keys(), 0), None);
    }

    #[test]
    fn every_evicting_policy_respects_the_byte_budget(
        ops in proptest::collection::vec((0u64..300, 1u64..8, any::<bool>()), 1..400),
        capacity in 1u64..120,
        which in 0usize..Policy::ALL.len(),
    ) {
        let policy = Policy::ALL[which];
        let mut cache = SimCache::new(policy, capacity, 9);
        for (key, size, delete) in ops {
            if delete {
                cache.delete(key);
            } else {
                let outcome = cache.request(key, size);
                if outcome == Outcome::Rejected && !policy.is_volatile() && policy.can_evict() {
                    prop_assert!(size > capacity, "{policy} rejected a fitting object");
                }
            }
            prop_assert!(cache.used() <= capacity);
            prop_assert!(cache.shard().check_invariants().is_ok(), "{:?}", cache.shard().check_invariants());
        }
    }

    #[test]
    fn sharded_caches_keep_the_budget_and_evict_across_shards(
        ops in proptest::collection::vec((0u64..500, 1u64..6), 1..400),
        capacity in 1u64..100,
        shards in 1usize..9,
        which in 0usize..Policy::ALL.len(),
    ) {
        let policy = Policy::ALL[which];
        let mut cache = SimCache::with_shards(policy, capacity, shards, 4)
            .with_ttl(redistill_evict::TtlSpec { fraction: 1.0, min_ms: 1_000_000 });
        for (key, size) in ops {
            let outcome = cache.request(key, size);
            prop_assert!(cache.used() <= capacity);
            // Every key has a TTL here, so only noeviction (or an object larger than the
            // whole cache) may be refused: a shard with nothing to give is skipped.
            if outcome == Outcome::Rejected {
                prop_assert!(!policy.can_evict() || size > capacity);
            } else {
                prop_assert!(cache.contains(key));
            }
        }
        let held: usize = (0..cache.shard_count())
            .filter_map(|i| cache.shard_at(i))
            .map(|(keys, state)| {
                assert!(state.check_invariants().is_ok());
                keys.key_count()
            })
            .sum();
        prop_assert!(held as u64 <= capacity);
    }

    #[test]
    fn s3fifo_queues_hold_each_live_key_once_and_stay_bounded(
        ops in proptest::collection::vec((0u64..300, 1u64..8, 0u8..10), 1..500),
        capacity in 1u64..150,
    ) {
        let mut cache = SimCache::new(Policy::AllKeysS3Fifo, capacity, 3);
        for (key, size, op) in ops {
            match op {
                0 => { cache.delete(key); }
                1 => { cache.insert(key, size); }
                _ => { cache.request(key, size); }
            }
            let shard = cache.shard();
            prop_assert!(shard.check_invariants().is_ok(), "{:?}", shard.check_invariants());
            let (small, main) = shard.s3fifo_live_counts(cache.keys());
            prop_assert_eq!(small + main, cache.keys().key_count());
            let stats = shard.s3fifo_stats();
            prop_assert!(stats.ghost_len <= stats.main_len.max(64));
            prop_assert!(stats.small_len + stats.main_len <= 2 * cache.keys().key_count() + 65);
            prop_assert!(cache.used() <= capacity);
        }
    }

    #[test]
    fn s3fifo_ghost_hit_is_reinserted_into_main(capacity in 2u64..60) {
        let mut cache = SimCache::new(Policy::AllKeysS3Fifo, capacity, 5);
        for key in 0..capacity {
            prop_assert_eq!(cache.request(key, 1), Outcome::Miss);
        }
        // Key 0 is the oldest and was never read: the next insert evicts it into the ghost.
        cache.request(capacity, 1);
        prop_assert!(!cache.keys().contains(0));
        let before = cache.shard().s3fifo_stats();
        prop_assert!(before.ghost_len >= 1);
        prop_assert_eq!(before.main_len, 0);
        prop_assert_eq!(cache.request(0, 1), Outcome::Miss);
        let (_, main_live) = cache.shard().s3fifo_live_counts(cache.keys());
        prop_assert_eq!(main_live, 1);
        prop_assert!(cache.keys().contains(0));
    }

    #[test]
    fn s3fifo_keys_read_twice_survive_a_pass_of_the_small_queue(capacity in 3u64..60, hot in 0u64..3) {
        let mut cache = SimCache::new(Policy::AllKeysS3Fifo, capacity, 5);
        for key in 0..capacity {
            cache.request(key, 1);
        }
        cache.request(hot, 1);
        cache.request(hot, 1);
        // A scan of new keys as large as the cache pushes everything else out.
        for key in 1_000..1_000 + capacity {
            cache.request(key, 1);
        }
        prop_assert!(cache.keys().contains(hot));
    }
}

#[test]
fn s3fifo_compacts_queues_of_deleted_keys() {
    let mut cache = SimCache::new(Policy::AllKeysS3Fifo, u64::MAX, 1);
    for key in 0..10_000 {
        cache.request(key, 1);
        cache.delete(key);
    }
    let stats = cache.shard().s3fifo_stats();
    assert!(stats.small_len + stats.main_len <= 65, "{stats:?}");
}

#[test]
fn switching_policy_drops_the_old_state_and_keeps_evicting() {
    let mut cache = SimCache::new(Policy::AllKeysS3Fifo, 50, 1);
    for key in 0..50 {
        cache.request(key, 1);
    }
    cache.evictor().set_policy(Policy::AllKeysLru);
    cache.request(100, 1);
    assert_eq!(cache.shard().s3fifo_stats().small_len, 0);
    // Back to S3-FIFO: the keys it never queued are still evictable (at random).
    cache.evictor().set_policy(Policy::AllKeysS3Fifo);
    for key in 200..300 {
        assert_eq!(cache.request(key, 1), Outcome::Miss);
    }
    assert!(cache.used() <= 50);
}

#[test]
fn simulation_is_reproducible() {
    let trace = zipf_trace(2_000, 1.0, 20_000, 3);
    let run = || {
        let mut c = SimCache::new(Policy::AllKeysLfu, 100, 11);
        for &(k, s) in &trace {
            c.request(k, s);
        }
        c.stats()
    };
    assert_eq!(run(), run());
}

fn miss_ratio(policy: Option<(Policy, i64)>, trace: &[(u64, u64)], capacity: u64) -> f64 {
    match policy {
        None => {
            let mut lru = ExactLru::new(capacity);
            for &(k, s) in trace {
                lru.request(k, s);
            }
            lru.stats().miss_ratio()
        }
        Some((p, samples)) => {
            let mut c = SimCache::new(p, capacity, 1);
            c.evictor()
                .set_samples(samples)
                .expect("a valid sample count");
            for &(k, s) in trace {
                c.request(k, s);
            }
            c.stats().miss_ratio()
        }
    }
}

#[test]
fn s3fifo_misses_less_than_exact_lru_on_skewed_and_scanned_traces() {
    let zipf = zipf_trace(10_000, 1.0, 100_000, 1);
    let scans = sim::scan_mixed_trace(10_000, 1.0, 100_000, 4_000, 1_000, 2);
    for trace in [&zipf, &scans] {
        let capacity = sim::footprint(trace) / 100;
        let lru = miss_ratio(None, trace, capacity);
        let s3 = miss_ratio(Some((Policy::AllKeysS3Fifo, 5)), trace, capacity);
        assert!(s3 < lru, "s3fifo {s3} vs exact LRU {lru}");
    }
}

#[test]
fn sampled_lru_at_ten_samples_is_within_a_point_of_exact_lru() {
    let trace = zipf_trace(10_000, 0.8, 100_000, 4);
    let capacity = sim::footprint(&trace) / 10;
    let exact = miss_ratio(None, &trace, capacity);
    let sampled = miss_ratio(Some((Policy::AllKeysLru, 10)), &trace, capacity);
    assert!(
        (sampled - exact).abs() < 0.01,
        "sampled {sampled} vs exact {exact}"
    );
}
