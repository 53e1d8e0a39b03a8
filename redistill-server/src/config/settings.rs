//! The table of settings: one row each, read by the file, the environment, the flags,
//! `CONFIG GET`, `CONFIG SET` and `CONFIG REWRITE`, and by [`Config::default`].
//!
//! To add a setting, add its field to [`Config`] and one row here.

use std::path::{Path, PathBuf};

use super::setting::{Custom, Input, Kind, Legacy, Rewrite, Setting};
use super::values::{
    DebugCommandAccess, LogLevel, eviction_policy_names, format_bind_list, parse_bind_list,
};
use super::{
    ClientOutputBufferLimits, Config, ConfigSource, EvictionPolicy, HZ_MAX, HZ_MIN, MemoryConfig,
    PersistenceConfig, SavePoint, SecurityConfig, ServerConfig,
};

const INT_MIN: i64 = i32::MIN as i64;
const INT_MAX: i64 = i32::MAX as i64;
const UINT_MAX: i64 = u32::MAX as i64;
const LONG_MAX: u64 = i64::MAX as u64;

/// Every setting. File keys come in the order the environment variables are listed.
pub(crate) static SETTINGS: &[Setting] = &[
    row(Kind::Custom(&BIND))
        .file("server", "bind")
        .redis("bind")
        .default("127.0.0.1"),
    int(
        0,
        65535,
        |c| c.server.port.into(),
        |c, n| c.server.port = narrow(n),
    )
    .file("server", "port")
    .redis("port")
    .default("6379"),
    int(
        0,
        1024,
        |c| wide(c.server.workers),
        |c, n| c.server.workers = narrow(n),
    )
    .file("server", "workers")
    .default("0"),
    row(Kind::Custom(&NUM_SHARDS))
        .file("server", "num_shards")
        .default("0"),
    int(
        1,
        1024,
        |c| c.server.databases.into(),
        |c, n| c.server.databases = narrow(n),
    )
    .file("server", "databases")
    .redis("databases")
    .default("16"),
    // 0 is no limit in the file; Redis's maxclients starts at 1.
    row(Kind::Int {
        min: 0,
        max: UINT_MAX,
        redis: Some((1, UINT_MAX)),
        get: |c| c.server.max_connections.into(),
        set: |c, n| c.server.max_connections = narrow(n),
    })
    .file("server", "max_connections")
    .redis("maxclients")
    .default("10000")
    .mutable(),
    int(
        0,
        UINT_MAX,
        |c| c.server.max_new_connections_per_second.into(),
        |c, n| c.server.max_new_connections_per_second = narrow(n),
    )
    .file("server", "max_new_connections_per_second")
    .default("0"),
    int(
        0,
        INT_MAX,
        |c| c.server.timeout.into(),
        |c, n| c.server.timeout = narrow(n),
    )
    .file("server", "timeout")
    .legacy(&[legacy("server", "connection_timeout")])
    .redis("timeout")
    .default("0")
    .mutable(),
    boolean(|c| c.server.tcp_nodelay, |c, b| c.server.tcp_nodelay = b)
        .file("server", "tcp_nodelay")
        .legacy(&[legacy("performance", "tcp_nodelay")])
        .default("true"),
    int(
        0,
        INT_MAX,
        |c| c.server.tcp_keepalive.into(),
        |c, n| c.server.tcp_keepalive = narrow(n),
    )
    .file("server", "tcp_keepalive")
    .legacy(&[legacy("performance", "tcp_keepalive")])
    .redis("tcp-keepalive")
    .default("300")
    .mutable(),
    // Redis takes any non-negative int for hz and keeps it within its bounds.
    row(Kind::Int {
        min: HZ_MIN as i64,
        max: HZ_MAX as i64,
        redis: Some((0, INT_MAX)),
        get: |c| c.server.hz.into(),
        set: |c, n| c.server.hz = narrow(n),
    })
    .file("server", "hz")
    .redis("hz")
    .default("10")
    .mutable(),
    memory(
        1024,
        64 << 20,
        |c| u64::try_from(c.server.buffer_size).unwrap_or(u64::MAX),
        |c, n| c.server.buffer_size = usize::try_from(n).unwrap_or(usize::MAX),
    )
    .file("server", "buffer_size")
    .default("16kb"),
    row(Kind::Custom(&NOTIFY_KEYSPACE_EVENTS))
        .file("server", "notify_keyspace_events")
        .redis("notify-keyspace-events")
        .default("")
        .mutable(),
    row(Kind::Custom(&CLIENT_OUTPUT_BUFFER_LIMIT))
        .file("server", "client_output_buffer_limit")
        .redis("client-output-buffer-limit")
        .default("normal 256mb 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60")
        .mutable(),
    memory(
        1 << 20,
        LONG_MAX,
        |c| c.server.client_query_buffer_limit,
        |c, n| c.server.client_query_buffer_limit = n,
    )
    .file("server", "client_query_buffer_limit")
    .redis("client-query-buffer-limit")
    .default("1gb")
    .mutable(),
    memory(
        1 << 20,
        LONG_MAX,
        |c| c.server.proto_max_bulk_len,
        |c, n| c.server.proto_max_bulk_len = n,
    )
    .file("server", "proto_max_bulk_len")
    .redis("proto-max-bulk-len")
    .default("512mb")
    .mutable(),
    int(
        0,
        65535,
        |c| c.server.health_check_port.into(),
        |c, n| c.server.health_check_port = narrow(n),
    )
    .file("server", "health_check_port")
    .default("0"),
    row(Kind::Choice {
        what: "a log level",
        names: LogLevel::names,
        get: |c| c.server.log_level.as_str(),
        set: |c, name| set_some(&mut c.server.log_level, LogLevel::from_name(name)),
    })
    .file("server", "log_level")
    .legacy(&[Legacy {
        section: "logging",
        key: "level",
        parse: Some(log_crate_level),
    }])
    .redis("loglevel")
    .default("notice")
    .mutable(),
    // Immutable, as in Redis: only the file and the command line set these three.
    text(
        "a path, or empty for standard error",
        true,
        |c| path_text(c.server.logfile.as_deref()),
        |c, v| c.server.logfile = optional_path(v),
    )
    .file("server", "logfile")
    .redis("logfile")
    .default(""),
    boolean(|c| c.server.daemonize, |c, b| c.server.daemonize = b)
        .file("server", "daemonize")
        .redis("daemonize")
        .default("false"),
    text(
        "a path, or empty for none",
        true,
        |c| path_text(c.server.pidfile.as_deref()),
        |c, v| c.server.pidfile = optional_path(v),
    )
    .file("server", "pidfile")
    .redis("pidfile")
    .default(""),
    boolean(
        |c| c.server.protected_mode,
        |c, b| c.server.protected_mode = b,
    )
    .file("server", "protected_mode")
    .redis("protected-mode")
    .default("true")
    .mutable(),
    // Immutable, as in Redis: only the file and the command line set it.
    row(Kind::Choice {
        what: "a DEBUG access setting",
        names: DebugCommandAccess::names,
        get: |c| c.server.enable_debug_command.as_str(),
        set: |c, name| {
            set_some(
                &mut c.server.enable_debug_command,
                DebugCommandAccess::from_name(name),
            )
        },
    })
    .file("server", "enable_debug_command")
    .redis("enable-debug-command")
    .default("local"),
    int(
        i64::MIN,
        i64::MAX,
        |c| c.server.slowlog_log_slower_than,
        |c, n| c.server.slowlog_log_slower_than = n,
    )
    .file("server", "slowlog_log_slower_than")
    .redis("slowlog-log-slower-than")
    .default("10000")
    .mutable(),
    int(
        0,
        i64::MAX,
        |c| wide(c.server.slowlog_max_len),
        |c, n| c.server.slowlog_max_len = narrow(n),
    )
    .file("server", "slowlog_max_len")
    .redis("slowlog-max-len")
    .default("128")
    .mutable(),
    int(
        0,
        i64::MAX,
        |c| wide(c.server.busy_reply_threshold),
        |c, n| c.server.busy_reply_threshold = narrow(n),
    )
    .file("server", "busy_reply_threshold")
    .redis("busy-reply-threshold")
    .redis_aliases(&["lua-time-limit"])
    .default("5000")
    .mutable(),
    int(
        0,
        i64::MAX,
        |c| wide(c.server.tracking_table_max_keys),
        |c, n| c.server.tracking_table_max_keys = narrow(n),
    )
    .file("server", "tracking_table_max_keys")
    .redis("tracking-table-max-keys")
    .default("1000000")
    .mutable(),
    memory(
        0,
        u64::MAX,
        |c| c.memory.max_memory,
        |c, n| c.memory.max_memory = n,
    )
    .file("memory", "max_memory")
    .redis("maxmemory")
    .default("0")
    .mutable(),
    row(Kind::Choice {
        what: "an eviction policy",
        names: eviction_policy_names,
        get: |c| c.memory.eviction_policy.name(),
        set: |c, name| set_some(&mut c.memory.eviction_policy, name.parse().ok()),
    })
    .file("memory", "eviction_policy")
    .redis("maxmemory-policy")
    .default("noeviction")
    .mutable(),
    int(
        1,
        INT_MAX,
        |c| c.memory.maxmemory_samples.into(),
        |c, n| c.memory.maxmemory_samples = narrow(n),
    )
    .file("memory", "maxmemory_samples")
    .legacy(&[legacy("memory", "eviction_sample_size")])
    .redis("maxmemory-samples")
    .default("5")
    .mutable(),
    int(
        0,
        INT_MAX,
        |c| c.memory.lfu_log_factor.into(),
        |c, n| c.memory.lfu_log_factor = narrow(n),
    )
    .file("memory", "lfu_log_factor")
    .redis("lfu-log-factor")
    .default("10")
    .mutable(),
    int(
        0,
        INT_MAX,
        |c| c.memory.lfu_decay_time.into(),
        |c, n| c.memory.lfu_decay_time = narrow(n),
    )
    .file("memory", "lfu_decay_time")
    .redis("lfu-decay-time")
    .default("1")
    .mutable(),
    int(
        1,
        10,
        |c| c.memory.active_expire_effort.into(),
        |c, n| c.memory.active_expire_effort = narrow(n),
    )
    .file("memory", "active_expire_effort")
    .redis("active-expire-effort")
    .default("1")
    .mutable(),
    // Redis takes any `int` for the node size of lists.
    int(
        INT_MIN,
        INT_MAX,
        |c| c.memory.list_max_listpack_size.into(),
        |c, n| c.memory.list_max_listpack_size = narrow(n),
    )
    .file("memory", "list_max_listpack_size")
    .redis("list-max-listpack-size")
    .redis_aliases(&["list-max-ziplist-size"])
    .default("-2")
    .mutable(),
    int(
        0,
        INT_MAX,
        |c| c.memory.list_compress_depth.into(),
        |c, n| c.memory.list_compress_depth = narrow(n),
    )
    .file("memory", "list_compress_depth")
    .redis("list-compress-depth")
    .default("0")
    .mutable(),
    int(
        0,
        i64::MAX,
        |c| wide(c.memory.hash_max_listpack_entries),
        |c, n| c.memory.hash_max_listpack_entries = narrow(n),
    )
    .file("memory", "hash_max_listpack_entries")
    .redis("hash-max-listpack-entries")
    .redis_aliases(&["hash-max-ziplist-entries"])
    .default("512")
    .mutable(),
    memory(
        0,
        LONG_MAX,
        |c| c.memory.hash_max_listpack_value,
        |c, n| c.memory.hash_max_listpack_value = n,
    )
    .file("memory", "hash_max_listpack_value")
    .redis("hash-max-listpack-value")
    .redis_aliases(&["hash-max-ziplist-value"])
    .default("64")
    .mutable(),
    // Redis's limits of a sorted set's compact form: a count, and a size in bytes (which
    // takes units, as in Redis).
    int(
        0,
        i64::MAX,
        |c| wide(c.memory.zset_max_listpack_entries),
        |c, n| c.memory.zset_max_listpack_entries = narrow(n),
    )
    .file("memory", "zset_max_listpack_entries")
    .redis("zset-max-listpack-entries")
    .redis_aliases(&["zset-max-ziplist-entries"])
    .default("128")
    .mutable(),
    memory(
        0,
        LONG_MAX,
        |c| c.memory.zset_max_listpack_value,
        |c, n| c.memory.zset_max_listpack_value = n,
    )
    .file("memory", "zset_max_listpack_value")
    .redis("zset-max-listpack-value")
    .redis_aliases(&["zset-max-ziplist-value"])
    .default("64")
    .mutable(),
    // Redis takes any non-negative `long` for the set encoding limits.
    int(
        0,
        i64::MAX,
        |c| wide(c.memory.set_max_intset_entries),
        |c, n| c.memory.set_max_intset_entries = narrow(n),
    )
    .file("memory", "set_max_intset_entries")
    .redis("set-max-intset-entries")
    .default("512")
    .mutable(),
    int(
        0,
        i64::MAX,
        |c| wide(c.memory.set_max_listpack_entries),
        |c, n| c.memory.set_max_listpack_entries = narrow(n),
    )
    .file("memory", "set_max_listpack_entries")
    .redis("set-max-listpack-entries")
    .default("128")
    .mutable(),
    int(
        0,
        i64::MAX,
        |c| wide(c.memory.set_max_listpack_value),
        |c, n| c.memory.set_max_listpack_value = narrow(n),
    )
    .file("memory", "set_max_listpack_value")
    .redis("set-max-listpack-value")
    .default("64")
    .mutable(),
    memory(
        0,
        LONG_MAX,
        |c| c.memory.hll_sparse_max_bytes,
        |c, n| c.memory.hll_sparse_max_bytes = n,
    )
    .file("memory", "hll_sparse_max_bytes")
    .redis("hll-sparse-max-bytes")
    .default("3000")
    .mutable(),
    // An empty password is no password.
    text(
        "a string",
        true,
        |c| c.security.password.clone().unwrap_or_default(),
        |c, v| c.security.password = (!v.is_empty()).then(|| v.to_owned()),
    )
    .file("security", "password")
    .redis("requirepass")
    .default("")
    .mutable(),
    boolean(
        |c| c.security.tls_enabled,
        |c, b| c.security.tls_enabled = b,
    )
    .file("security", "tls_enabled")
    .default("false"),
    int(
        0,
        65535,
        |c| c.security.tls_port.into(),
        |c, n| c.security.tls_port = narrow(n),
    )
    .file("security", "tls_port")
    .default("0"),
    text(
        "a path",
        true,
        |c| path_text(c.security.tls_cert_path.as_deref()),
        |c, v| c.security.tls_cert_path = optional_path(v),
    )
    .file("security", "tls_cert_path")
    .redis("tls-cert-file")
    .default(""),
    text(
        "a path",
        true,
        |c| path_text(c.security.tls_key_path.as_deref()),
        |c, v| c.security.tls_key_path = optional_path(v),
    )
    .file("security", "tls_key_path")
    .redis("tls-key-file")
    .default(""),
    text(
        "a path",
        true,
        |c| path_text(c.security.tls_ca_cert_path.as_deref()),
        |c, v| c.security.tls_ca_cert_path = optional_path(v),
    )
    .file("security", "tls_ca_cert_path")
    .redis("tls-ca-cert-file")
    .default(""),
    boolean(
        |c| c.security.tls_auth_clients,
        |c, b| c.security.tls_auth_clients = b,
    )
    .file("security", "tls_auth_clients")
    .redis("tls-auth-clients")
    .default("false"),
    int(
        0,
        UINT_MAX,
        |c| c.security.tls_max_handshakes.into(),
        |c, n| c.security.tls_max_handshakes = narrow(n),
    )
    .file("security", "tls_max_handshakes")
    .default("1000"),
    int(
        1,
        3600,
        |c| c.security.tls_handshake_timeout.into(),
        |c, n| c.security.tls_handshake_timeout = narrow(n),
    )
    .file("security", "tls_handshake_timeout")
    .default("10"),
    // `CONFIG SET save` turns persistence on, so REWRITE keeps it.
    boolean(|c| c.persistence.enabled, |c, b| c.persistence.enabled = b)
        .file("persistence", "enabled")
        .default("false")
        .rewritten(),
    text(
        "a non-empty path",
        false,
        |c| path_text(Some(&c.persistence.snapshot_path)),
        |c, v| c.persistence.snapshot_path = PathBuf::from(v),
    )
    .file("persistence", "snapshot_path")
    .default(super::DEFAULT_SNAPSHOT_FILE),
    // Redis's name for the snapshot's file name alone; `dir` is its directory.
    row(Kind::Custom(&DBFILENAME)).redis("dbfilename"),
    // Written back unless the schedule is in `save` form.
    int(
        0,
        i64::MAX,
        |c| wide(c.persistence.snapshot_interval),
        |c, n| {
            c.persistence.snapshot_interval = narrow(n);
            c.persistence.save = None;
        },
    )
    .file("persistence", "snapshot_interval")
    .default("300")
    .rewritten_when(|c| c.persistence.save.is_none()),
    // Redis's form of the same schedule, so a file may give one or the other, not both.
    row(Kind::Custom(&SAVE))
        .file("persistence", "save")
        .same_option_as("persistence.snapshot_interval")
        .redis("save")
        .mutable(),
    boolean(
        |c| c.persistence.save_on_shutdown,
        |c, b| c.persistence.save_on_shutdown = b,
    )
    .file("persistence", "save_on_shutdown")
    .default("true"),
    boolean(
        |c| c.persistence.start_empty_on_corrupt_snapshot,
        |c, b| c.persistence.start_empty_on_corrupt_snapshot = b,
    )
    .file("persistence", "start_empty_on_corrupt_snapshot")
    .default("false"),
    // Only CONFIG SET sets it, as in Redis, to make snapshots slow on purpose in tests.
    int(
        0,
        INT_MAX,
        |c| wide(c.persistence.key_save_delay_us),
        |c, n| c.persistence.key_save_delay_us = narrow(n),
    )
    .redis("rdb-key-save-delay")
    .default("0")
    .mutable(),
    boolean(
        |c| c.persistence.rdb_compression,
        |c, b| c.persistence.rdb_compression = b,
    )
    .file("persistence", "rdb_compression")
    .redis("rdbcompression")
    .default("true")
    .mutable(),
    // `CONFIG` parameters with one value here.
    row(Kind::Custom(&APPENDONLY)).redis("appendonly").mutable(),
    // No cluster mode.
    row(Kind::Constant("no")).redis("cluster-enabled"),
    row(Kind::Derived(snapshot_dir)).redis("dir"),
    // Redis's I/O threads; the workers here each do their own I/O.
    row(Kind::Constant("1")).redis("io-threads"),
    // There is no latency monitor (see LATENCY).
    row(Kind::Constant("0")).redis("latency-monitor-threshold"),
    // Clients are never evicted.
    row(Kind::Constant("0")).redis("maxmemory-clients"),
    row(Kind::Derived(|c| {
        if c.security.tls_enabled {
            c.security.tls_port.to_string()
        } else {
            "0".to_owned()
        }
    }))
    .redis("tls-port"),
];

