//! String commands: GET/SET and friends, counters, ranges.

use bytes::Bytes;

use crate::changes::Event;
use crate::codec::format_i64;
use crate::entry::{Entry, StrRef};
use crate::error::{Result, StoreError};
use crate::float::{self, FloatError};
use crate::store::Store;

/// Largest string Redis accepts (`proto-max-bulk-len`, 512 MB).
pub const MAX_STRING_LEN: u64 = 512 * 1024 * 1024;

/// An expiry given to SET or GETEX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// `EX seconds`: relative, in seconds.
    Ex(i64),
    /// `PX milliseconds`: relative, in milliseconds.
    Px(i64),
    /// `EXAT unix-seconds`: absolute.
    ExAt(i64),
    /// `PXAT unix-milliseconds`: absolute.
    PxAt(i64),
}

impl Expiry {
    /// The absolute expiry in ms at time `now`, or [`StoreError::InvalidExpire`] for values
    /// Redis rejects (zero, negative, or overflowing).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Expiry, StoreError};
    /// assert_eq!(Expiry::Ex(10).resolve(1_000), Ok(11_000));
    /// assert_eq!(Expiry::PxAt(5).resolve(1_000), Ok(5));
    /// assert_eq!(Expiry::Px(0).resolve(1_000), Err(StoreError::InvalidExpire { value: 0 }));
    /// ```
    pub fn resolve(self, now: u64) -> Result<u64> {
        let (v, secs, relative) = match self {
            Expiry::Ex(v) => (v, true, true),
            Expiry::Px(v) => (v, false, true),
            Expiry::ExAt(v) => (v, true, false),
            Expiry::PxAt(v) => (v, false, false),
        };
        let err = StoreError::InvalidExpire { value: v };
        if v <= 0 || (secs && v > i64::MAX / 1000) {
            return Err(err);
        }
        let ms = if secs { v * 1000 } else { v };
        let abs = if relative {
            ms.checked_add(i64::try_from(now).map_err(|_| err.clone())?)
                .ok_or(err.clone())?
        } else {
            ms
        };
        u64::try_from(abs).map_err(|_| err)
    }
}

/// When SET may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SetCondition {
    /// Always (no NX/XX).
    #[default]
    Always,
    /// `NX`: only if the key does not exist.
    IfAbsent,
    /// `XX`: only if the key exists.
    IfPresent,
}

/// Options of SET, already parsed.
///
/// # Examples
///
/// ```
/// use redistill_store::{Expiry, SetCondition, SetOptions};
/// let opts = SetOptions { expiry: Some(Expiry::Ex(10)), condition: SetCondition::IfAbsent, ..Default::default() };
/// assert!(!opts.get);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetOptions {
    /// EX/PX/EXAT/PXAT.
    pub expiry: Option<Expiry>,
    /// NX/XX.
    pub condition: SetCondition,
    /// `GET`: return the old value.
    pub get: bool,
    /// `KEEPTTL`: keep the existing TTL.
    pub keep_ttl: bool,
}

/// What SET did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetOutcome {
    /// Whether the value was written (false when NX/XX prevented it).
    pub written: bool,
    /// With [`SetOptions::get`]: the previous value, `None` if the key did not exist.
    pub old: Option<Bytes>,
}

/// GETEX's expiry change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetExOption {
    /// Set a new expiry.
    Expire(Expiry),
    /// `PERSIST`: remove the expiry.
    Persist,
}

fn to_bytes(v: StrRef<'_>) -> Bytes {
    match v {
        StrRef::Raw(b) => Bytes::copy_from_slice(b),
        StrRef::Int(n) => Bytes::from(n.to_string()),
    }
}

fn str_of(e: &Entry) -> Result<StrRef<'_>> {
    e.str_value().ok_or(StoreError::WrongType)
}

