//! MONITOR: the command, and the line every command run sends each monitoring client.
//!
//! As in Redis 7.0, a command is shown once it has run (so SELECT shows the database it
//! selected, and a transaction's commands come before its EXEC), with the arguments as
//! sent, but AUTH's and HELLO AUTH's credentials replaced by `(redacted)`. What is refused
//! before it runs (unknown, wrong arity, NOAUTH, queued inside MULTI) is not shown, nor
//! are Redis's `admin` commands (CONFIG, CLIENT LIST, SLOWLOG, MONITOR itself...).

use std::io::Write as _;
use std::sync::{Arc, LazyLock};
use std::time::{SystemTime, UNIX_EPOCH};

use redistill_resp::Frame;

use super::{Command, Ctx};
use crate::client::Client;
use crate::shared::Shared;

pub(super) static COMMANDS: &[Command] = &[Command::new(
    "monitor",
    1,
    &["admin", "noscript", "loading", "stale"],
    (0, 0, 0),
    monitor,
)];

/// MONITOR: from now on, a line for every command any client runs. Asked again, it
/// answers nothing, as in Redis.
fn monitor(ctx: &mut Ctx<'_>, _args: &[&[u8]]) {
    if ctx.client.tx.in_exec {
        return ctx
            .reply()
            .error("ERR MONITOR isn't allowed for DENY BLOCKING client");
    }
    if ctx.client.monitor {
        return;
    }
    let outbox = Arc::clone(ctx.client.outbox());
    ctx.shared.monitors.add(outbox);
    ctx.client.set_monitor(true);
    ctx.reply().ok();
}

/// Ends MONITOR mode (RESET, or the client leaving); with `out`, the lines that reached the
/// client before are moved there first.
pub(super) fn stop(shared: &Shared, client: &mut Client, out: Option<&mut Vec<u8>>) {
    if !client.monitor {
        return;
    }
    client.set_monitor(false);
    if let Some(outbox) = &client.outbox {
        shared.monitors.remove(outbox);
        if let Some(out) = out {
            outbox.take_into(out);
        }
    }
}

/// What Redis knows of a command or subcommand that decides how MONITOR treats it.
#[derive(Debug, Clone, Copy, Default)]
struct Traits {
    /// `admin` or `skip_monitor`: never shown.
    hidden: bool,
    /// `readonly`, `write` or `may_replicate`: refused to a monitoring client.
    keyspace: bool,
    /// Redis's arity of a subcommand; a call with another count is refused before it runs.
    arity: Option<i32>,
}

/// [`Traits`] by commandstats slot (a command, or a container's subcommand), from Redis's
/// recorded metadata; a command Redis 7.0 does not know goes by the table's flags.
static TRAITS: LazyLock<Vec<Traits>> = LazyLock::new(|| {
    (0..super::count())
        .map(|slot| super::name_of(slot).map_or_else(Traits::default, traits_of))
        .collect()
});

fn traits_of(full: &str) -> Traits {
    let (name, sub) = match full.split_once('|') {
        Some((name, _)) => (name, true),
        None => (full, false),
    };
    let recorded = super::metadata::recorded(name).and_then(|r| {
        if !sub {
            return Some(r.info.clone());
        }
        let Some(Frame::Array(subs)) = r.info.get(9) else {
            return None;
        };
        subs.iter().find_map(|entry| match entry {
            Frame::Array(fields) if fields.first()?.as_bytes()? == full.as_bytes() => {
                Some(fields.clone())
            }
            _ => None,
        })
    });
    let Some(info) = recorded else {
        let flags = super::lookup(name.as_bytes()).map_or(&[][..], |c| c.flags);
        return Traits {
            hidden: flags.contains(&"admin"),
            keyspace: flags.contains(&"readonly") || flags.contains(&"write"),
            arity: None,
        };
    };
    let flags: Vec<&[u8]> = match info.get(2) {
        Some(Frame::Set(f) | Frame::Array(f)) => f.iter().filter_map(Frame::as_bytes).collect(),
        _ => Vec::new(),
    };
    let has = |flag: &str| flags.contains(&flag.as_bytes());
    Traits {
        hidden: has("admin") || has("skip_monitor"),
        keyspace: has("readonly") || has("write") || has("may_replicate"),
        arity: match info.get(1) {
            Some(Frame::Integer(n)) if sub => i32::try_from(*n).ok(),
            _ => None,
        },
    }
}

/// Redis's refusal of a command that touches the keyspace from a monitoring client (a
/// replica, to Redis). `slot` is the request's commandstats slot; true if refused.
pub(super) fn refuses(ctx: &mut Ctx<'_>, slot: Option<usize>, args: &[&[u8]]) -> bool {
    let Some(traits) = slot.and_then(|s| TRAITS.get(s)) else {
        return false;
    };
    let arity_ok = traits.arity.is_none_or(|a| super::arity_ok(a, args.len()));
    if !ctx.client.monitor || !traits.keyspace || !arity_ok {
        return false;
    }
    ctx.reply()
        .error("ERR Replica can't interact with the keyspace");
    ctx.client.tx.aborted = true;
    true
}

