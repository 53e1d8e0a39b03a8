//! SLOWLOG and LATENCY, the replication commands of a master without replicas (ROLE,
//! WAIT), and LOLWUT.

use super::args::{NOT_INTEGER, is, parse_i64};
use super::{Command, Ctx};

pub(super) static COMMANDS: &[Command] = &[
    Command::new("slowlog", -2, &[], (0, 0, 0), slowlog)
        .with_subcommands(&["get", "help", "len", "reset"]),
    Command::new("latency", -2, &[], (0, 0, 0), latency)
        .with_subcommands(&["doctor", "graph", "help", "history", "latest", "reset"]),
    Command::new(
        "role",
        1,
        &["noscript", "loading", "stale", "fast"],
        (0, 0, 0),
        role,
    ),
    Command::new("wait", 3, &["noscript"], (0, 0, 0), wait),
    Command::new("lolwut", -1, &["readonly", "fast"], (0, 0, 0), lolwut),
];

fn subcommand_arity(ctx: &mut Ctx<'_>, command: &str, sub: &[u8]) {
    let sub = String::from_utf8_lossy(sub).to_ascii_lowercase();
    ctx.reply().error_fmt(format_args!(
        "ERR wrong number of arguments for '{command}|{sub}' command"
    ));
}

fn unknown_subcommand(ctx: &mut Ctx<'_>, sub: &[u8], command: &str) {
    let sub = String::from_utf8_lossy(sub);
    ctx.reply().error_fmt(format_args!(
        "ERR unknown subcommand '{sub}'. Try {command} HELP."
    ));
}

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

/// SLOWLOG GET [count] | LEN | RESET | HELP
fn slowlog(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let sub = args[1];
    let exact = |name: &str| is(sub, name) && args.len() == 2;
    if is(sub, "GET") && args.len() <= 3 {
        let count = match args.get(2) {
            None => Some(10),
            Some(arg) => match parse_i64(arg) {
                Some(-1) => None,
                Some(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                _ => {
                    return ctx
                        .reply()
                        .error("ERR count should be greater than or equal to -1");
                }
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
    } else if exact("LEN") {
        let n = ctx.shared.slowlog.len();
        ctx.reply().len(n);
    } else if exact("RESET") {
        ctx.shared.slowlog.reset();
        ctx.reply().ok();
    } else if exact("HELP") {
        ctx.reply().help(SLOWLOG_HELP);
    } else if is(sub, "GET") {
        ctx.reply().error(
            "ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.",
        );
    } else if ["LEN", "RESET", "HELP"].iter().any(|s| is(sub, s)) {
        subcommand_arity(ctx, "slowlog", sub);
    } else {
        unknown_subcommand(ctx, sub, "SLOWLOG");
    }
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

/// LATENCY as Redis answers with the latency monitor off (`latency-monitor-threshold 0`,
/// its default): no event has samples.
fn latency(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let sub = args[1];
    let argc = args.len();
    if (is(sub, "LATEST") && argc == 2) || (is(sub, "HISTORY") && argc == 3) {
        ctx.reply().array(0);
    } else if is(sub, "RESET") {
        ctx.reply().int(0);
    } else if is(sub, "GRAPH") && argc == 3 {
        let event = String::from_utf8_lossy(args[2]);
        ctx.reply()
            .error_fmt(format_args!("ERR No samples available for event '{event}'"));
    } else if is(sub, "DOCTOR") && argc == 2 {
        let text = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this \
                    Redis instance. You may use \"CONFIG SET latency-monitor-threshold \
                    <milliseconds>.\" in order to enable it. If we weren't in a deep space \
                    mission I'd suggest to take a look at \
                    https://redis.io/topics/latency-monitor.\n";
        let version = ctx.client.version;
        redistill_resp::encode::write_verbatim(ctx.out, version, *b"txt", text.as_bytes());
    } else if is(sub, "HELP") && argc == 2 {
        ctx.reply().help(LATENCY_HELP);
    } else if ["LATEST", "HISTORY", "GRAPH", "DOCTOR", "HELP"]
        .iter()
        .any(|s| is(sub, s))
    {
        subcommand_arity(ctx, "latency", sub);
    } else {
        unknown_subcommand(ctx, sub, "LATENCY");
    }
}

/// ROLE: a master with no replicas, at replication offset 0.
fn role(ctx: &mut Ctx<'_>, _args: &[&[u8]]) {
    let mut reply = ctx.reply();
    reply.array(3);
    reply.bulk(b"master");
    reply.int(0);
    reply.array(0);
}

/// WAIT numreplicas timeout: no replica ever acknowledges, so the answer is 0. Redis
/// would first block for `timeout` when asked for replicas it does not have; this server
/// answers at once rather than hold a worker.
fn wait(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    if parse_i64(args[1]).is_none() {
        return ctx.reply().error(NOT_INTEGER);
    }
    match parse_i64(args[2]) {
        None => ctx
            .reply()
            .error("ERR timeout is not an integer or out of range"),
        Some(t) if t < 0 => ctx.reply().error("ERR timeout is negative"),
        Some(_) => ctx.reply().int(0),
    }
}

/// LOLWUT [VERSION v]: the version line Redis 7 prints by default. Redis draws art for
/// versions 5 and 6; this server prints the line for every version.
fn lolwut(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    if args.len() >= 3 && is(args[1], "VERSION") && parse_i64(args[2]).is_none() {
        return ctx.reply().error(NOT_INTEGER);
    }
    let text = format!("Redis ver. {}\n", crate::REDIS_VERSION);
    let version = ctx.client.version;
    redistill_resp::encode::write_verbatim(ctx.out, version, *b"txt", text.as_bytes());
}