impl Store {
    /// GET: the value of `key`, `None` if absent.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"k", b"v", Default::default())?;
    /// assert_eq!(store.get(0, b"k")?.as_deref(), Some(&b"v"[..]));
    /// assert_eq!(store.get(0, b"missing")?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn get(&self, db: usize, key: &[u8]) -> Result<Option<Bytes>> {
        self.read(db, key, |e| {
            e.map(str_of).transpose().map(|v| v.map(to_bytes))
        })?
    }

    /// GET without copying: `f` sees the value's bytes under the shard's read lock
    /// (so it should be quick, e.g. copy them into an output buffer).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"k", b"hello", Default::default())?;
    /// let mut out = Vec::new();
    /// let found = store.get_with(0, b"k", |v| out.extend_from_slice(v))?;
    /// assert!(found.is_some());
    /// assert_eq!(out, b"hello");
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn get_with<R>(
        &self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>> {
        self.read(db, key, |e| match e.map(Entry::str_value) {
            None => Ok(None),
            Some(Some(StrRef::Raw(b))) => Ok(Some(f(b))),
            Some(Some(StrRef::Int(n))) => Ok(Some(f(format_i64(n, &mut [0; 20])))),
            Some(None) => Err(StoreError::WrongType),
        })?
    }

    /// SET with all its options.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{SetCondition, SetOptions, Store};
    /// let store = Store::new();
    /// let nx = SetOptions { condition: SetCondition::IfAbsent, ..Default::default() };
    /// assert!(store.set(0, b"k", b"1", nx)?.written);
    /// assert!(!store.set(0, b"k", b"2", nx)?.written);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn set(&self, db: usize, key: &[u8], value: &[u8], opts: SetOptions) -> Result<SetOutcome> {
        self.check_db(db)?;
        let expire = match opts.expiry {
            Some(e) => Some(e.resolve(self.now_ms())?),
            None => None,
        };
        if value.len() as u64 > MAX_STRING_LEN {
            return Err(StoreError::StringTooLong {
                requested: value.len() as u64,
            });
        }
        self.check_memory()?;
        self.with_write(db, key, |ctx| {
            let existing = ctx.live(key);
            let old = match (existing, opts.get) {
                (Some(i), true) => Some(to_bytes(str_of(ctx.entry(i))?)),
                (None, true) => {
                    // GET reads the key first.
                    self.missed(db, key);
                    None
                }
                _ => None,
            };
            let allowed = match opts.condition {
                SetCondition::Always => true,
                SetCondition::IfAbsent => existing.is_none(),
                SetCondition::IfPresent => existing.is_some(),
            };
            if !allowed {
                return Ok(SetOutcome {
                    written: false,
                    old,
                });
            }
            let expire = if opts.keep_ttl {
                existing.and_then(|i| ctx.entry(i).expire())
            } else {
                expire
            };
            if existing.is_none() {
                ctx.emit(key, Event::New);
            }
            // An absolute time in the past stores nothing: the key is gone at once. Redis
            // stores it and expires it right after, and reports it so.
            let gone = expire.is_some_and(|e| e <= ctx.now());
            if gone {
                if let Some(i) = existing {
                    ctx.remove(i);
                }
            } else {
                match existing {
                    Some(i) => ctx.update(i, |e| e.assign_str(key, value, expire)),
                    None => {
                        ctx.insert(Entry::new_str(key, value, expire));
                    }
                }
            }
            ctx.emit(key, Event::Set);
            if opts.expiry.is_some() {
                ctx.emit(key, Event::Expire);
            }
            if gone {
                ctx.emit(key, Event::Expired);
            }
            Ok(SetOutcome { written: true, old })
        })
    }

    /// SETNX: set only if absent; true if written.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert!(store.setnx(0, b"k", b"1")?);
    /// assert!(!store.setnx(0, b"k", b"2")?);
    /// assert_eq!(store.get(0, b"k")?.as_deref(), Some(&b"1"[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn setnx(&self, db: usize, key: &[u8], value: &[u8]) -> Result<bool> {
        let opts = SetOptions {
            condition: SetCondition::IfAbsent,
            ..Default::default()
        };
        Ok(self.set(db, key, value, opts)?.written)
    }

    /// SETEX: set with a TTL in seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.setex(0, b"k", 60, b"v")?;
    /// assert_eq!(store.ttl(0, b"k")?, 60);
    /// assert!(store.setex(0, b"k", 0, b"v").is_err()); // invalid expire time
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn setex(&self, db: usize, key: &[u8], seconds: i64, value: &[u8]) -> Result<()> {
        let opts = SetOptions {
            expiry: Some(Expiry::Ex(seconds)),
            ..Default::default()
        };
        self.set(db, key, value, opts).map(|_| ())
    }

    /// PSETEX: set with a TTL in milliseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.psetex(0, b"k", 1_500, b"v")?;
    /// assert!(store.pttl(0, b"k")? > 1_000);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn psetex(&self, db: usize, key: &[u8], millis: i64, value: &[u8]) -> Result<()> {
        let opts = SetOptions {
            expiry: Some(Expiry::Px(millis)),
            ..Default::default()
        };
        self.set(db, key, value, opts).map(|_| ())
    }

    /// GETSET: set and return the old value (the TTL is dropped, as SET does).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.getset(0, b"k", b"1")?, None);
    /// assert_eq!(store.getset(0, b"k", b"2")?.as_deref(), Some(&b"1"[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn getset(&self, db: usize, key: &[u8], value: &[u8]) -> Result<Option<Bytes>> {
        let opts = SetOptions {
            get: true,
            ..Default::default()
        };
        Ok(self.set(db, key, value, opts)?.old)
    }

    /// GETDEL: return the value and delete the key.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"k", b"v", Default::default())?;
    /// assert_eq!(store.getdel(0, b"k")?.as_deref(), Some(&b"v"[..]));
    /// assert_eq!(store.getdel(0, b"k")?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn getdel(&self, db: usize, key: &[u8]) -> Result<Option<Bytes>> {
        self.with_write(db, key, |ctx| {
            let Some(i) = ctx.live(key) else {
                ctx.shard.record_lookup(false);
                self.missed(db, key);
                return Ok(None);
            };
            ctx.shard.record_lookup(true);
            let v = to_bytes(str_of(ctx.entry(i))?);
            ctx.remove(i);
            ctx.emit(key, Event::Del);
            Ok(Some(v))
        })
    }

    /// GETEX: return the value, optionally changing its expiry.
    /// A time in the past deletes the key after reading it, as Redis does.
    ///
    /// As in Redis 7, a missing key is `None` and a non-string `WrongType` before the
    /// expiry is validated: `GETEX missing PX 0` is `Ok(None)`, not an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::{Expiry, GetExOption, ManualClock, Store};
    /// let clock = ManualClock::new(1_000_000);
    /// let store = Store::builder().clock(clock.clone()).build();
    /// store.set(0, b"k", b"v", Default::default())?;
    /// let px = |ms| Some(GetExOption::Expire(Expiry::Px(ms)));
    /// assert_eq!(store.getex(0, b"k", px(500))?.as_deref(), Some(&b"v"[..]));
    /// assert_eq!(store.pttl(0, b"k")?, 500);
    /// assert!(store.getex(0, b"k", px(0)).is_err());
    /// assert_eq!(store.getex(0, b"missing", px(0))?, None);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn getex(
        &self,
        db: usize,
        key: &[u8],
        option: Option<GetExOption>,
    ) -> Result<Option<Bytes>> {
        self.check_db(db)?;
        self.with_write(db, key, |ctx| {
            let Some(i) = ctx.live(key) else {
                ctx.shard.record_lookup(false);
                self.missed(db, key);
                return Ok(None);
            };
            ctx.shard.record_lookup(true);
            let v = to_bytes(str_of(ctx.entry(i))?);
            let expire = match option {
                Some(GetExOption::Expire(e)) => Some(e.resolve(ctx.now())?),
                _ => None,
            };
            match option {
                Some(GetExOption::Persist) if ctx.entry(i).expire().is_some() => {
                    ctx.update(i, |e| e.set_expire(None));
                    ctx.emit(key, Event::Persist);
                }
                None | Some(GetExOption::Persist) => {}
                Some(GetExOption::Expire(_)) => match expire {
                    Some(t) if t > ctx.now() => {
                        ctx.update(i, |e| e.set_expire(Some(t)));
                        ctx.emit(key, Event::Expire);
                    }
                    _ => {
                        ctx.remove(i);
                        ctx.emit(key, Event::Del);
                    }
                },
            }
            Ok(Some(v))
        })
    }

    /// MGET: values in order; `None` for missing keys and for non-strings.
    ///
    /// All shards involved are read-locked together, so a concurrent MSET is seen whole
    /// or not at all.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"a", b"1", Default::default())?;
    /// store.hset(0, b"h", &[(b"f", b"v")])?;
    /// let v = store.mget(0, &[b"a", b"missing", b"h"])?;
    /// assert_eq!(v[0].as_deref(), Some(&b"1"[..]));
    /// assert_eq!((v[1].clone(), v[2].clone()), (None, None)); // a hash reads as nil
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn mget(&self, db: usize, keys: &[&[u8]]) -> Result<Vec<Option<Bytes>>> {
        let mut out = Vec::with_capacity(keys.len());
        self.read_keys(db, keys, true, |_, e| {
            out.push(e.and_then(Entry::str_value).map(to_bytes));
        })?;
        Ok(out)
    }

    /// MSET: sets all pairs atomically (every shard involved is locked first).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.mset(0, &[(b"a", b"1"), (b"b", b"2")])?;
    /// assert_eq!(store.get(0, b"b")?.as_deref(), Some(&b"2"[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn mset(&self, db: usize, pairs: &[(&[u8], &[u8])]) -> Result<()> {
        self.msetnx_impl(db, pairs, false).map(|_| ())
    }

    /// MSETNX: sets all pairs only if none of the keys exists; true if written.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert!(store.msetnx(0, &[(b"a", b"1"), (b"b", b"2")])?);
    /// assert!(!store.msetnx(0, &[(b"b", b"x"), (b"c", b"3")])?); // b exists: nothing set
    /// assert_eq!(store.exists(0, &[b"c"])?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn msetnx(&self, db: usize, pairs: &[(&[u8], &[u8])]) -> Result<bool> {
        self.msetnx_impl(db, pairs, true)
    }

    fn msetnx_impl(&self, db: usize, pairs: &[(&[u8], &[u8])], nx: bool) -> Result<bool> {
        self.check_db(db)?;
        self.check_memory()?;
        let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| *k).collect();
        self.write_keys(db, &keys, |ctx| {
            if nx && keys.iter().enumerate().any(|(i, k)| ctx.exists(i, k)) {
                return false;
            }
            for (i, (k, v)) in pairs.iter().enumerate() {
                ctx.put(i, k, Entry::new_str(k, v, None));
                ctx.emit(k, Event::Set);
            }
            true
        })
    }

    /// APPEND: appends and returns the new length.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// assert_eq!(store.append(0, b"k", b"Hello")?, 5);
    /// assert_eq!(store.append(0, b"k", b" World")?, 11);
    /// assert_eq!(store.get(0, b"k")?.as_deref(), Some(&b"Hello World"[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn append(&self, db: usize, key: &[u8], value: &[u8]) -> Result<usize> {
        self.check_memory()?;
        self.with_write(db, key, |ctx| {
            let Some(i) = ctx.live(key) else {
                // A new key is stored as SET stores it (Redis's APPEND does the same).
                ctx.insert(Entry::new_str(key, value, None));
                ctx.emit(key, Event::New);
                ctx.emit(key, Event::Append);
                return Ok(value.len());
            };
            let total = str_len(str_of(ctx.entry(i))?) as u64 + value.len() as u64;
            if total > MAX_STRING_LEN {
                return Err(StoreError::StringTooLong { requested: total });
            }
            let len = ctx
                .update(i, |e| e.append(value))
                .ok_or(StoreError::WrongType)?;
            ctx.emit(key, Event::Append);
            Ok(len)
        })
    }

    /// STRLEN: length of the value, 0 if absent.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"k", b"hello", Default::default())?;
    /// assert_eq!(store.strlen(0, b"k")?, 5);
    /// assert_eq!(store.strlen(0, b"missing")?, 0);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn strlen(&self, db: usize, key: &[u8]) -> Result<usize> {
        self.read(db, key, |e| e.map_or(Ok(0), |e| str_of(e).map(str_len)))?
    }

    /// GETRANGE with Redis's index rules (negative from the end, clamped).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"k", b"This is a string", Default::default())?;
    /// assert_eq!(&store.getrange(0, b"k", 0, 3)?[..], b"This");
    /// assert_eq!(&store.getrange(0, b"k", -3, -1)?[..], b"ing");
    /// assert_eq!(&store.getrange(0, b"k", 10, 100)?[..], b"string");
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn getrange(&self, db: usize, key: &[u8], start: i64, end: i64) -> Result<Bytes> {
        self.read(db, key, |e| {
            let Some(e) = e else { return Ok(Bytes::new()) };
            // Only the range is copied, whatever the length of the value.
            let mut digits = [0u8; 20];
            let v = match str_of(e)? {
                StrRef::Raw(b) => b,
                StrRef::Int(n) => format_i64(n, &mut digits),
            };
            Ok(Bytes::copy_from_slice(range(v, start, end)))
        })?
    }

    /// SETRANGE: overwrites from `offset` (zero-padding), returns the new length.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"k", b"Hello World", Default::default())?;
    /// assert_eq!(store.setrange(0, b"k", 6, b"Redis")?, 11);
    /// assert_eq!(store.get(0, b"k")?.as_deref(), Some(&b"Hello Redis"[..]));
    /// assert_eq!(store.setrange(0, b"pad", 3, b"x")?, 4); // zero-padded
    /// assert_eq!(store.get(0, b"pad")?.as_deref(), Some(&b"\0\0\0x"[..]));
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn setrange(&self, db: usize, key: &[u8], offset: i64, value: &[u8]) -> Result<usize> {
        if offset < 0 {
            return Err(StoreError::OffsetOutOfRange);
        }
        let offset = offset as u64;
        self.check_db(db)?;
        self.check_memory()?;
        self.with_write(db, key, |ctx| {
            let existing = ctx.live(key);
            let cur_len = match existing {
                Some(i) => str_len(str_of(ctx.entry(i))?),
                None => 0,
            };
            if value.is_empty() {
                return Ok(cur_len);
            }
            let total = offset + value.len() as u64;
            if total > MAX_STRING_LEN {
                return Err(StoreError::StringTooLong { requested: total });
            }
            let i = match existing {
                Some(i) => i,
                None => {
                    let i = ctx.insert(Entry::new_text(key, b"", None));
                    ctx.emit(key, Event::New);
                    i
                }
            };
            let len = ctx
                .update(i, |e| e.set_range(offset as usize, value))
                .ok_or(StoreError::WrongType)?;
            ctx.emit(key, Event::SetRange);
            Ok(len)
        })
    }

    /// INCRBY (INCR, DECR and DECRBY are this with 1, -1 and a negated amount).
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"n", b"10", Default::default())?;
    /// assert_eq!(store.incr_by(0, b"n", 5)?, 15);
    /// assert_eq!(store.incr_by(0, b"n", -20)?, -5);
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn incr_by(&self, db: usize, key: &[u8], delta: i64) -> Result<i64> {
        self.check_memory()?;
        self.with_write(db, key, |ctx| {
            let existing = ctx.live(key);
            let (cur, expire) = match existing {
                None => (0, None),
                Some(i) => {
                    let e = ctx.entry(i);
                    let n = match str_of(e)? {
                        StrRef::Int(n) => n,
                        StrRef::Raw(b) => {
                            crate::codec::canonical_i64(b).ok_or(StoreError::NotInteger)?
                        }
                    };
                    (n, e.expire())
                }
            };
            let n = cur.checked_add(delta).ok_or(StoreError::Overflow)?;
            match existing {
                Some(i) => ctx.update(i, |e| {
                    if !e.set_int_in_place(n) {
                        *e = Entry::new_int(key, n, expire);
                    }
                }),
                None => {
                    ctx.insert(Entry::new_int(key, n, None));
                    ctx.emit(key, Event::New);
                }
            }
            ctx.emit(key, Event::IncrBy);
            Ok(n)
        })
    }

    /// DECRBY: like [`Store::incr_by`] with the amount negated; `i64::MIN` is refused with
    /// [`StoreError::DecrementOverflow`] as Redis does.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"n", b"10", Default::default())?;
    /// assert_eq!(store.decr_by(0, b"n", 3)?, 7);
    /// assert!(store.decr_by(0, b"n", i64::MIN).is_err()); // decrement would overflow
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn decr_by(&self, db: usize, key: &[u8], delta: i64) -> Result<i64> {
        let neg = delta.checked_neg().ok_or(StoreError::DecrementOverflow)?;
        self.incr_by(db, key, neg)
    }

    /// INCRBYFLOAT: adds a float given as text; returns the new value as Redis formats it.
    ///
    /// # Examples
    ///
    /// ```
    /// # let store = redistill_store::Store::new();
    /// store.set(0, b"f", b"10.5", Default::default())?;
    /// assert_eq!(&store.incr_by_float(0, b"f", b"0.1")?[..], b"10.6");
    /// # Ok::<(), redistill_store::StoreError>(())
    /// ```
    pub fn incr_by_float(&self, db: usize, key: &[u8], incr: &[u8]) -> Result<Bytes> {
        self.check_memory()?;
        self.with_write(db, key, |ctx| {
            let existing = ctx.live(key);
            let (cur, expire) = match existing {
                None => (b"0".to_vec(), None),
                Some(i) => {
                    let e = ctx.entry(i);
                    (to_vec(str_of(e)?), e.expire())
                }
            };
            let out = float::add(&cur, incr).map_err(|e| match e {
                FloatError::NotFloat => StoreError::NotFloat,
                FloatError::NanOrInfinity => StoreError::NanOrInfinity,
            })?;
            ctx.put(existing, key, Entry::new_text(key, &out, expire));
            ctx.emit(key, Event::IncrByFloat);
            Ok(Bytes::from(out))
        })
    }
}

