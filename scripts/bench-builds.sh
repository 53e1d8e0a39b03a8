#!/usr/bin/env bash
# Throughput and server CPU per request of several redistill builds side by side, measured as
# scripts/bench.sh measures redistill against redis: every build runs at once with one worker,
# all pinned to SERVER_CPU (default 1), redis-benchmark pinned to CLIENT_CPU (default 0), and
# each round runs every build in turn (the order reversed every other round), so that builds
# are compared under the same load from the rest of the machine. The table shows medians.
#
# Usage: scripts/bench-builds.sh NAME=BINARY NAME=BINARY ...
#   e.g. cargo build --release && cp target/release/redistill /tmp/jemalloc
#        cargo build --release --no-default-features && cp target/release/redistill /tmp/libc
#        scripts/bench-builds.sh libc=/tmp/libc jemalloc=/tmp/jemalloc
# Knobs: ROUNDS (5), REQUESTS (per run, default 1000000; pipelined runs use 4x), KEYSPACE
#        (100000), WORKLOADS (bench.sh's pipelined rows, as CMD:CLIENTS:PIPELINE:VALUE_SIZE),
#        BASE_PORT (7450).
set -euo pipefail

ROUNDS=${ROUNDS:-5}
REQUESTS=${REQUESTS:-1000000}
KEYSPACE=${KEYSPACE:-100000}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
WORKLOADS=${WORKLOADS:-"SET:50:16:3 GET:50:16:3 SET:100:64:3 GET:100:64:3 SET:50:16:1024 GET:50:16:1024"}
BASE_PORT=${BASE_PORT:-7450}
HZ=$(getconf CLK_TCK)

(($# > 0)) || { sed -n '2,14p' "$0" >&2; exit 2; }
NAMES=(); declare -A BIN PORT PID
for arg in "$@"; do
  name=${arg%%=*}; BIN[$name]=${arg#*=}; NAMES+=("$name")
done
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
port=$BASE_PORT
for name in "${NAMES[@]}"; do
  PORT[$name]=$port
  taskset -c "$SERVER_CPU" "${BIN[$name]}" --port "$port" --workers 1 --loglevel warning 2>/dev/null &
  PID[$name]=$!; PIDS+=($!)
  port=$((port + 1))
done
for name in "${NAMES[@]}"; do
  for _ in $(seq 100); do redis-cli -p "${PORT[$name]}" PING >/dev/null 2>&1 && break; sleep 0.1; done
done

# shellcheck source=scripts/bench-common.sh
source "$(dirname "$0")/bench-common.sh"

# run NAME CMD CLIENTS PIPELINE SIZE N -> "ops/s us_per_request"
run() {
  local name=$1 cmd=$2 c=$3 p=$4 d=$5 n=$6 before after ops
  before=$(cpu_ticks "${PID[$name]}")
  ops=$(taskset -c "$CLIENT_CPU" redis-benchmark -p "${PORT[$name]}" -t "${cmd,,}" -c "$c" -P "$p" -d "$d" \
        -r "$KEYSPACE" -n "$n" --csv 2>/dev/null | tr -d '"' | awk -F, -v t="$cmd" '$1 == t { print $2 }')
  after=$(cpu_ticks "${PID[$name]}")
  awk -v o="$ops" -v t=$((after - before)) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%s %.3f\n", o, t / hz * 1e6 / n }'
}

echo "$ROUNDS rounds, servers on cpu $SERVER_CPU (one worker each), client on cpu $CLIENT_CPU, keyspace $KEYSPACE"
header="| workload                "; rule="|-------------------------"
for name in "${NAMES[@]}"; do header+=$(printf ' | %12s | %7s' "$name ops/s" "us"); rule+="|--------------|---------"; done
echo "$header |"; echo "$rule|"
for w in $WORKLOADS; do
  IFS=: read -r cmd c p d <<<"$w"
  n=$REQUESTS; ((p > 1)) && n=$((REQUESTS * 4))
  if [[ $cmd == GET ]]; then # GETs should hit values of the workload's size
    for name in "${NAMES[@]}"; do
      taskset -c "$CLIENT_CPU" redis-benchmark -p "${PORT[$name]}" -t set -c 50 -P 64 -d "$d" -r "$KEYSPACE" \
        -n $((KEYSPACE * 10)) -q >/dev/null
    done
  fi
  declare -A OPS=() US=()
  for ((i = 0; i < ROUNDS; i++)); do
    order=("${NAMES[@]}")
    if ((i % 2)); then order=(); for ((j = ${#NAMES[@]} - 1; j >= 0; j--)); do order+=("${NAMES[j]}"); done; fi
    for name in "${order[@]}"; do
      read -r ops us < <(run "$name" "$cmd" "$c" "$p" "$d" "$n")
      OPS[$name]+=" $ops"; US[$name]+=" $us"
    done
  done
  line=$(printf '| %-24s' "$cmd -c $c -P $p -d $d")
  for name in "${NAMES[@]}"; do
    # shellcheck disable=SC2086 # word splitting of the samples is intended
    line+=$(printf ' | %12.0f | %7.3f' "$(median ${OPS[$name]})" "$(median ${US[$name]})")
  done
  echo "$line |"
done
echo
echo "us: the server's CPU time per request (user + system, from /proc/PID/stat before and after each run)."
