//! Client-side caching (CLIENT TRACKING) over real sockets: multi-connection scripts run
//! against redistill and, for the differential tests (ignored by a plain `cargo test`, as
//! they need `redis-server` on PATH; `scripts/test.sh` runs them), against a real
//! redis-server 7.0, every frame compared: replies and the invalidation pushes each
//! connection received before them.
//!
//! A script is a list of steps on numbered connections. A command step sends one command
//! and reads frames until its reply (not a push), so pushes that arrived before the reply
//! are part of the step's record; `$ID<n>` in a command stands for connection n's client
//! id, and that id reads `$ID<n>` in the records. A push step waits (with a deadline) for
//! one frame that no command asked for, such as an expiry's invalidation. After the last
//! step every connection sends PING, which collects what is still on its way. A send step
//! sends a command and reads nothing, for commands CLIENT REPLY silences.
//! With `TRACKING_TRACE` set, each step's record is printed as it is made.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use bytes::{Bytes, BytesMut};
use redistill_resp::decode;

use common::diff::RealRedis;
use common::{PATIENCE, TestServer};

/// One step of a script.
#[derive(Clone, Copy)]
enum Step {
    /// Connection, command: the frames up to its reply.
    Run(usize, &'static str),
    /// Like `Run`, but invalidations are recorded without their keys: which keys the
    /// table forgets when full is Redis's random choice.
    RunAnyKeys(usize, &'static str),
    /// Like `Run`, for a command Redis answers twice (an error, then OK).
    RunTwice(usize, &'static str),
    /// Connection: one frame it receives unasked.
    Push(usize),
    /// Connection, command: sent, and nothing read (for a command answered by nothing,
    /// under CLIENT REPLY OFF).
    Send(usize, &'static str),
    /// Connection, INFO field: its value.
    Info(usize, &'static str),
    /// Connection: the `flags=` and `redir=` fields of its CLIENT INFO.
    Flags(usize),
}

use Step::{Flags, Info, Push, Run, RunAnyKeys, RunTwice, Send};

/// A connection of a script, reading frames one at a time.
struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    id: String,
}

impl Conn {
    fn open(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        let mut conn = Conn {
            stream,
            buf: BytesMut::new(),
            id: String::new(),
        };
        conn.send("CLIENT ID");
        let id = conn.frame();
        conn.id = String::from_utf8_lossy(&id[1..id.len() - 2]).into_owned();
        conn
    }

    /// Sends `line`, split as redis-cli splits it (quotes group words).
    fn send(&mut self, line: &str) {
        let words = redistill_resp::split_args(line.as_bytes()).expect("quoted arguments");
        let mut request = format!("*{}\r\n", words.len()).into_bytes();
        for word in words {
            request.extend_from_slice(format!("${}\r\n", word.len()).as_bytes());
            request.extend_from_slice(&word);
            request.extend_from_slice(b"\r\n");
        }
        self.stream.write_all(&request).expect("send");
    }

    /// The next frame's raw bytes.
    fn frame(&mut self) -> Vec<u8> {
        loop {
            let bytes = Bytes::copy_from_slice(&self.buf);
            if let Some((_, used)) = decode(&bytes).expect("valid frame") {
                let _ = self.buf.split_to(used);
                return bytes[..used].to_vec();
            }
            let mut chunk = [0u8; 65536];
            let n = self
                .stream
                .read(&mut chunk)
                .expect("a frame before the deadline");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Whether a frame is an invalidation (or another push) rather than a reply.
fn is_push(frame: &[u8]) -> bool {
    frame.first() == Some(&b'>')
}

/// A frame made readable and comparable: client ids replaced by `$ID<n>` where a frame
/// names a redirection, and HELLO's map (server name and version) left out.
fn readable(frame: &[u8], conns: &[Conn], asks_redirect: bool) -> String {
    let mut text = String::from_utf8_lossy(frame).replace("\r\n", " ");
    if text.contains(" proto ") {
        return "(HELLO's map)".to_string();
    }
    let names_ids = ["redirect", "redir=", "tracking-redir-broken", "id="]
        .iter()
        .any(|word| text.contains(word))
        || asks_redirect;
    if !names_ids {
        return text;
    }
    text.insert(0, ' ');
    for (n, conn) in conns.iter().enumerate() {
        for (from, to) in [
            (format!(" :{} ", conn.id), format!(" :$ID{n} ")),
            (format!("id={} ", conn.id), format!("id=$ID{n} ")),
            (format!("redir={} ", conn.id), format!("redir=$ID{n} ")),
        ] {
            text = text.replace(&from, &to);
        }
    }
    text.trim_start().to_string()
}

/// Runs `script` on `connections` fresh connections to the server on `port`; the record
/// of every step, one line per frame.
fn run(port: u16, connections: usize, script: &[Step]) -> Vec<String> {
    let mut conns: Vec<Conn> = (0..connections).map(|_| Conn::open(port)).collect();
    conns[0].send("FLUSHALL");
    conns[0].frame();
    let mut record = Vec::new();
    let trace = std::env::var("TRACKING_TRACE").is_ok();
    let step_frames = |conns: &mut Vec<Conn>, n: usize, line: &str, any_keys: bool| {
        let ids: Vec<String> = conns.iter().map(|c| c.id.clone()).collect();
        let mut line = line.to_string();
        for (i, id) in ids.iter().enumerate() {
            line = line.replace(&format!("$ID{i}"), id);
        }
        conns[n].send(&line);
        let mut frames = Vec::new();
        loop {
            let frame = conns[n].frame();
            let push = is_push(&frame);
            frames.push(if push && any_keys {
                "push (keys not compared)".to_string()
            } else {
                readable(&frame, conns, line.contains("GETREDIR"))
            });
            if !push {
                break;
            }
        }
        frames
    };
    let quit: Vec<usize> = script
        .iter()
        .filter_map(|step| match step {
            Run(_, line) => line
                .strip_prefix("CLIENT KILL ID $ID")
                .and_then(|n| n.parse().ok()),
            _ => None,
        })
        .collect();
    for step in script {
        if trace {
            eprintln!("{:?}", record.last());
        }
        match *step {
            Run(n, line) | RunAnyKeys(n, line) => {
                let any = matches!(step, RunAnyKeys(..));
                let frames = step_frames(&mut conns, n, line, any);
                record.push(format!("[{n}] {line} -> {}", frames.join(" | ")));
            }
            RunTwice(n, line) => {
                let mut frames = step_frames(&mut conns, n, line, false);
                let second = conns[n].frame();
                frames.push(readable(&second, &conns, false));
                record.push(format!("[{n}] {line} -> {}", frames.join(" | ")));
            }
            Send(n, line) => {
                conns[n].send(line);
                record.push(format!("[{n}] {line} (no reply read)"));
            }
            Push(n) => {
                let frame = conns[n].frame();
                record.push(format!("[{n}] (push) {}", readable(&frame, &conns, false)));
            }
            Info(n, field) => {
                conns[n].send("INFO");
                let info = String::from_utf8_lossy(&conns[n].frame()).into_owned();
                let value = info
                    .split("\r\n")
                    .find_map(|l| l.strip_prefix(&format!("{field}:")))
                    .unwrap_or("(absent)")
                    .to_string();
                record.push(format!("[{n}] INFO {field} = {value}"));
            }
            Flags(n) => {
                conns[n].send("CLIENT INFO");
                let line = readable(&conns[n].frame(), &conns, false);
                let fields: Vec<&str> = line
                    .split(' ')
                    .filter(|f| f.starts_with("flags=") || f.starts_with("redir="))
                    .collect();
                record.push(format!("[{n}] CLIENT INFO {}", fields.join(" ")));
            }
        }
    }
    for n in 0..connections {
        if quit.contains(&n) {
            continue;
        }
        let frames = step_frames(&mut conns, n, "PING", false);
        record.push(format!("[{n}] PING -> {}", frames.join(" | ")));
    }
    record
}

/// Runs `script` on redistill and on redis-server and requires the same records.
fn same_as_redis(connections: usize, script: &[Step]) {
    let redis = RealRedis::start();
    let expected = run(redis.port, connections, script);
    let server = TestServer::start();
    let actual = run(server.addr.port(), connections, script);
    for (i, (want, got)) in expected.iter().zip(&actual).enumerate() {
        assert_eq!(
            got,
            want,
            "step {i} differs (redis-server's record first below)\n{}",
            expected.join("\n")
        );
    }
    assert_eq!(actual.len(), expected.len());
}

const DEFAULT_MODE: &[Step] = &[
    Run(0, "HELLO 3"),
    Run(0, "CLIENT TRACKING ON"),
    Run(1, "SET a 1"),
    Run(0, "GET a"),
    Run(0, "MGET a b c"),
    Run(0, "STRLEN c"),
    Info(1, "tracking_total_keys"),
    Info(1, "tracking_total_items"),
    Info(1, "tracking_clients"),
    Run(1, "SET a 2"),
    Run(1, "SET a 3"),
    Run(0, "PING"),
    Run(1, "MSET b 1 c 2"),
    Run(0, "GET a"),
    // The client's own write: the invalidation follows the reply.
    Run(0, "DEL a"),
    Run(0, "PING"),
    Run(0, "CLIENT TRACKINGINFO"),
    Run(0, "CLIENT GETREDIR"),
    Info(1, "tracking_total_keys"),
    // Writes to other types and to keys in other databases invalidate by name.
    Run(0, "HGET h f"),
    Run(0, "LRANGE l 0 -1"),
    Run(1, "HSET h f v"),
    Run(1, "SELECT 1"),
    Run(1, "RPUSH l x"),
    Run(0, "PING"),
    Run(0, "CLIENT TRACKING OFF"),
    Run(0, "CLIENT TRACKINGINFO"),
    Run(0, "GET a"),
    Run(1, "SET a 4"),
    Info(1, "tracking_total_keys"),
    Info(1, "tracking_clients"),
];

#[test]
#[ignore = "needs redis-server on PATH"]
fn default_mode_matches_redis() {
    same_as_redis(2, DEFAULT_MODE);
}

/// The same script on redistill alone, checked against what Redis sends.
#[test]
fn a_write_invalidates_what_a_tracking_client_read() {
    let server = TestServer::start();
    let record = run(server.addr.port(), 2, DEFAULT_MODE);
    let find = |prefix: &str| {
        record
            .iter()
            .find(|line| line.starts_with(prefix))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        find("[0] PING"),
        "[0] PING -> >2 $10 invalidate *1 $1 a  | +PONG "
    );
    assert!(record.contains(&"[1] INFO tracking_total_keys = 3".to_string()));
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn optin_optout_and_noloop_match_redis() {
    same_as_redis(
        2,
        &[
            Run(0, "HELLO 3"),
            Run(0, "CLIENT TRACKING ON OPTIN"),
            Run(0, "GET a"),
            Run(0, "CLIENT CACHING YES"),
            Run(0, "CLIENT TRACKINGINFO"),
            Run(0, "GET b"),
            Run(0, "GET c"),
            Run(1, "MSET a 1 b 1 c 1"),
            Run(0, "PING"),
            Run(0, "CLIENT CACHING YES"),
            Run(0, "MULTI"),
            Run(0, "GET a"),
            Run(0, "GET c"),
            Run(0, "EXEC"),
            Run(1, "MSET a 2 c 2"),
            Run(0, "PING"),
            Run(0, "CLIENT CACHING NO"),
            Run(0, "CLIENT TRACKING ON OPTOUT"),
            Run(0, "CLIENT TRACKING OFF"),
            Run(0, "CLIENT TRACKING ON OPTOUT NOLOOP"),
            Run(0, "CLIENT TRACKINGINFO"),
            Run(0, "GET a"),
            Run(0, "CLIENT CACHING NO"),
            Run(0, "GET b"),
            Run(0, "GET c"),
            Run(1, "MSET a 3 b 3"),
            Run(0, "SET c 3"),
            Run(0, "PING"),
            Run(0, "CLIENT CACHING YES"),
            Run(0, "CLIENT CACHING maybe"),
            // CLIENT TRACKING ON again keeps a CLIENT CACHING just given.
            Run(0, "CLIENT TRACKING OFF"),
            Run(0, "CLIENT TRACKING ON OPTIN"),
            Run(0, "CLIENT CACHING YES"),
            Run(0, "CLIENT TRACKING ON OPTIN"),
            Run(0, "GET x"),
            Run(1, "SET x 1"),
            Run(0, "PING"),
        ],
    );
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn broadcast_with_prefixes_matches_redis() {
    same_as_redis(
        3,
        &[
            Run(0, "HELLO 3"),
            Run(0, "CLIENT TRACKING ON BCAST PREFIX user: PREFIX obj:"),
            Run(0, "CLIENT TRACKINGINFO"),
            Run(2, "HELLO 3"),
            Run(2, "CLIENT TRACKING ON BCAST NOLOOP"),
            Info(1, "tracking_total_prefixes"),
            Run(1, "MSET user:2 a user:1 b other c obj:1 d"),
            Run(0, "PING"),
            Run(2, "PING"),
            Run(2, "SET user:3 x"),
            Run(1, "SET user:4 y"),
            Run(0, "PING"),
            Run(2, "PING"),
            Run(0, "CLIENT TRACKING ON BCAST PREFIX u"),
            // Redis 7.0 answers an overlap found past the first prefix with an error, and
            // then enables tracking and answers OK.
            RunTwice(0, "CLIENT TRACKING ON BCAST PREFIX x PREFIX a PREFIX ab"),
            Run(0, "CLIENT TRACKINGINFO"),
            Run(0, "CLIENT TRACKING ON"),
            Run(0, "CLIENT TRACKING OFF"),
            Info(1, "tracking_total_prefixes"),
            Run(1, "SET user:5 z"),
            Run(0, "PING"),
            Run(2, "PING"),
        ],
    );
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn redirection_matches_redis() {
    same_as_redis(
        3,
        &[
            Run(1, "HELLO 3"),
            Run(0, "CLIENT TRACKING ON REDIRECT $ID1"),
            Run(0, "CLIENT GETREDIR"),
            Run(0, "CLIENT TRACKINGINFO"),
            Run(0, "GET a"),
            Run(2, "SET a 1"),
            Run(1, "PING"),
            Run(0, "PING"),
            Run(0, "HELLO 3"),
            Run(0, "GET a"),
            // The target leaves: the next invalidation reports the redirection broken.
            Run(2, "CLIENT KILL ID $ID1"),
            Run(2, "SET a 2"),
            Run(0, "PING"),
            Run(0, "CLIENT TRACKINGINFO"),
            Run(0, "CLIENT TRACKING ON REDIRECT 999999"),
            Run(0, "CLIENT TRACKING ON REDIRECT $ID2 REDIRECT $ID2"),
        ],
    );
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn flushall_sends_a_null_invalidation_as_redis_does() {
    same_as_redis(
        3,
        &[
            Run(0, "HELLO 3"),
            Run(0, "CLIENT TRACKING ON"),
            Run(1, "HELLO 3"),
            Run(1, "CLIENT TRACKING ON BCAST"),
            Run(0, "GET a"),
            Run(2, "FLUSHALL"),
            Run(0, "PING"),
            Run(1, "PING"),
            Info(2, "tracking_total_keys"),
            Run(0, "GET a"),
            Run(0, "FLUSHDB"),
            Run(0, "PING"),
            Run(1, "PING"),
        ],
    );
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn expiry_invalidates_as_redis_does() {
    // The key must be read before it expires: 400 ms is far more than a read takes.
    same_as_redis(
        2,
        &[
            Run(0, "HELLO 3"),
            Run(0, "CLIENT TRACKING ON"),
            Run(1, "SET k v PX 400"),
            Run(0, "GET k"),
            Push(0),
            Run(0, "GET k"),
            Info(1, "tracking_total_keys"),
        ],
    );
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn a_full_table_forgets_keys_as_redis_does() {
    same_as_redis(
        2,
        &[
            Run(1, "CONFIG SET tracking-table-max-keys 2"),
            Run(0, "HELLO 3"),
            Run(0, "CLIENT TRACKING ON"),
            Run(0, "MGET a b"),
            Info(1, "tracking_total_keys"),
            Run(0, "GET c"),
            RunAnyKeys(0, "PING"),
            Info(1, "tracking_total_keys"),
            Run(0, "CONFIG SET tracking-table-max-keys 0"),
            Run(0, "MGET d e f g"),
            Info(1, "tracking_total_keys"),
        ],
    );
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn client_tracking_errors_and_flags_match_redis() {
    same_as_redis(
        2,
        &[
            Run(0, "CLIENT TRACKING"),
            Run(0, "CLIENT TRACKING maybe"),
            Run(0, "CLIENT TRACKING ON REDIRECT"),
            Run(0, "CLIENT TRACKING ON REDIRECT x"),
            Run(0, "CLIENT TRACKING ON REDIRECT -1"),
            Run(0, "CLIENT TRACKING ON PREFIX"),
            Run(0, "CLIENT TRACKING ON PREFIX a"),
            Run(0, "CLIENT TRACKING ON OPTIN OPTOUT"),
            Run(0, "CLIENT TRACKING ON BCAST OPTIN"),
            Run(0, "CLIENT TRACKING ON BCAST PREFIX a PREFIX ab"),
            Run(0, "CLIENT TRACKING maybe BCAST"),
            Run(0, "CLIENT TRACKING OFF REDIRECT 999999"),
            Run(0, "CLIENT CACHING"),
            Run(0, "CLIENT CACHING YES"),
            Run(0, "CLIENT GETREDIR"),
            Run(0, "CLIENT TRACKINGINFO"),
            Run(0, "CLIENT TRACKING ON OPTIN"),
            Run(0, "CLIENT TRACKING ON OPTOUT"),
            Run(0, "CLIENT TRACKING ON BCAST"),
            Run(0, "CLIENT TRACKING OFF"),
            Run(0, "CLIENT TRACKING ON BCAST"),
            Flags(0),
            Run(0, "CLIENT TRACKING OFF"),
            Run(0, "CLIENT TRACKING ON NOLOOP REDIRECT $ID1"),
            Flags(0),
            Run(1, "CLIENT KILL ID $ID1"),
            Run(0, "GET a"),
            Run(0, "SET a 1"),
            Flags(0),
            Run(0, "CLIENT GETREDIR"),
            Run(0, "CLIENT TRACKINGINFO"),
            Run(0, "HELLO 3"),
            Run(0, "CLIENT TRACKINGINFO"),
            Run(0, "RESET"),
            Run(0, "CLIENT TRACKINGINFO"),
            Run(0, "CLIENT GETREDIR"),
            Info(0, "tracking_clients"),
        ],
    );
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn swapdb_move_rename_and_transactions_match_redis() {
    same_as_redis(
        2,
        &[
            Run(0, "HELLO 3"),
            Run(0, "CLIENT TRACKING ON"),
            Run(1, "MSET a 1 b 2 c 3"),
            Run(0, "MGET a b c d"),
            Run(1, "SWAPDB 0 1"),
            Run(0, "PING"),
            Run(1, "SWAPDB 0 1"),
            Run(1, "RENAME a d"),
            Run(0, "PING"),
            Run(1, "MOVE b 1"),
            Run(1, "MULTI"),
            Run(1, "SET c 4"),
            Run(1, "SET e 5"),
            Run(1, "EXEC"),
            Run(0, "PING"),
            Run(0, "GET c"),
            Run(1, "SET c 5 NX"),
            Run(1, "DEL nosuch"),
            Run(0, "PING"),
            Run(1, "EXPIRE c 100"),
            Run(0, "PING"),
            Info(1, "tracking_total_keys"),
        ],
    );
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn redirection_to_a_resp2_subscriber_matches_redis() {
    same_as_redis(
        4,
        &[
            Run(1, "SUBSCRIBE __redis__:invalidate"),
            Run(0, "CLIENT TRACKING ON REDIRECT $ID1"),
            Run(0, "GET a"),
            Run(2, "SET a 1"),
            Push(1),
            // Redis checks Pub/Sub mode, not the channel.
            Run(3, "SUBSCRIBE other"),
            Run(0, "CLIENT TRACKING OFF"),
            Run(0, "CLIENT TRACKING ON BCAST PREFIX b REDIRECT $ID3"),
            Run(2, "MSET b1 1 b2 2 c 3"),
            Push(3),
            Run(2, "FLUSHALL"),
            Push(3),
            Run(0, "CLIENT TRACKING OFF"),
            Run(0, "CLIENT TRACKING ON REDIRECT $ID2"),
            Run(0, "GET a"),
            Run(2, "SET a 2"),
            Run(2, "PING"),
            Run(1, "UNSUBSCRIBE"),
            Run(3, "UNSUBSCRIBE"),
        ],
    );
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn keys_a_script_reads_are_tracked_for_its_caller_as_redis_does() {
    same_as_redis(
        2,
        &[
            Run(0, "HELLO 3"),
            Run(0, "CLIENT TRACKING ON"),
            Run(1, "MSET d1 x other x d5 x f1 x f2 x o1 x o2 x"),
            // Each read the script makes registers the caller for the keys the script
            // declares, not for those it names itself.
            Run(0, "EVAL \"return redis.call('get', 'other')\" 1 d1"),
            Run(1, "SET other y"),
            Run(1, "SET d1 y"),
            Run(0, "PING"),
            // Writes alone, or a command that reads no key, register nothing.
            Run(0, "EVAL \"return redis.call('set', 'zz', '1')\" 1 d2"),
            Run(0, "EVAL \"redis.call('ping') return 1\" 1 d3"),
            Run(0, "EVAL \"return 1\" 1 d4"),
            Run(1, "MSET d2 y d3 y d4 y"),
            Run(0, "PING"),
            Run(0, "EVAL_RO \"return redis.call('get', KEYS[1])\" 1 d5"),
            Run(
                0,
                "EVALSHA_RO 4e6d8fc8bb01276962cce5371fa795a7763657ae 1 d5",
            ),
            Run(
                0,
                "EVAL \"redis.call('type', 'x') return redis.call('exists', 'y')\" 2 d6 d7",
            ),
            Run(1, "MSET d5 y d6 y d7 y"),
            Run(0, "PING"),
            // The script's own write of a key it read: the invalidation follows its reply.
            Run(
                0,
                "EVAL \"redis.call('get', KEYS[1]) return redis.call('set', KEYS[1], 'z')\" 1 d8",
            ),
            Run(0, "PING"),
            Run(0, "EVAL \"redis.call('get', KEYS[1]) return 1\" 1 d9"),
            Run(0, "EVAL \"return redis.call('set', KEYS[1], 'z')\" 1 d9"),
            Run(0, "PING"),
            // Functions too.
            Run(
                1,
                "FUNCTION LOAD \"#!lua name=lib\nredis.register_function('rd', function(k) \
                 return redis.call('get', k[1]) end)\"",
            ),
            Run(0, "FCALL rd 1 f1"),
            Run(0, "FCALL_RO rd 1 f2"),
            Run(1, "MSET f1 1 f2 2"),
            Run(0, "PING"),
            Run(1, "FUNCTION FLUSH"),
            // OPTIN: only after CLIENT CACHING YES.
            Run(0, "CLIENT TRACKING OFF"),
            Run(0, "CLIENT TRACKING ON OPTIN"),
            Run(0, "EVAL \"return redis.call('get', KEYS[1])\" 1 o1"),
            Run(0, "CLIENT CACHING YES"),
            Run(0, "EVAL \"return redis.call('get', KEYS[1])\" 1 o2"),
            Run(1, "MSET o1 1 o2 2"),
            Run(0, "PING"),
            Info(1, "tracking_total_keys"),
        ],
    );
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn client_reply_off_keeps_invalidations_as_redis_does() {
    same_as_redis(
        2,
        &[
            Run(0, "HELLO 3"),
            Run(0, "CLIENT TRACKING ON"),
            Run(0, "GET k"),
            Send(0, "CLIENT REPLY OFF"),
            Run(1, "SET k 1"),
            Push(0),
            // Reads still register their keys, and the client's own write still sends
            // it its invalidation, though no reply is sent.
            Send(0, "GET k"),
            Send(0, "SET k 2"),
            Push(0),
            Send(0, "GET j"),
            // Its reply shows GET has run before the other client writes.
            Run(0, "CLIENT REPLY ON"),
            Run(1, "SET j 1"),
            Run(0, "PING"),
            Run(0, "GET j"),
            Send(0, "CLIENT REPLY SKIP"),
            Send(0, "SET j 2"),
            Push(0),
            Run(0, "GET j"),
            Run(1, "SET j 3"),
            Run(0, "PING"),
        ],
    );
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn pfcount_updating_its_cache_invalidates_as_redis_does() {
    same_as_redis(
        3,
        &[
            Run(0, "HELLO 3"),
            Run(0, "CLIENT TRACKING ON"),
            Run(2, "HELLO 3"),
            Run(2, "CLIENT TRACKING ON"),
            Run(1, "PFADD h a b c"),
            // The reader is registered after PFCOUNT runs: its cache update invalidates
            // nobody yet.
            Run(0, "PFCOUNT h"),
            Run(0, "PING"),
            Run(1, "PFADD h d"),
            Run(0, "EXISTS h"),
            Run(2, "EXISTS h"),
            // A stale cache is written: every reader is invalidated, the one counting
            // too, after its reply.
            Run(0, "PFCOUNT h"),
            Run(0, "PING"),
            Run(2, "PING"),
            Run(0, "PFCOUNT h"),
            Run(0, "PING"),
            Run(2, "EXISTS h"),
            Run(0, "CLIENT TRACKING ON NOLOOP"),
            Run(1, "PFADD h e"),
            Run(0, "EXISTS h"),
            Run(0, "PFCOUNT h"),
            Run(0, "PING"),
            Run(2, "PING"),
            // Several keys are merged, and no cache is written.
            Run(1, "PFADD h f"),
            Run(1, "PFADD h2 a"),
            Run(0, "EXISTS h"),
            Run(0, "PFCOUNT h h2"),
            Run(0, "PING"),
            Run(0, "PFCOUNT h"),
            Run(2, "PING"),
            // A key a read finds expired: deleted before the reader is registered.
            Run(1, "DEBUG SET-ACTIVE-EXPIRE 0"),
            Run(1, "SET e v PX 1"),
            Run(1, "DEBUG SLEEP 0.01"),
            Run(0, "GET e"),
            Run(0, "PING"),
            Run(1, "SET e w"),
            Run(0, "PING"),
            Run(1, "DEBUG SET-ACTIVE-EXPIRE 1"),
        ],
    );
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn a_transaction_of_a_tracking_client_matches_redis() {
    same_as_redis(
        2,
        &[
            Run(0, "HELLO 3"),
            Run(0, "CLIENT TRACKING ON"),
            Run(0, "GET k"),
            Run(0, "MULTI"),
            Run(0, "GET k"),
            Run(0, "SET k v"),
            Run(0, "GET k"),
            // The invalidation of its own write follows EXEC's reply (a subscribed client's
            // messages come inside it: see tests/pubsub.rs).
            Run(0, "EXEC"),
            Run(0, "PING"),
            Run(1, "SET k w"),
            Run(0, "PING"),
        ],
    );
}
