//! Coming from Redis's configuration: `redistill /etc/redis/redis.conf --port 7000` reads
//! a redis.conf as redis-server does. Checked with the file Debian's redis-server package
//! installs (`tests/fixtures/redis-conf/debian-redis.conf`, licence beside it), which must
//! start the server with warnings only and set every parameter Redistill has to the value
//! redis-server itself reports for that file; with `include`; with bad values; and with
//! the command line after the file (our flags, and Redis parameters as `--name value`).

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::wait_for;
use redistill_server::Server;
use redistill_server::cli::Cli;
use redistill_server::config::{Config, ConfigError, EvictionPolicy, Loaded, parameters};

fn debian_conf() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/redis-conf/debian-redis.conf")
}

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_args(std::iter::once("redistill").chain(args.iter().copied()))
}

fn load(args: &[&str]) -> Result<Loaded, ConfigError> {
    parse(args)
        .expect("valid command line")
        .loader()
        .default_file(None)
        .load()
}

/// Every parameter name a redis.conf sets, in order, first words lowercased.
fn directives(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("reads")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_ascii_lowercase)
        .collect()
}

#[test]
fn debians_redis_conf_loads_with_one_warning_per_parameter_redistill_lacks() {
    let path = debian_conf();
    let fixture = path.to_str().expect("utf-8 path");
    let loaded = load(&[fixture, "--port", "0"]).expect("loads with warnings only");
    let config = &loaded.config;

    assert_eq!(config.server.port, 0, "--port after the file wins");
    assert_eq!(config.get_parameter("timeout").as_deref(), Some("0"));
    assert_eq!(
        config.get_parameter("tcp-keepalive").as_deref(),
        Some("300")
    );
    assert_eq!(config.get_parameter("databases").as_deref(), Some("16"));
    assert_eq!(config.get_parameter("loglevel").as_deref(), Some("notice"));
    assert_eq!(
        config.get_parameter("protected-mode").as_deref(),
        Some("yes")
    );
    assert!(
        config
            .get_parameter("bind")
            .is_some_and(|b| b.split(' ').next() == Some("127.0.0.1")),
        "bind 127.0.0.1 -::1 keeps 127.0.0.1"
    );
    assert_eq!(
        config.persistence.snapshot_path,
        Path::new("/var/lib/redis/dump.rdb"),
        "dir and dbfilename make the snapshot's path"
    );

    let warned: Vec<&str> = loaded.warnings.iter().map(|w| w.key.as_str()).collect();
    let unique: BTreeSet<&str> = warned.iter().copied().collect();
    assert_eq!(
        unique.len(),
        warned.len(),
        "one warning per parameter: {warned:?}"
    );
    let ours: BTreeSet<&str> = parameters().map(|p| p.name()).collect();
    for directive in directives(&path) {
        let handled = ours.contains(directive.as_str())
            || matches!(
                directive.as_str(),
                "include" | "save" | "dir" | "dbfilename"
            );
        assert!(
            handled || unique.contains(directive.as_str()),
            "{directive} neither applied nor warned about"
        );
    }
    for name in ["tcp-backlog", "appendfsync", "repl-diskless-sync"] {
        assert!(unique.contains(name), "{name} is warned about: {warned:?}");
    }
    // The process settings apply as redis-server applies them.
    for name in ["daemonize", "pidfile", "logfile"] {
        assert!(
            !unique.contains(name),
            "{name} is applied, not warned about"
        );
    }
    assert!(config.server.daemonize);
    assert_eq!(
        config.server.pidfile.as_deref(),
        Some(Path::new("/run/redis/redis-server.pid"))
    );
    for warning in &loaded.warnings {
        let text = warning.to_string();
        assert!(text.starts_with("redis.conf parameter "), "{text}");
    }
}

