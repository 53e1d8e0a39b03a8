//! `CONFIG GET` / `CONFIG SET`: the configuration seen through Redis's parameter names.
//!
//! Values are formatted and parsed exactly as Redis 7.0 does (`maxmemory` in bytes,
//! booleans as `yes`/`no`, `CONFIG SET maxmemory 2gb`), and refused with Redis's texts.
//! Where a parameter has no equivalent here it is either absent or fixed: `appendonly` is
//! always `no`; `save` is the schedule of periodic snapshots.

use std::path::Path;

use super::values::{
    LogLevel, eviction_policy_names, format_bind_list, parse_redis_integer, parse_yes_no,
};
use super::{Config, ConfigError, HZ_MAX, HZ_MIN, SavePoint, parse_memory_size};

type Getter = fn(&Config) -> String;
type Setter = fn(&mut Config, &str) -> Result<(), String>;

/// One `CONFIG` parameter: its Redis name, how to read it, and whether it can change while
/// the server runs.
pub struct Parameter {
    name: &'static str,
    get: Getter,
    set: Option<Setter>,
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
        self.set.is_some()
    }

    /// The value as `CONFIG GET` prints it.
    #[must_use]
    pub fn get(&self, config: &Config) -> String {
        (self.get)(config)
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

const fn fixed(name: &'static str, get: Getter) -> Parameter {
    Parameter {
        name,
        get,
        set: None,
    }
}

const fn mutable(name: &'static str, get: Getter, set: Setter) -> Parameter {
    Parameter {
        name,
        get,
        set: Some(set),
    }
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

fn path_text(path: Option<&Path>) -> String {
    path.map(|p| p.display().to_string()).unwrap_or_default()
}

/// The directory the snapshot is written in, absolute, as Redis reports its `dir`.
fn snapshot_dir(path: &Path) -> String {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::path::absolute(dir).map_or_else(|_| path_text(Some(dir)), |d| path_text(Some(&d)))
}

/// Redis's `argument must be between ...` check for plain integers.
fn integer(value: &str, min: i64, max: i64) -> Result<i64, String> {
    let n = parse_redis_integer(value)
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_owned())?;
    in_range(n, min, max)
}

fn in_range<T: PartialOrd + std::fmt::Display>(n: T, min: T, max: T) -> Result<T, String> {
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

fn int_as<T: TryFrom<i64>>(value: &str, min: i64, max: i64) -> Result<T, String> {
    let n = integer(value, min, max)?;
    T::try_from(n).map_err(|_| format!("argument must be between {min} and {max} inclusive"))
}

fn memory(value: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = parse_memory_size(value).ok_or_else(|| "argument must be a memory value".to_owned())?;
    in_range(n, min, max)
}

fn boolean(value: &str) -> Result<bool, String> {
    parse_yes_no(value).ok_or_else(|| "argument must be 'yes' or 'no'".to_owned())
}

fn one_of(names: &str) -> String {
    format!("argument(s) must be one of the following: {names}")
}

const INT_MAX: i64 = i32::MAX as i64;
const LONG_MAX: u64 = i64::MAX as u64;

/// Sorted by name, as a client listing `CONFIG GET *` would expect to scan them.
static PARAMETERS: &[Parameter] = &[
    mutable(
        "active-expire-effort",
        |c| c.memory.active_expire_effort.to_string(),
        |c, v| {
            c.memory.active_expire_effort = int_as(v, 1, 10)?;
            Ok(())
        },
    ),
    mutable(
        "appendonly",
        |_| "no".to_owned(),
        |_, v| match boolean(v)? {
            false => Ok(()),
            true => Err("append-only files are not supported; use snapshots (save)".to_owned()),
        },
    ),
    fixed("bind", |c| format_bind_list(&c.server.bind)),
    mutable(
        "client-output-buffer-limit",
        |c| c.server.client_output_buffer_limit.to_redis_string(),
        |c, v| {
            c.server
                .client_output_buffer_limit
                .apply_redis_str(v)
                .map_err(str::to_owned)
        },
    ),
    mutable(
        "client-query-buffer-limit",
        |c| c.server.client_query_buffer_limit.to_string(),
        |c, v| {
            c.server.client_query_buffer_limit = memory(v, 1 << 20, LONG_MAX)?;
            Ok(())
        },
    ),
    // No cluster mode.
    fixed("cluster-enabled", |_| "no".to_owned()),
    // The server runs in the foreground; supervisors keep it running.
    fixed("daemonize", |_| "no".to_owned()),
    fixed("databases", |c| c.server.databases.to_string()),
    fixed("dbfilename", |c| {
        path_text(Some(&c.persistence.snapshot_path))
    }),
    fixed("dir", |c| snapshot_dir(&c.persistence.snapshot_path)),
    mutable(
        "hz",
        |c| c.server.hz.to_string(),
        |c, v| {
            // Redis takes any non-negative int and keeps it within its bounds.
            c.server.hz = int_as::<u32>(v, 0, INT_MAX)?.clamp(HZ_MIN, HZ_MAX);
            Ok(())
        },
    ),
    // Redis's I/O threads; the workers here each do their own I/O.
    fixed("io-threads", |_| "1".to_owned()),
    // There is no latency monitor (see LATENCY).
    fixed("latency-monitor-threshold", |_| "0".to_owned()),
    mutable(
        "lfu-decay-time",
        |c| c.memory.lfu_decay_time.to_string(),
        |c, v| {
            c.memory.lfu_decay_time = int_as(v, 0, INT_MAX)?;
            Ok(())
        },
    ),
    mutable(
        "lfu-log-factor",
        |c| c.memory.lfu_log_factor.to_string(),
        |c, v| {
            c.memory.lfu_log_factor = int_as(v, 0, INT_MAX)?;
            Ok(())
        },
    ),
    mutable(
        "loglevel",
        |c| c.server.log_level.to_string(),
        |c, v| {
            c.server.log_level =
                LogLevel::from_name(v).ok_or_else(|| one_of(&LogLevel::names()))?;
            Ok(())
        },
    ),
    mutable(
        "maxclients",
        |c| c.server.max_connections.to_string(),
        |c, v| {
            c.server.max_connections = int_as(v, 1, i64::from(u32::MAX))?;
            Ok(())
        },
    ),
    mutable(
        "maxmemory",
        |c| c.memory.max_memory.to_string(),
        |c, v| {
            c.memory.max_memory = memory(v, 0, u64::MAX)?;
            Ok(())
        },
    ),
    // Clients are never evicted.
    fixed("maxmemory-clients", |_| "0".to_owned()),
    mutable(
        "maxmemory-policy",
        |c| c.memory.eviction_policy.to_string(),
        |c, v| {
            c.memory.eviction_policy = v.parse().map_err(|_| one_of(&eviction_policy_names()))?;
            Ok(())
        },
    ),
    mutable(
        "maxmemory-samples",
        |c| c.memory.maxmemory_samples.to_string(),
        |c, v| {
            c.memory.maxmemory_samples = int_as(v, 1, INT_MAX)?;
            Ok(())
        },
    ),
    // No keyspace notifications: there is no pub/sub.
    fixed("notify-keyspace-events", |_| String::new()),
    fixed("port", |c| c.server.port.to_string()),
    mutable(
        "protected-mode",
        |c| yes_no(c.server.protected_mode),
        |c, v| {
            c.server.protected_mode = boolean(v)?;
            Ok(())
        },
    ),
    mutable(
        "proto-max-bulk-len",
        |c| c.server.proto_max_bulk_len.to_string(),
        |c, v| {
            c.server.proto_max_bulk_len = memory(v, 1 << 20, LONG_MAX)?;
            Ok(())
        },
    ),
    mutable(
        "rdb-key-save-delay",
        |c| c.persistence.key_save_delay_us.to_string(),
        |c, v| {
            c.persistence.key_save_delay_us = int_as(v, 0, INT_MAX)?;
            Ok(())
        },
    ),
    mutable(
        "requirepass",
        |c| c.security.password.clone().unwrap_or_default(),
        |c, v| {
            c.security.password = (!v.is_empty()).then(|| v.to_owned());
            Ok(())
        },
    ),
    mutable("save", get_save, set_save),
    mutable(
        "slowlog-log-slower-than",
        |c| c.server.slowlog_log_slower_than.to_string(),
        |c, v| {
            c.server.slowlog_log_slower_than = int_as(v, i64::MIN, i64::MAX)?;
            Ok(())
        },
    ),
    mutable(
        "slowlog-max-len",
        |c| c.server.slowlog_max_len.to_string(),
        |c, v| {
            c.server.slowlog_max_len = int_as(v, 0, i64::MAX)?;
            Ok(())
        },
    ),
    mutable(
        "tcp-keepalive",
        |c| c.server.tcp_keepalive.to_string(),
        |c, v| {
            c.server.tcp_keepalive = int_as(v, 0, INT_MAX)?;
            Ok(())
        },
    ),
    mutable(
        "timeout",
        |c| c.server.timeout.to_string(),
        |c, v| {
            c.server.timeout = int_as(v, 0, INT_MAX)?;
            Ok(())
        },
    ),
    fixed("tls-auth-clients", |c| yes_no(c.security.tls_auth_clients)),
    fixed("tls-ca-cert-file", |c| {
        path_text(c.security.tls_ca_cert_path.as_deref())
    }),
    fixed("tls-cert-file", |c| {
        path_text(c.security.tls_cert_path.as_deref())
    }),
    fixed("tls-key-file", |c| {
        path_text(c.security.tls_key_path.as_deref())
    }),
    fixed("tls-port", |c| {
        if c.security.tls_enabled {
            c.security.tls_port.to_string()
        } else {
            "0".to_owned()
        }
    }),
];

/// The save points of periodic snapshots in Redis's form; `""` when persistence is off.
fn get_save(c: &Config) -> String {
    if c.persistence.enabled {
        SavePoint::render_list(&c.persistence.save_points())
    } else {
        String::new()
    }
}

/// Sets Redis's save points and turns persistence on, as `save` turns RDB on in Redis; `""`
/// stops periodic snapshots (SAVE, BGSAVE and shutdown still save). Words are separated by
/// single spaces, as Redis splits them.
fn set_save(c: &mut Config, v: &str) -> Result<(), String> {
    const INVALID: &str = "Invalid save parameters";
    if !v.is_empty() && v.split(' ').any(str::is_empty) {
        return Err(INVALID.to_owned());
    }
    let points = SavePoint::parse_list(v).ok_or_else(|| INVALID.to_owned())?;
    match (points.is_empty(), c.persistence.enabled) {
        // No schedule runs with persistence off, and `""` is what CONFIG GET shows then:
        // setting it back changes nothing.
        (true, false) => {}
        (true, true) => c.persistence.save = Some(points),
        (false, _) => {
            c.persistence.enabled = true;
            c.persistence.save = Some(points);
        }
    }
    Ok(())
}

/// Every parameter that `CONFIG GET` knows, sorted by name.
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

fn find(name: &str) -> Option<&'static Parameter> {
    PARAMETERS
        .iter()
        .find(|param| param.name.eq_ignore_ascii_case(name))
}

impl Config {
    /// Every `(name, value)` pair that `CONFIG GET` can return; pattern matching is the
    /// caller's.
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

    /// One parameter's value, by name in any case; `None` if there is no such parameter.
    #[must_use]
    pub fn get_parameter(&self, name: &str) -> Option<String> {
        find(name).map(|param| param.get(self))
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

    /// `CONFIG SET name value [name value ...]`, all or nothing as in Redis 7.0: names are
    /// checked first (unknown, fixed, repeated), then values; on any error nothing changes.
    ///
    /// # Errors
    ///
    /// The error Redis would give for the same arguments.
    pub fn set_parameters(&mut self, pairs: &[(&str, &str)]) -> Result<(), ConfigError> {
        let mut setters: Vec<(&'static Parameter, Setter, &str)> = Vec::with_capacity(pairs.len());
        let mut name_error = None;
        for (index, (name, value)) in pairs.iter().enumerate() {
            let Some(param) = find(name) else {
                return Err(ConfigError::UnknownParameter {
                    name: (*name).to_owned(),
                });
            };
            let repeated = pairs
                .iter()
                .take(index)
                .any(|(earlier, _)| earlier.eq_ignore_ascii_case(param.name));
            // Redis keeps checking names after a refusal (an unknown name later on still
            // wins) and reports the last refusal, with the name as the client sent it.
            let reason = match param.set {
                None => Some("can't set immutable config"),
                Some(_) if repeated => Some("duplicate parameter"),
                Some(set) => {
                    setters.push((param, set, value));
                    None
                }
            };
            if let Some(reason) = reason {
                name_error = Some(ConfigError::InvalidParameter {
                    name: (*name).to_owned(),
                    reason: reason.to_owned(),
                });
            }
        }
        if let Some(error) = name_error {
            return Err(error);
        }
        let mut updated = self.clone();
        for (param, set, value) in setters {
            set(&mut updated, value).map_err(|reason| ConfigError::InvalidParameter {
                name: param.name.to_owned(),
                reason,
            })?;
        }
        *self = updated;
        Ok(())
    }
}
