//! Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, their
//! shard forms SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, and PUBSUB's introspection.
//!
//! As in Redis 7.0, each (un)subscription is confirmed by its own three-element reply
//! (a push frame in RESP3) ending with the client's count of subscriptions (channels and
//! patterns; shard channels counted apart); a RESP2 client with any subscription may only
//! (un)subscribe, PING, QUIT and RESET. The registry is [`crate::pubsub`].

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use redistill_resp::{Version, encode};

use super::table::{KeySpec, flags, key_flags};
use super::{Command, CommandError, CommandResult, Ctx, Flags};
use crate::client::Client;
use crate::pubsub::{Namespace, Subscriber};
use crate::shared::Shared;

const SUBSCRIBE: super::Flags = flags!(PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED_OK);

static SHARD_CHANNELS: &[KeySpec] = &[KeySpec::range(1, -1, 1, key_flags!(NOT_KEY))];
static SHARD_CHANNEL: &[KeySpec] = &[KeySpec::at(1, key_flags!(NOT_KEY))];

pub(super) static COMMANDS: &[Command] = &[
    Command::new("subscribe", -2, subscribe).flags(SUBSCRIBE),
    Command::new("unsubscribe", -1, unsubscribe).flags(SUBSCRIBE),
    Command::new("psubscribe", -2, psubscribe).flags(SUBSCRIBE),
    Command::new("punsubscribe", -1, punsubscribe).flags(SUBSCRIBE),
    Command::new("ssubscribe", -2, ssubscribe)
        .flags(SUBSCRIBE)
        .keys(SHARD_CHANNELS),
    Command::new("sunsubscribe", -1, sunsubscribe)
        .flags(SUBSCRIBE)
        .keys(SHARD_CHANNELS),
    Command::new("publish", 3, publish)
        .flags(flags!(PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE)),
    Command::new("spublish", 3, spublish)
        .flags(flags!(PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE))
        .keys(SHARD_CHANNEL),
    Command::new("pubsub", -2, super::no_subcommand).subcommands(SUBCOMMANDS),
];

static SUBCOMMANDS: &[Command] = &[
    Command::sub("pubsub", "channels", -2, channels).flags(flags!(PUBSUB | LOADING | STALE)),
    Command::sub("pubsub", "help", 2, help).flags(flags!(LOADING | STALE)),
    Command::sub("pubsub", "numpat", 2, numpat).flags(flags!(PUBSUB | LOADING | STALE)),
    Command::sub("pubsub", "numsub", -2, numsub).flags(flags!(PUBSUB | LOADING | STALE)),
    Command::sub("pubsub", "shardchannels", -2, shard_channels)
        .flags(flags!(PUBSUB | LOADING | STALE)),
    Command::sub("pubsub", "shardnumsub", -2, shard_numsub).flags(flags!(PUBSUB | LOADING | STALE)),
];

/// `PUBSUB HELP`, as Redis's.
const PUBSUB_HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

/// Redis's refusal of a command a RESP2 client in Pub/Sub mode may not send.
#[inline]
pub(super) fn refuses(ctx: &Ctx<'_>, command: &Command) -> Option<CommandError> {
    if ctx.client.version != Version::Resp2
        || command.has(Flags::SUBSCRIBED_OK)
        || ctx.client.subscriptions.is_empty()
    {
        return None;
    }
    Some(refusal(command))
}

#[cold]
fn refusal(command: &Command) -> CommandError {
    CommandError::Text(
        format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / \
             RESET are allowed in this context",
            command.full_name()
        )
        .into(),
    )
}

/// Whether PING answers as in Pub/Sub mode (`pong` and the message in an array).
pub(super) fn ping_in_subscribed_mode(client: &Client) -> bool {
    client.version == Version::Resp2 && !client.subscriptions.is_empty()
}

/// Drops every subscription of `client` without confirming them (RESET, disconnection).
pub(super) fn drop_all(shared: &Shared, client: &mut Client) {
    if client.subscriptions.is_empty() {
        return;
    }
    shared
        .pubsub
        .drop_all(&mut client.subscriptions, client.info.id);
    publish_counts(client);
}

