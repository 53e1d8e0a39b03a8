//! INFO: Redis 7's sections, in Redis's order and with the field names that clients,
//! exporters and dashboards read. Fields for features this server does not have
//! (replicas, scripts, modules, pub/sub, defragmentation, forks) are reported as Redis
//! reports them with those features idle, so parsers find every field they expect.

use std::fmt::Write as _;
use std::sync::LazyLock;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use super::table::{acl, flags};
use super::{Command, CommandResult, Ctx};
use crate::allocator::MemorySample;
use crate::pubsub::Namespace;
use crate::shared::Shared;
use crate::stats::Stats;

pub(super) static COMMANDS: &[Command] = &[Command::new("info", -1, info)
    .flags(flags!(LOADING | STALE))
    .acl(acl!(DANGEROUS))
    .tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ])];

/// Every section, in the order Redis prints them.
const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
];

/// What INFO with no argument (or `default`) prints.
const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

/// 40 hex digits fixed for the life of the process, as Redis's `run_id`.
fn random_hex_id(salt: u64) -> String {
    use std::hash::{BuildHasher, Hasher};
    let state = std::collections::hash_map::RandomState::new();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut id = String::with_capacity(40);
    let mut round = 0u64;
    while id.len() < 40 {
        let mut h = state.build_hasher();
        h.write_u128(nanos);
        h.write_u64(salt);
        h.write_u64(round);
        h.write_u32(std::process::id());
        let _ = write!(id, "{:016x}", h.finish());
        round += 1;
    }
    id.truncate(40);
    id
}

static RUN_ID: LazyLock<String> = LazyLock::new(|| random_hex_id(1));
static REPL_ID: LazyLock<String> = LazyLock::new(|| random_hex_id(2));

