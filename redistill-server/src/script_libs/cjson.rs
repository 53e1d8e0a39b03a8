//! `cjson`: lua-cjson 2.1.0 as Redis 7.0 embeds it.
//!
//! Encoding: numbers with `%.14g` (the precision is settable), `/` escaped as `\/`,
//! control characters and DEL as `\u00XX` (short forms for `\b \t \n \f \r`), other bytes
//! as they are; a table whose keys are all positive integers is an array unless it is
//! "excessively sparse", any other table (the empty one included) an object in the table's
//! own iteration order. Decoding is the library's hand-written parser, with its tokens,
//! its leniency (numbers as C's `strtod` reads them) and its error texts, so it is written
//! here rather than taken from a general JSON parser.

use std::sync::Arc;

use mlua::{LightUserData, Lua, MultiValue, Table, Value};
use parking_lot::Mutex;

use super::{
    Args, Builder, Fail, Held, Outcome, c_string, fail, format_g, num, one, string, values,
};

/// `LUAI_MAXCSTACK`: the most stack slots a C function may ask Lua for.
const MAX_C_STACK: usize = 8000;

/// One `cjson` instance's settings (each `cjson.new()` has its own).
#[derive(Clone, Copy)]
struct Config {
    sparse_convert: bool,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0 refuse, 1 encode as `inf`/`nan`, 2 encode as `null`.
    encode_invalid_numbers: usize,
    decode_invalid_numbers: bool,
    keep_buffer: bool,
    precision: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: true,
            keep_buffer: true,
            precision: 14,
        }
    }
}

type Shared = Arc<Mutex<Config>>;

/// A `cjson` table with settings of its own.
pub(super) fn module(lib: &Builder<'_>) -> mlua::Result<Table> {
    let lua = lib.lua();
    let cfg: Shared = Arc::new(Mutex::new(Config::default()));
    let t = lua.create_table()?;
    let c = cfg.clone();
    t.set("encode", lib.function(move |lua, a| encode(lua, &c, a))?)?;
    let c = cfg.clone();
    t.set("decode", lib.function(move |lua, a| decode(lua, &c, a))?)?;
    let c = cfg.clone();
    t.set(
        "encode_sparse_array",
        lib.function(move |lua, a| {
            let args = Args::new("encode_sparse_array", a);
            check_arg_count(&args, 3)?;
            let mut cfg = c.lock();
            let mut convert = usize::from(cfg.sparse_convert);
            let convert_value = enum_option(lua, &args, 1, &mut convert, None, 1)?;
            cfg.sparse_convert = convert != 0;
            let ratio = integer_option(&args, 2, &mut cfg.sparse_ratio, 0, i32::MAX)?;
            let safe = integer_option(&args, 3, &mut cfg.sparse_safe, 0, i32::MAX)?;
            values(vec![convert_value, ratio, safe])
        })?,
    )?;
    integer_setting(
        lib,
        &t,
        &cfg,
        "encode_max_depth",
        |c| &mut c.encode_max_depth,
        1,
        i32::MAX,
    )?;
    integer_setting(
        lib,
        &t,
        &cfg,
        "decode_max_depth",
        |c| &mut c.decode_max_depth,
        1,
        i32::MAX,
    )?;
    integer_setting(
        lib,
        &t,
        &cfg,
        "encode_number_precision",
        |c| &mut c.precision,
        1,
        14,
    )?;
    enum_setting(
        lib,
        &t,
        &cfg,
        "encode_keep_buffer",
        None,
        |c| usize::from(c.keep_buffer),
        |c, v| c.keep_buffer = v != 0,
    )?;
    enum_setting(
        lib,
        &t,
        &cfg,
        "encode_invalid_numbers",
        Some(&["off", "on", "null"]),
        |c| c.encode_invalid_numbers,
        |c, v| c.encode_invalid_numbers = v,
    )?;
    enum_setting(
        lib,
        &t,
        &cfg,
        "decode_invalid_numbers",
        None,
        |c| usize::from(c.decode_invalid_numbers),
        |c, v| c.decode_invalid_numbers = v != 0,
    )?;
    let wrap = lib.wrap_function();
    t.set(
        "new",
        lib.function(move |lua, _| {
            let lib = Builder::from_parts(lua, wrap.clone());
            one(Value::Table(module(&lib)?))
        })?,
    )?;
    t.set(
        "null",
        Value::LightUserData(LightUserData(std::ptr::null_mut())),
    )?;
    t.set("_NAME", "cjson")?;
    t.set("_VERSION", "2.1.0")?;
    Ok(t)
}

