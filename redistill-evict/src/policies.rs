//! The policies themselves, behind one trait.
//!
//! Each type here is one way of answering three questions: what access word a new entry
//! starts with, what a read does to it, and which key a shard gives up. [`Evictor`] holds
//! the policy in force and Redis's settings, builds the matching type for each call and
//! dispatches to it; a store only talks to the [`Evictor`].
//!
//! [`Evictor`]: crate::Evictor

use std::hash::Hash;
use std::sync::atomic::Ordering;

use crate::keyspace::{Keyspace, SampleFrom};
use crate::shard::ShardState;
use crate::word::{self, AccessWord, lfu, s3};

/// An eviction policy: how it tracks access and how it chooses a victim in one shard.
///
/// Implementations must keep [`EvictionPolicy::on_access`] O(1) and lock-free (it runs under
/// the shard's read lock, concurrently with other readers), and every other method O(1)
/// amortised (they run under the shard's write lock).
///
/// # Examples
///
/// A policy that evicts the key with the oldest insertion time among sampled keys, built
/// from the same pieces as the crate's own:
///
/// ```
/// use std::hash::Hash;
/// use redistill_evict::{
///     AccessWord, EvictionPolicy, Keyspace, SampleFrom, ShardState, SimKeyspace, Victim,
/// };
///
/// struct OldestInserted;
///
/// impl EvictionPolicy for OldestInserted {
///     fn initial_word(&self, now_ms: u64) -> u32 {
///         now_ms as u32
///     }
///     fn on_access(&self, _word: &AccessWord, _now_ms: u64, _random: u64) {}
///     fn candidate<K, KS>(&self, shard: &mut ShardState<K>, keys: &KS, now_ms: u64)
///         -> Option<Victim<K>>
///     where
///         K: Clone + Eq + Hash,
///         KS: Keyspace<K> + ?Sized,
///     {
///         shard.pooled_candidate(keys, SampleFrom::AllKeys, 5, true, |e| {
///             Some((now_ms as u32).wrapping_sub(e.access.get()) as u64)
///         })
///     }
/// }
///
/// let policy = OldestInserted;
/// let mut shard = ShardState::with_seed(3);
/// let mut keys = SimKeyspace::new();
/// for (now, key) in [(10u64, 1u64), (20, 2), (30, 3)] {
///     let word = policy.on_insert(&mut shard, &keys, keys.key_hash(&key), 1, now);
///     keys.insert(key, 1, word, None);
/// }
/// assert_eq!(policy.evict(&mut shard, &keys, 40), Some(1));
/// ```
pub trait EvictionPolicy {
    /// The access word a new entry starts with.
    fn initial_word(&self, now_ms: u64) -> u32;

    /// Registers a new entry of `size` bytes for the key whose hash is `key_hash`
    /// ([`Keyspace::key_hash`]) and returns its access word.
    ///
    /// Called under the shard's write lock whenever a key gets a new entry; `keyspace` may
    /// or may not contain the key yet. The default keeps no state: the word is
    /// [`EvictionPolicy::initial_word`].
    fn on_insert<K, KS>(
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
        let _ = (shard, keyspace, key_hash, size);
        AccessWord::new(self.initial_word(now_ms))
    }

    /// Records a read (or an in-place write) of an entry; `random` is 64 random bits for
    /// policies that draw. O(1), atomics only.
    fn on_access(&self, word: &AccessWord, now_ms: u64, random: u64);

    /// The shard's best victim, left in place, with a rank comparable across the shards
    /// of one keyspace (higher: a better victim), so that a store can compare two shards
    /// and evict from the better one with [`ShardState::take_candidate`].
    ///
    /// `None` when the shard has nothing to evict, and always for policies that do not
    /// rank (the default): random choice, queue order, `noeviction`.
    fn candidate<K, KS>(
        &self,
        shard: &mut ShardState<K>,
        keyspace: &KS,
        now_ms: u64,
    ) -> Option<Victim<K>>
    where
        K: Clone + Eq + Hash,
        KS: Keyspace<K> + ?Sized,
    {
        let _ = (shard, keyspace, now_ms);
        None
    }

