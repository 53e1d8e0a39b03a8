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


@check("daily-active-user bitmaps: SETBIT, BITCOUNT, BITOP, BITPOS, BITFIELD counters")
def _():
    r = client()
    r.delete("dau:mon", "dau:tue", "dau:both", "counters")
    for user in (1, 7, 1000):
        r.setbit("dau:mon", user, 1)
    for user in (7, 42):
        r.setbit("dau:tue", user, 1)
    assert r.getbit("dau:mon", 7) == 1 and r.getbit("dau:mon", 8) == 0
    assert r.bitcount("dau:mon") == 3
    assert r.bitop("AND", "dau:both", "dau:mon", "dau:tue") == r.strlen("dau:mon")
    assert r.bitcount("dau:both") == 1
    assert r.bitpos("dau:both", 1) == 7
    bf = r.bitfield("counters")
    bf.incrby("u16", "#0", 65535).incrby("u16", "#0", 2).overflow("SAT").incrby("i8", "#4", 200)
    assert bf.execute() == [65535, 1, 127]
    assert r.bitfield_ro("counters", "u16", 0, items=[("u16", 16)]) == [1, 0]


@check("unique visitors with PFADD, PFCOUNT and PFMERGE")
def _():
    r = client()
    r.delete("uv:a", "uv:b", "uv:all")
    assert r.pfadd("uv:a", *[f"user{i}" for i in range(1000)]) == 1
    assert r.pfadd("uv:b", *[f"user{i}" for i in range(500, 1500)]) == 1
    assert abs(r.pfcount("uv:a") - 1000) <= 20
    assert abs(r.pfcount("uv:a", "uv:b") - 1500) <= 30
    assert r.pfmerge("uv:all", "uv:a", "uv:b")
    assert abs(r.pfcount("uv:all") - 1500) <= 30
    assert r.get("uv:all").startswith(b"HYLL")


@check("stores near me: GEOADD, GEOSEARCH, GEODIST, GEOPOS")
def _():
    r = client(decode_responses=True)
    r.delete("stores")
    r.geoadd("stores", [13.361389, 38.115556, "palermo", 15.087269, 37.502669, "catania",
                        12.496366, 41.902782, "rome"])
    near = r.geosearch("stores", longitude=15, latitude=37, radius=200, unit="km",
                       sort="ASC", withdist=True)
    assert [name for name, _ in near] == ["catania", "palermo"]
    assert abs(near[0][1] - 56.4413) < 0.001
    assert abs(r.geodist("stores", "palermo", "catania", unit="km") - 166.2742) < 0.001
    lon, lat = r.geopos("stores", "rome")[0]
    assert abs(lon - 12.496366) < 1e-5 and abs(lat - 41.902782) < 1e-5
    assert r.geohash("stores", "palermo") == ["sqc8b49rny0"]


@check("SORT by weights in other keys, with GET and STORE")
def _():
    r = client(decode_responses=True)
    r.delete("ids", "sorted")
    r.rpush("ids", 3, 1, 2)
    r.mset({"weight_1": 30, "weight_2": 10, "weight_3": 20})
    r.hset("obj_1", "name", "one")
    r.hset("obj_2", "name", "two")
    r.hset("obj_3", "name", "three")
    assert r.sort("ids") == ["1", "2", "3"]
    assert r.sort("ids", by="weight_*", get=["#", "obj_*->name"]) == ["2", "two", "3", "three", "1", "one"]
    assert r.sort("ids", start=0, num=2, desc=True, store="sorted") == 2
    assert r.lrange("sorted", 0, -1) == ["3", "2"]


@check("DUMP and RESTORE copy a key of every type")
def _():
    r = client()
    r.delete("src:h", "src:z", "copy:h", "copy:z")
    r.hset("src:h", mapping={"a": "1", "b": "2"})
    r.zadd("src:z", {"x": 1.5, "y": -2})
    for src, dst in (("src:h", "copy:h"), ("src:z", "copy:z")):
        assert r.restore(dst, 0, r.dump(src))
    assert r.hgetall("copy:h") == {b"a": b"1", b"b": b"2"}
    assert r.zrange("copy:z", 0, -1, withscores=True) == [(b"y", -2.0), (b"x", 1.5)]
    try:
        r.restore("copy:h", 0, r.dump("src:h"))
        raise AssertionError("RESTORE over an existing key")
    except redis.ResponseError as e:
        assert str(e).startswith("BUSYKEY")
    try:
        r.restore("bad", 0, b"not a payload")
        raise AssertionError("RESTORE of a bad payload")
    except redis.ResponseError as e:
        assert "DUMP payload version or checksum are wrong" in str(e)
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "src:h") == r.execute_command("DEBUG", "DIGEST-VALUE", "copy:h")



def next_message(pubsub, deadline_s=10.0):
    """The next message (not a subscription confirmation), waiting up to `deadline_s`."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if message is not None:
            return message
    raise AssertionError("no message before the deadline")


@check("pubsub() with get_message: channels and patterns")
def _():
    r = client(decode_responses=True)
    p = r.pubsub()
    p.subscribe("news")
    p.psubscribe("sport.*")
    # The confirmations arrive before anything published after them.
    confirmations = [p.get_message(timeout=5) for _ in range(2)]
    assert [c["type"] for c in confirmations] == ["subscribe", "psubscribe"], confirmations
    assert r.publish("news", "hello") == 1
    assert r.publish("sport.tennis", "ace") == 1
    assert r.publish("weather", "rain") == 0
    first, second = next_message(p), next_message(p)
    assert (first["type"], first["channel"], first["data"]) == ("message", "news", "hello")
    assert (second["type"], second["pattern"], second["channel"], second["data"]) == (
        "pmessage", "sport.*", "sport.tennis", "ace")
    assert r.pubsub_numsub("news") == [("news", 1)]
    assert r.pubsub_numpat() == 1
    p.unsubscribe()
    p.punsubscribe()
    p.close()


@check("pubsub() run_in_thread delivers every message in order")
def _():
    r = client(decode_responses=True)
    got = []
    p = r.pubsub()
    p.subscribe(**{"jobs": lambda m: got.append(m["data"])})
    thread = p.run_in_thread(sleep_time=0.01, daemon=True)
    try:
        deadline = time.monotonic() + 10
        while r.pubsub_numsub("jobs") != [("jobs", 1)] and time.monotonic() < deadline:
            time.sleep(0.01)
        for i in range(100):
            assert r.publish("jobs", str(i)) == 1
        while len(got) < 100 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert got == [str(i) for i in range(100)], got[:5]
    finally:
        thread.stop()
        thread.join(timeout=5)


@check("keyspace notifications: expired keys that expire on their own")
def _():
    r = client(decode_responses=True)
    r.config_set("notify-keyspace-events", "Ex")
    try:
        assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": "xE"}
        p = r.pubsub()
        p.psubscribe("__keyevent@0__:expired")
        assert p.get_message(timeout=5)["type"] == "psubscribe"
        r.set("short:1", "v", px=50)
        r.set("short:2", "v", px=80)
        expired = {next_message(p)["data"], next_message(p)["data"]}
        assert expired == {"short:1", "short:2"}, expired
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")

finish()
