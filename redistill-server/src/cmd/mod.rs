//! The command table: one entry per command, the single source for dispatch, arity
//! checks and `COMMAND`'s answers. One module per command family.

use std::sync::LazyLock;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::client::{Client, ReplyMode};
use crate::shared::Shared;

mod args;
mod auth;
mod client;
mod command;
mod connection;
mod diagnostics;
mod hashes;
mod info;
mod keys;
mod metadata;
mod monitor;
mod persistence;
mod reply;
mod scan;
mod server;
mod strings;
mod touched;
mod transactions;

pub(crate) use reply::{Answer, Reply};

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

    /// Replies a store operation's result: its value as the command answers it, or the
    /// error's Redis text.
    pub fn answer<T: Answer>(&mut self, result: Result<T, redistill_store::StoreError>) {
        match result {
            Ok(value) => value.write(&mut self.reply()),
            Err(e) => self.reply().store_error(&e),
        }
    }
}

/// A command implementation; `args[0]` is the command name as sent.
pub(crate) type Handler = fn(&mut Ctx<'_>, &[&[u8]]);

/// One row of the command table, with Redis's metadata for `COMMAND`.
pub(crate) struct Command {
    /// Lower-case name.
    pub name: &'static str,
    /// Redis's arity: exact count if positive, minimum count if negative (name included).
    pub arity: i32,
    /// Redis's command flags, e.g. `write`, `readonly`, `fast`, `denyoom`.
    pub flags: &'static [&'static str],
    /// First key argument, last (negative: from the end), step; 0 0 0 for none.
    pub keys: (i32, i32, i32),
    pub handler: Handler,
    /// For a container command (CLIENT, CONFIG, ...): the lower-case subcommands it
    /// implements, which `COMMAND INFO` and `COMMAND DOCS` list.
    pub subcommands: &'static [&'static str],
    /// `flags` has `fast`: O(1) and cheap, timed by sampling.
    pub fast: bool,
    /// `flags` has `write`: it may change keys, so WATCHes of them are touched.
    pub write: bool,
    /// `flags` has `no_auth`: it runs before AUTH.
    pub no_auth: bool,
    /// `flags` has `denyoom`: it may grow memory, so it is refused while memory stays over
    /// `maxmemory`.
    pub denyoom: bool,
}

/// Whether `flags` holds `flag`; usable in constants.
const fn has_flag(flags: &[&str], flag: &str) -> bool {
    let mut i = 0;
    while i < flags.len() {
        let (a, b) = (flags[i].as_bytes(), flag.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return true;
            }
        }
        i += 1;
    }
    false
}

impl Command {
    /// A table row; `const` so each family's table is a static.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: &'static [&'static str],
        keys: (i32, i32, i32),
        handler: Handler,
    ) -> Command {
        Command {
            name,
            arity,
            flags,
            keys,
            handler,
            subcommands: &[],
            fast: has_flag(flags, "fast"),
            write: has_flag(flags, "write"),
            no_auth: has_flag(flags, "no_auth"),
            denyoom: has_flag(flags, "denyoom"),
        }
    }

    /// The same row, for a container command implementing `subcommands`.
    pub const fn with_subcommands(self, subcommands: &'static [&'static str]) -> Command {
        Command {
            subcommands,
            ..self
        }
    }
}

/// Every command family's table.
fn families() -> impl Iterator<Item = &'static Command> {
    connection::COMMANDS
        .iter()
        .chain(auth::COMMANDS)
        .chain(strings::COMMANDS)
        .chain(keys::COMMANDS)
        .chain(hashes::COMMANDS)
        .chain(scan::COMMANDS)
        .chain(info::COMMANDS)
        .chain(server::COMMANDS)
        .chain(command::COMMANDS)
        .chain(client::COMMANDS)
        .chain(transactions::COMMANDS)
        .chain(persistence::COMMANDS)
        .chain(diagnostics::COMMANDS)
        .chain(monitor::COMMANDS)
}

/// Every command, in a fixed order; a command's position is its index.
static ALL: LazyLock<Vec<&'static Command>> = LazyLock::new(|| families().collect());

