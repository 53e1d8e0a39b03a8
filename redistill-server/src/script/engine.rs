//! The server's one Lua 5.1 state, sandboxed as Redis 7.0 sandboxes its own: only the base,
//! table, string and math libraries (less `print`, `dofile`, `loadfile`, `getfenv`,
//! `setfenv`, `newproxy`, `module`, `require`), read-only globals and library tables, an
//! error on reading a global that does not exist, `math.random` on Redis's generator, a
//! memory limit and a hook that lets a long script be stopped.

use std::ffi::c_int;
use std::sync::Arc;

use mlua::{
    ChunkMode, Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, VmState, ffi,
};

use super::busy::Busy;
use super::rand48::Rand48;

/// Name of the chunks of the engine's own Lua code; error positions skip their frames.
pub(crate) const INTERNAL_SOURCE: &str = "=redis-internal";

/// Lua memory a script may hold before its allocations fail (`not enough memory`).
const MEMORY_LIMIT: usize = 1 << 30;

/// VM instructions between two checks for a kill request.
const HOOK_INSTRUCTIONS: u32 = 100_000;

/// Sets up the sandbox: run once with the real globals before they are protected. Returns
/// the protected view of the globals, which scripts see as their environment, and the
/// `protect` function for tables added later.
const SANDBOX: &str = r#"
local real_G = _G
local raw_rawget, raw_rawset, raw_next, raw_ipairs = rawget, rawset, next, ipairs
local raw_setmetatable, raw_loadstring, raw_error, raw_tostring, raw_type =
  setmetatable, loadstring, error, tostring, type
local concat = table.concat
local raw_setfenv = setfenv
local real_of = raw_setmetatable({}, {__mode = 'k'})
local function readonly() raw_error('Attempt to modify a readonly table', 2) end
local function protect(t)
  local p = {}
  real_of[p] = t
  raw_setmetatable(p, {__index = t, __newindex = readonly, __metatable = false})
  return p
end
local env = protect(real_G)
rawset = function(t, k, v)
  if real_of[t] then raw_error('Attempt to modify a readonly table', 0) end
  return raw_rawset(t, k, v)
end
setmetatable = function(t, m)
  if real_of[t] then raw_error('Attempt to modify a readonly table', 0) end
  return raw_setmetatable(t, m)
end
local raw_pcall, raw_select, raw_unpack = pcall, select, unpack
local failure_text = ...
local function caught(ok, ...)
  if ok then return ok, ... end
  local e = ...
  if raw_type(e) == 'table' and raw_rawget(e, 'err') ~= nil then
    e = raw_rawget(e, 'err')
  elseif raw_type(e) == 'userdata' then
    e = failure_text(e)
  end
  return ok, e, raw_select(2, ...)
end
pcall = function(...) return caught(raw_pcall(...)) end
rawget = function(t, k) return raw_rawget(real_of[t] or t, k) end
next = function(t, k) return raw_next(real_of[t] or t, k) end
pairs = function(t) return raw_next, real_of[t] or t, nil end
ipairs = function(t) return raw_ipairs(real_of[t] or t) end
loadstring = function(s, name)
  if raw_type(s) == 'string' and s:byte(1) == 27 then
    return nil, 'attempt to load a binary chunk'
  end
  local f, e = raw_loadstring(s, name)
  if f then raw_setfenv(f, env) end
  return f, e
