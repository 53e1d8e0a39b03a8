//! The small value types that configuration keys hold, each with Redis's spelling.

use std::fmt;
use std::net::IpAddr;

use super::memory::parse_memory_size;

/// What the server does when a write would take memory use past `max_memory`: the
/// eviction crate's [`Policy`](redistill_evict::Policy), under Redis's `maxmemory-policy`
/// names plus `allkeys-s3fifo`, parsed case-insensitively as Redis does.
///
/// # Examples
///
/// ```
/// use redistill_server::config::{EvictionPolicy, eviction_policy_names};
///
/// assert_eq!("ALLKEYS-LRU".parse::<EvictionPolicy>().ok(), Some(EvictionPolicy::AllKeysLru));
/// assert_eq!(EvictionPolicy::AllKeysLru.name(), "allkeys-lru");
/// assert_eq!(EvictionPolicy::default(), EvictionPolicy::NoEviction);
/// assert!(eviction_policy_names().ends_with("noeviction, allkeys-s3fifo"));
/// ```
pub use redistill_evict::Policy as EvictionPolicy;

/// `"volatile-lru, volatile-lfu, ..."`: the accepted policy names for error messages, in
/// the order Redis lists its own, then `allkeys-s3fifo`.
#[must_use]
pub fn eviction_policy_names() -> String {
    let ours = EvictionPolicy::ALL
        .into_iter()
        .filter(|p| *p != EvictionPolicy::AllKeysS3Fifo);
    join_names(
        ours.chain([EvictionPolicy::AllKeysS3Fifo])
            .map(EvictionPolicy::name),
    )
}

/// How much the server logs, with Redis's four `loglevel` names.
///
/// # Examples
///
/// ```
/// use redistill_server::config::LogLevel;
///
/// assert_eq!(LogLevel::from_name("Warning"), Some(LogLevel::Warning));
/// assert_eq!(LogLevel::Notice.level_filter(), log::LevelFilter::Info);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub enum LogLevel {
    /// Everything, including per-event detail (`log::Level::Trace` and up).
    Debug,
    /// Detail useful while investigating (`log::Level::Debug` and up).
    Verbose,
    /// What an operator wants to see in production (`log::Level::Info` and up); the default.
    #[default]
    Notice,
    /// Only what needs attention (`log::Level::Warn` and up).
    Warning,
}

impl LogLevel {
    /// The four levels, most verbose first, as Redis lists them.
    pub const ALL: [Self; 4] = [Self::Debug, Self::Verbose, Self::Notice, Self::Warning];

    /// The Redis name: `debug`, `verbose`, `notice` or `warning`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Verbose => "verbose",
            Self::Notice => "notice",
            Self::Warning => "warning",
        }
    }

    /// Looks a level up by its Redis name, ignoring ASCII case.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(name))
    }

    /// Looks a level up by a `log` crate name (`error`, `warn`, `info`, `debug`, `trace`),
    /// as earlier Redistill configuration files wrote it under `[logging] level`.
    #[must_use]
    pub fn from_log_crate_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "error" | "warn" => Some(Self::Warning),
            "info" => Some(Self::Notice),
            "debug" => Some(Self::Verbose),
            "trace" => Some(Self::Debug),
            _ => None,
        }
    }

    /// The most verbose `log` level that this level lets through.
    #[must_use]
    pub const fn level_filter(self) -> log::LevelFilter {
        match self {
            Self::Debug => log::LevelFilter::Trace,
            Self::Verbose => log::LevelFilter::Debug,
            Self::Notice => log::LevelFilter::Info,
            Self::Warning => log::LevelFilter::Warn,
        }
    }

    /// `"debug, verbose, notice, warning"`, for error messages.
    #[must_use]
    pub fn names() -> String {
        join_names(Self::ALL.iter().map(|l| l.as_str()))
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may run DEBUG (`enable-debug-command`), with Redis's three names.
///
/// # Examples
///
/// ```
/// use redistill_server::config::DebugCommandAccess;
///
/// assert_eq!(DebugCommandAccess::from_name("LOCAL"), Some(DebugCommandAccess::Local));
/// assert!(DebugCommandAccess::Local.allows(true));
/// assert!(!DebugCommandAccess::Local.allows(false));
/// assert!(!DebugCommandAccess::No.allows(true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DebugCommandAccess {
    /// Nobody.
    No,
    /// Every client.
    Yes,
    /// Clients on the loopback interface or a unix socket; the default.
    #[default]
    Local,
}

