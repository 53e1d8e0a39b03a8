"""huey, a task queue for Python (https://github.com/coleifer/huey), against a running
redistill: its Redis storage (`RedisHuey`) used end to end as an application uses it.

Usage: python3 huey_test.py PORT [--blocking]   (needs `pip install huey redis`)
Prints one line per check and a closing 'N passed, N failed' line; exits non-zero on failure.

What huey's `RedisStorage` sends (read from huey/storage.py, and seen with MONITOR on
redis-server running this file):

- enqueueing a task: LPUSH onto the queue list `huey.redis.<name>`;
- dequeueing: RPOP with `blocking=False`; with `blocking=True` (huey's default, and what
  its consumer runs) BRPOP with `read_timeout` as its timeout;
- `pending()` and `pending_count()`: LRANGE (from the end, for a limit) and LLEN;
- results, revocations and task locks: HSET, HGET, HMGET, HSETNX, HEXISTS, HDEL, HLEN of
  the results hash; a result read pops it with HGET and HDEL in MULTI/EXEC;
- with `notify_result=True`, each result also LPUSHes a token onto a notification list
  given a TTL (LPUSH and EXPIRE in MULTI/EXEC), and a blocking `Result.get` waits on that
  list with BLPOP;
- a task whose time has not come when it is dequeued: ZADD into the schedule sorted set
  `huey.schedule.<name>`, scored by its time; `scheduled()` and `scheduled_count()`:
  ZRANGE and ZCARD; the consumer's scheduler takes the tasks that are due with
  `read_schedule`, an EVALSHA of a Lua script that runs ZRANGEBYSCORE and
  ZREMRANGEBYSCORE (falling back to SCRIPT LOAD on NOSCRIPT);
- `flush()`: DEL of each of its keys.

The default part runs with `blocking=False` and takes tasks with huey's own API
(`Huey.dequeue`, `Huey.execute`, `Huey.read_schedule`: what its consumer process calls)
rather than running that process. `--blocking` runs the BRPOP and BLPOP part: dequeueing
with a timeout, and a result waited for while another thread produces it.
"""
import datetime
import logging
import sys
import threading
import time

import redis
from huey import RedisHuey
from huey.exceptions import TaskLockedException

from checks import check, finish

# huey logs revoked tasks and the traceback of the task that fails on purpose.
logging.getLogger("huey").disabled = True

PORT = int(sys.argv[1])
BLOCKING = "--blocking" in sys.argv[2:]


def new_huey(name, **kw):
    huey = RedisHuey(name, host="127.0.0.1", port=PORT, utc=True, **kw)
    huey.flush()
    return huey


def list_calls(conn):
    """Calls of the list commands huey sends, from INFO commandstats."""
    stats = conn.info("commandstats")
    names = ("lpush", "rpop", "brpop", "blpop", "llen", "lrange")
    return {n: stats.get(f"cmdstat_{n}", {}).get("calls", 0) for n in names}


raw = redis.Redis(host="127.0.0.1", port=PORT)

