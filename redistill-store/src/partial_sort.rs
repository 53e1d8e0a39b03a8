//! Redis's partial quicksort (`pqsort`), for the orders it gives elements that compare
//! equal.
//!
//! Where only part of a result is wanted (SORT with BY and LIMIT, GEOSEARCH with COUNT),
//! Redis sorts with a Bentley–McIlroy quicksort that skips the partitions outside the
//! wanted positions. Elements that compare equal then end up in an order of the
//! algorithm's own, which a stable sort does not reproduce; this is the same algorithm,
//! step for step, so the same order results.

use std::cmp::Ordering;

/// Sorts `v` enough that positions `lo..=hi` hold what a full sort would put there, in
/// the exact order Redis's `pqsort` leaves them (ties included). `hi` may be below `lo`
/// (nothing wanted), as Redis may ask.
///
/// # Examples
///
/// ```
/// use redistill_store::partial_sort;
/// let mut v = vec![9, 3, 7, 1, 8, 2, 6, 4, 5, 0];
/// partial_sort(&mut v, 0, 2, &mut |a: &i32, b: &i32| a.cmp(b));
/// assert_eq!(&v[..3], [0, 1, 2]);
/// ```
pub fn partial_sort<T>(v: &mut [T], lo: i64, hi: i64, cmp: &mut impl FnMut(&T, &T) -> Ordering) {
    let n = v.len();
    sort_part(v, 0, n, (lo, hi), cmp);
}

/// The median of three positions, as Redis picks it.
fn med3<T>(
    v: &[T],
    a: usize,
    b: usize,
    c: usize,
    cmp: &mut impl FnMut(&T, &T) -> Ordering,
) -> usize {
    if cmp(&v[a], &v[b]) == Ordering::Less {
        if cmp(&v[b], &v[c]) == Ordering::Less {
            b
        } else if cmp(&v[a], &v[c]) == Ordering::Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Ordering::Greater {
        b
    } else if cmp(&v[a], &v[c]) == Ordering::Less {
        a
    } else {
        c
    }
}

/// Swaps the `n` elements from `a` with the `n` from `b`.
fn swap_run<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Whether the wanted positions reach into `start..start + len`.
fn wanted(start: usize, len: usize, (lo, hi): (i64, i64)) -> bool {
    let first = i64::try_from(start).unwrap_or(i64::MAX);
    let last = first.saturating_add(i64::try_from(len).unwrap_or(i64::MAX)) - 1;
    !((lo < first && hi < first) || (lo > last && hi > last))
}

/// Sorts `v[a..a + n]` (partially).
fn sort_part<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    range: (i64, i64),
    cmp: &mut impl FnMut(&T, &T) -> Ordering,
) {
    loop {
        if n < 7 {
            // Insertion sort.
            for m in a + 1..a + n {
                let mut l = m;
                while l > a && cmp(&v[l - 1], &v[l]) == Ordering::Greater {
                    v.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let mut m = a + n / 2;
        if n > 7 {
            let mut l = a;
            let mut last = a + n - 1;
            if n > 40 {
                let d = n / 8;
                l = med3(v, l, l + d, l + 2 * d, cmp);
                m = med3(v, m - d, m, m + d, cmp);
                last = med3(v, last - 2 * d, last - d, last, cmp);
            }
            m = med3(v, l, m, last, cmp);
        }
        v.swap(a, m);
        // Bentley–McIlroy three-way partition: equal elements gather at both ends first.
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let c = cmp(&v[pb], &v[a]);
                if c == Ordering::Greater {
                    break;
                }
                if c == Ordering::Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&v[pc], &v[a]);
                if c == Ordering::Less {
                    break;
                }
                if c == Ordering::Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let end = a + n;
        let r = (pa - a).min(pb - pa);
        swap_run(v, a, pb - r, r);
        let r = (pd - pc).min(end - pd - 1);
        swap_run(v, pb, end - r, r);
        let left = pb - pa;
        if left > 1 && wanted(a, left, range) {
            sort_part(v, a, left, range, cmp);
        }
        let right = pd - pc;
        if right > 1 && wanted(end - right, right, range) {
            a = end - right;
            n = right;
            continue;
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The wanted positions hold what a full sort puts there.
        #[test]
        fn wanted_positions_are_sorted(
            mut v in prop::collection::vec(0u8..20, 0..120),
            lo in 0usize..120,
            len in 0usize..40,
        ) {
            let mut sorted = v.clone();
            sorted.sort_unstable();
            let hi = (lo + len).min(v.len().saturating_sub(1));
            partial_sort(&mut v, lo as i64, hi as i64, &mut |a: &u8, b: &u8| a.cmp(b));
            if lo <= hi && hi < v.len() {
                prop_assert_eq!(&v[lo..=hi], &sorted[lo..=hi]);
            }
            let mut all = v.clone();
            all.sort_unstable();
            prop_assert_eq!(all, sorted);
        }
    }

    #[test]
    fn a_full_range_sorts_everything() {
        let mut v: Vec<u32> = (0..500).map(|i| (i * 7919) % 503).collect();
        let n = v.len() as i64;
        partial_sort(&mut v, 0, n - 1, &mut |a: &u32, b: &u32| a.cmp(b));
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
    }
}
