//! The policies, under the names Redis's `maxmemory-policy` uses.

use std::fmt;
use std::str::FromStr;

use crate::EvictError;

/// Which entry to drop when a write would exceed the memory limit.
///
/// Names and meanings follow Redis's `maxmemory-policy`, plus [`Policy::AllKeysS3Fifo`].
/// Parsing is case-insensitive, as Redis's `CONFIG SET` is; [`Display`](fmt::Display)
/// prints the canonical lowercase name.
///
/// The sampled policies (`*-lru`, `*-lfu`, `volatile-ttl`) work like Redis's: every eviction
/// draws `maxmemory-samples` random entries from the shard, merges them into a pool of the 16
/// best candidates seen so far, and evicts the best one that is still present and untouched.
///
/// # Examples
///
/// ```
/// use redistill_evict::Policy;
///
/// let policy: Policy = "ALLKEYS-LFU".parse()?;
/// assert_eq!(policy, Policy::AllKeysLfu);
/// assert_eq!(policy.to_string(), "allkeys-lfu");
/// assert!("allkeys-fifo".parse::<Policy>().is_err());
/// # Ok::<(), redistill_evict::EvictError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Policy {
    /// `noeviction`: never evict; writes that need memory fail with OOM.
    ///
    /// Trade-off: no data is ever lost silently and nothing is spent on access tracking
    /// beyond the idle clock, but the cache stops accepting new data once full. Right for a
    /// store that is not a cache.
    #[default]
    NoEviction,
    /// `allkeys-lru`: evict the least recently used key among sampled ones.
    ///
    /// Trade-off: the classic choice, good when recent keys are the likely next ones. One
    /// relaxed atomic store per read; each eviction costs `maxmemory-samples` samples. A burst
    /// of one-time keys (a scan) flushes the hot set, and with 10 samples it lands within a
    /// fraction of a point of exact LRU (see the README's table).
    AllKeysLru,
    /// `allkeys-lfu`: evict the least frequently used key among sampled ones, using Redis's
    /// logarithmic 8-bit counter that decays over time.
    ///
    /// Trade-off: resists scans and keeps a stable hot set better than LRU; slower to adapt
    /// when popularity shifts (the counter decays by one per `lfu-decay-time` minutes). Reads
    /// cost a random draw and an atomic store.
    AllKeysLfu,
    /// `allkeys-random`: evict a random key.
    ///
    /// Trade-off: no per-read work at all and O(1) eviction, but it ignores popularity, so it
    /// trails every other policy on skewed workloads. Right for uniform access patterns.
    AllKeysRandom,
    /// `volatile-lru`: like [`Policy::AllKeysLru`] but only among keys with a TTL.
    ///
    /// Trade-off: keys without a TTL are never evicted, which lets one instance hold both
    /// persistent data and a cache; when no key has a TTL left, writes fail with OOM.
    VolatileLru,
    /// `volatile-lfu`: like [`Policy::AllKeysLfu`] but only among keys with a TTL.
    ///
    /// Trade-off: as [`Policy::VolatileLru`], with LFU's scan resistance.
    VolatileLfu,
    /// `volatile-random`: a random key among those with a TTL.
    ///
    /// Trade-off: as [`Policy::AllKeysRandom`], restricted to keys with a TTL.
    VolatileRandom,
    /// `volatile-ttl`: among sampled keys with a TTL, the one that expires soonest.
    ///
    /// Trade-off: lets the application rank keys through their TTLs; ignores access
    /// patterns entirely.
    VolatileTtl,
    /// `allkeys-s3fifo`: S3-FIFO (Yang et al., SOSP 2023) over all keys: a small FIFO for new
    /// keys (10% of the shard's bytes), a main FIFO with a 2-bit clock, and a ghost queue of
    /// fingerprints of keys recently evicted from the small FIFO.
    ///
    /// Trade-off: one-hit wonders leave quickly through the small queue, so it resists scans
    /// and beats LRU's miss ratio on skewed workloads; reads only bump a 2-bit counter (and
    /// stop writing once it saturates). The price is a queue slot per key (key handle, size
    /// and stamp) plus a fingerprint per ghost, kept under the shard's write lock. Not a
    /// Redis policy: Redis clients that only know Redis's names never ask for it.
    AllKeysS3Fifo,
}

