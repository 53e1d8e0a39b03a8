//! Set commands.
//!
//! Each handler checks its arguments in the order Redis does, since that order decides
//! which error a request with several faults gets: SPOP and SRANDMEMBER parse their count
//! before looking at the key, SINTERCARD its numkeys and LIMIT.

use bytes::Bytes;
use redistill_store::{SetMembers, SetOpOutcome, Store};

use super::args::{NOT_INTEGER, SYNTAX, is, non_negative, parse_i64, positive};
use super::scan::{ScanArgs, parse_cursor};
use super::table::{BeginSearch, FindKeys, KeySpec, MemberArg, acl, flags, key_flags};
use super::{Command, CommandError, CommandResult, Ctx, Reply};

/// SINTERCARD's keys: `numkeys` at argument 1 counts the keys that follow it.
static SINTERCARD_KEYS: &[KeySpec] = &[KeySpec::new(
    key_flags!(RO | ACCESS),
    BeginSearch::Index(1),
    FindKeys::Keynum {
        key_num_index: 0,
        first_key: 1,
        step: 1,
    },
)];

pub(super) static COMMANDS: &[Command] = &[
    Command::new("sadd", -3, sadd)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(SET))
        .keys(&[KeySpec::at(1, key_flags!(RW | INSERT))])
        .member(MemberArg::At(2)),
    Command::new("srem", -3, srem)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(SET))
        .keys(&[KeySpec::at(1, key_flags!(RW | DELETE))])
        .member(MemberArg::At(2)),
    Command::new("smembers", 2, smembers)
        .flags(flags!(READONLY))
        .acl(acl!(SET))
        .tips(&["nondeterministic_output_order"])
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("sismember", 3, sismember)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(SET))
        .keys(&[KeySpec::at(1, key_flags!(RO))])
        .member(MemberArg::At(2)),
    Command::new("smismember", -3, smismember)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(SET))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))])
        .member(MemberArg::At(2)),
    Command::new("scard", 2, scard)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(SET))
        .keys(&[KeySpec::at(1, key_flags!(RO))]),
    Command::new("spop", -2, spop)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(SET))
        .tips(&["nondeterministic_output"])
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | DELETE))]),
    Command::new("srandmember", -2, srandmember)
        .flags(flags!(READONLY))
        .acl(acl!(SET))
        .tips(&["nondeterministic_output"])
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("smove", 4, smove)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(SET))
        .keys(&[
            KeySpec::at(1, key_flags!(RW | ACCESS | DELETE)),
            KeySpec::at(2, key_flags!(RW | INSERT)),
        ]),
    Command::new("sinter", -2, sinter)
        .flags(flags!(READONLY))
        .acl(acl!(SET))
        .tips(&["nondeterministic_output_order"])
        .keys(&[KeySpec::range(1, -1, 1, key_flags!(RO | ACCESS))]),
    Command::new("sintercard", -3, sintercard)
        .flags(flags!(READONLY))
        .acl(acl!(SET))
        .keys(SINTERCARD_KEYS),
    Command::new("sinterstore", -3, sinterstore)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(SET))
        .keys(&[
            KeySpec::at(1, key_flags!(RW | UPDATE)),
            KeySpec::range(2, -1, 1, key_flags!(RO | ACCESS)),
        ]),
    Command::new("sunion", -2, sunion)
        .flags(flags!(READONLY))
        .acl(acl!(SET))
        .tips(&["nondeterministic_output_order"])
        .keys(&[KeySpec::range(1, -1, 1, key_flags!(RO | ACCESS))]),
    Command::new("sunionstore", -3, sunionstore)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(SET))
        .keys(&[
            KeySpec::at(1, key_flags!(OW | UPDATE)),
            KeySpec::range(2, -1, 1, key_flags!(RO | ACCESS)),
        ]),
    Command::new("sdiff", -2, sdiff)
        .flags(flags!(READONLY))
        .acl(acl!(SET))
        .tips(&["nondeterministic_output_order"])
        .keys(&[KeySpec::range(1, -1, 1, key_flags!(RO | ACCESS))]),
    Command::new("sdiffstore", -3, sdiffstore)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(SET))
        .keys(&[
            KeySpec::at(1, key_flags!(OW | UPDATE)),
            KeySpec::range(2, -1, 1, key_flags!(RO | ACCESS)),
        ]),
    Command::new("sscan", -3, sscan)
        .flags(flags!(READONLY))
        .acl(acl!(SET))
        .tips(&["nondeterministic_output"])
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
];

