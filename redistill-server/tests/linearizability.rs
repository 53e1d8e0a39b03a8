//! Multi-key commands are atomic: clients on different workers run random commands on a
//! few shared keys, each recording when it sent every command and when and what it was
//! answered, and each round's history must be linearizable against the sequential model
//! of the keyspace (`common::keyspace_model`), checked by `common::linearizability`.
//!
//! A round is [`CLIENTS`] clients x [`COMMANDS_PER_CLIENT`] commands on [`KEYS`] fresh
//! keys; rounds repeat until the time budget is spent. Nothing here sleeps or measures
//! time against a threshold: the verdict is the checker's alone.
//!
//! - `cargo test -p redistill-server --test linearizability` runs the short budget,
//!   `LINEARIZABILITY_SECS` (default 3), against a redistill with two workers.
//! - `cargo test --release -p redistill-server --test linearizability -- --ignored
//!   --nocapture long_run` runs the same for `LINEARIZABILITY_SECS` (default 120) and
//!   prints how many rounds and operations it checked and how long checking took.
//! - `LINEARIZABILITY_ADDR=host:port` points both at a running server instead.
//! - `redis_server_passes_the_same_check` (ignored, run by `scripts/test.sh`) runs the
//!   workload against a real `redis-server`, whose commands are atomic, so that a false
//!   positive of the checker or the model shows; it takes `LINEARIZABILITY_SECS` too.
//! - `LINEARIZABILITY_SEED=N` fixes the commands generated (the interleaving still varies).

mod common;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Barrier;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use common::TestServer;
use common::diff::RealRedis;
use common::keyspace_model::{Command, Key, KeyspaceModel, Reply, Value};
use common::linearizability::{Operation, check};
use common::rng::Rng;
use redistill_resp::{Decoder, Frame, Version};

/// Clients per round, each on its own connection and thread.
const CLIENTS: usize = 4;
/// Commands each client sends per round: short enough histories for a fast check.
const COMMANDS_PER_CLIENT: usize = 40;
/// Keys per round: few, so that commands collide.
const KEYS: usize = 3;
/// How long a client waits for a reply before counting the command as never answered.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn multi_key_commands_are_linearizable() {
    let (_server, addr, workers) = server_under_test();
    run_rounds(addr, workers, budget(Duration::from_secs(3)));
}

/// The long run; see the module documentation.
#[test]
#[ignore = "long run: cargo test --release -p redistill-server --test linearizability -- --ignored --nocapture long_run"]
fn multi_key_commands_stay_linearizable_over_a_long_run() {
    let (_server, addr, workers) = server_under_test();
    run_rounds(addr, workers, budget(Duration::from_secs(120)));
}

/// The same workload against a real `redis-server`, whose commands are atomic: a
/// violation here is a false positive of the checker or the model.
#[test]
#[ignore = "needs redis-server on PATH; scripts/test.sh runs it"]
fn redis_server_passes_the_same_check() {
    let redis = RealRedis::start();
    let addr = SocketAddr::from(([127, 0, 0, 1], redis.port));
    run_rounds(addr, None, budget(Duration::from_secs(3)));
}

/// The server named by `LINEARIZABILITY_ADDR`, or else a redistill started here with two
/// workers (kept alive by the first element) and that worker count.
fn server_under_test() -> (Option<TestServer>, SocketAddr, Option<usize>) {
    if let Ok(addr) = std::env::var("LINEARIZABILITY_ADDR") {
        let addr = addr.parse().expect("LINEARIZABILITY_ADDR is host:port");
        return (None, addr, None);
    }
    const WORKERS: usize = 2;
    let server = TestServer::with_config(|c| c.server.workers = WORKERS);
    let addr = server.addr;
    (Some(server), addr, Some(WORKERS))
}

/// `LINEARIZABILITY_SECS`, or `default`.
fn budget(default: Duration) -> Duration {
    std::env::var("LINEARIZABILITY_SECS")
        .ok()
        .map(|s| Duration::from_secs_f64(s.parse().expect("LINEARIZABILITY_SECS is a number")))
        .unwrap_or(default)
}

