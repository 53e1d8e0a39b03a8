//! The command table and the dispatcher: one row per command and subcommand (see
//! [`table`]), the single source for dispatch, arity checks, MULTI, CLIENT PAUSE, the
//! memory check, INFO commandstats and `COMMAND`'s answers. One module per command
//! family.

use std::borrow::Cow;
use std::sync::LazyLock;
use std::sync::atomic::Ordering;
use std::time::Instant;

use redistill_store::StoreError;

use crate::client::{Client, ReplyMode};
use crate::shared::Shared;

mod args;
mod auth;
mod bitmaps;
mod blocking;
mod c_float;
mod client;
mod command;
mod config;
mod connection;
mod debug;
mod diagnostics;
mod dump;
mod functions;
mod geo;
mod hashes;
mod hyperloglog;
mod info;
pub(crate) use info::info_text;
mod keys;
mod lists;
mod metadata;
mod monitor;
mod persistence;
mod pubsub;
mod reply;
mod scan;
mod scripting;
mod server;
mod sets;
mod sort;
mod strings;
mod table;
mod tracking;
mod transactions;
mod zset_args;
mod zsets;

pub(crate) use auth::acl_permits;
pub(crate) use c_float::strtod;
pub(crate) use config::apply_memory;
pub(crate) use functions::restore_libraries;
pub(crate) use scripting::{GateOutcome, execute_while_busy, gate_or_busy};
pub(crate) use tracking::end_round as end_tracking_round;

pub(crate) use reply::{Answer, Reply};
pub(crate) use table::{Command, Flags};

/// What a command runs with: the server, its client, the client's output buffer.
pub(crate) struct Ctx<'a> {
    pub shared: &'a Shared,
    /// Index of the worker running the command (its gate).
    pub worker: usize,
    pub client: &'a mut Client,
    pub out: &'a mut Vec<u8>,
}

impl Ctx<'_> {
    /// A reply writer for this client's protocol version.
    pub fn reply(&mut self) -> Reply<'_> {
        Reply::new(self.out, self.client.version)
    }

    /// Hides argument `index` of the running command from MONITOR, as Redis redacts
    /// credentials.
    pub fn redact(&mut self, index: usize) {
        if self.shared.monitors.any() {
            self.client.redacted.push(index);
        }
    }

    /// Replies a store operation's value as the command answers it, or fails with its
    /// error.
    pub fn answer<T: Answer>(&mut self, result: Result<T, StoreError>) -> CommandResult {
        result?.write(&mut self.reply());
        Ok(())
    }
}

/// Why a command failed: the error reply the dispatcher writes and counts.
#[derive(Debug)]
pub(crate) enum CommandError {
    /// A store operation refused; the reply is Redis's text for it.
    Store(StoreError),
    /// A complete error line without its `-`, starting with its code (`ERR ...`).
    Text(Cow<'static, str>),
    /// The same, of bytes that need not be UTF-8 (arguments quoted in the error).
    Bytes(Vec<u8>),
}

/// What a handler returns: `Ok` once it has written its reply, or the error to reply.
pub(crate) type CommandResult = Result<(), CommandError>;

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError::Store(e)
    }
}

impl From<&'static str> for CommandError {
    fn from(text: &'static str) -> Self {
        CommandError::Text(text.into())
    }
}

impl From<String> for CommandError {
    fn from(text: String) -> Self {
        CommandError::Text(text.into())
    }
}

impl CommandError {
    /// The error line as Redis writes it, without `-` and CRLF; `command` is the full name
    /// of the command that failed, which some store errors name.
    pub fn text(&self, command: &str) -> Cow<'_, [u8]> {
        match self {
            CommandError::Store(e) => match reply::store_error_text(e, command) {
                Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
                Cow::Owned(text) => Cow::Owned(text.into_bytes()),
            },
            CommandError::Text(text) => Cow::Borrowed(text.as_bytes()),
            CommandError::Bytes(text) => Cow::Borrowed(text),
        }
    }
}

