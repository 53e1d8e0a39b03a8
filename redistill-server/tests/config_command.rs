//! The CONFIG command over a socket: several parameters at once, all or nothing, several
//! patterns, and REWRITE of a file written by hand. Expected replies were taken from
//! Redis 7.0.15 answering the same commands.

mod common;

use common::{TestServer, exchange, info};

/// A RESP2 command from its words.
fn command(words: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", words.len()).into_bytes();
    for word in words {
        out.extend_from_slice(format!("${}\r\n{word}\r\n", word.len()).as_bytes());
    }
    out
}

/// The RESP2 reply to `CONFIG GET`: a flat array of names and values.
fn pairs(pairs: &[(&str, &str)]) -> Vec<u8> {
    let words: Vec<&str> = pairs.iter().flat_map(|(n, v)| [*n, *v]).collect();
    let mut out = format!("*{}\r\n", words.len()).into_bytes();
    for word in words {
        out.extend_from_slice(format!("${}\r\n{word}\r\n", word.len()).as_bytes());
    }
    out
}

#[test]
fn set_applies_every_pair_or_none() {
    let server = TestServer::start();
    let mut s = server.raw();
    exchange(
        &mut s,
        &command(&[
            "CONFIG",
            "SET",
            "maxmemory",
            "1mb",
            "maxmemory-policy",
            "allkeys-lru",
        ]),
        b"+OK\r\n",
    );
    assert_eq!(info(&mut s, "memory")["maxmemory"], "1048576");
    assert_eq!(info(&mut s, "memory")["maxmemory_policy"], "allkeys-lru");

    // A refused value anywhere leaves every earlier one unapplied, in the configuration
    // and in the store.
    exchange(
        &mut s,
        &command(&[
            "CONFIG",
            "SET",
            "maxmemory",
            "2mb",
            "timeout",
            "5",
            "maxmemory-policy",
            "nosuch",
        ]),
        b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - \
          argument(s) must be one of the following: volatile-lru, volatile-lfu, \
          volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, \
          noeviction, allkeys-s3fifo\r\n",
    );
    exchange(
        &mut s,
        &command(&["CONFIG", "GET", "maxmemory", "timeout", "maxmemory-policy"]),
        &pairs(&[
            ("maxmemory", "1048576"),
            ("timeout", "0"),
            ("maxmemory-policy", "allkeys-lru"),
        ]),
    );
    assert_eq!(info(&mut s, "memory")["maxmemory"], "1048576");

    let refusals: &[(&[&str], &[u8])] = &[
        (
            &["timeout", "1", "databases", "2", "nosuch", "3"],
            b"-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set \
              immutable config\r\n",
        ),
        (
            &["nosuch", "1", "databases", "2"],
            b"-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n",
        ),
        (
            &["timeout", "1", "TIMEOUT", "2"],
            b"-ERR CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate \
              parameter\r\n",
        ),
        (&["timeout", "1", "maxmemory"], b"-ERR syntax error\r\n"),
        (
            &["timeout"],
            b"-ERR wrong number of arguments for 'config|set' command\r\n",
        ),
    ];
    for (args, reply) in refusals {
        let mut words = vec!["CONFIG", "SET"];
        words.extend_from_slice(args);
        exchange(&mut s, &command(&words), reply);
    }
    exchange(
        &mut s,
        &command(&["CONFIG", "GET", "timeout"]),
        &pairs(&[("timeout", "0")]),
    );
}

