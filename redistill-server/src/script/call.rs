//! `redis.call` and `redis.pcall`: C functions on Lua's stack, registered once with the
//! engine, that run a command through the [`Commands`] the running script installed with
//! [`with_commands`]. Arguments are read off the stack without copies and the reply is
//! pushed as Lua values straight from its RESP bytes, as Redis's own C does: a call makes
//! only the values the script receives.
//!
//! Lua raises errors with `longjmp`, which skips Rust destructors. So the functions here
//! split each call in two: the Rust part (reading the arguments, running the command)
//! returns before anything that can raise, and the part that pushes and raises keeps no
//! value with a destructor alive.
//!
//! The reply is pushed from the commands' own buffer, so no second call may run while it
//! is pushed. None can: only a finalizer could run Lua code inside a push, and scripts
//! have no way to set one (Lua 5.1 honours `__gc` on userdata alone, `newproxy` is not
//! given to scripts, and no library hands them a full userdata).

#![allow(unsafe_code)]

use std::any::Any;
use std::cell::Cell;
use std::ffi::{CStr, c_int};
use std::panic::AssertUnwindSafe;
use std::ptr::NonNull;

use mlua::ffi;
use redistill_resp::Version;

/// What runs the commands of the script that runs on this thread.
pub(crate) trait Commands {
    /// Runs `argv`, its reply written in `version`: the reply's RESP bytes (an error reply
    /// included), or the text of the error the command failed with. The bytes stay valid
    /// until the next call.
    fn run(&mut self, argv: &[&[u8]], version: Version) -> Result<&[u8], &[u8]>;
}

thread_local! {
    /// The commands of the script running on this thread, while [`with_commands`] runs it.
    static ACTIVE: Cell<Option<NonNull<dyn Commands>>> = const { Cell::new(None) };
    /// The protocol `redis.call` replies are converted from, as `redis.setresp` sets it.
    static RESP: Cell<Version> = const { Cell::new(Version::Resp2) };
    /// A panic caught in a command, resumed once the script has returned (a panic must not
    /// unwind through Lua's C frames).
    static PANIC: Cell<Option<Box<dyn Any + Send>>> = const { Cell::new(None) };
}

/// Runs `f` (which runs a script) with `commands` serving its `redis.call`s, replies
/// converted from RESP2 until the script calls `redis.setresp`.
pub(crate) fn with_commands<R>(commands: &mut dyn Commands, f: impl FnOnce() -> R) -> R {
    /// Puts back what was installed before, even if `f` panics.
    struct Restore(Option<NonNull<dyn Commands>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            ACTIVE.with(|active| active.set(self.0));
        }
    }
    let pointer: NonNull<dyn Commands + '_> = NonNull::from(commands);
    // SAFETY: only the lifetime bound changes. The pointer is reachable only through
    // `ACTIVE`, which `Restore` resets before this function returns, so it is never used
    // after the borrow of `commands` ends.
    let pointer: NonNull<dyn Commands + 'static> = unsafe { std::mem::transmute(pointer) };
    let _restore = Restore(ACTIVE.with(|active| active.replace(Some(pointer))));
    RESP.with(|resp| resp.set(Version::Resp2));
    let result = f();
    if let Some(payload) = PANIC.with(Cell::take) {
        std::panic::resume_unwind(payload);
    }
    result
}

/// Sets `redis.call` and `redis.pcall` on the `redis` table.
pub(crate) fn register(lua: &mlua::Lua, redis: &mlua::Table) -> mlua::Result<()> {
    // SAFETY: both are C functions that keep to Lua's API (see the module's doc).
    let (call, pcall) = unsafe {
        (
            lua.create_c_function(redis_call)?,
            lua.create_c_function(redis_pcall)?,
        )
    };
    redis.set("call", call)?;
    redis.set("pcall", pcall)
}

/// `redis.setresp`: the protocol later replies of the running script are converted from.
pub(crate) fn set_resp(version: Version) {
    RESP.with(|resp| resp.set(version));
}

/// The protocol the last script run on this thread chose with `redis.setresp` (RESP2 if
/// it did not), which decides how its result's booleans convert.
pub(crate) fn script_resp() -> Version {
    RESP.with(Cell::get)
}

/// `redis.call`: the command's reply; a failed command raises its error (`{err=...}`).
unsafe extern "C-unwind" fn redis_call(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua calls it with its running state.
    unsafe { call(state, true) }
}

