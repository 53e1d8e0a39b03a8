//! Constants and small types that fix the byte layout of a snapshot file.
//!
//! Every multi-byte integer is little-endian. The layout itself is documented
//! table by table in the crate's README; the constants here are its single
//! source in code.

use crate::PersistError;

/// The eight bytes every snapshot file starts with.
pub const MAGIC: [u8; 8] = *b"RDSTSNAP";

/// Length of the file header: magic, version, flags, creation time, checksum.
pub const HEADER_LEN: usize = 24;

/// Frame tag that opens a block of records (`'B'`).
pub const BLOCK_TAG: u8 = b'B';

/// Frame tag that opens the footer (`'E'`, for end).
pub const FOOTER_TAG: u8 = b'E';

/// Length of a block's frame header: tag, payload length, record count.
pub const BLOCK_HEADER_LEN: usize = 9;

/// Length of the footer: tag, record count, block count, file checksum.
pub const FOOTER_LEN: usize = 21;

/// Largest key, string value, hash field or hash value accepted, in bytes.
///
/// The same limit as Redis's default `proto-max-bulk-len`, so anything a
/// Redis client could store fits.
pub const MAX_STRING_LEN: u32 = 512 * 1024 * 1024;

/// Largest block payload accepted, in bytes.
///
/// A reader holds one whole block in memory to verify its checksum before
/// handing out any record of it, so this bounds the memory a corrupt or
/// hostile length can make it use. A single record must fit in one block.
pub const MAX_BLOCK_LEN: u32 = 1024 * 1024 * 1024;

/// Default amount of record bytes a writer gathers before closing a block.
pub const DEFAULT_BLOCK_SIZE: usize = 64 * 1024;

/// Largest block size a writer may be configured with.
///
/// Blocks are the unit of buffering on both sides, so a larger target only
/// costs memory without making checksums any stronger.
pub const MAX_BLOCK_SIZE: usize = 16 * 1024 * 1024;

/// Record flag bit: an absolute expiry time follows the database index.
pub(crate) const RECORD_FLAG_EXPIRY: u8 = 0x01;

/// Version of the snapshot byte layout.
///
/// Stored as a `u16` right after the magic bytes, so a reader can refuse a
/// file from a newer release before interpreting anything else in it.
///
/// ```
/// use redistill_persist::FormatVersion;
///
/// assert_eq!(FormatVersion::try_from(1u16).unwrap(), FormatVersion::V1);
/// assert!(FormatVersion::try_from(7u16).is_err());
/// assert_eq!(u16::from(FormatVersion::CURRENT), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FormatVersion {
    /// The first layout: header, blocks of records, footer; strings, integers and hashes.
    V1 = 1,
    /// Version 1's layout plus list records (type tag `0x04`).
    V2 = 2,
    /// Version 2's layout plus set records (type tag `0x05`) and sorted-set records
    /// (type tag `0x06`).
    V3 = 3,
    /// Version 3's layout plus library records (type tag `0x07`): a server-side library's
    /// source code, kept beside the keyspace.
    V4 = 4,
}

impl FormatVersion {
    /// The version this crate writes. Files of every earlier version still read.
    pub const CURRENT: FormatVersion = FormatVersion::V4;

    /// Whether files of this version may hold values of `value_type`.
    pub fn holds(self, value_type: ValueType) -> bool {
        match value_type {
            ValueType::List => self >= FormatVersion::V2,
            ValueType::Set | ValueType::ZSet => self >= FormatVersion::V3,
            ValueType::Library => self >= FormatVersion::V4,
            ValueType::String | ValueType::Integer | ValueType::Hash => true,
        }
    }
}

impl From<FormatVersion> for u16 {
    fn from(version: FormatVersion) -> u16 {
        version as u16
    }
}

impl TryFrom<u16> for FormatVersion {
    type Error = PersistError;

    fn try_from(version: u16) -> Result<Self, Self::Error> {
        match version {
            1 => Ok(FormatVersion::V1),
            2 => Ok(FormatVersion::V2),
            3 => Ok(FormatVersion::V3),
            4 => Ok(FormatVersion::V4),
            _ => Err(PersistError::UnsupportedVersion { version }),
        }
    }
}

impl TryFrom<u8> for FormatVersion {
    type Error = PersistError;

    fn try_from(version: u8) -> Result<Self, Self::Error> {
        FormatVersion::try_from(u16::from(version))
    }
}

