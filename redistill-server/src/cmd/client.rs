//! CLIENT: what clients send about themselves on connect, and the client list.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use redistill_store::Clock;

use super::args::{SYNTAX, is, parse_i64};
use super::{Command, Ctx};
use crate::client::ReplyMode;
use crate::clients::ClientInfo;
use crate::pause::PauseMode;

pub(super) static COMMANDS: &[Command] = &[Command::new("client", -2, &[], (0, 0, 0), client)
    .with_subcommands(&[
        "getname",
        "getredir",
        "help",
        "id",
        "info",
        "kill",
        "list",
        "no-evict",
        "no-touch",
        "pause",
        "reply",
        "setinfo",
        "setname",
        "trackinginfo",
        "unblock",
        "unpause",
    ])];

fn arity_error(ctx: &mut Ctx<'_>, sub: &[u8]) {
    let sub = String::from_utf8_lossy(sub).to_ascii_lowercase();
    ctx.reply().error_fmt(format_args!(
        "ERR wrong number of arguments for 'client|{sub}' command"
    ));
}

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

fn client(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let sub = args[1];
    let argc = args.len();
    let exact = |n: usize| argc == n;
    if is(sub, "ID") && exact(2) {
        let id = i64::try_from(ctx.client.id()).unwrap_or(i64::MAX);
        ctx.reply().int(id);
    } else if is(sub, "SETNAME") && exact(3) {
        let name = args[2];
        if !valid_name(name) {
            return ctx.reply().error(BAD_NAME);
        }
        ctx.client
            .set_name((!name.is_empty()).then(|| Bytes::copy_from_slice(name)));
        ctx.reply().ok();
    } else if is(sub, "GETNAME") && exact(2) {
        let name = ctx.client.name();
        ctx.reply().opt_bulk(name.as_deref());
    } else if is(sub, "SETINFO") && exact(4) {
        setinfo(ctx, args[2], args[3]);
    } else if is(sub, "INFO") && exact(2) {
        let now = ctx.shared.clock.now_ms();
        let line = ctx.client.info.line(now, super::last_command_label);
        verbatim(ctx, &line);
    } else if is(sub, "LIST") {
        list(ctx, &args[2..]);
    } else if is(sub, "KILL") && argc >= 3 {
        kill(ctx, &args[2..]);
    } else if (is(sub, "NO-EVICT") || is(sub, "NO-TOUCH")) && exact(3) {
        // NO-EVICT exempts a client from client eviction, which this server does not do
        // (it never evicts clients), so only its syntax matters.
        let on = match args[2] {
            a if is(a, "ON") => true,
            a if is(a, "OFF") => false,
            _ => return ctx.reply().error(SYNTAX),
        };
        if is(sub, "NO-TOUCH") {
            ctx.client.set_no_touch(on);
        } else {
            ctx.client.set_no_evict(on);
        }
        ctx.reply().ok();
    } else if is(sub, "REPLY") && exact(3) {
        reply_mode(ctx, args[2]);
    } else if is(sub, "GETREDIR") && exact(2) {
        // No client tracking here, so no redirection.
        ctx.reply().int(-1);
    } else if is(sub, "TRACKINGINFO") && exact(2) {
        let mut reply = ctx.reply();
        reply.map(3);
        reply.bulk(b"flags");
        reply.set(1);
        reply.bulk(b"off");
        reply.bulk(b"redirect");
        reply.int(-1);
        reply.bulk(b"prefixes");
        reply.array(0);
    } else if is(sub, "UNBLOCK") && (exact(3) || exact(4)) {
        unblock(ctx, &args[2..]);
    } else if is(sub, "UNBLOCK") && argc > 4 {
        ctx.reply().error(
            "ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.",
        );
    } else if is(sub, "PAUSE") && (exact(3) || exact(4)) {
        pause(ctx, &args[2..]);
    } else if is(sub, "PAUSE") && argc > 4 {
        ctx.reply().error(
            "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.",
        );
    } else if is(sub, "UNPAUSE") && exact(2) {
        ctx.shared.pause.unpause();
        ctx.shared.wake_workers();
        ctx.reply().ok();
    } else if is(sub, "HELP") && exact(2) {
        ctx.reply().help(HELP);
    } else if [
        "ID",
        "SETNAME",
        "GETNAME",
        "SETINFO",
        "INFO",
        "KILL",
        "NO-EVICT",
        "NO-TOUCH",
        "REPLY",
        "GETREDIR",
        "TRACKINGINFO",
        "UNBLOCK",
        "PAUSE",
        "UNPAUSE",
        "HELP",
    ]
    .iter()
    .any(|known| is(sub, known))
    {
        arity_error(ctx, sub);
    } else {
        let sub = String::from_utf8_lossy(sub);
        ctx.reply().error_fmt(format_args!(
            "ERR unknown subcommand '{sub}'. Try CLIENT HELP."
        ));
    }
}

