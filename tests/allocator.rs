//! The `redistill` binary's allocator: memory freed by FLUSHALL or by departed clients goes
//! back to the OS without any command, INFO reports jemalloc's figures as Redis does, and
//! MEMORY PURGE and MALLOC-STATS answer as Redis's with jemalloc. Linux only (it reads
//! `/proc`), and only for the default build, whose global allocator is jemalloc.

#![cfg(all(target_os = "linux", feature = "jemalloc"))]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

mod common;

use common::{Running, exchange, redistill, wait_for_within};

const MIB: u64 = 1 << 20;

/// How long freed memory may take to leave the resident set. jemalloc's background thread
/// returns dirty pages over its 10 s decay time; the rest is slack for a loaded machine.
const RETURN_DEADLINE: Duration = Duration::from_secs(90);

/// How far above the empty server's resident set "back" is: the keyspace's tables, the
/// allocator's metadata and the pages jemalloc keeps cached are a few MiB.
const RESIDUE: u64 = 40 * MIB;

fn connect(server: &Running) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", server.port)).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s
}

/// The server process's VmRSS in bytes.
fn rss(server: &Running) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
        .expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .expect("VmRSS")
        * 1024
}

/// Polls the server's RSS until `done` holds for it, failing the test after `limit`;
/// returns the RSS that satisfied it.
fn wait_for_rss(server: &Running, limit: Duration, what: &str, done: impl Fn(u64) -> bool) -> u64 {
    wait_for_within(limit, &format!("the RSS {what}"), || {
        let now = rss(server);
        done(now).then_some(now)
    })
}

fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A bulk string reply's payload.
fn read_bulk(s: &mut TcpStream) -> Vec<u8> {
    let mut header = Vec::new();
    let mut byte = [0u8];
    while !header.ends_with(b"\r\n") {
        s.read_exact(&mut byte).expect("header");
        header.push(byte[0]);
    }
    assert_eq!(header[0], b'$', "{}", String::from_utf8_lossy(&header));
    let len: usize = std::str::from_utf8(&header[1..header.len() - 2])
        .expect("ascii")
        .parse()
        .expect("length");
    let mut body = vec![0; len + 2];
    s.read_exact(&mut body).expect("body");
    body.truncate(len);
    body
}

fn info_memory(s: &mut TcpStream) -> BTreeMap<String, String> {
    s.write_all(&command(&[b"INFO", b"memory"])).expect("send");
    String::from_utf8(read_bulk(s))
        .expect("utf-8")
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Stores `keys` values of `size` bytes, pipelined a thousand at a time.
fn load(s: &mut TcpStream, keys: usize, size: usize) {
    let value = vec![b'v'; size];
    for start in (0..keys).step_by(1000) {
        let end = (start + 1000).min(keys);
        let mut batch = Vec::new();
        for i in start..end {
            batch.extend(command(&[b"SET", format!("key:{i}").as_bytes(), &value]));
        }
        exchange(s, &batch, &b"+OK\r\n".repeat(end - start));
    }
}

/// 200 MB of 1 KB values, then FLUSHALL: the resident set falls back near the empty
/// server's on its own.
#[test]
fn flushall_gives_the_memory_back_to_the_os() {
    let server = Running::start(redistill()).0;
    let mut c = connect(&server);
    exchange(&mut c, b"PING\r\n", b"+PONG\r\n");
    let empty = rss(&server);
    load(&mut c, 200_000, 1000);
    let loaded = rss(&server);
    assert!(
        loaded > empty + 150 * MIB,
        "loading 200 MB took the RSS from {} to {} MiB",
        empty / MIB,
        loaded / MIB
    );
    exchange(&mut c, b"FLUSHALL\r\n", b"+OK\r\n");
    let back = wait_for_rss(&server, RETURN_DEADLINE, "after FLUSHALL", |rss| {
        rss < empty + RESIDUE
    });
    eprintln!(
        "FLUSHALL: RSS {} MiB empty, {} loaded, {} after",
        empty / MIB,
        loaded / MIB,
        back / MIB
    );
}

/// Clients each hold 9 MiB of an unfinished SET, then disconnect; twice, since an allocator
/// may serve the second wave from what it kept of the first. Each time the resident set
/// falls back near the empty server's on its own.
#[test]
fn memory_of_departed_clients_query_buffers_goes_back_to_the_os() {
    const CLIENTS: u64 = 20;
    const HELD: u64 = 9 * MIB;
    let server = Running::start(redistill()).0;
    let mut checker = connect(&server);
    exchange(&mut checker, b"PING\r\n", b"+PONG\r\n");
    let empty = rss(&server);
    let header = format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${}\r\n", HELD + MIB);
    let chunk = vec![b'x'; MIB as usize];
    for wave in 1..=2 {
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            let mut s = connect(&server);
            s.write_all(header.as_bytes()).expect("header");
            for _ in 0..HELD / MIB {
                s.write_all(&chunk).expect("part of the value");
            }
            clients.push(s);
        }
        let holding = wait_for_rss(&server, RETURN_DEADLINE, "reading the values", |rss| {
            rss > empty + CLIENTS * HELD * 3 / 4
        });
        drop(clients);
        let back = wait_for_rss(&server, RETURN_DEADLINE, "after the clients left", |rss| {
            rss < empty + RESIDUE
        });
        eprintln!(
            "wave {wave}: RSS {} MiB empty, {} holding, {} after",
            empty / MIB,
            holding / MIB,
            back / MIB
        );
        exchange(&mut checker, b"EXISTS big\r\n", b":0\r\n");
    }
}

