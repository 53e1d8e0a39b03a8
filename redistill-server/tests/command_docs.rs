//! `COMMAND INFO` and `COMMAND DOCS` against Redis's own metadata.
//!
//! The server answers `COMMAND INFO` from its table's rows and `COMMAND DOCS` from the
//! documentation redis-server reports, recorded in `data/commands.resp` with its
//! `COMMAND INFO` entries. `REDIS_DIFF=record` re-records that file from a real
//! redis-server (for every command in the table that Redis knows); `REDIS_DIFF=live` checks
//! the recording is current. Every mode checks that what the server answers (name, arity,
//! flags, key positions, ACL categories, tips, key specifications, docs) equals the
//! recording.

mod common;

use bytes::Bytes;
use common::diff::{Conn, RealRedis};
use redistill_resp::{Frame, Version, decode};

const RECORDING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/commands.resp");

fn args(line: &str) -> Vec<Vec<u8>> {
    line.split(' ').map(|a| a.as_bytes().to_vec()).collect()
}

fn request(conn: &mut Conn, line: &str) -> Frame {
    frame(&conn.request(&args(line)))
}

fn frame(raw: &[u8]) -> Frame {
    let bytes = Bytes::copy_from_slice(raw);
    decode(&bytes).expect("valid RESP").expect("whole reply").0
}

fn resp3(port: u16) -> Conn {
    let mut conn = Conn::open(port);
    conn.request(&args("HELLO 3"));
    conn
}

fn text(f: &Frame) -> String {
    String::from_utf8_lossy(f.as_bytes().expect("a string")).into_owned()
}

/// Subcommands newer than Redis 7.0 that clients send (Redis 7.2's): served with the
/// metadata Redis 7.2 gives them, absent from 7.0's recording and docs.
const NEWER_THAN_7_0: &[&str] = &["client|no-touch", "client|setinfo"];

/// Commands whose arity is Redis 7.2's, which clients rely on (ZRANK's WITHSCORE):
/// name and arity.
const ARITY_AS_7_2: &[(&str, i64)] = &[("zrank", -3), ("zrevrank", -3)];

/// The top-level command names in our table, sorted (the recording holds subcommands
/// inside their containers' entries).
fn our_commands(conn: &mut Conn) -> Vec<String> {
    let Frame::Array(names) = request(conn, "COMMAND LIST") else {
        panic!("COMMAND LIST is an array");
    };
    let mut names: Vec<String> = names
        .iter()
        .map(text)
        .filter(|n| !n.contains('|'))
        .collect();
    names.sort();
    names
}

fn recording() -> Vec<(Frame, Frame)> {
    let data = std::fs::read(RECORDING).expect("the recording exists");
    match frame(&data) {
        Frame::Map(pairs) => pairs,
        other => panic!("the recording is a map, not {other:?}"),
    }
}

fn entry_parts(entry: &Frame) -> (Vec<Frame>, Frame) {
    let Frame::Array(parts) = entry else {
        panic!("a recorded entry is [info, docs]");
    };
    let Frame::Array(info) = &parts[0] else {
        panic!("info is an array");
    };
    (info.clone(), parts[1].clone())
}

/// The names in a subcommand list (`COMMAND INFO` entries or a docs map).
fn subcommand_names(list: &Frame) -> Vec<String> {
    match list {
        Frame::Array(entries) | Frame::Set(entries) => entries
            .iter()
            .map(|e| match e {
                Frame::Array(fields) => text(&fields[0]),
                other => panic!("a subcommand entry is an array, not {other:?}"),
            })
            .collect(),
        Frame::Map(pairs) => pairs.iter().map(|(k, _)| text(k)).collect(),
        other => panic!("subcommands are a list, not {other:?}"),
    }
}

fn without_subcommands(docs: &Frame) -> Frame {
    match docs {
        Frame::Map(pairs) => Frame::Map(
            pairs
                .iter()
                .filter(|(k, _)| k.as_bytes() != Some(b"subcommands"))
                .cloned()
                .collect(),
        ),
        other => other.clone(),
    }
}

fn subcommands_of(docs: &Frame) -> Frame {
    match docs {
        Frame::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| k.as_bytes() == Some(b"subcommands"))
            .map_or(Frame::Map(Vec::new()), |(_, v)| v.clone()),
        _ => Frame::Map(Vec::new()),
    }
}

/// An info entry or docs map with its subcommands sorted by name: Redis lists them in
/// hash table order, which changes from one run to the next.
fn sorted_subcommands(f: Frame) -> Frame {
    let by_name = |list: Frame| match list {
        Frame::Array(mut entries) => {
            entries.sort_by_key(|e| match e {
                Frame::Array(fields) => text(&fields[0]),
                _ => String::new(),
            });
            Frame::Array(entries)
        }
        Frame::Map(mut pairs) => {
            pairs.sort_by_key(|(k, _)| text(k));
            Frame::Map(pairs)
        }
        other => other,
    };
    match f {
        Frame::Array(mut info) if info.len() == 10 => {
            let subs = std::mem::replace(&mut info[9], Frame::Null);
            info[9] = by_name(subs);
            Frame::Array(info)
        }
        Frame::Map(pairs) => Frame::Map(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    if k.as_bytes() == Some(b"subcommands") {
                        (k, by_name(v))
                    } else {
                        (k, v)
                    }
                })
                .collect(),
        ),
        other => other,
    }
}

