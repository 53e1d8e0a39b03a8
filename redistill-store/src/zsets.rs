//! Sorted-set commands: ZADD, ZRANGE and its forms, ZPOPMIN, ZUNIONSTORE, ZSCAN and friends.

use bytes::Bytes;

use crate::error::Result;
use crate::store::Store;

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
    marker: std::marker::PhantomData<&'a ()>,
}

impl ZRangeItems<'_> {
    /// How many members the run holds.
    pub fn len(&self) -> usize {
        let _ = &self.marker;
        todo!("zset API: ZRangeItems::len")
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        todo!("zset API: ZRangeItems::is_empty")
    }

    /// Calls `f` with each member and its score, in reply order.
    pub fn for_each(self, f: impl FnMut(&[u8], f64)) {
        let _ = f;
        todo!("zset API: ZRangeItems::for_each")
    }
}

#[allow(clippy::unused_self, clippy::needless_pass_by_value, unused_variables)]
impl Store {
    /// ZADD.
    pub fn zadd(
        &self,
        db: usize,
        key: &[u8],
        members: &[(f64, &[u8])],
        opts: ZAddOptions,
    ) -> Result<ZAddResult> {
        todo!("zset API: zadd")
    }

    /// ZINCRBY. NaN result: Err(StoreError::ScoreNaN).
    pub fn zincrby(&self, db: usize, key: &[u8], by: f64, member: &[u8]) -> Result<f64> {
        todo!("zset API: zincrby")
    }

    /// ZREM.
    pub fn zrem(&self, db: usize, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        todo!("zset API: zrem")
    }

    /// ZCARD.
    pub fn zcard(&self, db: usize, key: &[u8]) -> Result<usize> {
        todo!("zset API: zcard")
    }

    /// ZSCORE.
    pub fn zscore(&self, db: usize, key: &[u8], member: &[u8]) -> Result<Option<f64>> {
        todo!("zset API: zscore")
    }

    /// ZMSCORE.
    pub fn zmscore(&self, db: usize, key: &[u8], members: &[&[u8]]) -> Result<Vec<Option<f64>>> {
        todo!("zset API: zmscore")
    }

    /// ZCOUNT.
    pub fn zcount(&self, db: usize, key: &[u8], range: &ScoreRange) -> Result<usize> {
        todo!("zset API: zcount")
    }

    /// ZLEXCOUNT.
    pub fn zlexcount(&self, db: usize, key: &[u8], range: &LexRange<'_>) -> Result<usize> {
        todo!("zset API: zlexcount")
    }

    /// ZRANK/ZREVRANK: the 0-based rank (from the top when rev) and the score.
    pub fn zrank(
        &self,
        db: usize,
        key: &[u8],
        member: &[u8],
        rev: bool,
    ) -> Result<Option<(usize, f64)>> {
        todo!("zset API: zrank")
    }

    /// ZRANGE and friends: `f` sees the selected members in reply order.
    pub fn zrange_with<R>(
        &self,
        db: usize,
        key: &[u8],
        spec: &ZRangeSpec<'_>,
        f: impl FnOnce(ZRangeItems<'_>) -> R,
    ) -> Result<R> {
        todo!("zset API: zrange_with")
    }

    /// ZRANGESTORE: stores the selection at dst (deleting dst when empty); its size.
    pub fn zrangestore(
        &self,
        db: usize,
        dst: &[u8],
        src: &[u8],
        spec: &ZRangeSpec<'_>,
    ) -> Result<usize> {
        todo!("zset API: zrangestore")
    }

    /// ZREMRANGEBYRANK/SCORE/LEX: how many removed.
    pub fn zremrange(&self, db: usize, key: &[u8], by: &ZRangeBy<'_>) -> Result<usize> {
        todo!("zset API: zremrange")
    }

    /// ZPOPMIN/ZPOPMAX: up to `count` members, lowest (or highest) first.
    pub fn zpop(
        &self,
        db: usize,
        key: &[u8],
        max: bool,
        count: usize,
    ) -> Result<Vec<ScoredMember>> {
        todo!("zset API: zpop")
    }

    /// ZMPOP / BZPOPMIN / BZMPOP: pops from the first key that is a non-empty sorted set.
    pub fn zmpop(
        &self,
        db: usize,
        keys: &[&[u8]],
        max: bool,
        count: usize,
    ) -> Result<Option<(Bytes, Vec<ScoredMember>)>> {
        todo!("zset API: zmpop")
    }

    /// ZRANDMEMBER.
    pub fn zrandmember(&self, db: usize, key: &[u8], count: i64) -> Result<Vec<ScoredMember>> {
        todo!("zset API: zrandmember")
    }

    /// ZUNION/ZINTER/ZDIFF and their STORE forms.
    pub fn zsetop(
        &self,
        db: usize,
        op: ZSetOp,
        keys: &[&[u8]],
        weights: Option<&[f64]>,
        agg: Aggregate,
        dst: Option<&[u8]>,
    ) -> Result<(usize, Vec<ScoredMember>)> {
        todo!("zset API: zsetop")
    }

    /// ZINTERCARD with LIMIT (0: no limit).
    pub fn zintercard(&self, db: usize, keys: &[&[u8]], limit: usize) -> Result<usize> {
        todo!("zset API: zintercard")
    }

    /// ZSCAN.
    pub fn zscan(
        &self,
        db: usize,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Vec<ScoredMember>)> {
        todo!("zset API: zscan")
    }

    /// CONFIG SET zset-max-listpack-entries.
    pub fn set_zset_max_listpack_entries(&self, n: i64) -> Result<()> {
        todo!("zset API: set_zset_max_listpack_entries")
    }

    /// CONFIG GET zset-max-listpack-entries.
    pub fn zset_max_listpack_entries(&self) -> i64 {
        todo!("zset API: zset_max_listpack_entries")
    }

    /// CONFIG SET zset-max-listpack-value.
    pub fn set_zset_max_listpack_value(&self, n: i64) -> Result<()> {
        todo!("zset API: set_zset_max_listpack_value")
    }

    /// CONFIG GET zset-max-listpack-value.
    pub fn zset_max_listpack_value(&self) -> i64 {
        todo!("zset API: zset_max_listpack_value")
    }
}
