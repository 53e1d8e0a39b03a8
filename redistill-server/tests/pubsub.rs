//! Pub/Sub against Redis: multi-connection scripts whose every frame read is compared with
//! what Redis 7.0 sends, plus the checks no script can express (slow subscribers, CLIENT
//! LIST, INFO).
//!
//! A script drives up to three connections, one step per line:
//!
//! | step | does |
//! | --- | --- |
//! | `c<n> <command>` | sends the command on connection n (split as redis-cli does), reads nothing |
//! | `r<n> <count>` | reads `count` frames on connection n, each compared byte for byte |
//! | `s<n> <count>` | the same, comparing array elements as a multiset (PUBSUB CHANNELS) |
//! | `i<n> <count>` | reads `count` frames and compares only their type (HELLO's id) |
//! | `u<n> <text>` | reads frames until one containing `text`, comparing each byte for byte |
//!
//! Redis's frames are recorded in `tests/pubsub/<script>.expected`, so the comparison runs
//! anywhere; `REDIS_DIFF=live` also runs each script against a real `redis-server` and
//! requires the recording to be current, `REDIS_DIFF=record` rewrites the recordings.
//! Reads wait with a deadline ([`common::PATIENCE`]) and never sleep: a message is
//! awaited by reading it, and the absence of one is shown by the reply of a later PING
//! coming first. What depends on timing in Redis itself is left out: a PUBLISH racing a
//! subscriber's QUIT counts it or not (Redis frees the client once QUIT's reply is
//! written), so a script publishes only after reading QUIT's reply.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use redistill_resp::{Frame, Version, decode, split_args};

mod common;

use common::TestServer;
use common::diff::RealRedis;

/// One connection that sends commands and reads frames one at a time.
struct Conn {
    stream: TcpStream,
    buf: BytesMut,
}

