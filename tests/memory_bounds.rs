//! The `redistill` binary's memory stays bounded whatever clients send, announce or fail to read:
//! measured from `/proc/PID/status` of the server process while the clients misbehave, and
//! other clients are answered meanwhile. Linux only (it reads `/proc`).

#![cfg(target_os = "linux")]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

mod common;

use common::{PATIENCE, Running, exchange, redistill};

/// What these tests ask of the server process.
trait Probe {
    fn connect(&self) -> TcpStream;
    fn memory(&self) -> (u64, u64);
}

impl Probe for Running {
    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connects");
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        s
    }

    /// (VmRSS, VmSize) of the server process in bytes.
    fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
                .expect("field in /proc status")
                * 1024
        };
        (field("VmRSS:"), field("VmSize:"))
    }
}

const MIB: u64 = 1 << 20;

/// Generous bound on what misbehaving clients may add to the resident set; a server that
/// buffered what they asked for would need gigabytes.
const RSS_GROWTH_CAP: u64 = 96 * MIB;

/// Clients announce 500 MB bulks (under the 512 MB `proto-max-bulk-len`) and trickle a
/// little of each: nothing is reserved for what has not arrived, in resident or even in
/// virtual memory, and other clients are served.
#[test]
fn announced_huge_bulks_are_not_allocated_up_front() {
    const CLIENTS: usize = 8;
    let server = Running::start(redistill()).0;
    // One checker per worker: connections are handed to workers in turn.
    let mut checkers = [server.connect(), server.connect()];
    for c in &mut checkers {
        exchange(c, b"PING\r\n", b"+PONG\r\n");
    }
    let (rss_before, vm_before) = server.memory();
    let mut senders: Vec<TcpStream> = (0..CLIENTS).map(|_| server.connect()).collect();
    for s in &mut senders {
        s.write_all(b"*3\r\n$3\r\nSET\r\n$4\r\nhuge\r\n$500000000\r\n")
            .expect("header");
    }
    for round in 0..16u8 {
        for s in &mut senders {
            s.write_all(&[b'a' + round; 16 * 1024]).expect("trickle");
        }
        for c in &mut checkers {
            exchange(c, b"EXISTS huge\r\n", b":0\r\n");
        }
    }
    let (rss, vm) = server.memory();
    let grew = rss.saturating_sub(rss_before);
    assert!(
        grew < RSS_GROWTH_CAP,
        "resident memory grew {} MiB",
        grew / MIB
    );
    // Eight reservations of 500 MB would add 4 GB of address space.
    let vm_grew = vm.saturating_sub(vm_before);
    eprintln!(
        "huge bulks: VmRSS {} -> {} KiB, VmSize {} -> {} KiB",
        rss_before / 1024,
        rss / 1024,
        vm_before / 1024,
        vm / 1024
    );
    assert!(
        vm_grew < 1024 * MIB,
        "virtual memory grew {} MiB",
        vm_grew / MIB
    );
}

