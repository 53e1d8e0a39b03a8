//! What a policy needs to see of the keyspace it evicts from.

use crate::AccessWord;

/// Which keys a sample is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleFrom {
    /// Every key of the shard.
    AllKeys,
    /// Only keys that have an expiry time (a TTL).
    Volatile,
}

/// A borrowed view of one entry's eviction metadata.
#[derive(Debug, Clone, Copy)]
pub struct EntryRef<'a> {
    /// The entry's access word.
    pub access: &'a AccessWord,
    /// Absolute expiry time in milliseconds, if the key has a TTL.
    pub expires_at_ms: Option<u64>,
}

/// One shard of a keyspace, as the policies see it.
///
/// The store implements this for a shard while it holds the shard's write lock, and hands
/// it to [`Evictor::on_insert`](crate::Evictor::on_insert) and
/// [`Evictor::evict`](crate::Evictor::evict). `K` is the key handle the store gives out and
/// takes back (for example a reference-counted `Bytes`); policies clone it only when they
/// keep it (the eviction pool, the S3-FIFO queues).
///
/// # Examples
///
/// A keyspace over a `Vec`, sampling by index:
///
/// ```
/// use redistill_evict::{AccessWord, EntryRef, Keyspace, SampleFrom};
///
/// struct Tiny(Vec<(u32, AccessWord, Option<u64>)>);
///
/// impl Keyspace<u32> for Tiny {
///     fn key_count(&self) -> usize {
///         self.0.len()
///     }
///     fn volatile_count(&self) -> usize {
///         self.0.iter().filter(|e| e.2.is_some()).count()
///     }
///     fn sample(&self, from: SampleFrom, rand: u64) -> Option<(&u32, EntryRef<'_>)> {
///         // A real store picks a random slot in O(1); a linear scan is fine for a sketch.
///         let pool: Vec<_> = match from {
///             SampleFrom::AllKeys => self.0.iter().collect(),
///             SampleFrom::Volatile => self.0.iter().filter(|e| e.2.is_some()).collect(),
///         };
///         let e = pool.get((rand % pool.len().max(1) as u64) as usize)?;
///         Some((&e.0, EntryRef { access: &e.1, expires_at_ms: e.2 }))
///     }
///     fn lookup(&self, key: &u32) -> Option<EntryRef<'_>> {
///         let e = self.0.iter().find(|e| e.0 == *key)?;
///         Some(EntryRef { access: &e.1, expires_at_ms: e.2 })
///     }
///     // Each key is its own hash, so a hash names one entry.
///     fn key_hash(&self, key: &u32) -> u64 {
///         u64::from(*key)
///     }
///     fn lookup_hashed(&self, hash: u64, accept: &dyn Fn(u32) -> bool) -> Option<EntryRef<'_>> {
///         let entry = self.lookup(&u32::try_from(hash).ok()?)?;
///         accept(entry.access.get()).then_some(entry)
///     }
///     fn key_hashed(&self, hash: u64, accept: &dyn Fn(u32) -> bool) -> Option<u32> {
///         self.lookup_hashed(hash, accept)?;
///         u32::try_from(hash).ok()
///     }
/// }
///
/// let tiny = Tiny(vec![(1, AccessWord::new(0), None)]);
/// assert_eq!(tiny.sample(SampleFrom::AllKeys, 42).map(|(k, _)| *k), Some(1));
/// assert!(tiny.sample(SampleFrom::Volatile, 42).is_none());
/// ```
pub trait Keyspace<K> {
    /// Number of live keys in the shard.
    fn key_count(&self) -> usize;

    /// Number of live keys that have an expiry time.
    fn volatile_count(&self) -> usize;

    /// One key chosen (close to) uniformly at random from `from`, using `rand` as the
    /// source of randomness; `None` when there is no such key. Must be O(1): sampled
    /// policies call it `maxmemory-samples` times per eviction.
    fn sample(&self, from: SampleFrom, rand: u64) -> Option<(&K, EntryRef<'_>)>;

    /// The entry stored under `key`, if the key is live.
    fn lookup(&self, key: &K) -> Option<EntryRef<'_>>;

    /// The 64-bit hash the keyspace files `key` under. S3-FIFO keeps it in its queues
    /// instead of a copy of the key, and finds the entry again with
    /// [`Keyspace::lookup_hashed`]. Must depend on the key alone, for as long as the key
    /// is in the keyspace; need not be well mixed.
    fn key_hash(&self, key: &K) -> u64;

    /// A live entry whose key hashes to `hash` and whose access word `accept` takes, if
    /// any. Several keys may share a hash; `accept` tells them apart (S3-FIFO checks the
    /// stamp it gave the entry), so any entry of that hash it takes will do.
    fn lookup_hashed(&self, hash: u64, accept: &dyn Fn(u32) -> bool) -> Option<EntryRef<'_>>;

    /// The key of the entry [`Keyspace::lookup_hashed`] finds, as a handle the caller keeps
    /// (S3-FIFO's victim).
    fn key_hashed(&self, hash: u64, accept: &dyn Fn(u32) -> bool) -> Option<K>;
}