#[test]
fn the_recording_is_current() {
    let mode = std::env::var("REDIS_DIFF").unwrap_or_default();
    if !matches!(mode.as_str(), "live" | "record") {
        eprintln!("SKIPPED: comparing with redis-server needs REDIS_DIFF=live");
        return;
    }
    let redis = RealRedis::start();
    let server = common::TestServer::start();
    let names = our_commands(&mut resp3(server.addr.port()));
    let mut theirs = resp3(redis.port);
    let mut pairs = Vec::new();
    for name in names {
        let Frame::Array(mut info) = request(&mut theirs, &format!("COMMAND INFO {name}")) else {
            panic!("COMMAND INFO is an array");
        };
        let info = info.remove(0);
        if info.is_null() {
            // Newer than this redis-server: served with empty metadata.
            continue;
        }
        let Frame::Map(mut docs) = request(&mut theirs, &format!("COMMAND DOCS {name}")) else {
            panic!("COMMAND DOCS is a map");
        };
        let docs = docs.remove(0).1;
        pairs.push((
            Frame::bulk(name),
            Frame::Array(vec![sorted_subcommands(info), sorted_subcommands(docs)]),
        ));
    }
    let fresh = Frame::Map(pairs).to_vec(Version::Resp3);
    if mode == "record" {
        std::fs::write(RECORDING, &fresh).expect("write the recording");
    }
    let recorded = std::fs::read(RECORDING).expect("the recording exists");
    assert!(
        recorded == fresh,
        "{RECORDING} is stale: re-record it with REDIS_DIFF=record"
    );
}

#[test]
fn command_info_and_docs_answer_as_redis_does() {
    let server = common::TestServer::start();
    let mut ours = resp3(server.addr.port());
    let recorded = recording();
    assert!(recorded.len() > 75, "the recording covers the table");
    let names = our_commands(&mut ours);
    let mut mismatches = Vec::new();
    for (name, entry) in &recorded {
        let name = text(name);
        assert!(names.contains(&name), "{name} is recorded but not served");
        let (info, docs) = entry_parts(entry);
        let Frame::Array(mut our_info) = request(&mut ours, &format!("COMMAND INFO {name}")) else {
            panic!("COMMAND INFO is an array");
        };
        let Frame::Array(our_info) = our_info.remove(0) else {
            panic!("{name}: an entry");
        };
        for (i, field) in ["name", "arity", "flags", "first key", "last key", "step"]
            .iter()
            .chain(&["acl categories", "tips", "key specs"])
            .enumerate()
        {
            if let (1, Some((_, arity))) = (i, ARITY_AS_7_2.iter().find(|(n, _)| *n == name)) {
                assert_eq!(our_info[i], Frame::Integer(*arity), "{name} arity");
                continue;
            }
            if our_info[i] != info[i] {
                mismatches.push(format!(
                    "{name} {field}: redis {:?}, redistill {:?}",
                    info[i], our_info[i]
                ));
            }
        }
        // Subcommands: ours are the ones implemented, each as Redis describes it.
        let recorded_subs = subcommand_names(&info[9]);
        let our_subs: Vec<String> = subcommand_names(&our_info[9])
            .into_iter()
            .filter(|sub| !NEWER_THAN_7_0.contains(&sub.as_str()))
            .collect();
        for sub in &our_subs {
            assert!(recorded_subs.contains(sub), "{sub} is served but unknown");
        }

        let Frame::Map(mut our_docs) = request(&mut ours, &format!("COMMAND DOCS {name}")) else {
            panic!("COMMAND DOCS is a map");
        };
        let our_docs = our_docs.remove(0).1;
        assert_eq!(without_subcommands(&our_docs), without_subcommands(&docs));
        assert_eq!(
            subcommand_names(&subcommands_of(&our_docs)),
            our_subs,
            "{name}: docs and info list the same subcommands"
        );
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn container_commands_list_only_the_subcommands_served() {
    let server = common::TestServer::start();
    let mut ours = resp3(server.addr.port());
    let Frame::Map(mut docs) = request(&mut ours, "COMMAND DOCS client") else {
        panic!("COMMAND DOCS is a map");
    };
    let subs = subcommand_names(&subcommands_of(&docs.remove(0).1));
    assert!(subs.contains(&"client|setname".to_string()), "{subs:?}");
    assert!(subs.contains(&"client|tracking".to_string()), "{subs:?}");
    // Every listed subcommand runs: none answers "unknown subcommand".
    for sub in subs {
        let sub = sub.trim_start_matches("client|");
        let reply = request(&mut ours, &format!("CLIENT {sub}"));
        if let Frame::SimpleError(e) = &reply {
            let e = String::from_utf8_lossy(e);
            assert!(!e.contains("unknown subcommand"), "CLIENT {sub}: {e}");
        }
    }
}
