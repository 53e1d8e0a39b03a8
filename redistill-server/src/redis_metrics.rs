//! `/metrics` under the names redis_exporter gives Redis's INFO fields (`redis_up`,
//! `redis_connected_clients`, `redis_memory_used_bytes`, `redis_commands_total{cmd=...}`,
//! `redis_db_keys{db="db0"}`, `redis_instance_info{...}`, ...), so Grafana dashboards and
//! alerts built on redis_exporter work against Redistill without an exporter.
//!
//! The figures are read from INFO's own text and converted with redis_exporter's rules:
//! a field's value is a number, or `ok`/`true` (1) or `err`/`fail`/`false` (0); the
//! mapped fields get the exporter's names and types; commandstats, errorstats and the
//! keyspace become labelled families; the server section gives `redis_instance_info`.
//! Only the Prometheus text is produced here; what INFO says is INFO's business.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// How a mapped INFO field is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gauge,
    Counter,
}

/// INFO fields redis_exporter exports under a name of its own, with that name and type:
/// the fields of its gauge and counter maps that Redis 7.0 reports.
const MAPPED: &[(&str, &str, Kind)] = &[
    // Server
    ("uptime_in_seconds", "uptime_in_seconds", Kind::Gauge),
    ("process_id", "process_id", Kind::Gauge),
    // Clients
    ("connected_clients", "connected_clients", Kind::Gauge),
    ("blocked_clients", "blocked_clients", Kind::Gauge),
    ("tracking_clients", "tracking_clients", Kind::Gauge),
    (
        "client_recent_max_output_buffer",
        "client_recent_max_output_buffer_bytes",
        Kind::Gauge,
    ),
    (
        "client_recent_max_input_buffer",
        "client_recent_max_input_buffer_bytes",
        Kind::Gauge,
    ),
    // Memory
    ("allocator_active", "allocator_active_bytes", Kind::Gauge),
    (
        "allocator_allocated",
        "allocator_allocated_bytes",
        Kind::Gauge,
    ),
    (
        "allocator_resident",
        "allocator_resident_bytes",
        Kind::Gauge,
    ),
    ("allocator_frag_ratio", "allocator_frag_ratio", Kind::Gauge),
    ("allocator_frag_bytes", "allocator_frag_bytes", Kind::Gauge),
    ("allocator_rss_ratio", "allocator_rss_ratio", Kind::Gauge),
    ("allocator_rss_bytes", "allocator_rss_bytes", Kind::Gauge),
    ("used_memory", "memory_used_bytes", Kind::Gauge),
    ("used_memory_rss", "memory_used_rss_bytes", Kind::Gauge),
    ("used_memory_peak", "memory_used_peak_bytes", Kind::Gauge),
    ("used_memory_lua", "memory_used_lua_bytes", Kind::Gauge),
    (
        "used_memory_overhead",
        "memory_used_overhead_bytes",
        Kind::Gauge,
    ),
    (
        "used_memory_startup",
        "memory_used_startup_bytes",
        Kind::Gauge,
    ),
    (
        "used_memory_dataset",
        "memory_used_dataset_bytes",
        Kind::Gauge,
    ),
    (
        "used_memory_scripts",
        "memory_used_scripts_bytes",
        Kind::Gauge,
    ),
    ("maxmemory", "memory_max_bytes", Kind::Gauge),
    (
        "total_system_memory",
        "total_system_memory_bytes",
        Kind::Gauge,
    ),
    (
        "mem_fragmentation_ratio",
        "mem_fragmentation_ratio",
        Kind::Gauge,
    ),
    (
        "mem_fragmentation_bytes",
        "mem_fragmentation_bytes",
        Kind::Gauge,
    ),
    ("mem_clients_slaves", "mem_clients_slaves", Kind::Gauge),
    ("mem_clients_normal", "mem_clients_normal", Kind::Gauge),
    (
        "mem_not_counted_for_evict",
        "mem_not_counted_for_eviction_bytes",
        Kind::Gauge,
    ),
    (
        "lazyfree_pending_objects",
        "lazyfree_pending_objects",
        Kind::Gauge,
    ),
    (
        "active_defrag_running",
        "active_defrag_running",
        Kind::Gauge,
    ),
    // Persistence
    ("loading", "loading_dump_file", Kind::Gauge),
    (
        "rdb_changes_since_last_save",
        "rdb_changes_since_last_save",
        Kind::Gauge,
    ),
    (
        "rdb_bgsave_in_progress",
        "rdb_bgsave_in_progress",
        Kind::Gauge,
    ),
    (
        "rdb_last_save_time",
        "rdb_last_save_timestamp_seconds",
        Kind::Gauge,
    ),
    (
        "rdb_last_bgsave_status",
        "rdb_last_bgsave_status",
        Kind::Gauge,
    ),
    (
        "rdb_last_bgsave_time_sec",
        "rdb_last_bgsave_duration_sec",
        Kind::Gauge,
    ),
    (
        "rdb_current_bgsave_time_sec",
        "rdb_current_bgsave_duration_sec",
        Kind::Gauge,
    ),
    ("rdb_last_cow_size", "rdb_last_cow_size_bytes", Kind::Gauge),
    ("aof_enabled", "aof_enabled", Kind::Gauge),
    (
        "aof_rewrite_in_progress",
        "aof_rewrite_in_progress",
        Kind::Gauge,
    ),
    (
        "aof_rewrite_scheduled",
        "aof_rewrite_scheduled",
        Kind::Gauge,
    ),
    (
        "aof_last_rewrite_time_sec",
        "aof_last_rewrite_duration_sec",
        Kind::Gauge,
    ),
    (
        "aof_current_rewrite_time_sec",
        "aof_current_rewrite_duration_sec",
        Kind::Gauge,
    ),
    ("aof_last_cow_size", "aof_last_cow_size_bytes", Kind::Gauge),
    (
        "aof_last_bgrewrite_status",
        "aof_last_bgrewrite_status",
        Kind::Gauge,
    ),
    (
        "aof_last_write_status",
        "aof_last_write_status",
        Kind::Gauge,
    ),
    (
        "module_fork_in_progress",
        "module_fork_in_progress",
        Kind::Gauge,
    ),
    (
        "module_fork_last_cow_size",
        "module_fork_last_cow_size",
        Kind::Gauge,
    ),
    // Stats
    (
        "total_connections_received",
        "connections_received_total",
        Kind::Counter,
    ),
    (
        "total_commands_processed",
        "commands_processed_total",
        Kind::Counter,
    ),
    (
        "rejected_connections",
        "rejected_connections_total",
        Kind::Counter,
    ),
    (
        "total_net_input_bytes",
        "net_input_bytes_total",
        Kind::Counter,
    ),
    (
        "total_net_output_bytes",
        "net_output_bytes_total",
        Kind::Counter,
    ),
    ("sync_full", "replica_resyncs_full", Kind::Gauge),
    (
        "sync_partial_ok",
        "replica_partial_resync_accepted",
        Kind::Gauge,
    ),
    (
        "sync_partial_err",
        "replica_partial_resync_denied",
        Kind::Gauge,
    ),
    ("expired_keys", "expired_keys_total", Kind::Counter),
    (
        "expired_stale_perc",
        "expired_stale_percentage",
        Kind::Gauge,
    ),
    (
        "expired_time_cap_reached_count",
        "expired_time_cap_reached_total",
        Kind::Gauge,
    ),
    ("evicted_keys", "evicted_keys_total", Kind::Counter),
    ("keyspace_hits", "keyspace_hits_total", Kind::Counter),
    ("keyspace_misses", "keyspace_misses_total", Kind::Counter),
    ("pubsub_channels", "pubsub_channels", Kind::Gauge),
    ("pubsub_patterns", "pubsub_patterns", Kind::Gauge),
    ("latest_fork_usec", "latest_fork_seconds", Kind::Gauge),
    (
        "migrate_cached_sockets",
        "migrate_cached_sockets_total",
        Kind::Gauge,
    ),
    (
        "slave_expires_tracked_keys",
        "slave_expires_tracked_keys",
        Kind::Gauge,
    ),
    ("active_defrag_hits", "defrag_hits", Kind::Gauge),
    ("active_defrag_misses", "defrag_misses", Kind::Gauge),
    ("active_defrag_key_hits", "defrag_key_hits", Kind::Gauge),
    ("active_defrag_key_misses", "defrag_key_misses", Kind::Gauge),
    // Replication
    ("connected_slaves", "connected_slaves", Kind::Gauge),
    ("master_repl_offset", "master_repl_offset", Kind::Gauge),
    ("second_repl_offset", "second_repl_offset", Kind::Gauge),
    ("repl_backlog_active", "repl_backlog_is_active", Kind::Gauge),
    (
        "repl_backlog_size",
        "replication_backlog_bytes",
        Kind::Gauge,
    ),
    (
        "repl_backlog_first_byte_offset",
        "repl_backlog_first_byte_offset",
        Kind::Gauge,
    ),
    (
        "repl_backlog_histlen",
        "repl_backlog_history_bytes",
        Kind::Gauge,
    ),
    // CPU
    ("used_cpu_sys", "cpu_sys_seconds_total", Kind::Counter),
    ("used_cpu_user", "cpu_user_seconds_total", Kind::Counter),
    (
        "used_cpu_sys_children",
        "cpu_sys_children_seconds_total",
        Kind::Counter,
    ),
    (
        "used_cpu_user_children",
        "cpu_user_children_seconds_total",
        Kind::Counter,
    ),
];

