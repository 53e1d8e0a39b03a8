//! MONITOR over a real socket: the lines' format and quoting, what is shown and what is
//! not, delivery from clients of every worker, and the output limits on a monitor that
//! does not read. `redis_server_shows_the_same_lines` compares the lines with a real
//! redis-server's (ignored by a plain `cargo test`, as it needs `redis-server` on PATH).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::thread;

use common::diff::RealRedis;
use common::{PATIENCE, TestServer, exchange, wait_until};

/// A request in RESP, from its arguments.
fn request(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A request from space-separated words.
fn words(line: &str) -> Vec<u8> {
    request(&line.split(' ').map(str::as_bytes).collect::<Vec<_>>())
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream
}

/// A connection in MONITOR mode, read line by line.
struct Monitor {
    reader: BufReader<TcpStream>,
}

impl Monitor {
    fn start(port: u16) -> Monitor {
        let mut stream = connect(port);
        exchange(&mut stream, b"MONITOR\r\n", b"+OK\r\n");
        Monitor {
            reader: BufReader::new(stream),
        }
    }

    fn line(&mut self) -> String {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line).expect("a line");
        assert!(
            line.ends_with(b"\r\n"),
            "{:?}",
            String::from_utf8_lossy(&line)
        );
        String::from_utf8(line).expect("ASCII")
    }

    /// The lines up to the one showing `ECHO marker`, without the time and the address
    /// (see [`masked`]).
    fn lines_until(&mut self, marker: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = masked(&self.line());
            if line
                .to_ascii_lowercase()
                .ends_with(&format!("\"echo\" \"{marker}\"\r\n"))
            {
                return lines;
            }
            lines.push(line);
        }
    }

    fn stream(&mut self) -> &mut TcpStream {
        self.reader.get_mut()
    }
}

/// A MONITOR line with its time replaced by `T` and its client's address by `ADDR`,
/// checking both are as Redis writes them; anything else is returned as it is.
fn masked(line: &str) -> String {
    let Some(rest) = line.strip_prefix('+') else {
        return line.to_owned();
    };
    let Some((time, rest)) = rest.split_once(' ') else {
        return line.to_owned();
    };
    let Some((secs, micros)) = time.split_once('.') else {
        return line.to_owned();
    };
    if secs.is_empty()
        || !secs.bytes().all(|b| b.is_ascii_digit())
        || micros.len() != 6
        || !micros.bytes().all(|b| b.is_ascii_digit())
    {
        return line.to_owned();
    }
    let (client, args) = rest.split_once("] ").expect("[db address]");
    let (db, addr) = client
        .strip_prefix('[')
        .and_then(|c| c.split_once(' '))
        .expect("[db address]");
    // Commands a script runs show `lua` where the address is.
    if addr == "lua" {
        return format!("+T [{db} lua] {args}");
    }
    assert!(addr.starts_with("127.0.0.1:"), "{line}");
    format!("+T [{db} ADDR] {args}")
}

/// Sends `line`'s words and reads the whole reply; returns its first line.
fn ask(stream: &mut TcpStream, line: &str) -> String {
    stream.write_all(&words(line)).expect("send");
    let first = read_reply_line(stream);
    skip_rest_of_reply(stream, &first);
    first
}

/// Reads what follows a reply's first line `first` (RESP2 and RESP3 aggregates).
fn skip_rest_of_reply(stream: &mut TcpStream, first: &str) {
    let len = || first[1..first.len() - 2].parse::<i64>().unwrap_or(0);
    match first.as_bytes()[0] {
        b'$' | b'=' | b'!' if len() >= 0 => {
            let mut body = vec![0; usize::try_from(len()).expect("length") + 2];
            stream.read_exact(&mut body).expect("bulk");
        }
        b'*' | b'~' | b'>' | b'%' => {
            let items = len() * if first.starts_with('%') { 2 } else { 1 };
            for _ in 0..items {
                let item = read_reply_line(stream);
                skip_rest_of_reply(stream, &item);
            }
        }
        _ => {}
    }
}

fn read_reply_line(stream: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8];
    while !line.ends_with(b"\r\n") {
        stream.read_exact(&mut byte).expect("reply");
        line.push(byte[0]);
    }
    String::from_utf8_lossy(&line).into_owned()
}

