//! Blocking list and sorted-set commands over real sockets, on a server with two workers: the order
//! clients are served in, several keys, wake-ups from the other worker, BLMOVE chains,
//! timeouts, CLIENT UNBLOCK and KILL, disconnects, transactions, and every way a key can
//! receive a list (push, LMOVE, RENAME, MOVE, COPY, SWAPDB); BZPOPMIN, BZPOPMAX and
//! BZMPOP, and waiters that keys of the other type leave waiting.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{TestServer, exchange, info, wait_until};

/// A request in RESP from space-separated words.
fn words(line: &str) -> Vec<u8> {
    let parts: Vec<&str> = line.split(' ').collect();
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for part in parts {
        out.extend_from_slice(format!("${}\r\n{part}\r\n", part.len()).as_bytes());
    }
    out
}

/// A RESP2 array of bulk strings.
fn bulks(items: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", items.len()).into_bytes();
    for item in items {
        out.extend_from_slice(format!("${}\r\n{item}\r\n", item.len()).as_bytes());
    }
    out
}

fn send(stream: &mut TcpStream, line: &str) {
    stream.write_all(&words(line)).expect("send");
}

/// Reads exactly `expected.len()` bytes and compares them.
fn expect(stream: &mut TcpStream, expected: &[u8]) {
    let mut got = vec![0; expected.len()];
    stream.read_exact(&mut got).expect("reply");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
}

fn run(stream: &mut TcpStream, line: &str, reply: &[u8]) {
    exchange(stream, &words(line), reply);
}

fn blocked_clients(server: &TestServer) -> usize {
    let mut s = server.raw();
    info(&mut s, "clients")["blocked_clients"]
        .parse()
        .expect("a count")
}

/// Waits until `n` clients are blocked.
fn until_blocked(server: &TestServer, n: usize) {
    wait_until(&format!("{n} blocked clients"), || {
        blocked_clients(server) == n
    });
}

/// Sends a blocking command on a fresh connection and waits until the server has
/// blocked it (`already` clients were blocked before).
fn blocked(server: &TestServer, line: &str, already: usize) -> TcpStream {
    let mut s = server.raw();
    send(&mut s, line);
    until_blocked(server, already + 1);
    s
}

#[test]
fn clients_blocked_on_one_key_are_served_in_the_order_they_blocked() {
    let server = TestServer::start();
    // Connections alternate between the two workers, so half the wake-ups cross over.
    let mut waiting: Vec<TcpStream> = (0..100)
        .map(|i| blocked(&server, "BLPOP queue 0", i))
        .collect();
    let mut pusher = server.raw();
    let elements: Vec<String> = (0..100).map(|i| format!("job{i}")).collect();
    let push = format!("RPUSH queue {}", elements.join(" "));
    run(&mut pusher, &push, b":100\r\n");
    for (s, element) in waiting.iter_mut().zip(&elements) {
        expect(s, &bulks(&["queue", element]));
    }
    run(&mut pusher, "LLEN queue", b":0\r\n");
    assert_eq!(blocked_clients(&server), 0);
}

#[test]
fn one_push_at_a_time_serves_one_client_at_a_time() {
    let server = TestServer::start();
    let mut first = blocked(&server, "BRPOP q 0", 0);
    let mut second = blocked(&server, "BRPOP q 0", 1);
    let mut pusher = server.raw();
    run(&mut pusher, "LPUSH q a", b":1\r\n");
    expect(&mut first, &bulks(&["q", "a"]));
    until_blocked(&server, 1);
    run(&mut pusher, "LPUSH q b", b":1\r\n");
    expect(&mut second, &bulks(&["q", "b"]));
}

#[test]
fn a_client_blocked_on_several_keys_takes_the_first_that_receives_data() {
    let server = TestServer::start();
    let mut waiting = blocked(&server, "BLPOP a b c 0", 0);
    let mut pusher = server.raw();
    run(&mut pusher, "RPUSH c 3", b":1\r\n");
    expect(&mut waiting, &bulks(&["c", "3"]));
    // With data already there, the first key in order that has some.
    run(&mut pusher, "RPUSH b 2", b":1\r\n");
    run(&mut pusher, "RPUSH c 3", b":1\r\n");
    run(&mut waiting, "BLPOP a b c 0", &bulks(&["b", "2"]));
    // Keys pushed to in one transaction: the first pushed to serves.
    let mut waiting = blocked(&server, "BLPOP a b 0", 0);
    run(&mut pusher, "MULTI", b"+OK\r\n");
    run(&mut pusher, "RPUSH b x", b"+QUEUED\r\n");
    run(&mut pusher, "RPUSH a y", b"+QUEUED\r\n");
    run(&mut pusher, "EXEC", b"*2\r\n:1\r\n:1\r\n");
    expect(&mut waiting, &bulks(&["b", "x"]));
    run(&mut pusher, "LRANGE a 0 -1", &bulks(&["y"]));
}

