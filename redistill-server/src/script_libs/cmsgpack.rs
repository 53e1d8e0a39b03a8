//! `cmsgpack`: lua-cmsgpack 0.4.0's MessagePack encoding of Lua values.
//!
//! A table whose keys are exactly 1..n (an empty one included) is an array, any other a
//! map; a number equal to a 64-bit integer is the narrowest integer form, any other a
//! float when a float holds it exactly, else a double. Tables nested 16 deep encode as nil.
//! Decoding reads the forms 0.4.0 knows (no bin or ext types).

use mlua::{Lua, MultiValue, Table, Value};

use super::{Args, Builder, Fail, Held, Outcome, fail, num, string};

/// Tables this deep encode as nil (the guard against cycles).
const MAX_NESTING: usize = 16;

/// The `cmsgpack` table.
pub(super) fn module(lib: &Builder<'_>) -> mlua::Result<Table> {
    let t = lib.lua().create_table()?;
    t.set("_NAME", "cmsgpack")?;
    t.set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    t.set("pack", lib.function(pack)?)?;
    t.set(
        "unpack",
        lib.function(|lua, a| {
            let args = Args::new("unpack", a);
            unpack_full(lua, &args, 0, 0)
        })?,
    )?;
    t.set(
        "unpack_one",
        lib.function(|lua, a| {
            let args = Args::new("unpack_one", a);
            let offset = args.opt_integer(2, 0)?;
            unpack_full(lua, &args, 1, c_int(offset))
        })?,
    )?;
    t.set(
        "unpack_limit",
        lib.function(|lua, a| {
            let args = Args::new("unpack_limit", a);
            let limit = args.integer(2)?;
            let offset = args.opt_integer(3, 0)?;
            unpack_full(lua, &args, c_int(limit), c_int(offset))
        })?,
    )?;
    Ok(t)
}

/// A `lua_Integer` stored in a C `int`.
#[allow(clippy::cast_possible_truncation)]
fn c_int(n: i64) -> i32 {
    n as i32
}

fn pack(lua: &Lua, a: MultiValue) -> Outcome {
    let args = Args::new("pack", a);
    if args.len() == 0 {
        return args.error(0, "MessagePack pack needs input.");
    }
    let mut out = Vec::new();
    for value in &args.values {
        encode(value, &mut out, 0)?;
    }
    super::one(string(lua, out)?)
}

