//! Sorted-set commands (the blocking pops are in `blocking`).

use bytes::Bytes;
use redistill_resp::Version;
use redistill_store::{
    Aggregate, Store, StoreError, ValueType, ZRangeBy, ZRangeItems, ZRangeSpec, ZSetOp,
};

use super::args::{NOT_INTEGER, SYNTAX, int_arg, is, non_negative, parse_i64};
use super::c_float::parse_double;
use super::lists::parse_multi_pop;
use super::scan::{ScanArgs, parse_cursor};
use super::table::{BeginSearch, FindKeys, KeyRef, KeySpec, MemberArg, acl, flags, key_flags};
use super::zset_args::{lex_range, parse_zadd, score_arg, score_range};
use super::{Command, CommandError, CommandResult, Ctx, Reply, fail};

/// The key specification of a command whose keys follow a `numkeys` argument at `index`.
const fn keynum_keys(index: i32, flags: super::table::KeyFlags) -> KeySpec {
    KeySpec::new(
        flags,
        BeginSearch::Index(index),
        FindKeys::Keynum {
            key_num_index: 0,
            first_key: 1,
            step: 1,
        },
    )
}

/// A read of the sorted set at argument 1.
const READ_KEY: &[KeySpec] = &[KeySpec::at(1, key_flags!(RO | ACCESS))];
/// ZRANGESTORE's, ZUNIONSTORE's ... destination at 1 and sources after.
const STORE_RANGE_KEYS: &[KeySpec] = &[
    KeySpec::at(1, key_flags!(OW | UPDATE)),
    KeySpec::at(2, key_flags!(RO | ACCESS)),
];
const STORE_SETOP_KEYS: &[KeySpec] = &[
    KeySpec::at(1, key_flags!(OW | UPDATE)),
    keynum_keys(2, key_flags!(RO | ACCESS)),
];
/// ZUNIONSTORE's, ZINTERSTORE's and ZDIFFSTORE's keys as Redis 7.0 finds them: by the key
/// specifications (destination, then sources, with their flags) when the count fits them,
/// else by its `genericGetKeys` fallback, which reads the count with `atoi` and gives
/// the sources, then the destination, without flags (none when the count does not fit
/// the arguments).
fn store_setop_keys(args: &[&[u8]]) -> Vec<KeyRef> {
    let sources = args.len().saturating_sub(3);
    let key = |index, flags| KeyRef { index, flags };
    if let Some(n) = args
        .get(2)
        .and_then(|n| parse_i64(n))
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n >= 1 && n <= sources)
    {
        return std::iter::once(key(1, key_flags!(OW | UPDATE)))
            .chain((3..3 + n).map(|i| key(i, key_flags!(RO | ACCESS))))
            .collect();
    }
    let count = args.get(2).map_or(0, |n| c_atoi(n));
    match usize::try_from(count) {
        Ok(n) if n >= 1 && n <= sources => (3..3 + n)
            .chain(std::iter::once(1))
            .map(|i| key(i, key_flags!()))
            .collect(),
        _ => Vec::new(),
    }
}

/// C's `atoi`: leading spaces, a sign, then digits as far as they go (0 for none).
fn c_atoi(s: &[u8]) -> i64 {
    let s = s.trim_ascii_start();
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    let n = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, b| {
            n.saturating_mul(10).saturating_add(i64::from(b - b'0'))
        });
    if negative { -n } else { n }
}

const SETOP_KEYS: &[KeySpec] = &[keynum_keys(1, key_flags!(RO | ACCESS))];