/// Sends every monitoring client the line for a command that has just run: `slot` is its
/// commandstats slot, `None` for an unknown subcommand (refused, so not shown).
pub(super) fn feed(ctx: &Ctx<'_>, slot: Option<usize>, args: &[&[u8]]) {
    let Some(traits) = slot.and_then(|s| TRAITS.get(s)) else {
        return;
    };
    if traits.hidden
        || traits
            .arity
            .is_some_and(|a| !super::arity_ok(a, args.len()))
    {
        return;
    }
    let line = line(ctx.client, args);
    let shared = ctx.shared;
    shared
        .monitors
        .for_each(|outbox| shared.push(outbox, &line));
}

/// Redis's MONITOR line: `+<unix time with microseconds> [<db> <address>] "arg" ...`.
fn line(client: &Client, args: &[&[u8]]) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut line = Vec::with_capacity(64 + args.iter().map(|a| a.len() + 3).sum::<usize>());
    let _ = write!(
        line,
        "+{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        client.db,
        client.info.addr
    );
    let redacted = redacted(args);
    for (i, arg) in args.iter().enumerate() {
        line.push(b' ');
        if redacted.contains(&i) {
            line.extend_from_slice(b"\"(redacted)\"");
        } else {
            repr(&mut line, arg);
        }
    }
    line.extend_from_slice(b"\r\n");
    line
}

/// The positions of the arguments Redis 7.0 redacts: AUTH's (in its valid forms), and
/// HELLO's AUTH username and password as far as HELLO parsed its options before an error.
fn redacted(args: &[&[u8]]) -> Vec<usize> {
    let is = |a: &[u8], name: &str| a.eq_ignore_ascii_case(name.as_bytes());
    match args {
        [name, ..] if is(name, "auth") && args.len() <= 3 => (1..args.len()).collect(),
        [name, proto, options @ ..] if is(name, "hello") => {
            if !matches!(super::args::parse_i64(proto), Some(2 | 3)) {
                return Vec::new();
            }
            let mut positions = Vec::new();
            let mut j = 0;
            while let Some(option) = options.get(j) {
                let more = options.len() - j - 1;
                if is(option, "auth") && more >= 2 {
                    positions.extend([j + 3, j + 4]);
                    j += 3;
                } else if is(option, "setname") && more >= 1 {
                    j += 2;
                } else {
                    break;
                }
            }
            positions
        }
        _ => Vec::new(),
    }
}

/// An argument quoted as Redis's `sdscatrepr` quotes it.
fn repr(out: &mut Vec<u8>, arg: &[u8]) {
    out.push(b'"');
    for &b in arg {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(arg: &[u8]) -> String {
        let mut out = Vec::new();
        repr(&mut out, arg);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn arguments_are_quoted_as_sdscatrepr_does() {
        assert_eq!(quoted(b""), r#""""#);
        assert_eq!(quoted(b"a b"), r#""a b""#);
        assert_eq!(
            quoted(b"a\"b\\c\n\r\t\x07\x08\x00\x7f\xc3\xa9~"),
            r#""a\"b\\c\n\r\t\a\b\x00\x7f\xc3\xa9~""#
        );
    }

    #[test]
    fn credentials_are_redacted_where_redis_redacts_them() {
        let r = |line: &str| redacted(&line.split(' ').map(str::as_bytes).collect::<Vec<_>>());
        assert_eq!(r("AUTH pw"), [1]);
        assert_eq!(r("auth user pw"), [1, 2]);
        assert!(r("auth a b c").is_empty());
        assert_eq!(r("hello 3 auth u p setname n"), [3, 4]);
        assert_eq!(r("hello 2 setname n AUTH u p"), [5, 6]);
        assert!(r("hello 4 auth u p").is_empty());
        assert!(r("hello x auth u p").is_empty());
        assert!(r("hello 3 foo auth u p").is_empty());
        assert!(r("hello 3 auth u").is_empty());
        assert!(r("hello").is_empty());
    }

    #[test]
    fn admin_commands_are_hidden_and_keyspace_ones_known() {
        let traits = |name: &str| {
            let slot = (0..super::super::count())
                .find(|&s| super::super::name_of(s) == Some(name))
                .expect(name);
            TRAITS[slot]
        };
        for hidden in [
            "monitor",
            "config|get",
            "client|list",
            "slowlog|get",
            "save",
        ] {
            assert!(traits(hidden).hidden, "{hidden}");
        }
        for shown in ["get", "client|id", "client|setname", "info", "exec", "auth"] {
            assert!(!traits(shown).hidden, "{shown}");
        }
        for keyspace in [
            "get",
            "set",
            "dbsize",
            "keys",
            "object|encoding",
            "memory|usage",
        ] {
            assert!(traits(keyspace).keyspace, "{keyspace}");
        }
        for other in [
            "ping",
            "echo",
            "client|id",
            "info",
            "multi",
            "exec",
            "select",
        ] {
            assert!(!traits(other).keyspace, "{other}");
        }
        assert_eq!(traits("client|setname").arity, Some(3));
    }
}
