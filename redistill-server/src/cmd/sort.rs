//! SORT and SORT_RO, on lists, sets and sorted sets.
//!
//! # Atomicity
//!
//! BY and GET read keys named after the elements being sorted, so the keys a SORT reads
//! are known only while it runs, and no lock taken up front can cover them. SORT therefore
//! runs alone, as EXEC does: its rows carry [`super::Flags::OWN_GATES`], the connection does
//! not take its worker's gate for it, and the handler takes every worker's gate for
//! writing (inside EXEC, which already holds them all, it runs as it is), so no other command
//! runs between its first read and its STORE. This is the simplest correct way: it reuses
//! the one exclusion the server already has and needs nothing from the store.
//!
//! A SORT that reads only its source and stores nothing holds just its worker's gate, as
//! any command does, so other workers go on while it sorts: reading the source's type and
//! then its elements sees one state of the key, or (when the key changed type in between)
//! fails and is read again alone.

use bytes::Bytes;
use redistill_store::{Event, ValueType, ZRangeBy, ZRangeSpec, partial_sort};

use super::args::{NOT_INTEGER, SYNTAX, is, parse_i64};
use super::c_float::sort_weight;
use super::table::{BeginSearch, FindKeys, KeyFlags, KeyRef, KeySpec, acl, flags, key_flags};
use super::{Command, CommandResult, Ctx};

const BY_GET_NOTES: &str = "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort";
const STORE_NOTES: &str = "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array";

const fn unknown_keys(flags: KeyFlags, notes: &'static str) -> KeySpec {
    KeySpec::new(flags, BeginSearch::Unknown, FindKeys::Unknown).notes(notes)
}

pub(super) static COMMANDS: &[Command] = &[
    Command::new("sort", -2, sort)
        .flags(flags!(WRITE | DENYOOM | OWN_GATES))
        .acl(acl!(SET | SORTEDSET | LIST | DANGEROUS))
        .keys(&[
            KeySpec::at(1, key_flags!(RO | ACCESS)),
            unknown_keys(key_flags!(RO | ACCESS), BY_GET_NOTES),
            unknown_keys(key_flags!(OW | UPDATE), STORE_NOTES),
        ])
        .keys_fn(sort_keys),
    Command::new("sort_ro", -2, sort_ro)
        .flags(flags!(READONLY | OWN_GATES))
        .acl(acl!(SET | SORTEDSET | LIST | DANGEROUS))
        .keys(&[
            KeySpec::at(1, key_flags!(RO | ACCESS)),
            unknown_keys(key_flags!(RO | ACCESS), BY_GET_NOTES),
        ]),
];

/// SORT's keys as Redis's `sortGetKeys` finds them: the sorted key, and the last STORE
/// destination (LIMIT skips two arguments, BY and GET one).
fn sort_keys(args: &[&[u8]]) -> Vec<KeyRef> {
    let mut keys = vec![KeyRef {
        index: 1,
        flags: key_flags!(RO | ACCESS),
    }];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        if is(args[i], "limit") {
            i += 2;
        } else if is(args[i], "store") && i + 1 < args.len() {
            store = Some(i + 1);
        } else if is(args[i], "get") || is(args[i], "by") {
            i += 1;
        }
        i += 1;
    }
    keys.extend(store.map(|index| KeyRef {
        index,
        flags: key_flags!(OW | UPDATE),
    }));
    keys
}

fn sort(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    sort_generic(ctx, args, false)
}

fn sort_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    sort_generic(ctx, args, true)
}

/// SORT's options.
#[allow(clippy::struct_excessive_bools)]
struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit: (i64, i64),
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    /// BY without `*`: nothing to sort by.
    dont_sort: bool,
    gets: Vec<&'a [u8]>,
}

impl Options<'_> {
    /// Whether the sort reads keys besides its source (a BY or GET pattern with `*`) or
    /// stores its result.
    fn runs_alone(&self) -> bool {
        let looks_up = |p: &[u8]| p != b"#" && p.contains(&b'*');
        self.store.is_some()
            || (!self.dont_sort && self.by.is_some_and(looks_up))
            || self.gets.iter().any(|g| looks_up(g))
    }
}

