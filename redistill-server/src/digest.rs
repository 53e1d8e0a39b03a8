//! DEBUG DIGEST's dataset signature, bit for bit Redis 7.0's: SHA1 digests of keys and
//! values combined so that unordered parts (the keys of a database, a set's members, a
//! hash's fields, a sorted set's members) are combined by XOR, which ignores their order,
//! and ordered parts (a list's elements) are chained, so that order changes the result.
//!
//! Two steps build everything:
//! - *xor*: SHA1 the bytes and XOR the hash into the digest (order-free);
//! - *mix*: xor, then replace the digest by the SHA1 of itself (order-bound).
//!
//! A value's digest mixes its type number (big-endian `u32`: string 0, list 1, set 2,
//! sorted set 3, hash 4), then its content: a string's bytes (an integer as its decimal
//! text); each list element in order; each set member xored; per sorted-set member or
//! hash field a digest of the member and its score (`%.17g` text) or of the field and its
//! value, mixed from zero and xored in; and a key with a TTL xors `!!expire!!` in. The
//! dataset's digest mixes each non-empty database's number (big-endian `u32`) and then xors
//! in each key's digest (the key mixed from zero, then its value's steps) as bytes.

use redistill_store::{SnapshotEntry, SnapshotValue, Store, StoreError};
use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};

/// A 20-byte digest; all zeros for nothing.
pub(crate) type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    let mut out = [0u8; 20];
    out.copy_from_slice(digest(&SHA1_FOR_LEGACY_USE_ONLY, data).as_ref());
    out
}

/// Adds `data` to `d` without regard to order.
fn xor_in(d: &mut Digest, data: &[u8]) {
    for (a, b) in d.iter_mut().zip(sha1(data)) {
        *a ^= b;
    }
}

/// Adds `data` to `d` so that what comes after depends on it.
fn mix_in(d: &mut Digest, data: &[u8]) {
    xor_in(d, data);
    *d = sha1(d);
}

/// The digest of one pair (member and score, field and value), mixed from zero.
fn pair_digest(a: &[u8], b: &[u8]) -> Digest {
    let mut d = [0u8; 20];
    mix_in(&mut d, a);
    mix_in(&mut d, b);
    d
}

/// Adds a value (and its TTL's marker) to `d`, as Redis's `xorObjectDigest`.
fn add_value(d: &mut Digest, entry: &SnapshotEntry) {
    let type_number: u32 = match &entry.value {
        SnapshotValue::String(_) | SnapshotValue::Integer(_) => 0,
        SnapshotValue::List(_) => 1,
        SnapshotValue::Set(_) => 2,
        SnapshotValue::ZSet(_) => 3,
        SnapshotValue::Hash(_) => 4,
        // Types added later have no digest of their own yet: their type number alone.
        _ => u32::MAX,
    };
    mix_in(d, &type_number.to_be_bytes());
    match &entry.value {
        SnapshotValue::String(s) => mix_in(d, s),
        SnapshotValue::Integer(n) => mix_in(d, n.to_string().as_bytes()),
        SnapshotValue::List(elements) => elements.iter().for_each(|e| mix_in(d, e)),
        SnapshotValue::Set(members) => members.iter().for_each(|m| xor_in(d, m)),
        SnapshotValue::ZSet(items) => {
            for (member, score) in items {
                let score = redistill_resp::double_text(*score);
                xor_in(d, &pair_digest(member, score.as_bytes()));
            }
        }
        SnapshotValue::Hash(pairs) => {
            for (field, value) in pairs {
                xor_in(d, &pair_digest(field, value));
            }
        }
        _ => {}
    }
    if entry.expire_at_ms.is_some() {
        xor_in(d, b"!!expire!!");
    }
}

/// DEBUG DIGEST-VALUE's digest of one value; zeros for a missing key.
pub(crate) fn value_digest(entry: Option<&SnapshotEntry>) -> Digest {
    let mut d = [0u8; 20];
    if let Some(entry) = entry {
        add_value(&mut d, entry);
    }
    d
}

/// DEBUG DIGEST's digest of every database; zeros for an empty keyspace.
pub(crate) fn dataset_digest(store: &Store) -> Result<Digest, StoreError> {
    let mut total = [0u8; 20];
    let mut batch = Vec::new();
    for db in 0..store.databases() {
        let mut cursor = 0;
        let mut first = true;
        loop {
            cursor = store.snapshot_batch(db, cursor, &mut batch)?;
            if first && !batch.is_empty() {
                mix_in(
                    &mut total,
                    &u32::try_from(db).unwrap_or(u32::MAX).to_be_bytes(),
                );
                first = false;
            }
            for entry in &batch {
                let mut d = [0u8; 20];
                mix_in(&mut d, &entry.key);
                add_value(&mut d, entry);
                xor_in(&mut total, &d);
            }
            if cursor == 0 {
                break;
            }
        }
    }
    Ok(total)
}

/// A digest as the 40 lower-case hex digits DEBUG replies.
pub(crate) fn hex(d: &Digest) -> String {
    use std::fmt::Write as _;
    d.iter().fold(String::with_capacity(40), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn entry(value: SnapshotValue, ttl: bool) -> SnapshotEntry {
        SnapshotEntry {
            key: Bytes::from_static(b"k"),
            expire_at_ms: ttl.then_some(1),
            value,
        }
    }

    /// Figures from redis-server 7.0.15: `SET s hello`, `ZADD z 0.1 a`.
    #[test]
    fn values_digest_as_redis_does() {
        let s = entry(SnapshotValue::String(Bytes::from_static(b"hello")), false);
        assert_eq!(
            hex(&value_digest(Some(&s))),
            "36b23a1456b2dce2c3ed252c456761301dba8060"
        );
        let z = entry(
            SnapshotValue::ZSet(vec![(Bytes::from_static(b"a"), 0.1)]),
            false,
        );
        assert_eq!(
            hex(&value_digest(Some(&z))),
            "b07654932c32238dbd9b8626f0dc40f18d973527"
        );
        assert_eq!(hex(&value_digest(None)), "0".repeat(40));
    }

    #[test]
    fn a_ttl_and_list_order_change_the_digest_but_set_order_does_not() {
        let list = |v: [&'static [u8]; 2]| SnapshotValue::List(v.map(Bytes::from_static).into());
        let set = |v: [&'static [u8]; 2]| SnapshotValue::Set(v.map(Bytes::from_static).into());
        let d = |v, ttl| value_digest(Some(&entry(v, ttl)));
        assert_ne!(d(list([b"a", b"b"]), false), d(list([b"b", b"a"]), false));
        assert_eq!(d(set([b"a", b"b"]), false), d(set([b"b", b"a"]), false));
        assert_ne!(d(set([b"a", b"b"]), false), d(set([b"a", b"b"]), true));
    }

    #[test]
    fn an_empty_store_digests_to_zeros() {
        let store = Store::new();
        assert_eq!(dataset_digest(&store).ok(), Some([0u8; 20]));
    }
}
