//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, and what runs a script: the gates, the
//! run state, `redis.call` executing commands through the command table.
//!
//! A script runs holding every worker's gate for writing, as EXEC does, so no other
//! command runs meanwhile; inside MULTI (EXEC holds them already) it takes none. Other
//! connections that find a script running past `busy-reply-threshold` answer `-BUSY`
//! instead of waiting (see [`gate_or_busy`]).

use std::time::{Duration, Instant};

use mlua::{Function, Value};
use parking_lot::RwLockReadGuard;
use redistill_resp::Version;

use super::table::{BeginSearch, FindKeys, KeySpec, acl, flags, key_flags};
use super::{
    Command, CommandError, CommandResult, Ctx, FAST_TIMING_SAMPLE, Flags, LastCommand, Lookup,
    Unresolved, fail,
};
use crate::client::Client;
use crate::script::api::sha1_hex;
use crate::script::busy::KillOutcome;
use crate::script::cache::{CachedScript, ScriptFlags, shebang};
use crate::script::call::{Commands, with_commands};
use crate::script::convert::lua_to_reply;
use crate::script::engine::Inputs;
use crate::script::{Runner, State};
use crate::shared::Shared;

/// EVAL's and FCALL's key specification: `numkeys` keys after the count.
const KEYNUM: FindKeys = FindKeys::Keynum {
    key_num_index: 0,
    first_key: 1,
    step: 1,
};

const RW_NOTE: &str =
    "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE";
const RO_NOTE: &str =
    "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS";

pub(super) const RW_KEYS: &[KeySpec] = &[KeySpec::new(
    key_flags!(RW | ACCESS | UPDATE),
    BeginSearch::Index(2),
    KEYNUM,
)
.notes(RW_NOTE)];

pub(super) const RO_KEYS: &[KeySpec] =
    &[KeySpec::new(key_flags!(RO | ACCESS), BeginSearch::Index(2), KEYNUM).notes(RO_NOTE)];

/// EVALSHA's and EVALSHA_RO's: the same, without Redis's note.
const RW_KEYS_SHA: &[KeySpec] = &[KeySpec::new(
    key_flags!(RW | ACCESS | UPDATE),
    BeginSearch::Index(2),
    KEYNUM,
)];

const RO_KEYS_SHA: &[KeySpec] = &[KeySpec::new(
    key_flags!(RO | ACCESS),
    BeginSearch::Index(2),
    KEYNUM,
)];

pub(super) static COMMANDS: &[Command] = &[
    Command::new("eval", -3, eval)
        .flags(flags!(
            NOSCRIPT | STALE | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | OWN_GATES
        ))
        .acl(acl!(SCRIPTING))
        .keys(RW_KEYS),
    Command::new("evalsha", -3, evalsha)
        .flags(flags!(
            NOSCRIPT | STALE | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | OWN_GATES
        ))
        .acl(acl!(SCRIPTING))
        .keys(RW_KEYS_SHA),
    Command::new("eval_ro", -3, eval_ro)
        .flags(flags!(
            READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | OWN_GATES
        ))
        .acl(acl!(SCRIPTING))
        .keys(RO_KEYS),
    Command::new("evalsha_ro", -3, evalsha_ro)
        .flags(flags!(
            READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | OWN_GATES
        ))
        .acl(acl!(SCRIPTING))
        .keys(RO_KEYS_SHA),
    Command::new("script", -2, super::no_subcommand).subcommands(SCRIPT),
];

static SCRIPT: &[Command] = &[
    Command::sub("script", "debug", 3, script_debug)
        .flags(flags!(NOSCRIPT))
        .acl(acl!(SCRIPTING)),
    Command::sub("script", "exists", -3, script_exists)
        .flags(flags!(NOSCRIPT))
        .acl(acl!(SCRIPTING))
        .tips(&[
            "request_policy:all_shards",
            "response_policy:agg_logical_and",
        ]),
    Command::sub("script", "flush", -2, script_flush)
        .flags(flags!(NOSCRIPT))
        .acl(acl!(SCRIPTING))
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    Command::sub("script", "help", 2, script_help)
        .flags(flags!(LOADING | STALE))
        .acl(acl!(SCRIPTING)),
    Command::sub("script", "kill", 2, script_kill)
        .flags(flags!(NOSCRIPT | ALLOW_BUSY))
        .acl(acl!(SCRIPTING))
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    Command::sub("script", "load", 3, script_load)
        .flags(flags!(NOSCRIPT | STALE))
        .acl(acl!(SCRIPTING))
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
];

