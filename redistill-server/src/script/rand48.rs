//! The pseudo-random generator behind scripts' `math.random`: the 48-bit linear
//! congruential generator of `rand48`, as Redis embeds it, so that a script draws the same
//! numbers on both servers. Its state carries over from script to script; only
//! `math.randomseed` resets it.

use std::sync::atomic::{AtomicU64, Ordering};

const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const INCREMENT: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;
/// `rand48`'s state before any seed.
const INITIAL: u64 = 0x1234_ABCD_330E;
/// The largest value a draw is reduced by (`INT32_MAX`).
const RANGE: u32 = i32::MAX as u32;

/// The generator's 48-bit state, shared by the Lua functions that draw from it.
#[derive(Debug)]
pub(crate) struct Rand48(AtomicU64);

impl Default for Rand48 {
    fn default() -> Self {
        Rand48(AtomicU64::new(INITIAL))
    }
}

impl Rand48 {
    /// `srand48`: the state from a 32-bit seed.
    pub fn seed(&self, seed: i32) {
        let high = u64::from(seed.cast_unsigned());
        self.0.store((high << 16) | 0x330E, Ordering::Relaxed);
    }

    /// The next 31-bit draw (`lrand48`).
    fn next(&self) -> u32 {
        let x = self.0.load(Ordering::Relaxed);
        let x = MULTIPLIER.wrapping_mul(x).wrapping_add(INCREMENT) & MASK;
        self.0.store(x, Ordering::Relaxed);
        u32::try_from(x >> 17).unwrap_or(0)
    }

    /// A float in `[0, 1)`, as Lua's `math.random()` draws it.
    pub fn next_unit(&self) -> f64 {
        f64::from(self.next() % RANGE) / f64::from(RANGE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_match_redis() {
        let r = Rand48::default();
        assert_eq!(format!("{:.14}", r.next_unit()), "0.39646477363839");
        assert_eq!(format!("{:.14}", r.next_unit()), "0.84048536971234");
        r.seed(0);
        assert_eq!(format!("{:.14}", r.next_unit()), "0.17082803611217");
    }
}
