//! Fuzzes the snapshot reader: it must never panic, whatever the bytes, and
//! its memory stays bounded by the input (lengths are checked before use).
//!
//! Checksums would stop a fuzzer at the first block, so the first byte picks
//! a mode: raw bytes as they are, or the rest taken as one block's payload
//! wrapped in a valid header, block checksum and footer, which reaches the
//! record decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redistill_persist::{HEADER_LEN, SnapshotReader, SnapshotWriter};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        drain(rest);
        return;
    }
    let Some((&record_count, payload)) = rest.split_first() else {
        return;
    };
    let record_count = u32::from(record_count % 8);
    let Ok(writer) = SnapshotWriter::new(Vec::new(), 0) else {
        return;
    };
    let Ok((empty, _)) = writer.finish() else {
        return;
    };
    let mut bytes = empty[..HEADER_LEN].to_vec();
    let mut block = vec![b'B'];
    block.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    block.extend_from_slice(&record_count.to_le_bytes());
    block.extend_from_slice(payload);
    let block_crc = crc32c::crc32c(&block);
    block.extend_from_slice(&block_crc.to_le_bytes());
    bytes.extend_from_slice(&block);
    bytes.push(b'E');
    bytes.extend_from_slice(&u64::from(record_count).to_le_bytes());
    bytes.extend_from_slice(&1u64.to_le_bytes());
    let file_crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&file_crc.to_le_bytes());
    drain(&bytes);
});

fn drain(bytes: &[u8]) {
    let Ok(reader) = SnapshotReader::new(bytes) else {
        return;
    };
    for record in reader {
        if record.is_err() {
            break;
        }
    }
}
