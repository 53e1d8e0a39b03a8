//! `CONFIG REWRITE`: writes the settings `CONFIG SET` can change back into the TOML file
//! the server started from.
//!
//! As Redis does with `redis.conf`, the file is edited rather than regenerated: comments,
//! order, dotted and quoted keys, string styles and every other key stay as they are. A key
//! already in the file gets its current value in place; one that is not is added at the end
//! of its section only when its value is not the default. A key of an earlier Redistill
//! file, or the other form of the same option (`save` for `snapshot_interval`), is removed
//! and left as a comment, so that the file never sets both. The new file replaces the old
//! one by rename, so a crash leaves one or the other.

use std::path::Path;

use toml_edit::{DocumentMut, Item, Table, TableLike};

use super::Config;
use super::setting::{Rewrite, Setting};
use super::settings::SETTINGS;

/// The file's text with `config`'s changeable settings written in.
///
/// # Errors
///
/// The TOML parser's message when `text` is not TOML, or a section that is not a table.
pub fn rewritten(text: &str, config: &Config) -> Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string())?;
    let defaults = Config::default();
    for setting in SETTINGS {
        let Some((section, key)) = setting.file else {
            continue;
        };
        let wanted = match setting.rewrite {
            Rewrite::Never => false,
            Rewrite::Always => true,
            Rewrite::When(when) => when(config),
        };
        let Some(value) = wanted.then(|| setting.kind.toml(config)).flatten() else {
            continue;
        };
        let mut notes = String::new();
        for (other_section, other_key) in others(setting) {
            if let Some(old) =
                table_mut(&mut doc, other_section)?.and_then(|table| remove(table, other_key))
            {
                notes.push_str(&format!("{old} (now {section}.{key})\n"));
            }
        }
        let is_default =
            setting.default.is_some() && setting.kind.get(config) == setting.kind.get(&defaults);
        let table = match table_mut(&mut doc, section)? {
            Some(table) => table,
            None if is_default && notes.is_empty() => continue,
            None => {
                let mut table = Table::new();
                if !doc.is_empty() {
                    table.decor_mut().set_prefix("\n");
                }
                doc.insert(section, Item::Table(table));
                table_mut(&mut doc, section)?.ok_or_else(|| format!("cannot add [{section}]"))?
            }
        };
        match table.get_mut(key).and_then(Item::as_value_mut) {
            Some(old) => {
                let decor = old.decor().clone();
                *old = value;
                *old.decor_mut() = decor;
            }
            None if is_default && notes.is_empty() => continue,
            None => {
                table.insert(key, Item::Value(value));
            }
        }
        if !notes.is_empty()
            && let Some(mut key) = table.key_mut(key)
        {
            let decor = key.leaf_decor_mut();
            let before = decor.prefix().and_then(|p| p.as_str()).unwrap_or_default();
            notes.push_str(before);
            decor.set_prefix(notes);
        }
    }
    Ok(doc.to_string())
}

/// The other keys that set what `setting` sets: its legacy keys and its other forms.
fn others(setting: &Setting) -> Vec<(&'static str, &'static str)> {
    let name = setting.file_name();
    let forms = SETTINGS.iter().filter_map(|other| {
        let related = other.same_option_as.is_some() && other.same_option_as == name.as_deref()
            || setting.same_option_as.is_some()
                && setting.same_option_as == other.file_name().as_deref();
        related.then_some(other.file).flatten()
    });
    setting
        .legacy
        .iter()
        .map(|old| (old.section, old.key))
        .chain(forms)
        .collect()
}

/// The `[section]` table (a header, dotted keys or an inline table), if the file has one.
fn table_mut<'d>(
    doc: &'d mut DocumentMut,
    section: &str,
) -> Result<Option<&'d mut dyn TableLike>, String> {
    match doc.get_mut(section) {
        None => Ok(None),
        Some(item) => item
            .as_table_like_mut()
            .map(Some)
            .ok_or_else(|| format!("{section} is not a table")),
    }
}

/// Removes `key`, returning it as a comment line.
fn remove(table: &mut dyn TableLike, key: &str) -> Option<String> {
    let old = table.remove(key)?;
    let mut value = old.as_value()?.clone();
    value.decor_mut().clear();
    Some(format!("# {key} = {value}"))
}