impl DebugCommandAccess {
    /// The three settings, as Redis lists them.
    pub const ALL: [Self; 3] = [Self::No, Self::Yes, Self::Local];

    /// The Redis name: `no`, `yes` or `local`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::No => "no",
            Self::Yes => "yes",
            Self::Local => "local",
        }
    }

    /// Looks a setting up by its Redis name, ignoring ASCII case.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|access| access.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether a client may run DEBUG; `local` says whether it connected from the
    /// loopback interface or a unix socket.
    #[must_use]
    pub const fn allows(self, local: bool) -> bool {
        match self {
            Self::No => false,
            Self::Yes => true,
            Self::Local => local,
        }
    }

    /// `"no, yes, local"`, for error messages.
    #[must_use]
    pub fn names() -> String {
        join_names(Self::ALL.iter().map(|a| a.as_str()))
    }
}

fn join_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// One client class's output buffer limits, with Redis's semantics: a client whose pending
/// output passes `hard_limit_bytes`, or stays above `soft_limit_bytes` for
/// `soft_limit_seconds`, is disconnected. Zero means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OutputBufferLimit {
    /// Pending output that closes the client at once; 0 = no hard limit.
    pub hard_limit_bytes: u64,
    /// Pending output that closes the client once it has lasted `soft_limit_seconds`.
    pub soft_limit_bytes: u64,
    /// How long the soft limit may be exceeded.
    pub soft_limit_seconds: u64,
}

impl OutputBufferLimit {
    /// A limit from its three numbers.
    #[must_use]
    pub const fn new(
        hard_limit_bytes: u64,
        soft_limit_bytes: u64,
        soft_limit_seconds: u64,
    ) -> Self {
        Self {
            hard_limit_bytes,
            soft_limit_bytes,
            soft_limit_seconds,
        }
    }
}

/// Output buffer limits for each client class, as Redis's `client-output-buffer-limit`.
///
/// Redis leaves normal clients unbounded (`normal 0 0 0`). Here a normal client is closed
/// once 256 MiB of replies wait for it, the same hard limit Redis gives replicas: a client
/// that pipelines without reading must not take the server's memory with it. Replica and
/// pub/sub limits keep Redis's defaults.
///
/// # Examples
///
/// ```
/// use redistill_server::config::ClientOutputBufferLimits;
///
/// let mut limits = ClientOutputBufferLimits::default();
/// limits.apply_redis_str("normal 1mb 512kb 10")?;
/// assert_eq!(
///     limits.to_redis_string(),
///     "normal 1048576 524288 10 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
/// );
/// # Ok::<(), &'static str>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientOutputBufferLimits {
    /// Ordinary clients.
    pub normal: OutputBufferLimit,
    /// Replicas (Redis's `slave`/`replica` class); kept for `CONFIG` compatibility.
    pub replica: OutputBufferLimit,
    /// Clients subscribed to pub/sub channels.
    pub pubsub: OutputBufferLimit,
}

impl Default for ClientOutputBufferLimits {
    fn default() -> Self {
        Self {
            normal: OutputBufferLimit::new(256 << 20, 0, 0),
            replica: OutputBufferLimit::new(256 << 20, 64 << 20, 60),
            pubsub: OutputBufferLimit::new(32 << 20, 8 << 20, 60),
        }
    }
}

