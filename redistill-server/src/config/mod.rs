//! The server's configuration: defaults, `redistill.toml`, environment and flags.
//!
//! Layers apply in this order, each overriding the one before:
//!
//! 1. built-in defaults ([`Config::default`]): 127.0.0.1:6379, no memory limit, no
//!    persistence;
//! 2. the TOML file named by `--config PATH` (or `REDISTILL_CONFIG`), else
//!    `./redistill.toml` if it exists;
//! 3. the environment: `REDIS_PASSWORD`, then `REDISTILL_<SECTION>_<KEY>` for every key,
//!    e.g. `REDISTILL_SERVER_PORT`, `REDISTILL_MEMORY_MAX_MEMORY`;
//! 4. command-line flags ([`crate::cli::Cli`]).
//!
//! Unknown keys, sections and `REDISTILL_*` variables, and bad values, are errors that name
//! the key. Keys that earlier Redistill configuration files used and that mean nothing in
//! this design load with one [`ConfigWarning`] each.
//!
//! [`Config`] also answers `CONFIG GET` and `CONFIG SET` with Redis's parameter names and
//! formats: see [`Config::matching_parameters`] and [`Config::set_parameters`].
//!
//! Every setting is one row of a table (`settings.rs`): its file key, its `CONFIG` name and
//! aliases, its type and range, its default, and whether `CONFIG SET` and `CONFIG REWRITE`
//! touch it. The file, the environment, the flags, `CONFIG` and [`Config::default`] all
//! read that row.
//!
//! # Examples
//!
//! ```
//! use redistill_server::config::{Config, ConfigLoader, EvictionPolicy};
//!
//! let loaded = Config::from_toml_str(
//!     r#"
//!     [server]
//!     port = 7000
//!     [memory]
//!     max_memory = "2gb"
//!     eviction_policy = "allkeys-lru"
//!     "#,
//! )?;
//! assert_eq!(loaded.config.server.port, 7000);
//! assert_eq!(loaded.config.memory.max_memory, 2 << 30);
//! assert_eq!(loaded.config.memory.eviction_policy, EvictionPolicy::AllKeysLru);
//! assert!(loaded.warnings.is_empty());
//!
//! // The environment is passed in, so nothing here reads the process's own.
//! let loaded = ConfigLoader::new()
//!     .default_file(None)
//!     .env([("REDISTILL_SERVER_PORT", "7001"), ("REDIS_PASSWORD", "secret")])
//!     .load()?;
//! assert_eq!(loaded.config.server.port, 7001);
//! assert_eq!(loaded.config.security.password.as_deref(), Some("secret"));
//! assert_eq!(loaded.config.source.to_string(), "defaults");
//! # Ok::<(), redistill_server::config::ConfigError>(())
//! ```

mod error;
mod keys;
mod loader;
mod memory;
mod params;
mod redis_conf;
mod rewrite;
mod setting;
mod settings;
mod values;

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

pub use error::{ConfigError, ConfigWarning};
pub use loader::{
    ConfigLoader, DEFAULT_CONFIG_FILE, Loaded, Override, Overrides, env_var_names, process_env,
};
pub use memory::parse_memory_size;
pub use params::{Parameter, parameters};
pub use rewrite::rewrite_file;
pub use values::{
    ClientOutputBufferLimits, DebugCommandAccess, EvictionPolicy, LogLevel, OutputBufferLimit,
    eviction_policy_names, format_bind_list, parse_bind_list, parse_redis_integer, parse_yes_no,
};

/// The whole configuration, after every layer has been applied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// `[server]`: network, connections, limits, logging.
    pub server: ServerConfig,
    /// `[memory]`: memory limit and eviction.
    pub memory: MemoryConfig,
    /// `[security]`: password and TLS.
    pub security: SecurityConfig,
    /// `[persistence]`: snapshots.
    pub persistence: PersistenceConfig,
    /// Where the file layer came from, for the start-up log line.
    pub source: ConfigSource,
}

impl Default for Config {
    /// Every setting's default, from its row.
    fn default() -> Self {
        settings::defaults()
    }
}

