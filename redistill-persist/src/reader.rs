//! The streaming snapshot reader.

use std::fs::File;
use std::io::{self, BufReader, ErrorKind, Read};
use std::iter::FusedIterator;
use std::path::Path;

use bytes::Bytes;

use crate::format::{
    BLOCK_HEADER_LEN, BLOCK_TAG, DEFAULT_BLOCK_SIZE, FOOTER_TAG, HEADER_LEN, MAGIC, MAX_BLOCK_LEN,
    MAX_BLOCK_SIZE, MAX_STRING_LEN, RECORD_FLAG_EXPIRY,
};
use crate::{FormatVersion, PersistError, Record, SnapshotStats, Value, ValueType};

/// The smallest encoded record: tag, flags, db, empty key, empty string.
const MIN_RECORD_LEN: u32 = 1 + 1 + 4 + 4 + 4;

/// The snapshot header, as read from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header {
    /// Format version the file was written with.
    pub version: FormatVersion,
    /// Header flags; none are defined in version 1, so always 0.
    pub flags: u16,
    /// When the snapshot was started, in milliseconds since the Unix epoch.
    pub created_at_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Reading,
    Complete(SnapshotStats),
    Failed,
}

/// Reads a snapshot record by record from any [`Read`], verifying it as it goes.
///
/// Each block is read whole and its checksum verified before any of its
/// records is handed out, so memory stays at one block plus one record. The
/// footer's counts and whole-file checksum can only be checked at the end:
/// **a load is good only once the reader has returned `None`** (or
/// [`is_complete`](Self::is_complete) is true). Load into a staging area and
/// discard it on any error; an error can come after records were returned
/// (a missing footer, a missing block, bytes after the end).
///
/// After the first error the reader is finished: it returns `None`.
///
/// # Examples
///
/// ```
/// use redistill_persist::{SnapshotReader, SnapshotWriter, Value};
///
/// # fn main() -> Result<(), redistill_persist::PersistError> {
/// let mut writer = SnapshotWriter::new(Vec::new(), 1_700_000_000_000)?;
/// writer.write_string(0, b"k", None, b"v")?;
/// let (bytes, _) = writer.finish()?;
///
/// let mut reader = SnapshotReader::new(&bytes[..])?;
/// assert_eq!(reader.header().created_at_ms, 1_700_000_000_000);
/// let records = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
/// assert_eq!(records[0].value, Value::String("v".into()));
/// assert!(reader.is_complete());
///
/// // Any damage is reported, with where it was found.
/// let mut damaged = bytes.clone();
/// damaged[43] ^= 0x01; // a byte of the key
/// let err = SnapshotReader::new(&damaged[..])?.collect::<Result<Vec<_>, _>>().unwrap_err();
/// assert!(err.to_string().contains("offset 24"), "{err}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct SnapshotReader<R: Read> {
    inner: R,
    header: Header,
    /// Offset of the next byte to read from `inner`.
    offset: u64,
    /// Checksum of every byte read so far, for the footer's comparison.
    file_crc: u32,
    /// Payload of the current block.
    block: Vec<u8>,
    block_pos: usize,
    /// Offset of the current block's payload in the file.
    block_offset: u64,
    block_records_left: u32,
    records: u64,
    blocks: u64,
    state: State,
}

impl SnapshotReader<BufReader<File>> {
    /// Opens a snapshot file and reads its header.
    ///
    /// # Errors
    ///
    /// [`PersistError::File`] if the file cannot be opened; otherwise as
    /// [`new`](Self::new).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, PersistError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| PersistError::File {
            action: "open the snapshot",
            path: path.to_path_buf(),
            source,
        })?;
        SnapshotReader::new(BufReader::with_capacity(DEFAULT_BLOCK_SIZE, file))
    }
}

