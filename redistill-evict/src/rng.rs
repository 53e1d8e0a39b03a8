//! A tiny seeded pseudo-random generator.
//!
//! Eviction needs cheap, reproducible randomness (which entry to sample, whether an LFU
//! counter grows), not cryptographic quality, so SplitMix64 is enough and keeps the crate
//! free of dependencies. Seeds are handed out from a process-wide sequence, which makes a
//! single-threaded run (the simulator, the tests) reproducible from one run to the next.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64: a 64-bit state generator with good statistical quality for its cost.
///
/// # Examples
///
/// ```
/// use redistill_evict::SplitMix64;
///
/// let mut a = SplitMix64::new(7);
/// let mut b = SplitMix64::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!(a.next_f64() < 1.0);
/// ```
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose sequence is fully determined by `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix(self.state)
    }

    /// A uniform number in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        unit_f64(self.next_u64())
    }
}

/// The SplitMix64 finaliser: a bijective mix of the bits of `z`.
pub(crate) const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Maps 64 random bits to `[0, 1)` using the top 53 bits (an `f64` mantissa's worth).
pub(crate) fn unit_f64(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

static SEEDS: AtomicU64 = AtomicU64::new(0x05EE_D0FE_71C7);

/// A fresh seed from the process-wide sequence.
pub(crate) fn next_seed() -> u64 {
    mix(SEEDS.fetch_add(GOLDEN_GAMMA, Ordering::Relaxed))
}

thread_local! {
    // Readers update LFU counters without any lock, so each thread draws from its own
    // generator instead of contending on a shared one.
    static THREAD_RNG: Cell<u64> = Cell::new(next_seed());
}

/// 64 random bits from the calling thread's generator.
pub(crate) fn thread_random() -> u64 {
    THREAD_RNG.with(|cell| {
        let state = cell.get().wrapping_add(GOLDEN_GAMMA);
        cell.set(state);
        mix(state)
    })
}
