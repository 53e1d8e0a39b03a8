//! TTL commands and the active expiry cycle.
//!
//! Expiry is lazy (an expired key reads as absent and is deleted when touched) plus active:
//! [`Store::active_expire_cycle`] is Redis 7's slow `activeExpireCycle`. Each database keeps
//! a cursor over its keys that carry a TTL (each shard indexes them in a table kept in hash
//! order, so the cursor is a SCAN-style hash threshold that survives resizes). A cycle visits
//! up to 16 databases; in each it samples the next 20 keys with a TTL from the cursor,
//! deletes the expired ones, and samples again while more than 10% of a sample had expired.
//! `active-expire-effort` (1 to 10) raises the sample size and lowers that threshold as in
//! Redis. The cycle stops at a time limit (a quarter of the cycle period, plus 2% per effort
//! step, checked every 16 loops) or at the caller's budget of keys examined, and the next
//! cycle resumes where it stopped, so keys nobody touches are all reclaimed within a
//! bounded number of cycles.
//!
//! Redis also has a "fast" cycle run before each event loop sleep; the store has no event
//! loop, so only the slow cycle exists, and a caller that wants more calls it more often.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::changes::Event;
use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::table::Slot;

/// Keys sampled per loop at effort 1: Redis's `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`.
const KEYS_PER_LOOP: usize = 20;
/// Percent of the cycle period a cycle may run at effort 1 (`..._SLOW_TIME_PERC`).
const SLOW_TIME_PERC: u32 = 25;
/// Percent of a sample that may be expired before the database is sampled again
/// (`ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE`).
const ACCEPTABLE_STALE: usize = 10;
/// Databases visited per cycle unless the last one ran out of time (`CRON_DBS_PER_CALL`).
const DBS_PER_CALL: usize = 16;
/// The period [`Store::active_expire_cycle`] assumes: Redis's default `hz` of 10.
const DEFAULT_PERIOD: Duration = Duration::from_millis(100);
/// Highest `active-expire-effort`.
pub const MAX_EXPIRE_EFFORT: u32 = 10;

/// How EXPIRE and friends read their time: the unit, and relative or absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireCommand {
    /// `EXPIRE key seconds`.
    Expire,
    /// `PEXPIRE key milliseconds`.
    PExpire,
    /// `EXPIREAT key unix-seconds`.
    ExpireAt,
    /// `PEXPIREAT key unix-milliseconds`.
    PExpireAt,
}

/// The NX/XX/GT/LT option of EXPIRE and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpireCondition {
    /// No option: always set.
    #[default]
    Always,
    /// `NX`: only if the key has no TTL.
    Nx,
    /// `XX`: only if the key has a TTL.
    Xx,
    /// `GT`: only if the new TTL is greater (no TTL counts as infinite).
    Gt,
    /// `LT`: only if the new TTL is smaller (no TTL counts as infinite).
    Lt,
    /// `XX LT`: only if the key has a TTL and the new one is smaller.
    XxLt,
}

/// What one active expiry cycle did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExpireCycleStats {
    /// Keys examined.
    pub sampled: usize,
    /// Keys found expired and deleted.
    pub expired: usize,
    /// Sampling loops run (each examines up to 20 keys at effort 1).
    pub loops: usize,
    /// The cycle stopped at its time limit or its budget before every database it visited
    /// was below the stale threshold; the next cycle then visits every database.
    pub cut_short: bool,
}

/// What one sampling loop found.
#[derive(Default)]
struct Sample {
    /// Keys examined.
    sampled: usize,
    /// Keys found expired and deleted.
    expired: usize,
    /// Remaining milliseconds summed over the examined keys that had not expired.
    ttl_sum: u64,
    /// How many keys `ttl_sum` adds up.
    ttl_samples: u64,
}

/// Effort-scaled settings of one cycle, as `activeExpireCycle` derives them.
#[derive(Debug, Clone, Copy)]
struct CycleParams {
    keys_per_loop: usize,
    acceptable_stale: usize,
    time_limit: Duration,
}

impl CycleParams {
    fn new(effort: u32, period: Duration) -> Self {
        let e = effort.clamp(1, MAX_EXPIRE_EFFORT) - 1;
        let perc = SLOW_TIME_PERC + 2 * e;
        Self {
            keys_per_loop: KEYS_PER_LOOP + KEYS_PER_LOOP / 4 * e as usize,
            acceptable_stale: ACCEPTABLE_STALE - e as usize,
            // Redis: at least one microsecond.
            time_limit: (period * perc / 100).max(Duration::from_micros(1)),
        }
    }
}

