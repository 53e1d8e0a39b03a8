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

    /// Heap bytes one copy of the key handle `key` holds (for example the allocation behind
    /// an `Arc<[u8]>`), so that [`ShardState::heap_bytes`](crate::ShardState::heap_bytes)
    /// can count the copies the S3-FIFO queues keep. Must depend on the key alone. The
    /// default, 0, suits keys that own no heap memory.
    fn key_heap_bytes(&self, key: &K) -> usize {
        let _ = key;
        0
    }
}
