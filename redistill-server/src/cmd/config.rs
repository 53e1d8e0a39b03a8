//! CONFIG: GET, SET, REWRITE, RESETSTAT and HELP. What the settings are, and how each is
//! read, checked and written, is `crate::config`'s; this applies the result to the running
//! server.

use std::sync::atomic::Ordering;

use redistill_store::Store;

use super::table::flags;
use super::{Command, CommandResult, Ctx, fail};
use crate::config::{ConfigError, ConfigSource, MemoryConfig};

pub(super) static COMMANDS: &[Command] =
    &[Command::new("config", -2, super::no_subcommand).subcommands(SUBCOMMANDS)];

static SUBCOMMANDS: &[Command] = &[
    Command::sub("config", "get", -3, get).flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE)),
    Command::sub("config", "help", 2, help).flags(flags!(LOADING | STALE)),
    Command::sub("config", "resetstat", 2, reset_stats)
        .flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE)),
    Command::sub("config", "rewrite", 2, rewrite).flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE)),
    Command::sub("config", "set", -4, set)
        .flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE))
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
];

/// `CONFIG HELP`, as Redis's.
const CONFIG_HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

fn help(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().help(CONFIG_HELP);
    Ok(())
}

/// CONFIG GET pattern [pattern ...]
fn get(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let found = ctx.shared.config.read().matching_parameters(&args[2..]);
    let mut reply = ctx.reply();
    reply.map(found.len());
    for (name, value) in &found {
        reply.bulk(name.as_bytes());
        reply.bulk(value.as_bytes());
    }
    Ok(())
}

/// CONFIG SET name value [name value ...]: all or nothing: the configuration changes only once every value is accepted, and the
/// store only once the configuration has; if the store refuses one, both go back.
fn set(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let args = &args[2..];
    if !args.len().is_multiple_of(2) {
        return Err("ERR syntax error".into());
    }
    let strings: Vec<(String, String)> = args
        .chunks_exact(2)
        .map(|pair| {
            let text = |arg: &[u8]| String::from_utf8_lossy(arg).into_owned();
            (text(pair[0]), text(pair[1]))
        })
        .collect();
    let pairs: Vec<(&str, &str)> = strings
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let shared = ctx.shared;
    let mut config = shared.config.write();
    let before = config.clone();
    if let Err(e) = config.set_parameters(&pairs) {
        drop(config);
        return Err(e.to_redis_error().into());
    }
    let memory = config.memory.clone();
    drop(config);
    // After the config lock is released: lowering maxmemory may evict at once.
    if let Err(e) = apply_memory(&shared.store, &memory) {
        let mut config = shared.config.write();
        *config = before;
        let memory = config.memory.clone();
        drop(config);
        let _ = apply_memory(&shared.store, &memory);
        return Err(e.to_redis_error().into());
    }
    let config = shared.config.read();
    crate::logging::set_level(config.server.log_level);
    shared.refresh_limits(&config);
    drop(config);
    ctx.reply().ok();
    Ok(())
}

/// Applies the `[memory]` settings to a running store, as `CONFIG SET` must do at once.
///
/// # Errors
///
/// The parameter the store refused, as Redis words a failed apply step.
pub(crate) fn apply_memory(store: &Store, memory: &MemoryConfig) -> Result<(), ConfigError> {
    let refused = |name: &'static str| {
        move |e: redistill_store::StoreError| ConfigError::InvalidParameter {
            name: name.to_owned(),
            reason: e.to_string(),
        }
    };
    let wide = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    store.set_eviction_policy(memory.eviction_policy);
    store
        .set_maxmemory_samples(i64::from(memory.maxmemory_samples))
        .map_err(refused("maxmemory-samples"))?;
    store
        .set_lfu_log_factor(i64::from(memory.lfu_log_factor))
        .map_err(refused("lfu-log-factor"))?;
    store
        .set_lfu_decay_time(i64::from(memory.lfu_decay_time))
        .map_err(refused("lfu-decay-time"))?;
    store
        .set_active_expire_effort(i64::from(memory.active_expire_effort))
        .map_err(refused("active-expire-effort"))?;
    store
        .set_list_max_listpack_size(i64::from(memory.list_max_listpack_size))
        .map_err(refused("list-max-listpack-size"))?;
    store
        .set_list_compress_depth(i64::from(memory.list_compress_depth))
        .map_err(refused("list-compress-depth"))?;
    store.set_hash_max_listpack_entries(
        usize::try_from(memory.hash_max_listpack_entries).unwrap_or(usize::MAX),
    );
    store.set_hash_max_listpack_value(
        usize::try_from(memory.hash_max_listpack_value).unwrap_or(usize::MAX),
    );
    store
        .set_zset_max_listpack_entries(wide(memory.zset_max_listpack_entries))
        .map_err(refused("zset-max-listpack-entries"))?;
    store
        .set_zset_max_listpack_value(wide(memory.zset_max_listpack_value))
        .map_err(refused("zset-max-listpack-value"))?;
    let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    store.set_set_max_intset_entries(size(memory.set_max_intset_entries));
    store.set_set_max_listpack_entries(size(memory.set_max_listpack_entries));
    store.set_set_max_listpack_value(size(memory.set_max_listpack_value));
    store.set_hll_sparse_max_bytes(size(memory.hll_sparse_max_bytes));
    store.set_max_memory(usize::try_from(memory.max_memory).unwrap_or(usize::MAX));
    Ok(())
}

/// CONFIG REWRITE
fn rewrite(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let config = ctx.shared.config.read();
    let path = match &config.source {
        ConfigSource::File(path) => path,
        ConfigSource::RedisConf(_) => {
            return Err(
                "ERR Rewriting config file: the server was started with a redis.conf, which \
                 CONFIG REWRITE does not rewrite"
                    .into(),
            );
        }
        ConfigSource::Defaults => {
            return Err("ERR The server is running without a config file".into());
        }
    };
    let result = crate::config::rewrite_file(path, &config);
    drop(config);
    match result {
        Ok(()) => {
            log::info!("CONFIG REWRITE executed with success.");
            ctx.reply().ok();
            Ok(())
        }
        Err(e) => {
            log::warn!("CONFIG REWRITE failed: {e}");
            Err(fail(format_args!("ERR Rewriting config file: {e}")))
        }
    }
}

/// CONFIG RESETSTAT
fn reset_stats(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let shared = ctx.shared;
    let stats = &shared.stats;
    for counter in [
        &stats.connections_received,
        &stats.rejected_connections,
        &stats.tls_handshake_failures,
        &stats.auth_failures,
    ] {
        counter.store(0, Ordering::Relaxed);
    }
    for worker in &shared.command_stats {
        worker.reset();
    }
    stats.errors.reset();
    stats.expiry.reset();
    *stats.store_baseline.lock() = shared.store.stats();
    stats
        .memory_peak
        .store(shared.used_memory(), Ordering::Relaxed);
    ctx.reply().ok();
    Ok(())
}
