//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST.

use redistill_store::{PfDebug, PfDebugReply};

use super::table::{KeySpec, acl, flags, key_flags};
use super::{Command, CommandError, CommandResult, Ctx};

pub(super) static COMMANDS: &[Command] = &[
    Command::new("pfadd", -2, pfadd)
        .flags(flags!(WRITE | DENYOOM | FAST))
        .acl(acl!(HYPERLOGLOG))
        .keys(&[KeySpec::at(1, key_flags!(RW | INSERT))]),
    Command::new("pfcount", -2, pfcount)
        .flags(flags!(READONLY))
        .acl(acl!(HYPERLOGLOG))
        .keys(&[KeySpec::range(1, -1, 1, key_flags!(RW | ACCESS)).notes(
            "RW because it may change the internal representation of the key, and \
             propagate to replicas",
        )]),
    Command::new("pfmerge", -2, pfmerge)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(HYPERLOGLOG))
        .keys(&[
            KeySpec::at(1, key_flags!(RW | ACCESS | INSERT)),
            KeySpec::range(2, -1, 1, key_flags!(RO | ACCESS)),
        ]),
    Command::new("pfdebug", 3, pfdebug)
        .flags(flags!(WRITE | DENYOOM | ADMIN))
        .acl(acl!(HYPERLOGLOG | ADMIN | DANGEROUS))
        .keys(&[KeySpec::at(2, key_flags!(RW | ACCESS))]),
    Command::new("pfselftest", 1, pfselftest)
        .flags(flags!(ADMIN))
        .acl(acl!(HYPERLOGLOG | ADMIN | DANGEROUS)),
];

/// PFADD key [element ...]
fn pfadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.pfadd(ctx.client.db, args[1], &args[2..]);
    ctx.answer(result)
}

/// PFCOUNT key [key ...]
fn pfcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let card = ctx.shared.store.pfcount(ctx.client.db, &args[1..])?;
    ctx.reply().int(i64::try_from(card).unwrap_or(i64::MAX));
    Ok(())
}

/// PFMERGE destkey [sourcekey ...]
fn pfmerge(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let result = ctx.shared.store.pfmerge(ctx.client.db, args[1], &args[2..]);
    ctx.answer(result)
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
///
/// As in Redis, the key is looked up and checked before the subcommand is.
fn pfdebug(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let sub = args[1];
    let op = [
        (&b"getreg"[..], PfDebug::GetReg),
        (b"decode", PfDebug::Decode),
        (b"encoding", PfDebug::Encoding),
        (b"todense", PfDebug::ToDense),
    ]
    .into_iter()
    .find(|(name, _)| sub.eq_ignore_ascii_case(name))
    .map(|(_, op)| op);
    let store = &ctx.shared.store;
    let Some(found) = store.pfdebug(ctx.client.db, args[2], op.unwrap_or(PfDebug::Encoding))?
    else {
        return Err("ERR The specified key does not exist".into());
    };
    if op.is_none() {
        let mut text = b"ERR Unknown PFDEBUG subcommand '".to_vec();
        text.extend(sub.iter().take_while(|&&b| b != 0).map(|&b| match b {
            b'\r' | b'\n' => b' ',
            b => b,
        }));
        text.push(b'\'');
        return Err(CommandError::Bytes(text));
    }
    let mut reply = ctx.reply();
    match found {
        PfDebugReply::Registers(regs) => {
            reply.array(regs.len());
            for r in regs {
                reply.int(i64::from(r));
            }
        }
        PfDebugReply::Decoded(Some(text)) => reply.bulk(text.as_bytes()),
        PfDebugReply::Decoded(None) => return Err("ERR HLL encoding is not sparse".into()),
        PfDebugReply::Encoding(name) => reply.simple(name.as_bytes()),
        PfDebugReply::Converted(converted) => reply.bool_int(converted),
    }
    Ok(())
}

/// PFSELFTEST
fn pfselftest(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    match redistill_store::hyperloglog_self_test() {
        Ok(()) => {
            ctx.reply().ok();
            Ok(())
        }
        Err(text) => Err(CommandError::Text(text.into())),
    }
}