/// Moves what reached a subscribed client's outbox while its command ran (its own
/// PUBLISH, the keyspace notifications of its own writes) in front of the command's reply,
/// which starts at `reply_at` in its output: Redis sends them as they are published,
/// before the reply.
pub(super) fn place_own_messages(ctx: &mut Ctx<'_>, reply_at: usize) {
    let Some(outbox) = &ctx.client.outbox else {
        return;
    };
    if !outbox.is_listed() {
        return;
    }
    let mut pushed = Vec::new();
    if !outbox.take_into(&mut pushed) {
        // Over the limit: its worker closes it.
        ctx.shared.kill(&ctx.client.info);
        return;
    }
    let at = reply_at.min(ctx.out.len());
    if ctx.client.reply_from >= at {
        ctx.client.reply_from += pushed.len();
    }
    ctx.out.splice(at..at, pushed);
}

/// Mirrors the client's subscription counts into its record, for CLIENT LIST.
fn publish_counts(client: &Client) {
    let subs = &client.subscriptions;
    let counts = [
        subs.channels.len(),
        subs.patterns.len(),
        subs.shard_channels.len(),
    ];
    for (slot, count) in client.info.subscriptions.iter().zip(counts) {
        slot.store(count, Ordering::Relaxed);
    }
}

fn subscriber(ctx: &mut Ctx<'_>) -> Subscriber {
    Subscriber {
        outbox: Arc::clone(ctx.client.outbox()),
        info: Arc::clone(&ctx.client.info),
    }
}

/// One confirmation: `[kind, name or nil, count]`, a push frame in RESP3.
/// Sent even under CLIENT REPLY OFF, as Redis pushes it.
fn confirm(ctx: &mut Ctx<'_>, kind: &[u8], name: Option<&[u8]>, count: usize) {
    encode::write_push_header(ctx.out, ctx.client.version, 3);
    let mut reply = ctx.reply();
    reply.bulk(kind);
    reply.opt_bulk(name);
    reply.len(count);
    ctx.client.reply_from = ctx.out.len();
}

/// The count a confirmation of `namespace` ends with.
fn count(client: &Client, namespace: Namespace) -> usize {
    match namespace {
        Namespace::Classic => client.subscriptions.classic_count(),
        Namespace::Shard => client.subscriptions.shard_channels.len(),
    }
}

fn subscribe_to(ctx: &mut Ctx<'_>, args: &[&[u8]], namespace: Namespace, kind: &[u8]) {
    let who = subscriber(ctx);
    for channel in &args[1..] {
        let channel = Bytes::copy_from_slice(channel);
        if ctx
            .client
            .subscriptions
            .of(namespace)
            .insert(channel.clone())
        {
            ctx.shared.pubsub.subscribe(namespace, &channel, &who);
        }
        let n = count(ctx.client, namespace);
        confirm(ctx, kind, Some(&channel), n);
    }
    publish_counts(ctx.client);
}

fn unsubscribe_from(ctx: &mut Ctx<'_>, args: &[&[u8]], namespace: Namespace, kind: &[u8]) {
    let id = ctx.client.id();
    let channels: Vec<Bytes> = if args.len() > 1 {
        args[1..]
            .iter()
            .map(|c| Bytes::copy_from_slice(c))
            .collect()
    } else {
        ctx.client
            .subscriptions
            .of(namespace)
            .iter()
            .cloned()
            .collect()
    };
    if channels.is_empty() {
        let n = count(ctx.client, namespace);
        confirm(ctx, kind, None, n);
    }
    for channel in channels {
        if ctx.client.subscriptions.of(namespace).remove(&channel) {
            ctx.shared.pubsub.unsubscribe(namespace, &channel, id);
        }
        let n = count(ctx.client, namespace);
        confirm(ctx, kind, Some(&channel), n);
    }
    publish_counts(ctx.client);
}

fn subscribe(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    subscribe_to(ctx, args, Namespace::Classic, b"subscribe");
    Ok(())
}

fn unsubscribe(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    unsubscribe_from(ctx, args, Namespace::Classic, b"unsubscribe");
    Ok(())
}