/// Clients pipeline GETs of a 1 MiB value and never read: the server stops reading them
/// once their pending replies pass its pause threshold, so its memory stays bounded while
/// their requests would ask for terabytes; other clients still get whole replies.
#[test]
fn clients_that_never_read_large_replies_hold_bounded_memory() {
    const HOGS: usize = 4;
    // 64 MiB of "GET big" would ask for 7 TiB of replies.
    const SEND_CAP: usize = 64 << 20;
    let server = Running::start(redistill()).0;
    let mut checkers = [server.connect(), server.connect()];
    let value = vec![b'v'; MIB as usize];
    let mut set = b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$1048576\r\n".to_vec();
    set.extend_from_slice(&value);
    set.extend_from_slice(b"\r\n");
    exchange(&mut checkers[0], &set, b"+OK\r\n");
    let (rss_before, _) = server.memory();

    let hogs: Vec<TcpStream> = (0..HOGS).map(|_| server.connect()).collect();
    let writers: Vec<_> = hogs
        .iter()
        .map(|hog| {
            let mut hog = hog.try_clone().expect("clone");
            thread::spawn(move || {
                hog.set_write_timeout(Some(Duration::from_secs(1)))
                    .expect("timeout");
                let batch = b"GET big\r\n".repeat(1024);
                let mut sent = 0;
                while sent < SEND_CAP {
                    match hog.write(&batch) {
                        Ok(n) => sent += n,
                        Err(e)
                            if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                        {
                            return sent;
                        }
                        Err(e) => panic!("unexpected write error: {e}"),
                    }
                }
                sent
            })
        })
        .collect();
    // Both workers answer while the hogs push, and at least once whatever the timing.
    loop {
        let pushing = !writers.iter().all(|w| w.is_finished());
        for c in &mut checkers {
            exchange(c, b"PING\r\n", b"+PONG\r\n");
        }
        if !pushing {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    for writer in writers {
        let sent = writer.join().expect("writer");
        assert!(
            sent < SEND_CAP,
            "the server kept reading a client that never reads"
        );
    }

    let (rss, _) = server.memory();
    let grew = rss.saturating_sub(rss_before);
    eprintln!(
        "non-reading clients: VmRSS {} -> {} KiB",
        rss_before / 1024,
        rss / 1024
    );
    assert!(
        grew < RSS_GROWTH_CAP,
        "resident memory grew {} MiB",
        grew / MIB
    );
    // Both workers still serve whole large replies to clients that read.
    for c in &mut checkers {
        let mut expected = b"$1048576\r\n".to_vec();
        expected.extend_from_slice(&value);
        expected.extend_from_slice(b"\r\n");
        exchange(c, b"GET big\r\n", &expected);
    }
    drop(hogs);
}

/// Bulk headers announcing 1 GB, over the 512 MB `proto-max-bulk-len`: each such client is
/// refused at the header with Redis's text and closed, nothing is reserved for it, and the
/// other clients are answered in between.
#[test]
fn gigabyte_bulk_headers_are_refused_without_memory() {
    const CLIENTS: usize = 32;
    let server = Running::start(redistill()).0;
    let mut checkers = [server.connect(), server.connect()];
    for c in &mut checkers {
        exchange(c, b"SET k v\r\n", b"+OK\r\n");
    }
    let (rss_before, vm_before) = server.memory();
    let mut peak = rss_before;
    for _ in 0..CLIENTS {
        let mut s = server.connect();
        s.write_all(b"*3\r\n$3\r\nSET\r\n$4\r\nhuge\r\n$1000000000\r\n")
            .expect("header");
        // Whatever follows the header is not read into a buffer for it.
        let _ = s.write_all(&[b'x'; 64 * 1024]);
        let mut reply = Vec::new();
        let _ = s.read_to_end(&mut reply);
        assert_eq!(
            String::from_utf8_lossy(&reply),
            "-ERR Protocol error: invalid bulk length\r\n"
        );
        for c in &mut checkers {
            exchange(c, b"GET k\r\n", b"$1\r\nv\r\n");
        }
        peak = peak.max(server.memory().0);
    }
    let (rss, vm) = server.memory();
    eprintln!(
        "1 GB bulk headers: VmRSS {} -> {} KiB (peak {} KiB), VmSize {} -> {} KiB",
        rss_before / 1024,
        rss / 1024,
        peak / 1024,
        vm_before / 1024,
        vm / 1024
    );
    let grew = peak.saturating_sub(rss_before);
    assert!(
        grew < RSS_GROWTH_CAP,
        "resident memory grew {} MiB",
        grew / MIB
    );
    let vm_grew = vm.saturating_sub(vm_before);
    assert!(
        vm_grew < 1024 * MIB,
        "virtual memory grew {} MiB",
        vm_grew / MIB
    );
}

/// Clients pour seeded random bytes at the server and never read: whatever the server
/// makes of them (inline commands, protocol errors, error replies nobody reads), its
/// memory stays bounded and other clients are answered meanwhile.
#[test]
fn garbage_bytes_hold_bounded_memory() {
    const CLIENTS: usize = 4;
    /// Per client.
    const SEND_CAP: usize = 16 << 20;
    let server = Running::start(redistill()).0;
    let mut checkers = [server.connect(), server.connect()];
    for c in &mut checkers {
        exchange(c, b"SET k v\r\n", b"+OK\r\n");
    }
    let (rss_before, _) = server.memory();
    let port = server.port;
    let writers: Vec<_> = (0..CLIENTS as u64)
        .map(|seed| {
            thread::spawn(move || {
                // xorshift64*, seeded per client: the same bytes on every run.
                let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (seed + 1);
                let mut chunk = vec![0u8; 64 * 1024];
                let mut sent = 0;
                let mut connections = 0;
                let started = std::time::Instant::now();
                // A connection closed for a protocol error is replaced by a new one.
                while sent < SEND_CAP && started.elapsed() < Duration::from_secs(10) {
                    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
                    s.set_write_timeout(Some(Duration::from_secs(2)))
                        .expect("timeout");
                    connections += 1;
                    while sent < SEND_CAP {
                        for b in chunk.iter_mut() {
                            state ^= state >> 12;
                            state ^= state << 25;
                            state ^= state >> 27;
                            *b = (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8;
                        }
                        match s.write(&chunk) {
                            Ok(n) => sent += n,
                            // Closed for a protocol error, or no longer read.
                            Err(_) => break,
                        }
                    }
                }
                (sent, connections)
            })
        })
        .collect();
    // Both workers answer while the writers pour, and at least once whatever the timing.
    let mut peak = rss_before;
    let mut answered = 0u64;
    loop {
        let pouring = !writers.iter().all(|w| w.is_finished());
        for c in &mut checkers {
            exchange(c, b"GET k\r\n", b"$1\r\nv\r\n");
        }
        answered += 1;
        peak = peak.max(server.memory().0);
        if !pouring {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let (sent, connections) = writers
        .into_iter()
        .map(|w| w.join().expect("writer"))
        .fold((0, 0), |(s, c), (sent, conns)| (s + sent, c + conns));
    let (rss, _) = server.memory();
    peak = peak.max(rss);
    eprintln!(
        "garbage: {} MiB sent over {connections} connections, \
         VmRSS {} -> {} KiB (peak {} KiB), {answered} checks answered",
        sent >> 20,
        rss_before / 1024,
        rss / 1024,
        peak / 1024
    );
    let grew = peak.saturating_sub(rss_before);
    assert!(
        grew < RSS_GROWTH_CAP,
        "resident memory grew {} MiB",
        grew / MIB
    );
    for c in &mut checkers {
        exchange(c, b"GET k\r\n", b"$1\r\nv\r\n");
    }
}
