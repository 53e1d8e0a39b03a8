//! Server commands: TIME, OBJECT, MEMORY, SHUTDOWN.

use std::time::{SystemTime, UNIX_EPOCH};

use super::args::{SYNTAX, int_arg, is};
use super::table::{KeySpec, acl, flags, key_flags};
use super::{Command, CommandResult, Ctx, fail};

pub(super) static COMMANDS: &[Command] = &[
    Command::new("time", 1, time)
        .flags(flags!(LOADING | STALE | FAST))
        .tips(&["nondeterministic_output"]),
    Command::new("object", -2, super::no_subcommand).subcommands(OBJECT),
    Command::new("memory", -2, super::no_subcommand).subcommands(MEMORY),
    Command::new("shutdown", -1, shutdown).flags(flags!(
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY
    )),
];

static OBJECT: &[Command] = &[
    Command::sub("object", "encoding", 3, object_encoding)
        .flags(flags!(READONLY))
        .acl(acl!(KEYSPACE))
        .tips(&["nondeterministic_output"])
        .keys(&[KeySpec::at(2, key_flags!(RO))]),
    Command::sub("object", "freq", 3, object_freq)
        .flags(flags!(READONLY))
        .acl(acl!(KEYSPACE))
        .tips(&["nondeterministic_output"])
        .keys(&[KeySpec::at(2, key_flags!(RO))]),
    Command::sub("object", "help", 2, object_help)
        .flags(flags!(LOADING | STALE))
        .acl(acl!(KEYSPACE)),
    Command::sub("object", "idletime", 3, object_idletime)
        .flags(flags!(READONLY))
        .acl(acl!(KEYSPACE))
        .tips(&["nondeterministic_output"])
        .keys(&[KeySpec::at(2, key_flags!(RO))]),
    Command::sub("object", "refcount", 3, object_refcount)
        .flags(flags!(READONLY))
        .acl(acl!(KEYSPACE))
        .tips(&["nondeterministic_output"])
        .keys(&[KeySpec::at(2, key_flags!(RO))]),
];

static MEMORY: &[Command] = &[
    Command::sub("memory", "help", 2, memory_help).flags(flags!(LOADING | STALE)),
    Command::sub("memory", "malloc-stats", 2, memory_malloc_stats).tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ]),
    Command::sub("memory", "purge", 2, memory_purge)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    Command::sub("memory", "usage", -3, memory_usage)
        .flags(flags!(READONLY))
        .keys(&[KeySpec::at(2, key_flags!(RO))]),
];

/// `OBJECT HELP`, as Redis's.
const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// `MEMORY HELP`, Redis's text for the subcommands this server has.
const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

fn time(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut reply = ctx.reply();
    reply.array(2);
    reply.bulk(now.as_secs().to_string().as_bytes());
    reply.bulk(now.subsec_micros().to_string().as_bytes());
    Ok(())
}

fn object_help(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().help(OBJECT_HELP);
    Ok(())
}

/// An integer, or null for a missing key.
fn opt_int(ctx: &mut Ctx<'_>, value: Option<i64>) -> CommandResult {
    match value {
        Some(n) => ctx.reply().int(n),
        None => ctx.reply().null(),
    }
    Ok(())
}

/// OBJECT ENCODING key
fn object_encoding(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    match ctx.shared.store.object_encoding(ctx.client.db, args[2])? {
        Some(enc) => ctx.reply().bulk(enc.as_bytes()),
        None => ctx.reply().null(),
    }
    Ok(())
}

/// OBJECT IDLETIME key: refused under an LFU policy, as in Redis.
fn object_idletime(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (db, key) = (ctx.client.db, args[2]);
    let store = &ctx.shared.store;
    if store.eviction_policy().is_lfu() {
        if store.value_type(db, key)?.is_none() {
            return opt_int(ctx, None);
        }
        return Err(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note \
             that when switching between policies at runtime LRU and LFU data will take \
             some time to adjust."
                .into(),
        );
    }
    let idle = store.object_idletime(db, key)?;
    opt_int(ctx, idle.map(|i| i64::try_from(i).unwrap_or(i64::MAX)))
}

/// OBJECT REFCOUNT key: 1, except for the small integers Redis shares (see
/// [`super::debug::refcount`]).
fn object_refcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (db, key) = (ctx.client.db, args[2]);
    let count = match ctx.shared.store.object_encoding(db, key)? {
        None => None,
        Some("int") => ctx
            .shared
            .store
            .snapshot_key(db, key)?
            .map(|entry| super::debug::refcount(ctx, &entry.value)),
        Some(_) => Some(1),
    };
    opt_int(ctx, count)
}

