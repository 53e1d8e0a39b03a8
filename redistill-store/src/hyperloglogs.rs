//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE and PFDEBUG, over strings in Redis
//! 7.0's exact format (see the `hyperloglog` module).

use std::sync::atomic::Ordering;

use crate::changes::Event;
use crate::entry::{Entry, ObjValue, StrRef};
use crate::error::{Result, StoreError};
use crate::hyperloglog::{self as hll, Corrupt, REGISTERS};
use crate::store::Store;

impl From<Corrupt> for StoreError {
    fn from(_: Corrupt) -> Self {
        StoreError::CorruptHyperLogLog
    }
}

/// The HyperLogLog an entry holds: WRONGTYPE for another type, [`StoreError::NotHyperLogLog`]
/// for a string without a valid header.
fn hll_of(e: &Entry) -> Result<&[u8]> {
    match e.str_value() {
        None => Err(StoreError::WrongType),
        Some(StrRef::Raw(v)) if hll::is_hll(v) => Ok(v),
        Some(_) => Err(StoreError::NotHyperLogLog),
    }
}

/// The entry's string buffer, to edit a HyperLogLog checked by [`hll_of`] in place (the
/// string is "raw" from then on, as Redis unshares it).
fn hll_buf(e: &mut Entry) -> Result<&mut Vec<u8>> {
    e.str_buf_mut().ok_or(StoreError::WrongType)
}

/// A PFDEBUG subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PfDebug {
    /// `GETREG`: every register, turning a sparse HyperLogLog dense first.
    GetReg,
    /// `DECODE`: the sparse opcodes as text.
    Decode,
    /// `ENCODING`: `dense` or `sparse`.
    Encoding,
    /// `TODENSE`: turn a sparse HyperLogLog dense.
    ToDense,
}

/// What a PFDEBUG subcommand found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PfDebugReply {
    /// GETREG's 16384 registers.
    Registers(Vec<u8>),
    /// DECODE's text, `None` when the HyperLogLog is dense.
    Decoded(Option<String>),
    /// ENCODING's name.
    Encoding(&'static str),
    /// TODENSE: whether it converted.
    Converted(bool),
}