#[test]
fn a_push_inside_a_transaction_wakes_the_client_only_after_exec() {
    let server = TestServer::start();
    let mut waiting = blocked(&server, "BLPOP q 0", 0);
    let mut pusher = server.raw();
    run(&mut pusher, "MULTI", b"+OK\r\n");
    run(&mut pusher, "RPUSH q x", b"+QUEUED\r\n");
    run(&mut pusher, "LLEN q", b"+QUEUED\r\n");
    run(&mut pusher, "RPUSH q y", b"+QUEUED\r\n");
    assert_eq!(blocked_clients(&server), 1);
    // Within the transaction the element stays in the list.
    run(&mut pusher, "EXEC", b"*3\r\n:1\r\n:1\r\n:2\r\n");
    expect(&mut waiting, &bulks(&["q", "x"]));
    run(&mut pusher, "LRANGE q 0 -1", &bulks(&["y"]));
}

#[test]
fn blmove_chains_pass_one_element_along_and_move_atomically() {
    let server = TestServer::start();
    let mut first = blocked(&server, "BLMOVE one two RIGHT LEFT 0", 0);
    let mut second = blocked(&server, "BRPOPLPUSH two three 0", 1);
    let mut last = blocked(&server, "BLPOP three 0", 2);
    let mut pusher = server.raw();
    run(&mut pusher, "RPUSH one x", b":1\r\n");
    expect(&mut first, b"$1\r\nx\r\n");
    expect(&mut second, b"$1\r\nx\r\n");
    expect(&mut last, &bulks(&["three", "x"]));
    for key in ["one", "two", "three"] {
        run(&mut pusher, &format!("EXISTS {key}"), b":0\r\n");
    }
    // A destination of another type ends the wait with WRONGTYPE and moves nothing.
    let mut waiting = blocked(&server, "BLMOVE src dst LEFT LEFT 0", 0);
    run(&mut pusher, "SET dst string", b"+OK\r\n");
    run(&mut pusher, "RPUSH src e", b":1\r\n");
    expect(
        &mut waiting,
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
    run(&mut pusher, "LRANGE src 0 -1", &bulks(&["e"]));
}

#[test]
fn timeouts_end_the_wait_on_time_with_nil() {
    let server = TestServer::start();
    for (timeout, seconds) in [("0.01", 0.01), ("0.1", 0.1), ("0.5", 0.5), ("2", 2.0)] {
        let mut s = server.raw();
        let started = Instant::now();
        run(&mut s, &format!("BLPOP nothing {timeout}"), b"*-1\r\n");
        let took = started.elapsed();
        let asked = Duration::from_secs_f64(seconds);
        assert!(took >= asked, "{timeout} s timed out after {took:?}");
        // The server times out within its 100 ms cycle plus 10 ms; the margin beyond is
        // for a loaded machine running the client.
        assert!(
            took < asked + Duration::from_millis(250),
            "{timeout} s timed out after {took:?}"
        );
    }
    let mut s = server.raw();
    // HELLO's map, then PING's answer, which ends what HELLO 3 sent.
    s.write_all(b"HELLO 3\r\nPING\r\n").expect("hello");
    let mut hello = Vec::new();
    while !hello.ends_with(b"+PONG\r\n") {
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).expect("read");
        hello.extend_from_slice(&buf[..n]);
    }
    run(&mut s, "BRPOP nothing 0.01", b"_\r\n");
    run(&mut s, "BLMOVE nothing dst LEFT LEFT 0.01", b"_\r\n");
    run(&mut s, "BLMPOP 0.01 1 nothing LEFT", b"_\r\n");
}

