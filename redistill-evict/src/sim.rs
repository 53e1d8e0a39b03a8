//! A single-shard cache simulator that drives the policies through the same traits the
//! store uses, plus an exact LRU reference and trace generators.
//!
//! Time is logical: every request advances the clock by one millisecond, so a trace of a
//! million requests spans about 17 minutes, long enough for LFU's one-minute decay to act.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::keyspace::{EntryRef, Keyspace, SampleFrom};
use crate::rng::{SplitMix64, mix};
use crate::{AccessWord, Evictor, Policy, ShardState, pick_shards};

/// Consecutive shards that may yield no victim before a write is rejected (as the store).
const MAX_FRUITLESS: usize = 64;

/// A fast hasher for `u64` keys (a 128-bit multiply folded to 64 bits).
#[derive(Default)]
pub struct U64Hasher(u64);

impl Hasher for U64Hasher {
    fn finish(&self) -> u64 {
        let p = u128::from(self.0) * 0x9E37_79B9_7F4A_7C15_u128;
        (p as u64) ^ ((p >> 64) as u64)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type FastMap<V> = HashMap<u64, V, BuildHasherDefault<U64Hasher>>;

#[derive(Debug)]
struct SimEntry {
    key: u64,
    size: u64,
    word: AccessWord,
    expires_at_ms: Option<u64>,
    // Position in `SimKeyspace::volatile`, when the entry has a TTL.
    volatile_at: usize,
}

/// An in-memory keyspace of `u64` keys with O(1) insert, remove, lookup and uniform
/// sampling (dense arrays with swap-remove), implementing [`Keyspace`].
///
/// # Examples
///
/// ```
/// use redistill_evict::{AccessWord, Keyspace, SampleFrom, SimKeyspace};
///
/// let mut keys = SimKeyspace::new();
/// keys.insert(1, 10, AccessWord::new(0), None);
/// keys.insert(2, 10, AccessWord::new(0), Some(5_000));
/// assert_eq!(keys.volatile_count(), 1);
/// assert_eq!(keys.sample(SampleFrom::Volatile, 99).map(|(k, _)| *k), Some(2));
/// assert_eq!(keys.remove(2), Some(10));
/// assert_eq!(keys.key_count(), 1);
/// ```
#[derive(Debug, Default)]
pub struct SimKeyspace {
    index: FastMap<usize>,
    entries: Vec<SimEntry>,
    volatile: Vec<usize>,
}

impl SimKeyspace {
    /// An empty keyspace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: u64) -> bool {
        self.index.contains_key(&key)
    }

    /// The access word of `key`.
    pub fn word(&self, key: &u64) -> Option<&AccessWord> {
        self.index.get(key).map(|&i| &self.entries[i].word)
    }

    /// Inserts (or replaces) `key`.
    pub fn insert(&mut self, key: u64, size: u64, word: AccessWord, expires_at_ms: Option<u64>) {
        self.remove(key);
        let at = self.entries.len();
        let volatile_at = if expires_at_ms.is_some() {
            self.volatile.push(at);
            self.volatile.len() - 1
        } else {
            usize::MAX
        };
        self.entries.push(SimEntry {
            key,
            size,
            word,
            expires_at_ms,
            volatile_at,
        });
        self.index.insert(key, at);
    }

    /// Removes `key`, returning its size.
    pub fn remove(&mut self, key: u64) -> Option<u64> {
        let at = self.index.remove(&key)?;
        let v = self.entries[at].volatile_at;
        if v != usize::MAX {
            self.volatile.swap_remove(v);
            if let Some(&moved) = self.volatile.get(v) {
                self.entries[moved].volatile_at = v;
            }
        }
        let entry = self.entries.swap_remove(at);
        if at < self.entries.len() {
            // The last entry moved into the hole: repoint its index and volatile slot.
            let moved_key = self.entries[at].key;
            self.index.insert(moved_key, at);
            let mv = self.entries[at].volatile_at;
            if mv != usize::MAX {
                self.volatile[mv] = at;
            }
        }
        Some(entry.size)
    }

    fn entry_ref(entry: &SimEntry) -> EntryRef<'_> {
        EntryRef {
            access: &entry.word,
            expires_at_ms: entry.expires_at_ms,
        }
    }
}