#[test]
fn debians_redis_conf_starts_a_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = debian_conf();
    let loaded = load(&[fixture.to_str().expect("utf-8"), "--port", "0"]).expect("loads");
    let mut config = loaded.config;
    // Keep the test's snapshot out of /var/lib/redis.
    config.persistence.snapshot_path = dir.path().join("dump.rdb");
    config.server.workers = 1;
    let server = Server::start(config).expect("starts");
    let mut client = redis::Client::open(format!("redis://{}/", server.local_addr()))
        .expect("url")
        .get_connection()
        .expect("connects");
    let pong: String = redis::cmd("PING").query(&mut client).expect("ping");
    assert_eq!(pong, "PONG");
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query(&mut client)
        .expect("info");
    assert!(
        info.contains(&format!("config_file:{}", fixture.display())),
        "INFO names the redis.conf"
    );
    let err = redis::cmd("CONFIG")
        .arg("REWRITE")
        .query::<()>(&mut client)
        .expect_err("a redis.conf is not rewritten");
    assert!(err.to_string().contains("redis.conf"), "{err}");
    server.shutdown();
}

/// A redis-server started with `args`, on a free port, stopped when dropped.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn start(args: &[&str]) -> RedisServer {
        for _ in 0..10 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let mut child = Command::new("redis-server")
                .args(args)
                .args(["--port", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("this test needs redis-server on PATH (Debian's redis-server package)");
            let up = wait_for("redis-server to answer or exit", || {
                if child.try_wait().expect("status").is_some() {
                    return Some(false);
                }
                TcpStream::connect(("127.0.0.1", port))
                    .is_ok()
                    .then_some(true)
            });
            if up {
                return RedisServer { child, port };
            }
        }
        panic!("redis-server did not start");
    }

    fn config_get(&self, name: &str) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connects");
        s.set_read_timeout(Some(common::PATIENCE)).expect("timeout");
        let request = format!(
            "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n${}\r\n{name}\r\n*1\r\n$4\r\nQUIT\r\n",
            name.len()
        );
        s.write_all(request.as_bytes()).expect("send");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("reply");
        let mut buf = bytes::BytesMut::from(&raw[..]);
        let reply = redistill_resp::Decoder::new()
            .decode(&mut buf)
            .expect("RESP")
            .expect("a reply");
        let pairs: Vec<String> = reply.try_into().expect("CONFIG GET's array");
        pairs.get(1).cloned()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn every_parameter_we_have_takes_the_value_redis_server_gives_it_from_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tmp = dir.path().to_str().expect("utf-8");
    let fixture = debian_conf();
    let fixture = fixture.to_str().expect("utf-8");
    // What the file means to redis-server itself, run in the foreground and away from
    // the system's directories.
    let real = RedisServer::start(&[
        fixture,
        "--daemonize",
        "no",
        "--logfile",
        "",
        "--pidfile",
        "",
        "--dir",
        tmp,
    ]);
    let ours = load(&[fixture, "--port", "0"]).expect("loads").config;
    // `daemonize`, `logfile` and `pidfile` are overridden above for redis-server alone.
    // Parameters whose value here is fixed or shown in another form by design (`dir` is
    // given to redis-server alone above), and defaults the file leaves alone that
    // differ by design (DEBUG for local clients, TLS client certificates optional).
    let differ = [
        "port",
        "bind",
        "dir",
        "enable-debug-command",
        "tls-auth-clients",
        "daemonize",
        "logfile",
        "pidfile",
        "io-threads",
        "save",
        "appendonly",
        "cluster-enabled",
        "maxclients",
        "maxmemory-clients",
        "tls-port",
    ];
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for param in parameters() {
        if differ.contains(&param.name()) {
            continue;
        }
        let Some(theirs) = real.config_get(param.name()) else {
            continue;
        };
        compared += 1;
        let mine = param.get(&ours);
        if mine != theirs {
            mismatches.push(format!("{}: ours {mine:?}, redis {theirs:?}", param.name()));
        }
    }
    assert!(compared > 25, "compared only {compared} parameters");
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn includes_bad_values_and_the_command_line_after_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let limits = dir.path().join("limits.conf");
    std::fs::write(
        &limits,
        "maxmemory 100mb\nmaxmemory-policy allkeys-lfu\nport 7100\n",
    )
    .expect("writes");
    let main = dir.path().join("redis.conf");
    std::fs::write(
        &main,
        format!(
            "port 7000\ninclude {}\nhz 20\nunknown-thing 1\n",
            limits.display()
        ),
    )
    .expect("writes");
    let main = main.to_str().expect("utf-8");

    let loaded = load(&[main]).expect("loads");
    assert_eq!(
        loaded.config.server.port, 7100,
        "the include's later line wins"
    );
    assert_eq!(loaded.config.memory.max_memory, 100 << 20);
    assert_eq!(
        loaded.config.memory.eviction_policy,
        EvictionPolicy::AllKeysLfu
    );
    assert_eq!(loaded.config.server.hz, 20);
    let warned: Vec<&str> = loaded.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(warned, ["unknown-thing"]);

    let loaded = load(&[main, "--port", "7200", "--maxmemory", "1gb"]).expect("loads");
    assert_eq!(loaded.config.server.port, 7200);
    assert_eq!(loaded.config.memory.max_memory, 1 << 30);

    for args in [
        &["-v"][..],
        &["--version"],
        &[main, "-v"],
        &[main, "--version"],
    ] {
        let err = parse(args).expect_err("prints the version");
        assert_eq!(err.exit_code(), 0, "{args:?}");
        assert_eq!(
            err.to_string().trim(),
            format!("redistill {}", env!("CARGO_PKG_VERSION"))
        );
    }

    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "port 7000\n# fine so far\nmaxmemory lots\n").expect("writes");
    let err = load(&[bad.to_str().expect("utf-8")]).expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("bad.conf, line 3"), "{text}");
    assert!(text.contains("'maxmemory lots'"), "{text}");
    assert!(text.contains("argument must be a memory value"), "{text}");

    let missing = dir.path().join("missing.conf");
    let err = load(&[missing.to_str().expect("utf-8")]).expect_err("refused");
    assert!(matches!(err, ConfigError::Read { .. }), "{err}");
}

