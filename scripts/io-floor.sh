#!/usr/bin/env bash
# How close redistill and redis-server come to the I/O floor of this machine on requests
# that find their key missing: each request's work is then almost all fixed cost, most of it
# the kernel's. Beside the two servers it runs the fixed_reply example, a server that does no
# work at all and answers each request with the reply the row's command gives on a missing
# key, pinned to the same core (SERVER_CPU). Its rate is the most any server on this machine
# can reach with one socket read and one write per pipelined batch, so its ratio to
# redis-server bounds every server's.
#
# The three run alternately, ROUNDS times per row, driven by the load generator
# (examples/loadgen) on CLIENT_CPU; no fill first, so every key is missing. The table shows
# each one's median ops/s and server CPU per request, and the ratios of redistill and of the
# floor to redis-server.
#
# Usage: scripts/io-floor.sh
# Knobs: ROUNDS (5), REQUESTS (per run, 1200000), KEYSPACE (100000),
#        WORKLOADS ("SPOP:50:16 ZPOPMIN:50:16" as CMD:CLIENTS:PIPELINE; CMD one of SPOP,
#        ZPOPMIN, ZPOPMAX, GET, LPOP, RPOP: redis-benchmark tests).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
REQUESTS=${REQUESTS:-1200000}
KEYSPACE=${KEYSPACE:-100000}
WORKLOADS=${WORKLOADS:-"SPOP:50:16 ZPOPMIN:50:16"}
FLOOR_PORT=${FLOOR_PORT:-16381}
HZ=$(getconf CLK_TCK)
TARGET=${CARGO_TARGET_DIR:-target}

# shellcheck source=scripts/bench-servers.sh
source scripts/bench-servers.sh
cargo build --release --quiet --example loadgen --example fixed_reply

# missing_key_reply CMD -> what CMD answers on a missing key (RESP2), without its CRLF
missing_key_reply() {
  case $1 in
    SPOP | GET | LPOP | RPOP) echo '$-1' ;;
    ZPOPMIN | ZPOPMAX) echo '*0' ;;
    *) echo "io-floor: no missing-key reply known for $1" >&2; exit 2 ;;
  esac
}

# start_floor REPLY: (re)starts the fixed-reply server on FLOOR_PORT, setting FLOOR_PID
start_floor() {
  if [[ -n ${FLOOR_PID:-} ]]; then kill "$FLOOR_PID"; wait "$FLOOR_PID" 2>/dev/null || true; fi
  taskset -c "$SERVER_CPU" "$TARGET/release/examples/fixed_reply" "$FLOOR_PORT" "$1" &
  FLOOR_PID=$!
  PIDS+=("$FLOOR_PID")
  for _ in $(seq 100); do redis-cli -p "$FLOOR_PORT" PING >/dev/null 2>&1 && return; sleep 0.1; done
  echo "io-floor: fixed_reply did not start on port $FLOOR_PORT" >&2
  exit 1
}

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

# run PORT PID CMD CLIENTS PIPELINE -> "ops/s us_per_request"
run() {
  local port=$1 pid=$2 cmd=$3 c=$4 p=$5 before after ops
  before=$(cpu_ticks "$pid")
  ops=$(taskset -c "$CLIENT_CPU" "$TARGET/release/examples/loadgen" -p "$port" -c "$c" -P "$p" \
        -r "$KEYSPACE" -n "$REQUESTS" --csv -t "${cmd,,}" | tr -d '"' | awk -F, -v t="$cmd" '$1 == t { print $2 }')
  after=$(cpu_ticks "$pid")
  [[ -n $ops ]] || { echo "io-floor: no rate for $cmd on port $port" >&2; exit 1; }
  awk -v o="$ops" -v t=$((after - before)) -v hz="$HZ" -v n="$REQUESTS" 'BEGIN { printf "%s %.3f\n", o, t / hz * 1e6 / n }'
}

echo "missing-key requests: redis $(redis-server --version | awk '{ print $3 }' | cut -d= -f2), redistill and fixed_reply on cpu $SERVER_CPU, loadgen on cpu $CLIENT_CPU, $ROUNDS rounds of $REQUESTS"
echo
printf '| %-20s | %11s | %8s | %11s | %8s | %11s | %8s | %8s | %8s |\n' \
  workload "redis ops/s" "redis us" "ours ops/s" "ours us" "floor ops/s" "floor us" "ours x" "floor x"
printf '|%s|\n' "----------------------|-------------|----------|-------------|----------|-------------|----------|----------|----------"
for w in $WORKLOADS; do
  IFS=: read -r cmd c p <<<"$w"
  start_floor "$(missing_key_reply "$cmd")"
  redis-cli -p "$REDIS_PORT" FLUSHALL >/dev/null
  redis-cli -p "$OURS_PORT" FLUSHALL >/dev/null
  r_ops=() r_us=() o_ops=() o_us=() f_ops=() f_us=()
  for ((i = 0; i < ROUNDS; i++)); do
    read -r ops us < <(run "$REDIS_PORT" "$REDIS_PID" "$cmd" "$c" "$p"); r_ops+=("$ops"); r_us+=("$us")
    read -r ops us < <(run "$OURS_PORT" "$OURS_PID" "$cmd" "$c" "$p"); o_ops+=("$ops"); o_us+=("$us")
    read -r ops us < <(run "$FLOOR_PORT" "$FLOOR_PID" "$cmd" "$c" "$p"); f_ops+=("$ops"); f_us+=("$us")
  done
  r=$(median "${r_ops[@]}") o=$(median "${o_ops[@]}") f=$(median "${f_ops[@]}")
  printf '| %-20s | %11.0f | %8.3f | %11.0f | %8.3f | %11.0f | %8.3f | %8.2f | %8.2f |\n' \
    "$cmd -c $c -P $p" "$r" "$(median "${r_us[@]}")" "$o" "$(median "${o_us[@]}")" \
    "$f" "$(median "${f_us[@]}")" "$(awk -v a="$o" -v b="$r" 'BEGIN { print a / b }')" \
    "$(awk -v a="$f" -v b="$r" 'BEGIN { print a / b }')"
done
echo
echo "ours x, floor x: ops/s against redis-server's. floor: fixed_reply, a server that does no work per request."