/// `redis.pcall`: the command's reply, an error as `{err=...}`.
unsafe extern "C-unwind" fn redis_pcall(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua calls it with its running state.
    unsafe { call(state, false) }
}

const NO_ARGUMENTS: &[u8] = b"ERR Please specify at least one argument for this redis lib call";
const BAD_ARGUMENT: &[u8] = b"ERR Lua redis lib command arguments must be strings or integers";
const OUTSIDE: &CStr = c"redis.call is only available while a script runs";
const PANICKED: &CStr = c"the command failed unexpectedly";

/// What the Rust part of a call leaves for Lua: pointers into buffers that outlive the
/// call (the command's reply or error text), so that no destructor is pending.
#[derive(Clone, Copy)]
enum Outcome {
    /// A reply in RESP; `failed` when it is an error reply.
    Reply { bytes: *const [u8], failed: bool },
    /// An error text, replied as `{err=...}`.
    Error(*const [u8]),
    /// No script runs on this thread.
    Outside,
    /// The command panicked: the script stops with an error, and the panic goes on
    /// once it has.
    Panicked,
}

/// # Safety
/// `state` is Lua's running state, inside a call of a C function.
unsafe fn call(state: *mut ffi::lua_State, raise: bool) -> c_int {
    // SAFETY: `state` is valid; `run_command` raises no Lua error.
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| unsafe { run_command(state) }))
        .unwrap_or_else(|payload| {
            PANIC.with(|panic| panic.set(Some(payload)));
            Outcome::Panicked
        });
    // From here on Lua may raise (a memory error, the command's error): nothing alive in
    // this frame or the ones it calls has a destructor.
    // SAFETY: the bytes point into buffers that the installed commands keep until their
    // next call, or into constants.
    unsafe {
        match outcome {
            Outcome::Outside => {
                ffi::lua_pushstring(state, OUTSIDE.as_ptr());
                ffi::lua_error(state)
            }
            Outcome::Panicked => {
                ffi::lua_pushstring(state, PANICKED.as_ptr());
                ffi::lua_error(state)
            }
            Outcome::Error(text) => {
                push_error(state, &*text);
                if raise {
                    ffi::lua_error(state);
                }
            }
            Outcome::Reply { bytes, failed } => {
                let mut pos = 0;
                push_reply(state, &*bytes, &mut pos);
                if failed && raise {
                    ffi::lua_error(state);
                }
            }
        }
    }
    1
}

/// Reads the arguments off the stack and runs the command. Raises no Lua error: every
/// Lua function it uses only reads.
///
/// # Safety
/// `state` is Lua's running state, inside a call of a C function.
unsafe fn run_command(state: *mut ffi::lua_State) -> Outcome {
    // SAFETY: reading the stack of a valid state.
    let count = unsafe { ffi::lua_gettop(state) };
    if count == 0 {
        return Outcome::Error(NO_ARGUMENTS);
    }
    let Some(mut active) = ACTIVE.with(Cell::take) else {
        return Outcome::Outside;
    };
    /// Puts the commands back for the next call however this one ends.
    struct PutBack(NonNull<dyn Commands>);
    impl Drop for PutBack {
        fn drop(&mut self) {
            ACTIVE.with(|a| a.set(Some(self.0)));
        }
    }
    let _put_back = PutBack(active);
    let count = usize::try_from(count).unwrap_or(0);
    // Numbers are written out first, so that the arguments can borrow their text.
    let mut numbers = Vec::new();
    let mut number_ends = Vec::new();
    for index in 1..=count {
        // SAFETY: `index` is within the stack.
        match unsafe { ffi::lua_type(state, index as c_int) } {
            ffi::LUA_TSTRING => {}
            ffi::LUA_TNUMBER => {
                // SAFETY: as above.
                let n = unsafe { ffi::lua_tonumber(state, index as c_int) };
                number_text(n, &mut numbers);
                number_ends.push(numbers.len());
            }
            _ => return Outcome::Error(BAD_ARGUMENT),
        }
    }
    let mut argv: Vec<&[u8]> = Vec::with_capacity(count);
    let (mut number, mut start) = (0, 0);
    for index in 1..=count {
        // SAFETY: as above; the strings stay on the stack, unchanged, until the call ends,
        // and nothing here runs Lua (so no collection frees them).
        let bytes = unsafe { stack_string(state, index as c_int) };
        match bytes {
            Some(bytes) => argv.push(bytes),
            None => {
                let end = number_ends[number];
                argv.push(&numbers[start..end]);
                number += 1;
                start = end;
            }
        }
    }
    let version = RESP.with(Cell::get);
    // SAFETY: `with_commands` installed the pointer from a live `&mut` that outlives the
    // run, and it was taken out of `ACTIVE`, so this is the only reference to it.
    let commands = unsafe { active.as_mut() };
    match commands.run(&argv, version) {
        Ok(reply) => Outcome::Reply {
            failed: matches!(reply.first(), Some(b'-' | b'!')),
            bytes: reply,
        },
        Err(text) => Outcome::Error(text),
    }
}

