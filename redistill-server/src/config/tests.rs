//! Unit tests for the configuration keys: defaults, parsing, validation, errors.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::*;

fn load(text: &str) -> Result<Loaded, ConfigError> {
    Config::from_toml_str(text)
}

/// Loads `[section] key = value` alone.
fn load_key(key: &str, value: &str) -> Result<Config, ConfigError> {
    let (section, name) = key.split_once('.').unwrap();
    load(&format!("[{section}]\n{name} = {value}\n")).map(|loaded| {
        assert!(loaded.warnings.is_empty(), "{key} warned");
        loaded.config
    })
}

fn error_text(result: Result<impl std::fmt::Debug, ConfigError>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn defaults_are_the_documented_ones() {
    let c = Config::default();
    assert_eq!(c.server.bind, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
    assert_eq!(c.server.port, 6379);
    assert_eq!(c.server.workers, 0);
    assert_eq!(c.server.num_shards, 0);
    assert_eq!(c.server.databases, 16);
    assert_eq!(c.server.max_connections, 10_000);
    assert_eq!(c.server.max_new_connections_per_second, 0);
    assert_eq!(c.server.timeout, 0);
    assert!(c.server.tcp_nodelay);
    assert_eq!(c.server.tcp_keepalive, 300);
    assert_eq!(c.server.buffer_size, 16_384);
    assert_eq!(
        c.server.client_output_buffer_limit.normal,
        OutputBufferLimit::new(268_435_456, 0, 0)
    );
    assert_eq!(c.server.client_query_buffer_limit, 1_073_741_824);
    assert_eq!(c.server.proto_max_bulk_len, 536_870_912);
    assert_eq!(c.server.health_check_port, 0);
    assert_eq!(c.server.log_level, LogLevel::Notice);
    assert!(c.server.protected_mode);
    assert_eq!(c.server.enable_debug_command, DebugCommandAccess::Local);
    assert_eq!(c.memory.max_memory, 0);
    assert_eq!(c.memory.eviction_policy, EvictionPolicy::NoEviction);
    assert_eq!(c.memory.maxmemory_samples, 5);
    assert_eq!(c.memory.lfu_log_factor, 10);
    assert_eq!(c.memory.lfu_decay_time, 1);
    assert_eq!(c.memory.active_expire_effort, 1);
    assert_eq!(c.memory.list_max_listpack_size, -2);
    assert_eq!(c.memory.list_compress_depth, 0);
    assert_eq!(c.memory.hash_max_listpack_entries, 512);
    assert_eq!(c.memory.hash_max_listpack_value, 64);
    assert_eq!(c.memory.zset_max_listpack_entries, 128);
    assert_eq!(c.memory.zset_max_listpack_value, 64);
    assert_eq!(c.memory.set_max_intset_entries, 512);
    assert_eq!(c.memory.set_max_listpack_entries, 128);
    assert_eq!(c.memory.set_max_listpack_value, 64);
    assert_eq!(c.memory.hll_sparse_max_bytes, 3000);
    assert_eq!(c.server.hz, 10);
    assert_eq!(c.security.password, None);
    assert!(!c.security.tls_enabled);
    assert_eq!(c.security.tls_port, 0);
    assert_eq!(c.security.tls_cert_path, None);
    assert_eq!(c.security.tls_key_path, None);
    assert_eq!(c.security.tls_ca_cert_path, None);
    assert!(!c.security.tls_auth_clients);
    assert_eq!(c.security.tls_max_handshakes, 1000);
    assert_eq!(c.security.tls_handshake_timeout, 10);
    assert!(!c.persistence.enabled);
    assert_eq!(c.persistence.snapshot_path, PathBuf::from("dump.rsnap"));
    assert_eq!(c.persistence.snapshot_interval, 300);
    assert!(c.persistence.save_on_shutdown);
    assert_eq!(c.source, ConfigSource::Defaults);
    assert!(c.validate().is_ok());
}

#[test]
fn empty_file_gives_defaults() {
    let loaded = load("# nothing here\n").unwrap();
    assert_eq!(loaded.config, Config::default());
    assert!(loaded.warnings.is_empty());
}

#[test]
fn effective_workers_is_never_zero() {
    let mut c = Config::default();
    assert!(c.server.effective_workers() >= 1);
    c.server.workers = 3;
    assert_eq!(c.server.effective_workers(), 3);
}

type Check = fn(&Config) -> bool;

/// A key, values that load with a check of what they loaded to, and values refused.
type KeyCase = (
    &'static str,
    &'static [(&'static str, Check)],
    &'static [&'static str],
);

