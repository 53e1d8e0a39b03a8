#!/usr/bin/env bash
# Snapshot figures for the README: SAVE and load of N keys (seconds, MB/s), and GET
# latency from redis-benchmark while BGSAVE runs back to back, against the idle figure.
#
#   scripts/bench-persist.sh [keys] [port]      (defaults: 1000000, 7150)
#
# Needs redis-cli and redis-benchmark on PATH. Builds the release binary first.
set -euo pipefail

KEYS=${1:-1000000}
PORT=${2:-7150}
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
    "$BIN" --port "$PORT" --workers 2 \
        --set persistence.enabled=true \
        --set "persistence.snapshot_path=$SNAPSHOT" \
        --set persistence.snapshot_interval=0 \
        --set persistence.save_on_shutdown=false 2>>"$LOG" &
    PID=$!
    until redis-cli -p "$PORT" PING >/dev/null 2>&1; do sleep 0.05; done
}

stop() {
    kill "$PID"
    wait "$PID" || true
    PID=
}

now() { date +%s.%N; }

echo "keys: $KEYS, value size: $VALUE_SIZE bytes, machine: $(nproc) cores (shared, busy)"
start
# key:<i> -> VALUE_SIZE bytes, loaded through one pipe.
VALUE=$(head -c "$VALUE_SIZE" /dev/zero | tr '\0' 'x')
awk -v n="$KEYS" -v v="$VALUE" 'BEGIN {
    for (i = 0; i < n; i++) {
        k = "key:" i
        printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
    }
}' | redis-cli -p "$PORT" --pipe >/dev/null
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

echo "GET idle:          $(bench_get)"

# BGSAVE back to back for as long as the benchmark runs.
(
    while true; do
        redis-cli -p "$PORT" BGSAVE >/dev/null 2>&1 || true
        while redis-cli -p "$PORT" INFO persistence 2>/dev/null | grep -q 'rdb_bgsave_in_progress:1'; do
            sleep 0.01
        done
    done
) &
SAVER=$!
echo "GET during BGSAVE: $(bench_get)"
kill "$SAVER" 2>/dev/null || true
wait "$SAVER" 2>/dev/null || true
redis-cli -p "$PORT" INFO persistence | grep -E 'rdb_saves|rdb_last_bgsave_(status|time_sec)'
