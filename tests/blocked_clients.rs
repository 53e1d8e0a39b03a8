//! Ten thousand clients blocked on one list at once, served by ten thousand pushes from
//! clients on both workers: each gets exactly one element, none is lost or served twice.
//! The server runs as its own process so that the two ends' descriptors (20,000 sockets)
//! are counted against two processes' limits.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::thread;

mod common;

use common::{PATIENCE, Running, exchange, redistill, wait_until};

const CLIENTS: usize = 10_000;

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s
}

/// INFO's `blocked_clients`.
fn blocked_clients(control: &mut BufReader<TcpStream>) -> usize {
    control
        .get_mut()
        .write_all(b"INFO clients\r\n")
        .expect("info");
    let mut header = String::new();
    control.read_line(&mut header).expect("header");
    let len: usize = header[1..].trim().parse().expect("bulk length");
    let mut read = 0;
    let mut blocked = None;
    while read < len + 2 {
        let mut line = String::new();
        read += control.read_line(&mut line).expect("line");
        if let Some(n) = line.trim().strip_prefix("blocked_clients:") {
            blocked = n.parse().ok();
        }
    }
    blocked.expect("blocked_clients in INFO")
}

#[test]
fn ten_thousand_blocked_clients_each_get_one_of_ten_thousand_pushes() {
    let mut command = redistill();
    command.args(["--maxclients", "10100"]);
    let (server, _logs) = Running::start(command);
    let port = server.port;
    let mut control = BufReader::new(connect(port));

    let mut waiting: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| {
            let mut s = connect(port);
            s.write_all(b"*3\r\n$5\r\nBLPOP\r\n$5\r\nqueue\r\n$1\r\n0\r\n")
                .expect("blpop");
            s
        })
        .collect();
    wait_until("every client blocked", || {
        blocked_clients(&mut control) == CLIENTS
    });

    // Two pushers, one per worker (connections alternate between them), 5,000 pushes each.
    let pushers: Vec<_> = (0..2)
        .map(|p| {
            thread::spawn(move || {
                let mut s = connect(port);
                let mut pipeline = Vec::new();
                for i in (p..CLIENTS).step_by(2) {
                    let element = format!("e{i}");
                    pipeline.extend_from_slice(
                        format!(
                            "*3\r\n$5\r\nLPUSH\r\n$5\r\nqueue\r\n${}\r\n{element}\r\n",
                            element.len()
                        )
                        .as_bytes(),
                    );
                }
                s.write_all(&pipeline).expect("pushes");
                let mut replies = BufReader::new(s);
                for _ in (p..CLIENTS).step_by(2) {
                    let mut line = String::new();
                    replies.read_line(&mut line).expect("push reply");
                    assert!(line.starts_with(':'), "{line:?}");
                }
            })
        })
        .collect();
    for pusher in pushers {
        pusher.join().expect("pusher");
    }

    let mut served = HashSet::new();
    for s in &mut waiting {
        let mut reader = BufReader::new(s);
        let mut lines = Vec::new();
        for _ in 0..5 {
            let mut line = String::new();
            reader.read_line(&mut line).expect("reply line");
            lines.push(line.trim_end().to_owned());
        }
        assert_eq!(
            &lines[..4],
            ["*2", "$5", "queue", &format!("${}", lines[4].len())]
        );
        assert!(served.insert(lines[4].clone()), "{} served twice", lines[4]);
    }
    let expected: HashSet<String> = (0..CLIENTS).map(|i| format!("e{i}")).collect();
    assert_eq!(served, expected);
    exchange(control.get_mut(), b"LLEN queue\r\n", b":0\r\n");
    assert_eq!(blocked_clients(&mut control), 0);
    drop(server);
}