#[test]
fn requests_pipelined_after_a_blocking_command_run_once_it_is_served() {
    let server = TestServer::start();
    let mut waiting = server.raw();
    let mut pipeline = words("BLPOP q 0");
    pipeline.extend_from_slice(&words("LLEN q"));
    pipeline.extend_from_slice(b"PING\r\n");
    waiting.write_all(&pipeline).expect("send");
    until_blocked(&server, 1);
    let mut pusher = server.raw();
    run(&mut pusher, "RPUSH q a b", b":2\r\n");
    let mut expected = bulks(&["q", "a"]);
    expected.extend_from_slice(b":1\r\n+PONG\r\n");
    expect(&mut waiting, &expected);
}

#[test]
fn client_unblock_ends_the_wait_as_a_timeout_or_an_error() {
    let server = TestServer::start();
    let mut control = server.raw();
    for (reason, reply) in [
        ("", &b"*-1\r\n"[..]),
        (" TIMEOUT", b"*-1\r\n"),
        (
            " ERROR",
            b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n",
        ),
    ] {
        let mut waiting = server.raw();
        let id = client_id(&mut waiting);
        send(&mut waiting, "BLPOP q 0");
        until_blocked(&server, 1);
        let flags = client_flags(&mut control, &id);
        assert_eq!(flags, "b");
        run(
            &mut control,
            &format!("CLIENT UNBLOCK {id}{reason}"),
            b":1\r\n",
        );
        expect(&mut waiting, reply);
        run(&mut control, &format!("CLIENT UNBLOCK {id}"), b":0\r\n");
        run(&mut waiting, "PING", b"+PONG\r\n");
    }
    assert_eq!(blocked_clients(&server), 0);
}

/// One line of a reply, without its CRLF.
fn line(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut byte = [0u8];
    while !out.ends_with(b"\r\n") {
        stream.read_exact(&mut byte).expect("a reply line");
        out.push(byte[0]);
    }
    out.truncate(out.len() - 2);
    String::from_utf8(out).expect("utf-8")
}

/// An integer reply's value.
fn integer(stream: &mut TcpStream) -> String {
    line(stream)[1..].to_owned()
}

/// The connection's CLIENT ID.
fn client_id(stream: &mut TcpStream) -> String {
    send(stream, "CLIENT ID");
    integer(stream)
}

/// CLIENT LIST's `flags` for client `id`.
fn client_flags(control: &mut TcpStream, id: &str) -> String {
    send(control, &format!("CLIENT LIST ID {id}"));
    line(control); // the bulk string's length
    let text = line(control);
    let flags = text
        .split(' ')
        .find_map(|f| f.strip_prefix("flags="))
        .expect("flags field");
    flags.to_owned()
}

#[test]
fn killed_and_departed_clients_stop_waiting_and_take_nothing() {
    let server = TestServer::start();
    let mut control = server.raw();
    let mut waiting = server.raw();
    let id = client_id(&mut waiting);
    send(&mut waiting, "BLPOP q 0");
    until_blocked(&server, 1);
    let clients = info(&mut control, "clients");
    assert_eq!(clients["total_blocking_keys"], "1");
    assert_eq!(clients["clients_in_timeout_table"], "0");
    run(&mut control, &format!("CLIENT KILL ID {id}"), b":1\r\n");
    let mut rest = Vec::new();
    waiting.read_to_end(&mut rest).expect("closed");
    assert!(rest.is_empty());
    until_blocked(&server, 0);

    let gone = blocked(&server, "BLPOP q 5", 0);
    assert_eq!(
        info(&mut control, "clients")["clients_in_timeout_table"],
        "1"
    );
    drop(gone);
    until_blocked(&server, 0);
    run(&mut control, "RPUSH q kept", b":1\r\n");
    run(&mut control, "LRANGE q 0 -1", &bulks(&["kept"]));
    assert_eq!(info(&mut control, "clients")["total_blocking_keys"], "0");
}

#[test]
fn flushall_and_expiry_leave_clients_waiting() {
    let server = TestServer::start();
    let mut control = server.raw();
    let mut waiting = blocked(&server, "BLPOP q 0", 0);
    run(&mut control, "SET q s PX 1", b"+OK\r\n");
    wait_until("q to expire", || {
        send(&mut control, "EXISTS q");
        integer(&mut control) == "0"
    });
    assert_eq!(blocked_clients(&server), 1);
    run(&mut control, "SET q s", b"+OK\r\n");
    run(&mut control, "FLUSHALL", b"+OK\r\n");
    assert_eq!(blocked_clients(&server), 1);
    // A list made and deleted in one transaction is gone before it could serve (as in
    // Redis 7.0).
    run(&mut control, "MULTI", b"+OK\r\n");
    run(&mut control, "RPUSH q a", b"+QUEUED\r\n");
    run(&mut control, "PEXPIRE q 0", b"+QUEUED\r\n");
    run(&mut control, "EXEC", b"*2\r\n:1\r\n:1\r\n");
    run(&mut control, "EXISTS q", b":0\r\n");
    assert_eq!(blocked_clients(&server), 1);
    run(&mut control, "RPUSH q b", b":1\r\n");
    expect(&mut waiting, &bulks(&["q", "b"]));
}