impl Keyspace<u64> for SimKeyspace {
    fn key_count(&self) -> usize {
        self.entries.len()
    }

    fn volatile_count(&self) -> usize {
        self.volatile.len()
    }

    fn sample(&self, from: SampleFrom, rand: u64) -> Option<(&u64, EntryRef<'_>)> {
        let at = match from {
            SampleFrom::AllKeys => {
                let n = self.entries.len() as u64;
                (n > 0).then(|| (rand % n) as usize)?
            }
            SampleFrom::Volatile => {
                let n = self.volatile.len() as u64;
                *self.volatile.get((rand % n.max(1)) as usize)?
            }
        };
        let entry = self.entries.get(at)?;
        Some((&entry.key, Self::entry_ref(entry)))
    }

    fn lookup(&self, key: &u64) -> Option<EntryRef<'_>> {
        let &at = self.index.get(key)?;
        Some(Self::entry_ref(&self.entries[at]))
    }

    /// Each key is its own hash: a hash names at most one entry.
    fn key_hash(&self, key: &u64) -> u64 {
        *key
    }

    fn lookup_hashed(&self, hash: u64, accept: &dyn Fn(u32) -> bool) -> Option<EntryRef<'_>> {
        self.lookup(&hash)
            .filter(|entry| accept(entry.access.get()))
    }

    fn key_hashed(&self, hash: u64, accept: &dyn Fn(u32) -> bool) -> Option<u64> {
        self.lookup_hashed(hash, accept).map(|_| hash)
    }
}

/// What happened to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The key was cached.
    Hit,
    /// The key was missing and has been inserted (after evictions, if needed).
    Miss,
    /// The key was missing and could not be inserted: the policy had nothing to evict
    /// (the server would answer OOM), or the object is larger than the cache.
    Rejected,
}

/// Hit and miss counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimStats {
    /// Requests that hit.
    pub hits: u64,
    /// Requests that missed, rejected ones included.
    pub misses: u64,
    /// Misses that could not be inserted.
    pub rejected: u64,
    /// Keys evicted.
    pub evictions: u64,
}

impl SimStats {
    /// Hits over requests, in `[0, 1]`; 0 with no requests.
    pub fn hit_ratio(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            0.0
        } else {
            self.hits as f64 / total as f64
        }
    }

    /// Misses over requests, in `[0, 1]`.
    pub fn miss_ratio(&self) -> f64 {
        if self.hits + self.misses == 0 {
            0.0
        } else {
            1.0 - self.hit_ratio()
        }
    }
}

/// How the simulator gives keys a TTL, for the volatile policies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TtlSpec {
    /// Fraction of keys (chosen by a hash of the key) that get a TTL, in `[0, 1]`.
    pub fraction: f64,
    /// The smallest TTL in milliseconds; TTLs spread uniformly (by key hash) over
    /// `[min_ms, 2 * min_ms)`.
    pub min_ms: u64,
}

impl Default for TtlSpec {
    /// Half the keys, TTLs of one to two hours: longer than a default trace, so the
    /// simulation measures eviction, not expiry.
    fn default() -> Self {
        Self {
            fraction: 0.5,
            min_ms: 3_600_000,
        }
    }
}

impl TtlSpec {
    /// The absolute expiry time `key` gets when inserted at `now_ms`, if any.
    pub fn expiry_for(&self, key: u64, now_ms: u64) -> Option<u64> {
        let h = mix(key ^ 0xA076_1D64_78BD_642F);
        let unit = (h >> 11) as f64 / (1u64 << 53) as f64;
        (unit < self.fraction).then(|| {
            now_ms
                .saturating_add(self.min_ms)
                .saturating_add(h % self.min_ms.max(1))
        })
    }
}

