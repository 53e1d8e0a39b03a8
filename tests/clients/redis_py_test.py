"""redis-py against a running redistill: the usage patterns of the README, end to end.

Usage: python3 redis_py_test.py PORT   (needs `pip install redis hiredis`)
Prints one line per check and a closing 'N passed, N failed' line; exits non-zero on failure.
"""
import json
import sys
import time

import redis

from checks import check, finish

PORT = int(sys.argv[1])


def client(**kw):
    return redis.Redis(host="127.0.0.1", port=PORT, **kw)


@check("hiredis parser is in use")
def _():
    from redis.utils import HIREDIS_AVAILABLE
    assert HIREDIS_AVAILABLE


@check("cache-aside with SETEX and decode_responses")
def _():
    r = client(decode_responses=True)
    r.flushall()
    calls = []
    started = time.monotonic()

    def get_product(pid):
        key = f"product:{pid}"
        cached = r.get(key)
        if cached:
            return json.loads(cached)
        calls.append(pid)
        value = {"id": pid, "name": "Widget", "price": 29.99}
        r.setex(key, 600, json.dumps(value))
        return value

    assert get_product(7) == get_product(7)
    assert calls == [7]
    # Whole seconds, rounded: no fewer left than 600 less those passed since the SETEX.
    passed = int(time.monotonic() - started)
    assert 599 - passed <= r.ttl("product:7") <= 600


@check("session stored as a hash")
def _():
    r = client(decode_responses=True)
    r.hset("session:abc", mapping={"user_id": "12345", "username": "john_doe", "role": "admin"})
    r.expire("session:abc", 1800)
    assert r.hgetall("session:abc") == {"user_id": "12345", "username": "john_doe", "role": "admin"}
    assert r.hget("session:abc", "role") == "admin"
    assert r.hincrby("session:abc", "views", 3) == 3


@check("rate limiter with pipeline() (MULTI/EXEC) and EXPIRE")
def _():
    r = client()
    key = f"ratelimit:42:{time.strftime('%Y%m%d%H')}"
    r.delete(key)
    allowed = 0
    for _ in range(105):
        current = r.get(key)
        if current and int(current) >= 100:
            continue
        pipe = r.pipeline()  # transaction=True: MULTI/EXEC
        pipe.incr(key)
        pipe.expire(key, 3600)
        count, ok = pipe.execute()
        assert ok is True
        allowed += 1
    assert allowed == 100
    assert int(r.get(key)) == 100
    assert 0 < r.ttl(key) <= 3600


@check("WATCH aborts a transaction when the key changes")
def _():
    r = client()
    other = client()
    r.set("balance", 10)
    with r.pipeline() as pipe:
        pipe.watch("balance")
        other.set("balance", 20)
        pipe.multi()
        pipe.set("balance", 0)
        try:
            pipe.execute()
            raise AssertionError("EXEC should have been aborted")
        except redis.WatchError:
            pass
    assert int(r.get("balance")) == 20


@check("scan_iter visits every key")
def _():
    r = client(decode_responses=True)
    r.flushdb()
    with r.pipeline(transaction=False) as p:
        for i in range(1000):
            p.set(f"user:{i}", i)
        p.execute()
    seen = set(r.scan_iter(match="user:*", count=100))
    assert len(seen) == 1000


@check("RESP3 with protocol=3")
def _():
    r = client(protocol=3, decode_responses=True)
    r.hset("h3", mapping={"a": "1"})
    assert r.hgetall("h3") == {"a": "1"}
    assert r.get("missing-key") is None
    assert r.incrbyfloat("f3", 2.5) == 2.5


@check("URL with a database number")
def _():
    r2 = redis.Redis.from_url(f"redis://127.0.0.1:{PORT}/2", decode_responses=True)
    r2.set("only-in-db2", "x")
    assert r2.get("only-in-db2") == "x"
    assert client(decode_responses=True).get("only-in-db2") is None


@check("errors surface as ResponseError with Redis's text")
def _():
    r = client()
    r.set("s", "text")
    try:
        r.incr("s")
        raise AssertionError("INCR of text should fail")
    except redis.ResponseError as e:
        assert "value is not an integer or out of range" in str(e)
    try:
        r.hget("s", "f")
        raise AssertionError("HGET on a string should fail")
    except redis.ResponseError as e:
        assert str(e).startswith("WRONGTYPE")


@check("INFO and CONFIG GET parse")
def _():
    r = client()
    info = r.info()
    assert "redis_version" in info and "used_memory" in info
    assert r.config_get("maxmemory") == {"maxmemory": "0"}


finish()
