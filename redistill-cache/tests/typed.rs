//! The typed layer with both codecs.

use std::collections::BTreeMap;
use std::time::Duration;

use redistill_cache::{Cache, Codec, Json, ManualClock, Postcard, TypedCache};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct User {
    id: u64,
    name: String,
    tags: Vec<String>,
    scores: BTreeMap<String, f64>,
}

fn user(id: u64) -> User {
    User {
        id,
        name: format!("user {id}"),
        tags: vec!["a".into(), "b".into()],
        scores: [("x".to_string(), 1.5)].into_iter().collect(),
    }
}

fn round_trip<C: Codec>() {
    let clock = ManualClock::new(0);
    let cache = Cache::builder()
        .clock(clock.clone())
        .no_background_expiry()
        .build();
    let users: TypedCache<(String, u64), User, C> = TypedCache::new(cache);
    let key = ("tenant".to_string(), 7);
    assert_eq!(users.get(&key), None);
    users.insert(&key, &user(7)).expect("encodes");
    assert_eq!(users.get(&key), Some(user(7)));
    assert!(users.contains_key(&key));
    users
        .insert_with_ttl(&key, &user(8), Duration::from_secs(1))
        .expect("encodes");
    assert_eq!(users.ttl(&key), Some(Duration::from_secs(1)));
    clock.advance(1_000);
    assert_eq!(users.get(&key), None);
    let loaded = users.get_or_insert_with(&key, || user(9)).expect("encodes");
    assert_eq!(loaded, user(9));
    assert_eq!(
        users
            .get_or_insert_with(&key, || user(10))
            .expect("encodes"),
        user(9)
    );
    assert_eq!(users.remove(&key), Some(user(9)));
    assert_eq!(users.raw().len(), 0);
}

#[test]
fn postcard_round_trips() {
    round_trip::<Postcard>();
}

#[test]
fn json_round_trips() {
    round_trip::<Json>();
}

#[test]
fn postcard_is_smaller_than_json() {
    let p = Postcard::encode(&user(1)).unwrap();
    let j = Json::encode(&user(1)).unwrap();
    assert!(p.len() < j.len() / 2, "{} vs {}", p.len(), j.len());
}

#[test]
fn undecodable_values_read_as_absent_and_try_get_tells() {
    let typed: TypedCache<String, User, Json> = TypedCache::new(Cache::new());
    typed.raw().insert("\"k\"", "not json");
    assert_eq!(typed.get(&"k".to_string()), None);
    assert!(typed.try_get(&"k".to_string()).is_err());
}

#[test]
fn json_refuses_non_string_map_keys() {
    let typed: TypedCache<u8, BTreeMap<(u8, u8), u8>, Json> = TypedCache::new(Cache::new());
    let v: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
    assert!(typed.insert(&1, &v).is_err());
    assert!(!typed.contains_key(&1));
}

#[test]
fn typed_loaders_coalesce_too() {
    let typed: TypedCache<u32, String> = TypedCache::new(Cache::new());
    let calls = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                let v = typed
                    .get_or_insert_with(&1, || {
                        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        "one".to_string()
                    })
                    .unwrap();
                assert_eq!(v, "one");
            });
        }
    });
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}