/// The bytes of the string at `index`, or `None` for a number.
///
/// # Safety
/// `index` is a valid index of the stack of `state`; the slice is used only while the
/// value stays there.
unsafe fn stack_string<'a>(state: *mut ffi::lua_State, index: c_int) -> Option<&'a [u8]> {
    // SAFETY: see the function's contract.
    unsafe {
        if ffi::lua_type(state, index) != ffi::LUA_TSTRING {
            return None;
        }
        let mut len = 0;
        let data = ffi::lua_tolstring(state, index, &raw mut len);
        Some(std::slice::from_raw_parts(data.cast::<u8>(), len))
    }
}

/// A number argument's text: an integral number as an integer, any other as Redis writes
/// a double.
fn number_text(n: f64, out: &mut Vec<u8>) {
    // The bounds of i64, exactly representable: within them the cast is exact for an
    // integral number.
    const MIN: f64 = -9_223_372_036_854_775_808.0;
    #[allow(clippy::cast_possible_truncation)]
    let truncated = n as i64;
    #[allow(clippy::cast_precision_loss)]
    let integral = (MIN..-MIN).contains(&n) && (truncated as f64).to_bits() == n.to_bits();
    if integral {
        out.extend_from_slice(truncated.to_string().as_bytes());
    } else {
        out.extend_from_slice(redistill_resp::double_text(n).as_bytes());
    }
}

/// Pushes `{err=text}`.
///
/// # Safety
/// `state` is Lua's running state; may raise a memory error.
unsafe fn push_error(state: *mut ffi::lua_State, text: &[u8]) {
    // SAFETY: see the function's contract.
    unsafe {
        ffi::lua_createtable(state, 0, 1);
        push_field(state, c"err", text);
    }
}

/// Sets `t[name] = text` on the table at the top of the stack.
///
/// # Safety
/// `state` is Lua's running state with a table at the top; may raise a memory error.
unsafe fn push_field(state: *mut ffi::lua_State, name: &CStr, text: &[u8]) {
    // SAFETY: see the function's contract.
    unsafe {
        ffi::lua_pushstring(state, name.as_ptr());
        push_bytes(state, text);
        ffi::lua_rawset(state, -3);
    }
}

/// # Safety
/// `state` is Lua's running state; may raise a memory error.
unsafe fn push_bytes(state: *mut ffi::lua_State, bytes: &[u8]) {
    // SAFETY: see the function's contract.
    unsafe {
        ffi::lua_pushlstring(state, bytes.as_ptr().cast(), bytes.len());
    }
}