/// Type tag of a record's value, the byte that decides how the value is laid out.
///
/// Tag `0x04` (list) exists from format version 2 on, tags `0x05` (set) and
/// `0x06` (sorted set) from version 3 on, tag `0x07` (library) from version 4 on; a file of an earlier version holding
/// one is refused as [`PersistError::UnknownTypeTag`], as the readers of that
/// version did.
///
/// ```
/// use redistill_persist::ValueType;
///
/// assert_eq!(ValueType::try_from(0x03).unwrap(), ValueType::Hash);
/// assert_eq!(ValueType::try_from(0x04).unwrap(), ValueType::List);
/// assert_eq!(u8::from(ValueType::String), 0x01);
/// assert_eq!(ValueType::try_from(0x05).unwrap(), ValueType::Set);
/// assert_eq!(ValueType::try_from(0x06).unwrap(), ValueType::ZSet);
/// assert_eq!(ValueType::try_from(0x07).unwrap(), ValueType::Library);
/// assert!(ValueType::try_from(0x08).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueType {
    /// A binary-safe string.
    String = 0x01,
    /// A string held in its integer form, stored as an `i64`.
    Integer = 0x02,
    /// A hash of field/value pairs.
    Hash = 0x03,
    /// A list of elements (format version 2 on).
    List = 0x04,
    /// A set of members (format version 3 on).
    Set = 0x05,
    /// A sorted set of members with scores (format version 3 on).
    ZSet = 0x06,
    /// A server-side library's source code (format version 4 on).
    Library = 0x07,
}

impl From<ValueType> for u8 {
    fn from(value_type: ValueType) -> u8 {
        value_type as u8
    }
}

impl TryFrom<u8> for ValueType {
    type Error = PersistError;

    /// Maps a tag to its type; the error carries offset 0 because the tag
    /// alone does not know where it was read (the reader fills in the real one).
    fn try_from(tag: u8) -> Result<Self, Self::Error> {
        match tag {
            0x01 => Ok(ValueType::String),
            0x02 => Ok(ValueType::Integer),
            0x03 => Ok(ValueType::Hash),
            0x04 => Ok(ValueType::List),
            0x05 => Ok(ValueType::Set),
            0x06 => Ok(ValueType::ZSet),
            0x07 => Ok(ValueType::Library),
            _ => Err(PersistError::UnknownTypeTag { offset: 0, tag }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_the_standard_crc32c() {
        // The check value other implementations are tested against.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn version_and_type_tags_convert_both_ways() {
        assert_eq!(FormatVersion::try_from(1u8).unwrap(), FormatVersion::V1);
        assert_eq!(FormatVersion::try_from(2u8).unwrap(), FormatVersion::V2);
        assert_eq!(FormatVersion::try_from(3u8).unwrap(), FormatVersion::V3);
        assert!(!FormatVersion::V1.holds(ValueType::List));
        assert!(FormatVersion::V2.holds(ValueType::List));
        assert!(!FormatVersion::V2.holds(ValueType::Set));
        assert!(FormatVersion::V3.holds(ValueType::Set));
        assert!(!FormatVersion::V2.holds(ValueType::ZSet));
        assert!(FormatVersion::V3.holds(ValueType::ZSet));
        assert_eq!(FormatVersion::try_from(4u8).unwrap(), FormatVersion::V4);
        assert!(!FormatVersion::V3.holds(ValueType::Library));
        assert!(FormatVersion::V4.holds(ValueType::Library));
        assert!(matches!(
            FormatVersion::try_from(0u8),
            Err(PersistError::UnsupportedVersion { version: 0 })
        ));
        assert!(matches!(
            FormatVersion::try_from(u16::MAX),
            Err(PersistError::UnsupportedVersion { version: u16::MAX })
        ));
        for value_type in [
            ValueType::String,
            ValueType::Integer,
            ValueType::Hash,
            ValueType::List,
            ValueType::Set,
            ValueType::ZSet,
            ValueType::Library,
        ] {
            assert_eq!(
                ValueType::try_from(u8::from(value_type)).unwrap(),
                value_type
            );
        }
        for tag in [0x00, 0x08, 0xff] {
            assert!(matches!(
                ValueType::try_from(tag),
                Err(PersistError::UnknownTypeTag { tag: found, .. }) if found == tag
            ));
        }
    }
}
