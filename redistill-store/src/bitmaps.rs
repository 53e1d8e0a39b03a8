//! Bitmaps: SETBIT, GETBIT, BITCOUNT, BITPOS and BITOP on string values.
//!
//! Bits are numbered from the most significant bit of the first byte, as Redis numbers
//! them. Every operation works on the stored bytes in place: a 128 MB bitmap is never
//! copied to read or change one bit, and an integer-encoded string is read as its
//! decimal text.

use crate::changes::Event;
use crate::codec::format_i64;
use crate::entry::{Entry, ObjValue, StrRef, reserve_greedy};
use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::strings::MAX_STRING_LEN;

/// The unit of BITCOUNT's and BITPOS's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BitUnit {
    /// `BYTE` (the default): the range counts bytes.
    #[default]
    Byte,
    /// `BIT`: the range counts bits.
    Bit,
}

/// BITOP's operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    /// `AND`.
    And,
    /// `OR`.
    Or,
    /// `XOR`.
    Xor,
    /// `NOT` (one source only).
    Not,
}

/// Parses a bit offset as SETBIT, GETBIT and BITFIELD read it: a non-negative integer
/// whose byte lies within [`MAX_STRING_LEN`]. With `multiplier` (BITFIELD's field width)
/// the `#N` form means `N` times it.
///
/// # Examples
///
/// ```
/// use redistill_store::{StoreError, parse_bit_offset};
/// assert_eq!(parse_bit_offset(b"7", None), Ok(7));
/// assert_eq!(parse_bit_offset(b"#2", Some(8)), Ok(16));
/// assert_eq!(parse_bit_offset(b"4294967295", None), Ok(4_294_967_295));
/// assert_eq!(parse_bit_offset(b"4294967296", None), Err(StoreError::BitOffsetOutOfRange));
/// assert_eq!(parse_bit_offset(b"-1", None), Err(StoreError::BitOffsetOutOfRange));
/// assert_eq!(parse_bit_offset(b"#2", None), Err(StoreError::BitOffsetOutOfRange));
/// ```
pub fn parse_bit_offset(arg: &[u8], multiplier: Option<u32>) -> Result<u64> {
    let err = StoreError::BitOffsetOutOfRange;
    let (digits, times) = match (arg.split_first(), multiplier) {
        (Some((b'#', rest)), Some(m)) if m > 0 => (rest, i64::from(m)),
        _ => (arg, 1),
    };
    let n = crate::codec::canonical_i64(digits).ok_or(err.clone())?;
    let n = n.checked_mul(times).ok_or(err.clone())?;
    let n = u64::try_from(n).map_err(|_| err.clone())?;
    if n >> 3 >= MAX_STRING_LEN {
        return Err(err);
    }
    Ok(n)
}

/// The string's bytes: a raw string's own, an integer's decimal text in `digits`.
pub(crate) fn str_bytes<'a>(v: StrRef<'a>, digits: &'a mut [u8; 20]) -> &'a [u8] {
    match v {
        StrRef::Raw(b) => b,
        StrRef::Int(n) => format_i64(n, digits),
    }
}

/// Bit `offset` of `buf` (0 past its end).
#[inline]
pub(crate) fn bit_at(buf: &[u8], offset: u64) -> bool {
    usize::try_from(offset >> 3)
        .ok()
        .and_then(|i| buf.get(i))
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

/// The set bits of `bytes`, eight bytes at a time.
pub(crate) fn popcount(bytes: &[u8]) -> u64 {
    let chunks = bytes.chunks_exact(8);
    let tail: u64 = chunks
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum();
    let mut sum = 0u64;
    for c in chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        sum += u64::from(u64::from_ne_bytes(w).count_ones());
    }
    sum + tail
}

