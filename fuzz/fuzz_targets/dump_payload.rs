//! Fuzzes the DUMP payload decoder (RESTORE's parser): it must never panic, whatever the
//! bytes, and whatever it accepts must survive being written and read again unchanged.
//!
//! Checksums would stop a fuzzer at the footer, so the first byte picks a mode: raw bytes
//! as they are, or the rest taken as a value and sealed with a valid version and CRC,
//! which reaches the value decoder (listpacks, ziplists, intsets, LZF).
#![no_main]

use libfuzzer_sys::fuzz_target;
use redistill_persist::Value;
use redistill_persist::rdb::{Layout, RDB_VERSION, crc64, decode_dump, encode_dump};

/// Sets carry no order (an intset is written sorted): compare them sorted.
fn canonical(value: Value) -> Value {
    match value {
        Value::Set(mut members) => {
            members.sort();
            Value::Set(members)
        }
        other => other,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let payload = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let mut sealed = rest.to_vec();
        sealed.extend_from_slice(&RDB_VERSION.to_le_bytes());
        sealed.extend_from_slice(&crc64(0, &sealed).to_le_bytes());
        sealed
    };
    if let Ok(value) = decode_dump(&payload) {
        for layout in [Layout::Packed, Layout::Table] {
            let again = decode_dump(&encode_dump(&value, layout)).map(canonical);
            assert_eq!(again, Ok(canonical(value.clone())));
        }
    }
});
