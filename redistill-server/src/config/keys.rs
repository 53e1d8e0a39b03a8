//! The file, environment and flag layers: each value reaches its field through the row of
//! its setting (see `settings.rs`), so it is parsed and checked the same way wherever it is
//! given.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::setting::{FileSet, Input, Setting};
use super::settings::SETTINGS;
use super::{Config, ConfigError, ConfigWarning};

/// Keys of earlier Redistill files that mean nothing in this design: they load with a
/// warning.
const IGNORED: &[(&str, &str)] = &[
    ("server", "batch_size"),
    ("server", "buffer_pool_size"),
    ("server", "connection_rate_limit"),
    ("server", "shutdown_grace_period_secs"),
    ("memory", "s3fifo_small_ratio"),
    ("memory", "s3fifo_ghost_ratio"),
    ("logging", "format"),
];

/// What a file key does.
enum FileKey {
    /// Sets a setting, with the legacy key's own parser if it has one.
    Set(&'static Setting, Option<FileSet>),
    /// Loads with a warning.
    Ignored,
}

fn is_section(name: &str) -> bool {
    SETTINGS.iter().any(|setting| {
        setting.file.is_some_and(|(section, _)| section == name)
            || setting.legacy.iter().any(|old| old.section == name)
    }) || IGNORED.iter().any(|(section, _)| *section == name)
}

/// A setting's own key, not a legacy one nor another form of a setting: the keys that the
/// environment sets and that hints suggest.
fn is_canonical(setting: &Setting) -> bool {
    setting.file.is_some() && setting.same_option_as.is_none()
}

/// The option a key sets, to catch two keys that set the same one.
fn option_of(setting: &Setting) -> Option<String> {
    setting
        .same_option_as
        .map(str::to_owned)
        .or_else(|| setting.file_name())
}

fn find(section: &str, name: &str) -> Option<FileKey> {
    for setting in SETTINGS {
        if setting.file == Some((section, name)) {
            return Some(FileKey::Set(setting, None));
        }
        if let Some(old) = setting
            .legacy
            .iter()
            .find(|old| old.section == section && old.key == name)
        {
            return Some(FileKey::Set(setting, old.parse));
        }
    }
    if IGNORED.contains(&(section, name)) {
        return Some(FileKey::Ignored);
    }
    redis_named(section, name).map(|setting| FileKey::Set(setting, None))
}

/// The setting of `section` whose Redis name or alias is `name`, written with dashes or
/// underscores (`maxmemory-policy`, `maxmemory_policy`), so a file may use Redis's names
/// where they differ from the file's own (`[memory] maxmemory = "2gb"`).
fn redis_named(section: &str, name: &str) -> Option<&'static Setting> {
    let wanted = name.replace('_', "-");
    SETTINGS.iter().find(|setting| {
        setting.file.is_some_and(|(s, _)| s == section)
            && setting
                .redis
                .into_iter()
                .chain(setting.redis_aliases.iter().copied())
                .any(|redis| redis.eq_ignore_ascii_case(&wanted))
    })
}

/// A canonical key whose name is `name`, to suggest when `name` is in the wrong place.
fn hint_for(name: &str) -> Option<String> {
    SETTINGS
        .iter()
        .filter(|setting| is_canonical(setting))
        .find(|setting| setting.file.is_some_and(|(_, key)| key == name))
        .and_then(Setting::file_name)
}

/// Applies one value to `config` through its setting's row.
fn apply(
    config: &mut Config,
    setting: &Setting,
    parse: Option<FileSet>,
    label: &str,
    input: &Input<'_>,
) -> Result<(), ConfigError> {
    let result = match parse {
        Some(parse) => parse(config, input),
        None => setting.apply(config, input),
    };
    result.map_err(|expected| ConfigError::InvalidValue {
        key: label.to_owned(),
        value: input.repr(),
        expected,
    })
}