/// Resolves BITCOUNT's and BITPOS's `start`/`end` (negative from the end, clamped) over
/// a string of `len` bytes into an inclusive range of bits, `None` when empty.
fn bit_range(len: usize, start: i64, end: i64, unit: BitUnit) -> Option<(u64, u64)> {
    let mut total = i64::try_from(len).unwrap_or(i64::MAX);
    if unit == BitUnit::Bit {
        total = total.saturating_mul(8);
    }
    let fix = |v: i64| if v < 0 { (total + v).max(0) } else { v };
    let (start, mut end) = (fix(start), fix(end));
    if end >= total {
        end = total - 1;
    }
    if start > end {
        return None;
    }
    let (start, end) = (start.unsigned_abs(), end.unsigned_abs());
    Some(match unit {
        BitUnit::Bit => (start, end),
        BitUnit::Byte => (start * 8, end * 8 + 7),
    })
}

/// The set bits of `buf` from bit `first` to bit `last` inclusive (both within `buf`).
pub(crate) fn count_bits(buf: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = (byte_index(first), byte_index(last));
    let Some(bytes) = buf.get(fb..=lb) else {
        return 0;
    };
    let mut n = popcount(bytes);
    // The bits of the edge bytes outside the range.
    let before = !(0xFFu8 >> (first & 7));
    let after = 0xFFu8
        .checked_shr(u32::try_from((last & 7) + 1).unwrap_or(8))
        .unwrap_or(0);
    n -= u64::from((bytes[0] & before).count_ones());
    n -= u64::from((bytes[bytes.len() - 1] & after).count_ones());
    n
}

fn byte_index(bit: u64) -> usize {
    usize::try_from(bit >> 3).unwrap_or(usize::MAX)
}

/// The first bit equal to `bit` from `first` to `last` inclusive (both within `buf`).
pub(crate) fn find_bit(buf: &[u8], first: u64, last: u64, bit: bool) -> Option<u64> {
    let mut pos = first;
    while pos <= last && pos & 7 != 0 {
        if bit_at(buf, pos) == bit {
            return Some(pos);
        }
        pos += 1;
    }
    if pos > last {
        return None;
    }
    // Whole bytes inside the range, a word at a time, then byte by byte.
    let skip = if bit { 0u8 } else { 0xFF };
    let mut byte = byte_index(pos);
    let full_end = byte_index(last + 1).min(buf.len());
    while byte + 8 <= full_end {
        let mut w = [0u8; 8];
        w.copy_from_slice(&buf[byte..byte + 8]);
        if w != [skip; 8] {
            break;
        }
        byte += 8;
    }
    while byte < full_end {
        let b = buf[byte];
        if b != skip {
            let v = if bit { b } else { !b };
            return Some(byte as u64 * 8 + u64::from(v.leading_zeros()));
        }
        byte += 1;
    }
    pos = full_end as u64 * 8;
    while pos <= last {
        if bit_at(buf, pos) == bit {
            return Some(pos);
        }
        pos += 1;
    }
    None
}

/// Applies `op` to `srcs` (missing bytes read as zero), a word at a time, into a string
/// as long as the longest source.
pub(crate) fn combine(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
    let max = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let Some((first, rest)) = srcs.split_first() else {
        return Vec::new();
    };
    let mut out = vec![0u8; max];
    out[..first.len()].copy_from_slice(first);
    if op == BitOp::Not {
        apply_words(&mut out, &[], |a, _| !a, |a, _| !a);
        return out;
    }
    for src in rest {
        match op {
            BitOp::And => {
                apply_words(&mut out, src, |a, b| a & b, |a, b| a & b);
            }
            BitOp::Or => apply_words(&mut out, src, |a, b| a | b, |a, b| a | b),
            BitOp::Xor => apply_words(&mut out, src, |a, b| a ^ b, |a, b| a ^ b),
            BitOp::Not => {}
        }
    }
    out
}

