//! FUNCTION and FCALL / FCALL_RO: libraries of Lua functions, loaded once and called by
//! name (see `script::functions`).

use super::scripting::{RO_KEYS, RW_KEYS, Run, keys_and_args, kill_reply, run_script};
use super::table::{acl, flags};
use super::{Command, CommandResult, Ctx, fail};
use crate::script::busy::Running;
use crate::script::functions;
use crate::shared::Shared;

pub(super) static COMMANDS: &[Command] = &[
    Command::new("fcall", -3, fcall)
        .flags(flags!(
            NOSCRIPT | STALE | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | OWN_GATES
        ))
        .acl(acl!(SCRIPTING))
        .keys(RW_KEYS),
    Command::new("fcall_ro", -3, fcall_ro)
        .flags(flags!(
            READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | OWN_GATES
        ))
        .acl(acl!(SCRIPTING))
        .keys(RO_KEYS),
    Command::new("function", -2, super::no_subcommand).subcommands(FUNCTION),
];

static FUNCTION: &[Command] = &[
    Command::sub("function", "delete", 3, function_delete)
        .flags(flags!(WRITE | NOSCRIPT))
        .acl(acl!(SCRIPTING))
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    Command::sub("function", "dump", 2, function_dump)
        .flags(flags!(NOSCRIPT))
        .acl(acl!(SCRIPTING)),
    Command::sub("function", "flush", -2, function_flush)
        .flags(flags!(WRITE | NOSCRIPT))
        .acl(acl!(SCRIPTING))
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    Command::sub("function", "help", 2, function_help)
        .flags(flags!(LOADING | STALE))
        .acl(acl!(SCRIPTING)),
    Command::sub("function", "kill", 2, function_kill)
        .flags(flags!(NOSCRIPT | ALLOW_BUSY))
        .acl(acl!(SCRIPTING))
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    Command::sub("function", "list", -2, function_list)
        .flags(flags!(NOSCRIPT))
        .acl(acl!(SCRIPTING))
        .tips(&["nondeterministic_output_order"]),
    Command::sub("function", "load", -3, function_load)
        .flags(flags!(WRITE | DENYOOM | NOSCRIPT))
        .acl(acl!(SCRIPTING))
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    Command::sub("function", "restore", -3, function_restore)
        .flags(flags!(WRITE | DENYOOM | NOSCRIPT))
        .acl(acl!(SCRIPTING))
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    Command::sub("function", "stats", 2, function_stats)
        .flags(flags!(NOSCRIPT | ALLOW_BUSY))
        .acl(acl!(SCRIPTING))
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ]),
];

fn fcall(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    fcall_generic(ctx, args, false)
}

fn fcall_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    fcall_generic(ctx, args, true)
}

fn fcall_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], read_only: bool) -> CommandResult {
    super::monitor::feed_script_call(ctx, args);
    let (keys, argv) = keys_and_args(args)?;
    let shared = ctx.shared;
    let _gates = (!ctx.client.tx.in_exec).then(|| shared.every_gate());
    let mut state = shared.scripting.state.lock();
    let (_, libraries, runner) = state.split();
    let name = String::from_utf8_lossy(args[1]);
    let function = libraries.function(&name).ok_or("ERR Function not found")?;
    shared.scripting.busy.set_caller(args[1], args);
    let run = Run {
        function: &function.function,
        flags: function.flags,
        read_only,
        is_function: true,
        name: &name,
        keys,
        argv,
    };
    run_script(ctx, runner, &run)
}

fn function_load(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (replace, code) = match &args[2..] {
        [code] => (false, *code),
        [flag, code] if flag.eq_ignore_ascii_case(b"replace") => (true, *code),
        [flag, _] => {
            return Err(fail(format_args!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(flag)
            )));
        }
        _ => return Err(super::wrong_arity("function|load")),
    };
    let shared = ctx.shared;
    let mut state = shared.scripting.state.lock();
    let name = functions::library_name(code).map_err(super::CommandError::from)?;
    if !replace && state.libraries.libraries.contains_key(&name) {
        return Err(fail(format_args!("ERR Library '{name}' already exists")));
    }
    let (name, library) =
        functions::load(&state.engine, code).map_err(super::CommandError::from)?;
    state
        .libraries
        .add(name.clone(), library, replace)
        .map_err(super::CommandError::from)?;
    publish(shared, &state.libraries);
    drop(state);
    ctx.reply().bulk(name.as_bytes());
    Ok(())
}

fn function_dump(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let payload = functions::dump(&ctx.shared.scripting.state.lock().libraries);
    ctx.reply().bulk(&payload);
    Ok(())
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]: every library of the payload loads, or
/// none does.
fn function_restore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    #[derive(PartialEq)]
    enum Policy {
        Flush,
        Append,
        Replace,
    }
    let policy = match args.get(3) {
        None => Policy::Append,
        Some(p) if args.len() == 4 && p.eq_ignore_ascii_case(b"flush") => Policy::Flush,
        Some(p) if args.len() == 4 && p.eq_ignore_ascii_case(b"append") => Policy::Append,
        Some(p) if args.len() == 4 && p.eq_ignore_ascii_case(b"replace") => Policy::Replace,
        Some(_) => {
            return Err(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
                    .into(),
            );
        }
    };
    let codes = functions::undump(args[2]).map_err(super::CommandError::from)?;
    let shared = ctx.shared;
    let mut state = shared.scripting.state.lock();
    let mut next = if policy == Policy::Flush {
        functions::Libraries::default()
    } else {
        state.libraries.clone()
    };
    for code in &codes {
        let (name, library) =
            functions::load(&state.engine, code).map_err(super::CommandError::from)?;
        if policy != Policy::Replace && next.libraries.contains_key(&name) {
            // RESTORE names the library without FUNCTION LOAD's quotes.
            return Err(fail(format_args!("ERR Library {name} already exists")));
        }
        next.add(name, library, policy == Policy::Replace)
            .map_err(super::CommandError::from)?;
    }
    state.libraries = next;
    publish(shared, &state.libraries);
    drop(state);
    ctx.reply().ok();
    Ok(())
}

