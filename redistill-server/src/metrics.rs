//! One consistent reading of the server's figures, and its two renderings for the HTTP
//! endpoint: the `/health` JSON document and the `/metrics` Prometheus text.
//!
//! The figures are the ones INFO reports, under the same names where JSON carries them
//! (`connected_clients`, `used_memory`, ...); Prometheus names follow that format's
//! conventions instead (`redistill_` prefix, `_total` on counters, base units), followed
//! by the same figures under redis_exporter's `redis_` names (see [`crate::redis_metrics`])
//! and `redistill_build_info`.

use std::fmt::Write as _;

use crate::shared::Shared;
use crate::stats::Stats;

/// What is known of the last snapshot save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LastSave {
    /// `"ok"` or `"err"` as INFO's `rdb_last_bgsave_status`; `None` when no save ran.
    pub status: Option<&'static str>,
    /// Unix seconds of the last successful save (INFO's `rdb_last_save_time`).
    pub unix_time: Option<u64>,
}

/// The last save's outcome, as INFO's `rdb_last_bgsave_status` and `rdb_last_save_time`
/// report it; nothing before the first save.
pub(crate) fn last_save(shared: &Shared) -> LastSave {
    let status = shared.persistence.status(&shared.store);
    if status.saves == 0 {
        return LastSave {
            status: None,
            unix_time: None,
        };
    }
    LastSave {
        status: Some(if status.last_save_ok { "ok" } else { "err" }),
        unix_time: Some(status.last_save_unix),
    }
}

/// One command's INFO commandstats figures, summed over the workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommandFigures {
    pub name: &'static str,
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
}

/// Keys of one non-empty database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DbFigures {
    pub db: usize,
    pub keys: usize,
    pub expires: usize,
    pub avg_ttl_ms: u64,
}

/// Every figure the endpoint reports, read once per request.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub uptime_in_seconds: u64,
    pub connected_clients: u64,
    pub maxclients: u32,
    pub total_connections_received: u64,
    pub rejected_connections: u64,
    pub total_commands_processed: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    pub eviction_time_ns: u64,
    pub eviction_exceeded_ms: u64,
    pub auth_failures: u64,
    pub used_memory: u64,
    pub used_memory_rss: u64,
    pub maxmemory: u64,
    pub dbs: Vec<DbFigures>,
    pub commands: Vec<CommandFigures>,
    pub last_save: LastSave,
    /// `INFO ALL`'s text, which the redis_exporter-named metrics are read from; empty
    /// when the reading is for `/health`, which does not need it.
    pub info: String,
}

impl Snapshot {
    /// Reads the figures; `with_info` also renders `INFO ALL` for the `/metrics` page.
    pub fn read(shared: &Shared, with_info: bool) -> Snapshot {
        let (maxclients, maxmemory) = {
            let config = shared.config.read();
            (config.server.max_connections, config.memory.max_memory)
        };
        let store = shared.store.stats();
        let dbs = (0..shared.store.databases())
            .filter_map(|db| {
                let info = shared.store.db_info(db).ok()?;
                (info.keys > 0).then_some(DbFigures {
                    db,
                    keys: info.keys,
                    expires: info.expires,
                    avg_ttl_ms: info.avg_ttl_ms,
                })
            })
            .collect();
        Snapshot {
            uptime_in_seconds: shared.started.elapsed().as_secs(),
            connected_clients: Stats::get(&shared.stats.connected_clients),
            maxclients,
            total_connections_received: Stats::get(&shared.stats.connections_received),
            rejected_connections: Stats::get(&shared.stats.rejected_connections),
            total_commands_processed: shared.commands_processed(),
            keyspace_hits: store.keyspace_hits,
            keyspace_misses: store.keyspace_misses,
            expired_keys: store.expired_keys,
            evicted_keys: store.evicted_keys,
            eviction_time_ns: store.eviction_time_ns,
            eviction_exceeded_ms: store.eviction_exceeded_ms,
            auth_failures: Stats::get(&shared.stats.auth_failures),
            used_memory: shared.used_memory(),
            used_memory_rss: crate::rss::rss_bytes(),
            maxmemory,
            dbs,
            commands: command_figures(shared),
            last_save: last_save(shared),
            info: if with_info {
                crate::cmd::info_text(shared, &["all".to_owned()])
            } else {
                String::new()
            },
        }
    }