#[test]
fn a_line_shows_time_database_address_and_quoted_arguments() {
    let server = TestServer::start();
    let mut monitor = Monitor::start(server.addr.port());
    let mut client = server.raw();
    let addr = client.local_addr().expect("address");
    exchange(&mut client, &words("SELECT 3"), b"+OK\r\n");
    let tricky: &[u8] = b"a\"b\\c\n\r\t\x07\x08\x00\x7f\xc3\xa9 ~";
    exchange(&mut client, &request(&[b"SET", tricky, b""]), b"+OK\r\n");

    let select = monitor.line();
    let (time, rest) = select[1..].split_once(' ').expect("time");
    let (secs, micros) = time.split_once('.').expect("seconds.micros");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let secs: u64 = secs.parse().expect("seconds");
    assert!(secs.abs_diff(now) < 60, "{select}");
    assert_eq!(micros.len(), 6);
    // The arguments as sent, the name's case included.
    assert_eq!(rest, format!("[3 {addr}] \"SELECT\" \"3\"\r\n"));
    assert_eq!(
        monitor.line().split_once(']').expect("address").1,
        " \"SET\" \"a\\\"b\\\\c\\n\\r\\t\\a\\b\\x00\\x7f\\xc3\\xa9 ~\" \"\"\r\n"
    );
}

#[test]
fn refused_commands_are_not_shown_and_credentials_are_redacted() {
    let server = TestServer::with_config(|c| c.security.password = Some("secret".into()));
    let mut monitor = {
        let mut stream = server.raw();
        exchange(&mut stream, &words("AUTH secret"), b"+OK\r\n");
        exchange(&mut stream, b"MONITOR\r\n", b"+OK\r\n");
        Monitor {
            reader: BufReader::new(stream),
        }
    };
    let mut client = server.raw();
    assert!(ask(&mut client, "GET k").starts_with("-NOAUTH"));
    assert!(ask(&mut client, "AUTH wrong").starts_with("-WRONGPASS"));
    assert!(ask(&mut client, "AUTH default secret").starts_with("+OK"));
    assert!(ask(&mut client, "AUTH a b c").starts_with("-ERR syntax error"));
    assert!(ask(&mut client, "NOSUCH x").starts_with("-ERR unknown command"));
    assert!(ask(&mut client, "GET").starts_with("-ERR wrong number"));
    assert!(ask(&mut client, "CLIENT NOSUCH").starts_with("-ERR unknown subcommand"));
    assert!(ask(&mut client, "CONFIG GET maxmemory").starts_with("*2"));
    ask(&mut client, "CLIENT LIST");
    assert!(ask(&mut client, "HELLO 2 AUTH default secret SETNAME n").starts_with("*14"));
    assert!(ask(&mut client, "HELLO 4 AUTH default secret").starts_with("-NOPROTO"));
    assert!(ask(&mut client, "ECHO end").starts_with("$3"));
    assert_eq!(
        monitor.lines_until("end"),
        [
            "+T [0 ADDR] \"AUTH\" \"(redacted)\"\r\n",
            "+T [0 ADDR] \"AUTH\" \"(redacted)\" \"(redacted)\"\r\n",
            "+T [0 ADDR] \"AUTH\" \"a\" \"b\" \"c\"\r\n",
            "+T [0 ADDR] \"HELLO\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\" \"SETNAME\" \"n\"\r\n",
            // As in Redis 7.0: HELLO refuses the version before it looks at AUTH.
            "+T [0 ADDR] \"HELLO\" \"4\" \"AUTH\" \"default\" \"secret\"\r\n",
        ]
    );
}

#[test]
fn a_script_shows_its_call_then_its_commands_as_lua() {
    let server = TestServer::start();
    let mut monitor = Monitor::start(server.addr.port());
    let mut client = server.raw();
    exchange(
        &mut client,
        &request(&[
            b"EVAL",
            b"return redis.call('SET', KEYS[1], 'v')",
            b"1",
            b"k",
        ]),
        b"+OK\r\n",
    );
    exchange(
        &mut client,
        &words("FCALL nosuch 0"),
        b"-ERR Function not found\r\n",
    );
    exchange(&mut client, &words("ECHO end"), b"$3\r\nend\r\n");
    assert_eq!(
        monitor.lines_until("end"),
        [
            "+T [0 ADDR] \"EVAL\" \"return redis.call('SET', KEYS[1], 'v')\" \"1\" \"k\"\r\n",
            "+T [0 lua] \"SET\" \"k\" \"v\"\r\n",
            "+T [0 ADDR] \"FCALL\" \"nosuch\" \"0\"\r\n",
        ]
    );
}

