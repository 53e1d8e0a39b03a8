//! Memory sizes written the way Redis writes them (`100kb`, `512mb`, `2gb`, `1g`).
//!
//! This follows Redis's `memtoull` exactly, including its surprises, so that a value copied
//! from a `redis.conf` or a `CONFIG SET` means the same thing here: `k`, `m` and `g` are
//! powers of 1000, `kb`, `mb` and `gb` powers of 1024, units are case-insensitive, leading
//! zeros are fine, and a unit with no digits (`"gb"`, or the empty string) is zero. The one
//! deliberate difference: Redis silently wraps a value that overflows 64 bits, this rejects it.

/// Parses a memory size with Redis's units into bytes.
///
/// Returns `None` for anything Redis would reject (a sign, spaces, decimals, unknown units
/// such as `tb`) and for values that do not fit in a `u64`.
///
/// # Examples
///
/// ```
/// use redistill_server::config::parse_memory_size;
///
/// assert_eq!(parse_memory_size("2gb"), Some(2 * 1024 * 1024 * 1024));
/// assert_eq!(parse_memory_size("1K"), Some(1000));
/// assert_eq!(parse_memory_size("100kb"), Some(102_400));
/// assert_eq!(parse_memory_size("1048576"), Some(1_048_576));
/// assert_eq!(parse_memory_size("2xb"), None);
/// assert_eq!(parse_memory_size("-1"), None);
/// ```
#[must_use]
pub fn parse_memory_size(text: &str) -> Option<u64> {
    let digits_end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    // Redis copies the digits into a 128-byte buffer and refuses anything longer.
    if digits.len() >= 128 {
        return None;
    }
    // strtoull of an empty buffer is 0 without error, so a bare unit means zero in Redis.
    let value: u64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    value.checked_mul(multiplier)
}

#[cfg(test)]
mod tests {
    use super::parse_memory_size;

    /// Every row was checked against Redis 7.0 with `CONFIG SET maxmemory <input>` followed by
    /// `CONFIG GET maxmemory`; `None` is Redis's "argument must be a memory value".
    #[test]
    fn matches_redis_memtoull() {
        let table: &[(&str, Option<u64>)] = &[
            ("", Some(0)),
            ("0", Some(0)),
            ("gb", Some(0)),
            ("B", Some(0)),
            ("0b", Some(0)),
            ("10B", Some(10)),
            ("007", Some(7)),
            ("1k", Some(1000)),
            ("1K", Some(1000)),
            ("1kb", Some(1024)),
            ("1KB", Some(1024)),
            ("1m", Some(1_000_000)),
            ("1M", Some(1_000_000)),
            ("1mb", Some(1_048_576)),
            ("1g", Some(1_000_000_000)),
            ("1gb", Some(1_073_741_824)),
            ("1GB", Some(1_073_741_824)),
            ("2gb", Some(2_147_483_648)),
            ("512mb", Some(536_870_912)),
            ("100kb", Some(102_400)),
            ("2147483648", Some(2_147_483_648)),
            ("9223372036854775808", Some(9_223_372_036_854_775_808)),
            ("18446744073709551615", Some(u64::MAX)),
            ("17179869183gb", Some(18_446_744_072_635_809_792)),
            ("2xb", None),
            ("-1", None),
            ("+5", None),
            ("1t", None),
            ("1tb", None),
            ("1.5gb", None),
            (" 1gb", None),
            ("1 gb", None),
            ("1gb ", None),
            ("0x10", None),
            ("1bb", None),
            ("kb1", None),
        ];
        for (input, expected) in table {
            assert_eq!(parse_memory_size(input), *expected, "input {input:?}");
        }
    }

    /// Redis wraps these around silently (to 18446744073709551615 and to 0); a size that
    /// does not fit is refused here instead.
    #[test]
    fn overflow_is_rejected_rather_than_wrapped() {
        assert_eq!(parse_memory_size("18446744073709551616"), None);
        assert_eq!(parse_memory_size("99999999999999999999999"), None);
        assert_eq!(parse_memory_size("17179869184gb"), None);
        assert_eq!(parse_memory_size(&"1".repeat(128)), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn units_multiply_plain_numbers(n in 0u64..=u64::from(u32::MAX)) {
            for (unit, factor) in [("", 1u64), ("b", 1), ("k", 1000), ("KB", 1024), ("m", 1_000_000),
                                   ("Mb", 1 << 20), ("g", 1_000_000_000), ("gB", 1 << 30)] {
                proptest::prop_assert_eq!(
                    parse_memory_size(&format!("{n}{unit}")),
                    n.checked_mul(factor)
                );
            }
        }

        #[test]
        fn never_panics(text in "\\PC{0,40}") {
            let _ = parse_memory_size(&text);
        }
    }
}
