//! Client-side caching (CLIENT TRACKING): which clients may cache which keys, and the
//! invalidation messages writes send them.
//!
//! In the default mode a tracking client's reads register it for the keys they read; the
//! first change to such a key queues one invalidation for each registered client and
//! forgets the key. In broadcast mode (BCAST) a client registers prefixes instead: every
//! changed key under one of them is collected, and the collected keys go out in one message
//! per prefix at the end of the worker's round, as Redis sends them once per event-loop
//! cycle. FLUSHDB and FLUSHALL send every tracking client a null invalidation and empty the
//! table. Like Redis's, the table knows keys by name only, whatever their database.
//!
//! The store reports changes with its shard locks held, so the listener only queues the
//! messages; whoever made the change delivers them ([`Tracking::deliver`]) once the command
//! is done, before its reply can reach anyone: a client that saw the reply to a write and
//! then reads finds the invalidation ahead of the read's reply.
//!
//! While no client tracks and no key is registered, commands and writes pay one relaxed
//! load each ([`Tracking::is_live`]).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use ahash::HashMap;
use bytes::Bytes;
use parking_lot::Mutex;
use redistill_store::{Change, ChangeListener, Event};

use crate::clients::ClientInfo;
use crate::push::Outbox;

/// The Pub/Sub channel RESP2 clients receive invalidations on when others redirect theirs.
pub(crate) const INVALIDATE_CHANNEL: &[u8] = b"__redis__:invalidate";

thread_local! {
    /// The client whose command this thread runs (0: none, e.g. the expiry cycle), for
    /// NOLOOP and for the null invalidation a client's own FLUSHALL sends it.
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

/// Marks the client whose command runs on this thread until the returned guard drops.
pub(crate) fn running(client: u64) -> CurrentGuard {
    CURRENT.with(|c| c.set(client));
    CurrentGuard
}

/// Clears the running client when dropped.
pub(crate) struct CurrentGuard;

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(0));
    }
}

fn current() -> u64 {
    CURRENT.with(Cell::get)
}

/// A tracking client's options, as its connection keeps them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Mode {
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING YES (OPTIN) or NO (OPTOUT) was given for the next command.
    pub caching: bool,
    /// The client that receives the invalidations; 0 for the client itself.
    pub redirect: u64,
    /// BCAST prefixes, sorted.
    pub prefixes: Vec<Bytes>,
}

impl Mode {
    /// Whether the next read's keys are to be remembered: always, but in OPTIN mode only
    /// after CLIENT CACHING YES and in OPTOUT mode not after CLIENT CACHING NO; never in
    /// BCAST mode.
    pub fn remembers(&self) -> bool {
        let skipped = if self.optin {
            !self.caching
        } else {
            self.optout && self.caching
        };
        !self.bcast && !skipped
    }
}

/// What other threads see of a client's tracking: the `t`, `R` and `B` flags and `redir=`
/// of CLIENT LIST, and where to push to it.
#[derive(Debug, Default)]
pub(crate) struct Published {
    pub on: AtomicBool,
    pub bcast: AtomicBool,
    /// The redirection target was gone when an invalidation was due.
    pub broken: AtomicBool,
    pub redirect: AtomicU64,
    /// The client's outbox, once it has one: RESP3 and Pub/Sub clients always do.
    pub outbox: OnceLock<Arc<Outbox>>,
}

impl Published {
    /// CLIENT LIST's tracking letters, in Redis's order.
    pub fn flags(&self) -> impl Iterator<Item = char> {
        let on = self.on.load(Ordering::Relaxed);
        [
            (on, 't'),
            (on && self.broken.load(Ordering::Relaxed), 'R'),
            (on && self.bcast.load(Ordering::Relaxed), 'B'),
        ]
        .into_iter()
        .filter_map(|(set, letter)| set.then_some(letter))
    }

    /// CLIENT LIST's `redir=`: the target while tracking (0 for none), else -1.
    pub fn redir(&self) -> i64 {
        if self.on.load(Ordering::Relaxed) {
            i64::try_from(self.redirect.load(Ordering::Relaxed)).unwrap_or(i64::MAX)
        } else {
            -1
        }
    }
}