end
load = function(reader, name)
  local parts = {}
  while true do
    local piece = reader()
    if piece == nil or piece == '' then break end
    parts[#parts + 1] = piece
  end
  return loadstring(concat(parts), name)
end
for _, name in raw_ipairs({'print', 'dofile', 'loadfile', 'getfenv', 'setfenv', 'newproxy',
    'module', 'require', 'package', 'debug', 'os', 'io'}) do
  raw_rawset(real_G, name, nil)
end
raw_rawset(real_G, '_G', env)
raw_setmetatable(real_G, {
  __index = function(_, k)
    raw_error("Script attempted to access nonexistent global variable '" .. raw_tostring(k) .. "'", 2)
  end,
  __newindex = readonly,
  __metatable = false,
})
return env, protect
"#;

/// What a run gives the script: KEYS and ARGV, fresh tables of strings.
#[derive(Clone, Copy)]
pub(crate) enum Inputs<'a> {
    /// Nothing (a library's code, run at load).
    Nothing,
    /// As the globals `KEYS` and `ARGV` (a script).
    Globals(&'a [&'a [u8]], &'a [&'a [u8]]),
    /// As the function's two arguments (a library's function).
    Arguments(&'a [&'a [u8]], &'a [&'a [u8]]),
}

/// The Lua state with the handles the server keeps into it.
pub(crate) struct Engine {
    pub lua: Lua,
    /// The real globals table (scripts see it through a read-only view).
    pub globals: Table,
    /// The read-only view of the globals: every script's and library's environment.
    pub env: Table,
    /// The real `redis` table (scripts see it through a read-only view).
    pub redis: Table,
    /// The message handler scripts run under (`__redis__err__handler`).
    handler: Function,
    /// Makes a read-only view of a table (for the libraries registered later).
    protect: Function,
    /// The run state the hook checks.
    busy: Arc<Busy>,
}

/// Installs the hook that checks for a stop request every [`HOOK_INSTRUCTIONS`]
/// instructions, in every coroutine too. Once a stop is requested it checks on every line,
/// so that a `pcall` catching the error does not keep the script running.
///
/// Once the script is busy (past `busy-reply-threshold`), each check first serves the
/// other clients of the worker running it, which may ask it to stop (see `meanwhile`).
fn install_hook(lua: &Lua, busy: &Arc<Busy>) -> mlua::Result<()> {
    let counting = Arc::clone(busy);
    lua.set_global_hook(
        HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS),
        move |lua, _| {
            if counting.busy().is_some() {
                crate::meanwhile::serve_others();
            }
            if let Err(e) = counting.check() {
                let every_line = Arc::clone(&counting);
                lua.set_global_hook(HookTriggers::EVERY_LINE, move |_, _| {
                    every_line.check().map(|()| VmState::Continue)
                })?;
                return Err(e);
            }
            Ok(VmState::Continue)
        },
    )
}