/// `out[i] = f(out[i], src[i])` with `src` zero-padded to `out`'s length, eight bytes at
/// a time where both have them.
fn apply_words(
    out: &mut [u8],
    src: &[u8],
    word: impl Fn(u64, u64) -> u64,
    byte: impl Fn(u8, u8) -> u8,
) {
    let both = src.len().min(out.len());
    let words = both / 8 * 8;
    for (o, s) in out[..words]
        .chunks_exact_mut(8)
        .zip(src[..words].chunks_exact(8))
    {
        let (mut a, mut b) = ([0u8; 8], [0u8; 8]);
        a.copy_from_slice(o);
        b.copy_from_slice(s);
        o.copy_from_slice(&word(u64::from_ne_bytes(a), u64::from_ne_bytes(b)).to_ne_bytes());
    }
    for (i, o) in out.iter_mut().enumerate().skip(words) {
        *o = byte(*o, src.get(i).copied().unwrap_or(0));
    }
}

/// A string key's buffer for a bit write up to byte `last_byte`: the existing string
/// (made editable in place) or a new empty one, zero-grown to hold that byte. Whether
/// the key was created, and whether the string grew.
pub(crate) fn bit_buffer<'c>(
    ctx: &mut crate::store::WriteCtx<'c>,
    key: &[u8],
    last_byte: usize,
) -> Result<(usize, bool, bool)> {
    let (i, created) = match ctx.live(key) {
        Some(i) => {
            ctx.entry(i).str_value().ok_or(StoreError::WrongType)?;
            (i, false)
        }
        None => (
            ctx.insert(Entry::new_obj(key, None, ObjValue::Str(Vec::new()))),
            true,
        ),
    };
    let grew = ctx.update(i, |e| {
        let buf = e.str_buf_mut()?;
        let need = last_byte + 1;
        if buf.len() >= need {
            return Some(false);
        }
        if created {
            buf.reserve_exact(need);
        } else {
            reserve_greedy(buf, need - buf.len());
        }
        buf.resize(need, 0);
        Some(true)
    });
    Ok((i, created, grew.ok_or(StoreError::WrongType)?))
}

