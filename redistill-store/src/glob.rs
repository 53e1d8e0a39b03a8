//! Redis's glob matching (`stringmatchlen`), ported byte for byte.
//!
//! Supported: `*`, `?`, `[abc]`, `[^abc]`, `[a-z]` (reversed ranges allowed), and `\` to quote
//! the next byte, inside and outside classes. An unterminated class matches as if closed at
//! the end of the pattern. Ranges compare bytes as C's signed `char`, as Redis does on x86.

/// Whether `string` matches the glob `pattern`, with Redis's exact semantics.
///
/// Like Redis's `stringmatchlen`, `*` alone does not match the empty string; KEYS and SCAN
/// treat a lone `*` pattern as "everything" before calling the matcher, and so do
/// [`Store::keys`](crate::Store::keys) and [`Store::scan`](crate::Store::scan).
///
/// # Examples
///
/// ```
/// use redistill_store::glob_match;
/// assert!(glob_match(b"user:*", b"user:42"));
/// assert!(glob_match(b"h[^e]llo", b"hallo"));
/// assert!(!glob_match(b"h[a-b]llo", b"hello"));
/// ```
pub fn glob_match(pattern: &[u8], string: &[u8]) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, &mut skip_longer)
}

/// Reads past the end behave like C reading the string's NUL terminator.
fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

fn match_impl(pattern: &[u8], string: &[u8], skip_longer: &mut bool) -> bool {
    let mut p = 0usize;
    let mut s = 0usize;
    let plen = pattern.len();
    let slen = string.len();
    while p < plen && s < slen {
        match pattern[p] {
            b'*' => {
                while p + 1 < plen && pattern[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == plen {
                    return true;
                }
                while s < slen {
                    if match_impl(&pattern[p + 1..], &string[s..], skip_longer) {
                        return true;
                    }
                    // The rest of the pattern cannot match anywhere later either.
                    if *skip_longer {
                        return false;
                    }
                    s += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => {
                s += 1;
            }
            b'[' => {
                p += 1;
                let not = at(pattern, p) == b'^';
                if not {
                    p += 1;
                }
                let c = string[s];
                let mut matched = false;
                loop {
                    if at(pattern, p) == b'\\' && plen.saturating_sub(p) >= 2 {
                        p += 1;
                        if pattern[p] == c {
                            matched = true;
                        }
                    } else if at(pattern, p) == b']' {
                        break;
                    } else if p >= plen {
                        // Unterminated class: step back so the common advance lands at the end.
                        p = plen - 1;
                        break;
                    } else if plen - p >= 3 && pattern[p + 1] == b'-' {
                        let mut start = pattern[p] as i8;
                        let mut end = pattern[p + 2] as i8;
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        let ci = c as i8;
                        p += 2;
                        if ci >= start && ci <= end {
                            matched = true;
                        }
                    } else if pattern[p] == c {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s += 1;
            }
            b => {
                let mut b = b;
                if b == b'\\' && plen - p >= 2 {
                    p += 1;
                    b = pattern[p];
                }
                if b != string[s] {
                    return false;
                }
                s += 1;
            }
        }
        p += 1;
        if s == slen {
            while at(pattern, p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= plen && s == slen
}

#[cfg(test)]
mod tests {
    use super::glob_match as m;
    use proptest::prelude::*;

    #[test]
    fn redis_cases() {
        // Verified with KEYS against redis-server 7.0.
        let cases: &[(&[u8], &[u8], bool)] = &[
            // KEYS and SCAN special-case a lone `*`; the matcher itself needs one byte.
            (b"*", b"", false),
            (b"**", b"", false),
            (b"*", b"anything", true),
            (b"", b"", true),
            (b"", b"a", false),
            (b"a*", b"a", true),
            (b"a**b", b"axxb", true),
            (b"h?llo", b"hello", true),
            (b"h?llo", b"hllo", false),
            (b"h[ae]llo", b"hallo", true),
            (b"h[ae]llo", b"hillo", false),
            (b"h[^e]llo", b"hello", false),
            (b"h[^e]llo", b"hallo", true),
            (b"h[a-b]llo", b"hbllo", true),
            (b"h[b-a]llo", b"hbllo", true),
            (b"h\\*llo", b"h*llo", true),
            (b"h\\*llo", b"hello", false),
            (b"h[\\]]llo", b"h]llo", true),
            (b"h[abc", b"hc", true),
            (b"h[abc", b"hb", true),
            (b"a\\", b"a\\", true),
            (b"[", b"a", false),
            (b"*[", b"a", false),
            (b"a*c*e", b"abcde", true),
            (b"a*c*e", b"abcdf", false),
            (b"[]", b"]", false),
            (b"[a-\xff]", b"\x80", false),
            (b"[\x80-\xff]", b"\x90", true),
            (b"[^]", b"a", true),
            (b"x[", b"x", false),
            (b"[a-]", b"-", false),
            (b"[-a]", b"b", false),
        ];
        for (p, s, want) in cases {
            assert_eq!(
                m(p, s),
                *want,
                "{:?} ~ {:?}",
                String::from_utf8_lossy(p),
                String::from_utf8_lossy(s)
            );
        }
    }

    fn escape(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in s {
            if b"*?[]\\^-".contains(&b) {
                out.push(b'\\');
            }
            out.push(b);
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn escaped_string_matches_only_itself(s in proptest::collection::vec(any::<u8>(), 0..12),
                                              t in proptest::collection::vec(any::<u8>(), 0..12)) {
            let p = escape(&s);
            prop_assert!(m(&p, &s));
            prop_assert_eq!(m(&p, &t), s == t);
        }

        #[test]
        fn star_and_question_agree_with_a_simple_matcher(
            p in proptest::collection::vec(prop_oneof![Just(b'*'), Just(b'?'), Just(b'a'), Just(b'b')], 0..8),
            // Non-empty: Redis's matcher never matches an empty string against a non-empty
            // pattern, even `*` (see `redis_cases`).
            s in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b')], 1..10)) {
            prop_assert_eq!(m(&p, &s), reference(&p, &s));
        }
    }

    /// Textbook recursive matcher for `*`, `?` and literals.
    fn reference(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (None, Some(_)) => false,
            (Some(b'*'), _) => reference(&p[1..], s) || (!s.is_empty() && reference(p, &s[1..])),
            (Some(_), None) => false,
            (Some(b'?'), Some(_)) => reference(&p[1..], &s[1..]),
            (Some(a), Some(b)) => a == b && reference(&p[1..], &s[1..]),
        }
    }
}
