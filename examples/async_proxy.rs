//! A RESP proxy on tokio: each client gets a connection of its own to the upstream server,
//! its commands are forwarded as they arrive and the upstream's replies relayed back, so
//! pipelines, `HELLO 3`, blocking commands and Pub/Sub pass through unchanged.
//!
//! Commands are decoded as a Redis server reads them (inline lines included) and sent on
//! as RESP arrays; replies are decoded as frames and re-encoded byte for byte. A client
//! that breaks the protocol gets Redis's error text, after the replies to the commands
//! it sent before, and is disconnected.
//!
//! ```text
//! cargo run --example async_proxy -- 127.0.0.1:7000 127.0.0.1:6379
//! redis-cli -p 7000 ping
//! ```

use std::net::SocketAddr;

use bytes::Bytes;

use futures_util::{SinkExt, StreamExt};
use redistill_resp::Frame;
use redistill_resp::codec::{ClientCodec, CodecError, FrameCodec, ServerCodec};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{FramedRead, FramedWrite};

/// Accepts clients on `listener` forever, relaying each to `upstream`.
///
/// # Errors
///
/// Only when accepting fails; a client's failure ends that client's relay alone.
pub async fn serve(listener: TcpListener, upstream: SocketAddr) -> std::io::Result<()> {
    loop {
        let (client, _) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(e) = relay(client, upstream).await {
                eprintln!("async_proxy: {e}");
            }
        });
    }
}

/// Relays one client to a fresh connection to `upstream` until the upstream closes
/// (after the client closed, sent `QUIT` or broke the protocol).
///
/// # Errors
///
/// When the upstream cannot be reached or sends something that is not RESP, or a
/// connection fails.
pub async fn relay(client: TcpStream, upstream: SocketAddr) -> Result<(), CodecError> {
    let server = TcpStream::connect(upstream).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let forwarding = tokio::spawn(forward_requests(client_read, server_write));
    let mut to_client = relay_replies(server_read, client_write).await?;
    // A forwarding still running is waiting on a client the upstream has left.
    let forwarded = if forwarding.is_finished() {
        forwarding.await.ok()
    } else {
        forwarding.abort();
        None
    };
    if let Some(Err(CodecError::Protocol(e))) = forwarded {
        // The replies to the commands before the bad one are through; now the error.
        let mut reply = Vec::new();
        e.write_reply(&mut reply);
        to_client.write_all(&reply).await?;
    }
    to_client.shutdown().await?;
    Ok(())
}

/// Sends the client's commands upstream as they arrive, then closes the upstream's
/// write side so that it finishes replying and closes too.
async fn forward_requests(
    client_read: OwnedReadHalf,
    server_write: OwnedWriteHalf,
) -> Result<(), CodecError> {
    let mut requests = FramedRead::new(client_read, ServerCodec::new());
    let mut upstream = FramedWrite::new(server_write, ClientCodec::new());
    let mut result = Ok(());
    while let Some(request) = requests.next().await {
        match request {
            Ok(args) => {
                // Feed a pipeline whole; write when no more commands are buffered.
                if let Err(e) = upstream.feed(args).await {
                    result = Err(e);
                    break;
                }
                if requests.read_buffer().is_empty()
                    && let Err(e) = SinkExt::<Vec<Bytes>>::flush(&mut upstream).await
                {
                    result = Err(e);
                    break;
                }
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let closed = SinkExt::<Vec<Bytes>>::close(&mut upstream).await;
    result.and(closed)
}

/// Relays the upstream's replies, and anything it pushes, to the client frame by frame.
/// Returns the client's write half once the upstream has closed.
async fn relay_replies(
    server_read: OwnedReadHalf,
    client_write: OwnedWriteHalf,
) -> Result<OwnedWriteHalf, CodecError> {
    let mut replies = FramedRead::new(server_read, ClientCodec::new());
    let mut client = FramedWrite::new(client_write, FrameCodec::new());
    while let Some(reply) = replies.next().await {
        client.feed(reply?).await?;
        if replies.read_buffer().is_empty() {
            SinkExt::<Frame>::flush(&mut client).await?;
        }
    }
    SinkExt::<Frame>::flush(&mut client).await?;
    Ok(client.into_inner())
}

#[allow(dead_code)] // tests include this file as a module and call `serve` themselves
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        eprintln!("usage: async_proxy LISTEN_ADDR UPSTREAM_ADDR");
        std::process::exit(2);
    };
    let listener = TcpListener::bind(&listen).await?;
    println!("proxying {} to {upstream}", listener.local_addr()?);
    serve(listener, upstream.parse()?).await?;
    Ok(())
}
