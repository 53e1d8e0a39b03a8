//! The active expiry cycle against Redis 7's `activeExpireCycle`, driven by a manual clock:
//! how far a cycle goes, when it stops, and that untouched keys are all reclaimed.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.
use std::time::Duration;

use redistill_store::{ManualClock, SetOptions, Store};

const T0: u64 = 1_700_000_000_000;
/// A period long enough that the time limit never cuts a cycle in these tests (that rule
/// has a test of its own): what a cycle does is then a function of the keys alone.
const LONG: Duration = Duration::from_secs(3600);

/// One database of `shards` shards on a manual clock.
fn store(shards: usize) -> (Store, ManualClock) {
    store_of(1, shards)
}

/// `databases` databases of `shards` shards each, on a manual clock.
fn store_of(databases: usize, shards: usize) -> (Store, ManualClock) {
    let clock = ManualClock::new(T0);
    let store = Store::builder()
        .databases(databases)
        .shards(shards)
        .clock(clock.clone())
        .seed(7)
        .build();
    (store, clock)
}

/// `n` keys named `{prefix}:{i}` expiring in `ttl_ms`.
fn volatile(s: &Store, prefix: &str, n: usize, ttl_ms: i64) {
    for i in 0..n {
        s.psetex(0, format!("{prefix}:{i}").as_bytes(), ttl_ms, b"v")
            .unwrap();
    }
}

#[test]
fn untouched_expired_keys_are_all_reclaimed_within_a_bounded_number_of_cycles() {
    let (s, clock) = store(8);
    // 5% of the keys with a TTL expire: every cycle stops after one loop of 20, so only
    // the cursor carrying over between cycles reaches the rest.
    volatile(&s, "short", 100, 1_000);
    volatile(&s, "long", 1_900, 3_600_000);
    for i in 0..500 {
        s.set(
            0,
            format!("plain:{i}").as_bytes(),
            b"v",
            SetOptions::default(),
        )
        .unwrap();
    }
    clock.advance(1_000);
    // One walk over the 2,000 keys with a TTL takes 2000 / 20 = 100 single-loop cycles;
    // one more covers a walk that starts inside a bucket.
    let mut cycles = 0;
    let mut sampled = 0;
    while s.db_info(0).unwrap().expires > 1_900 {
        let st = s.active_expire_cycle_for(10_000, LONG);
        sampled += st.sampled;
        cycles += 1;
        assert!(
            cycles <= 101,
            "{} expired keys left after {cycles} cycles",
            s.db_info(0).unwrap().expires - 1_900
        );
    }
    assert_eq!(s.dbsize(0).unwrap(), 2_400);
    assert_eq!(s.stats().expired_keys, 100);
    // Stopping early is what kept the work down: about one loop per cycle, not a sweep.
    assert!(
        sampled < 2_000 + 40 * cycles,
        "sampled {sampled} in {cycles} cycles"
    );
}

#[test]
fn work_per_cycle_is_bounded_by_the_budget() {
    let (s, clock) = store(4);
    volatile(&s, "k", 20_000, 10);
    clock.advance(10);
    let mut cycles = 0;
    while s.dbsize(0).unwrap() > 0 {
        let st = s.active_expire_cycle_for(500, LONG);
        // Everything sampled is expired, so only the budget stops a cycle: 25 loops of 20.
        assert_eq!(st.sampled, 500.min(20_000 - 500 * cycles), "{st:?}");
        assert_eq!(st.expired, st.sampled);
        assert_eq!(st.cut_short, st.sampled == 500, "{st:?}");
        cycles += 1;
    }
    assert_eq!(cycles, 40);
    assert_eq!(s.stats().expired_keys, 20_000);
}

#[test]
fn the_time_limit_stops_a_cycle_after_sixteen_loops() {
    let (s, clock) = store(4);
    volatile(&s, "k", 5_000, 10);
    clock.advance(10);
    // A zero period leaves Redis's minimum of one microsecond, which 16 loops of deletes
    // always exceed; the clock is read only every 16 loops.
    let st = s.active_expire_cycle_for(usize::MAX, Duration::ZERO);
    assert_eq!((st.loops, st.sampled, st.expired), (16, 320, 320));
    assert!(st.cut_short);
    let st = s.active_expire_cycle_for(usize::MAX, LONG);
    assert_eq!((st.sampled, st.expired), (4_680, 4_680));
    assert!(!st.cut_short);
}

#[test]
fn a_cycle_samples_again_only_while_more_than_ten_percent_expired() {
    // 20 keys with a TTL: one loop samples each of them once.
    for (expired, loops, sampled) in [(0, 1, 20), (2, 1, 20), (3, 2, 37), (20, 1, 20)] {
        let (s, clock) = store(8);
        volatile(&s, "short", expired, 1_000);
        volatile(&s, "long", 20 - expired, 3_600_000);
        clock.advance(1_000);
        let st = s.active_expire_cycle_for(10_000, LONG);
        // 2 of 20 is exactly 10%: not more, so the cycle stops. 3 of 20 samples the 17
        // left once more, none expired. 20 of 20 empties the database in one loop.
        assert_eq!(
            (st.loops, st.sampled, st.expired),
            (loops, sampled, expired),
            "{expired} expired of 20"
        );
        assert!(!st.cut_short);
        assert_eq!(s.db_info(0).unwrap().expires, 20 - expired);
    }
}

