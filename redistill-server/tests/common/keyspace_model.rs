//! The string keyspace as a sequential model, for checking histories of concurrent
//! commands: GET, SET, INCR, DEL, UNLINK, EXISTS, TOUCH, MGET, MSET, MSETNX, RENAME,
//! RENAMENX and COPY on a handful of keys, with how each is written and answered in RESP.
//!
//! Keys are small indices, named by the caller on the wire. Values are only strings (no
//! WRONGTYPE, no TTLs); a test writes each value once, so a read names the write it saw.

use std::fmt;

use redistill_resp::Frame;

use super::linearizability::Model;

/// A key, as an index into the keys a history uses.
pub type Key = usize;

/// A string value: an integer (INCR counts from it) or a word INCR refuses.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Value {
    Int(i64),
    /// Written as `w<n>`.
    Word(u32),
}

impl Value {
    fn to_wire(self) -> Vec<u8> {
        match self {
            Value::Int(n) => n.to_string().into_bytes(),
            Value::Word(n) => format!("w{n}").into_bytes(),
        }
    }

    fn from_wire(bytes: &[u8]) -> Option<Value> {
        let text = std::str::from_utf8(bytes).ok()?;
        match text.strip_prefix('w') {
            Some(n) => n.parse().ok().map(Value::Word),
            None => text.parse().ok().map(Value::Int),
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Word(n) => write!(f, "w{n}"),
        }
    }
}

/// One command of the model.
#[derive(Clone, PartialEq, Eq)]
pub enum Command {
    Get(Key),
    Set(Key, Value),
    Incr(Key),
    Del(Vec<Key>),
    Unlink(Vec<Key>),
    Exists(Vec<Key>),
    Touch(Vec<Key>),
    Mget(Vec<Key>),
    Mset(Vec<(Key, Value)>),
    Msetnx(Vec<(Key, Value)>),
    Rename(Key, Key),
    Renamenx(Key, Key),
    Copy { from: Key, to: Key, replace: bool },
}

impl Command {
    /// The command's words, each key named by `name`.
    pub fn words(&self, name: impl Fn(Key) -> String) -> Vec<Vec<u8>> {
        let key = |k: &Key| name(*k).into_bytes();
        let keys = |ks: &[Key]| ks.iter().map(key).collect::<Vec<_>>();
        let pairs = |ps: &[(Key, Value)]| {
            ps.iter()
                .flat_map(|(k, v)| [key(k), v.to_wire()])
                .collect::<Vec<_>>()
        };
        let (verb, args): (&str, Vec<Vec<u8>>) = match self {
            Command::Get(k) => ("GET", vec![key(k)]),
            Command::Set(k, v) => ("SET", vec![key(k), v.to_wire()]),
            Command::Incr(k) => ("INCR", vec![key(k)]),
            Command::Del(ks) => ("DEL", keys(ks)),
            Command::Unlink(ks) => ("UNLINK", keys(ks)),
            Command::Exists(ks) => ("EXISTS", keys(ks)),
            Command::Touch(ks) => ("TOUCH", keys(ks)),
            Command::Mget(ks) => ("MGET", keys(ks)),
            Command::Mset(ps) => ("MSET", pairs(ps)),
            Command::Msetnx(ps) => ("MSETNX", pairs(ps)),
            Command::Rename(a, b) => ("RENAME", vec![key(a), key(b)]),
            Command::Renamenx(a, b) => ("RENAMENX", vec![key(a), key(b)]),
            Command::Copy { from, to, replace } => {
                let mut args = vec![key(from), key(to)];
                if *replace {
                    args.push(b"REPLACE".to_vec());
                }
                ("COPY", args)
            }
        };
        std::iter::once(verb.as_bytes().to_vec())
            .chain(args)
            .collect()
    }
}

/// Shown as the command line, keys named `k0`, `k1`...
impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = self.words(|k| format!("k{k}"));
        let line: Vec<_> = words.iter().map(|w| String::from_utf8_lossy(w)).collect();
        f.write_str(&line.join(" "))
    }
}

/// A reply, reduced to what the model predicts.
#[derive(Clone, PartialEq, Eq)]
pub enum Reply {
    Ok,
    Integer(i64),
    /// A bulk string or nil.
    Value(Option<Value>),
    /// MGET's array.
    Values(Vec<Option<Value>>),
    Error(String),
    /// Anything else, such as a value never written: never what the model answers.
    Unexpected(String),
}

/// Redis's errors for the commands above.
const NO_SUCH_KEY: &str = "ERR no such key";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const OVERFLOW: &str = "ERR increment or decrement would overflow";