/// The configuration every row's default gives.
pub(crate) fn defaults() -> Config {
    let mut config = blank();
    for setting in SETTINGS {
        if let Some(default) = setting.default {
            // A unit test checks that every default is accepted.
            let _ = setting.apply(&mut config, &Input::Text(default));
        }
    }
    config
}

/// Placeholders that the rows' defaults replace.
fn blank() -> Config {
    Config {
        server: ServerConfig {
            bind: Vec::new(),
            port: 0,
            workers: 0,
            num_shards: 0,
            databases: 0,
            max_connections: 0,
            max_new_connections_per_second: 0,
            timeout: 0,
            tcp_nodelay: false,
            tcp_keepalive: 0,
            hz: 0,
            buffer_size: 0,
            client_output_buffer_limit: ClientOutputBufferLimits::default(),
            notify_keyspace_events: String::new(),
            client_query_buffer_limit: 0,
            proto_max_bulk_len: 0,
            health_check_port: 0,
            log_level: LogLevel::default(),
            protected_mode: false,
            enable_debug_command: DebugCommandAccess::default(),
            slowlog_log_slower_than: 0,
            slowlog_max_len: 0,
            logfile: None,
            daemonize: false,
            pidfile: None,
            busy_reply_threshold: 0,
            tracking_table_max_keys: 0,
        },
        memory: MemoryConfig {
            max_memory: 0,
            eviction_policy: EvictionPolicy::default(),
            maxmemory_samples: 0,
            lfu_log_factor: 0,
            lfu_decay_time: 0,
            active_expire_effort: 0,
            list_max_listpack_size: 0,
            list_compress_depth: 0,
            hash_max_listpack_entries: 0,
            hash_max_listpack_value: 0,
            zset_max_listpack_entries: 0,
            zset_max_listpack_value: 0,
            set_max_intset_entries: 0,
            set_max_listpack_entries: 0,
            set_max_listpack_value: 0,
            hll_sparse_max_bytes: 0,
        },
        security: SecurityConfig {
            password: None,
            tls_enabled: false,
            tls_port: 0,
            tls_cert_path: None,
            tls_key_path: None,
            tls_ca_cert_path: None,
            tls_auth_clients: false,
            tls_max_handshakes: 0,
            tls_handshake_timeout: 0,
        },
        persistence: PersistenceConfig {
            enabled: false,
            snapshot_path: PathBuf::new(),
            snapshot_interval: 0,
            save: None,
            save_on_shutdown: false,
            start_empty_on_corrupt_snapshot: false,
            key_save_delay_us: 0,
            rdb_compression: true,
        },
        source: ConfigSource::Defaults,
    }
}