#[test]
fn a_transaction_shows_multi_then_its_commands_when_exec_runs_them() {
    let server = TestServer::start();
    let mut monitor = Monitor::start(server.addr.port());
    let mut client = server.raw();
    exchange(&mut client, &words("MULTI"), b"+OK\r\n");
    exchange(&mut client, &words("SET k 1"), b"+QUEUED\r\n");
    exchange(&mut client, &words("INCR k"), b"+QUEUED\r\n");
    // Queued commands are not shown when they are queued.
    assert_eq!(masked(&monitor.line()), "+T [0 ADDR] \"MULTI\"\r\n");
    exchange(&mut client, &words("EXEC"), b"*2\r\n+OK\r\n:2\r\n");
    exchange(&mut client, &words("MULTI"), b"+OK\r\n");
    exchange(
        &mut client,
        &words("GET"),
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    exchange(
        &mut client,
        &words("EXEC"),
        b"-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    exchange(&mut client, &words("ECHO end"), b"$3\r\nend\r\n");
    assert_eq!(
        monitor.lines_until("end"),
        [
            "+T [0 ADDR] \"SET\" \"k\" \"1\"\r\n",
            "+T [0 ADDR] \"INCR\" \"k\"\r\n",
            "+T [0 ADDR] \"EXEC\"\r\n",
            "+T [0 ADDR] \"MULTI\"\r\n",
            "+T [0 ADDR] \"EXEC\"\r\n",
        ]
    );
}

#[test]
fn a_monitor_answers_as_redis_answers_a_monitor() {
    let server = TestServer::start();
    let mut monitor = Monitor::start(server.addr.port());
    let mut other = server.raw();
    let list = |other: &mut TcpStream| {
        other.write_all(b"CLIENT LIST\r\n").expect("send");
        let header = read_reply_line(other);
        let len: usize = header[1..header.len() - 2].parse().expect("length");
        let mut body = vec![0; len + 2];
        other.read_exact(&mut body).expect("list");
        String::from_utf8(body).expect("text")
    };
    assert_eq!(list(&mut other).matches("flags=O ").count(), 1);

    let m = monitor.stream();
    // Its own commands are shown to it after their replies.
    exchange(m, &words("PING"), b"+PONG\r\n");
    assert_eq!(masked(&monitor.line()), "+T [0 ADDR] \"PING\"\r\n");
    let m = monitor.stream();
    exchange(
        m,
        &words("GET k"),
        b"-ERR Replica can't interact with the keyspace\r\n",
    );
    // MONITOR again answers nothing; the next command's reply is the next thing read.
    m.write_all(&words("MONITOR")).expect("send");
    exchange(m, &words("ECHO x"), b"$1\r\nx\r\n");
    assert_eq!(masked(&monitor.line()), "+T [0 ADDR] \"ECHO\" \"x\"\r\n");
    let m = monitor.stream();
    exchange(m, &words("RESET"), b"+RESET\r\n");
    exchange(m, &words("GET k"), b"$-1\r\n");
    assert_eq!(list(&mut other).matches("flags=O ").count(), 0);

    // Inside a transaction MONITOR is refused.
    exchange(m, &words("MULTI"), b"+OK\r\n");
    exchange(m, &words("MONITOR"), b"+QUEUED\r\n");
    exchange(
        m,
        &words("EXEC"),
        b"*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n",
    );
    exchange(m, &words("MONITOR"), b"+OK\r\n");
    exchange(m, &words("QUIT"), b"+OK\r\n");
    assert!(common::read_to_close(m).is_empty());
}

#[test]
fn a_monitor_with_replies_off_is_sent_no_lines() {
    let server = TestServer::start();
    let mut monitor = Monitor::start(server.addr.port());
    let mut client = server.raw();
    let m = monitor.stream();
    // Replies off, then a name that shows, in CLIENT LIST, that both have run.
    m.write_all(&words("CLIENT REPLY OFF")).expect("send");
    m.write_all(&words("CLIENT SETNAME off")).expect("send");
    // A raw connection: a client library's handshake commands would be shown.
    let mut lister = server.raw();
    wait_until("the monitor turned its replies off", || {
        lister.write_all(&words("CLIENT LIST")).expect("send");
        let header = read_reply_line(&mut lister);
        let len: usize = header[1..header.len() - 2].parse().expect("length");
        let mut list = vec![0; len + 2];
        lister.read_exact(&mut list).expect("list");
        String::from_utf8_lossy(&list).contains("name=off ")
    });
    // The SET's line reaches the monitor's outbox before the SET's reply reaches its
    // client, so before CLIENT REPLY ON runs, which takes it while replies are off.
    exchange(&mut client, &words("SET dropped 1"), b"+OK\r\n");
    exchange(m, &words("CLIENT REPLY ON"), b"+OK\r\n");
    exchange(&mut client, &words("GET shown"), b"$-1\r\n");
    assert_eq!(
        masked(&monitor.line()),
        "+T [0 ADDR] \"CLIENT\" \"REPLY\" \"ON\"\r\n"
    );
    assert_eq!(masked(&monitor.line()), "+T [0 ADDR] \"GET\" \"shown\"\r\n");
}

#[test]
fn a_monitor_sees_every_worker_s_clients_each_in_its_order() {
    const CLIENTS: usize = 8;
    const COMMANDS: usize = 300;
    let server = TestServer::with_config(|c| c.server.workers = 4);
    let mut monitor = Monitor::start(server.addr.port());
    let writers: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let mut stream = server.raw();
            thread::spawn(move || {
                let port = stream.local_addr().expect("address").port();
                let batch: Vec<u8> = (0..COMMANDS)
                    .flat_map(|n| words(&format!("SET c{c} {n}")))
                    .collect();
                stream.write_all(&batch).expect("send");
                let mut replies = vec![0; COMMANDS * 5];
                stream.read_exact(&mut replies).expect("replies");
                port
            })
        })
        .collect();
    let ports: Vec<u16> = writers
        .into_iter()
        .map(|w| w.join().expect("writer"))
        .collect();
    let mut next = [0usize; CLIENTS];
    for _ in 0..CLIENTS * COMMANDS {
        let line = monitor.line();
        let (_, rest) = line.split_once(" [0 127.0.0.1:").expect("address");
        let (port, args) = rest.split_once("] ").expect("address");
        let c = ports
            .iter()
            .position(|p| p.to_string() == port)
            .expect("a writer's port");
        assert_eq!(args, format!("\"SET\" \"c{c}\" \"{}\"\r\n", next[c]));
        next[c] += 1;
    }
    assert!(next.iter().all(|&n| n == COMMANDS));
}

