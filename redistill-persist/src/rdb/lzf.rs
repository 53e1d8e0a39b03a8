//! LZF, for strings Redis saves compressed (`RDB_ENC_LZF`): decompression, and a
//! compressor that makes the same choices as the liblzf 3.6 build Redis ships (a 2^16-slot
//! hash table of 3-byte prefixes, the "very fast" rehash after a match, no match at
//! offset 0), so that payloads come out as Redis writes them.
//!
//! The format is a stream of runs: a control byte below 32 is a literal run of
//! `ctrl + 1` bytes that follow it; any other is a back reference of length
//! `(ctrl >> 5) + 2` (the 3-bit field 7 means an extra length byte follows) to an offset
//! `((ctrl & 0x1f) << 8 | next byte) + 1` bytes back in the output. Every run is checked
//! against the input's end, the output's declared length and the output written so far.

use std::cell::RefCell;

/// The most output one input byte can stand for: a 3-byte back reference of the longest
/// length (7 + 255 + 2 = 264 bytes) is 88 per byte. A declared length beyond this ratio
/// cannot be right and is refused before anything is allocated.
pub(crate) const MAX_EXPANSION: usize = 88;

/// Decompresses `input` into exactly `out_len` bytes, or `None` if the input is malformed
/// or does not produce exactly `out_len` bytes.
pub(crate) fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    if out_len > input.len().saturating_mul(MAX_EXPANSION) {
        return None;
    }
    let mut out = Vec::with_capacity(out_len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let len = ctrl + 1;
            let run = input.get(ip..ip + len)?;
            if out.len() + len > out_len {
                return None;
            }
            out.extend_from_slice(run);
            ip += len;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip)?);
                ip += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(ip)?) + 1;
            ip += 1;
            len += 2;
            if back > out.len() || out.len() + len > out_len {
                return None;
            }
            // The run repeats the `back` bytes before it: copied `back` at a time, each
            // piece's source is already written.
            let mut from = out.len() - back;
            let mut left = len;
            while left > 0 {
                let n = left.min(back);
                out.extend_from_within(from..from + n);
                from += n;
                left -= n;
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

/// `log2` of the compressor's hash table size (Redis's `HLOG`).
const HASH_LOG: u32 = 16;
/// Longest literal run.
const MAX_LITERAL: usize = 1 << 5;
/// Farthest back reference.
const MAX_OFFSET: usize = 1 << 13;
/// Longest back reference.
const MAX_REFERENCE: usize = (1 << 8) + (1 << 3);

/// The hash slot of the 3-byte prefix held in the low 24 bits of `h`.
fn slot(h: u32) -> usize {
    ((h >> (24 - HASH_LOG)).wrapping_sub(h.wrapping_mul(5)) & ((1 << HASH_LOG) - 1)) as usize
}

thread_local! {
    /// The compressor's hash table, kept per thread: building and clearing 2^16 slots for
    /// every string would cost more than compressing it. Each slot holds a call's stamp
    /// over the position it saw, so entries of earlier calls read as empty.
    static TABLE: RefCell<(u32, Option<Box<Table>>)> = const { RefCell::new((0, None)) };
}

/// Slots of the compressor's hash table: a fixed size, so that a slot masked to
/// [`HASH_LOG`] bits needs no bounds check.
type Table = [u64; 1 << HASH_LOG];

/// A zeroed table, built on the heap (it is 512 KiB).
fn new_table() -> Box<Table> {
    let slots: Box<[u64]> = vec![0; 1 << HASH_LOG].into_boxed_slice();
    slots
        .try_into()
        .unwrap_or_else(|_| unreachable!("the table has 1 << HASH_LOG slots"))
}

/// A hash table slot's content for this call: the position it holds, if written in it.
struct Slots<'a> {
    stamp: u32,
    table: &'a mut Table,
}

impl Slots<'_> {
    fn swap(&mut self, slot: usize, pos: usize) -> Option<usize> {
        let old = self.table[slot];
        self.set(slot, pos);
        ((old >> 32) as u32 == self.stamp).then_some((old & 0xffff_ffff) as usize)
    }

    fn set(&mut self, slot: usize, pos: usize) {
        self.table[slot] = (u64::from(self.stamp) << 32) | pos as u64;
    }
}