#[test]
fn a_key_becoming_a_list_by_lmove_rename_move_copy_or_swapdb_serves_its_clients() {
    let server = TestServer::start();
    let mut control = server.raw();
    let mut waiting = blocked(&server, "BLPOP q 0", 0);
    run(&mut control, "RPUSH src l", b":1\r\n");
    run(&mut control, "LMOVE src q LEFT LEFT", b"$1\r\nl\r\n");
    expect(&mut waiting, &bulks(&["q", "l"]));
    run(&mut control, "EXISTS q", b":0\r\n");

    let mut waiting = blocked(&server, "BLPOP renamed 0", 0);
    run(&mut control, "RPUSH src r", b":1\r\n");
    run(&mut control, "RENAME src renamed", b"+OK\r\n");
    expect(&mut waiting, &bulks(&["renamed", "r"]));

    let mut waiting = blocked(&server, "BLPOP copied 0", 0);
    run(&mut control, "RPUSH src c", b":1\r\n");
    run(&mut control, "COPY src copied", b":1\r\n");
    expect(&mut waiting, &bulks(&["copied", "c"]));
    run(&mut control, "LRANGE src 0 -1", &bulks(&["c"]));

    let mut waiting = blocked(&server, "BLPOP moved 0", 0);
    run(&mut control, "SELECT 1", b"+OK\r\n");
    run(&mut control, "RPUSH moved m", b":1\r\n");
    run(&mut control, "MOVE moved 0", b":1\r\n");
    expect(&mut waiting, &bulks(&["moved", "m"]));

    let mut waiting = blocked(&server, "BLPOP swapped 0", 0);
    run(&mut control, "RPUSH swapped s", b":1\r\n");
    run(&mut control, "SWAPDB 0 1", b"+OK\r\n");
    expect(&mut waiting, &bulks(&["swapped", "s"]));

    // A client blocked in another database is not served by this one's push.
    let mut other_db = server.raw();
    run(&mut other_db, "SELECT 2", b"+OK\r\n");
    send(&mut other_db, "BLPOP k 0");
    until_blocked(&server, 1);
    run(&mut control, "RPUSH k not-for-db-2", b":1\r\n");
    assert_eq!(blocked_clients(&server), 1);
    run(&mut control, "SELECT 2", b"+OK\r\n");
    run(&mut control, "RPUSH k for-db-2", b":1\r\n");
    expect(&mut other_db, &bulks(&["k", "for-db-2"]));
}

#[test]
fn blmpop_serves_up_to_count_elements_from_the_ready_key() {
    let server = TestServer::start();
    let mut waiting = blocked(&server, "BLMPOP 0 2 a b RIGHT COUNT 2", 0);
    let mut control = server.raw();
    run(&mut control, "RPUSH b 1 2 3", b":3\r\n");
    expect(
        &mut waiting,
        b"*2\r\n$1\r\nb\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n",
    );
    run(&mut control, "LRANGE b 0 -1", &bulks(&["1"]));
}

/// Reads one BLPOP reply: the element, or `None` for a timeout.
fn popped(stream: &mut TcpStream) -> Option<String> {
    match line(stream).as_str() {
        "*-1" => None,
        "*2" => {
            for _ in 0..3 {
                line(stream);
            }
            Some(line(stream))
        }
        other => panic!("unexpected reply {other:?}"),
    }
}

