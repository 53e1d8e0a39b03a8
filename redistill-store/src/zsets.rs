//! Sorted-set commands: ZADD, ZRANGE and its forms, ZPOPMIN, ZUNIONSTORE, ZSCAN and friends.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use crate::changes::Event;
use crate::entry::{Entry, PACKED_ZSET};
use crate::error::{Result, StoreError};
use crate::glob::glob_match;
use crate::packed::{Packable, Unpacked, unpacked};
use crate::setobj::SetObj;
use crate::store::Store;
use crate::table::Slot;
use crate::zsetobj::{Limits, Seek, ZSetObj, ZSetRef};

/// Default `zset-max-listpack-entries`: sets of up to 128 members stay compact.
pub const DEFAULT_ZSET_MAX_LISTPACK_ENTRIES: i64 = 128;
/// Default `zset-max-listpack-value`: members of up to 64 bytes stay compact.
pub const DEFAULT_ZSET_MAX_LISTPACK_VALUE: i64 = 64;

/// A member and its score, as ZRANGE WITHSCORES and ZPOPMIN return them.
pub type ScoredMember = (Bytes, f64);

/// One end of a score range. `-inf` and `+inf` are `Inclusive(f64::NEG_INFINITY)` and
/// `Inclusive(f64::INFINITY)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScoreBound {
    /// The score itself is in the range (`1.5`).
    Inclusive(f64),
    /// The score itself is not (`(1.5`).
    Exclusive(f64),
}

/// A score range, `min` to `max` (ZRANGEBYSCORE, ZCOUNT, ZREMRANGEBYSCORE).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// The low end.
    pub min: ScoreBound,
    /// The high end.
    pub max: ScoreBound,
}

/// One end of a lex range: `[x`, `(x`, `-`, `+`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LexBound<'a> {
    /// `[x`: `x` itself included.
    Inclusive(&'a [u8]),
    /// `(x`: `x` itself excluded.
    Exclusive(&'a [u8]),
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
}

/// A lex range, `min` to `max` (ZRANGEBYLEX, ZLEXCOUNT, ZREMRANGEBYLEX).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LexRange<'a> {
    /// The low end.
    pub min: LexBound<'a>,
    /// The high end.
    pub max: LexBound<'a>,
}

/// What a range selects. Rank indexes are ZRANGE's (negative from the end, clamped).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ZRangeBy<'a> {
    /// By rank, `start..=stop`.
    Rank {
        /// First rank.
        start: i64,
        /// Last rank, included.
        stop: i64,
    },
    /// By score.
    Score(ScoreRange),
    /// By member, for members of equal scores.
    Lex(LexRange<'a>),
}

/// A ZRANGE selection with its options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZRangeSpec<'a> {
    /// What is selected.
    pub by: ZRangeBy<'a>,
    /// Descending order (REV / ZREVRANGE*). The range itself is always given min..max here;
    /// for Rank with rev, start/stop count from the highest score as ZREVRANGE does.
    pub rev: bool,
    /// LIMIT offset count (count < 0: all), only for Score and Lex.
    pub limit: Option<(i64, i64)>,
}

/// ZADD's flags.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct ZAddOptions {
    /// Only add new members.
    pub nx: bool,
    /// Only update existing members.
    pub xx: bool,
    /// Only update when the new score is greater.
    pub gt: bool,
    /// Only update when the new score is less.
    pub lt: bool,
    /// Count changed scores as well as added members.
    pub ch: bool,
    /// Add the (single) score to the member's, as ZINCRBY.
    pub incr: bool,
}

/// What ZADD did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZAddResult {
    /// Elements added (or, with `ch`, added + score changed): ZADD's integer reply.
    pub count: usize,
    /// With `incr`: the new score, or None when NX/XX/GT/LT stopped the update (ZADD answers nil).
    pub incr: Option<f64>,
}

/// How ZUNION/ZINTER combine the scores of a member found in several inputs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// The sum (the default).
    #[default]
    Sum,
    /// The least.
    Min,
    /// The greatest.
    Max,
}

/// Which set operation [`Store::zsetop`] performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZSetOp {
    /// ZUNION.
    Union,
    /// ZINTER.
    Inter,
    /// ZDIFF: the members of the first input in none of the others.
    Diff,
}

/// A run of members read in place (as [`crate::ListRange`]): `len()` then `for_each`.
pub struct ZRangeItems<'a> {
    zset: Option<ZSetRef<'a>>,
    /// Ascending ranks `start..end`.
    start: usize,
    end: usize,
    rev: bool,
    /// The members themselves, already found (a short run by score), in reply order:
    /// then `zset` is `None`.
    picked: Vec<(f64, &'a [u8])>,
}

/// The longest LIMIT run by score picked in one scan instead of by rank.
const PICK_MAX: usize = 128;

/// A forward range by score with a short LIMIT, found in one scan from its low end: where
/// ranks would take two bound searches and a walk to the first rank. `None` for any other
/// selection.
fn pick_by_score<'a>(z: ZSetRef<'a>, spec: &ZRangeSpec<'_>) -> Option<Vec<(f64, &'a [u8])>> {
    let (ZRangeBy::Score(range), false, Some((offset, count))) = (&spec.by, spec.rev, spec.limit)
    else {
        return None;
    };
    let (Ok(skip), Ok(take)) = (usize::try_from(offset), usize::try_from(count)) else {
        return None;
    };
    if take > PICK_MAX || skip > PICK_MAX {
        return None;
    }
    let seek = match range.min {
        ScoreBound::Inclusive(v) => Seek::Score(v, false),
        ScoreBound::Exclusive(v) => Seek::Score(v, true),
    };
    let mut picked = Vec::with_capacity(take);
    let mut seen = 0;
    if take > 0 {
        z.scan_from(seek, |s, m| {
            let inside = match range.max {
                ScoreBound::Inclusive(v) => s <= v,
                ScoreBound::Exclusive(v) => s < v,
            };
            if !inside {
                return false;
            }
            seen += 1;
            if seen > skip {
                picked.push((s, m));
            }
            picked.len() < take
        });
    }
    Some(picked)
}

impl ZRangeItems<'_> {
    /// How many members the run holds.
    pub fn len(&self) -> usize {
        self.end - self.start + self.picked.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with each member and its score, in reply order.
    pub fn for_each(self, mut f: impl FnMut(&[u8], f64)) {
        for &(s, m) in &self.picked {
            f(m, s);
        }
        if let Some(z) = self.zset {
            z.for_each(self.start, self.end, self.rev, |s, m| f(m, s));
        }
    }
}