/// One shard of a [`SimCache`]: its keys and its eviction state.
#[derive(Debug)]
struct SimShard {
    keys: SimKeyspace,
    state: ShardState<u64>,
}

/// A byte-budgeted cache of one or more shards, each a [`SimKeyspace`] with its
/// [`ShardState`], sharing one [`Evictor`] and driven the way the store drives them: keys
/// map to shards by hash, and a write over budget evicts, from shards chosen by
/// [`pick_shards`], until it fits (or no shard has anything to give: the write is
/// rejected).
///
/// # Examples
///
/// ```
/// use redistill_evict::{Outcome, Policy, SimCache};
///
/// let mut cache = SimCache::new(Policy::AllKeysS3Fifo, 2, 1);
/// assert_eq!(cache.request(1, 1), Outcome::Miss);
/// assert_eq!(cache.request(1, 1), Outcome::Hit);
/// cache.request(2, 1);
/// cache.request(3, 1);
/// assert!(cache.used() <= 2);
/// assert_eq!(cache.stats().hits, 1);
///
/// let mut sharded = SimCache::with_shards(Policy::AllKeysLru, 100, 8, 1);
/// for key in 0..1_000 {
///     sharded.request(key, 1);
/// }
/// assert_eq!(sharded.used(), 100);
/// ```
#[derive(Debug)]
pub struct SimCache {
    evictor: Evictor,
    shards: Vec<SimShard>,
    capacity: u64,
    used: u64,
    now_ms: u64,
    ttl: TtlSpec,
    stats: SimStats,
    rng: SplitMix64,
}

impl SimCache {
    /// A single-shard cache of `capacity` bytes under `policy`, with seeded randomness
    /// and the default [`TtlSpec`].
    pub fn new(policy: Policy, capacity: u64, seed: u64) -> Self {
        Self::with_shards(policy, capacity, 1, seed)
    }

    /// A cache of `capacity` bytes split over `shards` shards (at least one).
    pub fn with_shards(policy: Policy, capacity: u64, shards: usize, seed: u64) -> Self {
        let shards = (0..shards.max(1) as u64)
            .map(|i| SimShard {
                keys: SimKeyspace::new(),
                state: ShardState::with_seed(seed.wrapping_add(i)),
            })
            .collect();
        Self {
            evictor: Evictor::new(policy),
            shards,
            capacity,
            used: 0,
            now_ms: 0,
            ttl: TtlSpec::default(),
            stats: SimStats::default(),
            rng: SplitMix64::new(seed ^ 0x5151_5151),
        }
    }

    /// Replaces the TTL assignment for keys inserted from now on.
    pub fn with_ttl(mut self, ttl: TtlSpec) -> Self {
        self.ttl = ttl;
        self
    }

    /// The evictor, to change settings such as `maxmemory-samples`.
    pub fn evictor(&self) -> &Evictor {
        &self.evictor
    }

    /// The first shard's eviction state (the only one of a single-shard cache).
    pub fn shard(&self) -> &ShardState<u64> {
        &self.shards[0].state
    }

    /// The first shard's keys (all keys of a single-shard cache).
    pub fn keys(&self) -> &SimKeyspace {
        &self.shards[0].keys
    }

    /// Number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Keys and eviction state of shard `i`.
    pub fn shard_at(&self, i: usize) -> Option<(&SimKeyspace, &ShardState<u64>)> {
        self.shards.get(i).map(|s| (&s.keys, &s.state))
    }

    /// Whether `key` is cached.
    pub fn contains(&self, key: u64) -> bool {
        self.shards[self.shard_of(key)].keys.contains(key)
    }

