"""redis-py's client-side cache (RESP3 CLIENT TRACKING) against a running redistill: a
cached GET is served locally until another client writes the key, and the server's
invalidation makes the next GET read the new value.

Usage: python3 redis_py_cache_test.py PORT   (needs `pip install redis`, 5.1 or later)
Prints one line per check and a closing 'N passed, N failed' line; exits non-zero on failure.
"""
import sys
import time

import redis
from redis.cache import CacheConfig

from checks import check, finish

PORT = int(sys.argv[1])

# redis-py offers its cache only to servers announcing Redis 7.4 or later, a policy of the
# client's; what it uses (HELLO 3, CLIENT TRACKING ON, invalidate pushes) is Redis 6's.
try:
    from redis.connection import CacheProxyConnection

    CacheProxyConnection.MIN_ALLOWED_VERSION = "6.0.0"
except ImportError:
    pass


def wait_for(what, condition, limit=30.0):
    """Polls `condition` until it holds; fails naming `what` after `limit` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def cached_client():
    return redis.Redis(host="127.0.0.1", port=PORT, protocol=3, cache_config=CacheConfig())


writer = redis.Redis(host="127.0.0.1", port=PORT)


@check("a cached GET is invalidated when another client writes the key")
def _():
    writer.delete("csc:k")
    writer.set("csc:k", "v1")
    r = cached_client()
    cache = r.get_cache()
    assert r.get("csc:k") == b"v1"
    assert cache.size == 1, cache.size
    before = writer.info("stats")["keyspace_hits"]
    # Served from the local cache: the server sees no read.
    assert r.get("csc:k") == b"v1"
    assert writer.info("stats")["keyspace_hits"] == before
    assert writer.info("clients")["tracking_clients"] >= 1
    writer.set("csc:k", "v2")
    # The invalidation is read with the next command: the entry goes, the new value comes.
    wait_for("the new value after the invalidation", lambda: r.get("csc:k") == b"v2")
    r.close()


@check("FLUSHALL empties the client-side cache")
def _():
    writer.set("csc:a", "1")
    r = cached_client()
    assert r.get("csc:a") == b"1"
    writer.flushall()
    wait_for("the cache emptied by the null invalidation", lambda: r.get("csc:a") is None)
    r.close()


finish()
