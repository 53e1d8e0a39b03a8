//! Dashboards built on redis_exporter work against `/metrics`: every INFO field the
//! exporter maps is in our INFO and parses with its rules, and `/metrics` serves the
//! exporter's metric names with the values it would compute from that INFO.
//!
//! The field lists and rules are redis_exporter's (github.com/oliver006/redis_exporter):
//! `exporter/exporter.go` (its `metricMapGauges` and `metricMapCounters`) and
//! `exporter/info.go` / `exporter/metrics.go` (how values, commandstats and the keyspace
//! are read), at commits 0074f409 and 072bd8bd. Only the fields Redis 7.0.15 itself
//! reports in `INFO ALL` are listed; left out are fields of Redis 2-4
//! (`client_longest_output_list`), of other servers (Tile38, KeyDB), of replicas,
//! of AOF while it is off (`aof_current_size`, ...) and of Redis Enterprise
//! (`maxmemory_reservation`, ...).

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use common::PATIENCE;
use redistill_server::Server;
use redistill_server::config::Config;

/// redis_exporter's gauge map, restricted to what Redis 7.0 reports: INFO field and
/// metric name (without the `redis_` namespace).
const GAUGES: &[(&str, &str)] = &[
    ("uptime_in_seconds", "uptime_in_seconds"),
    ("process_id", "process_id"),
    ("connected_clients", "connected_clients"),
    ("blocked_clients", "blocked_clients"),
    ("tracking_clients", "tracking_clients"),
    (
        "client_recent_max_output_buffer",
        "client_recent_max_output_buffer_bytes",
    ),
    (
        "client_recent_max_input_buffer",
        "client_recent_max_input_buffer_bytes",
    ),
    ("allocator_active", "allocator_active_bytes"),
    ("allocator_allocated", "allocator_allocated_bytes"),
    ("allocator_resident", "allocator_resident_bytes"),
    ("allocator_frag_ratio", "allocator_frag_ratio"),
    ("allocator_frag_bytes", "allocator_frag_bytes"),
    ("allocator_rss_ratio", "allocator_rss_ratio"),
    ("allocator_rss_bytes", "allocator_rss_bytes"),
    ("used_memory", "memory_used_bytes"),
    ("used_memory_rss", "memory_used_rss_bytes"),
    ("used_memory_peak", "memory_used_peak_bytes"),
    ("used_memory_lua", "memory_used_lua_bytes"),
    ("used_memory_overhead", "memory_used_overhead_bytes"),
    ("used_memory_startup", "memory_used_startup_bytes"),
    ("used_memory_dataset", "memory_used_dataset_bytes"),
    ("used_memory_scripts", "memory_used_scripts_bytes"),
    ("maxmemory", "memory_max_bytes"),
    ("mem_fragmentation_ratio", "mem_fragmentation_ratio"),
    ("mem_fragmentation_bytes", "mem_fragmentation_bytes"),
    ("mem_clients_slaves", "mem_clients_slaves"),
    ("mem_clients_normal", "mem_clients_normal"),
    ("expired_stale_perc", "expired_stale_percentage"),
    (
        "mem_not_counted_for_evict",
        "mem_not_counted_for_eviction_bytes",
    ),
    ("lazyfree_pending_objects", "lazyfree_pending_objects"),
    ("active_defrag_running", "active_defrag_running"),
    ("migrate_cached_sockets", "migrate_cached_sockets_total"),
    ("active_defrag_hits", "defrag_hits"),
    ("active_defrag_misses", "defrag_misses"),
    ("active_defrag_key_hits", "defrag_key_hits"),
    ("active_defrag_key_misses", "defrag_key_misses"),
    (
        "expired_time_cap_reached_count",
        "expired_time_cap_reached_total",
    ),
    ("loading", "loading_dump_file"),
    ("rdb_changes_since_last_save", "rdb_changes_since_last_save"),
    ("rdb_bgsave_in_progress", "rdb_bgsave_in_progress"),
    ("rdb_last_save_time", "rdb_last_save_timestamp_seconds"),
    ("rdb_last_bgsave_status", "rdb_last_bgsave_status"),
    ("rdb_last_bgsave_time_sec", "rdb_last_bgsave_duration_sec"),
    (
        "rdb_current_bgsave_time_sec",
        "rdb_current_bgsave_duration_sec",
    ),
    ("rdb_last_cow_size", "rdb_last_cow_size_bytes"),
    ("aof_enabled", "aof_enabled"),
    ("aof_rewrite_in_progress", "aof_rewrite_in_progress"),
    ("aof_rewrite_scheduled", "aof_rewrite_scheduled"),
    ("aof_last_rewrite_time_sec", "aof_last_rewrite_duration_sec"),
    (
        "aof_current_rewrite_time_sec",
        "aof_current_rewrite_duration_sec",
    ),
    ("aof_last_cow_size", "aof_last_cow_size_bytes"),
    ("aof_last_bgrewrite_status", "aof_last_bgrewrite_status"),
    ("aof_last_write_status", "aof_last_write_status"),
    ("module_fork_in_progress", "module_fork_in_progress"),
    ("module_fork_last_cow_size", "module_fork_last_cow_size"),
    ("pubsub_channels", "pubsub_channels"),
    ("pubsub_patterns", "pubsub_patterns"),
    ("latest_fork_usec", "latest_fork_seconds"),
    ("connected_slaves", "connected_slaves"),
    ("repl_backlog_size", "replication_backlog_bytes"),
    ("repl_backlog_active", "repl_backlog_is_active"),
    (
        "repl_backlog_first_byte_offset",
        "repl_backlog_first_byte_offset",
    ),
    ("repl_backlog_histlen", "repl_backlog_history_bytes"),
    ("master_repl_offset", "master_repl_offset"),
    ("second_repl_offset", "second_repl_offset"),
    ("slave_expires_tracked_keys", "slave_expires_tracked_keys"),
    ("sync_full", "replica_resyncs_full"),
    ("sync_partial_ok", "replica_partial_resync_accepted"),
    ("sync_partial_err", "replica_partial_resync_denied"),
];