/// The sorted set `e` holds, read in place (a packed one is not copied), or WRONGTYPE.
fn zset_of(e: &Entry) -> Result<ZSetRef<'_>> {
    match e.packed(PACKED_ZSET) {
        Some(value) => Ok(ZSetRef::packed(value)),
        None => e.as_zset().map(ZSetRef::Obj).ok_or(StoreError::WrongType),
    }
}

fn b(s: &[u8]) -> Bytes {
    Bytes::copy_from_slice(s)
}

/// The ranks `lo..hi` (ascending) with scores inside `range`.
fn score_span(z: ZSetRef<'_>, range: &ScoreRange) -> (usize, usize) {
    let lo = match range.min {
        ScoreBound::Inclusive(v) => z.lower_bound(Seek::Score(v, false)),
        ScoreBound::Exclusive(v) => z.lower_bound(Seek::Score(v, true)),
    };
    let hi = match range.max {
        ScoreBound::Inclusive(v) => z.lower_bound(Seek::Score(v, true)),
        ScoreBound::Exclusive(v) => z.lower_bound(Seek::Score(v, false)),
    };
    (lo, hi.max(lo))
}

/// Whether `m` is at or above the lex range's low end.
fn above_min(m: &[u8], min: LexBound<'_>) -> bool {
    match min {
        LexBound::Min => true,
        LexBound::Max => false,
        LexBound::Inclusive(x) => m >= x,
        LexBound::Exclusive(x) => m > x,
    }
}

/// Whether `m` is at or below the lex range's high end.
fn below_max(m: &[u8], max: LexBound<'_>) -> bool {
    match max {
        LexBound::Min => false,
        LexBound::Max => true,
        LexBound::Inclusive(x) => m <= x,
        LexBound::Exclusive(x) => m < x,
    }
}

/// The ranks `lo..hi` (ascending) with members inside `range` (meaningful when every
/// score is equal, as in Redis). Redis first declares the range empty when its ends
/// cross, or when the last member is below it or the first above it; over members of
/// different scores that decides the answer, so it is done here too.
fn lex_span(z: ZSetRef<'_>, range: &LexRange<'_>) -> (usize, usize) {
    let crossed = match (range.min, range.max) {
        (LexBound::Max, _) | (_, LexBound::Min) => true,
        (LexBound::Min, _) | (_, LexBound::Max) => false,
        (LexBound::Inclusive(a), LexBound::Inclusive(b)) => a > b,
        (
            LexBound::Inclusive(a) | LexBound::Exclusive(a),
            LexBound::Inclusive(b) | LexBound::Exclusive(b),
        ) => a >= b,
    };
    let (Some((_, last)), Some((_, first))) = (z.at(z.len().wrapping_sub(1)), z.at(0)) else {
        return (0, 0);
    };
    if crossed || !above_min(&last, range.min) || !below_max(&first, range.max) {
        return (0, 0);
    }
    let lo = match range.min {
        LexBound::Min => 0,
        LexBound::Max => z.len(),
        LexBound::Inclusive(x) => z.lower_bound(Seek::Member(x, false)),
        LexBound::Exclusive(x) => z.lower_bound(Seek::Member(x, true)),
    };
    let hi = match range.max {
        LexBound::Min => 0,
        LexBound::Max => z.len(),
        LexBound::Inclusive(x) => z.lower_bound(Seek::Member(x, true)),
        LexBound::Exclusive(x) => z.lower_bound(Seek::Member(x, false)),
    };
    (lo, hi.max(lo))
}

/// ZRANGE's index rules: `start..=stop`, negative from the end, clamped; `None` if empty.
fn rank_span(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let start = if start < 0 { start + len } else { start }.max(0);
    let stop = if stop < 0 { stop + len } else { stop };
    if start > stop || start >= len {
        return None;
    }
    Some((start as usize, (stop.min(len - 1) + 1) as usize))
}

/// The ascending ranks `spec` selects, `start..end`.
fn select(z: ZSetRef<'_>, spec: &ZRangeSpec<'_>) -> (usize, usize) {
    let len = z.len();
    let (lo, hi) = match &spec.by {
        ZRangeBy::Rank { start, stop } => {
            return match rank_span(len, *start, *stop) {
                None => (0, 0),
                Some((s, e)) if spec.rev => (len - e, len - s),
                Some(span) => span,
            };
        }
        ZRangeBy::Score(r) => score_span(z, r),
        ZRangeBy::Lex(r) => lex_span(z, r),
    };
    let Some((offset, count)) = spec.limit else {
        return (lo, hi);
    };
    // A negative offset selects nothing, as Redis's skipping loop runs off the end.
    let Ok(offset) = usize::try_from(offset) else {
        return (0, 0);
    };
    let avail = hi - lo;
    if offset >= avail {
        return (0, 0);
    }
    let take = usize::try_from(count).map_or(avail - offset, |c| c.min(avail - offset));
    if spec.rev {
        (hi - offset - take, hi - offset)
    } else {
        (lo + offset, lo + offset + take)
    }
}

/// The ranks a ZREMRANGEBY* removes.
fn remove_span(z: &ZSetObj, by: &ZRangeBy<'_>) -> (usize, usize) {
    select(
        ZSetRef::Obj(z),
        &ZRangeSpec {
            by: *by,
            rev: false,
            limit: None,
        },
    )
}

/// Redis's rule for combining a score into an aggregate (`zunionInterAggregate`).
fn aggregate(target: &mut f64, value: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += value;
            // +inf plus -inf: Redis stores 0.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if value < *target {
                *target = value;
            }
        }
        Aggregate::Max => {
            if value > *target {
                *target = value;
            }
        }
    }
}

/// An input of ZUNION & co: nothing (a missing key), a sorted set, or a set whose
/// members score 1.
enum Input<'a> {
    None,
    ZSet(Unpacked<'a, ZSetObj>),
    Set(Unpacked<'a, SetObj>),
}

impl Input<'_> {
    fn len(&self) -> usize {
        match self {
            Input::None => 0,
            Input::ZSet(z) => z.len(),
            Input::Set(s) => s.len(),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Input::None => None,
            Input::ZSet(z) => z.score(member),
            Input::Set(s) => s.contains(member).then_some(1.0),
        }
    }

    fn for_each(&self, mut f: impl FnMut(f64, &[u8])) {
        match self {
            Input::None => {}
            Input::ZSet(z) => z.iter_all(f),
            Input::Set(s) => s.for_each(|m| f(1.0, m)),
        }
    }

    fn same(&self, other: &Input<'_>) -> bool {
        match (self, other) {
            (Input::ZSet(a), Input::ZSet(b)) => std::ptr::eq(&**a, &**b),
            (Input::Set(a), Input::Set(b)) => std::ptr::eq(&**a, &**b),
            _ => false,
        }
    }
}