/// A failed command with Redis's text: `Err(fail(format_args!(...)))`.
pub(crate) fn fail(text: std::fmt::Arguments<'_>) -> CommandError {
    CommandError::Text(text.to_string().into())
}

/// The handler of a container row (CLIENT, CONFIG, ...) sent without a subcommand where
/// its arity allows that; COMMAND overrides it.
fn no_subcommand(_ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    Err(fail(format_args!(
        "ERR wrong number of arguments for '{}' command",
        String::from_utf8_lossy(args[0]).to_ascii_lowercase()
    )))
}

/// Every command family's table.
fn families() -> impl Iterator<Item = &'static Command> {
    connection::COMMANDS
        .iter()
        .chain(auth::COMMANDS)
        .chain(strings::COMMANDS)
        .chain(keys::COMMANDS)
        .chain(hashes::COMMANDS)
        .chain(lists::COMMANDS)
        .chain(zsets::COMMANDS)
        .chain(geo::COMMANDS)
        .chain(sort::COMMANDS)
        .chain(sets::COMMANDS)
        .chain(bitmaps::COMMANDS)
        .chain(hyperloglog::COMMANDS)
        .chain(blocking::COMMANDS)
        .chain(scan::COMMANDS)
        .chain(debug::COMMANDS)
        .chain(info::COMMANDS)
        .chain(server::COMMANDS)
        .chain(config::COMMANDS)
        .chain(command::COMMANDS)
        .chain(client::COMMANDS)
        .chain(transactions::COMMANDS)
        .chain(persistence::COMMANDS)
        .chain(diagnostics::COMMANDS)
        .chain(monitor::COMMANDS)
        .chain(dump::COMMANDS)
        .chain(pubsub::COMMANDS)
        .chain(scripting::COMMANDS)
        .chain(functions::COMMANDS)
}

/// Every command, in a fixed order; a command's position is its index.
static ALL: LazyLock<Vec<&'static Command>> = LazyLock::new(|| families().collect());

/// Each command by lower-case name, resolved as far as its name goes: one lookup finds the
/// row, its commandstats slot and its `cmd=` code.
static TABLE: LazyLock<ahash::HashMap<&'static [u8], Resolved>> = LazyLock::new(|| {
    ALL.iter()
        .enumerate()
        .map(|(i, c)| {
            let resolved = Resolved {
                command: c,
                slot: SLOT_BASES[i],
                code: i << 8,
            };
            (c.name.as_bytes(), resolved)
        })
        .collect()
});

/// First INFO commandstats slot of each command: a command has one slot of its own, then
/// one per subcommand (`config|get`), as Redis counts them.
static SLOT_BASES: LazyLock<Vec<usize>> = LazyLock::new(|| {
    ALL.iter()
        .scan(0, |next, c| {
            let base = *next;
            *next += 1 + c.subcommands.len();
            Some(base)
        })
        .collect()
});

/// Every row by slot: each command, then its subcommands.
static SLOTS: LazyLock<Vec<&'static Command>> = LazyLock::new(|| {
    ALL.iter()
        .flat_map(|c| std::iter::once(*c).chain(c.subcommands.iter()))
        .collect()
});

/// INFO commandstats names, by slot: `get`, `config`, `config|get`, ...
static SLOT_NAMES: LazyLock<Vec<String>> =
    LazyLock::new(|| SLOTS.iter().map(|c| c.full_name().into_owned()).collect());

/// How many INFO commandstats slots there are (commands and subcommands).
pub(crate) fn count() -> usize {
    SLOT_NAMES.len()
}

/// Every row, commands and subcommands, in INFO commandstats order.
pub(crate) fn rows() -> impl Iterator<Item = &'static Command> {
    SLOTS.iter().copied()
}

/// The INFO commandstats name of `slot`: `get`, or `config|get` for a subcommand.
pub(crate) fn name_of(slot: usize) -> Option<&'static str> {
    SLOT_NAMES.get(slot).map(String::as_str)
}

