//! Memory limit and eviction: the limit holds under every policy from several threads,
//! popular keys survive under the popularity-aware policies, and the policies that may not
//! evict refuse writes with OutOfMemory while reads and deletes keep working.

use redistill_store::{Expiry, ManualClock, Policy, SetOptions, Store, StoreError};

const VALUE: [u8; 100] = [7; 100];

fn ttl() -> SetOptions {
    SetOptions {
        expiry: Some(Expiry::Ex(3600)),
        ..SetOptions::default()
    }
}

/// A one-database store with no limit yet, and the bytes it uses while empty.
fn store(policy: Policy, clock: &ManualClock) -> (Store, usize) {
    with_databases(1, policy, clock)
}

/// A store with Redis's 16 databases, only the first of them used: the layout a server
/// has, in which an eviction must still spread over the shards that hold keys.
fn server_layout(policy: Policy, clock: &ManualClock) -> (Store, usize) {
    with_databases(16, policy, clock)
}

fn with_databases(databases: usize, policy: Policy, clock: &ManualClock) -> (Store, usize) {
    let store = Store::builder()
        .databases(databases)
        .shards(8)
        .eviction_policy(policy)
        .lfu_decay_time(0)
        .clock(clock.clone())
        .seed(11)
        .build();
    let base = store.used_memory();
    (store, base)
}

const WRITERS: usize = 4;

#[test]
fn limit_holds_under_every_evicting_policy_from_several_threads() {
    let clock = ManualClock::new(1_000_000);
    for policy in Policy::ALL.into_iter().filter(|p| p.can_evict()) {
        let (store, base) = server_layout(policy, &clock);
        let max = base + 200_000;
        store.set_max_memory(max);
        // Each write returns with usage over the limit by at most its own growth; the
        // other writers' writes may each be in flight, not yet back under it.
        let slack = WRITERS * (ONE_ENTRY + ARRAY_STEP);
        std::thread::scope(|s| {
            for t in 0..WRITERS {
                let store = store.clone();
                s.spawn(move || {
                    for i in 0..1500u32 {
                        let key = format!("{t}:{i}");
                        let opts = if policy.is_volatile() {
                            ttl()
                        } else {
                            SetOptions::default()
                        };
                        store.set(0, key.as_bytes(), &VALUE, opts).unwrap();
                        let used = store.used_memory();
                        assert!(used <= max + slack, "{policy}: {used} > {max} + {slack}");
                    }
                });
            }
        });
        let stats = store.stats();
        assert!(stats.evicted_keys > 4000, "{policy}: {stats:?}");
        assert!(
            store.used_memory() <= max + ONE_ENTRY + ARRAY_STEP,
            "{policy}"
        );
    }
}

/// One writer, every policy that evicts: after each write, usage is over the limit by at
/// most that write's entry (and a growth step of its shard's arrays).
#[test]
fn each_write_overshoots_the_limit_by_at_most_its_own_entry() {
    for policy in Policy::ALL.into_iter().filter(|p| p.can_evict()) {
        let clock = ManualClock::new(1_000_000);
        let (store, base) = server_layout(policy, &clock);
        let max = base + 200_000;
        store.set_max_memory(max);
        for i in 0..3000 {
            clock.advance(10);
            let opts = if policy.is_volatile() {
                ttl()
            } else {
                SetOptions::default()
            };
            store.set(0, long_key(i).as_bytes(), &VALUE, opts).unwrap();
            let used = store.used_memory();
            assert!(
                used <= max + ONE_ENTRY + ARRAY_STEP,
                "{policy}, write {i}: {used} > {max} + {ONE_ENTRY} + {ARRAY_STEP}"
            );
        }
        assert!(store.stats().evicted_keys > 2000, "{policy}");
    }
}

