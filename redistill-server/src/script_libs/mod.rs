//! The libraries Redis 7.0 gives every script as globals: `cjson` (lua-cjson 2.1.0),
//! `cmsgpack` (lua-cmsgpack 0.4.0), `bit` (LuaBitOp 1.0.2) and `struct`.
//!
//! Each is written in Rust over mlua and answers as the C library Redis embeds does,
//! byte for byte: the same encodings, the same number formatting and the same error texts
//! (`tests/script_libs.rs` compares them with redis-server's EVAL). Errors reach Lua as
//! plain strings, as a C function's `luaL_error` raises them: after the calling Lua code's
//! position (`user_script:1: `), and argument errors name the function as its caller did
//! (`bad argument #1 to 'band' (...)`, `'?'` under a direct `pcall`).
//!
//! Settings (`cjson.encode_max_depth(n)` and the like) belong to the Lua state, so they
//! last from one script to the next, as in Redis; each `cjson.new()` has its own.
//!
//! Walks over nested data use explicit stacks and keep their tables in Lua, never deep
//! Rust recursion or many live mlua references (mlua allows about 8000), and replay the C
//! libraries' Lua stack limits, so that deep or wide input fails with Redis's errors.
//!
//! Known differences, all at the edges:
//! - each function is a small Lua wrapper around the Rust code (so that errors are plain
//!   strings); a Lua function that tail-calls a library function (`return
//!   cjson.decode(s)`) has its frame replaced, so an error then carries no position and
//!   an argument error names the function `'?'`, where Redis gives both;
//! - `cmsgpack.unpack` and `struct.unpack` return at most 7997 values (Lua's `unpack`
//!   limit) where Redis returns up to 7999;
//! - `cjson.encode_keep_buffer` keeps its setting but there is no buffer to keep.
//!
//! Making the tables read-only, as Redis 7.0 does for scripts, is the engine's part.

mod bit;
mod cjson;
mod cmsgpack;
mod struct_pack;

use mlua::{Function, Lua, MultiValue, Table, Value};

/// Sets the globals `cjson`, `cmsgpack`, `bit` and `struct` in `lua`.
///
/// # Errors
///
/// Whatever mlua reports when creating the tables and functions fails (out of memory).
pub(crate) fn register(lua: &Lua) -> mlua::Result<()> {
    let lib = Builder::new(lua)?;
    let globals = lua.globals();
    globals.set("cjson", cjson::module(&lib)?)?;
    globals.set("cmsgpack", cmsgpack::module(&lib)?)?;
    globals.set("bit", bit::module(&lib)?)?;
    globals.set("struct", struct_pack::module(&lib)?)?;
    Ok(())
}

/// Why a library function failed.
pub(super) enum Fail {
    /// An error the script sees, raised as `luaL_error` raises it: this text after the
    /// calling Lua code's position (`user_script:1: `), when a Lua function called.
    Script(String),
    /// A bad argument, reported as `luaL_argerror` does: `bad argument #n to 'f' (message)`
    /// where `f` is the name the caller used for the function (`name` when no Lua code
    /// called it).
    Arg {
        n: usize,
        name: &'static str,
        message: String,
    },
    /// An error the script sees, raised as this text alone (what the Lua core raises from
    /// inside a C function, such as an invalid table key).
    Bare(String),
    /// A failure of the Lua state itself (memory), passed on as mlua reports it.
    Lua(mlua::Error),
}

impl From<mlua::Error> for Fail {
    fn from(error: mlua::Error) -> Self {
        Fail::Lua(error)
    }
}

/// What a library function returns.
pub(super) type Outcome = Result<Ret, Fail>;

/// A library function's results.
pub(super) enum Ret {
    /// These values.
    Values(MultiValue),
    /// The first `n` entries of this table (many results, kept in Lua rather than as
    /// mlua references, whose number is bounded).
    Spread(Table, usize),
}

/// Values as a function's results.
pub(super) fn values(values: Vec<Value>) -> Outcome {
    Ok(Ret::Values(MultiValue::from_vec(values)))
}

/// A Lua table used as a stack of values, so that Rust code walking deep or wide data
/// holds one mlua reference instead of one per value (mlua's references are bounded).
pub(super) struct Held {
    table: Table,
    len: usize,
}

