//! Announced lengths never turn into allocations: a 1 GB bulk header or a two-billion
//! element array header with a few bytes behind it allocates almost nothing.
//!
//! A counting global allocator records the peak of live heap bytes; this file holds a
//! single test so no other test's allocations interleave with the measurement.
// Helpers outside #[test] functions panic on purpose when the codec misbehaves.
#![allow(clippy::unwrap_used)]
#![allow(unsafe_code)]

use bytes::{Bytes, BytesMut};
use redistill_resp::{Decoder, Limits, RequestDecoder, decode_with};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are
// bookkeeping only and never influence what is returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(live, Ordering::SeqCst);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Peak heap growth while running `f`.
fn peak_during(f: impl FnOnce()) -> usize {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    f();
    PEAK.load(Ordering::SeqCst) - base
}

#[test]
fn huge_announced_lengths_allocate_nothing_large() {
    const GB: usize = 1 << 30;
    let limits = Limits::default().with_max_bulk_len(2 * GB);
    let budget = 64 * 1024;

    let input: &[u8] = b"*1\r\n$1073741824\r\n0123456789";
    let peak = peak_during(|| {
        let mut buf = BytesMut::from(input);
        let mut d = RequestDecoder::with_limits(limits);
        let mut args = Vec::new();
        assert!(!d.decode_into(&mut buf, &mut args).unwrap());
        assert!(buf.capacity() < budget);
    });
    assert!(peak < budget, "request decoder peak {peak}");

    let input: &[u8] = b"*2147483647\r\n$3\r\nGET\r\n";
    let peak = peak_during(|| {
        let mut buf = BytesMut::from(input);
        let mut args = Vec::new();
        assert!(
            !RequestDecoder::with_limits(limits)
                .decode_into(&mut buf, &mut args)
                .unwrap()
        );
    });
    assert!(peak < budget, "request decoder peak {peak}");

    for input in [
        &b"$1073741824\r\n0123456789"[..],
        b"*2147483647\r\n:1\r\n:2\r\n",
        b"%2147483647\r\n+a\r\n:1\r\n",
        b"*1\r\n*2147483647\r\n*2147483647\r\n:1\r\n",
    ] {
        let peak = peak_during(|| {
            let bytes = Bytes::from_static(input);
            assert_eq!(decode_with(&bytes, &limits).unwrap(), None);
            let mut buf = BytesMut::from(input);
            assert_eq!(Decoder::with_limits(limits).decode(&mut buf).unwrap(), None);
        });
        assert!(peak < budget, "{input:?}: peak {peak}");
    }
}
