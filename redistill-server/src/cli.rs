//! The `redistill` command line.
//!
//! Flags follow `redis-server`'s names (`--port`, `--maxmemory 2gb`,
//! `--maxmemory-policy allkeys-lru`, `--requirepass`, `--loglevel`) and override the file
//! and the environment. `--set section.key=value` reaches every other key. A bad value is
//! refused while parsing, with a message naming the flag, and exits with status 2; `--help`
//! and `--version` print and exit with status 0.
//!
//! # Examples
//!
//! ```
//! use redistill_server::cli::Cli;
//!
//! let cli = Cli::try_parse_args(["redistill", "--port", "7000", "--maxmemory", "1gb"])?;
//! let loaded = cli.loader().default_file(None).load()?;
//! assert_eq!(loaded.config.server.port, 7000);
//! assert_eq!(loaded.config.memory.max_memory, 1 << 30);
//!
//! let err = Cli::try_parse_args(["redistill", "--port", "70000"]).unwrap_err();
//! assert_eq!(err.exit_code(), 2);
//! assert!(err.to_string().contains("--port"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Parser;

use crate::config::{self, Config, ConfigError, ConfigLoader, Loaded, Overrides};

const AFTER_HELP: &str = "\
Configuration is read from built-in defaults, then the TOML file (--config, else \
REDISTILL_CONFIG, else ./redistill.toml if it exists, unless a redis.conf is given), then \
the redis.conf given as first argument (as `redis-server /etc/redis/redis.conf --port \
7000`), then the environment \
(REDIS_PASSWORD, and REDISTILL_<SECTION>_<KEY> for every key, e.g. REDISTILL_SERVER_PORT or \
REDISTILL_MEMORY_MAX_MEMORY), then these flags. See redistill.example.toml for every key.";

/// The parsed command line. Every value has already been checked against its key.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "redistill",
    version,
    // `-v` as well as `--version`, as redis-server has it.
    disable_version_flag = true,
    about = "A Redis-compatible in-memory cache server",
    // "-1" is a value to refuse with the flag's own message, not an unknown flag.
    allow_negative_numbers = true,
    // -v and --version, as redis-server takes them (-V too).
    disable_version_flag = true,
    after_help = AFTER_HELP
)]
#[non_exhaustive]
pub struct Cli {
    /// Print the version and exit
    #[arg(short = 'v', long = "version", short_alias = 'V', action = clap::ArgAction::Version)]
    version: Option<bool>,

    /// A Redis redis.conf to read, as `redis-server /etc/redis/redis.conf` does: Redis's
    /// parameter names and `include` lines; parameters Redistill lacks are warned about
    #[arg(value_name = "REDIS_CONF")]
    pub redis_conf: Option<PathBuf>,

    /// TOML configuration file [default: ./redistill.toml if it exists]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// TCP port to listen on (0 = chosen by the OS)
    #[arg(long, value_name = "PORT", value_parser = checked("server.port"))]
    pub port: Option<String>,

    /// Addresses to listen on, separated by spaces
    #[arg(long, value_name = "ADDRS", value_parser = checked("server.bind"))]
    pub bind: Option<String>,

    /// Event-loop threads (0 = one per core)
    #[arg(long, value_name = "N", value_parser = checked("server.workers"))]
    pub workers: Option<String>,

    /// Shards per database (0 = automatic, else a power of two)
    #[arg(long, value_name = "N", value_parser = checked("server.num_shards"))]
    pub num_shards: Option<String>,

    /// Number of databases
    #[arg(long, value_name = "N", value_parser = checked("server.databases"))]
    pub databases: Option<String>,

    /// Most clients connected at once (0 = no limit)
    #[arg(long, value_name = "N", value_parser = checked("server.max_connections"))]
    pub maxclients: Option<String>,

    /// Close clients idle for this many seconds (0 = never)
    #[arg(long, value_name = "SECONDS", value_parser = checked("server.timeout"))]
    pub timeout: Option<String>,

    /// TCP keepalive interval in seconds (0 = off)
    #[arg(long, value_name = "SECONDS", value_parser = checked("server.tcp_keepalive"))]
    pub tcp_keepalive: Option<String>,

    /// Refuse non-local clients while no password is set: yes or no
    #[arg(long, value_name = "YES|NO", value_parser = checked("server.protected_mode"))]
    pub protected_mode: Option<String>,

    /// Who may run DEBUG: no, yes or local (loopback and unix socket clients)
    #[arg(long, value_name = "NO|YES|LOCAL", value_parser = checked("server.enable_debug_command"))]
    pub enable_debug_command: Option<String>,

