//! List commands, except the blocking ones (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP),
//! which share this module's argument parsing: [`parse_end`] and [`parse_multi_pop`].
//!
//! Each handler checks its arguments in the order Redis does, since that order decides
//! which error a request with several faults gets: most parse their integers before
//! looking at the key, LINDEX and LSET look at the key first.

use bytes::Bytes;
use redistill_store::{ListEnd, StoreError};

use super::args::{NOT_INTEGER, SYNTAX, int_arg, is, non_negative, parse_i64, positive};
use super::table::{BeginSearch, FindKeys, KeySpec, acl, flags, key_flags};
use super::{Command, CommandError, CommandResult, Ctx, Reply, fail};

/// LMPOP's keys: `numkeys` at argument 1 counts the keys that follow it.
static LMPOP_KEYS: &[KeySpec] = &[KeySpec::new(
    key_flags!(RW | ACCESS | DELETE),
    BeginSearch::Index(1),
    FindKeys::Keynum {
        key_num_index: 0,
        first_key: 1,
        step: 1,
    },
)];

pub(super) static COMMANDS: &[Command] = &[
    Command::new("lpush", -3, lpush)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RW | INSERT))]),
    Command::new("rpush", -3, rpush)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RW | INSERT))]),
    Command::new("lpushx", -3, lpushx)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RW | INSERT))]),
    Command::new("rpushx", -3, rpushx)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RW | INSERT))]),
    Command::new("lpop", -2, lpop)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | DELETE))]),
    Command::new("rpop", -2, rpop)
        .flags(flags!(WRITE | FAST))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | DELETE))]),
    Command::new("llen", 2, llen)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RO))]),
    Command::new("lrange", 4, lrange)
        .flags(flags!(READONLY))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("lindex", 3, lindex)
        .flags(flags!(READONLY))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("lset", 4, lset)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RW | UPDATE))]),
    Command::new("linsert", 5, linsert)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RW | INSERT))]),
    Command::new("lrem", 4, lrem)
        .flags(flags!(WRITE))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RW | DELETE))]),
    Command::new("ltrim", 4, ltrim)
        .flags(flags!(WRITE))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RW | DELETE))]),
    Command::new("lpos", -3, lpos)
        .flags(flags!(READONLY))
        .acl(acl!(LIST))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("lmove", 5, lmove)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(LIST))
        .keys(&[
            KeySpec::at(1, key_flags!(RW | ACCESS | DELETE)),
            KeySpec::at(2, key_flags!(RW | INSERT)),
        ]),
    Command::new("rpoplpush", 3, rpoplpush)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(LIST))
        .keys(&[
            KeySpec::at(1, key_flags!(RW | ACCESS | DELETE)),
            KeySpec::at(2, key_flags!(RW | INSERT)),
        ]),
    Command::new("lmpop", -4, lmpop)
        .flags(flags!(WRITE))
        .acl(acl!(LIST))
        .keys(LMPOP_KEYS),
];

/// A list end as LMOVE, BLMOVE, LMPOP and BLMPOP take it: `LEFT` or `RIGHT` in any case;
/// anything else is `ERR syntax error`, as Redis's `getListPositionFromObjectOrReply`.
pub(super) fn parse_end(arg: &[u8]) -> Result<ListEnd, CommandError> {
    if is(arg, "LEFT") {
        Ok(ListEnd::Left)
    } else if is(arg, "RIGHT") {
        Ok(ListEnd::Right)
    } else {
        Err(SYNTAX.into())
    }
}

/// The arguments of LMPOP, BLMPOP, ZMPOP and BZMPOP after their own: `numkeys key [key
/// ...] <side> [COUNT count]`, the side being LEFT|RIGHT for lists and MIN|MAX for sorted
/// sets.
#[derive(Debug)]
pub(super) struct MultiPop<'a, 'b, S> {
    /// The `numkeys` keys, in the order they are tried.
    pub keys: &'a [&'b [u8]],
    /// Which end to pop from.
    pub side: S,
    /// How many elements to pop at most: COUNT, or 1.
    pub count: usize,
}

