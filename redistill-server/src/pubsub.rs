//! The Pub/Sub registry every worker shares: who is subscribed to which channel, shard
//! channel and pattern, and delivery of a published message to each of them.
//!
//! A subscriber is its client's [`Outbox`]: publishing appends the message, encoded once per
//! protocol version, to each subscriber's outbox (a short lock each) and the owning worker
//! sends it. So one publisher's messages reach every subscriber in publish order, a
//! subscriber on another worker costs the publisher only the append, and one that does not
//! read costs it nothing more (its outbox stops growing at its cap).
//!
//! While nobody subscribes, PUBLISH costs two relaxed loads; no other command pays
//! anything.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use parking_lot::RwLock;
use redistill_resp::{Version, encode};
use redistill_store::glob_match;

use crate::clients::ClientInfo;
use crate::push::Outbox;

/// One subscribed client: where its messages go, and its record (its protocol version,
/// which decides how messages are framed).
#[derive(Debug, Clone)]
pub(crate) struct Subscriber {
    pub outbox: Arc<Outbox>,
    pub info: Arc<ClientInfo>,
}

impl Subscriber {
    fn id(&self) -> u64 {
        self.info.id
    }

    fn version(&self) -> Version {
        if self.info.resp.load(Ordering::Relaxed) == 3 {
            Version::Resp3
        } else {
            Version::Resp2
        }
    }
}

/// The two namespaces of channels: classic channels (SUBSCRIBE, PUBLISH, also matched by
/// patterns) and shard channels (SSUBSCRIBE, SPUBLISH), which on one node are simply a
/// separate namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Namespace {
    Classic,
    Shard,
}

/// A map from a name (channel or pattern) to its subscribers, in subscription order, with
/// its size readable without the lock.
#[derive(Default)]
struct Table {
    map: RwLock<ahash::HashMap<Bytes, Vec<Subscriber>>>,
    len: AtomicUsize,
}

impl Table {
    /// Adds `subscriber` under `name`; false if it was there already.
    fn add(&self, name: &Bytes, subscriber: &Subscriber) -> bool {
        let mut map = self.map.write();
        let subscribers = map.entry(name.clone()).or_default();
        if subscribers.iter().any(|s| s.id() == subscriber.id()) {
            return false;
        }
        subscribers.push(subscriber.clone());
        self.len.store(map.len(), Ordering::Relaxed);
        true
    }

    /// Removes client `id` from `name`'s subscribers; false if it was not there.
    fn remove(&self, name: &[u8], id: u64) -> bool {
        let mut map = self.map.write();
        let Some(subscribers) = map.get_mut(name) else {
            return false;
        };
        let before = subscribers.len();
        subscribers.retain(|s| s.id() != id);
        let removed = subscribers.len() != before;
        if subscribers.is_empty() {
            map.remove(name);
        }
        self.len.store(map.len(), Ordering::Relaxed);
        removed
    }

    fn is_empty(&self) -> bool {
        self.len.load(Ordering::Relaxed) == 0
    }
}

/// Every subscription of every client.
#[derive(Default)]
pub(crate) struct PubSub {
    channels: Table,
    shard_channels: Table,
    patterns: Table,
}

/// What one client is subscribed to, kept by its connection (the registry holds the
/// other direction).
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    pub channels: ahash::HashSet<Bytes>,
    pub patterns: ahash::HashSet<Bytes>,
    pub shard_channels: ahash::HashSet<Bytes>,
}

impl Subscriptions {
    /// No subscription at all: the client is not in Pub/Sub mode.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.patterns.is_empty() && self.shard_channels.is_empty()
    }

    /// The count SUBSCRIBE, PSUBSCRIBE and their UNSUBSCRIBE answer with: channels and
    /// patterns, shard channels apart.
    pub fn classic_count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// The set of a namespace's channels.
    pub fn of(&mut self, namespace: Namespace) -> &mut ahash::HashSet<Bytes> {
        match namespace {
            Namespace::Classic => &mut self.channels,
            Namespace::Shard => &mut self.shard_channels,
        }
    }
}

