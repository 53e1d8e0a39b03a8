//! The policy engine: the policy in force and Redis's settings, shared by all shards, and
//! the dispatch from each call to the policy's [`EvictionPolicy`] implementation.

use std::hash::Hash;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

use crate::EvictError;
use crate::keyspace::{Keyspace, SampleFrom};
use crate::policies::{EvictionPolicy, Lfu, Lru, NoEviction, Random, S3Fifo, Ttl, Victim};
use crate::policy::{Kind, Policy};
use crate::rng;
use crate::shard::ShardState;
use crate::word::{self, AccessWord, lfu};

/// Runs `$body` with `$p` bound to the [`EvictionPolicy`] of the policy in force, built
/// from the evictor's current settings (a few relaxed loads): static dispatch, so the read
/// path inlines.
macro_rules! dispatch {
    ($evictor:expr, $p:ident => $body:expr) => {{
        let evictor = $evictor;
        match evictor.policy() {
            Policy::NoEviction => {
                let $p = NoEviction;
                $body
            }
            Policy::AllKeysLru | Policy::VolatileLru => {
                let $p = Lru {
                    from: evictor.from(),
                    samples: evictor.samples(),
                };
                $body
            }
            Policy::AllKeysLfu | Policy::VolatileLfu => {
                let $p = evictor.lfu(evictor.from());
                $body
            }
            Policy::AllKeysRandom | Policy::VolatileRandom => {
                let $p = Random {
                    from: evictor.from(),
                };
                $body
            }
            Policy::VolatileTtl => {
                let $p = Ttl {
                    samples: evictor.samples(),
                };
                $body
            }
            Policy::AllKeysS3Fifo => {
                let $p = S3Fifo;
                $body
            }
        }
    }};
}

/// Default `maxmemory-samples`.
pub const DEFAULT_SAMPLES: u32 = 5;
/// Default `lfu-log-factor`.
pub const DEFAULT_LFU_LOG_FACTOR: u32 = 10;
/// Default `lfu-decay-time`, in minutes.
pub const DEFAULT_LFU_DECAY_TIME: u32 = 1;

/// The largest value Redis accepts for its integer settings (`INT_MAX`).
const INT_MAX: i64 = i32::MAX as i64;

/// The eviction policy and its settings, shared by every shard of a keyspace.
///
/// All settings live in atomics, so the store keeps one `Evictor` and `CONFIG SET` can
/// change it at run time through `&self`, without a lock on the read path.
///
/// The store calls:
/// - [`Evictor::on_insert`] when a key gets a new entry, under the shard's write lock; it
///   returns the entry's [`AccessWord`];
/// - [`Evictor::on_access`] on every read or write of an existing entry, under a read lock
///   at most (atomics only);
/// - [`Evictor::evict`] for a victim when a write would exceed the memory limit, under the
///   shard's write lock, then removes the victim itself. `None` means this shard has
///   nothing the policy may evict; when every shard says so the write fails with OOM.
///
/// # Examples
///
/// ```
/// use redistill_evict::{Evictor, Policy, ShardState, SimKeyspace};
///
/// let evictor = Evictor::new(Policy::AllKeysLru);
/// let mut shard = ShardState::with_seed(1);
/// let mut keys = SimKeyspace::new();
/// for (t, key) in [10u64, 20, 30].into_iter().enumerate() {
///     let word = evictor.on_insert(&mut shard, &keys, &key, 1, t as u64);
///     keys.insert(key, 1, word, None);
/// }
/// // Key 10 is read again, so 20 is now the least recently used.
/// evictor.on_access(keys.word(&10).unwrap(), 100);
/// evictor.set_samples(10)?;
/// assert_eq!(evictor.evict(&mut shard, &keys, 200), Some(20));
/// # Ok::<(), redistill_evict::EvictError>(())
/// ```
#[derive(Debug)]
pub struct Evictor {
    policy: AtomicU8,
    samples: AtomicU32,
    lfu_log_factor: AtomicU32,
    lfu_decay_time: AtomicU32,
}

impl Default for Evictor {
    fn default() -> Self {
        Self::new(Policy::default())
    }
}

impl Clone for Evictor {
    fn clone(&self) -> Self {
        Self {
            policy: AtomicU8::new(self.policy.load(Ordering::Relaxed)),
            samples: AtomicU32::new(self.samples()),
            lfu_log_factor: AtomicU32::new(self.lfu_log_factor()),
            lfu_decay_time: AtomicU32::new(self.lfu_decay_time()),
        }
    }
}

