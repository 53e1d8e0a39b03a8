//! Reading a Redis `redis.conf`, as `redistill /etc/redis/redis.conf` does.
//!
//! Lines are read as Redis 7.0 reads them: blank lines and lines starting with `#` are
//! skipped, the rest split with `sdssplitargs`'s quoting rules, the first word being the
//! parameter's name in any case. `include PATH` reads another file in place. Every
//! parameter Redistill has is applied under its Redis name or alias, with the value
//! checks of `CONFIG SET` (the `settings.rs` table); a bad value refuses the file with a
//! message naming the file, the line and the reason.
//!
//! What Redistill does not have loads with one [`ConfigWarning`] per parameter: unknown
//! parameters (`pidfile`, `tcp-backlog`, ...), and values Redis accepts that mean
//! something Redistill does not do (`daemonize yes`).
//!
//! Some parameters read differently from `CONFIG SET`, as in Redis: `save` lines add up
//! (`save ""` clears what came before), `client-output-buffer-limit` lines each set one
//! class, `dir` and `dbfilename` together give the snapshot's path, and a `bind` address
//! written `-ADDR` is optional: it is kept only if it can be bound now.

use std::path::{Path, PathBuf};

use super::params::find_parameter;
use super::setting::{Input, Kind};
use super::{Config, ConfigError, ConfigWarning};

/// How deep `include` may nest, which also stops a file including itself.
const MAX_INCLUDE_DEPTH: usize = 16;

/// What the reading so far has gathered that is applied at the end.
#[derive(Default)]
struct Pending {
    /// The save points of every `save` line since the last `save ""`; `None` without any.
    save: Option<Vec<String>>,
    dir: Option<PathBuf>,
    dbfilename: Option<String>,
    /// Parameters already warned about, so each is warned once.
    warned: Vec<String>,
}

