//! A small `redis-cli`: reads commands from stdin, prints replies the way `redis-cli`
//! does on a terminal. Uses only `redistill-resp` and `std::net`.
//!
//! ```sh
//! cargo run --example resp_cli -- -h 127.0.0.1 -p 6379
//! echo 'SET k "hello world"' | cargo run --example resp_cli -- -p 6379
//! cargo run --example resp_cli -- -3        # speak RESP3 (sends HELLO 3 first)
//! ```
//!
//! Lines are split with Redis's own quoting rules, so `SET "a\x41" 'b c'` means what it
//! means to `redis-cli`.

use bytes::BytesMut;
use redistill_resp::{Decoder, Frame, cli::format_reply, split_args};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::net::TcpStream;

fn main() {
    if let Err(e) = run() {
        eprintln!("resp_cli: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut host = String::from("127.0.0.1");
    let mut port = String::from("6379");
    let mut resp3 = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" => host = args.next().ok_or("-h needs a host")?,
            "-p" => port = args.next().ok_or("-p needs a port")?,
            "-3" => resp3 = true,
            "-2" => resp3 = false,
            other => {
                return Err(format!(
                    "unknown option {other}; usage: resp_cli [-h host] [-p port] [-3]"
                )
                .into());
            }
        }
    }
    let addr = format!("{host}:{port}");
    let mut conn = Connection {
        stream: TcpStream::connect(&addr)
            .map_err(|e| format!("could not connect to {addr}: {e}"))?,
        buf: BytesMut::with_capacity(16 * 1024),
        decoder: Decoder::new(),
    };
    if resp3 {
        let hello = conn.call(&[b"HELLO".to_vec(), b"3".to_vec()])?;
        if hello.is_error() {
            print!("{}", format_reply(&hello));
        }
    }

    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let mut out = std::io::stdout();
    let mut line = String::new();
    loop {
        if interactive {
            write!(out, "{addr}> ")?;
            out.flush()?;
        }
        line.clear();
        if stdin.lock().read_line(&mut line)? == 0 {
            return Ok(());
        }
        let argv = match split_args(line.trim_end_matches(['\r', '\n']).as_bytes()) {
            Ok(argv) => argv,
            Err(_) => {
                // redis-cli's message for a line sdssplitargs refuses.
                writeln!(out, "Invalid argument(s)")?;
                continue;
            }
        };
        let Some(cmd) = argv.first() else { continue };
        if cmd.eq_ignore_ascii_case(b"quit") || cmd.eq_ignore_ascii_case(b"exit") {
            return Ok(());
        }
        let reply = conn.call(&argv)?;
        write!(out, "{}", format_reply(&reply))?;
        out.flush()?;
    }
}

struct Connection {
    stream: TcpStream,
    buf: BytesMut,
    decoder: Decoder,
}

impl Connection {
    /// Sends one command as a RESP array of bulk strings and waits for its reply.
    fn call(&mut self, argv: &[Vec<u8>]) -> Result<Frame, Box<dyn std::error::Error>> {
        let mut req = Vec::new();
        redistill_resp::encode::write_array_header(&mut req, argv.len());
        for a in argv {
            redistill_resp::encode::write_bulk(&mut req, a);
        }
        self.stream.write_all(&req)?;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(frame) = self.decoder.decode(&mut self.buf)? {
                // Out-of-band pushes (RESP3 invalidations, pub/sub) are shown, then the
                // reply itself is awaited.
                if matches!(frame, Frame::Push(_)) {
                    print!("{}", format_reply(&frame));
                    continue;
                }
                return Ok(frame);
            }
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err("server closed the connection".into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}