// Row builders: a row starts from its kind and names the rest.

const fn row(kind: Kind) -> Setting {
    Setting {
        file: None,
        legacy: &[],
        same_option_as: None,
        redis: None,
        redis_aliases: &[],
        kind,
        default: None,
        mutable: false,
        rewrite: Rewrite::Never,
    }
}

const fn int(min: i64, max: i64, get: fn(&Config) -> i64, set: fn(&mut Config, i64)) -> Setting {
    row(Kind::Int {
        min,
        max,
        redis: None,
        get,
        set,
    })
}

const fn memory(min: u64, max: u64, get: fn(&Config) -> u64, set: fn(&mut Config, u64)) -> Setting {
    row(Kind::Memory { min, max, get, set })
}

const fn boolean(get: fn(&Config) -> bool, set: fn(&mut Config, bool)) -> Setting {
    row(Kind::Bool { get, set })
}

const fn text(
    what: &'static str,
    empty_ok: bool,
    get: fn(&Config) -> String,
    set: fn(&mut Config, &str),
) -> Setting {
    row(Kind::Text {
        what,
        empty_ok,
        get,
        set,
    })
}

const fn legacy(section: &'static str, key: &'static str) -> Legacy {
    Legacy {
        section,
        key,
        parse: None,
    }
}

