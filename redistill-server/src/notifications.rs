//! Keyspace notifications: every change the store reports is published, as Redis does, on
//! `__keyspace@<db>__:<key>` (the event's name) and `__keyevent@<db>__:<event>` (the key),
//! for the classes `notify-keyspace-events` selects.
//!
//! The listener runs on the thread making the change, before the command's reply is
//! written, so subscribers get a change's notification before anyone gets its reply, as in
//! Redis. While notifications are off (the default) a change costs one relaxed load.
//!
//! Key misses (class `m`) are no change: the store reports each read of a missing key
//! only while [`Notifications::publishes_misses`] says they are published, so reads pay
//! nothing for them otherwise.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use redistill_store::{Change, Event};

use crate::pubsub::Namespace;
use crate::shared::Shared;

/// `K`: publish on `__keyspace@<db>__:<key>`.
const KEYSPACE: u32 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>`.
const KEYEVENT: u32 = 1 << 1;
const GENERIC: u32 = 1 << 2;
const STRING: u32 = 1 << 3;
const LIST: u32 = 1 << 4;
const SET: u32 = 1 << 5;
const HASH: u32 = 1 << 6;
const ZSET: u32 = 1 << 7;
const EXPIRED: u32 = 1 << 8;
const EVICTED: u32 = 1 << 9;
const STREAM: u32 = 1 << 10;
/// `m`: key misses, `keymiss` (not part of `A`).
const KEY_MISS: u32 = 1 << 11;
const MODULE: u32 = 1 << 12;
const NEW: u32 = 1 << 13;
/// `A`: every class but `m` and `n`.
const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The class letters, in the order Redis writes them back.
const CLASSES: [(char, u32); 11] = [
    ('g', GENERIC),
    ('$', STRING),
    ('l', LIST),
    ('s', SET),
    ('h', HASH),
    ('z', ZSET),
    ('x', EXPIRED),
    ('e', EVICTED),
    ('t', STREAM),
    ('d', MODULE),
    ('n', NEW),
];

/// Parses a `notify-keyspace-events` value as Redis does; Redis's error for a letter it
/// does not know.
pub(crate) fn parse(text: &str) -> Result<u32, &'static str> {
    let mut flags = 0;
    for c in text.chars() {
        flags |= match c {
            'A' => ALL,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            'm' => KEY_MISS,
            _ => CLASSES
                .iter()
                .find(|(letter, _)| *letter == c)
                .map(|(_, flag)| *flag)
                .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?,
        };
    }
    Ok(flags)
}

/// The value CONFIG GET answers for `flags`, normalized as Redis writes it: `A` for every
/// class (and then no `n`), else the class letters; then `K`, `E`, `m`.
pub(crate) fn format(flags: u32) -> String {
    let mut text = String::new();
    if flags & ALL == ALL {
        text.push('A');
    } else {
        text.extend(
            CLASSES
                .iter()
                .filter(|(_, flag)| flags & flag != 0)
                .map(|(letter, _)| *letter),
        );
    }
    for (flag, letter) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & flag != 0 {
            text.push(letter);
        }
    }
    text
}

/// The flag of an event's class.
fn class_flag(event: Event) -> u32 {
    match event.class() {
        'n' => NEW,
        'x' => EXPIRED,
        'e' => EVICTED,
        'g' => GENERIC,
        '$' => STRING,
        'h' => HASH,
        'l' => LIST,
        's' => SET,
        'z' => ZSET,
        't' => STREAM,
        'd' => MODULE,
        _ => 0,
    }
}

/// The classes to publish, and the server to publish through.
#[derive(Default)]
pub(crate) struct Notifications {
    flags: AtomicU32,
    shared: OnceLock<Weak<Shared>>,
}

impl Notifications {
    /// Publishes through `shared` from now on (the server, once it is shared).
    pub fn attach(shared: &Arc<Shared>) {
        let _ = shared.notifications.shared.set(Arc::downgrade(shared));
    }

    /// Applies a `notify-keyspace-events` value already checked by the configuration.
    pub fn configure(&self, text: &str) {
        self.flags
            .store(parse(text).unwrap_or_default(), Ordering::Relaxed);
    }

    /// Whether `keymiss` events are published: the `m` class and a channel kind are on.
    pub fn publishes_misses(&self) -> bool {
        let flags = self.flags.load(Ordering::Relaxed);
        flags & KEY_MISS != 0 && flags & (KEYSPACE | KEYEVENT) != 0
    }

    fn see(&self, change: &Change<'_>) {
        let flags = self.flags.load(Ordering::Relaxed);
        if flags & (KEYSPACE | KEYEVENT) == 0 {
            return;
        }
        let Change::Key { db, key, event } = change else {
            return;
        };
        if !event.notifies() || flags & class_flag(*event) == 0 {
            return;
        }
        self.publish(flags, *db, key, event.name());
    }

    /// A read found `key` of database `db` missing.
    fn missed(&self, db: usize, key: &[u8]) {
        let flags = self.flags.load(Ordering::Relaxed);
        if flags & KEY_MISS != 0 {
            self.publish(flags, db, key, "keymiss");
        }
    }

    /// Publishes `event` on `key` on the channel kinds `flags` select.
    fn publish(&self, flags: u32, db: usize, key: &[u8], event: &str) {
        let Some(shared) = self.shared.get().and_then(Weak::upgrade) else {
            return;
        };
        let name = event.as_bytes();
        let publish = |prefix: &str, suffix: &[u8], message: &[u8]| {
            let mut channel = Vec::with_capacity(prefix.len() + suffix.len() + 8);
            channel.extend_from_slice(prefix.as_bytes());
            channel.extend_from_slice(suffix);
            shared
                .pubsub
                .publish(Namespace::Classic, &channel, message, |outbox, frame| {
                    shared.push_message(outbox, frame);
                });
        };
        if flags & KEYSPACE != 0 {
            publish(&format!("__keyspace@{db}__:"), key, name);
        }
        if flags & KEYEVENT != 0 {
            publish(&format!("__keyevent@{db}__:"), name, key);
        }
    }
}

/// The store's listener for notifications: shares [`Notifications`] with the server.
pub(crate) struct NotificationListener(pub Arc<Notifications>);

impl NotificationListener {
    #[inline]
    pub(crate) fn see(&self, change: &Change<'_>) {
        self.0.see(change);
    }

    /// A read found a key missing (reported only while misses are published).
    pub(crate) fn missed(&self, db: usize, key: &[u8]) {
        self.0.missed(db, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_parsed_and_written_back_as_redis_does() {
        for (given, normalized) in [
            ("KEA", "AKE"),
            ("Kgm$lshzxetdn", "AKm"),
            ("AKEKnm", "AKEm"),
            ("x", "x"),
            ("Elg", "glE"),
            ("", ""),
            ("nK", "nK"),
        ] {
            assert_eq!(format(parse(given).expect("valid")), normalized, "{given}");
        }
        assert!(parse("foo").is_err());
    }
}
