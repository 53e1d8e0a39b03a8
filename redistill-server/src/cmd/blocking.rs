//! The blocking list and sorted-set commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP,
//! BZPOPMIN, BZPOPMAX, BZMPOP.
//!
//! Each first runs as its non-blocking form would; when no key has data, the client waits
//! (see `crate::blocking`) until a key receives some, its timeout passes, or CLIENT
//! UNBLOCK ends the wait. Inside a transaction nothing blocks: an empty result answers nil.

use bytes::Bytes;
use redistill_resp::Version;
use redistill_store::{ListEnd, Store, StoreError, ValueType};

use super::c_float::parse_long_double;
use super::lists::{parse_end, parse_multi_pop, write_key_and_elements};
use super::reply::store_error_text;
use super::table::{BeginSearch, FindKeys, KeySpec, acl, flags, key_flags};
use super::zsets::{parse_min_max, write_key_and_members};
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
    Command::new("bzpopmin", -3, bzpopmin)
        .flags(flags!(WRITE | NOSCRIPT | BLOCKING | FAST))
        .acl(acl!(SORTEDSET))
        .keys(&[KeySpec::range(1, -2, 1, key_flags!(RW | ACCESS | DELETE))]),
    Command::new("bzpopmax", -3, bzpopmax)
        .flags(flags!(WRITE | NOSCRIPT | BLOCKING | FAST))
        .acl(acl!(SORTEDSET))
        .keys(&[KeySpec::range(1, -2, 1, key_flags!(RW | ACCESS | DELETE))]),
    Command::new("bzmpop", -5, bzmpop)
        .flags(flags!(WRITE | BLOCKING))
        .acl(acl!(SORTEDSET))
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
    let seconds = parse_long_double(arg).ok_or("ERR timeout is not a float or out of range")?;
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

/// A pop from one end: one element (BLPOP, BRPOP), or up to `count` (BLMPOP).
#[derive(Debug)]
struct Pop {
    end: ListEnd,
    /// BLMPOP's count; `None` for BLPOP and BRPOP, which reply `[key, element]`.
    count: Option<usize>,
}

impl Pop {
    /// The reply for `popped`, taken from `key`.
    fn reply(&self, version: Version, key: &[u8], popped: &[Bytes]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut reply = Reply::new(&mut out, version);
        match (self.count, popped.first()) {
            (None, Some(first)) => {
                reply.array(2);
                reply.bulk(key);
                reply.bulk(first);
            }
            _ => write_key_and_elements(&mut reply, key, popped),
        }
        out
    }
}

impl BlockedOp for Pop {
    fn attempt(
        &self,
        store: &Store,
        db: usize,
        keys: &[&[u8]],
        version: Version,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let found = store.lmpop(db, keys, self.end, self.count.unwrap_or(1))?;
        Ok(found.map(|(key, popped)| self.reply(version, &key, &popped)))
    }

    fn serve(&self, store: &Store, db: usize, key: &[u8], version: Version) -> Option<Vec<u8>> {
        let popped = store
            .list_pop(db, key, self.end, self.count.unwrap_or(1))
            .ok()??;
        (!popped.is_empty()).then(|| self.reply(version, key, &popped))
    }
}

/// A pop from a sorted set: the least or greatest score first.
#[derive(Debug)]
struct ZPop {
    max: bool,
    /// BZMPOP's count; `None` for BZPOPMIN and BZPOPMAX, which reply
    /// `[key, member, score]`.
    count: Option<usize>,
}

impl ZPop {
    /// The reply for `popped`, taken from `key`.
    fn reply(&self, version: Version, key: &[u8], popped: &[(Bytes, f64)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut reply = Reply::new(&mut out, version);
        match (self.count, popped.first()) {
            (None, Some((member, score))) => {
                reply.array(3);
                reply.bulk(key);
                reply.bulk(member);
                reply.double(*score);
            }
            _ => write_key_and_members(&mut reply, key, popped),
        }
        out
    }
}

impl BlockedOp for ZPop {
    fn attempt(
        &self,
        store: &Store,
        db: usize,
        keys: &[&[u8]],
        version: Version,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let found = store.zmpop(db, keys, self.max, self.count.unwrap_or(1))?;
        Ok(found.map(|(key, popped)| self.reply(version, &key, &popped)))
    }

