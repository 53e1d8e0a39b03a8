//! LZF decompression, for strings Redis saved compressed (`RDB_ENC_LZF`).
//!
//! The format is a stream of runs: a control byte below 32 is a literal run of
//! `ctrl + 1` bytes that follow it; any other is a back reference of length
//! `(ctrl >> 5) + 2` (the 3-bit field 7 means an extra length byte follows) to an offset
//! `((ctrl & 0x1f) << 8 | next byte) + 1` bytes back in the output. Every run is checked
//! against the input's end, the output's declared length and the output written so far.

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
            let start = out.len() - back;
            // Byte by byte: the source may overlap what this run writes.
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
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
