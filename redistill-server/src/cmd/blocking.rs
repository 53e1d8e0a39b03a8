//! The blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.
//!
//! Each first runs as its non-blocking form would; when no key has data, the client waits
//! (see `crate::blocking`) until a key receives some, its timeout passes, or CLIENT
//! UNBLOCK ends the wait. Inside a transaction nothing blocks: an empty result answers nil.

use bytes::Bytes;
use redistill_resp::Version;
use redistill_store::{ListEnd, Store, StoreError, ValueType};

use super::lists::{parse_end, parse_multi_pop};
use super::reply::store_error_text;
use super::table::{BeginSearch, FindKeys, KeySpec, acl, flags, key_flags};
use super::{Command, CommandResult, Ctx, Reply};
use crate::blocking::{Blocked, BlockedOp, Request};

pub(super) static COMMANDS: &[Command] = &[
    Command::new("blpop", -3, blpop)
        .flags(flags!(WRITE | NOSCRIPT | BLOCKING))
        .acl(acl!(LIST))
        .keys(&[KeySpec::range(1, -2, 1, key_flags!(RW | ACCESS | DELETE))]),
    Command::new("brpop", -3, brpop)
        .flags(flags!(WRITE | NOSCRIPT | BLOCKING))
        .acl(acl!(LIST))
        .keys(&[KeySpec::range(1, -2, 1, key_flags!(RW | ACCESS | DELETE))]),
    Command::new("brpoplpush", 4, brpoplpush)
        .flags(flags!(WRITE | DENYOOM | NOSCRIPT | BLOCKING))
        .acl(acl!(LIST))
        .keys(&[
            KeySpec::at(1, key_flags!(RW | ACCESS | DELETE)),
            KeySpec::at(2, key_flags!(RW | INSERT)),
        ]),
    Command::new("blmove", 6, blmove)
        .flags(flags!(WRITE | DENYOOM | NOSCRIPT | BLOCKING))
        .acl(acl!(LIST))
        .keys(&[
            KeySpec::at(1, key_flags!(RW | ACCESS | DELETE)),
            KeySpec::at(2, key_flags!(RW | INSERT)),
        ]),
    Command::new("blmpop", -5, blmpop)
        .flags(flags!(WRITE | BLOCKING))
        .acl(acl!(LIST))
        .keys(&[KeySpec::new(
            key_flags!(RW | ACCESS | DELETE),
            BeginSearch::Index(2),
            FindKeys::Keynum {
                key_num_index: 0,
                first_key: 1,
                step: 1,
            },
        )]),
];

/// Redis's `getTimeoutFromObjectOrReply` for seconds: a non-negative float, rounded up to
/// whole milliseconds; the deadline (unix ms), or `None` (0) to wait for ever.
/// (Redis 7.2 answers `timeout is out of range` where 7.0 answers `timeout is negative`.)
fn deadline_arg(arg: &[u8]) -> Result<Option<u64>, &'static str> {
    let seconds = std::str::from_utf8(arg)
        .ok()
        .filter(|s| !s.starts_with(char::is_whitespace))
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| !s.is_nan())
        .ok_or("ERR timeout is not a float or out of range")?;
    let millis = (seconds * 1000.0).ceil();
    // Redis 7.0 converts to a 64-bit integer without a range check, so a timeout past its
    // range reads as negative.
    if millis < 0.0 || millis >= i64::MAX as f64 {
        return Err("ERR timeout is negative");
    }
    if millis == 0.0 {
        return Ok(None);
    }
    // The OS clock, not the coarse reading a batch shares, plus a millisecond for the part
    // of the current one already gone: the wait is never cut short.
    let now = redistill_store::Clock::now_ms(&redistill_store::SystemClock) + 1;
    // Exact below 2^53 ms (285,000 years); a deadline past the clock's range waits for
    // ever, as Redis 7.0's does.
    let deadline = now
        .checked_add(millis as u64)
        .filter(|d| *d <= i64::MAX as u64);
    Ok(deadline.or(Some(u64::MAX)))
}

/// BLPOP's and BRPOP's reply: the key and the element.
fn write_popped(out: &mut Vec<u8>, version: Version, key: &[u8], popped: &[Bytes], counted: bool) {
    let mut reply = Reply::new(out, version);
    reply.array(2);
    reply.bulk(key);
    if counted {
        reply.bulks(popped.iter().map(|b| &b[..]));
    } else if let Some(first) = popped.first() {
        reply.bulk(first);
    }
}