impl ClientOutputBufferLimits {
    /// Applies a Redis `client-output-buffer-limit` string: groups of
    /// `<class> <hard> <soft> <soft-seconds>`, classes `normal`, `replica`/`slave` or
    /// `pubsub`, sizes with Redis's memory units. Classes not named keep their limits.
    ///
    /// # Errors
    ///
    /// Redis's own message for the first problem; nothing is changed then, as in Redis.
    pub fn apply_redis_str(&mut self, text: &str) -> Result<(), &'static str> {
        let words: Vec<&str> = text.split_ascii_whitespace().collect();
        if !words.len().is_multiple_of(4) {
            return Err("Wrong number of arguments in buffer limit configuration.");
        }
        let mut updated = *self;
        for group in words.chunks_exact(4) {
            let [class, hard, soft, seconds] = group else {
                return Err("Wrong number of arguments in buffer limit configuration.");
            };
            let slot = match class.to_ascii_lowercase().as_str() {
                "normal" => &mut updated.normal,
                "slave" | "replica" => &mut updated.replica,
                "pubsub" => &mut updated.pubsub,
                _ => return Err("Invalid client class specified in buffer limit configuration."),
            };
            let numbers = (
                parse_memory_size(hard),
                parse_memory_size(soft),
                seconds.parse::<u64>().ok(),
            );
            let (Some(hard), Some(soft), Some(seconds)) = numbers else {
                return Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
                );
            };
            *slot = OutputBufferLimit::new(hard, soft, seconds);
        }
        *self = updated;
        Ok(())
    }

    /// The string `CONFIG GET client-output-buffer-limit` returns, bytes without units.
    #[must_use]
    pub fn to_redis_string(&self) -> String {
        let classes = [
            ("normal", self.normal),
            ("slave", self.replica),
            ("pubsub", self.pubsub),
        ];
        classes
            .iter()
            .map(|(name, l)| {
                format!(
                    "{name} {} {} {}",
                    l.hard_limit_bytes, l.soft_limit_bytes, l.soft_limit_seconds
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Parses an integer exactly as Redis's `string2ll`: an optional `-`, no `+`, no spaces, and
/// no leading zeros (so `"05"` and `"-0"` are refused).
///
/// # Examples
///
/// ```
/// use redistill_server::config::parse_redis_integer;
///
/// assert_eq!(parse_redis_integer("-42"), Some(-42));
/// assert_eq!(parse_redis_integer("05"), None);
/// assert_eq!(parse_redis_integer("+5"), None);
/// ```
#[must_use]
pub fn parse_redis_integer(text: &str) -> Option<i64> {
    redistill_resp::parse_integer(text.as_bytes())
}

/// Parses Redis's `yes`/`no`, ignoring ASCII case.
#[must_use]
pub fn parse_yes_no(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if text.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

/// Parses a space-separated list of IP addresses, as Redis's `bind` takes them.
///
/// Returns `None` for an empty list or anything that is not an address.
///
/// # Examples
///
/// ```
/// use redistill_server::config::parse_bind_list;
///
/// let addrs = parse_bind_list("127.0.0.1 ::1").unwrap_or_default();
/// assert_eq!(addrs.len(), 2);
/// assert_eq!(parse_bind_list("localhost"), None);
/// ```
#[must_use]
pub fn parse_bind_list(text: &str) -> Option<Vec<IpAddr>> {
    let addrs = text
        .split_ascii_whitespace()
        .map(|word| word.parse().ok())
        .collect::<Option<Vec<IpAddr>>>()?;
    (!addrs.is_empty()).then_some(addrs)
}

/// Formats a bind list as `CONFIG GET bind` does: addresses separated by spaces.
#[must_use]
pub fn format_bind_list(addrs: &[IpAddr]) -> String {
    addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_round_trip_and_ignore_case() {
        for policy in EvictionPolicy::ALL {
            assert_eq!(policy.name().parse::<EvictionPolicy>().ok(), Some(policy));
            let upper = policy.name().to_ascii_uppercase();
            assert_eq!(upper.parse::<EvictionPolicy>().ok(), Some(policy));
            assert_eq!(policy.to_string(), policy.name());
        }
        assert!("lru".parse::<EvictionPolicy>().is_err());
        assert!("".parse::<EvictionPolicy>().is_err());
        assert_eq!(
            eviction_policy_names(),
            "volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, \
             allkeys-lfu, allkeys-random, noeviction, allkeys-s3fifo"
        );
    }

    #[test]
    fn log_levels_map_to_log_filters() {
        assert_eq!(LogLevel::default(), LogLevel::Notice);
        assert_eq!(LogLevel::Debug.level_filter(), log::LevelFilter::Trace);
        assert_eq!(LogLevel::Verbose.level_filter(), log::LevelFilter::Debug);
        assert_eq!(LogLevel::Notice.level_filter(), log::LevelFilter::Info);
        assert_eq!(LogLevel::Warning.level_filter(), log::LevelFilter::Warn);
        for level in LogLevel::ALL {
            assert_eq!(LogLevel::from_name(&level.to_string()), Some(level));
        }
        assert_eq!(LogLevel::from_name("WARNING"), Some(LogLevel::Warning));
        assert_eq!(LogLevel::from_name("nothing"), None);
        assert_eq!(
            LogLevel::from_log_crate_name("INFO"),
            Some(LogLevel::Notice)
        );
        assert_eq!(
            LogLevel::from_log_crate_name("trace"),
            Some(LogLevel::Debug)
        );
        assert_eq!(
            LogLevel::from_log_crate_name("error"),
            Some(LogLevel::Warning)
        );
        assert_eq!(LogLevel::from_log_crate_name("notice"), None);
    }

    /// Texts and results checked against Redis 7.0's `CONFIG SET client-output-buffer-limit`.
    #[test]
    fn output_buffer_limits_parse_like_redis() {
        let mut limits = ClientOutputBufferLimits::default();
        assert_eq!(
            limits.to_redis_string(),
            "normal 268435456 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        limits.apply_redis_str("normal 1mb 2mb 3").unwrap();
        limits.apply_redis_str("replica 1 2 3").unwrap();
        assert_eq!(
            limits.to_redis_string(),
            "normal 1048576 2097152 3 slave 1 2 3 pubsub 33554432 8388608 60"
        );
        limits.apply_redis_str("normal 0 0 0 pubsub 5 5 5").unwrap();
        limits.apply_redis_str("NORMAL 4 5 6 normal 7 8 9").unwrap();
        limits.apply_redis_str("").unwrap();
        assert_eq!(
            limits.to_redis_string(),
            "normal 7 8 9 slave 1 2 3 pubsub 5 5 5"
        );
        let before = limits;
        let cases = [
            (
                "normal",
                "Wrong number of arguments in buffer limit configuration.",
            ),
            (
                "normal 1mb 2mb",
                "Wrong number of arguments in buffer limit configuration.",
            ),
            (
                "foo 1 2 3",
                "Invalid client class specified in buffer limit configuration.",
            ),
            (
                "master 1 2 3",
                "Invalid client class specified in buffer limit configuration.",
            ),
            (
                "normal x 2 3",
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
            ),
            (
                "normal 1 2 -3",
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
            ),
            (
                "pubsub 1 1 1 normal 1 2 -3",
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
            ),
        ];
        for (input, message) in cases {
            assert_eq!(
                limits.apply_redis_str(input),
                Err(message),
                "input {input:?}"
            );
            assert_eq!(
                limits, before,
                "a refused string changes nothing: {input:?}"
            );
        }
    }

    /// `string2ll` behaviour checked with `CONFIG SET timeout <input>` on Redis 7.0.
    #[test]
    fn integers_parse_like_string2ll() {
        let table: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("5", Some(5)),
            ("-5", Some(-5)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("05", None),
            ("-0", None),
            ("+5", None),
            (" 5", None),
            ("5 ", None),
            ("", None),
            ("-", None),
            ("1k", None),
            ("1.0", None),
        ];
        for (input, expected) in table {
            assert_eq!(parse_redis_integer(input), *expected, "input {input:?}");
        }
    }

    #[test]
    fn yes_no_and_bind_lists() {
        assert_eq!(parse_yes_no("YES"), Some(true));
        assert_eq!(parse_yes_no("no"), Some(false));
        assert_eq!(parse_yes_no("maybe"), None);
        assert_eq!(parse_yes_no(""), None);
        let addrs = parse_bind_list("  127.0.0.1   ::1 ").unwrap();
        assert_eq!(format_bind_list(&addrs), "127.0.0.1 ::1");
        assert_eq!(parse_bind_list(""), None);
        assert_eq!(parse_bind_list("127.0.0.1 nope"), None);
        assert_eq!(parse_bind_list("*"), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn canonical_integers_round_trip(n in proptest::num::i64::ANY) {
            proptest::prop_assert_eq!(parse_redis_integer(&n.to_string()), Some(n));
        }

        #[test]
        fn limits_round_trip(h in 0u64..u64::MAX, s in 0u64..u64::MAX, t in 0u64..u64::MAX) {
            let mut limits = ClientOutputBufferLimits::default();
            limits.apply_redis_str(&format!("pubsub {h} {s} {t}")).unwrap();
            let mut again = ClientOutputBufferLimits::default();
            again.apply_redis_str(&limits.to_redis_string()).unwrap();
            proptest::prop_assert_eq!(again, limits);
        }
    }
}