pub(super) static COMMANDS: &[Command] = &[
    Command::new("zadd", -4, zadd)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(SORTEDSET))
        .keys(&[KeySpec::at(1, key_flags!(RW | UPDATE))])
        .member(MemberArg::Last),
    Command::new("zincrby", 4, zincrby)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(SORTEDSET))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE))])
        .member(MemberArg::At(3)),
    Command::new("zrem", -3, zrem)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(SORTEDSET))
        .keys(&[KeySpec::at(1, key_flags!(RW | DELETE))])
        .member(MemberArg::At(2)),
    Command::new("zcard", 2, zcard)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(SORTEDSET))
        .keys(&[KeySpec::at(1, key_flags!(RO))]),
    Command::new("zscore", 3, zscore)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(SORTEDSET))
        .keys(READ_KEY)
        .member(MemberArg::At(2)),
    Command::new("zmscore", -3, zmscore)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(SORTEDSET))
        .keys(READ_KEY)
        .member(MemberArg::At(2)),
    Command::new("zcount", 4, zcount)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(SORTEDSET))
        .keys(READ_KEY),
    Command::new("zlexcount", 4, zlexcount)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(SORTEDSET))
        .keys(READ_KEY),
    // Redis 7.2's arity: its WITHSCORE option, which clients send, is served.
    Command::new("zrank", -3, zrank)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(SORTEDSET))
        .keys(READ_KEY)
        .member(MemberArg::At(2)),
    Command::new("zrevrank", -3, zrevrank)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(SORTEDSET))
        .keys(READ_KEY)
        .member(MemberArg::At(2)),
    Command::new("zrange", -4, zrange)
        .flags(flags!(READONLY))
        .acl(acl!(SORTEDSET))
        .keys(READ_KEY),
    Command::new("zrangestore", -5, zrangestore)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(SORTEDSET))
        .keys(STORE_RANGE_KEYS),
    Command::new("zrangebyscore", -4, zrangebyscore)
        .flags(flags!(READONLY))
        .acl(acl!(SORTEDSET))
        .keys(READ_KEY),
    Command::new("zrevrangebyscore", -4, zrevrangebyscore)
        .flags(flags!(READONLY))
        .acl(acl!(SORTEDSET))
        .keys(READ_KEY),
    Command::new("zrangebylex", -4, zrangebylex)
        .flags(flags!(READONLY))
        .acl(acl!(SORTEDSET))
        .keys(READ_KEY),
    Command::new("zrevrangebylex", -4, zrevrangebylex)
        .flags(flags!(READONLY))
        .acl(acl!(SORTEDSET))
        .keys(READ_KEY),
    Command::new("zrevrange", -4, zrevrange)
        .flags(flags!(READONLY))
        .acl(acl!(SORTEDSET))
        .keys(READ_KEY),
    Command::new("zremrangebyrank", 4, zremrangebyrank)
        .flags(flags!(WRITE))
        .acl(acl!(SORTEDSET))
        .keys(&[KeySpec::at(1, key_flags!(RW | DELETE))]),
    Command::new("zremrangebyscore", 4, zremrangebyscore)
        .flags(flags!(WRITE))
        .acl(acl!(SORTEDSET))
        .keys(&[KeySpec::at(1, key_flags!(RW | DELETE))]),
    Command::new("zremrangebylex", 4, zremrangebylex)
        .flags(flags!(WRITE))
        .acl(acl!(SORTEDSET))
        .keys(&[KeySpec::at(1, key_flags!(RW | DELETE))]),
    Command::new("zpopmin", -2, zpopmin)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(SORTEDSET))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | DELETE))]),
    Command::new("zpopmax", -2, zpopmax)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(SORTEDSET))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | DELETE))]),
    Command::new("zmpop", -4, zmpop)
        .flags(flags!(WRITE))
        .acl(acl!(SORTEDSET))
        .keys(&[keynum_keys(1, key_flags!(RW | ACCESS | DELETE))]),
    Command::new("zrandmember", -2, zrandmember)
        .flags(flags!(READONLY))
        .acl(acl!(SORTEDSET))
        .tips(&["nondeterministic_output"])
        .keys(READ_KEY),
    Command::new("zunion", -3, zunion)
        .flags(flags!(READONLY))
        .acl(acl!(SORTEDSET))
        .keys(SETOP_KEYS),
    Command::new("zinter", -3, zinter)
        .flags(flags!(READONLY))
        .acl(acl!(SORTEDSET))
        .keys(SETOP_KEYS),
    Command::new("zdiff", -3, zdiff)
        .flags(flags!(READONLY))
        .acl(acl!(SORTEDSET))
        .keys(SETOP_KEYS),
    Command::new("zunionstore", -4, zunionstore)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(SORTEDSET))
        .keys(STORE_SETOP_KEYS)
        .keys_fn(store_setop_keys),
    Command::new("zinterstore", -4, zinterstore)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(SORTEDSET))
        .keys(STORE_SETOP_KEYS)
        .keys_fn(store_setop_keys),
    Command::new("zdiffstore", -4, zdiffstore)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(SORTEDSET))
        .keys(STORE_SETOP_KEYS)
        .keys_fn(store_setop_keys),
    Command::new("zintercard", -3, zintercard)
        .flags(flags!(READONLY))
        .acl(acl!(SORTEDSET))
        .keys(SETOP_KEYS),
    Command::new("zscan", -3, zscan)
        .flags(flags!(READONLY))
        .acl(acl!(SORTEDSET))
        .tips(&["nondeterministic_output"])
        .keys(READ_KEY),
];