/// How a policy ranks candidates; several policies share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    None,
    Lru,
    Lfu,
    Random,
    Ttl,
    S3Fifo,
}

impl Policy {
    /// Every policy, in the order Redis lists its own, then S3-FIFO.
    pub const ALL: [Policy; 9] = [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllKeysLru,
        Policy::AllKeysLfu,
        Policy::AllKeysRandom,
        Policy::AllKeysS3Fifo,
        Policy::NoEviction,
    ];

    /// The canonical name, as Redis spells it (`CONFIG GET maxmemory-policy`).
    pub const fn name(self) -> &'static str {
        match self {
            Policy::NoEviction => "noeviction",
            Policy::AllKeysLru => "allkeys-lru",
            Policy::AllKeysLfu => "allkeys-lfu",
            Policy::AllKeysRandom => "allkeys-random",
            Policy::VolatileLru => "volatile-lru",
            Policy::VolatileLfu => "volatile-lfu",
            Policy::VolatileRandom => "volatile-random",
            Policy::VolatileTtl => "volatile-ttl",
            Policy::AllKeysS3Fifo => "allkeys-s3fifo",
        }
    }

    /// Whether the policy only ever evicts keys that have a TTL.
    pub const fn is_volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    /// Whether the policy can evict at all (`false` only for `noeviction`).
    pub const fn can_evict(self) -> bool {
        !matches!(self, Policy::NoEviction)
    }

    /// Whether entries' access words hold Redis's LFU counter (as `OBJECT FREQ` needs).
    #[inline]
    pub const fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    /// Whether entries' access words hold the LRU clock, so that idle times (as
    /// `OBJECT IDLETIME` reports them) are meaningful: every policy but the LFU ones and
    /// S3-FIFO.
    pub const fn tracks_idle_time(self) -> bool {
        !self.is_lfu() && !matches!(self, Policy::AllKeysS3Fifo)
    }

    #[inline]
    pub(crate) const fn kind(self) -> Kind {
        match self {
            Policy::NoEviction => Kind::None,
            Policy::AllKeysLru | Policy::VolatileLru => Kind::Lru,
            Policy::AllKeysLfu | Policy::VolatileLfu => Kind::Lfu,
            Policy::AllKeysRandom | Policy::VolatileRandom => Kind::Random,
            Policy::VolatileTtl => Kind::Ttl,
            Policy::AllKeysS3Fifo => Kind::S3Fifo,
        }
    }

    pub(crate) const fn to_u8(self) -> u8 {
        match self {
            Policy::NoEviction => 0,
            Policy::AllKeysLru => 1,
            Policy::AllKeysLfu => 2,
            Policy::AllKeysRandom => 3,
            Policy::VolatileLru => 4,
            Policy::VolatileLfu => 5,
            Policy::VolatileRandom => 6,
            Policy::VolatileTtl => 7,
            Policy::AllKeysS3Fifo => 8,
        }
    }

    #[inline]
    pub(crate) const fn from_u8(v: u8) -> Policy {
        match v {
            1 => Policy::AllKeysLru,
            2 => Policy::AllKeysLfu,
            3 => Policy::AllKeysRandom,
            4 => Policy::VolatileLru,
            5 => Policy::VolatileLfu,
            6 => Policy::VolatileRandom,
            7 => Policy::VolatileTtl,
            8 => Policy::AllKeysS3Fifo,
            _ => Policy::NoEviction,
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Policy {
    type Err = EvictError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| EvictError::UnknownPolicy { name: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_u8_codes_are_distinct() {
        for p in Policy::ALL {
            assert_eq!(p.name().parse::<Policy>(), Ok(p));
            assert_eq!(p.name().to_ascii_uppercase().parse::<Policy>(), Ok(p));
            assert_eq!(Policy::from_u8(p.to_u8()), p);
        }
    }

    #[test]
    fn unknown_name_is_a_typed_error() {
        assert_eq!(
            "allkeys-lru ".parse::<Policy>(),
            Err(EvictError::UnknownPolicy {
                name: "allkeys-lru ".into()
            })
        );
    }
}
