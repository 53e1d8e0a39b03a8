//! Bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO) and
//! LCS.
//!
//! Each handler checks its arguments in the order Redis 7.0 does, since that order
//! decides which error a request with several faults gets: BITCOUNT and BITPOS look the
//! key up before reading their range (a missing key answers whatever the range), BITFIELD
//! reads every operation before touching the key, LCS checks the keys' types before its
//! options.

use redistill_store::{
    BitOp, BitUnit, BitfieldOp, BitfieldType, LcsError, Overflow, StoreError, ValueType, lcs,
    parse_bit_offset,
};

use super::args::{NOT_INTEGER, SYNTAX, int_arg, is, parse_i64};
use super::table::{KeyFlags, KeySpec, acl, flags, key_flags};
use super::{Command, CommandError, CommandResult, Ctx};

pub(super) static COMMANDS: &[Command] = &[
    Command::new("setbit", 4, setbit)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(BITMAP))
        .keys(&[KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE))]),
    Command::new("getbit", 3, getbit)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(BITMAP))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("bitcount", -2, bitcount)
        .flags(flags!(READONLY))
        .acl(acl!(BITMAP))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("bitpos", -3, bitpos)
        .flags(flags!(READONLY))
        .acl(acl!(BITMAP))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("bitop", -4, bitop)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(BITMAP))
        .keys(&[
            KeySpec::at(2, key_flags!(OW | UPDATE)),
            KeySpec::range(3, -1, 1, key_flags!(RO | ACCESS)),
        ]),
    Command::new("bitfield", -2, bitfield)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(BITMAP))
        .keys(&[
            KeySpec::at(1, key_flags!(RW | ACCESS | UPDATE | VARIABLE_FLAGS))
                .notes("This command allows both access and modification of the key"),
        ])
        .key_flags_fn(bitfield_key_flags),
    Command::new("bitfield_ro", -2, bitfield_ro)
        .flags(flags!(READONLY | FAST))
        .acl(acl!(BITMAP))
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("lcs", -3, lcs_command)
        .flags(flags!(READONLY))
        .acl(acl!(STRING))
        .keys(&[KeySpec::range(1, 1, 1, key_flags!(RO | ACCESS))]),
];

const BIT_VALUE: &str = "ERR bit is not an integer or out of range";
const BITFIELD_TYPE: &str = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// BITFIELD's key flags for one request: read-only when it only GETs, as Redis's
/// `bitfieldGetKeys` decides (anything it cannot read counts as a write).
fn bitfield_key_flags(args: &[&[u8]], _declared: KeyFlags) -> KeyFlags {
    let mut i = 2;
    while i < args.len() {
        let rem = args.len() - i - 1;
        if is(args[i], "GET") && rem >= 2 {
            i += 3;
        } else if is(args[i], "OVERFLOW") && rem >= 1 {
            i += 2;
        } else {
            return key_flags!(RW | ACCESS | UPDATE);
        }
    }
    key_flags!(RO | ACCESS)
}

/// SETBIT key offset value
fn setbit(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let offset = parse_bit_offset(args[2], None)?;
    let on = match parse_i64(args[3]) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(BIT_VALUE.into()),
    };
    let result = ctx.shared.store.setbit(ctx.client.db, args[1], offset, on);
    ctx.answer(result)
}

/// GETBIT key offset
fn getbit(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let offset = parse_bit_offset(args[2], None)?;
    let result = ctx.shared.store.getbit(ctx.client.db, args[1], offset);
    ctx.answer(result)
}

/// `BYTE` or `BIT`.
fn unit(arg: &[u8]) -> Result<BitUnit, CommandError> {
    if is(arg, "BIT") {
        Ok(BitUnit::Bit)
    } else if is(arg, "BYTE") {
        Ok(BitUnit::Byte)
    } else {
        Err(SYNTAX.into())
    }
}