fn input_of(e: Option<&Entry>) -> Result<Input<'_>> {
    match e {
        None => Ok(Input::None),
        Some(e) => unpacked::<ZSetObj>(e)
            .map(Input::ZSet)
            .or_else(|| unpacked::<SetObj>(e).map(Input::Set))
            .ok_or(StoreError::WrongType),
    }
}

/// The members of the first input in none of the others, with their scores.
fn diff(inputs: &[Input<'_>]) -> Vec<(Vec<u8>, f64)> {
    let Some((first, rest)) = inputs.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    first.for_each(|s, m| {
        if !rest.iter().any(|i| i.same(first) || i.score(m).is_some()) {
            out.push((m.to_vec(), s));
        }
    });
    out
}

/// ZINTER: walks the smallest input, probing the others (Redis's order), up to `limit`
/// members (0: all).
fn inter(
    inputs: &[Input<'_>],
    weights: &[f64],
    agg: Aggregate,
    limit: usize,
) -> Vec<(Vec<u8>, f64)> {
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&i| inputs[i].len());
    let Some((&first, rest)) = order.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    inputs[first].for_each(|s, m| {
        if limit > 0 && out.len() >= limit {
            return;
        }
        let mut score = weights[first] * s;
        if score.is_nan() {
            score = 0.0;
        }
        for &j in rest {
            let value = if inputs[j].same(&inputs[first]) {
                s
            } else if let Some(v) = inputs[j].score(m) {
                v
            } else {
                return;
            };
            aggregate(&mut score, value * weights[j], agg);
        }
        out.push((m.to_vec(), score));
    });
    out
}

/// ZUNION: every member of every input, scores weighted and aggregated, the inputs taken
/// from the smallest to the largest as Redis takes them (a stable sort: equal sizes in
/// argument order), so that sums of the same scores round the same way.
fn union(inputs: &[Input<'_>], weights: &[f64], agg: Aggregate) -> Vec<(Vec<u8>, f64)> {
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&i| inputs[i].len());
    let mut acc: std::collections::HashMap<Vec<u8>, f64> = std::collections::HashMap::new();
    for i in order {
        let w = weights[i];
        inputs[i].for_each(|s, m| {
            let mut score = w * s;
            if score.is_nan() {
                score = 0.0;
            }
            match acc.get_mut(m) {
                Some(t) => aggregate(t, score, agg),
                None => {
                    acc.insert(m.to_vec(), score);
                }
            }
        });
    }
    acc.into_iter().collect()
}

fn sort_result(items: &mut [(Vec<u8>, f64)]) {
    items.sort_by(|a, b| crate::zsetobj::cmp_key(a.1, &a.0, b.1, &b.0));
}

impl Store {
    /// The limits sets are kept compact under, and the hasher of their tables.
    fn zset_limits(&self) -> Limits {
        let clamp = |v: i64| usize::try_from(v).unwrap_or(0);
        Limits {
            max_entries: clamp(self.inner.zset_max_entries.load(Ordering::Relaxed)),
            max_value: clamp(self.inner.zset_max_value.load(Ordering::Relaxed)),
            hasher: self.inner.hasher.clone(),
        }
    }

    /// A set of `items` (distinct members) in the encoding Redis gives a result of that
    /// size and longest member.
    fn zset_from(&self, items: &[(Vec<u8>, f64)]) -> ZSetObj {
        let lim = self.zset_limits();
        let ordered: Vec<(f64, &[u8])> = items.iter().map(|(m, s)| (*s, &m[..])).collect();
        if let Some(z) = ZSetObj::from_sorted(&ordered, &lim) {
            return z;
        }
        let longest = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        ZSetObj::from_items(
            items.iter().map(|(m, s)| (*s, &m[..])),
            items.len(),
            longest,
            &lim,
        )
    }

    /// A set of snapshot `items` in the encoding Redis loads it in; a member named twice
    /// keeps its last score and a NaN score is read as 0.
    pub(crate) fn zset_load(&self, items: &[(Bytes, f64)]) -> ZSetObj {
        let lim = self.zset_limits();
        // Snapshots list a set in order, and Redis's payloads in order or (a skip list's,
        // written from its tail) in reverse: those build in one pass.
        let mut ordered: Vec<(f64, &[u8])> = items
            .iter()
            .map(|(m, s)| (if s.is_nan() { 0.0 } else { *s }, &m[..]))
            .collect();
        if ordered.first() > ordered.last() {
            ordered.reverse();
        }
        if let Some(z) = ZSetObj::from_sorted(&ordered, &lim) {
            return z;
        }
        let longest = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        let mut z = ZSetObj::from_items(std::iter::empty(), items.len(), longest, &lim);
        for (m, s) in items {
            z.set(if s.is_nan() { 0.0 } else { *s }, m, &lim);
        }
        z
    }

    /// Reads the sorted set at `key` in place, without copying a packed one: `None` if
    /// absent, WRONGTYPE for other types.
    fn probe_zset<R>(
        &self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(ZSetRef<'_>) -> R,
    ) -> Result<Option<R>> {
        self.read(db, key, |e| e.map(zset_of).transpose().map(|z| z.map(f)))?
    }

    /// Reads the sorted set at `key` (`None` if absent), failing with WRONGTYPE for other
    /// types.
    fn read_zset<R>(
        &self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(Option<ZSetRef<'_>>) -> R,
    ) -> Result<R> {
        self.read(db, key, |e| e.map(zset_of).transpose().map(f))?
    }

    /// ZADD: sets the scores of `members` (a member named twice takes its last score),
    /// with Redis's NX / XX / GT / LT / CH / INCR semantics. The server checks that the
    /// flags go together (NX with XX, GT or LT is refused; INCR takes one member).
    ///
    /// # Errors
    ///
    /// [`StoreError::WrongType`] for another type, [`StoreError::ScoreNaN`] when INCR
    /// would make the score NaN, [`StoreError::NotFloat`] for a NaN score given,
    /// [`StoreError::OutOfMemory`] over the memory limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Store, ZAddOptions};
    /// let store = Store::new();
    /// let r = store.zadd(0, b"z", &[(1.0, b"a"), (2.0, b"b")], ZAddOptions::default())?;
    /// assert_eq!(r.count, 2);
    /// let gt_ch = ZAddOptions { gt: true, ch: true, ..Default::default() };
    /// assert_eq!(store.zadd(0, b"z", &[(0.5, b"a"), (3.0, b"b")], gt_ch)?.count, 1);
    /// let incr = ZAddOptions { incr: true, ..Default::default() };
    /// assert_eq!(store.zadd(0, b"z", &[(1.5, b"a")], incr)?.incr, Some(2.5));
    /// assert_eq!(store.zscore(0, b"z", b"b")?, Some(3.0));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zadd(
        &self,
        db: usize,
        key: &[u8],
        members: &[(f64, &[u8])],
        opts: ZAddOptions,
    ) -> Result<ZAddResult> {
        let none = ZAddResult {
            count: 0,
            incr: None,
        };
        if members.is_empty() {
            return Ok(none);
        }
        // No sorted set holds NaN (Redis refuses it as it parses the score).
        if members.iter().any(|(s, _)| s.is_nan()) {
            return Err(StoreError::NotFloat);
        }
        self.check_memory()?;
        let lim = self.zset_limits();
        let event = if opts.incr { Event::ZIncr } else { Event::ZAdd };
        self.write_packable(
            db,
            key,
            !opts.xx,
            |z: &mut ZSetObj| {
                let (mut added, mut updated, mut incr) = (0, 0, None);
                let mut failed = None;
                for &(score, member) in members {
                    match z.score(member) {
                        Some(cur) => {
                            if opts.nx {
                                continue;
                            }
                            let new = if opts.incr { cur + score } else { score };
                            if new.is_nan() {
                                failed = Some(StoreError::ScoreNaN);
                                break;
                            }
                            if (opts.lt && new >= cur) || (opts.gt && new <= cur) {
                                continue;
                            }
                            incr = Some(new);
                            if new != cur {
                                z.update(cur, new, member);
                                updated += 1;
                            }
                        }
                        None => {
                            if opts.xx {
                                continue;
                            }
                            z.insert_new(score, member, &lim);
                            added += 1;
                            incr = Some(score);
                        }
                    }
                }
                let changed = added + updated > 0;
                let result = ZAddResult {
                    count: if opts.ch { added + updated } else { added },
                    incr: if opts.incr { incr } else { None },
                };
                match failed {
                    // INCR takes a single member (the server refuses more), so a failure
                    // never follows a change; were it to, the change would be kept and
                    // reported rather than answered as an error.
                    Some(e) if !changed => Err(e),
                    Some(_) | None => Ok((result, changed.then_some(event))),
                }
            },
            || Ok(none),
        )
    }

    /// ZINCRBY: adds `by` to the member's score (0 when absent), returning the new score.
    ///
    /// # Errors
    ///
    /// [`StoreError::ScoreNaN`] when the sum is NaN (`+inf` plus `-inf`), and those of
    /// [`Store::zadd`].
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Store, StoreError};
    /// let store = Store::new();
    /// assert_eq!(store.zincrby(0, b"z", 2.5, b"m")?, 2.5);
    /// assert_eq!(store.zincrby(0, b"z", -1.0, b"m")?, 1.5);
    /// store.zincrby(0, b"z", f64::INFINITY, b"m")?;
    /// assert_eq!(store.zincrby(0, b"z", f64::NEG_INFINITY, b"m"), Err(StoreError::ScoreNaN));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zincrby(&self, db: usize, key: &[u8], by: f64, member: &[u8]) -> Result<f64> {
        let opts = ZAddOptions {
            incr: true,
            ..Default::default()
        };
        let r = self.zadd(db, key, &[(by, member)], opts)?;
        Ok(r.incr.unwrap_or(by))
    }

    /// ZREM: removes members, returning how many were there. An emptied set is deleted.
    ///
    /// # Examples
    ///
    /// ```
    /// # use redistill_store::{Store, ZAddOptions};
    /// # let store = Store::new();
    /// store.zadd(0, b"z", &[(1.0, b"a"), (2.0, b"b")], ZAddOptions::default())?;
    /// assert_eq!(store.zrem(0, b"z", &[b"a", b"x"])?, 1);
    /// assert_eq!(store.zrem(0, b"z", &[b"b"])?, 1);
    /// assert_eq!(store.exists(0, &[b"z"])?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zrem(&self, db: usize, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        self.write_packable(
            db,
            key,
            false,
            |z: &mut ZSetObj| {
                let n = members.iter().filter(|m| z.remove(m).is_some()).count();
                Ok((n, (n > 0).then_some(Event::ZRem)))
            },
            || Ok(0),
        )
    }

    /// ZCARD: 0 for a missing key.
    ///
    /// # Examples
    ///
    /// ```
    /// # use redistill_store::{Store, ZAddOptions};
    /// # let store = Store::new();
    /// store.zadd(0, b"z", &[(1.0, b"a"), (2.0, b"b")], ZAddOptions::default())?;
    /// assert_eq!(store.zcard(0, b"z")?, 2);
    /// assert_eq!(store.zcard(0, b"missing")?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zcard(&self, db: usize, key: &[u8]) -> Result<usize> {
        self.packable_len::<ZSetObj>(db, key)
    }

    /// ZSCORE.
    ///
    /// # Examples
    ///
    /// ```
    /// # use redistill_store::{Store, ZAddOptions};
    /// # let store = Store::new();
    /// store.zadd(0, b"z", &[(1.5, b"a")], ZAddOptions::default())?;
    /// assert_eq!(store.zscore(0, b"z", b"a")?, Some(1.5));
    /// assert_eq!(store.zscore(0, b"z", b"b")?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zscore(&self, db: usize, key: &[u8], member: &[u8]) -> Result<Option<f64>> {
        self.probe_zset(db, key, |z| z.score(member))
            .map(Option::flatten)
    }

    /// ZMSCORE: scores in order, `None` for missing members.
    ///
    /// # Examples
    ///
    /// ```
    /// # use redistill_store::{Store, ZAddOptions};
    /// # let store = Store::new();
    /// store.zadd(0, b"z", &[(1.0, b"a"), (2.0, b"b")], ZAddOptions::default())?;
    /// assert_eq!(store.zmscore(0, b"z", &[b"b", b"x"])?, [Some(2.0), None]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zmscore(&self, db: usize, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<f64>>> {
        self.probe_zset(db, key, |z| members.iter().map(|m| z.score(m)).collect())
            .map(|found| found.unwrap_or_else(|| vec![None; members.len()]))
    }

    /// ZCOUNT: members with scores in `range`.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ScoreBound, ScoreRange, Store, ZAddOptions};
    /// let store = Store::new();
    /// store.zadd(0, b"z", &[(1.0, b"a"), (2.0, b"b"), (3.0, b"c")], ZAddOptions::default())?;
    /// let r = ScoreRange { min: ScoreBound::Exclusive(1.0), max: ScoreBound::Inclusive(f64::INFINITY) };
    /// assert_eq!(store.zcount(0, b"z", &r)?, 2);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zcount(&self, db: usize, key: &[u8], range: &ScoreRange) -> Result<usize> {
        self.read_zset(db, key, |z| {
            z.map_or(0, |z| {
                let (lo, hi) = score_span(z, range);
                hi - lo
            })
        })
    }

    /// ZLEXCOUNT: members inside the lex `range`.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{LexBound, LexRange, Store, ZAddOptions};
    /// let store = Store::new();
    /// store.zadd(0, b"z", &[(0.0, b"a"), (0.0, b"b"), (0.0, b"c")], ZAddOptions::default())?;
    /// let r = LexRange { min: LexBound::Exclusive(b"a"), max: LexBound::Max };
    /// assert_eq!(store.zlexcount(0, b"z", &r)?, 2);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zlexcount(&self, db: usize, key: &[u8], range: &LexRange<'_>) -> Result<usize> {
        self.read_zset(db, key, |z| {
            z.map_or(0, |z| {
                let (lo, hi) = lex_span(z, range);
                hi - lo
            })
        })
    }

    /// ZRANK/ZREVRANK: the 0-based rank (from the top when `rev`) and the score.
    ///
    /// # Examples
    ///
    /// ```
    /// # use redistill_store::{Store, ZAddOptions};
    /// # let store = Store::new();
    /// store.zadd(0, b"z", &[(1.0, b"a"), (2.0, b"b"), (3.0, b"c")], ZAddOptions::default())?;
    /// assert_eq!(store.zrank(0, b"z", b"b", false)?, Some((1, 2.0)));
    /// assert_eq!(store.zrank(0, b"z", b"c", true)?, Some((0, 3.0)));
    /// assert_eq!(store.zrank(0, b"z", b"x", false)?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zrank(
        &self,
        db: usize,
        key: &[u8],
        member: &[u8],
        rev: bool,
    ) -> Result<Option<(usize, f64)>> {
        self.read_zset(db, key, |z| {
            let z = z?;
            let (r, s) = z.rank(member)?;
            Some((if rev { z.len() - 1 - r } else { r }, s))
        })
    }

    /// ZRANGE and friends without copying: `f` gets the selection as [`ZRangeItems`] in
    /// reply order (empty for a missing key), under the shard's read lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ScoreBound, ScoreRange, Store, ZAddOptions, ZRangeBy, ZRangeSpec};
    /// let store = Store::new();
    /// store.zadd(0, b"z", &[(1.0, b"a"), (2.0, b"b"), (3.0, b"c")], ZAddOptions::default())?;
    /// let spec = ZRangeSpec { by: ZRangeBy::Rank { start: 0, stop: -1 }, rev: true, limit: None };
    /// let mut out = Vec::new();
    /// store.zrange_with(0, b"z", &spec, |items| items.for_each(|m, s| out.push((m.to_vec(), s))))?;
    /// assert_eq!(out, [(b"c".to_vec(), 3.0), (b"b".to_vec(), 2.0), (b"a".to_vec(), 1.0)]);
    /// let by_score = ZRangeSpec {
    ///     by: ZRangeBy::Score(ScoreRange { min: ScoreBound::Inclusive(2.0), max: ScoreBound::Inclusive(f64::INFINITY) }),
    ///     rev: false,
    ///     limit: Some((1, 5)),
    /// };
    /// assert_eq!(store.zrange_with(0, b"z", &by_score, |items| items.len())?, 1);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zrange_with<R>(
        &self,
        db: usize,
        key: &[u8],
        spec: &ZRangeSpec<'_>,
        f: impl FnOnce(ZRangeItems<'_>) -> R,
    ) -> Result<R> {
        self.read_zset(db, key, |z| {
            if let Some(picked) = z.and_then(|z| pick_by_score(z, spec)) {
                return f(ZRangeItems {
                    zset: None,
                    start: 0,
                    end: 0,
                    rev: false,
                    picked,
                });
            }
            let (start, end) = z.map_or((0, 0), |z| select(z, spec));
            f(ZRangeItems {
                zset: z,
                start,
                end,
                rev: spec.rev,
                picked: Vec::new(),
            })
        })
    }

    /// Stores the result of a ZUNIONSTORE-like command at `dst` (index `i` of the locked
    /// keys): replaces it, or deletes it when the result is empty.
    fn store_result(
        &self,
        w: &mut crate::multikey::KeysWrite<'_>,
        i: usize,
        dst: &[u8],
        items: &[(Vec<u8>, f64)],
        event: Event,
    ) -> usize {
        if items.is_empty() {
            w.remove(i, dst);
            return 0;
        }
        let z = self.zset_from(items);
        w.put(i, dst, Entry::new_packable(dst, z));
        w.emit(dst, event);
        items.len()
    }

    /// ZRANGESTORE: stores the selection at `dst` (deleting `dst` when it is empty) and
    /// returns its size.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Store, ZAddOptions, ZRangeBy, ZRangeSpec};
    /// let store = Store::new();
    /// store.zadd(0, b"z", &[(1.0, b"a"), (2.0, b"b"), (3.0, b"c")], ZAddOptions::default())?;
    /// let spec = ZRangeSpec { by: ZRangeBy::Rank { start: 1, stop: -1 }, rev: false, limit: None };
    /// assert_eq!(store.zrangestore(0, b"dst", b"z", &spec)?, 2);
    /// assert_eq!(store.zscore(0, b"dst", b"c")?, Some(3.0));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zrangestore(
        &self,
        db: usize,
        dst: &[u8],
        src: &[u8],
        spec: &ZRangeSpec<'_>,
    ) -> Result<usize> {
        self.check_memory()?;
        let keys = [dst, src];
        self.write_keys(db, &keys, |w| {
            let items = {
                let all = w.entries_reading(&keys, 1..2);
                let z = match all[1] {
                    None => None,
                    Some(e) => Some(zset_of(e)?),
                };
                let mut items = Vec::new();
                if let Some(z) = z {
                    let (start, end) = select(z, spec);
                    z.for_each(start, end, false, |s, m| items.push((m.to_vec(), s)));
                }
                items
            };
            Ok(self.store_result(w, 0, dst, &items, Event::ZRangeStore))
        })?
    }

    /// ZREMRANGEBYRANK / ZREMRANGEBYSCORE / ZREMRANGEBYLEX: removes what `by` selects and
    /// returns how many. An emptied set is deleted.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Store, ZAddOptions, ZRangeBy};
    /// let store = Store::new();
    /// store.zadd(0, b"z", &[(1.0, b"a"), (2.0, b"b"), (3.0, b"c")], ZAddOptions::default())?;
    /// assert_eq!(store.zremrange(0, b"z", &ZRangeBy::Rank { start: 0, stop: 1 })?, 2);
    /// assert_eq!(store.zcard(0, b"z")?, 1);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zremrange(&self, db: usize, key: &[u8], by: &ZRangeBy<'_>) -> Result<usize> {
        let event = match by {
            ZRangeBy::Rank { .. } => Event::ZRemByRank,
            ZRangeBy::Score(_) => Event::ZRemByScore,
            ZRangeBy::Lex(_) => Event::ZRemByLex,
        };
        self.write_packable(
            db,
            key,
            false,
            |z: &mut ZSetObj| {
                let (start, end) = remove_span(z, by);
                let n = z.remove_range(start, end, |_, _| {});
                Ok((n, (n > 0).then_some(event)))
            },
            || Ok(0),
        )
    }

    /// ZPOPMIN / ZPOPMAX: removes and returns up to `count` members, lowest (or, with
    /// `max`, highest) first. An emptied set is deleted.
    ///
    /// # Examples
    ///
    /// ```
    /// # use redistill_store::{Store, ZAddOptions};
    /// # let store = Store::new();
    /// store.zadd(0, b"z", &[(1.0, b"a"), (2.0, b"b"), (3.0, b"c")], ZAddOptions::default())?;
    /// let top = store.zpop(0, b"z", true, 2)?;
    /// assert_eq!(top, [(b"c"[..].into(), 3.0), (b"b"[..].into(), 2.0)]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zpop(
        &self,
        db: usize,
        key: &[u8],
        max: bool,
        count: usize,
    ) -> Result<Vec<ScoredMember>> {
        self.write_packable(
            db,
            key,
            false,
            |z: &mut ZSetObj| {
                let out = pop_many(z, max, count);
                let event = if max { Event::ZPopMax } else { Event::ZPopMin };
                let e = (!out.is_empty()).then_some(event);
                Ok((out, e))
            },
            || Ok(Vec::new()),
        )
    }

    /// ZMPOP / BZPOPMIN / BZMPOP: pops up to `count` members from the first of `keys` that
    /// holds a sorted set; that key and the members, `None` when no key does.
    ///
    /// # Errors
    ///
    /// [`StoreError::WrongType`] as soon as a key of another type comes before the first
    /// sorted set, as Redis checks the keys in order.
    ///
    /// # Examples
    ///
    /// ```
    /// # use redistill_store::{Store, ZAddOptions};
    /// # let store = Store::new();
    /// store.zadd(0, b"b", &[(1.0, b"x"), (2.0, b"y")], ZAddOptions::default())?;
    /// let (key, popped) = store.zmpop(0, &[b"a", b"b"], false, 5)?.unwrap();
    /// assert_eq!((&key[..], popped.len()), (&b"b"[..], 2));
    /// assert_eq!(store.zmpop(0, &[b"a", b"b"], false, 1)?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zmpop(
        &self,
        db: usize,
        keys: &[&[u8]],
        max: bool,
        count: usize,
    ) -> Result<Option<(Bytes, Vec<ScoredMember>)>> {
        let event = if max { Event::ZPopMax } else { Event::ZPopMin };
        self.pop_first(db, keys, event, ZSetObj::len_of, |e| {
            e.edit_packable(
                |z: &mut ZSetObj| (pop_many(z, max, count), z.is_empty()),
                |(popped, _)| !popped.is_empty(),
            )
            .unwrap_or_default()
        })
    }

    /// ZRANDMEMBER with a count: a positive count returns up to that many *distinct*
    /// members (the whole set when it is no larger), a negative one exactly `-count`
    /// members, possibly repeated. Empty for a missing key or a count of 0.
    ///
    /// # Errors
    ///
    /// [`StoreError::ValueOutOfRange`] for a negative count whose members cannot be
    /// allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// # use redistill_store::{Store, ZAddOptions};
    /// # let store = Store::new();
    /// store.zadd(0, b"z", &[(1.0, b"a"), (2.0, b"b"), (3.0, b"c")], ZAddOptions::default())?;
    /// assert_eq!(store.zrandmember(0, b"z", 2)?.len(), 2);
    /// assert_eq!(store.zrandmember(0, b"z", 10)?.len(), 3);
    /// assert_eq!(store.zrandmember(0, b"z", -7)?.len(), 7);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zrandmember(&self, db: usize, key: &[u8], count: i64) -> Result<Vec<ScoredMember>> {
        self.read_zset(db, key, |z| {
            let Some(z) = z else { return Ok(Vec::new()) };
            let len = z.len();
            let rnd = |n: usize| (self.next_random() % n as u64) as usize;
            let pick = |r: usize| z.at(r).map(|(s, m)| (Bytes::from(m), s));
            if count < 0 {
                let mut out = Vec::new();
                usize::try_from(count.unsigned_abs())
                    .ok()
                    .and_then(|n| out.try_reserve_exact(n).ok())
                    .ok_or(StoreError::ValueOutOfRange)?;
                for _ in 0..count.unsigned_abs() {
                    out.extend(pick(rnd(len)));
                }
                return Ok(out);
            }
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            if count >= len {
                let mut out = Vec::with_capacity(len);
                z.iter_all(|s, m| out.push((b(m), s)));
                return Ok(out);
            }
            if count.saturating_mul(3) > len {
                // Many of them: a partial Fisher-Yates shuffle of every rank.
                let mut ranks: Vec<usize> = (0..len).collect();
                for k in 0..count {
                    let j = k + rnd(len - k);
                    ranks.swap(k, j);
                }
                return Ok(ranks[..count].iter().filter_map(|&r| pick(r)).collect());
            }
            // Few of them: random ranks until enough distinct ones.
            let mut seen = HashSet::with_capacity(count);
            let mut out = Vec::with_capacity(count);
            while out.len() < count {
                let r = rnd(len);
                if seen.insert(r) {
                    out.extend(pick(r));
                }
            }
            Ok(out)
        })?
    }

    /// ZUNION / ZINTER / ZDIFF, and with `dst` their STORE forms (the stored size is
    /// returned and the vector is empty; an empty result deletes `dst`). Missing keys are
    /// empty sets; `weights` (one per key, default 1) multiply scores, a NaN product
    /// counting as 0; `agg` combines a member's scores (a NaN sum, `+inf` plus `-inf`, is
    /// 0). ZDIFF ignores weights and `agg`. The result comes in score order.
    ///
    /// # Errors
    ///
    /// [`StoreError::WrongType`] when a key holds another type.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Aggregate, Store, ZAddOptions, ZSetOp};
    /// let store = Store::new();
    /// store.zadd(0, b"a", &[(1.0, b"x"), (2.0, b"y")], ZAddOptions::default())?;
    /// store.zadd(0, b"b", &[(10.0, b"y"), (20.0, b"z")], ZAddOptions::default())?;
    /// let (n, union) = store.zsetop(0, ZSetOp::Union, &[b"a", b"b"], Some(&[1.0, 2.0]), Aggregate::Sum, None)?;
    /// assert_eq!(n, 3);
    /// assert_eq!(union, [(b"x"[..].into(), 1.0), (b"y"[..].into(), 22.0), (b"z"[..].into(), 40.0)]);
    /// let (n, _) = store.zsetop(0, ZSetOp::Inter, &[b"a", b"b"], None, Aggregate::Max, Some(b"dst"))?;
    /// assert_eq!((n, store.zscore(0, b"dst", b"y")?), (1, Some(10.0)));
    /// store.sadd(0, b"s", &[b"x", b"w"])?; // a set's members score 1
    /// let (_, inter) = store.zsetop(0, ZSetOp::Inter, &[b"a", b"s"], None, Aggregate::Sum, None)?;
    /// assert_eq!(inter, [(b"x"[..].into(), 2.0)]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zsetop(
        &self,
        db: usize,
        op: ZSetOp,
        keys: &[&[u8]],
        weights: Option<&[f64]>,
        agg: Aggregate,
        dst: Option<&[u8]>,
    ) -> Result<(usize, Vec<ScoredMember>)> {
        if dst.is_some() {
            self.check_memory()?;
        }
        let mut all_keys: Vec<&[u8]> = keys.to_vec();
        all_keys.extend(dst);
        let ones = vec![1.0; keys.len()];
        let weights = match weights {
            Some(w) if w.len() == keys.len() => w,
            _ => &ones,
        };
        let compute = |entries: &[Option<&Entry>]| -> Result<Vec<(Vec<u8>, f64)>> {
            let inputs = entries[..keys.len()]
                .iter()
                .map(|e| input_of(*e))
                .collect::<Result<Vec<_>>>()?;
            let mut items = match op {
                ZSetOp::Union => union(&inputs, weights, agg),
                ZSetOp::Inter => inter(&inputs, weights, agg, 0),
                ZSetOp::Diff => diff(&inputs),
            };
            sort_result(&mut items);
            Ok(items)
        };
        let Some(d) = dst else {
            // ZUNION & co read: shared locks only.
            let items = self.read_entries(db, keys, compute)??;
            let out: Vec<ScoredMember> = items
                .into_iter()
                .map(|(m, s)| (Bytes::from(m), s))
                .collect();
            return Ok((out.len(), out));
        };
        let event = match op {
            ZSetOp::Union => Event::ZUnionStore,
            ZSetOp::Inter => Event::ZInterStore,
            ZSetOp::Diff => Event::ZDiffStore,
        };
        self.write_keys(db, &all_keys, |w| {
            let items = compute(&w.entries_reading(&all_keys, 0..keys.len()))?;
            Ok((
                self.store_result(w, keys.len(), d, &items, event),
                Vec::new(),
            ))
        })?
    }

    /// ZINTERCARD: the size of the intersection, counting no further than `limit` (0: no
    /// limit).
    ///
    /// # Examples
    ///
    /// ```
    /// # use redistill_store::{Store, ZAddOptions};
    /// # let store = Store::new();
    /// store.zadd(0, b"a", &[(1.0, b"x"), (2.0, b"y"), (3.0, b"z")], ZAddOptions::default())?;
    /// store.zadd(0, b"b", &[(1.0, b"x"), (2.0, b"y"), (3.0, b"z")], ZAddOptions::default())?;
    /// assert_eq!(store.zintercard(0, &[b"a", b"b"], 0)?, 3);
    /// assert_eq!(store.zintercard(0, &[b"a", b"b"], 2)?, 2);
    /// assert_eq!(store.zintercard(0, &[b"a", b"missing"], 0)?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zintercard(&self, db: usize, keys: &[&[u8]], limit: usize) -> Result<usize> {
        let ones = vec![1.0; keys.len()];
        self.read_entries(db, keys, |entries| {
            let inputs = entries
                .iter()
                .map(|e| input_of(*e))
                .collect::<Result<Vec<_>>>()?;
            Ok(inter(&inputs, &ones, Aggregate::Sum, limit).len())
        })?
    }

    /// ZSCAN: the next cursor (0 when done) and a batch of members with scores, with
    /// HSCAN's contract: a compact set comes back whole with cursor 0, a large one is
    /// walked with SCAN's resize-proof cursor.
    ///
    /// # Examples
    ///
    /// ```
    /// # use redistill_store::{Store, ZAddOptions};
    /// # let store = Store::new();
    /// let names: Vec<Vec<u8>> = (0..500).map(|i| format!("m{i}").into_bytes()).collect();
    /// let members: Vec<(f64, &[u8])> = names.iter().map(|m| (1.0, &m[..])).collect();
    /// store.zadd(0, b"z", &members, ZAddOptions::default())?;
    /// let (mut cursor, mut seen) = (0, 0);
    /// loop {
    ///     let (next, batch) = store.zscan(0, b"z", cursor, None, 50)?;
    ///     seen += batch.len();
    ///     cursor = next;
    ///     if cursor == 0 { break; }
    /// }
    /// assert_eq!(seen, 500);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zscan(
        &self,
        db: usize,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Vec<ScoredMember>)> {
        let keep = |m: &[u8]| pattern.is_none_or(|p| p == b"*" || glob_match(p, m));
        self.read_zset(db, key, |z| {
            let Some(z) = z else { return (0, Vec::new()) };
            let Some(table) = z.table() else {
                let mut out = Vec::new();
                z.iter_all(|s, m| {
                    if keep(m) {
                        out.push((b(m), s));
                    }
                });
                return (0, out);
            };
            let mut out = Vec::new();
            let cur = table.scan_from(cursor, count, |e| {
                let kept = keep(e.key());
                if kept {
                    out.push((b(e.key()), e.score()));
                }
                kept
            });
            (cur, out)
        })
    }

    /// Sets `zset-max-listpack-entries`: the most members a sorted set keeps in the
    /// compact encoding (default 128). Sets already large stay large.
    ///
    /// # Errors
    ///
    /// [`StoreError::ValueOutOfBounds`] for a negative value.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.zset_max_listpack_entries(), 128);
    /// store.set_zset_max_listpack_entries(16)?;
    /// assert_eq!(store.zset_max_listpack_entries(), 16);
    /// assert!(store.set_zset_max_listpack_entries(-1).is_err());
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn set_zset_max_listpack_entries(&self, n: i64) -> Result<()> {
        if n < 0 {
            return Err(StoreError::ValueOutOfBounds {
                min: 0,
                max: i64::MAX,
            });
        }
        self.inner.zset_max_entries.store(n, Ordering::Relaxed);
        Ok(())
    }

    /// `zset-max-listpack-entries` as set.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.zset_max_listpack_entries(), redistill_store::DEFAULT_ZSET_MAX_LISTPACK_ENTRIES);
    /// ```
    pub fn zset_max_listpack_entries(&self) -> i64 {
        self.inner.zset_max_entries.load(Ordering::Relaxed)
    }

    /// Sets `zset-max-listpack-value`: the longest member a compact sorted set keeps
    /// (default 64 bytes).
    ///
    /// # Errors
    ///
    /// [`StoreError::ValueOutOfBounds`] for a negative value.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set_zset_max_listpack_value(32)?;
    /// assert_eq!(store.zset_max_listpack_value(), 32);
    /// assert!(store.set_zset_max_listpack_value(-5).is_err());
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn set_zset_max_listpack_value(&self, n: i64) -> Result<()> {
        if n < 0 {
            return Err(StoreError::ValueOutOfBounds {
                min: 0,
                max: i64::MAX,
            });
        }
        self.inner.zset_max_value.store(n, Ordering::Relaxed);
        Ok(())
    }

    /// `zset-max-listpack-value` as set.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.zset_max_listpack_value(), redistill_store::DEFAULT_ZSET_MAX_LISTPACK_VALUE);
    /// ```
    pub fn zset_max_listpack_value(&self) -> i64 {
        self.inner.zset_max_value.load(Ordering::Relaxed)
    }
}

