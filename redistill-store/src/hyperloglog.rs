//! The HyperLogLog value format, byte for byte Redis 7.0's, as pure functions over bytes.
//!
//! A HyperLogLog is an ordinary string. It starts with a 16-byte header: the magic
//! `HYLL`, an encoding byte (0 dense, 1 sparse), three unused bytes and the cached
//! cardinality, 8 bytes little-endian, whose top bit (bit 7 of the last byte) set means
//! "stale". 16384 registers of 6 bits follow (P = 14: the low 14 bits of an element's
//! 64-bit MurmurHash64A pick a register, the position of the first 1 bit in the other 50
//! is its value), either:
//!
//! - dense: 12288 bytes, register `i` in bits `6i..6i+6` counted from the least
//!   significant bit of byte 0 (12304 bytes in all);
//! - sparse: run-length opcodes: `00xxxxxx` (ZERO: 1 to 64 zero registers),
//!   `01xxxxxx yyyyyyyy` (XZERO: 1 to 16384 zero registers), `1vvvvvxx` (VAL: 1 to 4
//!   registers of value 1 to 32). A value over 32, or a sparse form that would grow past
//!   `hll-sparse-max-bytes`, turns it dense for good.
//!
//! The cardinality is estimated as Redis 7.0 does, from the registers' histogram with
//! Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog
//! sketches", 2017), so a value copied from Redis counts the same here and back.
//!
//! Any client can SET arbitrary bytes that start with the magic, so everything here
//! validates what it walks and reports [`Corrupt`] instead of trusting lengths. Where a
//! truncated XZERO opcode ends the string, its missing second byte reads as 0, as Redis
//! reads the terminator after the string's end. (Once PFADD splits such an opcode, Redis
//! writes past the end a byte that it later reads there instead; that garbage of a
//! corrupt value is not followed.)

/// Bits of the hash that choose a register.
const P: u32 = 14;
/// Bits of the hash left for the run of zeros.
const Q: u32 = 64 - P;
/// Number of registers.
pub(crate) const REGISTERS: usize = 1 << P;
/// Bits per dense register.
const BITS: usize = 6;
/// Largest register value.
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Length of the header.
pub(crate) const HEADER_LEN: usize = 16;
/// Length of a dense HyperLogLog, header included.
pub(crate) const DENSE_LEN: usize = HEADER_LEN + (REGISTERS * BITS).div_ceil(8);
/// The dense encoding byte.
const DENSE: u8 = 0;
/// The sparse encoding byte.
const SPARSE: u8 = 1;
/// Offset of the encoding byte.
const ENCODING_AT: usize = 4;
/// Offset of the cached cardinality.
const CARD_AT: usize = 8;
/// Seed of the element hash.
const SEED: u64 = 0xadc8_3b19;
/// Longest run of a ZERO opcode.
const ZERO_MAX_LEN: usize = 64;
/// Longest run of an XZERO opcode.
const XZERO_MAX_LEN: usize = 16384;
/// Largest value a VAL opcode holds.
const VAL_MAX_VALUE: u8 = 32;
/// Longest run of a VAL opcode.
const VAL_MAX_LEN: usize = 4;
/// `0.5 / ln 2`, the estimator's constant for an infinite number of registers.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// Default of `hll-sparse-max-bytes`: longest sparse form before it turns dense.
pub const DEFAULT_HLL_SPARSE_MAX_BYTES: usize = 3000;

/// A string with the HyperLogLog magic whose registers do not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Corrupt;

/// Whether a string is a HyperLogLog by its header: the magic, a known encoding, and the
/// exact length for the dense one. (The sparse body is checked when it is walked.)
pub(crate) fn is_hll(v: &[u8]) -> bool {
    v.len() >= HEADER_LEN
        && v.starts_with(b"HYLL")
        && v[ENCODING_AT] <= SPARSE
        && (v[ENCODING_AT] != DENSE || v.len() == DENSE_LEN)
}

/// Whether a HyperLogLog (valid by [`is_hll`]) is dense.
pub(crate) fn is_dense(v: &[u8]) -> bool {
    v[ENCODING_AT] == DENSE
}

/// A new, empty HyperLogLog as PFADD creates it: sparse, one XZERO opcode for all the
/// registers, a cached cardinality of 0.
pub(crate) fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER_LEN + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    v.extend_from_slice(&xzero(REGISTERS));
    v
}

