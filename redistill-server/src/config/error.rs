//! Why a configuration could not be loaded or changed, and what was loaded with a caveat.

use std::fmt;
use std::path::PathBuf;

/// A configuration problem. Every variant names the key, variable, flag or parameter at
/// fault, so the message alone tells the operator what to fix.
///
/// Loading errors (file, environment, flags) make the binary exit with status 2.
/// `CONFIG SET` errors go back to the client; [`ConfigError::to_redis_error`] gives the
/// exact text Redis 7.0 sends.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration file could not be read (most often: it does not exist).
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML.
    #[error("cannot parse {}: {message}", parse_origin(path.as_deref()))]
    Parse {
        /// The file at fault; `None` for text given directly.
        path: Option<PathBuf>,
        /// The TOML parser's description, with line and column.
        message: String,
    },
    /// A key, section or `REDISTILL_*` variable that means nothing here.
    #[error("unknown configuration key {key}{}", hint_suffix(hint.as_deref()))]
    UnknownKey {
        /// The key as written: `server.prot`, `REDISTILL_SERVER_PROT`, `--set server.prot`.
        key: String,
        /// A known key the writer may have meant.
        hint: Option<String>,
    },
    /// A value of the wrong type or out of range.
    #[error("invalid value for {key}: {value} is not {expected}")]
    InvalidValue {
        /// Where the value was given: `memory.max_memory`, `REDISTILL_SERVER_PORT`, ...
        key: String,
        /// The value as written (TOML syntax for file values, quoted otherwise).
        value: String,
        /// What would have been accepted, e.g. `a memory size`.
        expected: String,
    },
    /// Two keys that set the same option, such as `server.tcp_keepalive` and
    /// `performance.tcp_keepalive`, both appear in one file.
    #[error("{key} and {other} set the same option; keep only one of them")]
    ConflictingKeys {
        /// The key met second.
        key: String,
        /// The key met first.
        other: String,
    },
    /// Values that are fine alone but not together (e.g. TLS enabled without a certificate).
    #[error("invalid configuration for {key}: {reason}")]
    Inconsistent {
        /// The key that needs changing.
        key: String,
        /// Why.
        reason: String,
    },
    /// A relevant environment variable holds bytes that are not UTF-8.
    #[error("environment variable {variable} is not valid UTF-8")]
    NotUnicode {
        /// The variable's name.
        variable: String,
    },
    /// A `redis.conf` line with a value its parameter refuses, or malformed.
    #[error(
        "bad directive in {}, line {line}: '{directive}': {reason}",
        path.display()
    )]
    RedisConf {
        /// The file (an included one where the line is in it).
        path: PathBuf,
        /// The line's number, from 1; 0 for what the whole file adds up to (`save`).
        line: usize,
        /// The parameter and its value as read.
        directive: String,
        /// Why it was refused, in `CONFIG SET`'s words.
        reason: String,
    },
    /// A Redis parameter given on the command line (`--save 60`) with a value it refuses.
    #[error("bad option {option} {value:?}: {reason}")]
    RedisOption {
        /// The option as written, e.g. `--save`.
        option: String,
        /// Its words, joined by spaces.
        value: String,
        /// Why it was refused, in `CONFIG SET`'s words.
        reason: String,
    },
    /// `CONFIG SET` of a parameter this server does not have.
    #[error("Unknown option or number of arguments for CONFIG SET - '{name}'")]
    UnknownParameter {
        /// The name as the client sent it.
        name: String,
    },
    /// `CONFIG SET` with a value the parameter refuses, or of a parameter that cannot change
    /// at run time.
    #[error("CONFIG SET failed (possibly related to argument '{name}') - {reason}")]
    InvalidParameter {
        /// The parameter's name.
        name: String,
        /// Redis's explanation, e.g. `argument must be a memory value`.
        reason: String,
    },
}

impl ConfigError {
    /// The error line to send to a client, as Redis words it (`ERR ...`, no CRLF).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_server::config::Config;
    ///
    /// let mut config = Config::default();
    /// let err = config.set_parameter("maxmemory", "2xb").unwrap_err();
    /// assert_eq!(
    ///     err.to_redis_error(),
    ///     "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - \
    ///      argument must be a memory value"
    /// );
    /// ```
    #[must_use]
    pub fn to_redis_error(&self) -> String {
        format!("ERR {self}")
    }
}

fn parse_origin(path: Option<&std::path::Path>) -> String {
    path.map_or_else(
        || "configuration text".to_owned(),
        |path| format!("config file {}", path.display()),
    )
}

fn hint_suffix(hint: Option<&str>) -> String {
    hint.map(|h| format!(" (did you mean {h}?)"))
        .unwrap_or_default()
}

/// A key that was accepted but has no effect: earlier Redistill configuration files carried
/// tuning keys (`batch_size`, `buffer_pool_size`, ...) that mean nothing in this design.
/// They load, and each one yields one warning for the caller to log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigWarning {
    /// The key, e.g. `server.batch_size`, or a `redis.conf` parameter, e.g. `pidfile`.
    pub key: String,
    /// For a `redis.conf` parameter, why it has no effect.
    pub redis_conf: Option<String>,
}

impl ConfigWarning {
    pub(crate) fn ignored(key: String) -> Self {
        Self {
            key,
            redis_conf: None,
        }
    }

    pub(crate) fn redis_conf(key: String, why: String) -> Self {
        Self {
            key,
            redis_conf: Some(why),
        }
    }
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(why) = &self.redis_conf {
            return write!(f, "redis.conf parameter {}: {why}", self.key);
        }
        write!(
            f,
            "ignoring {}: the key is accepted for compatibility with earlier Redistill \
             configuration files but has no effect",
            self.key
        )
    }
}
