//! Load generator for the bitmap benchmark (`scripts/bench.sh bitmaps`): SETBIT, GETBIT
//! and BITCOUNT at random bit offsets of one bitmap, from many connections on one thread.
//!
//! redis-benchmark cannot drive these: it writes its random numbers zero-padded to 12
//! digits, which Redis does not accept as bit offsets. This client sends each connection
//! `pipeline` requests at a time, waits for their replies (each a single line: integer or
//! error), and prints the throughput in requests per second.
//!
//! Usage: `bitmap_load PORT COMMAND CLIENTS PIPELINE REQUESTS MAX_OFFSET [RANGE_BYTES]`
//! with COMMAND one of `setbit`, `getbit`, `bitcount` (the whole bitmap) and
//! `bitcount_range` (RANGE_BYTES bytes from a random byte). Offsets are uniform in
//! `0..=MAX_OFFSET`; the key is `bitmap`.

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

struct Conn {
    stream: TcpStream,
    inbuf: Vec<u8>,
    waiting: usize,
}

struct Load {
    command: String,
    max_offset: u64,
    range: u64,
    rng: u64,
}

impl Load {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn request(&mut self, out: &mut Vec<u8>) {
        let offset = self.next() % (self.max_offset + 1);
        let args: Vec<String> = match self.command.as_str() {
            "setbit" => vec![
                "SETBIT".into(),
                "bitmap".into(),
                offset.to_string(),
                (self.next() & 1).to_string(),
            ],
            "getbit" => vec!["GETBIT".into(), "bitmap".into(), offset.to_string()],
            "bitcount_range" => {
                let start = offset / 8;
                vec![
                    "BITCOUNT".into(),
                    "bitmap".into(),
                    start.to_string(),
                    (start + self.range - 1).to_string(),
                ]
            }
            _ => vec!["BITCOUNT".into(), "bitmap".into()],
        };
        out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
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

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: Option<T>) -> Result<T, String> {
    match args.get(i) {
        Some(a) => a
            .parse()
            .map_err(|_| format!("argument {i} ({a}) is not valid")),
        None => default.ok_or(format!("argument {i} is missing")),
    }
}

fn run(args: &[String]) -> Result<f64, String> {
    let port: u16 = arg(args, 1, None)?;
    let command: String = arg(args, 2, None)?;
    let clients: usize = arg(args, 3, None)?;
    let pipeline: usize = arg(args, 4, None)?;
    let requests: usize = arg(args, 5, None)?;
    let max_offset: u64 = arg(args, 6, None)?;
    let range: u64 = arg(args, 7, Some(1024))?;
    let mut load = Load {
        command,
        max_offset,
        range: range.max(1),
        rng: 0x9E37_79B9_7F4A_7C15,
    };
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let mut conns = Vec::with_capacity(clients);
    for i in 0..clients {
        let std_stream = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
        std_stream.set_nodelay(true).map_err(|e| e.to_string())?;
        std_stream
            .set_nonblocking(true)
            .map_err(|e| e.to_string())?;
        let mut stream = TcpStream::from_std(std_stream);
        poll.registry()
            .register(&mut stream, Token(i), Interest::READABLE)
            .map_err(|e| e.to_string())?;
        conns.push(Conn {
            stream,
            inbuf: Vec::new(),
            waiting: 0,
        });
    }
    let (mut sent, mut done, mut errors) = (0usize, 0usize, 0usize);
    let mut out = Vec::new();
    let started = Instant::now();
    let mut send_batch = |c: &mut Conn, sent: &mut usize, load: &mut Load| -> Result<(), String> {
        let n = pipeline.min(requests - *sent);
        out.clear();
        for _ in 0..n {
            load.request(&mut out);
        }
        *sent += n;
        c.waiting = n;
        write_all(&mut c.stream, &out).map_err(|e| e.to_string())
    };
    for c in &mut conns {
        if sent < requests {
            send_batch(c, &mut sent, &mut load)?;
        }
    }
    let mut events = Events::with_capacity(1024);
    let mut chunk = vec![0u8; 1 << 16];
    while done < requests {
        poll.poll(&mut events, Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        if events.is_empty() {
            return Err("no reply for 30 s".into());
        }
        for ev in &events {
            let c = &mut conns[ev.token().0];
            loop {
                match c.stream.read(&mut chunk) {
                    Ok(0) => return Err("server closed the connection".into()),
                    Ok(n) => c.inbuf.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e.to_string()),
                }
            }
            let mut at = 0;
            while let Some(end) = c.inbuf[at..].windows(2).position(|w| w == b"\r\n") {
                if c.inbuf.get(at) == Some(&b'-') {
                    errors += 1;
                }
                at += end + 2;
                c.waiting -= 1;
                done += 1;
            }
            c.inbuf.drain(..at);
            if c.waiting == 0 && sent < requests {
                send_batch(c, &mut sent, &mut load)?;
            }
        }
    }
    if errors > 0 {
        return Err(format!("{errors} error replies"));
    }
    Ok(requests as f64 / started.elapsed().as_secs_f64())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match run(&args) {
        Ok(ops) => {
            println!("{ops:.0}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bitmap_load: {e}");
            ExitCode::FAILURE
        }
    }
}