/// Writes a stream of one-time keys from several threads while each also reads the 50
/// popular keys in turn; returns how many popular keys are still present at the end.
fn popular_keys_kept(policy: Policy) -> usize {
    let clock = ManualClock::new(1_000_000);
    let (store, base) = server_layout(policy, &clock);
    store.set_max_memory(base + 150_000);
    let hot: Vec<String> = (0..50).map(|i| format!("hot:{i}")).collect();
    for key in &hot {
        store
            .set(0, key.as_bytes(), &VALUE, SetOptions::default())
            .expect("store op");
    }
    std::thread::scope(|s| {
        for t in 0..WRITERS {
            let (store, clock, hot) = (store.clone(), clock.clone(), &hot);
            s.spawn(move || {
                for i in 0..1500usize {
                    clock.advance(250);
                    let key = format!("cold:{t}:{i}");
                    store
                        .set(0, key.as_bytes(), &VALUE, SetOptions::default())
                        .expect("store op");
                    store
                        .get(0, hot[(i + t * 13) % hot.len()].as_bytes())
                        .expect("store op");
                }
            });
        }
    });
    assert!(store.stats().evicted_keys > 4000, "{policy}");
    hot.iter()
        .filter(|k| store.exists(0, &[k.as_bytes()]).expect("store op") == 1)
        .count()
}

#[test]
fn popular_keys_survive_far_more_often_than_under_random_eviction() {
    let random = popular_keys_kept(Policy::AllKeysRandom);
    for policy in [
        Policy::AllKeysLru,
        Policy::AllKeysLfu,
        Policy::AllKeysS3Fifo,
    ] {
        let kept = popular_keys_kept(policy);
        assert!(
            kept >= 45 && kept >= random * 2 + 10,
            "{policy} kept {kept} of 50 popular keys, random {random}"
        );
    }
}

/// Under LRU the keys that survive a stream of writes are the most recent ones, whichever
/// shard they landed in: evicting from one shard more than the others would lose recent
/// keys there while older ones stay elsewhere.
#[test]
fn lru_keeps_the_most_recent_keys_of_every_shard() {
    for policy in [
        Policy::AllKeysLru,
        Policy::VolatileLru,
        Policy::AllKeysS3Fifo,
    ] {
        let clock = ManualClock::new(1_000_000);
        let (store, base) = server_layout(policy, &clock);
        store.set_max_memory(base + 150_000);
        let n = 5000;
        for i in 0..n {
            clock.advance(1000);
            store
                .set(0, format!("k:{i}").as_bytes(), &VALUE, ttl())
                .unwrap();
        }
        let held = store.dbsize(0).unwrap();
        // S3-FIFO holds fewer: its queue slots and ghost take a share of the memory.
        assert!(held > 250, "{policy}: {held} keys");
        // The newest third of what the cache holds must all be there.
        let recent = held / 3;
        let present = (n - recent..n)
            .filter(|i| store.exists(0, &[format!("k:{i}").as_bytes()]).unwrap() == 1)
            .count();
        assert!(
            present * 100 >= recent * 98,
            "{policy}: {present} of the newest {recent} keys present ({held} held)"
        );
    }
}

#[test]
fn noeviction_refuses_writes_but_reads_and_deletes_work() {
    let clock = ManualClock::new(1_000_000);
    let (store, base) = store(Policy::NoEviction, &clock);
    store.set_max_memory(base + 20_000);
    let mut written = 0;
    let err = loop {
        match store.set(
            0,
            format!("k{written}").as_bytes(),
            &VALUE,
            SetOptions::default(),
        ) {
            Ok(_) => written += 1,
            Err(e) => break e,
        }
        assert!(written < 10_000, "the limit never applied");
    };
    assert_eq!(err, StoreError::OutOfMemory);
    assert_eq!(store.stats().evicted_keys, 0);
    assert!(store.get(0, b"k0").unwrap().is_some());
    let keys: Vec<String> = (0..written).map(|i| format!("k{i}")).collect();
    let refs: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
    assert_eq!(store.del(0, &refs).unwrap(), written);
    store
        .set(0, b"again", &VALUE, SetOptions::default())
        .unwrap();
}

