//! The change stream: every change to the keyspace, reported once by the store as it
//! makes it.
//!
//! A [`ChangeListener`] installed with [`StoreBuilder::change_listener`] is told of each
//! key a write changed, as a [`Change::Key`] with the [`Event`] Redis 7 would publish as a
//! keyspace notification for it, and of whole databases emptied or swapped
//! ([`Change::Flushed`], [`Change::Swapped`]). A write that changes nothing (SET NX on an
//! existing key, DEL of a missing one, an EXPIRE whose condition does not hold) reports
//! nothing, as Redis then neither notifies nor touches watched keys.
//!
//! # When and where
//!
//! A change is reported while the lock of the shard holding the key (for FLUSHDB,
//! FLUSHALL and SWAPDB: of every shard of those databases) is still held, right after
//! the change is made. Changes to one key therefore reach the listener in the order they
//! were made, and what the listener learns about a key is never older than what a reader
//! sees. The listener runs on the writing thread, so it must be quick, and it must not
//! call back into the store: the shard it would need may be the one locked.
//!
//! Keys removed because their time to live passed are reported as [`Event::Expired`] when
//! a write path, the active expiry cycle, or a read that goes on to delete the key removes
//! them; a read that merely treats an expired key as missing, under a read lock, reports
//! nothing, since nothing changed yet. Evicted keys are reported as [`Event::Evicted`].
//! Loading a snapshot ([`Store::load_entry`]) reports nothing.
//!
//! With no listener installed, reporting costs one branch per write.
//!
//! # Examples
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use redistill_store::{Change, ChangeListener, Event, Store};
//!
//! #[derive(Default)]
//! struct Log(Mutex<Vec<(usize, Vec<u8>, Event)>>);
//!
//! impl ChangeListener for Log {
//!     fn changed(&self, change: Change<'_>) {
//!         if let Change::Key { db, key, event } = change {
//!             self.0.lock().unwrap().push((db, key.to_vec(), event));
//!         }
//!     }
//! }
//!
//! let log = Arc::new(Log::default());
//! let store = Store::builder().change_listener(log.clone()).build();
//! store.set(0, b"k", b"v", Default::default())?;
//! store.del(0, &[b"k", b"missing"])?;
//! let events: Vec<&str> = log.0.lock().unwrap().iter().map(|(_, _, e)| e.name()).collect();
//! assert_eq!(events, ["new", "set", "del"]);
//! # Ok::<(), redistill_store::StoreError>(())
//! ```
//!
//! [`StoreBuilder::change_listener`]: crate::StoreBuilder::change_listener
//! [`Store::load_entry`]: crate::Store::load_entry

use std::ops::Range;