/// Members as a set reply: `~` in RESP3, an array in RESP2.
fn reply_set(ctx: &mut Ctx<'_>, members: &[Bytes]) {
    let mut reply = ctx.reply();
    reply.set(members.len());
    for m in members {
        reply.bulk(m);
    }
}

/// SADD key member [member ...]
fn sadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.sadd(ctx.client.db, args[1], &args[2..]);
    ctx.answer(result)
}

/// SREM key member [member ...]
fn srem(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.srem(ctx.client.db, args[1], &args[2..]);
    ctx.answer(result)
}

/// SMEMBERS key
fn smembers(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (shared, db) = (ctx.shared, ctx.client.db);
    let mut reply = ctx.reply();
    shared
        .store
        .smembers_with(db, args[1], |members| reply_members(&mut reply, members))?;
    Ok(())
}

/// SISMEMBER key member
fn sismember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.sismember(ctx.client.db, args[1], args[2]);
    ctx.answer(result)
}

/// SMISMEMBER key member [member ...]
fn smismember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let found = ctx
        .shared
        .store
        .smismember(ctx.client.db, args[1], &args[2..])?;
    let mut reply = ctx.reply();
    reply.array(found.len());
    for f in found {
        reply.bool_int(f);
    }
    Ok(())
}

/// SCARD key
fn scard(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.scard(ctx.client.db, args[1]);
    ctx.answer(result)
}

/// SPOP key [count]
fn spop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let count = match args {
        [_, _] => None,
        [_, _, count] => Some(non_negative(
            count,
            "ERR value is out of range, must be positive",
        )?),
        _ => return Err(SYNTAX.into()),
    };
    let popped = ctx
        .shared
        .store
        .spop(ctx.client.db, args[1], count.unwrap_or(1))?;
    match count {
        None => {
            let first = popped.and_then(|p| p.into_iter().next());
            ctx.reply().opt_bulk(first.as_deref());
        }
        // Redis answers a set type here (an empty one for a missing key).
        Some(_) => reply_set(ctx, &popped.unwrap_or_default()),
    }
    Ok(())
}

/// SRANDMEMBER key [count]
fn srandmember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let count = match args {
        [_, _] => None,
        [_, _, count] => Some(parse_i64(count).ok_or(NOT_INTEGER)?),
        _ => return Err(SYNTAX.into()),
    };
    if let Some(count) = count
        && Store::check_srandmember_count(count).is_ok()
        && super::close_if_picks_overflow(ctx, "SRANDMEMBER", count, |ctx| {
            ctx.shared.store.scard(ctx.client.db, args[1])
        })
    {
        return Ok(());
    }
    let (shared, db) = (ctx.shared, ctx.client.db);
    let mut reply = ctx.reply();
    shared
        .store
        .srandmember_with(db, args[1], count, |picks| match count {
            None if picks.is_empty() => reply.opt_bulk(None),
            None => picks.for_each(|m| reply.bulk(m)),
            Some(_) => {
                reply.array(picks.len());
                picks.for_each(|m| reply.bulk(m));
            }
        })?;
    Ok(())
}

/// SMOVE source destination member
fn smove(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx
        .shared
        .store
        .smove(ctx.client.db, args[1], args[2], args[3]);
    ctx.answer(result)
}

/// Replies `members` as a set.
fn reply_members(reply: &mut Reply<'_>, members: SetMembers<'_>) {
    reply.set(members.len());
    members.for_each(|m| reply.bulk(m));
}

/// Replies a set operation's outcome: the members as a set, or the stored count.
fn reply_outcome(ctx: &mut Ctx<'_>, outcome: SetOpOutcome) -> CommandResult {
    match outcome {
        SetOpOutcome::Members(members) => reply_set(ctx, &members),
        SetOpOutcome::Stored(n) => ctx.reply().len(n),
    }
    Ok(())
}

/// SINTER key [key ...]
fn sinter(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (shared, db) = (ctx.shared, ctx.client.db);
    let mut reply = ctx.reply();
    shared
        .store
        .sinter_with(db, &args[1..], |members| reply_members(&mut reply, members))?;
    Ok(())
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let outcome = ctx
        .shared
        .store
        .sinter(ctx.client.db, &args[2..], Some(args[1]))?;
    reply_outcome(ctx, outcome)
}