#[test]
fn timeouts_racing_pushes_lose_and_duplicate_nothing() {
    let server = TestServer::start();
    const PUSHED: usize = 2000;
    let addr = server.addr;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let consumers: Vec<_> = (0..20)
        .map(|c| {
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).expect("connects");
                s.set_read_timeout(Some(common::PATIENCE)).expect("timeout");
                let mut got = Vec::new();
                // Timeouts of 1 to 5 ms, so that many end as a push arrives.
                let timeout = ["0.001", "0.002", "0.003", "0.005"][c % 4];
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    send(&mut s, &format!("BLPOP q {timeout}"));
                    got.extend(popped(&mut s));
                }
                got
            })
        })
        .collect();
    let pushers: Vec<_> = (0..2)
        .map(|p| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).expect("connects");
                s.set_read_timeout(Some(common::PATIENCE)).expect("timeout");
                for i in (p..PUSHED).step_by(2) {
                    let mut reply = [0u8; 64];
                    send(&mut s, &format!("RPUSH q e{i}"));
                    let _ = s.read(&mut reply).expect("push reply");
                }
            })
        })
        .collect();
    for p in pushers {
        p.join().expect("pusher");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut all: Vec<String> = consumers
        .into_iter()
        .flat_map(|c| c.join().expect("consumer"))
        .collect();
    let mut control = server.raw();
    send(&mut control, "LRANGE q 0 -1");
    let left: usize = integer(&mut control).parse().expect("a length");
    for _ in 0..left {
        line(&mut control);
        all.push(line(&mut control));
    }
    let before = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), before, "an element was served twice");
    assert_eq!(all.len(), PUSHED, "an element was lost");
    until_blocked(&server, 0);
}

#[test]
fn bzpopmin_clients_are_served_in_order_each_the_least_score_left() {
    let server = TestServer::start();
    let mut waiting: Vec<TcpStream> = (0..3)
        .map(|i| blocked(&server, "BZPOPMIN z 0", i))
        .collect();
    let mut control = server.raw();
    run(&mut control, "ZADD z 3 c 1 a 2 b 4 d", b":4\r\n");
    for (s, (member, score)) in waiting.iter_mut().zip([("a", "1"), ("b", "2"), ("c", "3")]) {
        expect(s, &bulks(&["z", member, score]));
    }
    run(&mut control, "ZRANGE z 0 -1", &bulks(&["d"]));
    assert_eq!(blocked_clients(&server), 0);
}

#[test]
fn bzpopmax_and_bzmpop_take_from_the_first_key_that_receives_members() {
    let server = TestServer::start();
    let mut max = blocked(&server, "BZPOPMAX a b 0", 0);
    let mut control = server.raw();
    run(&mut control, "ZADD b 1 x 2.5 y", b":2\r\n");
    expect(&mut max, &bulks(&["b", "y", "2.5"]));
    let mut multi = blocked(&server, "BZMPOP 0 2 a c MAX COUNT 2", 0);
    run(&mut control, "ZADD c 1 p 2 q 3 r", b":3\r\n");
    expect(
        &mut multi,
        b"*2\r\n$1\r\nc\r\n*2\r\n*2\r\n$1\r\nr\r\n$1\r\n3\r\n*2\r\n$1\r\nq\r\n$1\r\n2\r\n",
    );
    run(&mut control, "ZRANGE c 0 -1", &bulks(&["p"]));
    // With members already there, at once, from the first key in order that has some.
    run(&mut control, "BZPOPMIN a b c 0", &bulks(&["b", "x", "1"]));
    run(
        &mut control,
        "BZMPOP 0 2 a c MIN",
        b"*2\r\n$1\r\nc\r\n*1\r\n*2\r\n$1\r\np\r\n$1\r\n1\r\n",
    );
}

#[test]
fn list_and_sorted_set_waiters_ignore_keys_of_the_other_type() {
    let server = TestServer::start();
    let mut list_waiter = blocked(&server, "BLPOP k 0", 0);
    let mut zset_waiter = blocked(&server, "BZPOPMIN j 0", 1);
    let mut control = server.raw();
    // The list waiter's key becomes a sorted set, the sorted-set waiter's a list: both
    // keep waiting, as in Redis.
    run(&mut control, "ZADD k 1 a", b":1\r\n");
    run(&mut control, "RPUSH j x", b":1\r\n");
    run(&mut control, "ZCARD k", b":1\r\n");
    run(&mut control, "LLEN j", b":1\r\n");
    assert_eq!(blocked_clients(&server), 2);
    // Each is served once its key holds its own type.
    run(&mut control, "DEL k j", b":2\r\n");
    run(&mut control, "RPUSH k e", b":1\r\n");
    expect(&mut list_waiter, &bulks(&["k", "e"]));
    run(&mut control, "ZADD j 7 m", b":1\r\n");
    expect(&mut zset_waiter, &bulks(&["j", "m", "7"]));
    assert_eq!(blocked_clients(&server), 0);
    // A client waiting on both kinds of keys in one BZPOPMIN takes only the sorted set.
    let mut both = blocked(&server, "BZPOPMIN l z 0", 0);
    run(&mut control, "RPUSH l x", b":1\r\n");
    assert_eq!(blocked_clients(&server), 1);
    run(&mut control, "ZADD z 1 a", b":1\r\n");
    expect(&mut both, &bulks(&["z", "a", "1"]));
}