/// INFO [section ...]: `default`, `all`, `everything` or section names, any case; several
/// may be given (Redis 7). Unknown names select nothing.
fn info(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    let wanted: Vec<String> = args[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let text = info_text(ctx.shared, &wanted);
    let version = ctx.client.version;
    redistill_resp::encode::write_verbatim(ctx.out, version, *b"txt", text.as_bytes());
    Ok(())
}

/// INFO's text for the sections `wanted` selects (lowercase names, `default`, `all` or
/// `everything`; none selects the default sections), as the command replies it.
pub(crate) fn info_text(shared: &Shared, wanted: &[String]) -> String {
    let default = wanted.is_empty() || wanted.iter().any(|w| w == "default");
    let all = wanted.iter().any(|w| w == "all" || w == "everything");
    let mut text = String::new();
    for &name in SECTIONS {
        if !(all || (default && DEFAULT.contains(&name)) || wanted.iter().any(|w| w == name)) {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        let title = match name {
            "cpu" => "CPU".to_owned(),
            _ => format!("{}{}", name[..1].to_ascii_uppercase(), &name[1..]),
        };
        let _ = write!(text, "# {title}\r\n");
        section(shared, name, &mut text);
    }
    text
}

fn section(shared: &Shared, name: &str, t: &mut String) {
    match name {
        "server" => server(shared, t),
        "clients" => clients(shared, t),
        "memory" => memory(shared, t),
        "persistence" => shared.persistence.info(&shared.store, t),
        "stats" => stats(shared, t),
        "replication" => replication(t),
        "cpu" => cpu(t),
        "commandstats" => super::command_stats_text(shared, t),
        "errorstats" => {
            for (prefix, count) in shared.stats.errors.by_prefix() {
                let _ = write!(t, "errorstat_{prefix}:count={count}\r\n");
            }
        }
        "cluster" => t.push_str("cluster_enabled:0\r\n"),
        "keyspace" => keyspace(shared, t),
        _ => {}
    }
}

fn server(shared: &Shared, t: &mut String) {
    let config = shared.config.read();
    let uptime = shared.started.elapsed().as_secs();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let executable = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let config_file = match &config.source {
        crate::config::ConfigSource::File(path) | crate::config::ConfigSource::RedisConf(path) => {
            path.display().to_string()
        }
        _ => String::new(),
    };
    // No dynamic hz: the frequency in force is always the configured one.
    let hz = config.server.hz;
    let _ = write!(
        t,
        "redis_version:{}\r\nredistill_version:{}\r\nredis_git_sha1:00000000\r\n\
         redis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\n\
         arch_bits:{}\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\n\
         atomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\n\
         process_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\n\
         uptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:{hz}\r\nconfigured_hz:{hz}\r\n\
         lru_clock:{}\r\nexecutable:{executable}\r\nconfig_file:{config_file}\r\n\
         io_threads_active:0\r\n",
        crate::REDIS_VERSION,
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        usize::BITS,
        std::process::id(),
        *RUN_ID,
        config.server.port,
        now.as_micros(),
        uptime / 86_400,
        // Redis's LRU clock: seconds, modulo 2^24.
        now.as_secs() & ((1 << 24) - 1),
    );
}

fn clients(shared: &Shared, t: &mut String) {
    let max = shared.config.read().server.max_connections;
    let blocking = shared.blocking.counts();
    let _ = write!(
        t,
        "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{max}\r\n\
         client_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\n\
         blocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:{}\r\n\
         total_blocking_keys:{}\r\ntotal_blocking_keys_on_nokey:0\r\n",
        Stats::get(&shared.stats.connected_clients),
        blocking.clients,
        shared.tracking.counts().clients,
        blocking.with_timeout,
        blocking.keys,
    );
}

fn memory(shared: &Shared, t: &mut String) {
    let (max, policy) = {
        let config = shared.config.read();
        (config.memory.max_memory, config.memory.eviction_policy)
    };
    let clients = u64::try_from(shared.store.external_memory()).unwrap_or(u64::MAX);
    let used = shared.used_memory();
    let dataset = used.saturating_sub(clients);
    let peak = shared
        .stats
        .memory_peak
        .fetch_max(used, Ordering::Relaxed)
        .max(used);
    let rss = crate::rss::rss_bytes();
    let system = crate::rss::total_system_memory();
    let percent = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 * 100.0 / whole as f64
        }
    };
    let allocator = crate::allocator::installed();
    let sample = MemorySample::take(allocator, rss, used);
    let (allocator_sizes, fragmentation) = (allocator_sizes(&sample), fragmentation(&sample));
    let allocator_name = allocator.name();
    let lua = shared.scripting.memory();
    let (vm, scripts_mem) = (lua.vm_eval, lua.scripts_eval);
    let (cached, functions, libraries) = (lua.cached_scripts, lua.functions, lua.libraries);
    let functions_mem = lua.functions_code;
    let _ = write!(
        t,
        "used_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\n\
         used_memory_rss_human:{}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\n\
         used_memory_peak_perc:{:.2}%\r\nused_memory_overhead:{clients}\r\nused_memory_startup:0\r\n\
         used_memory_dataset:{dataset}\r\nused_memory_dataset_perc:{:.2}%\r\n\
         {allocator_sizes}total_system_memory:{system}\r\ntotal_system_memory_human:{}\r\n\
         used_memory_lua:{vm}\r\nused_memory_vm_eval:{vm}\r\nused_memory_lua_human:{}\r\n\
         used_memory_scripts_eval:{scripts_mem}\r\nnumber_of_cached_scripts:{cached}\r\n\
         number_of_functions:{functions}\r\nnumber_of_libraries:{libraries}\r\n\
         used_memory_vm_functions:0\r\nused_memory_vm_total:{vm}\r\n\
         used_memory_vm_total_human:{}\r\nused_memory_functions:{functions_mem}\r\n\
         used_memory_scripts:{}\r\nused_memory_scripts_human:{}\r\nmaxmemory:{max}\r\nmaxmemory_human:{}\r\n\
         maxmemory_policy:{policy}\r\n{fragmentation}mem_not_counted_for_evict:0\r\n\
         mem_replication_backlog:0\r\nmem_total_replication_buffers:0\r\n\
         mem_clients_slaves:0\r\nmem_clients_normal:{clients}\r\nmem_cluster_links:0\r\n\
         mem_aof_buffer:0\r\nmem_allocator:{allocator_name}\r\nactive_defrag_running:0\r\n\
         lazyfree_pending_objects:0\r\nlazyfreed_objects:0\r\n",
        human_bytes(used),
        human_bytes(rss),
        human_bytes(peak),
        percent(used, peak),
        percent(dataset, used),
        human_bytes(system),
        human_bytes(vm as u64),
        human_bytes(vm as u64),
        scripts_mem + functions_mem,
        human_bytes((scripts_mem + functions_mem) as u64),
        human_bytes(max),
    );
}