    /// Bytes cached.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// The byte budget.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Counts so far.
    pub fn stats(&self) -> SimStats {
        self.stats
    }

    fn shard_of(&self, key: u64) -> usize {
        (mix(key) % self.shards.len() as u64) as usize
    }

    /// Requests `key` of `size` bytes: a hit records an access, a miss inserts the key
    /// after evicting until it fits.
    pub fn request(&mut self, key: u64, size: u64) -> Outcome {
        self.now_ms += 1;
        let shard = &self.shards[self.shard_of(key)];
        if let Some(word) = shard.keys.word(&key) {
            let random = self.rng.next_u64();
            self.evictor
                .on_access_with_random(word, self.now_ms, random);
            self.stats.hits += 1;
            return Outcome::Hit;
        }
        self.stats.misses += 1;
        if self.insert(key, size) {
            Outcome::Miss
        } else {
            self.stats.rejected += 1;
            Outcome::Rejected
        }
    }

    /// Evicts one key, choosing shards as the store does ([`pick_shards`]): two drawn among
    /// those with something to evict, the better candidate of the two under a ranking
    /// policy, the fuller one's victim otherwise.
    fn evict_one(&mut self) -> bool {
        let volatile = self.evictor.policy().is_volatile();
        let shards = &mut self.shards;
        let rng = &mut self.rng;
        let now = self.now_ms;
        for _ in 0..MAX_FRUITLESS {
            let Some((a, b)) = pick_shards(
                shards.len(),
                || rng.next_u64(),
                |i| {
                    let keys = &shards[i].keys;
                    if volatile {
                        keys.volatile_count() > 0
                    } else {
                        keys.key_count() > 0
                    }
                },
            ) else {
                return false;
            };
            let victim = match b {
                Some(b) if self.evictor.ranks_victims() => {
                    // Ties go to the fuller shard, as in the store.
                    let rank = |s: &mut SimShard, evictor: &Evictor| {
                        let v = evictor.candidate(&mut s.state, &s.keys, now)?;
                        Some((v.rank, s.keys.key_count()))
                    };
                    let ra = rank(&mut shards[a], &self.evictor);
                    let rb = rank(&mut shards[b], &self.evictor);
                    let winner = if rb > ra { b } else { a };
                    shards[winner]
                        .state
                        .take_candidate()
                        .map(|key| (winner, key))
                }
                // Policies that do not rank take from the fuller shard, which keeps the
                // shards' sizes even, as one global queue or random draw would.
                _ => {
                    let count = |s: &SimShard| {
                        if volatile {
                            s.keys.volatile_count()
                        } else {
                            s.keys.key_count()
                        }
                    };
                    let a = match b {
                        Some(b) if count(&shards[b]) > count(&shards[a]) => b,
                        _ => a,
                    };
                    let s = &mut shards[a];
                    self.evictor
                        .evict(&mut s.state, &s.keys, now)
                        .map(|key| (a, key))
                }
            };
            let Some((i, key)) = victim else {
                continue;
            };
            // A policy must only name present keys; a miss here is a bug, not a victim.
            let Some(freed) = shards[i].keys.remove(key) else {
                return false;
            };
            self.used -= freed;
            self.stats.evictions += 1;
            return true;
        }
        false
    }

    /// Writes `key` as a new entry (replacing any old one), evicting as needed. Returns
    /// `false` when it does not fit and nothing can be evicted.
    pub fn insert(&mut self, key: u64, size: u64) -> bool {
        self.delete(key);
        if size > self.capacity {
            return false;
        }
        while self.used.saturating_add(size) > self.capacity {
            if !self.evict_one() {
                return false;
            }
        }
        let now = self.now_ms;
        let expires = self.ttl.expiry_for(key, now);
        let i = self.shard_of(key);
        let shard = &mut self.shards[i];
        let word = self
            .evictor
            .on_insert(&mut shard.state, &shard.keys, &key, size, now);
        shard.keys.insert(key, size, word, expires);
        self.used += size;
        true
    }

