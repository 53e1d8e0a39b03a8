//! BITFIELD and BITFIELD_RO: integers of 1 to 64 bits at any bit offset of a string.
//!
//! Fields are read and written most significant bit first, as Redis lays them out, and
//! overflow is handled with Redis's exact arithmetic (wrapping, saturating or failing).

use crate::bitmaps::{bit_buffer, str_bytes};
use crate::changes::Event;
use crate::error::{Result, StoreError};
use crate::store::Store;

/// A field's type: `i1`..`i64` or `u1`..`u63`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BitfieldType {
    /// Signed (`i`) or unsigned (`u`).
    pub signed: bool,
    /// The width in bits.
    pub bits: u32,
}

impl BitfieldType {
    /// Parses `i<bits>` or `u<bits>` (lower case, as Redis reads them); `None` for
    /// anything else, `u64` included.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::BitfieldType;
    /// assert_eq!(BitfieldType::parse(b"i64"), Some(BitfieldType { signed: true, bits: 64 }));
    /// assert_eq!(BitfieldType::parse(b"u8"), Some(BitfieldType { signed: false, bits: 8 }));
    /// assert_eq!(BitfieldType::parse(b"U8"), None);
    /// assert_eq!(BitfieldType::parse(b"u64"), None);
    /// assert_eq!(BitfieldType::parse(b"i0"), None);
    /// ```
    pub fn parse(arg: &[u8]) -> Option<BitfieldType> {
        let (first, rest) = arg.split_first()?;
        let signed = match first {
            b'i' => true,
            b'u' => false,
            _ => return None,
        };
        let bits = crate::codec::canonical_i64(rest)?;
        let max = if signed { 64 } else { 63 };
        if !(1..=max).contains(&bits) {
            return None;
        }
        Some(BitfieldType {
            signed,
            bits: u32::try_from(bits).ok()?,
        })
    }
}

/// What SET and INCRBY do when the value does not fit the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// `WRAP` (the default): keep the low bits.
    #[default]
    Wrap,
    /// `SAT`: clamp to the field's minimum or maximum.
    Sat,
    /// `FAIL`: write nothing and answer nil.
    Fail,
}

/// One BITFIELD operation, its offset already resolved to bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitfieldOp {
    /// `GET type offset`: the field's value.
    Get {
        /// The field's type.
        ty: BitfieldType,
        /// Its first bit.
        offset: u64,
    },
    /// `SET type offset value`: writes `value`, answering the previous value.
    Set {
        /// The field's type.
        ty: BitfieldType,
        /// Its first bit.
        offset: u64,
        /// The value to write.
        value: i64,
        /// The OVERFLOW mode in force.
        overflow: Overflow,
    },
    /// `INCRBY type offset increment`: adds, answering the new value.
    IncrBy {
        /// The field's type.
        ty: BitfieldType,
        /// Its first bit.
        offset: u64,
        /// The amount to add.
        incr: i64,
        /// The OVERFLOW mode in force.
        overflow: Overflow,
    },
}

impl BitfieldOp {
    fn field(self) -> (BitfieldType, u64) {
        match self {
            BitfieldOp::Get { ty, offset }
            | BitfieldOp::Set { ty, offset, .. }
            | BitfieldOp::IncrBy { ty, offset, .. } => (ty, offset),
        }
    }
}

/// The unsigned value of the `bits`-bit field at `offset` (zeros past the end of `buf`).
pub(crate) fn get_unsigned(buf: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for i in 0..u64::from(bits) {
        v = (v << 1) | u64::from(crate::bitmaps::bit_at(buf, offset + i));
    }
    v
}

/// The signed value of the `bits`-bit field at `offset`, sign-extended.
pub(crate) fn get_signed(buf: &[u8], offset: u64, bits: u32) -> i64 {
    let u = get_unsigned(buf, offset, bits);
    if bits == 64 {
        return u as i64;
    }
    let shift = 64 - bits;
    ((u << shift) as i64) >> shift
}

