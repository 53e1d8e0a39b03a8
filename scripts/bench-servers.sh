# Sourced by the side-by-side benchmarks: builds redistill (release) and starts it with
# WORKERS workers (default 1) beside Debian's redis-server, both pinned to SERVER_CPU, on
# REDIS_PORT and OURS_PORT; sets REDIS_PID and OURS_PID and stops both on exit.
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
REDIS_PORT=${REDIS_PORT:-16379}
OURS_PORT=${OURS_PORT:-16380}
WORKERS=${WORKERS:-1}

for tool in redis-server redis-cli taskset "$@"; do
  command -v "$tool" >/dev/null || { echo "bench: missing $tool (apt-get install redis-server redis-tools util-linux)" >&2; exit 2; }
done

cargo build --release --quiet
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --loglevel warning &
PIDS+=($!); REDIS_PID=$!
taskset -c "$SERVER_CPU" "${CARGO_TARGET_DIR:-target}/release/redistill" --port "$OURS_PORT" --workers "$WORKERS" --loglevel warning &
PIDS+=($!); OURS_PID=$!
for port in "$REDIS_PORT" "$OURS_PORT"; do
  for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done
done