/// Pops up to `count` members from the low end (or the high end with `max`), in the order
/// popped.
fn pop_many(z: &mut ZSetObj, max: bool, count: usize) -> Vec<ScoredMember> {
    let len = z.len();
    let n = count.min(len);
    let mut out = Vec::with_capacity(n);
    if max {
        z.remove_range(len - n, len, |s, m| out.push((b(m), s)));
        out.reverse();
    } else {
        z.remove_range(0, n, |s, m| out.push((b(m), s)));
    }
    out
}

/// A sorted set read in place for score-range scans and score lookups, under one lock
/// (GEOSEARCH reads up to nine cells of one set this way, atomically).
pub struct ZScoreScan<'a> {
    zset: ZSetRef<'a>,
}

impl ZScoreScan<'_> {
    /// The member's score.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.zset.score(member)
    }

    /// Calls `f` with each member whose score is in `range`, lowest first, until `f`
    /// returns `false`.
    pub fn range(&self, range: &ScoreRange, mut f: impl FnMut(&[u8], f64) -> bool) {
        let seek = match range.min {
            ScoreBound::Inclusive(v) => Seek::Score(v, false),
            ScoreBound::Exclusive(v) => Seek::Score(v, true),
        };
        let below_max = |s: f64| match range.max {
            ScoreBound::Inclusive(v) => s <= v,
            ScoreBound::Exclusive(v) => s < v,
        };
        self.zset.scan_from(seek, |s, m| below_max(s) && f(m, s));
    }
}

