#!/usr/bin/env bash
# Side by side with redis-server: APPEND, SETRANGE, GETRANGE and RENAME on 1 KB, 1 MB and
# 100 MB values, and a string built from 20,000 1 KB APPENDs.
#
# Builds redistill (release), starts it with one worker and Debian's redis-server, both pinned
# to the same core (SERVER_CPU, default 1), and runs the client (scripts/bench_strings.py)
# pinned to another (CLIENT_CPU, default 0). The table gives each server's CPU time per call,
# the figure to compare, and the wall time per call the client saw.
#
# Usage: scripts/bench-strings.sh   (needs redis-server and python3)
# Knobs: ROUNDS (3), CALLS (per run, 20000), BATCH (pipeline depth, 64), SIZES ("1KB,1MB,100MB"),
#        OPS ("APPEND,SETRANGE,GETRANGE,RENAME"), APPENDS (20000).
set -euo pipefail
cd "$(dirname "$0")/.."

SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
REDIS_PORT=${REDIS_PORT:-16379}
OURS_PORT=${OURS_PORT:-16380}

for tool in redis-server redis-cli python3 taskset; do
  command -v "$tool" >/dev/null || { echo "bench-strings: missing $tool" >&2; exit 2; }
done

cargo build --release --quiet
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# Both servers accept the largest value at once (Redis's default client-query-buffer-limit is
# 1 GB, proto-max-bulk-len 512 MB).
taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --loglevel warning &
PIDS+=($!); REDIS_PID=$!
taskset -c "$SERVER_CPU" "${CARGO_TARGET_DIR:-target}/release/redistill" --port "$OURS_PORT" --workers 1 \
  --loglevel warning &
PIDS+=($!); OURS_PID=$!
for port in "$REDIS_PORT" "$OURS_PORT"; do
  for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done
done

echo "redistill vs redis $(redis-server --version | awk '{ print $3 }' | cut -d= -f2), servers on cpu $SERVER_CPU, client on cpu $CLIENT_CPU"
taskset -c "$CLIENT_CPU" python3 scripts/bench_strings.py "redis:$REDIS_PORT:$REDIS_PID" "redistill:$OURS_PORT:$OURS_PID"
