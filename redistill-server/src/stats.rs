//! Server-wide counters behind INFO.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// One fast command in this many is timed for INFO commandstats.
pub(crate) const FAST_TIMING_SAMPLE: u32 = 16;

use parking_lot::Mutex;

/// Counters shared by every worker; relaxed atomics, read only for reporting.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub connections_received: AtomicU64,
    pub connected_clients: AtomicU64,
    pub rejected_connections: AtomicU64,
    /// Failed AUTH and HELLO AUTH attempts (`acl_access_denied_auth`).
    pub auth_failures: AtomicU64,
    /// TLS handshakes accepted and not yet completed or failed.
    pub tls_handshakes_in_progress: AtomicU64,
    /// TLS connections that ended before their handshake completed.
    pub tls_handshake_failures: AtomicU64,
    /// Error replies by prefix (INFO errorstats).
    pub errors: ErrorStats,
    /// The store's counters at the last CONFIG RESETSTAT, which INFO reports from.
    pub store_baseline: Mutex<redistill_store::Stats>,
    /// What the active expiry cycles did (`expired_stale_perc` and the two after it).
    pub expiry: ExpiryStats,
    /// The largest `used_memory` seen (`used_memory_peak`), sampled ten times a second.
    pub memory_peak: AtomicU64,
    /// `instantaneous_ops_per_sec`, `instantaneous_input_kbps`, `instantaneous_output_kbps`.
    pub ops_rate: Rate,
    pub input_rate: Rate,
    pub output_rate: Rate,
}

impl Stats {
    /// The store's counters since the last CONFIG RESETSTAT.
    pub fn store_since_reset(&self, now: redistill_store::Stats) -> redistill_store::Stats {
        let base = *self.store_baseline.lock();
        let exceeded = now
            .eviction_exceeded_ms
            .saturating_sub(base.eviction_exceeded_ms);
        redistill_store::Stats {
            keyspace_hits: now.keyspace_hits.saturating_sub(base.keyspace_hits),
            keyspace_misses: now.keyspace_misses.saturating_sub(base.keyspace_misses),
            expired_keys: now.expired_keys.saturating_sub(base.expired_keys),
            evicted_keys: now.evicted_keys.saturating_sub(base.evicted_keys),
            eviction_time_ns: now.eviction_time_ns.saturating_sub(base.eviction_time_ns),
            eviction_exceeded_ms: exceeded,
            // A stretch over the limit that began before the reset counts from the reset.
            current_eviction_exceeded_ms: now.current_eviction_exceeded_ms.min(exceeded),
        }
    }
}

/// Redis's figures about its active expiry cycles, kept as `activeExpireCycle` keeps them.
#[derive(Debug, Default)]
pub(crate) struct ExpiryStats {
    state: Mutex<ExpiryState>,
}

#[derive(Debug, Default, Clone, Copy)]
struct ExpiryState {
    /// Running estimate of the fraction of keys with a TTL that have expired but are still
    /// held: each cycle's expired/sampled counts 5%.
    stale: f64,
    /// Cycles that stopped at their time limit.
    time_cap_reached: u64,
    /// Time spent in cycles, in microseconds.
    cycle_us: u64,
}

impl ExpiryStats {
    /// Records one cycle and the time it took.
    pub fn record(&self, cycle: &redistill_store::ExpireCycleStats, took: Duration) {
        let current = if cycle.sampled == 0 {
            0.0
        } else {
            cycle.expired as f64 / cycle.sampled as f64
        };
        let mut s = self.state.lock();
        s.stale = current * 0.05 + s.stale * 0.95;
        s.time_cap_reached += u64::from(cycle.cut_short);
        s.cycle_us = s
            .cycle_us
            .saturating_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
    }

    /// (`expired_stale_perc`, `expired_time_cap_reached_count`,
    /// `expire_cycle_cpu_milliseconds`), as INFO prints them.
    pub fn report(&self) -> (f64, u64, u64) {
        let s = *self.state.lock();
        (s.stale * 100.0, s.time_cap_reached, s.cycle_us / 1000)
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        *self.state.lock() = ExpiryState::default();
    }
}

/// Redis's `instantaneous_*` figures: the mean rate of the last 16 samples of a counter,
/// one taken every 100 ms by the housekeeping thread.
#[derive(Debug, Default)]
pub(crate) struct Rate {
    state: Mutex<RateState>,
}