/// `json_verify_arg_count`.
fn check_arg_count(args: &Args, n: usize) -> Result<(), Fail> {
    if args.len() > n {
        return args.error(n + 1, "found too many arguments");
    }
    Ok(())
}

/// Sets `t[name]` to a function reading and optionally changing one integer setting in
/// `min..=max`, as lua-cjson's integer options do.
fn integer_setting(
    lib: &Builder<'_>,
    t: &Table,
    cfg: &Shared,
    name: &'static str,
    field: fn(&mut Config) -> &mut i32,
    min: i32,
    max: i32,
) -> mlua::Result<()> {
    let c = cfg.clone();
    t.set(
        name,
        lib.function(move |_, a| {
            let args = Args::new(name, a);
            check_arg_count(&args, 1)?;
            one(integer_option(&args, 1, field(&mut c.lock()), min, max)?)
        })?,
    )
}

/// Sets `t[name]` to a function that reads and sets one of `cfg`'s enumerated options
/// (`options`, or off/on), as lua-cjson's `json_enum_option` does.
fn enum_setting(
    lib: &Builder<'_>,
    t: &Table,
    cfg: &Shared,
    name: &'static str,
    options: Option<&'static [&'static str]>,
    get: fn(&Config) -> usize,
    set: fn(&mut Config, usize),
) -> mlua::Result<()> {
    let c = cfg.clone();
    t.set(
        name,
        lib.function(move |lua, a| {
            let args = Args::new(name, a);
            check_arg_count(&args, 1)?;
            let mut cfg = c.lock();
            let mut setting = get(&cfg);
            let value = enum_option(lua, &args, 1, &mut setting, options, 1)?;
            set(&mut cfg, setting);
            one(value)
        })?,
    )
}

/// `json_integer_option`: sets `setting` from argument `n` unless nil; the current value.
fn integer_option(
    args: &Args,
    n: usize,
    setting: &mut i32,
    min: i32,
    max: i32,
) -> Result<Value, Fail> {
    if !args.is_nil(n) {
        #[allow(clippy::cast_possible_truncation)]
        let value = args.integer(n)? as i32;
        if !(min <= value && value <= max) {
            // The library reports the range against argument 1 whatever the position.
            return args.error(1, &format!("expected integer between {min} and {max}"));
        }
        *setting = value;
    }
    Ok(num(f64::from(*setting)))
}

/// `json_enum_option`: a boolean (`true` is `bool_true`) or one of `options` (by default
/// `off`/`on`); the current value, as a boolean when it is 0 or `bool_true`.
fn enum_option(
    lua: &Lua,
    args: &Args,
    n: usize,
    setting: &mut usize,
    options: Option<&[&str]>,
    bool_true: usize,
) -> Result<Value, Fail> {
    let options = options.unwrap_or(&["off", "on"]);
    if !args.is_nil(n) {
        if let Some(Value::Boolean(b)) = args.get(n) {
            *setting = usize::from(*b) * bool_true;
        } else {
            let text = args.bytes(n)?;
            let Some(i) = options.iter().position(|o| o.as_bytes() == c_string(&text)) else {
                return args.error(
                    n,
                    &format!(
                        "invalid option '{}'",
                        String::from_utf8_lossy(c_string(&text))
                    ),
                );
            };
            *setting = i;
        }
    }
    if *setting == 0 || *setting == bool_true {
        Ok(Value::Boolean(*setting != 0))
    } else {
        string(lua, options.get(*setting).copied().unwrap_or_default())
    }
}

// ===== Encoding =====

fn type_name(v: &Value) -> &'static str {
    super::type_name(Some(v))
}

fn encode(lua: &Lua, cfg: &Shared, a: MultiValue) -> Outcome {
    let args = Args::new("encode", a);
    if args.len() != 1 {
        return args.error(1, "expected 1 argument");
    }
    let cfg = *cfg.lock();
    let mut out = Vec::new();
    let value = args.get(1).cloned().unwrap_or(Value::Nil);
    Encoder { cfg: &cfg }.encode(lua, &value, &mut out)?;
    one(string(lua, out)?)
}