/// The cached cardinality, if it is current.
pub(crate) fn cached_count(v: &[u8]) -> Option<u64> {
    let card: [u8; 8] = v.get(CARD_AT..HEADER_LEN)?.try_into().ok()?;
    (card[7] & 0x80 == 0).then(|| u64::from_le_bytes(card))
}

/// Stores `card` as the cached cardinality.
pub(crate) fn set_cached_count(v: &mut [u8], card: u64) {
    if let Some(c) = v.get_mut(CARD_AT..HEADER_LEN) {
        c.copy_from_slice(&card.to_le_bytes());
    }
}

/// Marks the cached cardinality stale.
pub(crate) fn invalidate(v: &mut [u8]) {
    if let Some(b) = v.get_mut(HEADER_LEN - 1) {
        *b |= 0x80;
    }
}

/// MurmurHash64A, reading 8-byte blocks little-endian whatever the machine.
///
/// ```text
/// murmur64a(b"", 0) == 0
/// ```
pub(crate) fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        let mut k = u64::from_le_bytes(block.try_into().unwrap_or([0; 8]));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the value it proposes for it (1 to 51).
pub(crate) fn register_of(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    // A sentinel bit bounds the run of zeros at Q.
    let rest = (hash >> P) | (1 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Dense register `i` of the register bytes `regs`.
#[inline]
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let shift = (i * BITS) & 7;
    let b0 = u16::from(regs.get(byte).copied().unwrap_or(0));
    let b1 = u16::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 | (b1 << 8)) >> shift) as u8) & REGISTER_MAX
}

/// Sets dense register `i` of the register bytes `regs` to `val`.
#[inline]
fn dense_put(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let shift = (i * BITS) & 7;
    let mask = u16::from(REGISTER_MAX) << shift;
    let v = u16::from(val) << shift;
    if let Some(b) = regs.get_mut(byte) {
        *b = (*b & !(mask as u8)) | v as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        *b = (*b & !((mask >> 8) as u8)) | (v >> 8) as u8;
    }
}

/// Raises dense register `i` to `val`; whether it changed.
fn dense_raise(regs: &mut [u8], i: usize, val: u8) -> bool {
    if val > dense_get(regs, i) {
        dense_put(regs, i, val);
        true
    } else {
        false
    }
}

/// One decoded sparse opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// A run of zero registers, from a one-byte ZERO opcode.
    Zero(usize),
    /// A run of zero registers, from a two-byte XZERO opcode.
    XZero(usize),
    /// A run of registers of one value.
    Val(u8, usize),
}

impl Op {
    /// The opcode at `at` of `ops`: a truncated XZERO reads its missing byte as 0.
    #[inline]
    fn at(ops: &[u8], at: usize) -> Op {
        let b = ops[at];
        match b & 0xc0 {
            0x00 => Op::Zero(usize::from(b & 0x3f) + 1),
            0x40 => {
                let lo = ops.get(at + 1).copied().unwrap_or(0);
                Op::XZero(((usize::from(b & 0x3f) << 8) | usize::from(lo)) + 1)
            }
            _ => Op::Val(((b >> 2) & 0x1f) + 1, usize::from(b & 3) + 1),
        }
    }

    /// Bytes the opcode takes.
    fn len(self) -> usize {
        match self {
            Op::XZero(_) => 2,
            Op::Zero(_) | Op::Val(..) => 1,
        }
    }

    /// Registers it covers.
    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }
}

/// A VAL opcode (value 1..=32, run 1..=4).
fn val(value: u8, run: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (run - 1) as u8
}

/// A ZERO opcode (run 1..=64).
fn zero(run: usize) -> u8 {
    (run - 1) as u8
}

/// An XZERO opcode (run 1..=16384).
fn xzero(run: usize) -> [u8; 2] {
    debug_assert!((1..=XZERO_MAX_LEN).contains(&run));
    let r = run - 1;
    [0x40 | (r >> 8) as u8, (r & 0xff) as u8]
}

