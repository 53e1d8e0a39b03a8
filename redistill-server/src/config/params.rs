//! `CONFIG GET` / `CONFIG SET`: the configuration seen through Redis's parameter names.
//!
//! Every parameter is a row of `settings.rs` (or one of its aliases). Values are formatted
//! and parsed exactly as Redis 7.0 does (`maxmemory` in bytes, booleans as `yes`/`no`,
//! `CONFIG SET maxmemory 2gb`), and refused with Redis's texts. Where a parameter has no
//! equivalent here it is fixed: `appendonly` is always `no`; `save` is the schedule of
//! periodic snapshots.

use std::sync::LazyLock;

use redistill_store::glob_match;

use super::setting::Setting;
use super::settings::SETTINGS;
use super::{Config, ConfigError};

/// Parameters Redis 7.0 marks protected: `CONFIG SET` refuses them with its own reason
/// (`enable-protected-configs` is `no` there by default, and absent here).
const PROTECTED: [&str; 2] = ["dbfilename", "dir"];

/// One `CONFIG` parameter: a Redis name, or one of its aliases, and the setting behind it.
pub struct Parameter {
    name: &'static str,
    setting: &'static Setting,
}

impl Parameter {
    /// The Redis name, e.g. `maxmemory-policy`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether `CONFIG SET` may change it; the others answer "can't set immutable config".
    #[must_use]
    pub fn is_mutable(&self) -> bool {
        self.setting.mutable
    }

    /// The value as `CONFIG GET` prints it.
    #[must_use]
    pub fn get(&self, config: &Config) -> String {
        self.setting.kind.get(config)
    }

    /// The row behind it.
    pub(crate) fn setting(&self) -> &'static Setting {
        self.setting
    }
}

impl std::fmt::Debug for Parameter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parameter")
            .field("name", &self.name)
            .field("mutable", &self.is_mutable())
            .finish()
    }
}

/// Every name and alias, sorted, as a client listing `CONFIG GET *` would expect to scan
/// them.
static PARAMETERS: LazyLock<Vec<Parameter>> = LazyLock::new(|| {
    let mut all: Vec<Parameter> = SETTINGS
        .iter()
        .flat_map(|setting| {
            setting
                .redis
                .into_iter()
                .chain(setting.redis_aliases.iter().copied())
                .map(move |name| Parameter { name, setting })
        })
        .collect();
    all.sort_unstable_by_key(|param| param.name);
    all
});

/// Every parameter that `CONFIG GET` knows, aliases included, sorted by name.
///
/// # Examples
///
/// ```
/// use redistill_server::config::parameters;
///
/// let maxmemory = parameters().find(|p| p.name() == "maxmemory");
/// assert!(maxmemory.is_some_and(|p| p.is_mutable()));
/// assert!(parameters().any(|p| p.name() == "databases" && !p.is_mutable()));
/// ```
pub fn parameters() -> impl Iterator<Item = &'static Parameter> {
    PARAMETERS.iter()
}

/// The parameter of this name or alias, in any case.
pub(crate) fn find_parameter(name: &str) -> Option<&'static Parameter> {
    find(name)
}

fn find(name: &str) -> Option<&'static Parameter> {
    PARAMETERS
        .iter()
        .find(|param| param.name.eq_ignore_ascii_case(name))
}

impl Config {
    /// Every `(name, value)` pair that `CONFIG GET *` returns, aliases included.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_server::config::Config;
    ///
    /// let config = Config::default();
    /// let values: Vec<(&str, String)> = config.parameter_values().collect();
    /// assert!(values.contains(&("maxmemory", "0".to_owned())));
    /// assert!(values.contains(&("protected-mode", "yes".to_owned())));
    /// ```
    pub fn parameter_values(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        PARAMETERS.iter().map(|param| (param.name, param.get(self)))
    }

    /// One parameter's value, by name or alias in any case; `None` if there is no such
    /// parameter.
    #[must_use]
    pub fn get_parameter(&self, name: &str) -> Option<String> {
        find(name).map(|param| param.get(self))
    }

    /// `CONFIG GET pattern [pattern ...]` as Redis 7.0 answers it: each parameter once, in
    /// the order first matched. A pattern with no glob character is looked up by name (any
    /// case) and answered under the name as given; a glob matches names and aliases
    /// without regard to case.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_server::config::Config;
    ///
    /// let config = Config::default();
    /// let found = config.matching_parameters(&[b"MaxMemory", b"*policy*", b"maxmemory"]);
    /// assert_eq!(
    ///     found,
    ///     [
    ///         ("MaxMemory".to_owned(), "0".to_owned()),
    ///         ("maxmemory-policy".to_owned(), "noeviction".to_owned()),
    ///     ]
    /// );
    /// ```
    #[must_use]
    pub fn matching_parameters(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = Vec::new();
        let mut add = |name: String, param: &Parameter| {
            if !found.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                found.push((name, param.get(self)));
            }
        };
        for pattern in patterns {
            if !pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
                let name = String::from_utf8_lossy(pattern);
                if let Some(param) = find(&name) {
                    add(name.into_owned(), param);
                }
                continue;
            }
            let pattern = pattern.to_ascii_lowercase();
            for param in PARAMETERS.iter() {
                if glob_match(&pattern, param.name.as_bytes()) {
                    add(param.name.to_owned(), param);
                }
            }
        }
        found
    }

    /// `CONFIG SET name value`. Setting `loglevel` changes only the configuration: the
    /// caller applies it with [`crate::logging::set_level`].
    ///
    /// # Errors
    ///
    /// As Redis 7.0: [`ConfigError::UnknownParameter`] for a name it does not know,
    /// [`ConfigError::InvalidParameter`] for a refused value or a parameter fixed at start.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_server::config::Config;
    ///
    /// let mut config = Config::default();
    /// config.set_parameter("maxmemory", "2gb")?;
    /// assert_eq!(config.get_parameter("maxmemory").as_deref(), Some("2147483648"));
    /// # Ok::<(), redistill_server::config::ConfigError>(())
    /// ```
    pub fn set_parameter(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        self.set_parameters(&[(name, value)])
    }

    /// `CONFIG SET name value [name value ...]`, all or nothing as in Redis 7.0: every name
    /// is checked first, then every value is applied to a copy, which replaces the
    /// configuration only once all of them are accepted.
    ///
    /// # Errors
    ///
    /// The error Redis gives for the same arguments: the first name that is unknown, fixed
    /// at start or repeated (named as the client wrote it), else the first value refused
    /// (under the parameter's own name).
    pub fn set_parameters(&mut self, pairs: &[(&str, &str)]) -> Result<(), ConfigError> {
        let mut chosen: Vec<(&'static Parameter, &str)> = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            let Some(param) = find(name) else {
                return Err(ConfigError::UnknownParameter {
                    name: (*name).to_owned(),
                });
            };
            let refused = |reason: &str| ConfigError::InvalidParameter {
                name: (*name).to_owned(),
                reason: reason.to_owned(),
            };
            if PROTECTED.contains(&param.name) {
                return Err(refused("can't set protected config"));
            }
            if !param.is_mutable() {
                return Err(refused("can't set immutable config"));
            }
            if chosen.iter().any(|(earlier, _)| earlier.name == param.name) {
                return Err(refused("duplicate parameter"));
            }
            chosen.push((param, value));
        }
        let mut updated = self.clone();
        for (param, value) in chosen {
            param
                .setting
                .kind
                .apply_redis(&mut updated, value)
                .map_err(|reason| ConfigError::InvalidParameter {
                    name: param.name.to_owned(),
                    reason,
                })?;
        }
        *self = updated;
        Ok(())
    }
}
