//! Redis 7.0's serialization of single values (RDB version 10), as DUMP writes and
//! RESTORE reads it.
//!
//! A payload is
//!
//! ```text
//! [type byte][value][RDB version: u16 LE][CRC-64 (Jones) of everything before: u64 LE]
//! ```
//!
//! This module is a codec and nothing more: it turns a payload into a [`Value`](crate::Value) of the
//! crate's neutral value model and back, knowing nothing of the store, the server or the
//! network. The server copies a key's value out of the store (with the name of its current
//! encoding), asks [`encode_dump`] for the payload in the [`Layout`] that matches that
//! encoding, and hands [`decode_dump`]'s value to the store, which picks its own encoding
//! for it by its size limits, as Redis does on load.
//!
//! Decoding reads every type Redis 7.0 can put in a payload except streams and modules:
//! strings (raw, integer-encoded, LZF-compressed), lists (plain, ziplist, quicklist of
//! ziplists, quicklist of listpacks and plain nodes), sets (plain, intset, and 7.2's
//! listpack sets), sorted sets (string scores, binary scores, ziplist, listpack) and hashes
//! (plain, ziplist, listpack). Nothing is trusted: every length is checked against the
//! bytes that remain before anything is allocated for it, packed encodings are validated
//! byte by byte, and empty collections, duplicate members and trailing bytes are refused.
//!
//! Encoding writes what Redis 7.0 writes for a value of the same encoding, so that a 7.0
//! server restores it as that encoding where it has it: listpack hashes and sorted sets,
//! intsets, plain hashes, sets and skiplist sorted sets, and every list as a quicklist of
//! listpacks cut into nodes where Redis cuts them while appending. Strings longer than 20
//! bytes are LZF-compressed with the compressor's choices of Redis's liblzf, so payloads
//! are the same bytes as Redis's (`redistill-server/tests/dump.rs` compares them).
//!
//! # Examples
//!
//! ```
//! use bytes::Bytes;
//! use redistill_persist::Value;
//! use redistill_persist::rdb::{DumpError, Layout, decode_dump, encode_dump};
//!
//! // DUMP of SET k 1 on Redis 7.0.
//! let payload = b"\x00\xc0\x01\n\x00&x\xe7\xb6\xd1\x01\x11\xfc";
//! assert_eq!(decode_dump(payload)?, Value::Integer(1));
//! assert_eq!(encode_dump(&Value::Integer(1), Layout::Packed), payload);
//!
//! let hash = Value::Hash(vec![(Bytes::from("f"), Bytes::from("v"))]);
//! let bytes = encode_dump(&hash, Layout::Packed);
//! assert_eq!(decode_dump(&bytes)?, hash);
//!
//! // One changed byte fails the checksum.
//! let mut bad = bytes.clone();
//! bad[3] ^= 1;
//! assert_eq!(decode_dump(&bad), Err(DumpError::VersionOrChecksum));
//! # Ok::<(), DumpError>(())
//! ```

mod crc64;
mod decode;
mod encode;
mod intset;
mod listpack;
mod lzf;
mod ziplist;

pub use crc64::crc64;
pub use decode::{decode_dump, decode_value, verify_dump};
pub use encode::{Layout, encode_dump, encode_dump_with};

/// The RDB version this codec writes, and the newest it reads (Redis 7.0's).
pub const RDB_VERSION: u16 = 10;

/// Why a payload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DumpError {
    /// The footer is missing, names a newer RDB version, or its checksum does not match
    /// (RESTORE's `ERR DUMP payload version or checksum are wrong`).
    #[error("DUMP payload version or checksum are wrong")]
    VersionOrChecksum,
    /// The checksum matches but the value is malformed (RESTORE's `ERR Bad data format`);
    /// the text says what was wrong, for logs and tests.
    #[error("bad data format: {0}")]
    BadData(&'static str),
}

/// RDB type bytes (`RDB_TYPE_*` in Redis's `rdb.h`).
pub(crate) mod types {
    pub(crate) const STRING: u8 = 0;
    pub(crate) const LIST: u8 = 1;
    pub(crate) const SET: u8 = 2;
    pub(crate) const ZSET: u8 = 3;
    pub(crate) const HASH: u8 = 4;
    pub(crate) const ZSET_2: u8 = 5;
    pub(crate) const LIST_ZIPLIST: u8 = 10;
    pub(crate) const SET_INTSET: u8 = 11;
    pub(crate) const ZSET_ZIPLIST: u8 = 12;
    pub(crate) const HASH_ZIPLIST: u8 = 13;
    pub(crate) const LIST_QUICKLIST: u8 = 14;
    pub(crate) const HASH_LISTPACK: u8 = 16;
    pub(crate) const ZSET_LISTPACK: u8 = 17;
    pub(crate) const LIST_QUICKLIST_2: u8 = 18;
    pub(crate) const SET_LISTPACK: u8 = 20;
}

