//! The streaming snapshot writer.

use std::io::Write;

use crate::format::{
    BLOCK_HEADER_LEN, BLOCK_TAG, DEFAULT_BLOCK_SIZE, FOOTER_TAG, HEADER_LEN, MAGIC, MAX_BLOCK_LEN,
    MAX_BLOCK_SIZE, MAX_STRING_LEN, RECORD_FLAG_EXPIRY,
};
use crate::{FormatVersion, PersistError, Record, Value, ValueType};

/// What a finished snapshot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotStats {
    /// Number of records.
    pub records: u64,
    /// Number of blocks the records were grouped into.
    pub blocks: u64,
    /// Total size of the snapshot in bytes, header and footer included.
    pub bytes: u64,
}

/// Writes a snapshot record by record to any [`Write`].
///
/// Records are gathered into a block of about `block_size` bytes (64 KiB by
/// default); each full block is written to the inner writer with a single
/// `write_all`, so memory stays at one block plus the record being added,
/// however large the snapshot. [`finish`](Self::finish) writes the last block
/// and the footer; a snapshot whose writer was dropped without it has no
/// footer and is rejected by the reader.
///
/// Once the inner writer has failed, every later call returns
/// [`PersistError::WriterFailed`]: the output is incomplete and must be
/// discarded. A record that is too large is refused with
/// [`PersistError::RecordTooLarge`] without writing anything, and the writer
/// stays usable.
///
/// # Examples
///
/// ```
/// use redistill_persist::{SnapshotWriter, Record, Value};
///
/// # fn main() -> Result<(), redistill_persist::PersistError> {
/// let mut writer = SnapshotWriter::new(Vec::new(), 1_700_000_000_000)?;
/// writer.write_string(0, b"greeting", None, b"hello")?;
/// writer.write_integer(0, b"visits", Some(1_700_000_060_000), 42)?;
/// writer.write_hash(1, b"user:1", None, [(&b"name"[..], &b"Ada"[..])])?;
/// writer.write_record(&Record::new(2, "k", Value::String("v".into())))?;
/// let (bytes, stats) = writer.finish()?;
/// assert_eq!(stats.records, 4);
/// assert_eq!(stats.bytes, bytes.len() as u64);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct SnapshotWriter<W: Write> {
    inner: W,
    /// The block being gathered, starting with room for its frame header so
    /// the whole block goes out in one write.
    block: Vec<u8>,
    block_records: u32,
    block_size: usize,
    file_crc: u32,
    bytes: u64,
    records: u64,
    blocks: u64,
    failed: bool,
}

impl<W: Write> SnapshotWriter<W> {
    /// Starts a snapshot with the default block size, writing its header.
    ///
    /// `created_at_ms` is stored in the header as the creation time in
    /// milliseconds since the Unix epoch.
    ///
    /// # Errors
    ///
    /// [`PersistError::Io`] if writing the header fails.
    pub fn new(inner: W, created_at_ms: u64) -> Result<Self, PersistError> {
        Self::with_block_size(inner, created_at_ms, DEFAULT_BLOCK_SIZE)
    }

    /// Starts a snapshot that closes a block once it holds at least
    /// `block_size` bytes of records (clamped to `1..=16 MiB`).
    ///
    /// Smaller blocks localise damage and lower memory; larger ones cost
    /// fewer bytes and checksums. A record larger than the block size gets a
    /// block of its own.
    ///
    /// # Errors
    ///
    /// [`PersistError::Io`] if writing the header fails.
    pub fn with_block_size(
        mut inner: W,
        created_at_ms: u64,
        block_size: usize,
    ) -> Result<Self, PersistError> {
        let mut header = [0u8; HEADER_LEN];
        header[0..8].copy_from_slice(&MAGIC);
        header[8..10].copy_from_slice(&u16::from(FormatVersion::CURRENT).to_le_bytes());
        // Bytes 10..12 are the flags: none are defined yet.
        header[12..20].copy_from_slice(&created_at_ms.to_le_bytes());
        let header_crc = crc32c::crc32c(&header[..20]);
        header[20..24].copy_from_slice(&header_crc.to_le_bytes());
        inner.write_all(&header)?;

        let block_size = block_size.clamp(1, MAX_BLOCK_SIZE);
        // Room for the record that crosses the mark and the checksum too, so
        // that a typical block never reallocates.
        let mut block =
            Vec::with_capacity(BLOCK_HEADER_LEN + block_size.min(DEFAULT_BLOCK_SIZE) + 4096);
        block.resize(BLOCK_HEADER_LEN, 0);
        Ok(SnapshotWriter {
            inner,
            block,
            block_records: 0,
            block_size,
            file_crc: crc32c::crc32c(&header),
            bytes: HEADER_LEN as u64,
            records: 0,
            blocks: 0,
            failed: false,
        })
    }

