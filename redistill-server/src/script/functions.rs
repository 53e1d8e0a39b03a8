//! Function libraries (`#!lua name=...` code registering functions with
//! `redis.register_function`), as FUNCTION LOAD keeps them.
//!
//! A library's code runs once, at load, with a `redis` object that only registers
//! functions and logs; its functions then run with the full `redis` object, in the same
//! sandbox as scripts.

use std::cell::RefCell;
use std::collections::BTreeMap;

use mlua::{Function, Lua, Table, Value, Variadic};

use super::api::CallFailure;
use super::cache::ScriptFlags;
use super::engine::{Engine, Inputs};

/// A registered function.
#[derive(Clone)]
pub(crate) struct LibFunction {
    pub function: Function,
    pub description: Option<Vec<u8>>,
    pub flags: ScriptFlags,
}

/// A loaded library: its code and its functions.
#[derive(Clone)]
pub(crate) struct Library {
    pub code: bytes::Bytes,
    pub functions: BTreeMap<String, LibFunction>,
}

/// Every library, by name, and which library each function belongs to.
#[derive(Default, Clone)]
pub(crate) struct Libraries {
    pub libraries: BTreeMap<String, Library>,
    /// Function name to library name.
    pub owners: BTreeMap<String, String>,
}

/// What a library's shebang declares: its name, and the code to compile (the shebang
/// commented out, keeping line numbers).
fn metadata(code: &[u8]) -> Result<(String, Vec<u8>), String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let line_end = code.iter().position(|&b| b == b'\n').unwrap_or(code.len());
    let mut parts = code[2..line_end]
        .split(|&b| b == b' ')
        .filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or_default();
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(format!(
            "ERR Engine '{}' not found",
            String::from_utf8_lossy(engine)
        ));
    }
    let mut name = None;
    for part in parts {
        match part.strip_prefix(b"name=") {
            Some(n) => name = Some(String::from_utf8_lossy(n).into_owned()),
            None => {
                return Err(format!(
                    "ERR Invalid metadata value given: {}",
                    String::from_utf8_lossy(part)
                ));
            }
        }
    }
    let name = name.ok_or("ERR Library name was not given")?;
    if !valid_name(&name) {
        return Err(INVALID_NAME.into());
    }
    let mut body = b"--".to_vec();
    body.extend_from_slice(&code[2..]);
    Ok((name, body))
}

const INVALID_NAME: &str = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Raised from `register_function`: the handler turns it into `{err=...}`.
fn register_error(text: &str) -> mlua::Error {
    mlua::Error::external(CallFailure(format!("ERR {text}")))
}

/// The functions a library registers while it loads.
type Registered = RefCell<BTreeMap<String, LibFunction>>;

fn register(lua: &Lua, registered: &Registered, args: &Variadic<Value>) -> mlua::Result<()> {
    let (name, callback, flags, description) = match args.as_slice() {
        [Value::Table(t)] => from_table(lua, t)?,
        [name, callback] => {
            let Value::String(name) = name else {
                return Err(register_error(
                    "first argument to redis.register_function must be a string",
                ));
            };
            let Value::Function(callback) = callback else {
                return Err(register_error(
                    "second argument to redis.register_function must be a function",
                ));
            };
            (
                name.to_string_lossy(),
                callback.clone(),
                ScriptFlags {
                    declared: true,
                    ..ScriptFlags::default()
                },
                None,
            )
        }
        _ => {
            return Err(register_error(
                "wrong number of arguments to redis.register_function",
            ));
        }
    };
    if !valid_name(&name) {
        return Err(register_error(&INVALID_NAME[4..]));
    }
    let mut registered = registered.borrow_mut();
    if registered.contains_key(&name) {
        return Err(register_error("Function already exists in the library"));
    }
    registered.insert(
        name,
        LibFunction {
            function: callback,
            description,
            flags,
        },
    );
    Ok(())
}

type Registration = (String, Function, ScriptFlags, Option<Vec<u8>>);