impl<R: Read> SnapshotReader<R> {
    /// Reads and verifies the header.
    ///
    /// # Errors
    ///
    /// [`PersistError::BadMagic`], [`PersistError::UnsupportedVersion`],
    /// [`PersistError::HeaderChecksumMismatch`],
    /// [`PersistError::UnsupportedFlags`], [`PersistError::Truncated`] or
    /// [`PersistError::Io`].
    pub fn new(mut inner: R) -> Result<Self, PersistError> {
        let mut header = [0u8; HEADER_LEN];
        let got = read_full(&mut inner, &mut header[..8])?;
        if got < 8 {
            return Err(truncated(got, "the file header"));
        }
        if header[..8] != MAGIC {
            let mut found = [0u8; 8];
            found.copy_from_slice(&header[..8]);
            return Err(PersistError::BadMagic { found });
        }
        // The version is checked before the rest, whose layout it decides.
        let got = read_full(&mut inner, &mut header[8..10])?;
        if got < 2 {
            return Err(truncated(8 + got, "the file header"));
        }
        let version = FormatVersion::try_from(u16::from_le_bytes([header[8], header[9]]))?;
        let got = read_full(&mut inner, &mut header[10..])?;
        if got < HEADER_LEN - 10 {
            return Err(truncated(10 + got, "the file header"));
        }
        let stored = le_u32(&header[20..24]);
        let computed = crc32c::crc32c(&header[..20]);
        if stored != computed {
            return Err(PersistError::HeaderChecksumMismatch {
                offset: 20,
                stored,
                computed,
            });
        }
        let flags = u16::from_le_bytes([header[10], header[11]]);
        if flags != 0 {
            return Err(PersistError::UnsupportedFlags { offset: 10, flags });
        }
        Ok(SnapshotReader {
            inner,
            header: Header {
                version,
                flags,
                created_at_ms: le_u64(&header[12..20]),
            },
            offset: HEADER_LEN as u64,
            file_crc: crc32c::crc32c(&header),
            block: Vec::new(),
            block_pos: 0,
            block_offset: 0,
            block_records_left: 0,
            records: 0,
            blocks: 0,
            state: State::Reading,
        })
    }

    /// The header read when the reader was created.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Number of records returned so far.
    pub fn records_read(&self) -> u64 {
        self.records
    }