/// A request matched to its row.
#[derive(Clone, Copy)]
pub(crate) struct Resolved {
    pub command: &'static Command,
    /// Its INFO commandstats slot.
    pub slot: usize,
    /// `CLIENT LIST`'s `cmd=` code: the command's index, and for a subcommand its position
    /// plus one in the low byte.
    pub code: usize,
}

/// Why a request has no row to run.
#[derive(Clone, Copy)]
pub(crate) enum Unresolved {
    /// No such command.
    Unknown,
    /// A container sent without a subcommand where its arity needs one: an arity error of
    /// the container, counted as one of its calls.
    ContainerArity(Resolved),
    /// A container with an unknown subcommand: not counted, as in Redis.
    UnknownSubcommand,
}

/// A request's row, or why it has none: looked up once per request, by the connection
/// (which must know whether the command takes every gate) and then by [`execute`].
pub(crate) type Lookup = Result<Resolved, Unresolved>;

/// The command name a connection resolved last, with its row: a pipeline mostly repeats
/// one command, whose name then costs a comparison instead of a lookup.
#[derive(Default)]
pub(crate) struct LastCommand {
    name: [u8; 16],
    len: usize,
    resolved: Option<Resolved>,
}

impl LastCommand {
    /// [`resolve`], answered from the last name when this one is byte for byte the same
    /// (only commands without subcommands are kept, whose row the name alone decides).
    #[inline(always)]
    pub(crate) fn resolve(&mut self, args: &[&[u8]]) -> Lookup {
        let name = args[0];
        if let Some(resolved) = self.resolved
            && redistill_store::same_key(name, &self.name[..self.len])
        {
            return Ok(resolved);
        }
        self.resolve_new(args)
    }

    /// [`Self::resolve`] of a name other than the last: looked up, and kept.
    #[inline(never)]
    fn resolve_new(&mut self, args: &[&[u8]]) -> Lookup {
        let name = args[0];
        let lookup = resolve(args);
        self.resolved = None;
        // A subcommand's row (low byte of its code set) depends on more than the name.
        if let Ok(resolved) = lookup
            && resolved.code & 0xff == 0
            && resolved.command.subcommands.is_empty()
            && name.len() <= self.name.len()
        {
            self.name[..name.len()].copy_from_slice(name);
            self.len = name.len();
            self.resolved = Some(resolved);
        }
        lookup
    }
}

/// Finds a request's row: the command by name, case-insensitively, and for a container its
/// subcommand. `args` is not empty.
pub(crate) fn resolve(args: &[&[u8]]) -> Lookup {
    let top = lookup_resolved(args[0]).ok_or(Unresolved::Unknown)?;
    let command = top.command;
    if command.subcommands.is_empty() {
        return Ok(top);
    }
    let Some(sub) = args.get(1) else {
        return if arity_ok(command.arity, args.len()) {
            Ok(top)
        } else {
            Err(Unresolved::ContainerArity(top))
        };
    };
    let position = command
        .subcommands
        .iter()
        .position(|s| sub.eq_ignore_ascii_case(s.name.as_bytes()))
        .ok_or(Unresolved::UnknownSubcommand)?;
    Ok(Resolved {
        command: &command.subcommands[position],
        slot: top.slot + 1 + position,
        code: top.code | (position + 1).min(255),
    })
}

/// Finds the row a full request names, subcommand included; `None` for an unknown command
/// or subcommand.
pub(crate) fn lookup_request(args: &[&[u8]]) -> Option<&'static Command> {
    match resolve(args) {
        Ok(resolved) | Err(Unresolved::ContainerArity(resolved)) => Some(resolved.command),
        Err(_) => None,
    }
}

/// The `cmd=` text of a [`Resolved::code`]: `get`, `client|list`, or `NULL` before any.
pub(crate) fn last_command_label(code: usize) -> Cow<'static, str> {
    let Some(command) = ALL.get(code >> 8) else {
        return "NULL".into();
    };
    match (code & 0xff).checked_sub(1) {
        Some(sub) => command
            .subcommands
            .get(sub)
            .map_or(command.name.into(), Command::full_name),
        None => command.name.into(),
    }
}

/// Longest command name; longer names are unknown without a lookup.
const MAX_NAME: usize = 32;