/// Where a configuration's file layer came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ConfigSource {
    /// No file: built-in defaults (plus environment and flags).
    #[default]
    Defaults,
    /// The TOML file at this path.
    File(PathBuf),
    /// The Redis `redis.conf` at this path (given as the first argument).
    RedisConf(PathBuf),
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Defaults => f.write_str("defaults"),
            Self::File(path) | Self::RedisConf(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Fewest active expiry cycles per second (`hz`), as Redis's `CONFIG_MIN_HZ`.
pub const HZ_MIN: u32 = 1;
/// Most active expiry cycles per second (`hz`), as Redis's `CONFIG_MAX_HZ`.
pub const HZ_MAX: u32 = 500;

/// `[server]` keys.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Addresses to listen on (`bind`, default `127.0.0.1`).
    pub bind: Vec<IpAddr>,
    /// TCP port (`port`, default 6379; 0 lets the OS choose, for tests).
    pub port: u16,
    /// Event-loop threads (`workers`, default 0 = one per available core).
    pub workers: usize,
    /// Shards per database (`num_shards`, default 0 = chosen by the server; otherwise a
    /// power of two up to 65536).
    pub num_shards: usize,
    /// Logical databases for `SELECT` (`databases`, default 16, 1 to 1024: each database
    /// allocates its shards up front).
    pub databases: u32,
    /// Most clients connected at once (`max_connections`, default 10000; 0 = no limit).
    pub max_connections: u32,
    /// Most new connections accepted per second (`max_new_connections_per_second`, default
    /// 0 = no limit). Connections over it are accepted and closed at once (plain TCP
    /// clients first get an error line) and counted in `rejected_connections`.
    pub max_new_connections_per_second: u32,
    /// Seconds a client may stay idle before it is closed (`timeout`, default 0 = never).
    pub timeout: u32,
    /// Disable Nagle's algorithm on client sockets (`tcp_nodelay`, default true).
    pub tcp_nodelay: bool,
    /// TCP keepalive interval in seconds (`tcp_keepalive`, default 300 as in Redis; 0 = off).
    pub tcp_keepalive: u32,
    /// Active expiry cycles per second, [`HZ_MIN`] to [`HZ_MAX`] (`hz`, default 10 as in
    /// Redis).
    pub hz: u32,
    /// Bytes read from a socket at a time (`buffer_size`, default 16384).
    pub buffer_size: usize,
    /// Output buffer limits per client class (`client_output_buffer_limit`).
    pub client_output_buffer_limit: ClientOutputBufferLimits,
    /// Keyspace notification classes, in Redis's letters as CONFIG GET writes them back
    /// (`notify_keyspace_events`, default "" = off).
    pub notify_keyspace_events: String,
    /// Most bytes of unparsed input a client may accumulate (`client_query_buffer_limit`,
    /// default 1gb as in Redis).
    pub client_query_buffer_limit: u64,
    /// Largest bulk string a client may send (`proto_max_bulk_len`, default 512mb as in
    /// Redis).
    pub proto_max_bulk_len: u64,
    /// Port of the HTTP health endpoint (`health_check_port`, default 0 = off).
    pub health_check_port: u16,
    /// Log verbosity (`log_level`, default `notice`).
    pub log_level: LogLevel,
    /// Refuse clients from other hosts when no password is set and the server listens on a
    /// non-loopback address (`protected_mode`, default true as in Redis).
    pub protected_mode: bool,
    /// Who may run DEBUG (`enable_debug_command`: `no`, `yes` or `local`, default `local`:
    /// clients on the loopback interface or a unix socket). Not settable at run time.
    pub enable_debug_command: DebugCommandAccess,
    /// Commands that take at least this many microseconds go to the SLOWLOG
    /// (`slowlog_log_slower_than`, default 10000 as in Redis; 0 logs every command, a
    /// negative value none).
    pub slowlog_log_slower_than: i64,
    /// Entries the SLOWLOG keeps (`slowlog_max_len`, default 128 as in Redis).
    pub slowlog_max_len: u64,
    /// File the log is appended to (`logfile`, default none: standard error, or nowhere
    /// once daemonized, as in Redis). Reopened on SIGHUP, for log rotation.
    pub logfile: Option<PathBuf>,
    /// Detach from the terminal and run in the background (`daemonize`, default false).
    pub daemonize: bool,
    /// File the process id is written to while the server runs (`pidfile`, default none;
    /// `/var/run/redistill.pid` when daemonized, as Redis uses `/var/run/redis.pid`).
    pub pidfile: Option<PathBuf>,
    /// Milliseconds a script runs before other clients are answered `-BUSY`
    /// (`busy_reply_threshold`, Redis's `busy-reply-threshold` or `lua-time-limit`,
    /// default 5000).
    pub busy_reply_threshold: u64,
    /// Keys client-side caching's tracking table holds before it forgets (and
    /// invalidates) some (`tracking_table_max_keys`, default 1000000 as in Redis; 0 for
    /// no limit).
    pub tracking_table_max_keys: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Config::default().server
    }
}