/// The labels of `redis_instance_info`, each from the INFO field of the same name.
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

/// A field's value as redis_exporter reads it: `ok`/`true` are 1, `err`/`fail`/`false`
/// are 0, anything else must be a number.
pub(crate) fn exporter_value(value: &str) -> Option<f64> {
    match value {
        "ok" | "true" => Some(1.0),
        "err" | "fail" | "false" => Some(0.0),
        v => v.parse::<f64>().ok(),
    }
}

/// One INFO line split into section, field and value.
struct Field<'a> {
    section: &'a str,
    key: &'a str,
    value: &'a str,
}

fn fields(info: &str) -> Vec<Field<'_>> {
    let mut section = "";
    let mut out = Vec::new();
    for line in info.lines() {
        let line = line.trim();
        if let Some(title) = line.strip_prefix("# ") {
            section = title;
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            out.push(Field {
                section,
                key,
                value,
            });
        }
    }
    out
}

/// `a=1,b=2` pairs, as commandstats, errorstats and keyspace lines hold them.
fn pairs(value: &str) -> impl Iterator<Item = (&str, &str)> {
    value.split(',').filter_map(|p| p.split_once('='))
}

/// A labelled family: its samples, collected before it is written.
struct Family {
    name: &'static str,
    kind: Kind,
    help: &'static str,
    samples: Vec<(String, f64)>,
}

