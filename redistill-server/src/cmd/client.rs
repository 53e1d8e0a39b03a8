//! CLIENT: what clients send about themselves on connect, and the client list.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use redistill_store::Clock;

use super::args::{SYNTAX, is, parse_i64};
use super::table::{acl, flags};
use super::{Command, CommandError, CommandResult, Ctx, fail};
use crate::client::ReplyMode;
use crate::clients::ClientInfo;
use crate::pause::PauseMode;

pub(super) static COMMANDS: &[Command] =
    &[Command::new("client", -2, super::no_subcommand).subcommands(CLIENT)];

static CLIENT: &[Command] = &[
    Command::sub("client", "caching", 3, super::tracking::client_caching)
        .flags(flags!(NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("client", "getname", 2, client_getname)
        .flags(flags!(NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("client", "getredir", 2, super::tracking::client_getredir)
        .flags(flags!(NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("client", "help", 2, client_help)
        .flags(flags!(LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("client", "id", 2, client_id)
        .flags(flags!(NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("client", "info", 2, client_info)
        .flags(flags!(NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION))
        .tips(&["nondeterministic_output"]),
    Command::sub("client", "kill", -3, client_kill)
        .flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("client", "list", -2, client_list)
        .flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION))
        .tips(&["nondeterministic_output"]),
    Command::sub("client", "no-evict", 3, client_no_evict)
        .flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION)),
    // Redis 7.2.
    Command::sub("client", "no-touch", 3, client_no_touch)
        .flags(flags!(NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("client", "pause", -3, client_pause)
        .flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("client", "reply", 3, client_reply)
        .flags(flags!(NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION)),
    // Redis 7.2.
    Command::sub("client", "setinfo", 4, client_setinfo)
        .flags(flags!(NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION))
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    Command::sub("client", "setname", 3, client_setname)
        .flags(flags!(NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("client", "tracking", -3, super::tracking::client_tracking)
        .flags(flags!(NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub(
        "client",
        "trackinginfo",
        2,
        super::tracking::client_trackinginfo,
    )
    .flags(flags!(NOSCRIPT | LOADING | STALE))
    .acl(acl!(CONNECTION)),
    Command::sub("client", "unblock", -3, client_unblock)
        .flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION)),
    Command::sub("client", "unpause", 2, client_unpause)
        .flags(flags!(ADMIN | NOSCRIPT | LOADING | STALE))
        .acl(acl!(CONNECTION)),
];

/// Redis refuses names and library fields with spaces, newlines or other special bytes.
fn printable_without_spaces(s: &[u8]) -> bool {
    s.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// Whether CLIENT SETNAME and HELLO SETNAME take `name` (empty clears the name).
pub(super) fn valid_name(name: &[u8]) -> bool {
    printable_without_spaces(name)
}

/// The error for a name that [`valid_name`] refuses.
pub(super) const BAD_NAME: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";

fn client_id(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let id = i64::try_from(ctx.client.id()).unwrap_or(i64::MAX);
    ctx.reply().int(id);
    Ok(())
}

fn client_setname(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let name = args[2];
    if !valid_name(name) {
        return Err(BAD_NAME.into());
    }
    ctx.client
        .set_name((!name.is_empty()).then(|| Bytes::copy_from_slice(name)));
    ctx.reply().ok();
    Ok(())
}

fn client_getname(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let name = ctx.client.name();
    ctx.reply().opt_bulk(name.as_deref());
    Ok(())
}

fn client_setinfo(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    setinfo(ctx, args[2], args[3])
}

fn client_info(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let now = ctx.shared.clock.now_ms();
    let line = ctx.client.info.line(now, super::last_command_label);
    verbatim(ctx, &line);
    Ok(())
}

fn client_list(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    list(ctx, &args[2..])
}

fn client_kill(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    kill(ctx, &args[2..])
}

/// ON or OFF, as CLIENT NO-EVICT and NO-TOUCH read it.
fn on_off(arg: &[u8]) -> Result<bool, CommandError> {
    match arg {
        a if is(a, "ON") => Ok(true),
        a if is(a, "OFF") => Ok(false),
        _ => Err(SYNTAX.into()),
    }
}

/// NO-EVICT exempts a client from client eviction, which this server does not do (it
/// never evicts clients), so only its syntax matters.
fn client_no_evict(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    ctx.client.set_no_evict(on_off(args[2])?);
    ctx.reply().ok();
    Ok(())
}

fn client_no_touch(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    ctx.client.set_no_touch(on_off(args[2])?);
    ctx.reply().ok();
    Ok(())
}

fn client_reply(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    reply_mode(ctx, args[2])
}

fn client_unblock(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    if args.len() > 4 {
        return Err(
            "ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP."
                .into(),
        );
    }
    unblock(ctx, &args[2..])
}

fn client_pause(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    if args.len() > 4 {
        return Err(
            "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP."
                .into(),
        );
    }
    pause(ctx, &args[2..])
}

fn client_unpause(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.shared.pause.unpause();
    ctx.shared.wake_workers();
    ctx.reply().ok();
    Ok(())
}

fn client_help(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().help(HELP);
    Ok(())
}

/// CLIENT PAUSE timeout [WRITE|ALL]
fn pause(ctx: &mut Ctx<'_>, opts: &[&[u8]]) -> CommandResult {
    let timeout = match parse_i64(opts[0]) {
        None => {
            return Err("ERR timeout is not an integer or out of range".into());
        }
        Some(t) if t < 0 => return Err("ERR timeout is negative".into()),
        Some(t) => t.unsigned_abs(),
    };
    let mode = match opts.get(1) {
        None => PauseMode::All,
        Some(m) if is(m, "ALL") => PauseMode::All,
        Some(m) if is(m, "WRITE") => PauseMode::Write,
        Some(_) => {
            return Err("ERR CLIENT PAUSE mode must be WRITE or ALL".into());
        }
    };
    let now = ctx.shared.clock.now_ms();
    // Redis 7.0 adds the timeout to the clock as a signed 64-bit sum: one that overflows
    // wraps into the past, and the pause ends before it begins.
    if let Some(end) = now
        .checked_add(timeout)
        .filter(|&end| end <= i64::MAX as u64)
    {
        ctx.shared.pause.pause(now, end, mode);
    }
    ctx.reply().ok();
    Ok(())
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends a blocked client's wait as if it timed out,
/// or with an error; 1 if the client was blocked.
fn unblock(ctx: &mut Ctx<'_>, opts: &[&[u8]]) -> CommandResult {
    let Some(id) = parse_i64(opts[0]) else {
        return Err(super::args::NOT_INTEGER.into());
    };
    let error = match opts.get(1) {
        None => false,
        Some(reason) if is(reason, "TIMEOUT") => false,
        Some(reason) if is(reason, "ERROR") => true,
        Some(_) => return Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into()),
    };
    let (shared, worker) = (ctx.shared, ctx.worker);
    let line = error.then_some(&b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"[..]);
    let unblocked = u64::try_from(id).is_ok_and(|id| {
        shared
            .blocking
            .unblock(id, line, |outbox| shared.wake_unblocked(outbox, worker))
    });
    if unblocked && error {
        shared
            .stats
            .errors
            .record(b"UNBLOCKED client unblocked via CLIENT UNBLOCK");
    }
    ctx.reply().bool_int(unblocked);
    Ok(())
}

/// `CLIENT HELP`: Redis 7.2's text for the subcommands this server has.
const HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "HELP",
    "    Prints this help.",
];

/// CLIENT REPLY ON|OFF|SKIP. OFF and SKIP answer nothing; [`super::execute`] drops the
/// replies they silence.
fn reply_mode(ctx: &mut Ctx<'_>, mode: &[u8]) -> CommandResult {
    // Run by EXEC, OFF and SKIP answer +OK too: each queued command fills its place in
    // EXEC's array, and the mode applies from the request after EXEC.
    let in_exec = ctx.client.tx.in_exec;
    if is(mode, "ON") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.reply().ok();
    } else if is(mode, "OFF") {
        ctx.client.reply_mode = ReplyMode::Off;
        if in_exec {
            ctx.reply().ok();
        }
    } else if is(mode, "SKIP") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
        if in_exec {
            ctx.reply().ok();
        }
    } else {
        return Err(SYNTAX.into());
    }
    Ok(())
}

fn verbatim(ctx: &mut Ctx<'_>, text: &str) {
    let version = ctx.client.version;
    redistill_resp::encode::write_verbatim(ctx.out, version, *b"txt", text.as_bytes());
}

/// CLIENT SETINFO LIB-NAME name | LIB-VER version (Redis 7.2).
fn setinfo(ctx: &mut Ctx<'_>, attr: &[u8], value: &[u8]) -> CommandResult {
    let lib_name = is(attr, "LIB-NAME");
    if !lib_name && !is(attr, "LIB-VER") {
        let attr = String::from_utf8_lossy(attr);
        return Err(fail(format_args!("ERR Unrecognized option '{attr}'")));
    }
    if !printable_without_spaces(value) {
        let attr = String::from_utf8_lossy(attr).to_ascii_lowercase();
        return Err(fail(format_args!(
            "ERR {attr} cannot contain spaces, newlines or special characters."
        )));
    }
    let value = (!value.is_empty()).then(|| Bytes::copy_from_slice(value));
    let mut names = ctx.client.info.names.lock();
    if lib_name {
        names.lib_name = value;
    } else {
        names.lib_version = value;
    }
    drop(names);
    ctx.reply().ok();
    Ok(())
}

/// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id [id ...]]
fn list(ctx: &mut Ctx<'_>, opts: &[&[u8]]) -> CommandResult {
    let mut ids: Option<Vec<u64>> = None;
    // The type asked for: normal (false), pubsub (true), or one no client has (None).
    let mut pubsub = None;
    let mut typed = false;
    match opts {
        [] => {}
        [ty, kind] if is(ty, "TYPE") => {
            typed = true;
            if is(kind, "normal") {
                pubsub = Some(false);
            } else if is(kind, "pubsub") {
                pubsub = Some(true);
            } else if ["master", "replica", "slave"].iter().any(|k| is(kind, k)) {
            } else {
                let kind = String::from_utf8_lossy(kind);
                return Err(fail(format_args!("ERR Unknown client type '{kind}'")));
            }
        }
        [id, rest @ ..] if is(id, "ID") && !rest.is_empty() => {
            let mut wanted = Vec::with_capacity(rest.len());
            for id in rest {
                match parse_i64(id)
                    .and_then(|i| u64::try_from(i).ok())
                    .filter(|&i| i > 0)
                {
                    Some(id) => wanted.push(id),
                    None => return Err("ERR Invalid client ID".into()),
                }
            }
            ids = Some(wanted);
        }
        _ => return Err(SYNTAX.into()),
    }
    let now = ctx.shared.clock.now_ms();
    let mut text = String::new();
    for info in ctx.shared.clients.all() {
        let type_ok = !typed || pubsub == Some(info.is_pubsub());
        if type_ok && ids.as_ref().is_none_or(|ids| ids.contains(&info.id)) {
            text.push_str(&info.line(now, super::last_command_label));
        }
    }
    verbatim(ctx, &text);
    Ok(())
}

/// CLIENT KILL addr:port | CLIENT KILL [ID id] [ADDR addr] [LADDR addr] [USER name]
/// [SKIPME yes|no] [TYPE type]
fn kill(ctx: &mut Ctx<'_>, opts: &[&[u8]]) -> CommandResult {
    let me = ctx.client.id();
    if let [addr] = opts {
        // The old form: one address, +OK or an error.
        let victim = ctx
            .shared
            .clients
            .all()
            .into_iter()
            .find(|c| c.addr.to_string().as_bytes() == *addr);
        let victim = victim.ok_or("ERR No such client")?;
        kill_one(ctx, &victim, me);
        ctx.reply().ok();
        return Ok(());
    }
    if !opts.len().is_multiple_of(2) {
        return Err(SYNTAX.into());
    }
    let mut id = None;
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut user_ok = true;
    // The type asked for, if any: normal (false), pubsub (true), or one no client has.
    let mut wanted_type: Option<Option<bool>> = None;
    let mut skip_me = true;
    for pair in opts.chunks_exact(2) {
        let (field, value) = (pair[0], pair[1]);
        if is(field, "ID") {
            match parse_i64(value)
                .and_then(|i| u64::try_from(i).ok())
                .filter(|&i| i > 0)
            {
                Some(i) => id = Some(i),
                None => return Err("ERR client-id should be greater than 0".into()),
            }
        } else if is(field, "ADDR") {
            addr = Some(value);
        } else if is(field, "LADDR") {
            laddr = Some(value);
        } else if is(field, "USER") {
            user_ok = is(value, "default");
        } else if is(field, "TYPE") {
            if ["normal", "master", "replica", "slave", "pubsub"]
                .iter()
                .any(|k| is(value, k))
            {
                wanted_type = Some(if is(value, "normal") {
                    Some(false)
                } else if is(value, "pubsub") {
                    Some(true)
                } else {
                    None
                });
            } else {
                let value = String::from_utf8_lossy(value);
                return Err(fail(format_args!("ERR Unknown client type '{value}'")));
            }
        } else if is(field, "SKIPME") {
            if is(value, "yes") {
                skip_me = true;
            } else if is(value, "no") {
                skip_me = false;
            } else {
                return Err(SYNTAX.into());
            }
        } else {
            return Err(SYNTAX.into());
        }
    }
    let matches = |c: &ClientInfo| {
        let addr_is = |want: Option<&[u8]>, have: Option<SocketAddr>| {
            want.is_none_or(|w| have.is_some_and(|h| h.to_string().as_bytes() == w))
        };
        user_ok
            && wanted_type.is_none_or(|pubsub| pubsub == Some(c.is_pubsub()))
            && id.is_none_or(|id| c.id == id)
            && addr_is(addr, Some(c.addr))
            && addr_is(laddr, c.local_addr)
            && !(skip_me && c.id == me)
    };
    let victims: Vec<Arc<ClientInfo>> = ctx
        .shared
        .clients
        .all()
        .into_iter()
        .filter(|c| matches(c))
        .collect();
    for victim in &victims {
        kill_one(ctx, victim, me);
    }
    ctx.reply().len(victims.len());
    Ok(())
}

fn kill_one(ctx: &mut Ctx<'_>, victim: &ClientInfo, me: u64) {
    if victim.id == me {
        // Redis answers the killer first, then closes it.
        ctx.client.close_after_reply = true;
    } else {
        ctx.shared.kill(victim);
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::testing::Harness;

    fn run(h: &mut Harness, request: &str) -> Vec<u8> {
        let args: Vec<&[u8]> = request.split(' ').map(str::as_bytes).collect();
        h.run(0, &args)
    }

    /// CLIENT REPLY queued in a transaction answers in EXEC's array and applies from the
    /// request after EXEC, so EXEC's reply is one whole frame: OFF then ON used to leave
    /// an array of two with one element, and SKIP dropped EXEC's reply as well as the
    /// next one.
    #[test]
    fn client_reply_run_by_exec_applies_after_it() {
        let mut h = Harness::new(Config::default(), 1).expect("harness");
        for (queued, after) in [
            ("client reply on", &b"+PONG\r\n"[..]),
            ("client reply off", b""),
            ("client reply skip", b""),
        ] {
            assert_eq!(run(&mut h, "multi"), b"+OK\r\n");
            assert_eq!(run(&mut h, "client reply off"), b"+QUEUED\r\n");
            assert_eq!(run(&mut h, queued), b"+QUEUED\r\n");
            assert_eq!(run(&mut h, "exec"), b"*2\r\n+OK\r\n+OK\r\n", "{queued}");
            assert_eq!(run(&mut h, "ping"), after, "{queued}");
            assert_eq!(run(&mut h, "client reply on"), b"+OK\r\n");
        }
        // Sent with replies off, EXEC's reply is dropped even if it turns them on.
        assert_eq!(run(&mut h, "client reply off"), b"");
        assert_eq!(run(&mut h, "multi"), b"");
        assert_eq!(run(&mut h, "client reply on"), b"");
        assert_eq!(run(&mut h, "exec"), b"");
        assert_eq!(run(&mut h, "ping"), b"+PONG\r\n");
    }
}