fn check_range(setting: &'static str, value: i64, min: i64) -> Result<u32, EvictError> {
    if (min..=INT_MAX).contains(&value) {
        u32::try_from(value).map_err(|_| EvictError::OutOfRange {
            setting,
            value,
            min,
            max: INT_MAX,
        })
    } else {
        Err(EvictError::OutOfRange {
            setting,
            value,
            min,
            max: INT_MAX,
        })
    }
}

impl Evictor {
    /// An evictor for `policy` with Redis's default settings (`maxmemory-samples` 5,
    /// `lfu-log-factor` 10, `lfu-decay-time` 1).
    pub fn new(policy: Policy) -> Self {
        Self {
            policy: AtomicU8::new(policy.to_u8()),
            samples: AtomicU32::new(DEFAULT_SAMPLES),
            lfu_log_factor: AtomicU32::new(DEFAULT_LFU_LOG_FACTOR),
            lfu_decay_time: AtomicU32::new(DEFAULT_LFU_DECAY_TIME),
        }
    }

    /// The policy in force.
    #[inline]
    pub fn policy(&self) -> Policy {
        Policy::from_u8(self.policy.load(Ordering::Relaxed))
    }

    /// Switches policy. Shards drop state of the old policy lazily, on their next insert
    /// or eviction.
    pub fn set_policy(&self, policy: Policy) {
        self.policy.store(policy.to_u8(), Ordering::Relaxed);
    }

    /// `maxmemory-samples`: keys sampled per eviction by the sampled policies.
    pub fn samples(&self) -> u32 {
        self.samples.load(Ordering::Relaxed)
    }

    /// Sets `maxmemory-samples`; Redis accepts 1 to 2147483647.
    ///
    /// # Errors
    ///
    /// [`EvictError::OutOfRange`] outside that range.
    pub fn set_samples(&self, samples: i64) -> Result<(), EvictError> {
        let v = check_range("maxmemory-samples", samples, 1)?;
        self.samples.store(v, Ordering::Relaxed);
        Ok(())
    }

    /// `lfu-log-factor`: how slowly the LFU counter grows.
    pub fn lfu_log_factor(&self) -> u32 {
        self.lfu_log_factor.load(Ordering::Relaxed)
    }

    /// Sets `lfu-log-factor`; Redis accepts 0 to 2147483647.
    ///
    /// # Errors
    ///
    /// [`EvictError::OutOfRange`] outside that range.
    pub fn set_lfu_log_factor(&self, factor: i64) -> Result<(), EvictError> {
        let v = check_range("lfu-log-factor", factor, 0)?;
        self.lfu_log_factor.store(v, Ordering::Relaxed);
        Ok(())
    }

    /// `lfu-decay-time`: minutes per one-step decay of the LFU counter (0: no decay).
    pub fn lfu_decay_time(&self) -> u32 {
        self.lfu_decay_time.load(Ordering::Relaxed)
    }

    /// Sets `lfu-decay-time`; Redis accepts 0 to 2147483647.
    ///
    /// # Errors
    ///
    /// [`EvictError::OutOfRange`] outside that range.
    pub fn set_lfu_decay_time(&self, minutes: i64) -> Result<(), EvictError> {
        let v = check_range("lfu-decay-time", minutes, 0)?;
        self.lfu_decay_time.store(v, Ordering::Relaxed);
        Ok(())
    }

    /// The access word for an entry created at `now_ms` without touching any shard state.
    ///
    /// Fine for every policy but S3-FIFO, whose entries must also be queued: prefer
    /// [`Evictor::on_insert`] in a store.
    pub fn new_word(&self, now_ms: u64) -> AccessWord {
        AccessWord::new(dispatch!(self, p => p.initial_word(now_ms)))
    }

    /// Registers a new entry for `key` of `size` bytes and returns its access word.
    ///
    /// Call it under the shard's write lock whenever a key gets a new entry (a new key,
    /// or a value replaced by a new entry); `keyspace` may or may not contain `key` yet.
    /// Only S3-FIFO keeps anything: the key's hash, in its queues; O(1) amortised.
    pub fn on_insert<K, KS>(
        &self,
        shard: &mut ShardState<K>,
        keyspace: &KS,
        key: &K,
        size: u64,
        now_ms: u64,
    ) -> AccessWord
    where
        K: Clone + Eq + Hash,
        KS: Keyspace<K> + ?Sized,
    {
        self.on_insert_hashed(shard, keyspace, keyspace.key_hash(key), size, now_ms)
    }