    /// Chooses the shard's next victim, drops it from the policy's own state and returns
    /// its key; the caller removes the key from the keyspace. `None` when the policy may not
    /// evict anything from this shard.
    ///
    /// The default takes the victim [`EvictionPolicy::candidate`] names; policies that do
    /// not rank override it.
    fn evict<K, KS>(&self, shard: &mut ShardState<K>, keyspace: &KS, now_ms: u64) -> Option<K>
    where
        K: Clone + Eq + Hash,
        KS: Keyspace<K> + ?Sized,
    {
        self.candidate(shard, keyspace, now_ms)?;
        shard.take_candidate()
    }
}

/// A shard's best eviction candidate, as [`EvictionPolicy::candidate`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Victim<K> {
    /// The candidate's key.
    pub key: K,
    /// How good a victim it is; higher is better. Comparable between shards evicted under
    /// the same policy and settings.
    pub rank: u64,
}

/// `noeviction`: never gives up a key; entries keep the LRU clock for `OBJECT IDLETIME`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEviction;

impl EvictionPolicy for NoEviction {
    fn initial_word(&self, now_ms: u64) -> u32 {
        word::lru_clock(now_ms)
    }

    #[inline(always)]
    fn on_access(&self, word: &AccessWord, now_ms: u64, _random: u64) {
        lru_access(word, now_ms);
    }

    fn evict<K, KS>(&self, _: &mut ShardState<K>, _: &KS, _: u64) -> Option<K>
    where
        K: Clone + Eq + Hash,
        KS: Keyspace<K> + ?Sized,
    {
        None
    }
}

/// `allkeys-lru` and `volatile-lru`: the longest idle key among sampled ones.
#[derive(Debug, Clone, Copy)]
pub struct Lru {
    /// Which keys may be evicted.
    pub from: SampleFrom,
    /// `maxmemory-samples`.
    pub samples: u32,
}

impl EvictionPolicy for Lru {
    fn initial_word(&self, now_ms: u64) -> u32 {
        word::lru_clock(now_ms)
    }

    #[inline(always)]
    fn on_access(&self, word: &AccessWord, now_ms: u64, _random: u64) {
        lru_access(word, now_ms);
    }

    fn candidate<K, KS>(&self, shard: &mut ShardState<K>, ks: &KS, now_ms: u64) -> Option<Victim<K>>
    where
        K: Clone + Eq + Hash,
        KS: Keyspace<K> + ?Sized,
    {
        shard.pooled_candidate(ks, self.from, self.samples, true, |e| {
            Some(word::lru_idle_ms(e.access.get(), now_ms))
        })
    }
}

/// `allkeys-lfu` and `volatile-lfu`: the lowest decayed logarithmic counter among sampled
/// keys, with Redis's counter arithmetic.
#[derive(Debug, Clone, Copy)]
pub struct Lfu {
    /// Which keys may be evicted.
    pub from: SampleFrom,
    /// `maxmemory-samples`.
    pub samples: u32,
    /// `lfu-log-factor`.
    pub log_factor: u32,
    /// `lfu-decay-time`, minutes.
    pub decay_time: u32,
}

impl EvictionPolicy for Lfu {
    fn initial_word(&self, now_ms: u64) -> u32 {
        lfu::pack(lfu::INIT_VAL, now_ms)
    }

    /// Redis's `updateLFU`: decay, then a probabilistic increment.
    #[inline]
    fn on_access(&self, word: &AccessWord, now_ms: u64, random: u64) {
        let current = word.get();
        let counter = lfu::decr_and_return(current, now_ms, self.decay_time);
        let counter = lfu::log_incr(counter, self.log_factor, crate::rng::unit_f64(random));
        let next = lfu::pack(counter, now_ms);
        if next != current {
            word.set(next);
        }
    }

    fn candidate<K, KS>(&self, shard: &mut ShardState<K>, ks: &KS, now_ms: u64) -> Option<Victim<K>>
    where
        K: Clone + Eq + Hash,
        KS: Keyspace<K> + ?Sized,
    {
        shard.pooled_candidate(ks, self.from, self.samples, true, |e| {
            let counter = lfu::decr_and_return(e.access.get(), now_ms, self.decay_time);
            Some(255 - u64::from(counter))
        })
    }
}