/// Members with their scores, as a reply: `[member, score]` pairs in RESP3, a flat
/// `member score ...` array in RESP2 (or the members alone without `with_scores`).
fn write_scored(
    reply: &mut Reply<'_>,
    len: usize,
    with_scores: bool,
    each: impl FnOnce(&mut dyn FnMut(&[u8], f64)),
) {
    let nested = with_scores && reply.version() == Version::Resp3;
    reply.array(if with_scores && !nested { len * 2 } else { len });
    each(&mut |member, score| {
        if nested {
            reply.array(2);
        }
        reply.bulk(member);
        if with_scores {
            reply.double(score);
        }
    });
}

/// [`write_scored`] for members already read out.
pub(super) fn write_members(reply: &mut Reply<'_>, members: &[(Bytes, f64)], with_scores: bool) {
    write_scored(reply, members.len(), with_scores, |f| {
        for (member, score) in members {
            f(member, *score);
        }
    });
}

/// [`write_scored`] for a run read in place.
fn write_items(reply: &mut Reply<'_>, items: ZRangeItems<'_>, with_scores: bool) {
    write_scored(reply, items.len(), with_scores, |f| {
        items.for_each(|member, score| f(member, score));
    });
}

/// ZMPOP's and BZMPOP's answer: `[key, [[member, score] ...]]`, nested in both protocols.
pub(super) fn write_key_and_members(reply: &mut Reply<'_>, key: &[u8], members: &[(Bytes, f64)]) {
    reply.array(2);
    reply.bulk(key);
    reply.array(members.len());
    for (member, score) in members {
        reply.array(2);
        reply.bulk(member);
        reply.double(*score);
    }
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
fn zadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (opts, pairs) = parse_zadd(args)?;
    let added = ctx
        .shared
        .store
        .zadd(ctx.client.db, args[1], &pairs, opts)?;
    let mut reply = ctx.reply();
    if opts.incr {
        reply.opt_double(added.incr);
    } else {
        reply.len(added.count);
    }
    Ok(())
}

/// ZINCRBY key increment member
fn zincrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let by = score_arg(args[2])?;
    let score = ctx
        .shared
        .store
        .zincrby(ctx.client.db, args[1], by, args[3])?;
    ctx.reply().double(score);
    Ok(())
}

fn zrem(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.zrem(ctx.client.db, args[1], &args[2..]);
    ctx.answer(result)
}

fn zcard(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.zcard(ctx.client.db, args[1]);
    ctx.answer(result)
}

fn zscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let score = ctx.shared.store.zscore(ctx.client.db, args[1], args[2])?;
    ctx.reply().opt_double(score);
    Ok(())
}

fn zmscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    reply_per_member(ctx, args, |reply, score| reply.opt_double(score))
}