/// INFO's `allocator_allocated`, `allocator_active` and `allocator_resident` lines.
fn allocator_sizes(sample: &MemorySample) -> String {
    let a = &sample.allocator;
    format!(
        "allocator_allocated:{}\r\nallocator_active:{}\r\nallocator_resident:{}\r\n",
        a.allocated, a.active, a.resident,
    )
}

/// INFO's ratios from `allocator_frag_ratio` to `mem_fragmentation_bytes`, as Redis's
/// `getMemoryOverheadData` computes them: each step from allocated bytes to the process's
/// RSS, as a ratio (single precision, two decimals) and as a difference in bytes.
fn fragmentation(sample: &MemorySample) -> String {
    let ratio = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f32 / whole as f32
        }
    };
    let step = |name: &str, over: u64, under: u64| {
        format!(
            "{name}_ratio:{:.2}\r\n{name}_bytes:{}\r\n",
            ratio(over, under),
            i128::from(over) - i128::from(under),
        )
    };
    let a = &sample.allocator;
    [
        step("allocator_frag", a.active, a.allocated),
        step("allocator_rss", a.resident, a.active),
        step("rss_overhead", sample.rss, a.resident),
        step("mem_fragmentation", sample.rss, sample.used),
    ]
    .concat()
}

fn stats(shared: &Shared, t: &mut String) {
    let s = &shared.stats;
    let store = s.store_since_reset(shared.store.stats());
    let (input, output) = shared.net_bytes();
    let (reads, writes) = shared.net_calls();
    let (stale, time_caps, cycle_ms) = s.expiry.report();
    let tracking = shared.tracking.counts();
    let _ = write!(
        t,
        "total_connections_received:{}\r\ntotal_commands_processed:{}\r\n\
         instantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{input}\r\n\
         total_net_output_bytes:{output}\r\ntotal_net_repl_input_bytes:0\r\n\
         total_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:{:.2}\r\n\
         instantaneous_output_kbps:{:.2}\r\n\
         instantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\n\
         rejected_connections:{}\r\nsync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\n\
         expired_keys:{}\r\nexpired_stale_perc:{stale:.2}\r\n\
         expired_time_cap_reached_count:{time_caps}\r\n\
         expire_cycle_cpu_milliseconds:{cycle_ms}\r\nevicted_keys:{}\r\nevicted_clients:0\r\n\
         total_eviction_exceeded_time:{}\r\ncurrent_eviction_exceeded_time:{}\r\n\
         keyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\n\
         pubsubshard_channels:{}\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\n\
         migrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\n\
         active_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\n\
         total_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\n\
         tracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\n\
         unexpected_error_replies:0\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:0\r\n\
         total_reads_processed:{reads}\r\ntotal_writes_processed:{writes}\r\n\
         io_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\n\
         acl_access_denied_auth:{}\r\n",
        Stats::get(&s.connections_received),
        shared.commands_processed(),
        s.ops_rate.per_second(),
        s.input_rate.per_second() as f64 / 1024.0,
        s.output_rate.per_second() as f64 / 1024.0,
        Stats::get(&s.rejected_connections),
        store.expired_keys,
        store.evicted_keys,
        store.eviction_exceeded_ms,
        store.current_eviction_exceeded_ms,
        store.keyspace_hits,
        store.keyspace_misses,
        shared.pubsub.channel_count(Namespace::Classic),
        shared.pubsub.pattern_count(),
        shared.pubsub.channel_count(Namespace::Shard),
        tracking.keys,
        tracking.items,
        tracking.prefixes,
        s.errors.total(),
        Stats::get(&s.auth_failures),
    );
    // Not in Redis: TLS handshakes in flight (bounded by security.tls_max_handshakes)
    // and those that ended without completing.
    let _ = write!(
        t,
        "tls_handshakes_in_progress:{}\r\ntls_handshake_failures:{}\r\n",
        Stats::get(&s.tls_handshakes_in_progress),
        Stats::get(&s.tls_handshake_failures),
    );
}

