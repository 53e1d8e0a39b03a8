#!/usr/bin/env bash
# Instructions the server executes per request of one workload, counted by cachegrind: runs
# with N requests minus a run with none (all after the same fill, made over one connection so
# that it costs the same each time: 200,000 SETs and a list `mylist` of N elements, at least
# 600, for pops and LRANGE), so startup, the fill and shutdown cancel out. Unlike throughput,
# the count does not follow the machine's load or the kernel's share of each request, so it
# compares builds (and servers) whose difference is below the benchmarks' spread. It still
# moves by a few percent with how requests happen to be batched: the median of RUNS runs is
# printed.
#
# Usage: scripts/instructions-per-request.sh BINARY COMMAND PIPELINE [REQUESTS] [PORT]
#   e.g. scripts/instructions-per-request.sh target/release/redistill get 16 400000
#        scripts/instructions-per-request.sh /usr/bin/redis-server "LRANGE mylist 0 99" 16
# BINARY is redistill (run with one worker) or redis-server. COMMAND is a redis-benchmark
# test name (-t) or, with spaces, a whole command. CLIENTS (50) connections, random keys as
# bench.sh; RUNS (3); FILL: more commands for the fill, one a line, sent with redis-cli (e.g.
# a set to read: FILL="SADD smallset 1 2 3"); FILL_FILE: a file of such lines, for fills too
# large for the environment. Needs valgrind and redis-benchmark (apt install
# valgrind redis-tools).
set -euo pipefail
shopt -s inherit_errexit

(($# >= 3)) || { sed -n '2,19p' "$0" >&2; exit 2; }
BIN=$1 CMD=$2 PIPELINE=$3 REQUESTS=${4:-400000} PORT=${5:-7660}
CLIENTS=${CLIENTS:-50} RUNS=${RUNS:-3}
for tool in valgrind redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt install valgrind redis-tools" >&2; exit 1; }
done
if [[ $(basename "$BIN") == redis-server* ]]; then
  SERVER_ARGS=(--port "$PORT" --save "" --appendonly no --loglevel warning)
else
  SERVER_ARGS=(--port "$PORT" --workers 1 --loglevel warning)
fi
if [[ $CMD == *" "* ]]; then read -r -a WHAT <<<"$CMD"; else WHAT=(-t "$CMD"); fi

# instructions REQUESTS -> the server's total instruction count
instructions() {
  local requests=$1 out pid
  out=$(mktemp)
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$out" \
    "$BIN" "${SERVER_ARGS[@]}" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 300); do redis-cli -p "$PORT" PING >/dev/null 2>&1 && break; sleep 0.2; done
  redis-cli -p "$PORT" PING >/dev/null || { echo "$BIN did not start on port $PORT" >&2; exit 1; }
  redis-benchmark -p "$PORT" -t set -c 1 -P 64 -d 3 -r 100000 -n 200000 -q >/dev/null
  redis-benchmark -p "$PORT" -t lpush -c 1 -P 64 -d 3 -n $((REQUESTS > 600 ? REQUESTS : 600)) -q >/dev/null
  if [[ -n ${FILL:-} ]]; then printf '%s\n' "$FILL" | redis-cli -p "$PORT" >/dev/null; fi
  if [[ -n ${FILL_FILE:-} ]]; then redis-cli -p "$PORT" <"$FILL_FILE" >/dev/null; fi
  if ((requests > 0)); then
    redis-benchmark -p "$PORT" -c "$CLIENTS" -P "$PIPELINE" -d 3 -r 100000 -n "$requests" -q "${WHAT[@]}" >/dev/null
  fi
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  awk '/^summary:/ { print $2 }' "$out"
  rm -f "$out"
}

idle=$(instructions 0)
per_request=()
for ((i = 0; i < RUNS; i++)); do
  busy=$(instructions "$REQUESTS")
  ((busy > idle)) || { echo "no instructions counted for the requests (idle $idle, busy $busy)" >&2; exit 1; }
  per_request+=($(((busy - idle) / REQUESTS)))
done
median=$(printf '%s\n' "${per_request[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "$BIN $CMD -P $PIPELINE: $median instructions per request (median of ${per_request[*]})"
