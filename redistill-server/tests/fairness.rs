//! One client's heavy work does not stall the other clients of its worker.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::sync::mpsc;
use std::time::Duration;

use common::TestServer;

/// How long a PING may wait while another client's commands run: generous for a loaded
/// machine, far below what a stalled worker took (seconds to minutes).
const PING_PATIENCE: Duration = Duration::from_secs(5);

fn append_request(key: &str, chunk: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "*3\r\n$6\r\nAPPEND\r\n${}\r\n{key}\r\n${}\r\n",
        key.len(),
        chunk.len()
    )
    .into_bytes();
    r.extend_from_slice(chunk);
    r.extend_from_slice(b"\r\n");
    r
}

#[test]
fn ping_is_answered_while_another_client_pipelines_twenty_thousand_appends() {
    // One worker: the pinging client and the appending one share it.
    let server = TestServer::with_config(|c| c.server.workers = 1);
    let chunk = vec![b'a'; 1024];
    let request = append_request("log", &chunk);
    const APPENDS: usize = 20_000;
    let (halfway_tx, halfway_rx) = mpsc::channel();
    let mut writer = server.raw();
    let reader = writer.try_clone().expect("clone");
    // Plain threads, not scoped ones: a PING that times out fails the test at once, without
    // waiting for the appends to end.
    let appender = std::thread::spawn(move || {
        // Half the pipeline, then tell the pinger, then the rest: its PING is sent while
        // appends are still arriving.
        let half: Vec<u8> = request.repeat(APPENDS / 2);
        writer.write_all(&half).expect("write");
        halfway_tx.send(()).expect("signal");
        writer.write_all(&half).expect("write");
    });
    let replies = std::thread::spawn(move || {
        let mut lines = BufReader::new(reader);
        let mut line = String::new();
        let mut last = 0;
        for _ in 0..APPENDS {
            line.clear();
            lines.read_line(&mut line).expect("reply");
            last = line
                .trim_start_matches(':')
                .trim()
                .parse::<usize>()
                .expect("length");
        }
        last
    });
    halfway_rx.recv().expect("halfway");
    let mut pinger = server.raw();
    pinger
        .set_read_timeout(Some(PING_PATIENCE))
        .expect("timeout");
    for _ in 0..3 {
        common::exchange(&mut pinger, b"PING\r\n", b"+PONG\r\n");
    }
    appender.join().expect("appender");
    assert_eq!(replies.join().expect("replies"), APPENDS * chunk.len());
    let mut c = server.client();
    let len: usize = redis::cmd("STRLEN").arg("log").query(&mut c).unwrap();
    assert_eq!(len, APPENDS * 1024);
}

#[test]
fn a_client_that_pipelines_and_reads_as_fast_as_it_can_leaves_its_worker_to_the_others() {
    use std::io::Read;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let server = TestServer::with_config(|c| c.server.workers = 1);
    // Requests flow without end and the replies are drained as fast as they come, so the
    // connection never runs out of input nor of room for output.
    let received = Arc::new(AtomicUsize::new(0));
    let mut writer = server.raw();
    let mut reader = writer.try_clone().expect("clone");
    let feeding = std::thread::spawn(move || {
        let batch = b"INCR counter\r\nSET key value\r\n".repeat(100);
        while writer.write_all(&batch).is_ok() {}
    });
    let draining = {
        let received = Arc::clone(&received);
        std::thread::spawn(move || {
            let mut buf = vec![0; 1 << 20];
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                received.fetch_add(n, Ordering::Relaxed);
            }
        })
    };
    common::wait_until("the pipeline's replies to flow", || {
        received.load(Ordering::Relaxed) > 1 << 20
    });
    let mut pinger = server.raw();
    pinger
        .set_read_timeout(Some(PING_PATIENCE))
        .expect("timeout");
    for _ in 0..3 {
        let mut pong = [0; 7];
        let answered =
            pinger.write_all(b"PING\r\n").is_ok() && pinger.read_exact(&mut pong).is_ok();
        if !answered || &pong != b"+PONG\r\n" {
            // A stuck worker would also hold up the shutdown that dropping the server
            // starts: leave it running, so that the test fails now rather than hang.
            std::mem::forget(server);
            panic!("PING went unanswered for {PING_PATIENCE:?} beside the pipelining client");
        }
    }
    // Shutting down closes the server's side, which ends both threads' blocking calls.
    drop(server);
    feeding.join().expect("feeder");
    draining.join().expect("drainer");
}