/// Compresses `input` into at most `max_out` bytes, or `None` when it does not fit (or
/// either is empty, or it is 4 GiB or more).
pub(crate) fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    if input.is_empty() || max_out == 0 || u32::try_from(input.len()).is_err() {
        return None;
    }
    TABLE.with(|cell| {
        let mut cell = cell.borrow_mut();
        let (stamp, table) = &mut *cell;
        let table = table.get_or_insert_with(new_table);
        *stamp = stamp.wrapping_add(1);
        if *stamp == 0 {
            table.fill(0);
            *stamp = 1;
        }
        let slots = Slots {
            stamp: *stamp,
            table,
        };
        compress_with(input, max_out, slots)
    })
}

/// How far the match of `input[r..]` against `input[ip..]` (whose first three bytes are
/// equal) runs, as liblzf measures it, biased by 2: with `max_len` above 16 it compares
/// the 16 bytes past the first three before it looks at the limit, and past those it
/// counts at least 19; otherwise it stops at the first difference or at `max_len` (at
/// least 3). Eight bytes are compared at a time; the result is liblzf's byte loop's.
fn match_len(input: &[u8], r: usize, ip: usize, max_len: usize) -> usize {
    if max_len > 16 {
        let first = first_difference(input, r, ip, 3, 19);
        if first < 19 || max_len <= 19 {
            return first;
        }
        return first_difference(input, r, ip, 19, max_len);
    }
    first_difference(input, r, ip, 3, max_len.max(3))
}