impl Store {
    /// Sets `hll-sparse-max-bytes`: the longest a sparse HyperLogLog may grow before it
    /// turns dense (default 3000).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.hll_sparse_max_bytes(), 3000);
    /// store.set_hll_sparse_max_bytes(100);
    /// store.pfadd(0, b"h", &[b"a", b"b"])?;
    /// assert_eq!(store.hll_sparse_max_bytes(), 100);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn set_hll_sparse_max_bytes(&self, n: usize) {
        self.inner.hll_sparse_max_bytes.store(n, Ordering::Relaxed);
    }

    /// `hll-sparse-max-bytes` as set.
    pub fn hll_sparse_max_bytes(&self) -> usize {
        self.inner.hll_sparse_max_bytes.load(Ordering::Relaxed)
    }

    /// PFADD: adds `elements` to the HyperLogLog at `key`, creating it (even with no
    /// elements); true when a register changed or the key was created.
    ///
    /// The value is a string in Redis's format: GET returns its bytes, and bytes SET from
    /// Redis's GET count here the same. A string that is not a HyperLogLog fails with
    /// [`StoreError::NotHyperLogLog`], one whose registers do not decode with
    /// [`StoreError::CorruptHyperLogLog`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert!(store.pfadd(0, b"h", &[b"a", b"b", b"c"])?);
    /// assert!(!store.pfadd(0, b"h", &[b"a"])?);
    /// assert_eq!(store.pfcount(0, &[b"h"])?, 3);
    /// assert!(store.get(0, b"h")?.unwrap().starts_with(b"HYLL"));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn pfadd(&self, db: usize, key: &[u8], elements: &[&[u8]]) -> Result<bool> {
        self.check_db(db)?;
        self.check_memory()?;
        let sparse_max = self.hll_sparse_max_bytes();
        self.with_write(db, key, |ctx| {
            let (i, created) = match ctx.live(key) {
                Some(i) => {
                    hll_of(ctx.entry(i))?;
                    (i, false)
                }
                None => {
                    let e = Entry::new_obj(key, None, ObjValue::Str(hll::new_sparse()));
                    let i = ctx.insert(e);
                    ctx.emit(key, Event::New);
                    (i, true)
                }
            };
            let updated = ctx.update(i, |e| -> Result<bool> {
                let v = hll_buf(e)?;
                let mut updated = created;
                for element in elements {
                    updated |= hll::add(v, element, sparse_max)?;
                }
                if updated {
                    hll::invalidate(v);
                }
                Ok(updated)
            })?;
            if updated {
                ctx.emit(key, Event::PfAdd);
            }
            Ok(updated)
        })
    }

    /// PFCOUNT: the estimated number of distinct elements added to the HyperLogLogs at
    /// `keys` (their union for several; missing keys count as empty).
    ///
    /// With one key, as in Redis, a stale cached cardinality is recomputed and stored in
    /// the value (reported as [`Event::Modified`]); several keys are merged into a
    /// temporary and nothing is written.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.pfadd(0, b"a", &[b"x", b"y"])?;
    /// store.pfadd(0, b"b", &[b"y", b"z"])?;
    /// assert_eq!(store.pfcount(0, &[b"a"])?, 2);
    /// assert_eq!(store.pfcount(0, &[b"a", b"b", b"missing"])?, 3);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn pfcount(&self, db: usize, keys: &[&[u8]]) -> Result<u64> {
        if let [key] = keys {
            return self.pfcount_one(db, key);
        }
        let mut max = Box::new([0u8; REGISTERS]);
        self.read_entries(db, keys, |entries| -> Result<u64> {
            for e in entries.iter().flatten() {
                hll::merge_into(&mut max, hll_of(e)?)?;
            }
            Ok(hll::count_registers(&max))
        })?
    }

    /// PFCOUNT of one key: the cached cardinality, read under the shard's read lock, or
    /// recomputed and stored when stale (the lookup counts once either way; between the
    /// two reads the key may go, and then counts as missing).
    fn pfcount_one(&self, db: usize, key: &[u8]) -> Result<u64> {
        // As Redis unshares the string first, an embstr-encoded one takes the write path,
        // which makes it raw.
        let cached = self.read(db, key, |e| match e {
            None => Ok(Some(0)),
            Some(e) if e.encoding() == "raw" => hll_of(e).map(hll::cached_count),
            Some(_) => Ok(None),
        })??;
        if let Some(card) = cached {
            return Ok(card);
        }
        self.with_write(db, key, |ctx| {
            let Some(i) = ctx.live(key) else {
                return Ok(0);
            };
            hll_of(ctx.entry(i))?;
            let (card, computed) = ctx.update(i, |e| -> Result<(u64, bool)> {
                let v = hll_buf(e)?;
                if let Some(card) = hll::cached_count(v) {
                    return Ok((card, false));
                }
                let card = hll::count(v)?;
                hll::set_cached_count(v, card);
                Ok((card, true))
            })?;
            if computed {
                ctx.emit(key, Event::Modified);
            }
            Ok(card)
        })
    }

    /// PFMERGE: makes `dest` the union of itself and the HyperLogLogs at `sources`
    /// (missing keys count as empty), creating it if needed. As in Redis 7.0, the result
    /// is dense when any input is, else it stays sparse while it fits.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.pfadd(0, b"a", &[b"x", b"y"])?;
    /// store.pfadd(0, b"b", &[b"y", b"z"])?;
    /// store.pfmerge(0, b"u", &[b"a", b"b"])?;
    /// assert_eq!(store.pfcount(0, &[b"u"])?, 3);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn pfmerge(&self, db: usize, dest: &[u8], sources: &[&[u8]]) -> Result<()> {
        self.check_db(db)?;
        self.check_memory()?;
        let sparse_max = self.hll_sparse_max_bytes();
        let keys: Vec<&[u8]> = std::iter::once(dest)
            .chain(sources.iter().copied())
            .collect();
        self.write_keys(db, &keys, |w| {
            let mut max = Box::new([0u8; REGISTERS]);
            let mut dense = false;
            for (i, key) in keys.iter().enumerate() {
                let Some(e) = w.get_reading(i, key) else {
                    continue;
                };
                let v = hll_of(e)?;
                dense |= hll::is_dense(v);
                hll::merge_into(&mut max, v)?;
            }
            if w.get(0, dest).is_none() {
                let e = Entry::new_obj(dest, None, ObjValue::Str(hll::new_sparse()));
                w.put(0, dest, e);
            }
            w.update(0, dest, |e| -> Result<()> {
                let v = hll_buf(e)?;
                Ok(hll::store_max(v, &max, dense, sparse_max)?)
            })
            .unwrap_or(Ok(()))?;
            w.emit(dest, Event::PfAdd);
            Ok(())
        })?
    }

    /// PFDEBUG: inspects (and for GETREG and TODENSE, may turn dense) the HyperLogLog at
    /// `key`; `None` when the key does not exist.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{PfDebug, PfDebugReply};
    /// # let store = redistill_store::Store::new();
    /// store.pfadd(0, b"h", &[b"a"])?;
    /// assert_eq!(store.pfdebug(0, b"h", PfDebug::Encoding)?, Some(PfDebugReply::Encoding("sparse")));
    /// assert_eq!(store.pfdebug(0, b"h", PfDebug::ToDense)?, Some(PfDebugReply::Converted(true)));
    /// assert_eq!(store.pfdebug(0, b"h", PfDebug::Decode)?, Some(PfDebugReply::Decoded(None)));
    /// assert_eq!(store.pfdebug(0, b"missing", PfDebug::Encoding)?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn pfdebug(&self, db: usize, key: &[u8], op: PfDebug) -> Result<Option<PfDebugReply>> {
        self.check_db(db)?;
        self.with_write(db, key, |ctx| {
            let Some(i) = ctx.live(key) else {
                return Ok(None);
            };
            hll_of(ctx.entry(i))?;
            ctx.update(i, |e| -> Result<Option<PfDebugReply>> {
                let v = hll_buf(e)?;
                Ok(Some(match op {
                    PfDebug::GetReg => {
                        hll::to_dense(v)?;
                        PfDebugReply::Registers(hll::dense_registers(v))
                    }
                    PfDebug::Decode => {
                        PfDebugReply::Decoded((!hll::is_dense(v)).then(|| hll::decode_sparse(v)))
                    }
                    PfDebug::Encoding => {
                        PfDebugReply::Encoding(if hll::is_dense(v) { "dense" } else { "sparse" })
                    }
                    PfDebug::ToDense => PfDebugReply::Converted(hll::to_dense(v)?),
                }))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SetOptions;

    #[test]
    fn pfadd_creates_an_empty_hll_and_counts_once() -> Result<()> {
        let store = Store::new();
        assert!(store.pfadd(0, b"h", &[])?);
        assert!(!store.pfadd(0, b"h", &[])?);
        let v = store.get(0, b"h")?.unwrap();
        assert_eq!(&v[..], b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff");
        assert_eq!(store.pfcount(0, &[b"h"])?, 0);
        // The count is cached in the value.
        let v = store.get(0, b"h")?.unwrap();
        assert_eq!(v[15], 0);
        assert_eq!(store.object_encoding(0, b"h")?, Some("raw"));
        Ok(())
    }

    #[test]
    fn errors_follow_redis() -> Result<()> {
        let store = Store::new();
        store.set(0, b"s", b"not an hll at all", SetOptions::default())?;
        assert_eq!(
            store.pfadd(0, b"s", &[b"x"]),
            Err(StoreError::NotHyperLogLog)
        );
        assert_eq!(store.pfcount(0, &[b"s"]), Err(StoreError::NotHyperLogLog));
        assert_eq!(
            store.pfmerge(0, b"d", &[b"s"]),
            Err(StoreError::NotHyperLogLog)
        );
        store.lpush(0, b"l", &[b"x"])?;
        assert_eq!(store.pfadd(0, b"l", &[b"x"]), Err(StoreError::WrongType));
        let mut corrupt = hll::new_sparse();
        corrupt.push(0x80);
        // A current cached count is answered without looking at the registers.
        store.set(0, b"c", &corrupt, SetOptions::default())?;
        assert_eq!(store.pfcount(0, &[b"c"]), Ok(0));
        hll::invalidate(&mut corrupt);
        store.set(0, b"c", &corrupt, SetOptions::default())?;
        assert_eq!(
            store.pfcount(0, &[b"c"]),
            Err(StoreError::CorruptHyperLogLog)
        );
        assert_eq!(
            store.pfcount(0, &[b"c", b"x"]),
            Err(StoreError::CorruptHyperLogLog)
        );
        assert_eq!(
            store.pfmerge(0, b"d", &[b"c"]),
            Err(StoreError::CorruptHyperLogLog)
        );
        assert_eq!(store.exists(0, &[b"d"])?, 0);
        Ok(())
    }

    #[test]
    fn pfmerge_keeps_sparse_unless_an_input_is_dense() -> Result<()> {
        let store = Store::new();
        store.pfadd(0, b"a", &[b"1", b"2"])?;
        store.pfadd(0, b"b", &[b"3"])?;
        store.pfmerge(0, b"u", &[b"a", b"b"])?;
        let enc = |k: &[u8]| store.pfdebug(0, k, PfDebug::Encoding);
        assert_eq!(enc(b"u")?, Some(PfDebugReply::Encoding("sparse")));
        assert_eq!(store.pfcount(0, &[b"u"])?, 3);
        store.pfdebug(0, b"b", PfDebug::ToDense)?;
        store.pfmerge(0, b"u2", &[b"a", b"b"])?;
        assert_eq!(enc(b"u2")?, Some(PfDebugReply::Encoding("dense")));
        assert_eq!(store.pfcount(0, &[b"u2"])?, 3);
        Ok(())
    }
}