/// For every key: values that load (and what they load to), and values refused.
#[test]
fn every_key_parses_and_validates() {
    let table: &[KeyCase] = &[
        (
            "server.bind",
            &[
                ("\"0.0.0.0\"", |c| {
                    c.server.bind == ["0.0.0.0".parse::<IpAddr>().unwrap()]
                }),
                ("\"127.0.0.1 ::1\"", |c| c.server.bind.len() == 2),
                ("[\"::1\", \"10.0.0.1\"]", |c| c.server.bind.len() == 2),
            ],
            &["\"\"", "\"localhost\"", "[]", "[1]", "5", "\"*\""],
        ),
        (
            "server.port",
            &[
                ("0", |c| c.server.port == 0),
                ("65535", |c| c.server.port == 65535),
            ],
            &["65536", "-1", "\"6379\"", "1.0", "true"],
        ),
        (
            "server.workers",
            &[
                ("0", |c| c.server.workers == 0),
                ("8", |c| c.server.workers == 8),
            ],
            &["-1", "1025", "\"4\""],
        ),
        (
            "server.num_shards",
            &[
                ("0", |c| c.server.num_shards == 0),
                ("1", |c| c.server.num_shards == 1),
                ("256", |c| c.server.num_shards == 256),
                ("65536", |c| c.server.num_shards == 65536),
            ],
            &["3", "100", "131072", "-2", "\"256\""],
        ),
        (
            "server.databases",
            &[
                ("1", |c| c.server.databases == 1),
                ("1024", |c| c.server.databases == 1024),
            ],
            &["0", "1025", "-1"],
        ),
        (
            "server.max_connections",
            &[
                ("0", |c| c.server.max_connections == 0),
                ("4294967295", |c| c.server.max_connections == u32::MAX),
            ],
            &["4294967296", "-1"],
        ),
        (
            "server.max_new_connections_per_second",
            &[
                ("0", |c| c.server.max_new_connections_per_second == 0),
                ("100", |c| c.server.max_new_connections_per_second == 100),
            ],
            &["4294967296", "-1", "\"100\""],
        ),
        (
            "server.timeout",
            &[
                ("0", |c| c.server.timeout == 0),
                ("2147483647", |c| c.server.timeout == 2_147_483_647),
            ],
            &["2147483648", "-1"],
        ),
        (
            "server.tcp_nodelay",
            &[("false", |c| !c.server.tcp_nodelay)],
            &["\"no\"", "0"],
        ),
        (
            "server.tcp_keepalive",
            &[
                ("0", |c| c.server.tcp_keepalive == 0),
                ("60", |c| c.server.tcp_keepalive == 60),
            ],
            &["-1", "2147483648"],
        ),
        (
            "server.hz",
            &[("1", |c| c.server.hz == 1), ("500", |c| c.server.hz == 500)],
            &["0", "501", "\"10\""],
        ),
        (
            "server.buffer_size",
            &[
                ("1024", |c| c.server.buffer_size == 1024),
                ("\"64kb\"", |c| c.server.buffer_size == 65_536),
                ("\"64mb\"", |c| c.server.buffer_size == 67_108_864),
            ],
            &["1023", "\"65mb\"", "0", "\"big\""],
        ),
        (
            "server.notify_keyspace_events",
            &[
                ("\"KEA\"", |c| c.server.notify_keyspace_events == "AKE"),
                ("\"Elg\"", |c| c.server.notify_keyspace_events == "glE"),
            ],
            &["\"KQ\"", "1"],
        ),
        (
            "server.client_output_buffer_limit",
            &[
                ("\"normal 0 0 0\"", |c| {
                    c.server.client_output_buffer_limit.normal == OutputBufferLimit::default()
                }),
                ("\"pubsub 64mb 16mb 90\"", |c| {
                    c.server.client_output_buffer_limit.pubsub
                        == OutputBufferLimit::new(64 << 20, 16 << 20, 90)
                        && c.server.client_output_buffer_limit.normal.hard_limit_bytes == 256 << 20
                }),
            ],
            &[
                "\"normal 1 2\"",
                "\"master 1 2 3\"",
                "\"normal x 0 0\"",
                "5",
            ],
        ),
        (
            "server.client_query_buffer_limit",
            &[
                ("\"1mb\"", |c| c.server.client_query_buffer_limit == 1 << 20),
                ("2147483648", |c| {
                    c.server.client_query_buffer_limit == 2 << 30
                }),
            ],
            &["1000", "\"1m\"", "\"9223372036854775808\""],
        ),
        (
            "server.proto_max_bulk_len",
            &[("\"1gb\"", |c| c.server.proto_max_bulk_len == 1 << 30)],
            &["\"100kb\"", "-5"],
        ),
        (
            "server.health_check_port",
            &[("8080", |c| c.server.health_check_port == 8080)],
            &["70000"],
        ),
        (
            "server.log_level",
            &[
                ("\"debug\"", |c| c.server.log_level == LogLevel::Debug),
                ("\"VERBOSE\"", |c| c.server.log_level == LogLevel::Verbose),
                ("\"warning\"", |c| c.server.log_level == LogLevel::Warning),
            ],
            &["\"info\"", "\"loud\"", "3"],
        ),
        (
            "server.logfile",
            &[
                ("\"/var/log/redistill.log\"", |c| {
                    c.server.logfile.as_deref() == Some(Path::new("/var/log/redistill.log"))
                }),
                ("\"\"", |c| c.server.logfile.is_none()),
            ],
            &["3"],
        ),
        (
            "server.daemonize",
            &[("true", |c| c.server.daemonize)],
            &["\"maybe\""],
        ),
        (
            "server.pidfile",
            &[("\"/run/r.pid\"", |c| {
                c.server.pidfile.as_deref() == Some(Path::new("/run/r.pid"))
            })],
            &["3"],
        ),
        (
            "server.protected_mode",
            &[("false", |c| !c.server.protected_mode)],
            &["\"yes\""],
        ),
        (
            "server.enable_debug_command",
            &[
                ("\"no\"", |c| {
                    c.server.enable_debug_command == DebugCommandAccess::No
                }),
                ("\"YES\"", |c| {
                    c.server.enable_debug_command == DebugCommandAccess::Yes
                }),
                ("\"local\"", |c| {
                    c.server.enable_debug_command == DebugCommandAccess::Local
                }),
            ],
            &["\"remote\"", "true", "1"],
        ),
        (
            "server.slowlog_log_slower_than",
            &[
                ("0", |c| c.server.slowlog_log_slower_than == 0),
                ("-1", |c| c.server.slowlog_log_slower_than == -1),
            ],
            &["\"fast\"", "1.5"],
        ),
        (
            "server.slowlog_max_len",
            &[("1000", |c| c.server.slowlog_max_len == 1000)],
            &["-1", "\"x\""],
        ),
        (
            "server.busy_reply_threshold",
            &[("100", |c| c.server.busy_reply_threshold == 100)],
            &["-1", "\"x\""],
        ),
        (
            "server.tracking_table_max_keys",
            &[("0", |c| c.server.tracking_table_max_keys == 0)],
            &["-1", "\"x\""],
        ),
        (
            "memory.max_memory",
            &[
                ("0", |c| c.memory.max_memory == 0),
                ("2147483648", |c| c.memory.max_memory == 2 << 30),
                ("\"2gb\"", |c| c.memory.max_memory == 2 << 30),
                ("\"512MB\"", |c| c.memory.max_memory == 512 << 20),
                ("\"1g\"", |c| c.memory.max_memory == 1_000_000_000),
                ("\"100kb\"", |c| c.memory.max_memory == 102_400),
            ],
            &["\"2xb\"", "-1", "\"1.5gb\"", "1.5", "\"1tb\""],
        ),
        (
            "memory.eviction_policy",
            &[
                ("\"allkeys-lru\"", |c| {
                    c.memory.eviction_policy == EvictionPolicy::AllKeysLru
                }),
                ("\"Volatile-TTL\"", |c| {
                    c.memory.eviction_policy == EvictionPolicy::VolatileTtl
                }),
                ("\"allkeys-s3fifo\"", |c| {
                    c.memory.eviction_policy == EvictionPolicy::AllKeysS3Fifo
                }),
            ],
            &["\"lru\"", "\"allkeys_lru\"", "1"],
        ),
        (
            "memory.maxmemory_samples",
            &[("10", |c| c.memory.maxmemory_samples == 10)],
            &["0", "-1"],
        ),
        (
            "memory.lfu_log_factor",
            &[
                ("0", |c| c.memory.lfu_log_factor == 0),
                ("100", |c| c.memory.lfu_log_factor == 100),
            ],
            &["-1"],
        ),
        (
            "memory.lfu_decay_time",
            &[("0", |c| c.memory.lfu_decay_time == 0)],
            &["-1", "\"1\""],
        ),
        (
            "memory.active_expire_effort",
            &[
                ("1", |c| c.memory.active_expire_effort == 1),
                ("10", |c| c.memory.active_expire_effort == 10),
            ],
            &["0", "11", "\"5\""],
        ),
        (
            "memory.list_max_listpack_size",
            &[
                ("-5", |c| c.memory.list_max_listpack_size == -5),
                ("-2147483648", |c| {
                    c.memory.list_max_listpack_size == i32::MIN
                }),
                ("128", |c| c.memory.list_max_listpack_size == 128),
            ],
            &["2147483648", "\"8\""],
        ),
        (
            "memory.list_compress_depth",
            &[("3", |c| c.memory.list_compress_depth == 3)],
            &["-1", "2147483648"],
        ),
        (
            "memory.hash_max_listpack_entries",
            &[("0", |c| c.memory.hash_max_listpack_entries == 0)],
            &["-1", "\"1kb\""],
        ),
        (
            "memory.hash_max_listpack_value",
            &[
                ("0", |c| c.memory.hash_max_listpack_value == 0),
                ("\"1kb\"", |c| c.memory.hash_max_listpack_value == 1024),
            ],
            &["-1"],
        ),
        (
            "memory.zset_max_listpack_entries",
            &[("0", |c| c.memory.zset_max_listpack_entries == 0)],
            &["-1", "\"8\""],
        ),
        (
            "memory.zset_max_listpack_value",
            &[
                ("1024", |c| c.memory.zset_max_listpack_value == 1024),
                ("\"1kb\"", |c| c.memory.zset_max_listpack_value == 1024),
            ],
            &["-1"],
        ),
        (
            "memory.set_max_intset_entries",
            &[
                ("0", |c| c.memory.set_max_intset_entries == 0),
                ("9223372036854775807", |c| {
                    c.memory.set_max_intset_entries == i64::MAX as u64
                }),
            ],
            &["-1", "\"512\""],
        ),
        (
            "memory.set_max_listpack_entries",
            &[("4", |c| c.memory.set_max_listpack_entries == 4)],
            &["-1"],
        ),
        (
            "memory.set_max_listpack_value",
            &[("8", |c| c.memory.set_max_listpack_value == 8)],
            &["-1"],
        ),
        (
            "memory.hll_sparse_max_bytes",
            &[
                ("100", |c| c.memory.hll_sparse_max_bytes == 100),
                ("\"1kb\"", |c| c.memory.hll_sparse_max_bytes == 1024),
            ],
            &["-1"],
        ),
        (
            "security.password",
            &[
                ("\"s3cret\"", |c| {
                    c.security.password.as_deref() == Some("s3cret")
                }),
                ("\"\"", |c| c.security.password.is_none()),
            ],
            &["1234"],
        ),
        (
            "security.tls_enabled",
            &[("false", |c| !c.security.tls_enabled)],
            &["\"true\""],
        ),
        (
            "security.tls_port",
            &[("6380", |c| c.security.tls_port == 6380)],
            &["65536"],
        ),
        (
            "security.tls_cert_path",
            &[("\"cert.pem\"", |c| {
                c.security.tls_cert_path == Some(PathBuf::from("cert.pem"))
            })],
            &["1"],
        ),
        (
            "security.tls_key_path",
            &[("\"key.pem\"", |c| {
                c.security.tls_key_path == Some(PathBuf::from("key.pem"))
            })],
            &["false"],
        ),
        (
            "security.tls_ca_cert_path",
            &[("\"ca.pem\"", |c| {
                c.security.tls_ca_cert_path == Some(PathBuf::from("ca.pem"))
            })],
            &["[]"],
        ),
        (
            "security.tls_auth_clients",
            &[("true", |c| c.security.tls_auth_clients)],
            &["1"],
        ),
        (
            "security.tls_max_handshakes",
            &[
                ("0", |c| c.security.tls_max_handshakes == 0),
                ("64", |c| c.security.tls_max_handshakes == 64),
            ],
            &["-1", "4294967296", "true"],
        ),
        (
            "security.tls_handshake_timeout",
            &[
                ("1", |c| c.security.tls_handshake_timeout == 1),
                ("3600", |c| c.security.tls_handshake_timeout == 3600),
            ],
            &["0", "3601", "\"10\""],
        ),
        (
            "persistence.enabled",
            &[("true", |c| c.persistence.enabled)],
            &["\"on\""],
        ),
        (
            "persistence.snapshot_path",
            &[("\"/var/lib/redistill/dump.rdb\"", |c| {
                c.persistence.snapshot_path == Path::new("/var/lib/redistill/dump.rdb")
            })],
            &["\"\"", "7"],
        ),
        (
            "persistence.snapshot_interval",
            &[
                ("0", |c| c.persistence.snapshot_interval == 0),
                ("3600", |c| c.persistence.snapshot_interval == 3600),
            ],
            &["-1", "\"5m\""],
        ),
        (
            "persistence.save_on_shutdown",
            &[("false", |c| !c.persistence.save_on_shutdown)],
            &["0"],
        ),
        (
            "persistence.start_empty_on_corrupt_snapshot",
            &[("true", |c| c.persistence.start_empty_on_corrupt_snapshot)],
            &["1"],
        ),
        (
            "persistence.rdb_compression",
            &[("false", |c| !c.persistence.rdb_compression)],
            &["\"no\""],
        ),
    ];
    let mut covered: Vec<String> = Vec::new();
    for (key, good, bad) in table {
        covered.push((*key).to_owned());
        for (value, check) in *good {
            let config = load_key(key, value).unwrap_or_else(|e| panic!("{key} = {value}: {e}"));
            assert!(check(&config), "{key} = {value} loaded wrongly");
        }
        for value in *bad {
            let err = load_key(key, value).unwrap_err();
            match &err {
                ConfigError::InvalidValue { key: named, .. } => {
                    assert_eq!(named, key, "{key} = {value}");
                }
                other => panic!("{key} = {value}: unexpected {other:?}"),
            }
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("invalid value for {key}: ")),
                "{text}"
            );
        }
    }
    let all: Vec<String> = keys::canonical_keys()
        .map(|(section, name)| format!("{section}.{name}"))
        .collect();
    assert_eq!(covered, all, "the table covers every key, in order");
}