    /// Adds one record of any type.
    ///
    /// # Errors
    ///
    /// [`PersistError::RecordTooLarge`] if a key, string, field or value is
    /// over 512 MiB or the whole record over 1 GiB;
    /// [`PersistError::Io`] or [`PersistError::WriterFailed`] if the inner
    /// writer failed.
    pub fn write_record(&mut self, record: &Record) -> Result<(), PersistError> {
        match &record.value {
            Value::String(value) => {
                self.write_string(record.db, &record.key, record.expire_at_ms, value)
            }
            Value::Integer(value) => {
                self.write_integer(record.db, &record.key, record.expire_at_ms, *value)
            }
            Value::Hash(fields) => self.write_hash(
                record.db,
                &record.key,
                record.expire_at_ms,
                fields.iter().map(|(f, v)| (&f[..], &v[..])),
            ),
            Value::List(elements) => self.write_list(
                record.db,
                &record.key,
                record.expire_at_ms,
                elements.iter().map(|e| &e[..]),
            ),
            Value::Set(members) => self.write_set(
                record.db,
                &record.key,
                record.expire_at_ms,
                members.iter().map(|m| &m[..]),
            ),
            Value::ZSet(members) => self.write_zset(
                record.db,
                &record.key,
                record.expire_at_ms,
                members.iter().map(|(m, s)| (&m[..], *s)),
            ),
            Value::Library(code) => {
                check_string_len(code)?;
                let start = self.begin_record(
                    ValueType::Library,
                    record.db,
                    &record.key,
                    record.expire_at_ms,
                )?;
                put_bytes(&mut self.block, code);
                self.end_record(start)
            }
        }
    }

    /// Adds a library record: a server-side library's source code under its name, kept
    /// beside the keyspace (database 0, no expiry). The format does not interpret it.
    ///
    /// # Errors
    ///
    /// As [`write_record`](Self::write_record).
    pub fn write_library(&mut self, name: &[u8], code: &[u8]) -> Result<(), PersistError> {
        check_string_len(code)?;
        let start = self.begin_record(ValueType::Library, 0, name, None)?;
        put_bytes(&mut self.block, code);
        self.end_record(start)
    }

    /// Adds a string record without building a [`Record`].
    ///
    /// # Errors
    ///
    /// As [`write_record`](Self::write_record).
    pub fn write_string(
        &mut self,
        db: u32,
        key: &[u8],
        expire_at_ms: Option<u64>,
        value: &[u8],
    ) -> Result<(), PersistError> {
        check_string_len(value)?;
        let start = self.begin_record(ValueType::String, db, key, expire_at_ms)?;
        put_bytes(&mut self.block, value);
        self.end_record(start)
    }

    /// Adds an integer-form string record.
    ///
    /// # Errors
    ///
    /// As [`write_record`](Self::write_record).
    pub fn write_integer(
        &mut self,
        db: u32,
        key: &[u8],
        expire_at_ms: Option<u64>,
        value: i64,
    ) -> Result<(), PersistError> {
        let start = self.begin_record(ValueType::Integer, db, key, expire_at_ms)?;
        self.block.extend_from_slice(&value.to_le_bytes());
        self.end_record(start)
    }

