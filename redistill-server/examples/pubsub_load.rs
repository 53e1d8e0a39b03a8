//! Load generator for the Pub/Sub benchmark (`scripts/bench.sh pubsub`): one publisher
//! sends PUBLISH to a channel that SUBSCRIBERS connections subscribe to, and the run lasts
//! until every subscriber has received every message.
//!
//! The publisher sends `pipeline` PUBLISHes at a time and the next batch once their replies
//! are in and no subscriber is more than a few batches behind, so the servers' output
//! buffers stay small. Everything runs on one thread over mio. Prints the deliveries per
//! second (messages received, summed over the subscribers) and the total deliveries.
//!
//! Usage: `pubsub_load PORT SUBSCRIBERS DELIVERIES PIPELINE SIZE`: about DELIVERIES messages
//! received in all (DELIVERIES / SUBSCRIBERS published), each of SIZE bytes.

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

const CHANNEL: &str = "bench";

fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn write_all(stream: &mut TcpStream, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        match stream.write(buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads what is waiting on `stream`; the number of bytes.
fn drain(stream: &mut TcpStream, scratch: &mut [u8]) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        match stream.read(scratch) {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => total += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(total),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let std = std::net::TcpStream::connect(addr)?;
    std.set_nodelay(true)?;
    std.set_nonblocking(true)?;
    Ok(TcpStream::from_std(std))
}

fn run(
    port: u16,
    subscribers: usize,
    deliveries: usize,
    pipeline: usize,
    size: usize,
) -> std::io::Result<f64> {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let messages = (deliveries / subscribers).max(1);
    let payload = vec![b'x'; size];
    let frame_len = command(&[b"message", CHANNEL.as_bytes(), &payload]).len();
    let confirm_len = format!(
        "*3\r\n$9\r\nsubscribe\r\n${}\r\n{CHANNEL}\r\n:1\r\n",
        CHANNEL.len()
    )
    .len();
    let mut poll = Poll::new()?;
    let mut subs: Vec<(TcpStream, usize)> = Vec::with_capacity(subscribers);
    let subscribe = command(&[b"SUBSCRIBE", CHANNEL.as_bytes()]);
    let mut scratch = vec![0u8; 1 << 20];
    for i in 0..subscribers {
        let mut stream = connect(addr)?;
        poll.registry()
            .register(&mut stream, Token(i + 1), Interest::READABLE)?;
        write_all(&mut stream, &subscribe)?;
        subs.push((stream, 0));
    }
    let mut publisher = connect(addr)?;
    poll.registry()
        .register(&mut publisher, Token(0), Interest::READABLE)?;
    let mut events = Events::with_capacity(4096);
    // Every subscription confirmed (`*3 subscribe bench :1`, a count of one digit).
    let mut confirmed = 0;
    while confirmed < subscribers {
        poll.poll(&mut events, Some(Duration::from_secs(10)))?;
        for event in &events {
            let Some((stream, got)) = subs.get_mut(event.token().0.wrapping_sub(1)) else {
                continue;
            };
            let before = *got >= confirm_len;
            *got += drain(stream, &mut scratch)?;
            if !before && *got >= confirm_len {
                confirmed += 1;
            }
        }
    }
    for (_, got) in &mut subs {
        *got -= confirm_len;
    }
    let publish = command(&[b"PUBLISH", CHANNEL.as_bytes(), &payload]);
    let batch: Vec<u8> = publish.repeat(pipeline);
    let expected = messages * frame_len;
    let started = Instant::now();
    let (mut sent, mut replied_bytes) = (0usize, 0usize);
    let mut done = 0;
    // The replies: `:<subscribers>\r\n` each.
    let reply_len = format!(":{subscribers}\r\n").len();
    let window = 4 * pipeline * frame_len;
    while done < subscribers {
        let replied = replied_bytes / reply_len;
        let slowest = subs.iter().map(|(_, got)| *got).min().unwrap_or(0);
        if sent < messages && replied == sent && sent * frame_len <= slowest + window {
            let n = pipeline.min(messages - sent);
            write_all(&mut publisher, &batch[..n * publish.len()])?;
            sent += n;
        }
        poll.poll(&mut events, Some(Duration::from_secs(10)))?;
        if events.is_empty() {
            return Err(std::io::Error::new(
                ErrorKind::TimedOut,
                "no progress for 10 s",
            ));
        }
        for event in &events {
            if event.token().0 == 0 {
                replied_bytes += drain(&mut publisher, &mut scratch)?;
                continue;
            }
            let Some((stream, got)) = subs.get_mut(event.token().0 - 1) else {
                continue;
            };
            let before = *got >= expected;
            *got += drain(stream, &mut scratch)?;
            if !before && *got >= expected {
                done += 1;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok((messages * subscribers) as f64 / elapsed)
}

fn main() -> ExitCode {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (Some(port), [subscribers, deliveries, pipeline, size]) = (
        numbers.first().and_then(|p| u16::try_from(*p).ok()),
        numbers.get(1..).unwrap_or_default(),
    ) else {
        eprintln!("usage: pubsub_load PORT SUBSCRIBERS DELIVERIES PIPELINE SIZE");
        return ExitCode::FAILURE;
    };
    let subscribers = (*subscribers).max(1);
    match run(port, subscribers, *deliveries, (*pipeline).max(1), *size) {
        Ok(rate) => {
            let delivered = (deliveries / subscribers).max(1) * subscribers;
            println!("{rate:.0} {delivered}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pubsub_load: {e}");
            ExitCode::FAILURE
        }
    }
}