fn from_table(_lua: &Lua, t: &Table) -> mlua::Result<Registration> {
    let mut name = None;
    let mut callback = None;
    let mut flags = ScriptFlags {
        declared: true,
        ..ScriptFlags::default()
    };
    let mut description = None;
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair?;
        let key = match &k {
            Value::String(s) => s.to_string_lossy(),
            _ => String::new(),
        };
        match (key.as_str(), v) {
            ("function_name", Value::String(s)) => name = Some(s.to_string_lossy()),
            ("function_name", _) => {
                return Err(register_error(
                    "function_name argument given to redis.register_function must be a string",
                ));
            }
            ("callback", Value::Function(f)) => callback = Some(f),
            ("callback", _) => {
                return Err(register_error(
                    "callback argument given to redis.register_function must be a function",
                ));
            }
            ("description", Value::String(s)) => description = Some(s.as_bytes().to_vec()),
            ("description", _) => {
                return Err(register_error(
                    "description argument given to redis.register_function must be a string",
                ));
            }
            ("flags", Value::Table(list)) => {
                for flag in list.sequence_values::<Value>() {
                    let Value::String(flag) = flag? else {
                        return Err(register_error("unknown flag given"));
                    };
                    flags
                        .set(&flag.as_bytes())
                        .map_err(|_| register_error("unknown flag given"))?;
                }
            }
            ("flags", _) => {
                return Err(register_error(
                    "flags argument to redis.register_function must be a table representing function flags",
                ));
            }
            _ => {
                return Err(register_error(
                    "unknown argument given to redis.register_function",
                ));
            }
        }
    }
    let name = name.ok_or_else(|| {
        register_error("redis.register_function must get a function name argument")
    })?;
    let callback = callback
        .ok_or_else(|| register_error("redis.register_function must get a callback argument"))?;
    Ok((name, callback, flags, description))
}

/// The `redis` object a library's code sees while it loads.
const LOAD_REDIS: &str = r#"
local register, real, protect = ...
local t = {register_function = register}
for _, k in ipairs({'log', 'LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE', 'LOG_WARNING',
    'REDIS_VERSION', 'REDIS_VERSION_NUM', 'setresp', 'sha1hex', 'error_reply', 'status_reply'}) do
  t[k] = real[k]
