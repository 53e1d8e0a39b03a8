//! Keyspace commands: DEL, EXISTS, TOUCH, TYPE, RENAME, COPY, MOVE, KEYS, expiry and databases.

use redistill_store::{ExpireCommand, ExpireCondition, ValueType};

use super::args::{DB_OUT_OF_RANGE, SYNTAX, db_index_arg, int_arg, is, parse_i64};
use super::table::{KeySpec, acl, flags, key_flags};
use super::{Command, CommandResult, Ctx, fail};

pub(super) static COMMANDS: &[Command] = &[
    Command::new("del", -2, del)
        .flags(flags!(WRITE))
        .acl(acl!(KEYSPACE))
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .keys(&[KeySpec::range(1, -1, 1, key_flags!(RM | DELETE))]),
    Command::new("unlink", -2, unlink)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(KEYSPACE))
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .keys(&[KeySpec::range(1, -1, 1, key_flags!(RM | DELETE))]),
    Command::new("exists", -2, exists)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(KEYSPACE))
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .keys(&[KeySpec::range(1, -1, 1, key_flags!(RO))]),
    Command::new("type", 2, type_)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(KEYSPACE))
        .keys(&[KeySpec::at(1, key_flags!(RO))]),
    Command::new("touch", -2, touch)
        .flags(flags!(READONLY | FAST | TOUCHES_ANYWAY))
        .acl(acl!(KEYSPACE))
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .keys(&[KeySpec::range(1, -1, 1, key_flags!(RO))]),
    Command::new("rename", 3, rename)
        .flags(flags!(WRITE))
        .acl(acl!(KEYSPACE))
        .keys(&[
            KeySpec::at(1, key_flags!(RW | ACCESS | DELETE)),
            KeySpec::at(2, key_flags!(OW | UPDATE)),
        ]),
    Command::new("renamenx", 3, renamenx)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(KEYSPACE))
        .keys(&[
            KeySpec::at(1, key_flags!(RW | ACCESS | DELETE)),
            KeySpec::at(2, key_flags!(OW | INSERT)),
        ]),
    Command::new("copy", -3, copy)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(KEYSPACE))
        .keys(&[
            KeySpec::at(1, key_flags!(RO | ACCESS)),
            KeySpec::at(2, key_flags!(OW | UPDATE)),
        ]),
    Command::new("move", 3, move_)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(KEYSPACE))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE))]),
    Command::new("randomkey", 1, randomkey)
        .flags(flags!(READONLY))
        .acl(acl!(KEYSPACE))
        .tips(&["request_policy:all_shards", "nondeterministic_output"]),
    Command::new("keys", 2, keys)
        .flags(flags!(READONLY))
        .acl(acl!(KEYSPACE | DANGEROUS))
        .tips(&["request_policy:all_shards", "nondeterministic_output_order"]),
    Command::new("dbsize", 1, dbsize)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(KEYSPACE))
        .tips(&["request_policy:all_shards", "response_policy:agg_sum"]),
    Command::new("flushdb", -1, flushdb)
        .flags(flags!(WRITE))
        .acl(acl!(KEYSPACE | DANGEROUS))
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    Command::new("flushall", -1, flushall)
        .flags(flags!(WRITE))
        .acl(acl!(KEYSPACE | DANGEROUS))
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    Command::new("swapdb", 3, swapdb)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(KEYSPACE | DANGEROUS)),
    Command::new("expire", -3, expire)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(KEYSPACE))
        .keys(&[KeySpec::at(1, key_flags!(RW | UPDATE))]),
    Command::new("pexpire", -3, pexpire)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(KEYSPACE))
        .keys(&[KeySpec::at(1, key_flags!(RW | UPDATE))]),
    Command::new("expireat", -3, expireat)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(KEYSPACE))
        .keys(&[KeySpec::at(1, key_flags!(RW | UPDATE))]),
    Command::new("pexpireat", -3, pexpireat)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(KEYSPACE))
        .keys(&[KeySpec::at(1, key_flags!(RW | UPDATE))]),
    Command::new("ttl", 2, ttl)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(KEYSPACE))
        .tips(&["nondeterministic_output"])
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("pttl", 2, pttl)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(KEYSPACE))
        .tips(&["nondeterministic_output"])
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("expiretime", 2, expiretime)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(KEYSPACE))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("pexpiretime", 2, pexpiretime)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(KEYSPACE))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("persist", 2, persist)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(KEYSPACE))
        .keys(&[KeySpec::at(1, key_flags!(RW | UPDATE))]),
];

fn del(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.del(ctx.client.db, &args[1..]);
    ctx.answer(result)
}

fn unlink(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.unlink(ctx.client.db, &args[1..]);
    ctx.answer(result)
}

fn exists(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.exists(ctx.client.db, &args[1..]);
    ctx.answer(result)
}

/// TOUCH key [key ...]: counts the keys that exist, updating their access time as a
/// read does (even for a CLIENT NO-TOUCH client, as in Redis).
fn touch(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.touch(ctx.client.db, &args[1..]);
    ctx.answer(result)
}