/// The sparse opcodes' runs in order, each `(first register, run, value)`, checking that
/// they cover exactly the 16384 registers, as Redis 7.0.15 checks it (a VAL run past the
/// last register is corrupt even when the runs before it cover them all).
fn sparse_runs(ops: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let (mut p, mut idx) = (0, 0usize);
    while p < ops.len() {
        let op = Op::at(ops, p);
        match op {
            Op::Zero(n) | Op::XZero(n) => {
                f(idx, n, 0);
                idx += n;
            }
            Op::Val(v, n) => {
                if idx + n > REGISTERS {
                    return Err(Corrupt);
                }
                f(idx, n, v);
                idx += n;
            }
        }
        p += op.len();
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Turns a sparse HyperLogLog dense, keeping the rest of its header; a dense one is left
/// as it is. Whether it converted.
pub(crate) fn to_dense(v: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if is_dense(v) {
        return Ok(false);
    }
    let mut dense = vec![0u8; DENSE_LEN];
    dense[..HEADER_LEN].copy_from_slice(&v[..HEADER_LEN]);
    dense[ENCODING_AT] = DENSE;
    let regs = &mut dense[HEADER_LEN..];
    sparse_runs(&v[HEADER_LEN..], |first, run, value| {
        if value != 0 {
            for i in first..first + run {
                dense_put(regs, i, value);
            }
        }
    })?;
    *v = dense;
    Ok(true)
}

/// Raises register `index` of a sparse HyperLogLog to `count`; whether it changed. Turns
/// it dense when the value does not fit a VAL opcode or the string would grow past
/// `sparse_max` bytes.
fn sparse_raise(
    v: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    // Find the opcode covering `index`, and the one before it.
    let end = v.len();
    let (mut p, mut first, mut prev) = (HEADER_LEN, 0usize, None);
    let mut op = None;
    while p < end {
        let o = Op::at(v, p);
        if index < first + o.span() {
            op = Some(o);
            break;
        }
        prev = Some(p);
        p += o.len();
        first += o.span();
    }
    let Some(op) = op else {
        return Err(Corrupt);
    };
    let last = first + op.span() - 1;
    match op {
        Op::Val(old, _) if old >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => {
            v[p] = val(count, 1);
            merge_vals(v, prev.unwrap_or(HEADER_LEN));
            return Ok(true);
        }
        _ => {}
    }
    // Split the run into up to three opcodes: before, the register, after.
    let mut seq = [0u8; 5];
    let mut n = 0;
    let push_zeros = |seq: &mut [u8; 5], n: &mut usize, run: usize| {
        if run > ZERO_MAX_LEN {
            seq[*n..*n + 2].copy_from_slice(&xzero(run));
            *n += 2;
        } else {
            seq[*n] = zero(run);
            *n += 1;
        }
    };
    match op {
        Op::Zero(_) | Op::XZero(_) => {
            if index != first {
                push_zeros(&mut seq, &mut n, index - first);
            }
            seq[n] = val(count, 1);
            n += 1;
            if index != last {
                push_zeros(&mut seq, &mut n, last - index);
            }
        }
        Op::Val(cur, _) => {
            if index != first {
                seq[n] = val(cur, index - first);
                n += 1;
            }
            seq[n] = val(count, 1);
            n += 1;
            if index != last {
                seq[n] = val(cur, last - index);
                n += 1;
            }
        }
    }
    let new_len = end + n - op.len();
    if n > op.len() && new_len > sparse_max {
        return promote(v, index, count);
    }
    let tail = (p + op.len()).min(end);
    v.splice(p..tail, seq[..n].iter().copied());
    // A truncated XZERO at the end loses the last byte written over it, as in Redis.
    v.truncate(new_len);
    merge_vals(v, prev.unwrap_or(HEADER_LEN));
    Ok(true)
}

/// Turns a sparse HyperLogLog dense and raises register `index` to `count` there.
fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(v)?;
    Ok(dense_raise(&mut v[HEADER_LEN..], index, count))
}

/// Joins adjacent VAL opcodes of one value whose runs fit one opcode, looking at up to
/// five opcodes from `p` (where a change was just made, or the opcode before it), and
/// marks the cached cardinality stale.
fn merge_vals(v: &mut Vec<u8>, mut p: usize) {
    let mut budget = 5;
    while p < v.len() && budget > 0 {
        budget -= 1;
        match Op::at(v, p) {
            Op::XZero(_) => p += 2,
            Op::Zero(_) => p += 1,
            Op::Val(v1, n1) => {
                if p + 1 < v.len()
                    && let Op::Val(v2, n2) = Op::at(v, p + 1)
                    && v1 == v2
                    && n1 + n2 <= VAL_MAX_LEN
                {
                    v[p + 1] = val(v1, n1 + n2);
                    v.remove(p);
                    continue;
                }
                p += 1;
            }
        }
    }
    invalidate(v);
}

/// PFADD of one element to a HyperLogLog (valid by [`is_hll`]); whether a register
/// changed. A dense change leaves the cached cardinality to the caller, as Redis does.
pub(crate) fn add(v: &mut Vec<u8>, element: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = register_of(element);
    raise(v, index, count, sparse_max)
}

/// Raises register `index` to `count` in either encoding; whether it changed.
fn raise(v: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    if is_dense(v) {
        Ok(dense_raise(&mut v[HEADER_LEN..], index, count))
    } else {
        sparse_raise(v, index, count, sparse_max)
    }
}

/// Raises each of `max`'s registers to the HyperLogLog's (valid by [`is_hll`]).
pub(crate) fn merge_into(max: &mut [u8; REGISTERS], v: &[u8]) -> Result<(), Corrupt> {
    let body = &v[HEADER_LEN..];
    if is_dense(v) {
        // Four registers in every three bytes.
        for (c, m) in body.chunks_exact(3).zip(max.chunks_exact_mut(4)) {
            let w = u32::from(c[0]) | (u32::from(c[1]) << 8) | (u32::from(c[2]) << 16);
            for (j, m) in m.iter_mut().enumerate() {
                *m = (*m).max(((w >> (6 * j)) & 63) as u8);
            }
        }
        return Ok(());
    }
    // As in Redis, zero runs may run past the end unchecked until a VAL or the end.
    let (mut p, mut i) = (0, 0usize);
    while p < body.len() {
        let op = Op::at(body, p);
        match op {
            Op::Zero(n) | Op::XZero(n) => i += n,
            Op::Val(value, n) => {
                if i + n > REGISTERS {
                    return Err(Corrupt);
                }
                for m in &mut max[i..i + n] {
                    *m = (*m).max(value);
                }
                i += n;
            }
        }
        p += op.len();
    }
    if i == REGISTERS { Ok(()) } else { Err(Corrupt) }
}

/// Writes registers `max` into a HyperLogLog (valid by [`is_hll`]) as PFMERGE does:
/// dense first when `dense`, each non-zero register raised in turn, the cached
/// cardinality marked stale.
pub(crate) fn store_max(
    v: &mut Vec<u8>,
    max: &[u8; REGISTERS],
    dense: bool,
    sparse_max: usize,
) -> Result<(), Corrupt> {
    if dense {
        to_dense(v)?;
    }
    for (i, &m) in max.iter().enumerate() {
        if m != 0 {
            // Redis ignores a failure here: every input was checked while merging.
            let _ = raise(v, i, m, sparse_max);
        }
    }
    invalidate(v);
    Ok(())
}

/// The cardinality estimate of a HyperLogLog (valid by [`is_hll`]), ignoring the cache.
pub(crate) fn count(v: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u32; 64];
    let body = &v[HEADER_LEN..];
    if is_dense(v) {
        // Four registers in every three bytes.
        for c in body.chunks_exact(3) {
            let w = u32::from(c[0]) | (u32::from(c[1]) << 8) | (u32::from(c[2]) << 16);
            histo[(w & 63) as usize] += 1;
            histo[((w >> 6) & 63) as usize] += 1;
            histo[((w >> 12) & 63) as usize] += 1;
            histo[((w >> 18) & 63) as usize] += 1;
        }
    } else {
        sparse_runs(body, |_, run, value| {
            histo[usize::from(value)] += run as u32
        })?;
    }
    Ok(estimate(&histo))
}

