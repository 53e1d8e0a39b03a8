#!/usr/bin/env bash
# Snapshot figures for the README: SAVE and load of N keys (seconds, MB/s), and GET
# latency from redis-benchmark while BGSAVE runs back to back, against the idle figure.
#
#   [WORKERS=n] scripts/bench-persist.sh [keys] [port]      (defaults: 1, 1000000, 7150)
#
# WORKERS is the server's worker threads; on a machine with few cores one leaves the
# benchmark client and the save a core to themselves.
#
# Needs redis-cli and redis-benchmark on PATH. Builds the release binary first.
set -euo pipefail

KEYS=${1:-1000000}
PORT=${2:-7150}
WORKERS=${WORKERS:-1}
VALUE_SIZE=100
REQUESTS=$((KEYS / 2))
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
SNAPSHOT="$WORK/dump.rdst"
LOG="$WORK/redistill.log"
PID=

cleanup() {
    if [[ -n "$PID" ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --bin redistill
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/redistill"

start() {
    "$BIN" --port "$PORT" --workers "$WORKERS" \
        --set persistence.enabled=true \
        --set "persistence.snapshot_path=$SNAPSHOT" \
        --set persistence.snapshot_interval=0 \
        --set persistence.save_on_shutdown=false 2>>"$LOG" &
    PID=$!
    # PING answers -LOADING until the snapshot is in memory, as with Redis.
    until [ "$(redis-cli -p "$PORT" PING 2>/dev/null)" = PONG ]; do sleep 0.05; done
}

stop() {
    kill "$PID"
    wait "$PID" || true
    PID=
}

now() { date +%s.%N; }

echo "keys: $KEYS, value size: $VALUE_SIZE bytes, workers: $WORKERS, machine: $(nproc) cores (shared, busy)"
start
# key:<i, 12 digits> -> VALUE_SIZE bytes (redis-benchmark's key names, so its GETs hit),
# loaded through one pipe.
fill() {
    local value
    value=$(head -c "$VALUE_SIZE" /dev/zero | tr '\0' 'x')
    awk -v n="$KEYS" -v v="$value" 'BEGIN {
        for (i = 0; i < n; i++) {
            k = sprintf("key:%012d", i)
            printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
        }
    }' | redis-cli -p "$PORT" --pipe >/dev/null
}
fill
echo "dbsize: $(redis-cli -p "$PORT" DBSIZE)"

t0=$(now)
redis-cli -p "$PORT" SAVE >/dev/null
t1=$(now)
BYTES=$(stat -c %s "$SNAPSHOT")
awk -v a="$t0" -v b="$t1" -v s="$BYTES" 'BEGIN {
    d = b - a; printf "SAVE: %.3f s, %.1f MB, %.1f MB/s\n", d, s / 1e6, s / 1e6 / d }'

stop
: >"$LOG"
t0=$(now)
start
t1=$(now)
grep -o 'DB loaded from disk.*' "$LOG" || true
awk -v a="$t0" -v b="$t1" -v s="$BYTES" 'BEGIN {
    d = b - a; printf "start with load (until PING answers): %.3f s, %.1f MB/s\n", d, s / 1e6 / d }'

bench_get() {
    redis-benchmark -p "$PORT" -t get -n "$REQUESTS" -r "$KEYS" -c 50 --csv 2>/dev/null \
        | tr -d '"' | awk -F, 'NR == 2 { printf "rps=%s p50=%s ms p99=%s ms max=%s ms\n", $2, $5, $7, $8 }'
}

rss() { redis-cli -p "$PORT" INFO memory | tr -d '\r' | awk -F: '/^used_memory_rss:/ { print $2 }'; }

# Memory: RSS before a BGSAVE against the highest RSS seen while it runs.
BASE=$(rss)
PEAK=$BASE
redis-cli -p "$PORT" BGSAVE >/dev/null
while redis-cli -p "$PORT" INFO persistence | grep -q 'rdb_bgsave_in_progress:1'; do
    r=$(rss)
    if ((r > PEAK)); then PEAK=$r; fi
    sleep 0.005
done
awk -v b="$BASE" -v p="$PEAK" 'BEGIN {
    printf "BGSAVE memory: RSS %.1f MB before, peak %.1f MB during (+%.1f MB)\n", b / 1e6, p / 1e6, (p - b) / 1e6 }'

bench_set() {
    redis-benchmark -p "$PORT" -t set -n "$REQUESTS" -r "$KEYS" -d "$VALUE_SIZE" -c 50 --csv 2>/dev/null \
        | tr -d '"' | awk -F, 'NR == 2 { printf "rps=%s p50=%s ms p99=%s ms max=%s ms\n", $2, $5, $7, $8 }'
}

echo "GET idle:          $(bench_get)"
echo "SET idle:          $(bench_set)"

# GET and SET latency while BGSAVE runs back to back for as long as the benchmarks do.
bench_get_during_bgsave() {
    (
        while true; do
            redis-cli -p "$PORT" BGSAVE >/dev/null 2>&1 || true
            while redis-cli -p "$PORT" INFO persistence 2>/dev/null | grep -q 'rdb_bgsave_in_progress:1'; do
                sleep 0.01
            done
        done
    ) &
    local saver=$!
    echo "GET during BGSAVE: $(bench_get)"
    echo "SET during BGSAVE: $(bench_set)"
    kill "$saver" 2>/dev/null || true
    wait "$saver" 2>/dev/null || true
    redis-cli -p "$PORT" INFO persistence | tr -d '\r' | grep -E '^rdb_saves|^rdb_last_bgsave_(status|time_sec)' | tr '\n' ' '
    echo
}
bench_get_during_bgsave
stop

# The same against redis-server (fork-based BGSAVE), when it is installed.
if command -v redis-server >/dev/null; then
    echo "redis-server $(redis-server --version | grep -o 'v=[0-9.]*'), same load:"
    redis-server --port "$PORT" --save '' --appendonly no --dir "$WORK" --dbfilename redis.rdb \
        --logfile "$WORK/redis.log" &
    PID=$!
    until redis-cli -p "$PORT" PING >/dev/null 2>&1; do sleep 0.05; done
    fill
    t0=$(now)
    redis-cli -p "$PORT" SAVE >/dev/null
    t1=$(now)
    awk -v a="$t0" -v b="$t1" -v s="$(stat -c %s "$WORK/redis.rdb")" 'BEGIN {
        d = b - a; printf "SAVE: %.3f s, %.1f MB, %.1f MB/s\n", d, s / 1e6, s / 1e6 / d }'
    echo "GET idle:          $(bench_get)"
    echo "SET idle:          $(bench_set)"
    bench_get_during_bgsave
    redis-cli -p "$PORT" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    wait "$PID" 2>/dev/null || true
    PID=
fi
