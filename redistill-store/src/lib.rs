//! A sharded, embeddable in-memory keyspace with Redis semantics.
//!
//! `redistill-store` gives a Rust program Redis's data model in-process, with no server:
//! strings (with the integer form counters use, and HyperLogLogs in Redis's exact format),
//! hashes, lists, sets, sorted sets, TTLs with lazy and active expiry, SCAN, KEYS globs, 16
//! logical databases, and memory accounting with a `max_memory` limit.
//! The Redistill server executes every command against this crate and turns its results and
//! [`StoreError`]s into Redis's exact replies.
//!
//! ```
//! use redistill_store::{Expiry, ManualClock, SetOptions, Store};
//!
//! let clock = ManualClock::new(1_700_000_000_000);
//! let store = Store::builder().databases(2).clock(clock.clone()).build();
//!
//! let ttl = SetOptions { expiry: Some(Expiry::Ex(60)), ..Default::default() };
//! store.set(0, b"token:1", b"alice", ttl)?;
//! store.hset(0, b"user:1", &[(b"name", b"alice"), (b"visits", b"1")])?;
//! assert_eq!(store.hincrby(0, b"user:1", b"visits", 1)?, 2);
//!
//! clock.advance(60_000);
//! assert_eq!(store.get(0, b"token:1")?, None); // expired
//! # Ok::<(), redistill_store::StoreError>(())
//! ```
//!
//! # Design
//!
//! - [`Store`] is an `Arc` handle; clone it into every thread. Each database is split into a
//!   power-of-two number of shards, each a hash table (ahash) behind a `parking_lot::RwLock`.
//!   Reads take a read lock only; there is no global lock on any per-key path. A command on
//!   several keys (EXISTS, TOUCH, MGET, DEL, MSET, MSETNX, RENAME, COPY, MOVE, LMOVE, SMOVE,
//!   SINTER, SUNION, SDIFF and their STORE forms, PFCOUNT, PFMERGE) locks the shards of all
//!   its keys first, in one global order, so it is atomic against every other command, as
//!   in Redis; KEYS, DBSIZE, FLUSHDB, FLUSHALL and SWAPDB hold every shard of their
//!   databases at once.
//! - Entries are compact: a string's key, optional expiry and value share one allocation, 16
//!   bytes in the table plus a 2-byte control word and the 4-byte eviction access word (see
//!   [`evict`]); so does a small hash, packed. Strings over 4 KiB, strings edited in place,
//!   big hashes, lists and sets keep their value in allocations of its own, grown in place
//!   (APPEND, SETRANGE) and moved, not copied, by RENAME and MOVE. Values passed in are
//!   always copied, so a caller's network buffer is never pinned.
//! - Time comes from a [`Clock`]; tests use [`ManualClock`]. Expiry is lazy on access plus
//!   [`Store::active_expire_cycle`], which the embedder (or the server's housekeeping) calls,
//!   or runs on a thread with [`Store::spawn_active_expiry`]. Nothing spawns threads unasked.
//! - SCAN's cursor guarantee and its argument are in the `scan` and `table` module docs.
//!
//! - A memory limit ([`StoreBuilder::max_memory`], [`Store::set_max_memory`]) is enforced
//!   before growing writes by any [`Policy`] of `redistill-evict`; see the `evict` module.
//! - Every change to the keyspace is reported once, as it is made, to a [`ChangeListener`]
//!   installed with [`StoreBuilder::change_listener`], with Redis's keyspace-notification
//!   event for it; see the [`changes`] module.

mod bitfield;
mod bitmaps;
pub mod changes;
mod clock;
mod codec;
mod dump;
mod entry;
mod error;
pub mod evict;
mod expire;
mod float;
pub mod geo;
mod glob;
mod hashes;
mod hashobj;
mod hyperloglog;
mod hyperloglogs;
mod info;
mod inspect;
mod invariants;
mod keys;
mod lcs;
mod lists;
mod memory;
mod multikey;
mod packed;
mod partial_sort;
mod quicklist;
mod scan;
mod setobj;
mod sets;
mod shard;
mod snapshot;
mod sort;
mod store;
mod strings;
mod table;
mod zsetobj;
mod zsets;

/// The README's examples, compiled and run as doc tests so they cannot go stale.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use bitfield::{BitfieldOp, BitfieldType, Overflow};
pub use bitmaps::{BitOp, BitUnit, parse_bit_offset};
pub use changes::{Change, ChangeListener, Event, Existed};
pub use clock::{Clock, ManualClock, SystemClock};
pub use dump::{DumpSource, RestoreOptions, Restored};
pub use entry::ValueType;
pub use error::{Result, StoreError};
pub use evict::{EvictionPolicy, Policy};
pub use expire::{
    ExpireCommand, ExpireCondition, ExpireCycleStats, ExpiryThread, MAX_EXPIRE_EFFORT,
};
pub use glob::glob_match;
pub use hashes::FieldValue;
pub use hashobj::{
    LISTPACK_MAX_ENTRIES as HASH_MAX_LISTPACK_ENTRIES,
    LISTPACK_MAX_VALUE as HASH_MAX_LISTPACK_VALUE,
};
pub use hyperloglog::{DEFAULT_HLL_SPARSE_MAX_BYTES, hyperloglog_self_test};
pub use hyperloglogs::{PfDebug, PfDebugReply};
pub use info::{DbInfo, Stats};
pub use inspect::{ListLayout, ObjectLayout};
pub use lcs::{Lcs, LcsError, LcsMatch, lcs};
pub use lists::{DEFAULT_LIST_COMPRESS_DEPTH, DEFAULT_LIST_MAX_LISTPACK_SIZE, ListRange};
pub use memory::{SizeClasses, set_size_classes, size_classes};
pub use partial_sort::partial_sort;
pub use quicklist::ListEnd;
pub use scan::ScanOptions;
pub use setobj::{
    DEFAULT_SET_MAX_INTSET_ENTRIES, DEFAULT_SET_MAX_LISTPACK_ENTRIES,
    DEFAULT_SET_MAX_LISTPACK_VALUE,
};
pub use sets::{SetMembers, SetOpOutcome, SetPicks};
pub use snapshot::{SNAPSHOT_BATCH, SnapshotEntry, SnapshotValue};
pub use store::{Store, StoreBuilder};
pub use strings::{Expiry, GetExOption, MAX_STRING_LEN, SetCondition, SetOptions, SetOutcome};
pub use table::same_key;
pub use zsets::{
    Aggregate, DEFAULT_ZSET_MAX_LISTPACK_ENTRIES, DEFAULT_ZSET_MAX_LISTPACK_VALUE, LexBound,
    LexRange, ScoreBound, ScoreRange, ScoredMember, ZAddOptions, ZAddResult, ZRangeBy, ZRangeItems,
    ZRangeSpec, ZScoreScan, ZSetOp,
};
