//! Server commands: TIME, OBJECT, MEMORY, SHUTDOWN.

use std::time::{SystemTime, UNIX_EPOCH};

use super::args::{SYNTAX, int_arg, is};
use super::{Command, Ctx};

pub(super) static COMMANDS: &[Command] = &[
    Command::new("time", 1, &["loading", "stale", "fast"], (0, 0, 0), time),
    Command::new("object", -2, &[], (0, 0, 0), object)
        .with_subcommands(&["encoding", "freq", "help", "idletime", "refcount"]),
    Command::new("memory", -2, &[], (0, 0, 0), memory).with_subcommands(&[
        "help",
        "malloc-stats",
        "purge",
        "usage",
    ]),
    Command::new(
        "shutdown",
        -1,
        &[
            "admin",
            "noscript",
            "loading",
            "stale",
            "no_multi",
            "allow_busy",
        ],
        (0, 0, 0),
        shutdown,
    ),
];

fn unknown_subcommand(ctx: &mut Ctx<'_>, sub: &[u8], command: &str) {
    let sub = String::from_utf8_lossy(sub);
    ctx.reply().error_fmt(format_args!(
        "ERR unknown subcommand '{sub}'. Try {command} HELP."
    ));
}

fn subcommand_arity(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let name = String::from_utf8_lossy(args[0]).to_ascii_lowercase();
    let sub = String::from_utf8_lossy(args[1]).to_ascii_lowercase();
    ctx.reply().error_fmt(format_args!(
        "ERR wrong number of arguments for '{name}|{sub}' command"
    ));
}

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

/// `<CMD> HELP`; with arguments it is an arity error (`config|help`), as in Redis.
fn help(ctx: &mut Ctx<'_>, args: &[&[u8]], lines: &[&str]) {
    if args.len() != 2 {
        return subcommand_arity(ctx, args);
    }
    ctx.reply().help(lines);
}

fn time(ctx: &mut Ctx<'_>, _args: &[&[u8]]) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut reply = ctx.reply();
    reply.array(2);
    reply.bulk(now.as_secs().to_string().as_bytes());
    reply.bulk(now.subsec_micros().to_string().as_bytes());
}

/// OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key
fn object(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let sub = args[1];
    if is(sub, "HELP") {
        return help(ctx, args, OBJECT_HELP);
    }
    let known = ["ENCODING", "FREQ", "IDLETIME", "REFCOUNT"];
    if !known.iter().any(|k| is(sub, k)) {
        return unknown_subcommand(ctx, sub, "OBJECT");
    }
    if args.len() != 3 {
        return subcommand_arity(ctx, args);
    }
    let (db, key) = (ctx.client.db, args[2]);
    let store = &ctx.shared.store;
    if is(sub, "ENCODING") {
        match store.object_encoding(db, key) {
            Ok(Some(enc)) => ctx.reply().bulk(enc.as_bytes()),
            Ok(None) => ctx.reply().null(),
            Err(e) => ctx.reply().store_error(&e),
        }
    } else if is(sub, "IDLETIME") {
        match store.object_idletime(db, key) {
            Ok(Some(idle)) => ctx.reply().int(i64::try_from(idle).unwrap_or(i64::MAX)),
            Ok(None) => ctx.reply().null(),
            Err(e) => ctx.reply().store_error(&e),
        }
    } else if is(sub, "REFCOUNT") {
        match store.value_type(db, key) {
            Ok(Some(_)) => ctx.reply().int(1),
            Ok(None) => ctx.reply().null(),
            Err(e) => ctx.reply().store_error(&e),
        }
    } else if store.eviction_policy().is_lfu() {
        match store.object_freq(db, key) {
            Ok(Some(freq)) => ctx.reply().int(i64::from(freq)),
            Ok(None) => ctx.reply().null(),
            Err(e) => ctx.reply().store_error(&e),
        }
    } else {
        // Redis answers FREQ only under an LFU policy.
        match store.value_type(db, key) {
            Ok(Some(_)) => ctx.reply().error(
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
                 Please note that when switching between policies at runtime LRU and LFU data \
                 will take some time to adjust.",
            ),
            Ok(None) => ctx.reply().null(),
            Err(e) => ctx.reply().store_error(&e),
        }
    }
}

/// MEMORY USAGE key [SAMPLES n] | MALLOC-STATS | PURGE | HELP
fn memory(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let sub = args[1];
    if is(sub, "HELP") {
        return help(ctx, args, MEMORY_HELP);
    }
    if is(sub, "MALLOC-STATS") || is(sub, "PURGE") {
        return memory_allocator(ctx, args);
    }
    if !is(sub, "USAGE") {
        return unknown_subcommand(ctx, sub, "MEMORY");
    }
    if args.len() < 3 {
        return subcommand_arity(ctx, args);
    }
    // SAMPLES may repeat; each count must be an integer of at least 0, as in Redis.
    let mut options = &args[3..];
    while !options.is_empty() {
        let [samples, count, rest @ ..] = options else {
            return ctx.reply().error(SYNTAX);
        };
        match int_arg(count) {
            _ if !is(samples, "SAMPLES") => return ctx.reply().error(SYNTAX),
            Err(e) => return ctx.reply().error(e),
            Ok(n) if n < 0 => return ctx.reply().error(SYNTAX),
            Ok(_) => options = rest,
        }
    }
    match ctx.shared.store.memory_usage(ctx.client.db, args[2]) {
        Ok(Some(n)) => ctx.reply().len(n),
        Ok(None) => ctx.reply().null(),
        Err(e) => ctx.reply().store_error(&e),
    }
}

/// MEMORY MALLOC-STATS and MEMORY PURGE, answered by the installed allocator control as
/// Redis answers them with jemalloc, or with libc malloc where none is installed.
fn memory_allocator(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    if args.len() != 2 {
        return subcommand_arity(ctx, args);
    }
    let allocator = crate::allocator::installed();
    if is(args[1], "PURGE") {
        return match allocator.purge() {
            Ok(()) => ctx.reply().ok(),
            Err(message) => ctx.reply().error_fmt(format_args!("ERR {message}")),
        };
    }
    match allocator.stats_report() {
        Some(report) => {
            let version = ctx.client.version;
            redistill_resp::encode::write_verbatim(ctx.out, version, *b"txt", report.as_bytes());
        }
        None => ctx
            .reply()
            .bulk(b"Stats not supported for the current allocator"),
    }
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: a graceful shutdown, as on SIGTERM. Like
/// Redis, a successful SHUTDOWN sends no reply: the connection closes. It saves first when
/// asked (SAVE) or configured (`save_on_shutdown` with persistence on, unless NOSAVE); a
/// failed save replies an error and the server keeps running.
fn shutdown(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
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
            return ctx.reply().error(SYNTAX);
        }
    }
    if (save && nosave) || (abort && args.len() > 2) {
        return ctx.reply().error(SYNTAX);
    }
    if abort {
        return ctx.reply().error("ERR No shutdown in progress.");
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
    if save || (configured && !nosave) {
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
                return ctx
                    .reply()
                    .error("ERR Errors trying to SHUTDOWN. Check logs.");
            }
        }
    }
    shared.persistence.mark_shutdown_handled();
    ctx.shared.shutdown_request.request();
    ctx.client.close_after_reply = true;
}