impl Setting {
    const fn file(self, section: &'static str, key: &'static str) -> Self {
        Self {
            file: Some((section, key)),
            ..self
        }
    }

    const fn legacy(self, legacy: &'static [Legacy]) -> Self {
        Self { legacy, ..self }
    }

    const fn same_option_as(self, key: &'static str) -> Self {
        Self {
            same_option_as: Some(key),
            ..self
        }
    }

    const fn redis(self, name: &'static str) -> Self {
        Self {
            redis: Some(name),
            ..self
        }
    }

    const fn redis_aliases(self, redis_aliases: &'static [&'static str]) -> Self {
        Self {
            redis_aliases,
            ..self
        }
    }

    const fn default(self, default: &'static str) -> Self {
        Self {
            default: Some(default),
            ..self
        }
    }

    /// `CONFIG SET` may change it, and `CONFIG REWRITE` writes it.
    const fn mutable(self) -> Self {
        Self {
            mutable: true,
            rewrite: Rewrite::Always,
            ..self
        }
    }

    const fn rewritten(self) -> Self {
        Self {
            rewrite: Rewrite::Always,
            ..self
        }
    }

    const fn rewritten_when(self, when: fn(&Config) -> bool) -> Self {
        Self {
            rewrite: Rewrite::When(when),
            ..self
        }
    }
}

