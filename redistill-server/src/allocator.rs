//! The process's memory allocator, as INFO's memory section, `MEMORY PURGE` and
//! `MEMORY MALLOC-STATS` see it.
//!
//! The server library never chooses the global allocator: that is the binary's (or the
//! embedder's) `#[global_allocator]`. Whoever sets it may [`install`] an
//! [`AllocatorControl`] that reads its statistics and returns its free pages to the OS.
//! Without one the server behaves as Redis built with libc malloc: INFO reports
//! `mem_allocator:libc` and derives the allocator figures from RSS and `used_memory`,
//! `MEMORY PURGE` does nothing and answers `+OK`.
//!
//! With the `jemalloc` feature this module also provides `Jemalloc`, the control for a
//! process whose global allocator is `tikv-jemallocator`'s. The feature is off by default so
//! that embedders using another allocator do not build jemalloc; the `redistill` binary
//! turns it on.

use std::sync::OnceLock;

#[cfg(feature = "jemalloc")]
mod jemalloc;

#[cfg(feature = "jemalloc")]
pub use jemalloc::Jemalloc;

/// What the allocator knows of its own heap, in bytes, as jemalloc's `stats.*` counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllocatorStats {
    /// Bytes handed out to the program and not yet freed.
    pub allocated: u64,
    /// Bytes in pages holding allocations, free space within them included.
    pub active: u64,
    /// Bytes of the allocator's pages that are resident: active pages, dirty pages not yet
    /// returned to the OS, and metadata.
    pub resident: u64,
}

/// Reads and steers the process's global allocator. Implementations must describe the
/// allocator the process really allocates with.
pub trait AllocatorControl: Send + Sync {
    /// INFO's `mem_allocator`, e.g. `jemalloc-5.3.0` or `libc`.
    fn name(&self) -> &str;

    /// Current statistics, refreshed now; `None` when the allocator keeps none.
    fn stats(&self) -> Option<AllocatorStats>;

    /// Returns free (dirty) pages to the OS now, for `MEMORY PURGE`.
    ///
    /// # Errors
    ///
    /// A message for the client when the allocator refused.
    fn purge(&self) -> Result<(), String>;

    /// The allocator's own statistics report, for `MEMORY MALLOC-STATS`; `None` when it
    /// has none.
    fn stats_report(&self) -> Option<String>;

    /// How it rounds requests, which the keyspace's memory figures follow once the control
    /// is installed.
    fn size_classes(&self) -> redistill_store::SizeClasses {
        redistill_store::SizeClasses::Glibc
    }
}

/// The system allocator, which tells nothing about itself: what Redis reports when built
/// with libc malloc.
#[derive(Debug, Clone, Copy, Default)]
pub struct Libc;

impl AllocatorControl for Libc {
    fn name(&self) -> &str {
        "libc"
    }

    fn stats(&self) -> Option<AllocatorStats> {
        None
    }

    fn purge(&self) -> Result<(), String> {
        Ok(())
    }

    fn stats_report(&self) -> Option<String> {
        None
    }
}

static INSTALLED: OnceLock<&'static dyn AllocatorControl> = OnceLock::new();

/// Makes `control` the allocator every server in this process reports and purges, and
/// whose size classes the keyspace's memory figures follow; call it once, before starting a
/// server, with the control matching the `#[global_allocator]`.
///
/// # Errors
///
/// A control was installed already (it stays in place).
pub fn install(control: &'static dyn AllocatorControl) -> Result<(), AlreadyInstalled> {
    INSTALLED.set(control).map_err(|_| AlreadyInstalled)?;
    redistill_store::set_size_classes(control.size_classes());
    Ok(())
}

/// The installed control, or [`Libc`] when none was.
pub fn installed() -> &'static dyn AllocatorControl {
    INSTALLED.get().copied().unwrap_or(&Libc)
}

/// [`install`] was called a second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an allocator control is installed already")]
pub struct AlreadyInstalled;

/// One sample of the memory figures INFO derives its ratios from, taken together as Redis
/// takes them (`cronUpdateMemoryStats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemorySample {
    /// The process's resident set.
    pub rss: u64,
    /// INFO's `used_memory`.
    pub used: u64,
    /// The allocator's figures; where it keeps none, Redis's stand-ins: `resident` is the
    /// RSS, `active` equals `resident` and `allocated` is `used_memory`.
    pub allocator: AllocatorStats,
}

impl MemorySample {
    /// Samples `control` with `rss` and `used` taken at the same moment.
    pub fn take(control: &dyn AllocatorControl, rss: u64, used: u64) -> MemorySample {
        let mut allocator = control.stats().unwrap_or_default();
        // As Redis does for each figure the allocator leaves at zero.
        if allocator.resident == 0 {
            allocator.resident = rss;
        }
        if allocator.active == 0 {
            allocator.active = allocator.resident;
        }
        if allocator.allocated == 0 {
            allocator.allocated = used;
        }
        MemorySample {
            rss,
            used,
            allocator,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Option<AllocatorStats>);

    impl AllocatorControl for Fixed {
        fn name(&self) -> &str {
            "fixed"
        }

        fn stats(&self) -> Option<AllocatorStats> {
            self.0
        }

        fn purge(&self) -> Result<(), String> {
            Err("no".into())
        }

        fn stats_report(&self) -> Option<String> {
            None
        }
    }

    #[test]
    fn without_statistics_the_sample_stands_in_as_redis_does() {
        let sample = MemorySample::take(&Libc, 10_000, 4_000);
        assert_eq!(
            sample.allocator,
            AllocatorStats {
                allocated: 4_000,
                active: 10_000,
                resident: 10_000,
            }
        );
    }

    #[test]
    fn the_allocators_statistics_are_kept() {
        let stats = AllocatorStats {
            allocated: 1,
            active: 2,
            resident: 3,
        };
        let sample = MemorySample::take(&Fixed(Some(stats)), 10, 20);
        assert_eq!(sample.allocator, stats);
        assert_eq!((sample.rss, sample.used), (10, 20));
    }

    #[test]
    fn libc_is_the_default() {
        assert_eq!(installed().name(), "libc");
        assert_eq!(installed().purge(), Ok(()));
        assert!(installed().stats_report().is_none());
    }
}