    /// Adds a hash record from its field/value pairs, straight from whatever
    /// the caller iterates, so a large hash is never copied into a [`Record`].
    ///
    /// # Errors
    ///
    /// As [`write_record`](Self::write_record); on error nothing of the
    /// record is kept.
    pub fn write_hash<'f, I>(
        &mut self,
        db: u32,
        key: &[u8],
        expire_at_ms: Option<u64>,
        fields: I,
    ) -> Result<(), PersistError>
    where
        I: IntoIterator<Item = (&'f [u8], &'f [u8])>,
    {
        let pairs = fields
            .into_iter()
            .map(|(field, value)| ([field, value], None));
        self.write_items(ValueType::Hash, db, key, expire_at_ms, pairs)
    }

    /// Adds a list record from its elements, head first, straight from whatever
    /// the caller iterates.
    ///
    /// # Errors
    ///
    /// As [`write_record`](Self::write_record); on error nothing of the
    /// record is kept.
    pub fn write_list<'e, I>(
        &mut self,
        db: u32,
        key: &[u8],
        expire_at_ms: Option<u64>,
        elements: I,
    ) -> Result<(), PersistError>
    where
        I: IntoIterator<Item = &'e [u8]>,
    {
        let items = elements.into_iter().map(|element| ([element], None));
        self.write_items(ValueType::List, db, key, expire_at_ms, items)
    }

    /// Adds a set record from its members, straight from whatever the caller
    /// iterates. The format does not check that they are distinct.
    ///
    /// # Errors
    ///
    /// As [`write_record`](Self::write_record); on error nothing of the
    /// record is kept.
    pub fn write_set<'m, I>(
        &mut self,
        db: u32,
        key: &[u8],
        expire_at_ms: Option<u64>,
        members: I,
    ) -> Result<(), PersistError>
    where
        I: IntoIterator<Item = &'m [u8]>,
    {
        let items = members.into_iter().map(|member| ([member], None));
        self.write_items(ValueType::Set, db, key, expire_at_ms, items)
    }

    /// Adds a sorted-set record from its members and scores, straight from
    /// whatever the caller iterates (lowest score first, as a store hands them
    /// out; the format does not check the order or that members are distinct).
    ///
    /// # Errors
    ///
    /// As [`write_record`](Self::write_record), and [`PersistError::NanScore`]
    /// for a NaN score; on error nothing of the record is kept.
    pub fn write_zset<'m, I>(
        &mut self,
        db: u32,
        key: &[u8],
        expire_at_ms: Option<u64>,
        members: I,
    ) -> Result<(), PersistError>
    where
        I: IntoIterator<Item = (&'m [u8], f64)>,
    {
        let items = members
            .into_iter()
            .map(|(member, score)| ([member], Some(score)));
        self.write_items(ValueType::ZSet, db, key, expire_at_ms, items)
    }

    /// Adds a collection record: the count of `items`, then each item's strings
    /// (a hash's field and value, a list's element, a set's or sorted set's member), then
    /// its score if it has one (a sorted set's, 8 bytes, never NaN). On error nothing of
    /// the record is kept.
    fn write_items<'s, const N: usize>(
        &mut self,
        value_type: ValueType,
        db: u32,
        key: &[u8],
        expire_at_ms: Option<u64>,
        items: impl Iterator<Item = ([&'s [u8]; N], Option<f64>)>,
    ) -> Result<(), PersistError> {
        let start = self.begin_record(value_type, db, key, expire_at_ms)?;
        // The count is patched in once the iterator is exhausted, so any
        // iterator will do, not only exact-size ones.
        let count_at = self.block.len();
        self.block.extend_from_slice(&0u32.to_le_bytes());
        let mut count: u32 = 0;
        for (item, score) in items {
            let added: usize =
                item.iter().map(|s| 4 + s.len()).sum::<usize>() + score.map_or(0, |_| 8);
            let checked = item
                .iter()
                .try_for_each(|s| check_string_len(s))
                .and_then(|()| check_record_len(self.block.len() - start + added))
                .and_then(|()| match score {
                    Some(s) if s.is_nan() => Err(PersistError::NanScore),
                    _ => Ok(()),
                });
            if let Err(err) = checked {
                self.block.truncate(start);
                return Err(err);
            }
            // Cannot overflow: every item takes at least 4 bytes of a record
            // that is capped at 1 GiB.
            count += 1;
            for s in item {
                put_bytes(&mut self.block, s);
            }
            if let Some(score) = score {
                self.block.extend_from_slice(&score.to_le_bytes());
            }
        }
        self.block[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());
        self.end_record(start)
    }

    /// Writes the last block and the footer, flushes, and hands back the
    /// inner writer with what was written.
    ///
    /// The caller still owns durability: for a file, `sync_all` it (or use
    /// [`AtomicFile`](crate::AtomicFile), which does that and more).
    ///
    /// # Errors
    ///
    /// [`PersistError::Io`] or [`PersistError::WriterFailed`] if the inner
    /// writer failed now or earlier.
    pub fn finish(mut self) -> Result<(W, SnapshotStats), PersistError> {
        self.check_usable()?;
        if self.block_records > 0 {
            self.flush_block()?;
        }
        let mut footer = [0u8; crate::format::FOOTER_LEN];
        footer[0] = FOOTER_TAG;
        footer[1..9].copy_from_slice(&self.records.to_le_bytes());
        footer[9..17].copy_from_slice(&self.blocks.to_le_bytes());
        let file_crc = crc32c::crc32c_append(self.file_crc, &footer[..17]);
        footer[17..21].copy_from_slice(&file_crc.to_le_bytes());
        self.inner.write_all(&footer)?;
        self.inner.flush()?;
        let stats = SnapshotStats {
            records: self.records,
            blocks: self.blocks,
            bytes: self.bytes + footer.len() as u64,
        };
        Ok((self.inner, stats))
    }

    /// Number of records added so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The inner writer, e.g. to inspect it in tests.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    fn check_usable(&self) -> Result<(), PersistError> {
        if self.failed {
            Err(PersistError::WriterFailed)
        } else {
            Ok(())
        }
    }

    /// Appends a record's common prefix and returns where the record starts.
    fn begin_record(
        &mut self,
        value_type: ValueType,
        db: u32,
        key: &[u8],
        expire_at_ms: Option<u64>,
    ) -> Result<usize, PersistError> {
        self.check_usable()?;
        check_string_len(key)?;
        let start = self.block.len();
        self.block.push(u8::from(value_type));
        let flags = if expire_at_ms.is_some() {
            RECORD_FLAG_EXPIRY
        } else {
            0
        };
        self.block.push(flags);
        self.block.extend_from_slice(&db.to_le_bytes());
        if let Some(at) = expire_at_ms {
            self.block.extend_from_slice(&at.to_le_bytes());
        }
        put_bytes(&mut self.block, key);
        Ok(start)
    }

    fn end_record(&mut self, start: usize) -> Result<(), PersistError> {
        let record_len = self.block.len() - start;
        if let Err(err) = check_record_len(record_len) {
            self.block.truncate(start);
            return Err(err);
        }
        if self.block.len() - BLOCK_HEADER_LEN > MAX_BLOCK_LEN as usize {
            // The record fits a block on its own but not after the records
            // already gathered: close those first.
            let record = self.block.split_off(start);
            self.flush_block()?;
            self.block.extend_from_slice(&record);
        }
        self.block_records += 1;
        self.records += 1;
        if self.block.len() - BLOCK_HEADER_LEN >= self.block_size {
            self.flush_block()?;
        }
        Ok(())
    }

    fn flush_block(&mut self) -> Result<(), PersistError> {
        let payload_len = self.block.len() - BLOCK_HEADER_LEN;
        // Both fit: payloads are capped at MAX_BLOCK_LEN, and a block holds
        // fewer records than payload bytes.
        let payload_len = u32::try_from(payload_len).map_err(|_| PersistError::RecordTooLarge {
            len: payload_len as u64,
            max: u64::from(MAX_BLOCK_LEN),
        })?;
        self.block[0] = BLOCK_TAG;
        self.block[1..5].copy_from_slice(&payload_len.to_le_bytes());
        self.block[5..9].copy_from_slice(&self.block_records.to_le_bytes());
        let block_crc = crc32c::crc32c(&self.block);
        self.block.extend_from_slice(&block_crc.to_le_bytes());
        if let Err(err) = self.inner.write_all(&self.block) {
            self.failed = true;
            return Err(err.into());
        }
        self.file_crc = crc32c::crc32c_append(self.file_crc, &self.block);
        self.bytes += self.block.len() as u64;
        self.blocks += 1;
        self.block_records = 0;
        self.block.truncate(BLOCK_HEADER_LEN);
        if self.block.capacity() > 2 * MAX_BLOCK_SIZE {
            // A single huge record must not pin its memory for the rest of the snapshot.
            self.block.shrink_to(BLOCK_HEADER_LEN + self.block_size);
        }
        Ok(())
    }
}

fn put_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    // The length was checked against MAX_STRING_LEN, which fits a u32.
    let len = bytes.len() as u32;
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(bytes);
}

fn check_string_len(bytes: &[u8]) -> Result<(), PersistError> {
    if bytes.len() > MAX_STRING_LEN as usize {
        return Err(PersistError::RecordTooLarge {
            len: bytes.len() as u64,
            max: u64::from(MAX_STRING_LEN),
        });
    }
    Ok(())
}

fn check_record_len(len: usize) -> Result<(), PersistError> {
    if len > MAX_BLOCK_LEN as usize {
        return Err(PersistError::RecordTooLarge {
            len: len as u64,
            max: u64::from(MAX_BLOCK_LEN),
        });
    }
    Ok(())
}