#[test]
fn volatile_policies_evict_only_keys_with_a_ttl_and_refuse_when_none_is_left() {
    for policy in Policy::ALL.into_iter().filter(|p| p.is_volatile()) {
        let clock = ManualClock::new(1_000_000);
        let (store, base) = store(policy, &clock);
        store.set_max_memory(base + 100_000);
        let persistent: Vec<String> = (0..200).map(|i| format!("keep:{i}")).collect();
        for key in &persistent {
            store
                .set(0, key.as_bytes(), &VALUE, SetOptions::default())
                .unwrap();
        }
        for i in 0..2000 {
            store
                .set(0, format!("ttl:{i}").as_bytes(), &VALUE, ttl())
                .unwrap();
        }
        assert!(store.stats().evicted_keys > 1000, "{policy}");
        let kept = |s: &Store| {
            persistent
                .iter()
                .filter(|k| s.exists(0, &[k.as_bytes()]).unwrap() == 1)
                .count()
        };
        assert_eq!(kept(&store), persistent.len(), "{policy}");
        // Keys without a TTL push the volatile ones out until none is left, then OOM.
        let mut refused = None;
        for i in 0..5000 {
            let key = format!("more:{i}");
            if let Err(e) = store.set(0, key.as_bytes(), &VALUE, SetOptions::default()) {
                refused = Some(e);
                break;
            }
        }
        assert_eq!(refused, Some(StoreError::OutOfMemory), "{policy}");
        assert_eq!(store.db_info(0).unwrap().expires, 0, "{policy}");
        assert_eq!(kept(&store), persistent.len(), "{policy}");
    }
}

/// Keys long enough that a copy of each would be a large share of its entry.
fn long_key(i: usize) -> String {
    format!("{i:0>100}")
}

/// What 1000 keys made by `key` cost more under S3-FIFO than under LRU.
fn s3fifo_extra(clock: &ManualClock, key: impl Fn(usize) -> String) -> usize {
    let (lru, lru_base) = store(Policy::AllKeysLru, clock);
    let (s3, s3_base) = store(Policy::AllKeysS3Fifo, clock);
    for i in 0..1000 {
        let key = key(i);
        lru.set(0, key.as_bytes(), &VALUE, SetOptions::default())
            .expect("set under LRU");
        s3.set(0, key.as_bytes(), &VALUE, SetOptions::default())
            .expect("set under S3-FIFO");
    }
    (s3.used_memory() - s3_base) - (lru.used_memory() - lru_base)
}

/// S3-FIFO queues a 16-byte slot per key (its hash, stamp and size), not a copy of the key.
/// The queues' arrays count towards `used_memory`, the same whatever the keys' length, and
/// deleted keys' slots are given back once the queues drop them.
#[test]
fn s3fifo_queues_count_towards_used_memory_whatever_the_key_length() {
    let clock = ManualClock::new(1_000_000);
    // Arrays grow by a quarter at a time, from 4 slots, in each of the 8 shards; how full
    // each shard's arrays are depends on how the keys spread, not on their length.
    for extra in [
        s3fifo_extra(&clock, long_key),
        s3fifo_extra(&clock, |i| i.to_string()),
    ] {
        assert!(
            (1000 * 16..=1000 * 16 * 5 / 4 + 8 * 4 * 16).contains(&extra),
            "S3-FIFO adds {extra} bytes"
        );
    }
    let (s3, s3_base) = store(Policy::AllKeysS3Fifo, &clock);
    for i in 0..1000 {
        s3.set(0, long_key(i).as_bytes(), &VALUE, SetOptions::default())
            .unwrap();
    }
    // Deleting the keys gives their slots back once the queues drop the stale ones.
    for i in 0..1000 {
        s3.del(0, &[long_key(i).as_bytes()]).unwrap();
    }
    for i in 0..200 {
        s3.set(0, long_key(i).as_bytes(), &VALUE, SetOptions::default())
            .unwrap();
    }
    assert!(
        s3.used_memory() - s3_base < 200 * 1000,
        "{}",
        s3.used_memory()
    );
}