#[derive(Debug, Default)]
struct RateState {
    last: Option<(std::time::Instant, u64)>,
    samples: [u64; OPS_SAMPLES],
    next: usize,
}

const OPS_SAMPLES: usize = 16;

impl Rate {
    /// Records that the counter read `ops` at `now`.
    pub fn sample(&self, now: std::time::Instant, ops: u64) {
        let mut state = self.state.lock();
        if let Some((then, before)) = state.last {
            let ms = now.duration_since(then).as_millis().max(1);
            let rate = u128::from(ops.saturating_sub(before)) * 1000 / ms;
            let next = state.next;
            state.samples[next] = u64::try_from(rate).unwrap_or(u64::MAX);
            state.next = (next + 1) % OPS_SAMPLES;
        }
        state.last = Some((now, ops));
    }

    pub fn per_second(&self) -> u64 {
        self.state.lock().samples.iter().sum::<u64>() / OPS_SAMPLES as u64
    }
}

/// Error replies counted by their first word (`ERR`, `WRONGTYPE`), as INFO errorstats and
/// `total_error_replies` report them. Errors are the rare path, so one lock will do.
#[derive(Debug, Default)]
pub(crate) struct ErrorStats {
    total: AtomicU64,
    by_prefix: Mutex<BTreeMap<String, u64>>,
}

/// Redis stops adding error prefixes past this many, so that clients sending made-up
/// errors cannot grow the table.
const ERROR_PREFIXES_MAX: usize = 128;