    /// Keys in every database.
    pub fn keys(&self) -> u64 {
        self.dbs.iter().map(|d| d.keys as u64).sum()
    }

    /// The `/health` document. Its `status` is `"error"` while the last snapshot save
    /// failed (writes since then would be lost on a restart), else `"ok"`.
    pub fn health_json(&self) -> String {
        let status = if self.last_save.status == Some("err") {
            "error"
        } else {
            "ok"
        };
        let db_keys: serde_json::Map<String, serde_json::Value> = self
            .dbs
            .iter()
            .map(|d| (format!("db{}", d.db), d.keys.into()))
            .collect();
        serde_json::json!({
            "status": status,
            "version": env!("CARGO_PKG_VERSION"),
            "redis_version": crate::REDIS_VERSION,
            "uptime_in_seconds": self.uptime_in_seconds,
            "connected_clients": self.connected_clients,
            "keys": self.keys(),
            "db_keys": db_keys,
            "used_memory": self.used_memory,
            "used_memory_rss": self.used_memory_rss,
            "total_commands_processed": self.total_commands_processed,
            "last_save": {
                "status": self.last_save.status,
                "unix_time": self.last_save.unix_time,
            },
        })
        .to_string()
    }

    /// The `/metrics` page in the Prometheus text exposition format 0.0.4.
    pub fn prometheus(&self) -> String {
        let mut out = String::with_capacity(4096 + self.commands.len() * 512);
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            family(&mut out, name, kind, help);
            let _ = writeln!(out, "redistill_{name} {value}");
        };
        metric(
            "uptime_seconds",
            "gauge",
            "Seconds since the server started (INFO uptime_in_seconds).",
            self.uptime_in_seconds,
        );
        metric(
            "connected_clients",
            "gauge",
            "Client connections open now (INFO connected_clients).",
            self.connected_clients,
        );
        metric(
            "max_clients",
            "gauge",
            "Most client connections allowed at once; 0 means no limit (INFO maxclients).",
            u64::from(self.maxclients),
        );
        metric(
            "connections_received_total",
            "counter",
            "Client connections accepted (INFO total_connections_received).",
            self.total_connections_received,
        );
        metric(
            "rejected_connections_total",
            "counter",
            "Connections refused over the maxclients limit (INFO rejected_connections).",
            self.rejected_connections,
        );
        metric(
            "commands_processed_total",
            "counter",
            "Commands run (INFO total_commands_processed).",
            self.total_commands_processed,
        );
        metric(
            "keyspace_hits_total",
            "counter",
            "Key lookups that found the key (INFO keyspace_hits).",
            self.keyspace_hits,
        );
        metric(
            "keyspace_misses_total",
            "counter",
            "Key lookups that did not find the key (INFO keyspace_misses).",
            self.keyspace_misses,
        );
        metric(
            "expired_keys_total",
            "counter",
            "Keys removed because their TTL passed (INFO expired_keys).",
            self.expired_keys,
        );
        metric(
            "evicted_keys_total",
            "counter",
            "Keys evicted to stay under maxmemory (INFO evicted_keys).",
            self.evicted_keys,
        );
        for (name, help, usec) in [
            (
                "eviction_seconds_total",
                "Time spent evicting keys to stay under maxmemory.",
                self.eviction_time_ns / 1000,
            ),
            (
                "eviction_exceeded_seconds_total",
                "Time used memory stayed over maxmemory because eviction could not bring it \
                 under (INFO total_eviction_exceeded_time, in seconds).",
                self.eviction_exceeded_ms.saturating_mul(1000),
            ),
        ] {
            family(&mut out, name, "counter", help);
            let _ = writeln!(out, "redistill_{name} {}", seconds(usec));
        }
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            family(&mut out, name, kind, help);
            let _ = writeln!(out, "redistill_{name} {value}");
        };
        metric(
            "auth_failures_total",
            "counter",
            "Failed AUTH attempts (INFO acl_access_denied_auth).",
            self.auth_failures,
        );
        metric(
            "used_memory_bytes",
            "gauge",
            "Estimated bytes held by the keyspace (INFO used_memory).",
            self.used_memory,
        );
        metric(
            "used_memory_rss_bytes",
            "gauge",
            "Resident set size of the process (INFO used_memory_rss).",
            self.used_memory_rss,
        );
        metric(
            "maxmemory_bytes",
            "gauge",
            "Memory limit; 0 means no limit (INFO maxmemory).",
            self.maxmemory,
        );
        metric("keys", "gauge", "Keys in all databases.", self.keys());
        if let Some(status) = self.last_save.status {
            metric(
                "last_save_ok",
                "gauge",
                "1 if the last snapshot save succeeded, else 0 (INFO rdb_last_bgsave_status).",
                u64::from(status == "ok"),
            );
        }
        if let Some(time) = self.last_save.unix_time {
            metric(
                "last_save_timestamp_seconds",
                "gauge",
                "Unix time of the last successful snapshot save (INFO rdb_last_save_time).",
                time,
            );
        }

        family(
            &mut out,
            "db_keys",
            "gauge",
            "Keys per database (INFO keyspace keys=).",
        );
        for d in &self.dbs {
            let _ = writeln!(out, "redistill_db_keys{{db=\"db{}\"}} {}", d.db, d.keys);
        }
        family(
            &mut out,
            "db_keys_expiring",
            "gauge",
            "Keys with a TTL per database (INFO keyspace expires=).",
        );
        for d in &self.dbs {
            let _ = writeln!(
                out,
                "redistill_db_keys_expiring{{db=\"db{}\"}} {}",
                d.db, d.expires
            );
        }
        family(
            &mut out,
            "db_avg_ttl_seconds",
            "gauge",
            "Average remaining TTL of the keys the expiry cycle samples, per database (INFO \
             keyspace avg_ttl=, in seconds).",
        );
        for d in &self.dbs {
            let _ = writeln!(
                out,
                "redistill_db_avg_ttl_seconds{{db=\"db{}\"}} {}",
                d.db,
                seconds(d.avg_ttl_ms.saturating_mul(1000))
            );
        }

        type Field = fn(&CommandFigures) -> String;
        let per_command: [(&str, &str, Field); 4] = [
            (
                "commands_total",
                "Calls per command (INFO commandstats calls).",
                |c| c.calls.to_string(),
            ),
            (
                "commands_duration_seconds_total",
                "Seconds spent running each command (INFO commandstats usec).",
                |c| seconds(c.usec),
            ),
            (
                "commands_rejected_calls_total",
                "Calls refused before running, per command (INFO commandstats rejected_calls).",
                |c| c.rejected.to_string(),
            ),
            (
                "commands_failed_calls_total",
                "Calls that ran and answered an error, per command (INFO commandstats \
                 failed_calls).",
                |c| c.failed.to_string(),
            ),
        ];
        for (name, help, field) in per_command {
            family(&mut out, name, "counter", help);
            for c in &self.commands {
                let _ = writeln!(
                    out,
                    "redistill_{name}{{cmd=\"{}\"}} {}",
                    label_value(c.name),
                    field(c)
                );
            }
        }
        crate::redis_metrics::build_info(&mut out);
        crate::redis_metrics::render(&self.info, self.maxclients, &mut out);
        out
    }
}

