//! DEBUG: the subcommands test suites and tools use, with Redis 7.0's replies and errors.
//!
//! Who may run it is `enable-debug-command` (checked by the dispatcher through the row's
//! `PROTECTED` flag). DEBUG SLEEP and DEBUG RELOAD stop the whole server, as they stop
//! Redis's one thread: they hold every worker's gate for writing (as EXEC does), so no
//! other command runs meanwhile; test suites rely on that to make a server busy. The other
//! subcommands hold their worker's gate for reading, like any command.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redistill_resp::Version;
use redistill_resp::encode;
use redistill_store::{ObjectLayout, SnapshotValue};

use super::args::is;
use super::table::flags;
use super::{Command, CommandError, CommandResult, Ctx};
use crate::digest;
use crate::persistence::{SaveError, SaveTarget};

pub(super) static COMMANDS: &[Command] = &[Command::new("debug", -2, debug).flags(flags!(
    ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED | OWN_GATES
))];

/// Redis's DEBUG HELP text, line for line.
const HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
    "HELP",
    "    Prints this help.",
];

/// The refusal for a client `enable-debug-command` does not allow.
pub(super) const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the \
    enable-debug-command option is set to \"local\", you can run it from a local \
    connection, otherwise you need to set this option in the configuration file, and then \
    restart the server.";

/// Whether this client may run DEBUG under `enable-debug-command`: Redis's local clients
/// are those of a unix socket or of 127.0.0.1 and ::1 exactly.
pub(super) fn allowed(ctx: &Ctx<'_>) -> bool {
    let ip = ctx.client.info.addr.ip().to_canonical();
    let local = match ip {
        std::net::IpAddr::V4(v4) => v4 == std::net::Ipv4Addr::LOCALHOST,
        std::net::IpAddr::V6(v6) => v6 == std::net::Ipv6Addr::LOCALHOST,
    };
    ctx.shared
        .config
        .read()
        .server
        .enable_debug_command
        .allows(local)
}

fn debug(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let sub = args[1];
    let n = args.len();
    // Inside EXEC every gate is held already.
    let shared = ctx.shared;
    let in_exec = ctx.client.tx.in_exec;
    let whole_server = !in_exec && (is(sub, "SLEEP") || is(sub, "RELOAD"));
    let _exclusive = whole_server.then(|| shared.every_gate());
    let _gate = (!in_exec && !whole_server).then(|| shared.gates[ctx.worker].read());
    match () {
        () if is(sub, "HELP") && n == 2 => ctx.reply().help(HELP),
        () if is(sub, "OBJECT") && n == 3 => return object(ctx, args[2]),
        () if is(sub, "SLEEP") && n == 3 => sleep(ctx, args[2]),
        () if is(sub, "RELOAD") => return reload(ctx, &args[2..]),
        () if is(sub, "DIGEST") && n == 2 => {
            let d = digest::dataset_digest(&ctx.shared.store)?;
            ctx.reply().simple(digest::hex(&d).as_bytes());
        }
        () if is(sub, "DIGEST-VALUE") => return digest_values(ctx, &args[2..]),
        () if is(sub, "PROTOCOL") && n == 3 => return protocol(ctx, args[2]),
        () if is(sub, "SET-ACTIVE-EXPIRE") && n == 3 => {
            let on = atoi(args[2]) != 0;
            ctx.shared.active_expire.store(on, Ordering::Relaxed);
            ctx.reply().ok();
        }
        () if is(sub, "CHANGE-REPL-ID") && n == 2 => ctx.reply().ok(),
        () if is(sub, "LISTPACK") && n == 3 => return layout_report(ctx, args[2], "listpack"),
        () if is(sub, "QUICKLIST") && (n == 3 || n == 4) => {
            return layout_report(ctx, args[2], "quicklist");
        }
        () if is(sub, "QUICKLIST-PACKED-THRESHOLD") && n == 3 => {
            packed_threshold(args[2])?;
            ctx.reply().ok();
        }
        () => return Err(unknown_subcommand(sub)),
    }
    Ok(())
}

