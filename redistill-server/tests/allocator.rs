//! With no allocator control installed, INFO, MEMORY PURGE and MEMORY MALLOC-STATS answer
//! as Redis built with libc malloc does. (An installed control is tested in
//! `allocator_control.rs`: installing is once per process.)

mod common;

use std::collections::BTreeMap;

use common::{TestServer, exchange, info};

/// `a / b` as Redis prints a ratio: single precision, two decimals.
fn ratio(a: u64, b: u64) -> String {
    format!("{:.2}", a as f32 / b as f32)
}

fn count(info: &BTreeMap<String, String>, name: &str) -> u64 {
    info.get(name)
        .unwrap_or_else(|| panic!("INFO memory has {name}: {info:?}"))
        .parse()
        .unwrap_or_else(|_| panic!("{name} is a count: {info:?}"))
}

#[test]
fn info_memory_stands_in_for_the_allocator_as_redis_with_libc() {
    let server = TestServer::start();
    let mut c = server.raw();
    exchange(&mut c, b"SET k v\r\n", b"+OK\r\n");
    let info = info(&mut c, "memory");
    assert_eq!(info["mem_allocator"], "libc");
    let n = |name: &str| count(&info, name);
    let (rss, used) = (n("used_memory_rss"), n("used_memory"));
    assert!(rss > 0 && used > 0, "{info:?}");
    // Redis's stand-ins where the allocator tells nothing.
    assert_eq!(n("allocator_resident"), rss);
    assert_eq!(n("allocator_active"), rss);
    assert_eq!(n("allocator_allocated"), used);
    for name in [
        "allocator_frag",
        "allocator_rss",
        "rss_overhead",
        "mem_fragmentation",
    ] {
        assert!(info.contains_key(&format!("{name}_ratio")), "{name}");
    }
    assert_eq!(info["allocator_rss_ratio"], "1.00");
    assert_eq!(info["allocator_rss_bytes"], "0");
    assert_eq!(info["rss_overhead_ratio"], "1.00");
    assert_eq!(info["rss_overhead_bytes"], "0");
    assert_eq!(info["mem_fragmentation_ratio"], ratio(rss, used));
    assert_eq!(
        info["mem_fragmentation_bytes"],
        (i128::from(rss) - i128::from(used)).to_string()
    );
    assert_eq!(
        info["allocator_frag_ratio"],
        info["mem_fragmentation_ratio"]
    );
}

/// The fields `redis-cli info memory` prints against redis-server 7.0, in its order.
const REDIS_MEMORY_FIELDS: &[&str] = &[
    "used_memory",
    "used_memory_human",
    "used_memory_rss",
    "used_memory_rss_human",
    "used_memory_peak",
    "used_memory_peak_human",
    "used_memory_peak_perc",
    "used_memory_overhead",
    "used_memory_startup",
    "used_memory_dataset",
    "used_memory_dataset_perc",
    "allocator_allocated",
    "allocator_active",
    "allocator_resident",
    "total_system_memory",
    "total_system_memory_human",
    "used_memory_lua",
    "used_memory_vm_eval",
    "used_memory_lua_human",
    "used_memory_scripts_eval",
    "number_of_cached_scripts",
    "number_of_functions",
    "number_of_libraries",
    "used_memory_vm_functions",
    "used_memory_vm_total",
    "used_memory_vm_total_human",
    "used_memory_functions",
    "used_memory_scripts",
    "used_memory_scripts_human",
    "maxmemory",
    "maxmemory_human",
    "maxmemory_policy",
    "allocator_frag_ratio",
    "allocator_frag_bytes",
    "allocator_rss_ratio",
    "allocator_rss_bytes",
    "rss_overhead_ratio",
    "rss_overhead_bytes",
    "mem_fragmentation_ratio",
    "mem_fragmentation_bytes",
    "mem_not_counted_for_evict",
    "mem_replication_backlog",
    "mem_total_replication_buffers",
    "mem_clients_slaves",
    "mem_clients_normal",
    "mem_cluster_links",
    "mem_aof_buffer",
    "mem_allocator",
    "active_defrag_running",
    "lazyfree_pending_objects",
    "lazyfreed_objects",
];

#[test]
fn info_memory_lists_the_fields_redis_lists_in_its_order() {
    let server = TestServer::start();
    let mut c = server.client();
    let text: String = redis::cmd("INFO").arg("memory").query(&mut c).unwrap();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| Some(l.split_once(':')?.0))
        .collect();
    assert_eq!(names, REDIS_MEMORY_FIELDS);
}

#[test]
fn memory_purge_and_malloc_stats_answer_as_redis_with_libc() {
    let server = TestServer::start();
    let mut c = server.raw();
    exchange(&mut c, b"MEMORY PURGE\r\n", b"+OK\r\n");
    exchange(
        &mut c,
        b"MEMORY MALLOC-STATS\r\n",
        b"$45\r\nStats not supported for the current allocator\r\n",
    );
    exchange(
        &mut c,
        b"MEMORY PURGE now\r\n",
        b"-ERR wrong number of arguments for 'memory|purge' command\r\n",
    );
}

#[test]
fn memory_help_lists_purge_and_malloc_stats() {
    let server = TestServer::start();
    let mut c = server.client();
    let help: Vec<String> = redis::cmd("MEMORY").arg("HELP").query(&mut c).unwrap();
    for line in [
        "MALLOC-STATS",
        "PURGE",
        "USAGE <key> [SAMPLES <count>]",
        "HELP",
    ] {
        assert!(help.iter().any(|l| l == line), "{line} in {help:?}");
    }
}