    /// Port of the HTTP health endpoint (0 = off)
    #[arg(long, value_name = "PORT", value_parser = checked("server.health_check_port"))]
    pub health_check_port: Option<String>,

    /// Log level: debug, verbose, notice or warning
    #[arg(long, value_name = "LEVEL", value_parser = checked("server.log_level"))]
    pub loglevel: Option<String>,

    /// Memory limit, in bytes or with a unit: 100mb, 2gb (0 = none)
    #[arg(long, value_name = "BYTES", value_parser = checked("memory.max_memory"))]
    pub maxmemory: Option<String>,

    /// Eviction policy at the memory limit, e.g. allkeys-lru
    #[arg(long, value_name = "POLICY", value_parser = checked("memory.eviction_policy"))]
    pub maxmemory_policy: Option<String>,

    /// Keys sampled per eviction
    #[arg(long, value_name = "N", value_parser = checked("memory.maxmemory_samples"))]
    pub maxmemory_samples: Option<String>,

    /// Password that clients must send with AUTH
    #[arg(
        long,
        value_name = "PASSWORD",
        allow_hyphen_values = true,
        value_parser = checked("security.password")
    )]
    pub requirepass: Option<String>,

    /// Append the log to this file, reopened on SIGHUP (default: standard error)
    #[arg(long, value_name = "PATH", value_parser = checked("server.logfile"))]
    pub logfile: Option<String>,

    /// Run in the background, detached from the terminal: yes or no
    #[arg(long, value_name = "YES|NO", value_parser = checked("server.daemonize"))]
    pub daemonize: Option<String>,

    /// Write the process id to this file while running
    #[arg(long, value_name = "PATH", value_parser = checked("server.pidfile"))]
    pub pidfile: Option<String>,

    /// Start empty when the snapshot is corrupt, moving the file aside (default: refuse)
    #[arg(long)]
    pub start_empty_on_corrupt_snapshot: bool,

    /// Set any configuration key (repeatable), e.g. --set persistence.enabled=true
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE", value_parser = setting)]
    pub settings: Vec<(String, String)>,

    /// Redis parameters without a flag of their own, given as redis-server takes them
    /// (`--save ""`, `--appendonly no`, `--hz 20`): each name with the words up to the next
    /// `--`. Applied as more lines of the redis.conf, before the other flags.
    #[arg(skip)]
    pub redis_options: Vec<(String, Vec<String>)>,
}

/// Takes out of `args` (the program name first) every `--name words...` whose name is a
/// Redis parameter that has no flag of its own, as redis-server reads its command line:
/// the words run up to the next argument starting with `--`.
fn take_redis_options(args: Vec<OsString>) -> (Vec<OsString>, Vec<(String, Vec<String>)>) {
    use clap::CommandFactory;
    let command = Cli::command();
    let flags: Vec<&str> = command
        .get_arguments()
        .filter_map(clap::Arg::get_long)
        .chain(["help"])
        .collect();
    let is_redis_option = |name: &str| {
        !flags.contains(&name) && config::parameters().any(|p| p.name().eq_ignore_ascii_case(name))
    };
    let mut kept = Vec::with_capacity(args.len());
    let mut options = Vec::new();
    let mut args = args.into_iter().peekable();
    if let Some(program) = args.next() {
        kept.push(program);
    }
    while let Some(arg) = args.next() {
        let name = arg
            .to_str()
            .and_then(|a| a.strip_prefix("--"))
            .filter(|name| is_redis_option(name))
            .map(str::to_owned);
        let Some(name) = name else {
            kept.push(arg);
            continue;
        };
        let mut words = Vec::new();
        while let Some(word) = args.next_if(|w| !w.to_str().is_some_and(|w| w.starts_with("--"))) {
            words.push(word.to_string_lossy().into_owned());
        }
        options.push((name, words));
    }
    (kept, options)
}

/// A clap value parser that checks text against a configuration key, so a bad flag fails
/// during parsing (exit status 2) with the key's own explanation.
fn checked(
    key: &'static str,
) -> impl Fn(&str) -> Result<String, String> + Clone + Send + Sync + 'static {
    move |text| {
        let mut scratch = Config::default();
        match config::Overrides::single(key, text).apply(&mut scratch) {
            Err(ConfigError::InvalidValue { expected, .. }) => Err(format!("expected {expected}")),
            Err(other) => Err(other.to_string()),
            Ok(()) => Ok(text.to_owned()),
        }
    }
}

