//! `struct`: Roberto Ierusalimschy's struct library (as patched in Redis) packing Lua
//! values into binary strings and back.
//!
//! Format: `>` big endian, `<` little endian, `![n]` maximum alignment (default 8), `x` a
//! zero byte, `b B h H l L T` integers of 1, 2, 8 and 8 bytes (`T` is `size_t`), `i[n]`
//! and `I[n]` integers of n bytes (default 4, at most 32), `f` float, `d` double, `c[n]` n
//! chars (0: the whole string when packing, the previous number when unpacking), `s` a
//! zero-terminated string, space ignored. The native layout is x86-64's: little endian.

use mlua::{Lua, MultiValue, Table, Value};

use super::{Args, Builder, Fail, Held, Outcome, c_string, fail, num, one, string};

/// `MAXINTSIZE`: the widest `i`/`I`.
const MAX_INT_SIZE: usize = 32;
/// `MAXALIGN` on x86-64.
const MAX_ALIGN: usize = 8;

/// The `struct` table.
pub(super) fn module(lib: &Builder<'_>) -> mlua::Result<Table> {
    let t = lib.lua().create_table()?;
    t.set("pack", lib.function(pack)?)?;
    t.set("unpack", lib.function(unpack)?)?;
    t.set("size", lib.function(size)?)?;
    Ok(t)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endian {
    Little,
    Big,
}

struct Header {
    endian: Endian,
    align: usize,
}

impl Header {
    fn new() -> Self {
        Header {
            endian: Endian::Little,
            align: 1,
        }
    }
}

/// A format string being read.
struct Format<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Format<'_> {
    fn next(&mut self) -> Option<u8> {
        let b = self.bytes.get(self.pos).copied()?;
        self.pos += 1;
        Some(b)
    }

    /// `getnum`: a decimal count, or `default` when no digit follows.
    fn number(&mut self, default: usize) -> Result<usize, Fail> {
        if !self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: i32 = 0;
        while let Some(d) = self.bytes.get(self.pos).filter(|b| b.is_ascii_digit()) {
            let d = i32::from(d - b'0');
            if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
                return fail("integral size overflow");
            }
            a = a * 10 + d;
            self.pos += 1;
        }
        Ok(usize::try_from(a).unwrap_or(0))
    }

    /// `optsize`: the size of option `opt`, reading its count.
    fn size(&mut self, opt: u8) -> Result<usize, Fail> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let size = self.number(4)?;
                if size > MAX_INT_SIZE {
                    return fail(format!(
                        "integral size {size} is larger than limit of {MAX_INT_SIZE}"
                    ));
                }
                size
            }
            _ => 0,
        })
    }

    /// `controloptions`: endianness, alignment, space; anything else is an error.
    fn control(&mut self, args: &Args, opt: u8, h: &mut Header) -> Result<(), Fail> {
        match opt {
            b' ' => Ok(()),
            b'>' => {
                h.endian = Endian::Big;
                Ok(())
            }
            b'<' => {
                h.endian = Endian::Little;
                Ok(())
            }
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if !a.is_power_of_two() {
                    return fail(format!("alignment {a} is not a power of 2"));
                }
                h.align = a;
                Ok(())
            }
            _ => args.error(1, &format!("invalid format option '{}'", char::from(opt))),
        }
    }
}

/// `gettoalign`: padding before an item of `size` at offset `len`.
fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

fn is_integer_option(opt: u8) -> bool {
    matches!(
        opt,
        b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I'
    )
}

/// The C cast of a `lua_Number` to the library's 64-bit unsigned integer.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
fn to_uint(n: f64) -> u64 {
    if n < 0.0 {
        super::number_to_integer(n) as u64
    } else if n >= 18_446_744_073_709_551_616.0 || n.is_nan() {
        // What cvttsd2si-based conversion yields out of range.
        if n.is_nan() { 0x8000_0000_0000_0000 } else { 0 }
    } else {
        n as u64
    }
}