/// When a range's arguments are faulty, Redis 7.0 still looks the key up first: a
/// missing key answers `missing`, another type WRONGTYPE, and only a string gets `err`.
fn after_lookup(ctx: &mut Ctx<'_>, key: &[u8], missing: i64, err: CommandError) -> CommandResult {
    match ctx.shared.store.value_type(ctx.client.db, key)? {
        None => {
            ctx.reply().int(missing);
            Ok(())
        }
        Some(ValueType::String) => Err(err),
        Some(_) => Err(StoreError::WrongType.into()),
    }
}

/// BITCOUNT key [start end [BYTE|BIT]]
fn bitcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let range = (|| -> Result<Option<(i64, i64, BitUnit)>, CommandError> {
        match args.len() {
            2 => Ok(None),
            4 | 5 => {
                let start = int_arg(args[2])?;
                let end = int_arg(args[3])?;
                // An empty range of negative bounds answers 0 before the unit is read.
                if start < 0 && end < 0 && start > end {
                    return Ok(Some((start, end, BitUnit::Byte)));
                }
                let unit = args.get(4).map_or(Ok(BitUnit::Byte), |a| unit(a))?;
                Ok(Some((start, end, unit)))
            }
            _ => Err(SYNTAX.into()),
        }
    })();
    match range {
        Ok(range) => {
            let result = ctx.shared.store.bitcount(ctx.client.db, args[1], range);
            ctx.answer(result.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
        }
        Err(e) => after_lookup(ctx, args[1], 0, e),
    }
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
fn bitpos(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let bit = match int_arg(args[2])? {
        0 => false,
        1 => true,
        _ => return Err("ERR The bit argument must be 1 or 0.".into()),
    };
    type Range = (Option<i64>, Option<i64>, BitUnit);
    let range = (|| -> Result<Range, CommandError> {
        if args.len() > 6 {
            return Err(SYNTAX.into());
        }
        let start = args.get(3).map(|a| int_arg(a)).transpose()?;
        let unit = args.get(5).map_or(Ok(BitUnit::Byte), |a| unit(a))?;
        let end = args.get(4).map(|a| int_arg(a)).transpose()?;
        Ok((start, end, unit))
    })();
    let missing = if bit { -1 } else { 0 };
    match range {
        Ok((start, end, unit)) => {
            let result = ctx
                .shared
                .store
                .bitpos(ctx.client.db, args[1], bit, start, end, unit);
            ctx.answer(result)
        }
        Err(e) => after_lookup(ctx, args[1], missing, e),
    }
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
fn bitop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let op = if is(args[1], "AND") {
        BitOp::And
    } else if is(args[1], "OR") {
        BitOp::Or
    } else if is(args[1], "XOR") {
        BitOp::Xor
    } else if is(args[1], "NOT") {
        BitOp::Not
    } else {
        return Err(SYNTAX.into());
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err("ERR BITOP NOT must be called with a single source key.".into());
    }
    let result = ctx
        .shared
        .store
        .bitop(ctx.client.db, op, args[2], &args[3..]);
    ctx.answer(result)
}

/// BITFIELD's operations, read as Redis reads them; whether any writes.
fn parse_bitfield(args: &[&[u8]]) -> Result<(Vec<BitfieldOp>, bool), CommandError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut writes = false;
    let mut j = 2;
    while j < args.len() {
        let rem = args.len() - j - 1;
        let sub = args[j];
        let (is_get, is_set) = if is(sub, "GET") && rem >= 2 {
            (true, false)
        } else if is(sub, "SET") && rem >= 3 {
            (false, true)
        } else if is(sub, "INCRBY") && rem >= 3 {
            (false, false)
        } else if is(sub, "OVERFLOW") && rem >= 1 {
            let mode = args[j + 1];
            overflow = if is(mode, "WRAP") {
                Overflow::Wrap
            } else if is(mode, "SAT") {
                Overflow::Sat
            } else if is(mode, "FAIL") {
                Overflow::Fail
            } else {
                return Err("ERR Invalid OVERFLOW type specified".into());
            };
            j += 2;
            continue;
        } else {
            return Err(SYNTAX.into());
        };
        let ty = BitfieldType::parse(args[j + 1]).ok_or(BITFIELD_TYPE)?;
        let offset = parse_bit_offset(args[j + 2], Some(ty.bits))?;
        if is_get {
            ops.push(BitfieldOp::Get { ty, offset });
            j += 3;
            continue;
        }
        writes = true;
        let value = parse_i64(args[j + 3]).ok_or(NOT_INTEGER)?;
        ops.push(if is_set {
            BitfieldOp::Set {
                ty,
                offset,
                value,
                overflow,
            }
        } else {
            BitfieldOp::IncrBy {
                ty,
                offset,
                incr: value,
                overflow,
            }
        });
        j += 4;
    }
    Ok((ops, writes))
}

