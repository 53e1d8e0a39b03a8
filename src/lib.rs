//! Redistill: a Redis-compatible in-memory cache, as a server and as crates.
//!
//! This facade re-exports the workspace's crates under short names:
//!
//! | module | crate | what it is |
//! | --- | --- | --- |
//! | [`resp`] | `redistill-resp` | RESP2/RESP3 codec, sans-IO |
//! | [`store`] | `redistill-store` | sharded keyspace with Redis semantics |
//! | [`cache`] | `redistill-cache` | in-process cache API on the store (typed with serde) |
//! | [`evict`] | `redistill-evict` | eviction policies |
//! | [`persist`] | `redistill-persist` | snapshot file format |
//! | [`server`] | `redistill-server` | the mio server |

pub use redistill_cache as cache;
pub use redistill_evict as evict;
pub use redistill_persist as persist;
pub use redistill_resp as resp;
pub use redistill_server as server;
pub use redistill_store as store;
