//! The Redistill snapshot file format: versioned, checksummed, crash-safe.
//!
//! A snapshot is a header, blocks of records and a footer. Each record holds
//! one key: its database index, the key, its absolute expiry (if any) and its
//! value (a string, an integer-form string, a hash, a list, a set or a sorted set), or a
//! server-side library's source code, opaque to the format. Every block
//! carries a CRC-32C of its bytes and the footer carries the record count and a
//! CRC-32C of the whole file, so any changed, missing or extra byte is detected, and
//! every error says at which byte offset it was found. The byte layout is
//! documented table by table in the crate's README.
//!
//! - [`SnapshotWriter`] streams records into any [`std::io::Write`];
//! - [`SnapshotReader`] streams them back out of any [`std::io::Read`],
//!   verifying as it goes; both hold one block (64 KiB by default) plus one
//!   record in memory, however large the snapshot;
//! - [`AtomicFile`] and [`save_snapshot`] replace a snapshot file so that a
//!   crash at any point leaves either the old file or the new one, whole.
//!
//! [`rdb`] is the codec of Redis 7.0's DUMP/RESTORE payloads, on the same [`Value`] model.
//!
//! The crate knows nothing of the store, the server or the network: the
//! caller iterates its keyspace into the writer and loads what the reader
//! yields.
//!
//! # Examples
//!
//! ```
//! use bytes::Bytes;
//! use redistill_persist::{Record, SnapshotReader, SnapshotWriter, Value};
//!
//! # fn main() -> Result<(), redistill_persist::PersistError> {
//! let records = vec![
//!     Record::new(0, "name", Value::String(Bytes::from_static(b"redistill"))),
//!     Record::new(0, "hits", Value::Integer(7)).with_expiry(1_900_000_000_000),
//!     Record::new(3, "user:1", Value::Hash(vec![("id".into(), "1".into())])),
//! ];
//!
//! let mut writer = SnapshotWriter::new(Vec::new(), 1_700_000_000_000)?;
//! for record in &records {
//!     writer.write_record(record)?;
//! }
//! let (bytes, stats) = writer.finish()?;
//! assert_eq!(stats.records, 3);
//!
//! let read_back = SnapshotReader::new(&bytes[..])?.collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(read_back, records);
//!
//! // A snapshot cut short is an error, never a silent partial load.
//! let cut = SnapshotReader::new(&bytes[..bytes.len() - 1])?.collect::<Result<Vec<_>, _>>();
//! assert!(cut.is_err());
//! # Ok(())
//! # }
//! ```

mod error;
mod file;
mod format;
pub mod rdb;
mod reader;
mod record;
mod writer;

pub use error::PersistError;
pub use file::{AtomicFile, save_snapshot};
pub use format::{
    BLOCK_HEADER_LEN, BLOCK_TAG, DEFAULT_BLOCK_SIZE, FOOTER_LEN, FOOTER_TAG, FormatVersion,
    HEADER_LEN, MAGIC, MAX_BLOCK_LEN, MAX_BLOCK_SIZE, MAX_STRING_LEN, ValueType,
};
pub use reader::{Header, SnapshotReader};
pub use record::{Record, Value};
pub use writer::{SnapshotStats, SnapshotWriter};

/// The README's examples run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