/// OBJECT FREQ key: answered only under an LFU policy, as in Redis.
fn object_freq(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (db, key) = (ctx.client.db, args[2]);
    let store = &ctx.shared.store;
    if store.eviction_policy().is_lfu() {
        let freq = store.object_freq(db, key)?;
        return opt_int(ctx, freq.map(i64::from));
    }
    if !store.contains(db, key)? {
        return opt_int(ctx, None);
    }
    Err(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
         Please note that when switching between policies at runtime LRU and LFU data \
         will take some time to adjust."
            .into(),
    )
}

fn memory_help(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().help(MEMORY_HELP);
    Ok(())
}

/// MEMORY USAGE key [SAMPLES n]
fn memory_usage(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    // SAMPLES may repeat; each count must be an integer of at least 0, as in Redis.
    let mut options = &args[3..];
    while !options.is_empty() {
        let [samples, count, rest @ ..] = options else {
            return Err(SYNTAX.into());
        };
        if !is(samples, "SAMPLES") || int_arg(count)? < 0 {
            return Err(SYNTAX.into());
        }
        options = rest;
    }
    match ctx.shared.store.memory_usage(ctx.client.db, args[2])? {
        Some(n) => ctx.reply().len(n),
        None => ctx.reply().null(),
    }
    Ok(())
}

/// MEMORY PURGE, answered by the installed allocator control as Redis answers it with
/// jemalloc, or with libc malloc where none is installed.
fn memory_purge(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    crate::allocator::installed()
        .purge()
        .map_err(|message| fail(format_args!("ERR {message}")))?;
    ctx.reply().ok();
    Ok(())
}

/// MEMORY MALLOC-STATS: the allocator's report, or Redis's text where it has none.
fn memory_malloc_stats(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    match crate::allocator::installed().stats_report() {
        Some(report) => {
            let version = ctx.client.version;
            redistill_resp::encode::write_verbatim(ctx.out, version, *b"txt", report.as_bytes());
        }
        None => ctx
            .reply()
            .bulk(b"Stats not supported for the current allocator"),
    }
    Ok(())
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: a graceful shutdown, as on SIGTERM. Like
/// Redis, a successful SHUTDOWN sends no reply: the connection closes. It saves first when
/// asked (SAVE) or configured (`save_on_shutdown` with persistence on, unless NOSAVE); a
/// failed save replies an error and the server keeps running.
fn shutdown(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (mut save, mut nosave, mut abort, mut force) = (false, false, false, false);
    for opt in &args[1..] {
        if is(opt, "SAVE") {
            save = true;
        } else if is(opt, "NOSAVE") {
            nosave = true;
        } else if is(opt, "ABORT") {
            abort = true;
        } else if is(opt, "FORCE") {
            force = true;
        } else if !is(opt, "NOW") {
            return Err(SYNTAX.into());
        }
    }
    if (save && nosave) || (abort && args.len() > 2) {
        return Err(SYNTAX.into());
    }
    if abort {
        return Err("ERR No shutdown in progress.".into());
    }
    // As Redis: while a script is busy, only SHUTDOWN NOSAVE goes on, and it stops the
    // script (the keyspace may be half written).
    let busy = &ctx.shared.scripting.busy;
    if let Some(function) = busy.busy() {
        if !nosave {
            return Err(super::scripting::busy_error(function).into());
        }
        busy.stop_for_shutdown();
    }
    log::warn!("User requested shutdown...");
    let shared = ctx.shared;
    let (configured, target) = {
        let config = shared.config.read();
        let p = &config.persistence;
        (
            p.enabled && p.save_on_shutdown,
            crate::persistence::SaveTarget::from_config(p),
        )
    };
    // As Redis: a keyspace still loading is never saved over the snapshot.
    let loading = shared.persistence.loading().active();
    if (save || (configured && !nosave)) && !loading {
        log::info!("Saving the final snapshot before exiting.");
        match shared.persistence.save_waiting(&shared.store, &target) {
            Ok(_) => shared.persistence.set_shutdown_target(target),
            Err(e) if force => {
                log::warn!("Error trying to save the DB, exiting anyway (FORCE): {e}");
            }
            Err(e) => {
                log::warn!("Error trying to save the DB, can't exit: {e}");
                log::warn!(
                    "Errors trying to shut down the server. Check the logs for more information."
                );
                return Err("ERR Errors trying to SHUTDOWN. Check logs.".into());
            }
        }
    }
    shared.persistence.mark_shutdown_handled();
    ctx.shared.shutdown_request.request();
    ctx.client.close_after_reply = true;
    Ok(())
}
