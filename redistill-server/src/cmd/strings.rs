//! String commands: GET/SET and their variants, counters, ranges.

use redistill_store::{Expiry, GetExOption, SetCondition, SetOptions, StoreError, ValueType};

use super::args::{SYNTAX, int_arg, is, pairs};
use super::table::{KeyFlags, KeySpec, acl, flags, key_flags};
use super::{Command, CommandResult, Ctx};

pub(super) static COMMANDS: &[Command] = &[
    Command::new("get", 2, get)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("set", -3, set)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(STRING))
        .keys(&[
            KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE | VARIABLE_FLAGS))
                .notes("RW and ACCESS due to the optional `GET` argument"),
        ])
        .key_flags_fn(set_key_flags),
    Command::new("setnx", 3, setnx)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(OW | INSERT))]),
    Command::new("setex", 4, setex)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(OW | UPDATE))]),
    Command::new("psetex", 4, psetex)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(OW | UPDATE))]),
    Command::new("getset", 3, getset)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE))]),
    Command::new("getdel", 2, getdel)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | DELETE))]),
    Command::new("getex", -2, getex)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE))
            .notes("RW and UPDATE because it changes the TTL")]),
    Command::new("mget", -2, mget)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(STRING))
        .tips(&["request_policy:multi_shard"])
        .keys(&[KeySpec::range(1, -1, 1, key_flags!(RO | ACCESS))]),
    Command::new("mset", -3, mset)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(STRING))
        .tips(&[
            "request_policy:multi_shard",
            "response_policy:all_succeeded",
        ])
        .keys(&[KeySpec::range(1, -1, 2, key_flags!(OW | UPDATE))]),
    Command::new("msetnx", -3, msetnx)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(STRING))
        .tips(&["request_policy:multi_shard", "response_policy:agg_min"])
        .keys(&[KeySpec::range(1, -1, 2, key_flags!(OW | INSERT))]),
    Command::new("append", 3, append)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RW | INSERT))]),
    Command::new("strlen", 2, strlen)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RO))]),
    Command::new("getrange", 4, getrange)
        .flags(flags!(READONLY))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("substr", 4, getrange)
        .flags(flags!(READONLY))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("setrange", 4, setrange)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RW | UPDATE))]),
    Command::new("incr", 2, incr)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE))]),
    Command::new("decr", 2, decr)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE))]),
    Command::new("incrby", 3, incrby)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE))]),
    Command::new("decrby", 3, decrby)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE))]),
    Command::new("incrbyfloat", 3, incrbyfloat)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(STRING))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE))]),
];

/// SET's key is read (RW, ACCESS) only with GET; otherwise overwritten (OW), as Redis's
/// `setGetKeys` reports it.
fn set_key_flags(args: &[&[u8]], _declared: KeyFlags) -> KeyFlags {
    if args
        .get(3..)
        .unwrap_or_default()
        .iter()
        .any(|a| is(a, "GET"))
    {
        key_flags!(RW | ACCESS | UPDATE)
    } else {
        key_flags!(OW | UPDATE)
    }
}

fn get(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let db = ctx.client.db;
    let out = &mut *ctx.out;
    // Copy the value straight into the output buffer under the shard's read lock.
    match ctx.shared.store.get_with(db, args[1], |v| {
        redistill_resp::encode::write_bulk(out, v);
    }) {
        Ok(Some(())) => {}
        Ok(None) => ctx.reply().null(),
        Err(e) => return Err(e.into()),
    }
    Ok(())
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

fn set(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let opts = match parse_set_options(&args[3..], false) {
        Ok((opts, _)) => opts,
        Err(e) => return Err(e.into()),
    };
    let db = ctx.client.db;
    match ctx.shared.store.set(db, args[1], args[2], opts) {
        Ok(outcome) if opts.get => ctx.reply().opt_bulk(outcome.old.as_deref()),
        Ok(outcome) if outcome.written => ctx.reply().ok(),
        Ok(_) => ctx.reply().null(),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

fn setnx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let db = ctx.client.db;
    let result = ctx.shared.store.setnx(db, args[1], args[2]);
    ctx.answer(result)
}

fn setex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    set_with_ttl(ctx, args, |store, db, key, ttl, value| {
        store.setex(db, key, ttl, value)
    })
}

fn psetex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    set_with_ttl(ctx, args, |store, db, key, ttl, value| {
        store.psetex(db, key, ttl, value)
    })
}