impl Engine {
    /// A fresh sandboxed state; `busy` is the run state its hook checks.
    pub fn new(busy: Arc<Busy>) -> mlua::Result<Engine> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::default(),
        )?;
        let globals = lua.globals();
        let rng = Arc::new(Rand48::default());
        let math: Table = globals.get("math")?;
        let draw = Arc::clone(&rng);
        math.set(
            "random",
            lua.create_function(move |_, args: mlua::Variadic<Value>| random(&draw, &args))?,
        )?;
        let seed = Arc::clone(&rng);
        math.set(
            "randomseed",
            lua.create_function(move |_, n: f64| {
                seed.seed(c_int(n));
                Ok(())
            })?,
        )?;
        let redis = lua.create_table()?;
        globals.set("redis", redis.clone())?;
        let handler = lua.create_function(error_handler)?;
        globals.set("__redis__err__handler", handler.clone())?;
        super::api::register(&lua, &redis)?;
        // The place for Redis's extra libraries (cjson, cmsgpack, bit, struct), set as
        // globals before the sandbox protects them.
        register_libraries(&lua)?;
        let failure_text = lua.create_function(|_, e: Value| {
            Ok(match &e {
                Value::Error(e) => {
                    super::api::call_failure(e).map_or_else(|| runtime_message(e), str::to_string)
                }
                _ => String::new(),
            })
        })?;
        let (env, protect): (Table, Function) = lua
            .load(SANDBOX)
            .set_name(INTERNAL_SOURCE)
            .call(failure_text)?;
        for name in [
            "string",
            "table",
            "math",
            "coroutine",
            "redis",
            "cjson",
            "cmsgpack",
            "bit",
            "struct",
        ] {
            if let Value::Table(t) = globals.raw_get(name)? {
                let view: Table = protect.call(t)?;
                globals.raw_set(name, view.clone())?;
                if name == "string" {
                    // Strings' methods come from the same (read-only) table scripts see.
                    let meta: Table = lua.load("return getmetatable('')").call(())?;
                    meta.raw_set("__index", view)?;
                }
            }
        }
        lua.set_memory_limit(MEMORY_LIMIT)?;
        install_hook(&lua, &busy)?;
        Ok(Engine {
            busy,
            lua,
            globals,
            env,
            redis,
            handler,
            protect,
        })
    }

    /// Compiles a script body as a function of the sandbox, named `chunk_name` in errors
    /// (`@user_script`); the compiler's message on a syntax error.
    pub fn compile(&self, body: &[u8], chunk_name: &str) -> Result<Function, String> {
        self.lua
            .load(body)
            .set_name(chunk_name)
            .set_mode(ChunkMode::Text)
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| compile_message(&e))
    }

    /// Calls `function` under the message handler, as Redis does, given `inputs`. Whether
    /// it returned, and its first result or the error table the handler made.
    #[allow(unsafe_code)]
    pub fn run(&self, function: &Function, inputs: Inputs<'_>) -> mlua::Result<(bool, Value)> {
        let args = (&self.handler, function, &self.globals);
        // SAFETY: the closure runs inside a protected call on a stack holding `args`
        // (1: handler, 2: function, 3: globals), leaves the two results alone on it, and
        // keeps no value with a destructor alive while Lua may raise.
        unsafe {
            self.lua.exec_raw::<(bool, Value)>(args, |state| {
                ffi::luaL_checkstack(state, 8, std::ptr::null());
                let nargs = match inputs {
                    Inputs::Nothing => 0,
                    Inputs::Globals(keys, argv) => {
                        ffi::lua_pushstring(state, c"KEYS".as_ptr());
                        push_array(state, keys);
                        ffi::lua_rawset(state, 3);
                        ffi::lua_pushstring(state, c"ARGV".as_ptr());
                        push_array(state, argv);
                        ffi::lua_rawset(state, 3);
                        0
                    }
                    Inputs::Arguments(keys, argv) => {
                        push_array(state, keys);
                        push_array(state, argv);
                        2
                    }
                };
                ffi::lua_remove(state, 3);
                let status = ffi::lua_pcall(state, nargs, 1, 1);
                ffi::lua_pushboolean(state, c_int::from(status == 0));
                ffi::lua_replace(state, 1);
            })
        }
    }

    /// The function that makes a read-only view of a table.
    pub fn protect_fn(&self) -> Function {
        self.protect.clone()
    }

    /// Puts the counting hook back after a script was stopped.
    pub fn reset_hook(&self) -> mlua::Result<()> {
        install_hook(&self.lua, &self.busy)
    }

    /// Lua's memory in bytes (`used_memory_vm_eval`).
    pub fn used_memory(&self) -> usize {
        self.lua.used_memory()
    }
}

/// Pushes a new array of `items` as strings.
///
/// # Safety
/// `state` is Lua's running state inside a protected call, with room for two values.
#[allow(unsafe_code)]
unsafe fn push_array(state: *mut ffi::lua_State, items: &[&[u8]]) {
    // SAFETY: see the function's contract.
    unsafe {
        ffi::lua_createtable(state, c_int::try_from(items.len()).unwrap_or(0), 0);
        for (i, item) in items.iter().enumerate() {
            ffi::lua_pushlstring(state, item.as_ptr().cast(), item.len());
            ffi::lua_rawseti(state, -2, ffi::lua_Integer::try_from(i + 1).unwrap_or(0));
        }
    }
}

/// Sets Redis's extra Lua libraries (cjson, cmsgpack, bit, struct) as globals.
fn register_libraries(lua: &Lua) -> mlua::Result<()> {
    crate::script_libs::register(lua)
}

