#!/usr/bin/env bash
# Instructions the server executes per request of one workload, counted by cachegrind: a run
# with N requests minus a run with none (both after the same 200,000-SET fill), so startup,
# the fill and shutdown cancel out. Unlike throughput, the count does not move with the load
# of the machine, so it compares builds whose difference is below the benchmarks' spread.
#
# Usage: scripts/instructions-per-request.sh BINARY COMMAND PIPELINE [REQUESTS] [PORT]
#   e.g. scripts/instructions-per-request.sh target/release/redistill get 16 400000
# Needs valgrind and redis-benchmark (apt install valgrind redis-tools).
set -euo pipefail

(($# >= 3)) || { sed -n '2,9p' "$0" >&2; exit 2; }
BIN=$1 CMD=$2 PIPELINE=$3 REQUESTS=${4:-400000} PORT=${5:-7660}
command -v valgrind >/dev/null || { echo "valgrind is missing: apt install valgrind" >&2; exit 1; }

# instructions BINARY REQUESTS -> the server's total instruction count
instructions() {
  local requests=$1 out pid
  out=$(mktemp)
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$out" \
    "$BIN" --port "$PORT" --workers 1 --loglevel warning >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 300); do redis-cli -p "$PORT" PING >/dev/null 2>&1 && break; sleep 0.2; done
  redis-benchmark -p "$PORT" -t set -c 50 -P 64 -d 3 -r 100000 -n 200000 -q >/dev/null
  if ((requests > 0)); then
    redis-benchmark -p "$PORT" -t "$CMD" -c 50 -P "$PIPELINE" -d 3 -r 100000 -n "$requests" -q >/dev/null
  fi
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  awk '/^summary:/ { print $2 }' "$out"
  rm -f "$out"
}

idle=$(instructions 0)
busy=$(instructions "$REQUESTS")
echo "$BIN $CMD -P $PIPELINE: $(((busy - idle) / REQUESTS)) instructions per request"