end
setmetatable(t, {__index = function(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end})
return protect(t)
"#;

/// Runs a library's code: its name and the functions it registered, or the error text.
pub(crate) fn load(engine: &Engine, code: &[u8]) -> Result<(String, Library), String> {
    let (name, body) = metadata(code)?;
    let chunk = engine
        .compile(&body, "@user_function")
        .map_err(|message| format!("ERR Error compiling function: {message}"))?;
    let lua = &engine.lua;
    let registered: Registered = RefCell::new(BTreeMap::new());
    let outcome = lua.scope(|scope| {
        let register_fn = scope
            .create_function(|lua, args: Variadic<Value>| register(lua, &registered, &args))?;
        let real_redis: Value = engine.globals.raw_get("redis")?;
        let load_redis: Table = lua
            .load(LOAD_REDIS)
            .set_name(super::engine::INTERNAL_SOURCE)
            .call((register_fn, engine.redis.clone(), engine.protect_fn()))?;
        engine.globals.raw_set("redis", load_redis)?;
        let result = engine.run(&chunk, Inputs::Nothing);
        engine.globals.raw_set("redis", real_redis)?;
        result
    });
    match outcome {
        Ok((true, _)) => {}
        Ok((false, Value::Table(t))) => {
            let err: String = t.raw_get("err").unwrap_or_default();
            return Err(format!("ERR Error registering functions: {err}"));
        }
        Ok((false, _)) => return Err("ERR Error registering functions".into()),
        Err(e) => {
            return Err(format!(
                "ERR Error registering functions: {}",
                super::engine::runtime_message(&e)
            ));
        }
    }
    let functions = registered.into_inner();
    if functions.is_empty() {
        return Err("ERR No functions registered".into());
    }
    Ok((
        name,
        Library {
            code: bytes::Bytes::copy_from_slice(code),
            functions,
        },
    ))
}

/// The library name a code's shebang declares, checked as FUNCTION LOAD checks it.
pub(crate) fn library_name(code: &[u8]) -> Result<String, String> {
    metadata(code).map(|(name, _)| name)
}

impl Libraries {
    /// Adds a loaded library; with `replace`, one of the same name goes. The error text
    /// when a name is taken.
    pub fn add(&mut self, name: String, library: Library, replace: bool) -> Result<(), String> {
        if self.libraries.contains_key(&name) && !replace {
            return Err(format!("ERR Library '{name}' already exists"));
        }
        for function in library.functions.keys() {
            if let Some(owner) = self.owners.get(function)
                && *owner != name
            {
                return Err(format!("ERR Function {function} already exists"));
            }
        }
        self.remove(&name);
        for function in library.functions.keys() {
            self.owners.insert(function.clone(), name.clone());
        }
        self.libraries.insert(name, library);
        Ok(())
    }

    /// Drops a library; whether it existed.
    pub fn remove(&mut self, name: &str) -> bool {
        let Some(library) = self.libraries.remove(name) else {
            return false;
        };
        for function in library.functions.keys() {
            self.owners.remove(function);
        }
        true
    }

    /// A function by name.
    pub fn function(&self, name: &str) -> Option<&LibFunction> {
        let library = self.owners.get(name)?;
        self.libraries.get(library)?.functions.get(name)
    }

    pub fn clear(&mut self) {
        self.libraries.clear();
        self.owners.clear();
    }

    /// How many functions there are.
    pub fn function_count(&self) -> usize {
        self.owners.len()
    }

    /// Each library's name and source code, as snapshots keep them.
    pub fn sources(&self) -> Vec<(String, bytes::Bytes)> {
        self.libraries
            .iter()
            .map(|(name, library)| (name.clone(), library.code.clone()))
            .collect()
    }

    /// Bytes the libraries' code takes (`used_memory_functions`).
    pub fn code_bytes(&self) -> usize {
        self.libraries.values().map(|l| l.code.len() + 200).sum()
    }
}

/// RDB's opcode before each library in a FUNCTION DUMP payload.
const FUNCTION_OPCODE: u8 = 0xF5;

/// FUNCTION DUMP's payload: each library's code as RDB writes it after its opcode, then
/// Redis's RDB version and CRC-64 footer, so that Redis restores it too.
pub(crate) fn dump(libraries: &Libraries) -> Vec<u8> {
    use redistill_persist::rdb::{Layout, encode_dump_with};
    let mut out = Vec::new();
    for library in libraries.libraries.values() {
        let value = redistill_persist::Value::String(bytes::Bytes::copy_from_slice(&library.code));
        // `[type][string][version][crc]`: the string is what follows the opcode.
        let single = encode_dump_with(&value, Layout::Packed, true);
        out.push(FUNCTION_OPCODE);
        out.extend_from_slice(&single[1..single.len() - 10]);
    }
    out.extend_from_slice(&10u16.to_le_bytes());
    let crc = redistill_persist::rdb::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";

/// The library codes in a FUNCTION DUMP payload, or the error to reply.
pub(crate) fn undump(payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let body = redistill_persist::rdb::verify_dump(payload).map_err(|_| BAD_PAYLOAD.to_string())?;
    let mut codes = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        if body[pos] != FUNCTION_OPCODE {
            return Err("ERR given type is not a function".into());
        }
        pos += 1;
        let len = encoded_string_len(&body[pos..]).ok_or(BAD_PAYLOAD)?;
        let mut single = vec![0u8];
        single.extend_from_slice(&body[pos..pos + len]);
        pos += len;
        match redistill_persist::rdb::decode_value(&single) {
            Ok(redistill_persist::Value::String(code)) => codes.push(code.to_vec()),
            Ok(redistill_persist::Value::Integer(n)) => codes.push(n.to_string().into_bytes()),
            _ => return Err(BAD_PAYLOAD.into()),
        }
    }
    Ok(codes)
}

/// An RDB length at the start of `bytes`: the value (or the special encoding's number,
/// flagged) and the bytes it takes.
fn rdb_len(bytes: &[u8]) -> Option<(u64, bool, usize)> {
    let first = *bytes.first()?;
    match first >> 6 {
        0 => Some((u64::from(first & 0x3F), false, 1)),
        1 => Some((
            (u64::from(first & 0x3F) << 8) | u64::from(*bytes.get(1)?),
            false,
            2,
        )),
        3 => Some((u64::from(first & 0x3F), true, 1)),
        _ => match first {
            0x80 => {
                let b: [u8; 4] = bytes.get(1..5)?.try_into().ok()?;
                Some((u64::from(u32::from_be_bytes(b)), false, 5))
            }
            0x81 => {
                let b: [u8; 8] = bytes.get(1..9)?.try_into().ok()?;
                Some((u64::from_be_bytes(b), false, 9))
            }
            _ => None,
        },
    }
}

/// How many bytes the RDB string at the start of `bytes` takes.
fn encoded_string_len(bytes: &[u8]) -> Option<usize> {
    let (n, special, head) = rdb_len(bytes)?;
    let total = if special {
        match n {
            0 => head + 1,
            1 => head + 2,
            2 => head + 4,
            3 => {
                let (compressed, _, a) = rdb_len(&bytes[head..])?;
                let (_, _, b) = rdb_len(&bytes[head + a..])?;
                head + a + b + usize::try_from(compressed).ok()?
            }
            _ => return None,
        }
    } else {
        head + usize::try_from(n).ok()?
    };
    (total <= bytes.len()).then_some(total)
}