/// Runs rounds against `addr` until `budget` is spent (at least one) and fails on the
/// first history that is not linearizable. With `workers`, the server runs in this process
/// and the clients must be spread over all its workers.
fn run_rounds(addr: SocketAddr, workers: Option<usize>, budget: Duration) {
    let seed = std::env::var("LINEARIZABILITY_SEED")
        .map(|s| s.parse().expect("LINEARIZABILITY_SEED is a number"))
        .unwrap_or_else(|_| clock_seed());
    let mut rng = Rng(seed);
    // The acceptor deals connections to workers in turn, so clients opened one after
    // another alternate between them.
    let mut clients: Vec<Client> = (0..CLIENTS).map(|_| Client::connect(addr)).collect();
    if let Some(workers) = workers {
        spread::assert_on_every_worker(&mut clients, workers);
    }
    let model = KeyspaceModel { keys: KEYS };
    let started = Instant::now();
    let mut stats = Stats::default();
    while stats.rounds == 0 || started.elapsed() < budget {
        let prefix = format!("lin:{seed:x}:{}:", stats.rounds);
        let scripts: Vec<Vec<Command>> = (0..CLIENTS)
            .map(|client| script(&mut rng, client))
            .collect();
        // The model starts from absent keys.
        clear_keys(&mut clients[0], addr, &prefix);
        let history = run_round(&mut clients, addr, &prefix, &scripts);
        let checking = Instant::now();
        let verdict = check(&model, &history);
        stats.record(history.len(), checking.elapsed());
        if let Err(violation) = verdict {
            panic!(
                "round {} ({:.1} s in, {} operations checked before it; seed {seed}), \
                 keys {prefix}k0..:\n{violation}",
                stats.rounds,
                started.elapsed().as_secs_f64(),
                stats.operations - history.len(),
            );
        }
        clear_keys(&mut clients[0], addr, &prefix);
    }
    eprintln!(
        "linearizability: {} rounds, {} operations in {:.1} s against {addr}; checking took \
         {:.2} ms per round on average, {:.2} ms at most (seed {seed})",
        stats.rounds,
        stats.operations,
        started.elapsed().as_secs_f64(),
        stats.checking.as_secs_f64() * 1e3 / stats.rounds as f64,
        stats.slowest_check.as_secs_f64() * 1e3,
    );
}

/// Totals over a run.
#[derive(Default)]
struct Stats {
    rounds: usize,
    operations: usize,
    checking: Duration,
    slowest_check: Duration,
}

impl Stats {
    fn record(&mut self, operations: usize, checking: Duration) {
        self.rounds += 1;
        self.operations += operations;
        self.checking += checking;
        self.slowest_check = self.slowest_check.max(checking);
    }
}

/// Runs one round: every client sends its script, starting together. A client whose
/// connection fails stops there; its last command counts as never answered.
fn run_round(
    clients: &mut [Client],
    addr: SocketAddr,
    prefix: &str,
    scripts: &[Vec<Command>],
) -> Vec<Operation<Command, Reply>> {
    for client in clients.iter_mut() {
        client.reconnect_if_broken(addr);
    }
    let start = Barrier::new(clients.len());
    let origin = Instant::now();
    let name = |k: Key| key_name(prefix, k);
    std::thread::scope(|scope| {
        let runs: Vec<_> = clients
            .iter_mut()
            .zip(scripts)
            .enumerate()
            .map(|(id, (client, script))| {
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    let mut history = Vec::with_capacity(script.len());
                    for command in script {
                        let invoked = origin.elapsed();
                        let returned = client
                            .request(&command.words(name))
                            .map(|frame| (origin.elapsed(), Reply::from_frame(&frame)));
                        let answered = returned.is_some();
                        history.push(Operation {
                            client: id,
                            input: command.clone(),
                            invoked,
                            returned,
                        });
                        if !answered {
                            break;
                        }
                    }
                    history
                })
            })
            .collect();
        runs.into_iter()
            .flat_map(|run| run.join().expect("client thread"))
            .collect()
    })
}

/// Deletes a round's keys: before it, in case an earlier run left them, and after it, so
/// that a long run against a shared server leaves nothing behind.
fn clear_keys(client: &mut Client, addr: SocketAddr, prefix: &str) {
    client.reconnect_if_broken(addr);
    let del = Command::Del((0..KEYS).collect());
    client
        .request(&del.words(|k| key_name(prefix, k)))
        .expect("DEL answers");
}