/// Command index by lower-case name.
static TABLE: LazyLock<ahash::HashMap<&'static [u8], usize>> = LazyLock::new(|| {
    ALL.iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_bytes(), i))
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

/// INFO commandstats names, by slot: `get`, `config`, `config|get`, ...
static SLOT_NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    ALL.iter()
        .flat_map(|c| {
            std::iter::once(c.name.to_owned())
                .chain(c.subcommands.iter().map(|s| format!("{}|{s}", c.name)))
        })
        .collect()
});

/// How many INFO commandstats slots there are (commands and subcommands).
pub(crate) fn count() -> usize {
    SLOT_NAMES.len()
}

/// The INFO commandstats name of `slot`: `get`, or `config|get` for a subcommand.
pub(crate) fn name_of(slot: usize) -> Option<&'static str> {
    SLOT_NAMES.get(slot).map(String::as_str)
}

/// The commandstats slot of a [`last_command_code`].
fn slot_of(code: usize) -> usize {
    SLOT_BASES[code >> 8] + (code & 0xff)
}

/// `CLIENT LIST`'s `cmd=` for a request: the command's index, and for a container command
/// the position of its subcommand plus one (0 for none) in the low byte.
fn last_command_code(index: usize, command: &Command, args: &[&[u8]]) -> usize {
    let sub = match args.get(1) {
        Some(sub) if !command.subcommands.is_empty() => command
            .subcommands
            .iter()
            .position(|s| sub.eq_ignore_ascii_case(s.as_bytes()))
            .map_or(0, |p| p + 1),
        _ => 0,
    };
    index << 8 | sub.min(255)
}

/// The `cmd=` text of a [`last_command_code`]: `get`, `client|list`, or `NULL` before any.
pub(crate) fn last_command_label(code: usize) -> std::borrow::Cow<'static, str> {
    let Some(command) = ALL.get(code >> 8) else {
        return "NULL".into();
    };
    match (code & 0xff).checked_sub(1) {
        Some(sub) => command
            .subcommands
            .get(sub)
            .map_or(command.name.into(), |s| {
                format!("{}|{s}", command.name).into()
            }),
        None => command.name.into(),
    }
}

/// Longest command name; longer names are unknown without a lookup.
const MAX_NAME: usize = 32;

/// Finds a command by name, case-insensitively.
pub(crate) fn lookup(name: &[u8]) -> Option<&'static Command> {
    lookup_indexed(name).map(|(_, c)| c)
}

