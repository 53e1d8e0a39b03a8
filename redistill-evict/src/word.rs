//! The 32-bit access word each entry carries, and its three encodings.
//!
//! Readers update the word with relaxed atomics while holding only a read lock on the
//! shard, so the word is a hint, not a ledger: a lost update between two racing readers
//! costs a little ranking precision and nothing else, exactly as in Redis, whose 24-bit
//! `lru` field is updated without synchronisation.

use std::sync::atomic::{AtomicU32, Ordering};

/// The per-entry access metadata a policy reads and updates.
///
/// Its meaning depends on the policy in force when it was written:
/// - LRU (and every policy that is neither LFU nor S3-FIFO): the low 32 bits of the last
///   access time in milliseconds, so idle times are exact up to about 24 days.
/// - LFU: Redis's layout, the last decrement time in minutes (16 bits) over an 8-bit
///   logarithmic counter; the top 8 bits are unused.
/// - S3-FIFO: a 2-bit access frequency in bits 0..2 and a 24-bit queue stamp in bits 8..32,
///   which tells a queue slot of the current entry from one left behind by a deleted key.
///
/// After a policy change the old words are read under the new meaning, as Redis does;
/// rankings are off until the entries are touched again.
///
/// # Examples
///
/// ```
/// use redistill_evict::{Evictor, Policy};
///
/// let evictor = Evictor::new(Policy::AllKeysLru);
/// let word = evictor.new_word(1_000);
/// evictor.on_access(&word, 4_000);
/// assert_eq!(evictor.idle_ms(&word, 9_000), 5_000);
/// ```
#[derive(Debug, Default)]
pub struct AccessWord(AtomicU32);

impl AccessWord {
    /// A word holding `value`.
    pub const fn new(value: u32) -> Self {
        Self(AtomicU32::new(value))
    }

    /// The current value.
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    /// Stores `value` (a relaxed store: the word is a hint, see the module docs).
    pub fn set(&self, value: u32) {
        self.0.store(value, Ordering::Relaxed);
    }

    pub(crate) fn atomic(&self) -> &AtomicU32 {
        &self.0
    }
}

impl Clone for AccessWord {
    fn clone(&self) -> Self {
        Self::new(self.get())
    }
}

/// The LRU clock: the low 32 bits of a millisecond timestamp.
pub(crate) const fn lru_clock(now_ms: u64) -> u32 {
    now_ms as u32
}

/// Milliseconds since the LRU clock value `stamp`, on the clock that wraps every 2^32 ms.
///
/// A stamp up to 2^31 ms (about 24.8 days) ahead of `now_ms` reads as idle 0, not as
/// idle for weeks: with several threads, one may stamp an entry with a newer time than
/// the `now_ms` another thread read a moment earlier and is ranking candidates with.
/// Idle times are exact up to 24.8 days and alias after that.
pub(crate) const fn lru_idle_ms(stamp: u32, now_ms: u64) -> u64 {
    let idle = lru_clock(now_ms).wrapping_sub(stamp);
    if idle > i32::MAX as u32 {
        0
    } else {
        idle as u64
    }
}

/// Redis's LFU counter: the arithmetic of `evict.c`, on the layout of [`AccessWord`].
///
/// # Examples
///
/// ```
/// use redistill_evict::lfu;
///
/// // A fresh key starts at LFU_INIT_VAL; below it the counter grows on every hit.
/// assert_eq!(lfu::log_incr(3, 10, 0.999), 4);
/// // Above it, the chance is 1 / ((counter - 5) * factor + 1).
/// assert_eq!(lfu::log_incr(15, 10, 0.5), 15);
/// assert_eq!(lfu::log_incr(15, 10, 0.001), 16);
/// assert_eq!(lfu::log_incr(255, 0, 0.0), 255);
/// ```
pub mod lfu {
    /// The counter a new key starts with (`LFU_INIT_VAL`), so it is not evicted before it
    /// had a chance to be read.
    pub const INIT_VAL: u8 = 5;

    /// The 16-bit minute clock of the LFU layout (`LFUGetTimeInMinutes`).
    pub const fn minutes(now_ms: u64) -> u16 {
        ((now_ms / 60_000) & 0xFFFF) as u16
    }

    /// Minutes elapsed since `then` on the wrapping 16-bit clock (`LFUTimeElapsed`).
    pub const fn elapsed(then: u16, now: u16) -> u32 {
        if now >= then {
            (now - then) as u32
        } else {
            65_535 - then as u32 + now as u32
        }
    }

    /// `LFULogIncr`: grows `counter` by one with probability
    /// `1 / ((counter - INIT_VAL) * log_factor + 1)`, where `r` is uniform in `[0, 1)`.
    /// Saturates at 255.
    pub fn log_incr(counter: u8, log_factor: u32, r: f64) -> u8 {
        if counter == u8::MAX {
            return u8::MAX;
        }
        let baseval = (f64::from(counter) - f64::from(INIT_VAL)).max(0.0);
        let p = 1.0 / (baseval * f64::from(log_factor) + 1.0);
        if r < p { counter + 1 } else { counter }
    }

    /// `LFUDecrAndReturn`: the counter of `word` after subtracting one per `decay_time`
    /// minutes elapsed since its decrement time (no decay when `decay_time` is 0).
    pub const fn decr_and_return(word: u32, now_ms: u64, decay_time: u32) -> u8 {
        let then = ((word >> 8) & 0xFFFF) as u16;
        let counter = (word & 0xFF) as u8;
        let periods = match elapsed(then, minutes(now_ms)).checked_div(decay_time) {
            Some(p) => p,
            None => 0,
        };
        if periods == 0 {
            counter
        } else if periods > counter as u32 {
            0
        } else {
            counter - periods as u8
        }
    }

    /// The word for `counter` as of `now_ms`.
    pub const fn pack(counter: u8, now_ms: u64) -> u32 {
        ((minutes(now_ms) as u32) << 8) | counter as u32
    }
}

/// The S3-FIFO layout: 2-bit frequency and a 24-bit stamp.
pub(crate) mod s3 {
    pub(crate) const FREQ_MASK: u32 = 0b11;
    pub(crate) const MAX_FREQ: u32 = 3;
    pub(crate) const STAMP_MASK: u32 = 0x00FF_FFFF;

    pub(crate) const fn freq(word: u32) -> u32 {
        word & FREQ_MASK
    }

    pub(crate) const fn stamp(word: u32) -> u32 {
        (word >> 8) & STAMP_MASK
    }

    pub(crate) const fn pack(stamp: u32, freq: u32) -> u32 {
        ((stamp & STAMP_MASK) << 8) | (freq & FREQ_MASK)
    }
}
