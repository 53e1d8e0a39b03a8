//! `CONFIG GET` / `CONFIG SET` through Redis's parameter names. Expected texts and values
//! were taken from Redis 7.0.15 answering the same commands.

use proptest::prelude::*;
use redistill_server::config::{Config, ConfigError, SavePoint, parameters};

fn get(config: &Config, name: &str) -> String {
    config
        .get_parameter(name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
}

fn set_error(config: &mut Config, pairs: &[(&str, &str)]) -> String {
    let before = config.clone();
    let err = config
        .set_parameters(pairs)
        .expect_err("CONFIG SET should be refused");
    assert_eq!(
        *config, before,
        "a refused CONFIG SET changes nothing: {pairs:?}"
    );
    err.to_redis_error()
}

#[test]
fn defaults_read_as_redis_prints_them() {
    let config = Config::default();
    // The snapshot's directory, made absolute as Redis's `dir` always is.
    let cwd = std::env::current_dir().unwrap().display().to_string();
    let expected = [
        ("active-expire-effort", "1"),
        ("appendonly", "no"),
        ("bind", "127.0.0.1"),
        ("busy-reply-threshold", "5000"),
        (
            "client-output-buffer-limit",
            "normal 268435456 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        ),
        ("client-query-buffer-limit", "1073741824"),
        ("cluster-enabled", "no"),
        ("daemonize", "no"),
        ("databases", "16"),
        ("dbfilename", "dump.rsnap"),
        ("dir", &cwd),
        ("enable-debug-command", "local"),
        ("hash-max-listpack-entries", "512"),
        ("hash-max-listpack-value", "64"),
        ("hash-max-ziplist-entries", "512"),
        ("hash-max-ziplist-value", "64"),
        ("hll-sparse-max-bytes", "3000"),
        ("hz", "10"),
        ("io-threads", "1"),
        ("latency-monitor-threshold", "0"),
        ("lfu-decay-time", "1"),
        ("lfu-log-factor", "10"),
        ("list-compress-depth", "0"),
        ("list-max-listpack-size", "-2"),
        ("list-max-ziplist-size", "-2"),
        ("logfile", ""),
        ("loglevel", "notice"),
        ("lua-time-limit", "5000"),
        ("maxclients", "10000"),
        ("maxmemory", "0"),
        ("maxmemory-clients", "0"),
        ("maxmemory-policy", "noeviction"),
        ("maxmemory-samples", "5"),
        ("notify-keyspace-events", ""),
        ("pidfile", ""),
        ("port", "6379"),
        ("protected-mode", "yes"),
        ("proto-max-bulk-len", "536870912"),
        ("rdb-key-save-delay", "0"),
        ("rdbcompression", "yes"),
        ("requirepass", ""),
        ("save", ""),
        ("set-max-intset-entries", "512"),
        ("set-max-listpack-entries", "128"),
        ("set-max-listpack-value", "64"),
        ("slowlog-log-slower-than", "10000"),
        ("slowlog-max-len", "128"),
        ("tcp-keepalive", "300"),
        ("timeout", "0"),
        ("tls-auth-clients", "no"),
        ("tls-ca-cert-file", ""),
        ("tls-cert-file", ""),
        ("tls-key-file", ""),
        ("tls-port", "0"),
        ("tracking-table-max-keys", "1000000"),
        ("zset-max-listpack-entries", "128"),
        ("zset-max-listpack-value", "64"),
        ("zset-max-ziplist-entries", "128"),
        ("zset-max-ziplist-value", "64"),
    ];
    let actual: Vec<(&str, String)> = config.parameter_values().collect();
    let expected: Vec<(&str, String)> = expected
        .iter()
        .map(|(n, v)| (*n, (*v).to_owned()))
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn names_are_unique_sorted_lowercase_and_found_in_any_case() {
    let names: Vec<&str> = parameters().map(|p| p.name()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted);
    let config = Config::default();
    for name in names {
        assert_eq!(name, name.to_ascii_lowercase());
        assert_eq!(
            config.get_parameter(&name.to_ascii_uppercase()),
            config.get_parameter(name)
        );
    }
    assert_eq!(config.get_parameter("MaxMemory").as_deref(), Some("0"));
    assert_eq!(config.get_parameter("nonexistent"), None);
}

#[test]
fn fixed_and_mutable_parameters() {
    let fixed: Vec<&str> = parameters()
        .filter(|p| !p.is_mutable())
        .map(|p| p.name())
        .collect();
    assert_eq!(
        fixed,
        [
            "bind",
            "cluster-enabled",
            "daemonize",
            "databases",
            "dbfilename",
            "dir",
            "enable-debug-command",
            "io-threads",
            "latency-monitor-threshold",
            "logfile",
            "maxmemory-clients",
            "pidfile",
            "port",
            "tls-auth-clients",
            "tls-ca-cert-file",
            "tls-cert-file",
            "tls-key-file",
            "tls-port"
        ]
    );
    let mut config = Config::default();
    for name in fixed {
        let value = get(&config, name);
        // Redis 7.0 names the reason for its protected parameters apart.
        let reason = if ["dbfilename", "dir"].contains(&name) {
            "protected"
        } else {
            "immutable"
        };
        assert_eq!(
            set_error(&mut config, &[(name, &value)]),
            format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - can't set \
                 {reason} config"
            )
        );
    }
}

/// Writing back what was read changes nothing, for every mutable parameter, from the
/// defaults and from a configuration where every value differs from them.
#[test]
fn every_mutable_parameter_round_trips() {
    let mut changed = Config::default();
    changed
        .set_parameters(&[
            ("active-expire-effort", "7"),
            ("hz", "50"),
            (
                "client-output-buffer-limit",
                "normal 1mb 512kb 30 pubsub 1 2 3",
            ),
            ("client-query-buffer-limit", "2mb"),
            ("lfu-decay-time", "0"),
            ("lfu-log-factor", "7"),
            ("list-compress-depth", "3"),
            ("list-max-listpack-size", "-5"),
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
            ("zset-max-listpack-entries", "0"),
            ("zset-max-ziplist-value", "1kb"),
        ])
        .unwrap();
    for config in [Config::default(), changed] {
        for param in parameters().filter(|p| p.is_mutable()) {
            let mut copy = config.clone();
            let value = param.get(&config);
            copy.set_parameter(param.name(), &value)
                .unwrap_or_else(|e| panic!("{} {value:?}: {e}", param.name()));
            assert_eq!(copy, config, "{} {value:?}", param.name());
        }
    }
}

#[test]
fn set_values_are_parsed_like_redis() {
    let cases: &[(&str, &str, &str)] = &[
        ("maxmemory", "2gb", "2147483648"),
        ("maxmemory", "1k", "1000"),
        ("maxmemory", "1GB", "1073741824"),
        ("maxmemory", "007", "7"),
        ("maxmemory", "", "0"),
        ("maxmemory", "18446744073709551615", "18446744073709551615"),
        ("maxmemory-policy", "ALLKEYS-LRU", "allkeys-lru"),
        ("maxmemory-policy", "allkeys-s3fifo", "allkeys-s3fifo"),
        ("maxmemory-samples", "70", "70"),
        ("list-max-listpack-size", "-2147483648", "-2147483648"),
        ("list-max-listpack-size", "2147483647", "2147483647"),
        ("list-max-ziplist-size", "128", "128"),
        ("zset-max-listpack-value", "1k", "1000"),
        ("zset-max-ziplist-value", "2kb", "2048"),
        (
            "zset-max-listpack-entries",
            "9223372036854775807",
            "9223372036854775807",
        ),
        ("list-compress-depth", "2147483647", "2147483647"),
        ("loglevel", "WARNING", "warning"),
        ("protected-mode", "YES", "yes"),
        ("protected-mode", "no", "no"),
        ("appendonly", "NO", "no"),
        ("maxclients", "20", "20"),
        ("proto-max-bulk-len", "1mb", "1048576"),
        ("client-query-buffer-limit", "1048576", "1048576"),
        ("timeout", "2147483647", "2147483647"),
        ("requirepass", "x y", "x y"),
        ("requirepass", "", ""),
        ("save", "900 1", "900 1"),
        ("save", "900 1 300 10", "900 1 300 10"),
        ("save", "10 0", "10 0"),
        ("save", "+10 05", "10 5"),
        ("save", "", ""),
        (
            "client-output-buffer-limit",
            "normal 1mb 2mb 3",
            "normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        ),
        (
            "client-output-buffer-limit",
            "replica 1 2 3",
            "normal 268435456 0 0 slave 1 2 3 pubsub 33554432 8388608 60",
        ),
    ];
    for (name, value, expected) in cases {
        let mut config = Config::default();
        config
            .set_parameter(name, value)
            .unwrap_or_else(|e| panic!("{name} {value:?}: {e}"));
        assert_eq!(get(&config, name), *expected, "{name} {value:?}");
    }
}

#[test]
fn refused_values_get_redis_texts() {
    let failed = |name: &str, reason: &str| {
        format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
    };
    let memory = "argument must be a memory value";
    let integer = "argument couldn't be parsed into an integer";
    let cases: Vec<(&str, &str, String)> = vec![
        ("maxmemory", "2xb", failed("maxmemory", memory)),
        ("maxmemory", "-1", failed("maxmemory", memory)),
        ("maxmemory", "1.5gb", failed("maxmemory", memory)),
        ("maxmemory", " 1gb", failed("maxmemory", memory)),
        ("maxmemory", "1tb", failed("maxmemory", memory)),
        ("MAXMEMORY", "abc", failed("maxmemory", memory)),
        (
            "maxmemory-policy",
            "foo",
            failed(
                "maxmemory-policy",
                "argument(s) must be one of the following: volatile-lru, volatile-lfu, \
                 volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, \
                 noeviction, allkeys-s3fifo",
            ),
        ),
        (
            "maxmemory-samples",
            "0",
            failed(
                "maxmemory-samples",
                "argument must be between 1 and 2147483647 inclusive",
            ),
        ),
        (
            "maxmemory-samples",
            "abc",
            failed("maxmemory-samples", integer),
        ),
        (
            "maxmemory-samples",
            "1000000000000",
            failed(
                "maxmemory-samples",
                "argument must be between 1 and 2147483647 inclusive",
            ),
        ),
        (
            "timeout",
            "-1",
            failed(
                "timeout",
                "argument must be between 0 and 2147483647 inclusive",
            ),
        ),
        ("timeout", "1kb", failed("timeout", integer)),
        ("timeout", " 5", failed("timeout", integer)),
        ("timeout", "+5", failed("timeout", integer)),
        ("timeout", "05", failed("timeout", integer)),
        ("timeout", "-0", failed("timeout", integer)),
        (
            "tcp-keepalive",
            "-5",
            failed(
                "tcp-keepalive",
                "argument must be between 0 and 2147483647 inclusive",
            ),
        ),
        ("tcp-keepalive", "abc", failed("tcp-keepalive", integer)),
        (
            "hz",
            "-1",
            failed("hz", "argument must be between 0 and 2147483647 inclusive"),
        ),
        ("hz", "abc", failed("hz", integer)),
        (
            "active-expire-effort",
            "0",
            failed(
                "active-expire-effort",
                "argument must be between 1 and 10 inclusive",
            ),
        ),
        (
            "active-expire-effort",
            "11",
            failed(
                "active-expire-effort",
                "argument must be between 1 and 10 inclusive",
            ),
        ),
        (
            "protected-mode",
            "maybe",
            failed("protected-mode", "argument must be 'yes' or 'no'"),
        ),
        (
            "protected-mode",
            "",
            failed("protected-mode", "argument must be 'yes' or 'no'"),
        ),
        (
            "appendonly",
            "maybe",
            failed("appendonly", "argument must be 'yes' or 'no'"),
        ),
        (
            "loglevel",
            "foo",
            failed(
                "loglevel",
                "argument(s) must be one of the following: debug, verbose, notice, warning",
            ),
        ),
        (
            "loglevel",
            "nothing",
            failed(
                "loglevel",
                "argument(s) must be one of the following: debug, verbose, notice, warning",
            ),
        ),
        (
            "lfu-log-factor",
            "-1",
            failed(
                "lfu-log-factor",
                "argument must be between 0 and 2147483647 inclusive",
            ),
        ),
        ("lfu-log-factor", "1k", failed("lfu-log-factor", integer)),
        (
            "list-max-listpack-size",
            "2147483648",
            failed(
                "list-max-listpack-size",
                "argument must be between -2147483648 and 2147483647 inclusive",
            ),
        ),
        (
            "list-max-ziplist-size",
            "x",
            failed("list-max-ziplist-size", integer),
        ),
        (
            "list-compress-depth",
            "-1",
            failed(
                "list-compress-depth",
                "argument must be between 0 and 2147483647 inclusive",
            ),
        ),
        (
            "lfu-decay-time",
            "-1",
            failed(
                "lfu-decay-time",
                "argument must be between 0 and 2147483647 inclusive",
            ),
        ),
        (
            "proto-max-bulk-len",
            "100",
            failed(
                "proto-max-bulk-len",
                "argument must be between 1048576 and 9223372036854775807 inclusive",
            ),
        ),
        (
            "client-query-buffer-limit",
            "1000",
            failed(
                "client-query-buffer-limit",
                "argument must be between 1048576 and 9223372036854775807 inclusive",
            ),
        ),
        (
            "maxclients",
            "0",
            failed(
                "maxclients",
                "argument must be between 1 and 4294967295 inclusive",
            ),
        ),
        ("maxclients", "1k", failed("maxclients", integer)),
        (
            "client-output-buffer-limit",
            "normal",
            failed(
                "client-output-buffer-limit",
                "Wrong number of arguments in buffer limit configuration.",
            ),
        ),
        (
            "client-output-buffer-limit",
            "foo 1 2 3",
            failed(
                "client-output-buffer-limit",
                "Invalid client class specified in buffer limit configuration.",
            ),
        ),
        (
            "client-output-buffer-limit",
            "normal x 2 3",
            failed(
                "client-output-buffer-limit",
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
            ),
        ),
        ("save", "900", failed("save", "Invalid save parameters")),
        ("save", "0 1", failed("save", "Invalid save parameters")),
        ("save", "900 -1", failed("save", "Invalid save parameters")),
        ("save", "900 x", failed("save", "Invalid save parameters")),
        ("save", "0 0", failed("save", "Invalid save parameters")),
        ("save", "10  5", failed("save", "Invalid save parameters")),
        ("save", " 10 5", failed("save", "Invalid save parameters")),
        ("save", "10 5 ", failed("save", "Invalid save parameters")),
        (
            "databases",
            "4",
            failed("databases", "can't set immutable config"),
        ),
        ("port", "7000", failed("port", "can't set immutable config")),
        (
            "x",
            "1",
            "ERR Unknown option or number of arguments for CONFIG SET - 'x'".to_owned(),
        ),
        (
            "XyZ",
            "1",
            "ERR Unknown option or number of arguments for CONFIG SET - 'XyZ'".to_owned(),
        ),
    ];
    for (name, value, expected) in cases {
        let mut config = Config::default();
        assert_eq!(
            set_error(&mut config, &[(name, value)]),
            expected,
            "{name} {value:?}"
        );
    }
}

#[test]
fn dir_and_dbfilename_split_the_snapshot_path_as_redis_does() {
    let mut config = Config::default();
    config.persistence.snapshot_path = "/var/lib/redistill/dump.rsnap".into();
    assert_eq!(get(&config, "dbfilename"), "dump.rsnap");
    assert_eq!(get(&config, "dir"), "/var/lib/redistill");
    // Both are protected in Redis 7.0, so CONFIG SET refuses them.
    for name in ["dbfilename", "dir"] {
        assert_eq!(
            set_error(&mut config, &[(name, "x")]),
            format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - can't set \
                 protected config"
            )
        );
    }
}

#[test]
fn appendonly_cannot_be_turned_on() {
    let mut config = Config::default();
    let err = config.set_parameter("appendonly", "yes").unwrap_err();
    assert!(matches!(err, ConfigError::InvalidParameter { ref name, .. } if name == "appendonly"));
    assert_eq!(get(&config, "appendonly"), "no");
}

#[test]
fn multi_parameter_set_is_all_or_nothing_like_redis() {
    let mut config = Config::default();
    config
        .set_parameters(&[("maxmemory", "1"), ("timeout", "5")])
        .unwrap();
    assert_eq!(get(&config, "maxmemory"), "1");
    assert_eq!(get(&config, "timeout"), "5");

    assert_eq!(
        set_error(&mut config, &[("maxmemory", "2"), ("timeout", "-1")]),
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be \
         between 0 and 2147483647 inclusive"
    );
    assert_eq!(
        set_error(&mut config, &[("maxmemory", "1"), ("MAXMEMORY", "2")]),
        "ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter"
    );
    assert_eq!(
        set_error(&mut config, &[("maxmemory", "1"), ("XyZ", "2")]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'XyZ'"
    );
    // The first name at fault wins: an unknown name after a fixed one is not reported.
    assert_eq!(
        set_error(&mut config, &[("databases", "5"), ("XyZ", "1")]),
        "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set \
         immutable config"
    );
    assert_eq!(
        set_error(
            &mut config,
            &[("timeout", "1"), ("TIMEOUT", "2"), ("databases", "5")]
        ),
        "ERR CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate parameter"
    );
    assert_eq!(
        set_error(&mut config, &[("DATABASES", "1"), ("databases", "2")]),
        "ERR CONFIG SET failed (possibly related to argument 'DATABASES') - can't set \
         immutable config"
    );
    assert_eq!(
        set_error(&mut config, &[("databases", "5"), ("maxmemory", "abc")]),
        "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set \
         immutable config"
    );
    assert_eq!(
        set_error(&mut config, &[("maxmemory", "abc"), ("databases", "5")]),
        "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set \
         immutable config"
    );
}

#[test]
fn save_is_the_schedule_of_periodic_snapshots() {
    let mut config = Config::default();
    assert_eq!(get(&config, "save"), "", "persistence is off by default");
    config
        .set_parameter("save", "3600 1 300 100 60 10000")
        .unwrap();
    assert!(config.persistence.enabled);
    assert_eq!(get(&config, "save"), "3600 1 300 100 60 10000");
    assert_eq!(
        config.persistence.save_points()[1],
        SavePoint {
            seconds: 300,
            changes: 100
        }
    );
    config.set_parameter("save", "").unwrap();
    assert!(config.persistence.save_points().is_empty());
    assert!(
        config.persistence.enabled,
        "SAVE and shutdown snapshots stay on"
    );
    assert_eq!(get(&config, "save"), "");

    // `snapshot_interval` reads as its save point.
    let mut config = Config::default();
    config.persistence.enabled = true;
    assert_eq!(get(&config, "save"), "300 1");
    config.persistence.snapshot_interval = 0;
    assert_eq!(get(&config, "save"), "");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn maxmemory_reads_back_in_bytes(n in 0u64..(1 << 33), unit in 0usize..5) {
        let (suffix, factor) = [("", 1), ("k", 1000), ("kb", 1024), ("mb", 1 << 20), ("gb", 1 << 30)][unit];
        let mut config = Config::default();
        config.set_parameter("maxmemory", &format!("{n}{suffix}")).unwrap();
        prop_assert_eq!(get(&config, "maxmemory"), (n * factor).to_string());
        prop_assert_eq!(config.memory.max_memory, n * factor);
    }

    #[test]
    fn integer_parameters_accept_exactly_their_range(n in proptest::num::i64::ANY) {
        let mut config = Config::default();
        let result = config.set_parameter("timeout", &n.to_string());
        prop_assert_eq!(result.is_ok(), (0..=i64::from(i32::MAX)).contains(&n));
        if result.is_ok() {
            prop_assert_eq!(get(&config, "timeout"), n.to_string());
        }
    }

    #[test]
    fn set_never_panics(name in "[a-z-]{1,30}", value in "\\PC{0,30}") {
        let mut config = Config::default();
        let _ = config.set_parameter(&name, &value);
    }
}