/// Finds a command and its index by name, case-insensitively.
fn lookup_indexed(name: &[u8]) -> Option<(usize, &'static Command)> {
    if name.len() > MAX_NAME {
        return None;
    }
    let mut lower = [0u8; MAX_NAME];
    let lower = &mut lower[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let index = *TABLE.get(&*lower)?;
    Some((index, ALL[index]))
}

/// Whether CLIENT PAUSE holds this request now: every request under PAUSE ALL; under
/// PAUSE WRITE the commands that may write, and EXEC of a transaction that queued one
/// (queueing itself is not held), as in Redis.
pub(crate) fn held_by_pause(shared: &Shared, client: &Client, args: &[&[u8]]) -> bool {
    use redistill_store::Clock as _;
    if !shared.pause.is_set() {
        return false;
    }
    let Some(mode) = shared.pause.active(shared.clock.now_ms()) else {
        return false;
    };
    if mode == crate::pause::PauseMode::All {
        return true;
    }
    let Some(command) = args.first().and_then(|name| lookup(name)) else {
        return false;
    };
    match &client.tx.queue {
        Some(queue) if command.name == "exec" => queue
            .iter()
            .any(|q| q.first().and_then(|n| lookup(n)).is_some_and(|c| c.write)),
        Some(_) => false,
        None => command.write,
    }
}

/// Whether a request is EXEC, which [`execute`] must be called for without the gate.
pub(crate) fn is_exec(args: &[&[u8]]) -> bool {
    args.first()
        .is_some_and(|name| name.eq_ignore_ascii_case(b"exec"))
}

/// Runs one request and appends its reply, unless CLIENT REPLY silences it.
///
/// The caller holds its worker's gate for reading (see `transactions`), except for EXEC
/// ([`is_exec`]), which takes every gate itself.
pub(crate) fn execute(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let reply_at = ctx.out.len();
    if ctx.client.reply_mode == ReplyMode::SkipNext {
        ctx.client.reply_mode = ReplyMode::Skip;
    }
    execute_replying(ctx, args);
    if ctx.out.get(reply_at) == Some(&b'-') {
        ctx.shared.stats.errors.record(&ctx.out[reply_at..]);
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

fn execute_replying(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let Some(name) = args.first() else {
        return;
    };
    ctx.shared.command_stats[ctx.worker].processed.add(1);
    let monitoring = ctx.shared.monitors.any();
    let Some((index, command)) = lookup_indexed(name) else {
        reply::unknown_command(ctx.out, args);
        ctx.client.tx.aborted = true;
        return;
    };
    let code = last_command_code(index, command, args);
    ctx.client.info.last_command.store(code, Ordering::Relaxed);
    // Redis counts an unknown subcommand as no command at all.
    let unknown_sub = code & 0xff == 0 && !command.subcommands.is_empty() && args.len() > 1;
    let shared = ctx.shared;
    let stats = &shared.command_stats[ctx.worker];
    let slot = (!unknown_sub).then(|| slot_of(code));
    if !arity_ok(command.arity, args.len()) {
        ctx.reply().error_fmt(format_args!(
            "ERR wrong number of arguments for '{}' command",
            command.name
        ));
        ctx.client.tx.aborted = true;
        stats.reject(slot);
        return;
    }
    if !ctx.client.authenticated && !command.no_auth {
        ctx.reply().error("NOAUTH Authentication required.");
        ctx.client.tx.aborted = true;
        stats.reject(slot);
        return;
    }
    if ctx.client.tx.queue.is_some() && command.flags.contains(&"no_multi") {
        ctx.reply()
            .error("ERR Command not allowed inside a transaction");
        ctx.client.tx.aborted = true;
        return;
    }
    if shared.store.over_memory_limit() && refused_for_memory(ctx, command) {
        stats.reject(slot);
        return;
    }
    if monitoring && monitor::refuses(ctx, slot, args) {
        stats.reject(slot);
        return;
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
    let shared = ctx.shared;
    let sampled = command.fast && !shared.slowlog.logs_everything();
    let timed = !sampled || ctx.client.next_fast_sample();
    let started = if timed {
        Some(ctx.client.timing_mark.take().unwrap_or_else(Instant::now))
    } else {
        ctx.client.timing_mark = None;
        None
    };
    let reply_at = ctx.out.len();
    if command.name == "exec" {
        // EXEC takes every worker's gate itself.
        (command.handler)(ctx, args);
    } else if ctx.client.no_touch && command.name != "touch" {
        redistill_store::Store::without_touching(|| run(ctx, command, args));
    } else {
        run(ctx, command, args);
    }
    let failed = ctx.out.get(reply_at) == Some(&b'-');
    let took = started.map(|s| {
        let now = Instant::now();
        if !command.fast {
            ctx.client.timing_mark = Some(now);
        }
        now.duration_since(s)
    });
    if let Some(took) = took {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        if shared.slowlog.is_slow(micros) && !command.flags.contains(&"skip_slowlog") {
            let name = ctx.client.name().unwrap_or_default();
            let addr = ctx.client.info.addr.to_string();
            shared.slowlog.push(args, micros, addr, name);
        }
    }
    let scale = if sampled { FAST_TIMING_SAMPLE } else { 1 };
    let elapsed = took.map(|t| t * scale);
    stats.record(slot, elapsed, failed);
    if monitoring {
        monitor::feed(ctx, slot, args);
    }
}

/// Whether `command` is queued rather than run: the client is inside MULTI and it is not
/// one of the transaction commands.
fn queues(client: &Client, command: &Command) -> bool {
    client.tx.queue.is_some() && !transactions::runs_inside_multi(command.name)
}

/// Redis's check before a command while memory is over `maxmemory`: evict first, and if
/// usage stays over the limit, refuse what may grow memory: a command flagged `denyoom`,
/// and anything but the transaction commands inside MULTI (queueing holds memory too).
/// EXEC checks its queued commands itself. True if the command was refused.
fn refused_for_memory(ctx: &mut Ctx<'_>, command: &Command) -> bool {
    let Err(oom) = ctx.shared.store.enforce_memory_limit() else {
        return false;
    };
    if !command.denyoom && !queues(ctx.client, command) {
        return false;
    }
    ctx.reply().store_error(&oom);
    ctx.client.tx.aborted = true;
    true
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
/// every queued command is timed.
fn run_queued(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let Some((index, command)) = lookup_indexed(args[0]) else {
        return;
    };
    let slot = slot_of(last_command_code(index, command, args));
    let reply_at = ctx.out.len();
    let started = Instant::now();
    run(ctx, command, args);
    let took = started.elapsed();
    let failed = ctx.out.get(reply_at) == Some(&b'-');
    let shared = ctx.shared;
    if failed {
        shared.stats.errors.record(&ctx.out[reply_at..]);
    }
    let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    if shared.slowlog.is_slow(micros) {
        let name = ctx.client.name().unwrap_or_default();
        shared
            .slowlog
            .push(args, micros, ctx.client.info.addr.to_string(), name);
    }
    shared.command_stats[ctx.worker].record(Some(slot), Some(took), failed);
    if shared.monitors.any() {
        monitor::feed(ctx, Some(slot), args);
    }
}

/// Runs a command whose arity was checked, and flags transactions watching what it changed.
fn run(ctx: &mut Ctx<'_>, command: &Command, args: &[&[u8]]) {
    if ctx.shared.watches.is_empty() || !command.write {
        return (command.handler)(ctx, args);
    }
    let before = touched::before(ctx, command, args);
    let reply_at = ctx.out.len();
    (command.handler)(ctx, args);
    let reply = &ctx.out[reply_at..];
    touched::signal(ctx.shared, ctx.client.db, command, args, reply, before);
}

/// The key arguments of a request, from the command's (first, last, step) key spec.
pub(crate) fn key_args<'a>(command: &Command, args: &[&'a [u8]]) -> impl Iterator<Item = &'a [u8]> {
    let (first, last, step) = command.keys;
    let argc = i64::try_from(args.len()).unwrap_or(i64::MAX);
    let last = if last < 0 {
        argc + i64::from(last)
    } else {
        i64::from(last)
    };
    let first = usize::try_from(first).unwrap_or(0);
    let last = usize::try_from(last).unwrap_or(0);
    let step = usize::try_from(step).unwrap_or(1).max(1);
    let range = if first == 0 {
        0..0
    } else {
        first..last.saturating_add(1).min(args.len())
    };
    args[range].iter().step_by(step).copied()
}

/// Releases what a closing client held.
pub(crate) fn disconnect(shared: &Shared, client: &mut Client) {
    shared.watches.unwatch(&client.tx.watched, &client.tx.dirty);
    client.tx.watched.clear();
    monitor::stop(shared, client, None);
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
    fn flag_booleans_follow_the_flag_lists() {
        for c in ALL.iter() {
            assert_eq!(c.fast, c.flags.contains(&"fast"), "{}", c.name);
            assert_eq!(c.write, c.flags.contains(&"write"), "{}", c.name);
            assert_eq!(c.no_auth, c.flags.contains(&"no_auth"), "{}", c.name);
            assert_eq!(c.denyoom, c.flags.contains(&"denyoom"), "{}", c.name);
        }
        assert!(lookup(b"get").is_some_and(|c| c.fast && !c.write));
        assert!(lookup(b"set").is_some_and(|c| !c.fast && c.write));
        assert!(lookup(b"auth").is_some_and(|c| c.no_auth));
    }

    #[test]
    fn every_command_name_is_lowercase_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in ALL.iter() {
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(c.name.len() <= MAX_NAME);
            assert!(seen.insert(c.name), "duplicate {}", c.name);
        }
    }
}