impl ServerConfig {
    /// The number of worker threads to start: `workers`, or the available cores when 0.
    #[must_use]
    pub fn effective_workers(&self) -> usize {
        if self.workers > 0 {
            return self.workers;
        }
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    }
}

/// `[memory]` keys.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryConfig {
    /// Memory limit in bytes (`max_memory`, default 0 = no limit). The file takes an integer
    /// or a string with Redis's units: `"2gb"`, `"512mb"`, `"1g"`.
    pub max_memory: u64,
    /// What to evict at the limit (`eviction_policy`, default `noeviction` as in Redis).
    pub eviction_policy: EvictionPolicy,
    /// Keys sampled per eviction (`maxmemory_samples`, default 5).
    pub maxmemory_samples: u32,
    /// LFU counter logarithm factor (`lfu_log_factor`, default 10).
    pub lfu_log_factor: u32,
    /// Minutes for an LFU counter to halve (`lfu_decay_time`, default 1).
    pub lfu_decay_time: u32,
    /// How hard the active expiry cycle works to reclaim expired keys, 1 to 10
    /// (`active_expire_effort`, default 1, Redis's `active-expire-effort`).
    pub active_expire_effort: u32,
    /// Size of each node of a list (`list_max_listpack_size`, default -2, Redis's
    /// `list-max-listpack-size`): a positive count of elements, or -1 to -5 for 4, 8, 16,
    /// 32 or 64 KiB; Redis takes any `int` and reads values below -5 as -5.
    pub list_max_listpack_size: i32,
    /// Nodes left uncompressed at each end of a list (`list_compress_depth`, default 0:
    /// none compressed, Redis's `list-compress-depth`).
    pub list_compress_depth: u32,
    /// Most fields a hash keeps packed in insertion order (`hash_max_listpack_entries`,
    /// default 512, Redis's `hash-max-listpack-entries`); more make it a hash table.
    pub hash_max_listpack_entries: u64,
    /// Longest field or value a packed hash holds (`hash_max_listpack_value`, default 64
    /// bytes, Redis's `hash-max-listpack-value`).
    pub hash_max_listpack_value: u64,
    /// Most members a sorted set keeps in its compact form (`zset_max_listpack_entries`,
    /// default 128, Redis's `zset-max-listpack-entries`).
    pub zset_max_listpack_entries: u64,
    /// Longest member, in bytes, a sorted set keeps in its compact form
    /// (`zset_max_listpack_value`, default 64, Redis's `zset-max-listpack-value`; the
    /// file takes Redis's units too).
    pub zset_max_listpack_value: u64,
    /// Most members a set of integers keeps in the compact integer encoding
    /// (`set_max_intset_entries`, default 512, Redis's `set-max-intset-entries`).
    pub set_max_intset_entries: u64,
    /// Most members a set keeps in the compact listpack encoding
    /// (`set_max_listpack_entries`, default 128, Redis 7.2's `set-max-listpack-entries`).
    pub set_max_listpack_entries: u64,
    /// Longest member, in bytes, a listpack set keeps (`set_max_listpack_value`, default
    /// 64, Redis 7.2's `set-max-listpack-value`).
    pub set_max_listpack_value: u64,
    /// Longest a sparse HyperLogLog may grow, in bytes, before it turns dense
    /// (`hll_sparse_max_bytes`, default 3000, Redis's `hll-sparse-max-bytes`; the file
    /// takes Redis's units too).
    pub hll_sparse_max_bytes: u64,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Config::default().memory
    }
}

