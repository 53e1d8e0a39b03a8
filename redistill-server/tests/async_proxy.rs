//! The tokio example on `redistill-resp`'s codecs, `examples/async_proxy.rs`, in front of a running
//! server: plain commands, pipelines, inline commands, RESP3, protocol errors and replies
//! that come later (a blocked BLPOP) pass through it as if the client spoke to the server
//! itself; and a tokio client on the codec reads typed values with the frame conversions.

mod common;

#[path = "../../examples/async_proxy.rs"]
#[allow(dead_code, clippy::all)]
mod async_proxy;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;

use bytes::Bytes;
use common::{PATIENCE, TestServer, wait_until};
use futures_util::{SinkExt, StreamExt};
use redistill_resp::Frame;
use redistill_resp::codec::ClientCodec;
use tokio_util::codec::Framed;

/// A proxy to `upstream` on a thread of its own, running until the test process ends.
fn start_proxy(upstream: SocketAddr) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let _ = async_proxy::serve(listener, upstream).await;
        });
    });
    addr
}

fn connect(addr: SocketAddr) -> redis::Connection {
    redis::Client::open(format!("redis://{addr}/"))
        .expect("url")
        .get_connection()
        .expect("connects")
}

/// Reads from `stream` until `expected.len()` bytes came, and checks them.
fn expect_bytes(stream: &mut std::net::TcpStream, expected: &[u8]) {
    let mut got = vec![0; expected.len()];
    stream.read_exact(&mut got).expect("reply");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
}

/// Reads one whole frame from `stream`.
fn read_frame(stream: &mut std::net::TcpStream) -> Frame {
    let mut decoder = redistill_resp::Decoder::new();
    let mut buf = bytes::BytesMut::new();
    let mut chunk = [0u8; 256];
    loop {
        if let Some(frame) = decoder.decode(&mut buf).expect("valid RESP") {
            return frame;
        }
        let n = stream.read(&mut chunk).expect("reply");
        assert!(n > 0, "closed before a whole frame");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[test]
fn commands_and_pipelines_pass_through() {
    let server = TestServer::start();
    let proxy = start_proxy(server.addr);
    let mut client = connect(proxy);
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query(&mut client)
        .expect("set");
    let v: String = redis::cmd("GET").arg("k").query(&mut client).expect("get");
    assert_eq!(v, "v");
    let _: () = redis::cmd("HSET")
        .arg("h")
        .arg("a")
        .arg("1")
        .arg("b")
        .arg("2")
        .query(&mut client)
        .expect("hset");
    let h: HashMap<String, i64> = redis::cmd("HGETALL")
        .arg("h")
        .query(&mut client)
        .expect("hgetall");
    assert_eq!(h, HashMap::from([("a".to_owned(), 1), ("b".to_owned(), 2)]));

    let mut pipe = redis::pipe();
    for _ in 0..200 {
        pipe.cmd("INCR").arg("n");
    }
    let counts: Vec<i64> = pipe.query(&mut client).expect("pipeline");
    assert_eq!(counts, (1..=200).collect::<Vec<i64>>());

    let err = redis::cmd("INCR")
        .arg("k")
        .query::<i64>(&mut client)
        .expect_err("not an integer");
    assert!(err.to_string().contains("not an integer"), "{err}");
    // What the proxy wrote reached the server.
    let mut direct = server.client();
    let n: i64 = redis::cmd("GET").arg("n").query(&mut direct).expect("get");
    assert_eq!(n, 200);
}

#[test]
fn inline_commands_resp3_and_protocol_errors_as_from_the_server() {
    let server = TestServer::start();
    let proxy = start_proxy(server.addr);
    let mut s = std::net::TcpStream::connect(proxy).expect("connects");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s.write_all(b"PING\r\nSET k \"a b\"\r\nGET k\r\n")
        .expect("send");
    expect_bytes(&mut s, b"+PONG\r\n+OK\r\n$3\r\na b\r\n");
    s.write_all(b"HELLO 3\r\n").expect("send");
    let Frame::Map(hello) = read_frame(&mut s) else {
        panic!("HELLO 3 answers a map");
    };
    assert!(hello.contains(&(Frame::bulk("proto"), Frame::Integer(3))));
    s.write_all(b"*2\r\n$6\r\nEXISTS\r\n$1\r\nk\r\n")
        .expect("send");
    expect_bytes(&mut s, b":1\r\n");
    s.write_all(b"*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n")
        .expect("send");
    expect_bytes(
        &mut s,
        b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n",
    );
    let mut end = Vec::new();
    let closed = s.read_to_end(&mut end).expect("closes");
    assert_eq!(closed, 0, "the connection closes after a protocol error");
}

#[test]
fn replies_that_come_later_are_relayed_as_they_come() {
    let server = TestServer::start();
    let proxy = start_proxy(server.addr);
    let mut waiting = std::net::TcpStream::connect(proxy).expect("connects");
    waiting.set_read_timeout(Some(PATIENCE)).expect("timeout");
    waiting.write_all(b"BLPOP jobs 0\r\n").expect("blpop");
    let mut direct = server.client();
    wait_until("BLPOP blocks", || {
        let info: String = redis::cmd("INFO")
            .arg("clients")
            .query(&mut direct)
            .expect("info");
        info.contains("blocked_clients:1")
    });
    let _: i64 = redis::cmd("LPUSH")
        .arg("jobs")
        .arg("j1")
        .query(&mut direct)
        .expect("lpush");
    expect_bytes(&mut waiting, b"*2\r\n$4\r\njobs\r\n$2\r\nj1\r\n");
}

#[test]
fn a_tokio_client_reads_typed_values() {
    let server = TestServer::start();
    let proxy = start_proxy(server.addr);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let stream = tokio::net::TcpStream::connect(proxy)
            .await
            .expect("connects");
        let mut conn = Framed::new(stream, ClientCodec::new());
        let mut call = async |args: &[&str]| -> Frame {
            conn.send(args).await.expect("send");
            conn.next().await.expect("a reply").expect("a frame")
        };
        let n: i64 = call(&["INCRBY", "counter", "5"])
            .await
            .try_into()
            .expect("int");
        assert_eq!(n, 5);
        let _ = call(&["RPUSH", "l", "a", "b"]).await;
        let list: Vec<String> = call(&["LRANGE", "l", "0", "-1"])
            .await
            .try_into()
            .expect("list");
        assert_eq!(list, ["a", "b"]);
        let none: Option<Bytes> = call(&["GET", "missing"]).await.try_into().expect("nil");
        assert_eq!(none, None);
        let _ = call(&["HELLO", "3"]).await;
        let _ = call(&["HSET", "h", "f", "1.5"]).await;
        let map: HashMap<String, f64> = call(&["HGETALL", "h"]).await.try_into().expect("map");
        assert_eq!(map["f"], 1.5);
        let err = i64::try_from(call(&["INCR", "l"]).await).expect_err("server error");
        assert!(
            err.to_string().starts_with("server error: WRONGTYPE"),
            "{err}"
        );
    });
}