static BIND: Custom = Custom {
    file: Some(|c, v| {
        let addrs = match v {
            Input::Toml(toml::Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().and_then(|s| s.parse().ok()))
                .collect::<Option<Vec<_>>>()
                .filter(|addrs| !addrs.is_empty()),
            _ => v.text().and_then(parse_bind_list),
        };
        c.server.bind =
            addrs.ok_or_else(|| "an IP address or a list of IP addresses".to_owned())?;
        Ok(())
    }),
    redis: None,
    get: |c| format_bind_list(&c.server.bind),
    toml: |_| None,
};

static NUM_SHARDS: Custom = Custom {
    file: Some(|c, v| {
        const EXPECTED: &str = "0 or a power of two up to 65536";
        let shards = match v {
            Input::Toml(toml::Value::Integer(n)) => Some(*n),
            Input::Toml(_) => None,
            Input::Text(text) => text.parse::<i64>().ok(),
        }
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n <= 65536 && (*n == 0 || n.is_power_of_two()))
        .ok_or_else(|| EXPECTED.to_owned())?;
        c.server.num_shards = shards;
        Ok(())
    }),
    redis: None,
    get: |c| c.server.num_shards.to_string(),
    toml: |_| None,
};

static NOTIFY_KEYSPACE_EVENTS: Custom = Custom {
    file: Some(|c, v| {
        const EXPECTED: &str = "Redis's keyspace event classes, such as \"KEA\" or \"Ex\"";
        let text = v.text().ok_or_else(|| EXPECTED.to_owned())?;
        let flags = crate::notifications::parse(text).map_err(|_| EXPECTED.to_owned())?;
        c.server.notify_keyspace_events = crate::notifications::format(flags);
        Ok(())
    }),
    redis: Some(|c, v| {
        let flags = crate::notifications::parse(v).map_err(str::to_owned)?;
        c.server.notify_keyspace_events = crate::notifications::format(flags);
        Ok(())
    }),
    get: |c| c.server.notify_keyspace_events.clone(),
    toml: |c| Some(c.server.notify_keyspace_events.clone().into()),
};