    /// Deletes `key` the way a user's `DEL` would: the policy is not told.
    pub fn delete(&mut self, key: u64) -> bool {
        let i = self.shard_of(key);
        match self.shards[i].keys.remove(key) {
            Some(size) => {
                self.used -= size;
                true
            }
            None => false,
        }
    }

    /// Advances the logical clock by `ms` without a request.
    pub fn advance(&mut self, ms: u64) {
        self.now_ms = self.now_ms.saturating_add(ms);
    }
}

#[derive(Debug, Clone, Copy)]
struct LruNode {
    key: u64,
    size: u64,
    prev: usize,
    next: usize,
}

const NIL: usize = usize::MAX;

/// Exact LRU with a byte budget: a hash map into an intrusive doubly linked list. The
/// reference the sampled policies are measured against.
///
/// # Examples
///
/// ```
/// use redistill_evict::ExactLru;
///
/// let mut lru = ExactLru::new(2);
/// assert!(!lru.request(1, 1));
/// assert!(!lru.request(2, 1));
/// assert!(lru.request(1, 1));
/// assert!(!lru.request(3, 1)); // evicts 2, the least recently used
/// assert!(lru.request(1, 1));
/// assert!(!lru.request(2, 1));
/// ```
#[derive(Debug)]
pub struct ExactLru {
    index: FastMap<usize>,
    nodes: Vec<LruNode>,
    free: Vec<usize>,
    head: usize,
    tail: usize,
    capacity: u64,
    used: u64,
    stats: SimStats,
}

impl ExactLru {
    /// An empty cache of `capacity` bytes.
    pub fn new(capacity: u64) -> Self {
        Self {
            index: FastMap::default(),
            nodes: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            capacity,
            used: 0,
            stats: SimStats::default(),
        }
    }

    /// Counts so far.
    pub fn stats(&self) -> SimStats {
        self.stats
    }

    /// Bytes cached.
    pub fn used(&self) -> u64 {
        self.used
    }

    fn unlink(&mut self, i: usize) {
        let LruNode { prev, next, .. } = self.nodes[i];
        if prev == NIL {
            self.head = next;
        } else {
            self.nodes[prev].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.nodes[next].prev = prev;
        }
    }