#[test]
fn an_idle_monitor_outlives_the_idle_timeout() {
    // One worker: the monitor, idle longer, is looked at in the same pass as the other.
    let server = TestServer::with_config(|c| {
        c.server.workers = 1;
        c.server.timeout = 1;
    });
    let mut monitor = Monitor::start(server.addr.port());
    let mut idle = server.raw();
    exchange(&mut idle, b"PING\r\n", b"+PONG\r\n");
    assert!(common::read_to_close(&mut idle).is_empty());
    let mut client = server.raw();
    exchange(&mut client, &words("ECHO alive"), b"$5\r\nalive\r\n");
    // The monitor saw the idle client's PING, then this.
    assert_eq!(masked(&monitor.line()), "+T [0 ADDR] \"PING\"\r\n");
    assert_eq!(
        masked(&monitor.line()),
        "+T [0 ADDR] \"ECHO\" \"alive\"\r\n"
    );
}

/// A monitor socket that the kernel buffers little for, so that a monitor that does not
/// read backs up into the server soon.
fn small_window_monitor(server: &TestServer) -> TcpStream {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket.connect(&server.addr.into()).expect("connects");
    let mut stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    exchange(&mut stream, b"MONITOR\r\n", b"+OK\r\n");
    stream
}

/// Whether a client with flag `O` is connected.
fn monitor_connected(client: &mut redis::Connection) -> bool {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query(client)
        .expect("CLIENT LIST");
    list.contains("flags=O ")
}