/// Bytes one of these writes adds: the entry (a 224-byte allocation for its 100-byte key
/// and value), S3-FIFO's queue slot (16), and a table slot (24).
const ONE_ENTRY: usize = 224 + 16 + 24;

/// What a single write may add on top when it grows its shard's arrays: the table by half,
/// or one of the S3-FIFO queues, the ghost's queue or its index to twice their size. At this
/// limit a shard holds about 60 keys, so no step exceeds 4 KiB.
const ARRAY_STEP: usize = 4096;

/// Filling far past the limit under allkeys-s3fifo: after every write, the accounted memory
/// (queues and ghost included) is within the limit plus what that one write added, and once
/// the store evicts to the limit again it is within the limit exactly.
#[test]
fn s3fifo_limit_holds_with_its_queues_counted() {
    let clock = ManualClock::new(1_000_000);
    let (store, base) = store(Policy::AllKeysS3Fifo, &clock);
    let max = base + 200_000;
    store.set_max_memory(max);
    for i in 0..10_000 {
        store
            .set(0, long_key(i).as_bytes(), &VALUE, SetOptions::default())
            .unwrap();
        let used = store.used_memory();
        assert!(
            used <= max + ONE_ENTRY + ARRAY_STEP,
            "write {i}: {used} > {max} + {ONE_ENTRY} + {ARRAY_STEP}"
        );
        if i % 1000 == 999 {
            // Evicts down to the limit, as the next growing write would.
            store.set_max_memory(max);
            let used = store.used_memory();
            assert!(used <= max, "after write {i} and eviction: {used} > {max}");
        }
    }
    let stats = store.stats();
    assert!(stats.evicted_keys > 9000, "{stats:?}");
    // At this small scale (about 40 keys a shard) the arrays and the ghost take a good
    // share, but live entries still hold most of the memory.
    let keys = store.dbsize(0).unwrap();
    assert!(keys * ONE_ENTRY > 100_000, "{keys} keys");
}

/// Redis's `current_eviction_exceeded_time` / `total_eviction_exceeded_time`: a stretch over
/// the limit starts at the first write that cannot evict enough and ends at the next write
/// that finds usage under the limit.
#[test]
fn time_over_the_limit_is_counted_from_the_first_refusal_to_the_next_write_under_it() {
    let clock = ManualClock::new(1_000_000);
    let (store, base) = store(Policy::NoEviction, &clock);
    store.set_max_memory(base + 20_000);
    let mut written = 0;
    // The write that fails here starts the stretch, at time 1_000_000.
    while store
        .set(
            0,
            long_key(written).as_bytes(),
            &VALUE,
            SetOptions::default(),
        )
        .is_ok()
    {
        written += 1;
    }
    assert!(written > 10);
    let stats = store.stats();
    assert_eq!(
        (
            stats.current_eviction_exceeded_ms,
            stats.eviction_exceeded_ms
        ),
        (0, 0)
    );

    clock.advance(700);
    let refused = store.set(0, b"one more", &VALUE, SetOptions::default());
    assert_eq!(refused, Err(StoreError::OutOfMemory));
    let stats = store.stats();
    assert_eq!(
        (
            stats.current_eviction_exceeded_ms,
            stats.eviction_exceeded_ms
        ),
        (700, 700),
        "the stretch started at the first refusal"
    );

    // Reads and deletes work and end nothing by themselves; the next write under the
    // limit ends the stretch.
    clock.advance(300);
    for i in 0..written {
        store.del(0, &[long_key(i).as_bytes()]).unwrap();
    }
    assert_eq!(store.stats().current_eviction_exceeded_ms, 1000);
    clock.advance(200);
    store
        .set(0, b"fits again", &VALUE, SetOptions::default())
        .unwrap();
    clock.advance(5_000);
    let stats = store.stats();
    assert_eq!(
        (
            stats.current_eviction_exceeded_ms,
            stats.eviction_exceeded_ms
        ),
        (0, 1200)
    );
}