static CLIENT_OUTPUT_BUFFER_LIMIT: Custom = Custom {
    file: Some(|c, v| {
        const EXPECTED: &str =
            "a Redis client-output-buffer-limit such as \"normal 256mb 0 0 pubsub 32mb 8mb 60\"";
        let text = v.text().ok_or_else(|| EXPECTED.to_owned())?;
        c.server
            .client_output_buffer_limit
            .apply_redis_str(text)
            .map_err(|_| EXPECTED.to_owned())
    }),
    redis: Some(|c, v| {
        c.server
            .client_output_buffer_limit
            .apply_redis_str(v)
            .map_err(str::to_owned)
    }),
    get: |c| c.server.client_output_buffer_limit.to_redis_string(),
    toml: |c| Some(c.server.client_output_buffer_limit.to_redis_string().into()),
};

static SAVE: Custom = Custom {
    file: Some(|c, v| {
        let expected = || {
            "Redis's save points, \"<seconds> <changes>\" pairs such as \"3600 1 300 100\" \
             (\"\" for none)"
                .to_owned()
        };
        let text = v.text().ok_or_else(expected)?;
        c.persistence.save = Some(SavePoint::parse_list(text).ok_or_else(expected)?);
        Ok(())
    }),
    redis: Some(set_save),
    get: get_save,
    toml: |c| {
        let points = c.persistence.save.as_deref()?;
        Some(SavePoint::render_list(points).into())
    },
};