/// Whether `client` is in Pub/Sub mode (subscribed to any channel, pattern or shard
/// channel), the condition for a RESP2 client to receive redirected invalidations as
/// `message`s on [`INVALIDATE_CHANNEL`]: Redis checks the mode, not the channel.
fn in_pubsub_mode(client: &ClientInfo) -> bool {
    client
        .subscriptions
        .iter()
        .any(|count| count.load(Ordering::Relaxed) > 0)
}

/// The tracking table and the tracking clients, shared by every thread.
#[derive(Default)]
pub(crate) struct Tracking {
    /// Some client tracks or some key is registered: otherwise nothing is looked at.
    live: AtomicBool,
    clients: AtomicUsize,
    keys: AtomicUsize,
    /// `tracking-table-max-keys`; 0 for no limit.
    max_keys: AtomicU64,
    /// Messages are queued for delivery.
    outgoing: AtomicBool,
    /// Broadcast keys wait for the end of the round.
    broadcasts: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Per key, the clients that may cache it (default mode).
    keys: HashMap<Bytes, Vec<Reader>>,
    /// Registrations in `keys`, for INFO `tracking_total_items`.
    items: usize,
    /// The tracking clients by id.
    clients: HashMap<u64, Subscriber>,
    /// BCAST prefixes, each with its clients and the keys changed since the last round.
    prefixes: BTreeMap<Bytes, Prefix>,
    /// The clients invalidations are redirected to, while connected.
    targets: HashMap<u64, Arc<ClientInfo>>,
    /// Messages to push once the shard locks are released.
    outgoing: Vec<(Arc<Outbox>, Vec<u8>)>,
    /// How many times the limit could not be reached in one go (Redis's effort grows).
    limit_misses: usize,
}

/// A client registered for a key.
#[derive(Clone, Copy)]
struct Reader {
    id: u64,
    /// Registered by the read now running, ahead of Redis's registration after it (so
    /// that no other client's write in between goes unnoticed): the read's own changes
    /// (PFCOUNT's cache, a key found expired) do not invalidate it for its reader.
    provisional: bool,
}

struct Subscriber {
    info: Arc<ClientInfo>,
    redirect: u64,
    bcast: bool,
    noloop: bool,
}

#[derive(Default)]
struct Prefix {
    clients: Vec<u64>,
    /// Changed keys, each with the client that changed it last (0: none).
    changed: BTreeMap<Bytes, u64>,
}

/// An invalidation's value.
enum Payload<'a> {
    Keys(&'a [&'a [u8]]),
    /// Bytes already encoded: a null, or a broadcast's array.
    Encoded(&'a [u8]),
}

/// Counts for INFO.
pub(crate) struct Counts {
    pub clients: usize,
    pub keys: usize,
    pub items: usize,
    pub prefixes: usize,
}