fn pack(lua: &Lua, a: MultiValue) -> Outcome {
    let mut args = Args::new("pack", a);
    // The library pushes a nil after the arguments, so the first missing one reads as nil.
    args.values.push(Value::Nil);
    let fmt_bytes = args.bytes(1)?;
    let mut fmt = Format {
        bytes: c_string(&fmt_bytes),
        pos: 0,
    };
    let mut h = Header::new();
    let mut arg = 2;
    let mut out: Vec<u8> = Vec::new();
    while let Some(opt) = fmt.next() {
        let mut size = fmt.size(opt)?;
        let pad = to_align(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            _ if is_integer_option(opt) => {
                let n = args.number(arg)?;
                arg += 1;
                let mut value = to_uint(n);
                let mut buf = [0u8; MAX_INT_SIZE];
                for byte in buf.iter_mut().take(size) {
                    *byte = (value & 0xff) as u8;
                    value >>= 8;
                }
                let buf = &mut buf[..size];
                if h.endian == Endian::Big {
                    buf.reverse();
                }
                out.extend_from_slice(buf);
            }
            b'x' => out.push(0),
            b'f' => {
                #[allow(clippy::cast_possible_truncation)]
                let f = args.number(arg)? as f32;
                arg += 1;
                out.extend_from_slice(&match h.endian {
                    Endian::Little => f.to_le_bytes(),
                    Endian::Big => f.to_be_bytes(),
                });
            }
            b'd' => {
                let d = args.number(arg)?;
                arg += 1;
                out.extend_from_slice(&match h.endian {
                    Endian::Little => d.to_le_bytes(),
                    Endian::Big => d.to_be_bytes(),
                });
            }
            b'c' | b's' => {
                let s = args.bytes(arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // The library checks the argument after the string's.
                    return args.error(arg, "string too short");
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => fmt.control(&args, opt, &mut h)?,
        }
    }
    one(string(lua, out)?)
}

/// `getinteger`: `size` bytes as an integer, sign-extended for signed options.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_wrap)]
fn get_integer(bytes: &[u8], endian: Endian, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let mut push = |b: u8| l = (l << 8) | u64::from(b);
    match endian {
        Endian::Big => bytes.iter().for_each(|b| push(*b)),
        Endian::Little => bytes.iter().rev().for_each(|b| push(*b)),
    }
    if !signed {
        return l as f64;
    }
    // x86-64 shifts by the count modulo 64, as the C code's shift does past 8 bytes.
    let shift = (bytes.len() * 8).wrapping_sub(1) % 64;
    let mask = u64::MAX << shift;
    if l & mask != 0 {
        l |= mask;
    }
    (l as i64) as f64
}

fn unpack(lua: &Lua, a: MultiValue) -> Outcome {
    let args = Args::new("unpack", a);
    let fmt_bytes = args.bytes(1)?;
    let data = args.bytes(2)?;
    let ld = data.len();
    // The offset is a size_t in the library: only 0 is refused; a negative one wraps
    // around and fails the length checks.
    #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
    let start = args.opt_integer(3, 1)? as u64 as usize;
    if start == 0 {
        return args.error(3, "offset must be 1 or greater");
    }
    let mut pos = start - 1;
    let mut fmt = Format {
        bytes: c_string(&fmt_bytes),
        pos: 0,
    };
    let mut h = Header::new();
    // Results are kept in Lua: a format may produce thousands of strings.
    let mut results = Held::new(lua)?;
    while let Some(opt) = fmt.next() {
        let mut size = fmt.size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return args.error(2, "data string too short");
        }
        match opt {
            _ if is_integer_option(opt) => {
                let signed = opt.is_ascii_lowercase();
                results.push(num(get_integer(&data[pos..pos + size], h.endian, signed)))?;
            }
            b'x' => {}
            b'f' => {
                let mut raw = [0u8; 4];
                raw.copy_from_slice(&data[pos..pos + 4]);
                let f = match h.endian {
                    Endian::Little => f32::from_le_bytes(raw),
                    Endian::Big => f32::from_be_bytes(raw),
                };
                results.push(num(f64::from(f)))?;
            }
            b'd' => {
                let mut raw = [0u8; 8];
                raw.copy_from_slice(&data[pos..pos + 8]);
                let d = match h.endian {
                    Endian::Little => f64::from_le_bytes(raw),
                    Endian::Big => f64::from_be_bytes(raw),
                };
                results.push(num(d))?;
            }
            b'c' => {
                if size == 0 {
                    let previous = if results.len() == 0 {
                        None
                    } else {
                        super::to_number(&results.get::<Value>(results.len())?)
                    };
                    let Some(n) = previous else {
                        return fail("format 'c0' needs a previous size");
                    };
                    results.truncate(results.len())?;
                    size = to_uint(n).try_into().unwrap_or(usize::MAX);
                    if !(size <= ld && pos <= ld - size) {
                        return args.error(2, "data string too short");
                    }
                }
                results.push(string(lua, &data[pos..pos + size])?)?;
            }
            b's' => {
                let Some(len) = data[pos..].iter().position(|b| *b == 0) else {
                    return fail("unfinished string in data");
                };
                results.push(string(lua, &data[pos..pos + len])?)?;
                size = len + 1;
            }
            _ => fmt.control(&args, opt, &mut h)?,
        }
        pos += size;
    }
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_wrap)]
    results.push(num(pos.wrapping_add(1) as i64 as f64))?;
    results.spread()
}

fn size(_: &Lua, a: MultiValue) -> Outcome {
    let args = Args::new("size", a);
    let fmt_bytes = args.bytes(1)?;
    let mut fmt = Format {
        bytes: c_string(&fmt_bytes),
        pos: 0,
    };
    let mut h = Header::new();
    let mut pos: usize = 0;
    while let Some(opt) = fmt.next() {
        let size = fmt.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if opt == b's' {
            return args.error(1, "option 's' has no fixed size");
        } else if opt == b'c' && size == 0 {
            return args.error(1, "option 'c0' has no fixed size");
        }
        if !opt.is_ascii_alphanumeric() {
            fmt.control(&args, opt, &mut h)?;
        }
        pos += size;
    }
    #[allow(clippy::cast_precision_loss)]
    one(num(pos as f64))
}