/// An array with one reply per member named from `args[2]` on, written by `each` from the
/// member's score in the sorted set `args[1]` (ZMSCORE, GEOPOS, GEOHASH).
pub(super) fn reply_per_member(
    ctx: &mut Ctx<'_>,
    args: &[&[u8]],
    mut each: impl FnMut(&mut Reply<'_>, Option<f64>),
) -> CommandResult {
    let scores = ctx
        .shared
        .store
        .zmscore(ctx.client.db, args[1], &args[2..])?;
    let mut reply = ctx.reply();
    reply.array(scores.len());
    for score in scores {
        each(&mut reply, score);
    }
    Ok(())
}

/// ZCOUNT key min max
fn zcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let range = score_range(args[2], args[3])?;
    let result = ctx.shared.store.zcount(ctx.client.db, args[1], &range);
    ctx.answer(result)
}

/// ZLEXCOUNT key min max
fn zlexcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let range = lex_range(args[2], args[3])?;
    let result = ctx.shared.store.zlexcount(ctx.client.db, args[1], &range);
    ctx.answer(result)
}

fn zrank(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    rank(ctx, args, false)
}

fn zrevrank(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    rank(ctx, args, true)
}

/// ZRANK and ZREVRANK: `key member [WITHSCORE]` (WITHSCORE as in Redis 7.2).
fn rank(ctx: &mut Ctx<'_>, args: &[&[u8]], rev: bool) -> CommandResult {
    let with_score = match args {
        [_, _, _] => false,
        [_, _, _, opt] if is(opt, "WITHSCORE") => true,
        [_, _, _, _] => return Err(SYNTAX.into()),
        _ => return Err(super::wrong_arity_of(args)),
    };
    let found = ctx
        .shared
        .store
        .zrank(ctx.client.db, args[1], args[2], rev)?;
    let mut reply = ctx.reply();
    match (found, with_score) {
        (Some((rank, _)), false) => reply.len(rank),
        (Some((rank, score)), true) => {
            reply.array(2);
            reply.len(rank);
            reply.double(score);
        }
        (None, false) => reply.null(),
        (None, true) => reply.null_array(),
    }
    Ok(())
}

/// How a ZRANGE form selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeKind {
    Rank,
    Score,
    Lex,
}

/// What a ZRANGE form fixes by its name (ZRANGEBYSCORE: by score, forwards), and whether
/// it stores (ZRANGESTORE: no WITHSCORES).
#[derive(Debug, Clone, Copy)]
struct RangeForm {
    kind: Option<RangeKind>,
    rev: Option<bool>,
    store: bool,
}

/// A ZRANGE form's arguments from `key min max` at `key_at` on, as Redis's
/// `zrangeGenericCommand` reads them: options, their conflicts, then the range (given
/// `max min` when reversed by score or lex). The selection, and whether WITHSCORES was
/// given.
fn parse_range<'a>(
    args: &[&'a [u8]],
    key_at: usize,
    form: RangeForm,
) -> Result<(ZRangeSpec<'a>, bool), CommandError> {
    let mut with_scores = false;
    let mut limit: Option<(i64, i64)> = None;
    let (mut kind, mut rev) = (form.kind, form.rev);
    let mut j = key_at + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let arg = args[j];
        if !form.store && is(arg, "WITHSCORES") {
            with_scores = true;
        } else if is(arg, "LIMIT") && left >= 2 {
            limit = Some((int_arg(args[j + 1])?, int_arg(args[j + 2])?));
            j += 2;
        } else if rev.is_none() && is(arg, "REV") {
            rev = Some(true);
        } else if kind.is_none() && is(arg, "BYLEX") {
            kind = Some(RangeKind::Lex);
        } else if kind.is_none() && is(arg, "BYSCORE") {
            kind = Some(RangeKind::Score);
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let kind = kind.unwrap_or(RangeKind::Rank);
    let rev = rev.unwrap_or(false);
    if kind == RangeKind::Rank && limit.is_some_and(|(_, count)| count != -1) {
        return Err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
                .into(),
        );
    }
    if with_scores && kind == RangeKind::Lex {
        return Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX".into());
    }
    let (mut min, mut max) = (args[key_at + 1], args[key_at + 2]);
    if rev && kind != RangeKind::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    let by = match kind {
        RangeKind::Rank => ZRangeBy::Rank {
            start: int_arg(min)?,
            stop: int_arg(max)?,
        },
        RangeKind::Score => ZRangeBy::Score(score_range(min, max)?),
        RangeKind::Lex => ZRangeBy::Lex(lex_range(min, max)?),
    };
    let limit = if kind == RangeKind::Rank { None } else { limit };
    Ok((ZRangeSpec { by, rev, limit }, with_scores))
}

