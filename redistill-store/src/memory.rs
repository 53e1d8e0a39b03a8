//! Memory estimates: what an allocation of `n` bytes really costs.

use std::sync::atomic::{AtomicU8, Ordering};

/// How the process's allocator rounds requests: the store's memory figures (and so
/// `max_memory`) follow the one set with [`set_size_classes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SizeClasses {
    /// glibc malloc on 64-bit targets, the default: an 8-byte chunk header, 16-byte
    /// granularity, 32 bytes at least; requests of 128 KiB and more are page-rounded
    /// mappings.
    Glibc,
    /// jemalloc 5: classes of 8, then multiples of 16 up to 128 bytes, then four classes per
    /// doubling (160, 192, 224, 256, 320, ..., 1024, 1280, ...), with no header. Redis's
    /// allocator, and the `redistill` binary's.
    Jemalloc,
}

static SIZE_CLASSES: AtomicU8 = AtomicU8::new(SizeClasses::Glibc as u8);

/// Tells every store in the process which allocator it runs on, so that memory figures count
/// what allocations really take. Call it once at start, before any store is built: entries
/// counted under one model are not recounted under another.
///
/// # Examples
///
/// ```
/// use redistill_store::{SizeClasses, set_size_classes, size_classes};
/// // A program whose `#[global_allocator]` is jemalloc would say `SizeClasses::Jemalloc`.
/// set_size_classes(SizeClasses::Glibc);
/// assert_eq!(size_classes(), SizeClasses::Glibc);
/// ```
pub fn set_size_classes(classes: SizeClasses) {
    SIZE_CLASSES.store(classes as u8, Ordering::Relaxed);
}

/// The allocator model in force (see [`set_size_classes`]).
pub fn size_classes() -> SizeClasses {
    match SIZE_CLASSES.load(Ordering::Relaxed) {
        x if x == SizeClasses::Jemalloc as u8 => SizeClasses::Jemalloc,
        _ => SizeClasses::Glibc,
    }
}

/// Bytes the allocator hands out for a request of `n` bytes, bookkeeping included, under
/// the model in force.
#[inline]
pub(crate) fn alloc_size(n: usize) -> usize {
    if SIZE_CLASSES.load(Ordering::Relaxed) == SizeClasses::Jemalloc as u8 {
        jemalloc_size(n)
    } else {
        glibc_size(n)
    }
}

/// The most bytes a request can ask for and still cost what a request of `n` costs: the
/// capacity to give a buffer that needs `n` bytes, so that its slack is free.
#[inline]
pub(crate) fn usable_size(n: usize) -> usize {
    usable_under(
        n,
        SIZE_CLASSES.load(Ordering::Relaxed) == SizeClasses::Jemalloc as u8,
    )
}

fn usable_under(n: usize, jemalloc: bool) -> usize {
    match n {
        0 => 0,
        _ if jemalloc => jemalloc_size(n),
        _ => glibc_size(n) - 8,
    }
}

fn glibc_size(n: usize) -> usize {
    if n == 0 {
        0
    } else if n >= 128 * 1024 {
        (n + 8 + 4095) & !4095
    } else {
        ((n + 8 + 15) & !15).max(32)
    }
}

fn jemalloc_size(n: usize) -> usize {
    match n {
        0 => 0,
        1..=8 => 8,
        9..=128 => (n + 15) & !15,
        _ => {
            // Four classes between each power of two and the next: 2^k < n <= 2^(k+1)
            // rounds up to a multiple of 2^(k-2).
            let k = usize::BITS - 1 - (n - 1).leading_zeros();
            let spacing = 1usize << (k - 2);
            n.div_ceil(spacing) * spacing
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{glibc_size, jemalloc_size};

    #[test]
    fn rounds_like_glibc() {
        assert_eq!(glibc_size(0), 0);
        assert_eq!(glibc_size(1), 32);
        assert_eq!(glibc_size(24), 32);
        assert_eq!(glibc_size(25), 48);
        assert_eq!(glibc_size(120), 128);
        assert_eq!(glibc_size(121), 144);
    }

    #[test]
    fn usable_sizes_cost_what_the_request_costs() {
        for (jemalloc, size) in [
            (false, glibc_size as fn(usize) -> usize),
            (true, jemalloc_size),
        ] {
            for n in (1..70_000).chain([(128 << 10) - 9, 128 << 10, 1 << 20]) {
                let u = super::usable_under(n, jemalloc);
                assert!(u >= n, "{jemalloc} {n}");
                assert_eq!(size(u), size(n), "{jemalloc} {n}");
                assert!(size(u + 1) > size(n), "{jemalloc} {n}");
            }
        }
    }

    #[test]
    fn rounds_like_jemalloc() {
        // jemalloc 5.3's size classes (`malloc_conf` defaults, 4 KiB pages).
        let classes = [
            8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768,
            896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192,
            10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768,
        ];
        assert_eq!(jemalloc_size(0), 0);
        let mut n = 1;
        for class in classes {
            while n <= class {
                assert_eq!(jemalloc_size(n), class, "{n} bytes");
                n += 1;
            }
        }
        assert_eq!(jemalloc_size(100 << 20), 112 << 20);
    }
}