#[test]
fn error_messages_name_the_key_and_the_value() {
    assert_eq!(
        error_text(load_key("memory.max_memory", "\"2xb\"")),
        "invalid value for memory.max_memory: \"2xb\" is not a memory size"
    );
    assert_eq!(
        error_text(load_key("server.port", "70000")),
        "invalid value for server.port: 70000 is not an integer between 0 and 65535"
    );
    assert_eq!(
        error_text(load_key("server.num_shards", "100")),
        "invalid value for server.num_shards: 100 is not 0 or a power of two up to 65536"
    );
    assert_eq!(
        error_text(load_key("memory.eviction_policy", "\"lru\"")),
        "invalid value for memory.eviction_policy: \"lru\" is not an eviction policy \
         (volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, \
         allkeys-random, noeviction, allkeys-s3fifo)"
    );
    assert_eq!(
        error_text(load_key("server.tcp_nodelay", "\"yes\"")),
        "invalid value for server.tcp_nodelay: \"yes\" is not a boolean (true or false)"
    );
    assert_eq!(
        error_text(load_key("server.proto_max_bulk_len", "\"100kb\"")),
        "invalid value for server.proto_max_bulk_len: \"100kb\" is not a memory size between \
         1048576 and 9223372036854775807 bytes"
    );
}