    /// A key that became anything but a sorted set (a list a BLPOP waits on too) leaves
    /// the client waiting, as in Redis.
    fn serve(&self, store: &Store, db: usize, key: &[u8], version: Version) -> Option<Vec<u8>> {
        self.attempt(store, db, &[key], version).ok().flatten()
    }
}

/// A move from one list's end to another's (BLMOVE, BRPOPLPUSH).
#[derive(Debug)]
struct Move {
    destination: Bytes,
    from: ListEnd,
    to: ListEnd,
}

impl BlockedOp for Move {
    /// `keys` is the source alone.
    fn attempt(
        &self,
        store: &Store,
        db: usize,
        keys: &[&[u8]],
        version: Version,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let moved = store.lmove(db, keys[0], &self.destination, self.from, self.to)?;
        Ok(moved.map(|element| {
            let mut out = Vec::new();
            Reply::new(&mut out, version).bulk(&element);
            out
        }))
    }

    fn serve(&self, store: &Store, db: usize, key: &[u8], version: Version) -> Option<Vec<u8>> {
        // A source of another type keeps the client waiting; a destination of another
        // type ends the wait with WRONGTYPE, as in Redis.
        if store.value_type(db, key).ok()? != Some(ValueType::List) {
            return None;
        }
        match self.attempt(store, db, &[key], version) {
            Ok(reply) => reply,
            Err(e) => {
                let mut out = Vec::new();
                Reply::new(&mut out, version).error(store_error_text(&e, "blmove").as_bytes());
                Some(out)
            }
        }
    }
}

/// Runs `op` at once; when it finds no data, blocks the client on `keys`, or inside a
/// transaction answers nil (`nil_array` or a nil string).
///
/// The first attempt takes no registry lock and counts no blocked client, so a command
/// that finds data costs no more than its non-blocking form. A miss here loses no wake-up:
/// [`crate::blocking::Blocking::block`] counts the client before it tries again, and a
/// push it does not see then is reported to a thread that sees the count.
fn serve_or_block(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    deadline_ms: Option<u64>,
    op: Box<dyn BlockedOp>,
    nil_array: bool,
) -> CommandResult {
    let shared = ctx.shared;
    let (db, version) = (ctx.client.db, ctx.client.version);
    match op.attempt(&shared.store, db, keys, version)? {
        Some(reply) => {
            ctx.out.extend_from_slice(&reply);
            return Ok(());
        }
        None if !ctx.client.tx.in_exec => {}
        None if nil_array => {
            ctx.reply().null_array();
            return Ok(());
        }
        None => {
            ctx.reply().null();
            return Ok(());
        }
    }
    let request = Request {
        client: ctx.client.id(),
        db,
        keys,
        deadline_ms,
        version,
    };
    let client = &mut *ctx.client;
    let outbox = || std::sync::Arc::clone(client.outbox());
    match shared.blocking.block(&shared.store, request, op, outbox)? {
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

/// BLPOP and BRPOP: `key [key ...] timeout` (the arity guarantees a key).
fn pop(ctx: &mut Ctx<'_>, args: &[&[u8]], end: ListEnd) -> CommandResult {
    let last = args.len() - 1;
    let deadline = deadline_arg(args[last])?;
    serve_or_block(
        ctx,
        &args[1..last],
        deadline,
        Box::new(Pop { end, count: None }),
        true,
    )
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
    let op = Move {
        destination: Bytes::copy_from_slice(args[2]),
        from,
        to,
    };
    serve_or_block(ctx, &args[1..2], deadline, Box::new(op), false)
}

/// BLMPOP: `timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`; the timeout is
/// read after the rest, as Redis reads it.
fn blmpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let parsed = parse_multi_pop(args, 2, parse_end)?;
    let deadline = deadline_arg(args[1])?;
    let op = Pop {
        end: parsed.side,
        count: Some(parsed.count),
    };
    serve_or_block(ctx, parsed.keys, deadline, Box::new(op), true)
}

fn bzpopmin(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    zpop(ctx, args, false)
}

fn bzpopmax(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    zpop(ctx, args, true)
}

/// BZPOPMIN and BZPOPMAX: `key [key ...] timeout` (the arity guarantees a key).
fn zpop(ctx: &mut Ctx<'_>, args: &[&[u8]], max: bool) -> CommandResult {
    let last = args.len() - 1;
    let deadline = deadline_arg(args[last])?;
    serve_or_block(
        ctx,
        &args[1..last],
        deadline,
        Box::new(ZPop { max, count: None }),
        true,
    )
}

/// BZMPOP: `timeout numkeys key [key ...] MIN|MAX [COUNT count]`; the timeout is read
/// after the rest, as Redis reads it.
fn bzmpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let parsed = parse_multi_pop(args, 2, parse_min_max)?;
    let deadline = deadline_arg(args[1])?;
    let op = ZPop {
        max: parsed.side,
        count: Some(parsed.count),
    };
    serve_or_block(ctx, parsed.keys, deadline, Box::new(op), true)
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
