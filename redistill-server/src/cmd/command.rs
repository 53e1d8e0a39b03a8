//! `COMMAND` and its subcommands: the command table as clients see it.
//!
//! Name, arity, flags and key positions come from the table itself; ACL categories, tips,
//! key specifications and the documentation come from Redis's recorded metadata
//! ([`super::metadata`]).

use redistill_resp::Frame;
use redistill_store::glob_match;

use super::args::{SYNTAX, is};
use super::{Command, Ctx, families, key_args, lookup, metadata};

pub(super) static COMMANDS: &[Command] =
    &[
        Command::new("command", -1, &["loading", "stale"], (0, 0, 0), command)
            .with_subcommands(&["count", "docs", "getkeys", "help", "info", "list"]),
    ];

/// What `COMMAND HELP` prints.
const HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

/// COMMAND [COUNT | LIST [FILTERBY ...] | INFO [name...] | DOCS [name...] | GETKEYS ... | HELP]
fn command(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let Some(&sub) = args.get(1) else {
        let all: Vec<&Command> = families().collect();
        ctx.reply().array(all.len());
        for c in all {
            info_entry(ctx, c);
        }
        return;
    };
    let argc = args.len();
    let arity_ok = |arity: i32| super::arity_ok(arity - 1, argc);
    let known = [
        ("COUNT", 2),
        ("LIST", -2),
        ("INFO", -2),
        ("DOCS", -2),
        ("GETKEYS", -3),
        ("HELP", 2),
    ];
    let Some(&(name, arity)) = known.iter().find(|(n, _)| is(sub, n)) else {
        let sub = String::from_utf8_lossy(sub);
        return ctx.reply().error_fmt(format_args!(
            "ERR unknown subcommand '{sub}'. Try COMMAND HELP."
        ));
    };
    if !arity_ok(arity + 1) {
        let name = name.to_ascii_lowercase();
        return ctx.reply().error_fmt(format_args!(
            "ERR wrong number of arguments for 'command|{name}' command"
        ));
    }
    match name {
        "COUNT" => ctx.reply().len(families().count()),
        "LIST" => list(ctx, &args[2..]),
        "INFO" => info(ctx, &args[2..]),
        "DOCS" => docs(ctx, &args[2..]),
        "GETKEYS" => getkeys(ctx, &args[2..]),
        _ => ctx.reply().help(HELP),
    }
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
fn list(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let names: Vec<&'static str> = match args {
        [] => families().map(|c| c.name).collect(),
        [filterby, kind, value] if is(filterby, "FILTERBY") => {
            if is(kind, "MODULE") {
                Vec::new()
            } else if is(kind, "PATTERN") {
                // Redis matches without case; the names are lower case.
                let pattern = value.to_ascii_lowercase();
                families()
                    .map(|c| c.name)
                    .filter(|n| glob_match(&pattern, n.as_bytes()))
                    .collect()
            } else if is(kind, "ACLCAT") {
                families()
                    .filter(|c| acl_categories(c).any(|cat| cat.eq_ignore_ascii_case(value)))
                    .map(|c| c.name)
                    .collect()
            } else {
                return ctx.reply().error(SYNTAX);
            }
        }
        _ => return ctx.reply().error(SYNTAX),
    };
    ctx.reply().bulks(names.iter().map(|n| n.as_bytes()));
}

/// A command's ACL categories without their `@`, as Redis records them.
fn acl_categories(command: &Command) -> impl Iterator<Item = &'static [u8]> {
    let categories = metadata::recorded(command.name).and_then(|r| match r.info.get(6) {
        Some(Frame::Set(items) | Frame::Array(items)) => Some(items),
        _ => None,
    });
    categories
        .into_iter()
        .flatten()
        .filter_map(Frame::as_bytes)
        .map(|c| c.strip_prefix(b"@").unwrap_or(c))
}

/// COMMAND INFO [name...]: one entry per name, null for unknown commands.
fn info(ctx: &mut Ctx<'_>, names: &[&[u8]]) {
    let wanted: Vec<Option<&'static Command>> = if names.is_empty() {
        families().map(Some).collect()
    } else {
        names.iter().map(|n| lookup(n)).collect()
    };
    ctx.reply().array(wanted.len());
    for c in wanted {
        match c {
            Some(c) => info_entry(ctx, c),
            None => ctx.reply().null(),
        }
    }
}

/// One command's COMMAND INFO entry: name, arity, flags, first key, last key, step, ACL
/// categories, tips, key specifications, subcommands.
fn info_entry(ctx: &mut Ctx<'_>, command: &Command) {
    let version = ctx.client.version;
    let mut reply = ctx.reply();
    reply.array(10);
    reply.bulk(command.name.as_bytes());
    reply.int(i64::from(command.arity));
    redistill_resp::encode::write_set_header(ctx.out, version, command.flags.len());
    let mut reply = ctx.reply();
    for flag in command.flags {
        reply.simple(flag.as_bytes());
    }
    reply.int(i64::from(command.keys.0));
    reply.int(i64::from(command.keys.1));
    reply.int(i64::from(command.keys.2));
    match metadata::recorded(command.name) {
        Some(recorded) => {
            for field in &recorded.info[6..9] {
                field.encode(version, ctx.out);
            }
            metadata::filter_subcommands(&recorded.info[9], implements(command))
                .encode(version, ctx.out);
        }
        None => {
            Frame::Set(Vec::new()).encode(version, ctx.out);
            Frame::Set(Vec::new()).encode(version, ctx.out);
            Frame::Array(Vec::new()).encode(version, ctx.out);
            Frame::Array(Vec::new()).encode(version, ctx.out);
        }
    }
}

/// Whether `command` implements the subcommand named (lower case) `sub`.
fn implements(command: &Command) -> impl Fn(&[u8]) -> bool + '_ {
    |sub| command.subcommands.iter().any(|s| s.as_bytes() == sub)
}

/// COMMAND DOCS [name...]: a map of name → docs; unknown names are left out.
fn docs(ctx: &mut Ctx<'_>, names: &[&[u8]]) {
    let wanted: Vec<&'static Command> = if names.is_empty() {
        families().collect()
    } else {
        names.iter().filter_map(|n| lookup(n)).collect()
    };
    let version = ctx.client.version;
    ctx.reply().map(wanted.len());
    for c in wanted {
        ctx.reply().bulk(c.name.as_bytes());
        match metadata::recorded(c.name) {
            Some(recorded) => metadata::docs_with_subcommands(&recorded.docs, implements(c))
                .encode(version, ctx.out),
            None => ctx.reply().map(0),
        }
    }
}

/// COMMAND GETKEYS command args...: the key arguments of a full command.
fn getkeys(ctx: &mut Ctx<'_>, full: &[&[u8]]) {
    let Some(command) = full.first().and_then(|n| lookup(n)) else {
        return ctx.reply().error("ERR Invalid command specified");
    };
    if !super::arity_ok(command.arity, full.len()) {
        return ctx
            .reply()
            .error("ERR Invalid number of arguments specified for command");
    }
    let keys: Vec<&[u8]> = key_args(command, full).collect();
    if keys.is_empty() {
        return ctx.reply().error("ERR The command has no key arguments");
    }
    ctx.reply().bulks(keys.into_iter());
}
