//! TTL commands and the active expiry cycle.
//!
//! Expiry is lazy (an expired key reads as absent and is deleted when touched) plus active:
//! [`Store::active_expire_cycle`] runs Redis's adaptive sampling over each shard's table of
//! keys that carry a TTL: sample 20, delete the expired ones, and go again on the same shard
//! while more than a quarter of the sample had expired, within a budget of keys examined.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::table::Slot;

/// Keys sampled per round, as Redis's `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`.
const SAMPLE: usize = 20;

/// Which EXPIRE-family command is running: fixes the unit, base and error text.
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

impl ExpireCommand {
    fn name(self) -> &'static str {
        match self {
            ExpireCommand::Expire => "expire",
            ExpireCommand::PExpire => "pexpire",
            ExpireCommand::ExpireAt => "expireat",
            ExpireCommand::PExpireAt => "pexpireat",
        }
    }
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
        let err = StoreError::InvalidExpire {
            command: command.name(),
        };
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
            } else {
                ctx.update(i, |e| e.set_expire(Some(when as u64)));
            }
            Ok(true)
        })
    }

    /// PERSIST: removes the TTL; true if there was one.
    pub fn persist(&self, db: usize, key: &[u8]) -> Result<bool> {
        self.with_write(db, key, |ctx| {
            let Some(i) = ctx.live(key) else {
                return Ok(false);
            };
            if ctx.entry(i).expire().is_none() {
                return Ok(false);
            }
            ctx.update(i, |e| e.set_expire(None));
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
    pub fn ttl(&self, db: usize, key: &[u8]) -> Result<i64> {
        self.ttl_raw(db, key, false).map(secs)
    }

    /// PTTL: milliseconds left, -2 if missing, -1 if no TTL.
    pub fn pttl(&self, db: usize, key: &[u8]) -> Result<i64> {
        self.ttl_raw(db, key, false)
    }

    /// EXPIRETIME: absolute expiry in unix seconds, -2 if missing, -1 if no TTL.
    pub fn expiretime(&self, db: usize, key: &[u8]) -> Result<i64> {
        self.ttl_raw(db, key, true).map(secs)
    }

    /// PEXPIRETIME: absolute expiry in unix milliseconds, -2 if missing, -1 if no TTL.
    pub fn pexpiretime(&self, db: usize, key: &[u8]) -> Result<i64> {
        self.ttl_raw(db, key, true)
    }

    /// One active expiry pass over all databases, examining at most about `budget` keys.
    ///
    /// Shards are visited round-robin across calls, so a small budget still covers the whole
    /// keyspace over successive calls. A server calls this about ten times a second.
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
        let mut stats = ExpireCycleStats::default();
        let per_db = self.shards_per_db();
        let total = per_db * self.databases();
        let start = self.inner.expire_cursor.load(Ordering::Relaxed);
        let now = self.now_ms();
        let mut visited = 0;
        while visited < total && stats.sampled < budget {
            let pos = (start + visited) % total;
            visited += 1;
            let (db, s) = (pos / per_db, pos % per_db);
            let shard = self.shard(db, s);
            if shard.volatile_len.load(Ordering::Relaxed) == 0 {
                continue;
            }
            let mut st = shard.state.write();
            let before = st.total_bytes();
            loop {
                let n = st.volatile.len().min(SAMPLE);
                if n == 0 {
                    break;
                }
                let mut expired = 0;
                for _ in 0..n {
                    let Some(vi) = st.volatile.random_slot(|| self.next_random()) else {
                        break;
                    };
                    let key = st.volatile.get(vi).key().to_vec();
                    let h = st.table.hash(&key);
                    if let Some(i) = st.table.find(h, &key)
                        && st.table.get(i).is_expired(now)
                    {
                        st.remove(shard, i);
                        shard.expired.fetch_add(1, Ordering::Relaxed);
                        expired += 1;
                    }
                }
                stats.sampled += n;
                stats.expired += expired;
                // Redis's rule: keep going while more than 25% of the sample had expired.
                if expired * 4 <= n || stats.sampled >= budget {
                    break;
                }
            }
            let after = st.total_bytes();
            self.account(before, after);
        }
        self.inner
            .expire_cursor
            .store((start + visited) % total.max(1), Ordering::Relaxed);
        stats
    }

    /// Starts a thread that runs [`Store::active_expire_cycle`] every `interval`.
    ///
    /// The store never starts threads by itself; this one stops when the returned handle is
    /// stopped or dropped.
    pub fn spawn_active_expiry(&self, interval: Duration, budget: usize) -> ExpiryThread {
        let (tx, rx) = mpsc::channel::<()>();
        let store = self.clone();
        let handle = std::thread::Builder::new()
            .name("redistill-expiry".into())
            .spawn(move || {
                // Wakes every interval; a message or a dropped sender ends the loop.
                while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(interval) {
                    store.active_expire_cycle(budget);
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