impl Store {
    /// SETBIT: sets or clears bit `offset` (see [`parse_bit_offset`]), growing the string
    /// with zeros as needed; the bit's previous value.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert!(!store.setbit(0, b"k", 7, true)?);
    /// assert!(store.setbit(0, b"k", 7, false)?);
    /// assert_eq!(store.get(0, b"k")?.as_deref(), Some(&b"\0"[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn setbit(&self, db: usize, key: &[u8], offset: u64, on: bool) -> Result<bool> {
        if offset >> 3 >= MAX_STRING_LEN {
            return Err(StoreError::BitOffsetOutOfRange);
        }
        self.check_db(db)?;
        self.check_memory()?;
        let byte = byte_index(offset);
        let mask = 0x80u8 >> (offset & 7);
        self.with_write(db, key, |ctx| {
            let (i, created, grew) = bit_buffer(ctx, key, byte)?;
            let (old, changed) = ctx
                .update(i, |e| {
                    let b = e.str_buf_mut()?.get_mut(byte)?;
                    let old = *b & mask != 0;
                    if on {
                        *b |= mask;
                    } else {
                        *b &= !mask;
                    }
                    Some((old, old != on))
                })
                .ok_or(StoreError::WrongType)?;
            if created {
                ctx.emit(key, Event::New);
            }
            if created || grew || changed {
                ctx.emit(key, Event::SetBit);
            }
            Ok(old)
        })
    }

    /// GETBIT: bit `offset` of the string (0 past its end or for a missing key).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"k", b"\x80", Default::default())?;
    /// assert!(store.getbit(0, b"k", 0)?);
    /// assert!(!store.getbit(0, b"k", 1)?);
    /// assert!(!store.getbit(0, b"k", 1_000)?);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn getbit(&self, db: usize, key: &[u8], offset: u64) -> Result<bool> {
        self.read(db, key, |e| {
            let Some(e) = e else { return Ok(false) };
            let v = e.str_value().ok_or(StoreError::WrongType)?;
            Ok(bit_at(str_bytes(v, &mut [0; 20]), offset))
        })?
    }

    /// BITCOUNT: the set bits of the string, or of a range of it (`start`/`end` counted
    /// in `unit`, negative from the end, as Redis clamps them).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::BitUnit;
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"k", b"foobar", Default::default())?;
    /// assert_eq!(store.bitcount(0, b"k", None)?, 26);
    /// assert_eq!(store.bitcount(0, b"k", Some((1, 1, BitUnit::Byte)))?, 6);
    /// assert_eq!(store.bitcount(0, b"k", Some((5, 30, BitUnit::Bit)))?, 17);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn bitcount(
        &self,
        db: usize,
        key: &[u8],
        range: Option<(i64, i64, BitUnit)>,
    ) -> Result<u64> {
        self.read(db, key, |e| {
            let Some(e) = e else { return Ok(0) };
            let v = e.str_value().ok_or(StoreError::WrongType)?;
            let mut digits = [0; 20];
            let buf = str_bytes(v, &mut digits);
            let (start, end, unit) = range.unwrap_or((0, -1, BitUnit::Byte));
            if start < 0 && end < 0 && start > end {
                return Ok(0);
            }
            Ok(bit_range(buf.len(), start, end, unit).map_or(0, |(f, l)| count_bits(buf, f, l)))
        })?
    }

    /// BITPOS: the first bit equal to `bit` in the string or in a range of it. A missing
    /// key reads as endless zeros (0 for a clear bit, -1 for a set one); looking for a
    /// clear bit with no `end` given finds the first bit past the string when all are
    /// set; -1 when the range holds no such bit.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::BitUnit;
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"k", b"\xff\xf0\x00", Default::default())?;
    /// assert_eq!(store.bitpos(0, b"k", false, None, None, BitUnit::Byte)?, 12);
    /// assert_eq!(store.bitpos(0, b"k", true, Some(2), None, BitUnit::Byte)?, -1);
    /// assert_eq!(store.bitpos(0, b"k", true, Some(7), Some(15), BitUnit::Bit)?, 7);
    /// store.set(0, b"ones", b"\xff", Default::default())?;
    /// assert_eq!(store.bitpos(0, b"ones", false, None, None, BitUnit::Byte)?, 8);
    /// assert_eq!(store.bitpos(0, b"ones", false, Some(0), Some(-1), BitUnit::Byte)?, -1);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn bitpos(
        &self,
        db: usize,
        key: &[u8],
        bit: bool,
        start: Option<i64>,
        end: Option<i64>,
        unit: BitUnit,
    ) -> Result<i64> {
        self.read(db, key, |e| {
            let Some(e) = e else {
                return Ok(if bit { -1 } else { 0 });
            };
            let v = e.str_value().ok_or(StoreError::WrongType)?;
            let mut digits = [0; 20];
            let buf = str_bytes(v, &mut digits);
            let Some((first, last)) =
                bit_range(buf.len(), start.unwrap_or(0), end.unwrap_or(-1), unit)
            else {
                return Ok(-1);
            };
            Ok(match find_bit(buf, first, last, bit) {
                Some(p) => i64::try_from(p).unwrap_or(i64::MAX),
                // Without an end, the string reads as followed by zeros.
                None if !bit && end.is_none() => {
                    i64::try_from((last / 8 + 1) * 8).unwrap_or(i64::MAX)
                }
                None => -1,
            })
        })?
    }

    /// BITOP: stores `op` of the sources (missing keys read as empty strings) at `dest`,
    /// or deletes `dest` when the result is empty; the result's length. All keys are
    /// locked together.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::BitOp;
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"a", b"\x0f\x0f", Default::default())?;
    /// store.set(0, b"b", b"\xff", Default::default())?;
    /// assert_eq!(store.bitop(0, BitOp::And, b"d", &[b"a", b"b"])?, 2);
    /// assert_eq!(store.get(0, b"d")?.as_deref(), Some(&b"\x0f\x00"[..]));
    /// assert_eq!(store.bitop(0, BitOp::Not, b"d", &[b"b"])?, 1);
    /// assert_eq!(store.get(0, b"d")?.as_deref(), Some(&b"\x00"[..]));
    /// assert_eq!(store.bitop(0, BitOp::Or, b"d", &[b"missing"])?, 0);
    /// assert_eq!(store.exists(0, &[b"d"])?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn bitop(&self, db: usize, op: BitOp, dest: &[u8], srcs: &[&[u8]]) -> Result<usize> {
        self.check_db(db)?;
        self.check_memory()?;
        let mut keys: Vec<&[u8]> = Vec::with_capacity(srcs.len() + 1);
        keys.extend_from_slice(srcs);
        keys.push(dest);
        self.write_keys(db, &keys, |w| {
            let result = {
                let entries = w.entries_reading(srcs, 0..srcs.len());
                let mut digits = vec![[0u8; 20]; srcs.len()];
                let mut values: Vec<&[u8]> = Vec::with_capacity(srcs.len());
                for (e, d) in entries.iter().zip(digits.iter_mut()) {
                    match e {
                        None => values.push(&[]),
                        Some(e) => {
                            let v = e.str_value().ok_or(StoreError::WrongType)?;
                            values.push(str_bytes(v, d));
                        }
                    }
                }
                combine(op, &values)
            };
            let len = result.len();
            let at = srcs.len();
            if len == 0 {
                // Reported as a deletion when there was something to delete.
                w.remove(at, dest);
            } else {
                w.put(at, dest, Entry::new_obj(dest, None, ObjValue::Str(result)));
                w.emit(dest, Event::Set);
            }
            Ok(len)
        })?
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{BitOp, BitUnit};
    use crate::Store;

    /// Bit `i` of a model string.
    fn bit(s: &[u8], i: usize) -> bool {
        s.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
    }

    /// Redis's range clamping, bit by bit: the bits a range covers.
    fn covered(len: usize, start: i64, end: i64, unit: BitUnit) -> Vec<usize> {
        let total = if unit == BitUnit::Bit { len * 8 } else { len } as i64;
        let (mut s, mut e) = (start, end);
        if s < 0 {
            s += total;
        }
        if e < 0 {
            e += total;
        }
        s = s.max(0);
        e = e.max(0).min(total - 1);
        if s > e {
            return Vec::new();
        }
        let (s, e) = (s as usize, e as usize);
        match unit {
            BitUnit::Bit => (s..=e).collect(),
            BitUnit::Byte => (s * 8..e * 8 + 8).collect(),
        }
    }

    fn unit() -> impl Strategy<Value = BitUnit> {
        prop_oneof![Just(BitUnit::Byte), Just(BitUnit::Bit)]
    }

    fn op() -> impl Strategy<Value = BitOp> {
        prop_oneof![
            Just(BitOp::And),
            Just(BitOp::Or),
            Just(BitOp::Xor),
            Just(BitOp::Not)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn setbit_getbit_bitcount_bitpos_match_a_model(
            writes in proptest::collection::vec((0u64..400, any::<bool>()), 0..60),
            ranges in proptest::collection::vec((-70i64..70, -70i64..70, unit()), 1..8),
        ) {
            let store = Store::new();
            let mut model: Vec<u8> = Vec::new();
            for &(offset, on) in &writes {
                let i = offset as usize;
                if model.len() <= i / 8 {
                    model.resize(i / 8 + 1, 0);
                }
                let old = bit(&model, i);
                if on {
                    model[i / 8] |= 0x80 >> (i % 8);
                } else {
                    model[i / 8] &= !(0x80 >> (i % 8));
                }
                prop_assert_eq!(store.setbit(0, b"k", offset, on)?, old);
            }
            let exists = !writes.is_empty();
            for i in 0..(model.len() * 8 + 16) {
                prop_assert_eq!(store.getbit(0, b"k", i as u64)?, bit(&model, i));
            }
            let all = model.iter().map(|b| u64::from(b.count_ones())).sum::<u64>();
            prop_assert_eq!(store.bitcount(0, b"k", None)?, all);
            for &(start, end, unit) in &ranges {
                let bits = covered(model.len(), start, end, unit);
                let expected = if start < 0 && end < 0 && start > end {
                    0
                } else {
                    bits.iter().filter(|&&i| bit(&model, i)).count() as u64
                };
                prop_assert_eq!(store.bitcount(0, b"k", Some((start, end, unit)))?, expected);
                for target in [false, true] {
                    let found = bits.iter().find(|&&i| bit(&model, i) == target);
                    let expected = match found {
                        _ if !exists => if target { -1 } else { 0 },
                        Some(&i) => i as i64,
                        None => -1,
                    };
                    let got = store.bitpos(0, b"k", target, Some(start), Some(end), unit)?;
                    prop_assert_eq!(got, expected);
                    // Without an end, clear bits are found past the string.
                    let bits = covered(model.len(), start, -1, unit);
                    let found = bits.iter().find(|&&i| bit(&model, i) == target);
                    let expected = match found {
                        _ if !exists => if target { -1 } else { 0 },
                        Some(&i) => i as i64,
                        None if !target && !bits.is_empty() => model.len() as i64 * 8,
                        None => -1,
                    };
                    let got = store.bitpos(0, b"k", target, Some(start), None, unit)?;
                    prop_assert_eq!(got, expected);
                }
            }
        }

        #[test]
        fn bitop_matches_a_model(
            srcs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..5),
            op in op(),
        ) {
            let store = Store::new();
            let names: Vec<Vec<u8>> = (0..srcs.len()).map(|i| format!("s{i}").into_bytes()).collect();
            for (name, v) in names.iter().zip(&srcs) {
                if !v.is_empty() {
                    store.set(0, name, v, Default::default())?;
                }
            }
            let srcs = if op == BitOp::Not { &srcs[..1] } else { &srcs[..] };
            let keys: Vec<&[u8]> = names[..srcs.len()].iter().map(Vec::as_slice).collect();
            let max = srcs.iter().map(Vec::len).max().unwrap_or(0);
            let expected: Vec<u8> = (0..max)
                .map(|i| {
                    let at = |s: &Vec<u8>| s.get(i).copied().unwrap_or(0);
                    let mut acc = at(&srcs[0]);
                    for s in &srcs[1..] {
                        acc = match op {
                            BitOp::And => acc & at(s),
                            BitOp::Or => acc | at(s),
                            BitOp::Xor => acc ^ at(s),
                            BitOp::Not => acc,
                        };
                    }
                    if op == BitOp::Not { !acc } else { acc }
                })
                .collect();
            prop_assert_eq!(store.bitop(0, op, b"dest", &keys)?, max);
            let got = store.get(0, b"dest")?;
            if max == 0 {
                prop_assert_eq!(got, None);
            } else {
                prop_assert_eq!(got.as_deref(), Some(&expected[..]));
            }
        }
    }

    #[test]
    fn a_large_setbit_is_counted_and_refused_over_the_limit() {
        let store = Store::builder().max_memory(1 << 20).build();
        store.set_eviction_policy(crate::Policy::NoEviction);
        // 8 MB in one write: allowed while under the limit, as Redis allows it...
        assert_eq!(store.setbit(0, b"big", (8 << 23) - 1, true), Ok(false));
        assert!(store.limited_usage() >= 8 << 20);
        // ...and the growth counts: the next growing write is refused.
        assert_eq!(
            store.setbit(0, b"other", 0, true),
            Err(crate::StoreError::OutOfMemory)
        );
        assert_eq!(store.bitcount(0, b"big", None), Ok(1));
        assert_eq!(store.del(0, &[b"big"]), Ok(1));
        assert!(store.limited_usage() < 1 << 20);
        assert_eq!(store.setbit(0, b"other", 0, true), Ok(false));
    }

    #[test]
    fn offsets_past_512_mb_are_refused() {
        let store = Store::new();
        assert_eq!(
            store.setbit(0, b"k", 1 << 32, true),
            Err(crate::StoreError::BitOffsetOutOfRange)
        );
        assert_eq!(store.getbit(0, b"k", u64::MAX), Ok(false));
    }
}