/// A pop from one end: one element (BLPOP, BRPOP), or up to `count` (BLMPOP).
#[derive(Debug)]
struct Pop {
    end: ListEnd,
    /// BLMPOP's count; `None` for BLPOP and BRPOP, which reply one element.
    count: Option<usize>,
}

impl Pop {
    /// The reply for what `store` gives from `keys`, the first non-empty list among them.
    fn first_of(&self, store: &Store, db: usize, keys: &[&[u8]], version: Version) -> Attempt {
        let found = store.lmpop(db, keys, self.end, self.count.unwrap_or(1))?;
        Ok(found.map(|(key, popped)| {
            let mut out = Vec::new();
            write_popped(&mut out, version, &key, &popped, self.count.is_some());
            out
        }))
    }
}

impl BlockedOp for Pop {
    fn serve(&self, store: &Store, db: usize, key: &[u8], version: Version) -> Option<Vec<u8>> {
        let popped = store
            .list_pop(db, key, self.end, self.count.unwrap_or(1))
            .ok()??;
        if popped.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        write_popped(&mut out, version, key, &popped, self.count.is_some());
        Some(out)
    }

    fn timed_out(&self, version: Version) -> Vec<u8> {
        let mut out = Vec::new();
        Reply::new(&mut out, version).null_array();
        out
    }
}

/// A move from one list's end to another's (BLMOVE, BRPOPLPUSH).
#[derive(Debug)]
struct Move {
    destination: Bytes,
    from: ListEnd,
    to: ListEnd,
}

impl Move {
    fn run(&self, store: &Store, db: usize, source: &[u8], version: Version) -> Attempt {
        let moved = store.lmove(db, source, &self.destination, self.from, self.to)?;
        Ok(moved.map(|element| {
            let mut out = Vec::new();
            Reply::new(&mut out, version).bulk(&element);
            out
        }))
    }
}

impl BlockedOp for Move {
    fn serve(&self, store: &Store, db: usize, key: &[u8], version: Version) -> Option<Vec<u8>> {
        // A source of another type keeps the client waiting; a destination of another
        // type ends the wait with WRONGTYPE, as in Redis.
        if store.value_type(db, key).ok()? != Some(ValueType::List) {
            return None;
        }
        match self.run(store, db, key, version) {
            Ok(reply) => reply,
            Err(e) => {
                let mut out = Vec::new();
                Reply::new(&mut out, version).error(store_error_text(&e, "blmove").as_bytes());
                Some(out)
            }
        }
    }

    fn timed_out(&self, version: Version) -> Vec<u8> {
        let mut out = Vec::new();
        Reply::new(&mut out, version).null_array();
        out
    }
}

/// The reply of a non-blocking try, `None` when every key was empty.
type Attempt = Result<Option<Vec<u8>>, StoreError>;

/// Runs `attempt`; when it finds nothing, blocks the client on `keys` with `op`, or
/// inside a transaction answers nil (`nil_array` or a nil string).
fn serve_or_block(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    deadline_ms: Option<u64>,
    op: Box<dyn BlockedOp>,
    nil_array: bool,
    attempt: impl FnOnce(&Store, Version) -> Attempt,
) -> CommandResult {
    let shared = ctx.shared;
    let version = ctx.client.version;
    if ctx.client.tx.in_exec {
        match attempt(&shared.store, version)? {
            Some(reply) => ctx.out.extend_from_slice(&reply),
            None if nil_array => ctx.reply().null_array(),
            None => ctx.reply().null(),
        }
        return Ok(());
    }
    let request = Request {
        client: ctx.client.id(),
        db: ctx.client.db,
        keys: keys.iter().map(|k| Bytes::copy_from_slice(k)).collect(),
        deadline_ms,
        version,
        outbox: std::sync::Arc::clone(ctx.client.outbox()),
    };
    let mut failed = None;
    let blocked = shared.blocking.block(request, op, || {
        attempt(&shared.store, version).unwrap_or_else(|e| {
            failed = Some(e);
            Some(Vec::new())
        })
    });
    if let Some(e) = failed {
        return Err(e.into());
    }
    match blocked {
        Blocked::Served(reply) => ctx.out.extend_from_slice(&reply),
        Blocked::Waiting(waiter) => ctx.client.block(waiter),
    }
    Ok(())
}

