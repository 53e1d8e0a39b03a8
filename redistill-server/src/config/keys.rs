//! The table of configuration keys, shared by the file, the environment and the flags, so
//! that a key is parsed and checked the same way wherever it is given.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::values::{LogLevel, parse_bind_list};
use super::{
    Config, ConfigError, ConfigWarning, SavePoint, eviction_policy_names, parse_memory_size,
};

/// A value as given: typed TOML from the file, or text from the environment or a flag.
pub(crate) enum Input<'a> {
    Toml(&'a toml::Value),
    Text(&'a str),
}

impl Input<'_> {
    /// The value if it is text: a TOML string, or any environment or flag value.
    fn text(&self) -> Option<&str> {
        match self {
            Self::Toml(toml::Value::String(text)) => Some(text),
            Self::Text(text) => Some(text),
            Self::Toml(_) => None,
        }
    }

    /// The value as the operator wrote it, for error messages.
    fn repr(&self) -> String {
        match self {
            Self::Toml(value) => value.to_string(),
            Self::Text(text) => format!("{text:?}"),
        }
    }
}

/// Sets a key's field; on failure, says what would have been accepted ("a memory size").
type Apply = fn(&mut Config, &Input<'_>) -> Result<(), String>;

enum Action {
    /// Sets an option. An alias names the canonical `section.name` it stands for; a
    /// canonical key has `None`.
    Set {
        canonical: Option<&'static str>,
        apply: Apply,
    },
    /// A key of earlier Redistill files that has no meaning here: accepted with a warning.
    Ignore,
}

struct Key {
    section: &'static str,
    name: &'static str,
    action: Action,
}

const fn set(section: &'static str, name: &'static str, apply: Apply) -> Key {
    Key {
        section,
        name,
        action: Action::Set {
            canonical: None,
            apply,
        },
    }
}

const fn alias(
    section: &'static str,
    name: &'static str,
    canonical: &'static str,
    apply: Apply,
) -> Key {
    Key {
        section,
        name,
        action: Action::Set {
            canonical: Some(canonical),
            apply,
        },
    }
}

const fn ignore(section: &'static str, name: &'static str) -> Key {
    Key {
        section,
        name,
        action: Action::Ignore,
    }
}

const SECTIONS: [&str; 6] = [
    "server",
    "memory",
    "security",
    "persistence",
    "performance",
    "logging",
];

static KEYS: &[Key] = &[
    set("server", "bind", |c, v| {
        c.server.bind = bind(v)?;
        Ok(())
    }),
    set("server", "port", |c, v| {
        c.server.port = int(v, 0, 65535)?;
        Ok(())
    }),
    set("server", "workers", |c, v| {
        c.server.workers = int(v, 0, 1024)?;
        Ok(())
    }),
    set("server", "num_shards", |c, v| {
        const EXPECTED: &str = "0 or a power of two up to 65536";
        let shards: usize = int(v, 0, 65536).map_err(|_| EXPECTED.to_owned())?;
        if shards != 0 && !shards.is_power_of_two() {
            return Err(EXPECTED.to_owned());
        }
        c.server.num_shards = shards;
        Ok(())
    }),
    set("server", "databases", |c, v| {
        c.server.databases = int(v, 1, 1024)?;
        Ok(())
    }),
    set("server", "max_connections", |c, v| {
        c.server.max_connections = int(v, 0, i64::from(u32::MAX))?;
        Ok(())
    }),
    set("server", "max_new_connections_per_second", |c, v| {
        c.server.max_new_connections_per_second = int(v, 0, i64::from(u32::MAX))?;
        Ok(())
    }),
    set("server", "timeout", timeout),
    set("server", "tcp_nodelay", tcp_nodelay),
    set("server", "tcp_keepalive", tcp_keepalive),
    set("server", "hz", |c, v| {
        c.server.hz = int(v, i64::from(super::HZ_MIN), i64::from(super::HZ_MAX))?;
        Ok(())
    }),
    set("server", "buffer_size", |c, v| {
        c.server.buffer_size = usize::try_from(memory(v, 1024, 64 << 20)?)
            .map_err(|_| "a memory size between 1024 and 67108864".to_owned())?;
        Ok(())
    }),
    set("server", "client_output_buffer_limit", |c, v| {
        const EXPECTED: &str =
            "a Redis client-output-buffer-limit such as \"normal 256mb 0 0 pubsub 32mb 8mb 60\"";
        let text = string(v).map_err(|_| EXPECTED.to_owned())?;
        c.server
            .client_output_buffer_limit
            .apply_redis_str(&text)
            .map_err(|_| EXPECTED.to_owned())
    }),
    set("server", "client_query_buffer_limit", |c, v| {
        c.server.client_query_buffer_limit = memory(v, 1 << 20, i64::MAX.unsigned_abs())?;
        Ok(())
    }),
    set("server", "proto_max_bulk_len", |c, v| {
        c.server.proto_max_bulk_len = memory(v, 1 << 20, i64::MAX.unsigned_abs())?;
        Ok(())
    }),
    set("server", "health_check_port", |c, v| {
        c.server.health_check_port = int(v, 0, 65535)?;
        Ok(())
    }),
    set("server", "log_level", |c, v| {
        let expected = || format!("a log level ({})", LogLevel::names());
        let text = string(v).map_err(|_| expected())?;
        c.server.log_level = LogLevel::from_name(&text).ok_or_else(expected)?;
        Ok(())
    }),
    set("server", "protected_mode", |c, v| {
        c.server.protected_mode = boolean(v)?;
        Ok(())
    }),
    set("server", "slowlog_log_slower_than", |c, v| {
        c.server.slowlog_log_slower_than = int(v, i64::MIN, i64::MAX)?;
        Ok(())
    }),
    set("server", "slowlog_max_len", |c, v| {
        c.server.slowlog_max_len = int(v, 0, i64::MAX)?;
        Ok(())
    }),
    set("memory", "max_memory", |c, v| {
        c.memory.max_memory = memory(v, 0, u64::MAX)?;
        Ok(())
    }),
    set("memory", "eviction_policy", |c, v| {
        let expected = || format!("an eviction policy ({})", eviction_policy_names());
        let text = string(v).map_err(|_| expected())?;
        c.memory.eviction_policy = text.parse().map_err(|_| expected())?;
        Ok(())
    }),
    set("memory", "maxmemory_samples", maxmemory_samples),
    set("memory", "lfu_log_factor", |c, v| {
        c.memory.lfu_log_factor = int(v, 0, i64::from(i32::MAX))?;
        Ok(())
    }),
    set("memory", "lfu_decay_time", |c, v| {
        c.memory.lfu_decay_time = int(v, 0, i64::from(i32::MAX))?;
        Ok(())
    }),
    set("memory", "active_expire_effort", |c, v| {
        c.memory.active_expire_effort = int(v, 1, 10)?;
        Ok(())
    }),
    set("security", "password", |c, v| {
        let password = string(v)?;
        c.security.password = (!password.is_empty()).then_some(password);
        Ok(())
    }),
    set("security", "tls_enabled", |c, v| {
        c.security.tls_enabled = boolean(v)?;
        Ok(())
    }),
    set("security", "tls_port", |c, v| {
        c.security.tls_port = int(v, 0, 65535)?;
        Ok(())
    }),
    set("security", "tls_cert_path", |c, v| {
        c.security.tls_cert_path = optional_path(v)?;
        Ok(())
    }),
    set("security", "tls_key_path", |c, v| {
        c.security.tls_key_path = optional_path(v)?;
        Ok(())
    }),
    set("security", "tls_ca_cert_path", |c, v| {
        c.security.tls_ca_cert_path = optional_path(v)?;
        Ok(())
    }),
    set("security", "tls_auth_clients", |c, v| {
        c.security.tls_auth_clients = boolean(v)?;
        Ok(())
    }),
    set("security", "tls_max_handshakes", |c, v| {
        c.security.tls_max_handshakes = int(v, 0, i64::from(u32::MAX))?;
        Ok(())
    }),
    set("security", "tls_handshake_timeout", |c, v| {
        c.security.tls_handshake_timeout = int(v, 1, 3600)?;
        Ok(())
    }),
    set("persistence", "enabled", |c, v| {
        c.persistence.enabled = boolean(v)?;
        Ok(())
    }),
    set("persistence", "snapshot_path", |c, v| {
        c.persistence.snapshot_path =
            optional_path(v)?.ok_or_else(|| "a non-empty path".to_owned())?;
        Ok(())
    }),
    set("persistence", "snapshot_interval", |c, v| {
        c.persistence.snapshot_interval = int(v, 0, i64::MAX)?;
        c.persistence.save = None;
        Ok(())
    }),
    // Redis's form of the same schedule, so a file may give one or the other, not both.
    alias(
        "persistence",
        "save",
        "persistence.snapshot_interval",
        |c, v| {
            let expected = || {
                "Redis's save points, \"<seconds> <changes>\" pairs such as \"3600 1 300 100\" \
                 (\"\" for none)"
                    .to_owned()
            };
            let text = v.text().ok_or_else(expected)?;
            c.persistence.save = Some(SavePoint::parse_list(text).ok_or_else(expected)?);
            Ok(())
        },
    ),
    set("persistence", "save_on_shutdown", |c, v| {
        c.persistence.save_on_shutdown = boolean(v)?;
        Ok(())
    }),
    set("persistence", "start_empty_on_corrupt_snapshot", |c, v| {
        c.persistence.start_empty_on_corrupt_snapshot = boolean(v)?;
        Ok(())
    }),
    // Earlier Redistill files: keys with a meaning here map onto ours.
    alias(
        "performance",
        "tcp_nodelay",
        "server.tcp_nodelay",
        tcp_nodelay,
    ),
    alias(
        "performance",
        "tcp_keepalive",
        "server.tcp_keepalive",
        tcp_keepalive,
    ),
    alias("server", "connection_timeout", "server.timeout", timeout),
    alias(
        "memory",
        "eviction_sample_size",
        "memory.maxmemory_samples",
        maxmemory_samples,
    ),
    alias("logging", "level", "server.log_level", |c, v| {
        let expected = || "a log level (error, warn, info, debug or trace)".to_owned();
        let text = string(v).map_err(|_| expected())?;
        c.server.log_level = LogLevel::from_log_crate_name(&text)
            .or_else(|| LogLevel::from_name(&text))
            .ok_or_else(expected)?;
        Ok(())
    }),
    // ... and keys without one load with a warning.
    ignore("server", "batch_size"),
    ignore("server", "buffer_pool_size"),
    ignore("server", "connection_rate_limit"),
    ignore("server", "shutdown_grace_period_secs"),
    ignore("memory", "s3fifo_small_ratio"),
    ignore("memory", "s3fifo_ghost_ratio"),
    ignore("logging", "format"),
];

fn timeout(c: &mut Config, v: &Input<'_>) -> Result<(), String> {
    c.server.timeout = int(v, 0, i64::from(i32::MAX))?;
    Ok(())
}

fn tcp_nodelay(c: &mut Config, v: &Input<'_>) -> Result<(), String> {
    c.server.tcp_nodelay = boolean(v)?;
    Ok(())
}

fn tcp_keepalive(c: &mut Config, v: &Input<'_>) -> Result<(), String> {
    c.server.tcp_keepalive = int(v, 0, i64::from(i32::MAX))?;
    Ok(())
}

fn maxmemory_samples(c: &mut Config, v: &Input<'_>) -> Result<(), String> {
    c.memory.maxmemory_samples = int(v, 1, i64::from(i32::MAX))?;
    Ok(())
}

fn int<T: TryFrom<i64>>(input: &Input<'_>, min: i64, max: i64) -> Result<T, String> {
    let value = match input {
        Input::Toml(toml::Value::Integer(n)) => Some(*n),
        Input::Toml(_) => None,
        Input::Text(text) => text.parse::<i64>().ok(),
    };
    value
        .filter(|n| (min..=max).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| format!("an integer between {min} and {max}"))
}

fn memory(input: &Input<'_>, min: u64, max: u64) -> Result<u64, String> {
    let value = match input {
        Input::Toml(toml::Value::Integer(n)) => u64::try_from(*n).ok(),
        _ => input.text().and_then(parse_memory_size),
    };
    value.filter(|n| (min..=max).contains(n)).ok_or_else(|| {
        if min == 0 && max == u64::MAX {
            "a memory size".to_owned()
        } else {
            format!("a memory size between {min} and {max} bytes")
        }
    })
}

fn boolean(input: &Input<'_>) -> Result<bool, String> {
    match input {
        Input::Toml(toml::Value::Boolean(b)) => Some(*b),
        Input::Toml(_) => None,
        Input::Text(text) => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => None,
        },
    }
    .ok_or_else(|| "a boolean (true or false)".to_owned())
}