fn ssubscribe(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    subscribe_to(ctx, args, Namespace::Shard, b"ssubscribe");
    Ok(())
}

fn sunsubscribe(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    unsubscribe_from(ctx, args, Namespace::Shard, b"sunsubscribe");
    Ok(())
}

fn psubscribe(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let who = subscriber(ctx);
    for pattern in &args[1..] {
        let pattern = Bytes::copy_from_slice(pattern);
        if ctx.client.subscriptions.patterns.insert(pattern.clone()) {
            ctx.shared.pubsub.psubscribe(&pattern, &who);
        }
        let n = ctx.client.subscriptions.classic_count();
        confirm(ctx, b"psubscribe", Some(&pattern), n);
    }
    publish_counts(ctx.client);
    Ok(())
}

fn punsubscribe(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let id = ctx.client.id();
    let patterns: Vec<Bytes> = if args.len() > 1 {
        args[1..]
            .iter()
            .map(|c| Bytes::copy_from_slice(c))
            .collect()
    } else {
        ctx.client.subscriptions.patterns.iter().cloned().collect()
    };
    if patterns.is_empty() {
        let n = ctx.client.subscriptions.classic_count();
        confirm(ctx, b"punsubscribe", None, n);
    }
    for pattern in patterns {
        if ctx.client.subscriptions.patterns.remove(&pattern) {
            ctx.shared.pubsub.punsubscribe(&pattern, id);
        }
        let n = ctx.client.subscriptions.classic_count();
        confirm(ctx, b"punsubscribe", Some(&pattern), n);
    }
    publish_counts(ctx.client);
    Ok(())
}

/// Publishes to every subscriber; a message to the publisher itself (a RESP3 client
/// subscribed on the same connection) comes before the reply ([`place_own_messages`]).
fn publish_in(ctx: &mut Ctx<'_>, args: &[&[u8]], namespace: Namespace) -> CommandResult {
    let shared = ctx.shared;
    let receivers = shared
        .pubsub
        .publish(namespace, args[1], args[2], |outbox, frame| {
            shared.push_message(outbox, frame);
        });
    ctx.reply().len(receivers);
    Ok(())
}

fn publish(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    publish_in(ctx, args, Namespace::Classic)
}

fn spublish(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    publish_in(ctx, args, Namespace::Shard)
}

/// Redis's error for a PUBSUB subcommand with the wrong number of arguments.
fn syntax_error(args: &[&[u8]]) -> CommandError {
    let sub = super::args::c_str(args[1]);
    let mut text = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    text.extend(
        sub[..sub.len().min(128)]
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    text.extend_from_slice(b"'. Try PUBSUB HELP.");
    CommandError::Bytes(text)
}

fn list_channels(ctx: &mut Ctx<'_>, args: &[&[u8]], namespace: Namespace) -> CommandResult {
    if args.len() > 3 {
        return Err(syntax_error(args));
    }
    let channels = ctx.shared.pubsub.channels(namespace, args.get(2).copied());
    ctx.reply().bulks(channels.iter().map(|c| c.as_ref()));
    Ok(())
}

fn count_subscribers(ctx: &mut Ctx<'_>, args: &[&[u8]], namespace: Namespace) -> CommandResult {
    let pubsub = &ctx.shared.pubsub;
    let counts: Vec<usize> = args[2..]
        .iter()
        .map(|c| pubsub.subscriber_count(namespace, c))
        .collect();
    let mut reply = ctx.reply();
    reply.array(counts.len() * 2);
    for (channel, n) in args[2..].iter().zip(counts) {
        reply.bulk(channel);
        reply.len(n);
    }
    Ok(())
}

fn channels(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    list_channels(ctx, args, Namespace::Classic)
}

fn shard_channels(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    list_channels(ctx, args, Namespace::Shard)
}

fn numsub(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    count_subscribers(ctx, args, Namespace::Classic)
}

fn shard_numsub(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    count_subscribers(ctx, args, Namespace::Shard)
}

fn numpat(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let n = ctx.shared.pubsub.pattern_count();
    ctx.reply().len(n);
    Ok(())
}

fn help(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.reply().help(PUBSUB_HELP);
    Ok(())
}