/// Key `k` of the round whose keys start with `prefix`.
fn key_name(prefix: &str, k: Key) -> String {
    format!("{prefix}k{k}")
}

/// One client's commands for a round: each value it writes is new, so that a read names
/// the write it saw. Integers are spaced apart so that INCRs do not reach another write.
fn script(rng: &mut Rng, client: usize) -> Vec<Command> {
    let mut written = 0u32;
    let mut value = |rng: &mut Rng| {
        written += 1;
        let id = client as u32 * 100_000 + written;
        if rng.below(4) == 0 {
            Value::Word(id)
        } else {
            Value::Int(i64::from(id) * 1000)
        }
    };
    (0..COMMANDS_PER_CLIENT)
        .map(|_| {
            let k = rng.below(KEYS);
            match rng.below(15) {
                0 => Command::Get(k),
                1 => Command::Set(k, value(rng)),
                2 => Command::Incr(k),
                3 => Command::Del(rng.keys()),
                4 => Command::Unlink(rng.keys()),
                5 | 6 => Command::Exists(rng.keys()),
                7 => Command::Touch(rng.keys()),
                8 => Command::Mget(rng.keys()),
                9 => Command::Mset(rng.keys().into_iter().map(|k| (k, value(rng))).collect()),
                10 => Command::Msetnx(rng.keys().into_iter().map(|k| (k, value(rng))).collect()),
                11 | 12 => {
                    let (from, to) = rng.two_keys();
                    Command::Rename(from, to)
                }
                13 => {
                    let (from, to) = rng.two_keys();
                    Command::Renamenx(from, to)
                }
                _ => {
                    let (from, to) = rng.two_keys();
                    Command::Copy {
                        from,
                        to,
                        replace: rng.below(2) == 0,
                    }
                }
            }
        })
        .collect()
}

/// A seed that differs from run to run.
fn clock_seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Key choices for the scripts.
trait KeyChoice {
    fn two_keys(&mut self) -> (Key, Key);
    fn keys(&mut self) -> Vec<Key>;
}

impl KeyChoice for Rng {
    /// Two different keys.
    fn two_keys(&mut self) -> (Key, Key) {
        let from = self.below(KEYS);
        (from, (from + 1 + self.below(KEYS - 1)) % KEYS)
    }

    /// One to all of the keys, distinct, in random order; mostly more than one.
    fn keys(&mut self) -> Vec<Key> {
        let mut keys: Vec<Key> = (0..KEYS).collect();
        for i in (1..KEYS).rev() {
            keys.swap(i, self.below(i + 1));
        }
        let len = if self.below(5) == 0 {
            1
        } else {
            2 + self.below(KEYS - 1)
        };
        keys.truncate(len);
        keys
    }
}

