//! DUMP and RESTORE: a key's value in Redis 7.0's serialization, and back.
//!
//! The payload format is `redistill_persist::rdb`'s; the store copies values out and puts
//! them back ([`redistill_store::Store::dump_value`], [`redistill_store::Store::restore_key`]).
//! This module converts between the two value models, picks the serialization layout from
//! the value's encoding, and applies RESTORE's arguments in Redis's order: options
//! (syntax, IDLETIME, FREQ), then BUSYKEY, then the TTL, then the payload's footer, then
//! its contents.

use redistill_persist::Value;
use redistill_persist::rdb::{DumpError, Layout, decode_dump, encode_dump_with};
use redistill_store::{RestoreOptions, Restored, SnapshotValue};

use super::args::{NOT_INTEGER, SYNTAX, is, parse_i64};
use super::table::{KeySpec, acl, flags, key_flags};
use super::{Command, CommandError, CommandResult, Ctx};

pub(super) static COMMANDS: &[Command] = &[
    Command::new("dump", 2, dump)
        .flags(flags!(READONLY))
        .acl(acl!(KEYSPACE))
        .tips(&["nondeterministic_output"])
        .keys(&[KeySpec::at(1, key_flags!(RO | ACCESS))]),
    Command::new("restore", -4, restore)
        .flags(flags!(WRITE | DENYOOM))
        .acl(acl!(KEYSPACE | DANGEROUS))
        .keys(&[KeySpec::at(1, key_flags!(OW | UPDATE))]),
];

const BUSY_KEY: &str = "BUSYKEY Target key name already exists.";
const BAD_TTL: &str = "ERR Invalid TTL value, must be >= 0";
const BAD_IDLETIME: &str = "ERR Invalid IDLETIME value, must be >= 0";
const BAD_FREQ: &str = "ERR Invalid FREQ value, must be >= 0 and <= 255";
const BAD_FOOTER: &str = "ERR DUMP payload version or checksum are wrong";
const BAD_DATA: &str = "ERR Bad data format";

/// The serialization layout matching a value's encoding as OBJECT ENCODING names it.
fn layout(encoding: &str) -> Layout {
    match encoding {
        "listpack" | "intset" => Layout::Packed,
        _ => Layout::Table,
    }
}

fn to_persist(value: SnapshotValue) -> Option<Value> {
    Some(match value {
        SnapshotValue::String(v) => Value::String(v),
        SnapshotValue::Integer(n) => Value::Integer(n),
        SnapshotValue::Hash(fields) => Value::Hash(fields),
        SnapshotValue::List(items) => Value::List(items),
        SnapshotValue::Set(members) => Value::Set(members),
        SnapshotValue::ZSet(items) => Value::ZSet(items),
        _ => return None,
    })
}

fn to_store(value: Value) -> Option<SnapshotValue> {
    Some(match value {
        Value::String(v) => SnapshotValue::String(v),
        Value::Integer(n) => SnapshotValue::Integer(n),
        Value::Hash(fields) => SnapshotValue::Hash(fields),
        Value::List(items) => SnapshotValue::List(items),
        Value::Set(members) => SnapshotValue::Set(members),
        Value::ZSet(items) => SnapshotValue::ZSet(items),
        _ => return None,
    })
}

/// DUMP key
fn dump(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let source = ctx.shared.store.dump_value(ctx.client.db, args[1])?;
    match source.and_then(|s| Some((to_persist(s.value)?, s.encoding))) {
        Some((value, encoding)) => {
            let compress = ctx.shared.config.read().persistence.rdb_compression;
            let payload = encode_dump_with(&value, layout(encoding), compress);
            ctx.reply().bulk(&payload);
        }
        None => ctx.reply().null(),
    }
    Ok(())
}

/// A non-negative integer argument, with `negative` as the error below zero.
fn non_negative_i64(arg: &[u8], negative: &'static str) -> Result<i64, CommandError> {
    match parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n),
        Some(_) => Err(negative.into()),
        None => Err(NOT_INTEGER.into()),
    }
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
fn restore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let mut options = RestoreOptions::default();
    let mut absttl = false;
    let mut i = 4;
    while i < args.len() {
        let more = i + 1 < args.len();
        if is(args[i], "REPLACE") {
            options.replace = true;
        } else if is(args[i], "ABSTTL") {
            absttl = true;
        } else if is(args[i], "IDLETIME") && more && options.freq.is_none() {
            i += 1;
            options.idle_secs = Some(non_negative_i64(args[i], BAD_IDLETIME)?.unsigned_abs());
        } else if is(args[i], "FREQ") && more && options.idle_secs.is_none() {
            i += 1;
            let freq = non_negative_i64(args[i], BAD_FREQ)?;
            options.freq = Some(u8::try_from(freq).map_err(|_| CommandError::from(BAD_FREQ))?);
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    let (db, key) = (ctx.client.db, args[1]);
    let store = &ctx.shared.store;
    if !options.replace && store.object_encoding(db, key)?.is_some() {
        return Err(BUSY_KEY.into());
    }
    let ttl = non_negative_i64(args[2], BAD_TTL)?.unsigned_abs();
    let value = match decode_dump(args[3]) {
        Ok(value) => to_store(value).ok_or(CommandError::from(BAD_DATA))?,
        Err(DumpError::VersionOrChecksum) => return Err(BAD_FOOTER.into()),
        Err(DumpError::BadData(_)) => return Err(BAD_DATA.into()),
    };
    let expire_at = match ttl {
        0 => None,
        t if absttl => Some(t),
        t => Some(store.now_ms().saturating_add(t)),
    };
    match store.restore_key(db, key, expire_at, value, options)? {
        Restored::BusyKey => Err(BUSY_KEY.into()),
        _ => {
            ctx.reply().ok();
            Ok(())
        }
    }
}