/// A message framed for each protocol version, encoded on first need.
struct Frames<'a> {
    parts: [&'a [u8]; 4],
    len: usize,
    resp2: Option<Vec<u8>>,
    resp3: Option<Vec<u8>>,
}

impl<'a> Frames<'a> {
    fn new(parts: [&'a [u8]; 4], len: usize) -> Self {
        Frames {
            parts,
            len,
            resp2: None,
            resp3: None,
        }
    }

    fn get(&mut self, version: Version) -> &[u8] {
        let slot = match version {
            Version::Resp3 => &mut self.resp3,
            _ => &mut self.resp2,
        };
        let parts = &self.parts[..self.len];
        slot.get_or_insert_with(|| {
            let size = 16 + parts.iter().map(|p| p.len() + 16).sum::<usize>();
            let mut frame = Vec::with_capacity(size);
            encode::write_push_header(&mut frame, version, parts.len());
            for part in parts {
                encode::write_bulk(&mut frame, part);
            }
            frame
        })
    }
}

impl PubSub {
    /// Subscribes `subscriber` to `channel`; false if it already was.
    pub fn subscribe(
        &self,
        namespace: Namespace,
        channel: &Bytes,
        subscriber: &Subscriber,
    ) -> bool {
        self.table(namespace).add(channel, subscriber)
    }

    /// Unsubscribes client `id` from `channel`; false if it was not subscribed.
    pub fn unsubscribe(&self, namespace: Namespace, channel: &[u8], id: u64) -> bool {
        self.table(namespace).remove(channel, id)
    }

    pub fn psubscribe(&self, pattern: &Bytes, subscriber: &Subscriber) -> bool {
        self.patterns.add(pattern, subscriber)
    }

    pub fn punsubscribe(&self, pattern: &[u8], id: u64) -> bool {
        self.patterns.remove(pattern, id)
    }

    fn table(&self, namespace: Namespace) -> &Table {
        match namespace {
            Namespace::Classic => &self.channels,
            Namespace::Shard => &self.shard_channels,
        }
    }

    /// Hands `message` to every subscriber of `channel` (for classic channels, then to
    /// every client subscribed to a matching pattern, once per pattern) through `deliver`,
    /// framed for its protocol; the number of deliveries, which PUBLISH answers.
    pub fn publish(
        &self,
        namespace: Namespace,
        channel: &[u8],
        message: &[u8],
        mut deliver: impl FnMut(&Arc<Outbox>, &[u8]),
    ) -> usize {
        let mut receivers = 0;
        let table = self.table(namespace);
        if !table.is_empty() {
            let kind: &[u8] = match namespace {
                Namespace::Classic => b"message",
                Namespace::Shard => b"smessage",
            };
            let map = table.map.read();
            if let Some(subscribers) = map.get(channel) {
                let mut frames = Frames::new([kind, channel, message, b""], 3);
                for subscriber in subscribers {
                    deliver(&subscriber.outbox, frames.get(subscriber.version()));
                }
                receivers += subscribers.len();
            }
        }
        if namespace == Namespace::Classic && !self.patterns.is_empty() {
            let map = self.patterns.map.read();
            for (pattern, subscribers) in map.iter() {
                if !glob_match(pattern, channel) {
                    continue;
                }
                let mut frames = Frames::new([b"pmessage", pattern, channel, message], 4);
                for subscriber in subscribers {
                    deliver(&subscriber.outbox, frames.get(subscriber.version()));
                }
                receivers += subscribers.len();
            }
        }
        receivers
    }