/// Reads the `redis.conf` at `path` into `config`, adding a warning per parameter it does
/// not apply.
pub(crate) fn apply_redis_conf(
    config: &mut Config,
    path: &Path,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(), ConfigError> {
    let mut pending = Pending::default();
    read_file(config, path, 0, &mut pending, warnings)?;
    finish(config, pending, &|value, reason| {
        bad_line(path, 0, "save", value, reason)
    })
}

/// Applies Redis parameters given on the command line after the file, as redis-server
/// takes them (`--save ""`, `--appendonly no`): each as one more line of the file, with
/// its words as they came.
pub(crate) fn apply_redis_options(
    config: &mut Config,
    options: &[(String, Vec<String>)],
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(), ConfigError> {
    let mut pending = Pending::default();
    for (name, args) in options {
        let name = name.to_ascii_lowercase();
        let at = |reason: &str| bad_option(&name, &args.join(" "), reason);
        directive(config, &name, args, 0, &mut pending, warnings, &at)?;
    }
    finish(config, pending, &|value, reason| {
        bad_option("save", value, reason)
    })
}

fn bad_option(name: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::RedisOption {
        option: format!("--{name}"),
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Applies what the lines read add up to: the save points and the snapshot's path.
fn finish(
    config: &mut Config,
    pending: Pending,
    refused: &dyn Fn(&str, &str) -> ConfigError,
) -> Result<(), ConfigError> {
    if let Some(points) = pending.save {
        let value = points.join(" ");
        let param = find_parameter("save").ok_or_else(|| missing("save"))?;
        param
            .setting()
            .kind
            .apply_redis(config, &value)
            .map_err(|reason| refused(&value, &reason))?;
    }
    if pending.dir.is_some() || pending.dbfilename.is_some() {
        let current = &config.persistence.snapshot_path;
        let name = pending.dbfilename.map_or_else(
            || {
                current
                    .file_name()
                    .map_or_else(|| PathBuf::from("dump.rdb"), PathBuf::from)
            },
            PathBuf::from,
        );
        let dir = pending.dir.unwrap_or_else(|| {
            current
                .parent()
                .map_or_else(PathBuf::new, Path::to_path_buf)
        });
        config.persistence.snapshot_path = dir.join(name);
    }
    Ok(())
}

fn missing(name: &str) -> ConfigError {
    ConfigError::Inconsistent {
        key: name.to_owned(),
        reason: "the parameter table lacks it".to_owned(),
    }
}

fn bad_line(path: &Path, line: usize, name: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::RedisConf {
        path: path.to_path_buf(),
        line,
        directive: format!("{name} {value}"),
        reason: reason.to_owned(),
    }
}

fn read_file(
    config: &mut Config,
    path: &Path,
    depth: usize,
    pending: &mut Pending,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words =
            redistill_resp::split_args(line.as_bytes()).map_err(|_| ConfigError::RedisConf {
                path: path.to_path_buf(),
                line: number,
                directive: line.to_owned(),
                reason: "Unbalanced quotes in configuration line".to_owned(),
            })?;
        let words: Vec<String> = words
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        let Some((name, args)) = words.split_first() else {
            continue;
        };
        let name = name.to_ascii_lowercase();
        let at = |reason: &str| bad_line(path, number, &name, &args.join(" "), reason);
        directive(config, &name, args, depth, pending, warnings, &at)?;
    }
    Ok(())
}

/// Applies one directive, `name` lowercased, `args` its words; `at` makes the error for
/// a refused value.
fn directive(
    config: &mut Config,
    name: &str,
    args: &[String],
    depth: usize,
    pending: &mut Pending,
    warnings: &mut Vec<ConfigWarning>,
    at: &dyn Fn(&str) -> ConfigError,
) -> Result<(), ConfigError> {
    match name {
        "include" => {
            let [file] = args else {
                return Err(at("wrong number of arguments"));
            };
            if depth + 1 >= MAX_INCLUDE_DEPTH {
                return Err(at("includes nest too deep (does a file include itself?)"));
            }
            read_file(config, Path::new(file), depth + 1, pending, warnings)?;
        }
        "save" => {
            // `save 900 1` or, as CONFIG SET takes it, `save "900 1 300 10"`.
            let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            if words.is_empty() && args.len() == 1 {
                pending.save = Some(Vec::new());
            } else if words.is_empty() || !words.len().is_multiple_of(2) {
                return Err(at("Invalid save parameters"));
            } else {
                let points = pending.save.get_or_insert_with(Vec::new);
                points.extend(words.iter().map(|w| (*w).to_owned()));
            }
        }
        "dir" => {
            let [dir] = args else {
                return Err(at("wrong number of arguments"));
            };
            pending.dir = Some(PathBuf::from(dir));
        }
        "dbfilename" => {
            let [file] = args else {
                return Err(at("wrong number of arguments"));
            };
            if file.is_empty() || file.contains('/') {
                return Err(at("dbfilename can't be a path, just a filename"));
            }
            pending.dbfilename = Some(file.clone());
        }
        "bind" => {
            let value = required_bind_addresses(args, name, pending, warnings);
            apply_known(config, name, &value, pending, warnings).map_err(|r| at(&r))?;
        }
        _ => {
            let value = args.join(" ");
            apply_known(config, name, &value, pending, warnings).map_err(|r| at(&r))?;
        }
    }
    Ok(())
}

/// The `bind` addresses to use: every required one, and each optional one (`-ADDR`) that
/// can be bound now, as Redis skips those that are unavailable.
fn required_bind_addresses(
    args: &[String],
    name: &str,
    pending: &mut Pending,
    warnings: &mut Vec<ConfigWarning>,
) -> String {
    let mut kept = Vec::new();
    for word in args {
        match word.strip_prefix('-') {
            None => kept.push(word.as_str()),
            Some(addr) => {
                let available = addr
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| std::net::TcpListener::bind((ip, 0)).is_ok());
                if available {
                    kept.push(addr);
                } else {
                    warn_once(
                        pending,
                        warnings,
                        name,
                        format!("{word}: the optional address is not available here; skipped"),
                    );
                }
            }
        }
    }
    kept.join(" ")
}

fn warn_once(
    pending: &mut Pending,
    warnings: &mut Vec<ConfigWarning>,
    name: &str,
    message: String,
) {
    if !pending.warned.iter().any(|w| w == name) {
        pending.warned.push(name.to_owned());
        warnings.push(ConfigWarning::redis_conf(name.to_owned(), message));
    }
}

/// Why a parameter Redistill lacks is ignored, spelled out where ignoring it changes
/// what clients may do or where data goes.
fn lacking(name: &str) -> &'static str {
    match name {
        "rename-command" => {
            "Redistill has no such parameter; ignored: commands keep their names, and a \
             command this line renames or disables is still available"
        }
        "user" | "aclfile" => {
            "Redistill has no ACL users; ignored: only requirepass (the default user's \
             password) applies"
        }
        "replicaof" | "slaveof" => "Redistill does not replicate; ignored",
        "appendfsync" | "appendfilename" | "appenddirname" => {
            "Redistill has no append-only file; ignored (snapshots only)"
        }
        "logfile" => "Redistill has no such parameter; ignored: logs go to standard error",
        "unixsocket" | "unixsocketperm" => {
            "Redistill has no such parameter; ignored: clients connect over TCP only"
        }
        _ => "Redistill has no such parameter; ignored",
    }
}

/// Applies a parameter Redistill has; warns for one it does not have, or for a value it
/// accepts but keeps fixed. On a refused value, the reason.
fn apply_known(
    config: &mut Config,
    name: &str,
    value: &str,
    pending: &mut Pending,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(), String> {
    let Some(param) = find_parameter(name) else {
        warn_once(pending, warnings, name, lacking(name).to_owned());
        return Ok(());
    };
    match &param.setting().kind {
        Kind::Constant(fixed) => {
            if !value.eq_ignore_ascii_case(fixed) {
                warn_once(
                    pending,
                    warnings,
                    name,
                    format!("{value:?} is not supported; Redistill always runs with {fixed:?}"),
                );
            }
            Ok(())
        }
        Kind::Derived(_) => {
            warn_once(
                pending,
                warnings,
                name,
                "derived from other settings here; ignored".to_owned(),
            );
            Ok(())
        }
        // Fixed for CONFIG SET but read at start, as from the environment (`bind`).
        Kind::Custom(custom) if custom.redis.is_none() => {
            param.setting().apply(config, &Input::Text(value))
        }
        kind => kind.apply_redis(config, value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn conf(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        let mut f = std::fs::File::create(&path).expect("creates");
        f.write_all(text.as_bytes()).expect("writes");
        path
    }

    fn load(path: &Path) -> Result<(Config, Vec<ConfigWarning>), ConfigError> {
        let mut config = Config::default();
        let mut warnings = Vec::new();
        apply_redis_conf(&mut config, path, &mut warnings)?;
        Ok((config, warnings))
    }

    #[test]
    fn known_parameters_apply_and_unknown_ones_warn_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = conf(
            dir.path(),
            "redis.conf",
            "# comment\n\nPORT 7001\nmaxmemory 2gb\nmaxmemory-policy allkeys-lru\n\
             hash-max-ziplist-entries 64\ntcp-backlog 511\ntcp-backlog 100\n\
             appendfsync always\npidfile /run/y.pid\nrequirepass \"a b\"\n",
        );
        let (config, warnings) = load(&path).expect("loads");
        assert_eq!(config.server.port, 7001);
        assert_eq!(config.memory.max_memory, 2 << 30);
        assert_eq!(config.security.password.as_deref(), Some("a b"));
        assert_eq!(
            config.get_parameter("hash-max-listpack-entries").as_deref(),
            Some("64")
        );
        let keys: Vec<&str> = warnings.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, ["tcp-backlog", "appendfsync"]);
        assert_eq!(
            config.server.pidfile.as_deref(),
            Some(Path::new("/run/y.pid"))
        );
    }

    #[test]
    fn ignoring_rename_command_says_the_command_stays() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = conf(dir.path(), "redis.conf", "rename-command FLUSHALL \"\"\n");
        let (_, warnings) = load(&path).expect("loads");
        let text = warnings[0].to_string();
        assert!(
            text.starts_with("redis.conf parameter rename-command:"),
            "{text}"
        );
        assert!(text.contains("still available"), "{text}");
    }

    #[test]
    fn a_bad_value_names_the_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = conf(dir.path(), "redis.conf", "port 1\n\nport abc\n");
        let err = load(&path).expect_err("refused").to_string();
        assert!(err.contains("redis.conf, line 3"), "{err}");
        assert!(err.contains("port abc"), "{err}");
        assert!(
            err.contains("argument couldn't be parsed into an integer"),
            "{err}"
        );
    }

    #[test]
    fn save_lines_add_up_and_dir_joins_dbfilename() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = conf(
            dir.path(),
            "redis.conf",
            &format!(
                "save 60 1\nsave \"\"\nsave 900 1\nsave 300 10\ndbfilename snap.rdb\ndir {}\n",
                dir.path().display()
            ),
        );
        let (config, _) = load(&path).expect("loads");
        assert_eq!(
            config.get_parameter("save").as_deref(),
            Some("900 1 300 10")
        );
        assert_eq!(
            config.persistence.snapshot_path,
            dir.path().join("snap.rdb")
        );
    }

    #[test]
    fn includes_read_in_place_and_cannot_loop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inner = conf(dir.path(), "inner.conf", "port 7002\nmaxclients 50\n");
        let outer = conf(
            dir.path(),
            "outer.conf",
            &format!("port 7001\ninclude {}\nmaxclients 60\n", inner.display()),
        );
        let (config, _) = load(&outer).expect("loads");
        assert_eq!(config.server.port, 7002);
        assert_eq!(config.server.max_connections, 60);

        let looping = dir.path().join("loop.conf");
        conf(
            dir.path(),
            "loop.conf",
            &format!("include {}\n", looping.display()),
        );
        let err = load(&looping).expect_err("refused").to_string();
        assert!(err.contains("nest too deep"), "{err}");
    }
}
