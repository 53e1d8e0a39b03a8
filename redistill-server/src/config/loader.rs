//! Putting the layers together: defaults, file, environment, flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::keys::{self, CONFIG_FILE_VAR, PASSWORD_VAR};
use super::{Config, ConfigError, ConfigSource, ConfigWarning};

/// A configuration and the warnings met while loading it (to be logged by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Loaded {
    /// The final configuration.
    pub config: Config,
    /// One entry per key that was accepted but has no effect.
    pub warnings: Vec<ConfigWarning>,
}

/// One command-line setting: the canonical key it sets, the value as text, and the flag
/// that gave it (named in errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// Canonical key, e.g. `server.port`.
    pub key: String,
    /// The value, parsed like an environment variable's.
    pub value: String,
    /// How the user wrote it, e.g. `--port`.
    pub origin: String,
}

/// The command-line layer: settings applied last, in order.
///
/// # Examples
///
/// ```
/// use redistill_server::config::{ConfigLoader, Overrides};
///
/// let mut overrides = Overrides::default();
/// overrides.push("server.port", "7002", "--port");
/// let loaded = ConfigLoader::new()
///     .default_file(None)
///     .env([("REDISTILL_SERVER_PORT", "7001")])
///     .overrides(overrides)
///     .load()?;
/// assert_eq!(loaded.config.server.port, 7002);
/// # Ok::<(), redistill_server::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overrides {
    /// The settings, applied first to last.
    pub entries: Vec<Override>,
}

impl Overrides {
    /// Adds a setting of canonical `key` (e.g. `server.port`) given by `origin`.
    pub fn push(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
        origin: impl Into<String>,
    ) {
        self.entries.push(Override {
            key: key.into(),
            value: value.into(),
            origin: origin.into(),
        });
    }

    /// Overrides holding one setting of `key`, labelled with the key itself.
    #[must_use]
    pub fn single(key: &str, value: &str) -> Self {
        let mut overrides = Self::default();
        overrides.push(key, value, key);
        overrides
    }

    /// Whether there is nothing to apply.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Applies every setting to `config`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::UnknownKey`] or [`ConfigError::InvalidValue`] naming the origin.
    pub fn apply(&self, config: &mut Config) -> Result<(), ConfigError> {
        for entry in &self.entries {
            keys::apply_text(config, &entry.key, &entry.origin, &entry.value)?;
        }
        Ok(())
    }
}

/// Loads a [`Config`] from its layers.
///
/// By default it looks for `./redistill.toml` and, when that file does not exist, starts
/// from the defaults. The environment is passed in (see [`process_env`]) so that tests never
/// touch the process's own.
#[derive(Debug, Clone)]
pub struct ConfigLoader {
    file: Option<PathBuf>,
    redis_conf: Option<PathBuf>,
    redis_options: Vec<(String, Vec<String>)>,
    default_file: Option<PathBuf>,
    env: BTreeMap<String, String>,
    overrides: Overrides,
}

impl Default for ConfigLoader {
    fn default() -> Self {
        Self::new()
    }
}

/// The file looked for when none is named.
pub const DEFAULT_CONFIG_FILE: &str = "redistill.toml";

impl ConfigLoader {
    /// A loader with no environment and no flags that reads `./redistill.toml` if present.
    #[must_use]
    pub fn new() -> Self {
        Self {
            file: None,
            redis_conf: None,
            redis_options: Vec::new(),
            default_file: Some(PathBuf::from(DEFAULT_CONFIG_FILE)),
            env: BTreeMap::new(),
            overrides: Overrides::default(),
        }
    }

