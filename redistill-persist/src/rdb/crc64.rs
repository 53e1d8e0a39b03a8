//! CRC-64 with the Jones polynomial (`0xad93d23594c935a9`, reflected in and out, initial
//! value 0, no final xor): the checksum Redis puts at the end of DUMP payloads and RDB
//! files. Its check value (the CRC of `"123456789"`) is `0xe9c6d914c4b8d9ca`.

/// The polynomial, bit-reversed for the reflected (LSB-first) algorithm.
const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

/// One table entry per byte value, built at compile time.
const TABLE: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// Tables for eight bytes at a time ("slicing by 8"): `SLICES[k][b]` is the CRC of byte
/// `b` followed by `k` zero bytes.
const SLICES: [[u64; 256]; 8] = {
    let mut t = [[0u64; 256]; 8];
    t[0] = TABLE;
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = TABLE[(prev & 0xff) as usize] ^ (prev >> 8);
            i += 1;
        }
        k += 1;
    }
    t
};

/// Continues the CRC `crc` (0 to start) over `data`.
///
/// # Examples
///
/// ```
/// use redistill_persist::rdb::crc64;
/// assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
/// // Checksumming in pieces gives the same result.
/// assert_eq!(crc64(crc64(0, b"1234"), b"56789"), crc64(0, b"123456789"));
/// let long = b"The quick brown fox jumps over the lazy dog, twice over and once more";
/// assert_eq!(crc64(crc64(0, &long[..13]), &long[13..]), crc64(0, long));
/// ```
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    let mut crc = crc;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = crc ^ u64::from_le_bytes(word);
        let b = x.to_le_bytes();
        crc = SLICES[7][usize::from(b[0])]
            ^ SLICES[6][usize::from(b[1])]
            ^ SLICES[5][usize::from(b[2])]
            ^ SLICES[4][usize::from(b[3])]
            ^ SLICES[3][usize::from(b[4])]
            ^ SLICES[2][usize::from(b[5])]
            ^ SLICES[1][usize::from(b[6])]
            ^ SLICES[0][usize::from(b[7])];
    }
    chunks.remainder().iter().fold(crc, |crc, &b| {
        TABLE[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytewise(crc: u64, data: &[u8]) -> u64 {
        data.iter().fold(crc, |crc, &b| {
            TABLE[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8)
        })
    }

    #[test]
    fn eight_at_a_time_agrees_with_one_at_a_time() {
        let data: Vec<u8> = (0..1000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in 0..70 {
            for start in [0, 1, 3, 8, 11] {
                let d = &data[start..start + len * 13 % 900];
                assert_eq!(crc64(7, d), bytewise(7, d), "{start} {}", d.len());
            }
        }
    }
}
