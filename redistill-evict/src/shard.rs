//! The eviction state each shard keeps: its random generator, the sampled policies' pool
//! and S3-FIFO's queues.

use std::hash::Hash;

use crate::keyspace::{EntryRef, Keyspace, SampleFrom};
use crate::policies::Victim;
use crate::policy::Kind;
use crate::rng::{self, SplitMix64};
use crate::s3fifo::{S3FifoQueues, S3FifoStats};

/// Size of the eviction pool (Redis's `EVPOOL_SIZE`).
pub const POOL_SIZE: usize = 16;

/// How many times a candidate search refills the pool when every candidate turned out to
/// be gone or touched since it was sampled, before it reports nothing to evict.
const MAX_POOL_ROUNDS: usize = 16;

/// One eviction candidate: sorted ascending by `score`, the best victim last.
#[derive(Debug, Clone)]
struct Candidate<K> {
    key: K,
    word: u32,
    score: u64,
}

/// The eviction state one shard keeps, mutated only under the shard's write lock.
///
/// It holds the shard's random generator, its eviction pool (sampled policies) and its
/// S3-FIFO queues. State of a policy that is no longer in force is dropped lazily.
///
/// # Examples
///
/// ```
/// use redistill_evict::ShardState;
///
/// let shard: ShardState<Vec<u8>> = ShardState::new();
/// assert_eq!(shard.s3fifo_stats().small_len, 0);
/// ```
#[derive(Debug)]
pub struct ShardState<K> {
    rng: SplitMix64,
    pool: Vec<Candidate<K>>,
    pool_kind: Option<Kind>,
    pub(crate) s3: S3FifoQueues,
}

impl<K> Default for ShardState<K> {
    fn default() -> Self {
        Self::with_seed(rng::next_seed())
    }
}

impl<K> ShardState<K> {
    /// Empty state, seeded from a process-wide sequence: shards of one process sample
    /// differently, and a single-threaded run is reproducible.
    pub fn new() -> Self {
        Self::default()
    }

    /// Empty state whose random choices are determined by `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
            // Allocated on the first eviction: most shards of most stores never evict.
            pool: Vec::new(),
            pool_kind: None,
            s3: S3FifoQueues::default(),
        }
    }

    /// Candidates currently in the eviction pool.
    pub fn pool_len(&self) -> usize {
        self.pool.len()
    }

    /// Heap bytes this state holds, in O(1): the eviction pool's array, and the S3-FIFO
    /// queues (16 bytes a slot) with their ghost (fingerprints and their index). A store
    /// adds it to its memory total so that a memory limit covers the policy's own state
    /// too. Pooled keys of the sampled policies (at most [`POOL_SIZE`] handles) are not
    /// counted.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_evict::ShardState;
    ///
    /// let shard: ShardState<Vec<u8>> = ShardState::new();
    /// assert_eq!(shard.heap_bytes(), 0);
    /// ```
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        self.pool
            .capacity()
            .saturating_mul(std::mem::size_of::<Candidate<K>>())
            .saturating_add(self.s3.heap_bytes())
    }
}

impl<K: Clone + Eq + Hash> ShardState<K> {
    /// Queue lengths and bytes of the S3-FIFO state.
    pub fn s3fifo_stats(&self) -> S3FifoStats {
        self.s3.stats()
    }

    /// Checks the S3-FIFO accounting (byte totals match the queued slots; the ghost is no
    /// longer than the main queue, or its small floor). Meant for tests.
    ///
    /// # Errors
    ///
    /// A description of the first inconsistency found.
    pub fn check_invariants(&self) -> Result<(), String> {
        if self.pool.len() > POOL_SIZE {
            return Err(format!("pool holds {} candidates", self.pool.len()));
        }
        if self.pool.windows(2).any(|w| w[0].score > w[1].score) {
            return Err("pool out of order".into());
        }
        self.s3.check_invariants()
    }

    /// Live S3-FIFO slots per queue, `(small, main)`: slots whose key is still present
    /// with the same stamp. Meant for tests.
    pub fn s3fifo_live_counts<KS: Keyspace<K> + ?Sized>(&self, keyspace: &KS) -> (usize, usize) {
        self.s3.live_counts(keyspace)
    }

