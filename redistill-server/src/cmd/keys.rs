//! Keyspace commands: DEL, EXISTS, TOUCH, TYPE, RENAME, COPY, MOVE, KEYS, expiry and databases.

use redistill_store::{ExpireCommand, ExpireCondition, ValueType};

use super::args::{DB_OUT_OF_RANGE, SYNTAX, db_index_arg, int_arg, is, parse_i64};
use super::{Command, Ctx};

const W: &[&str] = &["write"];
const WF: &[&str] = &["write", "fast"];
const RF: &[&str] = &["readonly", "fast"];

pub(super) static COMMANDS: &[Command] = &[
    Command::new("del", -2, W, (1, -1, 1), del),
    Command::new("unlink", -2, WF, (1, -1, 1), unlink),
    Command::new("exists", -2, RF, (1, -1, 1), exists),
    Command::new("type", 2, RF, (1, 1, 1), type_),
    Command::new("touch", -2, RF, (1, -1, 1), touch),
    Command::new("rename", 3, W, (1, 2, 1), rename),
    Command::new("renamenx", 3, WF, (1, 2, 1), renamenx),
    Command::new("copy", -3, &["write", "denyoom"], (1, 2, 1), copy),
    Command::new("move", 3, WF, (1, 1, 1), move_),
    Command::new("randomkey", 1, &["readonly"], (0, 0, 0), randomkey),
    Command::new("keys", 2, &["readonly"], (0, 0, 0), keys),
    Command::new("dbsize", 1, RF, (0, 0, 0), dbsize),
    Command::new("flushdb", -1, W, (0, 0, 0), flushdb),
    Command::new("flushall", -1, W, (0, 0, 0), flushall),
    Command::new("swapdb", 3, WF, (0, 0, 0), swapdb),
    Command::new("expire", -3, WF, (1, 1, 1), expire),
    Command::new("pexpire", -3, WF, (1, 1, 1), pexpire),
    Command::new("expireat", -3, WF, (1, 1, 1), expireat),
    Command::new("pexpireat", -3, WF, (1, 1, 1), pexpireat),
    Command::new("ttl", 2, RF, (1, 1, 1), ttl),
    Command::new("pttl", 2, RF, (1, 1, 1), pttl),
    Command::new("expiretime", 2, RF, (1, 1, 1), expiretime),
    Command::new("pexpiretime", 2, RF, (1, 1, 1), pexpiretime),
    Command::new("persist", 2, WF, (1, 1, 1), persist),
];

fn del(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let result = ctx.shared.store.del(ctx.client.db, &args[1..]);
    ctx.answer(result);
}

fn unlink(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let result = ctx.shared.store.unlink(ctx.client.db, &args[1..]);
    ctx.answer(result);
}

fn exists(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let result = ctx.shared.store.exists(ctx.client.db, &args[1..]);
    ctx.answer(result);
}

/// TOUCH key [key ...]: counts the keys that exist, updating their access time as a
/// read does (even for a CLIENT NO-TOUCH client, as in Redis).
fn touch(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let result = ctx.shared.store.touch(ctx.client.db, &args[1..]);
    ctx.answer(result);
}

fn type_(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    match ctx.shared.store.value_type(ctx.client.db, args[1]) {
        Ok(Some(ValueType::String)) => ctx.reply().simple(b"string"),
        Ok(Some(ValueType::Hash)) => ctx.reply().simple(b"hash"),
        Ok(_) => ctx.reply().simple(b"none"),
        Err(e) => ctx.reply().store_error(&e),
    }
}

fn rename(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let result = ctx.shared.store.rename(ctx.client.db, args[1], args[2]);
    ctx.answer(result);
}

fn renamenx(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let result = ctx.shared.store.renamenx(ctx.client.db, args[1], args[2]);
    ctx.answer(result);
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let mut dst_db = ctx.client.db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if is(args[i], "REPLACE") {
            replace = true;
        } else if is(args[i], "DB") && i + 1 < args.len() {
            dst_db = match db_index_arg(args[i + 1], ctx.shared.store.databases()) {
                Ok(db) => db,
                Err(e) => return ctx.reply().error(e),
            };
            i += 1;
        } else {
            return ctx.reply().error(SYNTAX);
        }
        i += 1;
    }
    let result = ctx
        .shared
        .store
        .copy(ctx.client.db, args[1], dst_db, args[2], replace);
    ctx.answer(result);
}