/// What happened to a key: Redis 7's keyspace-notification events.
///
/// # Examples
///
/// ```
/// use redistill_store::Event;
/// assert_eq!(Event::RenameFrom.name(), "rename_from");
/// assert_eq!(Event::HIncrBy.class(), 'h');
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// A key was created (Redis's `new`, reported before the command's own event).
    New,
    /// SET and its variants, MSET, MSETNX, GETSET.
    Set,
    /// DEL, UNLINK, GETDEL; HDEL emptying a hash; an expiry time in the past.
    Del,
    /// A time to live was set.
    Expire,
    /// The key's time to live passed and the key was removed.
    Expired,
    /// The key was evicted to stay under the memory limit.
    Evicted,
    /// PERSIST (or GETEX PERSIST) removed a time to live.
    Persist,
    /// RENAME's source key.
    RenameFrom,
    /// RENAME's destination key.
    RenameTo,
    /// MOVE's key, in its source database.
    MoveFrom,
    /// MOVE's key, in its destination database.
    MoveTo,
    /// COPY's destination key.
    CopyTo,
    /// RESTORE.
    Restore,
    /// INCR, DECR, INCRBY, DECRBY.
    IncrBy,
    /// INCRBYFLOAT.
    IncrByFloat,
    /// APPEND.
    Append,
    /// SETRANGE.
    SetRange,
    /// SETBIT and BITFIELD that wrote.
    SetBit,
    /// HSET, HSETNX.
    HSet,
    /// HDEL.
    HDel,
    /// HINCRBY.
    HIncrBy,
    /// HINCRBYFLOAT.
    HIncrByFloat,
    /// LPUSH, LPUSHX, and LMOVE's destination pushed at the head.
    LPush,
    /// RPUSH, RPUSHX, and LMOVE's destination pushed at the tail.
    RPush,
    /// LPOP, LMPOP LEFT, and LMOVE's source popped at the head.
    LPop,
    /// RPOP, LMPOP RIGHT, and LMOVE's source popped at the tail.
    RPop,
    /// LINSERT.
    LInsert,
    /// LSET.
    LSet,
    /// LREM that removed something.
    LRem,
    /// LTRIM (also one that removes nothing, as Redis reports it).
    LTrim,
    /// SADD that added something, and SMOVE's destination.
    SAdd,
    /// SREM that removed something, and SMOVE's source.
    SRem,
    /// SPOP that popped something.
    SPop,
    /// SINTERSTORE that stored a set.
    SInterStore,
    /// SUNIONSTORE that stored a set.
    SUnionStore,
    /// SDIFFSTORE that stored a set.
    SDiffStore,
    /// ZADD that added or changed a member.
    ZAdd,
    /// ZINCRBY, ZADD INCR.
    ZIncr,
    /// ZREM that removed something.
    ZRem,
    /// ZREMRANGEBYRANK that removed something.
    ZRemByRank,
    /// ZREMRANGEBYSCORE that removed something.
    ZRemByScore,
    /// ZREMRANGEBYLEX that removed something.
    ZRemByLex,
    /// ZPOPMIN, BZPOPMIN, ZMPOP MIN.
    ZPopMin,
    /// ZPOPMAX, BZPOPMAX, ZMPOP MAX.
    ZPopMax,
    /// ZUNIONSTORE's destination.
    ZUnionStore,
    /// ZINTERSTORE's destination.
    ZInterStore,
    /// ZDIFFSTORE's destination.
    ZDiffStore,
    /// ZRANGESTORE's destination.
    ZRangeStore,
    /// PFADD that changed a register or created the key, and PFMERGE's destination.
    PfAdd,
    /// The value changed with no keyspace notification of its own: PFCOUNT storing the
    /// cardinality it computed in the HyperLogLog's cache. Redis touches watched keys for
    /// it but publishes nothing ([`Event::notifies`] is false).
    Modified,
    /// GEOSEARCHSTORE's destination.
    GeoSearchStore,
    /// GEORADIUS and GEORADIUSBYMEMBER STORE/STOREDIST's destination.
    GeoRadiusStore,
    /// SORT STORE's destination.
    SortStore,
}