/// redis_exporter's counter map; all of it is in Redis 7.0's INFO.
const COUNTERS: &[(&str, &str)] = &[
    ("total_connections_received", "connections_received_total"),
    ("total_commands_processed", "commands_processed_total"),
    ("rejected_connections", "rejected_connections_total"),
    ("total_net_input_bytes", "net_input_bytes_total"),
    ("total_net_output_bytes", "net_output_bytes_total"),
    ("expired_keys", "expired_keys_total"),
    ("evicted_keys", "evicted_keys_total"),
    ("keyspace_hits", "keyspace_hits_total"),
    ("keyspace_misses", "keyspace_misses_total"),
    ("used_cpu_sys", "cpu_sys_seconds_total"),
    ("used_cpu_user", "cpu_user_seconds_total"),
    ("used_cpu_sys_children", "cpu_sys_children_seconds_total"),
    ("used_cpu_user_children", "cpu_user_children_seconds_total"),
];

/// The INFO fields behind `redis_instance_info`'s labels.
const INSTANCE_LABELS: &[&str] = &[
    "role",
    "redis_version",
    "redis_build_id",
    "redis_mode",
    "os",
    "maxmemory_policy",
    "tcp_port",
    "run_id",
    "process_id",
    "master_replid",
];

/// A field's value as the exporter reads it (`parseAndRegisterConstMetric`).
fn exporter_value(value: &str) -> Option<f64> {
    match value {
        "ok" | "true" => Some(1.0),
        "err" | "fail" | "false" => Some(0.0),
        v => v.parse().ok(),
    }
}

struct Running {
    server: Option<Server>,
    addr: SocketAddr,
    health: SocketAddr,
}

impl Running {
    fn start() -> Self {
        let mut last = None;
        for _ in 0..10 {
            let free = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut config = Config::default();
            config.server.port = 0;
            config.server.workers = 2;
            config.server.health_check_port = free;
            match Server::start(config) {
                Ok(server) => {
                    return Running {
                        addr: server.local_addr(),
                        health: server.health_addr().expect("endpoint on"),
                        server: Some(server),
                    };
                }
                Err(e) => last = Some(e),
            }
        }
        panic!("cannot start: {last:?}");
    }

    fn client(&self) -> redis::Connection {
        redis::Client::open(format!("redis://{}/", self.addr))
            .expect("url")
            .get_connection()
            .expect("connects")
    }

    fn metrics(&self) -> String {
        let mut s = TcpStream::connect(self.health).expect("connects");
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").expect("send");
        let mut raw = String::new();
        s.read_to_string(&mut raw).expect("response");
        let (head, body) = raw.split_once("\r\n\r\n").expect("head and body");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        body.to_owned()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
    }
}

/// INFO's fields by name, with the section each is in.
fn info_fields(text: &str) -> BTreeMap<String, (String, String)> {
    let mut section = String::new();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("# ") {
            section = title.to_owned();
        } else if let Some((k, v)) = line.split_once(':') {
            out.insert(k.to_owned(), (section.clone(), v.to_owned()));
        }
    }
    out
}

/// `/metrics` samples by series (`name{labels}` as written) to value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("series and value");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

fn workload(client: &mut redis::Connection) {
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query(client)
        .expect("set");
    let _: Option<String> = redis::cmd("GET").arg("k").query(client).expect("get");
    let _: Option<String> = redis::cmd("GET").arg("missing").query(client).expect("get");
    let _: redis::RedisResult<()> = redis::cmd("INCR").arg("k").query(client);
}