/// Runs a reading ZRANGE form: `key min max [options]` from argument 1.
fn range(
    ctx: &mut Ctx<'_>,
    args: &[&[u8]],
    kind: Option<RangeKind>,
    rev: Option<bool>,
) -> CommandResult {
    let form = RangeForm {
        kind,
        rev,
        store: false,
    };
    let (spec, with_scores) = parse_range(args, 1, form)?;
    let (shared, db, version) = (ctx.shared, ctx.client.db, ctx.client.version);
    let out = &mut *ctx.out;
    shared.store.zrange_with(db, args[1], &spec, |items| {
        write_items(&mut Reply::new(out, version), items, with_scores);
    })?;
    Ok(())
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    range(ctx, args, None, None)
}

fn zrangebyscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    range(ctx, args, Some(RangeKind::Score), Some(false))
}

fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    range(ctx, args, Some(RangeKind::Score), Some(true))
}

fn zrangebylex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    range(ctx, args, Some(RangeKind::Lex), Some(false))
}

fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    range(ctx, args, Some(RangeKind::Lex), Some(true))
}

fn zrevrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    range(ctx, args, Some(RangeKind::Rank), Some(true))
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
fn zrangestore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let form = RangeForm {
        kind: None,
        rev: None,
        store: true,
    };
    let (spec, _) = parse_range(args, 2, form)?;
    let result = ctx
        .shared
        .store
        .zrangestore(ctx.client.db, args[1], args[2], &spec);
    ctx.answer(result)
}

/// ZREMRANGEBYRANK key start stop
fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let by = ZRangeBy::Rank {
        start: int_arg(args[2])?,
        stop: int_arg(args[3])?,
    };
    let result = ctx.shared.store.zremrange(ctx.client.db, args[1], &by);
    ctx.answer(result)
}

/// ZREMRANGEBYSCORE key min max
fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let by = ZRangeBy::Score(score_range(args[2], args[3])?);
    let result = ctx.shared.store.zremrange(ctx.client.db, args[1], &by);
    ctx.answer(result)
}

/// ZREMRANGEBYLEX key min max
fn zremrangebylex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let by = ZRangeBy::Lex(lex_range(args[2], args[3])?);
    let result = ctx.shared.store.zremrange(ctx.client.db, args[1], &by);
    ctx.answer(result)
}

fn zpopmin(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    pop(ctx, args, false)
}

fn zpopmax(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    pop(ctx, args, true)
}

/// ZPOPMIN and ZPOPMAX: `key [count]`. Without a count the reply is a flat
/// `[member, score]` even in RESP3; with one, RESP3 nests the pairs.
fn pop(ctx: &mut Ctx<'_>, args: &[&[u8]], max: bool) -> CommandResult {
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
        .zpop(ctx.client.db, args[1], max, count.unwrap_or(1))?;
    let mut reply = ctx.reply();
    if count.is_some() {
        write_members(&mut reply, &popped, true);
    } else {
        reply.array(popped.len() * 2);
        for (member, score) in &popped {
            reply.bulk(member);
            reply.double(*score);
        }
    }
    Ok(())
}

