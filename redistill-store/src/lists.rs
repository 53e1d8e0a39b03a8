//! List commands: LPUSH, RPOP, LRANGE, LINSERT, LMOVE, LMPOP and friends.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use crate::changes::Event;
use crate::entry::Entry;
use crate::error::{Result, StoreError};
use crate::quicklist::{ListEnd, ListObj};
use crate::store::{Collection, Store};
use crate::strings::MAX_STRING_LEN;

/// Default `list-max-listpack-size`: nodes of at most 8 KB.
pub const DEFAULT_LIST_MAX_LISTPACK_SIZE: i64 = -2;
/// Default `list-compress-depth`: no node compressed.
pub const DEFAULT_LIST_COMPRESS_DEPTH: i64 = 0;

fn list_of(e: &Entry) -> Result<&ListObj> {
    e.as_list().ok_or(StoreError::WrongType)
}

/// The half-open range of elements `start..=stop` names in a list of `len` (LRANGE's and
/// LTRIM's rules: negative indexes count from the end, both ends are clamped); `None` when
/// it is empty.
fn span(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let start = if start < 0 { start + len } else { start }.max(0);
    let stop = if stop < 0 { stop + len } else { stop };
    if start > stop || start >= len {
        return None;
    }
    Some((start as usize, (stop.min(len - 1) + 1) as usize))
}

/// A run of a list's elements, read in place (see [`Store::lrange_with`]).
pub struct ListRange<'a> {
    list: Option<&'a ListObj>,
    start: usize,
    end: usize,
}

impl ListRange<'_> {
    /// How many elements the range holds.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Calls `f` with each element in order, an integer as its decimal text.
    pub fn for_each(self, f: impl FnMut(&[u8])) {
        if let Some(list) = self.list {
            list.for_each_in(self.start, self.end, f);
        }
    }
}

/// The position `index` names in a list of `len` (negative from the end), if inside it.
fn position(len: usize, index: i64) -> Option<usize> {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let i = if index < 0 { index + len_i } else { index };
    (0..len_i).contains(&i).then_some(i as usize)
}

fn push_event(end: ListEnd) -> Event {
    match end {
        ListEnd::Left => Event::LPush,
        ListEnd::Right => Event::RPush,
    }
}

fn pop_event(end: ListEnd) -> Event {
    match end {
        ListEnd::Left => Event::LPop,
        ListEnd::Right => Event::RPop,
    }
}

/// Refuses an element longer than Redis's `proto-max-bulk-len` would let in (nodes hold
/// 32-bit offsets).
fn check_len(element: &[u8]) -> Result<()> {
    match element.len() as u64 {
        n if n > MAX_STRING_LEN => Err(StoreError::StringTooLong { requested: n }),
        _ => Ok(()),
    }
}

/// Pops up to `count` elements from `end`.
fn pop_many(list: &mut ListObj, end: ListEnd, count: usize) -> Vec<Bytes> {
    let n = count.min(list.len());
    (0..n).filter_map(|_| list.pop(end)).collect()
}

impl Collection for ListObj {
    fn of(e: &Entry) -> Option<&Self> {
        e.as_list()
    }

    fn of_mut(e: &mut Entry) -> Option<&mut Self> {
        e.as_list_mut()
    }

    fn is_empty(&self) -> bool {
        ListObj::is_empty(self)
    }

    fn new_entry(store: &Store, key: &[u8]) -> Entry {
        Entry::new_list(key, store.new_list_obj())
    }
}

impl Store {
    /// A new, empty list with the list settings in force.
    pub(crate) fn new_list_obj(&self) -> ListObj {
        ListObj::new(self.list_max_listpack_size(), self.list_compress_depth())
    }

    /// Reads the list at `key` (`None` if absent), failing with WRONGTYPE for other types.
    fn read_list<R>(
        &self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(Option<&ListObj>) -> R,
    ) -> Result<R> {
        self.read(db, key, |e| match e {
            None => Ok(f(None)),
            Some(e) => list_of(e).map(|l| f(Some(l))),
        })?
    }

    /// [`Store::write_collection`] on a list. Callers that may grow memory check the
    /// limit first.
    fn write_list<R>(
        &self,
        db: usize,
        key: &[u8],
        create: bool,
        f: impl FnOnce(&mut ListObj) -> Result<(R, Option<Event>)>,
        absent: impl FnOnce() -> Result<R>,
    ) -> Result<R> {
        self.write_collection(db, key, create, f, absent)
    }