impl Tracking {
    /// Whether anything is tracked: one relaxed load, all that commands and writes pay
    /// while nothing is.
    #[inline]
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Relaxed)
    }

    pub fn set_max_keys(&self, max: u64) {
        self.max_keys.store(max, Ordering::Relaxed);
    }

    pub fn counts(&self) -> Counts {
        let state = self.state.lock();
        Counts {
            clients: state.clients.len(),
            keys: state.keys.len(),
            items: state.items,
            prefixes: state.prefixes.len(),
        }
    }

    /// Turns tracking on for `info` with `mode` (already checked), or changes its options;
    /// `target` is the redirection's client. BCAST prefixes add to those already set.
    pub fn enable(&self, info: &Arc<ClientInfo>, mode: &Mode, target: Option<Arc<ClientInfo>>) {
        let mut state = self.state.lock();
        let id = info.id;
        if let Some(target) = target {
            state.targets.insert(target.id, target);
        }
        state.clients.insert(
            id,
            Subscriber {
                info: Arc::clone(info),
                redirect: mode.redirect,
                bcast: mode.bcast,
                noloop: mode.noloop,
            },
        );
        for prefix in &mode.prefixes {
            let entry = state.prefixes.entry(prefix.clone()).or_default();
            if !entry.clients.contains(&id) {
                entry.clients.push(id);
            }
        }
        let published = &info.tracking;
        published.broken.store(false, Ordering::Relaxed);
        published.bcast.store(mode.bcast, Ordering::Relaxed);
        published.redirect.store(mode.redirect, Ordering::Relaxed);
        published.on.store(true, Ordering::Relaxed);
        self.publish_counts(&state);
    }

    /// Turns tracking off for client `id` with `prefixes`. The keys it read stay
    /// registered until written, as in Redis.
    pub fn disable(&self, info: &ClientInfo, prefixes: &[Bytes]) {
        let mut state = self.state.lock();
        let id = info.id;
        state.clients.remove(&id);
        for prefix in prefixes {
            if let Some(entry) = state.prefixes.get_mut(prefix) {
                entry.clients.retain(|c| *c != id);
                if entry.clients.is_empty() {
                    state.prefixes.remove(prefix);
                }
            }
        }
        let State {
            targets, clients, ..
        } = &mut *state;
        targets.retain(|target, _| clients.values().any(|s| s.redirect == *target));
        let published = &info.tracking;
        published.on.store(false, Ordering::Relaxed);
        published.bcast.store(false, Ordering::Relaxed);
        published.broken.store(false, Ordering::Relaxed);
        self.publish_counts(&state);
    }

    /// Client `id` is gone: invalidations redirected to it now find it missing.
    pub fn client_gone(&self, id: u64) {
        if !self.is_live() {
            return;
        }
        self.state.lock().targets.remove(&id);
    }

    /// Whether CLIENT TRACKING's broken-redirection flag is set for `info`.
    pub fn broken(info: &ClientInfo) -> bool {
        info.tracking.broken.load(Ordering::Relaxed)
    }

    /// Registers client `id` for `keys`, which it has read, as Redis does after a read.
    pub fn remember<'k>(&self, id: u64, keys: impl Iterator<Item = &'k [u8]>) {
        self.register(id, keys, false);
    }

    /// Registers client `id` for `keys` before it reads them, provisionally until
    /// [`Tracking::remember`] after the read: until then only other clients' writes
    /// invalidate them for it.
    pub fn remember_ahead<'k>(&self, id: u64, keys: impl Iterator<Item = &'k [u8]>) {
        self.register(id, keys, true);
    }

    fn register<'k>(&self, id: u64, keys: impl Iterator<Item = &'k [u8]>, provisional: bool) {
        let mut state = self.state.lock();
        for key in keys {
            let readers = match state.keys.get_mut(key) {
                Some(readers) => readers,
                None => state.keys.entry(Bytes::copy_from_slice(key)).or_default(),
            };
            match readers.iter_mut().find(|r| r.id == id) {
                Some(reader) => reader.provisional &= provisional,
                None => {
                    readers.push(Reader { id, provisional });
                    state.items += 1;
                }
            }
        }
        self.publish_counts(&state);
    }

    /// Redis's check before each command while some client tracks: over
    /// `tracking-table-max-keys`, forgets keys (invalidating them) until under it again,
    /// trying harder each time it could not get there.
    pub fn enforce_limit(&self) {
        let max = usize::try_from(self.max_keys.load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        if max == 0
            || self.clients.load(Ordering::Relaxed) == 0
            || self.keys.load(Ordering::Relaxed) <= max
        {
            return;
        }
        let mut state = self.state.lock();
        if state.keys.len() <= max {
            state.limit_misses = 0;
            return;
        }
        let effort = 100 * (state.limit_misses + 1);
        let victims: Vec<Bytes> = state.keys.keys().take(effort).cloned().collect();
        let current = current();
        for key in victims {
            state.invalidate(&key, current, false);
            if state.keys.len() <= max {
                break;
            }
        }
        if state.keys.len() <= max {
            state.limit_misses = 0;
        } else {
            state.limit_misses += 1;
        }
        self.publish_counts(&state);
    }

    /// Sends the queued invalidations with `push`.
    pub fn deliver(&self, push: impl Fn(&Arc<Outbox>, &[u8])) {
        if !self.outgoing.load(Ordering::Acquire) {
            return;
        }
        let outgoing = {
            let mut state = self.state.lock();
            self.outgoing.store(false, Ordering::Relaxed);
            std::mem::take(&mut state.outgoing)
        };
        for (outbox, bytes) in outgoing {
            push(&outbox, &bytes);
        }
    }

    /// The end of a round: the keys changed under BCAST prefixes since the last one go
    /// out, one message per prefix and client, then everything queued.
    pub fn end_round(&self, push: impl Fn(&Arc<Outbox>, &[u8])) {
        if !self.is_live() {
            return;
        }
        if self.broadcasts.swap(false, Ordering::Acquire) {
            self.state.lock().queue_broadcasts();
            self.outgoing.store(true, Ordering::Release);
        }
        self.deliver(push);
    }

    /// Keeps the atomics that others read without the lock in step with `state`.
    fn publish_counts(&self, state: &State) {
        self.clients.store(state.clients.len(), Ordering::Relaxed);
        self.keys.store(state.keys.len(), Ordering::Relaxed);
        let live = !state.clients.is_empty() || !state.keys.is_empty();
        self.live.store(live, Ordering::Relaxed);
        if !state.outgoing.is_empty() {
            self.outgoing.store(true, Ordering::Release);
        }
    }

    /// Follows one change of the store.
    fn see(&self, change: &Change<'_>) {
        match *change {
            // Only a notification in Redis: the command's own event follows, and that is
            // where Redis invalidates (after RENAME's source, say, not before it).
            Change::Key {
                event: Event::New, ..
            } => {}
            Change::Key { key, .. } => {
                let mut state = self.state.lock();
                if state.invalidate(key, current(), true) {
                    self.broadcasts.store(true, Ordering::Release);
                }
                self.publish_counts(&state);
            }
            Change::Flushed { .. } => {
                let mut state = self.state.lock();
                state.flushed(current());
                self.publish_counts(&state);
            }
            // SWAPDB invalidates nothing in Redis 7.0.
            _ => {}
        }
    }
}