/// `[security]` keys. Only their shape is checked here; the server loads the files.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecurityConfig {
    /// Password clients must send with `AUTH` (`password`, default none; an empty string
    /// also means none).
    pub password: Option<String>,
    /// Serve TLS (`tls_enabled`, default false).
    pub tls_enabled: bool,
    /// Port for TLS (`tls_port`, default 0 = TLS on `port` when `tls_enabled`).
    pub tls_port: u16,
    /// PEM certificate chain (`tls_cert_path`); required with TLS.
    pub tls_cert_path: Option<PathBuf>,
    /// PEM private key (`tls_key_path`); required with TLS.
    pub tls_key_path: Option<PathBuf>,
    /// PEM CA bundle that client certificates must chain to (`tls_ca_cert_path`).
    pub tls_ca_cert_path: Option<PathBuf>,
    /// Require client certificates (`tls_auth_clients`, default false; needs
    /// `tls_ca_cert_path`).
    pub tls_auth_clients: bool,
    /// Most TLS handshakes in progress at once (`tls_max_handshakes`, default 1000; 0 = no
    /// limit). TLS connections over it are closed at once and counted in
    /// `rejected_connections`.
    pub tls_max_handshakes: u32,
    /// Seconds a TLS client has to complete its handshake before it is closed
    /// (`tls_handshake_timeout`, default 10, 1 to 3600).
    pub tls_handshake_timeout: u32,
}

impl fmt::Debug for SecurityConfig {
    // The password stays out of logs and panic messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityConfig")
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls_enabled", &self.tls_enabled)
            .field("tls_port", &self.tls_port)
            .field("tls_cert_path", &self.tls_cert_path)
            .field("tls_key_path", &self.tls_key_path)
            .field("tls_ca_cert_path", &self.tls_ca_cert_path)
            .field("tls_auth_clients", &self.tls_auth_clients)
            .field("tls_max_handshakes", &self.tls_max_handshakes)
            .field("tls_handshake_timeout", &self.tls_handshake_timeout)
            .finish()
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Config::default().security
    }
}

/// The default snapshot file: Redistill's own snapshot format (not RDB), in the working
/// directory.
pub const DEFAULT_SNAPSHOT_FILE: &str = "dump.rsnap";

/// The default snapshot file of earlier versions; loaded at start, in place of
/// [`DEFAULT_SNAPSHOT_FILE`], while the default is used and only the earlier file exists.
/// Saves then go to the new name.
pub const PREVIOUS_DEFAULT_SNAPSHOT_FILE: &str = "redistill.rdb";

/// `[persistence]` keys.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PersistenceConfig {
    /// Load the snapshot at start and write snapshots (`enabled`, default false).
    pub enabled: bool,
    /// Snapshot file (`snapshot_path`, default [`DEFAULT_SNAPSHOT_FILE`]). The format is
    /// Redistill's own, not RDB.
    pub snapshot_path: PathBuf,
    /// Seconds between periodic snapshots (`snapshot_interval`, default 300; 0 = only on
    /// `SAVE`/`BGSAVE` and shutdown): the save point `<snapshot_interval> 1`. Unused while
    /// [`save`](Self::save) is set.
    pub snapshot_interval: u64,
    /// Redis's save points (`save = "3600 1 300 100"`, `CONFIG SET save`), which replace
    /// `snapshot_interval` when set; `Some(vec![])` means no periodic snapshots. Whichever
    /// of the two a later layer sets wins. See [`PersistenceConfig::save_points`].
    pub save: Option<Vec<SavePoint>>,
    /// Write a snapshot on graceful shutdown (`save_on_shutdown`, default true).
    pub save_on_shutdown: bool,
    /// When the snapshot is corrupt at start, move it aside to `<path>.corrupt-<unix time>`
    /// and start empty instead of refusing to start (`start_empty_on_corrupt_snapshot`,
    /// default false).
    pub start_empty_on_corrupt_snapshot: bool,
    /// Microseconds to pause after each key written by a snapshot; only `CONFIG SET
    /// rdb-key-save-delay` sets it, as in Redis, to make saves slow on purpose in tests.
    pub key_save_delay_us: u64,
    /// LZF-compress strings longer than 20 bytes in DUMP payloads (`rdb_compression`,
    /// Redis's `rdbcompression`, default true).
    pub rdb_compression: bool,
}

impl Default for PersistenceConfig {
    fn default() -> Self {
        Config::default().persistence
    }
}

