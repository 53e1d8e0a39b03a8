//! A DUMP payload claiming a huge size is refused before anything near that size is
//! allocated: every claimed length is checked against the bytes that are there.
//!
//! The whole test binary runs under a counting allocator, so this file holds a single test.

use redistill_persist::rdb::{RDB_VERSION, crc64, decode_dump};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[test]
fn huge_claims_allocate_next_to_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();
    for body in [
        &b"\x02\x80\xff\xff\xff\xff"[..],
        b"\x05\x80\xff\xff\xff\xff",
        b"\x04\x81\x00\x00\x00\x01\x00\x00\x00\x00",
        b"\x00\x80\xff\xff\xff\xff",
        b"\x00\xc3\x03\x80\xff\xff\xff\xff\x00\x00\x00",
        b"\x12\x80\xff\xff\xff\xff",
    ] {
        let mut payload = body.to_vec();
        payload.extend_from_slice(&RDB_VERSION.to_le_bytes());
        payload.extend_from_slice(&crc64(0, &payload).to_le_bytes());
        assert!(decode_dump(&payload).is_err(), "{body:?}");
    }
    let peak = dhat::HeapStats::get().max_bytes;
    assert!(peak < 4096, "heap peaked at {peak} bytes");
}