#[test]
fn a_monitor_that_does_not_read_is_closed_at_the_hard_limit() {
    let server = TestServer::with_config(|c| {
        let normal = &mut c.server.client_output_buffer_limit.normal;
        normal.hard_limit_bytes = 1 << 20;
    });
    let mut stalled = small_window_monitor(&server);
    let mut client = server.client();
    let value = "v".repeat(8 * 1024);
    let mut sent = 0;
    // Every command is answered while the monitor backs up, until it is closed.
    while monitor_connected(&mut client) {
        let _: () = redis::cmd("SET")
            .arg("k")
            .arg(&value)
            .query(&mut client)
            .expect("SET answered");
        sent += value.len();
        assert!(sent < 64 << 20, "the monitor was never closed");
    }
    let got = {
        let mut got = Vec::new();
        let _ = stalled.read_to_end(&mut got);
        got.len()
    };
    assert!(got < sent, "a closed monitor got {got} of {sent} bytes");
}

#[test]
fn a_monitor_that_does_not_read_is_closed_after_the_soft_limit_s_seconds() {
    let server = TestServer::with_config(|c| {
        let normal = &mut c.server.client_output_buffer_limit.normal;
        normal.hard_limit_bytes = 0;
        normal.soft_limit_bytes = 256 << 10;
        normal.soft_limit_seconds = 1;
    });
    let _stalled = small_window_monitor(&server);
    let mut client = server.client();
    let value = "v".repeat(8 * 1024);
    // Enough to go over the soft limit once, then nothing more: the worker's periodic
    // check closes the monitor.
    for _ in 0..(4 << 20) / value.len() {
        let _: () = redis::cmd("SET")
            .arg("k")
            .arg(&value)
            .query(&mut client)
            .expect("SET answered");
    }
    wait_until("the monitor over its soft limit to be closed", || {
        !monitor_connected(&mut client)
    });
}

#[test]
#[ignore = "needs redis-server on PATH"]
fn redis_server_shows_the_same_lines() {
    let ours = TestServer::start();
    let real = RealRedis::start();
    let script = [
        "SET k v",
        "GET k",
        "SELECT 2",
        "SET k2 123",
        "SELECT 0",
        "NOSUCH x",
        "GET",
        "CLIENT NOSUCH",
        "CLIENT SETNAME",
        "CLIENT SETNAME conn",
        "CLIENT GETNAME",
        "CONFIG GET maxmemory",
        "CLIENT LIST",
        "SLOWLOG GET",
        "AUTH pw",
        "AUTH user pw",
        "AUTH a b c",
        "HELLO 3 AUTH default pw SETNAME n",
        "HELLO 2 SETNAME n AUTH default pw",
        "HELLO 4 AUTH a b",
        "HELLO 3 foo AUTH a b",
        "HELLO 2",
        "MULTI",
        "SET k 1",
        "INCR k",
        "EXEC",
        "MULTI",
        "GET",
        "EXEC",
        "MULTI",
        "DISCARD",
        "EXEC",
        "WATCH k",
        "UNWATCH",
        "INCR k2",
        "OBJECT ENCODING k",
        "EXPIRE k 100",
        "SET k a PX 100000",
        "PING",
        "ECHO end",
    ];
    let quoted: &[&[u8]] = &[b"SET", b"\"\\\n\r\t\x07\x08\x00\x01\x7f\xff \xc3\xa9~", b""];
    let run = |port: u16| {
        let mut monitor = Monitor::start(port);
        let mut client = connect(port);
        client.write_all(&request(quoted)).expect("send");
        for line in script {
            client.write_all(&words(line)).expect("send");
        }
        let mut lines = monitor.lines_until("end");
        // Then what the monitor itself is answered.
        let m = monitor.stream();
        for line in [
            "PING", "GET k", "SET k v", "ECHO x", "MONITOR", "MULTI", "EXEC",
        ] {
            m.write_all(&words(line)).expect("send");
        }
        m.write_all(&words("RESET")).expect("send");
        m.write_all(&words("ECHO done")).expect("send");
        let mut rest = Vec::new();
        while !rest.ends_with(b"$4\r\ndone\r\n") {
            let mut chunk = [0u8; 4096];
            let n = m.read(&mut chunk).expect("read");
            assert!(n > 0, "closed");
            rest.extend_from_slice(&chunk[..n]);
        }
        lines.extend(
            String::from_utf8(rest)
                .expect("ASCII")
                .split_inclusive("\r\n")
                .map(masked),
        );
        lines
    };
    let theirs = run(real.port);
    let mine = run(ours.addr.port());
    assert_eq!(mine, theirs);
}