    fn push_front(&mut self, i: usize) {
        self.nodes[i].prev = NIL;
        self.nodes[i].next = self.head;
        if self.head != NIL {
            self.nodes[self.head].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    /// Requests `key`; returns whether it hit. Misses are inserted when they fit.
    pub fn request(&mut self, key: u64, size: u64) -> bool {
        if let Some(&i) = self.index.get(&key) {
            self.unlink(i);
            self.push_front(i);
            self.stats.hits += 1;
            return true;
        }
        self.stats.misses += 1;
        if size > self.capacity {
            self.stats.rejected += 1;
            return false;
        }
        while self.used.saturating_add(size) > self.capacity && self.tail != NIL {
            let victim = self.tail;
            self.unlink(victim);
            let node = self.nodes[victim];
            self.index.remove(&node.key);
            self.used -= node.size;
            self.free.push(victim);
            self.stats.evictions += 1;
        }
        let node = LruNode {
            key,
            size,
            prev: NIL,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i] = node;
                i
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        };
        self.push_front(i);
        self.index.insert(key, i);
        self.used += size;
        false
    }
}

/// A Zipf sampler over ranks `0..n` (rank 0 most popular): probability of rank `i`
/// proportional to `1 / (i + 1)^alpha`, by binary search over the cumulative weights.
///
/// # Examples
///
/// ```
/// use redistill_evict::{SplitMix64, Zipf};
///
/// let zipf = Zipf::new(1_000, 1.0);
/// let mut rng = SplitMix64::new(1);
/// let draws: Vec<u64> = (0..1_000).map(|_| zipf.sample(&mut rng)).collect();
/// assert!(draws.iter().all(|&r| r < 1_000));
/// assert!(draws.iter().filter(|&&r| r == 0).count() > draws.iter().filter(|&&r| r == 999).count());
/// ```
#[derive(Debug, Clone)]
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    /// A sampler over `n` ranks (at least one) with exponent `alpha`.
    pub fn new(n: u64, alpha: f64) -> Self {
        let n = n.max(1);
        let mut cdf = Vec::with_capacity(n as usize);
        let mut total = 0.0;
        for i in 1..=n {
            total += 1.0 / (i as f64).powf(alpha);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Self { cdf }
    }

    /// One rank.
    pub fn sample(&self, rng: &mut SplitMix64) -> u64 {
        let u = rng.next_f64();
        let i = self.cdf.partition_point(|&c| c < u);
        i.min(self.cdf.len() - 1) as u64
    }
}

/// One request of a trace: a key and its size in bytes.
pub type Request = (u64, u64);

/// `requests` draws from a Zipf(`alpha`) popularity over `objects` unit-size keys.
pub fn zipf_trace(objects: u64, alpha: f64, requests: usize, seed: u64) -> Vec<Request> {
    let zipf = Zipf::new(objects, alpha);
    let mut rng = SplitMix64::new(seed);
    (0..requests).map(|_| (zipf.sample(&mut rng), 1)).collect()
}

/// A Zipf trace interrupted by one-time scans: after every `zipf_run` Zipf requests come
/// `scan_len` requests for keys never seen before and never seen again.
pub fn scan_mixed_trace(
    objects: u64,
    alpha: f64,
    requests: usize,
    zipf_run: usize,
    scan_len: usize,
    seed: u64,
) -> Vec<Request> {
    let zipf = Zipf::new(objects, alpha);
    let mut rng = SplitMix64::new(seed);
    let mut next_scan_key = objects;
    let mut out = Vec::with_capacity(requests);
    let period = zipf_run + scan_len;
    for i in 0..requests {
        if period > 0 && i % period >= zipf_run {
            out.push((next_scan_key, 1));
            next_scan_key += 1;
        } else {
            out.push((zipf.sample(&mut rng), 1));
        }
    }
    out
}

/// Parses a trace in the simulator's text format: one request per line, a key and an
/// optional decimal size in bytes (default 1), separated by whitespace; blank lines and
/// lines starting with `#` are skipped. Keys are arbitrary tokens, numbered in order of
/// first appearance.
///
/// # Errors
///
/// The 1-based line number and text of a line whose size is not a positive integer.
///
/// # Examples
///
/// ```
/// use redistill_evict::sim::parse_trace;
///
/// let trace = parse_trace("# demo\nuser:1 100\nuser:2\nuser:1 100\n").unwrap();
/// assert_eq!(trace, vec![(0, 100), (1, 1), (0, 100)]);
/// assert!(parse_trace("k -3").is_err());
/// ```
pub fn parse_trace(text: &str) -> Result<Vec<Request>, (usize, String)> {
    let mut ids: HashMap<&str, u64> = HashMap::new();
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let Some(key) = fields.next() else { continue };
        let size = match fields.next() {
            None => 1,
            Some(s) => match s.parse::<u64>() {
                Ok(v) if v > 0 => v,
                _ => return Err((n + 1, line.to_owned())),
            },
        };
        let next_id = ids.len() as u64;
        let id = *ids.entry(key).or_insert(next_id);
        out.push((id, size));
    }
    Ok(out)
}

/// The trace's footprint: the summed size of its distinct keys (each at its first size).
pub fn footprint(trace: &[Request]) -> u64 {
    let mut seen: FastMap<()> = FastMap::default();
    let mut total: u64 = 0;
    for &(key, size) in trace {
        if seen.insert(key, ()).is_none() {
            total = total.saturating_add(size);
        }
    }
    total
}
