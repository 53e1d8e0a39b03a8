//! Which keys a write really changed, so that only those fail the transactions watching
//! them.
//!
//! Redis flags a watched key when a command modifies it, not when a write command names
//! it: a SET NX that finds the key, a DEL or EXPIRE of a missing key, an EXPIRE GT that
//! does not apply leave the transaction alone. FLUSHDB, FLUSHALL and SWAPDB flag only the
//! watched keys that existed in the databases they emptied or swapped. The store answers
//! what a command did, not which keys it changed, so this reads it off the reply, plus what
//! the watched keys looked like just before the command for the few commands whose reply
//! does not tell (DEL, SET NX/XX, GETEX PERSIST, the flushes).
//!
//! Everything here runs only while some key is watched.

use bytes::Bytes;

use super::args::{is, parse_i64};
use super::{Command, Ctx, key_args};
use crate::shared::Shared;

/// What a write's watched keys looked like before it ran.
#[derive(Default)]
pub(super) struct Before {
    /// Per key argument, whether it existed (DEL, UNLINK, SET): only for watched keys,
    /// the others are never flagged.
    existed: Vec<bool>,
    /// GETEX PERSIST: whether the key had a time to live.
    had_ttl: bool,
    /// FLUSHDB, FLUSHALL, SWAPDB: the watched keys that the command empties or replaces.
    flushed: Vec<(usize, Bytes)>,
}

/// Looks at the watched keys `command` may change before it runs.
pub(super) fn before(ctx: &Ctx<'_>, command: &Command, args: &[&[u8]]) -> Before {
    let shared = ctx.shared;
    let db = ctx.client.db;
    let exists = |db: usize, key: &[u8]| shared.store.exists(db, &[key]).is_ok_and(|n| n > 0);
    let mut before = Before::default();
    match command.name {
        "del" | "unlink" | "set" => {
            before.existed = key_args(command, args)
                .map(|key| shared.watches.is_watched(db, key) && exists(db, key))
                .collect();
        }
        "getex" => before.had_ttl = shared.store.ttl(db, args[1]).is_ok_and(|t| t >= 0),
        "flushdb" => {
            before.flushed = shared.watches.watched_in(Some(db));
            before.flushed.retain(|(db, key)| exists(*db, key));
        }
        "flushall" => {
            before.flushed = shared.watches.watched_in(None);
            before.flushed.retain(|(db, key)| exists(*db, key));
        }
        "swapdb" => {
            // A watched key of either database changes if it is in either of them.
            if let (Some(a), Some(b)) = (db_arg(args[1]), db_arg(args[2])) {
                for (this, other) in [(a, b), (b, a)] {
                    for (db, key) in shared.watches.watched_in(Some(this)) {
                        if exists(this, &key) || exists(other, &key) {
                            before.flushed.push((db, key));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    before
}

/// Flags the transactions watching a key that `command` changed; `reply` is its reply.
pub(super) fn signal(
    shared: &Shared,
    db: usize,
    command: &Command,
    args: &[&[u8]],
    reply: &[u8],
    before: Before,
) {
    if reply.first() == Some(&b'-') {
        // Every error is answered before anything is written.
        return;
    }
    let watches = &shared.watches;
    let int = integer(reply);
    let applied = int == Some(1);
    match command.name {
        "del" | "unlink" => {
            for (key, existed) in key_args(command, args).zip(before.existed) {
                if existed {
                    watches.touch(db, key);
                }
            }
        }
        "set" => {
            let (nx, xx) = args[3..].iter().fold((false, false), |(nx, xx), a| {
                (nx || is(a, "NX"), xx || is(a, "XX"))
            });
            let existed = before.existed.first().copied().unwrap_or(false);
            if (!nx || !existed) && (!xx || existed) {
                watches.touch(db, args[1]);
            }
        }
        "setnx" | "msetnx" | "expire" | "pexpire" | "expireat" | "pexpireat" | "persist"
        | "hsetnx" => {
            if applied {
                for key in key_args(command, args) {
                    watches.touch(db, key);
                }
            }
        }
        "hdel" => {
            if int.is_some_and(|n| n > 0) {
                watches.touch(db, args[1]);
            }
        }
        "getdel" => {
            if !is_null(reply) {
                watches.touch(db, args[1]);
            }
        }
        "getex" => {
            let sets_ttl = args[2..]
                .iter()
                .any(|a| ["EX", "PX", "EXAT", "PXAT"].iter().any(|o| is(a, o)));
            let persists = args[2..].iter().any(|a| is(a, "PERSIST"));
            if !is_null(reply) && (sets_ttl || persists && before.had_ttl) {
                watches.touch(db, args[1]);
            }
        }
        "setrange" => {
            // An empty value changes nothing, not even a missing key.
            if !args[3].is_empty() {
                watches.touch(db, args[1]);
            }
        }
        "rename" => {
            if args[1] != args[2] {
                watches.touch(db, args[1]);
                watches.touch(db, args[2]);
            }
        }
        "renamenx" => {
            if applied {
                watches.touch(db, args[1]);
                watches.touch(db, args[2]);
            }
        }
        "move" => {
            if applied && let Some(dst) = db_arg(args[2]) {
                watches.touch(db, args[1]);
                watches.touch(dst, args[1]);
            }
        }
        "copy" => {
            if applied {
                // Options start after the two keys, which may themselves be named "db".
                let dst = (3..args.len())
                    .find(|&i| is(args[i], "DB"))
                    .and_then(|i| args.get(i + 1))
                    .and_then(|a| db_arg(a))
                    .unwrap_or(db);
                watches.touch(dst, args[2]);
            }
        }
        "flushdb" | "flushall" | "swapdb" => {
            for (db, key) in &before.flushed {
                watches.touch(*db, key);
            }
        }
        _ => {
            for key in key_args(command, args) {
                watches.touch(db, key);
            }
        }
    }
}

fn db_arg(arg: &[u8]) -> Option<usize> {
    parse_i64(arg).and_then(|n| usize::try_from(n).ok())
}

/// An integer reply's value.
fn integer(reply: &[u8]) -> Option<i64> {
    let rest = reply.strip_prefix(b":")?;
    let end = rest.iter().position(|&b| b == b'\r')?;
    parse_i64(&rest[..end])
}

/// A null reply, in RESP2 or RESP3.
fn is_null(reply: &[u8]) -> bool {
    reply.starts_with(b"$-1\r\n") || reply.starts_with(b"*-1\r\n") || reply.starts_with(b"_\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_shapes() {
        assert_eq!(integer(b":1\r\n"), Some(1));
        assert_eq!(integer(b":-12\r\n"), Some(-12));
        assert_eq!(integer(b"+OK\r\n"), None);
        assert!(is_null(b"$-1\r\n"));
        assert!(is_null(b"_\r\n"));
        assert!(!is_null(b"$0\r\n\r\n"));
    }
}