/// SUNION key [key ...]
fn sunion(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (shared, db) = (ctx.shared, ctx.client.db);
    let mut reply = ctx.reply();
    shared
        .store
        .sunion_with(db, &args[1..], |members| reply_members(&mut reply, members))?;
    Ok(())
}

/// SUNIONSTORE destination key [key ...]
fn sunionstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let outcome = ctx
        .shared
        .store
        .sunion(ctx.client.db, &args[2..], Some(args[1]))?;
    reply_outcome(ctx, outcome)
}

/// SDIFF key [key ...]
fn sdiff(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (shared, db) = (ctx.shared, ctx.client.db);
    let mut reply = ctx.reply();
    shared
        .store
        .sdiff_with(db, &args[1..], |members| reply_members(&mut reply, members))?;
    Ok(())
}

/// SDIFFSTORE destination key [key ...]
fn sdiffstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let outcome = ctx
        .shared
        .store
        .sdiff(ctx.client.db, &args[2..], Some(args[1]))?;
    reply_outcome(ctx, outcome)
}

/// SINTERCARD's arguments after its name: `numkeys key [key ...] [LIMIT limit]`, with
/// Redis's errors in Redis's order.
fn parse_sintercard<'a, 'b>(args: &'a [&'b [u8]]) -> Result<(&'a [&'b [u8]], usize), CommandError> {
    let numkeys = positive(args[1], "ERR numkeys should be greater than 0")?;
    if numkeys > args.len() - 2 {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    let mut limit = 0;
    let mut j = 2 + numkeys;
    while j < args.len() {
        if is(args[j], "LIMIT") && j + 1 < args.len() {
            j += 1;
            limit = non_negative(args[j], "ERR LIMIT can't be negative")?;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    Ok((&args[2..2 + numkeys], limit))
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (keys, limit) = parse_sintercard(args)?;
    let result = ctx.shared.store.sintercard(ctx.client.db, keys, limit);
    ctx.answer(result)
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let Some(cursor) = parse_cursor(args[2]) else {
        return Err("ERR invalid cursor".into());
    };
    // Redis looks the key up before it reads the options: a missing key answers an empty
    // scan, another type WRONGTYPE, whatever the options.
    let opts = match ScanArgs::parse(&args[3..], false) {
        Ok(opts) => opts,
        Err(e) => {
            if ctx.shared.store.scard(ctx.client.db, args[1])? == 0 {
                let mut reply = ctx.reply();
                reply.array(2);
                reply.bulk(b"0");
                reply.array(0);
                return Ok(());
            }
            return Err(e.into());
        }
    };
    let (next, members) =
        ctx.shared
            .store
            .sscan(ctx.client.db, args[1], cursor, opts.pattern, opts.count)?;
    let mut reply = ctx.reply();
    reply.array(2);
    reply.bulk(next.to_string().as_bytes());
    reply.bulks(members.iter().map(AsRef::as_ref));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&[u8]]) -> Result<(usize, usize), String> {
        parse_sintercard(args)
            .map(|(keys, limit)| (keys.len(), limit))
            .map_err(|e| String::from_utf8_lossy(&e.text("sintercard")).into_owned())
    }

    #[test]
    fn sintercard_arguments_fail_as_redis_does() {
        let c: &[u8] = b"sintercard";
        assert_eq!(parse(&[c, b"2", b"a", b"b"]), Ok((2, 0)));
        assert_eq!(
            parse(&[c, b"1", b"a", b"LIMIT", b"2", b"limit", b"1"]),
            Ok((1, 1))
        );
        for (args, error) in [
            (&[c, b"0", b"a"][..], "ERR numkeys should be greater than 0"),
            (&[c, b"x", b"a"], "ERR numkeys should be greater than 0"),
            (
                &[c, b"3", b"a"],
                "ERR Number of keys can't be greater than number of args",
            ),
            (
                &[c, b"1", b"a", b"LIMIT", b"-1"],
                "ERR LIMIT can't be negative",
            ),
            (&[c, b"1", b"a", b"LIMIT"], "ERR syntax error"),
            (&[c, b"1", b"a", b"FOO", b"1"], "ERR syntax error"),
        ] {
            assert_eq!(parse(args), Err(error.to_string()), "{args:?}");
        }
    }
}