/// Parses TOML text and applies every key in it.
pub(crate) fn apply_toml(
    config: &mut Config,
    text: &str,
    path: Option<&Path>,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(), ConfigError> {
    let table: toml::Table = text
        .parse()
        .map_err(|err: toml::de::Error| ConfigError::Parse {
            path: path.map(Path::to_path_buf),
            message: err.message().to_owned() + &location(text, &err),
        })?;
    // Several keys may set one option (`server.timeout`, `server.connection_timeout`);
    // silently letting one win would hide a mistake.
    let mut seen: HashMap<String, String> = HashMap::new();
    for (section, value) in &table {
        if !is_section(section) {
            return Err(ConfigError::UnknownKey {
                key: section.clone(),
                hint: hint_for(section),
            });
        }
        let Some(entries) = value.as_table() else {
            return Err(ConfigError::InvalidValue {
                key: section.clone(),
                value: value.to_string(),
                expected: format!("a table (a [{section}] section)"),
            });
        };
        for (name, value) in entries {
            let label = format!("{section}.{name}");
            let (setting, parse) = match find(section, name) {
                Some(FileKey::Set(setting, parse)) => (setting, parse),
                Some(FileKey::Ignored) => {
                    warnings.push(ConfigWarning::ignored(label));
                    continue;
                }
                None => {
                    return Err(ConfigError::UnknownKey {
                        hint: hint_for(name).filter(|hint| *hint != label),
                        key: label,
                    });
                }
            };
            if let Some(option) = option_of(setting)
                && let Some(other) = seen.insert(option, label.clone())
            {
                return Err(ConfigError::ConflictingKeys { key: label, other });
            }
            apply(config, setting, parse, &label, &Input::Toml(value))?;
        }
    }
    Ok(())
}

fn location(text: &str, err: &toml::de::Error) -> String {
    let Some(span) = err.span() else {
        return String::new();
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!(" (line {line}, column {column})")
}

/// The variable that sets a canonical key: `REDISTILL_<SECTION>_<KEY>`.
pub(crate) fn env_var_name(section: &str, name: &str) -> String {
    format!("REDISTILL_{}_{}", section, name).to_ascii_uppercase()
}

/// The environment variable naming the configuration file.
pub(crate) const CONFIG_FILE_VAR: &str = "REDISTILL_CONFIG";

/// The variable that Redis images use for the password.
pub(crate) const PASSWORD_VAR: &str = "REDIS_PASSWORD";

/// Applies `REDIS_PASSWORD`, then every `REDISTILL_*` variable.
pub(crate) fn apply_env(
    config: &mut Config,
    env: &BTreeMap<String, String>,
) -> Result<(), ConfigError> {
    if let (Some(password), Some(FileKey::Set(setting, parse))) =
        (env.get(PASSWORD_VAR), find("security", "password"))
    {
        apply(config, setting, parse, PASSWORD_VAR, &Input::Text(password))?;
    }
    for (variable, value) in env.range("REDISTILL_".to_owned()..) {
        if !variable.starts_with("REDISTILL_") {
            break;
        }
        if variable == CONFIG_FILE_VAR {
            continue;
        }
        let setting = SETTINGS.iter().filter(|s| is_canonical(s)).find(|s| {
            s.file
                .is_some_and(|(section, name)| env_var_name(section, name) == *variable)
        });
        let Some(setting) = setting else {
            // `REDISTILL_PORT` for `REDISTILL_SERVER_PORT`: suggest the full name.
            let bare = variable
                .trim_start_matches("REDISTILL_")
                .to_ascii_lowercase();
            let hint = canonical_keys()
                .find(|(_, name)| *name == bare)
                .map(|(section, name)| env_var_name(section, name));
            return Err(ConfigError::UnknownKey {
                key: variable.clone(),
                hint,
            });
        };
        apply(config, setting, None, variable, &Input::Text(value))?;
    }
    Ok(())
}

/// Applies a `section.key` given as text, labelling errors with `label` (e.g. `--port`).
pub(crate) fn apply_text(
    config: &mut Config,
    key_name: &str,
    label: &str,
    value: &str,
) -> Result<(), ConfigError> {
    let found = key_name
        .split_once('.')
        .and_then(|(section, name)| find(section, name));
    let Some(FileKey::Set(setting, parse)) = found else {
        return Err(ConfigError::UnknownKey {
            key: label.to_owned(),
            hint: hint_for(key_name.rsplit('.').next().unwrap_or(key_name)),
        });
    };
    apply(config, setting, parse, label, &Input::Text(value))
}

/// Every canonical key as `(section, name)`, in table order.
pub(crate) fn canonical_keys() -> impl Iterator<Item = (&'static str, &'static str)> {
    SETTINGS
        .iter()
        .filter(|setting| is_canonical(setting))
        .filter_map(|setting| setting.file)
}