impl Reply {
    /// Reads a decoded RESP2 or RESP3 reply.
    pub fn from_frame(frame: &Frame) -> Reply {
        let value = |frame: &Frame| match frame {
            Frame::BulkString(bytes) => Value::from_wire(bytes).map(Some),
            other if other.is_null() => Some(None),
            _ => None,
        };
        let unexpected = || Reply::Unexpected(format!("{frame:?}"));
        match frame {
            Frame::SimpleString(s) if &s[..] == b"OK" => Reply::Ok,
            Frame::Integer(n) => Reply::Integer(*n),
            Frame::SimpleError(e) | Frame::BulkError(e) => {
                Reply::Error(String::from_utf8_lossy(e).into_owned())
            }
            Frame::Array(items) => items
                .iter()
                .map(value)
                .collect::<Option<Vec<_>>>()
                .map_or_else(unexpected, Reply::Values),
            single => value(single).map_or_else(unexpected, Reply::Value),
        }
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = |v: &Option<Value>| v.map_or_else(|| "nil".to_owned(), |v| format!("{v:?}"));
        match self {
            Reply::Ok => f.write_str("OK"),
            Reply::Integer(n) => write!(f, "{n}"),
            Reply::Value(v) => f.write_str(&value(v)),
            Reply::Values(vs) => {
                let vs: Vec<_> = vs.iter().map(value).collect();
                write!(f, "[{}]", vs.join(", "))
            }
            Reply::Error(e) => write!(f, "({e})"),
            Reply::Unexpected(what) => write!(f, "unexpected {what}"),
        }
    }
}

/// What each key holds, `None` for absent.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Keyspace(Vec<Option<Value>>);

impl fmt::Debug for Keyspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let held: Vec<_> = self
            .0
            .iter()
            .enumerate()
            .filter_map(|(k, v)| v.map(|v| format!("k{k}={v:?}")))
            .collect();
        write!(f, "{{{}}}", held.join(" "))
    }
}

/// The keyspace of `keys` keys, all absent at first.
pub struct KeyspaceModel {
    pub keys: usize,
}

impl Model for KeyspaceModel {
    type State = Keyspace;
    type Input = Command;
    type Output = Reply;

    fn init(&self) -> Keyspace {
        Keyspace(vec![None; self.keys])
    }

    fn step(&self, state: &Keyspace, command: &Command) -> (Keyspace, Reply) {
        let mut next = state.clone();
        let reply = apply(&mut next.0, command);
        (next, reply)
    }
}

/// Runs one command on `keys` as Redis would.
fn apply(keys: &mut [Option<Value>], command: &Command) -> Reply {
    let count = |n: usize| Reply::Integer(n as i64);
    match command {
        Command::Get(k) => Reply::Value(keys[*k]),
        Command::Set(k, v) => {
            keys[*k] = Some(*v);
            Reply::Ok
        }
        Command::Incr(k) => match keys[*k] {
            None => {
                keys[*k] = Some(Value::Int(1));
                Reply::Integer(1)
            }
            Some(Value::Int(n)) => match n.checked_add(1) {
                Some(n) => {
                    keys[*k] = Some(Value::Int(n));
                    Reply::Integer(n)
                }
                None => Reply::Error(OVERFLOW.to_owned()),
            },
            Some(Value::Word(_)) => Reply::Error(NOT_INTEGER.to_owned()),
        },
        Command::Del(ks) | Command::Unlink(ks) => {
            count(ks.iter().filter(|&&k| keys[k].take().is_some()).count())
        }
        Command::Exists(ks) | Command::Touch(ks) => {
            count(ks.iter().filter(|&&k| keys[k].is_some()).count())
        }
        Command::Mget(ks) => Reply::Values(ks.iter().map(|&k| keys[k]).collect()),
        Command::Mset(pairs) => {
            for &(k, v) in pairs {
                keys[k] = Some(v);
            }
            Reply::Ok
        }
        Command::Msetnx(pairs) => {
            if pairs.iter().any(|&(k, _)| keys[k].is_some()) {
                return Reply::Integer(0);
            }
            for &(k, v) in pairs {
                keys[k] = Some(v);
            }
            Reply::Integer(1)
        }
        Command::Rename(from, to) => match keys[*from].take() {
            None => Reply::Error(NO_SUCH_KEY.to_owned()),
            Some(v) => {
                keys[*to] = Some(v);
                Reply::Ok
            }
        },
        Command::Renamenx(from, to) => match (keys[*from], keys[*to]) {
            (None, _) => Reply::Error(NO_SUCH_KEY.to_owned()),
            (Some(_), Some(_)) => Reply::Integer(0),
            (Some(v), None) => {
                keys[*from] = None;
                keys[*to] = Some(v);
                Reply::Integer(1)
            }
        },
        Command::Copy { from, to, replace } => match (keys[*from], keys[*to]) {
            (None, _) => Reply::Integer(0),
            (Some(_), Some(_)) if !replace => Reply::Integer(0),
            (Some(v), _) => {
                keys[*to] = Some(v);
                Reply::Integer(1)
            }
        },
    }
}
