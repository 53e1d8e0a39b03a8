#!/usr/bin/env bash
# Side by side with redis-server: APPEND, SETRANGE, GETRANGE and RENAME on 1 KB, 1 MB and
# 100 MB values, and a string built from 20,000 1 KB APPENDs.
#
# Builds redistill (release), starts it with one worker and Debian's redis-server, both pinned
# to the same core (SERVER_CPU, default 1), and runs the client (scripts/bench_strings.py)
# pinned to another (CLIENT_CPU, default 0). The table gives each server's CPU time per call,
# the figure to compare, and the wall time per call the client saw.
#
# Usage: scripts/bench-strings.sh   (needs redis-server and python3)
# Knobs: ROUNDS (3), CALLS (per run, 20000), BATCH (pipeline depth, 64), SIZES ("1KB,1MB,100MB"),
#        OPS ("APPEND,SETRANGE,GETRANGE,RENAME"), APPENDS (20000).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/bench-servers.sh
source scripts/bench-servers.sh python3

echo "redistill vs redis $(redis-server --version | awk '{ print $3 }' | cut -d= -f2), servers on cpu $SERVER_CPU, client on cpu $CLIENT_CPU"
taskset -c "$CLIENT_CPU" python3 scripts/bench_strings.py "redis:$REDIS_PORT:$REDIS_PID" "redistill:$OURS_PORT:$OURS_PID"