    /// Offset of the next byte the reader will consume from the input.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether the footer was read and every check passed: only then is
    /// what was read the whole snapshot.
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Complete(_))
    }

    /// The footer's figures, once the reader is complete.
    pub fn stats(&self) -> Option<SnapshotStats> {
        match self.state {
            State::Complete(stats) => Some(stats),
            _ => None,
        }
    }

    /// Returns the next record, `Ok(None)` once the whole snapshot has been
    /// read and verified, or the first problem found.
    ///
    /// # Errors
    ///
    /// Any reader variant of [`PersistError`], with the offset where the
    /// problem was found.
    pub fn next_record(&mut self) -> Result<Option<Record>, PersistError> {
        if self.state != State::Reading {
            return Ok(None);
        }
        let result = self.advance();
        if result.is_err() {
            self.state = State::Failed;
            // Let go of the block at once: a failed load should not hold memory.
            self.block = Vec::new();
        }
        result
    }

    fn advance(&mut self) -> Result<Option<Record>, PersistError> {
        loop {
            if self.block_records_left > 0 {
                let mut cursor = Cursor {
                    buf: &self.block,
                    pos: self.block_pos,
                    base: self.block_offset,
                    version: self.header.version,
                };
                let record = cursor.record()?;
                self.block_pos = cursor.pos;
                self.block_records_left -= 1;
                if self.block_records_left == 0 && self.block_pos != self.block.len() {
                    return Err(PersistError::Malformed {
                        offset: self.block_offset + self.block_pos as u64,
                        reason: "bytes after the last record of a block",
                    });
                }
                self.records += 1;
                return Ok(Some(record));
            }
            let frame_at = self.offset;
            let mut tag = [0u8; 1];
            self.read_checked(&mut tag, "a block or the footer")?;
            match tag[0] {
                BLOCK_TAG => self.read_block(frame_at)?,
                FOOTER_TAG => {
                    self.read_footer(frame_at)?;
                    return Ok(None);
                }
                tag => {
                    return Err(PersistError::UnknownFrameTag {
                        offset: frame_at,
                        tag,
                    });
                }
            }
        }
    }

    /// Reads the rest of a block whose tag was just read at `block_at`.
    fn read_block(&mut self, block_at: u64) -> Result<(), PersistError> {
        let mut frame = [0u8; BLOCK_HEADER_LEN];
        frame[0] = BLOCK_TAG;
        self.read_checked(&mut frame[1..], "a block header")?;
        let payload_len = le_u32(&frame[1..5]);
        let record_count = le_u32(&frame[5..9]);
        if payload_len > MAX_BLOCK_LEN {
            return Err(PersistError::LengthTooLarge {
                offset: block_at + 1,
                len: u64::from(payload_len),
                max: u64::from(MAX_BLOCK_LEN),
            });
        }
        if record_count == 0 {
            return Err(PersistError::Malformed {
                offset: block_at + 5,
                reason: "block with no records",
            });
        }
        if record_count > payload_len / MIN_RECORD_LEN {
            return Err(PersistError::Malformed {
                offset: block_at + 5,
                reason: "block claims more records than its payload can hold",
            });
        }

        // Reading through `take` grows the buffer only as far as the data
        // really goes, so a corrupt length cannot allocate ahead of the input.
        let payload_at = self.offset;
        self.block.clear();
        if self.block.capacity() > 2 * MAX_BLOCK_SIZE {
            self.block = Vec::new();
        }
        self.block
            .reserve((payload_len as usize).min(2 * DEFAULT_BLOCK_SIZE));
        let got = (&mut self.inner)
            .take(u64::from(payload_len))
            .read_to_end(&mut self.block)?;
        self.offset += got as u64;
        if got < payload_len as usize {
            return Err(PersistError::Truncated {
                offset: self.offset,
                expected: "the rest of a block",
            });
        }
        let mut stored = [0u8; 4];
        self.read_raw(&mut stored, "a block checksum")?;
        let stored = u32::from_le_bytes(stored);
        let computed = crc32c::crc32c_append(crc32c::crc32c(&frame), &self.block);
        if stored != computed {
            return Err(PersistError::BlockChecksumMismatch {
                offset: block_at,
                stored,
                computed,
            });
        }
        // The tag and frame header went into the file checksum as they were read.
        self.file_crc = crc32c::crc32c_append(self.file_crc, &self.block);
        self.file_crc = crc32c::crc32c_append(self.file_crc, &stored.to_le_bytes());
        self.block_pos = 0;
        self.block_offset = payload_at;
        self.block_records_left = record_count;
        self.blocks += 1;
        Ok(())
    }

    /// Reads the rest of the footer whose tag was just read at `footer_at`,
    /// then makes sure nothing follows it.
    fn read_footer(&mut self, footer_at: u64) -> Result<(), PersistError> {
        let mut counts = [0u8; 16];
        self.read_checked(&mut counts, "the footer")?;
        let crc_at = self.offset;
        let mut stored = [0u8; 4];
        self.read_raw(&mut stored, "the footer")?;
        let stored = u32::from_le_bytes(stored);
        if stored != self.file_crc {
            return Err(PersistError::FileChecksumMismatch {
                offset: crc_at,
                stored,
                computed: self.file_crc,
            });
        }
        let stored_records = le_u64(&counts[..8]);
        if stored_records != self.records {
            return Err(PersistError::CountMismatch {
                offset: footer_at,
                what: "records",
                stored: stored_records,
                counted: self.records,
            });
        }
        let stored_blocks = le_u64(&counts[8..]);
        if stored_blocks != self.blocks {
            return Err(PersistError::CountMismatch {
                offset: footer_at,
                what: "blocks",
                stored: stored_blocks,
                counted: self.blocks,
            });
        }
        let mut probe = [0u8; 1];
        if read_full(&mut self.inner, &mut probe)? > 0 {
            return Err(PersistError::TrailingBytes {
                offset: self.offset,
            });
        }
        self.state = State::Complete(SnapshotStats {
            records: self.records,
            blocks: self.blocks,
            bytes: self.offset,
        });
        Ok(())
    }

    /// Fills `buf` and adds it to the file checksum.
    fn read_checked(&mut self, buf: &mut [u8], expected: &'static str) -> Result<(), PersistError> {
        self.read_raw(buf, expected)?;
        self.file_crc = crc32c::crc32c_append(self.file_crc, buf);
        Ok(())
    }

    /// Fills `buf` without touching the file checksum.
    fn read_raw(&mut self, buf: &mut [u8], expected: &'static str) -> Result<(), PersistError> {
        let got = read_full(&mut self.inner, buf)?;
        self.offset += got as u64;
        if got < buf.len() {
            return Err(PersistError::Truncated {
                offset: self.offset,
                expected,
            });
        }
        Ok(())
    }
}

impl<R: Read> Iterator for SnapshotReader<R> {
    type Item = Result<Record, PersistError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

impl<R: Read> FusedIterator for SnapshotReader<R> {}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn read_full(inner: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match inner.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

fn truncated(offset: usize, expected: &'static str) -> PersistError {
    PersistError::Truncated {
        offset: offset as u64,
        expected,
    }
}

fn le_u32(bytes: &[u8]) -> u32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(raw)
}

fn le_u64(bytes: &[u8]) -> u64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(raw)
}

/// Decodes records from a verified block payload.
///
/// A block's checksum has passed by now, so these checks catch files from a
/// faulty writer or crafted on purpose; they still never trust a length.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` in the file.
    base: u64,
    /// The file's format version, which decides the types it may hold.
    version: FormatVersion,
}

