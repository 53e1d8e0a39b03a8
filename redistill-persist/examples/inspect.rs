//! Verifies a snapshot file and prints what it holds, or where it is damaged.
//!
//! ```sh
//! cargo run -p redistill-persist --example inspect -- dump.rdst
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;

use redistill_persist::{SnapshotReader, Value};

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: inspect <snapshot file>");
        return ExitCode::from(2);
    };
    let mut reader = match SnapshotReader::open(&path) {
        Ok(reader) => reader,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let header = *reader.header();
    println!(
        "format version {:?}, created at {} ms",
        header.version, header.created_at_ms
    );

    // Per database: strings, integers, hashes, lists, keys with a TTL.
    let mut per_db: BTreeMap<u32, [u64; 5]> = BTreeMap::new();
    for record in reader.by_ref() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        };
        let counts = per_db.entry(record.db).or_default();
        match record.value {
            Value::String(_) => counts[0] += 1,
            Value::Integer(_) => counts[1] += 1,
            Value::Hash(_) => counts[2] += 1,
            Value::List(_) => counts[3] += 1,
            _ => {}
        }
        if record.expire_at_ms.is_some() {
            counts[4] += 1;
        }
    }
    for (db, [strings, integers, hashes, lists, ttl]) in per_db {
        println!(
            "db{db}: {strings} strings, {integers} integers, {hashes} hashes, {lists} lists, \
             {ttl} with TTL"
        );
    }
    if let Some(stats) = reader.stats() {
        println!(
            "ok: {} records in {} blocks, {} bytes",
            stats.records, stats.blocks, stats.bytes
        );
    }
    ExitCode::SUCCESS
}