    /// Drops the state of policies other than `kind`, after a policy switch.
    pub(crate) fn forget_other_policies(&mut self, kind: Kind) {
        if kind != Kind::S3Fifo && !self.s3.is_empty() {
            self.s3.clear();
        }
        if self.pool_kind != Some(kind) {
            self.pool.clear();
            self.pool_kind = Some(kind);
        }
    }

    /// A key drawn at random from `from`, or `None` when there is none.
    pub fn random_key<KS: Keyspace<K> + ?Sized>(
        &mut self,
        keyspace: &KS,
        from: SampleFrom,
    ) -> Option<K> {
        let (key, _) = keyspace.sample(from, self.rng.next_u64())?;
        Some(key.clone())
    }

    /// Redis's eviction pool (`evictionPoolPopulate`): draws `samples` keys from `from`,
    /// merges them into the pool of the 16 best candidates kept between evictions, and
    /// reports the best one that is still present (and, when `check_word`, not read since
    /// it was sampled), leaving it in the pool for [`ShardState::take_candidate`].
    ///
    /// `rank` scores a sampled entry, higher for a better victim; `None` leaves the entry
    /// out. The sampled policies are built on this; so can a policy of the caller's.
    pub fn pooled_candidate<KS, F>(
        &mut self,
        keyspace: &KS,
        from: SampleFrom,
        samples: u32,
        check_word: bool,
        rank: F,
    ) -> Option<Victim<K>>
    where
        KS: Keyspace<K> + ?Sized,
        F: Fn(&EntryRef<'_>) -> Option<u64>,
    {
        let available = match from {
            SampleFrom::AllKeys => keyspace.key_count(),
            SampleFrom::Volatile => keyspace.volatile_count(),
        };
        if available == 0 {
            self.pool.clear();
            return None;
        }
        for _ in 0..MAX_POOL_ROUNDS {
            for _ in 0..samples {
                let Some((key, entry)) = keyspace.sample(from, self.rng.next_u64()) else {
                    continue;
                };
                if let Some(score) = rank(&entry) {
                    self.pool_insert(key, entry.access.get(), score);
                }
            }
            while let Some(best) = self.pool.last() {
                let valid = keyspace.lookup(&best.key).is_some_and(|entry| {
                    (from == SampleFrom::AllKeys || entry.expires_at_ms.is_some())
                        // A candidate read since it was sampled is no longer what its
                        // score says.
                        && (!check_word || entry.access.get() == best.word)
                });
                if valid {
                    return Some(Victim {
                        key: best.key.clone(),
                        rank: best.score,
                    });
                }
                self.pool.pop();
            }
        }
        None
    }

    /// Removes the candidate that the last [`ShardState::pooled_candidate`] call (through a
    /// policy's [`EvictionPolicy::candidate`](crate::EvictionPolicy::candidate)) reported,
    /// and returns its key. Call it under the same lock as that call.
    pub fn take_candidate(&mut self) -> Option<K> {
        self.pool.pop().map(|c| c.key)
    }

    /// Merges one sample into the pool: a key already pooled keeps one slot, with its
    /// fresher score; a full pool admits only a better candidate than its worst.
    fn pool_insert(&mut self, key: &K, word: u32, score: u64) {
        if let Some(i) = self.pool.iter().position(|c| c.key == *key) {
            self.pool.remove(i);
        }
        if self.pool.len() == POOL_SIZE {
            match self.pool.first() {
                Some(worst) if score > worst.score => {
                    self.pool.remove(0);
                }
                _ => return,
            }
        }
        let at = self.pool.partition_point(|c| c.score <= score);
        self.pool.insert(
            at,
            Candidate {
                key: key.clone(),
                word,
                score,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_keeps_the_best_sixteen_sorted_without_duplicates() {
        let mut shard: ShardState<u32> = ShardState::with_seed(1);
        for key in 0..40u32 {
            shard.pool_insert(&key, 0, u64::from(key % 20));
        }
        shard.pool_insert(&39, 0, 100);
        assert_eq!(shard.pool.len(), POOL_SIZE);
        assert!(shard.check_invariants().is_ok());
        let keys: Vec<u32> = shard.pool.iter().map(|c| c.key).collect();
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len());
        assert_eq!(shard.pool.last().map(|c| (c.key, c.score)), Some((39, 100)));
        // Scores below the worst pooled one are not admitted into a full pool.
        assert!(shard.pool.first().is_some_and(|c| c.score >= 12));
    }
}
