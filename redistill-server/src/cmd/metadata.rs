//! Redis's own command documentation, the part of `COMMAND DOCS` the command table does
//! not hold: summary, since, group, complexity and arguments, which redis-cli turns into
//! hints as you type. Tests also check every row of the table against the recorded
//! `COMMAND INFO` entries.
//!
//! `data/commands.resp` holds redis-server's answers to `COMMAND INFO name` and
//! `COMMAND DOCS name` for every command in the table, recorded in RESP3 by
//! `REDIS_DIFF=record cargo test -p redistill-server --test command_docs`. Subcommands
//! this server does not implement are left out when serving. A command Redis 7.0 does not
//! know has no recording and is served with empty metadata.

use std::sync::LazyLock;

use bytes::Bytes;
use redistill_resp::{Frame, decode};

/// The recording, as redis-server answered: one map, name → `[info entry, docs map]`.
static RECORDED: &[u8] = include_bytes!("../../data/commands.resp");

/// One command's recorded metadata.
pub(crate) struct Recorded {
    /// The 10-element `COMMAND INFO` entry, which the table's rows are checked against.
    #[cfg(test)]
    pub info: Vec<Frame>,
    /// The `COMMAND DOCS` map.
    pub docs: Frame,
}

static TABLE: LazyLock<ahash::HashMap<Bytes, Recorded>> = LazyLock::new(|| parse(RECORDED));

/// The recording for `name` (lower case), if Redis knows the command.
pub(crate) fn recorded(name: &str) -> Option<&'static Recorded> {
    TABLE.get(name.as_bytes())
}

/// Decodes the recording; anything malformed is left out rather than served.
fn parse(data: &[u8]) -> ahash::HashMap<Bytes, Recorded> {
    let bytes = Bytes::copy_from_slice(data);
    let Ok(Some((Frame::Map(pairs), _))) = decode(&bytes) else {
        return ahash::HashMap::default();
    };
    pairs
        .into_iter()
        .filter_map(|(name, entry)| {
            let name = Bytes::copy_from_slice(name.as_bytes()?);
            let Frame::Array(mut parts) = entry else {
                return None;
            };
            let docs = parts.pop()?;
            let Frame::Array(info) = parts.pop()? else {
                return None;
            };
            (info.len() == 10).then_some((
                name,
                Recorded {
                    #[cfg(test)]
                    info,
                    docs,
                },
            ))
        })
        .collect()
}

/// The recorded docs of the subcommand `full_name` (`client|list`) of `container`.
pub(crate) fn recorded_subcommand_docs(container: &str, full_name: &str) -> Option<Frame> {
    let Frame::Map(fields) = &recorded(container)?.docs else {
        return None;
    };
    let (_, subcommands) = fields
        .iter()
        .find(|(k, _)| k.as_bytes() == Some(b"subcommands"))?;
    let Frame::Map(subcommands) = subcommands else {
        return None;
    };
    subcommands
        .iter()
        .find(|(k, _)| k.as_bytes() == Some(full_name.as_bytes()))
        .map(|(_, docs)| docs.clone())
}

/// `list` without the subcommand entries (`container|sub`) that `keep` refuses; works on
/// the array of `COMMAND INFO` entries and on the name → docs map of `COMMAND DOCS`.
pub(crate) fn filter_subcommands(list: &Frame, keep: impl Fn(&[u8]) -> bool) -> Frame {
    let sub_name = |full: &[u8]| {
        let at = full.iter().position(|&b| b == b'|').map_or(0, |i| i + 1);
        full[at..].to_vec()
    };
    match list {
        Frame::Array(entries) => Frame::Array(
            entries
                .iter()
                .filter(|e| match e {
                    Frame::Array(fields) => fields
                        .first()
                        .and_then(Frame::as_bytes)
                        .is_some_and(|n| keep(&sub_name(n))),
                    _ => false,
                })
                .cloned()
                .collect(),
        ),
        Frame::Map(pairs) => Frame::Map(
            pairs
                .iter()
                .filter(|(k, _)| k.as_bytes().is_some_and(|n| keep(&sub_name(n))))
                .cloned()
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A docs map with its `subcommands` entry filtered by `keep`.
pub(crate) fn docs_with_subcommands(docs: &Frame, keep: impl Fn(&[u8]) -> bool) -> Frame {
    match docs {
        Frame::Map(pairs) => Frame::Map(
            pairs
                .iter()
                .map(|(k, v)| {
                    if k.as_bytes() == Some(b"subcommands") {
                        (k.clone(), filter_subcommands(v, &keep))
                    } else {
                        (k.clone(), v.clone())
                    }
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recording_parses_and_describes_get() {
        let get = recorded("get").expect("GET is recorded");
        assert_eq!(get.info[0].as_bytes(), Some(&b"get"[..]));
        let Frame::Map(docs) = &get.docs else {
            panic!("docs are a map");
        };
        assert!(docs.iter().any(|(k, _)| k.as_bytes() == Some(b"arguments")));
    }

    #[test]
    fn subcommands_are_filtered_by_their_own_name() {
        let entry = |n: &str| Frame::Array(vec![Frame::bulk(n.to_string())]);
        let list = Frame::Array(vec![entry("client|id"), entry("client|pause")]);
        let kept = filter_subcommands(&list, |s| s == b"id");
        assert_eq!(kept, Frame::Array(vec![entry("client|id")]));
    }
}