impl<'a> Cursor<'a> {
    fn at(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PersistError> {
        if self.remaining() < n {
            return Err(PersistError::Malformed {
                offset: self.at(),
                reason: "record runs past the end of its block",
            });
        }
        let bytes = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, PersistError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, PersistError> {
        Ok(le_u32(self.take(4)?))
    }

    fn u64(&mut self) -> Result<u64, PersistError> {
        Ok(le_u64(self.take(8)?))
    }

    /// A collection's item count, refused when the record is too short to hold that many
    /// items of at least `min_item_bytes` each: nothing is reserved for what a corrupt
    /// count claims.
    fn count(&mut self, min_item_bytes: usize) -> Result<u32, PersistError> {
        let count_at = self.at();
        let count = self.u32()?;
        let max = self.remaining() / min_item_bytes;
        if count as usize > max {
            return Err(PersistError::LengthTooLarge {
                offset: count_at,
                len: u64::from(count),
                max: max as u64,
            });
        }
        Ok(count)
    }

    /// A count, then that many strings: a list's elements or a set's members.
    fn strings(&mut self) -> Result<Vec<Bytes>, PersistError> {
        // Each string takes at least its 4-byte length.
        let count = self.count(4)?;
        let mut out = Vec::with_capacity((count as usize).min(1024));
        for _ in 0..count {
            out.push(self.string()?);
        }
        Ok(out)
    }

    /// A length-prefixed string, copied out so that a loaded key does not
    /// keep its whole block alive for as long as the key lives.
    fn string(&mut self) -> Result<Bytes, PersistError> {
        let len_at = self.at();
        let len = self.u32()?;
        if len > MAX_STRING_LEN {
            return Err(PersistError::LengthTooLarge {
                offset: len_at,
                len: u64::from(len),
                max: u64::from(MAX_STRING_LEN),
            });
        }
        if len as usize > self.remaining() {
            return Err(PersistError::LengthTooLarge {
                offset: len_at,
                len: u64::from(len),
                max: self.remaining() as u64,
            });
        }
        Ok(Bytes::copy_from_slice(self.take(len as usize)?))
    }

    fn record(&mut self) -> Result<Record, PersistError> {
        let tag_at = self.at();
        let tag = self.u8()?;
        let value_type = ValueType::try_from(tag)
            .ok()
            .filter(|&t| self.version.holds(t))
            .ok_or(PersistError::UnknownTypeTag {
                offset: tag_at,
                tag,
            })?;
        let flags_at = self.at();
        let flags = self.u8()?;
        if flags & !RECORD_FLAG_EXPIRY != 0 {
            return Err(PersistError::Malformed {
                offset: flags_at,
                reason: "reserved record flag bits set",
            });
        }
        let db = self.u32()?;
        let expire_at_ms = if flags & RECORD_FLAG_EXPIRY != 0 {
            Some(self.u64()?)
        } else {
            None
        };
        let key = self.string()?;
        let value = match value_type {
            ValueType::String => Value::String(self.string()?),
            ValueType::Library => Value::Library(self.string()?),
            ValueType::Integer => {
                let mut raw = [0u8; 8];
                raw.copy_from_slice(self.take(8)?);
                Value::Integer(i64::from_le_bytes(raw))
            }
            ValueType::Hash => {
                // Each pair takes at least its two 4-byte lengths.
                let count = self.count(8)?;
                // Grown as pairs really decode, so a record that fails halfway
                // has not reserved room for all it claimed.
                let mut fields = Vec::with_capacity((count as usize).min(1024));
                for _ in 0..count {
                    let field = self.string()?;
                    let value = self.string()?;
                    fields.push((field, value));
                }
                Value::Hash(fields)
            }
            ValueType::List => Value::List(self.strings()?),
            ValueType::Set => Value::Set(self.strings()?),
            ValueType::ZSet => {
                // Each member takes at least its 4-byte length and its 8-byte score.
                let count = self.count(12)?;
                let mut members = Vec::with_capacity((count as usize).min(1024));
                for _ in 0..count {
                    let member = self.string()?;
                    let score_at = self.at();
                    let score = f64::from_bits(le_u64(self.take(8)?));
                    if score.is_nan() {
                        return Err(PersistError::Malformed {
                            offset: score_at,
                            reason: "a sorted-set score is NaN",
                        });
                    }
                    members.push((member, score));
                }
                Value::ZSet(members)
            }
        };
        Ok(Record {
            db,
            key,
            expire_at_ms,
            value,
        })
    }
}