fn type_(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let value_type = ctx.shared.store.value_type(ctx.client.db, args[1])?;
    let name = value_type.map_or("none", ValueType::as_str);
    ctx.reply().simple(name.as_bytes());
    Ok(())
}

fn rename(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.rename(ctx.client.db, args[1], args[2]);
    ctx.answer(result)
}

fn renamenx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.renamenx(ctx.client.db, args[1], args[2]);
    ctx.answer(result)
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let mut dst_db = ctx.client.db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if is(args[i], "REPLACE") {
            replace = true;
        } else if is(args[i], "DB") && i + 1 < args.len() {
            dst_db = db_index_arg(args[i + 1], ctx.shared.store.databases())?;
            i += 1;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    let result = ctx
        .shared
        .store
        .copy(ctx.client.db, args[1], dst_db, args[2], replace);
    ctx.answer(result)
}

fn move_(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let dst = db_index_arg(args[2], ctx.shared.store.databases())?;
    let result = ctx.shared.store.move_key(ctx.client.db, args[1], dst);
    ctx.answer(result)
}

fn randomkey(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    ctx.answer(ctx.shared.store.random_key(ctx.client.db))
}

fn keys(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    match ctx.shared.store.keys(ctx.client.db, args[1]) {
        Ok(keys) => ctx.reply().bulks(keys.iter().map(|k| k.as_ref())),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

fn dbsize(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.dbsize(ctx.client.db);
    ctx.answer(result)
}

/// FLUSHDB/FLUSHALL take an optional ASYNC or SYNC; both free memory at once here.
fn flush_mode_ok(args: &[&[u8]]) -> bool {
    match args {
        [_] => true,
        [_, mode] => is(mode, "ASYNC") || is(mode, "SYNC"),
        _ => false,
    }
}

fn flushdb(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    if !flush_mode_ok(args) {
        return Err(SYNTAX.into());
    }
    let result = ctx.shared.store.flushdb(ctx.client.db);
    ctx.answer(result)
}

fn flushall(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    if !flush_mode_ok(args) {
        return Err(SYNTAX.into());
    }
    ctx.shared.store.flushall();
    ctx.reply().ok();
    Ok(())
}

fn swapdb(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let c_int = |arg| parse_i64(arg).and_then(|n| i32::try_from(n).ok());
    let Some(a) = c_int(args[1]) else {
        return Err("ERR invalid first DB index".into());
    };
    let Some(b) = c_int(args[2]) else {
        return Err("ERR invalid second DB index".into());
    };
    let databases = ctx.shared.store.databases();
    match (usize::try_from(a), usize::try_from(b)) {
        (Ok(a), Ok(b)) if a < databases && b < databases => {
            let result = ctx.shared.store.swapdb(a, b);
            ctx.answer(result)
        }
        _ => Err(DB_OUT_OF_RANGE.into()),
    }
}

fn expire(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    expire_generic(ctx, args, ExpireCommand::Expire)
}

fn pexpire(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    expire_generic(ctx, args, ExpireCommand::PExpire)
}

fn expireat(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    expire_generic(ctx, args, ExpireCommand::ExpireAt)
}

fn pexpireat(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    expire_generic(ctx, args, ExpireCommand::PExpireAt)
}

/// EXPIRE key amount [NX|XX|GT|LT]: options are checked before the amount, as in Redis.
fn expire_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], command: ExpireCommand) -> CommandResult {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &args[3..] {
        if is(opt, "NX") {
            nx = true;
        } else if is(opt, "XX") {
            xx = true;
        } else if is(opt, "GT") {
            gt = true;
        } else if is(opt, "LT") {
            lt = true;
        } else {
            let opt = String::from_utf8_lossy(opt);
            return Err(fail(format_args!("ERR Unsupported option {opt}")));
        }
    }
    if nx && (xx || gt || lt) {
        return Err("ERR NX and XX, GT or LT options at the same time are not compatible".into());
    }
    if gt && lt {
        return Err("ERR GT and LT options at the same time are not compatible".into());
    }
    let amount = int_arg(args[2])?;
    // GT already implies XX (no TTL counts as infinite); XX with LT is its own condition.
    let cond = if nx {
        ExpireCondition::Nx
    } else if gt {
        ExpireCondition::Gt
    } else if lt && xx {
        ExpireCondition::XxLt
    } else if lt {
        ExpireCondition::Lt
    } else if xx {
        ExpireCondition::Xx
    } else {
        ExpireCondition::Always
    };
    let result = ctx
        .shared
        .store
        .expire(ctx.client.db, args[1], amount, command, cond);
    ctx.answer(result)
}

fn ttl(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.ttl(ctx.client.db, args[1]);
    ctx.answer(result)
}

fn pttl(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.pttl(ctx.client.db, args[1]);
    ctx.answer(result)
}

fn expiretime(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.expiretime(ctx.client.db, args[1]);
    ctx.answer(result)
}

fn pexpiretime(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.pexpiretime(ctx.client.db, args[1]);
    ctx.answer(result)
}

fn persist(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.persist(ctx.client.db, args[1]);
    ctx.answer(result)
}
