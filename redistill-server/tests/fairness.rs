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