/// Pushes the reply at `bytes[*pos..]`, written by this server, as the Lua value Redis
/// converts it to (see `convert`); `*pos` moves past it.
///
/// # Safety
/// `state` is Lua's running state; may raise a memory error or a stack overflow.
unsafe fn push_reply(state: *mut ffi::lua_State, bytes: &[u8], pos: &mut usize) {
    // SAFETY: see the function's contract; every push is preceded by the check of room.
    unsafe {
        // A verbatim string, the deepest leaf, pushes five values.
        ffi::luaL_checkstack(state, 8, std::ptr::null());
        let Some(&kind) = bytes.get(*pos) else {
            ffi::lua_pushnil(state);
            return;
        };
        let line = read_line(bytes, pos);
        let text = &line[1.min(line.len())..];
        match kind {
            b'+' => {
                ffi::lua_createtable(state, 0, 1);
                push_field(state, c"ok", text);
            }
            b'-' => push_error(state, text),
            #[allow(clippy::cast_precision_loss)]
            b':' => ffi::lua_pushnumber(state, parse_i64(text) as f64),
            b'$' | b'!' | b'=' => {
                let n = parse_i64(text);
                if n < 0 {
                    ffi::lua_pushboolean(state, 0);
                    return;
                }
                let len = usize::try_from(n).unwrap_or(0);
                let start = *pos;
                let end = (start + len).min(bytes.len());
                *pos = (end + 2).min(bytes.len());
                let data = &bytes[start..end];
                match kind {
                    b'$' => push_bytes(state, data),
                    b'!' => push_error(state, data),
                    _ => {
                        let (format, body) = if data.len() >= 4 {
                            (&data[..3], &data[4..])
                        } else {
                            (&b"txt"[..], data)
                        };
                        ffi::lua_createtable(state, 0, 1);
                        ffi::lua_pushstring(state, c"verbatim_string".as_ptr());
                        ffi::lua_createtable(state, 0, 2);
                        push_field(state, c"format", format);
                        push_field(state, c"string", body);
                        ffi::lua_rawset(state, -3);
                    }
                }
            }
            b'*' | b'>' => {
                let n = parse_i64(text);
                if n < 0 {
                    ffi::lua_pushboolean(state, 0);
                    return;
                }
                let n = usize::try_from(n).unwrap_or(0);
                ffi::lua_createtable(state, c_int::try_from(n.min(1024)).unwrap_or(0), 0);
                for i in 1..=n {
                    push_reply(state, bytes, pos);
                    ffi::lua_rawseti(state, -2, ffi::lua_Integer::try_from(i).unwrap_or(0));
                }
            }
            b'%' | b'~' => {
                let n = usize::try_from(parse_i64(text)).unwrap_or(0);
                ffi::lua_createtable(state, 0, 1);
                let name = if kind == b'%' { c"map" } else { c"set" };
                ffi::lua_pushstring(state, name.as_ptr());
                ffi::lua_createtable(state, 0, 0);
                for _ in 0..n {
                    push_reply(state, bytes, pos);
                    if kind == b'%' {
                        push_reply(state, bytes, pos);
                    } else {
                        ffi::lua_pushboolean(state, 1);
                    }
                    if ffi::lua_type(state, -2) == ffi::LUA_TNIL {
                        ffi::lua_settop(state, -3);
                    } else {
                        ffi::lua_rawset(state, -3);
                    }
                }
                ffi::lua_rawset(state, -3);
            }
            b'|' => {
                // Attributes precede the reply they describe; scripts see only the reply.
                let n = usize::try_from(parse_i64(text)).unwrap_or(0);
                for _ in 0..n * 2 {
                    push_reply(state, bytes, pos);
                    ffi::lua_settop(state, -2);
                }
                push_reply(state, bytes, pos);
            }
            b'#' => ffi::lua_pushboolean(state, c_int::from(text == b"t")),
            b',' => {
                let d = std::str::from_utf8(text)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                    .unwrap_or(0.0);
                ffi::lua_createtable(state, 0, 1);
                ffi::lua_pushstring(state, c"double".as_ptr());
                ffi::lua_pushnumber(state, d);
                ffi::lua_rawset(state, -3);
            }
            b'(' => {
                ffi::lua_createtable(state, 0, 1);
                push_field(state, c"big_number", text);
            }
            _ => ffi::lua_pushnil(state),
        }
    }
}

/// The line at `*pos` without its CRLF; `*pos` moves past it.
fn read_line<'a>(bytes: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let rest = &bytes[*pos..];
    match rest.windows(2).position(|w| w == b"\r\n") {
        Some(i) => {
            *pos += i + 2;
            &rest[..i]
        }
        None => {
            *pos = bytes.len();
            rest
        }
    }
}