/// The length of a string value: an integer's in decimal.
pub(crate) fn str_len(v: StrRef<'_>) -> usize {
    match v {
        StrRef::Raw(b) => b.len(),
        StrRef::Int(n) => format_i64(n, &mut [0; 20]).len(),
    }
}

fn to_vec(v: StrRef<'_>) -> Vec<u8> {
    match v {
        StrRef::Raw(b) => b.to_vec(),
        StrRef::Int(n) => n.to_string().into_bytes(),
    }
}

/// GETRANGE's index arithmetic, shared with SUBSTR.
pub(crate) fn range(v: &[u8], mut start: i64, mut end: i64) -> &[u8] {
    let len = v.len() as i64;
    if start < 0 && end < 0 && start > end {
        return &[];
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return &[];
    }
    &v[start as usize..=end as usize]
}

#[cfg(test)]
mod tests {
    use crate::codec::format_i64;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn format_i64_matches_display(n in proptest::prelude::any::<i64>()) {
            let mut buf = [0; 20];
            let expected = n.to_string();
            proptest::prop_assert_eq!(format_i64(n, &mut buf), expected.as_bytes());
        }
    }

    #[test]
    fn format_i64_extremes() {
        for n in [0, -1, 9, 10, i64::MIN, i64::MAX] {
            assert_eq!(format_i64(n, &mut [0; 20]), n.to_string().as_bytes());
        }
    }
}