impl Event {
    /// The event's name in Redis's keyspace notifications.
    pub fn name(self) -> &'static str {
        match self {
            Event::New => "new",
            Event::Set => "set",
            Event::Del => "del",
            Event::Expire => "expire",
            Event::Expired => "expired",
            Event::Evicted => "evicted",
            Event::Persist => "persist",
            Event::RenameFrom => "rename_from",
            Event::RenameTo => "rename_to",
            Event::MoveFrom => "move_from",
            Event::MoveTo => "move_to",
            Event::CopyTo => "copy_to",
            Event::Restore => "restore",
            Event::IncrBy => "incrby",
            Event::IncrByFloat => "incrbyfloat",
            Event::Append => "append",
            Event::SetRange => "setrange",
            Event::SetBit => "setbit",
            Event::HSet => "hset",
            Event::HDel => "hdel",
            Event::HIncrBy => "hincrby",
            Event::HIncrByFloat => "hincrbyfloat",
            Event::LPush => "lpush",
            Event::RPush => "rpush",
            Event::LPop => "lpop",
            Event::RPop => "rpop",
            Event::LInsert => "linsert",
            Event::LSet => "lset",
            Event::LRem => "lrem",
            Event::LTrim => "ltrim",
            Event::SAdd => "sadd",
            Event::SRem => "srem",
            Event::SPop => "spop",
            Event::SInterStore => "sinterstore",
            Event::SUnionStore => "sunionstore",
            Event::SDiffStore => "sdiffstore",
            Event::ZAdd => "zadd",
            Event::ZIncr => "zincr",
            Event::ZRem => "zrem",
            Event::ZRemByRank => "zremrangebyrank",
            Event::ZRemByScore => "zremrangebyscore",
            Event::ZRemByLex => "zremrangebylex",
            Event::ZPopMin => "zpopmin",
            Event::ZPopMax => "zpopmax",
            Event::ZUnionStore => "zunionstore",
            Event::ZInterStore => "zinterstore",
            Event::ZDiffStore => "zdiffstore",
            Event::ZRangeStore => "zrangestore",
            Event::PfAdd => "pfadd",
            Event::Modified => "modified",
            Event::GeoSearchStore => "geosearchstore",
            Event::GeoRadiusStore => "georadiusstore",
            Event::SortStore => "sortstore",
        }
    }

    /// Whether Redis publishes a keyspace notification for the event (all but
    /// [`Event::Modified`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use redistill_store::Event;
    /// assert!(Event::PfAdd.notifies());
    /// assert!(!Event::Modified.notifies());
    /// ```
    pub fn notifies(self) -> bool {
        self != Event::Modified
    }

    /// The notification class Redis files the event under, as its
    /// `notify-keyspace-events` letter: `g` generic, `$` string, `h` hash, `x` expired,
    /// `e` evicted, `n` new, `l` list, `s` set, `z` sorted set (and `t`, `m`, `d` for the
    /// types to come).
    pub fn class(self) -> char {
        match self {
            Event::New => 'n',
            Event::Expired => 'x',
            Event::Evicted => 'e',
            Event::Del
            | Event::Expire
            | Event::Persist
            | Event::RenameFrom
            | Event::RenameTo
            | Event::MoveFrom
            | Event::MoveTo
            | Event::CopyTo
            | Event::Restore => 'g',
            Event::Set
            | Event::IncrBy
            | Event::IncrByFloat
            | Event::Append
            | Event::SetRange
            | Event::SetBit
            | Event::PfAdd
            | Event::Modified => '$',
            Event::HSet | Event::HDel | Event::HIncrBy | Event::HIncrByFloat => 'h',
            Event::LPush
            | Event::RPush
            | Event::LPop
            | Event::RPop
            | Event::LInsert
            | Event::LSet
            | Event::LRem
            | Event::LTrim => 'l',
            Event::SAdd
            | Event::SRem
            | Event::SPop
            | Event::SInterStore
            | Event::SUnionStore
            | Event::SDiffStore => 's',
            Event::ZAdd
            | Event::ZIncr
            | Event::ZRem
            | Event::ZRemByRank
            | Event::ZRemByScore
            | Event::ZRemByLex
            | Event::ZPopMin
            | Event::ZPopMax
            | Event::ZUnionStore
            | Event::ZInterStore
            | Event::ZDiffStore
            | Event::ZRangeStore
            | Event::GeoSearchStore
            | Event::GeoRadiusStore => 'z',
            Event::SortStore => 'l',
        }
    }
}

/// Tells whether a key was live (present and not logically expired) in a database just
/// before a database-wide change: `existed(db, key)`.
pub type Existed<'a> = &'a dyn Fn(usize, &[u8]) -> bool;

/// One change to the keyspace.
#[derive(Clone)]
#[non_exhaustive]
pub enum Change<'a> {
    /// `key` of database `db` changed as `event` says.
    Key {
        /// The database.
        db: usize,
        /// The key.
        key: &'a [u8],
        /// What happened to it.
        event: Event,
    },
    /// FLUSHDB (one database) or FLUSHALL (all of them) empties the databases `dbs`.
    /// Reported with every shard of them locked, just before they are emptied: `existed`
    /// answers, for a key of one of them, whether it is live, so a consumer can tell which
    /// of its keys change without asking the store (which it must not).
    Flushed {
        /// The databases emptied.
        dbs: Range<usize>,
        /// Whether a key was live in one of `dbs` before they were emptied.
        existed: Existed<'a>,
    },
    /// SWAPDB exchanges the contents of databases `a` and `b`. Reported with every shard
    /// of both locked, just before the exchange: a key of either changes if it is live in
    /// `a` or in `b`, which `existed` answers (for either database's key).
    Swapped {
        /// One database.
        a: usize,
        /// The other.
        b: usize,
        /// Whether a key was live in `a` or `b` before the swap.
        existed: Existed<'a>,
    },
}