impl Family {
    fn new(name: &'static str, kind: Kind, help: &'static str) -> Self {
        Family {
            name,
            kind,
            help,
            samples: Vec::new(),
        }
    }

    fn write(&self, out: &mut String) {
        if self.samples.is_empty() {
            return;
        }
        header(out, self.name, self.kind, self.help);
        for (labels, value) in &self.samples {
            let _ = writeln!(out, "redis_{}{{{labels}}} {}", self.name, number(*value));
        }
    }
}

fn header(out: &mut String, name: &str, kind: Kind, help: &str) {
    let kind = match kind {
        Kind::Gauge => "gauge",
        Kind::Counter => "counter",
    };
    let _ = writeln!(out, "# HELP redis_{name} {help}");
    let _ = writeln!(out, "# TYPE redis_{name} {kind}");
}

/// A value in the text format: integers without a fraction, others as Rust prints them.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v}")
    }
}

/// A label value escaped as the text format requires.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Writes the redis_exporter-named metrics for `info`, the text of `INFO ALL`, and the
/// CONFIG figures the exporter reads (`maxmemory`, `maxclients`).
pub(crate) fn render(info: &str, maxclients: u32, out: &mut String) {
    header(
        out,
        "up",
        Kind::Gauge,
        "Whether the server answered (always 1 when it serves this page).",
    );
    out.push_str("redis_up 1\n");

    let all = fields(info);
    let mut commands = Family::new(
        "commands_total",
        Kind::Counter,
        "Calls per command (INFO commandstats calls).",
    );
    let mut durations = Family::new(
        "commands_duration_seconds_total",
        Kind::Counter,
        "Seconds spent per command (INFO commandstats usec).",
    );
    let mut rejected = Family::new(
        "commands_rejected_calls_total",
        Kind::Counter,
        "Calls refused before running, per command (INFO commandstats rejected_calls).",
    );
    let mut failed = Family::new(
        "commands_failed_calls_total",
        Kind::Counter,
        "Calls that answered an error, per command (INFO commandstats failed_calls).",
    );
    let mut errors = Family::new(
        "errors_total",
        Kind::Counter,
        "Error replies per error code (INFO errorstats).",
    );
    let mut db_keys = Family::new("db_keys", Kind::Gauge, "Keys per database (INFO keyspace).");
    let mut db_expiring = Family::new(
        "db_keys_expiring",
        Kind::Gauge,
        "Keys with a TTL per database (INFO keyspace expires).",
    );
    let mut db_ttl = Family::new(
        "db_avg_ttl_seconds",
        Kind::Gauge,
        "Average TTL per database in seconds (INFO keyspace avg_ttl).",
    );

    for f in &all {
        match f.section {
            "Commandstats" => {
                let Some(cmd) = f.key.strip_prefix("cmdstat_") else {
                    continue;
                };
                let cmd = format!("cmd=\"{}\"", label(cmd));
                for (k, v) in pairs(f.value) {
                    let Ok(v) = v.parse::<f64>() else { continue };
                    match k {
                        "calls" => commands.samples.push((cmd.clone(), v)),
                        "usec" => durations.samples.push((cmd.clone(), v / 1e6)),
                        "rejected_calls" => rejected.samples.push((cmd.clone(), v)),
                        "failed_calls" => failed.samples.push((cmd.clone(), v)),
                        _ => {}
                    }
                }
                continue;
            }
            "Errorstats" => {
                let Some(code) = f.key.strip_prefix("errorstat_") else {
                    continue;
                };
                if let Some(count) = pairs(f.value)
                    .find(|(k, _)| *k == "count")
                    .and_then(|(_, v)| v.parse::<f64>().ok())
                {
                    errors
                        .samples
                        .push((format!("err=\"{}\"", label(code)), count));
                }
                continue;
            }
            "Keyspace" if f.key.starts_with("db") => {
                let db = format!("db=\"{}\"", label(f.key));
                for (k, v) in pairs(f.value) {
                    let Ok(v) = v.parse::<f64>() else { continue };
                    match k {
                        "keys" => db_keys.samples.push((db.clone(), v)),
                        "expires" => db_expiring.samples.push((db.clone(), v)),
                        "avg_ttl" => db_ttl.samples.push((db.clone(), v / 1000.0)),
                        _ => {}
                    }
                }
                continue;
            }
            _ => {}
        }
        if f.key == "uptime_in_seconds"
            && let Ok(uptime) = f.value.parse::<f64>()
        {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            header(
                out,
                "start_time_seconds",
                Kind::Gauge,
                "Unix time the server started.",
            );
            #[allow(clippy::cast_precision_loss)] // seconds since 1970 fit in an f64
            let start = now as f64 - uptime;
            let _ = writeln!(out, "redis_start_time_seconds {}", number(start));
        }
        if matches!(f.key, "hz" | "configured_hz")
            && let Ok(hz) = f.value.parse::<f64>()
        {
            header(out, f.key, Kind::Gauge, "INFO server hz.");
            let _ = writeln!(out, "redis_{} {}", f.key, number(hz));
        }
        let mapped = MAPPED.iter().find(|(field, _, _)| *field == f.key);
        let (name, kind) = match mapped {
            Some((_, name, kind)) => ((*name).to_owned(), *kind),
            None if f.key.starts_with("cluster_") => (f.key.to_owned(), Kind::Gauge),
            None => continue,
        };
        let Some(mut value) = exporter_value(f.value) else {
            continue;
        };
        if f.key == "latest_fork_usec" {
            value /= 1e6;
        }
        let help = format!("INFO {}.", f.key);
        header(out, &name, kind, &help);
        let _ = writeln!(out, "redis_{name} {}", number(value));
    }

    let lookup = |key: &str| {
        all.iter()
            .find(|f| f.key == key)
            .map_or(String::new(), |f| label(f.value))
    };
    header(
        out,
        "instance_info",
        Kind::Gauge,
        "Information about the server, in labels (INFO server and replication).",
    );
    let labels: Vec<String> = INSTANCE_LABELS
        .iter()
        .map(|l| format!("{l}=\"{}\"", lookup(l)))
        .collect();
    let _ = writeln!(out, "redis_instance_info{{{}}} 1", labels.join(","));

    for family in [
        &commands,
        &durations,
        &rejected,
        &failed,
        &errors,
        &db_keys,
        &db_expiring,
        &db_ttl,
    ] {
        family.write(out);
    }

    let maxmemory = all
        .iter()
        .find(|f| f.key == "maxmemory")
        .and_then(|f| f.value.parse::<f64>().ok())
        .unwrap_or(0.0);
    header(
        out,
        "config_maxmemory",
        Kind::Gauge,
        "CONFIG maxmemory, in bytes.",
    );
    let _ = writeln!(out, "redis_config_maxmemory {}", number(maxmemory));
    header(out, "config_maxclients", Kind::Gauge, "CONFIG maxclients.");
    let _ = writeln!(out, "redis_config_maxclients {maxclients}");
}