if not BLOCKING:
    huey = new_huey("redistill-queue", blocking=False)

    @huey.task()
    def add(a, b):
        return a + b

    @huey.task()
    def shout(text):
        return text.upper()

    before = list_calls(raw)

    @check("huey: tasks are enqueued on a list, first in first out")
    def _():
        r1, r2, r3 = add(1, 2), shout("hé"), add(10, 20)
        assert raw.type("huey.redis.redistillqueue") == b"list"
        assert huey.pending_count() == 3
        assert [t.id for t in huey.pending()] == [r1.id, r2.id, r3.id]
        assert [t.id for t in huey.pending(limit=2)] == [r1.id, r2.id]
        for expected in (r1, r2, r3):
            task = huey.dequeue()
            assert task.id == expected.id, (task.id, expected.id)
            huey.execute(task)
        assert huey.dequeue() is None
        assert huey.pending_count() == 0
        assert raw.exists("huey.redis.redistillqueue") == 0
        assert (r1.get(), r2.get(), r3.get()) == (3, "HÉ", 30)
        # A result read is popped from the results hash.
        assert r1.get() == 3 and huey.result_count() == 0

    @check("huey: a revoked task is dequeued and skipped")
    def _():
        kept, revoked = add(1, 1), add(2, 2)
        revoked.revoke()
        assert revoked.is_revoked()
        for _ in range(2):
            huey.execute(huey.dequeue())
        assert kept.get() == 2
        assert revoked.get() is None
        assert huey.dequeue() is None

    @check("huey: task locks")
    def _():
        with huey.lock_task("report"):
            assert huey.is_locked("report")
            try:
                with huey.lock_task("report"):
                    raise AssertionError("a held lock was taken again")
            except TaskLockedException:
                pass
        assert not huey.is_locked("report")

    @check("huey: a task's exception comes back as its result")
    def _():
        r = add(1, "x")
        huey.execute(huey.dequeue())
        try:
            r.get()
            raise AssertionError("no exception")
        except Exception as e:  # huey's TaskException
            assert "TypeError" in str(e), e

    @check("huey: result notifications are lists with a TTL, pushed in MULTI/EXEC")
    def _():
        notifying = new_huey("redistill-notify", blocking=False, notify_result=True)
        double = notifying.task()(lambda n: 2 * n)
        r = double(21)
        notifying.execute(notifying.dequeue())
        key = f"huey.notify.redistillnotify.{r.id}"
        assert raw.lrange(key, 0, -1) == [b"1"]
        assert 0 < raw.ttl(key) <= 60
        # The result is there, so a blocking read returns without waiting on the list.
        assert r.get(blocking=True, timeout=5) == 42
        notifying.flush()

    @check("huey: delayed tasks wait in a sorted set until the scheduler finds them due")
    def _():
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        late, soon = add.schedule((5, 6), delay=3600), add.schedule((1, 2), delay=60)
        for _ in range(2):  # dequeued before their time: moved to the schedule
            huey.execute(huey.dequeue(), now)
        key = "huey.schedule.redistillqueue"
        assert raw.type(key) == b"zset"
        assert huey.scheduled_count() == 2
        assert [t.id for t in huey.scheduled()] == [soon.id, late.id]
        assert [t.id for t in huey.scheduled(limit=1)] == [soon.id]
        assert huey.read_schedule(now) == []
        assert huey.scheduled_count() == 2
        # A minute and a half on, one is due: the script pops it and leaves the other.
        minute = now + datetime.timedelta(seconds=90)
        popped = huey.read_schedule(minute)
        assert [t.id for t in popped] == [soon.id]
        assert [t.id for t in huey.scheduled()] == [late.id]
        huey.execute(popped[0], minute)
        assert soon.get() == 3
        day = now + datetime.timedelta(days=1)
        due = huey.read_schedule(day)
        assert [t.id for t in due] == [late.id]
        assert raw.exists(key) == 0
        huey.execute(due[0], day)
        assert late.get() == 11
        assert raw.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0) >= 3

    @check("huey: queue commands went through the list commands")
    def _():
        calls = list_calls(raw)
        for name in ("lpush", "rpop", "llen", "lrange"):
            assert calls[name] > before[name], (name, before, calls)

    huey.flush()
else:
    huey = new_huey("redistill-blocking", blocking=True, read_timeout=1, notify_result=True)

    @huey.task()
    def mul(a, b):
        return a * b

    @check("huey blocking: BRPOP takes a waiting task, and times out on an empty queue")
    def _():
        r = mul(6, 7)
        task = huey.dequeue()
        assert task.id == r.id
        huey.execute(task)
        assert r.get() == 42
        started = time.monotonic()
        assert huey.dequeue() is None
        assert 0.9 <= time.monotonic() - started < 5

    @check("huey blocking: a result waited for with BLPOP while another thread runs the task")
    def _():
        r = mul(3, 5)
        got = []

        def wait():
            try:
                got.append(r.get(blocking=True, timeout=10))
            except Exception as e:  # noqa: BLE001 - reported by the assertion below
                got.append(e)

        waiter = threading.Thread(target=wait)
        waiter.start()
        huey.execute(huey.dequeue())
        waiter.join(15)
        assert got == [15], got

    @check("huey blocking: dequeueing went through BRPOP")
    def _():
        assert list_calls(raw)["brpop"] > 0

    huey.flush()

finish()
