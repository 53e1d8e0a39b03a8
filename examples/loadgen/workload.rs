//! What the load generator sends: redis-benchmark's tests, or a command line, encoded once.
//!
//! A [`Workload`] is one command as RESP bytes plus the offsets of its `__rand_int__`
//! placeholders. [`Workload::batch`] lays out `pipeline` copies, and [`Batch::randomize`]
//! overwrites every placeholder in place with a 12-digit zero-padded number below the
//! keyspace before each send, exactly as redis-benchmark does (same length, so nothing
//! is re-encoded).

/// The placeholder redis-benchmark replaces with a random number.
pub const PLACEHOLDER: &[u8] = b"__rand_int__";

/// One command to send over and over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// The name printed in reports: redis-benchmark's test name, or the command line.
    pub title: String,
    /// The command, RESP-encoded (or an inline line, for `PING_INLINE`).
    pub request: Vec<u8>,
}

impl Workload {
    /// A command given as arguments, encoded as a RESP array; titled by its words.
    pub fn command<A: AsRef<[u8]>>(args: &[A]) -> Workload {
        let title = args
            .iter()
            .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let args: Vec<&[u8]> = args.iter().map(AsRef::as_ref).collect();
        Workload::titled(title, &args)
    }

    fn titled(title: impl Into<String>, args: &[&[u8]]) -> Workload {
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg);
            request.extend_from_slice(b"\r\n");
        }
        Workload {
            title: title.into(),
            request,
        }
    }

    /// `pipeline` copies of the request, with the placeholders located when `keyspace`
    /// is given (without it they are sent as they are, as redis-benchmark does).
    pub fn batch(&self, pipeline: usize, keyspace: Option<u64>) -> Batch {
        let bytes = self.request.repeat(pipeline);
        let placeholders = match keyspace {
            Some(_) => memchr::memmem::find_iter(&bytes, PLACEHOLDER).collect(),
            None => Vec::new(),
        };
        Batch {
            bytes,
            request_len: self.request.len(),
            placeholders,
            keyspace: keyspace.unwrap_or(1).max(1),
        }
    }
}

/// A connection's reusable send buffer of pipelined copies of one request.
#[derive(Debug, Clone)]
pub struct Batch {
    bytes: Vec<u8>,
    request_len: usize,
    placeholders: Vec<usize>,
    keyspace: u64,
}

impl Batch {
    /// Gives every placeholder a fresh random number below the keyspace.
    pub fn randomize(&mut self, rng: &mut fastrand::Rng) {
        for &at in &self.placeholders {
            let mut n = rng.u64(..self.keyspace);
            for digit in self.bytes[at..at + PLACEHOLDER.len()].iter_mut().rev() {
                *digit = b'0' + (n % 10) as u8;
                n /= 10;
            }
        }
    }

    /// The bytes of the first `requests` requests.
    pub fn requests(&self, requests: usize) -> &[u8] {
        &self.bytes[..requests * self.request_len]
    }
}

/// redis-benchmark's default tests, in its order, with their `-t` names: each selected
/// name, from a comma-separated list (`ping` selects both PINGs, `lrange` all four
/// LRANGEs, which first fill the list as redis-benchmark does). `data` is the value of
/// the commands that write one; ZADD's score is random when the keys are
/// (`random_keys`), `0` otherwise.
///
/// # Errors
///
/// A name that is no test.
pub fn tests(
    selected: Option<&str>,
    data: &[u8],
    random_keys: bool,
) -> Result<Vec<Workload>, String> {
    let names: Option<Vec<String>> = selected.map(|s| {
        s.split(',')
            .map(|n| n.trim().to_ascii_lowercase())
            .collect()
    });
    let known = [
        "ping",
        "ping_inline",
        "ping_mbulk",
        "set",
        "get",
        "incr",
        "lpush",
        "rpush",
        "lpop",
        "rpop",
        "sadd",
        "hset",
        "spop",
        "zadd",
        "zpopmin",
        "lrange",
        "lrange_100",
        "lrange_300",
        "lrange_500",
        "lrange_600",
        "mset",
    ];
    if let Some(unknown) = names
        .iter()
        .flatten()
        .find(|n| !n.is_empty() && !known.contains(&n.as_str()))
    {
        return Err(format!("no test named {unknown:?}"));
    }
    let is = |wanted: &[&str]| {
        names
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| wanted.contains(&n.as_str())))
    };
    let key: &[u8] = b"key:__rand_int__";
    let mut out = Vec::new();
    if is(&["ping_inline", "ping"]) {
        out.push(Workload {
            title: "PING_INLINE".into(),
            request: b"PING\r\n".to_vec(),
        });
    }
    if is(&["ping_mbulk", "ping"]) {
        out.push(Workload::titled("PING_MBULK", &[b"PING"]));
    }
    if is(&["set"]) {
        out.push(Workload::titled("SET", &[b"SET", key, data]));
    }
    if is(&["get"]) {
        out.push(Workload::titled("GET", &[b"GET", key]));
    }
    if is(&["incr"]) {
        out.push(Workload::titled(
            "INCR",
            &[b"INCR", b"counter:__rand_int__"],
        ));
    }
    if is(&["lpush"]) {
        out.push(Workload::titled("LPUSH", &[b"LPUSH", b"mylist", data]));
    }
    if is(&["rpush"]) {
        out.push(Workload::titled("RPUSH", &[b"RPUSH", b"mylist", data]));
    }
    if is(&["lpop"]) {
        out.push(Workload::titled("LPOP", &[b"LPOP", b"mylist"]));
    }
    if is(&["rpop"]) {
        out.push(Workload::titled("RPOP", &[b"RPOP", b"mylist"]));
    }
    if is(&["sadd"]) {
        out.push(Workload::titled(
            "SADD",
            &[b"SADD", b"myset", b"element:__rand_int__"],
        ));
    }
    if is(&["hset"]) {
        out.push(Workload::titled(
            "HSET",
            &[b"HSET", b"myhash", b"element:__rand_int__", data],
        ));
    }
    if is(&["spop"]) {
        out.push(Workload::titled("SPOP", &[b"SPOP", b"myset"]));
    }
    if is(&["zadd"]) {
        let score: &[u8] = if random_keys { PLACEHOLDER } else { b"0" };
        out.push(Workload::titled(
            "ZADD",
            &[b"ZADD", b"myzset", score, b"element:__rand_int__"],
        ));
    }
    if is(&["zpopmin"]) {
        out.push(Workload::titled("ZPOPMIN", &[b"ZPOPMIN", b"myzset"]));
    }
    let lranges = [
        ("lrange_100", "LRANGE_100 (first 100 elements)", "99"),
        ("lrange_300", "LRANGE_300 (first 300 elements)", "299"),
        ("lrange_500", "LRANGE_500 (first 500 elements)", "499"),
        ("lrange_600", "LRANGE_600 (first 600 elements)", "599"),
    ];
    if lranges.iter().any(|(name, ..)| is(&["lrange", name])) {
        out.push(Workload::titled(
            "LPUSH (needed to benchmark LRANGE)",
            &[b"LPUSH", b"mylist", data],
        ));
    }
    for (name, title, last) in lranges {
        if is(&["lrange", name]) {
            out.push(Workload::titled(
                title,
                &[b"LRANGE", b"mylist", b"0", last.as_bytes()],
            ));
        }
    }
    if is(&["mset"]) {
        let mut args: Vec<&[u8]> = vec![b"MSET"];
        for _ in 0..10 {
            args.extend([key, data]);
        }
        out.push(Workload::titled("MSET (10 keys)", &args));
    }
    Ok(out)
}
