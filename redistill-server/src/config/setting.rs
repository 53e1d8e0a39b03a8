//! What one configuration setting is: where the file keeps it, its Redis name, its type and
//! range, its default, and how `CONFIG SET` and `CONFIG REWRITE` treat it.
//!
//! A [`Setting`] is plain data; its [`Kind`] carries the range and the typed accessors of
//! the [`Config`] field, and parses each form a value comes in: TOML from the file, text
//! from the environment and flags, and Redis's text from `CONFIG SET`.

use super::Config;
use super::memory::parse_memory_size;
use super::values::{parse_redis_integer, parse_yes_no};

/// A value as given: typed TOML from the file, or text from the environment or a flag.
pub(crate) enum Input<'a> {
    Toml(&'a toml::Value),
    Text(&'a str),
}

impl Input<'_> {
    /// The value if it is text: a TOML string, or any environment or flag value.
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Self::Toml(toml::Value::String(text)) => Some(text),
            Self::Text(text) => Some(text),
            Self::Toml(_) => None,
        }
    }

    /// The value as the operator wrote it, for error messages.
    pub(crate) fn repr(&self) -> String {
        match self {
            Self::Toml(value) => value.to_string(),
            Self::Text(text) => format!("{text:?}"),
        }
    }
}

/// Sets a field from a file, environment or flag value; on failure, says what would have
/// been accepted ("a memory size").
pub(crate) type FileSet = fn(&mut Config, &Input<'_>) -> Result<(), String>;
/// Sets a field from `CONFIG SET`'s text; on failure, Redis's reason.
pub(crate) type RedisSet = fn(&mut Config, &str) -> Result<(), String>;

/// One setting. See `settings.rs` for the table.
pub(crate) struct Setting {
    /// `[section] key` in the file; `None` for a setting only `CONFIG` knows.
    pub(crate) file: Option<(&'static str, &'static str)>,
    /// Keys of earlier Redistill files that set it too, each with its own parser when it
    /// reads values differently.
    pub(crate) legacy: &'static [Legacy],
    /// The `section.key` of another setting that this one is another form of (`save` and
    /// `snapshot_interval`): a file may give only one of them, and the environment only the
    /// other.
    pub(crate) same_option_as: Option<&'static str>,
    /// The `CONFIG` name, lowercase; `None` for a setting only the file knows.
    pub(crate) redis: Option<&'static str>,
    /// Other `CONFIG` names Redis accepts for it (`hash-max-ziplist-entries`).
    pub(crate) redis_aliases: &'static [&'static str],
    /// Type, range and field.
    pub(crate) kind: Kind,
    /// The default, as an environment variable would give it; `None` when the field's
    /// default is "not set" or there is no field.
    pub(crate) default: Option<&'static str>,
    /// Whether `CONFIG SET` may change it.
    pub(crate) mutable: bool,
    /// When `CONFIG REWRITE` writes it to the file.
    pub(crate) rewrite: Rewrite,
}

/// When `CONFIG REWRITE` writes a setting.
#[derive(Clone, Copy)]
pub(crate) enum Rewrite {
    Never,
    Always,
    /// Only while this holds; otherwise another setting stands for it.
    When(fn(&Config) -> bool),
}

/// A key of an earlier Redistill file.
pub(crate) struct Legacy {
    pub(crate) section: &'static str,
    pub(crate) key: &'static str,
    /// How it reads values, when not as the setting does.
    pub(crate) parse: Option<FileSet>,
}