fn function_delete(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let name = String::from_utf8_lossy(args[2]);
    let mut state = ctx.shared.scripting.state.lock();
    if !state.libraries.remove(&name) {
        return Err("ERR Library not found".into());
    }
    publish(ctx.shared, &state.libraries);
    drop(state);
    ctx.reply().ok();
    Ok(())
}

fn function_flush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    match &args[2..] {
        [] => {}
        [mode] if mode.eq_ignore_ascii_case(b"sync") || mode.eq_ignore_ascii_case(b"async") => {}
        _ => return Err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option".into()),
    }
    let mut state = ctx.shared.scripting.state.lock();
    state.libraries.clear();
    publish(ctx.shared, &state.libraries);
    drop(state);
    ctx.reply().ok();
    Ok(())
}

/// Hands the libraries' sources to snapshots, and their counts to FUNCTION STATS, after a
/// change.
fn publish(shared: &Shared, libraries: &functions::Libraries) {
    shared.persistence.libraries().publish(libraries.sources());
    shared.scripting.set_counts(libraries);
}

/// Loads the libraries a snapshot held, (name, source code) each: with `replace_all` they
/// replace every library (a load at start, DEBUG RELOAD), otherwise each replaces the one
/// of its name. All load or none does; the error names the library that did not.
pub(crate) fn restore_libraries(
    shared: &Shared,
    sources: Vec<(bytes::Bytes, bytes::Bytes)>,
    replace_all: bool,
) -> Result<(), String> {
    let mut state = shared.scripting.state.lock();
    let mut next = if replace_all {
        functions::Libraries::default()
    } else {
        state.libraries.clone()
    };
    for (name, code) in &sources {
        let failed = |e: String| {
            format!(
                "function library '{}' does not load: {e}",
                String::from_utf8_lossy(name)
            )
        };
        let (name, library) = functions::load(&state.engine, code).map_err(failed)?;
        next.add(name, library, true).map_err(failed)?;
    }
    state.libraries = next;
    publish(shared, &state.libraries);
    Ok(())
}

fn function_kill(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    kill_reply(ctx, true)
}

fn function_list(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let arg = args[i];
        if arg.eq_ignore_ascii_case(b"withcode") && !with_code {
            with_code = true;
        } else if arg.eq_ignore_ascii_case(b"libraryname") && pattern.is_none() {
            let Some(p) = args.get(i + 1) else {
                return Err("ERR library name argument was not given".into());
            };
            pattern = Some(p);
            i += 1;
        } else {
            return Err(fail(format_args!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(arg)
            )));
        }
        i += 1;
    }
    let state = ctx.shared.scripting.state.lock();
    let libraries: Vec<_> = state
        .libraries
        .libraries
        .iter()
        .filter(|(name, _)| pattern.is_none_or(|p| redistill_store::glob_match(p, name.as_bytes())))
        .collect();
    let mut reply = ctx.reply();
    reply.array(libraries.len());
    for (name, library) in libraries {
        reply.map(if with_code { 4 } else { 3 });
        reply.bulk(b"library_name");
        reply.bulk(name.as_bytes());
        reply.bulk(b"engine");
        reply.bulk(b"LUA");
        reply.bulk(b"functions");
        reply.array(library.functions.len());
        for (fname, function) in &library.functions {
            reply.map(3);
            reply.bulk(b"name");
            reply.bulk(fname.as_bytes());
            reply.bulk(b"description");
            reply.opt_bulk(function.description.as_deref());
            reply.bulk(b"flags");
            let names = function.flags.names();
            reply.set(names.len());
            for flag in names {
                reply.simple(flag.as_bytes());
            }
        }
        if with_code {
            reply.bulk(b"library_code");
            reply.bulk(&library.code);
        }
    }
    Ok(())
}

/// FUNCTION STATS: the function running now (answered while it is busy; a busy script is
/// refused as Redis refuses it), and the libraries' counts.
fn function_stats(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let running = match ctx.shared.scripting.busy.running() {
        Running::Nothing => None,
        Running::Script => {
            return Err("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.".into());
        }
        Running::Function(function) => Some(function),
    };
    let (libraries, functions) = ctx.shared.scripting.counts();
    let mut reply = ctx.reply();
    reply.map(2);
    reply.bulk(b"running_script");
    match running {
        None => reply.null(),
        Some(function) => {
            reply.map(3);
            reply.bulk(b"name");
            reply.bulk(&function.name);
            reply.bulk(b"command");
            reply.array(function.command.len());
            for arg in &function.command {
                reply.bulk(arg);
            }
            reply.bulk(b"duration_ms");
            reply.int(i64::try_from(function.duration_ms).unwrap_or(i64::MAX));
        }
    }
    reply.bulk(b"engines");
    reply.map(1);
    reply.bulk(b"LUA");
    reply.map(2);
    reply.bulk(b"libraries_count");
    reply.len(libraries);
    reply.bulk(b"functions_count");
    reply.len(functions);
    Ok(())
}

fn function_help(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().help(&[
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    ]);
    Ok(())
}
