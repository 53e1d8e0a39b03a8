//! Prefetch hints change nothing and accept anything: keys of every type (small and big
//! collections, strings, lists), missing keys, more members than are used, empty lists.

use redistill_store::{Store, ZAddOptions};

#[test]
fn prefetch_hints_change_nothing() {
    let store = Store::new();
    let names: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let members: Vec<&[u8]> = names.iter().map(|m| m.as_bytes()).collect();
    for (key, n) in [(&b"big"[..], 300), (b"small", 3)] {
        store
            .sadd(0, &[b"set:", key].concat(), &members[..n])
            .unwrap();
        let pairs: Vec<(&[u8], &[u8])> = members[..n].iter().map(|m| (*m, *m)).collect();
        store.hset(0, &[b"hash:", key].concat(), &pairs).unwrap();
        let scored: Vec<(f64, &[u8])> = members[..n].iter().map(|m| (1.0, *m)).collect();
        store
            .zadd(
                0,
                &[b"zset:", key].concat(),
                &scored,
                ZAddOptions::default(),
            )
            .unwrap();
    }
    store.set(0, b"string", b"v", Default::default()).unwrap();
    store.rpush(0, b"list", &[b"a"]).unwrap();
    let keys: [&[u8]; 9] = [
        b"set:big",
        b"set:small",
        b"hash:big",
        b"hash:small",
        b"zset:big",
        b"zset:small",
        b"string",
        b"list",
        b"missing",
    ];
    let summary = |store: &Store| {
        let mut all = store.smembers(0, b"set:big").unwrap();
        all.sort();
        (
            store.dbsize(0).unwrap(),
            all,
            store.hlen(0, b"hash:big").unwrap(),
            store.zcard(0, b"zset:big").unwrap(),
            store.get(0, b"string").unwrap(),
        )
    };
    let before = summary(&store);
    store.prefetch(0, keys);
    store.prefetch(0, keys.iter().cycle().take(200).copied());
    for key in keys {
        store.prefetch_members(0, key, &members);
        store.prefetch_members(0, key, &[]);
    }
    store.prefetch_members(99, b"set:big", &members);
    assert_eq!(summary(&store), before);
}
