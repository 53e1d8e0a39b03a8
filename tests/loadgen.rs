//! The load generator example, `examples/loadgen`: its reply scanner agrees with
//! redistill-resp on random reply streams split anywhere, and against a running server it
//! sends exactly the requests asked for, counts every reply (plain, aggregate, null or
//! error) and fills `__rand_int__` with numbers below the keyspace.

mod common;

#[path = "../examples/loadgen/driver.rs"]
#[allow(dead_code)]
mod driver;
#[path = "../examples/loadgen/reply.rs"]
#[allow(dead_code)]
mod reply;
#[path = "../examples/loadgen/workload.rs"]
#[allow(dead_code)]
mod workload;

use std::io::{Read, Write};
use std::net::TcpStream;

use bytes::{Bytes, BytesMut};
use common::{PATIENCE, Running, redistill};
use driver::{Report, Settings};
use proptest::prelude::*;
use redistill_resp::arbitrary::Frames;
use redistill_resp::{Decoder, Frame, Version};
use reply::ReplyScanner;
use workload::Workload;

/// A whole reply's value, behind any attributes.
fn value(frame: &Frame) -> &Frame {
    match frame {
        Frame::Attribute { value: inner, .. } => value(inner),
        frame => frame,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Fed a stream of replies in arbitrary reads, the scanner has counted, after each
    /// read, exactly the replies wholly received, and in the end as many errors as
    /// redistill-resp's decoder finds, with the first simple error's text.
    #[test]
    fn scanner_counts_the_replies_the_decoder_decodes(
        replies in proptest::collection::vec(Frames::default().resp3(), 1..12),
        resp3 in any::<bool>(),
        reads in proptest::collection::vec(1usize..64, 0..64),
    ) {
        let version = if resp3 { Version::Resp3 } else { Version::Resp2 };
        let mut stream = Vec::new();
        let mut ends = Vec::new();
        for frame in &replies {
            frame.encode(version, &mut stream);
            ends.push(stream.len());
        }

        let mut decoder = Decoder::new();
        let mut buf = BytesMut::from(&stream[..]);
        let mut decoded = Vec::new();
        while let Some(frame) = decoder.decode(&mut buf).expect("valid RESP") {
            decoded.push(frame);
        }
        prop_assert_eq!(decoded.len(), replies.len());
        let errors = decoded.iter().filter(|f| value(f).is_error()).count();
        let first_simple_error = decoded.iter().find_map(|f| match value(f) {
            Frame::SimpleError(text) => Some(text.clone()),
            _ => None,
        });

        let mut scanner = ReplyScanner::new();
        let (mut pending, mut fed, mut counted, mut errors_counted) = (Vec::new(), 0, 0, 0);
        let mut first_error = None;
        let mut reads = reads.into_iter();
        while fed < stream.len() {
            let n = reads.next().unwrap_or(usize::MAX).min(stream.len() - fed);
            pending.extend_from_slice(&stream[fed..fed + n]);
            fed += n;
            let scanned = scanner.scan(&pending).expect("scans");
            if first_error.is_none() {
                first_error = scanned.first_error.map(|r| Bytes::copy_from_slice(&pending[r]));
            }
            pending.drain(..scanned.consumed);
            counted += scanned.replies;
            errors_counted += scanned.errors;
            prop_assert_eq!(counted, ends.iter().filter(|&&end| end <= fed).count());
        }
        prop_assert!(pending.is_empty());
        prop_assert!(scanner.at_boundary());
        prop_assert_eq!(errors_counted, errors);
        prop_assert_eq!(first_error, first_simple_error);
    }
}

#[test]
fn scanner_refuses_what_is_no_reply() {
    for garbage in [
        &b"hello\r\n"[..],
        b"$x\r\n",
        b"*1\n",
        b"\r\n",
        b":1\r\n*-\r\n",
    ] {
        assert!(
            ReplyScanner::new().scan(garbage).is_err(),
            "{:?}",
            String::from_utf8_lossy(garbage)
        );
    }
}

/// redis-benchmark's tests by their `-t` names, in its order, with its commands.
#[test]
fn tests_are_redis_benchmarks() {
    let titles = |selected: Option<&str>| -> Vec<String> {
        workload::tests(selected, b"abc", false)
            .expect("known tests")
            .into_iter()
            .map(|w| w.title)
            .collect()
    };
    assert_eq!(titles(Some("get,set")), ["SET", "GET"]);
    assert_eq!(titles(Some("ping")), ["PING_INLINE", "PING_MBULK"]);
    assert_eq!(
        titles(Some("lrange_300")),
        [
            "LPUSH (needed to benchmark LRANGE)",
            "LRANGE_300 (first 300 elements)"
        ]
    );
    assert_eq!(titles(None).len(), 20);
    assert!(workload::tests(Some("get,nope"), b"abc", false).is_err());

    let by_title = |random: bool, title: &str| {
        workload::tests(None, b"abc", random)
            .expect("known tests")
            .into_iter()
            .find(|w| w.title == title)
            .expect("the test")
            .request
    };
    assert_eq!(
        by_title(false, "SET"),
        b"*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nabc\r\n"
    );
    assert_eq!(by_title(false, "PING_INLINE"), b"PING\r\n");
    assert_eq!(
        by_title(false, "ZADD"),
        Workload::command(&["ZADD", "myzset", "0", "element:__rand_int__"]).request
    );
    assert_eq!(
        by_title(true, "ZADD"),
        Workload::command(&["ZADD", "myzset", "__rand_int__", "element:__rand_int__"]).request
    );
}

/// Sends one command and reads its reply.
fn call(s: &mut TcpStream, args: &[&str]) -> Frame {
    s.write_all(&Workload::command(args).request).expect("send");
    let mut decoder = Decoder::new();
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(frame) = decoder.decode(&mut buf).expect("valid RESP") {
            return frame;
        }
        let n = s.read(&mut chunk).expect("reply");
        assert!(n > 0, "closed before a whole reply");
        buf.extend_from_slice(&chunk[..n]);
    }
}