/// The first `j` in `from..to` where `input[r + j]` and `input[ip + j]` differ, or `to`.
/// `ip + to` must be within `input`, and `r` below `ip`.
fn first_difference(input: &[u8], r: usize, ip: usize, from: usize, to: usize) -> usize {
    let word = |at: usize| {
        input
            .get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, u64::from_le_bytes)
    };
    let mut j = from;
    while j + 8 <= to {
        let diff = word(r + j) ^ word(ip + j);
        if diff != 0 {
            return j + (diff.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while j < to && input[r + j] == input[ip + j] {
        j += 1;
    }
    j
}

fn compress_with(input: &[u8], max_out: usize, mut table: Slots<'_>) -> Option<Vec<u8>> {
    let n = input.len();
    let mut out = Vec::with_capacity(max_out + 1);
    // Each literal run starts with a placeholder for its control byte.
    out.push(0);
    let mut lit = 0usize;
    let mut ip = 0usize;
    let mut h: u32 = if n >= 2 {
        (u32::from(input[0]) << 8) | u32::from(input[1])
    } else {
        0
    };
    while ip + 2 < n {
        h = (h << 8) | u32::from(input[ip + 2]);
        let r = table.swap(slot(h), ip).unwrap_or(0);
        let matched =
            r > 0 && ip - r - 1 < MAX_OFFSET && ip + 4 < n && input[r..r + 3] == input[ip..ip + 3];
        if !matched {
            if out.len() >= max_out {
                return None;
            }
            lit += 1;
            out.push(input[ip]);
            ip += 1;
            if lit == MAX_LITERAL {
                let at = out.len() - lit - 1;
                out[at] = (lit - 1) as u8;
                lit = 0;
                out.push(0);
            }
            continue;
        }
        let off = ip - r - 1;
        let max_len = (n - ip - 2).min(MAX_REFERENCE);
        // Close the literal run, or drop its placeholder when it is empty.
        if lit == 0 {
            out.pop();
        } else {
            let at = out.len() - lit - 1;
            out[at] = (lit - 1) as u8;
        }
        if out.len() + 4 >= max_out {
            return None;
        }
        let len = match_len(input, r, ip, max_len) - 2;
        ip += 1;
        if len < 7 {
            out.push(((off >> 8) + (len << 5)) as u8);
        } else {
            out.push(((off >> 8) + (7 << 5)) as u8);
            out.push((len - 7) as u8);
        }
        out.push(off as u8);
        lit = 0;
        out.push(0);
        ip += len + 1;
        if ip + 2 >= n {
            break;
        }
        // Hash the two positions before the new one.
        ip -= 2;
        h = (u32::from(input[ip]) << 8) | u32::from(input[ip + 1]);
        for _ in 0..2 {
            h = (h << 8) | u32::from(input[ip + 2]);
            table.set(slot(h), ip);
            ip += 1;
        }
    }
    if out.len() + 3 > max_out {
        return None;
    }
    while ip < n {
        lit += 1;
        out.push(input[ip]);
        ip += 1;
        if lit == MAX_LITERAL {
            let at = out.len() - lit - 1;
            out[at] = (lit - 1) as u8;
            lit = 0;
            out.push(0);
        }
    }
    if lit == 0 {
        out.pop();
    } else {
        let at = out.len() - lit - 1;
        out[at] = (lit - 1) as u8;
    }
    (out.len() <= max_out).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_overlapping_back_reference() {
        // "ab" then a back reference of 6 at distance 2: "abababab".
        let input = [1, b'a', b'b', (4 << 5), 1];
        assert_eq!(decompress(&input, 8).unwrap(), b"abababab");
        assert_eq!(decompress(&input, 9), None, "too short for its length");
        assert_eq!(decompress(&input, 7), None, "longer than its length");
    }

    #[test]
    fn compression_round_trips() {
        let mut inputs: Vec<Vec<u8>> = vec![
            b"abcdefghij".repeat(500),
            vec![b'a'; 10_000],
            (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect(),
            b"0.10000000000000001".to_vec(),
        ];
        let mut x = 12_345u64;
        inputs.push(
            (0..5000)
                .map(|_| {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    b"abcd"[(x >> 62) as usize]
                })
                .collect(),
        );
        for input in &inputs {
            let packed = compress(input, input.len() - 4).unwrap();
            assert!(packed.len() < input.len());
            assert_eq!(decompress(&packed, input.len()).as_ref(), Some(input));
        }
        let random: Vec<u8> = (0..100u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(compress(&random, random.len() - 4), None, "incompressible");
    }

    /// liblzf's match loop, byte by byte, as [`match_len`] must answer.
    fn match_len_bytewise(input: &[u8], r: usize, ip: usize, max_len: usize) -> usize {
        let mut len = 2;
        if max_len > 16 {
            for _ in 0..16 {
                len += 1;
                if input[r + len] != input[ip + len] {
                    return len;
                }
            }
        }
        loop {
            len += 1;
            if !(len < max_len && input[r + len] == input[ip + len]) {
                return len;
            }
        }
    }

    #[test]
    fn match_lengths_are_liblzf_s() {
        // Runs of a few symbols, so that matches of every length, cut anywhere by the
        // limit, come up.
        let mut x = 99u64;
        for _ in 0..600 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let n = 4 + (x >> 40) as usize % 300;
            let symbols = 1 + (x >> 20) as u8 % 3;
            let mut y = x;
            let input: Vec<u8> = (0..n)
                .map(|_| {
                    y = y.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(7);
                    if (y >> 60) < 14 {
                        b'a'
                    } else {
                        b'a' + (y >> 33) as u8 % symbols
                    }
                })
                .collect();
            for ip in 1..n.saturating_sub(3) {
                for r in ip.saturating_sub(40)..ip {
                    if input[r..r + 3] != input[ip..ip + 3] {
                        continue;
                    }
                    let max_len = (n - ip - 2).min(MAX_REFERENCE);
                    assert_eq!(
                        match_len(&input, r, ip, max_len),
                        match_len_bytewise(&input, r, ip, max_len),
                        "r {r}, ip {ip}, max_len {max_len}, input {input:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn malformed_inputs_are_refused() {
        assert_eq!(decompress(&[5, b'a'], 6), None, "literal past the end");
        assert_eq!(
            decompress(&[0, b'a', (1 << 5), 5], 4),
            None,
            "reference before the start"
        );
        assert_eq!(decompress(&[0xe0], 10), None, "missing length byte");
        assert_eq!(decompress(&[0, b'a'], 1 << 20), None, "implausible ratio");
    }
}
