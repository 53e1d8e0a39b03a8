//! Hash commands.

use redistill_resp::Version;

use super::args::{SYNTAX, int_arg, is, pairs, parse_i64};
use super::scan::{ScanArgs, parse_cursor};
use super::table::{KeySpec, MemberArg, acl, flags, key_flags};
use super::{Command, CommandError, CommandResult, Ctx};

pub(super) static COMMANDS: &[Command] = &[
    Command::new("hset", -4, hset)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(HASH))
        .keys(&[KeySpec::at(1, key_flags!(RW | UPDATE))])
        .member(MemberArg::At(2)),
    Command::new("hmset", -4, hmset)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(HASH))
        .keys(&[KeySpec::at(1, key_flags!(RW | UPDATE))])
        .member(MemberArg::At(2)),
    Command::new("hsetnx", 4, hsetnx)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(HASH))
        .keys(&[KeySpec::at(1, key_flags!(RW | INSERT))])
        .member(MemberArg::At(2)),
    Command::new("hget", 3, hget)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(HASH))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))])
        .member(MemberArg::At(2)),
    Command::new("hmget", -3, hmget)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(HASH))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))])
        .member(MemberArg::At(2)),
    Command::new("hgetall", 2, hgetall)
        .flags(flags!(READONLY))
        .acl(acl!(HASH))
        .tips(&["nondeterministic_output_order"])
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("hdel", -3, hdel)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(HASH))
        .keys(&[KeySpec::at(1, key_flags!(RW | DELETE))])
        .member(MemberArg::At(2)),
    Command::new("hlen", 2, hlen)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(HASH))
        .keys(&[KeySpec::at(1, key_flags!(RO))]),
    Command::new("hexists", 3, hexists)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(HASH))
        .keys(&[KeySpec::at(1, key_flags!(RO))])
        .member(MemberArg::At(2)),
    Command::new("hkeys", 2, hkeys)
        .flags(flags!(READONLY))
        .acl(acl!(HASH))
        .tips(&["nondeterministic_output_order"])
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("hvals", 2, hvals)
        .flags(flags!(READONLY))
        .acl(acl!(HASH))
        .tips(&["nondeterministic_output_order"])
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("hstrlen", 3, hstrlen)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(HASH))
        .keys(&[KeySpec::at(1, key_flags!(RO))])
        .member(MemberArg::At(2)),
    Command::new("hincrby", 4, hincrby)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(HASH))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE))])
        .member(MemberArg::At(2)),
    Command::new("hincrbyfloat", 4, hincrbyfloat)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(HASH))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE))])
        .member(MemberArg::At(2)),
    Command::new("hrandfield", -2, hrandfield)
        .flags(flags!(READONLY))
        .acl(acl!(HASH))
        .tips(&["nondeterministic_output"])
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("hscan", -3, hscan)
        .flags(flags!(READONLY))
        .acl(acl!(HASH))
        .tips(&["nondeterministic_output"])
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
];

/// HSET's and HMSET's field/value pairs, stored: how many fields were added.
fn set_fields(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> Result<usize, CommandError> {
    if !args.len().is_multiple_of(2) {
        return Err(super::wrong_arity_of(args));
    }
    let pairs = pairs(&args[2..]);
    Ok(ctx.shared.store.hset(ctx.client.db, args[1], &pairs)?)
}

fn hset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let added = set_fields(ctx, args)?;
    ctx.reply().len(added);
    Ok(())
}

fn hmset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    set_fields(ctx, args)?;
    ctx.reply().ok();
    Ok(())
}

fn hsetnx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    ctx.answer(
        ctx.shared
            .store
            .hsetnx(ctx.client.db, args[1], args[2], args[3]),
    )
}

fn hget(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    ctx.answer(ctx.shared.store.hget(ctx.client.db, args[1], args[2]))
}

fn hmget(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    ctx.answer(ctx.shared.store.hmget(ctx.client.db, args[1], &args[2..]))
}

fn hgetall(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    match ctx.shared.store.hgetall(ctx.client.db, args[1]) {
        Ok(fields) => {
            let mut reply = ctx.reply();
            reply.map(fields.len());
            for (field, value) in &fields {
                reply.bulk(field);
                reply.bulk(value);
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

fn hdel(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.hdel(ctx.client.db, args[1], &args[2..]);
    ctx.answer(result)
}

fn hlen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.hlen(ctx.client.db, args[1]);
    ctx.answer(result)
}

fn hexists(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    ctx.answer(ctx.shared.store.hexists(ctx.client.db, args[1], args[2]))
}

fn hkeys(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.hkeys(ctx.client.db, args[1]);
    ctx.answer(result)
}

fn hvals(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.hvals(ctx.client.db, args[1]);
    ctx.answer(result)
}

fn hstrlen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.hstrlen(ctx.client.db, args[1], args[2]);
    ctx.answer(result)
}

fn hincrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let delta = int_arg(args[3])?;
    ctx.answer(
        ctx.shared
            .store
            .hincrby(ctx.client.db, args[1], args[2], delta),
    )
}

fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    ctx.answer(
        ctx.shared
            .store
            .hincrbyfloat(ctx.client.db, args[1], args[2], args[3]),
    )
}

/// HRANDFIELD key [count [WITHVALUES]]
fn hrandfield(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (count, with_values) = match args {
        [_, _] => (None, false),
        [_, _, count] => (parse_i64(count), false),
        [_, _, count, opt] if is(opt, "WITHVALUES") => (parse_i64(count), true),
        _ => return Err(SYNTAX.into()),
    };
    if args.len() > 2 && count.is_none() {
        return Err(super::args::NOT_INTEGER.into());
    }
    if let Some(count) = count
        && redistill_store::Store::check_hrandfield_count(count, with_values).is_ok()
        && super::close_if_picks_overflow(ctx, "HRANDFIELD", count, |ctx| {
            ctx.shared.store.hlen(ctx.client.db, args[1])
        })
    {
        return Ok(());
    }
    let result = ctx
        .shared
        .store
        .hrandfield(ctx.client.db, args[1], count, with_values);
    let picked = result?;
    let version = ctx.client.version;
    let mut reply = ctx.reply();
    if count.is_none() {
        reply.opt_bulk(picked.first().map(|(f, _)| f.as_ref()));
        return Ok(());
    }
    if with_values && version == Version::Resp3 {
        reply.array(picked.len());
        for (field, value) in &picked {
            reply.array(2);
            reply.bulk(field);
            reply.bulk(value.as_deref().unwrap_or_default());
        }
        return Ok(());
    }
    reply.array(picked.len() * if with_values { 2 } else { 1 });
    for (field, value) in &picked {
        reply.bulk(field);
        if let Some(value) = value {
            reply.bulk(value);
        }
    }
    Ok(())
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let Some(cursor) = parse_cursor(args[2]) else {
        return Err("ERR invalid cursor".into());
    };
    let opts = ScanArgs::parse(&args[3..], false)?;
    let result = ctx
        .shared
        .store
        .hscan(ctx.client.db, args[1], cursor, opts.pattern, opts.count);
    match result {
        Ok((next, fields)) => {
            let mut reply = ctx.reply();
            reply.array(2);
            reply.bulk(next.to_string().as_bytes());
            reply.array(fields.len() * 2);
            for (field, value) in &fields {
                reply.bulk(field);
                reply.bulk(value);
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
