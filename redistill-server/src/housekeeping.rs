//! The housekeeping thread: the coarse clock, active expiry (unless DEBUG SET-ACTIVE-EXPIRE
//! turned it off), and the sampled rates and memory peak.

use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use crate::shared::Shared;

/// Refreshes the coarse clock while workers sleep, reclaims expired keys `hz` times a
/// second, and samples the rates and the memory peak every 100 ms.
pub(crate) fn run(shared: &Shared) {
    const SAMPLE_EVERY: Duration = Duration::from_millis(100);
    let (mut next_cycle, mut next_sample) = (Instant::now(), Instant::now());
    while !shared.shutdown.load(Ordering::Relaxed) {
        shared.clock.refresh();
        let stats = &shared.stats;
        let now = Instant::now();
        if now >= next_cycle {
            // Redis's slow expiry cycle: bounded by time (a quarter of its period at the
            // default effort), not by a key count, so a large batch of expired keys is
            // reclaimed at the rate the cycle can delete them.
            let period = expiry_period(shared.config.read().server.hz);
            if shared.active_expire.load(Ordering::Relaxed) {
                let cycle = shared.store.active_expire_cycle_for(usize::MAX, period);
                stats.expiry.record(&cycle, now.elapsed());
                crate::cmd::end_tracking_round(shared);
            }
            next_cycle = now + period;
        }
        if now >= next_sample {
            stats.ops_rate.sample(now, shared.commands_processed());
            stats
                .memory_peak
                .fetch_max(shared.used_memory(), Ordering::Relaxed);
            next_sample = now + SAMPLE_EVERY;
        }
        thread::park_timeout(
            next_cycle
                .min(next_sample)
                .saturating_duration_since(Instant::now()),
        );
    }
}

/// The time between active expiry cycles at `hz` cycles a second, kept within Redis's
/// bounds (a `Config` built in code is not range-checked).
fn expiry_period(hz: u32) -> Duration {
    Duration::from_secs(1) / hz.clamp(crate::config::HZ_MIN, crate::config::HZ_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_cycles_run_hz_times_a_second_within_redis_bounds() {
        assert_eq!(expiry_period(10), Duration::from_millis(100));
        assert_eq!(expiry_period(100), Duration::from_millis(10));
        assert_eq!(expiry_period(500), Duration::from_millis(2));
        assert_eq!(expiry_period(5000), Duration::from_millis(2));
        assert_eq!(expiry_period(0), Duration::from_secs(1));
    }
}