/// Finds a top-level command by name, case-insensitively.
pub(crate) fn lookup(name: &[u8]) -> Option<&'static Command> {
    lookup_resolved(name).map(|r| r.command)
}

/// Finds a top-level command, with its slot and code, by name, case-insensitively.
fn lookup_resolved(name: &[u8]) -> Option<Resolved> {
    if name.len() > MAX_NAME {
        return None;
    }
    let mut lower = [0u8; MAX_NAME];
    let lower = &mut lower[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    TABLE.get(&*lower).copied()
}

/// Whether CLIENT PAUSE holds this request now: every request under PAUSE ALL; under
/// PAUSE WRITE the commands that may write or replicate (PUBLISH), and EXEC of a transaction that queued one
/// (queueing itself is not held), as in Redis. A script's or function's declared flags
/// decide for EVAL and FCALL (see [`scripting::run_flags`]).
#[inline]
pub(crate) fn held_by_pause(
    shared: &Shared,
    client: &Client,
    lookup: &Lookup,
    args: &[&[u8]],
) -> bool {
    shared.pause.is_set() && held_by_set_pause(shared, client, lookup, args)
}

/// [`held_by_pause`] once a pause is set.
#[cold]
fn held_by_set_pause(shared: &Shared, client: &Client, lookup: &Lookup, args: &[&[u8]]) -> bool {
    use redistill_store::Clock as _;
    let Some(mode) = shared.pause.active(shared.clock.now_ms()) else {
        return false;
    };
    if mode == crate::pause::PauseMode::All {
        return true;
    }
    let command = match lookup {
        Ok(resolved) | Err(Unresolved::ContainerArity(resolved)) => resolved.command,
        Err(_) => return false,
    };
    // What a replica would be sent: writes, and PUBLISH.
    let replicated = Flags::WRITE | Flags::MAY_REPLICATE;
    match &client.tx.queue {
        Some(queue) if command.has(Flags::RUNS_QUEUE) => queue.iter().any(|q| {
            let args: Vec<&[u8]> = q.iter().map(|a| a.as_ref()).collect();
            lookup_request(&args)
                .is_some_and(|c| scripting::run_flags(shared, c, &args).intersects(replicated))
        }),
        Some(_) => false,
        None => scripting::run_flags(shared, command, args).intersects(replicated),
    }
}

/// Whether a looked-up request takes the gates it needs itself (EXEC, which runs a
/// transaction's queue, DEBUG and SORT): [`execute`] must be called for it without the gate.
pub(crate) fn takes_all_gates(lookup: &Lookup) -> bool {
    matches!(lookup, Ok(resolved) if resolved.command.flags.intersects(Flags::RUNS_QUEUE | Flags::OWN_GATES))
}

/// Runs one request, looked up with [`resolve`], and appends its reply, unless CLIENT
/// REPLY silences it. `args` is not empty.
///
/// The caller holds its worker's gate for reading (see `transactions`), except for the
/// commands that take their gates themselves ([`takes_all_gates`]).
pub(crate) fn execute(ctx: &mut Ctx<'_>, args: &[&[u8]], lookup: Lookup) {
    ctx.client.reply_from = ctx.out.len();
    if ctx.client.reply_mode == ReplyMode::SkipNext {
        ctx.client.reply_mode = ReplyMode::Skip;
    }
    let before = ctx.client.reply_mode;
    execute_replying(ctx, args, lookup);
    // What is silenced is the reply: pushes placed before it go out (see `reply_from`).
    let reply_at = ctx.client.reply_from.min(ctx.out.len());
    if ctx.client.tracking.is_some() {
        let command = match lookup {
            Ok(resolved) | Err(Unresolved::ContainerArity(resolved)) => Some(resolved.command),
            Err(_) => None,
        };
        tracking::after_request(ctx.client, command);
    }
    // CLIENT REPLY run by EXEC applies from the next request: EXEC's own reply is sent or
    // not as the mode it was sent under says.
    if ctx.client.reply_mode != before && takes_all_gates(&lookup) {
        if before != ReplyMode::On {
            ctx.out.truncate(reply_at);
        }
        return;
    }
    match ctx.client.reply_mode {
        ReplyMode::On => {}
        ReplyMode::Off => ctx.out.truncate(reply_at),
        ReplyMode::Skip => {
            ctx.out.truncate(reply_at);
            ctx.client.reply_mode = ReplyMode::On;
        }
        // This request was CLIENT REPLY SKIP, which answers nothing.
        ReplyMode::SkipNext => ctx.out.truncate(reply_at),
    }
}

/// Replies the error of `command` (none before one is found) and counts it in the error
/// statistics.
fn reply_error(ctx: &mut Ctx<'_>, error: &CommandError, command: Option<&Command>) {
    let name = command.map(Command::full_name).unwrap_or_default();
    let text = error.text(&name);
    ctx.shared.stats.errors.record(&text);
    ctx.reply().error(&text);
}

/// Refuses a request before it runs: the error is replied and counted, the call counted as
/// rejected, and a transaction being queued is aborted.
fn reject(ctx: &mut Ctx<'_>, slot: Option<usize>, error: CommandError) {
    reply_error(ctx, &error, None);
    ctx.client.tx.aborted = true;
    ctx.shared.command_stats[ctx.worker].reject(slot);
}

fn execute_replying(ctx: &mut Ctx<'_>, args: &[&[u8]], lookup: Lookup) {
    ctx.shared.command_stats[ctx.worker].processed.add(1);
    let monitoring = ctx.shared.monitors.any();
    let resolved = match lookup {
        Ok(resolved) => resolved,
        Err(Unresolved::Unknown) => {
            let error = CommandError::Bytes(reply::unknown_command_text(args));
            return reject(ctx, None, error);
        }
        Err(Unresolved::ContainerArity(top)) => {
            ctx.client
                .info
                .last_command
                .store(top.code, Ordering::Relaxed);
            return reject(ctx, Some(top.slot), arity_error(top.command));
        }
        Err(Unresolved::UnknownSubcommand) => {
            ctx.client.info.last_command.store(
                lookup_resolved(args[0]).map_or(0, |r| r.code),
                Ordering::Relaxed,
            );
            let error = CommandError::Bytes(reply::unknown_subcommand_text(args[0], args[1]));
            return reject(ctx, None, error);
        }
    };
    let command = resolved.command;
    let slot = Some(resolved.slot);
    ctx.client
        .info
        .last_command
        .store(resolved.code, Ordering::Relaxed);
    if !arity_ok(command.arity, args.len()) {
        return reject(ctx, slot, arity_error(command));
    }
    if command.has(Flags::PROTECTED) && !debug::allowed(ctx) {
        return reject(ctx, slot, debug::NOT_ALLOWED.into());
    }
    if !ctx.client.authenticated && !command.has(Flags::NO_AUTH) {
        return reject(ctx, slot, "NOAUTH Authentication required.".into());
    }
    if ctx.client.tx.queue.is_some() && command.has(Flags::NO_MULTI) {
        let error = "ERR Command not allowed inside a transaction".into();
        reply_error(ctx, &error, Some(command));
        ctx.client.tx.aborted = true;
        return;
    }
    let shared = ctx.shared;
    if shared.store.over_memory_limit()
        && let Some(oom) = refused_for_memory(ctx, command, args)
    {
        return reject(ctx, slot, oom);
    }
    if monitoring && let Some(refused) = monitor::refuses(ctx, command) {
        return reject(ctx, slot, refused);
    }
    let tracking = shared.tracking.is_live();
    let _running = tracking.then(|| tracking::before(ctx));
    if let Some(refused) = pubsub::refuses(ctx, command) {
        return reject(ctx, slot, refused);
    }
    if shared.persistence.loading().active() && refused_while_loading(ctx.client, command) {
        return reject(ctx, slot, crate::loading::LOADING_ERROR.into());
    }
    if queues(ctx.client, command) {
        ctx.client.tx.enqueue(args);
        ctx.reply().simple(b"QUEUED");
        return;
    }
    // A clock read costs as much as a fast command itself: fast commands are timed one
    // call in FAST_TIMING_SAMPLE and their time scaled up; the others always, and a run
    // of them shares reads (one command's end is the next one's start).
    // With slowlog-log-slower-than 0 every command is logged, so every one is timed.
    let fast = command.has(Flags::FAST);
    let sampled = fast && !shared.slowlog.logs_everything();
    let timed = !sampled || ctx.client.next_fast_sample();
    let started = if timed {
        Some(ctx.client.timing_mark.take().unwrap_or_else(Instant::now))
    } else {
        ctx.client.timing_mark = None;
        None
    };
    if tracking {
        tracking::remember(ctx, command, args, tracking::When::Ahead);
    }
    let reply_at = ctx.out.len();
    let result = if ctx.client.no_touch && !command.has(Flags::TOUCHES_ANYWAY) {
        redistill_store::Store::without_touching(|| (command.handler)(ctx, args))
    } else {
        (command.handler)(ctx, args)
    };
    let failed = result.is_err();
    if let Err(error) = result {
        reply_error(ctx, &error, Some(command));
    }
    // Before the MONITOR line of this command, which comes after its reply.
    if !ctx.client.subscriptions.is_empty() {
        pubsub::place_own_messages(ctx, reply_at);
    }
    // After the client's own messages: an invalidation its command caused for itself
    // follows its reply, as in Redis.
    if tracking {
        tracking::remember(ctx, command, args, tracking::When::After);
        tracking::deliver(shared);
    }
    let took = started.map(|s| {
        let now = Instant::now();
        if !fast {
            ctx.client.timing_mark = Some(now);
        }
        now.duration_since(s)
    });
    if let Some(took) = took {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        if shared.slowlog.is_slow(micros) && !command.has(Flags::SKIP_SLOWLOG) {
            let name = ctx.client.name().unwrap_or_default();
            let addr = ctx.client.info.addr.to_string();
            shared.slowlog.push(args, micros, addr, name);
        }
    }
    let scale = if sampled { FAST_TIMING_SAMPLE } else { 1 };
    let elapsed = took.map(|t| t * scale);
    shared.command_stats[ctx.worker].record(slot, elapsed, failed);
    if monitoring {
        monitor::feed(ctx, command, args);
    } else if !ctx.client.redacted.is_empty() {
        // A monitor arrived while the command ran.
        ctx.client.redacted.clear();
    }
}

/// Redis's arity error for a row.
fn arity_error(command: &Command) -> CommandError {
    wrong_arity(&command.full_name())
}

/// For HRANDFIELD, SRANDMEMBER and ZRANDMEMBER with a negative `count` (repeats allowed,
/// so any size) on a key of `len` elements (asked only for such a count): whether the
/// reply would exceed the normal clients' hard output limit, every element taking at least
/// 6 bytes (`$0\r\n\r\n`). Redis would stream it until the limit closed the client;
/// building it whole first could exhaust memory, so the client is marked to close after
/// answering nothing, and this returns true.
pub(super) fn close_if_picks_overflow(
    ctx: &mut Ctx<'_>,
    name: &str,
    count: i64,
    len: impl FnOnce(&Ctx<'_>) -> Result<usize, redistill_store::StoreError>,
) -> bool {
    if count >= 0 {
        return false;
    }
    let limit = ctx
        .shared
        .config
        .read()
        .server
        .client_output_buffer_limit
        .normal
        .hard_limit_bytes;
    let over = limit > 0
        && count.unsigned_abs().saturating_mul(6) > limit
        && matches!(len(ctx), Ok(n) if n > 0);
    if over {
        log::warn!(
            "closing client id={}: {name} {count} would exceed client-output-buffer-limit",
            ctx.client.id()
        );
        ctx.client.close_after_reply = true;
    }
    over
}

/// Redis's arity error for the command `name` (lowercase; `container|sub` for a
/// subcommand), for handlers whose arity the table cannot express (pairs, optional counts).
pub(super) fn wrong_arity(name: &str) -> CommandError {
    fail(format_args!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

/// [`wrong_arity`] of the command as the client named it.
pub(super) fn wrong_arity_of(args: &[&[u8]]) -> CommandError {
    wrong_arity(&String::from_utf8_lossy(args[0]).to_ascii_lowercase())
}

/// Whether `command` is queued rather than run: the client is inside MULTI and it is not
/// one of the transaction commands.
fn queues(client: &Client, command: &Command) -> bool {
    client.tx.queue.is_some() && !command.has(Flags::TRANSACTION_CONTROL)
}

/// Whether `command` waits for the snapshot to load (Redis's check against its `loading`
/// flag): any command without the flag, and EXEC of a queue holding one.
fn refused_while_loading(client: &Client, command: &Command) -> bool {
    if !command.has(Flags::LOADING) {
        return true;
    }
    match &client.tx.queue {
        Some(queue) if command.has(Flags::RUNS_QUEUE) => queue.iter().any(|q| {
            let args: Vec<&[u8]> = q.iter().map(|a| a.as_ref()).collect();
            lookup_request(&args).is_none_or(|c| !c.has(Flags::LOADING))
        }),
        _ => false,
    }
}

/// Redis's check before a command while memory is over `maxmemory`: evict first, and if
/// usage stays over the limit, refuse what may grow memory: a command flagged `denyoom`,
/// and anything but the transaction commands inside MULTI (queueing holds memory too).
/// EXEC checks its queued commands itself. A script's or function's declared flags decide
/// for EVAL and FCALL (see [`scripting::run_flags`]). The error if the command is refused.
fn refused_for_memory(
    ctx: &mut Ctx<'_>,
    command: &Command,
    args: &[&[u8]],
) -> Option<CommandError> {
    let Err(oom) = ctx.shared.store.enforce_memory_limit() else {
        return None;
    };
    let flags = scripting::run_flags(ctx.shared, command, args);
    if !flags.contains(Flags::DENYOOM) && !queues(ctx.client, command) {
        return None;
    }
    Some(oom.into())
}

pub(crate) use crate::stats::FAST_TIMING_SAMPLE;

/// INFO commandstats lines for every command and subcommand called since the last reset.
pub(crate) fn command_stats_text(shared: &Shared, out: &mut String) {
    use std::fmt::Write as _;
    for (slot, name) in SLOT_NAMES.iter().enumerate() {
        let (mut calls, mut usec, mut rejected, mut failed) = (0, 0, 0, 0);
        for worker in &shared.command_stats {
            let (c, u, r, f) = worker.get(slot);
            calls += c;
            usec += u;
            rejected += r;
            failed += f;
        }
        if calls + rejected == 0 {
            continue;
        }
        let per_call = if calls == 0 {
            0.0
        } else {
            usec as f64 / calls as f64
        };
        let _ = write!(
            out,
            "cmdstat_{name}:calls={calls},usec={usec},usec_per_call={per_call:.2},\
             rejected_calls={rejected},failed_calls={failed}\r\n",
        );
    }
}

/// Runs a queued command of a transaction, counted, timed and slow-logged on its own as
/// Redis does (EXEC itself is not slow-logged). Transactions are not the hot path, so
/// every queued command is timed. Its error, if any, is replied in EXEC's array.
fn run_queued(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let Ok(Resolved { command, slot, .. }) = resolve(args) else {
        return;
    };
    let tracking = ctx.shared.tracking.is_live();
    if tracking {
        tracking::remember(ctx, command, args, tracking::When::Ahead);
    }
    let reply_at = ctx.out.len();
    let started = Instant::now();
    let result = (command.handler)(ctx, args);
    let took = started.elapsed();
    // The invalidations the transaction causes go out once EXEC is done: those for the
    // client itself after EXEC's reply, as in Redis.
    if tracking {
        tracking::remember(ctx, command, args, tracking::When::After);
    }
    let failed = result.is_err();
    if let Err(error) = result {
        reply_error(ctx, &error, Some(command));
    }
    // A subscribed client's own messages come inside EXEC's array, before the reply of
    // the command that raised them.
    if !ctx.client.subscriptions.is_empty() {
        pubsub::place_own_messages(ctx, reply_at);
    }
    let shared = ctx.shared;
    let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    if shared.slowlog.is_slow(micros) {
        let name = ctx.client.name().unwrap_or_default();
        shared
            .slowlog
            .push(args, micros, ctx.client.info.addr.to_string(), name);
    }
    shared.command_stats[ctx.worker].record(Some(slot), Some(took), failed);
    if shared.monitors.any() {
        monitor::feed(ctx, command, args);
    } else {
        ctx.client.redacted.clear();
    }
}

/// Releases what a closing client held.
pub(crate) fn disconnect(shared: &Shared, client: &mut Client) {
    shared.watches.unwatch(&client.tx.watched, &client.tx.dirty);
    client.tx.watched.clear();
    if let Some(waiter) = client.blocked.take() {
        shared.blocking.cancel(&waiter);
    }
    monitor::stop(shared, client, None);
    tracking::stop(shared, client);
    shared.tracking.client_gone(client.info.id);
    pubsub::drop_all(shared, client);
    if let Some(outbox) = client.outbox.take() {
        outbox.close();
    }
    shared.clients.remove(client.info.id);
}

pub(crate) fn arity_ok(arity: i32, argc: usize) -> bool {
    let argc = i64::try_from(argc).unwrap_or(i64::MAX);
    let arity = i64::from(arity);
    if arity >= 0 {
        argc == arity
    } else {
        argc >= -arity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_command_answers_as_resolve() {
        let mut last = LastCommand::default();
        let requests: [&[&[u8]]; 8] = [
            &[b"GET", b"k"],
            &[b"GET", b"k"],
            &[b"get", b"k"],
            &[b"MEMORY", b"PURGE"],
            &[b"MEMORY", b"MALLOC-STATS"],
            &[b"MEMORY", b"nosuch"],
            &[b"nosuch"],
            &[b"GET", b"k"],
        ];
        for args in requests {
            let label = |l: Lookup| l.ok().map(|r| (r.command.full_name(), r.slot, r.code));
            assert_eq!(label(last.resolve(args)), label(resolve(args)), "{args:?}");
        }
    }

    #[test]
    fn lookup_ignores_case_and_rejects_long_names() {
        assert_eq!(lookup(b"GET").map(|c| c.name), Some("get"));
        assert_eq!(lookup(b"gEt").map(|c| c.name), Some("get"));
        assert!(lookup(b"nosuchcommand").is_none());
        assert!(lookup(&[b'a'; 100]).is_none());
    }

    #[test]
    fn arity_rules_follow_redis() {
        assert!(arity_ok(2, 2));
        assert!(!arity_ok(2, 3));
        assert!(arity_ok(-2, 2));
        assert!(arity_ok(-2, 5));
        assert!(!arity_ok(-2, 1));
    }

    #[test]
    fn subcommands_resolve_to_rows_of_their_own() {
        let list = lookup_request(&[b"CLIENT", b"List"]).expect("client|list");
        assert_eq!(list.full_name(), "client|list");
        assert!(lookup_request(&[b"client", b"nosuch"]).is_none());
        assert_eq!(lookup_request(&[b"client"]).map(|c| c.name), Some("client"));
        let Ok(resolved) = resolve(&[b"client", b"list"]) else {
            panic!("client|list resolves");
        };
        assert_eq!(name_of(resolved.slot), Some("client|list"));
        assert_eq!(last_command_label(resolved.code), "client|list");
    }

    #[test]
    fn every_name_is_lowercase_and_unique_and_every_slot_named() {
        let mut seen = std::collections::HashSet::new();
        for c in SLOTS.iter() {
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(c.name.len() <= MAX_NAME);
            assert!(seen.insert(c.full_name()), "duplicate {}", c.full_name());
            assert_eq!(
                c.container.is_some(),
                !ALL.iter().any(|t| std::ptr::eq(*t, *c))
            );
        }
        assert_eq!(SLOTS.len(), count());
    }
}