#[test]
fn a_cycle_with_few_expired_keys_stops_after_one_loop() {
    let (s, clock) = store(8);
    volatile(&s, "short", 5, 1_000);
    volatile(&s, "long", 995, 3_600_000);
    clock.advance(1_000);
    let st = s.active_expire_cycle_for(10_000, LONG);
    assert_eq!((st.loops, st.sampled), (1, 20), "{st:?}");
    assert!(st.expired <= 2, "{st:?}");
    // Effort 10 samples 65 keys a loop and samples again above 1%.
    s.set_active_expire_effort(10).unwrap();
    let st = s.active_expire_cycle_for(10_000, LONG);
    assert_eq!(st.sampled % 65, 0, "{st:?}");
    assert!(st.loops >= 1);
    assert!(s.set_active_expire_effort(0).is_err());
    assert!(s.set_active_expire_effort(11).is_err());
}

#[test]
fn a_cycle_visits_sixteen_databases_unless_the_last_was_cut_short() {
    let (s, clock) = store_of(20, 2);
    for db in [3, 18] {
        s.psetex(db, b"k", 10, b"v").unwrap();
    }
    clock.advance(10);
    // Databases 0 to 15, then 16 to 19 and 0 to 11: Redis's CRON_DBS_PER_CALL.
    assert_eq!(s.active_expire_cycle_for(10_000, LONG).expired, 1);
    assert_eq!(s.dbsize(3).unwrap(), 0);
    assert_eq!(s.dbsize(18).unwrap(), 1);
    assert_eq!(s.active_expire_cycle_for(10_000, LONG).expired, 1);
    assert_eq!(s.dbsize(18).unwrap(), 0);

    // A cycle cut short makes the next one visit all twenty.
    for db in 0..20 {
        for i in 0..40u32 {
            s.psetex(db, &i.to_be_bytes(), 10, b"v").unwrap();
        }
    }
    clock.advance(10);
    let st = s.active_expire_cycle_for(30, LONG);
    assert!(st.cut_short);
    let st = s.active_expire_cycle_for(10_000, LONG);
    assert_eq!(st.expired, 20 * 40 - 40);
    assert_eq!((0..20).map(|db| s.dbsize(db).unwrap()).sum::<usize>(), 0);
}

#[test]
fn a_database_full_of_expired_keys_does_not_starve_the_others() {
    let (s, clock) = store_of(16, 2);
    for i in 0..10_000u32 {
        s.psetex(0, &i.to_be_bytes(), 10, b"v").unwrap();
    }
    s.psetex(1, b"k", 10, b"v").unwrap();
    clock.advance(10);
    // Database 0 uses up the budget; the next cycle starts after it, as Redis's does.
    let st = s.active_expire_cycle_for(100, LONG);
    assert!(st.cut_short);
    assert_eq!(s.dbsize(1).unwrap(), 1);
    s.active_expire_cycle_for(100, LONG);
    assert_eq!(s.dbsize(1).unwrap(), 0);
}

#[test]
fn avg_ttl_is_redis_running_average_of_the_sampled_ttls() {
    let (s, clock) = store_of(2, 4);
    volatile(&s, "k", 100, 10_000);
    s.set(1, b"plain", b"v", SetOptions::default()).unwrap();
    assert_eq!(s.db_info(0).unwrap().avg_ttl_ms, 0, "nothing sampled yet");

    // Nothing expired: one loop of 20 keys per cycle, whose mean (10 s) is taken as it is
    // the first time.
    let stats = s.active_expire_cycle_for(usize::MAX, LONG);
    assert_eq!((stats.loops, stats.expired), (1, 0));
    assert_eq!(s.db_info(0).unwrap().avg_ttl_ms, 10_000);
    // Then each loop's mean counts 2%: 10000/50*49 + 5000/50.
    clock.advance(5_000);
    s.active_expire_cycle_for(usize::MAX, LONG);
    assert_eq!(s.db_info(0).unwrap().avg_ttl_ms, 9_900);
    assert_eq!(s.db_info(1).unwrap().avg_ttl_ms, 0, "no key with a TTL");

    // The estimate travels with the keys and goes with them.
    s.swapdb(0, 1).unwrap();
    assert_eq!(
        (
            s.db_info(0).unwrap().avg_ttl_ms,
            s.db_info(1).unwrap().avg_ttl_ms
        ),
        (0, 9_900)
    );
    s.flushdb(1).unwrap();
    assert_eq!(s.db_info(1).unwrap().avg_ttl_ms, 0);
}
