//! Set commands: SADD, SREM, SMEMBERS, SPOP, SRANDMEMBER, SMOVE, SINTER/SUNION/SDIFF (and
//! their STORE forms), SINTERCARD and SSCAN; and the set encoding settings.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use crate::changes::Event;
use crate::entry::{Entry, PACKED_SET};
use crate::error::{Result, StoreError};
use crate::glob::glob_match;
use crate::packed::Packable;
use crate::setobj::{
    CompactMembers, MemberBuf, SetLimits, SetObj, SetRef, SetTable, packed_contains,
};
use crate::store::Store;

/// What SINTER, SUNION and SDIFF give back: the members, or with a destination, how many
/// were stored there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetOpOutcome {
    /// The resulting members, in no particular order (no destination was given).
    Members(Vec<Bytes>),
    /// How many members the destination now holds (0: it was deleted).
    Stored(usize),
}

/// Which set algebra SINTER, SUNION and SDIFF compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Inter,
    Union,
    Diff,
}

impl SetOp {
    fn store_event(self) -> Event {
        match self {
            SetOp::Inter => Event::SInterStore,
            SetOp::Union => Event::SUnionStore,
            SetOp::Diff => Event::SDiffStore,
        }
    }
}

/// The set at `e`, read in place; WRONGTYPE for another type.
fn set_of(e: &Entry) -> Result<SetRef<'_>> {
    match e.packed(PACKED_SET) {
        Some(value) => Ok(SetRef::Packed(value)),
        None => e.as_set().map(SetRef::Obj).ok_or(StoreError::WrongType),
    }
}

/// The sets of `entries` (`None` for missing keys), or WRONGTYPE if any key holds another
/// type: Redis checks every key's type before it computes anything.
fn sets_of<'a>(entries: &[Option<&'a Entry>]) -> Result<Vec<Option<SetRef<'a>>>> {
    entries.iter().map(|e| e.map(set_of).transpose()).collect()
}

/// Members to reply with, in no particular order: a set read in place (SMEMBERS) or the
/// result of SINTER, SUNION or SDIFF; handed to a callback, so that they are written out
/// without being copied into a vector first.
pub struct SetMembers<'a>(Option<SetRef<'a>>);

impl SetMembers<'_> {
    /// How many members.
    pub fn len(&self) -> usize {
        self.0.map_or(0, SetRef::len)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with each member, an integer as its decimal text.
    pub fn for_each(self, f: impl FnMut(&[u8])) {
        if let Some(s) = self.0 {
            s.for_each(f);
        }
    }
}

/// The members SRANDMEMBER picked, handed to a callback to be written out.
pub struct SetPicks<'a>(Picks<'a>);

enum Picks<'a> {
    /// Slots of a hash-table set.
    Slots(SetTable<'a>, Vec<usize>),
    /// Positions in a compact set.
    Positions(CompactMembers<'a>, Vec<usize>),
    /// Copies of members.
    Owned(Vec<MemberBuf>),
}

impl SetPicks<'_> {
    /// How many members were picked.
    pub fn len(&self) -> usize {
        match &self.0 {
            Picks::Slots(_, v) | Picks::Positions(_, v) => v.len(),
            Picks::Owned(v) => v.len(),
        }
    }

    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with each picked member in order, an integer as its decimal text.
    pub fn for_each(self, mut f: impl FnMut(&[u8])) {
        match self.0 {
            Picks::Slots(table, slots) => {
                let mut buf = [0; 20];
                for i in slots {
                    table.with_member(i, &mut buf, &mut f);
                }
            }
            Picks::Positions(members, positions) => {
                for i in positions {
                    members.with(i, &mut f);
                }
            }
            Picks::Owned(v) => {
                let mut buf = [0; 20];
                for m in &v {
                    f(m.as_slice(&mut buf));
                }
            }
        }
    }
}