fn blpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    pop(ctx, args, ListEnd::Left)
}

fn brpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    pop(ctx, args, ListEnd::Right)
}

/// BLPOP and BRPOP: `key [key ...] timeout`.
fn pop(ctx: &mut Ctx<'_>, args: &[&[u8]], end: ListEnd) -> CommandResult {
    let (timeout, keys) = args[1..].split_last().unwrap_or((&args[0], &[]));
    let deadline = deadline_arg(timeout)?;
    let db = ctx.client.db;
    let op = Pop { end, count: None };
    let attempt = |store: &Store, version| op.first_of(store, db, keys, version);
    let boxed = Box::new(Pop { end, count: None });
    serve_or_block(ctx, keys, deadline, boxed, true, attempt)
}

fn brpoplpush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let deadline = deadline_arg(args[3])?;
    moving(ctx, args, ListEnd::Right, ListEnd::Left, deadline)
}

fn blmove(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let from = parse_end(args[3])?;
    let to = parse_end(args[4])?;
    let deadline = deadline_arg(args[5])?;
    moving(ctx, args, from, to, deadline)
}

/// BLMOVE and BRPOPLPUSH: `source destination ...`.
fn moving(
    ctx: &mut Ctx<'_>,
    args: &[&[u8]],
    from: ListEnd,
    to: ListEnd,
    deadline: Option<u64>,
) -> CommandResult {
    let db = ctx.client.db;
    let op = || Move {
        destination: Bytes::copy_from_slice(args[2]),
        from,
        to,
    };
    let now = op();
    let attempt = |store: &Store, version| now.run(store, db, args[1], version);
    serve_or_block(ctx, &args[1..2], deadline, Box::new(op()), false, attempt)
}

/// BLMPOP: `timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`; the timeout is
/// read after the rest, as Redis reads it.
fn blmpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let parsed = parse_multi_pop(args, 2)?;
    let deadline = deadline_arg(args[1])?;
    let db = ctx.client.db;
    let op = |count| Pop {
        end: parsed.end,
        count: Some(count),
    };
    let now = op(parsed.count);
    let keys = parsed.keys;
    let attempt = |store: &Store, version| now.first_of(store, db, keys, version);
    serve_or_block(
        ctx,
        keys,
        deadline,
        Box::new(op(parsed.count)),
        true,
        attempt,
    )
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::testing::Harness;

    fn run(h: &mut Harness, client: usize, request: &str) -> Vec<u8> {
        let args: Vec<&[u8]> = request.split(' ').map(str::as_bytes).collect();
        h.run(client, &args)
    }

    #[test]
    fn timeouts_are_parsed_as_redis_parses_them() {
        let mut h = Harness::new(Config::default(), 1).expect("harness");
        for (timeout, error) in [
            ("abc", "-ERR timeout is not a float or out of range\r\n"),
            ("nan", "-ERR timeout is not a float or out of range\r\n"),
            ("-1", "-ERR timeout is negative\r\n"),
            ("inf", "-ERR timeout is negative\r\n"),
            ("1e300", "-ERR timeout is negative\r\n"),
        ] {
            let reply = run(&mut h, 0, &format!("BLPOP k {timeout}"));
            assert_eq!(String::from_utf8_lossy(&reply), error, "{timeout}");
        }
    }

    #[test]
    fn inside_a_transaction_nothing_blocks() {
        let mut h = Harness::new(Config::default(), 1).expect("harness");
        run(&mut h, 0, "MULTI");
        run(&mut h, 0, "BLPOP empty 0");
        run(&mut h, 0, "BLMOVE empty dst LEFT RIGHT 0");
        run(&mut h, 0, "RPUSH l a");
        run(&mut h, 0, "BRPOP empty l 0");
        let reply = run(&mut h, 0, "EXEC");
        assert_eq!(
            reply,
            b"*4\r\n*-1\r\n$-1\r\n:1\r\n*2\r\n$1\r\nl\r\n$1\r\na\r\n"
        );
    }
}