struct Server {
    _process: Running,
    port: u16,
}

impl Server {
    fn start() -> Server {
        let (process, _log) = Running::start(redistill());
        let port = process.port;
        Server {
            _process: process,
            port,
        }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connects");
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        s
    }

    /// Runs the load generator: `requests` of `args` over `clients` connections,
    /// `pipeline` at a time.
    fn load(
        &self,
        args: &[&str],
        clients: usize,
        pipeline: usize,
        requests: u64,
        keyspace: Option<u64>,
    ) -> Report {
        let settings = Settings {
            addr: ([127, 0, 0, 1], self.port).into(),
            clients,
            requests,
            pipeline,
            keyspace,
            seed: 7,
        };
        driver::run(&settings, &Workload::command(args)).expect("the load runs")
    }
}

fn integer(frame: Frame) -> i64 {
    match frame {
        Frame::Integer(n) => n,
        Frame::BulkString(b) => std::str::from_utf8(&b)
            .ok()
            .and_then(|s| s.parse().ok())
            .expect("a number"),
        other => panic!("not a number: {other:?}"),
    }
}

/// Batches cut short at the end, over connections that do not divide the count: the
/// server sees exactly the requests asked for, and the run ends on their last reply.
#[test]
fn exactly_the_requests_asked_for_are_sent_and_answered() {
    let server = Server::start();
    let mut s = server.connect();
    let report = server.load(&["INCR", "counter"], 7, 5, 1003, None);
    assert_eq!((report.replies, report.errors), (1003, 0));
    assert_eq!(integer(call(&mut s, &["GET", "counter"])), 1003);

    let report = server.load(&["RPUSH", "mylist", "xyz"], 50, 16, 600, None);
    assert_eq!((report.replies, report.errors), (600, 0));
    assert_eq!(integer(call(&mut s, &["LLEN", "mylist"])), 600);
}

/// Arrays of bulks, scores and nulls, pipelined deep, are each one reply.
#[test]
fn aggregate_and_null_replies_count_once() {
    let server = Server::start();
    let report = server.load(&["RPUSH", "mylist", "a-longer-value"], 3, 16, 600, None);
    assert_eq!(report.replies, 600);
    for (args, keyspace) in [
        (&["LRANGE", "mylist", "0", "99"][..], None),
        (
            &["ZADD", "z", "__rand_int__", "m:__rand_int__"][..],
            Some(1000),
        ),
        (&["ZRANGE", "z", "0", "-1", "WITHSCORES"][..], None),
        (&["SADD", "s", "e:__rand_int__"][..], Some(1_000_000)),
        (&["SPOP", "s", "3"][..], None),
        (&["GET", "nokey:__rand_int__"][..], Some(10)),
        (&["SPOP", "nokey"][..], None),
    ] {
        let report = server.load(args, 5, 16, 1000, keyspace);
        assert_eq!((report.replies, report.errors), (1000, 0), "{args:?}");
    }
}

/// Every `__rand_int__` becomes a 12-digit zero-padded number below the keyspace, fresh
/// for each request: 2000 SADDs over a keyspace of 50 leave exactly its 50 members.
#[test]
fn placeholders_become_numbers_below_the_keyspace() {
    let server = Server::start();
    let report = server.load(
        &["SADD", "myset", "element:__rand_int__"],
        4,
        8,
        2000,
        Some(50),
    );
    assert_eq!(report.replies, 2000);
    let mut s = server.connect();
    let Frame::Array(members) = call(&mut s, &["SMEMBERS", "myset"]) else {
        panic!("SMEMBERS is an array");
    };
    let mut numbers: Vec<u64> = members
        .iter()
        .map(|m| {
            let m = m.as_bytes().expect("a bulk");
            let digits = m.strip_prefix(b"element:").expect("the prefix");
            assert_eq!(digits.len(), 12, "{m:?}");
            std::str::from_utf8(digits)
                .expect("digits")
                .parse()
                .expect("a number")
        })
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..50).collect::<Vec<_>>());
}

/// Error replies count as replies, and the first one's text is kept.
#[test]
fn error_replies_are_counted() {
    let server = Server::start();
    let mut s = server.connect();
    call(&mut s, &["RPUSH", "alist", "x"]);
    let report = server.load(&["INCR", "alist"], 3, 4, 100, None);
    assert_eq!((report.replies, report.errors), (100, 100));
    let first = report.first_error.expect("an error text");
    assert!(first.starts_with("WRONGTYPE"), "{first}");
}

/// Every redis-benchmark test runs to its last reply without an error.
#[test]
fn every_redis_benchmark_test_runs() {
    let server = Server::start();
    let settings = Settings {
        addr: ([127, 0, 0, 1], server.port).into(),
        clients: 3,
        requests: 300,
        pipeline: 4,
        keyspace: Some(1000),
        seed: 7,
    };
    for workload in workload::tests(None, b"abc", true).expect("tests") {
        let report = driver::run(&settings, &workload).expect("the load runs");
        assert_eq!(
            (report.replies, report.errors),
            (300, 0),
            "{}",
            workload.title
        );
        assert!(report.requests_per_second() > 0.0);
    }
}
