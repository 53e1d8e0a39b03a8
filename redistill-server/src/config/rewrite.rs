//! `CONFIG REWRITE`: writes the settings `CONFIG SET` can change back into the TOML file
//! the server started from.
//!
//! As Redis does with `redis.conf`, the file is edited rather than regenerated: comments,
//! order and every other key stay as they are; a key already in the file gets its current
//! value on its own line, and one that is not is added under its section only when its
//! value is not the default. The new file replaces the old one by rename, so a crash
//! leaves one or the other.

use std::path::Path;

use super::Config;

/// One `(section, key, TOML value)` per key that `CONFIG SET` can change.
fn settings(c: &Config) -> Vec<(&'static str, &'static str, toml::Value)> {
    use toml::Value;
    let int =
        |n: u64| i64::try_from(n).map_or_else(|_| Value::String(n.to_string()), Value::Integer);
    let text = |s: &str| Value::String(s.to_owned());
    let s = &c.server;
    let m = &c.memory;
    let p = &c.persistence;
    let mut out = vec![
        (
            "server",
            "max_connections",
            int(u64::from(s.max_connections)),
        ),
        ("server", "timeout", int(u64::from(s.timeout))),
        ("server", "tcp_keepalive", int(u64::from(s.tcp_keepalive))),
        ("server", "hz", int(u64::from(s.hz))),
        (
            "server",
            "client_output_buffer_limit",
            text(&s.client_output_buffer_limit.to_redis_string()),
        ),
        (
            "server",
            "client_query_buffer_limit",
            int(s.client_query_buffer_limit),
        ),
        ("server", "proto_max_bulk_len", int(s.proto_max_bulk_len)),
        ("server", "log_level", text(s.log_level.as_str())),
        ("server", "protected_mode", Value::Boolean(s.protected_mode)),
        (
            "server",
            "slowlog_log_slower_than",
            Value::Integer(s.slowlog_log_slower_than),
        ),
        ("server", "slowlog_max_len", int(s.slowlog_max_len)),
        ("memory", "max_memory", int(m.max_memory)),
        ("memory", "eviction_policy", text(m.eviction_policy.name())),
        (
            "memory",
            "maxmemory_samples",
            int(u64::from(m.maxmemory_samples)),
        ),
        ("memory", "lfu_log_factor", int(u64::from(m.lfu_log_factor))),
        ("memory", "lfu_decay_time", int(u64::from(m.lfu_decay_time))),
        (
            "memory",
            "active_expire_effort",
            int(u64::from(m.active_expire_effort)),
        ),
        ("persistence", "enabled", Value::Boolean(p.enabled)),
        ("persistence", "snapshot_interval", int(p.snapshot_interval)),
    ];
    if let Some(password) = &c.security.password {
        out.push(("security", "password", text(password)));
    }
    out
}

/// A key as (section, name).
type Key = (&'static str, &'static str);

/// Older names of keys (see `keys.rs`): a rewrite comments them out and writes the key
/// under its name, so that the file never sets both.
const ALIASES: &[(Key, Key)] = &[
    (("server", "timeout"), ("server", "connection_timeout")),
    (
        ("server", "tcp_keepalive"),
        ("performance", "tcp_keepalive"),
    ),
    (
        ("memory", "maxmemory_samples"),
        ("memory", "eviction_sample_size"),
    ),
    (("server", "log_level"), ("logging", "level")),
];