/// The cardinality estimate of plain registers, one byte each.
pub(crate) fn count_registers(regs: &[u8; REGISTERS]) -> u64 {
    let mut histo = [0u32; 64];
    for &r in regs {
        histo[usize::from(r & 63)] += 1;
    }
    estimate(&histo)
}

/// Ertl's estimator over the registers' histogram, exactly as Redis 7.0 computes it.
fn estimate(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - f64::from(histo[q + 1])) / m);
    for j in (1..=q).rev() {
        z += f64::from(histo[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histo[0]) / m);
    let e = (ALPHA_INF * m * m / z).round();
    // Saturating, as C's conversion of an out-of-range value is not defined anyway.
    e as u64
}

/// Ertl's sigma function.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

/// Ertl's tau function.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// Every register of a HyperLogLog (valid by [`is_hll`]) that is dense.
pub(crate) fn dense_registers(v: &[u8]) -> Vec<u8> {
    let body = &v[HEADER_LEN..];
    (0..REGISTERS).map(|i| dense_get(body, i)).collect()
}

/// PFDEBUG DECODE's text for a sparse HyperLogLog: `z:N` (ZERO), `Z:N` (XZERO) and
/// `v:VALUE,N` (VAL) for each opcode, space-separated.
pub(crate) fn decode_sparse(v: &[u8]) -> String {
    let body = &v[HEADER_LEN..];
    let mut out = Vec::new();
    let mut p = 0;
    while p < body.len() {
        let op = Op::at(body, p);
        out.push(match op {
            Op::Zero(n) => format!("z:{n}"),
            Op::XZero(n) => format!("Z:{n}"),
            Op::Val(value, n) => format!("v:{value},{n}"),
        });
        p += op.len();
    }
    out.join(" ")
}