/// `s` as an `i64` when it is that integer's canonical decimal form (no sign on zero, no
/// leading zeros or `+`): the strings Redis stores in integer encodings.
pub(crate) fn canonical_i64(s: &[u8]) -> Option<i64> {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    let leading_zero = digits.first() == Some(&b'0') && (digits.len() > 1 || digits != s);
    if digits.is_empty() || digits.len() > 19 || leading_zero {
        return None;
    }
    // Nineteen digits fit a u64; the sign then decides the range.
    let mut magnitude: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude * 10 + u64::from(d - b'0');
    }
    if digits.len() == s.len() {
        i64::try_from(magnitude).ok()
    } else {
        0i64.checked_sub_unsigned(magnitude)
    }
}

/// The integer a score is written as (`d2string`'s decimal form of an integral value
/// strictly between -(2^52 - 1) and 2^52), which a listpack then stores in an integer
/// encoding; `None` for any other score, `-0` included.
pub(crate) fn score_int(v: f64) -> Option<i64> {
    const LIMIT: f64 = 4_503_599_627_370_496.0;
    let integral = v > -(LIMIT - 1.0) && v < LIMIT && v.fract() == 0.0;
    (integral && !(v == 0.0 && v.is_sign_negative())).then_some(v as i64)
}

/// A score's text on the stack: `%.17g` never writes more than 24 bytes.
pub(crate) struct ScoreText {
    buf: [u8; 32],
    len: usize,
}

impl ScoreText {
    fn of(text: &[u8]) -> ScoreText {
        let mut out = ScoreText {
            buf: [0; 32],
            len: 0,
        };
        out.extend(text);
        out
    }

