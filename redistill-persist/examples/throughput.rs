//! Measures write and read throughput of one million small records.
//!
//! ```sh
//! cargo run --release -p redistill-persist --example throughput
//! ```

use std::time::Instant;

use redistill_persist::{PersistError, SnapshotReader, SnapshotWriter, Value};

const RECORDS: u32 = 1_000_000;

fn main() -> Result<(), PersistError> {
    let value = [b'v'; 32];
    // Keys are made up front so that only the writer is timed.
    let keys: Vec<String> = (0..RECORDS).map(|i| format!("key:{i:08}")).collect();
    let started = Instant::now();
    let mut writer = SnapshotWriter::new(Vec::with_capacity(80 * RECORDS as usize), 0)?;
    for (i, key) in (0..RECORDS).zip(&keys) {
        match i % 4 {
            0 => writer.write_integer(0, key.as_bytes(), None, i64::from(i))?,
            1 => writer.write_string(0, key.as_bytes(), Some(1_900_000_000_000), &value)?,
            _ => writer.write_string(0, key.as_bytes(), None, &value)?,
        }
    }
    let (bytes, stats) = writer.finish()?;
    let write_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut read = 0u64;
    let mut value_bytes = 0usize;
    for record in SnapshotReader::new(&bytes[..])? {
        let record = record?;
        read += 1;
        if let Value::String(s) = &record.value {
            value_bytes += s.len();
        }
    }
    let read_secs = started.elapsed().as_secs_f64();
    assert_eq!(read, stats.records);

    // The same records through a real file: temporary file, fsync, rename,
    // directory fsync, then a buffered read back.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("dump.rdst");
    let started = Instant::now();
    redistill_persist::save_snapshot(&path, 0, |writer| {
        for (i, key) in (0..RECORDS).zip(&keys) {
            writer.write_string(0, key.as_bytes(), None, &value[..(i % 33) as usize])?;
        }
        Ok::<(), PersistError>(())
    })?;
    let save_secs = started.elapsed().as_secs_f64();
    let file_mb = std::fs::metadata(&path)?.len() as f64 / 1e6;
    let started = Instant::now();
    let loaded = SnapshotReader::open(&path)?.try_fold(0u64, |n, r| r.map(|_| n + 1))?;
    let load_secs = started.elapsed().as_secs_f64();
    assert_eq!(loaded, u64::from(RECORDS));

    let mb = bytes.len() as f64 / 1e6;
    println!(
        "{} records, {} blocks, {:.1} MB ({value_bytes} value bytes)",
        stats.records, stats.blocks, mb
    );
    println!(
        "write: {:.3} s, {:.0} MB/s, {:.2} M records/s",
        write_secs,
        mb / write_secs,
        f64::from(RECORDS) / write_secs / 1e6
    );
    println!(
        "read:  {:.3} s, {:.0} MB/s, {:.2} M records/s",
        read_secs,
        mb / read_secs,
        f64::from(RECORDS) / read_secs / 1e6
    );
    println!(
        "file: save {save_secs:.3} s ({:.0} MB/s), load {load_secs:.3} s ({:.0} MB/s), {file_mb:.1} MB",
        file_mb / save_secs,
        file_mb / load_secs
    );
    Ok(())
}