/// Rewrites the file at `path` for `config`.
///
/// # Errors
///
/// The I/O or parse error's text, for `CONFIG REWRITE`'s error reply.
pub fn rewrite_file(path: &Path, config: &Config) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let new = rewritten(&text, config)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(text: &str, config: &Config) -> String {
        rewritten(text, config).unwrap()
    }

    #[test]
    fn changed_keys_are_written_in_place_and_new_ones_at_the_end_of_their_section() {
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
        let new = rewrite(text, &config);
        assert_eq!(
            new,
            "# my server\n[server]\nport = 7000 # fixed\ntimeout = 0\nlog_level = \"debug\"\n\n\
             [memory]\nmax_memory = 10485760\n# the limit\n"
        );
        let again = Config::from_toml_str(&new).unwrap().config;
        assert_eq!(again, config);
        // Rewriting what was rewritten changes nothing.
        assert_eq!(rewrite(&new, &again), new);
    }

    #[test]
    fn dotted_and_quoted_keys_inline_tables_and_multi_line_strings_are_kept() {
        let text = "server.port = 7000\nserver.\"timeout\" = 5 # idle\n\
                    memory = { max_memory = \"1gb\" }\n\n\
                    [persistence]\nsnapshot_path = \"\"\"\nsnap.rdb\"\"\"\n\
                    'save_on_shutdown' = false\n";
        let mut config = Config::from_toml_str(text).unwrap().config;
        assert_eq!(config.persistence.snapshot_path, Path::new("snap.rdb"));
        config
            .set_parameters(&[("timeout", "9"), ("maxmemory", "2mb"), ("hz", "20")])
            .unwrap();
        let new = rewrite(text, &config);
        assert!(
            new.starts_with("server.port = 7000\nserver.\"timeout\" = 9 # idle\n"),
            "{new}"
        );
        assert!(new.contains("server.hz = 20\n"), "{new}");
        assert!(new.contains("memory = { max_memory = 2097152 }\n"), "{new}");
        assert!(
            new.contains("snapshot_path = \"\"\"\nsnap.rdb\"\"\"\n'save_on_shutdown' = false\n"),
            "{new}"
        );
        assert_eq!(Config::from_toml_str(&new).unwrap().config, config);
        assert_eq!(rewrite(&new, &config), new);
    }

    #[test]
    fn an_old_key_name_gives_way_to_the_current_one() {
        let text =
            "[server]\nconnection_timeout = 5\n[performance]\n# keepalive\ntcp_keepalive = 60\n";
        let config = Config::from_toml_str(text).unwrap().config;
        let new = rewrite(text, &config);
        assert_eq!(
            new,
            "[server]\n# connection_timeout = 5 (now server.timeout)\ntimeout = 5\n\
             # tcp_keepalive = 60 (now server.tcp_keepalive)\ntcp_keepalive = 60\n\
             [performance]\n"
        );
        assert_eq!(Config::from_toml_str(&new).unwrap().config, config);
    }

    #[test]
    fn one_form_of_the_snapshot_schedule_replaces_the_other() {
        let text = "[persistence]\nsnapshot_interval = 60\n";
        let mut config = Config::from_toml_str(text).unwrap().config;
        config.set_parameter("save", "100 5").unwrap();
        let new = rewrite(text, &config);
        assert_eq!(
            new,
            "[persistence]\nenabled = true\n\
             # snapshot_interval = 60 (now persistence.save)\nsave = \"100 5\"\n"
        );
        let again = Config::from_toml_str(&new).unwrap().config;
        assert_eq!(
            again.persistence.save_points(),
            config.persistence.save_points()
        );
        assert_eq!(rewrite(&new, &again), new);
    }

    #[test]
    fn a_missing_section_is_added_and_passwords_quoted() {
        let mut config = Config::default();
        config
            .set_parameters(&[("requirepass", "p \"w\"")])
            .unwrap();
        let new = rewrite("[server]\n", &config);
        assert_eq!(new, "[server]\n\n[security]\npassword = 'p \"w\"'\n");
        let again = Config::from_toml_str(&new).unwrap().config;
        assert_eq!(again.security.password.as_deref(), Some("p \"w\""));
        // Back to no password: the key stays, empty.
        config.set_parameter("requirepass", "").unwrap();
        assert_eq!(
            rewrite(&new, &config),
            "[server]\n\n[security]\npassword = \"\"\n"
        );
    }

    #[test]
    fn a_file_that_is_not_toml_is_an_error() {
        assert!(rewritten("[server\n", &Config::default()).is_err());
    }
}