impl State {
    /// `key` changed (by client `current`): queues an invalidation for each client that
    /// may cache it, and forgets it; with `bcast`, collects it for the prefixes it is
    /// under. True when a prefix collected it.
    fn invalidate(&mut self, key: &[u8], current: u64, bcast: bool) -> bool {
        let mut collected = false;
        if bcast {
            for (prefix, entry) in &mut self.prefixes {
                if key.starts_with(prefix) {
                    entry.changed.insert(Bytes::copy_from_slice(key), current);
                    collected = true;
                }
            }
        }
        let Some(readers) = self.keys.remove(key) else {
            return collected;
        };
        self.items -= readers.len();
        for Reader { id, provisional } in readers {
            let Some(subscriber) = self.clients.get(&id) else {
                continue;
            };
            let own = id == current;
            if subscriber.bcast || (own && (subscriber.noloop || provisional)) {
                continue;
            }
            self.queue(id, &Payload::Keys(&[key]));
        }
        collected
    }

    /// FLUSHDB or FLUSHALL: a null invalidation for every tracking client, and the table
    /// emptied. The client that flushed receives RESP3's null whatever its protocol, as
    /// Redis sends it.
    fn flushed(&mut self, current: u64) {
        let ids: Vec<(u64, bool)> = self
            .clients
            .iter()
            .map(|(id, s)| (*id, s.info.resp.load(Ordering::Relaxed) == 3))
            .collect();
        for (id, resp3) in ids {
            let null: &[u8] = if resp3 || id == current {
                b"_\r\n"
            } else {
                b"$-1\r\n"
            };
            self.queue(id, &Payload::Encoded(null));
        }
        self.keys.clear();
        self.items = 0;
    }