struct Encoder<'c> {
    cfg: &'c Config,
}

/// A table being written: how far the walk is, and the Lua stack slots the C library
/// would have in use there (its `lua_checkstack` bound is part of the behaviour). The
/// table itself (for an object, its key/value pairs as a flat list) is held in Lua.
struct Open {
    walk: Walk,
    slots: usize,
}

enum Walk {
    Array { len: usize, done: usize },
    Object { len: usize, done: usize },
}

impl Encoder<'_> {
    /// Writes `root`, walking nested tables with an explicit stack rather than recursion.
    fn encode(&self, lua: &Lua, root: &Value, out: &mut Vec<u8>) -> Result<(), Fail> {
        let mut stack: Vec<Open> = Vec::new();
        let mut held = Held::new(lua)?;
        self.value(lua, root, 1, &mut stack, &mut held, out)?;
        loop {
            let at = stack.len();
            let Some(open) = stack.last_mut() else {
                break;
            };
            let slots = open.slots;
            let next = match &mut open.walk {
                Walk::Array { len, done } if *done < *len => {
                    if *done > 0 {
                        out.push(b',');
                    }
                    *done += 1;
                    let table: Table = held.get(at)?;
                    Some((table.raw_get::<Value>(*done)?, slots + 1))
                }
                Walk::Object { len, done } if *done < *len => {
                    if *done > 0 {
                        out.push(b',');
                    }
                    *done += 1;
                    let list: Table = held.get(at)?;
                    let key: Value = list.raw_get(2 * *done - 1)?;
                    match &key {
                        Value::Integer(_) | Value::Number(_) => {
                            out.push(b'"');
                            self.scalar_number(&key, out)?;
                            out.extend_from_slice(b"\":");
                        }
                        Value::String(s) => {
                            append_string(&s.as_bytes(), out);
                            out.push(b':');
                        }
                        _ => {
                            return fail(format!(
                                "Cannot serialise {}: table key must be a number or string",
                                type_name(&key)
                            ));
                        }
                    }
                    Some((list.raw_get::<Value>(2 * *done)?, slots + 2))
                }
                _ => None,
            };
            match next {
                Some((item, slots)) => self.value(lua, &item, slots, &mut stack, &mut held, out)?,
                None => {
                    if let Some(done) = stack.pop() {
                        held.truncate(at)?;
                        out.push(match done.walk {
                            Walk::Array { .. } => b']',
                            Walk::Object { .. } => b'}',
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn scalar_number(&self, v: &Value, out: &mut Vec<u8>) -> Result<(), Fail> {
        match v {
            Value::Integer(i) => self.number(super::number_of_integer(*i), out),
            Value::Number(x) => self.number(*x, out),
            _ => Ok(()),
        }
    }

    /// Writes a scalar, or opens a table on `stack` with `slots` in use.
    fn value(
        &self,
        lua: &Lua,
        v: &Value,
        slots: usize,
        stack: &mut Vec<Open>,
        held: &mut Held,
        out: &mut Vec<u8>,
    ) -> Result<(), Fail> {
        match v {
            Value::String(s) => append_string(&s.as_bytes(), out),
            Value::Integer(_) | Value::Number(_) => self.scalar_number(v, out)?,
            Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Nil => out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
            Value::Table(t) => {
                let depth = stack.len() + 1;
                if i64::try_from(depth).unwrap_or(i64::MAX) > i64::from(self.cfg.encode_max_depth)
                    || slots + 3 > MAX_C_STACK
                {
                    return fail(format!("Cannot serialise, excessive nesting ({depth})"));
                }
                let walk = match self.array_length(t)? {
                    Some(len) if len > 0 => {
                        out.push(b'[');
                        held.push(t)?;
                        Walk::Array { len, done: 0 }
                    }
                    _ => {
                        out.push(b'{');
                        let list = lua.create_table()?;
                        let mut len = 0;
                        for pair in t.pairs::<Value, Value>() {
                            let (k, item) = pair?;
                            list.raw_set(2 * len + 1, k)?;
                            list.raw_set(2 * len + 2, item)?;
                            len += 1;
                        }
                        held.push(list)?;
                        Walk::Object { len, done: 0 }
                    }
                };
                stack.push(Open { walk, slots });
            }
            _ => {
                return fail(format!(
                    "Cannot serialise {}: type not supported",
                    type_name(v)
                ));
            }
        }
        Ok(())
    }

    fn number(&self, x: f64, out: &mut Vec<u8>) -> Result<(), Fail> {
        match self.cfg.encode_invalid_numbers {
            0 if !x.is_finite() => return fail("Cannot serialise number: must not be NaN or Inf"),
            1 if x.is_nan() => {
                out.extend_from_slice(b"nan");
                return Ok(());
            }
            2 if !x.is_finite() => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
            _ => {}
        }
        let precision = usize::try_from(self.cfg.precision).unwrap_or(14);
        out.extend_from_slice(format_g(x, precision).as_bytes());
        Ok(())
    }

    /// `lua_array_length`: `Some(n)` for an array of `n` (0 when empty), `None` for an
    /// object (a non-positive-integer key, or too sparse with conversion on).
    #[allow(clippy::cast_possible_truncation)]
    fn array_length(&self, t: &Table) -> Result<Option<usize>, Fail> {
        let mut max: i64 = 0;
        let mut items: i64 = 0;
        for pair in t.pairs::<Value, Value>() {
            let (k, _) = pair?;
            let k = match k {
                Value::Integer(i) => super::number_of_integer(i),
                Value::Number(x) => x,
                _ => return Ok(None),
            };
            if k == 0.0 || k.floor() != k || k < 1.0 {
                return Ok(None);
            }
            // The C library keeps the largest key in an int.
            let k = if k > f64::from(i32::MAX) {
                i64::from(i32::MIN)
            } else {
                k as i64
            };
            if k > max {
                max = k;
            }
            items += 1;
        }
        let ratio = i64::from(self.cfg.sparse_ratio);
        if ratio > 0 && max > items * ratio && max > i64::from(self.cfg.sparse_safe) {
            if !self.cfg.sparse_convert {
                return fail("Cannot serialise table: excessively sparse array");
            }
            return Ok(None);
        }
        Ok(Some(usize::try_from(max).unwrap_or(0)))
    }
}

/// A Lua string as JSON: quoted, with lua-cjson's escapes.
fn append_string(s: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..=0x1f | 0x7f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

// ===== Decoding =====

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    String,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    /// An invalid token: the text says why.
    Error(&'static str),
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::ObjBegin => "T_OBJ_BEGIN",
            Kind::ObjEnd => "T_OBJ_END",
            Kind::ArrBegin => "T_ARR_BEGIN",
            Kind::ArrEnd => "T_ARR_END",
            Kind::String => "T_STRING",
            Kind::Number => "T_NUMBER",
            Kind::Boolean => "T_BOOLEAN",
            Kind::Null => "T_NULL",
            Kind::Colon => "T_COLON",
            Kind::Comma => "T_COMMA",
            Kind::End => "T_END",
            Kind::Error(why) => why,
        }
    }
}

struct Token {
    kind: Kind,
    /// Where the token (or, for an error, the fault) starts.
    index: usize,
    string: Vec<u8>,
    number: f64,
    boolean: bool,
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    depth: i32,
    /// Lua stack slots the C parser would have in use.
    slots: usize,
    cfg: Config,
}

impl Parser<'_> {
    /// The byte at `i`; past the end (or at an embedded NUL) C sees the terminating NUL.
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn token(&mut self, kind: Kind, index: usize) -> Token {
        Token {
            kind,
            index,
            string: Vec::new(),
            number: 0.0,
            boolean: false,
        }
    }

    fn error_token(&mut self, why: &'static str) -> Token {
        let index = self.pos;
        self.token(Kind::Error(why), index)
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let index = self.pos;
        let ch = self.at(self.pos);
        let single = match ch {
            b'{' => Some(Kind::ObjBegin),
            b'}' => Some(Kind::ObjEnd),
            b'[' => Some(Kind::ArrBegin),
            b']' => Some(Kind::ArrEnd),
            b',' => Some(Kind::Comma),
            b':' => Some(Kind::Colon),
            0 => return self.token(Kind::End, index),
            _ => None,
        };
        if let Some(kind) = single {
            self.pos += 1;
            return self.token(kind, index);
        }
        if !matches!(
            ch,
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'"' | b'+' | b'-'
        ) && !ch.is_ascii_digit()
        {
            return self.error_token("invalid token");
        }
        if ch == b'"' {
            return self.string_token(index);
        }
        if ch == b'-' || ch.is_ascii_digit() {
            if !self.cfg.decode_invalid_numbers && self.is_invalid_number() {
                return self.error_token("invalid number");
            }
            return self.number_token(index);
        }
        let rest = &self.data[self.pos.min(self.data.len())..];
        if rest.starts_with(b"true") {
            self.pos += 4;
            let mut t = self.token(Kind::Boolean, index);
            t.boolean = true;
            return t;
        }
        if rest.starts_with(b"false") {
            self.pos += 5;
            return self.token(Kind::Boolean, index);
        }
        if rest.starts_with(b"null") {
            self.pos += 4;
            return self.token(Kind::Null, index);
        }
        if self.cfg.decode_invalid_numbers && self.is_invalid_number() {
            return self.number_token(index);
        }
        self.error_token("invalid token")
    }

    /// `json_is_invalid_number`: a leading `+`, hex, leading zeros, inf or nan.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        }
        if c <= b'9' {
            return false;
        }
        let word = c_string(self.data.get(p..).unwrap_or_default());
        let starts = |w: &[u8]| word.len() >= 3 && word[..3].eq_ignore_ascii_case(w);
        starts(b"inf") || starts(b"nan")
    }

    fn number_token(&mut self, index: usize) -> Token {
        let rest = c_string(self.data.get(self.pos..).unwrap_or_default());
        match super::strtod(rest) {
            Some((x, len)) => {
                self.pos += len;
                let mut t = self.token(Kind::Number, index);
                t.number = x;
                t
            }
            None => self.error_token("invalid number"),
        }
    }

    fn string_token(&mut self, index: usize) -> Token {
        self.pos += 1;
        let mut s = Vec::new();
        loop {
            let ch = self.at(self.pos);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.error_token("unexpected end of string");
            }
            if ch == b'\\' {
                let translated = match self.at(self.pos + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => b'\x08',
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => b'\x0c',
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape(&mut s) {
                            continue;
                        }
                        return self.error_token("invalid unicode escape code");
                    }
                    _ => return self.error_token("invalid escape code"),
                };
                s.push(translated);
                self.pos += 2;
                continue;
            }
            s.push(ch);
            self.pos += 1;
        }
        self.pos += 1;
        let mut t = self.token(Kind::String, index);
        t.string = s;
        t
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..4 {
            v = (v << 4) | char::from(self.at(at + i)).to_digit(16)?;
        }
        Some(v)
    }

    /// `\uXXXX` (or a surrogate pair) at `pos` to UTF-8; false when malformed.
    fn unicode_escape(&mut self, s: &mut Vec<u8>) -> bool {
        let Some(mut code) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut len = 6;
        if code & 0xF800 == 0xD800 {
            if code & 0x400 != 0 {
                return false;
            }
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            code = 0x10000 + (((code & 0x3FF) << 10) | (low & 0x3FF));
            len = 12;
        }
        let mut buf = [0u8; 4];
        match char::from_u32(code) {
            Some(c) => s.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
            None => {
                // A lone low surrogate cannot reach here; other code points up to
                // U+10FFFF are chars, and surrogates were handled above.
                return false;
            }
        }
        self.pos += len;
        true
    }

    fn parse_error<T>(&self, expected: &str, token: &Token) -> Result<T, Fail> {
        fail(format!(
            "Expected {expected} but found {} at character {}",
            token.kind.name(),
            token.index + 1
        ))
    }

    fn descend(&mut self, slots: usize) -> Result<(), Fail> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && self.slots + slots <= MAX_C_STACK {
            return Ok(());
        }
        fail(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.pos
        ))
    }

    /// `ascend` out of a container that is complete.
    fn close(&mut self) {
        self.slots -= 1;
        self.depth -= 1;
    }

    /// Reads an object key and its colon, leaving the token after the colon.
    fn key(&mut self, lua: &Lua, token: &Token) -> Result<(mlua::String, Token), Fail> {
        if token.kind != Kind::String {
            return self.parse_error("object key string", token);
        }
        let key = lua.create_string(&token.string)?;
        self.slots += 1;
        let colon = self.next_token();
        if colon.kind != Kind::Colon {
            return self.parse_error("colon", &colon);
        }
        Ok((key, self.next_token()))
    }

    /// The value starting at `token`; nested containers are kept on an explicit stack, the
    /// tables (and an object's pending key) held in Lua.
    fn value(&mut self, lua: &Lua, first: Token) -> Result<Value, Fail> {
        let mut stack: Vec<Nest> = Vec::new();
        let mut held = Held::new(lua)?;
        let mut token = first;
        loop {
            // `token` starts a value.
            let mut value = match token.kind {
                Kind::String => string(lua, std::mem::take(&mut token.string))?,
                Kind::Number => num(token.number),
                Kind::Boolean => Value::Boolean(token.boolean),
                Kind::Null => Value::LightUserData(LightUserData(std::ptr::null_mut())),
                Kind::ObjBegin => {
                    self.descend(3)?;
                    let table = lua.create_table()?;
                    self.slots += 1;
                    let next = self.next_token();
                    if next.kind == Kind::ObjEnd {
                        self.close();
                        Value::Table(table)
                    } else {
                        let at = held.push(table)?;
                        let (key, after) = self.key(lua, &next)?;
                        held.push(key)?;
                        stack.push(Nest::Object { at });
                        token = after;
                        continue;
                    }
                }
                Kind::ArrBegin => {
                    self.descend(2)?;
                    let table = lua.create_table()?;
                    self.slots += 1;
                    let next = self.next_token();
                    if next.kind == Kind::ArrEnd {
                        self.close();
                        Value::Table(table)
                    } else {
                        let at = held.push(table)?;
                        stack.push(Nest::Array { at, index: 1 });
                        token = next;
                        continue;
                    }
                }
                _ => return self.parse_error("value", &token),
            };
            // Hand the finished value to the containers it completes.
            loop {
                match stack.last_mut() {
                    None => return Ok(value),
                    Some(Nest::Array { at, index }) => {
                        let at = *at;
                        let table: Table = held.get(at)?;
                        table.raw_set(*index, value)?;
                        *index += 1;
                        let next = self.next_token();
                        if next.kind == Kind::ArrEnd {
                            stack.pop();
                            held.truncate(at)?;
                            self.close();
                            value = Value::Table(table);
                            continue;
                        }
                        if next.kind != Kind::Comma {
                            return self.parse_error("comma or array end", &next);
                        }
                        token = self.next_token();
                        break;
                    }
                    Some(Nest::Object { at }) => {
                        let at = *at;
                        let table: Table = held.get(at)?;
                        let key: Value = held.get(at + 1)?;
                        table.raw_set(key, value)?;
                        self.slots -= 1;
                        let next = self.next_token();
                        if next.kind == Kind::ObjEnd {
                            stack.pop();
                            held.truncate(at)?;
                            self.close();
                            value = Value::Table(table);
                            continue;
                        }
                        if next.kind != Kind::Comma {
                            return self.parse_error("comma or object end", &next);
                        }
                        let key_token = self.next_token();
                        let (new_key, after) = self.key(lua, &key_token)?;
                        held.set(at + 1, new_key)?;
                        token = after;
                        break;
                    }
                }
            }
        }
    }
}

/// A container being filled while decoding: where its table is held, and for an array
/// the next index (an object's pending key is held just after its table).
enum Nest {
    Array { at: usize, index: i64 },
    Object { at: usize },
}

fn decode(lua: &Lua, cfg: &Shared, a: MultiValue) -> Outcome {
    let args = Args::new("decode", a);
    if args.len() != 1 {
        return args.error(1, "expected 1 argument");
    }
    let data = args.bytes(1)?;
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return fail("JSON parser does not support UTF-16 or UTF-32");
    }
    let mut p = Parser {
        data: &data,
        pos: 0,
        depth: 0,
        slots: 1,
        cfg: *cfg.lock(),
    };
    let token = p.next_token();
    let value = p.value(lua, token)?;
    let token = p.next_token();
    if token.kind != Kind::End {
        return p.parse_error("the end", &token);
    }
    one(value)
}
