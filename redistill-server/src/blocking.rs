//! Clients blocked on keys (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX,
//! BZMPOP), and how they are served when a key receives data.
//!
//! # How it works
//!
//! - **Blocking.** A command first runs its [`BlockedOp`]'s non-blocking form, taking no
//!   lock of this registry. When that finds no data it calls [`Blocking::block`] with the
//!   op: what to run once a key has data. Under the registry's lock it tries the keys once
//!   more, then queues a [`Waiter`] on each of them. The client's connection
//!   then runs nothing more (it goes on reading, so that a disconnect is seen) until the
//!   waiter is finished.
//! - **Ready keys.** The store reports every change ([`BlockingListener`]). While some
//!   client is blocked, a change that may add data to a key a client waits on (a key
//!   created, renamed, moved, copied or restored, a database swapped) records the key in a
//!   list of the thread that made it. No lock is taken there: the listener runs under a shard lock.
//! - **Serving.** After each command (after EXEC as a whole), the thread that ran it calls
//!   [`Blocking::serve_ready`]: for each ready key, the clients blocked on it are served in
//!   the order they blocked, each by its op, until the key has no more data. An op that
//!   itself adds data (BLMOVE pushing to its destination) makes that key ready in turn.
//! - **Finishing.** A served waiter gets its reply and its worker is woken through its
//!   outbox; so is one unblocked by CLIENT UNBLOCK. The owning worker times waiters out.
//!   Every change of a waiter's registration happens under the registry's lock, so a
//!   waiter is served, timed out, unblocked or dropped exactly once.
//!
//! No wake-up is lost: a blocking client counts itself in [`Blocking::blocked`] before its
//! second look at its keys (the first, uncounted one may miss a push freely: the second
//! sees it). A push made after that look is made under a shard lock taken after the
//! look's, so the pushing thread sees the count, records the key and serves it once the
//! blocking client has queued its waiter (the registry lock orders the two).
//!
//! # Adding a blocking command
//!
//! A command implements [`BlockedOp`] and calls [`Blocking::block`], as the sorted-set pops
//! do beside the list ones. Lists and sorted sets are never empty, so their clients wait on
//! missing keys only, and an op's `serve` answers `None` for a key that became another
//! type (a BLPOP waiter stays blocked when its key becomes a sorted set, a BZPOPMIN waiter
//! when it becomes a list, as in Redis). Streams (XREAD BLOCK) would wait on existing
//! keys, and [`may_add_data`] would then have to name XADD's event.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use redistill_resp::Version;
use redistill_store::{Change, ChangeListener, Event, Store, StoreError};

use crate::push::Outbox;

/// What a blocking command runs: at once as its non-blocking form, and once one of its
/// keys has data.
pub(crate) trait BlockedOp: Send + Sync + std::fmt::Debug {
    /// Runs the command's non-blocking form over `keys` of `db`: its reply, or `None`
    /// when no key has data to take (the client then waits).
    fn attempt(
        &self,
        store: &Store,
        db: usize,
        keys: &[&[u8]],
        version: Version,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Runs the command on `key` of `db`, which has just received data: the reply, or
    /// `None` when there is nothing to serve (the key is empty again, or holds another
    /// type), and the client stays blocked.
    fn serve(&self, store: &Store, db: usize, key: &[u8], version: Version) -> Option<Vec<u8>>;

    /// The reply when the timeout passes (or CLIENT UNBLOCK ... TIMEOUT): a null array,
    /// as every blocking list command answers.
    fn timed_out(&self, version: Version) -> Vec<u8> {
        let mut out = Vec::new();
        redistill_resp::encode::write_null_array(&mut out, version);
        out
    }
}

/// A client blocked on keys.
#[derive(Debug)]
pub(crate) struct Waiter {
    /// The client's id.
    pub client: u64,
    pub db: usize,
    /// The keys, without repeats, in the order given.
    pub keys: Vec<Bytes>,
    /// When to give up (store clock, ms); `None` waits for ever.
    pub deadline_ms: Option<u64>,
    op: Box<dyn BlockedOp>,
    version: Version,
    /// Where the owning worker is woken.
    outbox: Arc<Outbox>,
    /// The reply, once the waiter is finished: what the client is sent.
    reply: Mutex<Option<Vec<u8>>>,
}

impl Waiter {
    /// The reply, once the waiter has been served, timed out or unblocked: the connection
    /// sends it and goes on with its requests.
    pub fn take_reply(&self) -> Option<Vec<u8>> {
        self.reply.lock().take()
    }
}

/// A key that may have received data.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ready {
    Key(usize, Bytes),
    /// Every key of a database (SWAPDB).
    Db(usize),
}

