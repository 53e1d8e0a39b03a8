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

/// Continues the CRC `crc` (0 to start) over `data`.
///
/// # Examples
///
/// ```
/// use redistill_persist::rdb::crc64;
/// assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
/// // Checksumming in pieces gives the same result.
/// assert_eq!(crc64(crc64(0, b"1234"), b"56789"), crc64(0, b"123456789"));
/// ```
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    data.iter().fold(crc, |crc, &b| {
        TABLE[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8)
    })
}