/// A setting's type and range, with the accessors of its [`Config`] field.
pub(crate) enum Kind {
    /// An integer in `min..=max`. `redis` is the range `CONFIG SET` takes when Redis's
    /// differs; the value is then kept within `min..=max`, as Redis does for `hz`.
    Int {
        min: i64,
        max: i64,
        redis: Option<(i64, i64)>,
        get: fn(&Config) -> i64,
        set: fn(&mut Config, i64),
    },
    /// A byte count with Redis's units (`512mb`), in `min..=max`.
    Memory {
        min: u64,
        max: u64,
        get: fn(&Config) -> u64,
        set: fn(&mut Config, u64),
    },
    /// `true`/`false` in the file, `yes`/`no` for `CONFIG`.
    Bool {
        get: fn(&Config) -> bool,
        set: fn(&mut Config, bool),
    },
    /// Free text; `what` names it in errors. An empty value is refused unless `empty_ok`.
    Text {
        what: &'static str,
        empty_ok: bool,
        get: fn(&Config) -> String,
        set: fn(&mut Config, &str),
    },
    /// One of a list of names, any case; `what` names it in errors (`a log level`).
    Choice {
        what: &'static str,
        names: fn() -> String,
        get: fn(&Config) -> &'static str,
        set: fn(&mut Config, &str) -> bool,
    },
    /// A value with its own syntax.
    Custom(&'static Custom),
    /// A `CONFIG` parameter with one value here, whatever Redis would allow.
    Constant(&'static str),
    /// A `CONFIG` parameter read from other settings.
    Derived(fn(&Config) -> String),
}

/// The parts of a [`Kind::Custom`] setting; `None` where it has no such form.
pub(crate) struct Custom {
    pub(crate) file: Option<FileSet>,
    pub(crate) redis: Option<RedisSet>,
    /// The value as `CONFIG GET` prints it.
    pub(crate) get: fn(&Config) -> String,
    /// The value as `CONFIG REWRITE` writes it; `None` to leave it out.
    pub(crate) toml: fn(&Config) -> Option<toml_edit::Value>,
}

/// Redis's text for an integer `CONFIG SET` cannot parse.
const NOT_AN_INTEGER: &str = "argument couldn't be parsed into an integer";

fn out_of_range(min: impl std::fmt::Display, max: impl std::fmt::Display) -> String {
    format!("argument must be between {min} and {max} inclusive")
}

/// Redis's text for a name outside a list.
pub(crate) fn one_of(names: &str) -> String {
    format!("argument(s) must be one of the following: {names}")
}

/// A byte count as TOML writes it: an integer, or a string past `i64::MAX`.
pub(crate) fn toml_bytes(n: u64) -> toml_edit::Value {
    i64::try_from(n).map_or_else(|_| n.to_string().into(), toml_edit::Value::from)
}

impl Setting {
    /// `section.key`, or `None` for a setting only `CONFIG` knows.
    pub(crate) fn file_name(&self) -> Option<String> {
        self.file.map(|(section, key)| format!("{section}.{key}"))
    }

    /// Sets the field from a file, environment or flag value.
    pub(crate) fn apply(&self, config: &mut Config, input: &Input<'_>) -> Result<(), String> {
        self.kind.apply(config, input)
    }
}

impl Kind {
    /// Sets the field from a file, environment or flag value; on failure, what would have
    /// been accepted.
    pub(crate) fn apply(&self, config: &mut Config, input: &Input<'_>) -> Result<(), String> {
        match self {
            Self::Int { min, max, set, .. } => {
                let value = match input {
                    Input::Toml(toml::Value::Integer(n)) => Some(*n),
                    Input::Toml(_) => None,
                    Input::Text(text) => text.parse::<i64>().ok(),
                };
                let n = value
                    .filter(|n| (min..=max).contains(&n))
                    .ok_or_else(|| format!("an integer between {min} and {max}"))?;
                set(config, n);
            }
            Self::Memory { min, max, set, .. } => {
                let value = match input {
                    Input::Toml(toml::Value::Integer(n)) => u64::try_from(*n).ok(),
                    _ => input.text().and_then(parse_memory_size),
                };
                let n = value.filter(|n| (min..=max).contains(&n)).ok_or_else(|| {
                    if *min == 0 && *max == u64::MAX {
                        "a memory size".to_owned()
                    } else {
                        format!("a memory size between {min} and {max} bytes")
                    }
                })?;
                set(config, n);
            }
            Self::Bool { set, .. } => {
                let value = match input {
                    Input::Toml(toml::Value::Boolean(b)) => Some(*b),
                    Input::Toml(_) => None,
                    Input::Text(text) => match text.to_ascii_lowercase().as_str() {
                        "true" | "yes" | "1" => Some(true),
                        "false" | "no" | "0" => Some(false),
                        _ => None,
                    },
                };
                set(
                    config,
                    value.ok_or_else(|| "a boolean (true or false)".to_owned())?,
                );
            }
            Self::Text {
                what,
                empty_ok,
                set,
                ..
            } => {
                let text = input
                    .text()
                    .filter(|text| *empty_ok || !text.is_empty())
                    .ok_or_else(|| (*what).to_owned())?;
                set(config, text);
            }
            Self::Choice {
                what, names, set, ..
            } => {
                let known = input.text().is_some_and(|text| set(config, text));
                if !known {
                    return Err(format!("{what} ({})", names()));
                }
            }
            Self::Custom(custom) => match custom.file {
                Some(file) => file(config, input)?,
                None => return Err("no value: this setting is not read from files".to_owned()),
            },
            Self::Constant(_) | Self::Derived(_) => {
                return Err("no value: this setting is not read from files".to_owned());
            }
        }
        Ok(())
    }

    /// Sets the field from `CONFIG SET`'s text; on failure, Redis's reason.
    pub(crate) fn apply_redis(&self, config: &mut Config, value: &str) -> Result<(), String> {
        match self {
            Self::Int {
                min,
                max,
                redis,
                set,
                ..
            } => {
                let n = parse_redis_integer(value).ok_or_else(|| NOT_AN_INTEGER.to_owned())?;
                let (low, high) = redis.unwrap_or((*min, *max));
                if !(low..=high).contains(&n) {
                    return Err(out_of_range(low, high));
                }
                set(config, n.clamp(*min, *max));
            }
            Self::Memory { min, max, set, .. } => {
                let n = parse_memory_size(value)
                    .ok_or_else(|| "argument must be a memory value".to_owned())?;
                if !(min..=max).contains(&&n) {
                    return Err(out_of_range(min, max));
                }
                set(config, n);
            }
            Self::Bool { set, .. } => set(
                config,
                parse_yes_no(value).ok_or_else(|| "argument must be 'yes' or 'no'".to_owned())?,
            ),
            Self::Text { set, .. } => set(config, value),
            Self::Choice { names, set, .. } => {
                if !set(config, value) {
                    return Err(one_of(&names()));
                }
            }
            Self::Custom(Custom {
                redis: Some(redis), ..
            }) => redis(config, value)?,
            Self::Custom(_) | Self::Constant(_) | Self::Derived(_) => {
                return Err("can't set immutable config".to_owned());
            }
        }
        Ok(())
    }

    /// The value as `CONFIG GET` prints it.
    pub(crate) fn get(&self, config: &Config) -> String {
        match self {
            Self::Int { get, .. } => get(config).to_string(),
            Self::Memory { get, .. } => get(config).to_string(),
            Self::Bool { get, .. } => if get(config) { "yes" } else { "no" }.to_owned(),
            Self::Text { get, .. } => get(config),
            Self::Choice { get, .. } => get(config).to_owned(),
            Self::Custom(custom) => (custom.get)(config),
            Self::Constant(value) => (*value).to_owned(),
            Self::Derived(get) => get(config),
        }
    }

    /// The value as `CONFIG REWRITE` writes it in the file; `None` to leave it out.
    pub(crate) fn toml(&self, config: &Config) -> Option<toml_edit::Value> {
        Some(match self {
            Self::Int { get, .. } => get(config).into(),
            Self::Memory { get, .. } => toml_bytes(get(config)),
            Self::Bool { get, .. } => get(config).into(),
            Self::Text { get, .. } => get(config).into(),
            Self::Choice { get, .. } => get(config).into(),
            Self::Custom(custom) => return (custom.toml)(config),
            Self::Constant(_) | Self::Derived(_) => return None,
        })
    }
}
