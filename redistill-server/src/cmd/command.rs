//! `COMMAND` and its subcommands: the command table as clients see it.
//!
//! Every answer comes from the table's rows (name, arity, flags, ACL categories, tips, key
//! specifications, subcommands); only the documentation of `COMMAND DOCS` (summary, since,
//! group, complexity, arguments) comes from Redis's recorded metadata
//! ([`super::metadata`]).

use redistill_resp::Frame;
use redistill_store::glob_match;

use super::args::{SYNTAX, is};
#[cfg(test)]
use super::table::key_flags;
use super::table::{Acl, BeginSearch, FindKeys, KeyRef, KeySpec, acl, flags};
use super::table::{acl_names, flag_names, key_flag_names};
use super::{Command, CommandResult, Ctx, Reply, families, lookup, lookup_request, metadata};

pub(super) static COMMANDS: &[Command] = &[Command::new("command", -1, command)
    .flags(flags!(LOADING | STALE))
    .acl(acl!(CONNECTION))
    .tips(&["nondeterministic_output_order"])
    .subcommands(SUBCOMMANDS)];

static SUBCOMMANDS: &[Command] = &[
    Command::sub("command", "count", 2, count)
        .flags(flags!(LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("command", "docs", -2, docs)
        .flags(flags!(LOADING | STALE))
        .acl(acl!(CONNECTION))
        .tips(&["nondeterministic_output_order"]),
    Command::sub("command", "getkeys", -4, getkeys)
        .flags(flags!(LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("command", "getkeysandflags", -4, getkeys_and_flags)
        .flags(flags!(LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("command", "help", 2, help)
        .flags(flags!(LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("command", "info", -2, info)
        .flags(flags!(LOADING | STALE))
        .acl(acl!(CONNECTION))
        .tips(&["nondeterministic_output_order"]),
    Command::sub("command", "list", -2, list)
        .flags(flags!(LOADING | STALE))
        .acl(acl!(CONNECTION))
        .tips(&["nondeterministic_output_order"]),
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
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

/// COMMAND: every command's entry.
fn command(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let all: Vec<&Command> = families().collect();
    let mut reply = ctx.reply();
    reply.array(all.len());
    for c in all {
        info_entry(&mut reply, c);
    }
    Ok(())
}

fn help(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().help(HELP);
    Ok(())
}

/// COMMAND COUNT: the top-level commands, as Redis counts them.
fn count(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().len(families().count());
    Ok(())
}

/// Every row, each command followed by its subcommands.
fn every_row() -> impl Iterator<Item = &'static Command> {
    families().flat_map(|c| std::iter::once(c).chain(c.subcommands))
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: full names of
/// commands and subcommands.
fn list(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let names: Vec<String> = match &args[2..] {
        [] => every_row().map(|c| c.full_name().into_owned()).collect(),
        [filterby, kind, value] if is(filterby, "FILTERBY") => {
            if is(kind, "MODULE") {
                Vec::new()
            } else if is(kind, "PATTERN") {
                // Redis matches without case; the names are lower case.
                let pattern = value.to_ascii_lowercase();
                every_row()
                    .map(|c| c.full_name().into_owned())
                    .filter(|n| glob_match(&pattern, n.as_bytes()))
                    .collect()
            } else if is(kind, "ACLCAT") {
                let category = category_named(value);
                every_row()
                    .filter(|c| category.is_some_and(|cat| c.acl_categories().contains(cat)))
                    .map(|c| c.full_name().into_owned())
                    .collect()
            } else {
                return Err(SYNTAX.into());
            }
        }
        _ => return Err(SYNTAX.into()),
    };
    ctx.reply().bulks(names.iter().map(|n| n.as_bytes()));
    Ok(())
}

/// The ACL category named `name` (without `@`, any case).
fn category_named(name: &[u8]) -> Option<Acl> {
    Acl::all()
        .iter_names()
        .find(|(n, _)| name.eq_ignore_ascii_case(n.as_bytes()))
        .map(|(_, category)| category)
}

/// A command or subcommand by its full name (`get`, `client|list`), any case.
fn by_full_name(name: &[u8]) -> Option<&'static Command> {
    match name.iter().position(|&b| b == b'|') {
        Some(at) => {
            lookup_request(&[&name[..at], &name[at + 1..]]).filter(|c| c.container.is_some())
        }
        None => lookup(name),
    }
}

/// COMMAND INFO [name...]: one entry per name, null for unknown commands.
fn info(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let names = &args[2..];
    let wanted: Vec<Option<&'static Command>> = if names.is_empty() {
        families().map(Some).collect()
    } else {
        names.iter().map(|n| by_full_name(n)).collect()
    };
    let mut reply = ctx.reply();
    reply.array(wanted.len());
    for c in wanted {
        match c {
            Some(c) => info_entry(&mut reply, c),
            None => reply.null(),
        }
    }
    Ok(())
}

/// One command's COMMAND INFO entry: name, arity, flags, first key, last key, step, ACL
/// categories, tips, key specifications, subcommands.
fn info_entry(reply: &mut Reply<'_>, command: &Command) {
    reply.array(10);
    reply.bulk(command.full_name().as_bytes());
    reply.int(i64::from(command.arity));
    simple_set(reply, flag_names(command.info_flags()));
    let (first, last, step) = command.legacy_key_range();
    reply.int(i64::from(first));
    reply.int(i64::from(last));
    reply.int(i64::from(step));
    simple_set(reply, acl_names(command.acl_categories()));
    reply.set(command.tips.len());
    for tip in command.tips {
        reply.bulk(tip.as_bytes());
    }
    reply.set(command.key_specs.len());
    for spec in command.key_specs {
        key_spec(reply, spec);
    }
    // Redis answers an empty set for a command without subcommands.
    if command.subcommands.is_empty() {
        reply.set(0);
    } else {
        reply.array(command.subcommands.len());
    }
    for sub in command.subcommands {
        info_entry(reply, sub);
    }
}

/// A set of simple strings.
fn simple_set(reply: &mut Reply<'_>, names: impl Iterator<Item = String>) {
    let names: Vec<String> = names.collect();
    reply.set(names.len());
    for name in names {
        reply.simple(name.as_bytes());
    }
}

/// One key specification as Redis describes it: a map of notes, flags, begin_search and
/// find_keys.
fn key_spec(reply: &mut Reply<'_>, spec: &KeySpec) {
    reply.map(3 + usize::from(spec.notes.is_some()));
    if let Some(notes) = spec.notes {
        reply.bulk(b"notes");
        reply.bulk(notes.as_bytes());
    }
    reply.bulk(b"flags");
    simple_set(reply, key_flag_names(spec.flags));
    reply.bulk(b"begin_search");
    reply.map(2);
    reply.bulk(b"type");
    match spec.begin {
        BeginSearch::Index(index) => {
            reply.bulk(b"index");
            reply.bulk(b"spec");
            reply.map(1);
            reply.bulk(b"index");
            reply.int(i64::from(index));
        }
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => {
            reply.bulk(b"keyword");
            reply.bulk(b"spec");
            reply.map(2);
            reply.bulk(b"keyword");
            reply.bulk(keyword.as_bytes());
            reply.bulk(b"startfrom");
            reply.int(i64::from(start_from));
        }
        BeginSearch::Unknown => {
            reply.bulk(b"unknown");
            reply.bulk(b"spec");
            reply.map(0);
        }
    }
    reply.bulk(b"find_keys");
    reply.map(2);
    reply.bulk(b"type");
    match spec.find {
        FindKeys::Range {
            last_key,
            step,
            limit,
        } => {
            reply.bulk(b"range");
            reply.bulk(b"spec");
            reply.map(3);
            for (name, value) in [("lastkey", last_key), ("keystep", step), ("limit", limit)] {
                reply.bulk(name.as_bytes());
                reply.int(i64::from(value));
            }
        }
        FindKeys::Keynum {
            key_num_index,
            first_key,
            step,
        } => {
            reply.bulk(b"keynum");
            reply.bulk(b"spec");
            reply.map(3);
            let fields = [
                ("keynumidx", key_num_index),
                ("firstkey", first_key),
                ("keystep", step),
            ];
            for (name, value) in fields {
                reply.bulk(name.as_bytes());
                reply.int(i64::from(value));
            }
        }
        FindKeys::Unknown => {
            reply.bulk(b"unknown");
            reply.bulk(b"spec");
            reply.map(0);
        }
    }
}

/// Whether `command` implements the subcommand named (lower case) `sub`.
fn implements(command: &Command) -> impl Fn(&[u8]) -> bool + '_ {
    |sub| command.subcommands.iter().any(|s| s.name.as_bytes() == sub)
}

/// COMMAND DOCS [name...]: a map of name → docs; unknown names are left out.
fn docs(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let names = &args[2..];
    let wanted: Vec<&'static Command> = if names.is_empty() {
        families().collect()
    } else {
        names.iter().filter_map(|n| by_full_name(n)).collect()
    };
    let version = ctx.client.version;
    ctx.reply().map(wanted.len());
    for c in wanted {
        let name = c.full_name();
        ctx.reply().bulk(name.as_bytes());
        let docs = match c.container {
            Some(container) => metadata::recorded_subcommand_docs(container, &name),
            None => metadata::recorded(&name)
                .map(|recorded| metadata::docs_with_subcommands(&recorded.docs, implements(c))),
        };
        docs.unwrap_or(Frame::Map(Vec::new()))
            .encode(version, ctx.out);
    }
    Ok(())
}

/// The keys of the full command in `full`, with Redis's errors for a command that has none
/// or arguments that do not fit it.
fn keys_of(full: &[&[u8]]) -> Result<Vec<KeyRef>, &'static str> {
    let command = lookup_request(full).ok_or("ERR Invalid command specified")?;
    if !command.has_keys() {
        return Err("ERR The command has no key arguments");
    }
    if !super::arity_ok(command.arity, full.len()) {
        return Err("ERR Invalid number of arguments specified for command");
    }
    let keys = command.key_refs(full);
    if keys.is_empty() && !command.has(super::Flags::NO_MANDATORY_KEYS) {
        return Err("ERR Invalid arguments specified for command");
    }
    Ok(keys)
}

/// COMMAND GETKEYS command args...: the key arguments of a full command.
fn getkeys(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let full = &args[2..];
    let keys = keys_of(full)?;
    ctx.reply().bulks(keys.iter().map(|k| full[k.index]));
    Ok(())
}

/// COMMAND GETKEYSANDFLAGS command args...: each key with its specification's flags.
fn getkeys_and_flags(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let full = &args[2..];
    let keys = keys_of(full)?;
    let mut reply = ctx.reply();
    reply.array(keys.len());
    for key in keys {
        reply.array(2);
        reply.bulk(full[key.index]);
        simple_set(&mut reply, key_flag_names(key.flags));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use redistill_resp::{Version, decode};

    use super::*;

    /// A frame with every set's elements sorted, so that order does not count.
    fn normalized(frame: &Frame) -> Frame {
        match frame {
            Frame::Set(items) => {
                let mut items: Vec<Frame> = items.iter().map(normalized).collect();
                items.sort_by_key(|f| format!("{f:?}"));
                Frame::Set(items)
            }
            Frame::Array(items) => Frame::Array(items.iter().map(normalized).collect()),
            Frame::Map(pairs) => Frame::Map(
                pairs
                    .iter()
                    .map(|(k, v)| (normalized(k), normalized(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// A row's COMMAND INFO entry, decoded.
    fn rendered(command: &Command) -> Vec<Frame> {
        let mut out = Vec::new();
        info_entry(&mut Reply::new(&mut out, Version::Resp3), command);
        let Ok(Some((Frame::Array(fields), _))) = decode(&Bytes::from(out)) else {
            panic!("{} renders an array", command.full_name());
        };
        fields
    }

    /// Redis 7.0's recorded entry for a row, if Redis 7.0 has the command.
    fn recorded_entry(command: &Command) -> Option<Vec<Frame>> {
        let top = metadata::recorded(command.container.unwrap_or(command.name))?;
        if command.container.is_none() {
            return Some(top.info.clone());
        }
        let Frame::Array(subs) = &top.info[9] else {
            return None;
        };
        let full = command.full_name();
        subs.iter().find_map(|sub| match sub {
            Frame::Array(fields) if fields[0].as_bytes() == Some(full.as_bytes()) => {
                Some(fields.clone())
            }
            _ => None,
        })
    }

    #[test]
    fn every_row_describes_itself_as_redis_7_0_does() {
        let mut compared = 0;
        for command in every_row() {
            let name = command.full_name();
            let Some(expected) = recorded_entry(command) else {
                // Commands and subcommands newer than Redis 7.0 (CLIENT NO-TOUCH, SETINFO).
                continue;
            };
            let ours = rendered(command);
            for (i, field) in [
                "name",
                "arity",
                "flags",
                "first key",
                "last key",
                "step",
                "acl categories",
                "tips",
                "key specs",
            ]
            .iter()
            .enumerate()
            {
                // ZRANK and ZREVRANK take Redis 7.2's WITHSCORE, so their arity is 7.2's.
                if i == 1 && matches!(name.as_ref(), "zrank" | "zrevrank") {
                    assert_eq!(ours[i], Frame::Integer(-3), "{name}: arity");
                    continue;
                }
                assert_eq!(
                    normalized(&ours[i]),
                    normalized(&expected[i]),
                    "{name}: {field}"
                );
            }
            compared += 1;
        }
        assert!(compared > 100, "compared {compared} rows");
    }

    #[test]
    fn getkeys_follows_key_specs() {
        let keys = |args: &[&[u8]]| {
            keys_of(args).map(|keys| {
                keys.iter()
                    .map(|k| args[k.index].to_vec())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            keys(&[b"mset", b"a", b"1", b"b", b"2"]),
            Ok(vec![b"a".to_vec(), b"b".to_vec()])
        );
        assert_eq!(
            keys(&[b"object", b"encoding", b"k"]),
            Ok(vec![b"k".to_vec()])
        );
        assert_eq!(
            keys(&[b"get", b"a", b"b"]),
            Err("ERR Invalid number of arguments specified for command")
        );
        assert_eq!(
            keys(&[b"ping"]),
            Err("ERR The command has no key arguments")
        );
        assert_eq!(
            keys(&[b"nosuch", b"x"]),
            Err("ERR Invalid command specified")
        );
        let set = lookup(b"set").expect("set");
        let flags = |args: &[&[u8]]| set.key_refs(args)[0].flags;
        assert_eq!(flags(&[b"set", b"k", b"v"]), key_flags!(OW | UPDATE));
        assert_eq!(
            flags(&[b"set", b"k", b"v", b"GET"]),
            key_flags!(RW | ACCESS | UPDATE)
        );
    }
}
