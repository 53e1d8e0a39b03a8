//! The crate's error type.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while writing or reading a snapshot.
///
/// Reader errors carry the absolute byte offset in the file where the
/// problem was found, so a damaged file can be inspected with a hex dump.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    /// The underlying reader or writer failed.
    #[error("I/O error: {source}")]
    Io {
        /// The error from the reader or writer.
        #[from]
        source: io::Error,
    },

    /// A file-system operation on a snapshot file failed.
    #[error("failed to {action} {}: {source}", path.display())]
    File {
        /// What was being done, e.g. "rename the temporary file onto".
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The error from the operating system.
        #[source]
        source: io::Error,
    },

    /// The file does not start with the snapshot magic bytes.
    #[error("not a snapshot file: bad magic bytes {found:02x?}")]
    BadMagic {
        /// The first eight bytes found instead.
        found: [u8; 8],
    },

    /// The file was written in a format version this reader does not know.
    #[error("unsupported snapshot format version {version}")]
    UnsupportedVersion {
        /// The version number found in the header.
        version: u16,
    },

    /// The header has flag bits set that this version does not define.
    #[error("unsupported header flags {flags:#06x} at offset {offset}")]
    UnsupportedFlags {
        /// Offset of the flags field.
        offset: u64,
        /// The flags found.
        flags: u16,
    },

    /// The header's checksum does not match its contents.
    #[error(
        "header checksum mismatch at offset {offset}: stored {stored:#010x}, computed {computed:#010x}"
    )]
    HeaderChecksumMismatch {
        /// Offset of the stored checksum.
        offset: u64,
        /// The checksum stored in the file.
        stored: u32,
        /// The checksum computed over the header bytes.
        computed: u32,
    },

    /// A block's checksum does not match its contents.
    #[error(
        "block checksum mismatch in the block at offset {offset}: stored {stored:#010x}, computed {computed:#010x}"
    )]
    BlockChecksumMismatch {
        /// Offset of the block's first byte (its tag).
        offset: u64,
        /// The checksum stored after the block.
        stored: u32,
        /// The checksum computed over the block.
        computed: u32,
    },

    /// The whole-file checksum in the footer does not match the file.
    #[error(
        "file checksum mismatch at offset {offset}: stored {stored:#010x}, computed {computed:#010x}"
    )]
    FileChecksumMismatch {
        /// Offset of the stored checksum.
        offset: u64,
        /// The checksum stored in the footer.
        stored: u32,
        /// The checksum computed over every byte before it.
        computed: u32,
    },

    /// The footer's counts disagree with what the file holds.
    #[error("footer at offset {offset} records {stored} {what}, but the file holds {counted}")]
    CountMismatch {
        /// Offset of the footer's first byte.
        offset: u64,
        /// What was counted: "records" or "blocks".
        what: &'static str,
        /// The count stored in the footer.
        stored: u64,
        /// The count found while reading.
        counted: u64,
    },

    /// The data ends before the structure being read is complete.
    #[error("snapshot truncated at offset {offset}: expected {expected}")]
    Truncated {
        /// Offset where the data ran out (the length of what was available).
        offset: u64,
        /// What was being read, e.g. "a block or the footer".
        expected: &'static str,
    },

    /// A frame starts with a tag that is neither a block nor the footer.
    #[error("unknown frame tag {tag:#04x} at offset {offset}")]
    UnknownFrameTag {
        /// Offset of the tag.
        offset: u64,
        /// The tag found.
        tag: u8,
    },

    /// A record has a value type tag this version does not know.
    #[error("unknown value type tag {tag:#04x} at offset {offset}")]
    UnknownTypeTag {
        /// Offset of the tag.
        offset: u64,
        /// The tag found.
        tag: u8,
    },

    /// A length field is larger than the limit or than the data left.
    #[error("length {len} at offset {offset} exceeds the limit of {max}")]
    LengthTooLarge {
        /// Offset of the length field.
        offset: u64,
        /// The length found.
        len: u64,
        /// The largest length acceptable there.
        max: u64,
    },

    /// Bytes follow the footer.
    #[error("trailing bytes after the footer at offset {offset}")]
    TrailingBytes {
        /// Offset of the first byte after the footer.
        offset: u64,
    },

    /// A structure is internally inconsistent (e.g. a block whose records do
    /// not fill its payload exactly).
    #[error("malformed snapshot at offset {offset}: {reason}")]
    Malformed {
        /// Offset of the offending field.
        offset: u64,
        /// What is wrong.
        reason: &'static str,
    },

    /// A record given to the writer does not fit the format's limits.
    #[error("record too large to write: {len} bytes exceeds the limit of {max}")]
    RecordTooLarge {
        /// Size of the offending key, value or encoded record.
        len: u64,
        /// The limit it exceeds.
        max: u64,
    },

    /// A sorted-set score given to the writer is NaN, which no sorted set holds.
    #[error("a sorted-set score is NaN")]
    NanScore,

    /// An earlier write failed, so the snapshot being written is incomplete.
    #[error("an earlier write failed; the snapshot being written is incomplete")]
    WriterFailed,
}