/// A RESP2 connection that sends one command at a time; `None` once it has failed.
struct Client {
    stream: Option<TcpStream>,
    buf: BytesMut,
    decoder: Decoder,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connects");
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .expect("read timeout");
        stream
            .set_write_timeout(Some(REPLY_TIMEOUT))
            .expect("write timeout");
        Client {
            stream: Some(stream),
            buf: BytesMut::new(),
            decoder: Decoder::new(),
        }
    }

    fn reconnect_if_broken(&mut self, addr: SocketAddr) {
        if self.stream.is_none() {
            *self = Client::connect(addr);
        }
    }

    /// Sends `words` and returns the reply, or `None` if the connection failed or timed
    /// out: the command may or may not have run, and the connection is dropped.
    fn request(&mut self, words: &[Vec<u8>]) -> Option<Frame> {
        let reply = self.exchange(words);
        if reply.is_err() {
            self.stream = None;
        }
        reply.ok()
    }

    fn exchange(&mut self, words: &[Vec<u8>]) -> io::Result<Frame> {
        let stream = self.stream.as_mut().ok_or(io::ErrorKind::NotConnected)?;
        let request = Frame::Array(words.iter().map(|w| Frame::bulk(w.clone())).collect());
        stream.write_all(&request.to_vec(Version::Resp2))?;
        loop {
            if let Some(frame) = self
                .decoder
                .decode(&mut self.buf)
                .map_err(io::Error::other)?
            {
                return Ok(frame);
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Checks that the clients are served by different workers.
mod spread {
    use super::Client;

    /// Each client's connection is registered with one worker's epoll instance, which
    /// `/proc/self/fdinfo` lists with the descriptors it watches; the server runs in this
    /// process, so the descriptors CLIENT INFO reports (`fd=`) can be found there. A
    /// worker holds its instance through two descriptors (its poll and the handle its
    /// connections register with), both listing the same watched set: instances are told
    /// apart by that set (each also watches its own worker's waker).
    #[cfg(target_os = "linux")]
    pub fn assert_on_every_worker(clients: &mut [Client], workers: usize) {
        use std::collections::BTreeSet;

        let server_fds: Vec<i32> = clients.iter_mut().map(server_fd).collect();
        let mut pollers = BTreeSet::new();
        for entry in std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd") {
            let path = entry.expect("fd entry").path();
            let is_epoll = std::fs::read_link(&path)
                .is_ok_and(|target| target.to_string_lossy() == "anon_inode:[eventpoll]");
            let fd = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let Ok(info) = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")) else {
                continue;
            };
            let watched: BTreeSet<i32> = info
                .lines()
                .filter_map(|line| {
                    line.strip_prefix("tfd:")?
                        .split_whitespace()
                        .next()?
                        .parse::<i32>()
                        .ok()
                })
                .collect();
            if is_epoll && watched.iter().any(|t| server_fds.contains(t)) {
                pollers.insert(watched);
            }
        }
        assert_eq!(
            pollers.len(),
            workers,
            "the clients' connections (server side fds {server_fds:?}) are not spread over \
             every worker"
        );
    }

    #[cfg(not(target_os = "linux"))]
    pub fn assert_on_every_worker(_: &mut [Client], _: usize) {}

    /// The server's descriptor for this client's connection.
    #[cfg(target_os = "linux")]
    fn server_fd(client: &mut Client) -> i32 {
        let reply = client
            .request(&[b"CLIENT".to_vec(), b"INFO".to_vec()])
            .expect("CLIENT INFO answers");
        let line = String::from_utf8_lossy(reply.as_bytes().expect("a line")).into_owned();
        line.split_whitespace()
            .find_map(|field| field.strip_prefix("fd="))
            .and_then(|fd| fd.parse().ok())
            .expect("CLIENT INFO has fd=")
    }
}

/// The checker on hand-made histories, where the verdict is known.
mod checker {
    use std::time::Duration;

    use super::common::keyspace_model::{Command, KeyspaceModel, Reply, Value};
    use super::common::linearizability::{Operation, Violation, check};

    /// An operation by `client` from `invoked` to `returned` (µs), answered `reply`.
    fn op(
        client: usize,
        command: Command,
        invoked: u64,
        returned: u64,
        reply: Reply,
    ) -> Operation<Command, Reply> {
        Operation {
            client,
            input: command,
            invoked: Duration::from_micros(invoked),
            returned: Some((Duration::from_micros(returned), reply)),
        }
    }

    /// An operation whose reply never came.
    fn unanswered(client: usize, command: Command, invoked: u64) -> Operation<Command, Reply> {
        Operation {
            client,
            input: command,
            invoked: Duration::from_micros(invoked),
            returned: None,
        }
    }

    fn verdict(history: &[Operation<Command, Reply>]) -> Result<(), Violation> {
        check(&KeyspaceModel { keys: 3 }, history)
    }

    const V: Value = Value::Int(7000);
    const W: Value = Value::Word(8);

    #[test]
    fn a_sequential_history_that_follows_the_model_passes() {
        let history = [
            op(0, Command::Set(0, V), 0, 1, Reply::Ok),
            op(1, Command::Exists(vec![0, 1]), 2, 3, Reply::Integer(1)),
            op(0, Command::Rename(0, 1), 4, 5, Reply::Ok),
            op(
                1,
                Command::Mget(vec![0, 1]),
                6,
                7,
                Reply::Values(vec![None, Some(V)]),
            ),
            op(1, Command::Incr(1), 8, 9, Reply::Integer(7001)),
            op(
                0,
                Command::Rename(0, 2),
                10,
                11,
                Reply::Error("ERR no such key".into()),
            ),
        ];
        verdict(&history).expect("linearizable");
    }

    #[test]
    fn overlapping_operations_may_take_effect_in_either_order() {
        for seen in [None, Some(V)] {
            let history = [
                op(0, Command::Set(0, V), 0, 10, Reply::Ok),
                op(1, Command::Get(0), 2, 8, Reply::Value(seen)),
            ];
            verdict(&history).expect("the read may come before or after the write");
        }
    }

    #[test]
    fn a_read_after_a_write_returned_must_see_it() {
        let history = [
            op(0, Command::Set(0, V), 0, 1, Reply::Ok),
            op(1, Command::Set(0, W), 2, 10, Reply::Ok),
            op(2, Command::Get(0), 11, 12, Reply::Value(Some(V))),
        ];
        let violation = verdict(&history).expect_err("a stale read");
        assert_eq!(violation.stuck, 2);
        assert_eq!(violation.linearized, [0, 1]);
    }

    /// The reported bug: EXISTS of both keys, while one is renamed into the other, must
    /// count exactly one.
    #[test]
    fn exists_must_not_see_a_rename_half_done() {
        for (counted, linearizable) in [(0, false), (1, true), (2, false)] {
            let history = [
                op(0, Command::Set(0, V), 0, 1, Reply::Ok),
                op(0, Command::Rename(0, 1), 2, 10, Reply::Ok),
                op(
                    1,
                    Command::Exists(vec![0, 1]),
                    3,
                    9,
                    Reply::Integer(counted),
                ),
            ];
            assert_eq!(
                verdict(&history).is_ok(),
                linearizable,
                "EXISTS -> {counted}"
            );
        }
    }

    #[test]
    fn mget_must_not_see_a_delete_half_done() {
        let history = [
            op(0, Command::Mset(vec![(0, V), (1, W)]), 0, 1, Reply::Ok),
            op(0, Command::Del(vec![0, 1]), 2, 10, Reply::Integer(2)),
            op(
                1,
                Command::Mget(vec![0, 1]),
                3,
                9,
                Reply::Values(vec![None, Some(W)]),
            ),
        ];
        assert!(verdict(&history).is_err());
    }

    /// A write whose reply never came may have taken effect at any point after it was sent,
    /// or not at all; but once a read saw it, a later read cannot miss it.
    #[test]
    fn an_unanswered_write_may_or_may_not_take_effect() {
        for seen in [None, Some(V)] {
            let history = [
                unanswered(0, Command::Set(0, V), 0),
                op(1, Command::Get(0), 5, 6, Reply::Value(seen)),
                op(1, Command::Get(0), 7, 8, Reply::Value(seen)),
            ];
            verdict(&history).expect("either way");
        }
        let history = [
            unanswered(0, Command::Set(0, V), 0),
            op(1, Command::Get(0), 5, 6, Reply::Value(Some(V))),
            op(1, Command::Get(0), 7, 8, Reply::Value(None)),
        ];
        assert!(verdict(&history).is_err(), "the write cannot be undone");
        let history = [
            op(1, Command::Get(0), 0, 1, Reply::Value(Some(V))),
            unanswered(0, Command::Set(0, V), 2),
        ];
        assert!(
            verdict(&history).is_err(),
            "nor take effect before it was sent"
        );
    }

    #[test]
    fn the_report_shows_the_operations_around_the_violation() {
        let history = [
            op(0, Command::Set(0, V), 0, 1, Reply::Ok),
            op(0, Command::Rename(0, 1), 2, 10, Reply::Ok),
            op(1, Command::Exists(vec![0, 1]), 3, 9, Reply::Integer(2)),
            op(2, Command::Get(2), 20, 21, Reply::Value(None)),
        ];
        let violation = verdict(&history).expect_err("EXISTS saw both keys");
        assert_eq!(violation.stuck, 2);
        let report = violation.to_string();
        for shown in [
            "at most 2 of 4 operations",
            "{k1=7000}",
            "#2 EXISTS k0 k1 -> 1   (got 2)",
            "client 0  #1       [1]  call   RENAME k0 k1",
            "client 1  #2            return -> 2 <- stuck",
        ] {
            assert!(report.contains(shown), "{shown:?} missing from:\n{report}");
        }
        assert!(
            !report.contains("GET k2"),
            "unrelated later operations are left out"
        );
    }
}
