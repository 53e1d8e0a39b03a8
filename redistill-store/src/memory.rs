//! Memory estimates: what an allocation of `n` bytes really costs.

/// Bytes the allocator hands out for a request of `n` bytes, bookkeeping included.
///
/// Models glibc malloc on 64-bit targets (8-byte chunk header, 16-byte granularity, 32-byte
/// minimum chunk; requests of 128 KiB and more are page-rounded mappings). Other allocators
/// round differently but within the same few percent for the sizes a cache stores.
#[inline]
pub(crate) fn alloc_size(n: usize) -> usize {
    if n == 0 {
        0
    } else if n >= 128 * 1024 {
        (n + 8 + 4095) & !4095
    } else {
        ((n + 8 + 15) & !15).max(32)
    }
}

#[cfg(test)]
mod tests {
    use super::alloc_size;

    #[test]
    fn rounds_like_glibc() {
        assert_eq!(alloc_size(0), 0);
        assert_eq!(alloc_size(1), 32);
        assert_eq!(alloc_size(24), 32);
        assert_eq!(alloc_size(25), 48);
        assert_eq!(alloc_size(120), 128);
        assert_eq!(alloc_size(121), 144);
    }
}