#[test]
fn unknown_keys_and_sections_are_named() {
    let cases: &[(&str, &str)] = &[
        (
            "[server]\nprot = 1\n",
            "unknown configuration key server.prot",
        ),
        ("[sever]\nport = 1\n", "unknown configuration key sever"),
        (
            "port = 6379\n",
            "unknown configuration key port (did you mean server.port?)",
        ),
        (
            "[memory]\nport = 6379\n",
            "unknown configuration key memory.port (did you mean server.port?)",
        ),
        (
            "[logging]\ncolour = true\n",
            "unknown configuration key logging.colour",
        ),
        (
            "[performance]\nbatch_size = 1\n",
            "unknown configuration key performance.batch_size",
        ),
    ];
    for (text, message) in cases {
        let err = load(text).unwrap_err();
        assert!(
            matches!(err, ConfigError::UnknownKey { .. }),
            "{text}: {err:?}"
        );
        assert_eq!(err.to_string(), *message);
    }
    assert_eq!(
        error_text(load("server = 5\n")),
        "invalid value for server: 5 is not a table (a [server] section)"
    );
}

#[test]
fn bad_toml_is_a_parse_error_with_a_position() {
    let err = load("[server]\nport = \n").unwrap_err();
    assert!(
        matches!(err, ConfigError::Parse { path: None, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("cannot parse configuration text: "),
        "{text}"
    );
    assert!(text.contains("line 2"), "{text}");
    let err = load("[server]\nport = 1\nport = 2\n").unwrap_err();
    assert!(matches!(err, ConfigError::Parse { .. }), "{err:?}");
}

const LEGACY: &str = r#"
[server]
bind = "127.0.0.1"
port = 6379
num_shards = 256
batch_size = 256
buffer_size = 16384
buffer_pool_size = 2048
max_connections = 10000
health_check_port = 8080
[performance]
tcp_nodelay = true
tcp_keepalive = 60
[security]
password = "your-password"
tls_enabled = false
[memory]
max_memory = 2147483648
eviction_policy = "allkeys-lru"
[persistence]
enabled = false
snapshot_path = "redistill.rdb"
snapshot_interval = 300
"#;

#[test]
fn legacy_file_loads_with_one_warning_per_meaningless_key() {
    let loaded = load(LEGACY).unwrap();
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "ignoring server.batch_size: the key is accepted for compatibility with earlier \
             Redistill configuration files but has no effect",
            "ignoring server.buffer_pool_size: the key is accepted for compatibility with \
             earlier Redistill configuration files but has no effect",
        ]
    );
    let keys: Vec<&str> = loaded.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(keys, ["server.batch_size", "server.buffer_pool_size"]);
    let c = loaded.config;
    assert_eq!(c.server.num_shards, 256);
    assert_eq!(c.server.health_check_port, 8080);
    assert_eq!(c.server.tcp_keepalive, 60, "[performance] maps onto ours");
    assert!(c.server.tcp_nodelay);
    assert_eq!(c.security.password.as_deref(), Some("your-password"));
    assert_eq!(c.memory.max_memory, 2_147_483_648);
    assert_eq!(c.memory.eviction_policy, EvictionPolicy::AllKeysLru);
    assert!(!c.persistence.enabled);
}

