//! Loading from files, environment and flags, and the order in which they apply.

use std::fs;
use std::path::{Path, PathBuf};

use redistill_server::config::{
    Config, ConfigError, ConfigLoader, ConfigSource, EvictionPolicy, Overrides,
};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).expect("temporary file is writable");
    path
}

fn port_override(port: &str) -> Overrides {
    let mut overrides = Overrides::default();
    overrides.push("server.port", port, "--port");
    overrides
}

#[test]
fn named_file_loads_and_is_recorded_as_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "custom.toml", "[server]\nport = 7000\n");
    let loaded = ConfigLoader::new().file(&path).load().unwrap();
    assert_eq!(loaded.config.server.port, 7000);
    assert_eq!(loaded.config.source, ConfigSource::File(path.clone()));
    assert_eq!(loaded.config.source.to_string(), path.display().to_string());
}

#[test]
fn missing_named_file_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.toml");
    let err = ConfigLoader::new().file(&path).load().unwrap_err();
    assert!(
        matches!(err, ConfigError::Read { path: ref p, .. } if *p == path),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("cannot read config file {}: ", path.display())),
        "{text}"
    );
}

#[test]
fn default_file_is_read_only_when_present() {
    let dir = tempfile::tempdir().unwrap();
    let default = dir.path().join("redistill.toml");
    let loaded = ConfigLoader::new()
        .default_file(Some(default.clone()))
        .load()
        .unwrap();
    assert_eq!(loaded.config, Config::default());
    assert_eq!(loaded.config.source.to_string(), "defaults");

    write(
        dir.path(),
        "redistill.toml",
        "[memory]\nmax_memory = \"1gb\"\n",
    );
    let loaded = ConfigLoader::new()
        .default_file(Some(default.clone()))
        .load()
        .unwrap();
    assert_eq!(loaded.config.memory.max_memory, 1 << 30);
    assert_eq!(loaded.config.source, ConfigSource::File(default));
}

#[test]
fn redistill_config_variable_names_the_file_and_the_flag_wins_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let from_env = write(dir.path(), "env.toml", "[server]\nport = 7100\n");
    let from_flag = write(dir.path(), "flag.toml", "[server]\nport = 7200\n");
    let env = [("REDISTILL_CONFIG", from_env.display().to_string())];
    let loaded = ConfigLoader::new()
        .default_file(None)
        .env(env.clone())
        .load()
        .unwrap();
    assert_eq!(loaded.config.server.port, 7100);
    let loaded = ConfigLoader::new()
        .file(&from_flag)
        .env(env)
        .load()
        .unwrap();
    assert_eq!(loaded.config.server.port, 7200);
    let empty = [("REDISTILL_CONFIG", String::new())];
    let loaded = ConfigLoader::new()
        .default_file(None)
        .env(empty)
        .load()
        .unwrap();
    assert_eq!(loaded.config.source, ConfigSource::Defaults);
    let missing = [(
        "REDISTILL_CONFIG",
        dir.path().join("nope.toml").display().to_string(),
    )];
    let err = ConfigLoader::new().env(missing).load().unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
}

/// defaults < file < environment < flags, for one key and across keys.
#[test]
fn layers_apply_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "redistill.toml",
        "[server]\nport = 7000\ndatabases = 4\n[memory]\neviction_policy = \"allkeys-lru\"\n",
    );
    let env = [
        ("REDISTILL_SERVER_PORT", "7001"),
        ("REDISTILL_MEMORY_MAX_MEMORY", "100mb"),
    ];
    let file_only = ConfigLoader::new().file(&path).load().unwrap().config;
    assert_eq!(file_only.server.port, 7000);

    let file_env = ConfigLoader::new()
        .file(&path)
        .env(env)
        .load()
        .unwrap()
        .config;
    assert_eq!(file_env.server.port, 7001);

    let all = ConfigLoader::new()
        .file(&path)
        .env(env)
        .overrides(port_override("7002"))
        .load()
        .unwrap()
        .config;
    assert_eq!(all.server.port, 7002, "flags win");
    assert_eq!(all.server.databases, 4, "file values not overridden stay");
    assert_eq!(
        all.memory.max_memory,
        100 << 20,
        "environment values not overridden stay"
    );
    assert_eq!(all.memory.eviction_policy, EvictionPolicy::AllKeysLru);
    assert_eq!(
        all.server.tcp_keepalive, 300,
        "untouched keys keep their defaults"
    );

    let env_flags = ConfigLoader::new()
        .default_file(None)
        .env(env)
        .overrides(port_override("7003"))
        .load()
        .unwrap()
        .config;
    assert_eq!(env_flags.server.port, 7003);
    assert_eq!(env_flags.server.databases, 16);
}