    /// Reads this file, which must exist (`--config PATH`).
    #[must_use]
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Reads this Redis `redis.conf` after the TOML file, if any (`redistill redis.conf`):
    /// Redis's parameter names, `include` lines, one warning per parameter Redistill does
    /// not have.
    ///
    /// ```
    /// use redistill_server::config::ConfigLoader;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("redis.conf");
    /// std::fs::write(&path, "port 7005\nmaxmemory 100mb\ntcp-backlog 511\n")?;
    /// let loaded = ConfigLoader::new().default_file(None).redis_conf(&path).load()?;
    /// assert_eq!(loaded.config.server.port, 7005);
    /// assert_eq!(loaded.config.memory.max_memory, 100 << 20);
    /// assert_eq!(loaded.warnings[0].key, "tcp-backlog");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn redis_conf(mut self, path: impl Into<PathBuf>) -> Self {
        self.redis_conf = Some(path.into());
        self
    }

    /// Redis parameters from the command line, `(name, words)`, applied as more lines of
    /// the redis.conf after the environment and before the other flags, as
    /// `redis-server file --save "" --appendonly no` takes them.
    ///
    /// ```
    /// use redistill_server::config::ConfigLoader;
    ///
    /// let options = vec![("maxmemory-policy".to_owned(), vec!["allkeys-lru".to_owned()])];
    /// let loaded = ConfigLoader::new().default_file(None).redis_options(options).load()?;
    /// assert_eq!(loaded.config.memory.eviction_policy.name(), "allkeys-lru");
    /// # Ok::<(), redistill_server::config::ConfigError>(())
    /// ```
    #[must_use]
    pub fn redis_options(mut self, options: Vec<(String, Vec<String>)>) -> Self {
        self.redis_options = options;
        self
    }

    /// The file to read if it exists when none is named; `None` to read no file then.
    #[must_use]
    pub fn default_file(mut self, path: Option<PathBuf>) -> Self {
        self.default_file = path;
        self
    }

    /// The environment variables to consult. Only `REDIS_PASSWORD` and `REDISTILL_*`
    /// matter; others are ignored.
    #[must_use]
    pub fn env<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.env = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        self
    }

    /// The command-line layer.
    #[must_use]
    pub fn overrides(mut self, overrides: Overrides) -> Self {
        self.overrides = overrides;
        self
    }

    /// Applies every layer and checks the result.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Read`] when a named file cannot be read; otherwise the error of the
    /// first bad key, variable or flag, naming it.
    pub fn load(&self) -> Result<Loaded, ConfigError> {
        let mut config = Config::default();
        let mut warnings = Vec::new();
        if let Some(path) = self.file_to_read() {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            keys::apply_toml(&mut config, &text, Some(&path), &mut warnings)?;
            config.source = ConfigSource::File(path);
        }
        if let Some(path) = &self.redis_conf {
            super::redis_conf::apply_redis_conf(&mut config, path, &mut warnings)?;
            config.source = ConfigSource::RedisConf(path.clone());
        }
        keys::apply_env(&mut config, &self.env)?;
        super::redis_conf::apply_redis_options(&mut config, &self.redis_options, &mut warnings)?;
        self.overrides.apply(&mut config)?;
        config.validate()?;
        Ok(Loaded { config, warnings })
    }

    fn file_to_read(&self) -> Option<PathBuf> {
        if let Some(path) = &self.file {
            return Some(path.clone());
        }
        if self.redis_conf.is_some() {
            // A redis.conf is the file layer; ./redistill.toml is not looked for then.
            return None;
        }
        // An empty variable counts as unset, as container tooling often leaves them so.
        if let Some(path) = self.env.get(CONFIG_FILE_VAR).filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(path));
        }
        self.default_file
            .as_deref()
            .filter(|path| path.exists())
            .map(Path::to_path_buf)
    }
}

/// The process's variables that configure the server: `REDIS_PASSWORD` and `REDISTILL_*`.
///
/// # Errors
///
/// [`ConfigError::NotUnicode`] when one of them is not UTF-8.
pub fn process_env() -> Result<BTreeMap<String, String>, ConfigError> {
    let mut vars = BTreeMap::new();
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if name != PASSWORD_VAR && !name.starts_with("REDISTILL_") {
            continue;
        }
        let value = value.into_string().map_err(|_| ConfigError::NotUnicode {
            variable: name.to_owned(),
        })?;
        vars.insert(name.to_owned(), value);
    }
    Ok(vars)
}

/// Every variable name that sets a key, in table order, for documentation and help text.
#[must_use]
pub fn env_var_names() -> Vec<String> {
    keys::canonical_keys()
        .map(|(section, name)| keys::env_var_name(section, name))
        .collect()
}