fn parse<'a>(args: &[&'a [u8]], readonly: bool) -> Result<Options<'a>, &'static str> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit: (0, -1),
        store: None,
        by: None,
        dont_sort: false,
        gets: Vec::new(),
    };
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let arg = args[j];
        if is(arg, "asc") {
            o.desc = false;
        } else if is(arg, "desc") {
            o.desc = true;
        } else if is(arg, "alpha") {
            o.alpha = true;
        } else if is(arg, "limit") && left >= 2 {
            let start = parse_i64(args[j + 1]).ok_or(NOT_INTEGER)?;
            let count = parse_i64(args[j + 2]).ok_or(NOT_INTEGER)?;
            o.limit = (start, count);
            j += 2;
        } else if !readonly && is(arg, "store") && left >= 1 {
            o.store = Some(args[j + 1]);
            j += 1;
        } else if is(arg, "by") && left >= 1 {
            o.by = Some(args[j + 1]);
            o.dont_sort = !args[j + 1].contains(&b'*');
            j += 1;
        } else if is(arg, "get") && left >= 1 {
            o.gets.push(args[j + 1]);
            j += 1;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// The elements being sorted, copied into one buffer (one allocation, not one each).
#[derive(Default)]
struct Elements {
    bytes: Vec<u8>,
    /// Where each element ends in `bytes`.
    ends: Vec<usize>,
}

impl Elements {
    fn push(&mut self, e: &[u8]) {
        self.bytes.extend_from_slice(e);
        self.ends.push(self.bytes.len());
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }
}

/// One element being sorted (its index in [`Elements`]), with what it sorts by.
struct Item {
    at: usize,
    /// Numeric sorting: the weight (0 when BY finds nothing).
    score: f64,
    /// ALPHA with BY: the value found, if any.
    by: Option<Bytes>,
}

/// The bytes C's string functions see: up to the first NUL.
fn c_str(s: &[u8]) -> &[u8] {
    s.split(|&b| b == 0).next().unwrap_or(s)
}

/// How SORT compares.
#[derive(Clone, Copy)]
struct Order {
    alpha: bool,
    by: bool,
    store: bool,
    desc: bool,
}

/// Redis's SORT comparison. ALPHA compares bytes: with STORE as `compareStringObjects`
/// does (all of them), else as `strcoll` does in the C locale (up to a NUL). DESC
/// reverses the comparison, not the ties.
fn compare(els: &Elements, a: &Item, b: &Item, o: Order) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let text = |x: &[u8], y: &[u8]| {
        if o.store {
            x.cmp(y)
        } else {
            c_str(x).cmp(c_str(y))
        }
    };
    let c = if !o.alpha {
        match a.score.partial_cmp(&b.score) {
            Some(Ordering::Equal) | None => els.get(a.at).cmp(els.get(b.at)),
            Some(c) => c,
        }
    } else if o.by {
        match (&a.by, &b.by) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => text(x, y),
        }
    } else {
        text(els.get(a.at), els.get(b.at))
    };
    if o.desc { c.reverse() } else { c }
}

