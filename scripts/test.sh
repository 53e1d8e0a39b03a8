#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration, property, differential and doc tests.
#
# The differential tests compare redistill's replies with a real redis-server's. This script
# installs Debian's redis-server when it is missing (apt-get, as root or through sudo) and
# runs them live; without redis-server they would only compare against the recorded replies.
set -euo pipefail
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
cargo test --workspace --all-targets
cargo test --workspace --doc
# Random command sequences against redis-server (ignored by a plain cargo test, which may
# run where redis-server is absent).
cargo test -p redistill-server --test random_diff -- --ignored
# The atomicity workload against redis-server, whose commands are atomic: the
# linearizability checker must find nothing there.
cargo test -p redistill-server --test linearizability -- --ignored --exact redis_server_passes_the_same_check

# Real clients (redis-cli, redis-benchmark, redis-py, ioredis) against a running server.
scripts/client-tests.sh