impl ErrorStats {
    /// Counts an error reply (`-ERR ...\r\n`).
    pub fn record(&self, reply: &[u8]) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let text = reply.strip_prefix(b"-").unwrap_or(reply);
        let head = &text[..text.len().min(32)];
        let end = head
            .iter()
            .position(|&b| b == b' ' || b == b'\r')
            .unwrap_or(head.len());
        let prefix = String::from_utf8_lossy(&text[..end]);
        let mut by_prefix = self.by_prefix.lock();
        if let Some(n) = by_prefix.get_mut(prefix.as_ref()) {
            *n += 1;
        } else if by_prefix.len() < ERROR_PREFIXES_MAX {
            by_prefix.insert(prefix.into_owned(), 1);
        }
    }

    /// Every error reply since the last reset (`total_error_replies`).
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// (prefix, count), sorted by prefix.
    pub fn by_prefix(&self) -> Vec<(String, u64)> {
        self.by_prefix
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    pub fn reset(&self) {
        self.total.store(0, Ordering::Relaxed);
        self.by_prefix.lock().clear();
    }
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn sub(counter: &AtomicU64, n: u64) {
        counter.fetch_sub(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// A counter only one thread (its worker) adds to: a plain load and store instead of an
/// atomic read-modify-write, which would cost a locked instruction per command. Other
/// threads read it, and reset it by moving its baseline, so a reset never races an add.
#[derive(Debug, Default)]
pub(crate) struct OwnedCounter {
    value: AtomicU64,
    baseline: AtomicU64,
}

impl OwnedCounter {
    /// Adds `n`; only the owning worker calls this.
    pub fn add(&self, n: u64) {
        let v = self.value.load(Ordering::Relaxed);
        self.value.store(v.wrapping_add(n), Ordering::Relaxed);
    }

    /// The count since the last reset.
    pub fn get(&self) -> u64 {
        let v = self.value.load(Ordering::Relaxed);
        v.wrapping_sub(self.baseline.load(Ordering::Relaxed))
    }

    /// Starts counting from zero again; any thread may call this.
    pub fn reset(&self) {
        self.baseline
            .store(self.value.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// One worker's counters: commands processed and, per command, INFO commandstats. Each
/// worker writes only its own, so counting never contends; INFO adds the workers up.
#[derive(Debug)]
pub(crate) struct CommandStats {
    /// Every request run or refused (`total_commands_processed`).
    pub processed: OwnedCounter,
    /// Bytes read from clients (`total_net_input_bytes`) and reads that returned some
    /// (`total_reads_processed`).
    pub net_input: OwnedCounter,
    pub reads: OwnedCounter,
    /// Bytes written to clients (`total_net_output_bytes`) and writes
    /// (`total_writes_processed`).
    pub net_output: OwnedCounter,
    pub writes: OwnedCounter,
    commands: Box<[CommandCounters]>,
}

/// Redis's per-command figures.
#[derive(Debug, Default)]
pub(crate) struct CommandCounters {
    pub calls: OwnedCounter,
    pub usec: OwnedCounter,
    /// Refused before running (arity, or queued inside MULTI with an error).
    pub rejected: OwnedCounter,
    /// Ran and answered an error.
    pub failed: OwnedCounter,
}

impl CommandStats {
    pub fn new(commands: usize) -> Self {
        CommandStats {
            processed: OwnedCounter::default(),
            net_input: OwnedCounter::default(),
            reads: OwnedCounter::default(),
            net_output: OwnedCounter::default(),
            writes: OwnedCounter::default(),
            commands: (0..commands).map(|_| CommandCounters::default()).collect(),
        }
    }

    /// Counts a call; `elapsed` is its (possibly sampled and scaled) time, if measured.
    pub fn record(&self, slot: Option<usize>, elapsed: Option<Duration>, failed: bool) {
        if let Some(c) = slot.and_then(|slot| self.commands.get(slot)) {
            c.calls.add(1);
            if let Some(elapsed) = elapsed {
                c.usec
                    .add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
            }
            if failed {
                c.failed.add(1);
            }
        }
    }

    /// Counts a call refused before it ran.
    pub fn reject(&self, slot: Option<usize>) {
        if let Some(c) = slot.and_then(|slot| self.commands.get(slot)) {
            c.rejected.add(1);
        }
    }

    /// (calls, usec, rejected, failed) of the command at `index`.
    pub fn get(&self, index: usize) -> (u64, u64, u64, u64) {
        self.commands.get(index).map_or((0, 0, 0, 0), |c| {
            (
                c.calls.get(),
                c.usec.get(),
                c.rejected.get(),
                c.failed.get(),
            )
        })
    }

    /// CONFIG RESETSTAT: every figure from zero again.
    pub fn reset(&self) {
        for counter in [
            &self.processed,
            &self.net_input,
            &self.reads,
            &self.net_output,
            &self.writes,
        ] {
            counter.reset();
        }
        for c in self.commands.iter() {
            for counter in [&c.calls, &c.usec, &c.rejected, &c.failed] {
                counter.reset();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_figures_follow_redis_running_estimates() {
        let e = ExpiryStats::default();
        let cycle = |sampled, expired, cut_short| redistill_store::ExpireCycleStats {
            sampled,
            expired,
            loops: 1,
            cut_short,
        };
        e.record(&cycle(20, 20, true), Duration::from_micros(1500));
        let (stale, caps, ms) = e.report();
        assert!((stale - 5.0).abs() < 1e-9, "{stale}");
        assert_eq!((caps, ms), (1, 1));
        // A cycle that sampled nothing counts as none stale.
        e.record(&cycle(0, 0, false), Duration::from_micros(600));
        let (stale, caps, ms) = e.report();
        assert!((stale - 4.75).abs() < 1e-9, "{stale}");
        assert_eq!((caps, ms), (1, 2));
        e.reset();
        assert_eq!(e.report(), (0.0, 0, 0));
    }

    #[test]
    fn errors_are_counted_by_their_first_word() {
        let e = ErrorStats::default();
        e.record(b"-ERR syntax error\r\n");
        e.record(b"-WRONGTYPE Operation against a key\r\n");
        e.record(b"-ERR no such key\r\n");
        e.record(b"-NOPROTO\r\n");
        assert_eq!(e.total(), 4);
        assert_eq!(
            e.by_prefix(),
            [
                ("ERR".to_owned(), 2),
                ("NOPROTO".to_owned(), 1),
                ("WRONGTYPE".to_owned(), 1)
            ]
        );
        e.reset();
        assert_eq!(e.total(), 0);
        assert!(e.by_prefix().is_empty());
    }

    #[test]
    fn an_owned_counter_counts_from_its_last_reset() {
        let c = OwnedCounter::default();
        c.add(5);
        assert_eq!(c.get(), 5);
        c.reset();
        assert_eq!(c.get(), 0);
        c.add(2);
        assert_eq!(c.get(), 2);
    }
}