/// `allkeys-random` and `volatile-random`: any key, one sample per eviction.
#[derive(Debug, Clone, Copy)]
pub struct Random {
    /// Which keys may be evicted.
    pub from: SampleFrom,
}

impl EvictionPolicy for Random {
    fn initial_word(&self, now_ms: u64) -> u32 {
        word::lru_clock(now_ms)
    }

    #[inline(always)]
    fn on_access(&self, word: &AccessWord, now_ms: u64, _random: u64) {
        lru_access(word, now_ms);
    }

    fn evict<K, KS>(&self, shard: &mut ShardState<K>, ks: &KS, _now_ms: u64) -> Option<K>
    where
        K: Clone + Eq + Hash,
        KS: Keyspace<K> + ?Sized,
    {
        shard.random_key(ks, self.from)
    }
}

/// `volatile-ttl`: the soonest expiry among sampled keys with a TTL.
#[derive(Debug, Clone, Copy)]
pub struct Ttl {
    /// `maxmemory-samples`.
    pub samples: u32,
}

impl EvictionPolicy for Ttl {
    fn initial_word(&self, now_ms: u64) -> u32 {
        word::lru_clock(now_ms)
    }

    #[inline(always)]
    fn on_access(&self, word: &AccessWord, now_ms: u64, _random: u64) {
        lru_access(word, now_ms);
    }

    fn candidate<K, KS>(
        &self,
        shard: &mut ShardState<K>,
        ks: &KS,
        _now_ms: u64,
    ) -> Option<Victim<K>>
    where
        K: Clone + Eq + Hash,
        KS: Keyspace<K> + ?Sized,
    {
        // Reads do not change an expiry, so a candidate read since it was sampled stays.
        shard.pooled_candidate(ks, SampleFrom::Volatile, self.samples, false, |e| {
            e.expires_at_ms.map(|at| u64::MAX - at)
        })
    }
}

/// `allkeys-s3fifo`: S3-FIFO's small, main and ghost queues (Yang et al., SOSP 2023).
#[derive(Debug, Clone, Copy, Default)]
pub struct S3Fifo;

impl EvictionPolicy for S3Fifo {
    fn initial_word(&self, _now_ms: u64) -> u32 {
        s3::pack(0, 0)
    }

    fn on_insert<K, KS>(
        &self,
        shard: &mut ShardState<K>,
        ks: &KS,
        key_hash: u64,
        size: u64,
        _now_ms: u64,
    ) -> AccessWord
    where
        K: Clone + Eq + Hash,
        KS: Keyspace<K> + ?Sized,
    {
        AccessWord::new(shard.s3.insert(ks, key_hash, size))
    }

    /// One more read, up to the 2-bit counter's ceiling.
    #[inline(always)]
    fn on_access(&self, word: &AccessWord, _now_ms: u64, _random: u64) {
        // Saturated counters are the common case for hot keys: skip the write.
        if s3::freq(word.get()) < s3::MAX_FREQ {
            let _ = word
                .atomic()
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
                    (s3::freq(w) < s3::MAX_FREQ).then(|| w + 1)
                });
        }
    }

    /// Keys that the queues do not know about (written before a switch to S3-FIFO) are
    /// evicted at random once the queues are empty.
    fn evict<K, KS>(&self, shard: &mut ShardState<K>, ks: &KS, _now_ms: u64) -> Option<K>
    where
        K: Clone + Eq + Hash,
        KS: Keyspace<K> + ?Sized,
    {
        shard
            .s3
            .evict(ks)
            .or_else(|| shard.random_key(ks, SampleFrom::AllKeys))
    }
}

/// The LRU clock, stored only when it changed so that re-reads keep the line clean.
#[inline(always)]
fn lru_access(word: &AccessWord, now_ms: u64) {
    let clock = word::lru_clock(now_ms);
    if word.get() != clock {
        word.set(clock);
    }
}