type SetWithTtl = fn(&redistill_store::Store, usize, &[u8], i64, &[u8]) -> Result<(), StoreError>;

fn set_with_ttl(ctx: &mut Ctx<'_>, args: &[&[u8]], op: SetWithTtl) -> CommandResult {
    let ttl = int_arg(args[2])?;
    let db = ctx.client.db;
    match op(&ctx.shared.store, db, args[1], ttl, args[3]) {
        Ok(()) => ctx.reply().ok(),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

fn getset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let db = ctx.client.db;
    let result = ctx.shared.store.getset(db, args[1], args[2]);
    ctx.answer(result)
}

fn getdel(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let db = ctx.client.db;
    let result = ctx.shared.store.getdel(db, args[1]);
    ctx.answer(result)
}

fn getex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let db = ctx.client.db;
    let option = match parse_set_options(&args[2..], true) {
        Ok((_, true)) => Some(GetExOption::Persist),
        Ok((opts, false)) => opts.expiry.map(GetExOption::Expire),
        // The options parsed but the time is not a number. Redis looks the key up and
        // checks its type before reading the time: a missing key is nil, a hash WRONGTYPE.
        Err(e) if e == super::args::NOT_INTEGER => {
            return match ctx.shared.store.value_type(db, args[1])? {
                None => {
                    ctx.reply().null();
                    Ok(())
                }
                Some(ValueType::String) => Err(e.into()),
                Some(_) => Err(StoreError::WrongType.into()),
            };
        }
        Err(e) => return Err(e.into()),
    };
    let result = ctx.shared.store.getex(db, args[1], option);
    ctx.answer(result)
}

fn mget(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let db = ctx.client.db;
    ctx.answer(ctx.shared.store.mget(db, &args[1..]))
}

fn mset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    if args.len().is_multiple_of(2) {
        return Err(super::wrong_arity("mset"));
    }
    let db = ctx.client.db;
    match ctx.shared.store.mset(db, &pairs(&args[1..])) {
        Ok(()) => ctx.reply().ok(),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

fn msetnx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    if args.len().is_multiple_of(2) {
        return Err(super::wrong_arity("msetnx"));
    }
    let db = ctx.client.db;
    let result = ctx.shared.store.msetnx(db, &pairs(&args[1..]));
    ctx.answer(result)
}

fn append(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let db = ctx.client.db;
    let result = ctx.shared.store.append(db, args[1], args[2]);
    ctx.answer(result)
}

fn strlen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let db = ctx.client.db;
    let result = ctx.shared.store.strlen(db, args[1]);
    ctx.answer(result)
}

fn getrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (start, end) = match (int_arg(args[2]), int_arg(args[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    let db = ctx.client.db;
    ctx.answer(ctx.shared.store.getrange(db, args[1], start, end))
}

fn setrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let offset = int_arg(args[2])?;
    let db = ctx.client.db;
    let result = ctx.shared.store.setrange(db, args[1], offset, args[3]);
    ctx.answer(result)
}

fn incr(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    counter(ctx, args[1], Ok(1))
}

fn decr(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    counter(ctx, args[1], Ok(-1))
}

fn incrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    counter(ctx, args[1], int_arg(args[2]))
}

fn decrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    // DECRBY of i64::MIN cannot be negated; Redis reports it as an overflow.
    let delta = int_arg(args[2]).map(|d| d.checked_neg());
    match delta {
        Ok(Some(d)) => counter(ctx, args[1], Ok(d)),
        Ok(None) => Err("ERR decrement would overflow".into()),
        Err(e) => Err(e.into()),
    }
}

fn counter(ctx: &mut Ctx<'_>, key: &[u8], delta: Result<i64, &'static str>) -> CommandResult {
    let delta = delta?;
    let db = ctx.client.db;
    ctx.answer(ctx.shared.store.incr_by(db, key, delta))
}

fn incrbyfloat(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let db = ctx.client.db;
    ctx.answer(ctx.shared.store.incr_by_float(db, args[1], args[2]))
}