impl std::fmt::Debug for Change<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Key { db, key, event } => f
                .debug_struct("Key")
                .field("db", db)
                .field("key", &String::from_utf8_lossy(key))
                .field("event", event)
                .finish(),
            Change::Flushed { dbs, .. } => f
                .debug_struct("Flushed")
                .field("dbs", dbs)
                .finish_non_exhaustive(),
            Change::Swapped { a, b, .. } => f
                .debug_struct("Swapped")
                .field("a", a)
                .field("b", b)
                .finish_non_exhaustive(),
        }
    }
}

/// Receives the store's changes (see the [module docs](self) for when it is called and
/// what it must not do).
pub trait ChangeListener: Send + Sync {
    /// One change, reported while the changed shards are still locked.
    fn changed(&self, change: Change<'_>);

    /// A read looked up `key` in database `db` and found it missing (or expired), as
    /// Redis's key-miss notification reports: only while [`Store::report_misses`] is on,
    /// once per lookup, after the expiry of a key found expired. Not a change; the same
    /// rules hold (the shards read may still be locked).
    ///
    /// [`Store::report_misses`]: crate::Store::report_misses
    fn missed(&self, db: usize, key: &[u8]) {
        let _ = (db, key);
    }
}

/// Where a write reports its changes: the listener, if any, and the database written.
#[derive(Clone, Copy)]
pub(crate) struct Report<'a> {
    pub(crate) listener: Option<&'a dyn ChangeListener>,
    pub(crate) db: usize,
}

impl Report<'_> {
    /// Reports `event` on `key`; one branch when no listener is installed.
    #[inline]
    pub(crate) fn key(self, key: &[u8], event: Event) {
        if let Some(listener) = self.listener {
            listener.changed(Change::Key {
                db: self.db,
                key,
                event,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Event;

    #[test]
    fn names_and_classes_follow_redis() {
        let all = [
            (Event::New, "new", 'n'),
            (Event::Set, "set", '$'),
            (Event::Del, "del", 'g'),
            (Event::Expire, "expire", 'g'),
            (Event::Expired, "expired", 'x'),
            (Event::Evicted, "evicted", 'e'),
            (Event::Persist, "persist", 'g'),
            (Event::RenameFrom, "rename_from", 'g'),
            (Event::RenameTo, "rename_to", 'g'),
            (Event::MoveFrom, "move_from", 'g'),
            (Event::MoveTo, "move_to", 'g'),
            (Event::CopyTo, "copy_to", 'g'),
            (Event::Restore, "restore", 'g'),
            (Event::IncrBy, "incrby", '$'),
            (Event::IncrByFloat, "incrbyfloat", '$'),
            (Event::Append, "append", '$'),
            (Event::SetRange, "setrange", '$'),
            (Event::SetBit, "setbit", '$'),
            (Event::HSet, "hset", 'h'),
            (Event::HDel, "hdel", 'h'),
            (Event::HIncrBy, "hincrby", 'h'),
            (Event::HIncrByFloat, "hincrbyfloat", 'h'),
            (Event::LPush, "lpush", 'l'),
            (Event::RPush, "rpush", 'l'),
            (Event::LPop, "lpop", 'l'),
            (Event::RPop, "rpop", 'l'),
            (Event::LInsert, "linsert", 'l'),
            (Event::LSet, "lset", 'l'),
            (Event::LRem, "lrem", 'l'),
            (Event::LTrim, "ltrim", 'l'),
        ];
        for (event, name, class) in all {
            assert_eq!((event.name(), event.class()), (name, class));
        }
    }
}
