//! SLOWLOG and LATENCY, the replication commands of a master without replicas (ROLE,
//! WAIT), and LOLWUT.

use super::args::{NOT_INTEGER, is, parse_i64};
use super::table::{acl, flags};
use super::{Command, CommandResult, Ctx, fail};

pub(super) static COMMANDS: &[Command] = &[
    Command::new("slowlog", -2, super::no_subcommand).subcommands(SLOWLOG),
    Command::new("latency", -2, super::no_subcommand).subcommands(LATENCY),
    Command::new("role", 1, role)
        .flags(flags!(NOSCRIPT | LOADING | STALE | FAST))
        .acl(acl!(ADMIN | DANGEROUS)),
    Command::new("wait", 3, wait)
        .flags(flags!(NOSCRIPT))
        .acl(acl!(CONNECTION))
        .tips(&["request_policy:all_shards", "response_policy:agg_min"]),
    Command::new("lolwut", -1, lolwut).flags(flags!(READONLY | FAST)),
];

static SLOWLOG: &[Command] = &[
    Command::sub("slowlog", "get", -2, slowlog_get)
        .flags(flags!(ADMIN | LOADING | STALE))
        .tips(&["request_policy:all_nodes", "nondeterministic_output"]),
    Command::sub("slowlog", "help", 2, slowlog_help).flags(flags!(LOADING | STALE)),
    Command::sub("slowlog", "len", 2, slowlog_len)
        .flags(flags!(ADMIN | LOADING | STALE))
        .tips(&[
            "request_policy:all_nodes",
            "response_policy:agg_sum",
            "nondeterministic_output",
        ]),
    Command::sub("slowlog", "reset", 2, slowlog_reset)
        .flags(flags!(ADMIN | LOADING | STALE))
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
];

static LATENCY: &[Command] = &[
    Command::sub("latency", "doctor", 2, latency_doctor)
        .flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE))
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ]),
    Command::sub("latency", "graph", 3, latency_graph)
        .flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE))
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ]),
    Command::sub("latency", "help", 2, latency_help).flags(flags!(LOADING | STALE)),
    Command::sub("latency", "history", 3, latency_history)
        .flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE))
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ]),
    Command::sub("latency", "latest", 2, latency_latest)
        .flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE))
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ]),
    Command::sub("latency", "reset", -2, latency_reset)
        .flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE))
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
];

const SLOWLOG_HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

/// SLOWLOG GET [count]
fn slowlog_get(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    if args.len() > 3 {
        return Err(
            "ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP."
                .into(),
        );
    }
    let count = match args.get(2) {
        None => Some(10),
        Some(arg) => match parse_i64(arg) {
            Some(-1) => None,
            Some(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => return Err("ERR count should be greater than or equal to -1".into()),
        },
    };
    let entries = ctx.shared.slowlog.newest(count);
    let mut reply = ctx.reply();
    reply.array(entries.len());
    for e in &entries {
        reply.array(6);
        reply.int(i64::try_from(e.id).unwrap_or(i64::MAX));
        reply.int(i64::try_from(e.time).unwrap_or(i64::MAX));
        reply.int(i64::try_from(e.micros).unwrap_or(i64::MAX));
        reply.bulks(e.args.iter().map(|a| a.as_ref()));
        reply.bulk(e.addr.as_bytes());
        reply.bulk(&e.name);
    }
    Ok(())
}

fn slowlog_len(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let n = ctx.shared.slowlog.len();
    ctx.reply().len(n);
    Ok(())
}

fn slowlog_reset(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.shared.slowlog.reset();
    ctx.reply().ok();
    Ok(())
}

fn slowlog_help(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().help(SLOWLOG_HELP);
    Ok(())
}

const LATENCY_HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HELP",
    "    Prints this help.",
];

// LATENCY as Redis answers with the latency monitor off (`latency-monitor-threshold 0`,
// its default): no event has samples.

fn latency_latest(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().array(0);
    Ok(())
}

fn latency_history(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().array(0);
    Ok(())
}

fn latency_reset(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().int(0);
    Ok(())
}

fn latency_graph(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let event = String::from_utf8_lossy(args[2]);
    Err(fail(format_args!(
        "ERR No samples available for event '{event}'"
    )))
}

fn latency_doctor(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let text = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this \
                Redis instance. You may use \"CONFIG SET latency-monitor-threshold \
                <milliseconds>.\" in order to enable it. If we weren't in a deep space \
                mission I'd suggest to take a look at \
                https://redis.io/topics/latency-monitor.\n";
    let version = ctx.client.version;
    redistill_resp::encode::write_verbatim(ctx.out, version, *b"txt", text.as_bytes());
    Ok(())
}

fn latency_help(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().help(LATENCY_HELP);
    Ok(())
}

/// ROLE: a master with no replicas, at replication offset 0.
fn role(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let mut reply = ctx.reply();
    reply.array(3);
    reply.bulk(b"master");
    reply.int(0);
    reply.array(0);
    Ok(())
}

/// WAIT numreplicas timeout: no replica ever acknowledges, so the answer is 0. Redis
/// would first block for `timeout` when asked for replicas it does not have; this server
/// answers at once rather than hold a worker.
fn wait(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    if parse_i64(args[1]).is_none() {
        return Err(NOT_INTEGER.into());
    }
    match parse_i64(args[2]) {
        None => return Err("ERR timeout is not an integer or out of range".into()),
        Some(t) if t < 0 => return Err("ERR timeout is negative".into()),
        Some(_) => ctx.reply().int(0),
    }
    Ok(())
}

/// LOLWUT [VERSION v]: the version line Redis 7 prints by default. Redis draws art for
/// versions 5 and 6; this server prints the line for every version.
fn lolwut(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    if args.len() >= 3 && is(args[1], "VERSION") && parse_i64(args[2]).is_none() {
        return Err(NOT_INTEGER.into());
    }
    let text = format!("Redis ver. {}\n", crate::REDIS_VERSION);
    let version = ctx.client.version;
    redistill_resp::encode::write_verbatim(ctx.out, version, *b"txt", text.as_bytes());
    Ok(())
}
