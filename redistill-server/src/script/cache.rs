//! Scripts loaded by EVAL and SCRIPT LOAD, by SHA1: compiled once, kept until SCRIPT
//! FLUSH.

use ahash::HashMap;
use mlua::Function;

/// Flags a script declares in its shebang (`#!lua flags=...`), or Redis's compatibility
/// mode for a script without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(clippy::struct_excessive_bools)]
pub(crate) struct ScriptFlags {
    /// The script has a shebang: the flags below apply, not the compatibility rules.
    pub declared: bool,
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot_keys: bool,
}

impl ScriptFlags {
    /// Parses a comma-separated flag list; the unknown flag on failure.
    pub fn parse_list(list: &[u8]) -> Result<ScriptFlags, Vec<u8>> {
        let mut flags = ScriptFlags {
            declared: true,
            ..ScriptFlags::default()
        };
        if !list.is_empty() {
            for flag in list.split(|&b| b == b',') {
                flags.set(flag)?;
            }
        }
        Ok(flags)
    }

    /// Sets one flag by name; the name back when unknown.
    pub fn set(&mut self, flag: &[u8]) -> Result<(), Vec<u8>> {
        match flag {
            b"no-writes" => self.no_writes = true,
            b"allow-oom" => self.allow_oom = true,
            b"allow-stale" => self.allow_stale = true,
            b"no-cluster" => self.no_cluster = true,
            b"allow-cross-slot-keys" => self.allow_cross_slot_keys = true,
            other => return Err(other.to_vec()),
        }
        Ok(())
    }

    /// The flag names, in Redis's order (FUNCTION LIST).
    pub fn names(self) -> Vec<&'static str> {
        let mut names = Vec::new();
        for (on, name) in [
            (self.no_writes, "no-writes"),
            (self.allow_oom, "allow-oom"),
            (self.allow_stale, "allow-stale"),
            (self.no_cluster, "no-cluster"),
            (self.allow_cross_slot_keys, "allow-cross-slot-keys"),
        ] {
            if on {
                names.push(name);
            }
        }
        names
    }
}

/// A compiled script.
pub(crate) struct CachedScript {
    pub function: Function,
    pub flags: ScriptFlags,
    pub body_len: usize,
}

/// The script cache.
#[derive(Default)]
pub(crate) struct ScriptCache {
    scripts: HashMap<String, CachedScript>,
    bytes: usize,
}

/// Bytes a cached script costs beyond its body (its entry, its name).
const ENTRY_OVERHEAD: usize = 120;

impl ScriptCache {
    pub fn get(&self, sha: &str) -> Option<&CachedScript> {
        self.scripts.get(sha)
    }

    pub fn contains(&self, sha: &str) -> bool {
        self.scripts.contains_key(sha)
    }

    pub fn insert(&mut self, sha: String, script: CachedScript) {
        self.bytes += script.body_len + ENTRY_OVERHEAD;
        if let Some(old) = self.scripts.insert(sha, script) {
            self.bytes -= old.body_len + ENTRY_OVERHEAD;
        }
    }

    /// SCRIPT FLUSH.
    pub fn clear(&mut self) {
        self.scripts.clear();
        self.bytes = 0;
    }

    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    /// Bytes the cache holds (`used_memory_scripts_eval`).
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// Splits a script's shebang: the flags it declares, and the body to compile (the shebang
/// line commented out, so that line numbers stay). An error text for a bad shebang.
pub(crate) fn shebang(body: &[u8]) -> Result<(ScriptFlags, Vec<u8>), String> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags::default(), body.to_vec()));
    }
    let line_end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let line = &body[..line_end];
    let mut parts = line.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or_default();
    if engine != b"#!lua" {
        return Err(format!(
            "ERR Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(engine)
        ));
    }
    let mut flags = ScriptFlags {
        declared: true,
        ..ScriptFlags::default()
    };
    for part in parts {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!(
                "ERR Unknown lua shebang option: {}",
                String::from_utf8_lossy(part)
            ));
        };
        let parsed = ScriptFlags::parse_list(list).map_err(|flag| {
            format!(
                "ERR Unexpected flag in script shebang: {}",
                String::from_utf8_lossy(&flag)
            )
        })?;
        flags = parsed;
    }
    let mut code = b"--".to_vec();
    code.extend_from_slice(&body[2..]);
    Ok((flags, code))
}