const NOSCRIPT_ERROR: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// The flags a request runs with, for CLIENT PAUSE WRITE and the memory check before it:
/// the command's, except for EVAL, EVALSHA, their `_RO` forms and FCALL, FCALL_RO, whose
/// script or function declares its own (Redis's `getCommandFlags`). A script without a
/// shebang, an unknown script or function, or a state held by a busy script keeps the
/// command's flags (`may_replicate` for EVAL, EVALSHA and FCALL, none for the `_RO` forms).
pub(crate) fn run_flags(shared: &Shared, command: &Command, args: &[&[u8]]) -> Flags {
    if command.container.is_some() || args.len() < 2 {
        return command.flags;
    }
    let declared = |state: &State| match command.name {
        "eval" | "eval_ro" => match state.scripts.get(&sha1_hex(args[1])) {
            Some(script) => Some(script.flags),
            None => shebang(args[1]).ok().map(|(flags, _)| flags),
        },
        "evalsha" | "evalsha_ro" if args[1].len() == 40 => state
            .scripts
            .get(&String::from_utf8_lossy(args[1]).to_ascii_lowercase())
            .map(|script| script.flags),
        "fcall" | "fcall_ro" => state
            .libraries
            .function(&String::from_utf8_lossy(args[1]))
            .map(|function| function.flags),
        _ => None,
    };
    let is_script = matches!(
        command.name,
        "eval" | "eval_ro" | "evalsha" | "evalsha_ro" | "fcall" | "fcall_ro"
    );
    if !is_script {
        return command.flags;
    }
    // A running script holds the state: wait for it as for the gates, unless it is busy
    // (the request is then answered BUSY or held anyway).
    let state = loop {
        if let Some(state) = shared
            .scripting
            .state
            .try_lock_for(Duration::from_millis(5))
        {
            break state;
        }
        if shared.scripting.busy.busy().is_some() {
            return command.flags;
        }
    };
    match declared(&state) {
        Some(script) if script.declared => declared_flags(command.flags, script),
        _ => command.flags,
    }
}

/// Redis's `scriptFlagsToCmdFlags`: a script that declares flags writes (and may grow
/// memory, and replicates) unless it says otherwise.
fn declared_flags(command: Flags, script: ScriptFlags) -> Flags {
    let mut flags = command - Flags::STALE - Flags::DENYOOM - Flags::WRITE - Flags::MAY_REPLICATE;
    if !script.no_writes && !script.allow_oom {
        flags |= Flags::DENYOOM;
    }
    if !script.no_writes {
        flags |= Flags::WRITE;
    }
    if script.allow_stale {
        flags |= Flags::STALE;
    }
    flags
}

fn eval(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    eval_generic(ctx, args, false, false)
}

fn evalsha(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    eval_generic(ctx, args, true, false)
}

fn eval_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    eval_generic(ctx, args, false, true)
}

fn evalsha_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    eval_generic(ctx, args, true, true)
}

/// A script's keys and arguments, split.
pub(super) type KeysAndArgs<'a, 'b> = (&'b [&'a [u8]], &'b [&'a [u8]]);

/// Splits `args[2..]` (numkeys, keys, arguments) into keys and arguments.
pub(super) fn keys_and_args<'a, 'b>(
    args: &'b [&'a [u8]],
) -> Result<KeysAndArgs<'a, 'b>, CommandError> {
    let numkeys = redistill_resp::parse_integer(args[2])
        .ok_or("ERR value is not an integer or out of range")?;
    if numkeys < 0 {
        return Err("ERR Number of keys can't be negative".into());
    }
    let rest = &args[3..];
    let n = usize::try_from(numkeys).unwrap_or(usize::MAX);
    if n > rest.len() {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    Ok(rest.split_at(n))
}

/// Compiles `body` into the cache under `sha`; its flags.
fn load_script(state: &mut State, sha: &str, body: &[u8]) -> Result<ScriptFlags, CommandError> {
    if let Some(script) = state.scripts.get(sha) {
        return Ok(script.flags);
    }
    let (flags, code) = shebang(body).map_err(CommandError::from)?;
    let function = state
        .engine
        .compile(&code, "@user_script")
        .map_err(|message| {
            fail(format_args!(
                "ERR Error compiling script (new function): {message}"
            ))
        })?;
    state.scripts.insert(
        sha.to_string(),
        CachedScript {
            function,
            flags,
            body_len: body.len(),
        },
    );
    Ok(flags)
}

fn eval_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], by_sha: bool, read_only: bool) -> CommandResult {
    super::monitor::feed_script_call(ctx, args);
    let (keys, argv) = keys_and_args(args)?;
    let shared = ctx.shared;
    let _gates = (!ctx.client.tx.in_exec).then(|| shared.every_gate());
    let mut state = shared.scripting.state.lock();
    let mut lowered = [0u8; 40];
    let computed;
    let sha: &str = if by_sha {
        let given = args[1];
        if given.len() != lowered.len() {
            return Err(NOSCRIPT_ERROR.into());
        }
        for (to, from) in lowered.iter_mut().zip(given) {
            *to = from.to_ascii_lowercase();
        }
        std::str::from_utf8(&lowered).map_err(|_| NOSCRIPT_ERROR)?
    } else {
        computed = sha1_hex(args[1]);
        &computed
    };
    if !state.scripts.contains(sha) {
        if by_sha {
            return Err(NOSCRIPT_ERROR.into());
        }
        load_script(&mut state, sha, args[1])?;
    }
    let (scripts, _, runner) = state.split();
    let script = scripts.get(sha).ok_or(NOSCRIPT_ERROR)?;
    let run = Run {
        function: &script.function,
        flags: script.flags,
        read_only,
        is_function: false,
        name: sha,
        keys,
        argv,
    };
    run_script(ctx, runner, &run)
}