fn move_(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let dst = match db_index_arg(args[2], ctx.shared.store.databases()) {
        Ok(db) => db,
        Err(e) => return ctx.reply().error(e),
    };
    let result = ctx.shared.store.move_key(ctx.client.db, args[1], dst);
    ctx.answer(result);
}

fn randomkey(ctx: &mut Ctx<'_>, _args: &[&[u8]]) {
    ctx.answer(ctx.shared.store.random_key(ctx.client.db))
}

fn keys(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    match ctx.shared.store.keys(ctx.client.db, args[1]) {
        Ok(keys) => ctx.reply().bulks(keys.iter().map(|k| k.as_ref())),
        Err(e) => ctx.reply().store_error(&e),
    }
}

fn dbsize(ctx: &mut Ctx<'_>, _args: &[&[u8]]) {
    let result = ctx.shared.store.dbsize(ctx.client.db);
    ctx.answer(result);
}

/// FLUSHDB/FLUSHALL take an optional ASYNC or SYNC; both free memory at once here.
fn flush_mode_ok(args: &[&[u8]]) -> bool {
    match args {
        [_] => true,
        [_, mode] => is(mode, "ASYNC") || is(mode, "SYNC"),
        _ => false,
    }
}

fn flushdb(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    if !flush_mode_ok(args) {
        return ctx.reply().error(SYNTAX);
    }
    let result = ctx.shared.store.flushdb(ctx.client.db);
    ctx.answer(result);
}

fn flushall(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    if !flush_mode_ok(args) {
        return ctx.reply().error(SYNTAX);
    }
    ctx.shared.store.flushall();
    ctx.reply().ok();
}

fn swapdb(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let c_int = |arg| parse_i64(arg).and_then(|n| i32::try_from(n).ok());
    let Some(a) = c_int(args[1]) else {
        return ctx.reply().error("ERR invalid first DB index");
    };
    let Some(b) = c_int(args[2]) else {
        return ctx.reply().error("ERR invalid second DB index");
    };
    let databases = ctx.shared.store.databases();
    match (usize::try_from(a), usize::try_from(b)) {
        (Ok(a), Ok(b)) if a < databases && b < databases => {
            let result = ctx.shared.store.swapdb(a, b);
            ctx.answer(result);
        }
        _ => ctx.reply().error(DB_OUT_OF_RANGE),
    }
}

fn expire(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    expire_generic(ctx, args, ExpireCommand::Expire);
}

fn pexpire(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    expire_generic(ctx, args, ExpireCommand::PExpire);
}

fn expireat(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    expire_generic(ctx, args, ExpireCommand::ExpireAt);
}

fn pexpireat(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    expire_generic(ctx, args, ExpireCommand::PExpireAt);
}

/// EXPIRE key amount [NX|XX|GT|LT]: options are checked before the amount, as in Redis.
fn expire_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], command: ExpireCommand) {
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
            return ctx
                .reply()
                .error_fmt(format_args!("ERR Unsupported option {opt}"));
        }
    }
    if nx && (xx || gt || lt) {
        return ctx
            .reply()
            .error("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if gt && lt {
        return ctx
            .reply()
            .error("ERR GT and LT options at the same time are not compatible");
    }
    let amount = match int_arg(args[2]) {
        Ok(a) => a,
        Err(e) => return ctx.reply().error(e),
    };
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
    match result {
        Ok(set) => ctx.reply().bool_int(set),
        Err(e) => ctx.reply().command_error(&e, args[0]),
    }
}

fn ttl(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let result = ctx.shared.store.ttl(ctx.client.db, args[1]);
    ctx.answer(result);
}

fn pttl(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let result = ctx.shared.store.pttl(ctx.client.db, args[1]);
    ctx.answer(result);
}

fn expiretime(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let result = ctx.shared.store.expiretime(ctx.client.db, args[1]);
    ctx.answer(result);
}

fn pexpiretime(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let result = ctx.shared.store.pexpiretime(ctx.client.db, args[1]);
    ctx.answer(result);
}

fn persist(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let result = ctx.shared.store.persist(ctx.client.db, args[1]);
    ctx.answer(result);
}
