#!/usr/bin/env bash
# Runs every test: the workspace's unit, integration, property and differential tests, its
# doc tests, the random differential run and the linearizability check against redis-server,
# real clients (scripts/client-tests.sh), and the deployment files (scripts/deploy-checks.sh).
# Each stage runs even when an earlier one failed, and each cargo test stage runs all its
# test binaries; a closing summary names every stage as passed or FAILED, and the exit
# status is non-zero if any failed.
#
# The differential tests compare redistill's replies with a real redis-server's. This script
# installs Debian's redis-server when it is missing (apt-get, as root or through sudo) and
# runs them live; without redis-server they would only compare against the recorded replies.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  echo "test.sh: installing redis-server and redis-tools for the differential tests"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # Debian would start a system redis on 6379 after installing; these tests start their own.
  $sudo env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq redis-server redis-tools >/dev/null \
    || { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq redis-server redis-tools >/dev/null; }
fi
command -v redis-server >/dev/null || { echo "test.sh: redis-server is required and could not be installed" >&2; exit 1; }

export REDIS_DIFF=live
SUMMARY=()
FAILED=0
# stage NAME COMMAND...: runs one stage and records how it went.
stage() {
  local name=$1
  shift
  echo "== $name: $*"
  if "$@"; then
    SUMMARY+=("passed  $name")
  else
    SUMMARY+=("FAILED  $name")
    FAILED=$((FAILED + 1))
  fi
}

stage "tests" cargo test --workspace --all-targets --no-fail-fast
stage "doc tests" cargo test --workspace --doc --no-fail-fast
# Random command sequences against redis-server (ignored by a plain cargo test, which may
# run where redis-server is absent).
stage "random differential run" cargo test -p redistill-server --test random_diff -- --ignored
# WATCH after random writes against redis-server: which transactions fail must match.
stage "watch differential run" cargo test -p redistill-server --test watch_property -- --ignored
# MONITOR's lines beside redis-server's.
stage "MONITOR differential check" cargo test -p redistill-server --test monitor -- --ignored
# CLIENT TRACKING's invalidations beside redis-server's, frame by frame.
stage "CLIENT TRACKING differential check" cargo test -p redistill-server --test tracking -- --ignored
# The atomicity workload against redis-server, whose commands are atomic: the
# linearizability checker must find nothing there.
stage "linearizability check of redis-server" cargo test -p redistill-server --test linearizability \
  -- --ignored --exact redis_server_passes_the_same_check
# Real clients (redis-cli, redis-benchmark, redis-py, ioredis) against a running server.
stage "real clients" scripts/client-tests.sh
# The systemd unit (systemd-analyze) and the Dockerfile (hadolint, and its settings and
# HEALTHCHECK run against the built server).
stage "deployment files" scripts/deploy-checks.sh

echo "== summary"
printf '%s\n' "${SUMMARY[@]}"
if [ "$FAILED" -ne 0 ]; then
  echo "test.sh: $FAILED of ${#SUMMARY[@]} stages failed" >&2
  exit 1
fi