    fn extend(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    #[cfg(test)]
    fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

/// A score as Redis 7.0's `d2string` writes it into a listpack: integers below 2^52 in
/// decimal, anything else as `printf("%.17g")` would.
pub(crate) fn score_text(v: f64) -> ScoreText {
    if v.is_nan() {
        return ScoreText::of(b"nan");
    }
    if v.is_infinite() {
        return ScoreText::of(if v > 0.0 { b"inf" } else { b"-inf" });
    }
    if v == 0.0 {
        return ScoreText::of(if v.is_sign_negative() { b"-0" } else { b"0" });
    }
    // Integral values strictly between -(2^52 - 1) and 2^52.
    const LIMIT: f64 = 4_503_599_627_370_496.0;
    if v > -(LIMIT - 1.0) && v < LIMIT && v.fract() == 0.0 {
        return ScoreText::of(itoa::Buffer::new().format(v as i64).as_bytes());
    }
    short_dyadic(v).unwrap_or_else(|| ScoreText::of(format_g17_slow(v).as_bytes()))
}

/// `%.17g` of `v` when `v = a / 2^m` with `m <= 20`, `|v|` in `[1e-4, 2^53)`, and the exact
/// decimal expansion `a * 5^m / 10^m` has at most 17 significant digits: then `%.17g`
/// prints that expansion, trailing zeros dropped. The common scores (halves, quarters,
/// eighths of moderate size) qualify; tenths do not.
fn short_dyadic(v: f64) -> Option<ScoreText> {
    let magnitude = v.abs();
    if !(1e-4..9_007_199_254_740_992.0).contains(&magnitude) {
        return None;
    }
    // magnitude = mantissa * 2^exp exactly (no subnormal is in range).
    let bits = magnitude.to_bits();
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    let shift = mantissa.trailing_zeros();
    let exp = ((bits >> 52) as i32) - 1075 + shift as i32;
    let (a, m) = if exp >= 0 {
        (u128::from(mantissa >> shift) << exp, 0)
    } else {
        (u128::from(mantissa >> shift), exp.unsigned_abs())
    };
    if m > 20 {
        return None;
    }
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(a * 5u128.pow(m)).as_bytes();
    if digits.len() > 17 {
        return None;
    }
    let m = m as usize;
    let mut out = ScoreText::of(if v < 0.0 { b"-" } else { b"" });
    let (int, frac) = if digits.len() > m {
        digits.split_at(digits.len() - m)
    } else {
        (&b"0"[..], digits)
    };
    out.extend(int);
    let frac_len = frac.len() - frac.iter().rev().take_while(|&&d| d == b'0').count();
    if frac_len > 0 {
        out.extend(b".");
        for _ in frac.len()..m {
            out.extend(b"0");
        }
        out.extend(&frac[..frac_len]);
    }
    Some(out)
}

fn format_g17_slow(v: f64) -> String {
    const PRECISION: i32 = 17;
    let sci = format!("{:.*e}", (PRECISION - 1) as usize, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..PRECISION).contains(&exp) {
        let fixed = format!("{:.*}", (PRECISION - 1 - exp) as usize, v);
        trim_fraction(&fixed).to_string()
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim_fraction(mantissa), exp.abs())
    }
}

/// Drops trailing zeros of a fraction, and the point if nothing follows it.
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_print_as_redis_prints_them() {
        for (v, text) in [
            (0.1, "0.10000000000000001"),
            (1.5, "1.5"),
            (3.0, "3"),
            (-3.0, "-3"),
            (1e20, "1e+20"),
            (1.25e-5, "1.2500000000000001e-05"),
            (0.0001, "0.0001"),
            (123_456_789.125, "123456789.125"),
            (4_503_599_627_370_496.0, "4503599627370496"),
            (9_007_199_254_740_993.0, "9007199254740992"),
            (1e17, "1e+17"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (-0.0, "-0"),
            (0.3, "0.29999999999999999"),
            (-1.5e300, "-1.5000000000000001e+300"),
        ] {
            assert_eq!(score_text(v).as_str(), text, "{v}");
        }
    }

    #[test]
    fn the_exact_path_agrees_with_the_general_one() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let r = next();
            let v = match r % 4 {
                0 => (r >> 12) as f64 / f64::from(1u32 << (r % 21)),
                1 => f64::from_bits(next()),
                2 => ((r >> 40) as f64 - 8_388_608.0) / 1024.0,
                _ => (r % 100_000) as f64 / 1e4,
            };
            if !v.is_finite() || v == 0.0 {
                continue;
            }
            if let Some(fast) = short_dyadic(v) {
                assert_eq!(fast.as_str(), format_g17_slow(v), "{v:e}");
            }
        }
        assert_eq!(
            short_dyadic(1.5).map(|t| t.as_str().to_owned()).as_deref(),
            Some("1.5")
        );
        assert!(short_dyadic(0.1).is_none());
    }

    #[test]
    fn integer_scores_are_their_text_as_an_integer() {
        assert_eq!(score_int(3.0), Some(3));
        assert_eq!(score_int(-0.0), None);
        assert_eq!(score_int(1.5), None);
        for v in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            3.0,
            1.5,
            1e15,
            -1e15,
            4_503_599_627_370_495.0,
            4_503_599_627_370_496.0,
            -4_503_599_627_370_495.0,
            -4_503_599_627_370_494.0,
            1e20,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.1,
        ] {
            // Where it answers, it agrees with the text (larger integral scores print as
            // integers too and take the text's path to the same encoding).
            if let Some(n) = score_int(v) {
                assert_eq!(Some(n), canonical_i64(score_text(v).as_bytes()), "{v}");
            }
        }
    }

    #[test]
    fn canonical_integers_only() {
        assert_eq!(canonical_i64(b"-12"), Some(-12));
        assert_eq!(canonical_i64(b"0"), Some(0));
        for n in [i64::MIN, i64::MAX, -1, 10, 1_000_000_007] {
            assert_eq!(canonical_i64(n.to_string().as_bytes()), Some(n));
        }
        assert_eq!(canonical_i64(b"9223372036854775808"), None);
        assert_eq!(canonical_i64(b"-"), None);
        for s in [
            &b""[..],
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1.0",
            b"99999999999999999999",
        ] {
            assert_eq!(canonical_i64(s), None, "{s:?}");
        }
    }

    proptest::proptest! {
        /// An integer is canonical exactly when printing what it parses to gives it back.
        #[test]
        fn canonical_means_it_prints_back(s in "-?[0-9]{0,20}x?") {
            let expected = std::str::from_utf8(s.as_bytes())
                .ok()
                .and_then(|t| t.parse::<i64>().ok())
                .filter(|n| n.to_string() == s);
            proptest::prop_assert_eq!(canonical_i64(s.as_bytes()), expected);
        }
    }
}
