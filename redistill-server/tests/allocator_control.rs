//! An installed allocator control is what INFO, MEMORY PURGE and MEMORY MALLOC-STATS
//! report. Its own test binary: a control is installed once per process.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{TestServer, exchange, info};
use redistill_server::allocator::{self, AllocatorControl, AllocatorStats};

/// Fixed figures; purges are counted and refused.
struct Fake {
    purges: AtomicUsize,
}

const STATS: AllocatorStats = AllocatorStats {
    allocated: 1_000_000,
    active: 1_500_000,
    resident: 2_000_000,
};

impl AllocatorControl for Fake {
    fn name(&self) -> &str {
        "fake-1.0"
    }

    fn stats(&self) -> Option<AllocatorStats> {
        Some(STATS)
    }

    fn purge(&self) -> Result<(), String> {
        self.purges.fetch_add(1, Ordering::Relaxed);
        Err("Error purging dirty pages".to_owned())
    }

    fn stats_report(&self) -> Option<String> {
        Some("fake report\n".to_owned())
    }
}

static FAKE: Fake = Fake {
    purges: AtomicUsize::new(0),
};

#[test]
fn the_installed_control_answers_info_and_memory() {
    allocator::install(&FAKE).expect("first install");
    assert!(allocator::install(&FAKE).is_err(), "installs once");
    let server = TestServer::start();
    let mut c = server.raw();
    let info = info(&mut c, "memory");
    assert_eq!(info["mem_allocator"], "fake-1.0");
    assert_eq!(info["allocator_allocated"], "1000000");
    assert_eq!(info["allocator_active"], "1500000");
    assert_eq!(info["allocator_resident"], "2000000");
    assert_eq!(info["allocator_frag_ratio"], "1.50");
    assert_eq!(info["allocator_frag_bytes"], "500000");
    assert_eq!(info["allocator_rss_ratio"], "1.33");
    assert_eq!(info["allocator_rss_bytes"], "500000");
    let rss: u64 = info["used_memory_rss"].parse().expect("count");
    assert_eq!(
        info["rss_overhead_ratio"],
        format!("{:.2}", rss as f32 / 2_000_000.0)
    );
    assert_eq!(
        info["rss_overhead_bytes"],
        (i128::from(rss) - 2_000_000).to_string()
    );

    exchange(
        &mut c,
        b"MEMORY PURGE\r\n",
        b"-ERR Error purging dirty pages\r\n",
    );
    assert_eq!(FAKE.purges.load(Ordering::Relaxed), 1);
    exchange(
        &mut c,
        b"MEMORY MALLOC-STATS\r\n",
        b"$12\r\nfake report\n\r\n",
    );
}
