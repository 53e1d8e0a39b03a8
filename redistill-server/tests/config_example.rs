//! `redistill.example.toml` at the repository root documents every key with its default.

use std::collections::BTreeSet;

use redistill_server::config::{Config, env_var_names};

fn example() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../redistill.example.toml");
    std::fs::read_to_string(path).expect("redistill.example.toml is readable")
}

/// The example with every `# key = value` line switched on.
fn uncommented(text: &str) -> String {
    text.lines()
        .map(|line| {
            let Some(rest) = line.strip_prefix("# ") else {
                return line.to_owned();
            };
            let is_key = rest
                .split_once(" = ")
                .is_some_and(|(key, _)| key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            if is_key {
                rest.to_owned()
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn example_loads_as_is() {
    let loaded = Config::from_toml_str(&example()).unwrap();
    assert_eq!(loaded.config, Config::default());
    assert!(loaded.warnings.is_empty());
}

#[test]
fn every_key_is_shown_once_with_its_default() {
    let text = uncommented(&example());
    let loaded = Config::from_toml_str(&text).unwrap();
    assert_eq!(
        loaded.config,
        Config::default(),
        "the values shown are the defaults"
    );
    assert!(loaded.warnings.is_empty());

    let mut section = String::new();
    let mut shown = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
        } else if line.starts_with('#') {
            continue;
        } else if let Some((key, _)) = line.split_once(" = ") {
            shown.push(format!("REDISTILL_{section}_{key}").to_ascii_uppercase());
        }
    }
    let unique: BTreeSet<&String> = shown.iter().collect();
    assert_eq!(unique.len(), shown.len(), "no key twice");
    let expected: BTreeSet<String> = env_var_names().into_iter().collect();
    assert_eq!(shown.into_iter().collect::<BTreeSet<_>>(), expected);
}