fn string(input: &Input<'_>) -> Result<String, String> {
    input
        .text()
        .map(str::to_owned)
        .ok_or_else(|| "a string".to_owned())
}

/// An empty string clears the path, so a file can switch off what a default turned on.
fn optional_path(input: &Input<'_>) -> Result<Option<PathBuf>, String> {
    let text = string(input).map_err(|_| "a path".to_owned())?;
    Ok((!text.is_empty()).then(|| PathBuf::from(text)))
}

fn bind(input: &Input<'_>) -> Result<Vec<std::net::IpAddr>, String> {
    let addrs = match input {
        Input::Toml(toml::Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().and_then(|s| s.parse().ok()))
            .collect::<Option<Vec<_>>>()
            .filter(|addrs| !addrs.is_empty()),
        _ => input.text().and_then(parse_bind_list),
    };
    addrs.ok_or_else(|| "an IP address or a list of IP addresses".to_owned())
}

fn canonical_of(key: &Key) -> Option<String> {
    match key.action {
        Action::Set {
            canonical: None, ..
        } => Some(format!("{}.{}", key.section, key.name)),
        Action::Set {
            canonical: Some(canonical),
            ..
        } => Some(canonical.to_owned()),
        Action::Ignore => None,
    }
}

fn is_canonical(key: &Key) -> bool {
    matches!(
        key.action,
        Action::Set {
            canonical: None,
            ..
        }
    )
}

