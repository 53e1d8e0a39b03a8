//! The Redistill server: a mio event loop speaking RESP over the store.
//!
//! Redis clients (redis-cli, redis-py, redis-rs, ioredis, go-redis, redis-benchmark) talk to
//! it unchanged. The binary is a thin `main` around [`launch::run`]; tests and embedders start
//! a [`Server`] in-process.
//!
//! # Thread model
//!
//! ```text
//!                 +-----------+  accepted sockets: channel + mio::Waker
//!   listener ---> | acceptor  | ------------------+------------------+
//!                 +-----------+                   |                  |
//!                                          +-------------+    +-------------+
//!                                          |  worker 0   |    |  worker N-1 |   one mio::Poll each,
//!                                          | connections |    | connections |   commands run inline
//!                                          +------+------+    +------+------+
//!                                                 |                  |
//!                                                 +--------+---------+
//!                                                          v
//!                                          redistill_store::Store (sharded, RwLock per shard)
//!
//!   housekeeping thread: refreshes the coarse clock, runs active expiry
//!   health thread (health_check_port): HTTP /health and /metrics, its own mio::Poll
//!   snapshot thread: periodic saves; BGSAVE runs on a thread of its own
//! ```
//!
//! A connection lives on one worker for its whole life. Every complete request in a read
//! runs in order; the replies go out with one `write` where the socket takes them.
//!
//! The acceptor owns the plain and TLS listeners and decides who is served (protected mode,
//! `max_connections`, the new-connection rate and the TLS handshake bound); TLS handshakes
//! then run on the worker, driven by the same readiness events as everything else.
//!
//! # Examples
//!
//! ```no_run
//! use redistill_server::{Server, config::Config};
//!
//! let mut config = Config::default();
//! config.server.port = 0;
//! let server = Server::start(config)?;
//! println!("listening on {}", server.local_addr());
//! server.wait();
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod allocator;
pub mod cli;
pub mod config;
pub mod launch;
pub mod logging;
#[doc(hidden)]
pub mod testing;
pub mod tls;

mod acceptor;
mod admission;
mod blocking;
mod client;
mod clients;
mod clock;
mod cmd;
mod connection;
mod daemon;
mod digest;
mod fdlimit;
mod health;
mod housekeeping;
mod listeners;
mod loading;
mod meanwhile;
mod metrics;
mod monitors;
mod notifications;
mod pause;
mod persistence;
mod pubsub;
mod push;
mod redis_metrics;
mod rss;
mod script;
mod script_libs;
mod server;
mod shared;
mod shutdown;
mod slowlog;
mod stats;
mod tracking;
mod transport;
mod watch;
mod worker;

pub use clock::CoarseClock;
pub use persistence::{FileSink, PersistenceStatus, SnapshotFile, SnapshotSink};
pub use server::{Server, ShutdownTrigger, Totals};

/// The Redis version reported to clients (HELLO, INFO), which some clients check for
/// feature support.
pub const REDIS_VERSION: &str = "7.2.4";
