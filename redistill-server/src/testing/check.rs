//! Runs a [`program`](super::program) on a fresh [`Harness`] and checks what must hold
//! after every step: each reply is one complete RESP frame of the client's protocol (or
//! nothing, where CLIENT REPLY silences it), and the store passes
//! [`Store::check_invariants`](redistill_store::Store::check_invariants). Panics in the
//! server propagate to the caller.

use bytes::Bytes;
use redistill_resp::Frame;

use super::Harness;
use super::program::{self, CLIENTS, Step};
use crate::config::Config;

/// Steps of context a failure report shows.
const CONTEXT: usize = 24;

/// The configuration programs run under: four databases of four shards (collisions and
/// cross-shard moves are common with few keys), two workers (so EXEC takes another
/// worker's gate), a memory limit no program reaches unless it lowers it, and a policy that evicts
/// when one does.
pub fn config() -> Config {
    let mut config = Config::default();
    config.server.databases = 4;
    config.server.num_shards = 4;
    config.server.workers = 2;
    // Far above what a program stores: the store then keeps its running memory total,
    // which the invariants compare with a recount.
    config.memory.max_memory = 1 << 30;
    config.memory.eviction_policy = redistill_store::Policy::AllKeysLru;
    config
}

/// Decodes `data` into a program, runs it, and returns how many requests ran.
///
/// # Errors
///
/// A report of the first violation: the step, what was wrong, and the steps before it.
///
/// # Examples
///
/// ```
/// // client 0 (byte 12: the first of the focus commands, MULTI), exact arity (200).
/// let ran = redistill_server::testing::check::run_program(&[12, 0, 200])?;
/// assert_eq!(ran, 1);
/// # Ok::<(), String>(())
/// ```
pub fn run_program(data: &[u8]) -> Result<usize, String> {
    let steps = program::decode(data);
    let mut harness = Harness::new(config(), CLIENTS).map_err(|e| e.to_string())?;
    let mut hello_queued = [false; CLIENTS];
    let mut ran = 0;
    for (n, step) in steps.iter().enumerate() {
        let outcome = run_step(&mut harness, &mut hello_queued, step).and_then(|ran_one| {
            harness.store().check_invariants()?;
            Ok(ran_one)
        });
        match outcome {
            Ok(ran_one) => ran += usize::from(ran_one),
            Err(e) => {
                let from = n.saturating_sub(CONTEXT);
                let mut report = format!("step {n}: {step}\n  {e}\nsteps {from}..={n}:\n");
                for s in &steps[from..=n] {
                    report.push_str(&format!("  {s}\n"));
                }
                return Err(report);
            }
        }
    }
    Ok(ran)
}

/// Runs one step, checking its reply; true if it was a request. `hello_queued` tracks,
/// per client, whether its open transaction queued a HELLO: each of EXEC's replies is
/// written in the protocol in force when it runs, so such an EXEC may mix protocols.
fn run_step(
    harness: &mut Harness,
    hello_queued: &mut [bool; CLIENTS],
    step: &Step,
) -> Result<bool, String> {
    let (client, args) = match step {
        Step::Advance(ms) => {
            harness.advance_clock(*ms);
            return Ok(false);
        }
        Step::ExpireCycle => {
            harness.expire_cycle();
            return Ok(false);
        }
        Step::Run { client, args } => (*client, args),
    };
    let silenced = harness.replies_silenced(client);
    let monitoring = harness.is_monitoring(client);
    let subscribed_before = harness.is_subscribed(client);
    let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    let reply = harness.run(client, &argv);
    let subscribed = subscribed_before || harness.is_subscribed(client);
    // A successful SHUTDOWN closes the connection without a reply; MONITOR sent by a
    // monitor answers nothing, as in Redis.
    let may_be_empty = silenced
        || harness.was_replaced(client)
        || monitoring && argv[0].eq_ignore_ascii_case(b"monitor")
        || argv.len() >= 2
            && argv[0].eq_ignore_ascii_case(b"client")
            && argv[1].eq_ignore_ascii_case(b"reply");
    let is = |i: usize, name: &[u8]| argv.get(i).is_some_and(|a| a.eq_ignore_ascii_case(name));
    let mixed = is(0, b"exec") && hello_queued[client];
    if is(0, b"hello") && reply == b"+QUEUED\r\n" {
        hello_queued[client] = true;
    } else if is(0, b"exec") || is(0, b"discard") || is(0, b"reset") || is(0, b"multi") {
        hello_queued[client] = false;
    }
    if harness.was_replaced(client) {
        hello_queued[client] = false;
    }
    let resp3 = harness.is_resp3(client) || mixed;
    // A monitor's reply may come after the MONITOR lines that reached it first.
    let answer = if monitoring {
        without_monitor_lines(&reply)
    } else {
        &reply[..]
    };
    // (Un)subscribing answers once per channel; a subscriber's messages (from others, or
    // its own PUBLISH) come before its reply.
    let subscribing = [
        &b"subscribe"[..],
        b"unsubscribe",
        b"psubscribe",
        b"punsubscribe",
        b"ssubscribe",
        b"sunsubscribe",
    ]
    .iter()
    .any(|name| is(0, name));
    let answer = if subscribed || subscribing {
        match without_pubsub_frames(answer, subscribing) {
            Ok(answer) => answer,
            Err(e) => return Err(format!("reply {:?}: {e}", Bytes::copy_from_slice(answer))),
        }
    } else {
        answer
    };
    check_reply(answer, may_be_empty, resp3)
        .map_err(|e| format!("reply {:?}: {e}", Bytes::copy_from_slice(answer)))?;
    Ok(true)
}

