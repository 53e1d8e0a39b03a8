//! Decodes arbitrary bytes into a program: requests for a [`Harness`](super::Harness)'s
//! clients, and steps of time. The same decoding serves a fuzzer's inputs and a seeded
//! random test's, so that what one finds the other can replay.
//!
//! Each step starts with one byte: a few values move the clock or run an expiry cycle;
//! the rest pick a client and a command, from a short list of the commands that interact
//! most (transactions, protocol, types, TTLs) or from the whole table. The command's
//! arity sets how many arguments follow (now and then one more or one fewer), and each
//! argument is drawn from a pool: a small key set (one key long enough for a multi-byte
//! length header), hash fields, values around the encoding limits, integers at the
//! edges of `i64` and of the string size limit, floats with `inf` and `nan`, option
//! keywords, glob patterns, configuration parameters and values, and raw bytes. Input
//! that runs out reads as zeros; the program ends with the input.

use std::sync::LazyLock;

/// Clients a program addresses.
pub const CLIENTS: usize = 2;

/// One step of a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `client` sends the request `args`.
    Run {
        /// Index of the client.
        client: usize,
        /// The request, command name first.
        args: Vec<Vec<u8>>,
    },
    /// The clock moves forward this many milliseconds.
    Advance(u64),
    /// One active expiry cycle runs.
    ExpireCycle,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Run { client, args } => {
                write!(f, "client {client}:")?;
                for arg in args {
                    write!(f, " \"{}\"", arg.escape_ascii())?;
                }
                Ok(())
            }
            Step::Advance(ms) => write!(f, "clock +{ms} ms"),
            Step::ExpireCycle => f.write_str("active expiry cycle"),
        }
    }
}

/// Decodes a whole program.
///
/// # Examples
///
/// ```
/// use redistill_server::testing::program::{Step, decode};
///
/// let steps = decode(&[0, 9]);
/// assert_eq!(steps[0], Step::Advance(1));
/// assert_eq!(steps[1], Step::ExpireCycle);
/// ```
pub fn decode(data: &[u8]) -> Vec<Step> {
    let mut src = Source(data);
    let mut steps = Vec::new();
    while !src.0.is_empty() {
        let step = next_step(&mut src);
        if !avoided(&step) {
            steps.push(step);
        }
    }
    steps
}

/// Clock steps, in milliseconds: past PX 1, a second, a TTL in seconds, a day.
const ADVANCES: [u64; 8] = [1, 5, 100, 1_000, 10_000, 100_000, 3_600_000, 86_400_000];

/// The commands whose interplay matters most, drawn more often than the rest.
const FOCUS: &[&str] = &[
    "multi",
    "exec",
    "discard",
    "watch",
    "unwatch",
    "hello",
    "select",
    "swapdb",
    "flushdb",
    "client reply",
    "config set",
    "set",
    "get",
    "getex",
    "del",
    "incr",
    "append",
    "setrange",
    "hset",
    "hdel",
    "lpush",
    "rpop",
    "lmove",
    "sadd",
    "spop",
    "smove",
    "sunionstore",
    "expire",
    "pexpire",
    "rename",
    "copy",
    "move",
];

static COMMANDS: LazyLock<Vec<(String, i32)>> = LazyLock::new(super::commands);

fn next_step(src: &mut Source<'_>) -> Step {
    let op = src.byte();
    match op {
        0..8 => return Step::Advance(ADVANCES[usize::from(op)]),
        8..12 => return Step::ExpireCycle,
        _ => {}
    }
    let client = usize::from(op) % CLIENTS;
    let (name, arity) = if op < 64 {
        let name = FOCUS[src.below(FOCUS.len())];
        let arity = COMMANDS
            .iter()
            .find(|(n, _)| n == name)
            .map_or(-1, |(_, a)| *a);
        (name, arity)
    } else {
        let (name, arity) = &COMMANDS[src.below(COMMANDS.len())];
        (name.as_str(), *arity)
    };
    let mut args: Vec<Vec<u8>> = name.split(' ').map(|w| w.as_bytes().to_vec()).collect();
    let words = args.len();
    let wanted = usize::try_from(arity.unsigned_abs()).unwrap_or(1);
    let mut count = wanted.saturating_sub(words);
    let shape = src.byte();
    if arity < 0 {
        let extra = usize::from(shape % 4);
        count += if PAIRED.contains(&name) {
            extra & !1
        } else {
            extra
        };
    }
    match shape {
        0..16 => count = count.saturating_sub(1),
        16..32 => count += 1,
        _ => {}
    }
    for _ in 0..count {
        let arg = argument(src, &args);
        args.push(arg);
    }
    Step::Run { client, args }
}

