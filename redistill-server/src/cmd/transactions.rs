//! MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! EXEC is atomic with respect to other clients: every command runs holding its worker's
//! gate for reading (a connection takes it once per batch of pipelined requests), and EXEC
//! takes every worker's gate for writing, so no other command runs while a transaction
//! executes. The gates are per worker, so ordinary commands never contend on a shared lock.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::{Command, Ctx};

pub(super) static COMMANDS: &[Command] = &[
    Command::new(
        "multi",
        1,
        &["noscript", "loading", "stale", "fast", "allow_busy"],
        (0, 0, 0),
        multi,
    ),
    Command::new(
        "exec",
        1,
        &["noscript", "loading", "stale", "skip_slowlog"],
        (0, 0, 0),
        exec,
    ),
    Command::new(
        "discard",
        1,
        &["noscript", "loading", "stale", "fast", "allow_busy"],
        (0, 0, 0),
        discard,
    ),
    Command::new(
        "watch",
        -2,
        &["noscript", "loading", "stale", "fast", "allow_busy"],
        (1, -1, 1),
        watch,
    ),
    Command::new(
        "unwatch",
        1,
        &["noscript", "loading", "stale", "fast", "allow_busy"],
        (0, 0, 0),
        unwatch,
    ),
];

/// Commands that run at once inside MULTI instead of being queued.
pub(super) fn runs_inside_multi(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

fn multi(ctx: &mut Ctx<'_>, _args: &[&[u8]]) {
    if ctx.client.tx.queue.is_some() {
        return ctx.reply().error("ERR MULTI calls can not be nested");
    }
    ctx.client.tx.queue = Some(Vec::new());
    ctx.client.tx.aborted = false;
    ctx.reply().ok();
}

fn discard(ctx: &mut Ctx<'_>, _args: &[&[u8]]) {
    if ctx.client.tx.take_queue().is_none() {
        return ctx.reply().error("ERR DISCARD without MULTI");
    }
    unwatch_all(ctx);
    ctx.reply().ok();
}

fn exec(ctx: &mut Ctx<'_>, _args: &[&[u8]]) {
    let Some(queue) = ctx.client.tx.take_queue() else {
        return ctx.reply().error("ERR EXEC without MULTI");
    };
    if ctx.client.tx.aborted {
        unwatch_all(ctx);
        return ctx
            .reply()
            .error("EXECABORT Transaction discarded because of previous errors.");
    }
    let shared = ctx.shared;
    // The check before every command has already tried to evict: still over the limit, a
    // transaction that may grow memory is discarded whole, as Redis does.
    if shared.store.over_memory_limit()
        && queue.iter().any(|q| {
            q.first()
                .and_then(|name| super::lookup(name))
                .is_some_and(|c| c.denyoom)
        })
    {
        unwatch_all(ctx);
        return ctx.reply().error_fmt(format_args!(
            "EXECABORT Transaction discarded because of: {}",
            super::reply::OOM
        ));
    }
    // With every gate held no other command runs, so what the watch check sees holds
    // until the queued commands have run.
    let _exclusive: Vec<_> = shared.gates.iter().map(|gate| gate.write()).collect();
    let tx = &ctx.client.tx;
    let vanished = || {
        tx.existed_when_watched
            .iter()
            .any(|(db, key)| shared.store.exists(*db, &[key]).is_ok_and(|n| n == 0))
    };
    let dirty = tx.dirty.load(Ordering::Relaxed) || vanished();
    unwatch_all(ctx);
    if dirty {
        return ctx.reply().null_array();
    }
    ctx.reply().array(queue.len());
    ctx.client.tx.in_exec = true;
    for queued in &queue {
        let args: Vec<&[u8]> = queued.iter().map(|a| a.as_ref()).collect();
        super::run_queued(ctx, &args);
    }
    ctx.client.tx.in_exec = false;
}

fn watch(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    if ctx.client.tx.queue.is_some() {
        return ctx.reply().error("ERR WATCH inside MULTI is not allowed");
    }
    let db = ctx.client.db;
    for key in &args[1..] {
        let entry = (db, Bytes::copy_from_slice(key));
        if !ctx.client.tx.watched.contains(&entry) {
            ctx.shared
                .watches
                .watch(db, entry.1.clone(), &ctx.client.tx.dirty);
            if ctx.shared.store.exists(db, &[key]).is_ok_and(|n| n > 0) {
                ctx.client.tx.existed_when_watched.push(entry.clone());
            }
            ctx.client.tx.watched.push(entry);
        }
    }
    ctx.reply().ok();
}

fn unwatch(ctx: &mut Ctx<'_>, _args: &[&[u8]]) {
    unwatch_all(ctx);
    ctx.reply().ok();
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
