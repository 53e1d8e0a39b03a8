//! SCAN over a database: a cursor that spans shards and survives resizing.
//!
//! A key's (rotated) hash picks its shard with its low bits and its table position with its
//! top bits. The cursor is a hash threshold: its low bits name the shard being walked, and
//! within that shard every key with a smaller hash has been visited (see [`crate::table`] for
//! why this holds however the table grows or shrinks between calls). Shards are walked in
//! order and a key never changes shard, so every key present for the whole iteration is
//! returned at least once; keys are returned twice only if a call stops inside a bucket
//! that is revisited, which the threshold filter prevents. A finished walk returns cursor 0.

use bytes::Bytes;

use crate::entry::ValueType;
use crate::error::Result;
use crate::glob::glob_match;
use crate::store::Store;
use crate::table::Slot;

/// Filters for [`Store::scan`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanOptions<'a> {
    /// `MATCH pattern`.
    pub pattern: Option<&'a [u8]>,
    /// `COUNT n`: work hint, default 10.
    pub count: Option<usize>,
    /// `TYPE t`.
    pub value_type: Option<ValueType>,
}

impl Store {
    /// SCAN: the next cursor (0 when the walk is complete) and a batch of keys.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{ScanOptions, Store};
    /// let store = Store::new();
    /// for i in 0..100 {
    ///     store.set(0, format!("k{i}").as_bytes(), b"v", Default::default())?;
    /// }
    /// let mut cursor = 0;
    /// let mut seen = std::collections::HashSet::new();
    /// loop {
    ///     let (next, keys) = store.scan(0, cursor, ScanOptions::default())?;
    ///     seen.extend(keys);
    ///     cursor = next;
    ///     if cursor == 0 { break; }
    /// }
    /// assert_eq!(seen.len(), 100);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn scan(&self, db: usize, cursor: u64, opts: ScanOptions<'_>) -> Result<(u64, Vec<Bytes>)> {
        let d = self.db(db)?;
        let now = self.now_ms();
        let mask = (d.shards.len() - 1) as u64;
        let count = opts.count.unwrap_or(10).max(1);
        let mut t = cursor;
        let mut out = Vec::new();
        let mut idx = Vec::new();
        let mut steps = 0usize;
        loop {
            let shard_idx = (t & mask) as usize;
            let shard = &d.shards[shard_idx];
            let mut next = None;
            if shard.len.load(std::sync::atomic::Ordering::Relaxed) > 0 {
                let st = shard.state.read();
                next = Some(t);
                while let Some(at) = next {
                    idx.clear();
                    next = st.table.scan_step(at, &mut idx);
                    for &i in &idx {
                        let e = st.table.get(i);
                        if e.is_expired(now) {
                            continue;
                        }
                        if opts.value_type.is_some_and(|ty| ty != e.value_type()) {
                            continue;
                        }
                        let k = e.key();
                        if opts.pattern.is_none_or(|p| p == b"*" || glob_match(p, k)) {
                            out.push(Bytes::copy_from_slice(k));
                        }
                    }
                    steps += 1;
                    if out.len() >= count || steps >= count * 10 {
                        break;
                    }
                }
            }
            t = match next {
                Some(n) => n,
                // This shard is done: the next one starts at threshold 0 of its residue class.
                None if shard_idx + 1 < d.shards.len() => shard_idx as u64 + 1,
                None => return Ok((0, out)),
            };
            if out.len() >= count || steps >= count * 10 {
                return Ok((t, out));
            }
        }
    }
}
