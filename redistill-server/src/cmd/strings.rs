//! String commands: GET/SET and their variants, counters, ranges.

use redistill_store::{Expiry, GetExOption, SetCondition, SetOptions, StoreError, ValueType};

use super::args::{SYNTAX, int_arg, is, pairs};
use super::{Command, Ctx};

const W: &[&str] = &["write", "denyoom"];
const WF: &[&str] = &["write", "denyoom", "fast"];
const RF: &[&str] = &["readonly", "fast"];

pub(super) static COMMANDS: &[Command] = &[
    Command::new("get", 2, RF, (1, 1, 1), get),
    Command::new("set", -3, W, (1, 1, 1), set),
    Command::new("setnx", 3, WF, (1, 1, 1), setnx),
    Command::new("setex", 4, W, (1, 1, 1), setex),
    Command::new("psetex", 4, W, (1, 1, 1), psetex),
    Command::new("getset", 3, WF, (1, 1, 1), getset),
    Command::new("getdel", 2, &["write", "fast"], (1, 1, 1), getdel),
    Command::new("getex", -2, &["write", "fast"], (1, 1, 1), getex),
    Command::new("mget", -2, RF, (1, -1, 1), mget),
    Command::new("mset", -3, W, (1, -1, 2), mset),
    Command::new("msetnx", -3, W, (1, -1, 2), msetnx),
    Command::new("append", 3, WF, (1, 1, 1), append),
    Command::new("strlen", 2, RF, (1, 1, 1), strlen),
    Command::new("getrange", 4, &["readonly"], (1, 1, 1), getrange),
    Command::new("substr", 4, &["readonly"], (1, 1, 1), getrange),
    Command::new("setrange", 4, W, (1, 1, 1), setrange),
    Command::new("incr", 2, WF, (1, 1, 1), incr),
    Command::new("decr", 2, WF, (1, 1, 1), decr),
    Command::new("incrby", 3, WF, (1, 1, 1), incrby),
    Command::new("decrby", 3, WF, (1, 1, 1), decrby),
    Command::new("incrbyfloat", 3, WF, (1, 1, 1), incrbyfloat),
];

fn get(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let db = ctx.client.db;
    let out = &mut *ctx.out;
    // Copy the value straight into the output buffer under the shard's read lock.
    match ctx.shared.store.get_with(db, args[1], |v| {
        redistill_resp::encode::write_bulk(out, v);
    }) {
        Ok(Some(())) => {}
        Ok(None) => ctx.reply().null(),
        Err(e) => ctx.reply().store_error(&e),
    }
}