impl Held {
    pub(super) fn new(lua: &Lua) -> mlua::Result<Self> {
        Ok(Held {
            table: lua.create_table()?,
            len: 0,
        })
    }

    /// Pushes `v`; its 1-based position.
    pub(super) fn push(&mut self, v: impl mlua::IntoLua) -> mlua::Result<usize> {
        self.len += 1;
        self.table.raw_set(self.len, v)?;
        Ok(self.len)
    }

    pub(super) fn get<V: mlua::FromLua>(&self, at: usize) -> mlua::Result<V> {
        self.table.raw_get(at)
    }

    pub(super) fn set(&self, at: usize, v: impl mlua::IntoLua) -> mlua::Result<()> {
        self.table.raw_set(at, v)
    }

    /// Drops everything from position `at` on.
    pub(super) fn truncate(&mut self, at: usize) -> mlua::Result<()> {
        while self.len >= at && self.len > 0 {
            self.table.raw_set(self.len, Value::Nil)?;
            self.len -= 1;
        }
        Ok(())
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The held values as a function's results.
    pub(super) fn spread(self) -> Outcome {
        Ok(Ret::Spread(self.table, self.len))
    }
}

/// A script-visible error with this text.
pub(super) fn fail<T>(message: impl Into<String>) -> Result<T, Fail> {
    Err(Fail::Script(message.into()))
}

/// `luaL_argerror`: argument `n` of the function `name` is wrong because of `message`.
pub(super) fn arg_fail<T>(n: usize, name: &'static str, message: &str) -> Result<T, Fail> {
    Err(Fail::Arg {
        n,
        name,
        message: message.to_owned(),
    })
}

/// Lua's own type name for a value, `no value` for a missing argument.
pub(super) fn type_name(value: Option<&Value>) -> &'static str {
    match value {
        None => "no value",
        Some(Value::Nil) => "nil",
        Some(Value::Boolean(_)) => "boolean",
        Some(Value::LightUserData(_) | Value::UserData(_)) => "userdata",
        Some(Value::Integer(_) | Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Table(_)) => "table",
        Some(Value::Function(_)) => "function",
        Some(Value::Thread(_)) => "thread",
        Some(_) => "userdata",
    }
}

/// A function's arguments, read the way the Lua C API reads a C function's stack.
pub(super) struct Args {
    pub(super) name: &'static str,
    pub(super) values: Vec<Value>,
}

impl Args {
    pub(super) fn new(name: &'static str, args: MultiValue) -> Self {
        Args {
            name,
            values: args.into_vec(),
        }
    }

    /// `lua_gettop`.
    pub(super) fn len(&self) -> usize {
        self.values.len()
    }

    /// The argument at 1-based position `n`, `None` when absent (Lua's "none").
    pub(super) fn get(&self, n: usize) -> Option<&Value> {
        n.checked_sub(1).and_then(|i| self.values.get(i))
    }

    /// Absent or nil.
    pub(super) fn is_nil(&self, n: usize) -> bool {
        matches!(self.get(n), None | Some(Value::Nil))
    }

    pub(super) fn error<T>(&self, n: usize, message: &str) -> Result<T, Fail> {
        arg_fail(n, self.name, message)
    }

    fn type_error<T>(&self, n: usize, expected: &str) -> Result<T, Fail> {
        self.error(
            n,
            &format!("{expected} expected, got {}", type_name(self.get(n))),
        )
    }

    /// `luaL_checknumber`: a number, or a string that converts to one.
    pub(super) fn number(&self, n: usize) -> Result<f64, Fail> {
        match self.get(n).and_then(to_number) {
            Some(x) => Ok(x),
            None => self.type_error(n, "number"),
        }
    }

    /// `luaL_checkinteger`: a number truncated towards zero.
    pub(super) fn integer(&self, n: usize) -> Result<i64, Fail> {
        self.number(n).map(number_to_integer)
    }

    /// `luaL_optinteger`.
    pub(super) fn opt_integer(&self, n: usize, default: i64) -> Result<i64, Fail> {
        if self.is_nil(n) {
            Ok(default)
        } else {
            self.integer(n)
        }
    }