#[test]
fn other_legacy_keys_map_or_warn() {
    let loaded = load(
        r#"
        [server]
        connection_timeout = 30
        connection_rate_limit = 0
        shutdown_grace_period_secs = 30
        [logging]
        level = "debug"
        format = "text"
        [memory]
        eviction_sample_size = 7
        s3fifo_small_ratio = 0.1
        s3fifo_ghost_ratio = 0.1
        "#,
    )
    .unwrap();
    assert_eq!(loaded.config.server.timeout, 30);
    assert_eq!(loaded.config.server.log_level, LogLevel::Verbose);
    assert_eq!(loaded.config.memory.maxmemory_samples, 7);
    let mut keys: Vec<&str> = loaded.warnings.iter().map(|w| w.key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "logging.format",
            "memory.s3fifo_ghost_ratio",
            "memory.s3fifo_small_ratio",
            "server.connection_rate_limit",
            "server.shutdown_grace_period_secs",
        ]
    );
}

#[test]
fn two_keys_for_one_option_conflict() {
    let err =
        load("[server]\ntcp_keepalive = 10\n[performance]\ntcp_keepalive = 60\n").unwrap_err();
    assert!(
        matches!(err, ConfigError::ConflictingKeys { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("server.tcp_keepalive") && text.contains("performance.tcp_keepalive"));
    let err = load("[server]\ntimeout = 1\nconnection_timeout = 2\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "server.timeout and server.connection_timeout set the same option; keep only one of them"
    );
}

#[test]
fn cross_key_rules_name_the_key_to_fix() {
    let cases: &[(&str, &str)] = &[
        ("[security]\ntls_enabled = true\n", "security.tls_cert_path"),
        (
            "[security]\ntls_enabled = true\ntls_cert_path = \"c\"\n",
            "security.tls_key_path",
        ),
        (
            "[security]\ntls_enabled = true\ntls_cert_path = \"c\"\ntls_key_path = \"k\"\n\
             tls_auth_clients = true\n",
            "security.tls_ca_cert_path",
        ),
        (
            "[security]\ntls_enabled = true\ntls_cert_path = \"c\"\ntls_key_path = \"k\"\n\
             tls_port = 6379\n",
            "security.tls_port",
        ),
        (
            "[server]\nhealth_check_port = 6379\n",
            "server.health_check_port",
        ),
    ];
    for (text, key) in cases {
        match load(text).unwrap_err() {
            ConfigError::Inconsistent { key: named, .. } => assert_eq!(named, *key, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    let ok = load(
        "[security]\ntls_enabled = true\ntls_cert_path = \"c\"\ntls_key_path = \"k\"\n\
         tls_auth_clients = true\ntls_ca_cert_path = \"ca\"\ntls_port = 6380\n",
    )
    .unwrap();
    assert!(ok.config.security.tls_enabled);
    assert!(load("[server]\nport = 0\nhealth_check_port = 0\n").is_ok());
}

#[test]
fn password_is_not_in_debug_output() {
    let config = load_key("security.password", "\"hunter2\"").unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("<redacted>"));
}

#[test]
fn environment_sets_every_key_by_section_and_name() {
    let names = env_var_names();
    assert_eq!(names.len(), keys::canonical_keys().count());
    assert!(names.contains(&"REDISTILL_SERVER_PORT".to_owned()));
    assert!(names.contains(&"REDISTILL_MEMORY_MAX_MEMORY".to_owned()));
    assert!(names.contains(&"REDISTILL_MEMORY_EVICTION_POLICY".to_owned()));
    assert!(names.contains(&"REDISTILL_PERSISTENCE_ENABLED".to_owned()));
    let env = |pairs: &[(&str, &str)]| {
        ConfigLoader::new()
            .default_file(None)
            .env(pairs.iter().copied())
            .load()
    };
    let c = env(&[
        ("REDISTILL_SERVER_PORT", "7001"),
        ("REDISTILL_SERVER_BIND", "0.0.0.0 ::"),
        ("REDISTILL_SERVER_TCP_NODELAY", "no"),
        (
            "REDISTILL_SERVER_CLIENT_OUTPUT_BUFFER_LIMIT",
            "normal 1mb 0 0",
        ),
        ("REDISTILL_MEMORY_MAX_MEMORY", "512mb"),
        ("REDISTILL_MEMORY_EVICTION_POLICY", "allkeys-lfu"),
        ("REDISTILL_PERSISTENCE_ENABLED", "true"),
        ("REDISTILL_SECURITY_TLS_CERT_PATH", "/etc/cert.pem"),
        ("PATH", "/usr/bin"),
        ("REDIS_PORT", "1"),
    ])
    .unwrap()
    .config;
    assert_eq!(c.server.port, 7001);
    assert_eq!(c.server.bind.len(), 2);
    assert!(!c.server.tcp_nodelay);
    assert_eq!(
        c.server.client_output_buffer_limit.normal.hard_limit_bytes,
        1 << 20
    );
    assert_eq!(c.memory.max_memory, 512 << 20);
    assert_eq!(c.memory.eviction_policy, EvictionPolicy::AllKeysLfu);
    assert!(c.persistence.enabled);
    assert_eq!(
        c.security.tls_cert_path,
        Some(PathBuf::from("/etc/cert.pem"))
    );

    // Every variable reaches its key: each one set to a value the default does not have.
    for name in &names {
        let result = env(&[(name.as_str(), "not a valid value for anything @@")]);
        let accepted_any_text = [
            "REDISTILL_SECURITY_PASSWORD",
            "REDISTILL_SECURITY_TLS_CERT_PATH",
            "REDISTILL_SECURITY_TLS_KEY_PATH",
            "REDISTILL_SECURITY_TLS_CA_CERT_PATH",
            "REDISTILL_PERSISTENCE_SNAPSHOT_PATH",
            "REDISTILL_SERVER_LOGFILE",
            "REDISTILL_SERVER_PIDFILE",
        ];
        if accepted_any_text.contains(&name.as_str()) {
            assert_ne!(result.unwrap().config, Config::default(), "{name}");
        } else {
            match result.unwrap_err() {
                ConfigError::InvalidValue { key, value, .. } => {
                    assert_eq!(key, *name);
                    assert_eq!(value, "\"not a valid value for anything @@\"");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}

#[test]
fn environment_errors_and_password() {
    let env = |pairs: &[(&str, &str)]| {
        ConfigLoader::new()
            .default_file(None)
            .env(pairs.iter().copied())
            .load()
    };
    assert_eq!(
        error_text(env(&[("REDISTILL_SERVER_PORT", "70000")])),
        "invalid value for REDISTILL_SERVER_PORT: \"70000\" is not an integer between 0 and 65535"
    );
    assert_eq!(
        error_text(env(&[("REDISTILL_PORT", "7000")])),
        "unknown configuration key REDISTILL_PORT (did you mean REDISTILL_SERVER_PORT?)"
    );
    assert_eq!(
        error_text(env(&[("REDISTILL_PERFORMANCE_TCP_NODELAY", "true")])),
        "unknown configuration key REDISTILL_PERFORMANCE_TCP_NODELAY"
    );
    assert_eq!(
        error_text(env(&[("REDISTILL_MEMORY_MAX_MEMORY", "2xb")])),
        "invalid value for REDISTILL_MEMORY_MAX_MEMORY: \"2xb\" is not a memory size"
    );
    let c = env(&[("REDIS_PASSWORD", "pw")]).unwrap().config;
    assert_eq!(c.security.password.as_deref(), Some("pw"));
    let c = env(&[
        ("REDIS_PASSWORD", "pw"),
        ("REDISTILL_SECURITY_PASSWORD", "more"),
    ])
    .unwrap()
    .config;
    assert_eq!(
        c.security.password.as_deref(),
        Some("more"),
        "the specific name wins"
    );
    let c = env(&[("REDIS_PASSWORD", "")]).unwrap().config;
    assert_eq!(c.security.password, None);
}

#[test]
fn overrides_name_their_origin() {
    let mut overrides = Overrides::default();
    overrides.push("server.port", "x", "--port");
    let err = ConfigLoader::new()
        .default_file(None)
        .overrides(overrides)
        .load()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value for --port: \"x\" is not an integer between 0 and 65535"
    );
    let mut overrides = Overrides::default();
    overrides.push("server.batch_size", "1", "--set server.batch_size");
    let err = ConfigLoader::new()
        .default_file(None)
        .overrides(overrides)
        .load()
        .unwrap_err();
    assert!(matches!(err, ConfigError::UnknownKey { .. }), "{err:?}");
    assert!(Overrides::default().is_empty());
}

#[test]
fn save_points_load_in_redis_form_instead_of_snapshot_interval() {
    let c = load_key("persistence.save", "\"3600 1  300 100\\t60 10000\"").unwrap();
    assert_eq!(
        c.persistence.save_points(),
        [(3600, 1), (300, 100), (60, 10_000)]
            .map(|(seconds, changes)| SavePoint { seconds, changes })
    );
    let c = load_key("persistence.save", "\"\"").unwrap();
    assert!(c.persistence.save_points().is_empty());
    let c = load_key("persistence.snapshot_interval", "60").unwrap();
    assert_eq!(
        c.persistence.save_points(),
        [SavePoint {
            seconds: 60,
            changes: 1
        }]
    );
    for bad in ["\"3600\"", "\"0 1\"", "\"60 -1\"", "\"60 x\"", "3600"] {
        let err = load_key("persistence.save", bad).unwrap_err();
        assert!(
            matches!(&err, ConfigError::InvalidValue { key, .. } if key == "persistence.save"),
            "{bad}: {err:?}"
        );
    }
    let err = load("[persistence]\nsnapshot_interval = 60\nsave = \"60 1\"\n").unwrap_err();
    assert!(
        matches!(err, ConfigError::ConflictingKeys { .. }),
        "{err:?}"
    );
}

#[test]
fn a_later_layer_setting_either_form_of_the_schedule_wins() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("redistill.toml");
    std::fs::write(&file, "[persistence]\nsave = \"900 1 300 10\"\n").unwrap();
    let c = ConfigLoader::new()
        .file(&file)
        .env([("REDISTILL_PERSISTENCE_SNAPSHOT_INTERVAL", "30")])
        .load()
        .unwrap()
        .config;
    assert_eq!(c.persistence.save, None);
    assert_eq!(c.persistence.save_points()[0].seconds, 30);
    let c = ConfigLoader::new()
        .file(&file)
        .env([("REDISTILL_PERSISTENCE_SNAPSHOT_INTERVAL", "30")])
        .overrides(Overrides::single("persistence.save", "10 5"))
        .load()
        .unwrap()
        .config;
    assert_eq!(
        c.persistence.save_points(),
        [SavePoint {
            seconds: 10,
            changes: 5
        }]
    );
}

/// Rows of the settings table, checked one by one.
mod rows {
    use super::super::setting::{Input, Kind, Rewrite};
    use super::super::settings::SETTINGS;
    use super::*;

    /// A configuration where every setting `CONFIG SET` can change differs from its
    /// default.
    fn changed() -> Config {
        let mut config = Config::default();
        config
            .set_parameters(&[
                ("active-expire-effort", "7"),
                ("hz", "50"),
                ("client-output-buffer-limit", "normal 1mb 512kb 30"),
                ("client-query-buffer-limit", "2mb"),
                ("lfu-decay-time", "0"),
                ("lfu-log-factor", "7"),
                ("list-compress-depth", "1"),
                ("list-max-listpack-size", "16"),
                ("loglevel", "debug"),
                ("maxclients", "77"),
                ("maxmemory", "3gb"),
                ("maxmemory-policy", "volatile-ttl"),
                ("maxmemory-samples", "9"),
                ("proto-max-bulk-len", "8mb"),
                ("protected-mode", "no"),
                ("requirepass", "p w"),
                ("save", "60 1"),
                ("slowlog-log-slower-than", "-5"),
                ("slowlog-max-len", "0"),
                ("tcp-keepalive", "0"),
                ("timeout", "12"),
            ])
            .unwrap();
        config
    }

    fn name(setting: &super::super::setting::Setting) -> String {
        setting
            .file_name()
            .or(setting.redis.map(str::to_owned))
            .unwrap_or_default()
    }

    #[test]
    fn every_row_is_named_once() {
        let mut files = Vec::new();
        let mut redis = Vec::new();
        for setting in SETTINGS {
            assert!(setting.file.is_some() || setting.redis.is_some());
            files.extend(setting.file_name());
            redis.extend(
                setting
                    .redis
                    .iter()
                    .chain(setting.redis_aliases)
                    .map(|n| (*n).to_owned()),
            );
            if setting.mutable {
                assert!(setting.redis.is_some(), "{}", name(setting));
            }
            if setting.mutable && setting.file.is_some() {
                assert!(
                    matches!(setting.rewrite, Rewrite::Always),
                    "{}",
                    name(setting)
                );
            }
        }
        for names in [&mut files, &mut redis] {
            let count = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), count, "a name appears twice");
        }
        assert!(redis.iter().all(|n| *n == n.to_ascii_lowercase()));
    }

    #[test]
    fn every_default_is_accepted_and_is_the_default() {
        let defaults = Config::default();
        for setting in SETTINGS {
            let Some(default) = setting.default else {
                continue;
            };
            let mut config = defaults.clone();
            setting
                .apply(&mut config, &Input::Text(default))
                .unwrap_or_else(|e| panic!("{}: {default:?} is not {e}", name(setting)));
            assert_eq!(config, defaults, "{}", name(setting));
        }
    }

    #[test]
    fn every_range_is_checked_at_both_ends_in_every_form() {
        for setting in SETTINGS {
            let label = name(setting);
            let text = |config: &mut Config, n: &str| setting.apply(config, &Input::Text(n));
            let redis = |config: &mut Config, n: &str| setting.kind.apply_redis(config, n);
            let mut config = Config::default();
            match setting.kind {
                Kind::Int {
                    min, max, redis: r, ..
                } => {
                    for n in [min, max] {
                        text(&mut config, &n.to_string()).unwrap();
                        let toml = toml::Value::Integer(n);
                        setting.apply(&mut config, &Input::Toml(&toml)).unwrap();
                    }
                    for n in [min.checked_sub(1), max.checked_add(1)]
                        .into_iter()
                        .flatten()
                    {
                        assert!(text(&mut config, &n.to_string()).is_err(), "{label} {n}");
                    }
                    if setting.mutable {
                        let (low, high) = r.unwrap_or((min, max));
                        for n in [low, high] {
                            redis(&mut config, &n.to_string()).unwrap();
                        }
                        for n in [low.checked_sub(1), high.checked_add(1)]
                            .into_iter()
                            .flatten()
                        {
                            assert!(redis(&mut config, &n.to_string()).is_err(), "{label} {n}");
                        }
                    }
                }
                Kind::Memory { min, max, .. } => {
                    for n in [min, max] {
                        text(&mut config, &n.to_string()).unwrap();
                        if setting.mutable {
                            redis(&mut config, &n.to_string()).unwrap();
                        }
                    }
                    for n in [min.checked_sub(1), max.checked_add(1)]
                        .into_iter()
                        .flatten()
                    {
                        assert!(text(&mut config, &n.to_string()).is_err(), "{label} {n}");
                        if setting.mutable {
                            assert!(redis(&mut config, &n.to_string()).is_err(), "{label} {n}");
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// What REWRITE writes for a row loads back to the same value, from the defaults and
    /// from a configuration where every changeable setting differs from them.
    #[test]
    fn every_rewritten_value_loads_back() {
        for config in [Config::default(), changed()] {
            for setting in SETTINGS {
                if matches!(setting.rewrite, Rewrite::Never) {
                    continue;
                }
                let Some(value) = setting.kind.toml(&config) else {
                    continue;
                };
                let table: toml::Table = format!("v = {value}").parse().unwrap();
                let mut loaded = Config::default();
                setting
                    .apply(&mut loaded, &Input::Toml(&table["v"]))
                    .unwrap();
                assert_eq!(
                    setting.kind.toml(&loaded).map(|v| v.to_string()),
                    Some(value.to_string()),
                    "{}",
                    name(setting)
                );
            }
            let text = rewrite::rewritten("", &config).unwrap();
            let again = Config::from_toml_str(&text).unwrap().config;
            assert_eq!(again, config, "{text}");
            assert_eq!(rewrite::rewritten(&text, &again).unwrap(), text);
        }
    }
}