/// Parses `numkeys key [key ...] <side> [COUNT count]` with `numkeys` at
/// `args[numkeys_at]` (1 for LMPOP and ZMPOP, 2 for their blocking forms, whose timeout
/// Redis parses after this) and the side read by `side`, with Redis's errors in Redis's
/// order: `numkeys should be greater than 0` (not an integer, or below 1), `syntax error`
/// when the keys run past the arguments or `side` refuses its word, `count should be
/// greater than 0`, and `syntax error` for anything else after the side (COUNT given twice
/// included). The caller has checked the arity.
pub(super) fn parse_multi_pop<'a, 'b, S>(
    args: &'a [&'b [u8]],
    numkeys_at: usize,
    side: fn(&[u8]) -> Result<S, CommandError>,
) -> Result<MultiPop<'a, 'b, S>, CommandError> {
    let numkeys = positive(args[numkeys_at], "ERR numkeys should be greater than 0")?;
    let first_key = numkeys_at + 1;
    let end_at = numkeys
        .checked_add(first_key)
        .filter(|&at| at < args.len())
        .ok_or(SYNTAX)?;
    let end = side(args[end_at])?;
    let mut count = None;
    let mut j = end_at + 1;
    while j < args.len() {
        if count.is_none() && is(args[j], "COUNT") && j + 1 < args.len() {
            j += 1;
            count = Some(positive(args[j], "ERR count should be greater than 0")?);
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    Ok(MultiPop {
        keys: &args[first_key..end_at],
        side: end,
        count: count.unwrap_or(1),
    })
}

fn push(ctx: &mut Ctx<'_>, args: &[&[u8]], end: ListEnd, only_if_exists: bool) -> CommandResult {
    let result =
        ctx.shared
            .store
            .list_push(ctx.client.db, args[1], end, &args[2..], only_if_exists);
    ctx.answer(result)
}

/// LPUSH key element [element ...]
fn lpush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    push(ctx, args, ListEnd::Left, false)
}

/// RPUSH key element [element ...]
fn rpush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    push(ctx, args, ListEnd::Right, false)
}

/// LPUSHX key element [element ...]
fn lpushx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    push(ctx, args, ListEnd::Left, true)
}

/// RPUSHX key element [element ...]
fn rpushx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    push(ctx, args, ListEnd::Right, true)
}

/// LPOP and RPOP key [count]. Without a count: the element, or a null string. With one:
/// an array, or a null array for a missing key; a count of 0 answers an empty array for
/// a list and pops nothing.
fn pop(ctx: &mut Ctx<'_>, args: &[&[u8]], end: ListEnd) -> CommandResult {
    let count = match args.len() {
        2 => None,
        3 => Some(non_negative(
            args[2],
            "ERR value is out of range, must be positive",
        )?),
        _ => return Err(super::wrong_arity_of(args)),
    };
    let (db, key) = (ctx.client.db, args[1]);
    let shared = ctx.shared;
    let store = &shared.store;
    match count {
        None => {
            let popped = store.list_pop(db, key, end, 1)?;
            let first = popped.and_then(|elements| elements.into_iter().next());
            ctx.reply().opt_bulk(first.as_deref());
        }
        // Lists are never empty: a length of 0 is a missing key.
        Some(0) => {
            if store.llen(db, key)? == 0 {
                ctx.reply().null_array();
            } else {
                ctx.reply().array(0);
            }
        }
        Some(count) => match store.list_pop(db, key, end, count)? {
            Some(elements) => ctx.reply().bulks(elements.iter().map(|e| e.as_ref())),
            None => ctx.reply().null_array(),
        },
    }
    Ok(())
}

fn lpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    pop(ctx, args, ListEnd::Left)
}

fn rpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    pop(ctx, args, ListEnd::Right)
}

/// LLEN key
fn llen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.llen(ctx.client.db, args[1]);
    ctx.answer(result)
}

/// LRANGE key start stop: the indexes are parsed before the key is looked at.
fn lrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let start = int_arg(args[2])?;
    let stop = int_arg(args[3])?;
    let (shared, db) = (ctx.shared, ctx.client.db);
    let mut reply = ctx.reply();
    shared
        .store
        .lrange_with(db, args[1], start, stop, |range| {
            reply.array(range.len());
            range.for_each(|e| reply.bulk(e));
        })?;
    Ok(())
}

