//! CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO, and what the dispatcher does for
//! tracking clients around each command: remember the keys a read fetched, keep the
//! table under `tracking-table-max-keys`, deliver the invalidations a write queued.

use bytes::Bytes;

use super::args::{SYNTAX, int_arg, is};
use super::table::KeyFlags;
use super::{Command, CommandError, CommandResult, Ctx, Flags, fail};
use crate::client::Client;
use crate::shared::Shared;
use crate::tracking::{CurrentGuard, Mode, Tracking};

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP],
/// with Redis 7.0's checks in its order.
pub(super) fn client_tracking(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let mut mode = Mode::default();
    let mut prefixes: Vec<&[u8]> = Vec::new();
    let mut target = None;
    let mut i = 3;
    while i < args.len() {
        let arg = args[i];
        let more = i + 1 < args.len();
        if is(arg, "REDIRECT") && more {
            i += 1;
            if mode.redirect != 0 {
                return Err("ERR A client can only redirect to a single other client".into());
            }
            let id = int_arg(args[i])?;
            let found = u64::try_from(id)
                .ok()
                .and_then(|id| ctx.shared.clients.get(id));
            let Some(found) = found else {
                return Err("ERR The client ID you want redirect to does not exist".into());
            };
            mode.redirect = found.id;
            target = Some(found);
        } else if is(arg, "BCAST") {
            mode.bcast = true;
        } else if is(arg, "OPTIN") {
            mode.optin = true;
        } else if is(arg, "OPTOUT") {
            mode.optout = true;
        } else if is(arg, "NOLOOP") {
            mode.noloop = true;
        } else if is(arg, "PREFIX") && more {
            i += 1;
            prefixes.push(args[i]);
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    if is(args[2], "OFF") {
        stop(ctx.shared, ctx.client);
        ctx.reply().ok();
        return Ok(());
    }
    if !is(args[2], "ON") {
        return Err(SYNTAX.into());
    }
    check_options(ctx.client.tracking.as_ref(), &mode, &prefixes)?;
    if mode.bcast
        && let Some((error, goes_on)) = prefix_collision(ctx.client.tracking.as_ref(), &prefixes)
    {
        if !goes_on {
            return Err(error);
        }
        // Redis 7.0 replies the error of an overlap found past the first prefix given,
        // then goes on: tracking is enabled and OK follows.
        let text = error.text("client|tracking").into_owned();
        ctx.shared.stats.errors.record(&text);
        ctx.reply().error(&text);
    }
    let mut all: Vec<Bytes> = match &ctx.client.tracking {
        Some(old) if mode.bcast => old.prefixes.clone(),
        _ => Vec::new(),
    };
    if mode.bcast {
        if prefixes.is_empty() {
            prefixes.push(b"");
        }
        for prefix in prefixes {
            if !all.iter().any(|p| p.as_ref() == prefix) {
                all.push(Bytes::copy_from_slice(prefix));
            }
        }
        all.sort();
    }
    mode.prefixes = all;
    // As in Redis, turning tracking on again keeps a CLIENT CACHING just given.
    mode.caching = ctx.client.tracking.as_ref().is_some_and(|old| old.caching);
    ctx.shared.tracking.enable(&ctx.client.info, &mode, target);
    ctx.client.tracking = Some(mode);
    ctx.reply().ok();
    Ok(())
}

/// The checks CLIENT TRACKING ON makes of its options against each other and against the
/// client's current mode.
fn check_options(current: Option<&Mode>, mode: &Mode, prefixes: &[&[u8]]) -> CommandResult {
    if !mode.bcast && !prefixes.is_empty() {
        return Err("ERR PREFIX option requires BCAST mode to be enabled".into());
    }
    if current.is_some_and(|old| old.bcast != mode.bcast) {
        return Err(
            "ERR You can't switch BCAST mode on/off before disabling tracking for \
                    this client, and then re-enabling it with a different mode."
                .into(),
        );
    }
    if mode.bcast && (mode.optin || mode.optout) {
        return Err("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
    }
    if mode.optin && mode.optout {
        return Err("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
    }
    if current.is_some_and(|old| (mode.optin && old.optout) || (mode.optout && old.optin)) {
        return Err(
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for \
                    this client, and then re-enabling it with a different mode."
                .into(),
        );
    }
    Ok(())
}

/// Whether one of `a` and `b` starts with the other.
fn overlaps(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// Redis's check that BCAST prefixes overlap neither the client's current ones nor each
/// other: the first overlap found, in Redis's order, and whether Redis goes on regardless
/// (an overlap between given prefixes found past the first one).
fn prefix_collision(current: Option<&Mode>, prefixes: &[&[u8]]) -> Option<(CommandError, bool)> {
    let text = |b: &[u8]| String::from_utf8_lossy(super::args::c_str(b)).into_owned();
    for (i, prefix) in prefixes.iter().enumerate() {
        if let Some(existing) = current
            .into_iter()
            .flat_map(|m| m.prefixes.iter())
            .find(|p| overlaps(p, prefix))
        {
            let error = fail(format_args!(
                "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a \
                 single client must not overlap.",
                text(prefix),
                text(existing)
            ));
            return Some((error, false));
        }
        if let Some(other) = prefixes[i + 1..].iter().find(|p| overlaps(prefix, p)) {
            let error = fail(format_args!(
                "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for \
                 a single client must not overlap.",
                text(prefix),
                text(other)
            ));
            return Some((error, i > 0));
        }
    }
    None
}

/// CLIENT CACHING YES|NO: whether the next command's reads are tracked, in OPTIN or OPTOUT
/// mode.
pub(super) fn client_caching(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let Some(mode) = &mut ctx.client.tracking else {
        return Err(
            "ERR CLIENT CACHING can be called only when the client is in tracking \
                    mode with OPTIN or OPTOUT mode enabled"
                .into(),
        );
    };
    if is(args[2], "YES") {
        if !mode.optin {
            return Err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
                    .into(),
            );
        }
    } else if is(args[2], "NO") {
        if !mode.optout {
            return Err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
                    .into(),
            );
        }
    } else {
        return Err(SYNTAX.into());
    }
    mode.caching = true;
    ctx.reply().ok();
    Ok(())
}

/// CLIENT GETREDIR: the redirection's client id, 0 for none, -1 when not tracking.
pub(super) fn client_getredir(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let redirect = ctx
        .client
        .tracking
        .as_ref()
        .map_or(-1, |mode| i64::try_from(mode.redirect).unwrap_or(i64::MAX));
    ctx.reply().int(redirect);
    Ok(())
}

/// CLIENT TRACKINGINFO: flags (a set), redirect and prefixes.
pub(super) fn client_trackinginfo(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let mode = ctx.client.tracking.clone();
    let broken = Tracking::broken(&ctx.client.info);
    let mut reply = ctx.reply();
    reply.map(3);
    reply.bulk(b"flags");
    match &mode {
        None => {
            reply.set(1);
            reply.bulk(b"off");
        }
        Some(mode) => {
            let flags: Vec<&[u8]> = [
                (true, b"on".as_slice()),
                (mode.bcast, b"bcast"),
                (mode.optin, b"optin"),
                (mode.optin && mode.caching, b"caching-yes"),
                (mode.optout, b"optout"),
                (mode.optout && mode.caching, b"caching-no"),
                (mode.noloop, b"noloop"),
                (broken, b"broken_redirect"),
            ]
            .into_iter()
            .filter_map(|(on, flag)| on.then_some(flag))
            .collect();
            reply.set(flags.len());
            for flag in flags {
                reply.bulk(flag);
            }
        }
    }
    reply.bulk(b"redirect");
    reply.int(
        mode.as_ref()
            .map_or(-1, |m| i64::try_from(m.redirect).unwrap_or(i64::MAX)),
    );
    reply.bulk(b"prefixes");
    let prefixes = mode.map(|m| m.prefixes).unwrap_or_default();
    reply.bulks(prefixes.iter().map(Bytes::as_ref));
    Ok(())
}

/// Ends tracking for `client` (CLIENT TRACKING OFF, RESET, disconnecting).
pub(super) fn stop(shared: &Shared, client: &mut Client) {
    if let Some(mode) = client.tracking.take() {
        shared.tracking.disable(&client.info, &mode.prefixes);
    }
}

/// Before a command runs while something is tracked: marks its client as the one running,
/// and, while clients track, brings the table back under its limit (the invalidations
/// this sends the running client come before the reply, as in Redis).
pub(super) fn before(ctx: &mut Ctx<'_>) -> CurrentGuard {
    let guard = crate::tracking::running(ctx.client.id());
    let shared = ctx.shared;
    shared.tracking.enforce_limit();
    shared
        .tracking
        .deliver(|outbox, bytes| shared.push(outbox, bytes));
    if let Some(outbox) = &ctx.client.outbox
        && outbox.is_listed()
    {
        outbox.take_into(ctx.out);
        ctx.client.reply_from = ctx.out.len();
    }
    guard
}

/// When a read's keys are registered (see [`remember`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum When {
    /// Before the command runs, provisionally: no write by another client between the
    /// read and the registration goes unnoticed.
    Ahead,
    /// After it, as Redis registers them.
    After,
}

/// Registers a tracking client for the keys of `command` if it reads them, as Redis does
/// after running it, and provisionally before.
pub(super) fn remember(ctx: &Ctx<'_>, command: &Command, args: &[&[u8]], when: When) {
    let Some(mode) = &ctx.client.tracking else {
        return;
    };
    if !command.has(Flags::READONLY) || !mode.remembers() {
        return;
    }
    if matches!(command.name, "eval_ro" | "evalsha_ro" | "fcall_ro") {
        return;
    }
    let keys = command.key_refs(args);
    let keys = keys
        .iter()
        .filter(|k| !k.flags.contains(KeyFlags::NOT_KEY))
        .filter_map(|k| args.get(k.index).copied());
    match when {
        When::Ahead => ctx.shared.tracking.remember_ahead(ctx.client.id(), keys),
        When::After => ctx.shared.tracking.remember(ctx.client.id(), keys),
    }
}

/// After a command: the invalidations it caused go out.
pub(super) fn deliver(shared: &Shared) {
    shared
        .tracking
        .deliver(|outbox, bytes| shared.push(outbox, bytes));
}

/// After each request of a tracking client: CLIENT CACHING applies to one command (or a
/// transaction), so it is cleared unless this was a CLIENT subcommand or inside MULTI.
pub(super) fn after_request(client: &mut Client, command: Option<&Command>) {
    let in_multi = client.tx.queue.is_some();
    let Some(mode) = &mut client.tracking else {
        return;
    };
    let client_command =
        command.is_some_and(|c| c.name == "client" || c.container == Some("client"));
    if mode.caching && !in_multi && !client_command {
        mode.caching = false;
    }
}

/// The end of a worker's round or of an expiry cycle: broadcast invalidations go out.
pub(crate) fn end_round(shared: &Shared) {
    shared
        .tracking
        .end_round(|outbox, bytes| shared.push(outbox, bytes));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collision(current: &[&'static [u8]], given: &[&[u8]]) -> Option<(String, bool)> {
        let mode = Mode {
            bcast: true,
            prefixes: current.iter().map(|p| Bytes::from_static(p)).collect(),
            ..Mode::default()
        };
        prefix_collision(Some(&mode), given)
            .map(|(e, goes_on)| (String::from_utf8_lossy(&e.text("")).into_owned(), goes_on))
    }

    #[test]
    fn prefixes_collide_as_in_redis() {
        assert_eq!(collision(&[], &[b"a", b"b"]), None);
        let (text, goes_on) = collision(&[], &[b"a", b"ab"]).expect("overlap");
        assert!(text.contains("'a' overlaps with another provided prefix 'ab'"));
        assert!(!goes_on);
        // Past the first prefix, Redis replies the error and goes on.
        assert!(collision(&[], &[b"x", b"a", b"ab"]).is_some_and(|(_, goes_on)| goes_on));
        let (text, goes_on) = collision(&[b"user:"], &[b"u"]).expect("overlap");
        assert!(text.contains("'u' overlaps with an existing prefix 'user:'"));
        assert!(!goes_on);
        assert!(collision(&[b""], &[b"x"]).is_some());
    }

    #[test]
    fn caching_decides_what_optin_and_optout_remember() {
        let mode = |optin, optout, caching| Mode {
            optin,
            optout,
            caching,
            ..Mode::default()
        };
        assert!(mode(false, false, false).remembers());
        assert!(!mode(true, false, false).remembers());
        assert!(mode(true, false, true).remembers());
        assert!(mode(false, true, false).remembers());
        assert!(!mode(false, true, true).remembers());
        let bcast = Mode {
            bcast: true,
            ..Mode::default()
        };
        assert!(!bcast.remembers());
    }
}