    /// `luaL_checklstring`: a string, or a number converted with `%.14g`.
    pub(super) fn bytes(&self, n: usize) -> Result<Vec<u8>, Fail> {
        match self.get(n) {
            Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
            Some(Value::Integer(i)) => Ok(format_g(number_of_integer(*i), 14).into_bytes()),
            Some(Value::Number(x)) => Ok(format_g(*x, 14).into_bytes()),
            _ => self.type_error(n, "string"),
        }
    }
}

/// Lua 5.1's `lua_Number` from mlua's integer form.
#[allow(clippy::cast_precision_loss)] // An mlua Integer read from Lua 5.1 came from an f64.
pub(super) fn number_of_integer(i: i64) -> f64 {
    i as f64
}

/// `lua_Number` to `lua_Integer` as C casts it on x86-64: truncation; out of range or NaN
/// gives `i64::MIN`, as `cvttsd2si` does.
#[allow(clippy::cast_possible_truncation)] // Range checked first.
pub(super) fn number_to_integer(x: f64) -> i64 {
    if x.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

/// `lua_tonumber`: numbers, and strings Lua converts (`lua_str2number` then trailing spaces).
pub(super) fn to_number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(i) => Some(number_of_integer(*i)),
        Value::Number(x) => Some(*x),
        Value::String(s) => str_to_number(&s.as_bytes()),
        _ => None,
    }
}

/// Lua 5.1's string-to-number conversion (`luaO_str2d`): `strtod` over the C string (up
/// to the first NUL), with only whitespace after the number.
pub(super) fn str_to_number(bytes: &[u8]) -> Option<f64> {
    let bytes = c_string(bytes);
    let (x, end) = strtod(bytes)?;
    if bytes[end..].iter().all(|b| is_space(*b)) {
        Some(x)
    } else {
        None
    }
}

/// What C code sees of a Lua string: the bytes before the first NUL.
pub(super) fn c_string(bytes: &[u8]) -> &[u8] {
    bytes
        .iter()
        .position(|b| *b == 0)
        .map_or(bytes, |nul| &bytes[..nul])
}

/// C's `isspace`.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// C's `strtod` over bytes (the C locale): the value and the index just past what it read,
/// `None` when nothing converts (the server's one reader, [`crate::cmd::strtod`]).
pub(super) fn strtod(bytes: &[u8]) -> Option<(f64, usize)> {
    let read = crate::cmd::strtod(bytes);
    (read.used > 0).then_some((read.value, read.used))
}

