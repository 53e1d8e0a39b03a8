//! MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! EXEC is atomic with respect to other clients: every command runs holding its worker's
//! gate for reading (a connection takes it once per batch of pipelined requests), and EXEC
//! takes every worker's gate for writing, so no other command runs while a transaction
//! executes. The gates are per worker, so ordinary commands never contend on a shared lock.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::table::{KeySpec, acl, flags, key_flags};
use super::{Command, CommandResult, Ctx, Flags, fail};

pub(super) static COMMANDS: &[Command] = &[
    Command::new("multi", 1, multi)
        .flags(flags!(
            NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TRANSACTION_CONTROL
        ))
        .acl(acl!(TRANSACTION)),
    Command::new("exec", 1, exec)
        .flags(flags!(
            NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | TRANSACTION_CONTROL | RUNS_QUEUE
        ))
        .acl(acl!(TRANSACTION)),
    Command::new("discard", 1, discard)
        .flags(flags!(
            NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TRANSACTION_CONTROL
        ))
        .acl(acl!(TRANSACTION)),
    Command::new("watch", -2, watch)
        .flags(flags!(
            NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TRANSACTION_CONTROL
        ))
        .acl(acl!(TRANSACTION))
        .keys(&[KeySpec::range(1, -1, 1, key_flags!(RO))]),
    Command::new("unwatch", 1, unwatch)
        .flags(flags!(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY))
        .acl(acl!(TRANSACTION)),
];

fn multi(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    if ctx.client.tx.queue.is_some() {
        return Err("ERR MULTI calls can not be nested".into());
    }
    ctx.client.tx.queue = Some(Vec::new());
    ctx.client.tx.aborted = false;
    ctx.reply().ok();
    Ok(())
}

fn discard(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    if ctx.client.tx.take_queue().is_none() {
        return Err("ERR DISCARD without MULTI".into());
    }
    unwatch_all(ctx);
    ctx.reply().ok();
    Ok(())
}

fn exec(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let Some(queue) = ctx.client.tx.take_queue() else {
        return Err("ERR EXEC without MULTI".into());
    };
    if ctx.client.tx.aborted {
        unwatch_all(ctx);
        return Err("EXECABORT Transaction discarded because of previous errors.".into());
    }
    let shared = ctx.shared;
    // The check before every command has already tried to evict: still over the limit, a
    // transaction that may grow memory is discarded whole, as Redis does.
    if shared.store.over_memory_limit()
        && queue.iter().any(|q| {
            let args: Vec<&[u8]> = q.iter().map(|a| a.as_ref()).collect();
            super::lookup_request(&args).is_some_and(|c| c.has(Flags::DENYOOM))
        })
    {
        unwatch_all(ctx);
        return Err(fail(format_args!(
            "EXECABORT Transaction discarded because of: {}",
            super::reply::OOM
        )));
    }
    // With every gate held no other command runs, so what the watch check sees holds
    // until the queued commands have run.
    let _exclusive = shared.every_gate();
    let tx = &ctx.client.tx;
    let vanished = || {
        tx.existed_when_watched
            .iter()
            .any(|(db, key)| shared.store.contains(*db, key).is_ok_and(|live| !live))
    };
    let dirty = tx.dirty.load(Ordering::Relaxed) || vanished();
    unwatch_all(ctx);
    if dirty {
        ctx.reply().null_array();
        return Ok(());
    }
    // What reached a subscribed client before EXEC comes before its array.
    if !ctx.client.subscriptions.is_empty() {
        let end = ctx.out.len();
        super::pubsub::place_own_messages(ctx, end);
    }
    // Silenced by CLIENT REPLY, EXEC's array goes whole, what its commands pushed in it too.
    let reply_from = ctx.client.reply_from;
    ctx.reply().array(queue.len());
    ctx.client.tx.in_exec = true;
    for queued in &queue {
        let args: Vec<&[u8]> = queued.iter().map(|a| a.as_ref()).collect();
        super::run_queued(ctx, &args);
    }
    ctx.client.tx.in_exec = false;
    ctx.client.reply_from = reply_from;
    // Clients blocked on keys the transaction pushed to are served before any other
    // command runs, as in Redis.
    shared.serve_blocked(ctx.worker);
    Ok(())
}

fn watch(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    if ctx.client.tx.queue.is_some() {
        return Err("ERR WATCH inside MULTI is not allowed".into());
    }
    let db = ctx.client.db;
    for key in &args[1..] {
        let entry = (db, Bytes::copy_from_slice(key));
        if !ctx.client.tx.watched.contains(&entry) {
            ctx.shared
                .watches
                .watch(db, entry.1.clone(), &ctx.client.tx.dirty);
            if ctx.shared.store.contains(db, key).is_ok_and(|live| live) {
                ctx.client.tx.existed_when_watched.push(entry.clone());
            }
            ctx.client.tx.watched.push(entry);
        }
    }
    ctx.reply().ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    unwatch_all(ctx);
    ctx.reply().ok();
    Ok(())
}

/// Forgets every watched key and clears the dirty flag, as EXEC, DISCARD and UNWATCH do.
pub(crate) fn unwatch_all(ctx: &mut Ctx<'_>) {
    let tx = &mut ctx.client.tx;
    ctx.shared.watches.unwatch(&tx.watched, &tx.dirty);
    tx.watched.clear();
    tx.existed_when_watched.clear();
    // A fresh flag: a writer holding the old one cannot dirty the next transaction.
    tx.dirty = Arc::default();
}