#[test]
fn a_key_becoming_a_sorted_set_by_a_store_command_serves_its_clients() {
    let server = TestServer::start();
    let mut control = server.raw();
    run(&mut control, "ZADD src 1 a 2 b 3 c", b":3\r\n");
    for (command, reply, served) in [
        ("ZUNIONSTORE dst 1 src", &b":3\r\n"[..], ["dst", "a", "1"]),
        ("ZRANGESTORE dst src 1 1", b":1\r\n", ["dst", "b", "2"]),
        (
            "ZINTERSTORE dst 1 src WEIGHTS 2",
            b":3\r\n",
            ["dst", "a", "2"],
        ),
        ("ZDIFFSTORE dst 1 src", b":3\r\n", ["dst", "a", "1"]),
        ("ZINCRBY dst 5 m", b"$1\r\n5\r\n", ["dst", "m", "5"]),
    ] {
        send(&mut control, "DEL dst");
        integer(&mut control);
        let mut waiting = blocked(&server, "BZPOPMIN dst 0", 0);
        run(&mut control, command, reply);
        expect(&mut waiting, &bulks(&served));
    }
}

#[test]
fn sorted_set_pops_time_out_with_nil_and_never_block_in_a_transaction() {
    let server = TestServer::start();
    let mut s = server.raw();
    run(&mut s, "BZPOPMIN nothing 0.01", b"*-1\r\n");
    run(&mut s, "BZPOPMAX nothing other 0.01", b"*-1\r\n");
    run(&mut s, "BZMPOP 0.01 1 nothing MIN", b"*-1\r\n");
    run(&mut s, "MULTI", b"+OK\r\n");
    run(&mut s, "BZPOPMIN nothing 0", b"+QUEUED\r\n");
    run(&mut s, "BZMPOP 0 1 nothing MAX", b"+QUEUED\r\n");
    run(&mut s, "ZADD z 1 a", b"+QUEUED\r\n");
    run(&mut s, "BZPOPMAX nothing z 0", b"+QUEUED\r\n");
    run(
        &mut s,
        "EXEC",
        b"*4\r\n*-1\r\n*-1\r\n:1\r\n*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    assert_eq!(blocked_clients(&server), 0);
}

#[test]
fn a_key_becoming_a_sorted_set_by_rename_move_copy_or_swapdb_serves_its_clients() {
    let server = TestServer::start();
    let mut control = server.raw();
    let mut waiting = blocked(&server, "BZPOPMIN renamed 0", 0);
    run(&mut control, "ZADD src 1 r", b":1\r\n");
    run(&mut control, "RENAME src renamed", b"+OK\r\n");
    expect(&mut waiting, &bulks(&["renamed", "r", "1"]));

    let mut waiting = blocked(&server, "BZPOPMAX copied 0", 0);
    run(&mut control, "ZADD src 2 c", b":1\r\n");
    run(&mut control, "COPY src copied", b":1\r\n");
    expect(&mut waiting, &bulks(&["copied", "c", "2"]));
    run(&mut control, "ZRANGE src 0 -1", &bulks(&["c"]));

    let mut waiting = blocked(&server, "BZMPOP 0 1 moved MIN", 0);
    run(&mut control, "SELECT 1", b"+OK\r\n");
    run(&mut control, "ZADD moved 3 m", b":1\r\n");
    run(&mut control, "MOVE moved 0", b":1\r\n");
    expect(
        &mut waiting,
        b"*2\r\n$5\r\nmoved\r\n*1\r\n*2\r\n$1\r\nm\r\n$1\r\n3\r\n",
    );

    let mut waiting = blocked(&server, "BZPOPMIN swapped 0", 0);
    run(&mut control, "ZADD swapped 4 s", b":1\r\n");
    run(&mut control, "SWAPDB 0 1", b"+OK\r\n");
    expect(&mut waiting, &bulks(&["swapped", "s", "4"]));
}
