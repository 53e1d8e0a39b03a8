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


@check("leaderboard on a sorted set")
def _():
    r = client(decode_responses=True)
    r.delete("board")
    r.zadd("board", {"ada": 120, "bob": 95.5, "cy": 300})
    r.zincrby("board", 10, "bob")
    r.zadd("board", {"ada": 110}, gt=True)
    assert r.zrevrange("board", 0, 1, withscores=True) == [("cy", 300.0), ("ada", 120.0)]
    assert r.zrevrank("board", "bob") == 2
    assert r.zscore("board", "bob") == 105.5
    assert r.zscore("board", "nobody") is None
    assert r.zcount("board", 100, "+inf") == 3
    assert r.zrange("board", "(105.5", 300, byscore=True) == ["ada", "cy"]
    assert r.zmscore("board", ["ada", "x"]) == [120.0, None]
    r3 = client(decode_responses=True, protocol=3)
    assert r3.zscore("board", "cy") == 300.0
    assert r3.zrange("board", 0, 0, withscores=True) == [["bob", 105.5]] or \
        r3.zrange("board", 0, 0, withscores=True) == [("bob", 105.5)]


@check("sliding-window rate limiter: ZADD, ZREMRANGEBYSCORE and ZCARD in MULTI")
def _():
    r = client(decode_responses=True)
    r.delete("rate:u1")
    window_ms, limit = 1000, 5
    now = 1_700_000_000_000

    def allow(at, request_id):
        pipe = r.pipeline(transaction=True)
        pipe.zremrangebyscore("rate:u1", 0, at - window_ms)
        pipe.zadd("rate:u1", {request_id: at})
        pipe.zcard("rate:u1")
        pipe.pexpire("rate:u1", window_ms)
        _, _, count, _ = pipe.execute()
        return count <= limit

    decisions = [allow(now + i * 10, f"req{i}") for i in range(8)]
    assert decisions == [True] * 5 + [False] * 3
    # Past the window the old requests are trimmed away.
    assert allow(now + 2000, "late")
    assert r.zcard("rate:u1") == 1


@check("delayed-job queue: ZADD run times, ZRANGEBYSCORE LIMIT, ZREM to claim")
def _():
    r = client(decode_responses=True)
    r.delete("delayed")
    now = 1000
    r.zadd("delayed", {f"job{i}": now + i for i in range(-3, 4)})
    claimed = []
    while True:
        due = r.zrangebyscore("delayed", "-inf", now, start=0, num=2)
        if not due:
            break
        for job in due:
            if r.zrem("delayed", job) == 1:
                claimed.append(job)
    assert claimed == ["job-3", "job-2", "job-1", "job0"]
    assert r.zrange("delayed", 0, -1, withscores=True) == [("job1", 1001.0), ("job2", 1002.0), ("job3", 1003.0)]
    assert r.zpopmin("delayed") == [("job1", 1001.0)]
    assert r.bzpopmin("delayed", timeout=1) == ("delayed", "job2", 1002.0)
    assert r.bzpopmin("nothing", timeout=0.01) is None


finish()