/// Computes `op` over `sets` (a missing key is an empty set) into a new set.
fn compute(op: SetOp, sets: &[Option<SetRef<'_>>], limits: &SetLimits) -> SetObj {
    let mut out = SetObj::new();
    match op {
        SetOp::Inter => {
            if sets.iter().any(Option::is_none) {
                return out;
            }
            let mut present: Vec<SetRef<'_>> = sets.iter().flatten().copied().collect();
            present.sort_by_key(|s| s.len());
            if let Some((smallest, rest)) = present.split_first() {
                smallest.for_each(|m| {
                    if rest.iter().all(|s| s.contains(m)) {
                        out.add(m, limits);
                    }
                });
            }
        }
        SetOp::Union => {
            for s in sets.iter().flatten() {
                s.for_each(|m| {
                    out.add(m, limits);
                });
            }
        }
        SetOp::Diff => {
            if let Some((Some(first), rest)) = sets.split_first() {
                first.for_each(|m| {
                    if !rest.iter().flatten().any(|s| s.contains(m)) {
                        out.add(m, limits);
                    }
                });
            }
        }
    }
    out
}

/// Makes the first `c` of `all` a uniform sample of it (a partial Fisher-Yates shuffle)
/// and drops the rest; keeps all of it when `c` is not below its length.
fn partial_shuffle<T>(all: &mut Vec<T>, c: usize, mut rnd: impl FnMut() -> u64) {
    let len = all.len();
    if c < len {
        for k in 0..c {
            let j = k + (rnd() as usize) % (len - k);
            all.swap(k, j);
        }
        all.truncate(c);
    }
}

/// Keeps `member` when no pattern is given or it matches.
fn matches(pattern: Option<&[u8]>, member: &[u8]) -> bool {
    pattern.is_none_or(|p| p == b"*" || glob_match(p, member))
}

impl Store {
    /// Reads the set at `key` in place, without copying a packed one: `None` if absent,
    /// WRONGTYPE for other types.
    fn read_set<R>(
        &self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(Option<SetRef<'_>>) -> R,
    ) -> Result<R> {
        self.read(db, key, |e| match e {
            None => Ok(f(None)),
            Some(e) => set_of(e).map(|s| f(Some(s))),
        })?
    }

    /// SADD: adds `members`, returning how many were new. Creates the key.
    ///
    /// # Errors
    ///
    /// [`StoreError::WrongType`] for a key of another type; [`StoreError::OutOfMemory`]
    /// when over the memory limit and nothing may be evicted.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.sadd(0, b"s", &[b"a", b"b", b"a"])?, 2);
    /// assert_eq!(store.sadd(0, b"s", &[b"b", b"c"])?, 1);
    /// assert_eq!(store.scard(0, b"s")?, 3);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn sadd(&self, db: usize, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        self.check_memory()?;
        let limits = self.set_limits();
        self.write_packable_unless(
            db,
            key,
            true,
            |packed| {
                let present = |m: &&[u8]| packed_contains(packed, m);
                members.iter().all(present).then_some(0)
            },
            |set: &mut SetObj| {
                let added = members.iter().filter(|m| set.add(m, &limits)).count();
                Ok((added, (added > 0).then_some(Event::SAdd)))
            },
            || Ok(0),
        )
    }

    /// SREM: removes `members`, returning how many were there. An emptied set is deleted.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.sadd(0, b"s", &[b"a", b"b"])?;
    /// assert_eq!(store.srem(0, b"s", &[b"a", b"x"])?, 1);
    /// assert_eq!(store.srem(0, b"s", &[b"b"])?, 1);
    /// assert_eq!(store.exists(0, &[b"s"])?, 0); // the emptied set is gone
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn srem(&self, db: usize, key: &[u8], members: &[&[u8]]) -> Result<usize> {
        self.write_packable(
            db,
            key,
            false,
            |set: &mut SetObj| {
                let removed = members.iter().filter(|m| set.remove(m)).count();
                Ok((removed, (removed > 0).then_some(Event::SRem)))
            },
            || Ok(0),
        )
    }

    /// SMEMBERS: every member, in no particular order (empty for a missing key).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.sadd(0, b"s", &[b"b", b"a"])?;
    /// let mut members = store.smembers(0, b"s")?;
    /// members.sort();
    /// assert_eq!(members, [&b"a"[..], b"b"]);
    /// assert!(store.smembers(0, b"missing")?.is_empty());
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn smembers(&self, db: usize, key: &[u8]) -> Result<Vec<Bytes>> {
        self.smembers_with(db, key, |members| {
            let mut out = Vec::with_capacity(members.len());
            members.for_each(|m| out.push(Bytes::copy_from_slice(m)));
            out
        })
    }

    /// SMEMBERS read in place: `f` gets the members (none for a missing key) while the key
    /// is read, to write them out without copying them first.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.sadd(0, b"s", &[b"1", b"2"])?;
    /// let total = store.smembers_with(0, b"s", |members| {
    ///     let mut total = 0;
    ///     members.for_each(|m| total += m.len());
    ///     total
    /// })?;
    /// assert_eq!(total, 2);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn smembers_with<R>(
        &self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(SetMembers<'_>) -> R,
    ) -> Result<R> {
        self.read_set(db, key, |s| f(SetMembers(s)))
    }

    /// SISMEMBER.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.sadd(0, b"s", &[b"a", b"1"])?;
    /// assert!(store.sismember(0, b"s", b"1")?);
    /// assert!(!store.sismember(0, b"s", b"01")?);
    /// assert!(!store.sismember(0, b"missing", b"a")?);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn sismember(&self, db: usize, key: &[u8], member: &[u8]) -> Result<bool> {
        self.read_set(db, key, |s| s.is_some_and(|s| s.contains(member)))
    }

    /// SMISMEMBER: membership of each of `members`, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.sadd(0, b"s", &[b"a"])?;
    /// assert_eq!(store.smismember(0, b"s", &[b"a", b"b"])?, [true, false]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn smismember(&self, db: usize, key: &[u8], members: &[&[u8]]) -> Result<Vec<bool>> {
        self.read_set(db, key, |s| {
            members
                .iter()
                .map(|m| s.is_some_and(|s| s.contains(m)))
                .collect()
        })
    }

    /// SCARD: 0 for a missing key.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.sadd(0, b"s", &[b"a", b"b"])?;
    /// assert_eq!(store.scard(0, b"s")?, 2);
    /// assert_eq!(store.scard(0, b"missing")?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn scard(&self, db: usize, key: &[u8]) -> Result<usize> {
        self.packable_len::<SetObj>(db, key)
    }

    /// SPOP: removes and returns up to `count` random members; `None` when the key is
    /// missing. A count of 0 pops nothing (`Some` of an empty vector); an emptied set is
    /// deleted.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.sadd(0, b"s", &[b"a", b"b", b"c"])?;
    /// assert_eq!(store.spop(0, b"s", 2)?.map(|v| v.len()), Some(2));
    /// assert_eq!(store.spop(0, b"s", 0)?, Some(vec![]));
    /// assert_eq!(store.spop(0, b"s", 5)?.map(|v| v.len()), Some(1));
    /// assert_eq!(store.spop(0, b"s", 1)?, None); // emptied, so deleted
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn spop(&self, db: usize, key: &[u8], count: usize) -> Result<Option<Vec<Bytes>>> {
        self.write_packable(
            db,
            key,
            false,
            |set: &mut SetObj| {
                let out: Vec<Bytes> = if count >= set.len() {
                    let all = set.members();
                    *set = SetObj::new();
                    all
                } else {
                    (0..count)
                        .filter_map(|_| set.pop_random(|| self.next_random()))
                        .collect()
                };
                let event = (!out.is_empty()).then_some(Event::SPop);
                Ok((Some(out), event))
            },
            || Ok(None),
        )
    }

    /// Whether SRANDMEMBER accepts `count`, before any key is looked up (as Redis checks
    /// it): `i64::MIN` is [`StoreError::ValueOutOfBounds`] (Redis reads the count in
    /// `-i64::MAX..=i64::MAX`).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Store, StoreError};
    /// assert!(Store::check_srandmember_count(-5).is_ok());
    /// assert_eq!(
    ///     Store::check_srandmember_count(i64::MIN),
    ///     Err(StoreError::ValueOutOfBounds { min: -i64::MAX, max: i64::MAX })
    /// );
    /// ```
    pub fn check_srandmember_count(count: i64) -> Result<()> {
        if count == i64::MIN {
            return Err(StoreError::ValueOutOfBounds {
                min: -i64::MAX,
                max: i64::MAX,
            });
        }
        Ok(())
    }

    /// SRANDMEMBER.
    ///
    /// Without a count: one random member (an empty vector if the key is missing). A
    /// positive count returns up to that many *distinct* members (the whole set when it
    /// is at least the set's size); a negative count returns exactly `-count` members,
    /// possibly repeated; 0 returns none.
    ///
    /// # Errors
    ///
    /// The errors of [`Store::check_srandmember_count`], whether or not the key exists;
    /// [`StoreError::ValueOutOfRange`] for a negative count whose repeated members cannot
    /// be allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.sadd(0, b"s", &[b"a", b"b", b"c"])?;
    /// assert_eq!(store.srandmember(0, b"s", None)?.len(), 1);
    /// let mut two = store.srandmember(0, b"s", Some(2))?;
    /// two.dedup();
    /// assert_eq!(two.len(), 2); // distinct
    /// assert_eq!(store.srandmember(0, b"s", Some(10))?.len(), 3);
    /// assert_eq!(store.srandmember(0, b"s", Some(-5))?.len(), 5); // may repeat
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn srandmember(&self, db: usize, key: &[u8], count: Option<i64>) -> Result<Vec<Bytes>> {
        self.srandmember_with(db, key, count, |picks| {
            let mut out = Vec::with_capacity(picks.len());
            picks.for_each(|m| out.push(Bytes::copy_from_slice(m)));
            out
        })
    }

    /// SRANDMEMBER read in place: `f` gets the picked members (as [`Store::srandmember`]
    /// picks them) while the key is read, to write them out without copying them first.
    ///
    /// # Errors
    ///
    /// Those of [`Store::srandmember`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.sadd(0, b"s", &[b"a", b"b", b"c"])?;
    /// assert_eq!(store.srandmember_with(0, b"s", Some(-4), |picks| picks.len())?, 4);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn srandmember_with<R>(
        &self,
        db: usize,
        key: &[u8],
        count: Option<i64>,
        f: impl FnOnce(SetPicks<'_>) -> R,
    ) -> Result<R> {
        if let Some(c) = count {
            Self::check_srandmember_count(c)?;
        }
        let rnd = || self.next_random();
        self.read_set(db, key, |s| {
            let Some(s) = s else {
                return Ok(f(SetPicks(Picks::Owned(Vec::new()))));
            };
            let len = s.len();
            let picks = match (count, s.table(), s.compact_members()) {
                (None, Some(table), _) => {
                    Picks::Slots(table, table.random_slot(rnd).into_iter().collect())
                }
                (None, None, Some(members)) => {
                    let n = members.len() as u64;
                    let picked = (n > 0).then(|| (self.next_random() % n) as usize);
                    Picks::Positions(members, picked.into_iter().collect())
                }
                (Some(c), table, members) if c < 0 => {
                    let mut out = Vec::new();
                    usize::try_from(c.unsigned_abs())
                        .ok()
                        .and_then(|n| out.try_reserve_exact(n).ok())
                        .ok_or(StoreError::ValueOutOfRange)?;
                    match (table, members) {
                        (_, Some(members)) => {
                            // Pick positions among the members listed once: the compact
                            // encodings have no O(1) random access by themselves.
                            let n = members.len() as u64;
                            if n > 0 {
                                out.extend(
                                    (0..c.unsigned_abs())
                                        .map(|_| (self.next_random() % n) as usize),
                                );
                            }
                            Picks::Positions(members, out)
                        }
                        (Some(table), None) => {
                            out.extend(
                                (0..c.unsigned_abs()).filter_map(|_| table.random_slot(rnd)),
                            );
                            Picks::Slots(table, out)
                        }
                        (None, None) => Picks::Owned(Vec::new()),
                    }
                }
                (Some(c), Some(table), _) if c.unsigned_abs().saturating_mul(3) < len as u64 => {
                    // Few of many (Redis's fourth case): distinct random slots, without
                    // listing the whole set.
                    let want = usize::try_from(c).unwrap_or(usize::MAX);
                    let mut seen = std::collections::HashSet::with_capacity(want);
                    let mut out = Vec::with_capacity(want);
                    while out.len() < want {
                        let Some(slot) = table.random_slot(rnd) else {
                            break;
                        };
                        if seen.insert(slot) {
                            out.push(slot);
                        }
                    }
                    Picks::Slots(table, out)
                }
                (Some(c), _, members) => {
                    let c = usize::try_from(c).unwrap_or(usize::MAX);
                    match members {
                        Some(members) => {
                            let mut all: Vec<usize> = (0..members.len()).collect();
                            partial_shuffle(&mut all, c, || self.next_random());
                            Picks::Positions(members, all)
                        }
                        None => {
                            let SetRef::Obj(obj) = s else {
                                return Ok(f(SetPicks(Picks::Owned(Vec::new()))));
                            };
                            let mut all = obj.member_bufs();
                            partial_shuffle(&mut all, c, || self.next_random());
                            Picks::Owned(all)
                        }
                    }
                }
                (None, None, None) => Picks::Owned(Vec::new()),
            };
            Ok(f(SetPicks(picks)))
        })?
    }

    /// SMOVE: moves `member` from `src` to `dst`; true if it was in `src`. Creates `dst`
    /// when needed and deletes an emptied `src`. With `src == dst` nothing changes and the
    /// answer is whether the member is there.
    ///
    /// # Errors
    ///
    /// [`StoreError::WrongType`] when `src` exists and either key holds another type.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.sadd(0, b"a", &[b"x", b"y"])?;
    /// assert!(store.smove(0, b"a", b"b", b"x")?);
    /// assert!(!store.smove(0, b"a", b"b", b"x")?);
    /// assert!(store.sismember(0, b"b", b"x")?);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn smove(&self, db: usize, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool> {
        // Not refused over the memory limit: Redis does not flag SMOVE denyoom.
        let limits = self.set_limits();
        let keys = [src, dst];
        self.write_keys(db, &keys, |w| {
            let in_src = match w.get(0, src) {
                None => return Ok(false),
                Some(e) => set_of(e)?.contains(member),
            };
            let dst_exists = match w.get(1, dst) {
                None => false,
                Some(e) => SetObj::len_of(e)
                    .map(|_| true)
                    .ok_or(StoreError::WrongType)?,
            };
            if src == dst || !in_src {
                return Ok(in_src);
            }
            let emptied = w
                .update(0, src, |e| {
                    e.edit_packable(
                        |s: &mut SetObj| {
                            s.remove(member);
                            s.is_empty()
                        },
                        |_| true,
                    )
                    .unwrap_or(false)
                })
                .unwrap_or(false);
            w.emit(src, Event::SRem);
            if emptied {
                w.remove(0, src);
            }
            let added = if dst_exists {
                w.update(1, dst, |e| {
                    e.edit_packable(|s: &mut SetObj| s.add(member, &limits), |&added| added)
                        .unwrap_or(false)
                })
                .unwrap_or(false)
            } else {
                let mut set = SetObj::new();
                set.add(member, &limits);
                w.put(1, dst, Entry::new_packable(dst, set));
                true
            };
            if added {
                w.emit(dst, Event::SAdd);
            }
            Ok(true)
        })?
    }

    /// SINTER, SUNION, SDIFF and their STORE forms.
    fn set_op(
        &self,
        db: usize,
        op: SetOp,
        keys: &[&[u8]],
        dst: Option<&[u8]>,
    ) -> Result<SetOpOutcome> {
        let limits = self.set_limits();
        let Some(dst) = dst else {
            return self
                .set_op_with(db, op, keys, |members| {
                    let mut out = Vec::with_capacity(members.len());
                    members.for_each(|m| out.push(Bytes::copy_from_slice(m)));
                    out
                })
                .map(SetOpOutcome::Members);
        };
        self.check_memory()?;
        let mut all: Vec<&[u8]> = keys.to_vec();
        all.push(dst);
        self.write_keys(db, &all, |w| {
            let result = {
                let entries = w.entries_reading(keys, 0..keys.len());
                let sets = sets_of(&entries)?;
                compute(op, &sets, &limits)
            };
            let i = keys.len();
            let n = result.len();
            if n == 0 {
                // An empty result deletes the destination (reported as a deletion).
                w.remove(i, dst);
            } else {
                w.put(i, dst, Entry::new_packable(dst, result));
                w.emit(dst, op.store_event());
            }
            Ok(SetOpOutcome::Stored(n))
        })?
    }

    /// SINTER, SUNION or SDIFF without a destination: `f` gets the result's members, to
    /// write them out without copying them into a vector first.
    fn set_op_with<R>(
        &self,
        db: usize,
        op: SetOp,
        keys: &[&[u8]],
        f: impl FnOnce(SetMembers<'_>) -> R,
    ) -> Result<R> {
        let limits = self.set_limits();
        self.read_entries(db, keys, |entries| {
            let sets = sets_of(entries)?;
            let result = compute(op, &sets, &limits);
            Ok(f(SetMembers(Some(SetRef::Obj(&result)))))
        })?
    }

    /// SINTER (`dst = None`) and SINTERSTORE: the members in every one of `keys` (a missing
    /// key is an empty set); with a destination, they are stored there instead, replacing
    /// any value, and an empty result deletes it.
    ///
    /// # Errors
    ///
    /// [`StoreError::WrongType`] if any source holds another type (the destination's type
    /// does not matter).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{SetOpOutcome, Store};
    /// let store = Store::new();
    /// store.sadd(0, b"a", &[b"1", b"2", b"3"])?;
    /// store.sadd(0, b"b", &[b"2", b"3", b"4"])?;
    /// let SetOpOutcome::Members(mut m) = store.sinter(0, &[b"a", b"b"], None)? else { panic!() };
    /// m.sort();
    /// assert_eq!(m, [&b"2"[..], b"3"]);
    /// assert_eq!(store.sinter(0, &[b"a", b"b"], Some(b"d"))?, SetOpOutcome::Stored(2));
    /// assert_eq!(store.sinter(0, &[b"a", b"none"], Some(b"d"))?, SetOpOutcome::Stored(0));
    /// assert_eq!(store.exists(0, &[b"d"])?, 0); // an empty result deletes the destination
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn sinter(&self, db: usize, keys: &[&[u8]], dst: Option<&[u8]>) -> Result<SetOpOutcome> {
        self.set_op(db, SetOp::Inter, keys, dst)
    }

    /// SUNION and SUNIONSTORE: the members of any of `keys`; the destination as in
    /// [`Store::sinter`].
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{SetOpOutcome, Store};
    /// let store = Store::new();
    /// store.sadd(0, b"a", &[b"1", b"2"])?;
    /// store.sadd(0, b"b", &[b"2", b"x"])?;
    /// assert_eq!(store.sunion(0, &[b"a", b"b", b"none"], Some(b"u"))?, SetOpOutcome::Stored(3));
    /// assert_eq!(store.scard(0, b"u")?, 3);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn sunion(&self, db: usize, keys: &[&[u8]], dst: Option<&[u8]>) -> Result<SetOpOutcome> {
        self.set_op(db, SetOp::Union, keys, dst)
    }

    /// SINTER of `keys` without a destination: `f` gets the members (see
    /// [`Store::smembers_with`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.sadd(0, b"a", &[b"1", b"2"])?;
    /// store.sadd(0, b"b", &[b"2", b"3"])?;
    /// assert_eq!(store.sinter_with(0, &[b"a", b"b"], |m| m.len())?, 1);
    /// assert_eq!(store.sunion_with(0, &[b"a", b"b"], |m| m.len())?, 3);
    /// assert_eq!(store.sdiff_with(0, &[b"a", b"b"], |m| m.len())?, 1);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn sinter_with<R>(
        &self,
        db: usize,
        keys: &[&[u8]],
        f: impl FnOnce(SetMembers<'_>) -> R,
    ) -> Result<R> {
        self.set_op_with(db, SetOp::Inter, keys, f)
    }

    /// SUNION of `keys` without a destination, as [`Store::sinter_with`].
    pub fn sunion_with<R>(
        &self,
        db: usize,
        keys: &[&[u8]],
        f: impl FnOnce(SetMembers<'_>) -> R,
    ) -> Result<R> {
        self.set_op_with(db, SetOp::Union, keys, f)
    }

    /// SDIFF of `keys` without a destination, as [`Store::sinter_with`].
    pub fn sdiff_with<R>(
        &self,
        db: usize,
        keys: &[&[u8]],
        f: impl FnOnce(SetMembers<'_>) -> R,
    ) -> Result<R> {
        self.set_op_with(db, SetOp::Diff, keys, f)
    }

    /// SDIFF and SDIFFSTORE: the members of the first key in none of the others; the
    /// destination as in [`Store::sinter`].
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{SetOpOutcome, Store};
    /// let store = Store::new();
    /// store.sadd(0, b"a", &[b"1", b"2", b"3"])?;
    /// store.sadd(0, b"b", &[b"2"])?;
    /// let SetOpOutcome::Members(mut m) = store.sdiff(0, &[b"a", b"b"], None)? else { panic!() };
    /// m.sort();
    /// assert_eq!(m, [&b"1"[..], b"3"]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn sdiff(&self, db: usize, keys: &[&[u8]], dst: Option<&[u8]>) -> Result<SetOpOutcome> {
        self.set_op(db, SetOp::Diff, keys, dst)
    }

    /// SINTERCARD: how many members the intersection of `keys` has, counting stops at
    /// `limit` when it is not 0.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.sadd(0, b"a", &[b"1", b"2", b"3"])?;
    /// store.sadd(0, b"b", &[b"1", b"2", b"3", b"4"])?;
    /// assert_eq!(store.sintercard(0, &[b"a", b"b"], 0)?, 3);
    /// assert_eq!(store.sintercard(0, &[b"a", b"b"], 2)?, 2);
    /// assert_eq!(store.sintercard(0, &[b"a", b"none"], 0)?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn sintercard(&self, db: usize, keys: &[&[u8]], limit: usize) -> Result<usize> {
        self.read_entries(db, keys, |entries| {
            let sets = sets_of(entries)?;
            let Some(mut present) = sets.into_iter().collect::<Option<Vec<SetRef<'_>>>>() else {
                return Ok(0);
            };
            present.sort_by_key(|s| s.len());
            let Some((smallest, rest)) = present.split_first() else {
                return Ok(0);
            };
            let mut n = 0;
            smallest.for_each(|m| {
                if (limit == 0 || n < limit) && rest.iter().all(|s| s.contains(m)) {
                    n += 1;
                }
            });
            Ok(n)
        })?
    }

    /// SSCAN: the next cursor (0 when done) and a batch of members.
    ///
    /// Compact sets (intset, listpack) come back whole with cursor 0, as Redis does; hash
    /// table sets are walked with the same resize-proof cursor as SCAN and HSCAN: every
    /// member present for the whole walk is returned at least once.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// let members: Vec<Vec<u8>> = (0..500).map(|i| format!("m{i}").into_bytes()).collect();
    /// let refs: Vec<&[u8]> = members.iter().map(|m| &m[..]).collect();
    /// store.sadd(0, b"big", &refs)?;
    /// let (mut cursor, mut seen) = (0, 0);
    /// loop {
    ///     let (next, batch) = store.sscan(0, b"big", cursor, None, 50)?;
    ///     seen += batch.len();
    ///     cursor = next;
    ///     if cursor == 0 { break; }
    /// }
    /// assert_eq!(seen, 500);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn sscan(
        &self,
        db: usize,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<(u64, Vec<Bytes>)> {
        self.read_set(db, key, |s| {
            let Some(s) = s else { return (0, Vec::new()) };
            let Some(table) = s.table() else {
                let mut out = Vec::new();
                s.for_each(|m| {
                    if matches(pattern, m) {
                        out.push(Bytes::copy_from_slice(m));
                    }
                });
                return (0, out);
            };
            let mut out = Vec::new();
            let cur = table.scan_from(cursor, count, |m| {
                let kept = matches(pattern, m);
                if kept {
                    out.push(Bytes::copy_from_slice(m));
                }
                kept
            });
            (cur, out)
        })
    }

    /// The set limits in force, with the store's hasher.
    pub(crate) fn set_limits(&self) -> SetLimits {
        SetLimits {
            intset_entries: self.inner.set_intset_entries.load(Ordering::Relaxed),
            listpack_entries: self.inner.set_listpack_entries.load(Ordering::Relaxed),
            listpack_value: self.inner.set_listpack_value.load(Ordering::Relaxed),
            hasher: self.inner.hasher.clone(),
        }
    }

    /// Sets `set-max-intset-entries`: most members a set of integers keeps in the compact
    /// integer encoding. Sets already larger keep their encoding until written.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.set_max_intset_entries(), 512);
    /// store.set_set_max_intset_entries(2);
    /// assert_eq!(store.set_max_intset_entries(), 2);
    /// ```
    pub fn set_set_max_intset_entries(&self, n: usize) {
        self.inner.set_intset_entries.store(n, Ordering::Relaxed);
    }

    /// `set-max-intset-entries` as set (default 512).
    pub fn set_max_intset_entries(&self) -> usize {
        self.inner.set_intset_entries.load(Ordering::Relaxed)
    }

    /// Sets `set-max-listpack-entries`: most members a set keeps in the compact packed
    /// encoding.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.set_max_listpack_entries(), 128);
    /// store.set_set_max_listpack_entries(4);
    /// assert_eq!(store.set_max_listpack_entries(), 4);
    /// ```
    pub fn set_set_max_listpack_entries(&self, n: usize) {
        self.inner.set_listpack_entries.store(n, Ordering::Relaxed);
    }

    /// `set-max-listpack-entries` as set (default 128).
    pub fn set_max_listpack_entries(&self) -> usize {
        self.inner.set_listpack_entries.load(Ordering::Relaxed)
    }

    /// Sets `set-max-listpack-value`: longest member a packed set keeps.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.set_max_listpack_value(), 64);
    /// store.set_set_max_listpack_value(8);
    /// assert_eq!(store.set_max_listpack_value(), 8);
    /// ```
    pub fn set_set_max_listpack_value(&self, n: usize) {
        self.inner.set_listpack_value.store(n, Ordering::Relaxed);
    }

    /// `set-max-listpack-value` as set (default 64).
    pub fn set_max_listpack_value(&self) -> usize {
        self.inner.set_listpack_value.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;
    use crate::entry::ValueType;

    fn encoding(store: &Store, key: &[u8]) -> Option<&'static str> {
        store
            .read(0, key, |e| e.map(Entry::encoding))
            .ok()
            .flatten()
    }

    fn sorted(mut v: Vec<Bytes>) -> Vec<Bytes> {
        v.sort();
        v
    }

    #[test]
    fn encodings_convert_as_redis_7_2_does_and_never_back() {
        let store = Store::new();
        store.sadd(0, b"i", &[b"1", b"2", b"-3"]).unwrap();
        assert_eq!(encoding(&store, b"i"), Some("intset"));
        // "01" is not a canonical integer.
        store.sadd(0, b"i", &[b"01"]).unwrap();
        assert_eq!(encoding(&store, b"i"), Some("listpack"));
        store.srem(0, b"i", &[b"01"]).unwrap();
        assert_eq!(encoding(&store, b"i"), Some("listpack"));

        let ints: Vec<Vec<u8>> = (0..=512).map(|i| i.to_string().into_bytes()).collect();
        let refs: Vec<&[u8]> = ints.iter().map(|m| &m[..]).collect();
        store.sadd(0, b"n", &refs[..512]).unwrap();
        assert_eq!(encoding(&store, b"n"), Some("intset"));
        store.sadd(0, b"n", &refs[512..]).unwrap();
        assert_eq!(encoding(&store, b"n"), Some("hashtable"));

        store.sadd(0, b"p", &refs[..128]).unwrap();
        store.sadd(0, b"p", &[b"x"]).unwrap(); // 129 members: too many for a listpack
        assert_eq!(encoding(&store, b"p"), Some("hashtable"));
        store.sadd(0, b"l", &[b"a"]).unwrap();
        assert_eq!(encoding(&store, b"l"), Some("listpack"));
        store.sadd(0, b"l", &[&[b'x'; 65][..]]).unwrap();
        assert_eq!(encoding(&store, b"l"), Some("hashtable"));
        store.srem(0, b"l", &[&[b'x'; 65][..]]).unwrap();
        assert_eq!(encoding(&store, b"l"), Some("hashtable"));
        assert_eq!(store.value_type(0, b"l").unwrap(), Some(ValueType::Set));
        store.check_invariants().unwrap();
    }

    #[test]
    fn copies_keep_members_and_encoding() {
        let store = Store::new();
        for (key, members) in [
            (&b"i"[..], vec![&b"1"[..], b"2"]),
            (b"l", vec![b"a", b"b"]),
            (b"h", vec![&[b'y'; 100][..], b"z"]),
        ] {
            store.sadd(0, key, &members).unwrap();
            let copy = [key, b"-copy"].concat();
            assert!(store.copy(0, key, 0, &copy, false).unwrap());
            assert_eq!(encoding(&store, &copy), encoding(&store, key));
            assert_eq!(
                sorted(store.smembers(0, &copy).unwrap()),
                sorted(store.smembers(0, key).unwrap())
            );
        }
        store.check_invariants().unwrap();
    }

    #[derive(Default)]
    struct Log(std::sync::Mutex<Vec<(Vec<u8>, &'static str)>>);

    impl crate::ChangeListener for Log {
        fn changed(&self, change: crate::Change<'_>) {
            if let crate::Change::Key { key, event, .. } = change {
                self.0.lock().unwrap().push((key.to_vec(), event.name()));
            }
        }
    }

    impl Log {
        fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock().unwrap())
                .into_iter()
                .map(|(k, e)| format!("{} {e}", String::from_utf8_lossy(&k)))
                .collect()
        }
    }

    #[test]
    fn changes_are_reported_with_redis_events() {
        let log = std::sync::Arc::new(Log::default());
        let store = Store::builder().change_listener(log.clone()).build();
        store.sadd(0, b"a", &[b"1", b"2"]).unwrap();
        store.sadd(0, b"a", &[b"1"]).unwrap();
        assert_eq!(log.take(), ["a new", "a sadd"]);
        store.srem(0, b"a", &[b"9"]).unwrap();
        store.srem(0, b"a", &[b"2"]).unwrap();
        assert_eq!(log.take(), ["a srem"]);
        store.smove(0, b"a", b"b", b"1").unwrap();
        assert_eq!(log.take(), ["a srem", "a del", "b new", "b sadd"]);
        store.sadd(0, b"a", &[b"1"]).unwrap();
        log.take();
        store.smove(0, b"a", b"b", b"1").unwrap();
        assert_eq!(
            log.take(),
            ["a srem", "a del"],
            "already in the destination"
        );
        store.sadd(0, b"a", &[b"1", b"x"]).unwrap();
        log.take();
        store.sinter(0, &[b"a", b"b"], Some(b"d")).unwrap();
        store.sunion(0, &[b"a", b"b"], Some(b"d")).unwrap();
        store.sdiff(0, &[b"a", b"b"], Some(b"d")).unwrap();
        store.sdiff(0, &[b"a", b"a"], Some(b"d")).unwrap();
        store.sinter(0, &[b"a", b"none"], Some(b"d")).unwrap();
        assert_eq!(
            log.take(),
            [
                "d new",
                "d sinterstore",
                "d sunionstore",
                "d sdiffstore",
                "d del"
            ]
        );
        store.spop(0, b"a", 0).unwrap();
        store.spop(0, b"a", 1).unwrap();
        store.spop(0, b"a", 5).unwrap();
        assert_eq!(log.take(), ["a spop", "a spop", "a del"]);
        store.sinter(0, &[b"a"], None).unwrap();
        store.srandmember(0, b"b", Some(-3)).unwrap();
        assert!(log.take().is_empty());
    }

    #[test]
    fn sscan_returns_every_member_present_throughout_while_the_set_grows_and_shrinks() {
        let store = Store::new();
        let name = |i: usize| format!("m{i}").into_bytes();
        let stay: Vec<Vec<u8>> = (0..300).map(name).collect();
        let refs: Vec<&[u8]> = stay.iter().map(|m| &m[..]).collect();
        store.sadd(0, b"s", &refs).unwrap();
        let mut seen = BTreeSet::new();
        let (mut cursor, mut round) = (0, 0);
        loop {
            let (next, batch) = store.sscan(0, b"s", cursor, None, 10).unwrap();
            seen.extend(batch.iter().map(|m| m.to_vec()));
            // Grow the table to several times its size, then shrink it back, between calls.
            let churn: Vec<Vec<u8>> = (0..2000)
                .map(|i| name(10_000 + (round / 2) * 2000 + i))
                .collect();
            let churn: Vec<&[u8]> = churn.iter().map(|m| &m[..]).collect();
            if round % 2 == 0 {
                store.sadd(0, b"s", &churn).unwrap();
            } else {
                store.srem(0, b"s", &churn).unwrap();
            }
            round += 1;
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert!(stay.iter().all(|m| seen.contains(m)));
    }

    #[test]
    fn srandmember_picks_distinct_members_of_a_big_set() {
        let store = Store::new();
        let members: Vec<Vec<u8>> = (0..1000).map(|i| format!("m{i}").into_bytes()).collect();
        let refs: Vec<&[u8]> = members.iter().map(|m| &m[..]).collect();
        store.sadd(0, b"big", &refs).unwrap();
        for count in [1, 10, 333, 334, 999, 1000, 5000] {
            let picked = store.srandmember(0, b"big", Some(count)).unwrap();
            let distinct: BTreeSet<Bytes> = picked.iter().cloned().collect();
            let want = usize::try_from(count).unwrap().min(1000);
            assert_eq!((picked.len(), distinct.len()), (want, want), "{count}");
            assert!(distinct.iter().all(|m| members.contains(&m.to_vec())));
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(Vec<u16>),
        Rem(Vec<u16>),
        Pop(usize),
        Move(u16),
    }

    /// Members drawn from a small range so operations collide: integers, short texts and
    /// long texts, to cross every encoding.
    fn member(n: u16) -> Vec<u8> {
        match n % 4 {
            0 | 1 => (i64::from(n) - 100).to_string().into_bytes(),
            2 => format!("m{n}").into_bytes(),
            _ => format!("{n:0>12}").into_bytes(),
        }
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => proptest::collection::vec(0u16..400, 1..12).prop_map(Op::Add),
            2 => proptest::collection::vec(0u16..400, 1..12).prop_map(Op::Rem),
            1 => (0usize..6).prop_map(Op::Pop),
            1 => (0u16..400).prop_map(Op::Move),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Random writes on two sets, with the encoding limits lowered so every conversion
        /// happens, agree with a model; so do the algebra commands and a full SSCAN.
        #[test]
        fn sets_agree_with_a_model(
            ops in proptest::collection::vec(op(), 1..60),
            intset in 0usize..20,
            listpack in 0usize..20,
            value in 0usize..14,
        ) {
            let store = Store::new();
            store.set_set_max_intset_entries(intset);
            store.set_set_max_listpack_entries(listpack);
            store.set_set_max_listpack_value(value);
            let mut model: [BTreeSet<Vec<u8>>; 2] = Default::default();
            let keys: [&[u8]; 2] = [b"a", b"b"];
            for (step, op) in ops.into_iter().enumerate() {
                let k = step % 2;
                match op {
                    Op::Add(ms) => {
                        let ms: Vec<Vec<u8>> = ms.into_iter().map(member).collect();
                        let refs: Vec<&[u8]> = ms.iter().map(|m| &m[..]).collect();
                        let want = ms.iter().filter(|m| model[k].insert((*m).clone())).count();
                        prop_assert_eq!(store.sadd(0, keys[k], &refs).unwrap(), want);
                    }
                    Op::Rem(ms) => {
                        let ms: Vec<Vec<u8>> = ms.into_iter().map(member).collect();
                        let refs: Vec<&[u8]> = ms.iter().map(|m| &m[..]).collect();
                        let want = ms.iter().filter(|m| model[k].remove(*m)).count();
                        prop_assert_eq!(store.srem(0, keys[k], &refs).unwrap(), want);
                    }
                    Op::Pop(n) => {
                        let popped = store.spop(0, keys[k], n).unwrap();
                        match popped {
                            None => prop_assert!(model[k].is_empty()),
                            Some(p) => {
                                prop_assert_eq!(p.len(), n.min(model[k].len()));
                                for m in p {
                                    prop_assert!(model[k].remove(&m[..]));
                                }
                            }
                        }
                    }
                    Op::Move(m) => {
                        let m = member(m);
                        let moved = store.smove(0, keys[k], keys[1 - k], &m).unwrap();
                        prop_assert_eq!(moved, model[k].remove(&m));
                        if moved {
                            model[1 - k].insert(m);
                        }
                    }
                }
                for (key, set) in keys.iter().zip(&model) {
                    let got: BTreeSet<Vec<u8>> =
                        store.smembers(0, key).unwrap().iter().map(|m| m.to_vec()).collect();
                    prop_assert_eq!(&got, set);
                    prop_assert_eq!(store.scard(0, key).unwrap(), set.len());
                    // SRANDMEMBER picks members of the set: distinct ones for a positive
                    // count, exactly as many as asked for a negative one.
                    let one = store.srandmember(0, key, None).unwrap();
                    prop_assert_eq!(one.len(), set.len().min(1));
                    for c in [1, 3, 30] {
                        let picked = store.srandmember(0, key, Some(c)).unwrap();
                        let distinct: BTreeSet<Vec<u8>> = picked.iter().map(|m| m.to_vec()).collect();
                        prop_assert_eq!(distinct.len(), picked.len());
                        prop_assert_eq!(picked.len(), set.len().min(c as usize));
                        prop_assert!(distinct.is_subset(set));
                        let repeated = store.srandmember(0, key, Some(-c)).unwrap();
                        let want = if set.is_empty() { 0 } else { c as usize };
                        prop_assert_eq!(repeated.len(), want);
                        prop_assert!(one.iter().chain(&repeated).all(|m| set.contains(&m[..])));
                    }
                    let enc = encoding(&store, key);
                    let all_ints = set.iter().all(|m| crate::codec::canonical_i64(m).is_some());
                    if set.is_empty() {
                        prop_assert_eq!(enc, None);
                    } else if enc == Some("intset") {
                        prop_assert!(all_ints && set.len() <= intset);
                    } else if enc == Some("listpack") {
                        prop_assert!(set.len() <= listpack);
                        prop_assert!(set.iter().all(|m| m.len() <= value));
                    }
                }
            }
            let [a, b] = &model;
            let members = |o: SetOpOutcome| -> BTreeSet<Vec<u8>> {
                match o {
                    SetOpOutcome::Members(v) => v.iter().map(|m| m.to_vec()).collect(),
                    SetOpOutcome::Stored(_) => BTreeSet::new(),
                }
            };
            let inter: BTreeSet<Vec<u8>> = a.intersection(b).cloned().collect();
            let union: BTreeSet<Vec<u8>> = a.union(b).cloned().collect();
            let diff: BTreeSet<Vec<u8>> = a.difference(b).cloned().collect();
            prop_assert_eq!(members(store.sinter(0, &keys, None).unwrap()), inter.clone());
            prop_assert_eq!(members(store.sunion(0, &keys, None).unwrap()), union.clone());
            prop_assert_eq!(members(store.sdiff(0, &keys, None).unwrap()), diff.clone());
            prop_assert_eq!(store.sintercard(0, &keys, 0).unwrap(), inter.len());
            prop_assert_eq!(store.sintercard(0, &keys, 1).unwrap(), inter.len().min(1));
            for (dst, want) in [(&b"di"[..], &inter), (b"du", &union), (b"dd", &diff)] {
                let stored = match dst {
                    b"di" => store.sinter(0, &keys, Some(dst)),
                    b"du" => store.sunion(0, &keys, Some(dst)),
                    _ => store.sdiff(0, &keys, Some(dst)),
                };
                prop_assert_eq!(stored.unwrap(), SetOpOutcome::Stored(want.len()));
                let got: BTreeSet<Vec<u8>> =
                    store.smembers(0, dst).unwrap().iter().map(|m| m.to_vec()).collect();
                prop_assert_eq!(&got, want);
            }
            // A full SSCAN sees every member.
            let mut seen = BTreeSet::new();
            let mut cursor = 0;
            loop {
                let (next, batch) = store.sscan(0, b"du", cursor, None, 3).unwrap();
                seen.extend(batch.iter().map(|m| m.to_vec()));
                cursor = next;
                if cursor == 0 {
                    break;
                }
            }
            prop_assert_eq!(&seen, &union);
            // SRANDMEMBER's positive counts are distinct members of the set.
            let picked = store.srandmember(0, b"a", Some(5)).unwrap();
            prop_assert_eq!(picked.len(), a.len().min(5));
            let distinct: BTreeSet<Vec<u8>> = picked.iter().map(|m| m.to_vec()).collect();
            prop_assert_eq!(distinct.len(), picked.len());
            prop_assert!(distinct.is_subset(a));
            let repeated = store.srandmember(0, b"a", Some(-7)).unwrap();
            prop_assert_eq!(repeated.len(), if a.is_empty() { 0 } else { 7 });
            prop_assert!(repeated.iter().all(|m| a.contains(&m[..])));
            store.check_invariants().unwrap();
        }
    }
}