/// ZMPOP's and BZMPOP's side: `MIN` (false) or `MAX` (true), in any case.
pub(super) fn parse_min_max(arg: &[u8]) -> Result<bool, CommandError> {
    match arg {
        w if is(w, "MIN") => Ok(false),
        w if is(w, "MAX") => Ok(true),
        _ => Err(SYNTAX.into()),
    }
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
fn zmpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let parsed = parse_multi_pop(args, 1, parse_min_max)?;
    let popped = ctx
        .shared
        .store
        .zmpop(ctx.client.db, parsed.keys, parsed.side, parsed.count)?;
    let mut reply = ctx.reply();
    match popped {
        Some((key, members)) => write_key_and_members(&mut reply, &key, &members),
        None => reply.null_array(),
    }
    Ok(())
}

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (count, with_scores) = match args {
        [_, _] => (None, false),
        [_, _, count, rest @ ..] => {
            let count = parse_i64(count).ok_or(NOT_INTEGER)?;
            if count == i64::MIN {
                return Err(
                    "ERR value is out of range, value must between -9223372036854775807 and \
                     9223372036854775807"
                        .into(),
                );
            }
            let with_scores = match rest {
                [] => false,
                [opt] if is(opt, "WITHSCORES") => true,
                _ => return Err(SYNTAX.into()),
            };
            if with_scores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
                return Err("ERR value is out of range".into());
            }
            (Some(count), with_scores)
        }
        _ => return Err(SYNTAX.into()),
    };
    let db = ctx.client.db;
    if let Some(count) = count
        && super::close_if_picks_overflow(ctx, "ZRANDMEMBER", count, |ctx| {
            ctx.shared.store.zcard(ctx.client.db, args[1])
        })
    {
        return Ok(());
    }
    let picked = ctx
        .shared
        .store
        .zrandmember(db, args[1], count.unwrap_or(1))?;
    let mut reply = ctx.reply();
    match count {
        None => reply.opt_bulk(picked.first().map(|(m, _)| m.as_ref())),
        Some(_) => write_members(&mut reply, &picked, with_scores),
    }
    Ok(())
}

/// The options of ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD.
struct SetOpArgs<'a, 'b> {
    keys: &'a [&'b [u8]],
    weights: Option<Vec<f64>>,
    aggregate: Aggregate,
    with_scores: bool,
    /// ZINTERCARD's LIMIT (0: none).
    limit: usize,
}

/// Which of the set-operation commands is parsed.
#[derive(Clone, Copy)]
struct SetOpForm {
    op: ZSetOp,
    store: bool,
    cardinality: bool,
}

/// Reads `numkeys key [key ...] [options]` from `numkeys_at`, as Redis's
/// `zunionInterDiffGenericCommand`: the keys' types are checked before the options, so a
/// key of another type answers WRONGTYPE even where an option is wrong.
fn parse_setop<'a, 'b>(
    ctx: &Ctx<'_>,
    args: &'a [&'b [u8]],
    numkeys_at: usize,
    form: SetOpForm,
) -> Result<SetOpArgs<'a, 'b>, CommandError> {
    let numkeys = int_arg(args[numkeys_at])?;
    if numkeys < 1 {
        return Err(fail(format_args!(
            "ERR at least 1 input key is needed for '{}' command",
            String::from_utf8_lossy(args[0]).to_ascii_lowercase()
        )));
    }
    let first = numkeys_at + 1;
    let numkeys = usize::try_from(numkeys)
        .ok()
        .filter(|&n| n <= args.len() - first)
        .ok_or(SYNTAX)?;
    let keys = &args[first..first + numkeys];
    parse_setop_options(keys, &args[first + numkeys..], form).map_err(|e| {
        if any_wrong_type(&ctx.shared.store, ctx.client.db, keys) {
            StoreError::WrongType.into()
        } else {
            e
        }
    })
}

/// Whether one of `keys` holds a type no sorted-set operation reads (anything but a
/// sorted set or a set).
fn any_wrong_type(store: &Store, db: usize, keys: &[&[u8]]) -> bool {
    keys.iter().any(|key| {
        !matches!(
            store.value_type(db, key),
            Ok(None | Some(ValueType::Set | ValueType::ZSet))
        )
    })
}