    /// Queues one message for each client of each prefix that collected keys.
    fn queue_broadcasts(&mut self) {
        let mut messages = Vec::new();
        for entry in self.prefixes.values_mut() {
            if entry.changed.is_empty() {
                continue;
            }
            let changed = std::mem::take(&mut entry.changed);
            let all = encode_keys(changed.keys().map(Bytes::as_ref));
            for &id in &entry.clients {
                let noloop = self.clients.get(&id).is_some_and(|s| s.noloop);
                if noloop {
                    let own: Vec<&[u8]> = changed
                        .iter()
                        .filter(|(_, writer)| **writer != id)
                        .map(|(key, _)| key.as_ref())
                        .collect();
                    if !own.is_empty() {
                        messages.push((id, encode_keys(own.into_iter())));
                    }
                } else {
                    messages.push((id, all.clone()));
                }
            }
        }
        for (id, bytes) in messages {
            self.queue(id, &Payload::Encoded(&bytes));
        }
    }

    /// Queues the invalidation `payload` for tracking client `id`: to itself if RESP3, or
    /// to its redirection's target, as a push if that is RESP3 or as a Pub/Sub message if
    /// it is a RESP2 client in Pub/Sub mode. A gone target marks the redirection broken,
    /// which a RESP3 client is told.
    fn queue(&mut self, id: u64, payload: &Payload<'_>) {
        let Some(subscriber) = self.clients.get(&id) else {
            return;
        };
        let mut receiver = &subscriber.info;
        let redirected = subscriber.redirect != 0;
        if redirected {
            let Some(target) = self.targets.get(&subscriber.redirect) else {
                let info = &subscriber.info;
                info.tracking.broken.store(true, Ordering::Relaxed);
                if info.resp.load(Ordering::Relaxed) == 3
                    && let Some(outbox) = info.tracking.outbox.get()
                {
                    let mut bytes = b">2\r\n$21\r\ntracking-redir-broken\r\n".to_vec();
                    let _ = write!(bytes, ":{}\r\n", subscriber.redirect);
                    self.outgoing.push((Arc::clone(outbox), bytes));
                }
                return;
            };
            receiver = target;
        }
        let mut bytes = Vec::new();
        if receiver.resp.load(Ordering::Relaxed) == 3 {
            bytes.extend_from_slice(b">2\r\n$10\r\ninvalidate\r\n");
        } else if redirected && in_pubsub_mode(receiver) {
            bytes.extend_from_slice(b"*3\r\n$7\r\nmessage\r\n");
            let _ = write!(bytes, "${}\r\n", INVALIDATE_CHANNEL.len());
            bytes.extend_from_slice(INVALIDATE_CHANNEL);
            bytes.extend_from_slice(b"\r\n");
        } else {
            return;
        }
        match payload {
            Payload::Keys(keys) => bytes.extend(encode_keys(keys.iter().copied())),
            Payload::Encoded(encoded) => bytes.extend_from_slice(encoded),
        }
        if let Some(outbox) = receiver.tracking.outbox.get() {
            self.outgoing.push((Arc::clone(outbox), bytes));
        }
    }
}

