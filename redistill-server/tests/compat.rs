//! Differential compatibility tests: the scripts in `tests/compat/*.txt` run against
//! redistill, and every reply is compared with Redis's.
//!
//! Redis's replies are recorded next to each script (`*.expected`), so the comparison runs
//! anywhere. Set `REDIS_DIFF=live` to also run each script against a real
//! `redis-server` (from `PATH`, started on a free loopback port) and require both that
//! redistill matches it and that the recording is current; `REDIS_DIFF=record`
//! rewrites the recordings from the real server. `scripts/test.sh` runs the live mode.
//!
//! # Script format
//!
//! One command per line, split with redis-cli's quoting rules; `#` starts a comment line.
//! A line may begin with a rule for replies that legitimately differ:
//!
//! | rule | compares |
//! | --- | --- |
//! | (none) | the reply byte for byte |
//! | `?sorted` | array replies' elements as multisets, at every depth (KEYS, HKEYS, SCAN: order is unspecified) |
//! | `?pairs` | a map or flat field/value array as a set of pairs (HGETALL) |
//! | `?type` | only the reply's type (INFO text, CLIENT ID, TIME, RANDOMKEY) |
//! | `?noreply` | nothing: the command is sent without waiting for a reply (CLIENT REPLY OFF); a reply it should not have sent shows as the next line's |
//!
//! A line may also begin with `@2` (after any rule it comes first): it runs on a second
//! connection, opened with the first, so that a script can watch a key on one connection
//! and write it from the other. `!sleep <ms>` on its own line waits, for keys to expire.
//!
//! A line may end with `=> <reply>` (escaped as Rust byte strings print): the expected reply
//! is pinned instead of recorded. It is used where Redis 7.2, which current clients
//! target, answers differently from the Redis 7.0 that Debian ships; each such line has a
//! comment saying so.
//!
//! Each script starts from an empty keyspace on a fresh connection, in RESP2.

use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use redistill_resp::{Frame, Version, decode, split_args};

mod common;

use common::diff::{Conn, RealRedis};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Exact,
    Sorted,
    Pairs,
    Type,
    NoReply,
}

struct Line {
    number: usize,
    /// Milliseconds to wait instead of sending a command (`!sleep`).
    sleep: Option<u64>,
    /// Runs on the second connection (`@2`).
    second: bool,
    text: String,
    args: Vec<Vec<u8>>,
    rule: Rule,
    pinned: Option<Vec<u8>>,
}

fn parse_script(path: &Path) -> Vec<Line> {
    let text = fs::read_to_string(path).expect("script readable");
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(ms) = trimmed.strip_prefix("!sleep ") {
            lines.push(Line {
                number: i + 1,
                sleep: Some(ms.trim().parse().expect("!sleep <milliseconds>")),
                second: false,
                text: String::new(),
                args: Vec::new(),
                rule: Rule::Exact,
                pinned: None,
            });
            continue;
        }
        let (second, trimmed) = match trimmed.strip_prefix("@2 ") {
            Some(rest) => (true, rest.trim_start()),
            None => (false, trimmed),
        };
        let (command, pinned) = match trimmed.rsplit_once(" => ") {
            Some((c, reply)) => (c.trim(), Some(unescape(reply.trim()))),
            None => (trimmed, None),
        };
        let (rule, command) = match command.split_once(' ') {
            Some(("?sorted", rest)) => (Rule::Sorted, rest),
            Some(("?pairs", rest)) => (Rule::Pairs, rest),
            Some(("?type", rest)) => (Rule::Type, rest),
            Some(("?noreply", rest)) => (Rule::NoReply, rest),
            _ => (Rule::Exact, command),
        };
        let args = split_args(command.as_bytes())
            .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1));
        lines.push(Line {
            number: i + 1,
            sleep: None,
            second,
            text: command.to_owned(),
            args,
            rule,
            pinned,
        });
    }
    lines
}