fn encode(value: &Value, out: &mut Vec<u8>, level: usize) -> Result<(), Fail> {
    match value {
        Value::String(s) => encode_bytes(&s.as_bytes(), out),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(super::number_of_integer(*i), out),
        Value::Number(x) => encode_number(*x, out),
        Value::Table(t) if level < MAX_NESTING => encode_table(t, out, level)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

fn encode_bytes(s: &[u8], out: &mut Vec<u8>) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if let Ok(l) = u8::try_from(len) {
        out.extend_from_slice(&[0xd9, l]);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(0xda);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        out.push(0xdb);
        #[allow(clippy::cast_possible_truncation)]
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn encode_number(x: f64, out: &mut Vec<u8>) {
    // `(int64_t)x == x`: finite, integral and in range.
    if x.is_finite()
        && x.trunc() == x
        && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&x)
    {
        encode_int(x as i64, out);
        return;
    }
    let f = x as f32;
    if f64::from(f) == x {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&x.to_be_bytes());
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn encode_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// `table_is_an_array`: every key a positive number equal to a C `int`, and as many keys
/// as the largest.
#[allow(clippy::cast_possible_truncation)]
fn is_array(t: &Table) -> mlua::Result<bool> {
    let mut count: i64 = 0;
    let mut max: i32 = 0;
    for pair in t.pairs::<Value, Value>() {
        let (key, _) = pair?;
        let n = match key {
            Value::Integer(i) => super::number_of_integer(i),
            Value::Number(x) => x,
            _ => return Ok(false),
        };
        if n <= 0.0 || !(n.trunc() == n && n <= f64::from(i32::MAX)) {
            return Ok(false);
        }
        let n = n as i32;
        if n > max {
            max = n;
        }
        count += 1;
    }
    Ok(i64::from(max) == count)
}

fn encode_header(len: usize, small: u8, mid: u8, out: &mut Vec<u8>) {
    if len <= 15 {
        #[allow(clippy::cast_possible_truncation)]
        out.push(small | len as u8);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(mid);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        out.push(mid + 1);
        #[allow(clippy::cast_possible_truncation)]
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn encode_table(t: &Table, out: &mut Vec<u8>, level: usize) -> Result<(), Fail> {
    if is_array(t)? {
        let len = t.raw_len();
        encode_header(len, 0x90, 0xdc, out);
        for i in 1..=len {
            let v: Value = t.get(i)?;
            encode(&v, out, level + 1)?;
        }
    } else {
        // Counted first, then walked again: holding every pair would take one mlua
        // reference each.
        let mut len = 0;
        for pair in t.pairs::<Value, Value>() {
            pair?;
            len += 1;
        }
        encode_header(len, 0x80, 0xde, out);
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair?;
            encode(&k, out, level + 1)?;
            encode(&v, out, level + 1)?;
        }
    }
    Ok(())
}

/// `LUAI_MAXCSTACK`: the most stack slots a C function may ask Lua for.
const MAX_C_STACK: usize = 8000;

/// Why decoding stopped.
enum Stop {
    Eof,
    BadFormat,
    /// `luaL_checkstack` failed with this message.
    Overflow(&'static str),
    /// Setting a decoded map entry failed (a nil or NaN key).
    BadKey(&'static str),
    Lua(mlua::Error),
}

impl From<mlua::Error> for Stop {
    fn from(e: mlua::Error) -> Self {
        Stop::Lua(e)
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&[u8], Stop> {
        if self.left() < n {
            return Err(Stop::Eof);
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn be(&mut self, skip: usize, n: usize) -> Result<u64, Stop> {
        if self.left() < skip + n {
            return Err(Stop::Eof);
        }
        let s = self.take(skip + n)?;
        Ok(s[skip..]
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
}

/// What one MessagePack item starts: a value, or a container of `n` items.
enum Item {
    Value(Value),
    Array(usize),
    Map(usize),
}

#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss
)]
fn item(lua: &Lua, c: &mut Cursor<'_>, tag: u8) -> Result<Item, Stop> {
    let value = match tag {
        0xcc => num(c.be(1, 1)? as f64),
        0xd0 => num(f64::from(c.be(1, 1)? as u8 as i8)),
        0xcd => num(c.be(1, 2)? as f64),
        0xd1 => num(f64::from(c.be(1, 2)? as u16 as i16)),
        0xce => num(c.be(1, 4)? as f64),
        0xd2 => num(f64::from(c.be(1, 4)? as u32 as i32)),
        0xcf => num(c.be(1, 8)? as f64),
        0xd3 => num(c.be(1, 8)? as i64 as f64),
        0xc0 => {
            c.pos += 1;
            Value::Nil
        }
        0xc3 | 0xc2 => {
            c.pos += 1;
            Value::Boolean(tag == 0xc3)
        }
        0xca => num(f64::from(f32::from_bits(c.be(1, 4)? as u32))),
        0xcb => num(f64::from_bits(c.be(1, 8)?)),
        0xd9 => decode_str(lua, c, 1)?,
        0xda => decode_str(lua, c, 2)?,
        0xdb => decode_str(lua, c, 4)?,
        0xdc => return Ok(Item::Array(c.be(1, 2)? as usize)),
        0xdd => return Ok(Item::Array(c.be(1, 4)? as usize)),
        0xde => return Ok(Item::Map(c.be(1, 2)? as usize)),
        0xdf => return Ok(Item::Map(c.be(1, 4)? as usize)),
        _ if tag & 0x80 == 0 => {
            c.pos += 1;
            num(f64::from(tag))
        }
        _ if tag & 0xe0 == 0xe0 => {
            c.pos += 1;
            num(f64::from(tag as i8))
        }
        _ if tag & 0xe0 == 0xa0 => {
            let len = usize::from(tag & 0x1f);
            let s = c.take(1 + len)?;
            Value::String(lua.create_string(&s[1..])?)
        }
        _ if tag & 0xf0 == 0x90 => {
            c.pos += 1;
            return Ok(Item::Array(usize::from(tag & 0x0f)));
        }
        _ if tag & 0xf0 == 0x80 => {
            c.pos += 1;
            return Ok(Item::Map(usize::from(tag & 0x0f)));
        }
        _ => return Err(Stop::BadFormat),
    };
    Ok(Item::Value(value))
}

fn decode_str(lua: &Lua, c: &mut Cursor<'_>, width: usize) -> Result<Value, Stop> {
    let start = c.pos;
    let len = usize::try_from(c.be(1, width)?).unwrap_or(usize::MAX);
    c.pos = start;
    if c.left() - 1 - width < len {
        return Err(Stop::Eof);
    }
    let s = c.take(1 + width + len)?;
    Ok(Value::String(lua.create_string(&s[1 + width..])?))
}

/// A container being filled: where its table is held (a map's pending key just after it),
/// how many items are left, and the Lua stack top below its table.
enum Nest {
    Array {
        at: usize,
        left: usize,
        index: usize,
        top: usize,
    },
    Map {
        at: usize,
        left: usize,
        has_key: bool,
        top: usize,
    },
}

/// `mp_decode_to_lua_type` for one top-level value, entered with `top` Lua stack slots in
/// use; nested containers are kept on an explicit stack (their tables held in Lua) and the
/// C library's stack checks are replayed, so that deep input fails as it does in Redis.
fn decode(lua: &Lua, c: &mut Cursor<'_>, top: usize) -> Result<Value, Stop> {
    let mut stack: Vec<Nest> = Vec::new();
    let mut held = Held::new(lua)?;
    let mut top = top;
    loop {
        if c.left() < 1 {
            return Err(Stop::Eof);
        }
        if top + 1 > MAX_C_STACK {
            return Err(Stop::Overflow(
                "too many return values at once; use unpack_one or unpack_limit instead.",
            ));
        }
        let mut value = match item(lua, c, c.data[c.pos])? {
            Item::Value(v) => v,
            Item::Array(n) => {
                let table = lua.create_table()?;
                if top + 2 > MAX_C_STACK {
                    return Err(Stop::Overflow("in function mp_decode_to_lua_array"));
                }
                if n > 0 {
                    let at = held.push(table)?;
                    stack.push(Nest::Array {
                        at,
                        left: n,
                        index: 1,
                        top,
                    });
                    top += 2;
                    continue;
                }
                Value::Table(table)
            }
            Item::Map(n) => {
                let table = lua.create_table()?;
                if n > 0 {
                    let at = held.push(table)?;
                    held.push(Value::Nil)?;
                    stack.push(Nest::Map {
                        at,
                        left: n,
                        has_key: false,
                        top,
                    });
                    top += 1;
                    continue;
                }
                Value::Table(table)
            }
        };
        // Hand the finished value to the containers it completes.
        loop {
            match stack.last_mut() {
                None => return Ok(value),
                Some(Nest::Array {
                    at,
                    left,
                    index,
                    top: base,
                }) => {
                    let table: Table = held.get(*at)?;
                    table.raw_set(*index, value)?;
                    *index += 1;
                    *left -= 1;
                    if *left > 0 {
                        top = *base + 2;
                        break;
                    }
                    let at = *at;
                    stack.pop();
                    held.truncate(at)?;
                    value = Value::Table(table);
                }
                Some(Nest::Map {
                    at,
                    left,
                    has_key,
                    top: base,
                }) => {
                    if !*has_key {
                        held.set(*at + 1, value)?;
                        *has_key = true;
                        top = *base + 2;
                        break;
                    }
                    *has_key = false;
                    let table: Table = held.get(*at)?;
                    let key: Value = held.get(*at + 1)?;
                    match &key {
                        Value::Nil => return Err(Stop::BadKey("table index is nil")),
                        Value::Number(x) if x.is_nan() => {
                            return Err(Stop::BadKey("table index is NaN"));
                        }
                        _ => table.raw_set(key, value)?,
                    }
                    *left -= 1;
                    if *left > 0 {
                        top = *base + 1;
                        break;
                    }
                    let at = *at;
                    stack.pop();
                    held.truncate(at)?;
                    value = Value::Table(table);
                }
            }
        }
    }
}

/// `mp_unpack_full`: decodes up to `limit` values from `offset` (both 0: all values, and
/// no offset result).
fn unpack_full(lua: &Lua, args: &Args, limit: i32, offset: i32) -> Outcome {
    let data = args.bytes(1)?;
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return fail(format!(
            "Invalid request to unpack with offset of {offset} and limit of {}.",
            data.len()
        ));
    }
    let start = usize::try_from(offset).unwrap_or(0);
    if start > data.len() {
        return fail(format!(
            "Start offset {offset} greater than input length {}.",
            data.len()
        ));
    }
    let limit = if decode_all { i32::MAX } else { limit };
    let mut c = Cursor {
        data: &data,
        pos: start,
    };
    // Results are kept in Lua: there may be thousands.
    let mut values = Held::new(lua)?;
    let mut count = 0;
    while c.left() > 0 && count < limit {
        // The string argument and the values decoded so far are on the Lua stack.
        match decode(lua, &mut c, 1 + values.len()) {
            Ok(v) => {
                values.push(v)?;
            }
            Err(Stop::Eof) => return fail("Missing bytes in input."),
            Err(Stop::BadFormat) => return fail("Bad data format in input."),
            Err(Stop::Overflow(why)) => return fail(format!("stack overflow ({why})")),
            Err(Stop::BadKey(why)) => return Err(Fail::Bare(why.to_owned())),
            Err(Stop::Lua(e)) => return Err(Fail::Lua(e)),
        }
        count += 1;
    }
    if !decode_all {
        if 1 + values.len() + 1 > MAX_C_STACK {
            return fail("stack overflow (in function mp_unpack_full)");
        }
        let next = if c.left() == 0 {
            -1.0
        } else {
            #[allow(clippy::cast_precision_loss)]
            let p = c.pos as f64;
            p
        };
        // The next offset comes first.
        let mut spread = Held::new(lua)?;
        spread.push(num(next))?;
        for i in 1..=values.len() {
            spread.push(values.get::<Value>(i)?)?;
        }
        return spread.spread();
    }
    values.spread()
}
