//! The `redis` object scripts call: everything but `call` and `pcall`, which run commands
//! (see [`super::call`]).

use std::fmt::Write as _;

use mlua::{Lua, Table, Value, Variadic};
use redistill_resp::Version;

/// A failed `redis.call`: raised as a Lua error carrying the command's error reply, which
/// the message handler turns into `{err=...}` and `pcall` into its text.
#[derive(Debug)]
pub(crate) struct CallFailure(pub String);

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CallFailure {}

/// The reply text of a failed `redis.call`, if `e` is one.
pub(crate) fn call_failure(e: &mlua::Error) -> Option<&str> {
    match e {
        mlua::Error::ExternalError(inner) => {
            inner.downcast_ref::<CallFailure>().map(|f| f.0.as_str())
        }
        mlua::Error::CallbackError { cause, .. } => call_failure(cause),
        mlua::Error::WithContext { cause, .. } => call_failure(cause),
        _ => None,
    }
}

/// SHA1 of `data` in lower-case hex, as Redis names scripts.
pub(crate) fn sha1_hex(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    let mut hex = String::with_capacity(40);
    for b in digest.as_ref() {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// Sets the `redis` table's fields.
pub(crate) fn register(lua: &Lua, redis: &Table) -> mlua::Result<()> {
    super::call::register(lua, redis)?;

    redis.set("error_reply", lua.create_function(error_reply)?)?;
    redis.set("status_reply", lua.create_function(status_reply)?)?;
    redis.set("sha1hex", lua.create_function(sha1hex)?)?;
    redis.set("acl_check_cmd", lua.create_function(acl_check_cmd)?)?;
    redis.set("log", lua.create_function(log)?)?;
    redis.set("setresp", lua.create_function(setresp)?)?;
    redis.set(
        "set_repl",
        lua.create_function(|_, args: Variadic<Value>| match args.first() {
            Some(Value::Integer(n)) if (0..=3).contains(n) => Ok(()),
            Some(Value::Number(n)) if (0.0..=3.0).contains(n) => Ok(()),
            Some(_) => Err(mlua::Error::RuntimeError(
                "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."
                    .into(),
            )),
            None => Err(mlua::Error::RuntimeError(
                "redis.set_repl() requires one argument.".into(),
            )),
        })?,
    )?;
    redis.set("replicate_commands", lua.create_function(|_, ()| Ok(true))?)?;
    redis.set("breakpoint", lua.create_function(|_, ()| Ok(false))?)?;
    redis.set(
        "debug",
        lua.create_function(|_, _: Variadic<Value>| Ok(()))?,
    )?;
    for (name, value) in [
        ("LOG_DEBUG", 0),
        ("LOG_VERBOSE", 1),
        ("LOG_NOTICE", 2),
        ("LOG_WARNING", 3),
        ("REPL_NONE", 0),
        ("REPL_AOF", 1),
        ("REPL_SLAVE", 2),
        ("REPL_REPLICA", 2),
        ("REPL_ALL", 3),
        ("REDIS_VERSION_NUM", 0x07_00_0f),
    ] {
        redis.set(name, value)?;
    }
    redis.set("REDIS_VERSION", "7.0.15")?;
    Ok(())
}

/// `redis.acl_check_cmd(command, ...)`: whether the user running the script may run the
/// command with these arguments; an unknown command raises an error, as do arguments
/// `redis.call` would refuse.
fn acl_check_cmd(_: &Lua, args: Variadic<Value>) -> mlua::Result<bool> {
    let raise = |text: &str| mlua::Error::external(CallFailure(text.to_string()));
    if args.is_empty() {
        return Err(raise(
            "ERR Please specify at least one argument for this redis lib call",
        ));
    }
    let mut argv: Vec<Vec<u8>> = Vec::with_capacity(args.len());
    for arg in args.iter() {
        argv.push(match arg {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Integer(i) => i.to_string().into_bytes(),
            Value::Number(n) => redistill_resp::double_text(*n).into_bytes(),
            _ => {
                return Err(raise(
                    "ERR Lua redis lib command arguments must be strings or integers",
                ));
            }
        });
    }
    let argv: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
    crate::cmd::acl_permits(&argv)
        .ok_or_else(|| raise("ERR Invalid command passed to redis.acl_check_cmd()"))
}

/// The one string argument of `error_reply` / `status_reply`, or `None`.
fn one_string(args: &Variadic<Value>) -> Option<Vec<u8>> {
    match args.as_slice() {
        [Value::String(s)] => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

/// `redis.error_reply(msg)`: `{err=msg}`, a leading `-` dropped and `ERR ` added to a
/// message without an error code.
fn error_reply(lua: &Lua, args: Variadic<Value>) -> mlua::Result<Value> {
    let Some(msg) = one_string(&args) else {
        return super::convert::error_table(lua, b"ERR wrong number or type of arguments");
    };
    let msg = msg.strip_prefix(b"-").unwrap_or(&msg);
    if msg.contains(&b' ') {
        super::convert::error_table(lua, msg)
    } else {
        let mut text = b"ERR ".to_vec();
        text.extend_from_slice(msg);
        super::convert::error_table(lua, &text)
    }
}

/// `redis.status_reply(msg)`: `{ok=msg}`.
fn status_reply(lua: &Lua, args: Variadic<Value>) -> mlua::Result<Value> {
    let Some(msg) = one_string(&args) else {
        return super::convert::error_table(lua, b"ERR wrong number or type of arguments");
    };
    let t = lua.create_table_with_capacity(0, 1)?;
    t.raw_set("ok", lua.create_string(msg)?)?;
    Ok(Value::Table(t))
}

fn sha1hex(lua: &Lua, args: Variadic<Value>) -> mlua::Result<String> {
    let [value] = args.as_slice() else {
        return Err(mlua::Error::RuntimeError(
            "wrong number of arguments".into(),
        ));
    };
    let text = match value {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Integer(_) | Value::Number(_) => lua
            .coerce_string(value.clone())?
            .map(|s| s.as_bytes().to_vec())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    Ok(sha1_hex(&text))
}

/// `redis.log(level, message...)`: into the server log.
fn log(lua: &Lua, args: Variadic<Value>) -> mlua::Result<()> {
    if args.len() < 2 {
        return Err(mlua::Error::RuntimeError(
            "redis.log() requires two arguments or more.".into(),
        ));
    }
    let level = match &args[0] {
        Value::Integer(n) => *n,
        Value::Number(n) if n.fract() == 0.0 => super::convert::number_to_integer(*n),
        _ => {
            return Err(mlua::Error::RuntimeError(
                "First argument must be a number (log level).".into(),
            ));
        }
    };
    let level = match level {
        0 | 1 => log::Level::Debug,
        2 => log::Level::Info,
        3 => log::Level::Warn,
        _ => return Err(mlua::Error::RuntimeError("Invalid debug level.".into())),
    };
    let mut message = String::new();
    for (i, v) in args[1..].iter().enumerate() {
        if i > 0 {
            message.push(' ');
        }
        if let Some(s) = lua.coerce_string(v.clone())? {
            message.push_str(&s.to_string_lossy());
        }
    }
    log::log!(level, "{message}");
    Ok(())
}

fn setresp(_: &Lua, args: Variadic<Value>) -> mlua::Result<()> {
    let [value] = args.as_slice() else {
        return Err(mlua::Error::RuntimeError(
            "redis.setresp() requires one argument.".into(),
        ));
    };
    let version = match value {
        Value::Integer(2) => Version::Resp2,
        Value::Integer(3) => Version::Resp3,
        Value::Number(n) if *n == 2.0 => Version::Resp2,
        Value::Number(n) if *n == 3.0 => Version::Resp3,
        _ => {
            return Err(mlua::Error::RuntimeError(
                "RESP version must be 2 or 3.".into(),
            ));
        }
    };
    super::call::set_resp(version);
    Ok(())
}
