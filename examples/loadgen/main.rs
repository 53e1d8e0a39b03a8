//! A load generator for Redis-compatible servers that outruns redis-benchmark on one core.
//!
//! It takes redis-benchmark's options, tests and placeholders and prints its `-q` and
//! `--csv` lines, so scripts can run either (`CLIENT=loadgen scripts/bench.sh`). One
//! thread drives every connection through mio; requests are encoded once per connection
//! and only their `__rand_int__` digits change between batches; replies are counted by
//! stepping over their headers, never decoded. So with the client pinned to one core
//! and pipelining, the server, not the client, sets the pace.
//!
//! ```text
//! cargo run --release --example loadgen -- -p 6379 -t get,set -P 16 -r 100000 -n 1000000 -q
//! cargo run --release --example loadgen -- -p 6379 -r 1000 --csv ZADD z __rand_int__ m:__rand_int__
//! ```
//!
//! Options: `-h` host, `-p` port, `-c` connections (50), `-n` requests (100000), `-d`
//! value size (3), `-P` pipeline (1), `-r` keyspace (random `__rand_int__` below it,
//! zero-padded to 12 digits), `-t` tests (comma-separated redis-benchmark names), `-q`,
//! `--csv`, `--seed`. A command after the options runs instead of the tests.

mod driver;
mod reply;
mod workload;

use std::net::ToSocketAddrs;
use std::process::ExitCode;

use clap::{ArgAction, Parser};

use driver::{Report, Settings};
use workload::Workload;

/// redis-benchmark's options that the load generator takes.
#[derive(Debug, Parser)]
#[command(name = "loadgen", disable_help_flag = true)]
struct Options {
    /// Server host.
    #[arg(short = 'h', default_value = "127.0.0.1")]
    host: String,
    /// Server port.
    #[arg(short = 'p', default_value_t = 6379)]
    port: u16,
    /// Parallel connections.
    #[arg(short = 'c', default_value_t = 50)]
    clients: usize,
    /// Total requests of each test.
    #[arg(short = 'n', default_value_t = 100_000)]
    requests: u64,
    /// Value size in bytes of SET, LPUSH, HSET, MSET...
    #[arg(short = 'd', default_value_t = 3)]
    data_size: usize,
    /// Requests per connection in flight at once.
    #[arg(short = 'P', default_value_t = 1)]
    pipeline: usize,
    /// Replace `__rand_int__` with a random 12-digit number below this.
    #[arg(short = 'r')]
    keyspace: Option<u64>,
    /// Only these comma-separated tests (ignored when a command is given).
    #[arg(short = 't')]
    tests: Option<String>,
    /// One line per test: requests per second and median latency.
    #[arg(short = 'q')]
    quiet: bool,
    /// CSV, with redis-benchmark's columns.
    #[arg(long)]
    csv: bool,
    /// Seed of the random numbers (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    help: Option<bool>,
    /// A command to run instead of the tests, with `__rand_int__` placeholders.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

fn main() -> ExitCode {
    let options = Options::parse();
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), String> {
    let addr = (options.host.as_str(), options.port)
        .to_socket_addrs()
        .map_err(|e| format!("{}: {e}", options.host))?
        .next()
        .ok_or_else(|| format!("{}: no address", options.host))?;
    let seed = options.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id())
    });
    let workloads = if options.command.is_empty() {
        let data: Vec<u8> = std::iter::repeat_with(|| fastrand::alphanumeric() as u8)
            .take(options.data_size)
            .collect();
        workload::tests(options.tests.as_deref(), &data, options.keyspace.is_some())?
    } else {
        vec![Workload::command(&options.command)]
    };
    let settings = Settings {
        addr,
        clients: options.clients,
        requests: options.requests,
        pipeline: options.pipeline,
        keyspace: options.keyspace,
        seed,
    };
    if options.csv {
        println!(
            "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\""
        );
    }
    for workload in &workloads {
        let report = driver::run(&settings, workload).map_err(|e| format!("{addr}: {e}"))?;
        print_report(options, &workload.title, &report);
    }
    Ok(())
}

/// One test's result in redis-benchmark's format of choice.
fn print_report(options: &Options, title: &str, report: &Report) {
    let rps = report.requests_per_second();
    let l = report.latency();
    if options.csv {
        println!(
            "\"{title}\",\"{rps:.2}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\"",
            l.avg, l.min, l.p50, l.p95, l.p99, l.max
        );
    } else if options.quiet {
        println!(
            "{title}: {rps:.2} requests per second, p50={:.3} msec",
            l.p50
        );
    } else {
        println!("====== {title} ======");
        println!(
            "  {} requests completed in {:.2} seconds",
            report.replies,
            report.elapsed.as_secs_f64()
        );
        println!("  {} parallel clients", options.clients);
        println!("  {} bytes payload", options.data_size);
        println!("  pipeline: {}", options.pipeline.max(1));
        println!();
        println!("Summary:");
        println!("  throughput summary: {rps:.2} requests per second");
        println!("  latency summary (msec):");
        println!(
            "    {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "avg", "min", "p50", "p95", "p99", "max"
        );
        println!(
            "    {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            l.avg, l.min, l.p50, l.p95, l.p99, l.max
        );
        println!();
    }
    if report.errors > 0 {
        eprintln!(
            "{title}: {} error replies, the first: {}",
            report.errors,
            report.first_error.as_deref().unwrap_or("(a bulk error)")
        );
    }
}
