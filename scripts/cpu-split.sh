#!/usr/bin/env bash
# Where one redis-benchmark run's time goes: user and system CPU per request of the server
# and of the client, as bench.sh pins them (server on SERVER_CPU, client on CLIENT_CPU).
# When the client's core is saturated, or system time dominates both sides, throughput
# measures the machine's loopback networking more than the server; the server's user time
# per request (and scripts/instructions-per-request.sh) is then what tells servers apart.
#
# Usage: scripts/cpu-split.sh BINARY [REDIS-BENCHMARK ARGS...]
#   e.g. scripts/cpu-split.sh target/release/redistill -t lpush -c 50 -P 16 -n 2000000
#        scripts/cpu-split.sh /usr/bin/redis-server -t lpush -c 50 -P 16 -n 2000000
# BINARY is redistill (run with one worker) or redis-server. Needs redis-benchmark.
set -euo pipefail

(($# >= 1)) || { sed -n '2,12p' "$0" >&2; exit 2; }
for tool in redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt install redis-tools" >&2; exit 1; }
done
BIN=$1; shift
PORT=${PORT:-7661} SERVER_CPU=${SERVER_CPU:-1} CLIENT_CPU=${CLIENT_CPU:-0}
if [[ $(basename "$BIN") == redis-server* ]]; then
  args=(--port "$PORT" --save "" --appendonly no --loglevel warning)
else
  args=(--port "$PORT" --workers 1 --loglevel warning)
fi
taskset -c "$SERVER_CPU" "$BIN" "${args[@]}" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" PING >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$PORT" PING >/dev/null || { echo "$BIN did not start on port $PORT" >&2; exit 1; }

ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }  # utime stime
read -r su0 ss0 < <(ticks "$server")
out=$(mktemp)
taskset -c "$CLIENT_CPU" redis-benchmark -p "$PORT" --csv "$@" >"$out" &
client=$!
# The client's counters vanish with it: sample them just before it ends.
read -r cu0 cs0 < <(ticks "$client")
cu=$cu0 cs=$cs0
while kill -0 "$client" 2>/dev/null; do
  read -r cu cs < <(ticks "$client" 2>/dev/null) || break
  sleep 0.05
done
wait "$client" || { echo "redis-benchmark failed" >&2; exit 1; }
read -r su1 ss1 < <(ticks "$server")
awk -F, 'NR > 1 { gsub(/"/, ""); print $1 ": " $2 " requests per second" }' "$out"
rm -f "$out"
n=$(printf '%s\n' "$@" | awk 'prev == "-n" { print } { prev = $0 }')
hz=$(getconf CLK_TCK)
awk -v n="${n:-100000}" -v hz="$hz" -v su=$((su1 - su0)) -v ss=$((ss1 - ss0)) \
    -v cu=$((cu - cu0)) -v cs=$((cs - cs0)) 'BEGIN {
  f = 1e6 / hz / n
  printf "server us/request: user %.3f system %.3f\n", su * f, ss * f
  printf "client us/request: user %.3f system %.3f (sampled every 50 ms)\n", cu * f, cs * f
}'