/// The `# HELP` and `# TYPE` lines that open a metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP redistill_{name} {help}");
    let _ = writeln!(out, "# TYPE redistill_{name} {kind}");
}

/// Microseconds as a decimal number of seconds, exact (no float rounding).
fn seconds(usec: u64) -> String {
    format!("{}.{:06}", usec / 1_000_000, usec % 1_000_000)
}

/// A label value escaped as the text format requires.
fn label_value(value: &str) -> String {
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

/// Per-command figures of every command called or refused at least once, as INFO
/// commandstats lists them.
fn command_figures(shared: &Shared) -> Vec<CommandFigures> {
    (0..crate::cmd::count())
        .filter_map(|index| {
            let name = crate::cmd::name_of(index)?;
            let mut figures = CommandFigures {
                name,
                calls: 0,
                usec: 0,
                rejected: 0,
                failed: 0,
            };
            for worker in &shared.command_stats {
                let (calls, usec, rejected, failed) = worker.get(index);
                figures.calls += calls;
                figures.usec += usec;
                figures.rejected += rejected;
                figures.failed += failed;
            }
            (figures.calls + figures.rejected > 0).then_some(figures)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_exact_decimals() {
        assert_eq!(seconds(0), "0.000000");
        assert_eq!(seconds(1), "0.000001");
        assert_eq!(seconds(2_500_000), "2.500000");
        assert_eq!(seconds(u64::MAX), "18446744073709.551615");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value("get"), "get");
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