/// C's `printf("%.<precision>g", x)`.
pub(super) fn format_g(x: f64, precision: usize) -> String {
    if x.is_nan() {
        return if x.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    let p = precision.max(1);
    let sci = format!("{:.*e}", p - 1, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    #[allow(clippy::cast_possible_wrap)]
    let p_signed = p as i64;
    if exp < -4 || exp >= p_signed {
        let mantissa = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
        let decimals = (p_signed - 1 - exp) as usize;
        strip_zeros(&format!("{x:.decimals$}")).to_owned()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Wraps library functions so that their script errors are raised as plain strings.
pub(super) struct Builder<'l> {
    lua: &'l Lua,
    wrap: Function,
}

/// Lua glue: calls the Rust function; `true, ...` returns the values, `false, message`
/// raises `error(message, 0)`, `1, table, n` returns the table's first n entries.
const WRAP: &str = "local raw, error, unpack = ...
local function finish(ok, ...)
  if ok == true then return ... end
  if ok == false then error((...), 0) end
  local t, n = ...
  return unpack(t, 1, n)
end
return function(...) return finish(raw(...)) end";

impl<'l> Builder<'l> {
    fn new(lua: &'l Lua) -> mlua::Result<Self> {
        let maker = lua.load(WRAP).set_name("=script_libs").into_function()?;
        let wrap = lua.create_function(move |lua, raw: Function| {
            let globals = lua.globals();
            let error: Function = globals.raw_get("error")?;
            let unpack: Function = globals.raw_get("unpack")?;
            maker.call::<Function>((raw, error, unpack))
        })?;
        Ok(Builder { lua, wrap })
    }

    /// A builder for a state whose wrapper was made earlier (by [`Builder::wrap_function`]).
    pub(super) fn from_parts(lua: &'l Lua, wrap: Function) -> Self {
        Builder { lua, wrap }
    }

    /// The wrapper maker, for building more functions later (`cjson.new`).
    pub(super) fn wrap_function(&self) -> Function {
        self.wrap.clone()
    }

    pub(super) fn lua(&self) -> &'l Lua {
        self.lua
    }

    /// A Lua function running `f`; `Fail::Script` becomes a raised string.
    pub(super) fn function<F>(&self, f: F) -> mlua::Result<Function>
    where
        F: Fn(&Lua, MultiValue) -> Outcome + mlua::MaybeSend + 'static,
    {
        let raw = self
            .lua
            .create_function(move |lua, args: MultiValue| match f(lua, args) {
                Ok(Ret::Values(mut values)) => {
                    values.push_front(Value::Boolean(true));
                    Ok(values)
                }
                #[allow(clippy::cast_precision_loss)]
                Ok(Ret::Spread(table, n)) => Ok(MultiValue::from_vec(vec![
                    Value::Number(1.0),
                    Value::Table(table),
                    Value::Number(n as f64),
                ])),
                Err(Fail::Script(message)) => Ok(MultiValue::from_vec(vec![
                    Value::Boolean(false),
                    Value::String(lua.create_string(format!("{}{message}", where_called(lua)))?),
                ])),
                Err(Fail::Arg { n, name, message }) => {
                    let text = arg_error_text(lua, n, name, &message);
                    Ok(MultiValue::from_vec(vec![
                        Value::Boolean(false),
                        Value::String(lua.create_string(format!("{}{text}", where_called(lua)))?),
                    ]))
                }
                Err(Fail::Bare(message)) => Ok(MultiValue::from_vec(vec![
                    Value::Boolean(false),
                    Value::String(lua.create_string(message)?),
                ])),
                Err(Fail::Lua(error)) => Err(error),
            })?;
        self.wrap.call::<Function>(raw)
    }
}

/// `luaL_where(L, 1)` as the C library would see it: the position of the Lua code that
/// called the library function, or nothing when a C function (`pcall`) called it. Level 0
/// is the Rust function, level 1 the Lua wrapper around it, level 2 the caller. A caller
/// that tail-called the function is lost to the wrapper, and then no position is given.
fn where_called(lua: &Lua) -> String {
    lua.inspect_stack(2, |d| {
        let line = d.current_line().filter(|l| *l > 0)?;
        let source = d.source().short_src?.into_owned();
        Some(format!("{source}:{line}: "))
    })
    .flatten()
    .unwrap_or_default()
}

/// `luaL_argerror`'s text. The function's name is the one its caller used, as Lua finds
/// it from the calling instruction (`band` for `bit.band(x)`, `?` when `pcall` called it);
/// a method call does not count `self`.
fn arg_error_text(lua: &Lua, n: usize, fallback: &str, message: &str) -> String {
    let names = lua.inspect_stack(1, |d| {
        let names = d.names();
        (
            names.name.map(std::borrow::Cow::into_owned),
            names.name_what,
        )
    });
    let Some((name, what)) = names else {
        return format!("bad argument #{n} to '{fallback}' ({message})");
    };
    let mut n = n;
    if what == Some("method") {
        n = n.saturating_sub(1);
        if n == 0 {
            let name = name.as_deref().unwrap_or("?");
            return format!("calling '{name}' on bad self ({message})");
        }
    }
    let name = name.as_deref().unwrap_or("?");
    format!("bad argument #{n} to '{name}' ({message})")
}

/// One value as a function result.
pub(super) fn one(value: Value) -> Outcome {
    values(vec![value])
}

/// A Lua number, as mlua carries it.
pub(super) fn num(x: f64) -> Value {
    Value::Number(x)
}

/// A Lua string.
pub(super) fn string(lua: &Lua, bytes: impl AsRef<[u8]>) -> Result<Value, Fail> {
    Ok(Value::String(lua.create_string(bytes)?))
}

#[cfg(test)]
mod tests;
