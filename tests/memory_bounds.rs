//! The `redistill` binary's memory stays bounded whatever clients announce or fail to read:
//! measured from `/proc/PID/status` of the server process while the clients misbehave, and
//! other clients are answered meanwhile. Linux only (it reads `/proc`).

#![cfg(target_os = "linux")]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

mod common;

use common::{Running, redistill};

/// What these tests ask of the server process.
trait Probe {
    fn connect(&self) -> TcpStream;
    fn memory(&self) -> (u64, u64);
}

impl Probe for Running {
    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connects");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
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

fn exchange(s: &mut TcpStream, request: &[u8], expected: &[u8]) {
    s.write_all(request).expect("write");
    let mut got = vec![0; expected.len()];
    s.read_exact(&mut got).expect("reply");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
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