/// `appendonly` is always `no`: there are no append-only files.
/// `dbfilename`: the snapshot path's last part, as Redis keeps the file name apart from `dir`.
/// Setting it keeps the directory and, as Redis, refuses a path.
static DBFILENAME: Custom = Custom {
    file: None,
    redis: Some(|c, v| {
        if v.is_empty() || v.contains('/') {
            return Err("dbfilename can't be a path, just a filename".to_owned());
        }
        c.persistence.snapshot_path.set_file_name(v);
        Ok(())
    }),
    get: |c| {
        let path = &c.persistence.snapshot_path;
        path.file_name().map_or_else(
            || path_text(Some(path)),
            |name| name.to_string_lossy().into_owned(),
        )
    },
    toml: |_| None,
};

static APPENDONLY: Custom = Custom {
    file: None,
    redis: Some(|_, v| match super::values::parse_yes_no(v) {
        Some(false) => Ok(()),
        Some(true) => Err("append-only files are not supported; use snapshots (save)".to_owned()),
        None => Err("argument must be 'yes' or 'no'".to_owned()),
    }),
    get: |_| "no".to_owned(),
    toml: |_| None,
};

/// The save points of periodic snapshots in Redis's form; `""` when persistence is off.
fn get_save(c: &Config) -> String {
    if c.persistence.enabled {
        SavePoint::render_list(&c.persistence.save_points())
    } else {
        String::new()
    }
}

