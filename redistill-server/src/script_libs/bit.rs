//! `bit`: LuaBitOp 1.0.2's bitwise operations on 32-bit integers.
//!
//! Every argument is normalised as LuaBitOp does: the number is rounded to an integer
//! (ties to even) and its low 32 bits taken; results are signed 32-bit numbers.

use mlua::{MultiValue, Table};

use super::{Args, Builder, Outcome, num, one, string};

/// The `bit` table.
pub(super) fn module(lib: &Builder<'_>) -> mlua::Result<Table> {
    let t = lib.lua().create_table()?;
    t.set("tobit", lib.function(|_, a| unary("tobit", a, |b| b))?)?;
    t.set("bnot", lib.function(|_, a| unary("bnot", a, |b| !b))?)?;
    t.set(
        "bswap",
        lib.function(|_, a| unary("bswap", a, u32::swap_bytes))?,
    )?;
    t.set("band", lib.function(|_, a| fold("band", a, |x, y| x & y))?)?;
    t.set("bor", lib.function(|_, a| fold("bor", a, |x, y| x | y))?)?;
    t.set("bxor", lib.function(|_, a| fold("bxor", a, |x, y| x ^ y))?)?;
    t.set(
        "lshift",
        lib.function(|_, a| shift("lshift", a, |b, n| b << n))?,
    )?;
    t.set(
        "rshift",
        lib.function(|_, a| shift("rshift", a, |b, n| b >> n))?,
    )?;
    #[allow(clippy::cast_possible_wrap, clippy::cast_sign_loss)]
    t.set(
        "arshift",
        lib.function(|_, a| shift("arshift", a, |b, n| ((b as i32) >> n) as u32))?,
    )?;
    t.set(
        "rol",
        lib.function(|_, a| shift("rol", a, u32::rotate_left))?,
    )?;
    t.set(
        "ror",
        lib.function(|_, a| shift("ror", a, u32::rotate_right))?,
    )?;
    t.set(
        "tohex",
        lib.function(|lua, a| {
            let args = Args::new("tohex", a);
            let b = bits(&args, 1)?;
            let mut n = if args.get(2).is_none() {
                8
            } else {
                signed(bits(&args, 2)?)
            };
            let upper = n < 0;
            if upper {
                n = n.wrapping_neg();
            }
            // LuaBitOp clamps only from above; a negative count (from i32::MIN) prints
            // nothing.
            let n = usize::try_from(n.min(8)).unwrap_or(0);
            let text = if upper {
                format!("{b:08X}")
            } else {
                format!("{b:08x}")
            };
            one(string(lua, &text[8 - n..])?)
        })?,
    )?;
    Ok(t)
}

/// LuaBitOp's `barg`: the number's low 32 bits after adding 2^52 + 2^51, which rounds it
/// to an integer, ties to even.
fn bits(args: &Args, n: usize) -> Result<u32, super::Fail> {
    let x = args.number(n)?;
    #[allow(clippy::cast_possible_truncation)]
    Ok((x + 6_755_399_441_055_744.0).to_bits() as u32)
}

#[allow(clippy::cast_possible_wrap)]
fn signed(b: u32) -> i32 {
    b as i32
}

fn result(b: u32) -> Outcome {
    one(num(f64::from(signed(b))))
}

fn unary(name: &'static str, a: MultiValue, op: impl Fn(u32) -> u32) -> Outcome {
    let args = Args::new(name, a);
    result(op(bits(&args, 1)?))
}

/// `band`/`bor`/`bxor`: the first argument, then the others from the last backwards.
fn fold(name: &'static str, a: MultiValue, op: impl Fn(u32, u32) -> u32) -> Outcome {
    let args = Args::new(name, a);
    let mut b = bits(&args, 1)?;
    for i in (2..=args.len()).rev() {
        b = op(b, bits(&args, i)?);
    }
    result(b)
}

fn shift(name: &'static str, a: MultiValue, op: impl Fn(u32, u32) -> u32) -> Outcome {
    let args = Args::new(name, a);
    let b = bits(&args, 1)?;
    let n = bits(&args, 2)? & 31;
    result(op(b, n))
}