    /// LPUSH, RPUSH, LPUSHX, RPUSHX: pushes `elements` one by one at `end` (so LPUSH of
    /// `a b c` leaves `c` first) and returns the new length. The key is created unless
    /// `only_if_exists`, with which a missing key stays missing and the answer is 0.
    ///
    /// # Errors
    ///
    /// [`StoreError::WrongType`] for a key of another type; [`StoreError::OutOfMemory`]
    /// when over the memory limit and nothing may be evicted;
    /// [`StoreError::StringTooLong`] for an element over 512 MB (as LSET and LINSERT).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ListEnd, Store};
    /// let store = Store::new();
    /// assert_eq!(store.list_push(0, b"l", ListEnd::Right, &[b"a", b"b"], false)?, 2);
    /// assert_eq!(store.list_push(0, b"l", ListEnd::Left, &[b"z"], true)?, 3);
    /// assert_eq!(store.list_push(0, b"missing", ListEnd::Left, &[b"z"], true)?, 0);
    /// assert_eq!(store.lrange(0, b"l", 0, -1)?, [&b"z"[..], b"a", b"b"]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn list_push(
        &self,
        db: usize,
        key: &[u8],
        end: ListEnd,
        elements: &[&[u8]],
        only_if_exists: bool,
    ) -> Result<usize> {
        if elements.is_empty() {
            return self.llen(db, key);
        }
        elements.iter().try_for_each(|e| check_len(e))?;
        // LPUSHX and RPUSHX too are refused over the limit (Redis flags them denyoom).
        self.check_memory()?;
        self.write_list(
            db,
            key,
            !only_if_exists,
            |list| {
                for e in elements {
                    list.push(end, e);
                }
                Ok((list.len(), Some(push_event(end))))
            },
            || Ok(0),
        )
    }

    /// LPUSH: [`Store::list_push`] at the head, creating the key.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.lpush(0, b"l", &[b"a", b"b", b"c"])?, 3);
    /// assert_eq!(store.lrange(0, b"l", 0, -1)?, [&b"c"[..], b"b", b"a"]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn lpush(&self, db: usize, key: &[u8], elements: &[&[u8]]) -> Result<usize> {
        self.list_push(db, key, ListEnd::Left, elements, false)
    }

    /// RPUSH: [`Store::list_push`] at the tail, creating the key.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.rpush(0, b"l", &[b"a", b"b", b"c"])?, 3);
    /// assert_eq!(store.lrange(0, b"l", 0, -1)?, [&b"a"[..], b"b", b"c"]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn rpush(&self, db: usize, key: &[u8], elements: &[&[u8]]) -> Result<usize> {
        self.list_push(db, key, ListEnd::Right, elements, false)
    }

    /// LPOP/RPOP with a count: pops up to `count` elements from `end`, in the order
    /// popped; `None` when the key is missing. A count of 0 on a list pops nothing
    /// (`Some` of an empty vector). An emptied list is deleted.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ListEnd, Store};
    /// let store = Store::new();
    /// store.rpush(0, b"l", &[b"a", b"b", b"c"])?;
    /// let popped = store.list_pop(0, b"l", ListEnd::Right, 2)?.unwrap();
    /// assert_eq!(popped, [&b"c"[..], b"b"]);
    /// assert_eq!(store.list_pop(0, b"l", ListEnd::Left, 0)?, Some(vec![]));
    /// assert_eq!(store.list_pop(0, b"l", ListEnd::Left, 5)?.unwrap(), [&b"a"[..]]);
    /// assert_eq!(store.list_pop(0, b"l", ListEnd::Left, 1)?, None); // emptied, so deleted
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn list_pop(
        &self,
        db: usize,
        key: &[u8],
        end: ListEnd,
        count: usize,
    ) -> Result<Option<Vec<Bytes>>> {
        self.write_list(
            db,
            key,
            false,
            |list| {
                let out = pop_many(list, end, count);
                let event = (!out.is_empty()).then(|| pop_event(end));
                Ok((Some(out), event))
            },
            || Ok(None),
        )
    }

    /// LPOP: the head element, `None` if the key is missing.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.rpush(0, b"l", &[b"a", b"b"])?;
    /// assert_eq!(store.lpop(0, b"l")?.as_deref(), Some(&b"a"[..]));
    /// assert_eq!(store.lpop(0, b"missing")?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn lpop(&self, db: usize, key: &[u8]) -> Result<Option<Bytes>> {
        Ok(self
            .list_pop(db, key, ListEnd::Left, 1)?
            .and_then(|v| v.into_iter().next()))
    }

    /// RPOP: the tail element, `None` if the key is missing.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.rpush(0, b"l", &[b"a", b"b"])?;
    /// assert_eq!(store.rpop(0, b"l")?.as_deref(), Some(&b"b"[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn rpop(&self, db: usize, key: &[u8]) -> Result<Option<Bytes>> {
        Ok(self
            .list_pop(db, key, ListEnd::Right, 1)?
            .and_then(|v| v.into_iter().next()))
    }

    /// LLEN: 0 for a missing key.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.rpush(0, b"l", &[b"a", b"b"])?;
    /// assert_eq!(store.llen(0, b"l")?, 2);
    /// assert_eq!(store.llen(0, b"missing")?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn llen(&self, db: usize, key: &[u8]) -> Result<usize> {
        self.read_list(db, key, |l| l.map_or(0, ListObj::len))
    }

    /// LRANGE: the elements from `start` to `stop`, both included; negative indexes count
    /// from the end (-1 is the last), and out-of-range ends are clamped.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.rpush(0, b"l", &[b"a", b"b", b"c", b"d"])?;
    /// assert_eq!(store.lrange(0, b"l", 1, 2)?, [&b"b"[..], b"c"]);
    /// assert_eq!(store.lrange(0, b"l", -2, 100)?, [&b"c"[..], b"d"]);
    /// assert!(store.lrange(0, b"l", 3, 1)?.is_empty());
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn lrange(&self, db: usize, key: &[u8], start: i64, stop: i64) -> Result<Vec<Bytes>> {
        self.read_list(db, key, |l| {
            l.and_then(|l| span(l.len(), start, stop).map(|(s, e)| l.range(s, e)))
                .unwrap_or_default()
        })
    }

    /// LRANGE without copying: `f` gets the range as a [`ListRange`] (empty for a missing
    /// key) under the shard's read lock, so it should be quick, e.g. write the elements
    /// into an output buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.rpush(0, b"l", &[b"a", b"10", b"c"])?;
    /// let mut out = Vec::new();
    /// store.lrange_with(0, b"l", 0, 1, |range| {
    ///     out.push(range.len().to_string().into_bytes());
    ///     range.for_each(|e| out.push(e.to_vec()));
    /// })?;
    /// assert_eq!(out, [&b"2"[..], b"a", b"10"]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn lrange_with<R>(
        &self,
        db: usize,
        key: &[u8],
        start: i64,
        stop: i64,
        f: impl FnOnce(ListRange<'_>) -> R,
    ) -> Result<R> {
        self.read_list(db, key, |l| {
            let (start, end) = l.and_then(|l| span(l.len(), start, stop)).unwrap_or((0, 0));
            f(ListRange {
                list: l,
                start,
                end,
            })
        })
    }

    /// LINDEX: the element at `index` (negative from the end), `None` if out of range or
    /// the key is missing.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.rpush(0, b"l", &[b"a", b"b", b"c"])?;
    /// assert_eq!(store.lindex(0, b"l", 0)?.as_deref(), Some(&b"a"[..]));
    /// assert_eq!(store.lindex(0, b"l", -1)?.as_deref(), Some(&b"c"[..]));
    /// assert_eq!(store.lindex(0, b"l", 3)?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn lindex(&self, db: usize, key: &[u8], index: i64) -> Result<Option<Bytes>> {
        self.read_list(db, key, |l| {
            l.and_then(|l| position(l.len(), index).and_then(|i| l.get(i)))
        })
    }

    /// LSET: replaces the element at `index` (negative from the end).
    ///
    /// # Errors
    ///
    /// [`StoreError::NoSuchKey`] for a missing key, [`StoreError::IndexOutOfRange`] for an
    /// index past either end, [`StoreError::WrongType`] for another type.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Store, StoreError};
    /// let store = Store::new();
    /// store.rpush(0, b"l", &[b"a", b"b"])?;
    /// store.lset(0, b"l", -1, b"z")?;
    /// assert_eq!(store.lrange(0, b"l", 0, -1)?, [&b"a"[..], b"z"]);
    /// assert_eq!(store.lset(0, b"l", 2, b"x"), Err(StoreError::IndexOutOfRange));
    /// assert_eq!(store.lset(0, b"missing", 0, b"x"), Err(StoreError::NoSuchKey));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn lset(&self, db: usize, key: &[u8], index: i64, element: &[u8]) -> Result<()> {
        check_len(element)?;
        self.check_memory()?;
        self.write_list(
            db,
            key,
            false,
            |list| {
                let i = position(list.len(), index).ok_or(StoreError::IndexOutOfRange)?;
                list.set(i, element);
                Ok(((), Some(Event::LSet)))
            },
            || Err(StoreError::NoSuchKey),
        )
    }

    /// LINSERT: inserts `element` before (or after) the first element equal to `pivot`.
    /// Returns the new length, -1 when `pivot` is not in the list, 0 for a missing key.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.rpush(0, b"l", &[b"a", b"c"])?;
    /// assert_eq!(store.linsert(0, b"l", true, b"c", b"b")?, 3);
    /// assert_eq!(store.linsert(0, b"l", false, b"c", b"d")?, 4);
    /// assert_eq!(store.linsert(0, b"l", true, b"nope", b"x")?, -1);
    /// assert_eq!(store.linsert(0, b"missing", true, b"a", b"x")?, 0);
    /// assert_eq!(store.lrange(0, b"l", 0, -1)?, [&b"a"[..], b"b", b"c", b"d"]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn linsert(
        &self,
        db: usize,
        key: &[u8],
        before: bool,
        pivot: &[u8],
        element: &[u8],
    ) -> Result<i64> {
        check_len(element)?;
        self.check_memory()?;
        self.write_list(
            db,
            key,
            false,
            |list| {
                let mut at = None;
                list.scan_matches(pivot, false, |i, matched| {
                    if matched {
                        at = Some(i);
                    }
                    !matched
                });
                Ok(match at {
                    None => (-1, None),
                    Some(i) => {
                        list.insert(if before { i } else { i + 1 }, element);
                        (list.len() as i64, Some(Event::LInsert))
                    }
                })
            },
            || Ok(0),
        )
    }

    /// LREM: removes elements equal to `element`: the first `count` from the head when
    /// `count > 0`, the last `-count` from the tail when negative, all of them when 0.
    /// Returns how many were removed; an emptied list is deleted.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.rpush(0, b"l", &[b"x", b"a", b"x", b"b", b"x"])?;
    /// assert_eq!(store.lrem(0, b"l", -1, b"x")?, 1);
    /// assert_eq!(store.lrange(0, b"l", 0, -1)?, [&b"x"[..], b"a", b"x", b"b"]);
    /// assert_eq!(store.lrem(0, b"l", 0, b"x")?, 2);
    /// assert_eq!(store.lrange(0, b"l", 0, -1)?, [&b"a"[..], b"b"]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn lrem(&self, db: usize, key: &[u8], count: i64, element: &[u8]) -> Result<usize> {
        let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
        self.write_list(
            db,
            key,
            false,
            |list| {
                let n = list.remove_matches(element, limit, count < 0);
                Ok((n, (n > 0).then_some(Event::LRem)))
            },
            || Ok(0),
        )
    }

    /// LTRIM: keeps only the elements from `start` to `stop` (LRANGE's index rules). A
    /// list left empty is deleted.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.rpush(0, b"l", &[b"a", b"b", b"c", b"d"])?;
    /// store.ltrim(0, b"l", 1, -2)?;
    /// assert_eq!(store.lrange(0, b"l", 0, -1)?, [&b"b"[..], b"c"]);
    /// store.ltrim(0, b"l", 5, 10)?;
    /// assert_eq!(store.exists(0, &[b"l"])?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn ltrim(&self, db: usize, key: &[u8], start: i64, stop: i64) -> Result<()> {
        self.write_list(
            db,
            key,
            false,
            |list| {
                let (s, e) = span(list.len(), start, stop).unwrap_or((0, 0));
                list.trim(s, e);
                // Redis reports LTRIM whether or not it removed anything.
                Ok(((), Some(Event::LTrim)))
            },
            || Ok(()),
        )
    }

    /// LPOS: the positions (from the head, 0-based) of elements equal to `element`, in
    /// the order found.
    ///
    /// `rank` picks the first match to report: 1 the first from the head, 2 the second,
    /// -1 the first from the tail, and so on (0 and `i64::MIN` are the caller's to
    /// reject; here 0 reads as 1). At most `count` positions are returned (0: all), and
    /// at most `maxlen` elements are compared (0: all).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.rpush(0, b"l", &[b"a", b"b", b"c", b"1", b"2", b"3", b"c", b"c"])?;
    /// assert_eq!(store.lpos(0, b"l", b"c", 1, 1, 0)?, [2]);
    /// assert_eq!(store.lpos(0, b"l", b"c", 2, 0, 0)?, [6, 7]);
    /// assert_eq!(store.lpos(0, b"l", b"c", -1, 2, 0)?, [7, 6]);
    /// assert_eq!(store.lpos(0, b"l", b"c", 1, 0, 3)?, [2]);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn lpos(
        &self,
        db: usize,
        key: &[u8],
        element: &[u8],
        rank: i64,
        count: usize,
        maxlen: usize,
    ) -> Result<Vec<usize>> {
        let from_tail = rank < 0;
        let mut skip = rank.unsigned_abs().saturating_sub(1);
        self.read_list(db, key, |l| {
            let mut out = Vec::new();
            let Some(l) = l else { return out };
            let mut compared = 0usize;
            l.scan_matches(element, from_tail, |i, matched| {
                if maxlen != 0 && compared == maxlen {
                    return false;
                }
                compared += 1;
                if matched {
                    if skip > 0 {
                        skip -= 1;
                    } else {
                        out.push(i);
                    }
                }
                count == 0 || out.len() < count
            });
            out
        })
    }

    /// LMOVE (and RPOPLPUSH, which is `Right` to `Left`): pops an element from `src` at
    /// `from` and pushes it onto `dst` at `to`, atomically; `None` when `src` is missing.
    /// `src == dst` rotates the list.
    ///
    /// Events, as Redis reports them: the push on `dst` (after [`Event::New`] if created),
    /// then the pop on `src`, then [`Event::Del`] if `src` was emptied.
    ///
    /// # Errors
    ///
    /// [`StoreError::WrongType`] when `src` is not a list, or exists and `dst` is not a
    /// list; nothing moves then.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ListEnd, Store};
    /// let store = Store::new();
    /// store.rpush(0, b"src", &[b"a", b"b", b"c"])?;
    /// let moved = store.lmove(0, b"src", b"dst", ListEnd::Right, ListEnd::Left)?;
    /// assert_eq!(moved.as_deref(), Some(&b"c"[..]));
    /// assert_eq!(store.lrange(0, b"dst", 0, -1)?, [&b"c"[..]]);
    /// store.lmove(0, b"src", b"src", ListEnd::Left, ListEnd::Right)?; // rotate
    /// assert_eq!(store.lrange(0, b"src", 0, -1)?, [&b"b"[..], b"a"]);
    /// assert_eq!(store.lmove(0, b"missing", b"dst", ListEnd::Left, ListEnd::Left)?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn lmove(
        &self,
        db: usize,
        src: &[u8],
        dst: &[u8],
        from: ListEnd,
        to: ListEnd,
    ) -> Result<Option<Bytes>> {
        self.check_memory()?;
        let keys = [src, dst];
        self.write_keys(db, &keys, |w| {
            match w.get(0, src) {
                None => return Ok(None),
                Some(e) => list_of(e)?,
            };
            let dst_exists = match w.get(1, dst) {
                None => false,
                Some(e) => list_of(e).map(|_| true)?,
            };
            let popped = w.update(0, src, |e| {
                e.as_list_mut()
                    .and_then(|l| l.pop(from).map(|v| (v, l.is_empty())))
            });
            let Some(Some((value, emptied))) = popped else {
                return Ok(None);
            };
            if dst_exists || src == dst {
                w.update(1, dst, |e| {
                    if let Some(l) = e.as_list_mut() {
                        l.push(to, &value);
                    }
                });
            } else {
                let mut list = self.new_list_obj();
                list.push(to, &value);
                w.put(1, dst, Entry::new_list(dst, list));
            }
            w.emit(dst, push_event(to));
            w.emit(src, pop_event(from));
            // Rotating an emptied list pushed its element back.
            if emptied && src != dst {
                w.remove(0, src);
            }
            Ok(Some(value))
        })?
    }

    /// LMPOP: pops up to `count` elements from `end` of the first of `keys` that holds a
    /// list, returning that key and the elements; `None` when no key does.
    ///
    /// # Errors
    ///
    /// [`StoreError::WrongType`] when a key of another type comes before the first list,
    /// as Redis checks the keys in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ListEnd, Store};
    /// let store = Store::new();
    /// store.rpush(0, b"b", &[b"1", b"2", b"3"])?;
    /// let (key, popped) = store.lmpop(0, &[b"a", b"b"], ListEnd::Left, 2)?.unwrap();
    /// assert_eq!((&key[..], popped), (&b"b"[..], vec![b"1"[..].into(), b"2"[..].into()]));
    /// assert_eq!(store.lmpop(0, &[b"a", b"c"], ListEnd::Left, 1)?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn lmpop(
        &self,
        db: usize,
        keys: &[&[u8]],
        end: ListEnd,
        count: usize,
    ) -> Result<Option<(Bytes, Vec<Bytes>)>> {
        self.pop_first(
            db,
            keys,
            pop_event(end),
            |e| e.as_list().map(ListObj::len),
            |e| {
                e.as_list_mut()
                    .map(|l| (pop_many(l, end, count), l.is_empty()))
                    .unwrap_or_default()
            },
        )
    }

    /// Sets `list-max-listpack-size` for lists created from now on: -1 to -5 limit each
    /// node to 4, 8, 16, 32 or 64 KB; a positive `n` to `n` elements (at most 32767, and
    /// nodes still stay under 8 KB unless they hold a single element). Values below -5
    /// act as -5, as in Redis, which stores any 32-bit value.
    ///
    /// # Errors
    ///
    /// [`StoreError::ValueOutOfBounds`] outside the 32-bit range.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.list_max_listpack_size(), -2);
    /// store.set_list_max_listpack_size(128)?;
    /// assert_eq!(store.list_max_listpack_size(), 128);
    /// assert!(store.set_list_max_listpack_size(1 << 40).is_err());
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn set_list_max_listpack_size(&self, n: i64) -> Result<()> {
        if i32::try_from(n).is_err() {
            return Err(StoreError::ValueOutOfBounds {
                min: i64::from(i32::MIN),
                max: i64::from(i32::MAX),
            });
        }
        self.inner.list_fill.store(n, Ordering::Relaxed);
        Ok(())
    }

    /// `list-max-listpack-size` as set (default -2: 8 KB nodes).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.list_max_listpack_size(), redistill_store::DEFAULT_LIST_MAX_LISTPACK_SIZE);
    /// store.set_list_max_listpack_size(-100)?; // stored as given, used as -5
    /// assert_eq!(store.list_max_listpack_size(), -100);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn list_max_listpack_size(&self) -> i64 {
        self.inner.list_fill.load(Ordering::Relaxed)
    }

    /// Sets `list-compress-depth` for lists created from now on: how many nodes at each
    /// end stay uncompressed (0, the default: none is compressed).
    ///
    /// # Errors
    ///
    /// [`StoreError::ValueOutOfBounds`] outside `0..=i32::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.list_compress_depth(), 0);
    /// store.set_list_compress_depth(1)?;
    /// assert_eq!(store.list_compress_depth(), 1);
    /// assert!(store.set_list_compress_depth(-1).is_err());
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn set_list_compress_depth(&self, depth: i64) -> Result<()> {
        if !(0..=i64::from(i32::MAX)).contains(&depth) {
            return Err(StoreError::ValueOutOfBounds {
                min: 0,
                max: i64::from(i32::MAX),
            });
        }
        self.inner.list_compress.store(depth, Ordering::Relaxed);
        Ok(())
    }

    /// `list-compress-depth` as set (default 0).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.list_compress_depth(), redistill_store::DEFAULT_LIST_COMPRESS_DEPTH);
    /// store.set_list_compress_depth(i64::from(i32::MAX))?;
    /// assert_eq!(store.list_compress_depth(), i64::from(i32::MAX));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn list_compress_depth(&self) -> i64 {
        self.inner.list_compress.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::{position, span};

    #[test]
    fn spans_follow_redis_index_rules() {
        assert_eq!(span(5, 0, -1), Some((0, 5)));
        assert_eq!(span(5, -100, 100), Some((0, 5)));
        assert_eq!(span(5, 2, 2), Some((2, 3)));
        assert_eq!(span(5, 3, 2), None);
        assert_eq!(span(5, 5, 10), None);
        assert_eq!(span(5, -1, -1), Some((4, 5)));
        assert_eq!(span(5, -6, -6), None);
        assert_eq!(span(0, 0, -1), None);
        assert_eq!(span(5, i64::MIN, i64::MAX), Some((0, 5)));
        assert_eq!(span(5, i64::MAX, i64::MIN), None);
    }

    #[test]
    fn positions_follow_redis_index_rules() {
        assert_eq!(position(3, 0), Some(0));
        assert_eq!(position(3, -1), Some(2));
        assert_eq!(position(3, -3), Some(0));
        assert_eq!(position(3, -4), None);
        assert_eq!(position(3, 3), None);
        assert_eq!(position(0, 0), None);
        assert_eq!(position(3, i64::MIN), None);
        assert_eq!(position(3, i64::MAX), None);
    }
}