fn parse_i64(text: &[u8]) -> i64 {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use mlua::{Lua, Value};
    use redistill_resp::Version;

    use super::{Commands, number_text, register, with_commands};
    use crate::script::convert::lua_to_reply;

    /// Answers every command with one fixed reply, and keeps the arguments it was given.
    struct Fixed {
        reply: &'static [u8],
        seen: Vec<Vec<u8>>,
    }

    impl Commands for Fixed {
        fn run(&mut self, argv: &[&[u8]], _: Version) -> Result<&[u8], &[u8]> {
            self.seen = argv.iter().map(|a| a.to_vec()).collect();
            if argv[0] == b"fail" {
                return Err(b"ERR failed");
            }
            Ok(self.reply)
        }
    }

    /// Runs `code` with `redis.call`/`pcall` answering `reply`; the result as RESP2 and the
    /// last command's arguments.
    fn run(code: &str, reply: &'static [u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
        let lua = Lua::new();
        let redis = lua.create_table().expect("table");
        register(&lua, &redis).expect("registers");
        lua.globals().set("redis", redis).expect("set");
        let mut fixed = Fixed {
            reply,
            seen: Vec::new(),
        };
        let value: Value = with_commands(&mut fixed, || lua.load(code).eval()).expect("runs");
        let mut out = Vec::new();
        lua_to_reply(&value, &mut out, Version::Resp2, Version::Resp2);
        (out, fixed.seen)
    }

    #[test]
    fn replies_round_trip_through_lua() {
        let reply = b"*4\r\n:1\r\n$1\r\nx\r\n$-1\r\n+OK\r\n";
        let (out, _) = run("return redis.call('get', 'k')", reply);
        // The nil bulk became false, which ends nothing in a table (it is not nil) and
        // converts back to a nil bulk.
        assert_eq!(out, reply);
    }

    #[test]
    fn arguments_reach_the_command_as_text() {
        let (_, seen) = run("return redis.call('set', 'k', 42, 1.5)", b"+OK\r\n");
        let expected: Vec<Vec<u8>> = vec![
            b"set".to_vec(),
            b"k".to_vec(),
            b"42".to_vec(),
            redistill_resp::double_text(1.5).into_bytes(),
        ];
        assert_eq!(seen, expected);
    }

    #[test]
    fn errors_raise_from_call_and_return_from_pcall() {
        let (out, _) = run("return redis.pcall('fail')", b"");
        assert_eq!(out, b"-ERR failed\r\n");
        let (out, _) = run("return redis.pcall('get', 'k')", b"-WRONGTYPE no\r\n");
        assert_eq!(out, b"-WRONGTYPE no\r\n");
        let code = "local ok, e = pcall(redis.call, 'fail') return {ok, e.err}";
        let (out, _) = run(code, b"");
        assert_eq!(out, b"*2\r\n$-1\r\n$10\r\nERR failed\r\n");
        let (out, _) = run("return redis.pcall(true)", b"");
        assert!(out.starts_with(b"-ERR Lua redis lib command arguments"));
        let (out, _) = run("return redis.pcall()", b"");
        assert!(out.starts_with(b"-ERR Please specify at least one argument"));
    }

    #[test]
    fn outside_a_script_call_raises() {
        let lua = Lua::new();
        let redis = lua.create_table().expect("table");
        register(&lua, &redis).expect("registers");
        lua.globals().set("redis", redis).expect("set");
        let result: mlua::Result<Value> = lua.load("return redis.call('get', 'k')").eval();
        let text = result.expect_err("raises").to_string();
        assert!(
            text.contains("only available while a script runs"),
            "{text}"
        );
    }

    struct Panicking;

    impl Commands for Panicking {
        fn run(&mut self, _: &[&[u8]], _: Version) -> Result<&[u8], &[u8]> {
            panic!("command panicked");
        }
    }

    #[test]
    fn a_panicking_command_panics_after_the_script_not_through_lua() {
        let lua = Lua::new();
        let redis = lua.create_table().expect("table");
        register(&lua, &redis).expect("registers");
        lua.globals().set("redis", redis).expect("set");
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            with_commands(&mut Panicking, || {
                // The script catches the error, yet the panic still surfaces afterwards.
                lua.load("pcall(redis.call, 'get', 'k') return 1")
                    .eval::<i64>()
            })
        }));
        assert!(caught.is_err());
        // The state is usable afterwards.
        assert_eq!(lua.load("return 2").eval::<i64>().expect("runs"), 2);
    }

    fn text(n: f64) -> String {
        let mut out = Vec::new();
        number_text(n, &mut out);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn integral_numbers_are_written_as_integers() {
        assert_eq!(text(42.0), "42");
        assert_eq!(text(-7.0), "-7");
        assert_eq!(text(-9_223_372_036_854_775_808.0), "-9223372036854775808");
    }

    #[test]
    fn other_numbers_are_written_as_doubles() {
        assert_eq!(text(1.5), redistill_resp::double_text(1.5));
        assert_eq!(text(-0.0), redistill_resp::double_text(-0.0));
        assert_eq!(
            text(9_223_372_036_854_775_808.0),
            redistill_resp::double_text(9_223_372_036_854_775_808.0)
        );
    }
}