/// The file's text with `config`'s changeable settings written in.
#[must_use]
pub fn rewritten(text: &str, config: &Config) -> String {
    let defaults = settings(&Config::default());
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for (section, key, value) in settings(config) {
        let line = format!("{key} = {value}");
        if let Some(at) = find_key(&lines, section, key) {
            lines[at] = line;
            continue;
        }
        let mut had_alias = false;
        for (_, (alias_section, alias)) in ALIASES.iter().filter(|(k, _)| *k == (section, key)) {
            if let Some(at) = find_key(&lines, alias_section, alias) {
                lines[at] = format!("# {} (now {section}.{key})", lines[at].trim());
                had_alias = true;
            }
        }
        let is_default = defaults
            .iter()
            .any(|(s, k, v)| *s == section && *k == key && *v == value);
        if is_default && !had_alias {
            continue;
        }
        match lines.iter().position(|l| section_name(l) == Some(section)) {
            Some(header) => lines.insert(header + 1, line),
            None => {
                if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                    lines.push(String::new());
                }
                lines.push(format!("[{section}]"));
                lines.push(line);
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Rewrites the file at `path` for `config`.
///
/// # Errors
///
/// The I/O error's text, for `CONFIG REWRITE`'s error reply.
pub fn rewrite_file(path: &Path, config: &Config) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let new = rewritten(&text, config);
    let mut temp = path.as_os_str().to_owned();
    temp.push(".rewrite.tmp");
    let temp = std::path::PathBuf::from(temp);
    let write = || -> std::io::Result<()> {
        use std::io::Write as _;
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(new.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        e.to_string()
    })
}

/// `[name]` of a section header line.
fn section_name(line: &str) -> Option<&str> {
    let t = line.trim();
    t.strip_prefix('[')?.strip_suffix(']').map(str::trim)
}

/// The line that sets `key` in `[section]`, not commented out.
fn find_key(lines: &[String], section: &str, key: &str) -> Option<usize> {
    let mut current = None;
    for (i, line) in lines.iter().enumerate() {
        if let Some(name) = section_name(line) {
            current = Some(name.to_owned());
            continue;
        }
        if current.as_deref() != Some(section) {
            continue;
        }
        if let Some((k, _)) = line.split_once('=')
            && k.trim() == key
        {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_keys_are_written_and_the_rest_kept() {
        let text =
            "# my server\n[server]\nport = 7000 # fixed\ntimeout = 5\n\n[memory]\n# the limit\n";
        let mut config = Config::from_toml_str(text).unwrap().config;
        config
            .set_parameters(&[
                ("maxmemory", "10mb"),
                ("timeout", "0"),
                ("loglevel", "debug"),
            ])
            .unwrap();
        let new = rewritten(text, &config);
        assert!(
            new.starts_with(
                "# my server\n[server]\nlog_level = \"debug\"\nport = 7000 # fixed\ntimeout = 0\n"
            ),
            "{new}"
        );
        assert!(
            new.contains("[memory]\nmax_memory = 10485760\n# the limit\n"),
            "{new}"
        );
        let again = Config::from_toml_str(&new).unwrap().config;
        assert_eq!(again.memory.max_memory, 10 << 20);
        assert_eq!(again.server.timeout, 0);
        assert_eq!(again.server.port, 7000);
        // Rewriting what was rewritten changes nothing.
        assert_eq!(rewritten(&new, &again), new);
    }

    #[test]
    fn an_old_key_name_gives_way_to_the_current_one() {
        let text = "[server]\nconnection_timeout = 5\n";
        let config = Config::from_toml_str(text).unwrap().config;
        let new = rewritten(text, &config);
        assert_eq!(
            new,
            "[server]\ntimeout = 5\n# connection_timeout = 5 (now server.timeout)\n"
        );
        assert_eq!(
            Config::from_toml_str(&new).unwrap().config.server.timeout,
            5
        );
    }

    #[test]
    fn a_missing_section_is_added_and_passwords_quoted() {
        let mut config = Config::default();
        config
            .set_parameters(&[("requirepass", "p \"w\"")])
            .unwrap();
        let new = rewritten("[server]\n", &config);
        assert_eq!(new, "[server]\n\n[security]\npassword = 'p \"w\"'\n");
        let again = Config::from_toml_str(&new).unwrap().config;
        assert_eq!(again.security.password.as_deref(), Some("p \"w\""));
    }
}
