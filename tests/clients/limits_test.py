"""limits, a rate-limiting library for Python (https://github.com/alisaifee/limits), against a
running redistill: its Redis storage used as an application uses it, with each of its
strategies.

Usage: python3 limits_test.py PORT   (needs `pip install limits redis`)
Prints one line per check and a closing 'N passed, N failed' line; exits non-zero on failure.

Nearly everything limits' `RedisStorage` sends is a Lua script, registered with redis-py's
`register_script` (EVALSHA, then SCRIPT LOAD and EVALSHA again when the script is not
cached):

- the fixed window: INCRBY, and EXPIRE on the first hit, in one script;
- the moving window: a list of hit timestamps per key, LINDEX to find the oldest one in
  the window (a binary search), LPUSH, LTRIM and EXPIRE to record hits;
- the sliding window counter: two counters (this window's and the last one's), PTTL,
  RENAME to shift the window, SET with PX, INCRBY, EXISTS;
- `reset()`: KEYS on the storage's prefix, then DEL in batches;

and GET, TTL and DEL outside scripts for the fixed window's counter and `clear`.
"""
import sys
import time

import redis
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    SlidingWindowCounterRateLimiter,
)

from checks import check, finish

PORT = int(sys.argv[1])

raw = redis.Redis(host="127.0.0.1", port=PORT)
raw.flushall()
raw.script_flush()
storage = storage_from_string(f"redis://127.0.0.1:{PORT}")
STRATEGIES = {
    "fixed window": FixedWindowRateLimiter(storage),
    "moving window": MovingWindowRateLimiter(storage),
    "sliding window counter": SlidingWindowCounterRateLimiter(storage),
}


def wait_until(what, condition, deadline_s):
    """Polls `condition` until it holds; fails after `deadline_s` seconds."""
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline_s} s")
        time.sleep(0.02)


def script_calls():
    stats = raw.info("commandstats")
    return sum(stats.get(f"cmdstat_{n}", {}).get("calls", 0) for n in ("evalsha", "eval"))


@check("limits: the storage is healthy")
def _():
    assert storage.check()


for name, limiter in STRATEGIES.items():
    per_minute = RateLimitItemPerMinute(3)

    @check(f"limits {name}: hits up to the limit, then refuses")
    def _():
        key = ("login", name, "ada")
        before = script_calls()
        assert limiter.test(per_minute, *key)
        assert [limiter.hit(per_minute, *key) for _ in range(4)] == [True, True, True, False]
        assert not limiter.test(per_minute, *key)
        assert not limiter.hit(per_minute, *key)
        assert script_calls() > before, "the hits ran as Lua scripts"

    @check(f"limits {name}: window stats count what is left and when it resets")
    def _():
        key = ("stats", name, "ada")
        now = time.time()
        stats = limiter.get_window_stats(per_minute, *key)
        assert stats.remaining == 3, stats
        limiter.hit(per_minute, *key)
        stats = limiter.get_window_stats(per_minute, *key)
        assert stats.remaining == 2, stats
        assert now - 1 <= stats.reset_time <= now + 61, (stats, now)
        limiter.hit(per_minute, *key, cost=2)
        assert limiter.get_window_stats(per_minute, *key).remaining == 0
        assert not limiter.hit(per_minute, *key)

    @check(f"limits {name}: each key has its own limit")
    def _():
        users = [f"user{i}" for i in range(40)]
        for user in users:
            assert limiter.hit(per_minute, "api", name, user, cost=3), user
        for user in users:
            assert not limiter.test(per_minute, "api", name, user), user
        assert limiter.hit(per_minute, "api", name, "someone else")

    @check(f"limits {name}: clear lifts one key's limit")
    def _():
        key = ("clear", name, "ada")
        for _ in range(3):
            limiter.hit(per_minute, *key)
        assert not limiter.hit(per_minute, *key)
        limiter.clear(per_minute, *key)
        assert limiter.hit(per_minute, *key)
        assert limiter.get_window_stats(per_minute, *key).remaining == 2

    @check(f"limits {name}: a cost above the limit is refused")
    def _():
        key = ("cost", name, "ada")
        assert not limiter.hit(per_minute, *key, cost=4)
        # The fixed window counts the refused hit (INCRBY, then the comparison); the
        # others refuse it before recording anything.
        left = 0 if name == "fixed window" else 3
        assert limiter.get_window_stats(per_minute, *key).remaining == left

    @check(f"limits {name}: an exceeded limit recovers once its window has passed")
    def _():
        per_second = RateLimitItemPerSecond(2)
        key = ("recover", name, "ada")
        started = time.monotonic()
        assert limiter.hit(per_second, *key) and limiter.hit(per_second, *key)
        assert not limiter.hit(per_second, *key)
        # The sliding window counter weighs the last window's hits for one more window.
        wait_until("the limit to recover", lambda: limiter.test(per_second, *key), 5)
        assert time.monotonic() - started >= 0.5, "recovered before the window passed"
        assert limiter.hit(per_second, *key)


@check("limits: the moving window keeps one timestamp per hit, newest first")
def _():
    limiter = STRATEGIES["moving window"]
    item = RateLimitItemPerMinute(5)
    for _ in range(3):
        limiter.hit(item, "moving-timeline")
    key = next(k for k in raw.keys("LIMITS:*moving-timeline*"))
    stamps = [float(s) for s in raw.lrange(key, 0, -1)]
    assert len(stamps) == 3 and stamps == sorted(stamps, reverse=True), stamps
    assert 0 < raw.ttl(key) <= 60


@check("limits: the fixed window's counter expires with its window")
def _():
    limiter = STRATEGIES["fixed window"]
    item = RateLimitItemPerMinute(5)
    limiter.hit(item, "fixed-counter", cost=2)
    key = next(k for k in raw.keys("LIMITS:*fixed-counter*"))
    assert raw.get(key) == b"2"
    assert 0 < raw.ttl(key) <= 60


@check("limits: reset deletes every key of the storage, and only those")
def _():
    raw.set("not-a-limit", "x")
    keys = len(raw.keys("LIMITS:*"))
    assert keys > 0
    assert storage.reset() == keys
    assert raw.keys("LIMITS:*") == []
    assert raw.get("not-a-limit") == b"x"
    for name, limiter in STRATEGIES.items():
        assert limiter.hit(RateLimitItemPerMinute(1), "after reset", name)


finish()