impl Store {
    /// Runs `f` on the sorted set at `key` read in place as a [`ZScoreScan`] (`None` for
    /// a missing key), under the shard's read lock.
    ///
    /// # Errors
    ///
    /// [`StoreError::WrongType`] for another type.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ScoreBound, ScoreRange, Store, ZAddOptions};
    /// let store = Store::new();
    /// store.zadd(0, b"z", &[(1.0, b"a"), (2.0, b"b"), (3.0, b"c")], ZAddOptions::default())?;
    /// let r = ScoreRange { min: ScoreBound::Inclusive(2.0), max: ScoreBound::Exclusive(9.0) };
    /// let found = store.zscore_scan_with(0, b"z", |scan| {
    ///     let mut out = Vec::new();
    ///     if let Some(scan) = scan {
    ///         scan.range(&r, |m, s| { out.push((m.to_vec(), s)); true });
    ///     }
    ///     out
    /// })?;
    /// assert_eq!(found, [(b"b".to_vec(), 2.0), (b"c".to_vec(), 3.0)]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn zscore_scan_with<R>(
        &self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(Option<ZScoreScan<'_>>) -> R,
    ) -> Result<R> {
        self.read_zset(db, key, |z| f(z.map(|zset| ZScoreScan { zset })))
    }

    /// Runs `pick` on the sorted set at `src` as [`Store::zscore_scan_with`] does, with
    /// `dst` locked too, and stores the members and scores it picks (distinct members) as
    /// the sorted set `dst`, reporting `event`; an empty pick deletes `dst`. `pick`'s
    /// error leaves everything as it was. Returns the size stored.
    pub(crate) fn zscore_scan_store<E>(
        &self,
        db: usize,
        dst: &[u8],
        src: &[u8],
        event: Event,
        pick: impl FnOnce(Option<ZScoreScan<'_>>) -> std::result::Result<Vec<(Vec<u8>, f64)>, E>,
    ) -> Result<std::result::Result<usize, E>> {
        self.check_memory()?;
        let keys = [dst, src];
        self.write_keys(db, &keys, |w| {
            let picked = {
                let all = w.entries(&keys);
                let z = all[1].map(zset_of).transpose()?;
                pick(z.map(|zset| ZScoreScan { zset }))
            };
            Ok(match picked {
                Ok(mut items) => {
                    sort_result(&mut items);
                    Ok(self.store_result(w, 0, dst, &items, event))
                }
                Err(e) => Err(e),
            })
        })?
    }
}