/// `\r`, `\n`, `\t`, `\\`, `\"`, `\'` and `\xHH`, as `<[u8]>::escape_ascii` writes them.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let (byte, used) = match b[i + 1] {
                b'r' => (b'\r', 2),
                b'n' => (b'\n', 2),
                b't' => (b'\t', 2),
                b'x' => (
                    u8::from_str_radix(&s[i + 2..i + 4], 16).expect("hex escape"),
                    4,
                ),
                other => (other, 2),
            };
            out.push(byte);
            i += used;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn escape(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

fn frame_of(raw: &[u8]) -> Frame {
    decode(&Bytes::copy_from_slice(raw))
        .expect("valid")
        .expect("complete")
        .0
}

fn encoded(f: &Frame) -> Vec<u8> {
    f.to_vec(Version::Resp3)
}

/// Whether `ours` matches `theirs` under `rule`.
fn matches(rule: Rule, ours: &[u8], theirs: &[u8]) -> bool {
    match rule {
        Rule::Exact => ours == theirs,
        Rule::Type => ours.first() == theirs.first(),
        Rule::NoReply => true,
        Rule::Sorted => {
            ours.first() == theirs.first()
                && encoded(&sorted(frame_of(ours))) == encoded(&sorted(frame_of(theirs)))
        }
        Rule::Pairs => {
            let pairs = |raw: &[u8]| -> Option<Vec<Vec<u8>>> {
                let mut out: Vec<Vec<u8>> = match frame_of(raw) {
                    Frame::Array(v) => v
                        .chunks(2)
                        .map(|p| p.iter().flat_map(encoded).collect())
                        .collect(),
                    Frame::Map(v) => v
                        .iter()
                        .map(|(k, val)| [encoded(k), encoded(val)].concat())
                        .collect(),
                    _ => return None,
                };
                out.sort();
                Some(out)
            };
            ours.first() == theirs.first()
                && match (pairs(ours), pairs(theirs)) {
                    (Some(a), Some(b)) => a == b,
                    _ => ours == theirs,
                }
        }
    }
}

/// The frame with the elements of every array and set, at any depth, in sorted order.
fn sorted(frame: Frame) -> Frame {
    let sort = |items: Vec<Frame>| {
        let mut items: Vec<Frame> = items.into_iter().map(sorted).collect();
        items.sort_by_key(encoded);
        items
    };
    match frame {
        Frame::Array(items) => Frame::Array(sort(items)),
        Frame::Set(items) => Frame::Set(sort(items)),
        other => other,
    }
}

fn scripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat");
    let mut scripts: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/compat exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty());
    scripts
}

fn read_expected(path: &Path) -> Vec<Vec<u8>> {
    let text = fs::read_to_string(path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: record it with REDIS_DIFF=record",
            path.display()
        )
    });
    text.lines()
        .map(|l| unescape(l.rsplit_once(" => ").map_or(l, |(_, r)| r)))
        .collect()
}

#[test]
fn replies_match_redis() {
    let mode = std::env::var("REDIS_DIFF").unwrap_or_default();
    let real = matches!(mode.as_str(), "live" | "record").then(RealRedis::start);
    let server = common::TestServer::start();
    let mut failures = Vec::new();
    for script in scripts() {
        let lines = parse_script(&script);
        let expected_path = script.with_extension("expected");
        let two = lines.iter().any(|l| l.second);
        let open = |port: u16| {
            let first = Conn::open(port);
            (first, two.then(|| Conn::open(port)))
        };
        let mut ours = open(server.addr.port());
        let mut theirs = real.as_ref().map(|r| open(r.port));
        let mut recorded = Vec::new();
        let previous = (mode != "record").then(|| read_expected(&expected_path));
        let mut i = 0;
        for line in &lines {
            if let Some(ms) = line.sleep {
                std::thread::sleep(std::time::Duration::from_millis(ms));
                continue;
            }
            let pick = |conns: &mut (Conn, Option<Conn>)| -> Vec<u8> {
                let conn = match &mut conns.1 {
                    Some(second) if line.second => second,
                    _ => &mut conns.0,
                };
                if line.rule == Rule::NoReply {
                    conn.send(&line.args);
                    return Vec::new();
                }
                conn.request(&line.args)
            };
            let our_reply = pick(&mut ours);
            let live = theirs.as_mut().map(pick);
            let expected = match (&line.pinned, &live) {
                (Some(pinned), _) => pinned.clone(),
                (None, Some(live)) => live.clone(),
                (None, None) => previous
                    .as_ref()
                    .and_then(|p| p.get(i).cloned())
                    .unwrap_or_else(|| {
                        panic!("{} is stale: re-record it", expected_path.display())
                    }),
            };
            let place = format!("{}:{} `{}`", script.display(), line.number, line.text);
            if let (Some(previous), Some(live), None) = (&previous, &live, &line.pinned)
                && !previous.get(i).is_some_and(|p| matches(line.rule, p, live))
            {
                failures.push(format!("{place}: recording is stale, re-record it"));
            }
            if !matches(line.rule, &our_reply, &expected) {
                failures.push(format!(
                    "{place}\n    redis:     {}\n    redistill: {}",
                    escape(&expected),
                    escape(&our_reply)
                ));
            }
            let marker = if line.second { "@2 " } else { "" };
            recorded.push(format!("{marker}{} => {}", line.text, escape(&expected)));
            i += 1;
        }
        if mode == "record" {
            fs::write(&expected_path, recorded.join("\n") + "\n").expect("write recording");
        }
    }
    assert!(
        failures.is_empty(),
        "{} difference(s) from Redis:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