thread_local! {
    /// Keys this thread made ready since it last served them.
    static READY: RefCell<Vec<Ready>> = const { RefCell::new(Vec::new()) };
}

/// Whether this thread has made keys ready that it has not served yet: one thread-local
/// read, checked after every command.
#[inline]
pub(crate) fn has_ready() -> bool {
    READY.with(|r| !r.borrow().is_empty())
}

/// The registry of blocked clients.
#[derive(Default)]
pub(crate) struct Blocking {
    /// Clients blocked now, and those about to block (see the module docs).
    blocked: AtomicUsize,
    registry: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    /// Per (db, key), the waiters in the order they blocked.
    keys: HashMap<(usize, Bytes), VecDeque<Arc<Waiter>>>,
    /// Every waiter, by client id.
    clients: HashMap<u64, Arc<Waiter>>,
}

impl Registry {
    /// Takes `waiter` out of every queue; false if it was not registered.
    fn remove(&mut self, waiter: &Arc<Waiter>) -> bool {
        match self.clients.get(&waiter.client) {
            Some(w) if Arc::ptr_eq(w, waiter) => {}
            _ => return false,
        }
        self.clients.remove(&waiter.client);
        for key in &waiter.keys {
            let id = (waiter.db, key.clone());
            if let Some(queue) = self.keys.get_mut(&id) {
                // Served waiters are at the front: O(1) then, a scan only for the others.
                if queue.front().is_some_and(|w| Arc::ptr_eq(w, waiter)) {
                    queue.pop_front();
                } else {
                    queue.retain(|w| !Arc::ptr_eq(w, waiter));
                }
                if queue.is_empty() {
                    self.keys.remove(&id);
                }
            }
        }
        true
    }
}

/// INFO's figures: `blocked_clients`, `clients_in_timeout_table`, `total_blocking_keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub clients: usize,
    pub with_timeout: usize,
    pub keys: usize,
}

/// What [`Blocking::block`] did.
#[derive(Debug)]
pub(crate) enum Blocked {
    /// A key had data after all: the reply.
    Served(Vec<u8>),
    /// The client waits.
    Waiting(Arc<Waiter>),
}

/// What a blocking command asks for.
pub(crate) struct Request<'a> {
    pub client: u64,
    pub db: usize,
    pub keys: &'a [&'a [u8]],
    pub deadline_ms: Option<u64>,
    pub version: Version,
}

impl Blocking {
    /// What INFO reports of blocked clients.
    pub fn counts(&self) -> Counts {
        let registry = self.registry.lock();
        Counts {
            clients: registry.clients.len(),
            with_timeout: registry
                .clients
                .values()
                .filter(|w| w.deadline_ms.is_some())
                .count(),
            keys: registry.keys.len(),
        }
    }

    /// Whether any client is blocked (or about to be): one relaxed load, on every change.
    #[inline]
    fn any(&self) -> bool {
        self.blocked.load(Ordering::Relaxed) > 0
    }

    /// Runs `op`'s non-blocking form under the registry's lock, after counting the client
    /// as blocked (see the module docs); when it finds no data, the client waits on
    /// `request.keys`, woken through the outbox `outbox` makes.
    pub fn block(
        &self,
        store: &Store,
        request: Request<'_>,
        op: Box<dyn BlockedOp>,
        outbox: impl FnOnce() -> Arc<Outbox>,
    ) -> Result<Blocked, StoreError> {
        self.blocked.fetch_add(1, Ordering::SeqCst);
        let mut registry = self.registry.lock();
        let attempt = op.attempt(store, request.db, request.keys, request.version);
        if let Some(found) = attempt.transpose() {
            self.blocked.fetch_sub(1, Ordering::Relaxed);
            return found.map(Blocked::Served);
        }
        let mut keys: Vec<Bytes> = Vec::with_capacity(request.keys.len());
        for key in request.keys {
            if !keys.iter().any(|k| k == key) {
                keys.push(Bytes::copy_from_slice(key));
            }
        }
        let waiter = Arc::new(Waiter {
            client: request.client,
            db: request.db,
            keys,
            deadline_ms: request.deadline_ms,
            op,
            version: request.version,
            outbox: outbox(),
            reply: Mutex::new(None),
        });
        for key in &waiter.keys {
            registry
                .keys
                .entry((waiter.db, key.clone()))
                .or_default()
                .push_back(Arc::clone(&waiter));
        }
        // A blocked connection runs no command until its reply is taken, so it cannot
        // block twice; were an old registration left, it is dropped rather than left
        // queued on its keys and counted for good.
        if let Some(old) = registry.clients.get(&waiter.client).cloned() {
            debug_assert!(false, "client {} blocked twice", waiter.client);
            registry.remove(&old);
            self.blocked.fetch_sub(1, Ordering::Relaxed);
        }
        registry.clients.insert(waiter.client, Arc::clone(&waiter));
        Ok(Blocked::Waiting(waiter))
    }