fn find(section: &str, name: &str) -> Option<&'static Key> {
    KEYS.iter()
        .find(|key| key.section == section && key.name == name)
}

/// A canonical key whose name is `name`, to suggest when `name` is in the wrong place.
fn hint_for(name: &str) -> Option<String> {
    KEYS.iter()
        .find(|key| is_canonical(key) && key.name == name)
        .map(|key| format!("{}.{}", key.section, key.name))
}

/// Applies one value to `config` through the key table.
fn apply(
    config: &mut Config,
    key: &Key,
    label: &str,
    input: &Input<'_>,
) -> Result<(), ConfigError> {
    match key.action {
        Action::Set { apply, .. } => {
            apply(config, input).map_err(|expected| ConfigError::InvalidValue {
                key: label.to_owned(),
                value: input.repr(),
                expected,
            })
        }
        Action::Ignore => Ok(()),
    }
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
        if !SECTIONS.contains(&section.as_str()) {
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
            let Some(key) = find(section, name) else {
                return Err(ConfigError::UnknownKey {
                    hint: hint_for(name).filter(|hint| *hint != label),
                    key: label,
                });
            };
            let Some(canonical) = canonical_of(key) else {
                warnings.push(ConfigWarning::ignored(label));
                continue;
            };
            if let Some(other) = seen.insert(canonical, label.clone()) {
                return Err(ConfigError::ConflictingKeys { key: label, other });
            }
            apply(config, key, &label, &Input::Toml(value))?;
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
    if let (Some(password), Some(key)) = (env.get(PASSWORD_VAR), find("security", "password")) {
        apply(config, key, PASSWORD_VAR, &Input::Text(password))?;
    }
    for (variable, value) in env.range("REDISTILL_".to_owned()..) {
        if !variable.starts_with("REDISTILL_") {
            break;
        }
        if variable == CONFIG_FILE_VAR {
            continue;
        }
        let key = KEYS
            .iter()
            .find(|key| is_canonical(key) && env_var_name(key.section, key.name) == *variable);
        let Some(key) = key else {
            // `REDISTILL_PORT` for `REDISTILL_SERVER_PORT`: suggest the full name.
            let bare = variable
                .trim_start_matches("REDISTILL_")
                .to_ascii_lowercase();
            let hint = KEYS
                .iter()
                .find(|key| is_canonical(key) && key.name == bare)
                .map(|key| env_var_name(key.section, key.name));
            return Err(ConfigError::UnknownKey {
                key: variable.clone(),
                hint,
            });
        };
        apply(config, key, variable, &Input::Text(value))?;
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
    let key = key_name
        .split_once('.')
        .and_then(|(section, name)| find(section, name))
        .filter(|key| canonical_of(key).is_some());
    let Some(key) = key else {
        return Err(ConfigError::UnknownKey {
            key: label.to_owned(),
            hint: hint_for(key_name.rsplit('.').next().unwrap_or(key_name)),
        });
    };
    apply(config, key, label, &Input::Text(value))
}

/// Every canonical key as `(section, name)`, in table order.
pub(crate) fn canonical_keys() -> impl Iterator<Item = (&'static str, &'static str)> {
    KEYS.iter()
        .filter(|key| is_canonical(key))
        .map(|key| (key.section, key.name))
}