#[test]
fn redis_parameters_on_the_command_line_as_redis_server_takes_them() {
    let fixture = debian_conf();
    let fixture = fixture.to_str().expect("utf-8");
    let loaded = load(&[
        fixture,
        "--port",
        "0",
        "--save",
        "60",
        "1",
        "--save",
        "300 10",
        "--appendonly",
        "no",
        "--hz",
        "20",
        "--maxmemory-policy",
        "allkeys-lru",
        "--list-max-ziplist-size",
        "-3",
    ])
    .expect("loads");
    let config = &loaded.config;
    assert_eq!(config.server.port, 0);
    assert_eq!(config.get_parameter("save").as_deref(), Some("60 1 300 10"));
    assert_eq!(config.server.hz, 20);
    assert_eq!(config.memory.eviction_policy, EvictionPolicy::AllKeysLru);
    assert_eq!(
        config.get_parameter("list-max-listpack-size").as_deref(),
        Some("-3")
    );

    let loaded = load(&["--save", "", "--databases", "4"]).expect("loads without a file");
    assert_eq!(loaded.config.get_parameter("save").as_deref(), Some(""));
    assert_eq!(loaded.config.server.databases, 4);

    let err = load(&[fixture, "--hz", "often"]).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "bad option --hz \"often\": argument couldn't be parsed into an integer"
    );
    let err = parse(&[fixture, "--no-such-parameter", "1"]).expect_err("refused");
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn toml_files_accept_redis_names() {
    let loaded = Config::from_toml_str(
        r#"
        [server]
        maxclients = 50
        tcp-keepalive = 60
        [memory]
        maxmemory = "2gb"
        maxmemory-policy = "allkeys-lru"
        "#,
    )
    .expect("loads");
    assert_eq!(loaded.config.server.max_connections, 50);
    assert_eq!(loaded.config.server.tcp_keepalive, 60);
    assert_eq!(loaded.config.memory.max_memory, 2 << 30);
    assert_eq!(
        loaded.config.memory.eviction_policy,
        EvictionPolicy::AllKeysLru
    );
    let err = Config::from_toml_str("[memory]\nmax_memory = \"1gb\"\nmaxmemory = \"2gb\"\n")
        .expect_err("two names for one option");
    assert!(matches!(err, ConfigError::ConflictingKeys { .. }), "{err}");
}