    /// Serves the clients blocked on the keys this thread made ready, until no ready key
    /// is left (serving may make more keys ready). `push` wakes a served client's worker.
    pub fn serve_ready(&self, store: &Store, push: impl Fn(&Arc<Outbox>)) {
        loop {
            let ready = READY.with(|r| std::mem::take(&mut *r.borrow_mut()));
            if ready.is_empty() {
                return;
            }
            if !self.any() {
                continue;
            }
            let mut registry = self.registry.lock();
            for ready in ready {
                match ready {
                    Ready::Key(db, key) => self.serve_key(&mut registry, store, db, &key, &push),
                    Ready::Db(db) => {
                        let keys: Vec<Bytes> = registry
                            .keys
                            .keys()
                            .filter(|(d, _)| *d == db)
                            .map(|(_, k)| k.clone())
                            .collect();
                        for key in keys {
                            self.serve_key(&mut registry, store, db, &key, &push);
                        }
                    }
                }
            }
        }
    }

    /// Serves the clients blocked on one key, first come first served, while it has data.
    fn serve_key(
        &self,
        registry: &mut Registry,
        store: &Store,
        db: usize,
        key: &Bytes,
        push: &impl Fn(&Arc<Outbox>),
    ) {
        let id = (db, key.clone());
        while let Some(waiter) = registry.keys.get(&id).and_then(|q| q.front()).cloned() {
            let Some(reply) = waiter.op.serve(store, db, key, waiter.version) else {
                return;
            };
            self.finish(registry, &waiter, reply, push);
        }
    }

