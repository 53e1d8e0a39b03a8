"""kombu, the messaging library under Celery (https://github.com/celery/kombu), against a
running redistill: its Redis transport used as an application uses it.

Usage: python3 kombu_test.py PORT   (needs `pip install kombu redis`)
Prints one line per check and a closing 'N passed, N failed' line; exits non-zero on failure.

What kombu's Redis transport sends (read from kombu/transport/redis.py, and seen with
MONITOR on redis-server running this file):

- publishing to a queue: LPUSH of the message onto the queue's list;
- consuming: BRPOP on the queues' lists (with a timeout), through its own poller;
- the exchange's bindings: a set per exchange (SADD, SMEMBERS);
- the acknowledgement emulation: each message delivered and not yet acknowledged is
  recorded in a sorted set `unacked_index` (ZADD, scored with the delivery time) and a hash
  `unacked` (HSET); an ack removes both (ZREM, HDEL in a pipeline); a requeue restores the
  message to its queue in a WATCH/MULTI transaction (HGET, ZREM, HDEL, LPUSH/RPUSH);
- closing a channel restores its unacknowledged messages the same way.

Not here: `QoS.restore_visible`, which finds messages past the visibility timeout with
`ZRANGE unacked_index <ceil> 0 BYSCORE REV LIMIT 0 10 WITHSCORES` under a mutex that
redis-py's `Lock` releases with a Lua script (EVALSHA), which redistill does not have yet.
"""
import sys
import time

from kombu import Connection

from checks import check, finish

PORT = int(sys.argv[1])
URL = f"redis://127.0.0.1:{PORT}/0"


def fresh(conn, name):
    queue = conn.SimpleQueue(name)
    queue.clear()
    return queue


@check("kombu: messages are delivered in order and acks clear the unacked index")
def _():
    with Connection(URL) as conn:
        q = fresh(conn, "kombu-basic")
        for i in range(5):
            q.put({"n": i})
        got = []
        for _ in range(5):
            m = q.get(block=True, timeout=5)
            got.append(m.payload["n"])
            m.ack()
        assert got == [0, 1, 2, 3, 4], got
        raw = conn.default_channel.client
        left = (raw.zcard("unacked_index"), raw.hlen("unacked"))
        assert left == (0, 0), left
        q.close()


@check("kombu: a delivered message is scored with its delivery time; a requeue redelivers it")
def _():
    with Connection(URL) as conn:
        q = fresh(conn, "kombu-requeue")
        raw = conn.default_channel.client
        q.put({"n": "requeued"})
        m = q.get(block=True, timeout=5)
        index = raw.zrange("unacked_index", 0, -1, withscores=True)
        assert len(index) == 1, index
        score = raw.zscore("unacked_index", m.delivery_tag)
        assert score is not None and abs(score - time.time()) < 60, score
        m.requeue()
        assert raw.zcard("unacked_index") == 0
        again = q.get(block=True, timeout=5)
        assert again.payload == {"n": "requeued"}, again.payload
        again.ack()
        q.close()


@check("kombu: closing a channel restores the messages it held unacked")
def _():
    with Connection(URL) as conn:
        q = fresh(conn, "kombu-close")
        for i in range(3):
            q.put({"n": i})
        for _ in range(2):
            q.get(block=True, timeout=5)
        q.close()
    with Connection(URL) as conn:
        raw = conn.default_channel.client
        state = (raw.llen("kombu-close"), raw.zcard("unacked_index"))
        assert state == (3, 0), state
        q = conn.SimpleQueue("kombu-close")
        got = sorted(q.get(block=True, timeout=5).payload["n"] for _ in range(3))
        assert got == [0, 1, 2], got
        q.clear()
        q.close()


finish()