impl Store {
    /// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: true if the TTL was set (or the key deleted
    /// because the time is already past), false if the key is missing or the condition failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ExpireCommand, ExpireCondition, ManualClock, Store};
    /// let clock = ManualClock::new(1_000_000);
    /// let store = Store::builder().clock(clock.clone()).build();
    /// store.set(0, b"k", b"v", Default::default())?;
    /// assert!(store.expire(0, b"k", 10, ExpireCommand::Expire, ExpireCondition::Always)?);
    /// assert_eq!(store.ttl(0, b"k")?, 10);
    /// clock.advance(10_000);
    /// assert_eq!(store.get(0, b"k")?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn expire(
        &self,
        db: usize,
        key: &[u8],
        amount: i64,
        command: ExpireCommand,
        cond: ExpireCondition,
    ) -> Result<bool> {
        self.check_db(db)?;
        let err = StoreError::InvalidExpire { value: amount };
        let secs = matches!(command, ExpireCommand::Expire | ExpireCommand::ExpireAt);
        let relative = matches!(command, ExpireCommand::Expire | ExpireCommand::PExpire);
        if secs && !(i64::MIN / 1000..=i64::MAX / 1000).contains(&amount) {
            return Err(err);
        }
        let mut when = if secs { amount * 1000 } else { amount };
        if relative {
            let now = i64::try_from(self.now_ms()).map_err(|_| err.clone())?;
            when = when.checked_add(now).ok_or(err)?;
        }
        self.with_write(db, key, |ctx| {
            let Some(i) = ctx.live(key) else {
                return Ok(false);
            };
            let current = ctx.entry(i).expire();
            let ok = match cond {
                ExpireCondition::Always => true,
                ExpireCondition::Nx => current.is_none(),
                ExpireCondition::Xx => current.is_some(),
                ExpireCondition::Gt => current.is_some_and(|c| when > c as i64),
                ExpireCondition::Lt => current.is_none_or(|c| when < c as i64),
                ExpireCondition::XxLt => current.is_some_and(|c| when < c as i64),
            };
            if !ok {
                return Ok(false);
            }
            if when <= ctx.now() as i64 {
                ctx.remove(i);
                ctx.emit(key, Event::Del);
            } else {
                ctx.update(i, |e| e.set_expire(Some(when as u64)));
                ctx.emit(key, Event::Expire);
            }
            Ok(true)
        })
    }

    /// PERSIST: removes the TTL; true if there was one.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.psetex(0, b"k", 10_000, b"v")?;
    /// assert!(store.persist(0, b"k")?);
    /// assert_eq!(store.pttl(0, b"k")?, -1);
    /// assert!(!store.persist(0, b"k")?); // no TTL left to remove
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn persist(&self, db: usize, key: &[u8]) -> Result<bool> {
        self.with_write(db, key, |ctx| {
            let Some(i) = ctx.live(key) else {
                return Ok(false);
            };
            if ctx.entry(i).expire().is_none() {
                return Ok(false);
            }
            ctx.update(i, |e| e.set_expire(None));
            ctx.emit(key, Event::Persist);
            Ok(true)
        })
    }

    /// Remaining TTL in ms: -2 if the key is missing, -1 if it has no TTL.
    fn ttl_raw(&self, db: usize, key: &[u8], absolute: bool) -> Result<i64> {
        let now = self.now_ms();
        self.read_opts(db, key, false, |e| match e {
            None => -2,
            Some(e) => match e.expire() {
                None => -1,
                Some(t) if absolute => t as i64,
                Some(t) => t.saturating_sub(now) as i64,
            },
        })
    }

    /// TTL: seconds left (rounded as Redis does), -2 if missing, -1 if no TTL.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ManualClock, Store};
    /// let clock = ManualClock::new(1_000_000);
    /// let store = Store::builder().clock(clock.clone()).build();
    /// store.setex(0, b"k", 10, b"v")?;
    /// clock.advance(2_400);
    /// assert_eq!(store.ttl(0, b"k")?, 8); // 7.6 s rounds to 8, as in Redis
    /// store.set(0, b"plain", b"v", Default::default())?;
    /// assert_eq!(store.ttl(0, b"plain")?, -1);
    /// assert_eq!(store.ttl(0, b"missing")?, -2);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn ttl(&self, db: usize, key: &[u8]) -> Result<i64> {
        self.ttl_raw(db, key, false).map(secs)
    }

    /// PTTL: milliseconds left, -2 if missing, -1 if no TTL.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ManualClock, Store};
    /// let clock = ManualClock::new(1_000_000);
    /// let store = Store::builder().clock(clock.clone()).build();
    /// store.psetex(0, b"k", 1_500, b"v")?;
    /// clock.advance(500);
    /// assert_eq!(store.pttl(0, b"k")?, 1_000);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn pttl(&self, db: usize, key: &[u8]) -> Result<i64> {
        self.ttl_raw(db, key, false)
    }

    /// EXPIRETIME: absolute expiry in unix seconds, -2 if missing, -1 if no TTL.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ManualClock, Store};
    /// let store = Store::builder().clock(ManualClock::new(1_700_000_000_000)).build();
    /// store.setex(0, b"k", 60, b"v")?;
    /// assert_eq!(store.expiretime(0, b"k")?, 1_700_000_060);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn expiretime(&self, db: usize, key: &[u8]) -> Result<i64> {
        self.ttl_raw(db, key, true).map(secs)
    }

    /// PEXPIRETIME: absolute expiry in unix milliseconds, -2 if missing, -1 if no TTL.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ManualClock, Store};
    /// let store = Store::builder().clock(ManualClock::new(1_700_000_000_000)).build();
    /// store.psetex(0, b"k", 1_234, b"v")?;
    /// assert_eq!(store.pexpiretime(0, b"k")?, 1_700_000_001_234);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn pexpiretime(&self, db: usize, key: &[u8]) -> Result<i64> {
        self.ttl_raw(db, key, true)
    }

    /// One active expiry cycle (Redis's slow `activeExpireCycle` at `hz 10`), examining at
    /// most about `budget` keys.
    ///
    /// Visits up to 16 databases from where the last cycle stopped (all of them if the last
    /// cycle was cut short). In each, samples the next 20 keys that have a TTL (more at a
    /// higher [`Store::set_active_expire_effort`]), deletes the expired ones, and samples
    /// again while more than 10% had expired. Stops when `budget` keys have been examined or
    /// after 25 ms (a quarter of the 100 ms period; see [`Store::active_expire_cycle_for`]).
    /// Each database's cursor carries over, so successive cycles walk all its keys with a
    /// TTL: a key nobody reads is reclaimed within about (keys with a TTL / 20) cycles of
    /// expiring even when few of them are expired. A server calls this ten times a second.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ManualClock, Store};
    /// let clock = ManualClock::new(0);
    /// let store = Store::builder().clock(clock.clone()).build();
    /// store.psetex(0, b"k", 100, b"v")?;
    /// clock.advance(100);
    /// let stats = store.active_expire_cycle(1000);
    /// assert_eq!(stats.expired, 1);
    /// assert_eq!(store.dbsize(0)?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn active_expire_cycle(&self, budget: usize) -> ExpireCycleStats {
        self.active_expire_cycle_for(budget, DEFAULT_PERIOD)
    }

    /// [`Store::active_expire_cycle`] for a caller that runs it every `period`: the time
    /// limit is 25% of `period` at effort 1, plus 2% per effort step (Redis's
    /// `ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC` over `1/hz`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use redistill_store::{ManualClock, Store};
    /// let clock = ManualClock::new(0);
    /// let store = Store::builder().databases(1).clock(clock.clone()).build();
    /// for i in 0..100u32 {
    ///     store.psetex(0, &i.to_be_bytes(), 10, b"v")?;
    /// }
    /// clock.advance(10);
    /// // All expired: the database is sampled again and again until it is empty.
    /// let stats = store.active_expire_cycle_for(10_000, Duration::from_millis(250));
    /// assert_eq!((stats.sampled, stats.expired), (100, 100));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn active_expire_cycle_for(&self, budget: usize, period: Duration) -> ExpireCycleStats {
        let params = CycleParams::new(self.active_expire_effort(), period);
        let started = Instant::now();
        let mut stats = ExpireCycleStats::default();
        let ndb = self.databases();
        let cut_before = self.inner.expire_cut_short.load(Ordering::Relaxed);
        let dbs = if cut_before {
            ndb
        } else {
            DBS_PER_CALL.min(ndb)
        };
        let first = self.inner.expire_cursor.load(Ordering::Relaxed);
        let now = self.now_ms();
        let mut keys = Vec::new();
        let mut visited = 0;
        for j in 0..dbs {
            if stats.cut_short {
                break;
            }
            visited += 1;
            let db = first.wrapping_add(j) % ndb;
            let mut remaining = self.volatile_len(db);
            while remaining > 0 {
                stats.loops += 1;
                let num = remaining.min(params.keys_per_loop);
                let Sample {
                    sampled,
                    expired,
                    ttl_sum,
                    ttl_samples,
                } = self.expire_sample(db, num, now, &mut keys);
                if let Some(loop_avg) = ttl_sum.checked_div(ttl_samples) {
                    self.update_avg_ttl(db, loop_avg);
                }
                stats.sampled += sampled;
                stats.expired += expired;
                remaining = if sampled == 0 {
                    // Only when the walk found nothing in its bucket allowance: recount, as
                    // other threads may have removed the keys.
                    self.volatile_len(db)
                } else {
                    remaining.saturating_sub(expired)
                };
                // Redis reads the time every 16 loops only; a loop is cheap.
                if (stats.loops % 16 == 0 && started.elapsed() > params.time_limit)
                    || stats.sampled >= budget
                {
                    stats.cut_short = true;
                    break;
                }
                if sampled != 0 && expired * 100 / sampled <= params.acceptable_stale {
                    break;
                }
            }
        }
        // Past the databases visited only, as Redis's `current_db`: the next cycle starts
        // after the one that was cut short, so a database full of expired keys cannot keep
        // the others from ever being visited.
        self.inner
            .expire_cursor
            .store((first + visited) % ndb, Ordering::Relaxed);
        self.inner
            .expire_cut_short
            .store(stats.cut_short, Ordering::Relaxed);
        stats
    }

    /// Keys with a TTL in `db`, from the shards' counters.
    fn volatile_len(&self, db: usize) -> usize {
        self.inner.dbs[db]
            .shards
            .iter()
            .map(|s| s.volatile_len.load(Ordering::Relaxed))
            .sum()
    }

    /// Folds one sampling loop's mean remaining TTL into `db`'s `avg_ttl` as Redis does:
    /// the first sample as it is, then each new one with a weight of 2%.
    fn update_avg_ttl(&self, db: usize, loop_avg: u64) {
        let avg = &self.inner.dbs[db].avg_ttl_ms;
        let mut old = avg.load(Ordering::Relaxed);
        if old == 0 {
            old = loop_avg;
        }
        avg.store(old / 50 * 49 + loop_avg / 50, Ordering::Relaxed);
    }

    /// One sampling loop: examines the next `num` keys with a TTL from `db`'s expiry cursor
    /// (fewer if `num * 20` buckets held fewer, as Redis bounds its walk), deletes the
    /// expired ones, and moves the cursor past them.
    fn expire_sample(
        &self,
        db: usize,
        num: usize,
        now: u64,
        keys: &mut Vec<(u64, Vec<u8>)>,
    ) -> Sample {
        let d = &self.inner.dbs[db];
        let nshards = d.shards.len();
        let mask = (nshards - 1) as u64;
        let max_buckets = num * 20;
        let mut out = Sample::default();
        let mut buckets = 0;
        let mut cursor = d.expire_cursor.load(Ordering::Relaxed);
        let mut idx = Vec::new();
        let report = self.report(db);
        while out.sampled < num && buckets < max_buckets {
            let s = (cursor & mask) as usize;
            let shard = &d.shards[s];
            let mut next = None;
            if shard.volatile_len.load(Ordering::Relaxed) == 0 {
                buckets += 1;
            } else {
                let mut st = shard.state.write();
                let before = st.total_bytes();
                next = Some(cursor);
                while let Some(t) = next {
                    if out.sampled >= num || buckets >= max_buckets {
                        break;
                    }
                    buckets += 1;
                    idx.clear();
                    let after_bucket = st.volatile.scan_step(t, &mut idx);
                    keys.clear();
                    keys.extend(idx.iter().map(|&i| {
                        let k = st.volatile.get(i).key();
                        (st.volatile.hash(k), k.to_vec())
                    }));
                    // In hash order, so a loop that stops inside a bucket resumes at the
                    // first key it did not examine.
                    keys.sort_unstable_by_key(|k| k.0);
                    let take = keys.len().min(num - out.sampled);
                    for (h, key) in &keys[..take] {
                        out.sampled += 1;
                        let Some(i) = st.table.find(*h, key) else {
                            continue;
                        };
                        match st.table.get(i).expire() {
                            Some(at) if at <= now => {
                                st.remove(shard, i);
                                report.key(key, Event::Expired);
                                shard.expired.fetch_add(1, Ordering::Relaxed);
                                out.expired += 1;
                            }
                            Some(at) => {
                                out.ttl_sum += at - now;
                                out.ttl_samples += 1;
                            }
                            None => {}
                        }
                    }
                    next = match keys.get(take) {
                        Some((h, _)) => Some(*h),
                        None => after_bucket,
                    };
                }
                let after = st.total_bytes();
                drop(st);
                self.account(before, after);
            }
            cursor = match next {
                Some(t) => t,
                // This shard is done: the next one starts at the bottom of its residue class,
                // and after the last shard the walk starts over.
                None if s + 1 < nshards => s as u64 + 1,
                None => 0,
            };
        }
        d.expire_cursor.store(cursor, Ordering::Relaxed);
        out
    }

    /// `active-expire-effort`, 1 (the default) to 10.
    pub fn active_expire_effort(&self) -> u32 {
        self.inner.expire_effort.load(Ordering::Relaxed)
    }

    /// Sets `active-expire-effort`: 1 (the default) to 10, as `CONFIG SET
    /// active-expire-effort`. Each step above 1 samples 5 more keys per loop, lowers the
    /// stale threshold by one point from 10%, and lets a cycle use 2% more of its period.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidExpireEffort`] outside 1 to 10.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::Store;
    /// let store = Store::new();
    /// store.set_active_expire_effort(10)?;
    /// assert_eq!(store.active_expire_effort(), 10);
    /// assert!(store.set_active_expire_effort(11).is_err());
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn set_active_expire_effort(&self, effort: i64) -> Result<()> {
        let e = u32::try_from(effort)
            .ok()
            .filter(|e| (1..=MAX_EXPIRE_EFFORT).contains(e))
            .ok_or(StoreError::InvalidExpireEffort { effort })?;
        self.inner.expire_effort.store(e, Ordering::Relaxed);
        Ok(())
    }

    /// Starts a thread that runs [`Store::active_expire_cycle`] every `interval`.
    ///
    /// The store never starts threads by itself; this one stops when the returned handle is
    /// stopped or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// # let store = redistill_store::Store::new();
    /// store.psetex(0, b"k", 1, b"v")?;
    /// let expiry = store.spawn_active_expiry(Duration::from_millis(10), 1_000);
    /// let deadline = Instant::now() + Duration::from_secs(10);
    /// while store.dbsize(0)? > 0 && Instant::now() < deadline {
    ///     std::thread::sleep(Duration::from_millis(5));
    /// }
    /// expiry.stop();
    /// assert_eq!(store.dbsize(0)?, 0); // reclaimed without being read
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn spawn_active_expiry(&self, interval: Duration, budget: usize) -> ExpiryThread {
        let (tx, rx) = mpsc::channel::<()>();
        let store = self.clone();
        let handle = std::thread::Builder::new()
            .name("redistill-expiry".into())
            .spawn(move || {
                // Wakes every interval; a message or a dropped sender ends the loop.
                while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(interval) {
                    store.active_expire_cycle_for(budget, interval);
                }
            })
            .ok();
        ExpiryThread {
            stop: Some(tx),
            handle,
        }
    }
}

fn secs(ms: i64) -> i64 {
    if ms < 0 { ms } else { (ms + 500) / 1000 }
}

/// Handle of the optional active-expiry thread; stopping or dropping it ends the thread.
#[derive(Debug)]
pub struct ExpiryThread {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl ExpiryThread {
    /// Whether the thread could be started.
    pub fn is_running(&self) -> bool {
        self.handle.is_some()
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for ExpiryThread {
    fn drop(&mut self) {
        self.shutdown();
    }
}