    /// Takes `waiter` out of `registry` and stops counting it; false if it was not
    /// registered (already finished).
    fn deregister(&self, registry: &mut Registry, waiter: &Arc<Waiter>) -> bool {
        let removed = registry.remove(waiter);
        if removed {
            self.blocked.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    /// Takes a registered waiter out and hands it `reply`.
    fn finish(
        &self,
        registry: &mut Registry,
        waiter: &Arc<Waiter>,
        reply: Vec<u8>,
        push: &impl Fn(&Arc<Outbox>),
    ) {
        if self.deregister(registry, waiter) {
            *waiter.reply.lock() = Some(reply);
            push(&waiter.outbox);
        }
    }

    /// The owning worker gives up on `waiter` (its timeout passed): true if it was still
    /// waiting, and then its reply is ready to take.
    pub fn time_out(&self, waiter: &Arc<Waiter>) -> bool {
        let timed_out = self.deregister(&mut self.registry.lock(), waiter);
        if timed_out {
            *waiter.reply.lock() = Some(waiter.op.timed_out(waiter.version));
        }
        timed_out
    }

    /// The client is going away: forgets its waiter, if it still waits.
    pub fn cancel(&self, waiter: &Arc<Waiter>) {
        self.deregister(&mut self.registry.lock(), waiter);
    }

    /// CLIENT UNBLOCK: finishes client `id`'s wait with the timeout reply, or with
    /// `error` (a whole error line) when given. False if the client is not blocked.
    pub fn unblock(&self, id: u64, error: Option<&[u8]>, push: impl Fn(&Arc<Outbox>)) -> bool {
        let mut registry = self.registry.lock();
        let Some(waiter) = registry.clients.get(&id).cloned() else {
            return false;
        };
        let reply = match error {
            Some(line) => line.to_vec(),
            None => waiter.op.timed_out(waiter.version),
        };
        self.finish(&mut registry, &waiter, reply, &push);
        true
    }
}

/// Whether `event` may give a key data a blocked client waits for: a whole value arriving
/// under the key. Clients wait only on missing keys (a list is never empty), so a push to
/// an existing list (LPUSH, RPUSH, LINSERT) serves no one; one creating a list reports
/// [`Event::New`] first.
fn may_add_data(event: Event) -> bool {
    matches!(
        event,
        Event::New | Event::RenameTo | Event::MoveTo | Event::CopyTo | Event::Restore
    )
}

/// Records the keys that may have received data, while clients are blocked.
pub(crate) struct BlockingListener(pub Arc<Blocking>);

impl BlockingListener {
    /// Whether no client is blocked: while none is, changes need not be looked at.
    #[inline]
    fn is_idle(&self) -> bool {
        !self.0.any()
    }

    /// Records the key (or databases) `change` may have given data, for this thread to
    /// serve after its command.
    fn record(&self, change: &Change<'_>) {
        match *change {
            Change::Key { db, key, event } if may_add_data(event) => READY.with(|r| {
                r.borrow_mut()
                    .push(Ready::Key(db, Bytes::copy_from_slice(key)));
            }),
            Change::Swapped { a, b, .. } => {
                READY.with(|r| r.borrow_mut().extend([Ready::Db(a), Ready::Db(b)]));
            }
            _ => {}
        }
    }
}

impl BlockingListener {
    /// Looks at `change` unless idle: what [`ChangeListener::changed`] does, by
    /// reference, so that one change can be shown to several listeners without a copy.
    #[inline]
    pub(crate) fn see(&self, change: &Change<'_>) {
        if !self.is_idle() {
            self.record(change);
        }
    }
}

impl ChangeListener for BlockingListener {
    #[inline]
    fn changed(&self, change: Change<'_>) {
        self.see(&change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pops one element from the left, replying it as a bulk string (or nothing).
    #[derive(Debug)]
    struct PopOne;

    impl BlockedOp for PopOne {
        fn attempt(
            &self,
            store: &Store,
            db: usize,
            keys: &[&[u8]],
            version: Version,
        ) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(keys.iter().find_map(|k| self.serve(store, db, k, version)))
        }

        fn serve(&self, store: &Store, db: usize, key: &[u8], _: Version) -> Option<Vec<u8>> {
            let popped = store.lpop(db, key).ok()??;
            Some(popped.to_vec())
        }

        fn timed_out(&self, _: Version) -> Vec<u8> {
            b"timeout".to_vec()
        }
    }

    fn block(blocking: &Blocking, store: &Store, client: u64, keys: &[&[u8]]) -> Blocked {
        let request = Request {
            client,
            db: 0,
            keys,
            deadline_ms: None,
            version: Version::Resp2,
        };
        let outbox = || Arc::new(Outbox::new(0, 0, client));
        blocking
            .block(store, request, Box::new(PopOne), outbox)
            .expect("no error")
    }

    fn store_with(blocking: &Arc<Blocking>) -> Store {
        Store::builder()
            .change_listener(Arc::new(BlockingListener(Arc::clone(blocking))))
            .build()
    }

    fn wait(blocking: &Blocking, store: &Store, client: u64, keys: &[&[u8]]) -> Arc<Waiter> {
        match block(blocking, store, client, keys) {
            Blocked::Waiting(w) => w,
            Blocked::Served(_) => panic!("served"),
        }
    }

    #[test]
    fn waiters_are_served_in_the_order_they_blocked_one_element_each() {
        let blocking = Arc::new(Blocking::default());
        let store = store_with(&blocking);
        let first = wait(&blocking, &store, 1, &[b"q"]);
        let second = wait(&blocking, &store, 2, &[b"other", b"q"]);
        let third = wait(&blocking, &store, 3, &[b"q"]);
        assert_eq!((blocking.counts().clients, blocking.counts().keys), (3, 2));
        store.rpush(0, b"q", &[b"a", b"b"]).unwrap();
        blocking.serve_ready(&store, |_| {});
        assert_eq!(first.take_reply().as_deref(), Some(&b"a"[..]));
        assert_eq!(second.take_reply().as_deref(), Some(&b"b"[..]));
        assert_eq!(third.take_reply(), None);
        assert_eq!((blocking.counts().clients, blocking.counts().keys), (1, 1));
        assert!(blocking.time_out(&third));
        assert!(!blocking.time_out(&third));
        assert_eq!(third.take_reply().as_deref(), Some(&b"timeout"[..]));
        assert_eq!((blocking.counts().clients, blocking.counts().keys), (0, 0));
    }

    #[test]
    fn a_push_before_blocking_is_found_by_the_attempt_and_unblock_finishes_once() {
        let blocking = Arc::new(Blocking::default());
        let store = store_with(&blocking);
        store.rpush(0, b"q", &[b"x"]).unwrap();
        match block(&blocking, &store, 1, &[b"q"]) {
            Blocked::Served(reply) => assert_eq!(reply, b"x"),
            Blocked::Waiting(_) => panic!("waits"),
        }
        let w = wait(&blocking, &store, 1, &[b"q"]);
        assert!(blocking.unblock(1, Some(b"-UNBLOCKED\r\n"), |_| {}));
        assert!(!blocking.unblock(1, None, |_| {}));
        assert_eq!(w.take_reply().as_deref(), Some(&b"-UNBLOCKED\r\n"[..]));
        // A push with nobody blocked records nothing.
        store.rpush(0, b"q", &[b"y"]).unwrap();
        assert!(!has_ready());
    }
}
