//! The command line: flags, their errors and exit statuses, and how they reach the config.

use redistill_server::cli::Cli;
use redistill_server::config::{EvictionPolicy, LogLevel};

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_args(std::iter::once("redistill").chain(args.iter().copied()))
}

#[test]
fn help_and_version_exit_zero() {
    for flag in ["--help", "-h", "--version", "-V"] {
        let err = parse(&[flag]).unwrap_err();
        assert_eq!(err.exit_code(), 0, "{flag}");
    }
    let help = parse(&["--help"]).unwrap_err().to_string();
    for flag in [
        "--config",
        "--port",
        "--bind",
        "--workers",
        "--databases",
        "--maxmemory",
        "--maxmemory-policy",
        "--requirepass",
        "--loglevel",
        "--set",
        "REDISTILL_SERVER_PORT",
    ] {
        assert!(help.contains(flag), "help mentions {flag}");
    }
    let version = parse(&["--version"]).unwrap_err().to_string();
    assert_eq!(
        version.trim(),
        format!("redistill {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_values_exit_two_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (&["--port", "70000"], "--port"),
        (&["--port", "x"], "--port"),
        (&["--bind", "localhost"], "--bind"),
        (&["--workers", "-1"], "--workers"),
        (&["--num-shards", "3"], "--num-shards"),
        (&["--databases", "0"], "--databases"),
        (&["--maxclients", "-5"], "--maxclients"),
        (&["--timeout", "soon"], "--timeout"),
        (&["--tcp-keepalive", "-1"], "--tcp-keepalive"),
        (&["--protected-mode", "maybe"], "--protected-mode"),
        (&["--health-check-port", "99999"], "--health-check-port"),
        (&["--loglevel", "loud"], "--loglevel"),
        (&["--maxmemory", "2xb"], "--maxmemory"),
        (&["--maxmemory-policy", "lru"], "--maxmemory-policy"),
        (&["--maxmemory-samples", "0"], "--maxmemory-samples"),
        (&["--set", "server.prot=1"], "--set"),
        (&["--set", "server.port"], "--set"),
        (&["--set", "server.port=x"], "--set"),
        (&["--nope"], "--nope"),
        (&["--port"], "--port"),
    ];
    for (args, flag) in cases {
        let err = parse(args).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{args:?}");
        let text = err.to_string();
        assert!(text.contains(flag), "{args:?}: {text}");
    }
    let text = parse(&["--maxmemory", "2xb"]).unwrap_err().to_string();
    assert!(text.contains("expected a memory size"), "{text}");
    let text = parse(&["--set", "memory.port=1"]).unwrap_err().to_string();
    assert!(text.contains("did you mean server.port?"), "{text}");
}

#[test]
fn every_flag_reaches_its_key() {
    let cli = parse(&[
        "--port",
        "7000",
        "--bind",
        "0.0.0.0 ::",
        "--workers",
        "3",
        "--num-shards",
        "64",
        "--databases",
        "4",
        "--maxclients",
        "50",
        "--timeout",
        "9",
        "--tcp-keepalive",
        "0",
        "--protected-mode",
        "no",
        "--health-check-port",
        "8080",
        "--loglevel",
        "warning",
        "--maxmemory",
        "2gb",
        "--maxmemory-policy",
        "allkeys-lfu",
        "--maxmemory-samples",
        "10",
        "--requirepass",
        "-pw",
        "--set",
        "memory.lfu_log_factor=20",
        "--set",
        "persistence.enabled=true",
    ])
    .unwrap();
    let c = cli.loader().default_file(None).load().unwrap().config;
    assert_eq!(c.server.port, 7000);
    assert_eq!(c.server.bind.len(), 2);
    assert_eq!(c.server.workers, 3);
    assert_eq!(c.server.num_shards, 64);
    assert_eq!(c.server.databases, 4);
    assert_eq!(c.server.max_connections, 50);
    assert_eq!(c.server.timeout, 9);
    assert_eq!(c.server.tcp_keepalive, 0);
    assert!(!c.server.protected_mode);
    assert_eq!(c.server.health_check_port, 8080);
    assert_eq!(c.server.log_level, LogLevel::Warning);
    assert_eq!(c.memory.max_memory, 2 << 30);
    assert_eq!(c.memory.eviction_policy, EvictionPolicy::AllKeysLfu);
    assert_eq!(c.memory.maxmemory_samples, 10);
    assert_eq!(c.security.password.as_deref(), Some("-pw"));
    assert_eq!(c.memory.lfu_log_factor, 20);
    assert!(c.persistence.enabled);
}

#[test]
fn flags_override_environment_and_dedicated_flags_override_set() {
    let cli = parse(&["--set", "server.port=7100", "--port", "7200"]).unwrap();
    let loaded = cli
        .loader()
        .default_file(None)
        .env([("REDISTILL_SERVER_PORT", "7000"), ("REDIS_PASSWORD", "env")])
        .load()
        .unwrap();
    assert_eq!(loaded.config.server.port, 7200);
    assert_eq!(loaded.config.security.password.as_deref(), Some("env"));

    let cli = parse(&["--requirepass", "flag"]).unwrap();
    let loaded = cli
        .loader()
        .default_file(None)
        .env([("REDIS_PASSWORD", "env")])
        .load()
        .unwrap();
    assert_eq!(loaded.config.security.password.as_deref(), Some("flag"));
}

#[test]
fn no_flags_means_defaults_and_config_flag_names_the_file() {
    let cli = parse(&[]).unwrap();
    assert!(cli.overrides().is_empty());
    let loaded = cli.loader().default_file(None).load().unwrap();
    assert_eq!(loaded.config.server.port, 6379);
    assert_eq!(loaded.config.source.to_string(), "defaults");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.toml");
    std::fs::write(&path, "[server]\nport = 7300\n").unwrap();
    let cli = parse(&["--config", path.to_str().unwrap(), "--databases", "2"]).unwrap();
    let loaded = cli.loader().load().unwrap();
    assert_eq!(loaded.config.server.port, 7300);
    assert_eq!(loaded.config.server.databases, 2);

    let cli = parse(&[
        "--config",
        dir.path().join("missing.toml").to_str().unwrap(),
    ])
    .unwrap();
    let err = cli.loader().load().unwrap_err();
    assert!(err.to_string().contains("missing.toml"), "{err}");
}