    /// [`Evictor::on_insert`] for a caller that has the key's hash at hand
    /// ([`Keyspace::key_hash`]), as a store inserting into its table does, and no key
    /// handle.
    pub fn on_insert_hashed<K, KS>(
        &self,
        shard: &mut ShardState<K>,
        keyspace: &KS,
        key_hash: u64,
        size: u64,
        now_ms: u64,
    ) -> AccessWord
    where
        K: Clone + Eq + Hash,
        KS: Keyspace<K> + ?Sized,
    {
        shard.forget_other_policies(self.policy().kind());
        dispatch!(self, p => p.on_insert(shard, keyspace, key_hash, size, now_ms))
    }

    /// Records a read (or an in-place write) of an entry: O(1), atomics only.
    ///
    /// LFU policies apply Redis's `updateLFU` (decay, then a probabilistic increment);
    /// S3-FIFO bumps its 2-bit frequency; every other policy stores the LRU clock, as Redis
    /// does, so that `OBJECT IDLETIME` works under them.
    #[inline(always)]
    pub fn on_access(&self, word: &AccessWord, now_ms: u64) {
        // Only LFU consumes randomness: the others skip the thread-local generator step.
        if self.policy().is_lfu() {
            self.lfu(SampleFrom::AllKeys)
                .on_access(word, now_ms, rng::thread_random());
        } else {
            dispatch!(self, p => p.on_access(word, now_ms, 0));
        }
    }

    /// [`Evictor::on_access`] with the caller's 64 random bits for LFU's probabilistic
    /// increment, for reproducible runs (the simulator, tests); `on_access` draws them
    /// from a per-thread generator.
    pub fn on_access_with_random(&self, word: &AccessWord, now_ms: u64, random: u64) {
        dispatch!(self, p => p.on_access(word, now_ms, random));
    }

    /// Milliseconds since the entry was last accessed, as `OBJECT IDLETIME` reports it
    /// (in seconds); meaningful when [`Policy::tracks_idle_time`].
    pub fn idle_ms(&self, word: &AccessWord, now_ms: u64) -> u64 {
        word::lru_idle_ms(word.get(), now_ms)
    }

    /// The entry's decayed LFU counter, as `OBJECT FREQ` reports it; meaningful when
    /// [`Policy::is_lfu`].
    pub fn lfu_frequency(&self, word: &AccessWord, now_ms: u64) -> u8 {
        lfu::decr_and_return(word.get(), now_ms, self.lfu_decay_time())
    }

    /// This shard's best victim under a ranking policy (LRU, LFU, TTL), left in place, with
    /// a rank comparable across shards; `None` for an empty shard and for the policies
    /// that do not rank (random, S3-FIFO, `noeviction`).
    ///
    /// A store that evicts from the better of two shards asks both, then takes the winner
    /// with [`ShardState::take_candidate`] while still holding its lock. See
    /// [`EvictionPolicy::candidate`].
    pub fn candidate<K, KS>(
        &self,
        shard: &mut ShardState<K>,
        keyspace: &KS,
        now_ms: u64,
    ) -> Option<Victim<K>>
    where
        K: Clone + Eq + Hash,
        KS: Keyspace<K> + ?Sized,
    {
        shard.forget_other_policies(self.policy().kind());
        dispatch!(self, p => p.candidate(shard, keyspace, now_ms))
    }

    /// Chooses the next key to evict from this shard, or `None` when the policy may not
    /// evict anything here (`noeviction`; a volatile policy and no key with a TTL; an
    /// empty shard).
    ///
    /// The store removes the returned key itself. Sampled policies cost
    /// `maxmemory-samples` samples; S3-FIFO pops its queues, O(1) amortised. Keys that
    /// S3-FIFO does not know about (written before a switch to it) are evicted at random
    /// once its queues are empty.
    pub fn evict<K, KS>(&self, shard: &mut ShardState<K>, keyspace: &KS, now_ms: u64) -> Option<K>
    where
        K: Clone + Eq + Hash,
        KS: Keyspace<K> + ?Sized,
    {
        shard.forget_other_policies(self.policy().kind());
        dispatch!(self, p => p.evict(shard, keyspace, now_ms))
    }

