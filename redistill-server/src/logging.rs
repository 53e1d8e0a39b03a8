//! Log lines on stderr, or appended to the `logfile`, in Redis's format, through the `log`
//! facade. [`reopen`] (on SIGHUP) lets a log rotation rename the file away.
//!
//! ```text
//! 4242:M 22 Nov 2026 04:02:58.123 * Ready to accept connections
//! ```
//!
//! Process id, role (`M`), time in UTC with milliseconds, then the level as Redis marks it:
//! `.` debug, `-` verbose, `*` notice, `#` warning. The server logs events (start, stop,
//! snapshots, configuration), never individual requests. Records from other crates (TLS,
//! for instance) appear only at warning level, so `loglevel debug` stays about the server.
//!
//! # Examples
//!
//! ```
//! use redistill_server::config::LogLevel;
//! use redistill_server::logging;
//!
//! logging::init(LogLevel::Notice);
//! log::info!("Server initialized");
//! logging::set_level(LogLevel::Warning);
//! assert_eq!(log::max_level(), log::LevelFilter::Warn);
//! ```

use std::fmt::{self, Write as _};
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

use crate::config::{Loaded, LogLevel};

struct StderrLogger;

static LOGGER: StderrLogger = StderrLogger;

/// The log file, when `logfile` is set: its path (to reopen) and the open file.
static LOG_FILE: Mutex<Option<(PathBuf, File)>> = Mutex::new(None);

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Sends the log to `path` from now on, appending, instead of standard error.
///
/// # Errors
///
/// The file cannot be opened for appending; the log stays where it was.
pub fn log_to_file(path: &Path) -> io::Result<()> {
    let file = open_append(path)?;
    *LOG_FILE.lock() = Some((path.to_path_buf(), file));
    Ok(())
}

/// Opens the log file again by its name, so that lines go to a new file once a rotation
/// renamed the old one away (the server does it on SIGHUP). Returns whether there was a log
/// file to reopen.
///
/// # Errors
///
/// The file cannot be opened; lines keep going to the file open before.
pub fn reopen() -> io::Result<bool> {
    let mut slot = LOG_FILE.lock();
    let Some((path, file)) = slot.as_mut() else {
        return Ok(false);
    };
    *file = open_append(path)?;
    Ok(true)
}

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        passes(metadata.level(), metadata.target(), log::max_level())
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mut line = String::with_capacity(128);
        format_line(
            &mut line,
            now,
            std::process::id(),
            record.level(),
            record.args(),
        );
        line.push('\n');
        // One write per line so that lines from several threads never interleave; a log
        // line that cannot be written has nowhere better to go.
        if let Some((_, file)) = LOG_FILE.lock().as_mut() {
            let _ = file.write_all(line.as_bytes());
            return;
        }
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// Whether a record at `level` from `target` is shown under `max`.
fn passes(level: log::Level, target: &str, max: log::LevelFilter) -> bool {
    level <= max && (target.starts_with("redistill") || level <= log::Level::Warn)
}

/// Installs the stderr logger at `level`.
///
/// Returns `false` when another logger was installed first (the level is applied anyway);
/// calling it twice is harmless.
pub fn init(level: LogLevel) -> bool {
    let installed = log::set_logger(&LOGGER).is_ok();
    set_level(level);
    installed
}

/// Changes the level at run time (after `CONFIG SET loglevel`).
pub fn set_level(level: LogLevel) {
    log::set_max_level(level.level_filter());
}

/// Logs the start-up lines about the configuration: where it came from, then each warning.
pub fn log_loaded(loaded: &Loaded) {
    log::info!(
        target: "redistill::config",
        "Configuration loaded from {}",
        loaded.config.source
    );
    for warning in &loaded.warnings {
        log::warn!(target: "redistill::config", "{warning}");
    }
}

/// Redis's mark for a level.
#[must_use]
pub fn level_mark(level: log::Level) -> char {
    match level {
        log::Level::Trace => '.',
        log::Level::Debug => '-',
        log::Level::Info => '*',
        log::Level::Warn | log::Level::Error => '#',
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Appends one log line (without newline) for a time since the Unix epoch.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use redistill_server::logging::format_line;
///
/// let mut line = String::new();
/// let at = Duration::from_millis(1_700_000_000_123);
/// format_line(&mut line, at, 42, log::Level::Info, &format_args!("Ready"));
/// assert_eq!(line, "42:M 14 Nov 2023 22:13:20.123 * Ready");
/// ```
pub fn format_line(
    out: &mut String,
    since_epoch: Duration,
    pid: u32,
    level: log::Level,
    message: &fmt::Arguments<'_>,
) {
    let secs = since_epoch.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let month = MONTHS
        .get(usize::from(month).saturating_sub(1))
        .copied()
        .unwrap_or("???");
    let of_day = secs % 86_400;
    let _ = write!(
        out,
        "{pid}:M {day:02} {month} {year} {:02}:{:02}:{:02}.{:03} {} {message}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since_epoch.subsec_millis(),
        level_mark(level),
    );
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), by Howard Hinnant's
/// `civil_from_days`, so that no date crate is needed for a log prefix.
fn civil_from_days(days: u64) -> (u64, u8, u8) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    // Both fit by construction: day is 1..=31 and month 1..=12.
    (
        year,
        u8::try_from(month).unwrap_or(0),
        u8::try_from(day).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(millis: u64, level: log::Level) -> String {
        let mut out = String::new();
        format_line(
            &mut out,
            Duration::from_millis(millis),
            7,
            level,
            &format_args!("m"),
        );
        out
    }

    #[test]
    fn lines_have_redis_layout() {
        assert_eq!(
            line(0, log::Level::Info),
            "7:M 01 Jan 1970 00:00:00.000 * m"
        );
        assert_eq!(
            line(951_782_400_999, log::Level::Warn),
            "7:M 29 Feb 2000 00:00:00.999 # m"
        );
        assert_eq!(
            line(4_102_444_799_000, log::Level::Debug),
            "7:M 31 Dec 2099 23:59:59.000 - m"
        );
        assert_eq!(
            line(1_795_320_178_005, log::Level::Trace),
            "7:M 22 Nov 2026 04:02:58.005 . m"
        );
        assert_eq!(
            line(0, log::Level::Error),
            "7:M 01 Jan 1970 00:00:00.000 # m"
        );
    }

    #[test]
    fn dates_match_day_counting() {
        // Walk day by day through four centuries and compare with a naive calendar.
        let (mut year, mut month, mut day) = (1970u64, 1u8, 1u8);
        for days in 0..146_097u64 {
            assert_eq!(civil_from_days(days), (year, month, day), "day {days}");
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            let length = match month {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            day += 1;
            if day > length {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
    }

    #[test]
    fn level_filter_and_foreign_targets() {
        let notice = LogLevel::Notice.level_filter();
        assert!(passes(log::Level::Info, "redistill_server::net", notice));
        assert!(!passes(log::Level::Debug, "redistill_server::net", notice));
        assert!(passes(log::Level::Warn, "redistill::config", notice));
        let debug = LogLevel::Debug.level_filter();
        assert!(passes(log::Level::Trace, "redistill_server", debug));
        assert!(!passes(log::Level::Info, "rustls::server", debug));
        assert!(passes(log::Level::Warn, "rustls::server", debug));
        let warning = LogLevel::Warning.level_filter();
        assert!(!passes(log::Level::Info, "redistill_server", warning));
        assert!(passes(log::Level::Error, "redistill_server", warning));
    }
}
