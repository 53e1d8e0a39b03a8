// ioredis against a running redistill: connect, pipeline, MULTI, hashes, SCAN stream,
// subscribe/psubscribe.
// Usage: node ioredis_test.js PORT   (needs `npm install ioredis`)
// Prints one line per check and a closing 'N passed, N failed' line; exits non-zero on failure.
const Redis = require("ioredis");
const assert = require("node:assert/strict");

const port = Number(process.argv[2]);
const results = [];

async function check(name, fn) {
  try {
    await fn();
    results.push(true);
    console.log(`ok   ${name}`);
  } catch (e) {
    results.push(false);
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}

(async () => {
  const redis = new Redis({ host: "127.0.0.1", port, lazyConnect: false, maxRetriesPerRequest: 1 });
  await check("connect and ready check (INFO)", async () => {
    assert.equal(await redis.ping(), "PONG");
    await redis.flushall();
  });
  await check("set and get", async () => {
    await redis.set("key", "value", "EX", 60);
    assert.equal(await redis.get("key"), "value");
    assert.ok((await redis.ttl("key")) > 0);
  });
  await check("pipeline", async () => {
    const replies = await redis.pipeline().set("a", 1).incr("a").get("a").exec();
    assert.deepEqual(replies, [[null, "OK"], [null, 2], [null, "2"]]);
  });
  await check("multi/exec", async () => {
    const replies = await redis.multi().incr("n").incr("n").exec();
    assert.deepEqual(replies, [[null, 1], [null, 2]]);
  });
  await check("hashes", async () => {
    await redis.hset("user:1", { name: "ada", visits: "1" });
    assert.equal(await redis.hincrby("user:1", "visits", 4), 5);
    assert.deepEqual(await redis.hgetall("user:1"), { name: "ada", visits: "5" });
  });
  await check("scanStream visits every key", async () => {
    const p = redis.pipeline();
    for (let i = 0; i < 500; i++) p.set(`item:${i}`, i);
    await p.exec();
    const seen = new Set();
    await new Promise((resolve, reject) => {
      const stream = redis.scanStream({ match: "item:*", count: 50 });
      stream.on("data", (keys) => keys.forEach((k) => seen.add(k)));
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    assert.equal(seen.size, 500);
  });
  await check("errors are rejected promises with Redis's text", async () => {
    await redis.set("text", "abc");
    await assert.rejects(redis.incr("text"), /value is not an integer or out of range/);
  });
  await check("leaderboard on a sorted set", async () => {
    await redis.del("board");
    await redis.zadd("board", 120, "ada", 95.5, "bob", 300, "cy");
    assert.equal(await redis.zincrby("board", 10, "bob"), "105.5");
    assert.deepEqual(await redis.zrevrange("board", 0, 1, "WITHSCORES"), ["cy", "300", "ada", "120"]);
    assert.equal(await redis.zrevrank("board", "bob"), 2);
    assert.equal(await redis.zscore("board", "nobody"), null);
    assert.deepEqual(await redis.zrange("board", "(105.5", 300, "BYSCORE"), ["ada", "cy"]);
  });
  await check("sliding-window rate limiter in MULTI", async () => {
    await redis.del("rate:u1");
    const windowMs = 1000, limit = 5, now = 1700000000000;
    const allow = async (at, id) => {
      const replies = await redis.multi()
        .zremrangebyscore("rate:u1", 0, at - windowMs)
        .zadd("rate:u1", at, id)
        .zcard("rate:u1")
        .pexpire("rate:u1", windowMs)
        .exec();
      return replies[2][1] <= limit;
    };
    const decisions = [];
    for (let i = 0; i < 8; i++) decisions.push(await allow(now + i * 10, `req${i}`));
    assert.deepEqual(decisions, [true, true, true, true, true, false, false, false]);
    assert.equal(await allow(now + 2000, "late"), true);
    assert.equal(await redis.zcard("rate:u1"), 1);
  });
  await check("delayed-job queue with ZRANGEBYSCORE LIMIT and ZREM", async () => {
    await redis.del("delayed");
    const now = 1000;
    for (let i = -3; i <= 3; i++) await redis.zadd("delayed", now + i, `job${i}`);
    const claimed = [];
    for (;;) {
      const due = await redis.zrangebyscore("delayed", "-inf", now, "LIMIT", 0, 2);
      if (due.length === 0) break;
      for (const job of due) if ((await redis.zrem("delayed", job)) === 1) claimed.push(job);
    }
    assert.deepEqual(claimed, ["job-3", "job-2", "job-1", "job0"]);
    assert.deepEqual(await redis.zpopmin("delayed"), ["job1", "1001"]);
    assert.deepEqual(await redis.bzpopmin("delayed", 1), ["delayed", "job2", "1002"]);
    assert.equal(await redis.bzpopmin("nothing", 0.01), null);
  });
  await check("subscribe and psubscribe with message events", async () => {
    const sub = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 1 });
    const got = [];
    const done = new Promise((resolve) => {
      sub.on("message", (channel, message) => {
        got.push(["message", channel, message]);
        if (got.length === 3) resolve();
      });
      sub.on("pmessage", (pattern, channel, message) => {
        got.push(["pmessage", pattern, channel, message]);
        if (got.length === 3) resolve();
      });
    });
    assert.equal(await sub.subscribe("orders", "refunds"), 2);
    assert.equal(await sub.psubscribe("audit:*"), 3);
    assert.equal(await redis.publish("orders", "o1"), 1);
    assert.equal(await redis.publish("audit:login", "u1"), 1);
    assert.equal(await redis.publish("refunds", "r1"), 1);
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("no messages in time")), 10000));
    await Promise.race([done, timeout]);
    assert.deepEqual(got, [
      ["message", "orders", "o1"],
      ["pmessage", "audit:*", "audit:login", "u1"],
      ["message", "refunds", "r1"],
    ]);
    assert.deepEqual(await redis.pubsub("NUMSUB", "orders"), ["orders", 1]);
    await sub.unsubscribe();
    await sub.punsubscribe();
    sub.disconnect();
  });
  redis.disconnect();
  const failed = results.filter((ok) => !ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
