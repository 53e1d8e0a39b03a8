// ioredis against a running redistill: connect, pipeline, MULTI, hashes, SCAN stream.
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
  redis.disconnect();
  const failed = results.filter((ok) => !ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