/// The options after a set operation's keys.
fn parse_setop_options<'a, 'b>(
    keys: &'a [&'b [u8]],
    opts: &[&[u8]],
    form: SetOpForm,
) -> Result<SetOpArgs<'a, 'b>, CommandError> {
    let mut parsed = SetOpArgs {
        keys,
        weights: None,
        aggregate: Aggregate::Sum,
        with_scores: false,
        limit: 0,
    };
    let combines = form.op != ZSetOp::Diff && !form.cardinality;
    let mut j = 0;
    while j < opts.len() {
        let remaining = opts.len() - j;
        let opt = opts[j];
        if combines && remaining > keys.len() && is(opt, "WEIGHTS") {
            let weights = opts[j + 1..=j + keys.len()]
                .iter()
                .map(|w| parse_double(w).ok_or("ERR weight value is not a float"))
                .collect::<Result<Vec<_>, _>>()?;
            parsed.weights = Some(weights);
            j += 1 + keys.len();
        } else if combines && remaining >= 2 && is(opt, "AGGREGATE") {
            parsed.aggregate = match opts[j + 1] {
                a if is(a, "SUM") => Aggregate::Sum,
                a if is(a, "MIN") => Aggregate::Min,
                a if is(a, "MAX") => Aggregate::Max,
                _ => return Err(SYNTAX.into()),
            };
            j += 2;
        } else if !form.store && !form.cardinality && is(opt, "WITHSCORES") {
            parsed.with_scores = true;
            j += 1;
        } else if form.cardinality && remaining >= 2 && is(opt, "LIMIT") {
            parsed.limit = non_negative(opts[j + 1], "ERR LIMIT can't be negative")?;
            j += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    Ok(parsed)
}

/// ZUNION, ZINTER, ZDIFF and their STORE forms.
fn setop(ctx: &mut Ctx<'_>, args: &[&[u8]], op: ZSetOp, store: bool) -> CommandResult {
    let form = SetOpForm {
        op,
        store,
        cardinality: false,
    };
    let parsed = parse_setop(ctx, args, if store { 2 } else { 1 }, form)?;
    let dst = store.then(|| args[1]);
    let (stored, members) = ctx.shared.store.zsetop(
        ctx.client.db,
        op,
        parsed.keys,
        parsed.weights.as_deref(),
        parsed.aggregate,
        dst,
    )?;
    let mut reply = ctx.reply();
    if store {
        reply.len(stored);
    } else {
        write_members(&mut reply, &members, parsed.with_scores);
    }
    Ok(())
}

fn zunion(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    setop(ctx, args, ZSetOp::Union, false)
}

fn zinter(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    setop(ctx, args, ZSetOp::Inter, false)
}

fn zdiff(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    setop(ctx, args, ZSetOp::Diff, false)
}

fn zunionstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    setop(ctx, args, ZSetOp::Union, true)
}

fn zinterstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    setop(ctx, args, ZSetOp::Inter, true)
}

fn zdiffstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    setop(ctx, args, ZSetOp::Diff, true)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let form = SetOpForm {
        op: ZSetOp::Inter,
        store: false,
        cardinality: true,
    };
    let parsed = parse_setop(ctx, args, 1, form)?;
    let result = ctx
        .shared
        .store
        .zintercard(ctx.client.db, parsed.keys, parsed.limit);
    ctx.answer(result)
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]: scores as bulk strings in both
/// protocols.
fn zscan(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let Some(cursor) = parse_cursor(args[2]) else {
        return Err("ERR invalid cursor".into());
    };
    let opts = ScanArgs::parse(&args[3..], false)?;
    let (next, members) =
        ctx.shared
            .store
            .zscan(ctx.client.db, args[1], cursor, opts.pattern, opts.count)?;
    let mut reply = ctx.reply();
    reply.array(2);
    reply.bulk(next.to_string().as_bytes());
    reply.array(members.len() * 2);
    for (member, score) in &members {
        reply.bulk(member);
        reply.double_bulk(*score);
    }
    Ok(())
}