#[test]
fn zset_settings_from_the_config_and_from_config_set_reach_the_store() {
    let server = TestServer::with_config(|c| {
        c.memory.zset_max_listpack_entries = 5;
        c.memory.zset_max_listpack_value = 32;
    });
    assert_eq!(server.store().zset_max_listpack_entries(), 5);
    assert_eq!(server.store().zset_max_listpack_value(), 32);
    let mut s = server.raw();
    exchange(
        &mut s,
        &command(&[
            "CONFIG",
            "SET",
            "zset-max-ziplist-entries",
            "0",
            "zset-max-listpack-value",
            "1kb",
        ]),
        b"+OK\r\n",
    );
    assert_eq!(server.store().zset_max_listpack_entries(), 0);
    assert_eq!(server.store().zset_max_listpack_value(), 1024);
    exchange(
        &mut s,
        &command(&["CONFIG", "GET", "zset-max-ziplist-value"]),
        &pairs(&[("zset-max-ziplist-value", "1024")]),
    );
    // A refused value changes neither setting.
    exchange(
        &mut s,
        &command(&[
            "CONFIG",
            "SET",
            "zset-max-listpack-value",
            "3",
            "zset-max-listpack-entries",
            "-1",
        ]),
        b"-ERR CONFIG SET failed (possibly related to argument 'zset-max-listpack-entries') - \
          argument must be between 0 and 9223372036854775807 inclusive\r\n",
    );
    assert_eq!(server.store().zset_max_listpack_entries(), 0);
    assert_eq!(server.store().zset_max_listpack_value(), 1024);
}

#[test]
fn list_settings_from_the_config_and_from_config_set_reach_the_store() {
    let server = TestServer::with_config(|c| {
        c.memory.list_max_listpack_size = 7;
        c.memory.list_compress_depth = 2;
    });
    assert_eq!(server.store().list_max_listpack_size(), 7);
    assert_eq!(server.store().list_compress_depth(), 2);
    let mut s = server.raw();
    exchange(
        &mut s,
        &command(&[
            "CONFIG",
            "SET",
            "list-max-ziplist-size",
            "-5",
            "list-compress-depth",
            "0",
        ]),
        b"+OK\r\n",
    );
    assert_eq!(server.store().list_max_listpack_size(), -5);
    assert_eq!(server.store().list_compress_depth(), 0);
    exchange(
        &mut s,
        &command(&["CONFIG", "GET", "list-max-listpack-size"]),
        &pairs(&[("list-max-listpack-size", "-5")]),
    );
    // A refused value changes neither setting.
    exchange(
        &mut s,
        &command(&[
            "CONFIG",
            "SET",
            "list-max-listpack-size",
            "3",
            "list-compress-depth",
            "-1",
        ]),
        b"-ERR CONFIG SET failed (possibly related to argument 'list-compress-depth') - \
          argument must be between 0 and 2147483647 inclusive\r\n",
    );
    assert_eq!(server.store().list_max_listpack_size(), -5);
    assert_eq!(server.store().list_compress_depth(), 0);
}

#[test]
fn set_settings_from_the_config_and_from_config_set_reach_the_store() {
    let server = TestServer::with_config(|c| {
        c.memory.set_max_intset_entries = 3;
        c.memory.set_max_listpack_entries = 4;
        c.memory.set_max_listpack_value = 5;
    });
    let store = server.store();
    assert_eq!(store.set_max_intset_entries(), 3);
    assert_eq!(store.set_max_listpack_entries(), 4);
    assert_eq!(store.set_max_listpack_value(), 5);
    let mut s = server.raw();
    exchange(
        &mut s,
        &command(&[
            "CONFIG",
            "SET",
            "set-max-intset-entries",
            "0",
            "set-max-listpack-entries",
            "1",
            "set-max-listpack-value",
            "2",
        ]),
        b"+OK\r\n",
    );
    assert_eq!(store.set_max_intset_entries(), 0);
    assert_eq!(store.set_max_listpack_entries(), 1);
    assert_eq!(store.set_max_listpack_value(), 2);
    exchange(
        &mut s,
        &command(&["CONFIG", "GET", "set-max-listpack-value"]),
        &pairs(&[("set-max-listpack-value", "2")]),
    );
    exchange(
        &mut s,
        &command(&["CONFIG", "SET", "set-max-intset-entries", "-1"]),
        b"-ERR CONFIG SET failed (possibly related to argument 'set-max-intset-entries') - \
          argument must be between 0 and 9223372036854775807 inclusive\r\n",
    );
    assert_eq!(store.set_max_intset_entries(), 0);
}