/// Redis's answer to an index that is not an integer, which LINDEX and LSET give only
/// after looking the key up: WRONGTYPE for another type, the integer error for a list,
/// and for a missing key the error `missing`, or `Ok` where the caller answers (LINDEX's
/// null).
fn bad_index(ctx: &Ctx<'_>, key: &[u8], missing: Option<StoreError>) -> CommandResult {
    if ctx.shared.store.llen(ctx.client.db, key)? > 0 {
        return Err(NOT_INTEGER.into());
    }
    match missing {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// LINDEX key index: a missing key answers null whatever the index.
fn lindex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let Some(index) = parse_i64(args[2]) else {
        bad_index(ctx, args[1], None)?;
        ctx.reply().null();
        return Ok(());
    };
    let result = ctx.shared.store.lindex(ctx.client.db, args[1], index);
    ctx.answer(result)
}

/// LSET key index element
fn lset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let Some(index) = parse_i64(args[2]) else {
        return bad_index(ctx, args[1], Some(StoreError::NoSuchKey));
    };
    let result = ctx
        .shared
        .store
        .lset(ctx.client.db, args[1], index, args[3]);
    ctx.answer(result)
}

/// LINSERT key BEFORE|AFTER pivot element: the length, -1 without the pivot, 0 without
/// the key.
fn linsert(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let before = if is(args[2], "BEFORE") {
        true
    } else if is(args[2], "AFTER") {
        false
    } else {
        return Err(SYNTAX.into());
    };
    let result = ctx
        .shared
        .store
        .linsert(ctx.client.db, args[1], before, args[3], args[4]);
    ctx.answer(result)
}

/// LREM key count element
fn lrem(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let count = int_arg(args[2])?;
    let result = ctx
        .shared
        .store
        .lrem(ctx.client.db, args[1], count, args[3]);
    ctx.answer(result)
}

/// LTRIM key start stop
fn ltrim(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let start = int_arg(args[2])?;
    let stop = int_arg(args[3])?;
    let result = ctx.shared.store.ltrim(ctx.client.db, args[1], start, stop);
    ctx.answer(result)
}

/// Redis's reply to `LPOS ... RANK 0`.
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from \
                         the second ... or use negative to start from the end of the list";

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]: options are parsed, and
/// refused, before the key is looked at. Without COUNT the first match or null; with it an
/// array (COUNT 0: every match).
fn lpos(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0usize);
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        if is(args[j], "RANK") && more {
            j += 1;
            rank = int_arg(args[j])?;
            // Redis 7.2 refuses the one rank whose opposite overflows; 7.0 misreads it.
            if rank == i64::MIN {
                return Err(fail(format_args!(
                    "ERR value is out of range, value must between {} and {}",
                    -i64::MAX,
                    i64::MAX
                )));
            }
            if rank == 0 {
                return Err(RANK_ZERO.into());
            }
        } else if is(args[j], "COUNT") && more {
            j += 1;
            count = Some(non_negative(args[j], "ERR COUNT can't be negative")?);
        } else if is(args[j], "MAXLEN") && more {
            j += 1;
            maxlen = non_negative(args[j], "ERR MAXLEN can't be negative")?;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let found = ctx.shared.store.lpos(
        ctx.client.db,
        args[1],
        args[2],
        rank,
        count.unwrap_or(1),
        maxlen,
    )?;
    let mut reply = ctx.reply();
    if count.is_some() {
        reply.array(found.len());
        for position in found {
            reply.len(position);
        }
    } else {
        match found.first() {
            Some(&position) => reply.len(position),
            None => reply.null(),
        }
    }
    Ok(())
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let from = parse_end(args[3])?;
    let to = parse_end(args[4])?;
    let result = ctx
        .shared
        .store
        .lmove(ctx.client.db, args[1], args[2], from, to);
    ctx.answer(result)
}

