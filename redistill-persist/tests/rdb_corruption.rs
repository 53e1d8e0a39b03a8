//! DUMP payloads under damage: any changed, missing or extra byte is refused, as a
//! checksum error while the CRC still covers the change, and as bad data once the CRC has
//! been recomputed over malformed contents; decoding never panics.

use bytes::Bytes;
use proptest::prelude::*;
use redistill_persist::Value;
use redistill_persist::rdb::{DumpError, Layout, RDB_VERSION, crc64, decode_dump, encode_dump};

fn member() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        any::<i64>().prop_map(|n| Bytes::from(n.to_string())),
        (0u32..200).prop_map(|n| Bytes::from(n.to_string())),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Bytes::from),
    ]
}

fn unique<T, K: Ord + Clone>(items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut seen = std::collections::BTreeSet::new();
    items.into_iter().filter(|i| seen.insert(key(i))).collect()
}

fn value() -> impl Strategy<Value = Value> {
    let members = || proptest::collection::vec(member(), 1..30);
    prop_oneof![
        member().prop_map(Value::String),
        any::<i64>().prop_map(Value::Integer),
        members().prop_map(Value::List),
        members().prop_map(|m| Value::Set(unique(m, Clone::clone))),
        proptest::collection::vec((member(), member()), 1..30)
            .prop_map(|p| Value::Hash(unique(p, |(f, _)| f.clone()))),
        proptest::collection::vec((member(), -1e6f64..1e6), 1..30).prop_map(|p| {
            let mut items = unique(p, |(m, _)| m.clone());
            items.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            Value::ZSet(items)
        }),
    ]
}

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![Just(Layout::Packed), Just(Layout::Table)]
}

/// Sets carry no order (an intset is written sorted): compare them sorted.
fn sorted_sets(value: Value) -> Value {
    match value {
        Value::Set(mut members) => {
            members.sort();
            Value::Set(members)
        }
        other => other,
    }
}

/// `body` with a footer whose CRC matches.
fn seal(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    out.extend_from_slice(&crc64(0, &out).to_le_bytes());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_flipped_byte_fails_the_checksum(
        v in value(), layout in layout(), at in any::<prop::sample::Index>(), mask in 1u8..,
    ) {
        let mut payload = encode_dump(&v, layout);
        let i = at.index(payload.len());
        payload[i] ^= mask;
        prop_assert_eq!(decode_dump(&payload), Err(DumpError::VersionOrChecksum));
    }

    #[test]
    fn cut_or_extended_payloads_are_refused(
        v in value(), layout in layout(), at in any::<prop::sample::Index>(),
        extra in proptest::collection::vec(any::<u8>(), 1..8),
    ) {
        let payload = encode_dump(&v, layout);
        let cut = at.index(payload.len());
        prop_assert!(decode_dump(&payload[..cut]).is_err());
        // Dropping leading zero bytes keeps a CRC that starts from 0 unchanged (in Redis
        // too), so either error may come; what matters is that one does.
        prop_assert!(decode_dump(&payload[cut.max(1)..]).is_err());
        let mut longer = payload.clone();
        longer.splice(cut..cut, extra.iter().copied());
        prop_assert!(decode_dump(&longer).is_err());
    }

    #[test]
    fn resealed_damage_is_bad_data_or_another_valid_value(
        v in value(), layout in layout(), at in any::<prop::sample::Index>(), byte in any::<u8>(),
        extra in proptest::collection::vec(any::<u8>(), 1..8),
    ) {
        let payload = encode_dump(&v, layout);
        let body = &payload[..payload.len() - 10];
        let i = at.index(body.len());
        // A changed byte may still spell a valid value (a string's content); if the result
        // decodes, writing it again must decode to the same value.
        let mut changed = body.to_vec();
        changed[i] = byte;
        match decode_dump(&seal(&changed)) {
            Ok(other) => {
                let again = decode_dump(&encode_dump(&other, layout)).map(sorted_sets);
                prop_assert_eq!(again, Ok(sorted_sets(other)));
            }
            Err(e) => prop_assert!(matches!(e, DumpError::BadData(_)), "{:?}", e),
        }
        // A value cut short or followed by stray bytes is always malformed.
        prop_assert!(matches!(decode_dump(&seal(&body[..i])), Err(DumpError::BadData(_))));
        let longer = [body, &extra[..]].concat();
        prop_assert!(matches!(decode_dump(&seal(&longer)), Err(DumpError::BadData(_))));
    }

    #[test]
    fn arbitrary_sealed_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_dump(&seal(&body));
    }
}

#[test]
fn huge_claims_in_tiny_payloads_are_bad_data() {
    for body in [
        &b"\x02\x80\xff\xff\xff\xff"[..], // a set of 2^32 - 1 members
        b"\x01\x81\x7f\xff\xff\xff\xff\xff\xff\xff", // a list of 2^63 - 1 elements
        b"\x00\x80\xff\xff\xff\xff",      // a 4 GiB string
        b"\x00\xc3\x03\x81\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", // LZF to 2^56
        b"\x12\x80\x10\x00\x00\x00",      // a quicklist of 2^28 nodes
        b"\x10\x80\xff\xff\xff\xf0",      // a listpack blob of 4 GiB
    ] {
        assert!(
            matches!(decode_dump(&seal(body)), Err(DumpError::BadData(_))),
            "{body:?}"
        );
    }
}