/// A standalone master with no replicas, as Redis reports itself without replication.
fn replication(t: &mut String) {
    let _ = write!(
        t,
        "role:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n\
         master_replid:{}\r\nmaster_replid2:0000000000000000000000000000000000000000\r\n\
         master_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n\
         repl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\n\
         repl_backlog_histlen:0\r\n",
        *REPL_ID,
    );
}

/// Process and thread CPU time from /proc (Redis uses getrusage; these are the same
/// clocks). The "main thread" is the worker answering INFO.
fn cpu(t: &mut String) {
    let process = proc_times("/proc/self/stat");
    let thread = proc_times("/proc/thread-self/stat");
    let _ = write!(
        t,
        "used_cpu_sys:{:.6}\r\nused_cpu_user:{:.6}\r\nused_cpu_sys_children:{:.6}\r\n\
         used_cpu_user_children:{:.6}\r\nused_cpu_sys_main_thread:{:.6}\r\n\
         used_cpu_user_main_thread:{:.6}\r\n",
        process.sys,
        process.user,
        process.children_sys,
        process.children_user,
        thread.sys,
        thread.user,
    );
}

#[derive(Default)]
struct CpuTimes {
    user: f64,
    sys: f64,
    children_user: f64,
    children_sys: f64,
}

/// utime, stime, cutime and cstime of a `/proc/.../stat` file, in seconds; zeros where
/// `/proc` is absent.
fn proc_times(path: &str) -> CpuTimes {
    // Linux reports these in USER_HZ ticks, which is 100 on every architecture it exports
    // to user space.
    const TICKS: f64 = 100.0;
    let Ok(stat) = std::fs::read_to_string(path) else {
        return CpuTimes::default();
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return CpuTimes::default();
    };
    let fields: Vec<f64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    // After ")": state is field 3 of the man page; utime is 14, stime 15, cutime 16,
    // cstime 17.
    let at = |n: usize| fields.get(n - 3).copied().unwrap_or(0.0) / TICKS;
    CpuTimes {
        user: at(14),
        sys: at(15),
        children_user: at(16),
        children_sys: at(17),
    }
}

fn keyspace(shared: &Shared, t: &mut String) {
    for db in 0..shared.store.databases() {
        if let Ok(info) = shared.store.db_info(db)
            && info.keys > 0
        {
            let _ = write!(
                t,
                "db{db}:keys={},expires={},avg_ttl={}\r\n",
                info.keys, info.expires, info.avg_ttl_ms
            );
        }
    }
}

pub(super) fn human_bytes(n: u64) -> String {
    // Redis's bytesToHuman: two decimals and a unit letter.
    let units = [
        (1u64 << 50, 'P'),
        (1 << 40, 'T'),
        (1 << 30, 'G'),
        (1 << 20, 'M'),
        (1 << 10, 'K'),
    ];
    for (size, unit) in units {
        if n >= size {
            return format!("{:.2}{unit}", n as f64 / size as f64);
        }
    }
    format!("{n}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_forty_hex_digits() {
        assert_eq!(RUN_ID.len(), 40);
        assert!(RUN_ID.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(*RUN_ID, *REPL_ID);
    }

    #[test]
    fn cpu_times_come_from_proc() {
        let times = proc_times("/proc/self/stat");
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(times.user + times.sys >= 0.0);
        }
        assert_eq!(proc_times("/nonexistent").user, 0.0);
    }

    #[test]
    fn human_bytes_as_redis() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1536), "1.50K");
        assert_eq!(human_bytes(3 << 30), "3.00G");
    }
}
