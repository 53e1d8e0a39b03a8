//! MONITOR: the command, and the line every command run sends each monitoring client.
//!
//! As in Redis 7.0, a command is shown once it has run (so SELECT shows the database it
//! selected, and a transaction's commands come before its EXEC), with the arguments as
//! sent, but those its handler redacted ([`Ctx::redact`]: AUTH's and HELLO AUTH's
//! credentials) replaced by `(redacted)`. What is refused
//! before it runs (unknown, wrong arity, NOAUTH, queued inside MULTI) is not shown, nor
//! are Redis's `admin` commands (CONFIG, CLIENT LIST, SLOWLOG, MONITOR itself...).

use std::io::Write as _;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::table::flags;
use super::{Command, CommandError, CommandResult, Ctx, Flags};
use crate::client::Client;
use crate::shared::Shared;

pub(super) static COMMANDS: &[Command] =
    &[Command::new("monitor", 1, monitor).flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE))];

/// MONITOR: from now on, a line for every command any client runs. Asked again, it
/// answers nothing, as in Redis.
fn monitor(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    if ctx.client.tx.in_exec {
        return Err("ERR MONITOR isn't allowed for DENY BLOCKING client".into());
    }
    if ctx.client.monitor {
        return Ok(());
    }
    let outbox = Arc::clone(ctx.client.outbox());
    ctx.shared.monitors.add(outbox);
    ctx.client.set_monitor(true);
    ctx.reply().ok();
    Ok(())
}

/// Ends MONITOR mode (RESET, or the client leaving); with `out`, the lines that reached the
/// client before are moved there first.
pub(super) fn stop(shared: &Shared, client: &mut Client, out: Option<&mut Vec<u8>>) {
    if !client.monitor {
        return;
    }
    client.set_monitor(false);
    if let Some(outbox) = &client.outbox {
        shared.monitors.remove(outbox);
        if let Some(out) = out {
            outbox.take_into(out);
        }
    }
}

/// Redis's refusal of a command that touches the keyspace (flagged `readonly`, `write` or
/// `may_replicate`) from a monitoring client, a replica to Redis.
pub(super) fn refuses(ctx: &Ctx<'_>, command: &Command) -> Option<CommandError> {
    let keyspace = Flags::READONLY | Flags::WRITE | Flags::MAY_REPLICATE;
    (ctx.client.monitor && command.flags.intersects(keyspace))
        .then(|| "ERR Replica can't interact with the keyspace".into())
}

/// Sends every monitoring client the line for a command that has just run, unless it is
/// one Redis never shows (`admin`, `skip_monitor`).
pub(super) fn feed(ctx: &mut Ctx<'_>, command: &Command, args: &[&[u8]]) {
    let redacted = std::mem::take(&mut ctx.client.redacted);
    if command.flags.intersects(Flags::ADMIN | Flags::SKIP_MONITOR) {
        return;
    }
    let line = line(ctx.client, args, &redacted);
    let shared = ctx.shared;
    shared
        .monitors
        .for_each(|outbox| shared.push(outbox, &line));
}

/// Shows EVAL, EVALSHA and FCALL (flagged `skip_monitor`) before they run, as Redis does,
/// so that the commands their script runs follow them.
pub(super) fn feed_script_call(ctx: &Ctx<'_>, args: &[&[u8]]) {
    let shared = ctx.shared;
    if !shared.monitors.any() {
        return;
    }
    let line = line(ctx.client, args, &[]);
    shared
        .monitors
        .for_each(|outbox| shared.push(outbox, &line));
}

/// [`feed`] for a command a script ran: Redis shows `lua` where the client's address is.
pub(super) fn feed_from_script(ctx: &mut Ctx<'_>, command: &Command, args: &[&[u8]]) {
    let redacted = std::mem::take(&mut ctx.client.redacted);
    if command.flags.intersects(Flags::ADMIN | Flags::SKIP_MONITOR) {
        return;
    }
    let line = line_from(ctx.client.db, "lua", args, &redacted);
    let shared = ctx.shared;
    shared
        .monitors
        .for_each(|outbox| shared.push(outbox, &line));
}

/// Redis's MONITOR line: `+<unix time with microseconds> [<db> <address>] "arg" ...`.
fn line(client: &Client, args: &[&[u8]], redacted: &[usize]) -> Vec<u8> {
    line_from(client.db, &client.info.addr.to_string(), args, redacted)
}

fn line_from(db: usize, addr: &str, args: &[&[u8]], redacted: &[usize]) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut line = Vec::with_capacity(64 + args.iter().map(|a| a.len() + 3).sum::<usize>());
    let _ = write!(
        line,
        "+{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        db,
        addr
    );
    for (i, arg) in args.iter().enumerate() {
        line.push(b' ');
        if redacted.contains(&i) {
            line.extend_from_slice(b"\"(redacted)\"");
        } else {
            repr(&mut line, arg);
        }
    }
    line.extend_from_slice(b"\r\n");
    line
}

/// An argument quoted as Redis's `sdscatrepr` quotes it.
fn repr(out: &mut Vec<u8>, arg: &[u8]) {
    out.push(b'"');
    for &b in arg {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(arg: &[u8]) -> String {
        let mut out = Vec::new();
        repr(&mut out, arg);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn arguments_are_quoted_as_sdscatrepr_does() {
        assert_eq!(quoted(b""), r#""""#);
        assert_eq!(quoted(b"a b"), r#""a b""#);
        assert_eq!(
            quoted(b"a\"b\\c\n\r\t\x07\x08\x00\x7f\xc3\xa9~"),
            r#""a\"b\\c\n\r\t\a\b\x00\x7f\xc3\xa9~""#
        );
    }
}