/// An array of bulk strings.
fn encode_keys<'k>(keys: impl ExactSizeIterator<Item = &'k [u8]>) -> Vec<u8> {
    let mut bytes = Vec::new();
    let _ = write!(bytes, "*{}\r\n", keys.len());
    for key in keys {
        let _ = write!(bytes, "${}\r\n", key.len());
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes
}

/// The store's changes, for the tracking table.
pub(crate) struct TrackingListener(pub Arc<Tracking>);

impl TrackingListener {
    /// Looks at `change` unless nothing is tracked.
    #[inline]
    pub(crate) fn see(&self, change: &Change<'_>) {
        if self.0.is_live() {
            self.0.see(change);
        }
    }
}

impl ChangeListener for TrackingListener {
    #[inline]
    fn changed(&self, change: Change<'_>) {
        self.see(&change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn client(id: u64, resp: u8) -> Arc<ClientInfo> {
        let addr: SocketAddr = "127.0.0.1:1".parse().expect("address");
        let info = Arc::new(ClientInfo::new(id, addr, None, 0, 0, -1));
        info.resp.store(resp, Ordering::Relaxed);
        let _ = info.tracking.outbox.set(Arc::new(Outbox::new(0, 0, id)));
        info
    }

    fn received(info: &ClientInfo) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(outbox) = info.tracking.outbox.get() {
            outbox.take_into(&mut out);
        }
        out
    }

    fn push_all(tracking: &Tracking) {
        tracking.end_round(|outbox, bytes| {
            let boxes = crate::push::Mailboxes::new(1);
            boxes.push(outbox, bytes, 0, None);
        });
    }

    fn key(key: &[u8]) -> Change<'_> {
        Change::Key {
            db: 0,
            key,
            event: redistill_store::Event::Set,
        }
    }

    #[test]
    fn a_write_invalidates_a_read_key_once() {
        let tracking = Tracking::default();
        let reader = client(1, 3);
        tracking.enable(&reader, &Mode::default(), None);
        tracking.remember(1, [b"k".as_slice(), b"k"].into_iter());
        assert_eq!(tracking.counts().items, 1);
        tracking.see(&key(b"k"));
        tracking.see(&key(b"k"));
        push_all(&tracking);
        assert_eq!(
            received(&reader),
            b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
        );
        assert_eq!(tracking.counts().keys, 0);
    }

    #[test]
    fn a_read_s_own_change_spares_its_provisional_reader_only() {
        let tracking = Tracking::default();
        let reader = client(1, 3);
        let other = client(2, 3);
        tracking.enable(&reader, &Mode::default(), None);
        tracking.enable(&other, &Mode::default(), None);
        tracking.remember(2, [b"h".as_slice()].into_iter());
        {
            let _running = running(1);
            tracking.remember_ahead(1, [b"h".as_slice()].into_iter());
            tracking.see(&key(b"h"));
            tracking.remember(1, [b"h".as_slice()].into_iter());
        }
        push_all(&tracking);
        assert!(received(&reader).is_empty());
        assert_eq!(
            received(&other),
            b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nh\r\n"
        );
        // Registered for good after the read: the next change invalidates it, its own too.
        {
            let _running = running(1);
            tracking.see(&key(b"h"));
        }
        push_all(&tracking);
        assert_eq!(
            received(&reader),
            b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nh\r\n"
        );
    }

    #[test]
    fn broadcasts_collect_sorted_keys_per_prefix_and_skip_noloop_writers() {
        let tracking = Tracking::default();
        let reader = client(1, 3);
        let mode = Mode {
            bcast: true,
            noloop: true,
            prefixes: vec![Bytes::from_static(b"a")],
            ..Mode::default()
        };
        tracking.enable(&reader, &mode, None);
        {
            let _running = running(1);
            tracking.see(&key(b"a1"));
        }
        tracking.see(&key(b"a3"));
        tracking.see(&key(b"a2"));
        tracking.see(&key(b"b"));
        push_all(&tracking);
        assert_eq!(
            received(&reader),
            b">2\r\n$10\r\ninvalidate\r\n*2\r\n$2\r\na2\r\n$2\r\na3\r\n"
        );
    }

    #[test]
    fn a_gone_redirection_is_reported_broken() {
        let tracking = Tracking::default();
        let reader = client(1, 3);
        let target = client(2, 3);
        let mode = Mode {
            redirect: 2,
            ..Mode::default()
        };
        tracking.enable(&reader, &mode, Some(Arc::clone(&target)));
        tracking.remember(1, [b"k".as_slice(), b"j"].into_iter());
        tracking.see(&key(b"k"));
        push_all(&tracking);
        assert_eq!(
            received(&target),
            b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
        );
        tracking.client_gone(2);
        tracking.see(&key(b"j"));
        push_all(&tracking);
        assert_eq!(
            received(&reader),
            b">2\r\n$21\r\ntracking-redir-broken\r\n:2\r\n"
        );
        assert!(Tracking::broken(&reader));
    }

    #[test]
    fn the_limit_forgets_keys_with_an_invalidation() {
        let tracking = Tracking::default();
        tracking.set_max_keys(1);
        let reader = client(1, 3);
        tracking.enable(&reader, &Mode::default(), None);
        tracking.remember(1, [b"a".as_slice(), b"b"].into_iter());
        tracking.enforce_limit();
        push_all(&tracking);
        assert_eq!(tracking.counts().keys, 1);
        assert!(received(&reader).starts_with(b">2\r\n$10\r\ninvalidate\r\n*1\r\n"));
    }
}