fn setting(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| "expected SECTION.KEY=VALUE".to_owned())?;
    let mut scratch = Config::default();
    match Overrides::single(key, value).apply(&mut scratch) {
        Ok(()) => Ok((key.to_owned(), value.to_owned())),
        Err(ConfigError::InvalidValue { expected, .. }) => {
            Err(format!("{key}: {value:?} is not {expected}"))
        }
        Err(ConfigError::UnknownKey { hint, .. }) => Err(match hint {
            Some(hint) => format!("unknown key {key} (did you mean {hint}?)"),
            None => format!("unknown key {key}"),
        }),
        Err(other) => Err(other.to_string()),
    }
}

impl Cli {
    /// Parses the process's arguments; on a bad flag prints the error and exits with
    /// status 2, on `--help` or `--version` prints and exits with status 0.
    #[must_use]
    pub fn parse_process_args() -> Self {
        Self::try_parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Parses the given arguments (the first is the program name).
    ///
    /// # Errors
    ///
    /// clap's error, whose [`clap::Error::exit_code`] is 2 for a bad flag and 0 for
    /// `--help`/`--version`, and whose message names the flag.
    pub fn try_parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let (args, redis_options) = take_redis_options(args.into_iter().map(Into::into).collect());
        let mut cli = Self::try_parse_from(args)?;
        cli.redis_options = redis_options;
        Ok(cli)
    }

    /// The flags as the configuration's last layer: `--set` settings first, then the
    /// dedicated flags, so `--port` wins over `--set server.port=...`.
    #[must_use]
    pub fn overrides(&self) -> Overrides {
        let mut overrides = Overrides::default();
        for (key, value) in &self.settings {
            overrides.push(key.as_str(), value.as_str(), format!("--set {key}"));
        }
        let flags = [
            ("server.port", "--port", &self.port),
            ("server.bind", "--bind", &self.bind),
            ("server.workers", "--workers", &self.workers),
            ("server.num_shards", "--num-shards", &self.num_shards),
            ("server.databases", "--databases", &self.databases),
            ("server.max_connections", "--maxclients", &self.maxclients),
            ("server.timeout", "--timeout", &self.timeout),
            (
                "server.tcp_keepalive",
                "--tcp-keepalive",
                &self.tcp_keepalive,
            ),
            (
                "server.protected_mode",
                "--protected-mode",
                &self.protected_mode,
            ),
            (
                "server.enable_debug_command",
                "--enable-debug-command",
                &self.enable_debug_command,
            ),
            (
                "server.health_check_port",
                "--health-check-port",
                &self.health_check_port,
            ),
            ("server.log_level", "--loglevel", &self.loglevel),
            ("memory.max_memory", "--maxmemory", &self.maxmemory),
            (
                "memory.eviction_policy",
                "--maxmemory-policy",
                &self.maxmemory_policy,
            ),
            (
                "memory.maxmemory_samples",
                "--maxmemory-samples",
                &self.maxmemory_samples,
            ),
            ("security.password", "--requirepass", &self.requirepass),
            ("server.logfile", "--logfile", &self.logfile),
            ("server.daemonize", "--daemonize", &self.daemonize),
            ("server.pidfile", "--pidfile", &self.pidfile),
        ];
        for (key, flag, value) in flags {
            if let Some(value) = value {
                overrides.push(key, value.as_str(), flag);
            }
        }
        if self.start_empty_on_corrupt_snapshot {
            overrides.push(
                "persistence.start_empty_on_corrupt_snapshot",
                "yes",
                "--start-empty-on-corrupt-snapshot",
            );
        }
        overrides
    }

    /// A loader for these flags: `--config` if given, and the flags as overrides. Add the
    /// environment with [`ConfigLoader::env`].
    #[must_use]
    pub fn loader(&self) -> ConfigLoader {
        let mut loader = ConfigLoader::new().overrides(self.overrides());
        if let Some(path) = &self.config {
            loader = loader.file(path);
        }
        if let Some(path) = &self.redis_conf {
            loader = loader.redis_conf(path);
        }
        loader.redis_options(self.redis_options.clone())
    }

    /// Loads the configuration with these flags and the process's environment.
    ///
    /// # Errors
    ///
    /// Any [`ConfigError`]; the binary prints it and exits with status 2.
    pub fn load_config(&self) -> Result<Loaded, ConfigError> {
        self.loader().env(config::process_env()?).load()
    }
}