/// PFSELFTEST: checks the register packing and that the sparse and dense forms count
/// alike and close to the truth. `Err` holds the error line (`TESTFAILED ...`).
///
/// # Examples
///
/// ```
/// assert_eq!(redistill_store::hyperloglog_self_test(), Ok(()));
/// ```
pub fn hyperloglog_self_test() -> Result<(), String> {
    let mut regs = vec![0u8; DENSE_LEN - HEADER_LEN];
    let mut model = vec![0u8; REGISTERS];
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..20 {
        for (i, m) in model.iter_mut().enumerate() {
            *m = (next() as u8) & REGISTER_MAX;
            dense_put(&mut regs, i, *m);
        }
        for (i, &m) in model.iter().enumerate() {
            let got = dense_get(&regs, i);
            if got != m {
                return Err(format!(
                    "TESTFAILED Register {i} should be {m} but is {got}"
                ));
            }
        }
    }
    let mut sparse = new_sparse();
    let mut dense = new_sparse();
    to_dense(&mut dense).map_err(|_| "TESTFAILED dense conversion".to_owned())?;
    let seed = next();
    let relerr_max = 1.04 / (REGISTERS as f64).sqrt() * 5.0;
    let mut checkpoint = 1u64;
    for j in 1..=100_000u64 {
        let element = (seed ^ j).to_le_bytes();
        let failed = |_| "TESTFAILED corrupted while adding".to_owned();
        add(&mut sparse, &element, DEFAULT_HLL_SPARSE_MAX_BYTES).map_err(failed)?;
        add(&mut dense, &element, DEFAULT_HLL_SPARSE_MAX_BYTES).map_err(failed)?;
        if j == checkpoint {
            let (a, b) = (count(&sparse), count(&dense));
            if a != b {
                return Err(format!(
                    "TESTFAILED sparse and dense counts differ: {a:?} {b:?}"
                ));
            }
            let card = a.unwrap_or(0);
            let relerr = (card as f64 - j as f64).abs() / j as f64;
            if j >= 10 && relerr > relerr_max {
                return Err(format!("TESTFAILED too big error. card:{j} error:{relerr}"));
            }
            checkpoint *= 10;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hll_of(elements: impl IntoIterator<Item = Vec<u8>>, sparse_max: usize) -> Vec<u8> {
        let mut v = new_sparse();
        for e in elements {
            add(&mut v, &e, sparse_max).unwrap();
        }
        v
    }

    #[test]
    fn murmur_matches_reference_values() {
        // MurmurHash64A's published behaviour: empty input with seed 0 hashes to 0.
        assert_eq!(murmur64a(b"", 0), 0);
        // Every tail length goes through its own path.
        let hashes: Vec<u64> = (0..17).map(|n| murmur64a(&[7u8; 17][..n], SEED)).collect();
        let mut sorted = hashes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), hashes.len());
    }

    #[test]
    fn new_hll_is_redis_empty_sparse_form() {
        let v = new_sparse();
        assert_eq!(v, b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
        assert!(is_hll(&v));
        assert_eq!(cached_count(&v), Some(0));
        assert_eq!(count(&v), Ok(0));
        assert_eq!(decode_sparse(&v), "Z:16384");
    }

    #[test]
    fn dense_registers_round_trip_without_touching_neighbours() {
        let mut regs = vec![0u8; DENSE_LEN - HEADER_LEN];
        let mut model = vec![0u8; REGISTERS];
        let mut x = 0x1234_5678_u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x as usize) % REGISTERS;
            let val = ((x >> 20) as u8) & REGISTER_MAX;
            dense_put(&mut regs, i, val);
            model[i] = val;
        }
        for (i, &m) in model.iter().enumerate() {
            assert_eq!(dense_get(&regs, i), m, "register {i}");
        }
    }

    #[test]
    fn sparse_and_dense_agree_on_registers_and_count() {
        for n in [0usize, 1, 5, 100, 1000, 5000] {
            let elements = || (0..n).map(|i| format!("e{i}").into_bytes());
            let sparse = hll_of(elements(), usize::MAX);
            let mut dense = new_sparse();
            to_dense(&mut dense).unwrap();
            for e in elements() {
                add(&mut dense, &e, 0).unwrap();
            }
            let mut converted = sparse.clone();
            to_dense(&mut converted).unwrap();
            assert_eq!(dense[HEADER_LEN..], converted[HEADER_LEN..], "n = {n}");
            assert_eq!(count(&sparse), count(&dense));
        }
    }

    #[test]
    fn merging_a_dense_value_reads_every_register() {
        let mut v = hll_of((0..3000).map(|i| format!("m{i}").into_bytes()), 0);
        assert!(is_dense(&v));
        dense_put(&mut v[HEADER_LEN..], REGISTERS - 1, 63);
        let mut max = [0u8; REGISTERS];
        merge_into(&mut max, &v).unwrap();
        assert_eq!(max.to_vec(), dense_registers(&v));
    }

    #[test]
    fn sparse_form_turns_dense_past_its_limit() {
        let v = hll_of((0..2000).map(|i| format!("{i}").into_bytes()), 300);
        assert!(is_dense(&v));
        assert_eq!(v.len(), DENSE_LEN);
        let small = hll_of((0..20).map(|i| format!("{i}").into_bytes()), 3000);
        assert!(!is_dense(&small));
    }

    #[test]
    fn corrupt_sparse_bodies_are_reported_not_trusted() {
        let mut short = new_sparse();
        short.truncate(HEADER_LEN + 1); // a truncated XZERO: 16129 registers
        assert_eq!(count(&short), Err(Corrupt));
        let mut too_long = new_sparse();
        too_long.push(0x80);
        assert_eq!(count(&too_long), Err(Corrupt));
        assert_eq!(to_dense(&mut too_long), Err(Corrupt));
        let mut max = [0u8; REGISTERS];
        assert_eq!(merge_into(&mut max, &too_long), Err(Corrupt));
        let mut empty_body = new_sparse();
        empty_body.truncate(HEADER_LEN);
        assert_eq!(add(&mut empty_body, b"x", 3000), Err(Corrupt));
    }

    /// Arbitrary bytes behind a valid header never panic any operation: a client can SET
    /// them.
    #[test]
    fn random_bodies_never_panic() {
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..20_000 {
            let mut v = new_sparse();
            v.truncate(HEADER_LEN);
            let len = (next() % 48) as usize;
            // Mostly opcodes that nearly add up: long zero runs and VALs.
            for _ in 0..len {
                let b = match next() % 4 {
                    0 => 0x7f,
                    1 => 0x40 | (next() % 64) as u8,
                    _ => next() as u8,
                };
                v.push(b);
            }
            if round % 100 == 0 {
                v = vec![0; DENSE_LEN];
                v[..4].copy_from_slice(b"HYLL");
                for b in &mut v[HEADER_LEN..] {
                    *b = next() as u8;
                }
            }
            assert!(is_hll(&v));
            let _ = count(&v);
            let _ = decode_sparse(&v);
            let mut max = [0u8; REGISTERS];
            let _ = merge_into(&mut max, &v);
            let mut w = v.clone();
            let _ = to_dense(&mut w);
            let mut w = v.clone();
            for e in 0..4u8 {
                if add(&mut w, &[e, round as u8], (next() % 64) as usize).is_err() {
                    break;
                }
            }
            let mut w = v.clone();
            let _ = store_max(&mut w, &max, round % 2 == 0, 3000);
        }
    }

    #[test]
    fn estimates_are_close() {
        for n in [10usize, 1000, 50_000] {
            let v = hll_of((0..n).map(|i| format!("k{i}").into_bytes()), 3000);
            let c = count(&v).unwrap() as f64;
            let err = (c - n as f64).abs() / n as f64;
            assert!(err < 0.05, "n = {n}, estimate {c}");
        }
    }
}
