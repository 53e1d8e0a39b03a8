//! Differential tests of the script libraries (`cjson`, `cmsgpack`, `bit`, `struct`): the
//! chunks in `tests/script_libs/corpus.lua` run in redistill's Lua state and their first
//! result is compared with what Redis's EVAL answered.
//!
//! Redis's answers are recorded in `tests/script_libs/corpus.expected`, one line per chunk,
//! so the comparison runs anywhere. `REDIS_DIFF=live` also runs every chunk against a real
//! `redis-server` (from `PATH`) and requires the recording to be current;
//! `REDIS_DIFF=record` rewrites the recording from the real server.
//!
//! A recorded line is `$<bytes>` (a string, escaped as Rust byte strings print), `:<n>`
//! (a number), `nil`, or `-<message>`: an uncaught error's text after its position
//! (`user_script:1: `) and, for Redis, without its `script: <sha>, on @user_script:1.`
//! suffix. Errors a chunk catches with `pcall` are compared whole, position included.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use redistill_server::testing::script_libs::{LibState, Reply};

mod common;

use common::diff::{Conn, RealRedis};

/// Defined before every chunk, on the same line so that line numbers stay 1.
const HELPERS: &str = "local function hex(s) return (string.gsub(s, '.', function(c) \
    return string.format('%02x', string.byte(c)) end)) end \
    local function err(f, ...) local ok, e = pcall(f, ...) if ok then return 'no error' end \
    return e end \
    local function all(...) local t = {} for i = 1, select('#', ...) do \
    t[i] = tostring((select(i, ...))) end return table.concat(t, ' ') end ";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/script_libs")
}

fn chunks() -> Vec<String> {
    let text = fs::read_to_string(dir().join("corpus.lua")).expect("corpus readable");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .map(str::to_owned)
        .collect()
}

fn escape(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// A reply as one recorded line.
fn render(reply: &Reply) -> String {
    match reply {
        Reply::Bulk(b) => format!("${}", escape(b)),
        Reply::Integer(n) => format!(":{n}"),
        Reply::Nil => "nil".to_owned(),
        Reply::Other(what) => format!("?{what}"),
        Reply::Error(m) => {
            let m = m.strip_prefix("user_script:1: ").unwrap_or(m);
            format!("-{}", escape(m.as_bytes()))
        }
    }
}

/// Redis's raw RESP2 reply to EVAL as a recorded line.
fn render_redis(raw: &[u8]) -> String {
    let text_end = raw
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[1..text_end]).into_owned();
    match raw.first() {
        Some(b'$') if head == "-1" => "nil".to_owned(),
        Some(b'$') => {
            let len: usize = head.parse().expect("bulk length");
            let start = text_end + 2;
            format!("${}", escape(&raw[start..start + len]))
        }
        Some(b':') => format!(":{head}"),
        Some(b'-') => {
            let m = head.strip_prefix("ERR ").unwrap_or(&head);
            let m = m.strip_prefix("user_script:1: ").unwrap_or(m);
            let m = m.rfind(" script: ").map_or(m, |i| &m[..i]);
            format!("-{m}")
        }
        Some(b'*') => "?table".to_owned(),
        _ => format!("?{}", escape(raw)),
    }
}

fn redis_answers(chunks: &[String]) -> Vec<String> {
    let redis = RealRedis::start();
    let mut conn = Conn::open(redis.port);
    chunks
        .iter()
        .map(|chunk| {
            let script = format!("{HELPERS}{chunk}");
            let args = vec![b"EVAL".to_vec(), script.into_bytes(), b"0".to_vec()];
            render_redis(&conn.request(&args))
        })
        .collect()
}

#[test]
fn libraries_answer_as_redis() {
    let chunks = chunks();
    let expected_path = dir().join("corpus.expected");
    let mode = std::env::var("REDIS_DIFF").unwrap_or_default();
    if mode == "record" {
        let mut out = String::new();
        for line in redis_answers(&chunks) {
            writeln!(out, "{line}").expect("write to string");
        }
        fs::write(&expected_path, out).expect("recording written");
    }
    let recorded: Vec<String> = fs::read_to_string(&expected_path)
        .expect("corpus.expected is missing: record it with REDIS_DIFF=record")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        recorded.len(),
        chunks.len(),
        "corpus.expected is stale: record it with REDIS_DIFF=record"
    );
    if mode == "live" {
        let live = redis_answers(&chunks);
        for ((chunk, rec), now) in chunks.iter().zip(&recorded).zip(&live) {
            assert_eq!(rec, now, "recording differs from redis-server for: {chunk}");
        }
    }
    let state = LibState::new();
    let mut failures = Vec::new();
    for (chunk, want) in chunks.iter().zip(&recorded) {
        let got = render(&state.eval(&format!("{HELPERS}{chunk}")));
        if &got != want {
            failures.push(format!(
                "{chunk}\n    redis:     {want}\n    redistill: {got}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} chunks differ:\n{}",
        failures.len(),
        chunks.len(),
        failures.join("\n")
    );
}