/// Sets Redis's save points and turns persistence on, as `save` turns RDB on in Redis; `""`
/// stops periodic snapshots (SAVE, BGSAVE and shutdown still save). Words are separated by
/// single spaces, as Redis splits them.
fn set_save(c: &mut Config, v: &str) -> Result<(), String> {
    const INVALID: &str = "Invalid save parameters";
    if !v.is_empty() && v.split(' ').any(str::is_empty) {
        return Err(INVALID.to_owned());
    }
    let points = SavePoint::parse_list(v).ok_or_else(|| INVALID.to_owned())?;
    match (points.is_empty(), c.persistence.enabled) {
        // No schedule runs with persistence off, and `""` is what CONFIG GET shows then:
        // setting it back changes nothing.
        (true, false) => {}
        (true, true) => c.persistence.save = Some(points),
        (false, _) => {
            c.persistence.enabled = true;
            c.persistence.save = Some(points);
        }
    }
    Ok(())
}

/// `[logging] level` of earlier files took the `log` crate's names.
fn log_crate_level(c: &mut Config, v: &Input<'_>) -> Result<(), String> {
    let level = v
        .text()
        .and_then(|text| LogLevel::from_log_crate_name(text).or_else(|| LogLevel::from_name(text)))
        .ok_or_else(|| "a log level (error, warn, info, debug or trace)".to_owned())?;
    c.server.log_level = level;
    Ok(())
}

/// Stores `value` when there is one; whether there was.
fn set_some<T>(slot: &mut T, value: Option<T>) -> bool {
    value.map(|value| *slot = value).is_some()
}

/// A value the row's range has already checked, in its field's type.
fn narrow<T: TryFrom<i64> + Default>(n: i64) -> T {
    T::try_from(n).unwrap_or_default()
}

/// A field's value as the row's integer; unsigned values past `i64::MAX` saturate.
fn wide<T: TryInto<i64>>(n: T) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

fn path_text(path: Option<&Path>) -> String {
    path.map(|p| p.display().to_string()).unwrap_or_default()
}

fn optional_path(text: &str) -> Option<PathBuf> {
    (!text.is_empty()).then(|| PathBuf::from(text))
}

/// The directory the snapshot is written in, absolute, as Redis reports its `dir`.
fn snapshot_dir(c: &Config) -> String {
    let path = &c.persistence.snapshot_path;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::path::absolute(dir).map_or_else(|_| path_text(Some(dir)), |d| path_text(Some(&d)))
}
