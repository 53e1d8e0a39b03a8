//! LCS: the longest common subsequence of two strings, by Redis's dynamic programming.
//!
//! The table is (len(a) + 1) x (len(b) + 1) 32-bit cells, as Redis builds it; a table
//! larger than [`MAX_STRING_LEN`] bytes is refused as Redis refuses it
//! (`proto-max-bulk-len`). When several subsequences are longest, the one chosen and
//! the matched ranges are those Redis's backtracking picks.

use bytes::Bytes;

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::strings::MAX_STRING_LEN;

/// Why LCS could not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LcsError {
    /// A string is 2^32 - 2 bytes or longer.
    StringTooLong,
    /// The table would exceed `proto-max-bulk-len`.
    TableTooLarge,
    /// The table could not be allocated.
    OutOfMemory,
}

/// One matched range: `a[a_start..=a_end]` equals `b[b_start..=b_end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LcsMatch {
    /// First byte of the range in the first string.
    pub a_start: usize,
    /// Last byte of the range in the first string.
    pub a_end: usize,
    /// First byte of the range in the second string.
    pub b_start: usize,
    /// Last byte of the range in the second string.
    pub b_end: usize,
}

impl LcsMatch {
    /// The range's length.
    pub fn len(&self) -> usize {
        self.a_end - self.a_start + 1
    }

    /// Always false: a range holds one byte at least.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// What LCS found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lcs {
    /// The subsequence's length.
    pub len: usize,
    /// The subsequence itself.
    pub text: Vec<u8>,
    /// The matched ranges, last first (as Redis lists them), of at least the minimum
    /// length asked for.
    pub matches: Vec<LcsMatch>,
}

/// Computes the LCS of `a` and `b`, keeping the ranges of at least `min_match_len` bytes.
///
/// # Examples
///
/// ```
/// use redistill_store::{LcsMatch, lcs};
/// let r = lcs(b"ohmytext", b"mynewtext", 0).unwrap();
/// assert_eq!((r.len, &r.text[..]), (6, &b"mytext"[..]));
/// assert_eq!(r.matches[0], LcsMatch { a_start: 4, a_end: 7, b_start: 5, b_end: 8 });
/// assert_eq!(r.matches[1], LcsMatch { a_start: 2, a_end: 3, b_start: 0, b_end: 1 });
/// assert_eq!(lcs(b"ohmytext", b"mynewtext", 4).unwrap().matches.len(), 1);
/// ```
///
/// # Errors
///
/// [`LcsError`] when the strings or the table are too large.
pub fn lcs(a: &[u8], b: &[u8], min_match_len: usize) -> Result<Lcs, LcsError> {
    if a.len() as u64 >= u64::from(u32::MAX) - 1 || b.len() as u64 >= u64::from(u32::MAX) - 1 {
        return Err(LcsError::StringTooLong);
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells * 4 > MAX_STRING_LEN {
        return Err(LcsError::TableTooLarge);
    }
    let cells = usize::try_from(cells).map_err(|_| LcsError::OutOfMemory)?;
    let mut table: Vec<u32> = Vec::new();
    table
        .try_reserve_exact(cells)
        .map_err(|_| LcsError::OutOfMemory)?;
    table.resize(cells, 0);
    let w = blen + 1;
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * w + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * w + j - 1] + 1
            } else {
                table[(i - 1) * w + j].max(table[i * w + j - 1])
            };
        }
    }
    let len = table[alen * w + blen] as usize;
    let mut text = vec![0u8; len];
    let mut matches = Vec::new();
    let (mut i, mut j, mut idx) = (alen, blen, len);
    // The range being extended backwards: (a_start, a_end, b_start, b_end).
    let mut range: Option<(usize, usize, usize, usize)> = None;
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            text[idx - 1] = a[i - 1];
            range = Some(match range {
                None => (i - 1, i - 1, j - 1, j - 1),
                Some((_, ae, _, be)) => (i - 1, ae, j - 1, be),
            });
            if i == 1 || j == 1 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * w + j] > table[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = range.is_some();
        }
        if emit && let Some((a_start, a_end, b_start, b_end)) = range.take() {
            let m = LcsMatch {
                a_start,
                a_end,
                b_start,
                b_end,
            };
            if m.len() >= min_match_len {
                matches.push(m);
            }
        }
    }
    Ok(Lcs { len, text, matches })
}