/// Writes the low `bits` bits of `value` at `offset` (within `buf`).
pub(crate) fn set_field(buf: &mut [u8], offset: u64, bits: u32, value: u64) {
    for i in 0..u64::from(bits) {
        let on = (value >> (u64::from(bits) - 1 - i)) & 1 != 0;
        let pos = offset + i;
        let Some(b) = usize::try_from(pos >> 3).ok().and_then(|i| buf.get_mut(i)) else {
            return;
        };
        let mask = 0x80u8 >> (pos & 7);
        if on {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

/// Redis's signed overflow check: `value + incr` in a `bits`-bit field. `None` when it
/// fits, else the value to store (for WRAP and SAT).
fn signed_overflow(value: i64, incr: i64, bits: u32, mode: Overflow) -> Option<i64> {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    // Wrapping as Redis's (unsigned) arithmetic does; only read once `value` is in range.
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrap = || {
        let c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            let msb = 1u64 << (bits - 1);
            (if c & msb != 0 { c | mask } else { c & !mask }) as i64
        } else {
            c as i64
        }
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr)
    {
        return Some(match mode {
            Overflow::Wrap => wrap(),
            Overflow::Sat | Overflow::Fail => max,
        });
    }
    if value < min || (bits != 64 && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr)
    {
        return Some(match mode {
            Overflow::Wrap => wrap(),
            Overflow::Sat | Overflow::Fail => min,
        });
    }
    None
}

/// Redis's unsigned overflow check: `value + incr` in a `bits`-bit field (`bits` < 64).
fn unsigned_overflow(value: u64, incr: i64, bits: u32, mode: Overflow) -> Option<u64> {
    let max = (1u64 << bits) - 1;
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = value.wrapping_neg() as i64;
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX << bits);
    if value > max || (incr > 0 && incr > max_incr) {
        return Some(match mode {
            Overflow::Wrap => wrap(),
            Overflow::Sat | Overflow::Fail => max,
        });
    }
    if incr < 0 && incr < min_incr {
        return Some(match mode {
            Overflow::Wrap => wrap(),
            Overflow::Sat | Overflow::Fail => 0,
        });
    }
    None
}

/// Runs one SET or INCRBY on `buf`: the value to reply and whether the field changed
/// (`None` when FAIL refused it).
fn write_op(buf: &mut [u8], op: BitfieldOp) -> Option<(i64, bool)> {
    let (ty, offset, arg, overflow, is_incr) = match op {
        BitfieldOp::Get { ty, offset } => return Some((read_field(buf, ty, offset), false)),
        BitfieldOp::Set {
            ty,
            offset,
            value,
            overflow,
        } => (ty, offset, value, overflow, false),
        BitfieldOp::IncrBy {
            ty,
            offset,
            incr,
            overflow,
        } => (ty, offset, incr, overflow, true),
    };
    let bits = ty.bits;
    if ty.signed {
        let old = get_signed(buf, offset, bits);
        let (checked, incr) = if is_incr { (old, arg) } else { (arg, 0) };
        let over = signed_overflow(checked, incr, bits, overflow);
        if over.is_some() && overflow == Overflow::Fail {
            return None;
        }
        let new = over.unwrap_or_else(|| checked.wrapping_add(incr));
        set_field(buf, offset, bits, new as u64);
        Some((if is_incr { new } else { old }, new != old))
    } else {
        let old = get_unsigned(buf, offset, bits);
        let (checked, incr) = if is_incr { (old, arg) } else { (arg as u64, 0) };
        let over = unsigned_overflow(checked, incr, bits, overflow);
        if over.is_some() && overflow == Overflow::Fail {
            return None;
        }
        let new = over.unwrap_or_else(|| checked.wrapping_add(incr as u64));
        set_field(buf, offset, bits, new);
        Some((if is_incr { new as i64 } else { old as i64 }, new != old))
    }
}

fn read_field(buf: &[u8], ty: BitfieldType, offset: u64) -> i64 {
    if ty.signed {
        get_signed(buf, offset, ty.bits)
    } else {
        // At most 63 bits: always fits.
        get_unsigned(buf, offset, ty.bits) as i64
    }
}

impl Store {
    /// BITFIELD: runs `ops` in order on the string at `key`, answering one value per
    /// operation (`None` where OVERFLOW FAIL refused a write). With any SET or INCRBY the
    /// key is created and zero-grown to hold every field written, even if all of them
    /// fail, as Redis does (a change is reported only when one wrote); with GETs alone a
    /// missing key reads as zeros and is not created.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{BitfieldOp, BitfieldType, Overflow};
    /// # let store = redistill_store::Store::new();
    /// let u8t = BitfieldType { signed: false, bits: 8 };
    /// let ops = [
    ///     BitfieldOp::Set { ty: u8t, offset: 0, value: 200, overflow: Overflow::Wrap },
    ///     BitfieldOp::IncrBy { ty: u8t, offset: 0, incr: 100, overflow: Overflow::Wrap },
    ///     BitfieldOp::IncrBy { ty: u8t, offset: 0, incr: 300, overflow: Overflow::Sat },
    ///     BitfieldOp::IncrBy { ty: u8t, offset: 0, incr: 1, overflow: Overflow::Fail },
    ///     BitfieldOp::Get { ty: u8t, offset: 0 },
    /// ];
    /// assert_eq!(store.bitfield(0, b"k", &ops)?, [Some(0), Some(44), Some(255), None, Some(255)]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn bitfield(&self, db: usize, key: &[u8], ops: &[BitfieldOp]) -> Result<Vec<Option<i64>>> {
        let highest = ops
            .iter()
            .filter(|op| !matches!(op, BitfieldOp::Get { .. }))
            .map(|op| {
                let (ty, offset) = op.field();
                offset + u64::from(ty.bits) - 1
            })
            .max();
        let Some(highest) = highest else {
            return self.bitfield_ro(db, key, ops);
        };
        self.check_db(db)?;
        self.check_memory()?;
        let last_byte =
            usize::try_from(highest >> 3).map_err(|_| StoreError::BitOffsetOutOfRange)?;
        self.with_write(db, key, |ctx| {
            let before = match ctx.live(key) {
                Some(i) => ctx.entry(i).str_value().map_or(0, crate::strings::str_len),
                None => 0,
            };
            let (i, created, _) = bit_buffer(ctx, key, last_byte)?;
            // As Redis counts it: a write changes the key when it succeeded and either
            // its field grew the string (past what the operations before it needed) or
            // its value differs. A write OVERFLOW FAIL refused is no change.
            let mut changed = false;
            let out = ctx
                .update(i, |e| {
                    let buf = e.str_buf_mut()?;
                    let mut len = before;
                    let out = ops.iter().map(|&op| {
                        let done = write_op(buf, op);
                        if !matches!(op, BitfieldOp::Get { .. }) {
                            let (ty, offset) = op.field();
                            let need = usize::try_from((offset + u64::from(ty.bits) - 1) >> 3)
                                .map_or(usize::MAX, |b| b + 1);
                            let grew = need > len;
                            len = len.max(need);
                            changed |= done.is_some_and(|(_, differs)| differs || grew);
                        }
                        done.map(|(v, _)| v)
                    });
                    Some(out.collect::<Vec<_>>())
                })
                .ok_or(StoreError::WrongType)?;
            if created {
                ctx.emit(key, Event::New);
            }
            if changed {
                ctx.emit(key, Event::SetBit);
            }
            Ok(out)
        })
    }

    /// BITFIELD_RO (and BITFIELD with GETs only): reads fields; SET and INCRBY are
    /// answered as GETs of their field, so a caller refuses them first.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{BitfieldOp, BitfieldType};
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"k", b"\xff\x00", Default::default())?;
    /// let i4 = BitfieldType { signed: true, bits: 4 };
    /// let get = |offset| BitfieldOp::Get { ty: i4, offset };
    /// assert_eq!(store.bitfield_ro(0, b"k", &[get(0), get(6), get(100)])?, [Some(-1), Some(-4), Some(0)]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn bitfield_ro(
        &self,
        db: usize,
        key: &[u8],
        ops: &[BitfieldOp],
    ) -> Result<Vec<Option<i64>>> {
        self.read(db, key, |e| {
            let mut digits = [0u8; 20];
            let buf: &[u8] = match e {
                None => &[],
                Some(e) => str_bytes(e.str_value().ok_or(StoreError::WrongType)?, &mut digits),
            };
            Ok(ops
                .iter()
                .map(|op| {
                    let (ty, offset) = op.field();
                    Some(read_field(buf, ty, offset))
                })
                .collect())
        })?
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{BitfieldOp, BitfieldType, Overflow};
    use crate::Store;

    /// The field's value in big-integer arithmetic over the model's bits.
    fn field(s: &[u8], ty: BitfieldType, offset: u64) -> i128 {
        let mut v: i128 = 0;
        for i in 0..u64::from(ty.bits) {
            let p = offset + i;
            let b = s
                .get((p / 8) as usize)
                .is_some_and(|b| b & (0x80 >> (p % 8)) != 0);
            v = v * 2 + i128::from(b);
        }
        if ty.signed && v >= 1 << (ty.bits - 1) {
            v -= 1 << ty.bits;
        }
        v
    }

    fn store_field(s: &mut Vec<u8>, ty: BitfieldType, offset: u64, v: i128) {
        let m = 1i128 << ty.bits;
        let u = v.rem_euclid(m);
        for i in 0..u64::from(ty.bits) {
            let p = offset + i;
            let byte = (p / 8) as usize;
            if s.len() <= byte {
                s.resize(byte + 1, 0);
            }
            let on = (u >> (u64::from(ty.bits) - 1 - i)) & 1 == 1;
            if on {
                s[byte] |= 0x80 >> (p % 8);
            } else {
                s[byte] &= !(0x80 >> (p % 8));
            }
        }
    }

    /// What the field holds after writing `v`: `None` when FAIL refuses it.
    fn fit(ty: BitfieldType, v: i128, mode: Overflow) -> Option<i128> {
        let (min, max) = if ty.signed {
            (-(1i128 << (ty.bits - 1)), (1i128 << (ty.bits - 1)) - 1)
        } else {
            (0, (1i128 << ty.bits) - 1)
        };
        if (min..=max).contains(&v) {
            return Some(v);
        }
        match mode {
            Overflow::Fail => None,
            Overflow::Sat => Some(if v > max { max } else { min }),
            Overflow::Wrap => Some((v - min).rem_euclid(1i128 << ty.bits) + min),
        }
    }

    fn ty() -> impl Strategy<Value = BitfieldType> {
        prop_oneof![
            (1u32..=64).prop_map(|bits| BitfieldType { signed: true, bits }),
            (1u32..=63).prop_map(|bits| BitfieldType {
                signed: false,
                bits
            }),
        ]
    }

    fn value() -> impl Strategy<Value = i64> {
        // Values near i64::MIN take a quirk of Redis's signed check (covered by the
        // compatibility script); the model does plain big-integer arithmetic.
        prop_oneof![-300i64..300, (i64::MIN / 2)..(i64::MAX / 2), Just(i64::MAX)]
    }

    fn op() -> impl Strategy<Value = BitfieldOp> {
        let mode = prop_oneof![
            Just(Overflow::Wrap),
            Just(Overflow::Sat),
            Just(Overflow::Fail)
        ];
        prop_oneof![
            (ty(), 0u64..200).prop_map(|(ty, offset)| BitfieldOp::Get { ty, offset }),
            (ty(), 0u64..200, value(), mode.clone()).prop_map(|(ty, offset, value, overflow)| {
                BitfieldOp::Set {
                    ty,
                    offset,
                    value,
                    overflow,
                }
            }),
            (ty(), 0u64..200, value(), mode).prop_map(|(ty, offset, incr, overflow)| {
                BitfieldOp::IncrBy {
                    ty,
                    offset,
                    incr,
                    overflow,
                }
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn bitfield_matches_big_integer_arithmetic(
            calls in proptest::collection::vec(proptest::collection::vec(op(), 1..5), 1..8),
        ) {
            let store = Store::new();
            let mut model: Vec<u8> = Vec::new();
            for ops in &calls {
                let mut expected = Vec::new();
                let highest = ops.iter().filter(|o| !matches!(o, BitfieldOp::Get { .. }))
                    .map(|o| match *o {
                        BitfieldOp::Set { ty, offset, .. } | BitfieldOp::IncrBy { ty, offset, .. }
                        | BitfieldOp::Get { ty, offset } => offset + u64::from(ty.bits) - 1,
                    })
                    .max();
                if let Some(h) = highest && model.len() <= (h / 8) as usize {
                    model.resize((h / 8) as usize + 1, 0);
                }
                for &op in ops {
                    expected.push(match op {
                        BitfieldOp::Get { ty, offset } => Some(field(&model, ty, offset)),
                        BitfieldOp::Set { ty, offset, value, overflow } => {
                            let old = field(&model, ty, offset);
                            let v = if ty.signed { i128::from(value) } else { i128::from(value as u64) };
                            fit(ty, v, overflow).map(|new| {
                                store_field(&mut model, ty, offset, new);
                                old
                            })
                        }
                        BitfieldOp::IncrBy { ty, offset, incr, overflow } => {
                            let old = field(&model, ty, offset);
                            fit(ty, old + i128::from(incr), overflow).inspect(|&new| {
                                store_field(&mut model, ty, offset, new);
                            })
                        }
                    });
                }
                let got: Vec<Option<i128>> = store
                    .bitfield(0, b"k", ops)?
                    .into_iter()
                    .map(|v| v.map(i128::from))
                    .collect();
                prop_assert_eq!(got, expected);
                let stored = store.get(0, b"k")?.map(|b| b.to_vec()).unwrap_or_default();
                prop_assert_eq!(stored, model.clone());
            }
        }
    }
}
