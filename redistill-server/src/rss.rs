//! The process's resident memory and the machine's, as the kernel reports them.

/// The process's resident set size in bytes (`VmRSS`), or 0 where `/proc` is absent.
pub(crate) fn rss_bytes() -> u64 {
    kib_field("/proc/self/status", "VmRSS:") * 1024
}

/// The machine's memory in bytes (`MemTotal`), or 0 where `/proc` is absent.
pub(crate) fn total_system_memory() -> u64 {
    kib_field("/proc/meminfo", "MemTotal:") * 1024
}

/// The number of KiB on the line of `file` that starts with `field`, or 0.
fn kib_field(file: &str, field: &str) -> u64 {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with(field))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(rss_bytes() > 0);
        }
    }
}