#[test]
fn errors_in_a_file_name_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad_value = write(dir.path(), "a.toml", "[memory]\nmax_memory = \"2xb\"\n");
    assert_eq!(
        ConfigLoader::new()
            .file(&bad_value)
            .load()
            .unwrap_err()
            .to_string(),
        "invalid value for memory.max_memory: \"2xb\" is not a memory size"
    );
    let bad_toml = write(dir.path(), "b.toml", "[server\nport = 1\n");
    let text = ConfigLoader::new()
        .file(&bad_toml)
        .load()
        .unwrap_err()
        .to_string();
    assert!(
        text.starts_with(&format!(
            "cannot parse config file {}: ",
            bad_toml.display()
        )),
        "{text}"
    );
    assert!(text.contains("line 1"), "{text}");
}

#[test]
fn later_layers_are_checked_together_with_earlier_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "tls.toml",
        "[security]\ntls_cert_path = \"cert.pem\"\ntls_key_path = \"key.pem\"\n",
    );
    let loaded = ConfigLoader::new()
        .file(&path)
        .env([("REDISTILL_SECURITY_TLS_ENABLED", "true")])
        .load()
        .unwrap();
    assert!(loaded.config.security.tls_enabled);
    let err = ConfigLoader::new()
        .default_file(None)
        .env([("REDISTILL_SECURITY_TLS_ENABLED", "true")])
        .load()
        .unwrap_err();
    assert!(
        matches!(err, ConfigError::Inconsistent { ref key, .. } if key == "security.tls_cert_path"),
        "{err:?}"
    );
}

#[test]
fn legacy_file_on_disk_loads_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "redistill.toml",
        "[server]\nbatch_size = 256\nbuffer_pool_size = 2048\n[performance]\ntcp_keepalive = 60\n",
    );
    let loaded = ConfigLoader::new().file(&path).load().unwrap();
    assert_eq!(loaded.warnings.len(), 2);
    assert_eq!(loaded.config.server.tcp_keepalive, 60);
}

mod file_and_environment_agree {
    use proptest::prelude::*;
    use redistill_server::config::{Config, ConfigLoader, EvictionPolicy};

    fn policy() -> impl Strategy<Value = EvictionPolicy> {
        proptest::sample::select(EvictionPolicy::ALL.to_vec())
    }

    fn size() -> impl Strategy<Value = String> {
        (
            0u64..100_000,
            proptest::sample::select(vec!["", "b", "k", "KB", "m", "mb", "g", "GB"]),
        )
            .prop_map(|(n, unit)| format!("{n}{unit}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// The same values given in a file or in the environment load to the same config.
        #[test]
        fn same_values_same_config(
            port in 0u16..,
            shards_log2 in 0u32..=16,
            max_memory in size(),
            policy in policy(),
            nodelay in any::<bool>(),
            keepalive in 0u32..100_000,
            password in "[a-zA-Z0-9]{0,12}",
        ) {
            let shards = 1usize << shards_log2;
            let file = format!(
                "[server]\nport = {port}\nnum_shards = {shards}\ntcp_nodelay = {nodelay}\n\
                 tcp_keepalive = {keepalive}\n[memory]\nmax_memory = \"{max_memory}\"\n\
                 eviction_policy = \"{policy}\"\n[security]\npassword = \"{password}\"\n"
            );
            let from_file = Config::from_toml_str(&file).unwrap().config;
            let env = [
                ("REDISTILL_SERVER_PORT", port.to_string()),
                ("REDISTILL_SERVER_NUM_SHARDS", shards.to_string()),
                ("REDISTILL_SERVER_TCP_NODELAY", nodelay.to_string()),
                ("REDISTILL_SERVER_TCP_KEEPALIVE", keepalive.to_string()),
                ("REDISTILL_MEMORY_MAX_MEMORY", max_memory.clone()),
                ("REDISTILL_MEMORY_EVICTION_POLICY", policy.to_string()),
                ("REDIS_PASSWORD", password.clone()),
            ];
            let from_env = ConfigLoader::new().default_file(None).env(env).load().unwrap().config;
            prop_assert_eq!(&from_file, &from_env);
            prop_assert_eq!(from_file.server.port, port);
            prop_assert_eq!(from_file.memory.eviction_policy, policy);
            prop_assert_eq!(
                Some(from_file.memory.max_memory),
                redistill_server::config::parse_memory_size(&max_memory)
            );
            prop_assert_eq!(from_file.security.password.is_none(), password.is_empty());
        }
    }
}