/// `reply` without the Pub/Sub message frames in front of it and, when the command
/// (un)subscribed, without all but the last of its confirmations; an error if what is
/// dropped is not well-formed RESP.
fn without_pubsub_frames(mut reply: &[u8], subscribing: bool) -> Result<&[u8], String> {
    loop {
        if reply.is_empty() {
            return Ok(reply);
        }
        let bytes = Bytes::copy_from_slice(reply);
        let (frame, used) = match redistill_resp::decode(&bytes) {
            Ok(Some(decoded)) => decoded,
            Ok(None) => return Err("an incomplete frame".into()),
            Err(e) => return Err(format!("not RESP: {e}")),
        };
        if used == reply.len() {
            return Ok(reply);
        }
        let kind = match &frame {
            redistill_resp::Frame::Array(items) | redistill_resp::Frame::Push(items) => {
                items.first().cloned()
            }
            _ => None,
        };
        let is_message = matches!(
            kind,
            Some(redistill_resp::Frame::BulkString(k))
                if [&b"message"[..], b"pmessage", b"smessage"].contains(&k.as_ref())
        );
        if !is_message && !subscribing {
            return Ok(reply);
        }
        reply = &reply[used..];
    }
}

/// The reply is empty where allowed, else exactly one frame, with no RESP3 types for a
/// RESP2 client.
fn check_reply(reply: &[u8], may_be_empty: bool, resp3: bool) -> Result<(), String> {
    if reply.is_empty() {
        return if may_be_empty {
            Ok(())
        } else {
            Err("no reply".into())
        };
    }
    let bytes = Bytes::copy_from_slice(reply);
    match redistill_resp::decode(&bytes) {
        Ok(Some((frame, used))) if used == reply.len() => {
            if !resp3 && !is_resp2(&frame) {
                return Err("a RESP3 type in a reply to a RESP2 client".into());
            }
            Ok(())
        }
        Ok(Some((_, used))) => Err(format!(
            "{} bytes after the first frame",
            reply.len() - used
        )),
        Ok(None) => Err("an incomplete frame".into()),
        Err(e) => Err(format!("not RESP: {e}")),
    }
}

/// `reply` without the MONITOR lines (`+<time> [...] ...`) in front of it.
fn without_monitor_lines(mut reply: &[u8]) -> &[u8] {
    while reply.first() == Some(&b'+') && reply.get(1).is_some_and(u8::is_ascii_digit) {
        match reply.windows(2).position(|w| w == b"\r\n") {
            Some(end) => reply = &reply[end + 2..],
            None => break,
        }
    }
    reply
}

/// Whether a frame uses RESP2's types alone.
fn is_resp2(frame: &Frame) -> bool {
    match frame {
        Frame::SimpleString(_)
        | Frame::SimpleError(_)
        | Frame::Integer(_)
        | Frame::BulkString(_)
        | Frame::NullBulkString
        | Frame::NullArray => true,
        Frame::Array(items) => items.iter().all(is_resp2),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_must_be_one_frame() {
        assert!(check_reply(b"+OK\r\n", false, false).is_ok());
        assert!(check_reply(b"", true, false).is_ok());
        assert!(check_reply(b"", false, false).is_err());
        assert!(check_reply(b"+OK\r\n+OK\r\n", false, false).is_err());
        assert!(check_reply(b"$5\r\nab\r\n", false, false).is_err());
        assert!(check_reply(b"_\r\n", false, false).is_err());
        assert!(check_reply(b"_\r\n", false, true).is_ok());
    }

    /// HELLO queued in a transaction switches the protocol of the replies after it within
    /// EXEC's array, as in Redis: such an EXEC may mix protocols.
    #[test]
    fn an_exec_that_switches_protocols_may_mix_them() {
        let mut harness = Harness::new(config(), CLIENTS).expect("harness");
        let mut hello_queued = [false; CLIENTS];
        for request in ["multi", "hello 3", "hello 2", "exec", "hello 2"] {
            let step = Step::Run {
                client: 1,
                args: request.split(' ').map(|w| w.as_bytes().to_vec()).collect(),
            };
            run_step(&mut harness, &mut hello_queued, &step).expect(request);
        }
        assert_eq!(hello_queued, [false; CLIENTS]);
    }
}