/// Parses SET's and GETEX's options as Redis's `parseExtendedStringArgumentsOrReply`:
/// every syntax error first, then the expiry's number. As in Redis, an option may repeat
/// (the last expiry wins) but conflicting ones (NX and XX, two kinds of expiry, an expiry
/// with KEEPTTL or PERSIST) are a syntax error.
fn parse_set_options(opts: &[&[u8]], getex: bool) -> Result<(SetOptions, bool), &'static str> {
    let mut parsed = SetOptions::default();
    let mut persist = false;
    let mut expiry: Option<(&str, ExpiryKind, &[u8])> = None;
    let mut i = 0;
    while i < opts.len() {
        let opt = opts[i];
        let next = opts.get(i + 1);
        let kind = EXPIRY_KINDS.iter().find(|(name, _)| is(opt, name));
        if !getex && is(opt, "NX") && parsed.condition != SetCondition::IfPresent {
            parsed.condition = SetCondition::IfAbsent;
        } else if !getex && is(opt, "XX") && parsed.condition != SetCondition::IfAbsent {
            parsed.condition = SetCondition::IfPresent;
        } else if !getex && is(opt, "GET") {
            parsed.get = true;
        } else if !getex && is(opt, "KEEPTTL") && expiry.is_none() {
            parsed.keep_ttl = true;
        } else if getex && is(opt, "PERSIST") && expiry.is_none() {
            persist = true;
        } else if let (Some(&(name, build)), Some(value)) = (kind, next)
            && !parsed.keep_ttl
            && !persist
            && expiry.is_none_or(|(seen, _, _)| seen == name)
        {
            expiry = Some((name, build, value));
            i += 1;
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    if let Some((_, build, value)) = expiry {
        parsed.expiry = Some(build(int_arg(value)?));
    }
    Ok((parsed, persist))
}

/// Builds an [`Expiry`] of one kind (EX, PX, EXAT, PXAT) from its number.
type ExpiryKind = fn(i64) -> Expiry;

const EXPIRY_KINDS: [(&str, ExpiryKind); 4] = [
    ("EX", Expiry::Ex),
    ("PX", Expiry::Px),
    ("EXAT", Expiry::ExAt),
    ("PXAT", Expiry::PxAt),
];

fn set(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let opts = match parse_set_options(&args[3..], false) {
        Ok((opts, _)) => opts,
        Err(e) => return ctx.reply().error(e),
    };
    let db = ctx.client.db;
    match ctx.shared.store.set(db, args[1], args[2], opts) {
        Ok(outcome) if opts.get => ctx.reply().opt_bulk(outcome.old.as_deref()),
        Ok(outcome) if outcome.written => ctx.reply().ok(),
        Ok(_) => ctx.reply().null(),
        Err(e) => ctx.reply().command_error(&e, args[0]),
    }
}

fn setnx(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let db = ctx.client.db;
    let result = ctx.shared.store.setnx(db, args[1], args[2]);
    ctx.answer(result);
}

fn setex(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    set_with_ttl(ctx, args, |store, db, key, ttl, value| {
        store.setex(db, key, ttl, value)
    });
}

fn psetex(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    set_with_ttl(ctx, args, |store, db, key, ttl, value| {
        store.psetex(db, key, ttl, value)
    });
}

type SetWithTtl = fn(&redistill_store::Store, usize, &[u8], i64, &[u8]) -> Result<(), StoreError>;

fn set_with_ttl(ctx: &mut Ctx<'_>, args: &[&[u8]], op: SetWithTtl) {
    let ttl = match int_arg(args[2]) {
        Ok(t) => t,
        Err(e) => return ctx.reply().error(e),
    };
    let db = ctx.client.db;
    match op(&ctx.shared.store, db, args[1], ttl, args[3]) {
        Ok(()) => ctx.reply().ok(),
        Err(e) => ctx.reply().command_error(&e, args[0]),
    }
}

fn getset(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let db = ctx.client.db;
    let result = ctx.shared.store.getset(db, args[1], args[2]);
    ctx.answer(result);
}

fn getdel(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let db = ctx.client.db;
    let result = ctx.shared.store.getdel(db, args[1]);
    ctx.answer(result);
}

fn getex(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let db = ctx.client.db;
    let option = match parse_set_options(&args[2..], true) {
        Ok((_, true)) => Some(GetExOption::Persist),
        Ok((opts, false)) => opts.expiry.map(GetExOption::Expire),
        // The options parsed but the time is not a number. Redis looks the key up and
        // checks its type before reading the time: a missing key is nil, a hash WRONGTYPE.
        Err(e) if e == super::args::NOT_INTEGER => {
            return match ctx.shared.store.value_type(db, args[1]) {
                Ok(None) => ctx.reply().null(),
                Ok(Some(ValueType::String)) => ctx.reply().error(e),
                Ok(Some(_)) => ctx.reply().store_error(&StoreError::WrongType),
                Err(err) => ctx.reply().store_error(&err),
            };
        }
        Err(e) => return ctx.reply().error(e),
    };
    match ctx.shared.store.getex(db, args[1], option) {
        Ok(value) => ctx.reply().opt_bulk(value.as_deref()),
        Err(e) => ctx.reply().command_error(&e, args[0]),
    }
}

fn mget(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let db = ctx.client.db;
    ctx.answer(ctx.shared.store.mget(db, &args[1..]))
}

fn mset(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    if args.len().is_multiple_of(2) {
        return ctx
            .reply()
            .error("ERR wrong number of arguments for 'mset' command");
    }
    let db = ctx.client.db;
    match ctx.shared.store.mset(db, &pairs(&args[1..])) {
        Ok(()) => ctx.reply().ok(),
        Err(e) => ctx.reply().store_error(&e),
    }
}

fn msetnx(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    if args.len().is_multiple_of(2) {
        return ctx
            .reply()
            .error("ERR wrong number of arguments for 'msetnx' command");
    }
    let db = ctx.client.db;
    let result = ctx.shared.store.msetnx(db, &pairs(&args[1..]));
    ctx.answer(result);
}

fn append(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let db = ctx.client.db;
    let result = ctx.shared.store.append(db, args[1], args[2]);
    ctx.answer(result);
}

fn strlen(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let db = ctx.client.db;
    let result = ctx.shared.store.strlen(db, args[1]);
    ctx.answer(result);
}

fn getrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let (start, end) = match (int_arg(args[2]), int_arg(args[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return ctx.reply().error(e),
    };
    let db = ctx.client.db;
    ctx.answer(ctx.shared.store.getrange(db, args[1], start, end))
}

fn setrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let offset = match int_arg(args[2]) {
        Ok(o) => o,
        Err(e) => return ctx.reply().error(e),
    };
    let db = ctx.client.db;
    let result = ctx.shared.store.setrange(db, args[1], offset, args[3]);
    ctx.answer(result);
}

fn incr(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    counter(ctx, args[1], Ok(1));
}

fn decr(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    counter(ctx, args[1], Ok(-1));
}

fn incrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    counter(ctx, args[1], int_arg(args[2]));
}

fn decrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    // DECRBY of i64::MIN cannot be negated; Redis reports it as an overflow.
    let delta = int_arg(args[2]).map(|d| d.checked_neg());
    match delta {
        Ok(Some(d)) => counter(ctx, args[1], Ok(d)),
        Ok(None) => ctx.reply().error("ERR decrement would overflow"),
        Err(e) => ctx.reply().error(e),
    }
}

fn counter(ctx: &mut Ctx<'_>, key: &[u8], delta: Result<i64, &'static str>) {
    let delta = match delta {
        Ok(d) => d,
        Err(e) => return ctx.reply().error(e),
    };
    let db = ctx.client.db;
    ctx.answer(ctx.shared.store.incr_by(db, key, delta))
}

fn incrbyfloat(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let db = ctx.client.db;
    ctx.answer(ctx.shared.store.incr_by_float(db, args[1], args[2]))
}