/// Redis's answer to a subcommand it does not know, or one with the wrong argument count.
fn unknown_subcommand(sub: &[u8]) -> CommandError {
    let mut text = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    let sub = sub.split(|&b| b == 0).next().unwrap_or(sub);
    text.extend(
        sub[..sub.len().min(128)]
            .iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    text.extend_from_slice(b"'. Try DEBUG HELP.");
    CommandError::Bytes(text)
}

/// C's `atoi`: optional spaces and sign, then digits, up to the first other byte; 0 when
/// there are none.
fn atoi(s: &[u8]) -> i64 {
    let s = s.trim_ascii_start();
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, &b| {
            n.saturating_mul(10).saturating_add(i64::from(b - b'0'))
        });
    if negative { -n } else { n }
}

/// C's `strtod` on an argument: the longest leading part that is a number, 0 when none is.
fn strtod(s: &[u8]) -> f64 {
    let s = s.trim_ascii_start();
    let s = &s[..s.len().min(64)];
    (1..=s.len())
        .rev()
        .find_map(|end| {
            std::str::from_utf8(&s[..end])
                .ok()
                .filter(|t| !t.ends_with(['e', 'E', '+', '-']))
                .and_then(|t| t.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

/// DEBUG SLEEP seconds: fractions allowed; anything that is not a number sleeps 0 seconds,
/// as Redis's `strtod` reads it.
fn sleep(ctx: &mut Ctx<'_>, seconds: &[u8]) {
    let micros = strtod(seconds) * 1e6;
    if micros >= 1.0 {
        // The float-to-int cast saturates; NaN, below 1 µs, sleeps not at all.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        std::thread::sleep(Duration::from_micros(micros as u64));
    }
    ctx.reply().ok();
}

/// DEBUG LISTPACK key and DEBUG QUICKLIST key [full]: Redis prints the structure on its
/// standard output; here the layout goes to the log, and the reply is Redis's.
fn layout_report(ctx: &mut Ctx<'_>, key: &[u8], encoding: &'static str) -> CommandResult {
    let Some(layout) = ctx.shared.store.object_layout(ctx.client.db, key)? else {
        return Err("ERR no such key".into());
    };
    if layout.encoding != encoding {
        return Err(if encoding == "listpack" {
            "ERR Not a listpack encoded object.".into()
        } else {
            "ERR Not a quicklist encoded object.".into()
        });
    }
    log::info!(
        "DEBUG {} {}: {layout:?}",
        encoding.to_ascii_uppercase(),
        String::from_utf8_lossy(key)
    );
    let text = if encoding == "listpack" {
        "Listpack structure printed on stdout"
    } else {
        "Quicklist structure printed on stdout"
    };
    ctx.reply().simple(text.as_bytes());
    Ok(())
}

/// DEBUG QUICKLIST-PACKED-THRESHOLD size: checked as Redis checks it. Lists here have no
/// plain nodes for large elements, so there is nothing to change.
fn packed_threshold(size: &[u8]) -> Result<(), CommandError> {
    let bytes = std::str::from_utf8(size)
        .ok()
        .and_then(crate::config::parse_memory_size);
    match bytes {
        Some(n) if n <= (1u64 << 32) - (1 << 20) => Ok(()),
        _ => Err("ERR argument must be a memory value bigger than 1 and smaller than 4gb".into()),
    }
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves the snapshot (unless NOSAVE), empties
/// the keyspace and the function libraries (unless NOFLUSH) and loads the file back. A key
/// or library of the file replaces one of the same name, with or without MERGE (Redis would
/// stop on such a key without it).
fn reload(ctx: &mut Ctx<'_>, options: &[&[u8]]) -> CommandResult {
    let (mut save, mut flush) = (true, true);
    for opt in options {
        if is(opt, "NOSAVE") {
            save = false;
        } else if is(opt, "NOFLUSH") {
            flush = false;
        } else if !is(opt, "MERGE") {
            return Err(
                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.".into(),
            );
        }
    }
    let shared = ctx.shared;
    let target = SaveTarget::from_config(&shared.config.read().persistence);
    if save {
        match shared.persistence.save(&shared.store, &target) {
            Ok(_) => {}
            Err(SaveError::InProgress) => {
                return Err("ERR Background save already in progress".into());
            }
            Err(SaveError::Failed(e)) => {
                log::warn!("DEBUG RELOAD could not save: {e}");
                return Err("ERR".into());
            }
        }
    }
    if let Err(e) =
        shared
            .persistence
            .reload(&shared.store, &target.path, flush, &|libraries, all| {
                super::restore_libraries(shared, libraries, all)
            })
    {
        log::warn!("DEBUG RELOAD could not load: {e}");
        return Err("ERR Error trying to load the RDB dump, check server logs.".into());
    }
    log::warn!("DB reloaded by DEBUG RELOAD");
    ctx.reply().ok();
    Ok(())
}

/// DEBUG DIGEST-VALUE key...: one status line of 40 hex digits per key, zeros for a
/// missing key.
fn digest_values(ctx: &mut Ctx<'_>, keys: &[&[u8]]) -> CommandResult {
    let mut digests = Vec::with_capacity(keys.len());
    for key in keys {
        let entry = ctx.shared.store.snapshot_key(ctx.client.db, key)?;
        digests.push(digest::hex(&digest::value_digest(entry.as_ref())));
    }
    let mut reply = ctx.reply();
    reply.array(digests.len());
    for d in &digests {
        reply.simple(d.as_bytes());
    }
    Ok(())
}

/// DEBUG OBJECT key: Redis's status line. The address is a stand-in (stable per key), the
/// serialized length an estimate of the key's size in a Redis RDB file.
fn object(ctx: &mut Ctx<'_>, key: &[u8]) -> CommandResult {
    let store = &ctx.shared.store;
    let db = ctx.client.db;
    let (Some(layout), Some(entry)) = (store.object_layout(db, key)?, store.snapshot_key(db, key)?)
    else {
        return Err("ERR no such key".into());
    };
    let refcount = refcount(ctx, &entry.value);
    let line = object_line(
        key,
        &layout,
        refcount,
        serialized_length(&entry.value, &layout),
    );
    ctx.reply().simple(line.as_bytes());
    Ok(())
}

/// Redis's refcount of a value: small integers (0 to 9999) are shared objects, with the
/// count that never drops, unless an LRU or LFU policy with a memory limit needs each key's
/// own object.
pub(super) fn refcount(ctx: &Ctx<'_>, value: &SnapshotValue) -> i64 {
    const SHARED_REFCOUNT: i64 = i32::MAX as i64;
    let store = &ctx.shared.store;
    let per_key_objects = store.max_memory() > 0
        && matches!(
            store.eviction_policy(),
            redistill_store::Policy::AllKeysLru
                | redistill_store::Policy::VolatileLru
                | redistill_store::Policy::AllKeysLfu
                | redistill_store::Policy::VolatileLfu
        );
    match value {
        SnapshotValue::Integer(n) if (0..10_000).contains(n) && !per_key_objects => SHARED_REFCOUNT,
        _ => 1,
    }
}

/// The DEBUG OBJECT line, as Redis formats it.
fn object_line(key: &[u8], layout: &ObjectLayout, refcount: i64, serialized: usize) -> String {
    let idle_secs = layout.idle_ms / 1000;
    let now_secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Redis's LRU clock: seconds, 24 bits.
    let lru = now_secs.wrapping_sub(idle_secs) & ((1 << 24) - 1);
    let address = 0x7f00_0000_0000_u64 | (ahash_of(key) & 0xff_ffff_fff0);
    let mut line = format!(
        "Value at:0x{address:x} refcount:{refcount} encoding:{} serializedlength:{serialized} \
         lru:{lru} lru_seconds_idle:{idle_secs}",
        layout.encoding
    );
    if let Some(list) = layout.list {
        #[allow(clippy::cast_precision_loss)]
        let avg = if list.nodes == 0 {
            0.0
        } else {
            list.len as f64 / list.nodes as f64
        };
        let _ = write!(
            line,
            " ql_nodes:{} ql_avg_node:{avg:.2} ql_listpack_max:{} ql_compressed:{} \
             ql_uncompressed_size:{}",
            list.nodes,
            list.fill,
            u8::from(list.compress_depth != 0),
            list.bytes
        );
    }
    line
}

/// A stable stand-in for a value's address.
fn ahash_of(key: &[u8]) -> u64 {
    ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one(key)
}

/// Bytes of RDB's length prefix for `n`.
fn rdb_len(n: usize) -> usize {
    match n {
        0..64 => 1,
        64..16_384 => 2,
        _ if u32::try_from(n).is_ok() => 5,
        _ => 9,
    }
}

/// Bytes of a string in RDB: small integers in their integer forms, others prefixed by
/// their length (compression left out).
fn rdb_string(s: &[u8]) -> usize {
    match redistill_resp::parse_integer(s) {
        Some(n) if i8::try_from(n).is_ok() => 2,
        Some(n) if i16::try_from(n).is_ok() => 3,
        Some(n) if i32::try_from(n).is_ok() => 5,
        _ => rdb_len(s.len()) + s.len(),
    }
}

/// Bytes of a listpack holding `items`: header, entries (encoding, data, back-length), end.
fn listpack_bytes<'a>(items: impl Iterator<Item = &'a [u8]>) -> usize {
    7 + items.map(|i| i.len() + 1 + rdb_len(i.len())).sum::<usize>()
}

/// An estimate of the value's size in an RDB file, as DEBUG OBJECT's `serializedlength`.
fn serialized_length(value: &SnapshotValue, layout: &ObjectLayout) -> usize {
    let packed = matches!(layout.encoding, "listpack" | "intset");
    let as_blob = |bytes: usize| rdb_len(bytes) + bytes;
    match value {
        SnapshotValue::String(s) => rdb_string(s),
        SnapshotValue::Integer(n) => rdb_string(n.to_string().as_bytes()),
        SnapshotValue::List(elements) => {
            let nodes = layout.list.map_or(1, |l| l.nodes.max(1));
            rdb_len(nodes)
                + nodes
                + as_blob(listpack_bytes(elements.iter().map(|e| &e[..])))
                + (nodes - 1) * 8
        }
        SnapshotValue::Set(members) if packed => {
            as_blob(listpack_bytes(members.iter().map(|m| &m[..])))
        }
        SnapshotValue::Set(members) => {
            rdb_len(members.len()) + members.iter().map(|m| rdb_string(m)).sum::<usize>()
        }
        SnapshotValue::Hash(pairs) if packed => as_blob(listpack_bytes(
            pairs.iter().flat_map(|(f, v)| [&f[..], &v[..]]),
        )),
        SnapshotValue::Hash(pairs) => {
            rdb_len(pairs.len())
                + pairs
                    .iter()
                    .map(|(f, v)| rdb_string(f) + rdb_string(v))
                    .sum::<usize>()
        }
        SnapshotValue::ZSet(items) if packed => {
            let scores: Vec<String> = items
                .iter()
                .map(|(_, s)| redistill_resp::double_text(*s))
                .collect();
            as_blob(listpack_bytes(
                items
                    .iter()
                    .zip(&scores)
                    .flat_map(|((m, _), s)| [&m[..], s.as_bytes()]),
            ))
        }
        SnapshotValue::ZSet(items) => {
            rdb_len(items.len()) + items.iter().map(|(m, _)| rdb_string(m) + 8).sum::<usize>()
        }
        _ => 0,
    }
}

/// DEBUG PROTOCOL double's value: Redis's sample digits, not an approximation of π.
#[allow(clippy::approx_constant)]
const SAMPLE_DOUBLE: f64 = 3.141;

/// DEBUG PROTOCOL type: a sample reply of each RESP type, as Redis sends it in this
/// client's protocol.
fn protocol(ctx: &mut Ctx<'_>, name: &[u8]) -> CommandResult {
    let version = ctx.client.version;
    let resp3 = version == Version::Resp3;
    let out = &mut *ctx.out;
    match () {
        () if is(name, "string") => encode::write_bulk(out, b"Hello World"),
        () if is(name, "integer") => encode::write_integer(out, 12345),
        () if is(name, "double") => encode::write_double(out, version, SAMPLE_DOUBLE),
        () if is(name, "bignum") => {
            let digits = b"1234567999999999999999999999999999999";
            if resp3 {
                out.push(b'(');
                out.extend_from_slice(digits);
                out.extend_from_slice(b"\r\n");
            } else {
                encode::write_bulk(out, digits);
            }
        }
        () if is(name, "null") => encode::write_null(out, version),
        () if is(name, "array") | is(name, "set") => {
            if is(name, "set") {
                encode::write_set_header(out, version, 3);
            } else {
                encode::write_array_header(out, 3);
            }
            for i in 0..3 {
                encode::write_integer(out, i);
            }
        }
        () if is(name, "map") => {
            encode::write_map_header(out, version, 3);
            for i in 0..3 {
                encode::write_integer(out, i);
                encode::write_bool(out, version, i == 1);
            }
        }
        () if is(name, "attrib") => {
            if resp3 {
                out.extend_from_slice(b"|1\r\n");
                encode::write_bulk(out, b"key-popularity");
                encode::write_array_header(out, 2);
                encode::write_bulk(out, b"key:123");
                encode::write_integer(out, 90);
            }
            encode::write_bulk(out, b"Some real reply following the attribute");
        }
        () if is(name, "push") => {
            if !resp3 {
                return Err("ERR RESP2 is not supported by this command".into());
            }
            encode::write_push_header(out, version, 2);
            encode::write_bulk(out, b"server-cpu-usage");
            encode::write_integer(out, 42);
            encode::write_bulk(out, b"Some real reply following the push reply");
        }
        () if is(name, "verbatim") => {
            encode::write_verbatim(out, version, *b"txt", b"This is a verbatim\nstring");
        }
        () if is(name, "true") => encode::write_bool(out, version, true),
        () if is(name, "false") => encode::write_bool(out, version, false),
        () => {
            return Err(
                "ERR Wrong protocol type name. Please use one of the following: \
                        string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|\
                        true|false"
                    .into(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_as_c_reads_them() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b" -12abc"), -12);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b"99999999999999999999999"), i64::MAX);
        assert!((strtod(b"0.25") - 0.25).abs() < f64::EPSILON);
        assert!((strtod(b"1.5e1x") - 15.0).abs() < f64::EPSILON);
        assert!((strtod(b"2e") - 2.0).abs() < f64::EPSILON);
        assert!(strtod(b"abc").abs() < f64::EPSILON);
        assert!(strtod(b"").abs() < f64::EPSILON);
    }

    #[test]
    fn packed_threshold_takes_redis_sizes() {
        assert!(packed_threshold(b"0").is_ok());
        assert!(packed_threshold(b"1k").is_ok());
        assert!(packed_threshold(b"5gb").is_err());
        assert!(packed_threshold(b"abc").is_err());
    }

    #[test]
    fn unknown_subcommands_name_the_subcommand_as_sent() {
        let CommandError::Bytes(text) = unknown_subcommand(b"Foo") else {
            panic!("bytes");
        };
        assert_eq!(
            text,
            b"ERR unknown subcommand or wrong number of arguments for 'Foo'. Try DEBUG HELP."
        );
    }
}