/// Commands whose optional arguments come in pairs.
const PAIRED: &[&str] = &["config set", "mset", "msetnx", "hset", "hmset"];

/// Requests left out of programs: `rdb-key-save-delay` makes every later save sleep per
/// key (up to half an hour each), which tests nothing and stalls the run.
fn avoided(step: &Step) -> bool {
    let Step::Run { args, .. } = step else {
        return false;
    };
    args.iter()
        .any(|a| a.eq_ignore_ascii_case(b"rdb-key-save-delay"))
}

const KEYS: &[&[u8]] = &[
    b"k0",
    b"k1",
    b"k2",
    b"k3",
    b"k4",
    b"h0",
    b"",
    // Over 127 bytes: a two-byte length in the entry header.
    b"long-key-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

const FIELDS: &[&[u8]] = &[
    b"f0",
    b"f1",
    b"f2",
    b"f3",
    // Over the listpack value limit (64 bytes).
    b"field-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

const INTS: &[&[u8]] = &[
    b"0",
    b"1",
    b"-1",
    b"2",
    b"3",
    b"10",
    b"100",
    b"-100",
    b"4096",
    b"4097",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"9223372036854775806",
    b"-9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775809",
    b"18446744073709551615",
    b"2147483647",
    b"-2147483648",
    b"4294967296",
    // Just past the string size limit (512 MiB).
    b"536870912",
    b"00",
    b"+1",
    b" 1",
    b"1.0",
    b"",
];

const FLOATS: &[&[u8]] = &[
    b"0.5",
    b"-0.5",
    b"1.5",
    b"3.0e2",
    b"inf",
    b"-inf",
    b"+inf",
    b"nan",
    b"-nan",
    b"1e308",
    b"-1e308",
    b"1e309",
    b"5e-324",
    b"1.7976931348623157e308",
    b"-0",
    b"1e",
    b"0x1p3",
    b" 1.5",
];

const KEYWORDS: &[&[u8]] = &[
    b"NX",
    b"XX",
    b"GT",
    b"LT",
    b"EX",
    b"PX",
    b"EXAT",
    b"PXAT",
    b"KEEPTTL",
    b"PERSIST",
    b"GET",
    b"WITHVALUES",
    b"LEFT",
    b"RIGHT",
    b"BEFORE",
    b"AFTER",
    b"RANK",
    b"MAXLEN",
    b"COUNT",
    b"MATCH",
    b"TYPE",
    b"REPLACE",
    b"DB",
    b"ASYNC",
    b"SYNC",
    b"SCHEDULE",
    b"SAVE",
    b"NOSAVE",
    b"NOW",
    b"FORCE",
    b"ABORT",
    b"ON",
    b"OFF",
    b"SKIP",
    b"YES",
    b"NO",
    b"ID",
    b"ADDR",
    b"LADDR",
    b"USER",
    b"SKIPME",
    b"MAXAGE",
    b"WRITE",
    b"ALL",
    b"SAMPLES",
    b"VERSION",
    b"AUTH",
    b"SETNAME",
    b"LIB-NAME",
    b"LIB-VER",
    b"HELP",
    b"string",
    b"hash",
    b"list",
    b"NORMAL",
    b"FILTERBY",
    b"ACLCAT",
    b"PATTERN",
    b"default",
    b"secret",
];

const VALUES: &[&[u8]] = &[
    b"",
    b"v",
    b"hello",
    b"12",
    b"-3",
    b"3.5",
    b"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
];

const PATTERNS: &[&[u8]] = &[
    b"*", b"k*", b"k?", b"[k]0", b"[^k]*", b"*0", b"\\k0", b"[", b"h*", b"**", b"[a-",
];

const CONFIG: &[&[u8]] = &[
    b"maxmemory",
    b"maxmemory-policy",
    b"maxmemory-samples",
    b"lfu-log-factor",
    b"lfu-decay-time",
    b"active-expire-effort",
    b"list-max-listpack-size",
    b"list-compress-depth",
    b"hz",
    b"slowlog-log-slower-than",
    b"slowlog-max-len",
    b"requirepass",
    b"client-output-buffer-limit",
    b"proto-max-bulk-len",
    b"appendonly",
    b"*",
    b"max*",
    b"noeviction",
    b"allkeys-lru",
    b"allkeys-lfu",
    b"allkeys-random",
    b"allkeys-s3fifo",
    b"volatile-lru",
    b"volatile-lfu",
    b"volatile-random",
    b"volatile-ttl",
    b"1kb",
    b"16kb",
    b"1mb",
    b"normal 0 0 0",
];

/// Parameters CONFIG SET is given, each with the values tried for it.
const PARAMETERS: &[(&[u8], &[&[u8]])] = &[
    (
        b"maxmemory",
        &[b"0", b"1", b"1kb", b"4kb", b"16kb", b"1mb", b"-1", b"1gb"],
    ),
    (
        b"maxmemory-policy",
        &[
            b"noeviction",
            b"allkeys-lru",
            b"allkeys-lfu",
            b"allkeys-random",
            b"allkeys-s3fifo",
            b"volatile-lru",
            b"volatile-lfu",
            b"volatile-random",
            b"volatile-ttl",
            b"lru",
        ],
    ),
    (b"maxmemory-samples", &[b"1", b"5", b"64", b"0"]),
    (b"lfu-log-factor", &[b"0", b"10", b"255"]),
    (b"lfu-decay-time", &[b"0", b"1", b"60"]),
    (b"active-expire-effort", &[b"1", b"10", b"11"]),
    (
        b"list-max-listpack-size",
        &[b"-2", b"-5", b"-6", b"1", b"3"],
    ),
    (b"list-compress-depth", &[b"0", b"1", b"2"]),
    (b"slowlog-log-slower-than", &[b"0", b"-1", b"10000"]),
    (b"slowlog-max-len", &[b"0", b"1", b"128"]),
    (b"requirepass", &[b"", b"secret"]),
    (b"hz", &[b"1", b"100", b"500"]),
];

/// Integers for the argument after an option that takes a number: counts, databases,
/// TTLs in seconds and milliseconds, and absolute times around the harness's clock.
const SMALL_INTS: &[&[u8]] = &[
    b"0",
    b"1",
    b"2",
    b"3",
    b"10",
    b"100",
    b"1000",
    b"-1",
    b"1700000001",
    b"1700000000100",
    b"1699999999",
];

/// Options followed by a number.
const NUMERIC_OPTIONS: &[&[u8]] = &[
    b"EX", b"PX", b"EXAT", b"PXAT", b"COUNT", b"DB", b"SAMPLES", b"MAXAGE", b"ID", b"VERSION",
    b"RANK", b"MAXLEN",
];

/// Commands whose first argument is a key and second a time.
const TTL_COMMANDS: &[&[u8]] = &[
    b"expire",
    b"pexpire",
    b"expireat",
    b"pexpireat",
    b"setex",
    b"psetex",
];

/// The next argument of the request `args` (its name words included).
fn argument(src: &mut Source<'_>, args: &[Vec<u8>]) -> Vec<u8> {
    let pick = |src: &mut Source<'_>, pool: &[&[u8]]| pool[src.below(pool.len())].to_vec();
    let selector = src.byte();
    // Three times in four, an argument fits the ones before it.
    if selector >= 64
        && let Some(prev) = args.last()
    {
        let is = |name: &[u8]| prev.eq_ignore_ascii_case(name);
        if args.len() == 2 && TTL_COMMANDS.iter().any(|c| args[0].eq_ignore_ascii_case(c)) {
            return pick(src, SMALL_INTS);
        }
        if NUMERIC_OPTIONS.iter().any(|o| is(o)) {
            return pick(src, SMALL_INTS);
        }
        if is(b"reply") {
            return pick(src, &[b"ON", b"OFF", b"SKIP"]);
        }
        if is(b"hello") {
            return pick(src, &[b"2", b"3", b"4"]);
        }
        let name = |n: &[u8]| args[0].eq_ignore_ascii_case(n);
        // List ends, LINSERT's side, and the count of LMPOP's keys.
        if (name(b"lmove") && args.len() >= 3) || (name(b"lmpop") && args.len() == 3) {
            return pick(src, &[b"LEFT", b"RIGHT"]);
        }
        if name(b"linsert") && args.len() == 2 {
            return pick(src, &[b"BEFORE", b"AFTER"]);
        }
        if name(b"lmpop") && args.len() == 1 {
            return pick(src, &[b"1", b"2", b"3", b"0"]);
        }
        if name(b"select") || name(b"swapdb") || (name(b"move") && args.len() == 2) {
            return pick(src, &[b"0", b"1", b"2", b"3", b"4", b"-1"]);
        }
        let config = |sub: &[u8]| {
            args.len() >= 2
                && args[0].eq_ignore_ascii_case(b"config")
                && args[1].eq_ignore_ascii_case(sub)
        };
        // CONFIG SET's parameter-value pairs, CONFIG GET's parameters.
        if config(b"set") && args.len() % 2 == 1 {
            if let Some((_, values)) = PARAMETERS.iter().find(|(p, _)| is(p)) {
                return pick(src, values);
            }
        } else if config(b"set") || config(b"get") {
            return PARAMETERS[src.below(PARAMETERS.len())].0.to_vec();
        }
    }
    match selector % 16 {
        0..5 => pick(src, KEYS),
        5..7 => pick(src, KEYWORDS),
        7..9 => pick(src, INTS),
        9 => pick(src, FLOATS),
        10 => pick(src, FIELDS),
        11 => {
            let n = src.byte();
            if n < 16 {
                // Over the inline string limit (4 KiB).
                vec![b'y'; 5000]
            } else {
                pick(src, VALUES)
            }
        }
        12 => pick(src, PATTERNS),
        13 => pick(src, CONFIG),
        14 => {
            let len = src.below(12);
            (0..len).map(|_| src.byte()).collect()
        }
        _ => (src.byte() as i8 % 8).to_string().into_bytes(),
    }
}

/// The input being decoded.
struct Source<'a>(&'a [u8]);

impl Source<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    /// A number below `n` (at least 1): one byte, or two where 256 are too few.
    fn below(&mut self, n: usize) -> usize {
        let raw = if n <= 256 {
            usize::from(self.byte())
        } else {
            usize::from(u16::from_le_bytes([self.byte(), self.byte()]))
        };
        raw % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_focus_command_is_in_the_table() {
        for name in FOCUS {
            assert!(COMMANDS.iter().any(|(n, _)| n == name), "{name}");
        }
    }

    #[test]
    fn arity_sets_the_argument_count() {
        // 64 + 2k picks client 0; then the command index, then the shape byte (exact).
        let get = COMMANDS.iter().position(|(n, _)| n == "get").expect("get");
        let index = u16::try_from(get).expect("small").to_le_bytes();
        let mut input = vec![64];
        if COMMANDS.len() > 256 {
            input.extend_from_slice(&index);
        } else {
            input.push(index[0]);
        }
        input.extend_from_slice(&[200, 0, 0]);
        let steps = decode(&input);
        assert_eq!(
            steps,
            vec![Step::Run {
                client: 0,
                args: vec![b"get".to_vec(), b"k0".to_vec()]
            }]
        );
    }

    #[test]
    fn slow_saves_are_left_out() {
        let step = Step::Run {
            client: 0,
            args: vec![
                b"config".to_vec(),
                b"set".to_vec(),
                b"RDB-KEY-SAVE-DELAY".to_vec(),
                b"1".to_vec(),
            ],
        };
        assert!(avoided(&step));
    }
}