/// `a / b` as Redis prints a ratio: single precision, two decimals.
fn ratio(a: u64, b: u64) -> String {
    format!("{:.2}", a as f32 / b as f32)
}

/// INFO's allocator fields hold jemalloc's figures, ordered as they must be, and each ratio
/// and difference is computed from the figures printed beside it.
#[test]
fn info_reports_jemallocs_figures_as_redis_does() {
    let server = Running::start(redistill()).0;
    let mut c = connect(&server);
    load(&mut c, 20_000, 100);
    let info = info_memory(&mut c);
    let n = |name: &str| -> u64 {
        info.get(name)
            .unwrap_or_else(|| panic!("INFO memory has {name}: {info:?}"))
            .parse()
            .unwrap_or_else(|_| panic!("{name} is a count: {info:?}"))
    };
    let allocator = &info["mem_allocator"];
    assert!(allocator.starts_with("jemalloc-5."), "{allocator}");
    let (allocated, active, resident) = (
        n("allocator_allocated"),
        n("allocator_active"),
        n("allocator_resident"),
    );
    let (rss, used) = (n("used_memory_rss"), n("used_memory"));
    // jemalloc guarantees this order; `resident` is an upper bound that may even pass the
    // RSS, so it is not compared with it.
    assert!(
        0 < allocated && allocated <= active && active <= resident,
        "{info:?}"
    );
    // The store's own count of its memory is within the allocator's.
    assert!(used <= allocated, "{info:?}");
    for (name, over, under) in [
        ("allocator_frag", active, allocated),
        ("allocator_rss", resident, active),
        ("rss_overhead", rss, resident),
        ("mem_fragmentation", rss, used),
    ] {
        assert_eq!(info[&format!("{name}_ratio")], ratio(over, under), "{name}");
        assert_eq!(
            info[&format!("{name}_bytes")],
            (i128::from(over) - i128::from(under)).to_string(),
            "{name}"
        );
    }
    assert_eq!(
        info["used_memory_rss_human"],
        format!("{:.2}M", rss as f64 / MIB as f64)
    );
}

/// MEMORY PURGE answers +OK; MEMORY MALLOC-STATS is jemalloc's report.
#[test]
fn memory_purge_and_malloc_stats_use_jemalloc() {
    let server = Running::start(redistill()).0;
    let mut c = connect(&server);
    exchange(&mut c, &command(&[b"MEMORY", b"PURGE"]), b"+OK\r\n");
    c.write_all(&command(&[b"MEMORY", b"MALLOC-STATS"]))
        .expect("send");
    let report = String::from_utf8(read_bulk(&mut c)).expect("utf-8");
    assert!(
        report.starts_with("___ Begin jemalloc statistics ___"),
        "{report}"
    );
    assert!(report.contains("background_thread: true"), "{report}");
}

#[test]
fn used_memory_counts_jemallocs_size_classes() {
    let (server, _logs) = Running::start(redistill());
    let mut s = connect(&server);
    let figure =
        |s: &mut TcpStream, name: &str| -> u64 { info_memory(s)[name].parse().expect("a number") };
    let (used, allocated) = (
        figure(&mut s, "used_memory"),
        figure(&mut s, "allocator_allocated"),
    );
    // Entries of about 1.1 KB, which jemalloc rounds up to its 1280-byte class where glibc
    // would add 16 bytes at most: counted with glibc's rounding, used_memory would fall
    // about 15% short of what the allocator holds for them.
    load(&mut s, 50_000, 1100);
    let used = figure(&mut s, "used_memory") - used;
    let allocated = figure(&mut s, "allocator_allocated") - allocated;
    let off = used.abs_diff(allocated) as f64 / allocated as f64;
    assert!(
        off < 0.05,
        "used_memory grew {used} bytes, the allocator's figure {allocated}"
    );
}