/// One run of a script or function.
pub(super) struct Run<'a, 'b> {
    pub function: &'a Function,
    pub flags: ScriptFlags,
    /// EVAL_RO, EVALSHA_RO, FCALL_RO.
    pub read_only: bool,
    /// FCALL: keys and arguments are the function's parameters, and errors name it.
    pub is_function: bool,
    /// The SHA1 of the script, or the function's name.
    pub name: &'a str,
    pub keys: &'b [&'b [u8]],
    pub argv: &'b [&'b [u8]],
}

/// Checks a script's declared flags against the server's state, runs it with the gates
/// held, and replies its result or error.
pub(super) fn run_script(
    ctx: &mut Ctx<'_>,
    runner: Runner<'_>,
    run: &Run<'_, '_>,
) -> CommandResult {
    let shared = ctx.shared;
    let flags = run.flags;
    if flags.declared {
        if run.read_only && !flags.no_writes {
            return Err("ERR Can not execute a script with write flag using *_ro command.".into());
        }
        if !flags.no_writes
            && !flags.allow_oom
            && shared.store.over_memory_limit()
            && shared.store.enforce_memory_limit().is_err()
        {
            return Err(super::reply::OOM.into());
        }
    }
    let Runner {
        engine,
        client,
        out,
        last_command,
    } = runner;
    client.select(ctx.client.db);
    let busy = &shared.scripting.busy;
    busy.start(run.is_function);
    // A tracking caller is registered for the keys the script declares each time the
    // script reads, as Redis does.
    let reader = ctx
        .client
        .tracking
        .as_ref()
        .filter(|mode| mode.remembers())
        .map(|_| (ctx.client.id(), run.keys));
    let mut calls = Calls {
        shared,
        worker: ctx.worker,
        client,
        out,
        error: Vec::new(),
        last_command,
        reader,
        read_only: run.read_only || (flags.declared && flags.no_writes),
        allow_oom: flags.allow_oom,
        wrote: false,
    };
    let inputs = if run.is_function {
        Inputs::Arguments(run.keys, run.argv)
    } else {
        Inputs::Globals(run.keys, run.argv)
    };
    let result = with_commands(&mut calls, || engine.run(run.function, inputs));
    if busy.finish() {
        let _ = engine.reset_hook();
    }
    let wrote = calls.wrote;
    let outcome = match result {
        Ok((true, value)) => {
            lua_to_reply(
                &value,
                ctx.out,
                ctx.client.version,
                crate::script::call::script_resp(),
            );
            Ok(())
        }
        Ok((false, value)) => Err(error_text(&value, run)),
        Err(e) => Err(fail(format_args!(
            "ERR {}",
            crate::script::engine::runtime_message(&e)
        ))),
    };
    if wrote {
        shared.serve_blocked(ctx.worker);
    }
    outcome
}

/// The error a failed script replies: the error's text, then where it happened, as Redis
/// 7.0 writes it (`... script: <sha>, on @user_script:1.`).
fn error_text(value: &Value, run: &Run<'_, '_>) -> CommandError {
    let Value::Table(t) = value else {
        return "ERR unknown error".into();
    };
    let field = |name: &str| match t.raw_get::<Value>(name) {
        Ok(Value::String(s)) => Some(s.to_string_lossy()),
        Ok(Value::Integer(i)) => Some(i.to_string()),
        #[allow(clippy::cast_possible_truncation)]
        Ok(Value::Number(n)) => Some((n as i64).to_string()),
        _ => None,
    };
    let err = field("err").unwrap_or_else(|| "ERR unknown error".into());
    let err = err.replace(['\r', '\n'], " ");
    let mut text = format!("{err} script: {}", run.name);
    if let (Some(source), Some(line)) = (field("source"), field("line")) {
        text.push_str(&format!(", on {source}:{line}."));
    }
    text.into()
}