/// RPOPLPUSH source destination: LMOVE source destination RIGHT LEFT.
fn rpoplpush(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.lmove(
        ctx.client.db,
        args[1],
        args[2],
        ListEnd::Right,
        ListEnd::Left,
    );
    ctx.answer(result)
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: `[key, [element ...]]` from the
/// first key holding a list, or a null array.
fn lmpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let parsed = parse_multi_pop(args, 1, parse_end)?;
    let popped = ctx
        .shared
        .store
        .lmpop(ctx.client.db, parsed.keys, parsed.side, parsed.count)?;
    let mut reply = ctx.reply();
    match popped {
        Some((key, elements)) => write_key_and_elements(&mut reply, &key, &elements),
        None => reply.null_array(),
    }
    Ok(())
}

/// LMPOP's and BLMPOP's answer: `[key, [element ...]]`.
pub(super) fn write_key_and_elements(reply: &mut Reply<'_>, key: &[u8], elements: &[Bytes]) {
    reply.array(2);
    reply.bulk(key);
    reply.bulks(elements.iter().map(|e| e.as_ref()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(e: CommandError) -> String {
        String::from_utf8_lossy(&e.text("lmpop")).into_owned()
    }

    fn parse<'a, 'b>(args: &'a [&'b [u8]]) -> Result<MultiPop<'a, 'b, ListEnd>, String> {
        parse_multi_pop(args, 1, parse_end).map_err(text)
    }

    #[test]
    fn ends_are_left_and_right_in_any_case() {
        assert!(matches!(parse_end(b"left"), Ok(ListEnd::Left)));
        assert!(matches!(parse_end(b"RiGhT"), Ok(ListEnd::Right)));
        assert_eq!(text(parse_end(b"UP").unwrap_err()), "ERR syntax error");
    }

    #[test]
    fn multi_pop_reads_keys_end_and_count() {
        let args: &[&[u8]] = &[b"lmpop", b"2", b"a", b"b", b"right", b"count", b"7"];
        let parsed = parse(args).unwrap();
        assert_eq!(parsed.keys, [&b"a"[..], b"b"]);
        assert!(matches!(parsed.side, ListEnd::Right));
        assert_eq!(parsed.count, 7);
        let parsed = parse(&[b"lmpop", b"1", b"a", b"LEFT"]).unwrap();
        assert_eq!(parsed.count, 1);
        // BLMPOP's numkeys follows its timeout.
        let blocking: &[&[u8]] = &[b"blmpop", b"0", b"1", b"k", b"LEFT"];
        let parsed = parse_multi_pop(blocking, 2, parse_end).unwrap();
        assert_eq!(parsed.keys, [&b"k"[..]]);
    }

    #[test]
    fn multi_pop_errors_are_redis_own_in_its_order() {
        let numkeys = "ERR numkeys should be greater than 0";
        let count = "ERR count should be greater than 0";
        let syntax = "ERR syntax error";
        let cases: &[(&[&[u8]], &str)] = &[
            (&[b"lmpop", b"0", b"a", b"LEFT"], numkeys),
            (&[b"lmpop", b"-1", b"a", b"LEFT"], numkeys),
            (&[b"lmpop", b"x", b"a", b"LEFT"], numkeys),
            (&[b"lmpop", b"2", b"a", b"LEFT"], syntax),
            (&[b"lmpop", b"9223372036854775807", b"a", b"LEFT"], syntax),
            (&[b"lmpop", b"1", b"a", b"UP"], syntax),
            (&[b"lmpop", b"1", b"a", b"LEFT", b"COUNT"], syntax),
            (&[b"lmpop", b"1", b"a", b"LEFT", b"COUNT", b"0"], count),
            (&[b"lmpop", b"1", b"a", b"LEFT", b"COUNT", b"x"], count),
            (
                &[
                    b"lmpop", b"1", b"a", b"LEFT", b"COUNT", b"1", b"COUNT", b"1",
                ],
                syntax,
            ),
            (&[b"lmpop", b"1", b"a", b"LEFT", b"FOO"], syntax),
        ];
        for (args, error) in cases {
            assert_eq!(parse(args).unwrap_err(), *error, "{args:?}");
        }
    }
}