fn reply_fields(ctx: &mut Ctx<'_>, values: &[Option<i64>]) {
    let mut reply = ctx.reply();
    reply.array(values.len());
    for v in values {
        match v {
            Some(n) => reply.int(*n),
            None => reply.null(),
        }
    }
}

/// BITFIELD key [GET type offset | SET type offset value | INCRBY type offset increment
/// | OVERFLOW WRAP|SAT|FAIL] ...
fn bitfield(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (ops, writes) = parse_bitfield(args)?;
    let store = &ctx.shared.store;
    let values = if writes {
        store.bitfield(ctx.client.db, args[1], &ops)?
    } else {
        store.bitfield_ro(ctx.client.db, args[1], &ops)?
    };
    reply_fields(ctx, &values);
    Ok(())
}

/// BITFIELD_RO key [GET type offset ...]
fn bitfield_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (ops, writes) = parse_bitfield(args)?;
    if writes {
        return Err("ERR BITFIELD_RO only supports the GET subcommand".into());
    }
    let values = ctx.shared.store.bitfield_ro(ctx.client.db, args[1], &ops)?;
    reply_fields(ctx, &values);
    Ok(())
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
fn lcs_command(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let (a, b) = match ctx.shared.store.lcs_values(ctx.client.db, args[1], args[2]) {
        Ok(v) => v,
        Err(StoreError::WrongType) => {
            return Err("ERR The specified keys must contain string values".into());
        }
        Err(e) => return Err(e.into()),
    };
    let (mut len, mut idx, mut with_len, mut min_len) = (false, false, false, 0usize);
    let mut j = 3;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if is(args[j], "IDX") {
            idx = true;
        } else if is(args[j], "LEN") {
            len = true;
        } else if is(args[j], "WITHMATCHLEN") {
            with_len = true;
        } else if is(args[j], "MINMATCHLEN") && more > 0 {
            let n = int_arg(args[j + 1])?;
            min_len = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
            j += 1;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    if idx && len {
        return Err("ERR If you want both the length and indexes, please just use IDX.".into());
    }
    let found = lcs(&a, &b, min_len).map_err(|e| -> CommandError {
        match e {
            LcsError::StringTooLong => "ERR String too long for LCS".into(),
            LcsError::TableTooLarge => {
                "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
                    .into()
            }
            LcsError::OutOfMemory => {
                "ERR Insufficient memory, failed allocating transient memory for LCS".into()
            }
        }
    })?;
    let mut reply = ctx.reply();
    if idx {
        reply.map(2);
        reply.bulk(b"matches");
        reply.array(found.matches.len());
        for m in &found.matches {
            reply.array(2 + usize::from(with_len));
            for (s, e) in [(m.a_start, m.a_end), (m.b_start, m.b_end)] {
                reply.array(2);
                reply.len(s);
                reply.len(e);
            }
            if with_len {
                reply.len(m.len());
            }
        }
        reply.bulk(b"len");
        reply.len(found.len);
    } else if len {
        reply.len(found.len);
    } else {
        reply.bulk(&found.text);
    }
    Ok(())
}