impl Conn {
    fn open(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(common::PATIENCE))
            .expect("timeout");
        Conn {
            stream,
            buf: BytesMut::new(),
        }
    }

    fn send(&mut self, args: &[Vec<u8>]) {
        let frame = Frame::Array(args.iter().map(|a| Frame::bulk(a.clone())).collect());
        self.stream
            .write_all(&frame.to_vec(Version::Resp3))
            .expect("send");
    }

    /// The next frame's bytes, waiting for it.
    fn read(&mut self) -> (Frame, Vec<u8>) {
        loop {
            let bytes = Bytes::copy_from_slice(&self.buf);
            if let Some((frame, used)) = decode(&bytes).expect("valid frame") {
                let _ = self.buf.split_to(used);
                return (frame, bytes[..used].to_vec());
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("a frame in time");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// How a frame read is compared.
#[derive(Clone, Copy, PartialEq)]
enum Compare {
    Exact,
    Sorted,
    Type,
}

/// A frame as compared: its bytes, its elements sorted, or its type's first byte.
fn normalize(frame: &Frame, raw: &[u8], compare: Compare) -> String {
    match compare {
        Compare::Exact => escape(raw),
        Compare::Type => escape(&raw[..1]),
        Compare::Sorted => {
            let mut items: Vec<String> = match frame {
                Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => items
                    .iter()
                    .map(|i| escape(&i.to_vec(Version::Resp3)))
                    .collect(),
                _ => vec![escape(raw)],
            };
            items.sort();
            format!("{}{}", escape(&raw[..1]), items.join(" "))
        }
    }
}

fn escape(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Runs `script` against the server on `port`: every frame read, normalized, in order.
fn run(script: &str, port: u16) -> Vec<String> {
    let mut conns: Vec<Conn> = (0..3).map(|_| Conn::open(port)).collect();
    conns[0].send(&[b"FLUSHALL".to_vec()]);
    conns[0].read();
    let mut seen = Vec::new();
    for (number, line) in script.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (step, rest) = line.split_once(' ').unwrap_or((line, ""));
        let (kind, conn) = step.split_at(1);
        let conn: usize = conn.parse().expect("connection number");
        let conn = &mut conns[conn - 1];
        let compare = match kind {
            "c" => {
                conn.send(&split_args(rest.as_bytes()).expect("quoted arguments"));
                continue;
            }
            "r" => Compare::Exact,
            "s" => Compare::Sorted,
            "i" => Compare::Type,
            "u" => {
                loop {
                    let (frame, raw) = conn.read();
                    seen.push(format!(
                        "{step} {}",
                        normalize(&frame, &raw, Compare::Exact)
                    ));
                    if raw.windows(rest.len()).any(|w| w == rest.as_bytes()) {
                        break;
                    }
                }
                continue;
            }
            _ => panic!("line {}: unknown step {step}", number + 1),
        };
        let count: usize = rest.parse().expect("frame count");
        for _ in 0..count {
            let (frame, raw) = conn.read();
            seen.push(format!("{step} {}", normalize(&frame, &raw, compare)));
        }
    }
    seen
}

/// Compares `script`'s frames on redistill with Redis's (recorded, or live).
fn check(name: &str, script: &str) {
    check_with(name, script, |_| {});
}

fn check_with(
    name: &str,
    script: &str,
    config: impl FnOnce(&mut redistill_server::config::Config),
) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/pubsub")
        .join(format!("{name}.expected"));
    let mode = std::env::var("REDIS_DIFF").unwrap_or_default();
    let live = matches!(mode.as_str(), "live" | "record").then(|| {
        let redis = RealRedis::start();
        run(script, redis.port)
    });
    if let Some(live) = &live
        && mode == "record"
    {
        fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        fs::write(&path, live.join("\n") + "\n").expect("write recording");
    }
    let recorded: Vec<String> = fs::read_to_string(&path)
        .unwrap_or_else(|_| {
            panic!(
                "{} is missing: record it with REDIS_DIFF=record",
                path.display()
            )
        })
        .lines()
        .map(str::to_owned)
        .collect();
    if let Some(live) = &live {
        assert_eq!(&recorded, live, "{name}: recording is stale");
    }
    let server = TestServer::with_config(config);
    let ours = run(script, server.addr.port());
    for (i, (theirs, ours)) in recorded.iter().zip(&ours).enumerate() {
        assert_eq!(ours, theirs, "{name}: frame {i} differs");
    }
    assert_eq!(ours.len(), recorded.len(), "{name}: frame count");
}

#[test]
fn subscribe_publish_and_patterns() {
    check(
        "basics",
        r#"
        # Nothing to unsubscribe from: a nil channel and a count of 0.
        c1 UNSUBSCRIBE
        r1 1
        c1 PUNSUBSCRIBE
        r1 1
        c1 SUBSCRIBE news sports
        r1 2
        c1 SUBSCRIBE news
        r1 1
        c2 PSUBSCRIBE n* s?orts [a-c]x \*
        r2 4
        c3 PUBLISH news hello
        r3 1
        r1 1
        r2 1
        c3 PUBLISH sports "two words"
        r3 1
        r1 1
        r2 1
        c3 PUBLISH bx x
        r3 1
        r2 1
        c3 PUBLISH * star
        r3 1
        r2 1
        c3 PUBLISH nobody 0
        r3 1
        # Subscribed to both a channel and a matching pattern: counted twice.
        c1 PSUBSCRIBE new?
        r1 1
        c3 PUBLISH news again
        r3 1
        r1 2
        r2 1
        c1 UNSUBSCRIBE news nothere
        r1 2
        c1 PUNSUBSCRIBE
        r1 1
        c3 PUBLISH news later
        r3 1
        r2 1
        c1 PING
        r1 1
        c1 UNSUBSCRIBE
        r1 1
        c1 PING
        r1 1
        c2 PUNSUBSCRIBE \* n*
        r2 2
        "#,
    );
}

#[test]
fn resp2_subscribed_mode_allows_only_a_few_commands() {
    check(
        "resp2_mode",
        r#"
        c1 SUBSCRIBE a
        r1 1
        c1 GET x
        r1 1
        c1 PING
        r1 1
        c1 PING hi
        r1 1
        c1 PING a b
        r1 1
        c1 CLIENT LIST
        r1 1
        c1 MULTI
        r1 1
        c1 HELLO 2
        r1 1
        c1 SSUBSCRIBE s
        r1 1
        # Shard subscriptions alone keep the client in Pub/Sub mode.
        c1 UNSUBSCRIBE a
        r1 1
        c1 ECHO x
        r1 1
        c1 SUNSUBSCRIBE
        r1 1
        c1 ECHO x
        r1 1
        c1 SUBSCRIBE b
        r1 1
        c1 RESET
        r1 1
        c2 PUBLISH b gone
        r2 1
        c1 SUBSCRIBE c
        r1 1
        c1 QUIT
        r1 1
        c2 PUBLISH c gone
        r2 1
        # Subscribing inside MULTI is allowed, and answered in EXEC's array.
        c3 MULTI
        r3 1
        c3 SUBSCRIBE q
        r3 1
        c3 EXEC
        r3 1
        c2 PUBLISH q m
        r2 1
        r3 1
        "#,
    );
}

#[test]
fn resp3_clients_get_push_frames_between_replies() {
    check(
        "resp3",
        r#"
        c1 HELLO 3
        i1 1
        c1 SUBSCRIBE ch
        r1 1
        c1 PSUBSCRIBE c*
        r1 1
        c1 SET k v
        r1 1
        c1 GET k
        r1 1
        c2 PUBLISH ch one
        r2 1
        c1 GET k
        r1 3
        # A client subscribed to what it publishes gets its messages before the reply.
        c1 PUBLISH ch self
        r1 3
        c1 PING
        r1 1
        c1 UNSUBSCRIBE
        r1 1
        c1 PUNSUBSCRIBE
        r1 1
        c1 UNSUBSCRIBE
        r1 1
        c1 SSUBSCRIBE s
        r1 1
        c2 SPUBLISH s shard
        r2 1
        r1 1
        c1 RESET
        r1 1
        "#,
    );
}

#[test]
fn shard_channels_are_a_namespace_of_their_own() {
    check(
        "sharded",
        r#"
        c1 SUNSUBSCRIBE
        r1 1
        c1 SSUBSCRIBE s1 s2
        r1 2
        c1 SUBSCRIBE s1
        r1 1
        c2 SPUBLISH s1 a
        r2 1
        r1 1
        c2 PUBLISH s1 b
        r2 1
        r1 1
        c2 SPUBLISH nobody c
        r2 1
        c2 PUBSUB SHARDNUMSUB s1 s2 s3
        r2 1
        c2 PUBSUB NUMSUB s1 s2
        r2 1
        c2 PUBSUB SHARDCHANNELS
        s2 1
        c2 PUBSUB SHARDCHANNELS *1
        s2 1
        c1 SUNSUBSCRIBE s1 s9
        r1 2
        c1 SUNSUBSCRIBE
        r1 1
        c1 UNSUBSCRIBE
        r1 1
        "#,
    );
}

#[test]
fn pubsub_introspection() {
    check(
        "introspection",
        r#"
        c3 PUBSUB NUMPAT
        r3 1
        c3 PUBSUB CHANNELS
        r3 1
        c1 SUBSCRIBE a1 a2 b1
        r1 3
        c2 SUBSCRIBE a1
        r2 1
        c1 PSUBSCRIBE x* y*
        r1 2
        c2 PSUBSCRIBE x*
        r2 1
        c3 PUBSUB CHANNELS
        s3 1
        c3 PUBSUB CHANNELS a*
        s3 1
        c3 PUBSUB CHANNELS zz*
        r3 1
        c3 PUBSUB NUMSUB a1 a2 b1 x*
        r3 1
        c3 PUBSUB NUMSUB
        r3 1
        c3 PUBSUB SHARDNUMSUB
        r3 1
        c3 PUBSUB NUMPAT
        r3 1
        c3 PUBSUB CHANNELS a b
        r3 1
        c3 PUBSUB NUMPAT x
        r3 1
        c3 PUBSUB HELP
        r3 1
        c3 PUBSUB HELP x
        r3 1
        c3 PUBSUB NOPE
        r3 1
        c3 PUBSUB
        r3 1
        c3 PUBLISH a1
        r3 1
        c3 SUBSCRIBE
        r3 1
        c3 HELLO 3
        i3 1
        c3 PUBSUB NUMSUB a1
        r3 1
        c3 PUBSUB CHANNELS b*
        r3 1
        c2 RESET
        r2 1
        c3 PUBSUB NUMSUB a1
        r3 1
        c3 PUBSUB NUMPAT
        r3 1
        "#,
    );
}

/// Sends a RESP2 command on a raw stream.
fn send_raw(stream: &mut TcpStream, args: &[&str]) {
    let mut out = format!("*{}\r\n", args.len());
    for a in args {
        out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(out.as_bytes()).expect("send");
}

/// Reads exactly `expected` from `stream`.
fn expect_raw(stream: &mut TcpStream, expected: &[u8]) {
    let mut got = vec![0; expected.len()];
    stream.read_exact(&mut got).expect("read in time");
    assert_eq!(
        got.escape_ascii().to_string(),
        expected.escape_ascii().to_string()
    );
}

fn message(channel: &str, text: &str) -> Vec<u8> {
    format!(
        "*3\r\n$7\r\nmessage\r\n${}\r\n{channel}\r\n${}\r\n{text}\r\n",
        channel.len(),
        text.len()
    )
    .into_bytes()
}

/// CLIENT LIST's line of client `id`, if it is connected.
fn client_line(conn: &mut redis::Connection, id: i64) -> Option<String> {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query(conn)
        .expect("client list");
    list.lines()
        .find(|l| l.starts_with(&format!("id={id} ")))
        .map(str::to_owned)
}

#[test]
fn a_subscriber_that_never_reads_is_closed_and_the_others_get_every_message() {
    const SUBSCRIBERS: usize = 1000;
    const MESSAGES: usize = 100;
    let server = TestServer::with_config(|c| {
        c.server.client_output_buffer_limit.pubsub =
            redistill_server::config::OutputBufferLimit::new(1 << 20, 512 << 10, 60);
    });
    let mut control = server.client();
    // The one that never reads: also on a channel that carries far more than its limit
    // and the socket buffers hold.
    let mut slow = server.raw();
    send_raw(&mut slow, &["CLIENT", "ID"]);
    let mut id = [0u8; 64];
    let n = slow.read(&mut id).expect("id");
    let slow_id: i64 = std::str::from_utf8(&id[1..n - 2])
        .expect("ascii")
        .parse()
        .expect("id");
    send_raw(&mut slow, &["SUBSCRIBE", "news", "firehose"]);
    let mut readers: Vec<TcpStream> = (1..SUBSCRIBERS).map(|_| server.raw()).collect();
    for reader in &mut readers {
        send_raw(reader, &["SUBSCRIBE", "news"]);
        expect_raw(reader, b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
    }
    let big = "x".repeat(256 << 10);
    let used_memory = || -> u64 {
        let memory = common::info(&mut server.raw(), "memory");
        memory["used_memory"].parse().expect("used_memory")
    };
    let before = used_memory();
    let mut peak = 0u64;
    for i in 0..MESSAGES {
        let _: i64 = redis::cmd("PUBLISH")
            .arg("news")
            .arg(format!("m{i}"))
            .query(&mut control)
            .expect("publish");
        let _: i64 = redis::cmd("PUBLISH")
            .arg("firehose")
            .arg(&big)
            .query(&mut control)
            .expect("publish");
        peak = peak.max(used_memory());
    }
    // 25 MiB went to the slow client: it is closed at its 1 MiB limit, and the server's
    // memory never held anything like what was published to it.
    common::wait_until("the slow subscriber to be closed", || {
        client_line(&mut control, slow_id).is_none()
    });
    assert!(
        peak < before + (8 << 20),
        "used_memory went from {before} to {peak}"
    );
    for reader in &mut readers {
        for i in 0..MESSAGES {
            expect_raw(reader, &message("news", &format!("m{i}")));
        }
    }
    let numsub: (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg("news")
        .query(&mut control)
        .expect("numsub");
    assert_eq!(numsub.1, (SUBSCRIBERS - 1) as i64);
}

#[test]
fn client_list_info_and_kill_follow_subscriptions() {
    let server = TestServer::start();
    let mut control = server.client();
    let mut sub = server.raw();
    send_raw(&mut sub, &["CLIENT", "ID"]);
    let mut id = [0u8; 64];
    let n = sub.read(&mut id).expect("id");
    let sub_id: i64 = std::str::from_utf8(&id[1..n - 2])
        .expect("ascii")
        .parse()
        .expect("id");
    send_raw(&mut sub, &["SUBSCRIBE", "a", "b"]);
    send_raw(&mut sub, &["PSUBSCRIBE", "p*"]);
    send_raw(&mut sub, &["SSUBSCRIBE", "s"]);
    send_raw(&mut sub, &["PING"]);
    let mut reply = Vec::new();
    while !reply.ends_with(b"$4\r\npong\r\n$0\r\n\r\n") {
        let mut chunk = [0u8; 1024];
        let n = sub.read(&mut chunk).expect("confirmations");
        reply.extend_from_slice(&chunk[..n]);
    }
    let typed: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("pubsub")
        .query(&mut control)
        .expect("client list type pubsub");
    assert!(
        typed.lines().count() == 1 && typed.starts_with(&format!("id={sub_id} ")),
        "{typed}"
    );
    let normal: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("normal")
        .query(&mut control)
        .expect("client list type normal");
    assert!(!normal.contains(&format!("id={sub_id} ")), "{normal}");
    let line = client_line(&mut control, sub_id).expect("listed");
    assert!(
        line.contains(" flags=P ") && line.contains(" sub=2 psub=1 ssub=1 "),
        "{line}"
    );
    let info = common::info(&mut server.raw(), "stats");
    assert_eq!(info["pubsub_channels"], "2");
    assert_eq!(info["pubsub_patterns"], "1");
    assert_eq!(info["pubsubshard_channels"], "1");
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(sub_id)
        .query(&mut control)
        .expect("kill");
    assert_eq!(killed, 1);
    common::wait_until("the killed client's subscriptions to be gone", || {
        let info = common::info(&mut server.raw(), "stats");
        info["pubsub_channels"] == "0"
            && info["pubsub_patterns"] == "0"
            && info["pubsubshard_channels"] == "0"
    });
    // A client that just goes away loses its subscriptions too.
    let mut gone = server.raw();
    send_raw(&mut gone, &["SUBSCRIBE", "c"]);
    expect_raw(&mut gone, b"*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
    drop(gone);
    common::wait_until("the closed client's subscription to be gone", || {
        let n: i64 = redis::cmd("PUBLISH")
            .arg("c")
            .arg("x")
            .query(&mut control)
            .expect("publish");
        n == 0
    });
}

#[test]
fn client_pause_write_holds_publish_as_redis_does() {
    let server = TestServer::start();
    let mut control = server.client();
    let mut publisher = server.client();
    let started = std::time::Instant::now();
    let () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(400)
        .arg("WRITE")
        .query(&mut control)
        .expect("pause");
    let n: i64 = redis::cmd("PUBLISH")
        .arg("ch")
        .arg("x")
        .query(&mut publisher)
        .expect("publish");
    assert_eq!(n, 0);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(350),
        "PUBLISH ran during the pause"
    );
}

/// Every command a notification class covers, on connection 2, with connection 1 listening
/// to every keyspace and keyevent channel: each command's notifications (read up to the
/// `sync` message published after it) must be Redis's, in Redis's order.
#[test]
fn keyspace_notifications_match_redis() {
    let mut script = String::from(
        "c1 PSUBSCRIBE __key*__:*\nr1 1\nc1 SUBSCRIBE sync\nr1 1\n\
         c2 CONFIG SET notify-keyspace-events KEA\nr2 1\n",
    );
    let commands = [
        // Strings and generic commands.
        "SET s v",
        "SET s v NX",
        "SETNX s v",
        "INCR n",
        "INCRBYFLOAT n 1.5",
        "DECRBY n 2",
        "APPEND s more",
        "SETRANGE s 1 xy",
        "SETBIT b 3 1",
        "GETSET s w",
        "GETDEL s",
        "MSET a 1 b 2",
        "GETEX a EX 100",
        "GETEX a PERSIST",
        "EXPIRE a 100",
        "PEXPIRE a 100000",
        "EXPIRE a 100 NX",
        "PERSIST a",
        "EXPIRE b -1",
        "RENAME a a2",
        "COPY a2 a3",
        "MOVE a3 1",
        "DEL a2 missing",
        "UNLINK n",
        "PFADD h x y",
        "PFADD h x",
        "PFCOUNT h",
        "PFMERGE h2 h",
        // Lists.
        "RPUSH l a b c d",
        "LPUSH l z",
        "LPUSHX l y",
        "LINSERT l BEFORE a q",
        "LSET l 0 w",
        "LREM l 1 q",
        "LTRIM l 0 100",
        "LPOP l",
        "RPOP l 2",
        "LMOVE l l2 LEFT RIGHT",
        "RPOPLPUSH l l2",
        "LPOP l 5",
        // Sets.
        "SADD set a b c",
        "SADD set a",
        "SREM set c",
        "SMOVE set set2 a",
        "SPOP set",
        "SADD x 1 2",
        "SADD y 2 3",
        "SINTERSTORE si x y",
        "SUNIONSTORE su x y",
        "SDIFFSTORE sd x y",
        "SINTERSTORE si x nothing",
        // Hashes.
        "HSET hh f v g w",
        "HSETNX hh f v",
        "HINCRBY hh n 1",
        "HINCRBYFLOAT hh n 1.5",
        "HDEL hh f g n",
        // Sorted sets.
        "ZADD z 1 a 2 b 3 c 4 d 5 e",
        "ZADD z XX 9 a",
        "ZINCRBY z 1 b",
        "ZADD z INCR 1 c",
        "ZREM z e",
        "ZREMRANGEBYRANK z 0 0",
        "ZREMRANGEBYSCORE z 0 3",
        "ZREMRANGEBYLEX z [a [b",
        "ZPOPMIN z",
        "ZPOPMAX z",
        "ZADD z1 1 a 2 b",
        "ZUNIONSTORE zu 1 z1",
        "ZINTERSTORE zi 1 z1",
        "ZDIFFSTORE zd 1 z1",
        "ZRANGESTORE zr z1 0 -1",
        "GEOADD g 13.361389 38.115556 Palermo",
        "GEOSEARCHSTORE gs g FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEORADIUS g 15 37 200 km STORE gr",
        // SORT STORE.
        "RPUSH nums 3 1 2",
        "SORT nums STORE sorted",
        // Databases.
        "SELECT 1",
        "SET other v",
        "SWAPDB 0 1",
        "FLUSHALL",
        // New keys are their own class.
        "CONFIG SET notify-keyspace-events KEn",
        "SET fresh v",
        "CONFIG SET notify-keyspace-events Kx",
        "SET quiet v",
        "CONFIG SET notify-keyspace-events El",
        "RPUSH el a",
        "SET el2 v",
        "CONFIG SET notify-keyspace-events KEA",
        // Expired by a read finding it so, with active expiry off.
        "DEBUG SET-ACTIVE-EXPIRE 0",
        "SET lazy v PX 1",
        "DEBUG SLEEP 0.01",
        "GET lazy",
        "DEBUG SET-ACTIVE-EXPIRE 1",
    ];
    // Each class alone, over commands of every class: the class of each event is Redis's.
    let mut commands: Vec<String> = commands.iter().map(|c| (*c).to_owned()).collect();
    for class in ["g", "$", "l", "s", "h", "z"] {
        commands.push(format!("CONFIG SET notify-keyspace-events E{class}"));
        commands.extend(
            [
                "SET cs v",
                "INCR ci",
                "SETBIT cb 1 1",
                "PFADD cp a",
                "RPUSH cl 3 1 2",
                "SORT cl STORE cl2",
                "SADD css a",
                "HSET ch f v",
                "ZADD cz 1 a",
                "GEOADD cg 13.361389 38.115556 P",
                "EXPIRE cs 100",
                "RENAME cs cs2",
                "DEL cs2 ci cb cp cl cl2 css ch cz cg",
            ]
            .map(str::to_owned),
        );
    }
    commands.push("CONFIG SET notify-keyspace-events KEA".into());
    for (i, command) in commands.iter().enumerate() {
        script.push_str(&format!(
            "c2 {command}\nr2 1\nc2 PUBLISH sync {i}\nr2 1\nu1 sync\n"
        ));
    }
    // Expired by active expiry: the message is awaited, with a deadline.
    script.push_str("c2 SET active v PX 20\nr2 1\nu1 expired\n");
    script.push_str("c2 CONFIG SET notify-keyspace-events \"\"\nr2 1\n");
    check("notifications", &script);
}

/// Key misses (class `m`, outside `A`): every lookup of a missing key by a command that
/// reads it publishes `keymiss`, once per key and in the order the command looks them
/// up; lookups made to write (and OBJECT's) publish none. Each command runs on missing
/// keys after a FLUSHALL, so the commands do not depend on each other.
#[test]
fn key_miss_notifications_match_redis() {
    let mut script = String::from(
        "c1 PSUBSCRIBE __key*__:*\nr1 1\nc1 SUBSCRIBE sync\nr1 1\n\
         c2 CONFIG SET notify-keyspace-events KEm\nr2 1\n",
    );
    let commands = [
        // Strings and generic commands.
        "GET m1",
        "MGET m1 m2 m1",
        "GETRANGE m1 0 1",
        "SUBSTR m1 0 1",
        "STRLEN m1",
        "EXISTS m1 m2",
        "TYPE m1",
        "TTL m1",
        "PTTL m1",
        "EXPIRETIME m1",
        "PEXPIRETIME m1",
        "DUMP m1",
        "TOUCH m1 m2",
        "OBJECT ENCODING m1",
        "OBJECT FREQ m1",
        "OBJECT IDLETIME m1",
        "OBJECT REFCOUNT m1",
        "MEMORY USAGE m1",
        "GETEX m1",
        "GETEX m1 PERSIST",
        "GETDEL m1",
        "GETSET m1 v",
        "SETRANGE m3 0 x",
        "APPEND m4 x",
        "INCR m5",
        "SET m6 v GET",
        "LCS m1 m2",
        "COPY m1 d",
        "RENAME m1 d",
        "MOVE m1 1",
        "EXPIRE m1 10",
        "PERSIST m1",
        "DEL m1 m2",
        // Bits and HyperLogLogs.
        "GETBIT m1 1",
        "BITCOUNT m1",
        "BITPOS m1 1",
        "BITFIELD_RO m1 GET u8 0",
        "BITFIELD m1 GET u8 0",
        "BITFIELD m1 SET u8 0 1",
        "BITOP AND d m1 m2",
        "SETBIT m1 0 1",
        "PFCOUNT m1",
        "PFCOUNT m1 m2",
        "PFADD m1 a",
        "PFMERGE d m1 m2",
        // Lists.
        "LRANGE m1 0 -1",
        "LLEN m1",
        "LINDEX m1 0",
        "LPOS m1 a",
        "LPUSH m1 a",
        "LPUSHX m1 a",
        "LPOP m1",
        "RPOPLPUSH m1 m2",
        "LMOVE m1 m2 LEFT LEFT",
        "LMPOP 2 m1 m2 LEFT",
        "BLPOP m1 m2 0.01",
        "LINSERT m1 BEFORE a b",
        "LSET m1 0 a",
        "LTRIM m1 0 1",
        "LREM m1 0 a",
        // Sets.
        "SCARD m1",
        "SISMEMBER m1 a",
        "SMISMEMBER m1 a",
        "SMEMBERS m1",
        "SRANDMEMBER m1",
        "SINTER m1 m2",
        "SINTERCARD 2 m1 m2",
        "SUNION m1 m2",
        "SDIFF m1 m2",
        "SSCAN m1 0",
        "SINTERSTORE d m1 m2",
        "SUNIONSTORE d m1 m2",
        "SDIFFSTORE d m1 m2",
        "SADD m1 a",
        "SREM m1 a",
        "SPOP m1",
        "SMOVE m1 m2 a",
        // Hashes.
        "HGET m1 f",
        "HMGET m1 f g",
        "HGETALL m1",
        "HKEYS m1",
        "HVALS m1",
        "HLEN m1",
        "HEXISTS m1 f",
        "HSTRLEN m1 f",
        "HRANDFIELD m1",
        "HSCAN m1 0",
        "HSET m1 f v",
        "HDEL m1 f",
        "HINCRBY m1 f 1",
        // Sorted sets.
        "ZCARD m1",
        "ZSCORE m1 a",
        "ZMSCORE m1 a",
        "ZRANK m1 a",
        "ZREVRANK m1 a",
        "ZRANGE m1 0 -1",
        "ZREVRANGE m1 0 -1",
        "ZRANGEBYSCORE m1 0 1",
        "ZREVRANGEBYSCORE m1 1 0",
        "ZRANGEBYLEX m1 - +",
        "ZREVRANGEBYLEX m1 + -",
        "ZCOUNT m1 0 1",
        "ZLEXCOUNT m1 - +",
        "ZRANDMEMBER m1",
        "ZSCAN m1 0",
        "ZINTER 2 m1 m2",
        "ZUNION 2 m1 m2",
        "ZDIFF 2 m1 m2",
        "ZINTERCARD 2 m1 m2",
        "ZINTERSTORE d 2 m1 m2",
        "ZUNIONSTORE d 2 m1 m2",
        "ZDIFFSTORE d 2 m1 m2",
        "ZRANGESTORE d m1 0 -1",
        "ZPOPMIN m1",
        "ZMPOP 2 m1 m2 MIN",
        "ZREM m1 a",
        "ZADD m1 1 a",
        "ZINCRBY m1 1 a",
        // Geo.
        "GEOPOS m1 a",
        "GEODIST m1 a b",
        "GEOHASH m1 a",
        "GEOSEARCH m1 FROMLONLAT 0 0 BYRADIUS 1 km",
        "GEOSEARCHSTORE d m1 FROMLONLAT 0 0 BYRADIUS 1 km",
        "GEORADIUS_RO m1 0 0 1 km",
        "GEORADIUS m1 0 0 1 km STORE d",
        "GEORADIUSBYMEMBER_RO m1 a 1 km",
        "GEOADD m1 1 1 a",
        // SORT, with patterns looked up per element.
        "SORT m1",
        "SORT_RO m1",
        "SORT m1 STORE d",
        "RPUSH l 2 1",
        "SORT l BY w_* GET o_* GET #",
        "SORT l BY nosort GET h_*->f",
        "SORT l STORE d",
        // In a script, in a transaction, and in another database.
        "EVAL \"return redis.call('get', KEYS[1])\" 1 m1",
        "MULTI",
        "GET m1",
        "EXEC",
        "SELECT 1",
        "GET m1",
        "SELECT 0",
        // A key found raises none; an expired one is expired, then missed.
        "SET k v",
        "GET k",
        "CONFIG SET notify-keyspace-events KExm",
        "DEBUG SET-ACTIVE-EXPIRE 0",
        "SET lazy v PX 1",
        "DEBUG SLEEP 0.01",
        "GET lazy",
        "DEBUG SET-ACTIVE-EXPIRE 1",
        // Keyspace or keyevent channels alone; `A` does not include `m`.
        "CONFIG SET notify-keyspace-events Km",
        "GET m1",
        "CONFIG SET notify-keyspace-events Em",
        "GET m1",
        "CONFIG SET notify-keyspace-events KEA",
        "GET m1",
        "CONFIG SET notify-keyspace-events m",
        "GET m1",
    ];
    let mut queueing = false;
    for (i, command) in commands.iter().enumerate() {
        // A fresh keyspace for each command, but for those that go on from the one
        // before (a transaction's, a database's, a key set up before).
        let goes_on = ["GET ", "EXEC", "SELECT 0", "SORT l", "DEBUG", "SET lazy"]
            .iter()
            .any(|prefix| command.starts_with(prefix));
        if !goes_on {
            script.push_str("c2 FLUSHALL\nr2 1\n");
        }
        script.push_str(&format!("c2 {command}\nr2 1\n"));
        queueing = (queueing || *command == "MULTI") && *command != "EXEC";
        if !queueing {
            script.push_str(&format!("c2 PUBLISH sync {i}\nr2 1\nu1 sync\n"));
        }
    }
    script.push_str("c2 CONFIG SET notify-keyspace-events \"\"\nr2 1\n");
    check("key_misses", &script);
}

/// Inside EXEC, a RESP3 client subscribed to what its queued commands raise gets each
/// command's messages inside EXEC's array, just before that command's reply; another
/// subscriber gets them in order, as from Redis.
#[test]
fn notifications_inside_exec_match_redis() {
    // EXEC's array holds push frames, which a frame reader takes for elements: each EXEC
    // is followed by a PING, and everything up to its PONG is read.
    check(
        "exec_notifications",
        r#"
        c1 CONFIG SET notify-keyspace-events KEA
        r1 1
        c1 HELLO 3
        i1 1
        c1 SUBSCRIBE __keyspace@0__:k
        r1 1
        c2 SUBSCRIBE __keyevent@0__:set __keyevent@0__:del
        r2 2
        c1 MULTI
        r1 1
        c1 SET k v
        r1 1
        c1 INCR n
        r1 1
        c1 SET k w
        r1 1
        c1 EXEC
        c1 PING
        u1 PONG
        r2 2
        c1 MULTI
        r1 1
        c1 PUBLISH __keyspace@0__:k hi
        r1 1
        c1 DEL k
        r1 1
        c1 GET k
        r1 1
        c1 EXEC
        c1 PING
        u1 PONG
        r2 1
        # A failed command raises nothing.
        c1 MULTI
        r1 1
        c1 SET k v
        r1 1
        c1 LPUSH k x
        r1 1
        c1 EXEC
        c1 PING
        u1 PONG
        r2 1
        # Nor does a transaction WATCH aborts.
        c1 WATCH w
        r1 1
        c3 SET w 1
        r3 1
        r2 1
        c1 MULTI
        r1 1
        c1 SET k v2
        r1 1
        c1 EXEC
        r1 1
        c1 PING
        r1 1
        # A script's messages come before its reply.
        c1 EVAL "redis.call('set', 'k', '1') redis.call('del', 'k') return 5" 0
        u1 :5
        r2 2
        # Tracking as well: the invalidation of its own write follows EXEC's reply.
        c1 CLIENT TRACKING ON
        r1 1
        c1 GET k
        r1 1
        c1 MULTI
        r1 1
        c1 SET k x
        r1 1
        c1 EXEC
        c1 PING
        u1 PONG
        r2 1
        c1 CONFIG SET notify-keyspace-events ""
        r1 1
        "#,
    );
}

/// CLIENT REPLY OFF silences replies, not what Redis pushes: confirmations and messages
/// still arrive, in RESP2 and RESP3.
#[test]
fn client_reply_off_still_delivers_messages() {
    check(
        "reply_off",
        r#"
        c1 CLIENT REPLY OFF
        c1 SUBSCRIBE ch
        r1 1
        c2 PUBLISH ch x
        r2 1
        r1 1
        c3 HELLO 3
        i3 1
        c3 CLIENT REPLY OFF
        c3 SUBSCRIBE ch
        r3 1
        c3 PUBLISH ch self
        r3 1
        r1 1
        # SKIP changes nothing while replies are off.
        c3 CLIENT REPLY SKIP
        c3 PUBLISH ch skipped
        r3 1
        r1 1
        c3 PING
        c3 CLIENT REPLY ON
        r3 1
        c1 UNSUBSCRIBE
        r1 1
        c1 CLIENT REPLY ON
        r1 1
        c2 PUBLISH ch y
        r2 1
        r3 1
        "#,
    );
}

/// A subscriber's QUIT ends its subscriptions before its reply: a PUBLISH sent once the
/// reply was read counts it no more, as in Redis (which closes the client when the reply is
/// written). A PUBLISH racing the QUIT may count it or not, in Redis as here, so scripts
/// publish only after reading the reply.
#[test]
fn quit_ends_subscriptions_before_its_reply() {
    check(
        "quit",
        r#"
        c1 SUBSCRIBE ch
        r1 1
        c1 PSUBSCRIBE c*
        r1 1
        c1 SSUBSCRIBE sh
        r1 1
        c3 HELLO 3
        i3 1
        c3 SUBSCRIBE ch
        r3 1
        c1 QUIT
        r1 1
        c2 PUBLISH ch x
        r2 1
        r3 1
        c2 SPUBLISH sh x
        r2 1
        c2 PUBSUB NUMSUB ch
        r2 1
        c2 PUBSUB NUMPAT
        r2 1
        c2 PUBSUB SHARDNUMSUB sh
        r2 1
        c3 QUIT
        r3 1
        c2 PUBLISH ch x
        r2 1
        "#,
    );
}

/// A RESP3 client that writes a key it listens to gets the notification before the reply,
/// as from Redis.
#[test]
fn own_notifications_come_before_the_reply() {
    check(
        "own_notifications",
        r#"
        c1 CONFIG SET notify-keyspace-events KE$
        r1 1
        c1 HELLO 3
        i1 1
        c1 SUBSCRIBE __keyspace@0__:mine __keyevent@0__:set
        r1 2
        c1 SET mine v
        r1 3
        c1 SET other v
        r1 2
        c1 DEL mine
        r1 1
        c1 CONFIG SET notify-keyspace-events ""
        r1 1
        "#,
    );
}

#[test]
fn evicted_keys_are_notified() {
    let server = TestServer::with_config(|c| {
        c.server.notify_keyspace_events = "Ee".into();
        c.memory.max_memory = 4 << 20;
        c.memory.eviction_policy = redistill_server::config::EvictionPolicy::AllKeysLru;
    });
    let mut control = server.client();
    let mut sub = server.raw();
    send_raw(&mut sub, &["SUBSCRIBE", "__keyevent@0__:evicted"]);
    expect_raw(
        &mut sub,
        b"*3\r\n$9\r\nsubscribe\r\n$22\r\n__keyevent@0__:evicted\r\n:1\r\n",
    );
    let value = "v".repeat(10_000);
    for i in 0..1000 {
        let () = redis::cmd("SET")
            .arg(format!("key:{i}"))
            .arg(&value)
            .query(&mut control)
            .expect("set");
    }
    // The first notification: an evicted key's name.
    let mut header = [0u8; 46];
    sub.read_exact(&mut header).expect("a notification in time");
    let text = String::from_utf8_lossy(&header);
    assert!(
        text.starts_with("*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:evicted\r\n"),
        "{text}"
    );
}

#[test]
fn an_idle_subscriber_outlives_the_idle_timeout() {
    // One worker: the subscriber, idle longer, is looked at in the same pass as the other.
    let server = TestServer::with_config(|c| {
        c.server.workers = 1;
        c.server.timeout = 1;
    });
    let mut subscriber = server.raw();
    send_raw(&mut subscriber, &["SUBSCRIBE", "quiet"]);
    expect_raw(
        &mut subscriber,
        b"*3\r\n$9\r\nsubscribe\r\n$5\r\nquiet\r\n:1\r\n",
    );
    let mut idle = server.raw();
    send_raw(&mut idle, &["PING"]);
    expect_raw(&mut idle, b"+PONG\r\n");
    assert!(common::read_to_close(&mut idle).is_empty());
    send_raw(&mut subscriber, &["PING"]);
    expect_raw(&mut subscriber, b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

/// CLIENT LIST TYPE and CLIENT KILL TYPE tell `pubsub` clients (any subscription) from
/// `normal` ones, as Redis does.
#[test]
fn client_types_tell_subscribers_apart() {
    check(
        "client_types",
        r#"
        c1 SUBSCRIBE a
        r1 1
        c2 CLIENT LIST TYPE master
        r2 1
        c2 CLIENT LIST TYPE bogus
        r2 1
        c3 CLIENT KILL TYPE pubsub SKIPME yes
        r3 1
        c3 CLIENT KILL TYPE normal SKIPME yes
        r3 1
        c3 CLIENT KILL TYPE master
        r3 1
        "#,
    );
}