#[test]
fn get_takes_several_patterns_and_answers_each_parameter_once() {
    let server = TestServer::start();
    let mut s = server.raw();
    exchange(
        &mut s,
        &command(&[
            "CONFIG",
            "GET",
            "maxmemory",
            "*policy*",
            "MaxMemory",
            "nosuch",
        ]),
        &pairs(&[("maxmemory", "0"), ("maxmemory-policy", "noeviction")]),
    );
    // A name is answered as it was asked; a pattern matches aliases too.
    exchange(
        &mut s,
        &command(&["CONFIG", "GET", "Timeout", "timeout", "TIME*"]),
        &pairs(&[("Timeout", "0")]),
    );
    exchange(
        &mut s,
        &command(&[
            "CONFIG",
            "GET",
            "hash-max-*-entries",
            "HASH-MAX-ZIPLIST-ENTRIES",
        ]),
        &pairs(&[
            ("hash-max-listpack-entries", "512"),
            ("hash-max-ziplist-entries", "512"),
        ]),
    );
    exchange(
        &mut s,
        &command(&["CONFIG", "GET", "HASH-MAX-ZIPLIST-VALUE"]),
        &pairs(&[("HASH-MAX-ZIPLIST-VALUE", "64")]),
    );
    exchange(
        &mut s,
        &command(&["CONFIG", "GET"]),
        b"-ERR wrong number of arguments for 'config|get' command\r\n",
    );
}

/// REWRITE edits a file written by hand in place: comments, dotted and quoted keys,
/// inline tables and multi-line strings stay; a legacy key gives way to its current name.
#[test]
fn rewrite_keeps_what_the_file_says_and_how() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("redistill.toml");
    let text = "# Cache for the web tier.\n\
                server.\"timeout\" = 7 # seconds\n\
                memory = { max_memory = \"1gb\" }\n\n\
                [persistence]\n\
                snapshot_path = \"\"\"\n\
                cache.rdb\"\"\"\n\n\
                [logging]\n\
                level = \"info\" # the old name\n";
    std::fs::write(&path, text).unwrap();
    let loaded = redistill_server::config::ConfigLoader::new()
        .file(&path)
        .load()
        .unwrap()
        .config;
    let server = TestServer::with_config(move |c| {
        c.server.timeout = loaded.server.timeout;
        c.memory.max_memory = loaded.memory.max_memory;
        c.server.log_level = loaded.server.log_level;
        c.persistence.snapshot_path = loaded.persistence.snapshot_path;
        c.source = loaded.source;
    });
    let mut s = server.raw();
    exchange(
        &mut s,
        &command(&[
            "CONFIG",
            "SET",
            "timeout",
            "0",
            "maxmemory",
            "2mb",
            "hz",
            "20",
        ]),
        b"+OK\r\n",
    );
    exchange(&mut s, &command(&["CONFIG", "REWRITE"]), b"+OK\r\n");
    let new = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        new,
        "# Cache for the web tier.\n\
         server.\"timeout\" = 0 # seconds\n\
         server.hz = 20\n\
         # level = \"info\" (now server.log_level)\n\
         server.log_level = \"notice\"\n\
         memory = { max_memory = 2097152 }\n\n\
         [persistence]\n\
         snapshot_path = \"\"\"\n\
         cache.rdb\"\"\"\n\n\
         [logging]\n"
    );
    let again = redistill_server::config::ConfigLoader::new()
        .file(&path)
        .load()
        .unwrap()
        .config;
    assert_eq!(again.server.timeout, 0);
    assert_eq!(again.server.hz, 20);
    assert_eq!(again.memory.max_memory, 2 << 20);
    assert_eq!(again.persistence.snapshot_path.to_str(), Some("cache.rdb"));
}