#[test]
fn every_field_the_exporter_maps_is_in_info_and_parses() {
    let running = Running::start();
    let mut client = running.client();
    workload(&mut client);
    let info: String = redis::cmd("INFO")
        .arg("ALL")
        .query(&mut client)
        .expect("info");
    let fields = info_fields(&info);
    let mut missing = Vec::new();
    for (field, _) in GAUGES.iter().chain(COUNTERS) {
        match fields.get(*field) {
            None => missing.push(*field),
            Some((_, value)) => assert!(
                exporter_value(value).is_some(),
                "{field}:{value} does not parse as redis_exporter reads it"
            ),
        }
    }
    assert!(missing.is_empty(), "missing from INFO ALL: {missing:?}");
    for label in INSTANCE_LABELS {
        assert!(fields.contains_key(*label), "INFO lacks {label}");
    }
    assert_eq!(fields["redis_mode"].1, "standalone");
    // Commandstats and keyspace lines in the forms the exporter parses.
    let (section, set) = &fields["cmdstat_set"];
    assert_eq!(section, "Commandstats");
    let keys: Vec<&str> = set
        .split(',')
        .filter_map(|p| p.split_once('='))
        .map(|p| p.0)
        .collect();
    assert_eq!(
        keys,
        [
            "calls",
            "usec",
            "usec_per_call",
            "rejected_calls",
            "failed_calls"
        ]
    );
    let (section, db0) = &fields["db0"];
    assert_eq!(section, "Keyspace");
    assert!(db0.starts_with("keys=1,expires=0,avg_ttl=0"), "{db0}");
}

#[test]
fn metrics_carry_the_exporters_names_and_values() {
    let running = Running::start();
    let mut client = running.client();
    workload(&mut client);
    let body = running.metrics();
    let info: String = redis::cmd("INFO")
        .arg("ALL")
        .query(&mut client)
        .expect("info");
    let fields = info_fields(&info);
    let metrics = samples(&body);

    for name in [
        "redis_up",
        "redis_uptime_in_seconds",
        "redis_connected_clients",
        "redis_memory_used_bytes",
        "redis_memory_max_bytes",
        "redis_commands_processed_total",
        "redis_keyspace_hits_total",
        "redis_keyspace_misses_total",
        "redis_expired_keys_total",
        "redis_evicted_keys_total",
        "redis_net_input_bytes_total",
        "redis_net_output_bytes_total",
        "redis_connections_received_total",
        "redis_blocked_clients",
        "redis_config_maxclients",
        "redis_config_maxmemory",
        "redis_db_keys{db=\"db0\"}",
        "redis_db_keys_expiring{db=\"db0\"}",
        "redis_commands_total{cmd=\"set\"}",
        "redis_commands_duration_seconds_total{cmd=\"set\"}",
        "redis_commands_failed_calls_total{cmd=\"incr\"}",
        "redis_errors_total{err=\"ERR\"}",
        // Today's names stay for dashboards of ours.
        "redistill_connected_clients",
        "redistill_commands_processed_total",
    ] {
        assert!(metrics.contains_key(name), "/metrics lacks {name}");
    }
    assert_eq!(metrics["redis_up"], 1.0);
    assert_eq!(metrics["redis_db_keys{db=\"db0\"}"], 1.0);
    assert_eq!(metrics["redis_commands_total{cmd=\"get\"}"], 2.0);
    assert_eq!(
        metrics["redis_commands_failed_calls_total{cmd=\"incr\"}"],
        1.0
    );
    assert_eq!(metrics["redis_keyspace_hits_total"], 1.0);
    assert_eq!(metrics["redis_keyspace_misses_total"], 1.0);

    // Each mapped field that holds still between the two reads has the value the exporter
    // would derive from INFO.
    for (field, name) in GAUGES.iter().chain(COUNTERS) {
        let value = exporter_value(&fields[*field].1).expect("parses");
        let expected = if *field == "latest_fork_usec" {
            value / 1e6
        } else {
            value
        };
        let served = metrics
            .get(&format!("redis_{name}"))
            .unwrap_or_else(|| panic!("/metrics lacks redis_{name}"));
        let moving = field.contains("memory")
            || field.starts_with("allocator_")
            || field.starts_with("mem_")
            || field.starts_with("used_cpu")
            || field.starts_with("total_net")
            || *field == "total_commands_processed"
            || *field == "uptime_in_seconds"
            || field.starts_with("client_recent");
        if !moving {
            assert_eq!(*served, expected, "redis_{name} against INFO {field}");
        }
    }

    let info_line = body
        .lines()
        .find(|l| l.starts_with("redis_instance_info{"))
        .expect("redis_instance_info");
    for label in INSTANCE_LABELS {
        let expected = format!("{label}=\"{}\"", fields[*label].1);
        assert!(
            info_line.contains(&expected),
            "{info_line} lacks {expected}"
        );
    }
    let build = body
        .lines()
        .find(|l| l.starts_with("redistill_build_info{"))
        .expect("redistill_build_info");
    assert!(build.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))));
    assert!(build.contains(&format!(
        "redis_version=\"{}\"",
        redistill_server::REDIS_VERSION
    )));
}