/// What a BY or GET pattern finds for `element`: `#` is the element itself; the first
/// `*` is replaced by it, and a `->field` after the `*` reads that hash field. A pattern
/// without `*`, a missing key, or a key of another type finds nothing.
fn lookup(ctx: &Ctx<'_>, pattern: &[u8], element: &[u8]) -> Option<Bytes> {
    if pattern == b"#" {
        return Some(Bytes::copy_from_slice(element));
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&p| p + 2 < after.len());
    let (suffix, field) = match arrow {
        Some(p) => (&after[..p], Some(&after[p + 2..])),
        None => (after, None),
    };
    let mut key = Vec::with_capacity(pattern.len() + element.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(suffix);
    let store = &ctx.shared.store;
    let db = ctx.client.db;
    match field {
        Some(field) => store.hget(db, &key, field).ok().flatten(),
        None => store.get(db, &key).ok().flatten(),
    }
}

/// Loads the elements of the sorted key in its own order (none for a missing key).
fn load(ctx: &Ctx<'_>, key: &[u8]) -> Result<(Option<ValueType>, Elements), super::CommandError> {
    let store = &ctx.shared.store;
    let db = ctx.client.db;
    let kind = store.value_type(db, key)?;
    let mut els = Elements::default();
    match kind {
        None => {}
        Some(ValueType::List) => store.lrange_with(db, key, 0, -1, |range| {
            els.ends.reserve(range.len());
            range.for_each(|e| els.push(e));
        })?,
        Some(ValueType::Set) => store.smembers_with(db, key, |members| {
            els.ends.reserve(members.len());
            members.for_each(|e| els.push(e));
        })?,
        Some(ValueType::ZSet) => {
            let spec = ZRangeSpec {
                by: ZRangeBy::Rank { start: 0, stop: -1 },
                rev: false,
                limit: None,
            };
            store.zrange_with(db, key, &spec, |items| {
                els.ends.reserve(items.len());
                items.for_each(|m, _| els.push(m));
            })?;
        }
        Some(_) => return Err(redistill_store::StoreError::WrongType.into()),
    }
    Ok((kind, els))
}

/// SORT's LIMIT as Redis clamps it: the first and last index (`end < start`: nothing).
fn limits(len: usize, (offset, count): (i64, i64)) -> (i64, i64) {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let mut start = offset.max(0);
    let mut end = if count < 0 {
        len - 1
    } else {
        start.saturating_add(count) - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    (start, end)
}

/// STORE: `values` as the list `dst` (deleted when empty), answering its length.
fn store_sorted(ctx: &mut Ctx<'_>, dst: &[u8], values: &[&[u8]]) -> CommandResult {
    let n = ctx
        .shared
        .store
        .store_list(ctx.client.db, dst, values, Event::SortStore)?;
    ctx.reply().len(n);
    Ok(())
}

fn sort_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], readonly: bool) -> CommandResult {
    let mut o = parse(args, readonly)?;
    let shared = ctx.shared;
    // Alone from here on when it reads other keys or writes (see the module's doc); else
    // its one read is atomic by itself and it holds its worker's gate as any command.
    // EXEC already holds every gate.
    let alone = o.runs_alone();
    let in_exec = ctx.client.tx.in_exec;
    let mut _alone = (!in_exec && alone).then(|| shared.every_gate());
    let gate = (!in_exec && !alone).then(|| shared.gates[ctx.worker].read());
    let (kind, els) = match load(ctx, args[1]) {
        // The key changed type between the two reads `load` makes: read it again alone.
        Err(_) if gate.is_some() => {
            drop(gate);
            _alone = Some(shared.every_gate());
            load(ctx, args[1])?
        }
        loaded => loaded?,
    };
    // A set has no order of its own to keep: with STORE it is sorted as text.
    if o.dont_sort && kind == Some(ValueType::Set) && o.store.is_some() {
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }
    let (mut start, mut end) = limits(els.len(), o.limit);
    let mut order: Vec<usize> = (0..els.len()).collect();
    if o.dont_sort && matches!(kind, Some(ValueType::List | ValueType::ZSet)) {
        // The key's own order (reversed by DESC), cut to the limit.
        if o.desc {
            order.reverse();
        }
        let (s, e) = (start.max(0) as usize, (end + 1).max(0) as usize);
        order = if s < e {
            order.drain(s..e).collect()
        } else {
            Vec::new()
        };
        end -= start;
        start = 0;
    }
    let mut items: Vec<Item> = order
        .into_iter()
        .map(|at| Item {
            at,
            score: 0.0,
            by: None,
        })
        .collect();
    let mut not_double = false;
    if !o.dont_sort {
        for item in &mut items {
            let found;
            let value = match o.by {
                Some(pattern) => match lookup(ctx, pattern, els.get(item.at)) {
                    Some(v) => {
                        found = v;
                        &found[..]
                    }
                    None => continue,
                },
                None => els.get(item.at),
            };
            if o.alpha {
                if o.by.is_some() {
                    item.by = Some(Bytes::copy_from_slice(value));
                }
            } else {
                match sort_weight(value) {
                    Some(w) => item.score = w,
                    None => not_double = true,
                }
            }
        }
        let how = Order {
            alpha: o.alpha,
            by: o.by.is_some(),
            store: o.store.is_some(),
            desc: o.desc,
        };
        let mut cmp = |a: &Item, b: &Item| compare(&els, a, b, how);
        let whole = start == 0 && end == i64::try_from(items.len()).unwrap_or(i64::MAX) - 1;
        if how.by && !whole {
            // Redis's partial quicksort, for its order of ties.
            partial_sort(&mut items, start, end, &mut cmp);
        } else {
            // Stable, as glibc's merge sort.
            items.sort_by(cmp);
        }
    }
    if not_double {
        return Err("ERR One or more scores can't be converted into double".into());
    }
    let chosen: &[Item] = if end >= start && start >= 0 {
        let e = usize::try_from(end + 1).unwrap_or(0).min(items.len());
        &items[usize::try_from(start).unwrap_or(0).min(e)..e]
    } else {
        &[]
    };
    if o.gets.is_empty() {
        match o.store {
            Some(dst) => {
                let values: Vec<&[u8]> = chosen.iter().map(|i| els.get(i.at)).collect();
                store_sorted(ctx, dst, &values)?;
            }
            None => {
                let mut reply = ctx.reply();
                reply.array(chosen.len());
                for i in chosen {
                    reply.bulk(els.get(i.at));
                }
            }
        }
        return Ok(());
    }
    let out: Vec<Option<Bytes>> = chosen
        .iter()
        .flat_map(|i| o.gets.iter().map(|p| lookup(ctx, p, els.get(i.at))))
        .collect();
    match o.store {
        Some(dst) => {
            let values: Vec<&[u8]> = out.iter().map(|v| v.as_deref().unwrap_or(b"")).collect();
            store_sorted(ctx, dst, &values)?;
        }
        None => {
            let mut reply = ctx.reply();
            reply.array(out.len());
            for v in &out {
                reply.opt_bulk(v.as_deref());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_clamp_as_redis() {
        assert_eq!(limits(5, (0, -1)), (0, 4));
        assert_eq!(limits(5, (-3, 2)), (0, 1));
        assert_eq!(limits(5, (10, 2)), (4, 3));
        assert_eq!(limits(5, (3, 10)), (3, 4));
        assert_eq!(limits(5, (1, 0)), (1, 0));
        assert_eq!(limits(0, (0, -1)), (-1, -2));
    }

    #[test]
    fn keys_follow_sort_get_keys() {
        let args: Vec<&[u8]> = vec![
            b"sort", b"k", b"store", b"d", b"limit", b"0", b"1", b"STORE", b"e",
        ];
        let found: Vec<usize> = sort_keys(&args).iter().map(|k| k.index).collect();
        assert_eq!(found, [1, 8]);
    }
}