/// What `redis.call` needs of the server while a script runs.
struct Calls<'s, 'c> {
    shared: &'s Shared,
    worker: usize,
    client: &'c mut Client,
    /// The reply of the last command.
    out: &'c mut Vec<u8>,
    /// The error text of the last command, when it failed.
    error: Vec<u8>,
    /// The name the last command was found by, kept from run to run.
    last_command: &'c mut LastCommand,
    /// The caller, if it tracks the keys it reads, and the keys the script declares.
    reader: Option<(u64, &'c [&'c [u8]])>,
    read_only: bool,
    allow_oom: bool,
    /// A write command has run: SCRIPT KILL no longer stops the script, and the memory
    /// check no longer refuses (a script is not left half done).
    wrote: bool,
}

impl Commands for Calls<'_, '_> {
    fn run(&mut self, argv: &[&[u8]], version: Version) -> Result<&[u8], &[u8]> {
        self.out.clear();
        self.client.version = version;
        if let Err(e) = self.execute(argv) {
            let name = String::from_utf8_lossy(argv[0]).to_ascii_lowercase();
            self.error.clear();
            self.error.extend_from_slice(&e.text(&name));
            self.out.clear();
            return Err(&self.error[..]);
        }
        Ok(&self.out[..])
    }
}

impl Calls<'_, '_> {
    /// Runs one command as a client would, with the rules scripts add; its reply is in
    /// `self.out`.
    fn execute(&mut self, argv: &[&[u8]]) -> CommandResult {
        let shared = self.shared;
        let resolved = match self.last_command.resolve(argv) {
            Ok(resolved) => resolved,
            Err(Unresolved::Unknown | Unresolved::UnknownSubcommand) => {
                return Err("ERR Unknown Redis command called from script".into());
            }
            Err(Unresolved::ContainerArity(_)) => {
                return Err("ERR Wrong number of args calling Redis command from script".into());
            }
        };
        let command = resolved.command;
        if !super::arity_ok(command.arity, argv.len()) {
            return Err("ERR Wrong number of args calling Redis command from script".into());
        }
        // Blocking commands not flagged noscript answer at once (the script client
        // acts as inside MULTI).
        if command.has(Flags::NOSCRIPT) {
            return Err("ERR This Redis command is not allowed from script".into());
        }
        // PUBLISH too: a read-only script runs during CLIENT PAUSE WRITE.
        if command
            .flags
            .intersects(Flags::WRITE | Flags::MAY_REPLICATE)
            && self.read_only
        {
            return Err("ERR Write commands are not allowed from read-only scripts.".into());
        }
        if command.has(Flags::DENYOOM)
            && !self.allow_oom
            && !self.wrote
            && shared.store.over_memory_limit()
            && shared.store.enforce_memory_limit().is_err()
        {
            return Err(super::reply::OOM.into());
        }
        // Past the check above, writes are not refused for memory: allow-oom, or a
        // script that already wrote is not left half done.
        let past_limit = self.allow_oom || self.wrote;
        if command.has(Flags::WRITE) {
            self.wrote = true;
            shared.scripting.busy.wrote();
        }
        // As for clients' commands, a fast command is timed one call in FAST_TIMING_SAMPLE
        // (a clock read costs as much as the command); a script's commands are not
        // slowlogged on their own.
        let fast = command.has(Flags::FAST);
        let started = (!fast || self.client.next_fast_sample()).then(Instant::now);
        let mut ctx = Ctx {
            shared,
            worker: self.worker,
            client: self.client,
            out: self.out,
        };
        let result = if past_limit {
            redistill_store::Store::past_memory_limit(|| (command.handler)(&mut ctx, argv))
        } else {
            (command.handler)(&mut ctx, argv)
        };
        if let Some((caller, keys)) = self.reader
            && command.has(Flags::READONLY)
        {
            shared.tracking.remember(caller, keys.iter().copied());
        }
        let scale = if fast { FAST_TIMING_SAMPLE } else { 1 };
        let took = started.map(|started| started.elapsed() * scale);
        shared.command_stats[self.worker].record(Some(resolved.slot), took, result.is_err());
        if shared.monitors.any() {
            super::monitor::feed_from_script(&mut ctx, command, argv);
        } else {
            ctx.client.redacted.clear();
        }
        if let Err(e) = &result {
            shared.stats.errors.record(&e.text(&command.full_name()));
        }
        result
    }
}