impl Store {
    /// The two string values LCS compares (an absent key reads as empty), or
    /// [`StoreError::WrongType`] when either key holds another type.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"a", b"ohmytext", Default::default())?;
    /// let (a, b) = store.lcs_values(0, b"a", b"missing")?;
    /// assert_eq!((&a[..], &b[..]), (&b"ohmytext"[..], &b""[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn lcs_values(&self, db: usize, key1: &[u8], key2: &[u8]) -> Result<(Bytes, Bytes)> {
        let mut out = (Bytes::new(), Bytes::new());
        let mut wrong = false;
        self.read_keys(db, &[key1, key2], true, |i, e| {
            let v = match e.map(crate::entry::Entry::str_value) {
                None => Bytes::new(),
                Some(None) => {
                    wrong = true;
                    Bytes::new()
                }
                Some(Some(v)) => Bytes::copy_from_slice(crate::bitmaps::str_bytes(v, &mut [0; 20])),
            };
            if i == 0 {
                out.0 = v;
            } else {
                out.1 = v;
            }
        })?;
        if wrong {
            return Err(StoreError::WrongType);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{LcsError, lcs};

    /// The LCS length by the textbook recurrence, memoized.
    fn naive_len(a: &[u8], b: &[u8]) -> usize {
        let mut t = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                t[i][j] = if a[i - 1] == b[j - 1] {
                    t[i - 1][j - 1] + 1
                } else {
                    t[i - 1][j].max(t[i][j - 1])
                };
            }
        }
        t[a.len()][b.len()]
    }

    fn is_subsequence(sub: &[u8], of: &[u8]) -> bool {
        let mut it = of.iter();
        sub.iter().all(|c| it.any(|d| d == c))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn lcs_is_a_longest_common_subsequence_with_its_ranges(
            a in proptest::collection::vec(0u8..4, 0..40),
            b in proptest::collection::vec(0u8..4, 0..40),
            min in 0usize..4,
        ) {
            let all = lcs(&a, &b, 0)?;
            prop_assert_eq!(all.len, naive_len(&a, &b));
            prop_assert_eq!(all.text.len(), all.len);
            prop_assert!(is_subsequence(&all.text, &a) && is_subsequence(&all.text, &b));
            // The ranges, last first, spell the subsequence and match in both strings.
            let mut spelled = Vec::new();
            for m in all.matches.iter().rev() {
                prop_assert_eq!(&a[m.a_start..=m.a_end], &b[m.b_start..=m.b_end]);
                spelled.extend_from_slice(&a[m.a_start..=m.a_end]);
            }
            prop_assert_eq!(&spelled, &all.text);
            for w in all.matches.windows(2) {
                prop_assert!(w[1].a_end < w[0].a_start && w[1].b_end < w[0].b_start);
            }
            let kept = lcs(&a, &b, min)?;
            let expected: Vec<_> = all.matches.iter().copied().filter(|m| m.len() >= min).collect();
            prop_assert_eq!(kept.matches, expected);
        }
    }

    impl From<LcsError> for TestCaseError {
        fn from(e: LcsError) -> Self {
            TestCaseError::fail(format!("{e:?}"))
        }
    }

    #[test]
    fn tables_past_512_mb_are_refused() {
        let a = vec![b'x'; 12_000];
        assert_eq!(lcs(&a, &a, 0), Err(LcsError::TableTooLarge));
        assert_eq!(lcs(&a[..100], &a, 0).map(|r| r.len), Ok(100));
    }
}