    /// The channels of a namespace that have subscribers, those matching `pattern` if
    /// one is given (PUBSUB CHANNELS, SHARDCHANNELS).
    pub fn channels(&self, namespace: Namespace, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.table(namespace)
            .map
            .read()
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c)))
            .cloned()
            .collect()
    }

    /// How many clients subscribe to `channel` itself, patterns aside (PUBSUB NUMSUB).
    pub fn subscriber_count(&self, namespace: Namespace, channel: &[u8]) -> usize {
        let table = self.table(namespace);
        if table.is_empty() {
            return 0;
        }
        table.map.read().get(channel).map_or(0, Vec::len)
    }

    /// Channels with subscribers (INFO `pubsub_channels`, `pubsubshard_channels`).
    pub fn channel_count(&self, namespace: Namespace) -> usize {
        self.table(namespace).len.load(Ordering::Relaxed)
    }

    /// Patterns with subscribers (PUBSUB NUMPAT, INFO `pubsub_patterns`).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len.load(Ordering::Relaxed)
    }

    /// Drops every subscription of client `id`, whose own record is `subscriptions`
    /// (emptied), without telling it: RESET, and a client leaving.
    pub fn drop_all(&self, subscriptions: &mut Subscriptions, id: u64) {
        for channel in subscriptions.channels.drain() {
            self.channels.remove(&channel, id);
        }
        for channel in subscriptions.shard_channels.drain() {
            self.shard_channels.remove(&channel, id);
        }
        for pattern in subscriptions.patterns.drain() {
            self.patterns.remove(&pattern, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn subscriber(id: u64, resp: u8) -> Subscriber {
        let addr: SocketAddr = "127.0.0.1:1".parse().expect("address");
        let info = Arc::new(ClientInfo::new(id, addr, None, 0, 0, -1));
        info.resp.store(resp, Ordering::Relaxed);
        Subscriber {
            outbox: Arc::new(Outbox::new(0, 0, id)),
            info,
        }
    }

    fn publish(pubsub: &PubSub, namespace: Namespace, channel: &[u8]) -> (usize, Vec<Vec<u8>>) {
        let mut frames = Vec::new();
        let n = pubsub.publish(namespace, channel, b"hi", |_, frame| {
            frames.push(frame.to_vec());
        });
        (n, frames)
    }

    #[test]
    fn a_client_matching_by_channel_and_pattern_receives_twice() {
        let pubsub = PubSub::default();
        let a = subscriber(1, 2);
        assert!(pubsub.subscribe(Namespace::Classic, &Bytes::from_static(b"news"), &a));
        assert!(!pubsub.subscribe(Namespace::Classic, &Bytes::from_static(b"news"), &a));
        assert!(pubsub.psubscribe(&Bytes::from_static(b"n*"), &a));
        let (n, frames) = publish(&pubsub, Namespace::Classic, b"news");
        assert_eq!(n, 2);
        assert_eq!(
            frames[0],
            b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
        );
        assert_eq!(
            frames[1],
            b"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
        );
        assert_eq!(publish(&pubsub, Namespace::Shard, b"news").0, 0);
    }

    #[test]
    fn resp3_subscribers_get_push_frames() {
        let pubsub = PubSub::default();
        let a = subscriber(1, 3);
        pubsub.subscribe(Namespace::Shard, &Bytes::from_static(b"s"), &a);
        let (n, frames) = publish(&pubsub, Namespace::Shard, b"s");
        assert_eq!(n, 1);
        assert_eq!(
            frames[0],
            b">3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$2\r\nhi\r\n"
        );
    }

    #[test]
    fn dropping_a_client_empties_its_channels() {
        let pubsub = PubSub::default();
        let a = subscriber(1, 2);
        let b = subscriber(2, 2);
        let mut subs = Subscriptions::default();
        for (name, who) in [(&b"x"[..], &a), (b"y", &a), (b"x", &b)] {
            let name = Bytes::copy_from_slice(name);
            pubsub.subscribe(Namespace::Classic, &name, who);
            if who.id() == 1 {
                subs.channels.insert(name);
            }
        }
        assert_eq!(pubsub.channel_count(Namespace::Classic), 2);
        pubsub.drop_all(&mut subs, 1);
        assert!(subs.is_empty());
        assert_eq!(
            pubsub.channels(Namespace::Classic, None),
            vec![Bytes::from_static(b"x")]
        );
        assert_eq!(pubsub.subscriber_count(Namespace::Classic, b"x"), 1);
    }
}
