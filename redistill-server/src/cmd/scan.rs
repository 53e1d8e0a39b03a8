//! SCAN and the cursor and option parsing it shares with HSCAN.

use redistill_store::{ScanOptions, ValueType};

use super::args::{NOT_INTEGER, SYNTAX, c_str, is, parse_i64};
use super::table::{acl, flags};
use super::{Command, CommandResult, Ctx};

pub(super) static COMMANDS: &[Command] = &[Command::new("scan", -2, scan)
    .flags(flags!(READONLY))
    .acl(acl!(KEYSPACE))
    .tips(&["nondeterministic_output", "request_policy:special"])];

/// A cursor as Redis's `parseScanCursorOrReply` reads it, through C's `strtoul`: no
/// leading space, an optional sign, decimal digits up to the first NUL; a negative cursor
/// wraps (`-1` is `2^64 - 1`), an empty one is 0, and one past 64 bits is refused.
pub(super) fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let text = c_str(arg);
    let Some(&first) = text.first() else {
        return Some(0);
    };
    if first.is_ascii_whitespace() || first == 0x0b {
        return None;
    }
    let (negative, digits) = match first {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })?;
    Some(if negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    })
}

/// MATCH, COUNT and (for SCAN) TYPE options.
pub(super) struct ScanArgs<'a> {
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
    pub value_type: Option<&'a [u8]>,
}

impl<'a> ScanArgs<'a> {
    pub fn parse(opts: &'a [&'a [u8]], allow_type: bool) -> Result<Self, &'static str> {
        let mut parsed = ScanArgs {
            pattern: None,
            count: 10,
            value_type: None,
        };
        let mut i = 0;
        while i < opts.len() {
            let Some(value) = opts.get(i + 1) else {
                return Err(SYNTAX);
            };
            if is(opts[i], "COUNT") {
                let count = parse_i64(value).ok_or(NOT_INTEGER)?;
                parsed.count = usize::try_from(count)
                    .ok()
                    .filter(|&c| c >= 1)
                    .ok_or(SYNTAX)?;
            } else if is(opts[i], "MATCH") {
                parsed.pattern = Some(value);
            } else if allow_type && is(opts[i], "TYPE") {
                parsed.value_type = Some(value);
            } else {
                return Err(SYNTAX);
            }
            i += 2;
        }
        Ok(parsed)
    }
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
fn scan(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let Some(cursor) = parse_cursor(args[1]) else {
        return Err("ERR invalid cursor".into());
    };
    let opts = ScanArgs::parse(&args[2..], true)?;
    // An unknown TYPE matches nothing, as in Redis 7.0: iterate, return no keys.
    let (value_type, nothing) = match opts.value_type {
        None => (None, false),
        Some(t) => match ValueType::from_name(t) {
            Some(t) => (Some(t), false),
            None => (None, true),
        },
    };
    let scan_opts = ScanOptions {
        pattern: opts.pattern,
        count: Some(opts.count),
        value_type,
    };
    match ctx.shared.store.scan(ctx.client.db, cursor, scan_opts) {
        Ok((next, keys)) => {
            let mut reply = ctx.reply();
            reply.array(2);
            reply.bulk(next.to_string().as_bytes());
            if nothing {
                reply.array(0);
            } else {
                reply.bulks(keys.iter().map(|k| k.as_ref()));
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