/// One of Redis's save points: snapshot once more than `seconds` have passed since the last
/// successful save and at least `changes` writes were made since.
///
/// # Examples
///
/// ```
/// use redistill_server::config::SavePoint;
///
/// let points = SavePoint::parse_list("3600 1 300 100").unwrap();
/// assert_eq!(points[1], SavePoint { seconds: 300, changes: 100 });
/// assert_eq!(SavePoint::render_list(&points), "3600 1 300 100");
/// assert!(SavePoint::parse_list("0 1").is_none(), "seconds start at 1");
/// assert_eq!(SavePoint::parse_list(""), Some(vec![]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavePoint {
    /// Seconds since the last successful save, at least 1.
    pub seconds: u64,
    /// Writes since the last successful save; 0 saves every `seconds` even when idle, as
    /// in Redis.
    pub changes: u64,
}

impl SavePoint {
    /// Reads Redis's form, `<seconds> <changes>` pairs separated by blanks (`""` is no
    /// point at all); `None` for an odd count, a word that is not an integer, seconds
    /// below 1 or negative changes, which Redis refuses as "Invalid save parameters".
    #[must_use]
    pub fn parse_list(text: &str) -> Option<Vec<SavePoint>> {
        let words: Vec<&str> = text.split_ascii_whitespace().collect();
        if !words.len().is_multiple_of(2) {
            return None;
        }
        words
            .chunks_exact(2)
            .map(|pair| {
                let seconds = pair.first()?.parse::<i64>().ok()?;
                let changes = pair.get(1)?.parse::<i64>().ok()?;
                Some(SavePoint {
                    seconds: u64::try_from(seconds).ok().filter(|s| *s >= 1)?,
                    changes: u64::try_from(changes).ok()?,
                })
            })
            .collect()
    }

    /// Redis's form of `points`, as `CONFIG GET save` prints it.
    #[must_use]
    pub fn render_list(points: &[SavePoint]) -> String {
        points
            .iter()
            .map(|p| format!("{} {}", p.seconds, p.changes))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl PersistenceConfig {
    /// The periodic snapshot schedule: [`save`](Self::save) if set, else
    /// `<snapshot_interval> 1` (none when the interval is 0). Persistence must also be
    /// [`enabled`](Self::enabled) for it to run.
    #[must_use]
    pub fn save_points(&self) -> Vec<SavePoint> {
        match &self.save {
            Some(points) => points.clone(),
            None if self.snapshot_interval > 0 => vec![SavePoint {
                seconds: self.snapshot_interval,
                changes: 1,
            }],
            None => Vec::new(),
        }
    }
}

impl Config {
    /// Parses configuration text (the file layer alone, over the defaults).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Parse`] for bad TOML; [`ConfigError::UnknownKey`],
    /// [`ConfigError::InvalidValue`], [`ConfigError::ConflictingKeys`] or
    /// [`ConfigError::Inconsistent`] naming the key at fault.
    pub fn from_toml_str(text: &str) -> Result<Loaded, ConfigError> {
        let mut config = Self::default();
        let mut warnings = Vec::new();
        keys::apply_toml(&mut config, text, None, &mut warnings)?;
        config.validate()?;
        Ok(Loaded { config, warnings })
    }

    /// Checks the rules that involve more than one key.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Inconsistent`] naming the key to change.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let inconsistent = |key: &str, reason: &str| {
            Err(ConfigError::Inconsistent {
                key: key.to_owned(),
                reason: reason.to_owned(),
            })
        };
        let security = &self.security;
        if security.tls_enabled {
            if security.tls_cert_path.is_none() {
                return inconsistent(
                    "security.tls_cert_path",
                    "a certificate is required when security.tls_enabled is true",
                );
            }
            if security.tls_key_path.is_none() {
                return inconsistent(
                    "security.tls_key_path",
                    "a private key is required when security.tls_enabled is true",
                );
            }
            if security.tls_auth_clients && security.tls_ca_cert_path.is_none() {
                return inconsistent(
                    "security.tls_ca_cert_path",
                    "a CA bundle is required when security.tls_auth_clients is true",
                );
            }
        }
        let port = self.server.port;
        if port != 0 && security.tls_enabled && security.tls_port == port {
            return inconsistent("security.tls_port", "it is the same as server.port");
        }
        let health = self.server.health_check_port;
        if health != 0 && (health == port || (security.tls_enabled && health == security.tls_port))
        {
            return inconsistent(
                "server.health_check_port",
                "it is the same as a port that serves clients",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
