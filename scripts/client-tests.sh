#!/usr/bin/env bash
# Runs real Redis clients against a redistill server: redis-py (with hiredis; also Lock
# and register_script on Lua scripts), ioredis (also defineCommand)
# (both also as a leaderboard, a rate limiter and a delayed-job queue on sorted sets;
# redis-py also with bitmaps, HyperLogLogs, geo, SORT and DUMP/RESTORE, and its RESP3
# client-side cache; both with Pub/Sub, redis-py also with a keyspace-notification
# listener for keys expiring on their own),
# huey (a task queue on lists; its scheduler on a sorted set and a Lua script), kombu
# (Celery's messaging library), limits (a rate limiter whose Redis storage is Lua
# scripts), redis-cli (stdin commands, --pipe mass
# insertion, --scan, -n) and redis-benchmark.
#
# Installs what it needs into target/ (a Python venv with redis-py, huey, kombu and limits
# from PyPI, ioredis from npm); needs redis-cli and redis-benchmark (Debian's redis-tools;
# scripts/test.sh installs them).
# Prints a closing 'N passed, N failed' line and exits non-zero if any check failed.
set -uo pipefail
cd "$(dirname "$0")/.."

PASSED=0; FAILED=0
pass() { echo "ok   $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1"; FAILED=$((FAILED + 1)); }
expect() {  # expect NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}

for tool in redis-cli redis-benchmark python3 node npm; do
  command -v "$tool" >/dev/null || { echo "client-tests: missing $tool" >&2; exit 1; }
done

cargo build --quiet --bin redistill || exit 1
# Scratch files (mass-insert input, the server's log, the client venv and node modules)
# live under target/, which a CARGO_TARGET_DIR elsewhere leaves uncreated.
mkdir -p target
# The server takes a free port itself and names it in its start-up line, so no other
# process can take the port in between.
LOG=target/client-tests-server.log
"${CARGO_TARGET_DIR:-target}/debug/redistill" --port 0 --loglevel notice 2>"$LOG" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
PORT=""
for _ in $(seq 300); do  # 30 s
  PORT=$(sed -n 's/.*ready to accept connections on [^ ]*:\([0-9]*\) .*/\1/p' "$LOG" | head -1)
  [[ -n $PORT ]] && break
  kill -0 "$SERVER" 2>/dev/null || break  # it exited
  sleep 0.1
done
if [[ -z $PORT ]] || ! redis-cli -p "$PORT" PING >/dev/null 2>&1; then
  echo "client-tests: redistill did not start; its log:"; cat "$LOG"
  echo "0 passed, 1 failed"; exit 1
fi
cli() { redis-cli -p "$PORT" "$@"; }

echo "== redis-cli"
out=$(printf 'SET greeting "hello world"\nGET greeting\nINCR visits\nINCRBY visits 9\nHSET user:1 name ada\nHGET user:1 name\nDEL greeting\nGET greeting\n' | cli)
expect "redis-cli commands from stdin" $'OK\nhello world\n1\n10\n1\nada\n1\n' "$out"$'\n'
expect "redis-cli -n 3 selects a database" "OK" "$(cli -n 3 SET in3 x)"
expect "redis-cli -n 3 keeps keys apart" "" "$(cli -n 0 GET in3)"
expect "redis-cli error text" "ERR unknown command 'NOPE', with args beginning with: " "$(cli NOPE 2>&1 | head -1)"
python3 -c '
import sys
out = sys.stdout.buffer
for i in range(100000):
    k, v = b"mass:%d" % i, b"value:%d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
' > target/mass-insert.resp
pipe=$(cli --pipe < target/mass-insert.resp 2>&1 | tail -1)
expect "redis-cli --pipe mass insertion" "errors: 0, replies: 100000" "$pipe"
expect "mass-inserted keys are there" "100000" "$(cli --scan --pattern 'mass:*' | wc -l | tr -d ' ')"
expect "a mass-inserted value" "value:99999" "$(cli GET mass:99999)"

echo "== redis-benchmark"
bench=$(timeout 300 redis-benchmark -p "$PORT" -t ping,set,get,incr,mset,hset -n 20000 -c 20 --csv 2>&1)
for test in PING_INLINE PING_MBULK SET GET INCR "MSET (10 keys)" HSET; do
  if grep -q "^\"$test\",\"[0-9.]*\"" <<<"$bench"; then pass "redis-benchmark $test"; else fail "redis-benchmark $test: $bench"; fi
done
if grep -qi "error" <<<"$bench"; then fail "redis-benchmark reported errors: $bench"; fi

echo "== redis-py"
VENV=target/client-venv
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet redis hiredis huey || { fail "install redis-py"; }
fi
if "$VENV/bin/python" -W ignore::DeprecationWarning tests/clients/redis_py_test.py "$PORT"; then pass "redis-py suite"; else fail "redis-py suite"; fi
if "$VENV/bin/python" -W ignore::DeprecationWarning tests/clients/redis_py_cache_test.py "$PORT"; then pass "redis-py client-side cache suite"; else fail "redis-py client-side cache suite"; fi

echo "== huey (task queue on lists; its scheduler on a sorted set)"
if ! "$VENV/bin/python" -c 'import huey' 2>/dev/null; then
  "$VENV/bin/pip" install --quiet huey || fail "install huey"
fi
if "$VENV/bin/python" -W ignore::DeprecationWarning tests/clients/huey_test.py "$PORT"; then pass "huey suite"; else fail "huey suite"; fi
# huey's consumer, which dequeues with BRPOP.
if "$VENV/bin/python" -W ignore::DeprecationWarning tests/clients/huey_test.py "$PORT" --blocking; then pass "huey blocking suite"; else fail "huey blocking suite"; fi

echo "== kombu (Celery's messaging library: lists, sets and sorted sets)"
if ! "$VENV/bin/python" -c 'import kombu, packaging' 2>/dev/null; then
  "$VENV/bin/pip" install --quiet kombu packaging || fail "install kombu"
fi
if "$VENV/bin/python" -W ignore::DeprecationWarning tests/clients/kombu_test.py "$PORT"; then pass "kombu suite"; else fail "kombu suite"; fi

echo "== limits (a rate limiter on Lua scripts)"
if ! "$VENV/bin/python" -c 'import limits' 2>/dev/null; then
  "$VENV/bin/pip" install --quiet limits || fail "install limits"
fi
if "$VENV/bin/python" -W ignore::DeprecationWarning tests/clients/limits_test.py "$PORT"; then pass "limits suite"; else fail "limits suite"; fi

echo "== ioredis"
NODE_DIR=target/client-node
if [[ ! -d $NODE_DIR/node_modules/ioredis ]]; then
  mkdir -p "$NODE_DIR" && npm install --silent --prefix "$NODE_DIR" ioredis >/dev/null || fail "install ioredis"
fi
if NODE_PATH=$NODE_DIR/node_modules node tests/clients/ioredis_test.js "$PORT"; then pass "ioredis suite"; else fail "ioredis suite"; fi

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