    /// Whether [`Evictor::candidate`] ranks victims under the policy in force, so that a
    /// store gains from comparing shards.
    pub fn ranks_victims(&self) -> bool {
        matches!(self.policy().kind(), Kind::Lru | Kind::Lfu | Kind::Ttl)
    }

    fn from(&self) -> SampleFrom {
        if self.policy().is_volatile() {
            SampleFrom::Volatile
        } else {
            SampleFrom::AllKeys
        }
    }

    fn lfu(&self, from: SampleFrom) -> Lfu {
        Lfu {
            from,
            samples: self.samples(),
            log_factor: self.lfu_log_factor(),
            decay_time: self.lfu_decay_time(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::word::s3;

    #[test]
    fn concurrent_reads_keep_s3fifo_stamp_and_saturate_frequency() {
        let evictor = Evictor::new(Policy::AllKeysS3Fifo);
        let word = AccessWord::new(s3::pack(0xABCDE, 0));
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for t in 0..1_000 {
                        evictor.on_access(&word, t);
                    }
                });
            }
        });
        assert_eq!(s3::stamp(word.get()), 0xABCDE);
        assert_eq!(s3::freq(word.get()), s3::MAX_FREQ);
    }

    #[test]
    fn ten_reads_at_log_factor_zero_give_frequency_fifteen_as_in_redis() {
        // Checked against redis-server 7.0: SET, then ten GETs with lfu-log-factor 0,
        // OBJECT FREQ answers 5 before and 15 after.
        let e = Evictor::new(Policy::AllKeysLfu);
        assert!(e.set_lfu_log_factor(0).is_ok());
        let w = e.new_word(1_000);
        assert_eq!(e.lfu_frequency(&w, 1_000), 5);
        for _ in 0..10 {
            e.on_access(&w, 1_000);
        }
        assert_eq!(e.lfu_frequency(&w, 1_000), 15);
    }

    #[test]
    fn lru_idle_time_and_lfu_frequency_report_like_object_idletime_and_freq() {
        let lru = Evictor::new(Policy::VolatileTtl);
        let w = lru.new_word(10_000);
        assert_eq!(lru.idle_ms(&w, 70_000), 60_000);
        let lfu = Evictor::new(Policy::AllKeysLfu);
        let w = lfu.new_word(0);
        assert_eq!(lfu.lfu_frequency(&w, 0), lfu::INIT_VAL);
        // Three minutes later, with one-minute decay, the counter has lost three.
        assert_eq!(lfu.lfu_frequency(&w, 180_000), lfu::INIT_VAL - 3);
    }

    /// S3-FIFO's state costs the same per key whatever the key, and goes back to what an
    /// empty state holds once every key has left the queues.
    #[test]
    fn s3fifo_heap_bytes_do_not_depend_on_the_keys_and_return_when_they_leave() {
        let evictor = Evictor::new(Policy::AllKeysS3Fifo);
        let heap = |offset: u64| {
            let mut shard = ShardState::with_seed(1);
            let mut ks = crate::SimKeyspace::new();
            for key in offset..offset + 500 {
                let word = evictor.on_insert(&mut shard, &ks, &key, 10, 0);
                ks.insert(key, 10, word, None);
            }
            let full = shard.heap_bytes();
            // Half the keys are deleted by the user: their slots go stale and are dropped
            // when popped.
            for key in (offset..offset + 500).step_by(2) {
                ks.remove(key);
            }
            while let Some(victim) = evictor.evict(&mut shard, &ks, 0) {
                ks.remove(victim);
            }
            assert_eq!(ks.key_count(), 0);
            (full, shard.heap_bytes())
        };
        let (full, empty) = heap(0);
        assert_eq!(heap(u64::MAX / 2), (full, empty));
        // 500 slots of 16 bytes in arrays that grow by doubling, and a ghost.
        assert!(
            (500 * 16..=2 * 1024 * 16 + 8 * 1024).contains(&full),
            "{full}"
        );
        // An emptied shard keeps only the ghost's floor and arrays too small to shrink.
        assert!(empty <= 4 * 1024, "{empty} of {full} kept");
    }
}
