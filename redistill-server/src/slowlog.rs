//! SLOWLOG: the most recent commands that took at least `slowlog-log-slower-than`
//! microseconds, as Redis keeps them.
//!
//! Only slow commands take the lock, so the common path pays one relaxed load (the
//! threshold) per timed command.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;

/// Redis keeps at most this many arguments of a command, the last standing for the rest.
const MAX_ARGS: usize = 32;
/// And at most this many bytes of each.
const MAX_ARG_LEN: usize = 128;

/// One logged command.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub id: u64,
    /// Unix seconds when it was logged.
    pub time: u64,
    pub micros: u64,
    pub args: Vec<Bytes>,
    pub addr: String,
    pub name: Bytes,
}

#[derive(Debug)]
pub(crate) struct SlowLog {
    /// `slowlog-log-slower-than` in microseconds; negative: off.
    threshold: AtomicI64,
    max_len: AtomicUsize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    /// Newest first.
    entries: VecDeque<Entry>,
}

impl Default for SlowLog {
    fn default() -> Self {
        SlowLog {
            threshold: AtomicI64::new(10_000),
            max_len: AtomicUsize::new(128),
            state: Mutex::default(),
        }
    }
}

impl SlowLog {
    /// Applies `slowlog-log-slower-than` and `slowlog-max-len`.
    pub fn configure(&self, threshold: i64, max_len: u64) {
        self.threshold.store(threshold, Ordering::Relaxed);
        let max_len = usize::try_from(max_len).unwrap_or(usize::MAX);
        self.max_len.store(max_len, Ordering::Relaxed);
        let mut state = self.state.lock();
        state.entries.truncate(max_len);
    }

    /// Whether every command must be timed: with a threshold of 0 each one is logged.
    pub fn logs_everything(&self) -> bool {
        self.threshold.load(Ordering::Relaxed) == 0
    }

    /// Whether a command that took `micros` is logged.
    pub fn is_slow(&self, micros: u64) -> bool {
        let threshold = self.threshold.load(Ordering::Relaxed);
        threshold >= 0 && micros >= threshold.unsigned_abs()
    }

    /// Logs a command (call after [`SlowLog::is_slow`]); `args[0]` is its name.
    pub fn push(&self, args: &[&[u8]], micros: u64, addr: String, name: Bytes) {
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let args = kept_args(args);
        let max_len = self.max_len.load(Ordering::Relaxed);
        let mut state = self.state.lock();
        let id = state.next_id;
        state.next_id += 1;
        state.entries.push_front(Entry {
            id,
            time,
            micros,
            args,
            addr,
            name,
        });
        state.entries.truncate(max_len);
    }

    /// The newest `count` entries (all of them for `None`), newest first.
    pub fn newest(&self, count: Option<usize>) -> Vec<Entry> {
        let state = self.state.lock();
        let n = count.map_or(state.entries.len(), |c| c.min(state.entries.len()));
        state.entries.iter().take(n).cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.state.lock().entries.len()
    }

    /// SLOWLOG RESET: the entries go; ids keep counting, as in Redis.
    pub fn reset(&self) {
        self.state.lock().entries.clear();
    }
}

/// The arguments as Redis logs them: at most 32, each at most 128 bytes, with a note of
/// what was left out; passwords are replaced.
fn kept_args(args: &[&[u8]]) -> Vec<Bytes> {
    let secret = secret_positions(args);
    let shown = args.len().min(MAX_ARGS);
    let mut kept = Vec::with_capacity(shown);
    for (i, arg) in args.iter().enumerate().take(shown) {
        if shown < args.len() && i == shown - 1 {
            let more = args.len() - shown + 1;
            kept.push(Bytes::from(format!("... ({more} more arguments)")));
        } else if secret.contains(&i) {
            kept.push(Bytes::from_static(b"(redacted)"));
        } else if arg.len() > MAX_ARG_LEN {
            let mut text = arg[..MAX_ARG_LEN].to_vec();
            let more = arg.len() - MAX_ARG_LEN;
            text.extend_from_slice(format!("... ({more} more bytes)").as_bytes());
            kept.push(Bytes::from(text));
        } else {
            kept.push(Bytes::copy_from_slice(arg));
        }
    }
    kept
}

/// Arguments Redis redacts: AUTH's, HELLO AUTH's user and password, and the value of
/// CONFIG SET requirepass.
fn secret_positions(args: &[&[u8]]) -> Vec<usize> {
    let is = |a: &[u8], w: &str| a.eq_ignore_ascii_case(w.as_bytes());
    match args.first() {
        Some(name) if is(name, "auth") => (1..args.len()).collect(),
        Some(name) if is(name, "hello") => args
            .iter()
            .position(|a| is(a, "auth"))
            .map_or(Vec::new(), |i| vec![i + 1, i + 2]),
        Some(name) if is(name, "config") && args.get(1).is_some_and(|s| is(s, "set")) => args
            .iter()
            .enumerate()
            .skip(2)
            .step_by(2)
            .filter(|(_, a)| is(a, "requirepass"))
            .map(|(i, _)| i + 1)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(log: &SlowLog, args: &[&[u8]]) {
        log.push(args, 5, "1.2.3.4:5".into(), Bytes::new());
    }

    #[test]
    fn keeps_the_newest_max_len_entries() {
        let log = SlowLog::default();
        log.configure(0, 2);
        for cmd in [&b"a"[..], b"b", b"c"] {
            push(&log, &[cmd]);
        }
        let newest = log.newest(None);
        assert_eq!(newest.len(), 2);
        assert_eq!((newest[0].id, &newest[0].args[0][..]), (2, &b"c"[..]));
        assert_eq!(log.newest(Some(1)).len(), 1);
        log.reset();
        assert_eq!(log.len(), 0);
        push(&log, &[b"d"]);
        assert_eq!(log.newest(None)[0].id, 3);
    }

    #[test]
    fn thresholds_as_redis() {
        let log = SlowLog::default();
        assert!(!log.is_slow(9_999) && log.is_slow(10_000));
        log.configure(-1, 128);
        assert!(!log.is_slow(u64::MAX));
        log.configure(0, 128);
        assert!(log.logs_everything() && log.is_slow(0));
    }

    #[test]
    fn long_commands_are_shortened_and_secrets_redacted() {
        let many: Vec<Vec<u8>> = (0..40).map(|i| i.to_string().into_bytes()).collect();
        let args: Vec<&[u8]> = many.iter().map(Vec::as_slice).collect();
        let kept = kept_args(&args);
        assert_eq!(kept.len(), 32);
        assert_eq!(&kept[31][..], b"... (9 more arguments)");
        let long = vec![b'x'; 130];
        let kept = kept_args(&[b"set", b"k", &long]);
        assert_eq!(kept[2].len(), 128 + b"... (2 more bytes)".len());
        assert_eq!(
            kept_args(&[b"AUTH", b"user", b"pw"]),
            ["AUTH", "(redacted)", "(redacted)"]
        );
        assert_eq!(
            kept_args(&[b"HELLO", b"3", b"AUTH", b"u", b"p"])[3..],
            ["(redacted)", "(redacted)"]
        );
        assert_eq!(
            kept_args(&[b"config", b"set", b"requirepass", b"pw"])[3],
            "(redacted)"
        );
    }
}
