//! CONFIG: GET, SET, REWRITE, RESETSTAT and HELP. What the settings are, and how each is
//! read, checked and written, is `crate::config`'s; this applies the result to the running
//! server.

use std::sync::atomic::Ordering;

use redistill_store::Store;

use super::args::is;
use super::{Command, Ctx};
use crate::config::{ConfigError, ConfigSource, MemoryConfig};

pub(super) static COMMANDS: &[Command] = &[Command::new("config", -2, &[], (0, 0, 0), config)
    .with_subcommands(&["get", "help", "resetstat", "rewrite", "set"])];

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

/// CONFIG GET pattern [pattern ...] | SET name value [name value ...] | RESETSTAT | REWRITE
/// | HELP
fn config(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let sub = args[1];
    let fixed_arity = ["HELP", "REWRITE", "RESETSTAT"];
    if fixed_arity.iter().any(|name| is(sub, name)) && args.len() != 2
        || (is(sub, "GET") && args.len() < 3)
        || (is(sub, "SET") && args.len() < 4)
    {
        let sub = String::from_utf8_lossy(sub).to_ascii_lowercase();
        return ctx.reply().error_fmt(format_args!(
            "ERR wrong number of arguments for 'config|{sub}' command"
        ));
    }
    if is(sub, "HELP") {
        ctx.reply().help(CONFIG_HELP);
    } else if is(sub, "GET") {
        get(ctx, &args[2..]);
    } else if is(sub, "SET") {
        set(ctx, &args[2..]);
    } else if is(sub, "REWRITE") {
        rewrite(ctx);
    } else if is(sub, "RESETSTAT") {
        reset_stats(ctx);
    } else {
        let sub = String::from_utf8_lossy(sub);
        ctx.reply().error_fmt(format_args!(
            "ERR unknown subcommand '{sub}'. Try CONFIG HELP."
        ));
    }
}

fn get(ctx: &mut Ctx<'_>, patterns: &[&[u8]]) {
    let found = ctx.shared.config.read().matching_parameters(patterns);
    let mut reply = ctx.reply();
    reply.map(found.len());
    for (name, value) in &found {
        reply.bulk(name.as_bytes());
        reply.bulk(value.as_bytes());
    }
}

/// All or nothing: the configuration changes only once every value is accepted, and the
/// store only once the configuration has; if the store refuses one, both go back.
fn set(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    if !args.len().is_multiple_of(2) {
        return ctx.reply().error("ERR syntax error");
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
        return ctx.reply().error(&e.to_redis_error());
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
        return ctx.reply().error(&e.to_redis_error());
    }
    let config = shared.config.read();
    crate::logging::set_level(config.server.log_level);
    shared.refresh_limits(&config);
    drop(config);
    ctx.reply().ok();
}

/// Applies the `[memory]` settings to a running store, as `CONFIG SET` must do at once.
///
/// # Errors
///
/// The parameter the store refused, as Redis words a failed apply step.
fn apply_memory(store: &Store, memory: &MemoryConfig) -> Result<(), ConfigError> {
    let refused = |name: &'static str| {
        move |e: redistill_store::StoreError| ConfigError::InvalidParameter {
            name: name.to_owned(),
            reason: e.to_string(),
        }
    };
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
    store.set_max_memory(usize::try_from(memory.max_memory).unwrap_or(usize::MAX));
    Ok(())
}

fn rewrite(ctx: &mut Ctx<'_>) {
    let config = ctx.shared.config.read();
    let ConfigSource::File(path) = &config.source else {
        drop(config);
        return ctx
            .reply()
            .error("ERR The server is running without a config file");
    };
    let result = crate::config::rewrite_file(path, &config);
    drop(config);
    match result {
        Ok(()) => {
            log::info!("CONFIG REWRITE executed with success.");
            ctx.reply().ok();
        }
        Err(e) => {
            log::warn!("CONFIG REWRITE failed: {e}");
            ctx.reply()
                .error_fmt(format_args!("ERR Rewriting config file: {e}"));
        }
    }
}

fn reset_stats(ctx: &mut Ctx<'_>) {
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
}