/// CLIENT PAUSE timeout [WRITE|ALL]
fn pause(ctx: &mut Ctx<'_>, opts: &[&[u8]]) {
    let timeout = match parse_i64(opts[0]) {
        None => {
            return ctx
                .reply()
                .error("ERR timeout is not an integer or out of range");
        }
        Some(t) if t < 0 => return ctx.reply().error("ERR timeout is negative"),
        Some(t) => t.unsigned_abs(),
    };
    let mode = match opts.get(1) {
        None => PauseMode::All,
        Some(m) if is(m, "ALL") => PauseMode::All,
        Some(m) if is(m, "WRITE") => PauseMode::Write,
        Some(_) => {
            return ctx
                .reply()
                .error("ERR CLIENT PAUSE mode must be WRITE or ALL");
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
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: no command blocks here, so none is unblocked.
fn unblock(ctx: &mut Ctx<'_>, opts: &[&[u8]]) {
    if parse_i64(opts[0]).is_none() {
        return ctx.reply().error(super::args::NOT_INTEGER);
    }
    if let Some(reason) = opts.get(1)
        && !is(reason, "TIMEOUT")
        && !is(reason, "ERROR")
    {
        return ctx
            .reply()
            .error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    }
    ctx.reply().int(0);
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
fn reply_mode(ctx: &mut Ctx<'_>, mode: &[u8]) {
    if is(mode, "ON") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.reply().ok();
    } else if is(mode, "OFF") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if is(mode, "SKIP") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        ctx.reply().error(SYNTAX);
    }
}

fn verbatim(ctx: &mut Ctx<'_>, text: &str) {
    let version = ctx.client.version;
    redistill_resp::encode::write_verbatim(ctx.out, version, *b"txt", text.as_bytes());
}

/// CLIENT SETINFO LIB-NAME name | LIB-VER version (Redis 7.2).
fn setinfo(ctx: &mut Ctx<'_>, attr: &[u8], value: &[u8]) {
    let lib_name = is(attr, "LIB-NAME");
    if !lib_name && !is(attr, "LIB-VER") {
        let attr = String::from_utf8_lossy(attr);
        return ctx
            .reply()
            .error_fmt(format_args!("ERR Unrecognized option '{attr}'"));
    }
    if !printable_without_spaces(value) {
        let attr = String::from_utf8_lossy(attr).to_ascii_lowercase();
        return ctx.reply().error_fmt(format_args!(
            "ERR {attr} cannot contain spaces, newlines or special characters."
        ));
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
}

/// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id [id ...]]
fn list(ctx: &mut Ctx<'_>, opts: &[&[u8]]) {
    let mut ids: Option<Vec<u64>> = None;
    let mut only_normal = true;
    match opts {
        [] => {}
        [ty, kind] if is(ty, "TYPE") => {
            if is(kind, "normal") {
            } else if ["master", "replica", "slave", "pubsub"]
                .iter()
                .any(|k| is(kind, k))
            {
                only_normal = false;
            } else {
                let kind = String::from_utf8_lossy(kind);
                return ctx
                    .reply()
                    .error_fmt(format_args!("ERR Unknown client type '{kind}'"));
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
                    None => return ctx.reply().error("ERR Invalid client ID"),
                }
            }
            ids = Some(wanted);
        }
        _ => return ctx.reply().error(SYNTAX),
    }
    let now = ctx.shared.clock.now_ms();
    let mut text = String::new();
    if only_normal {
        for info in ctx.shared.clients.all() {
            if ids.as_ref().is_none_or(|ids| ids.contains(&info.id)) {
                text.push_str(&info.line(now, super::last_command_label));
            }
        }
    }
    verbatim(ctx, &text);
}

/// CLIENT KILL addr:port | CLIENT KILL [ID id] [ADDR addr] [LADDR addr] [USER name]
/// [SKIPME yes|no] [TYPE type]
fn kill(ctx: &mut Ctx<'_>, opts: &[&[u8]]) {
    let me = ctx.client.id();
    if let [addr] = opts {
        // The old form: one address, +OK or an error.
        let victim = ctx
            .shared
            .clients
            .all()
            .into_iter()
            .find(|c| c.addr.to_string().as_bytes() == *addr);
        return match victim {
            Some(victim) => {
                kill_one(ctx, &victim, me);
                ctx.reply().ok();
            }
            None => ctx.reply().error("ERR No such client"),
        };
    }
    if !opts.len().is_multiple_of(2) {
        return ctx.reply().error(SYNTAX);
    }
    let mut id = None;
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut user_ok = true;
    let mut type_ok = true;
    let mut skip_me = true;
    for pair in opts.chunks_exact(2) {
        let (field, value) = (pair[0], pair[1]);
        if is(field, "ID") {
            match parse_i64(value)
                .and_then(|i| u64::try_from(i).ok())
                .filter(|&i| i > 0)
            {
                Some(i) => id = Some(i),
                None => return ctx.reply().error("ERR client-id should be greater than 0"),
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
                type_ok = is(value, "normal");
            } else {
                let value = String::from_utf8_lossy(value);
                return ctx
                    .reply()
                    .error_fmt(format_args!("ERR Unknown client type '{value}'"));
            }
        } else if is(field, "SKIPME") {
            if is(value, "yes") {
                skip_me = true;
            } else if is(value, "no") {
                skip_me = false;
            } else {
                return ctx.reply().error(SYNTAX);
            }
        } else {
            return ctx.reply().error(SYNTAX);
        }
    }
    let matches = |c: &ClientInfo| {
        let addr_is = |want: Option<&[u8]>, have: Option<SocketAddr>| {
            want.is_none_or(|w| have.is_some_and(|h| h.to_string().as_bytes() == w))
        };
        user_ok
            && type_ok
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
}

fn kill_one(ctx: &mut Ctx<'_>, victim: &ClientInfo, me: u64) {
    if victim.id == me {
        // Redis answers the killer first, then closes it.
        ctx.client.close_after_reply = true;
    } else {
        ctx.shared.kill(victim);
    }
}
