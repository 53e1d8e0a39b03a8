//! The `redis` crate's async multiplexed connection: many requests in flight on one socket
//! from concurrent tasks, as async Rust services use it.

mod common;

use common::TestServer;
use redis::AsyncCommands;

#[test]
fn multiplexed_connection_serves_concurrent_tasks() {
    let server = TestServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = redis::Client::open(format!("redis://{}/", server.addr)).expect("url");
        let conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("connects");
        // 100 tasks share the one connection; their requests interleave on the wire.
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let mut conn = conn.clone();
                tokio::task::spawn(async move {
                    let key = format!("task:{i}");
                    let _: () = conn.set_ex(&key, i, 60).await.expect("set");
                    let _: i64 = conn.incr("tasks:done", 1).await.expect("incr");
                    let value: i64 = conn.get(&key).await.expect("get");
                    assert_eq!(value, i);
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task finished");
        }
        let mut conn = conn;
        let done: i64 = conn.get("tasks:done").await.expect("get");
        assert_eq!(done, 100);
        let (a, b): (i64, i64) = redis::pipe()
            .atomic()
            .incr("tasks:done", 1)
            .incr("tasks:done", 1)
            .query_async(&mut conn)
            .await
            .expect("transaction");
        assert_eq!((a, b), (101, 102));
    });
}