/// `redistill_build_info`: the version of this build and of Redis it is compatible with.
pub(crate) fn build_info(out: &mut String) {
    let _ = writeln!(
        out,
        "# HELP redistill_build_info The Redistill version and the Redis version it answers \
         as, in labels."
    );
    out.push_str("# TYPE redistill_build_info gauge\n");
    let _ = writeln!(
        out,
        "redistill_build_info{{version=\"{}\",redis_version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        crate::REDIS_VERSION
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n\
        uptime_in_seconds:5\r\nhz:10\r\n\r\n# Persistence\r\nrdb_last_bgsave_status:ok\r\n\r\n\
        # Stats\r\ntotal_commands_processed:12\r\nlatest_fork_usec:1500\r\n\r\n\
        # Replication\r\nrole:master\r\n\r\n# Commandstats\r\n\
        cmdstat_config|get:calls=2,usec=30,usec_per_call=15.00,rejected_calls=0,failed_calls=1\r\n\
        \r\n# Errorstats\r\nerrorstat_ERR:count=1\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n\
        # Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=2500\r\n";

    #[test]
    fn info_fields_take_the_exporters_names_and_types() {
        let mut out = String::new();
        render(INFO, 100, &mut out);
        for line in [
            "redis_up 1",
            "# TYPE redis_commands_processed_total counter",
            "redis_commands_processed_total 12",
            "redis_uptime_in_seconds 5",
            "redis_hz 10",
            "redis_rdb_last_bgsave_status 1",
            "redis_latest_fork_seconds 0.0015",
            "redis_cluster_enabled 0",
            "redis_commands_total{cmd=\"config|get\"} 2",
            "redis_commands_duration_seconds_total{cmd=\"config|get\"} 0.00003",
            "redis_commands_failed_calls_total{cmd=\"config|get\"} 1",
            "redis_errors_total{err=\"ERR\"} 1",
            "redis_db_keys{db=\"db0\"} 3",
            "redis_db_keys_expiring{db=\"db0\"} 1",
            "redis_db_avg_ttl_seconds{db=\"db0\"} 2.5",
            "redis_config_maxclients 100",
        ] {
            assert!(out.lines().any(|l| l == line), "{line} missing from\n{out}");
        }
        assert!(out.contains("redis_instance_info{role=\"master\",redis_version=\"7.0.15\","));
        assert!(out.contains("redis_mode=\"standalone\""));
    }

    #[test]
    fn values_follow_the_exporters_rules() {
        assert_eq!(exporter_value("ok"), Some(1.0));
        assert_eq!(exporter_value("err"), Some(0.0));
        assert_eq!(exporter_value("1.25"), Some(1.25));
        assert_eq!(exporter_value("10K"), None);
    }
}
