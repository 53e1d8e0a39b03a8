//! Connection commands: PING, ECHO, QUIT, SELECT, HELLO, RESET.

use bytes::Bytes;
use redistill_resp::Version;

use super::args::{db_index_arg, int_arg, is};
use super::table::{acl, flags};
use super::{Command, CommandResult, Ctx, fail};
use crate::client::ReplyMode;

pub(super) static COMMANDS: &[Command] = &[
    Command::new("ping", -1, ping)
        .flags(flags!(FAST | SUBSCRIBED_OK))
        .acl(acl!(CONNECTION))
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    Command::new("echo", 2, echo)
        .flags(flags!(LOADING | STALE | FAST))
        .acl(acl!(CONNECTION)),
    Command::new("quit", -1, quit)
        .flags(flags!(
            NOSCRIPT
                | LOADING
                | STALE
                | FAST
                | NO_AUTH
                | ALLOW_BUSY
                | TRANSACTION_CONTROL
                | SUBSCRIBED_OK
        ))
        .acl(acl!(CONNECTION)),
    Command::new("select", 2, select)
        .flags(flags!(LOADING | STALE | FAST))
        .acl(acl!(CONNECTION)),
    Command::new("hello", -1, hello)
        .flags(flags!(
            NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY
        ))
        .acl(acl!(CONNECTION)),
    Command::new("reset", 1, reset)
        .flags(flags!(
            NOSCRIPT
                | LOADING
                | STALE
                | FAST
                | NO_AUTH
                | ALLOW_BUSY
                | TRANSACTION_CONTROL
                | SUBSCRIBED_OK
        ))
        .acl(acl!(CONNECTION)),
];

fn ping(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    if args.len() <= 2 && super::pubsub::ping_in_subscribed_mode(ctx.client) {
        let mut reply = ctx.reply();
        reply.array(2);
        reply.bulk(b"pong");
        reply.bulk(args.get(1).copied().unwrap_or_default());
        return Ok(());
    }
    match args {
        [_] => ctx.reply().simple(b"PONG"),
        [_, msg] => ctx.reply().bulk(msg),
        _ => return Err("ERR wrong number of arguments for 'ping' command".into()),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    ctx.reply().bulk(args[1]);
    Ok(())
}

fn quit(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    // Nothing more reaches a client closing after this reply: its subscriptions end now,
    // not when its connection is gone.
    super::pubsub::drop_all(ctx.shared, ctx.client);
    ctx.reply().ok();
    ctx.client.close_after_reply = true;
    Ok(())
}

fn select(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    match db_index_arg(args[1], ctx.shared.store.databases()) {
        Ok(db) => {
            ctx.client.select(db);
            ctx.reply().ok();
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// HELLO [protover [AUTH user pass] [SETNAME name]]: switches the protocol and answers
/// with the server's identity as a map.
fn hello(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let mut version = ctx.client.version;
    let mut rest = &args[1..];
    if let Some((proto, tail)) = rest.split_first() {
        version = match int_arg(proto) {
            Ok(2) => Version::Resp2,
            Ok(3) => Version::Resp3,
            Ok(_) => return Err("NOPROTO unsupported protocol version".into()),
            Err(_) => {
                return Err("ERR Protocol version is not an integer or out of range".into());
            }
        };
        rest = tail;
    }
    let mut name = None;
    let mut credentials = None;
    while let Some((option, tail)) = rest.split_first() {
        if is(option, "AUTH") && tail.len() >= 2 {
            // The credentials are hidden from MONITOR as soon as they are parsed.
            let at = args.len() - tail.len();
            ctx.redact(at);
            ctx.redact(at + 1);
            credentials = Some((tail[0], tail[1]));
            rest = &tail[2..];
        } else if is(option, "SETNAME") && !tail.is_empty() {
            name = Some(Bytes::copy_from_slice(tail[0]));
            rest = &tail[1..];
        } else {
            let option = String::from_utf8_lossy(option);
            return Err(fail(format_args!(
                "ERR Syntax error in HELLO option '{option}'"
            )));
        }
    }
    if let Some((user, password)) = credentials
        && !super::auth::authenticate(ctx, user, password)
    {
        return super::auth::wrong_password();
    }
    if !ctx.client.authenticated {
        return Err(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
             HELLO AUTH <user> <pass> option can be used to authenticate the client and select \
             the RESP protocol version at the same time"
                .into(),
        );
    }
    if let Some(name) = name {
        if !super::client::valid_name(&name) {
            return Err(super::client::BAD_NAME.into());
        }
        ctx.client.set_name((!name.is_empty()).then_some(name));
    }
    ctx.client.set_version(version);
    let id = i64::try_from(ctx.client.id()).unwrap_or(i64::MAX);
    let proto = if version == Version::Resp3 { 3 } else { 2 };
    let mut reply = ctx.reply();
    reply.map(7);
    reply.bulk(b"server");
    reply.bulk(b"redis");
    reply.bulk(b"version");
    reply.bulk(crate::REDIS_VERSION.as_bytes());
    reply.bulk(b"proto");
    reply.int(proto);
    reply.bulk(b"id");
    reply.int(id);
    reply.bulk(b"mode");
    reply.bulk(b"standalone");
    reply.bulk(b"role");
    reply.bulk(b"master");
    reply.bulk(b"modules");
    reply.array(0);
    Ok(())
}

/// RESET: back to a fresh connection's state: MULTI discarded, keys unwatched, db 0,
/// RESP2, no name, logged out when a password is set, CLIENT NO-EVICT, NO-TOUCH and REPLY
/// back to their defaults, MONITOR and CLIENT TRACKING ended, every subscription dropped.
fn reset(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    super::monitor::stop(ctx.shared, ctx.client, Some(ctx.out));
    super::tracking::stop(ctx.shared, ctx.client);
    super::pubsub::drop_all(ctx.shared, ctx.client);
    ctx.client.tx.take_queue();
    ctx.client.tx.aborted = false;
    super::transactions::unwatch_all(ctx);
    ctx.client.select(0);
    ctx.client.set_version(Version::Resp2);
    ctx.client.set_name(None);
    ctx.client.authenticated = ctx.shared.config.read().security.password.is_none();
    ctx.client.set_no_touch(false);
    ctx.client.set_no_evict(false);
    ctx.client.reply_mode = ReplyMode::On;
    ctx.reply().simple(b"RESET");
    Ok(())
}
