//! Bytes one thread hands to a client that another thread (its worker) owns: MONITOR's
//! lines, and any stream a client receives besides the replies to its own requests.
//!
//! A producer never touches the client's socket: it appends to the client's [`Outbox`]
//! under a short lock. The first bytes after the owner last emptied an outbox put it on its
//! worker's list in [`Mailboxes`] and wake that worker, which moves them into the
//! connection's output buffer and writes them as it writes replies, checking the output
//! buffer limits on the way. So a client that does not read costs its producers nothing
//! but the append, and the outbox itself stops growing at the hard output limit: bytes past
//! it are dropped and the owner closes the client.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mio::Waker;
use parking_lot::Mutex;

/// Bytes waiting for one client, from any thread.
#[derive(Debug)]
pub(crate) struct Outbox {
    /// The worker owning the client.
    pub worker: usize,
    /// The connection's slot in that worker.
    pub slot: usize,
    /// The client's id: a slot is reused once its connection closes.
    pub client: u64,
    /// On its worker's list, or about to be: the owner has not emptied it since. Written
    /// only under `state`'s lock, read without it (a connection asks before each command).
    listed: AtomicBool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    bytes: Vec<u8>,
    /// Bytes were dropped at the cap: the owner closes the client.
    overflowed: bool,
    /// The client no longer receives: bytes are dropped.
    closed: bool,
}

impl Outbox {
    pub fn new(worker: usize, slot: usize, client: u64) -> Outbox {
        Outbox {
            worker,
            slot,
            client,
            listed: AtomicBool::new(false),
            state: Mutex::default(),
        }
    }

    /// Appends `bytes`, unless that takes the outbox past `cap` bytes (0: no cap). True
    /// when the owner must be told: nothing was waiting.
    fn append(&self, bytes: &[u8], cap: usize) -> bool {
        let mut state = self.state.lock();
        if state.closed || state.overflowed {
            return false;
        }
        if cap > 0 && state.bytes.len() + bytes.len() > cap {
            state.overflowed = true;
            state.bytes = Vec::new();
        } else {
            state.bytes.extend_from_slice(bytes);
        }
        !self.listed.swap(true, Ordering::Release)
    }

    /// Whether something was pushed since the owner last emptied the outbox: one load,
    /// so that a connection with an outbox pays no lock per command.
    #[inline]
    pub fn is_listed(&self) -> bool {
        self.listed.load(Ordering::Acquire)
    }

    /// For the owner: moves what is waiting to the end of `out`. False once bytes were
    /// dropped at the cap (the client should be closed).
    pub fn take_into(&self, out: &mut Vec<u8>) -> bool {
        let mut state = self.state.lock();
        self.listed.store(false, Ordering::Relaxed);
        if out.is_empty() {
            std::mem::swap(out, &mut state.bytes);
        } else {
            out.append(&mut state.bytes);
        }
        !state.overflowed
    }

    /// The client no longer receives: drops what is waiting and what comes later.
    pub fn close(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        state.bytes = Vec::new();
    }
}

/// Per worker, the outboxes holding bytes it has not taken yet.
pub(crate) struct Mailboxes {
    lists: Vec<WorkerList>,
}

/// One worker's listed outboxes, with a flag it reads without the lock: workers look at
/// their list once per round.
#[derive(Default)]
struct WorkerList {
    any: AtomicBool,
    outboxes: Mutex<Vec<Arc<Outbox>>>,
}

impl Mailboxes {
    pub fn new(workers: usize) -> Mailboxes {
        Mailboxes {
            lists: (0..workers).map(|_| WorkerList::default()).collect(),
        }
    }

    /// Appends `bytes` to `outbox` (see [`Outbox`] for `cap`); when nothing was waiting
    /// there, lists the outbox for its worker and, unless the worker has yet to look at
    /// its list since it was last woken, wakes it with `waker`: one message published to
    /// many clients of a worker wakes it once.
    pub fn push(&self, outbox: &Arc<Outbox>, bytes: &[u8], cap: usize, waker: Option<&Waker>) {
        if !outbox.append(bytes, cap) {
            return;
        }
        let mut woken = false;
        if let Some(list) = self.lists.get(outbox.worker) {
            let mut outboxes = list.outboxes.lock();
            outboxes.push(Arc::clone(outbox));
            // Set under the lock: a worker that finds it cleared takes the list after.
            woken = list.any.swap(true, Ordering::AcqRel);
        }
        if let Some(waker) = waker
            && !woken
        {
            let _ = waker.wake();
        }
    }

    /// For worker `worker`: the outboxes listed since it last looked (no lock taken when
    /// none is). One may be listed twice, or be empty by now; each is to be emptied with
    /// [`Outbox::take_into`].
    pub fn take(&self, worker: usize) -> Vec<Arc<Outbox>> {
        match self.lists.get(worker) {
            Some(list) if list.any.swap(false, Ordering::Acquire) => {
                std::mem::take(&mut *list.outboxes.lock())
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_push_lists_the_outbox_until_it_is_emptied() {
        let boxes = Mailboxes::new(2);
        let outbox = Arc::new(Outbox::new(1, 7, 42));
        boxes.push(&outbox, b"a", 0, None);
        boxes.push(&outbox, b"b", 0, None);
        assert!(boxes.take(0).is_empty());
        let listed = boxes.take(1);
        assert_eq!(listed.len(), 1);
        let mut out = b"reply".to_vec();
        assert!(listed[0].take_into(&mut out));
        assert_eq!(out, b"replyab");
        boxes.push(&outbox, b"c", 0, None);
        assert_eq!(boxes.take(1).len(), 1);
    }

    #[test]
    fn bytes_past_the_cap_are_dropped_and_reported() {
        let boxes = Mailboxes::new(1);
        let outbox = Arc::new(Outbox::new(0, 0, 1));
        boxes.push(&outbox, b"1234", 6, None);
        boxes.push(&outbox, b"567", 6, None);
        let mut out = Vec::new();
        assert!(!outbox.take_into(&mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn a_closed_outbox_takes_nothing() {
        let boxes = Mailboxes::new(1);
        let outbox = Arc::new(Outbox::new(0, 0, 1));
        boxes.push(&outbox, b"x", 0, None);
        outbox.close();
        boxes.push(&outbox, b"y", 0, None);
        let mut out = Vec::new();
        assert!(outbox.take_into(&mut out));
        assert!(out.is_empty());
    }
}
