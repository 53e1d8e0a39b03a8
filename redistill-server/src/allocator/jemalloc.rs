//! [`Jemalloc`]: the control for a process allocating through `tikv-jemallocator`.

use std::sync::LazyLock;

use tikv_jemalloc_ctl::{epoch, stats, stats_print, version};

use super::{AllocatorControl, AllocatorStats};

/// jemalloc's statistics (`stats.allocated`, `stats.active`, `stats.resident` after an
/// epoch advance, as Redis reads them), purging (`arena.<all>.purge`) and
/// `malloc_stats_print` report.
///
/// Install it (see [`super::install`]) only where the global allocator is
/// `tikv_jemallocator::Jemalloc`, which links the same jemalloc: in any other process it
/// would describe an idle jemalloc nobody allocates from. The figures need jemalloc built
/// with statistics, which this crate's `jemalloc` feature asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Jemalloc;

/// `jemalloc-<major.minor.bugfix>`, as Redis names it.
static NAME: LazyLock<String> = LazyLock::new(|| {
    let full = version::read().unwrap_or("unknown");
    let release = full.split('-').next().unwrap_or(full);
    format!("jemalloc-{release}")
});

/// jemalloc's `MALLCTL_ARENAS_ALL`: the arena index that stands for every arena.
const ALL_ARENAS: u32 = 4096;

impl AllocatorControl for Jemalloc {
    fn size_classes(&self) -> redistill_store::SizeClasses {
        redistill_store::SizeClasses::Jemalloc
    }

    fn name(&self) -> &str {
        &NAME
    }

    fn stats(&self) -> Option<AllocatorStats> {
        // The counters are cached per epoch; advancing it refreshes them.
        epoch::advance().ok()?;
        let read = |n: tikv_jemalloc_ctl::Result<usize>| n.ok().map(|n| n as u64);
        Some(AllocatorStats {
            allocated: read(stats::allocated::read())?,
            active: read(stats::active::read())?,
            resident: read(stats::resident::read())?,
        })
    }

    fn purge(&self) -> Result<(), String> {
        purge_all_arenas().map_err(|_| "Error purging dirty pages".to_owned())
    }

    fn stats_report(&self) -> Option<String> {
        let mut report = Vec::new();
        stats_print::stats_print(&mut report, stats_print::Options::default()).ok()?;
        Some(String::from_utf8_lossy(&report).into_owned())
    }
}

/// `mallctl("arena.<all>.purge")`: returns every arena's dirty pages to the OS. The safe
/// wrappers of `tikv-jemalloc-ctl` cannot call a control that takes no value.
#[allow(unsafe_code)]
fn purge_all_arenas() -> Result<(), std::ffi::c_int> {
    let name = format!("arena.{ALL_ARENAS}.purge\0");
    let null = std::ptr::null_mut();
    // SAFETY: `name` is NUL-terminated and outlives the call; `arena.<i>.purge` neither
    // reads nor writes a value, so null value pointers with a zero length are what it
    // expects.
    let status =
        unsafe { tikv_jemalloc_sys::mallctl(name.as_ptr().cast(), null, null.cast(), null, 0) };
    if status == 0 { Ok(()) } else { Err(status) }
}