fn script_load(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let shared = ctx.shared;
    let sha = sha1_hex(args[2]);
    let mut state = shared.scripting.state.lock();
    load_script(&mut state, &sha, args[2])?;
    drop(state);
    ctx.reply().bulk(sha.as_bytes());
    Ok(())
}

fn script_exists(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let state = ctx.shared.scripting.state.lock();
    let found: Vec<bool> = args[2..]
        .iter()
        .map(|sha| {
            state
                .scripts
                .contains(&String::from_utf8_lossy(sha).to_ascii_lowercase())
        })
        .collect();
    drop(state);
    let mut reply = ctx.reply();
    reply.array(found.len());
    for f in found {
        reply.bool_int(f);
    }
    Ok(())
}

fn script_flush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    match args.get(2) {
        None => {}
        Some(mode)
            if args.len() == 3
                && (mode.eq_ignore_ascii_case(b"sync") || mode.eq_ignore_ascii_case(b"async")) => {}
        Some(_) => return Err("ERR SCRIPT FLUSH only support SYNC|ASYNC option".into()),
    }
    let mut state = ctx.shared.scripting.state.lock();
    state.scripts.clear();
    let _ = state.engine.lua.gc_collect();
    drop(state);
    ctx.reply().ok();
    Ok(())
}

fn script_kill(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    kill_reply(ctx, false)
}

/// SCRIPT KILL, and with `function` FUNCTION KILL.
pub(super) fn kill_reply(ctx: &mut Ctx<'_>, function: bool) -> CommandResult {
    match ctx.shared.scripting.busy.kill(function) {
        KillOutcome::Killed => {
            ctx.reply().ok();
            Ok(())
        }
        KillOutcome::NotBusy => Err("NOTBUSY No scripts in execution right now.".into()),
        KillOutcome::OtherKind { function } => Err(busy_error(function).into()),
        KillOutcome::Unkillable => Err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.".into()),
    }
}

fn script_debug(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let mode = args[2];
    if mode.eq_ignore_ascii_case(b"no") {
        return Err("ERR SCRIPT DEBUG is not supported by this server".into());
    }
    if mode.eq_ignore_ascii_case(b"yes") || mode.eq_ignore_ascii_case(b"sync") {
        return Err("ERR SCRIPT DEBUG is not supported by this server".into());
    }
    Err("ERR Use SCRIPT DEBUG YES/SYNC/NO".into())
}

fn script_help(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().help(&[
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    ]);
    Ok(())
}

/// How a connection may run its next command while scripts exist.
pub(crate) enum GateOutcome<'a> {
    /// Its worker's gate, held for reading: run as usual.
    Held(RwLockReadGuard<'a, ()>),
    /// A script has been busy past the threshold: the command runs without the gate
    /// (it is allowed while busy), or is answered `-BUSY`.
    Busy { function: bool },
}

/// Takes the worker's gate for reading, unless a script holding every gate has been
/// running past `busy-reply-threshold`: then other clients are answered instead of
/// waiting, as Redis answers them between a busy script's steps.
pub(crate) fn gate_or_busy(shared: &Shared, worker: usize) -> GateOutcome<'_> {
    let gate = &shared.gates[worker];
    if let Some(held) = gate.try_read() {
        return GateOutcome::Held(held);
    }
    loop {
        if let Some(function) = shared.scripting.busy.busy() {
            return GateOutcome::Busy { function };
        }
        if let Some(held) = gate.try_read_for(Duration::from_millis(5)) {
            return GateOutcome::Held(held);
        }
    }
}

/// Answers a request that arrived while a script is busy: a command flagged `allow-busy`
/// runs (without the gate: such commands do not touch the keyspace), anything else is
/// refused with Redis's `-BUSY` error. (SHUTDOWN goes on only with NOSAVE, which stops
/// the script.)
pub(crate) fn execute_while_busy(
    ctx: &mut Ctx<'_>,
    args: &[&[u8]],
    lookup: Lookup,
    function: bool,
) {
    let allowed = matches!(lookup, Ok(resolved) if resolved.command.has(Flags::ALLOW_BUSY));
    if allowed {
        super::execute(ctx, args, lookup);
        return;
    }
    let slot = match lookup {
        Ok(resolved) => Some(resolved.slot),
        _ => None,
    };
    super::reject(ctx, slot, busy_error(function).into());
}

/// Redis's `-BUSY` error while a script (with `function`, a function) is busy.
pub(super) fn busy_error(function: bool) -> &'static str {
    if function {
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
    } else {
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    }
}