/// The compiler's message without mlua's decoration.
fn compile_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// C's conversion of a Lua number to `int` as `luaL_checkint` makes it.
fn c_int(n: f64) -> i32 {
    // Truncation as C's cast does, wrapping into 32 bits.
    #[allow(clippy::cast_possible_truncation)]
    let wide = if n.is_finite() { n as i64 } else { i64::MIN };
    #[allow(clippy::cast_possible_truncation)]
    let narrow = wide as i32;
    narrow
}

/// Lua 5.1's `math.random` over Redis's generator.
fn random(rng: &Rand48, args: &[Value]) -> mlua::Result<f64> {
    let r = rng.next_unit();
    let number = |v: &Value| match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => s.to_str().ok().and_then(|s| s.trim().parse().ok()),
        _ => None,
    };
    match args {
        [] => Ok(r),
        [m] => {
            let m = number(m).ok_or_else(|| bad_argument(1))?.floor();
            if m < 1.0 {
                return Err(mlua::Error::RuntimeError(
                    "bad argument #1 to 'random' (interval is empty)".into(),
                ));
            }
            Ok((r * m).floor() + 1.0)
        }
        [l, u] => {
            let l = number(l).ok_or_else(|| bad_argument(1))?.floor();
            let u = number(u).ok_or_else(|| bad_argument(2))?.floor();
            if l > u {
                return Err(mlua::Error::RuntimeError(
                    "bad argument #2 to 'random' (interval is empty)".into(),
                ));
            }
            Ok((r * (u - l + 1.0)).floor() + l)
        }
        _ => Err(mlua::Error::RuntimeError(
            "wrong number of arguments".into(),
        )),
    }
}

fn bad_argument(n: usize) -> mlua::Error {
    mlua::Error::RuntimeError(format!("bad argument #{n} to 'random' (number expected)"))
}

/// The message handler scripts run under, as Redis's `__redis__err__handler`: an error
/// becomes a table `{err=..., source=..., line=...}`, a string error prefixed `ERR `, and
/// `source`/`line` name the innermost script frame (not the engine's own nor a C one).
fn error_handler(lua: &Lua, err: Value) -> mlua::Result<Table> {
    let table = match err {
        Value::Table(t) => t,
        other => {
            if let Value::Error(e) = &other
                && let Some(text) = super::api::call_failure(e)
            {
                let t = lua.create_table()?;
                t.raw_set("err", text)?;
                return locate(lua, t);
            }
            let text = match &other {
                Value::String(s) => s.to_string_lossy(),
                Value::Error(e) => runtime_message(e),
                Value::Nil => "nil".to_string(),
                v => lua
                    .coerce_string(v.clone())
                    .ok()
                    .flatten()
                    .map_or_else(|| v.type_name().to_string(), |s| s.to_string_lossy()),
            };
            let t = lua.create_table()?;
            t.raw_set("err", format!("ERR {text}"))?;
            t
        }
    };
    locate(lua, table)
}

/// Adds `source` and `line` of the innermost script frame to an error table.
fn locate(lua: &Lua, table: Table) -> mlua::Result<Table> {
    for level in 1.. {
        let frame = lua.inspect_stack(level, |debug| {
            let source = debug.source();
            let what = source.what;
            let name = source.source.map(|s| s.into_owned());
            (what, name, debug.current_line())
        });
        let Some((what, source, line)) = frame else {
            break;
        };
        // Only scripts' and libraries' own code (`@user_script`, `@user_function`) counts:
        // not C functions, the engine's chunks, nor the Lua libraries' wrappers.
        if what == "C" || source.as_deref().is_none_or(|s| s.starts_with('=')) {
            continue;
        }
        table.raw_set("source", source.unwrap_or_default())?;
        if let Some(line) = line {
            table.raw_set("line", line)?;
        }
        break;
    }
    Ok(table)
}

/// The text of an error raised from Rust code (a hook, a callback).
pub(crate) fn runtime_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => runtime_message(cause),
        mlua::Error::MemoryError(_) => "not enough memory".into(),
        other => other.to_string(),
    }
}
