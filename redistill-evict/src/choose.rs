//! Which shards an eviction looks at.
//!
//! Taking victims from shards in a fixed rotation, or from the first non-empty shard after
//! a random start, drains every shard at the same rate whatever the age of its keys, and
//! the second favours shards that follow empty ones (with one database in use out of 16,
//! nearly every eviction would hit that database's first shard). Instead an eviction draws
//! two shards uniformly among those that have something to evict; a ranking policy takes
//! its victim from the one whose best candidate ranks higher (the "power of two choices"),
//! which keeps sharded LRU and LFU close to their single-pool behaviour, and the other
//! policies take it from the fuller of the two, which keeps shards evenly filled.

/// Random probes before falling back to counting the eligible shards.
const PROBES: usize = 32;

/// Two distinct shards out of `count`, drawn uniformly among those for which `eligible`
/// holds; the second is `None` when only one is eligible, and the result is `None` when
/// none is. `random` supplies random bits.
///
/// Cheap when many shards are eligible (a few probes); when few are, it counts them, in
/// O(`count`) calls to `eligible`.
///
/// # Examples
///
/// ```
/// use redistill_evict::{SplitMix64, pick_shards};
///
/// let mut rng = SplitMix64::new(9);
/// // Only shards 3 and 200 of 256 hold keys.
/// let (a, b) = pick_shards(256, || rng.next_u64(), |i| i == 3 || i == 200).unwrap();
/// let mut both = [a, b.unwrap()];
/// both.sort_unstable();
/// assert_eq!(both, [3, 200]);
/// assert_eq!(pick_shards(256, || 7, |i| i == 5), Some((5, None)));
/// assert_eq!(pick_shards(256, || 7, |_| false), None);
/// ```
pub fn pick_shards(
    count: usize,
    mut random: impl FnMut() -> u64,
    eligible: impl Fn(usize) -> bool,
) -> Option<(usize, Option<usize>)> {
    if count <= 1 {
        return (count == 1 && eligible(0)).then_some((0, None));
    }
    let mut first = None;
    for _ in 0..PROBES {
        let i = (random() % count as u64) as usize;
        if !eligible(i) {
            continue;
        }
        match first {
            None => first = Some(i),
            Some(f) if f != i => return Some((f, Some(i))),
            Some(_) => {}
        }
    }
    // Few eligible shards: count them, then pick by position.
    let n = (0..count).filter(|&i| eligible(i)).count();
    let nth = |k: usize| (0..count).filter(|&i| eligible(i)).nth(k);
    match n {
        0 => None,
        1 => nth(0).map(|a| (a, None)),
        _ => {
            let ka = (random() % n as u64) as usize;
            let kb = (ka + 1 + (random() % (n as u64 - 1)) as usize) % n;
            Some((nth(ka)?, nth(kb)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SplitMix64;

    #[test]
    fn picks_are_uniform_among_eligible_shards_wherever_they_sit() {
        // Shards 0..16 of 256 are eligible, the layout of one database in use out of 16:
        // each must come first about 1/16 of the time.
        let mut rng = SplitMix64::new(1);
        let mut firsts = [0u32; 16];
        for _ in 0..16_000 {
            let (a, b) = pick_shards(256, || rng.next_u64(), |i| i < 16).unwrap();
            assert!(a < 16 && b.is_some_and(|b| b < 16 && b != a));
            firsts[a] += 1;
        }
        assert!(
            firsts.iter().all(|&n| (700..1300).contains(&n)),
            "{firsts:?}"
        );
    }

    #[test]
    fn the_fallback_is_uniform_too() {
        let mut rng = SplitMix64::new(2);
        let mut seen = std::collections::HashMap::new();
        for _ in 0..3_000 {
            let (a, b) = pick_shards(1024, || rng.next_u64(), |i| i % 300 == 7).unwrap();
            assert_ne!(Some(a), b);
            *seen.entry(a).or_insert(0u32) += 1;
        }
        assert_eq!(seen.len(), 4);
        assert!(seen.values().all(|&n| (600..900).contains(&n)), "{seen:?}");
    }
}
