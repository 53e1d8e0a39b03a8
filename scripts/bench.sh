#!/usr/bin/env bash
# Side-by-side throughput of redistill and redis-server on this machine.
#
# Builds redistill (release), starts it with one worker and Debian's redis-server, both pinned
# to the same core (SERVER_CPU, default 1), and runs redis-benchmark pinned to another core
# (CLIENT_CPU, default 0) over a matrix of GET/SET, pipelined and not, small and 1 KiB
# values. Runs alternate between the servers, ROUNDS times per workload; the table shows the
# median ops/s and the median server CPU time per request (utime+stime from /proc/PID/stat
# before and after each run), and redistill's ratio to redis on both.
#
# Usage: scripts/bench.sh            (needs redis-server and redis-benchmark: apt-get install redis-server)
#        scripts/bench.sh lists      the list matrix: LPUSH RPUSH LPOP RPOP LRANGE_100 LRANGE_600, and
#                                    BRPOP: 50 consumers in BRPOP fed by 50 LPUSH clients at once
#                                    (ops/s: elements through the queue; CPU per push or pop)
#        scripts/bench.sh dump       DUMP and RESTORE of a string of the row's size, a listpack hash
#                                    of 16 fields, a list of 600 elements and a listpack sorted
#                                    set of 100 members: DUMP through redis-benchmark; RESTORE
#                                    (REPLACE, of Redis's own payload) as REQUESTS/10 commands
#                                    sent through one `redis-cli --pipe`, timed end to end
#        scripts/bench.sh sets       redis-benchmark's SADD SPOP ZADD ZPOPMIN, and on a sorted set
#                                    `big` of BIG_ZSET (1,000,000) members `member:<12 digits>`
#                                    scored by their number: ZRANGE_100 (ZRANGE big 0 99
#                                    WITHSCORES), ZRANK, ZRANGEBYSCORE (from a random score,
#                                    LIMIT 0 10) and ZINCRBY, of random members
#        scripts/bench.sh bitmaps    SETBIT, GETBIT and BITCOUNT on one bitmap of BITMAP_BITS (2^30) bits
#                                    (128 MB) at random offsets: BITCOUNT_RANGE counts VALUE_SIZE
#                                    bytes from a random byte, BITCOUNT the whole bitmap (REQUESTS /
#                                    5000 calls). Driven by the bitmap_load example (redis-benchmark
#                                    writes its random numbers zero-padded, which are no bit offsets)
#        scripts/bench.sh hll        HyperLogLogs: PFADD hll ele:__rand_int__ (one key, dense once
#                                    KEYSPACE elements went in), PFADD_SPARSE (PFADD hll:__rand_int__
#                                    ele:__rand_int__: KEYSPACE small sparse keys), PFCOUNT hll (the
#                                    cached count) and PFCOUNT_MERGE (PFCOUNT hll nokey: a merge of
#                                    the dense registers and a fresh estimate each time; unpipelined
#                                    only, since at some 10,000 a second a pipelined run of 4x
#                                    REQUESTS takes minutes)
#        scripts/bench.sh scripting  EVALSHA of a script of one GET (EVALSHA_GET) and of ten GETs
#                                    (EVALSHA_10), FCALL of the same as functions (FCALL_GET,
#                                    FCALL_10), on keys of the GET rows' keyspace
#        scripts/bench.sh geo        on a sorted set `geo` of GEO_POINTS (1,000,000) points spread over
#                                    2 by 2 degrees around 14,38: GEOSEARCH (FROMLONLAT 14 38 BYRADIUS
#                                    1 km: about 80 points), and SORT_10K: SORT of a list `sortlist`
#                                    of 10,000 random numbers (SORT_REQUESTS per run, default 2000)
#        scripts/bench.sh pubsub     PUBLISH to one channel with 1, 100 and 1,000 subscribers (the
#                                    row's CLIENTS), pipelined by PIPELINE, messages of VALUE_SIZE
#                                    bytes, driven by the pubsub_load example until every
#                                    subscriber has every message: ops/s are messages delivered per
#                                    second (summed over subscribers), us the server CPU per
#                                    delivered message; REQUESTS deliveries per run
# Knobs: ROUNDS (3), REQUESTS (per run, default 1000000; pipelined runs use 4x), KEYSPACE (100000),
#        WORKLOADS ("GET:50:1:3 ..." as CMD:CLIENTS:PIPELINE:VALUE_SIZE), WORKERS (1),
#        CLIENT (redis-benchmark; loadgen: the workspace's examples/loadgen, with the same
#        options, tests and CSV, which needs far less of its core per request, so that on
#        pipelined rows the servers, not the client, set the rate; fills stay on redis-benchmark).
# List rows use redis-benchmark's one list key: each LPUSH/RPUSH row adds what the LPOP/RPOP
# row after it takes, so pops always find elements; LRANGE_N reads the first N of a list of
# 600 elements of the row's value size (LRANGE mylist 0 N-1).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-$([[ ${1:-} == geo ]] && echo 100000 || echo 1000000)}
KEYSPACE=${KEYSPACE:-100000}
DEFAULT_WORKLOADS="SET:50:1:3 GET:50:1:3 SET:50:1:1024 GET:50:1:1024 SET:50:16:3 GET:50:16:3 SET:100:64:3 GET:100:64:3 SET:50:16:1024 GET:50:16:1024"
LIST_WORKLOADS="LPUSH:50:1:3 LPOP:50:1:3 RPUSH:50:1:3 RPOP:50:1:3 LPUSH:50:16:3 LPOP:50:16:3 RPUSH:50:16:3 RPOP:50:16:3 LRANGE_100:50:1:3 LRANGE_600:50:1:3 LRANGE_100:50:16:3 LRANGE_600:50:16:3 BRPOP:50:1:3"
SET_WORKLOADS="SADD:50:1:3 SPOP:50:1:3 ZADD:50:1:3 ZPOPMIN:50:1:3 SADD:50:16:3 SPOP:50:16:3 ZADD:50:16:3 ZPOPMIN:50:16:3 ZRANGE_100:50:1:3 ZRANK:50:1:3 ZRANGEBYSCORE:50:1:3 ZINCRBY:50:1:3 ZRANGE_100:50:16:3 ZRANK:50:16:3 ZRANGEBYSCORE:50:16:3 ZINCRBY:50:16:3"
BITMAP_WORKLOADS="SETBIT:50:1:0 GETBIT:50:1:0 SETBIT:50:16:0 GETBIT:50:16:0 BITCOUNT_RANGE:50:1:1024 BITCOUNT_RANGE:50:16:1024 BITCOUNT:1:1:0 BITCOUNT:50:1:0"
HLL_WORKLOADS="PFADD:50:1:3 PFADD_SPARSE:50:1:3 PFCOUNT:50:1:3 PFCOUNT_MERGE:50:1:3 PFADD:50:16:3 PFADD_SPARSE:50:16:3 PFCOUNT:50:16:3"
BIG_ZSET=${BIG_ZSET:-1000000}
BITMAP_BITS=${BITMAP_BITS:-1073741824}
DUMP_WORKLOADS="DUMP_STRING:50:1:1024 DUMP_HASH:50:1:8 DUMP_LIST:50:1:8 DUMP_ZSET:50:1:8 RESTORE_STRING:1:1:1024 RESTORE_HASH:1:1:8 RESTORE_LIST:1:1:8 RESTORE_ZSET:1:1:8"
if [[ ${1:-} == dump ]]; then DEFAULT_WORKLOADS=$DUMP_WORKLOADS; fi
if [[ ${1:-} == lists ]]; then DEFAULT_WORKLOADS=$LIST_WORKLOADS; fi
if [[ ${1:-} == sets ]]; then DEFAULT_WORKLOADS=$SET_WORKLOADS; fi
if [[ ${1:-} == bitmaps ]]; then DEFAULT_WORKLOADS=$BITMAP_WORKLOADS; fi
if [[ ${1:-} == hll ]]; then DEFAULT_WORKLOADS=$HLL_WORKLOADS; fi
GEO_WORKLOADS="GEOSEARCH:50:1:3 GEOSEARCH:50:16:3 SORT_10K:50:1:3 SORT_10K:50:16:3"
BIG_ZSET=${BIG_ZSET:-1000000}
GEO_POINTS=${GEO_POINTS:-1000000}
SORT_REQUESTS=${SORT_REQUESTS:-2000}
if [[ ${1:-} == geo ]]; then DEFAULT_WORKLOADS=$GEO_WORKLOADS; fi
PUBSUB_WORKLOADS="PUBLISH:1:1:64 PUBLISH:1:16:64 PUBLISH:100:16:64 PUBLISH:1000:16:64"
if [[ ${1:-} == pubsub ]]; then DEFAULT_WORKLOADS=$PUBSUB_WORKLOADS; fi
SCRIPTING_WORKLOADS="EVALSHA_GET:50:1:3 EVALSHA_10:50:1:3 FCALL_GET:50:1:3 FCALL_10:50:1:3 EVALSHA_GET:50:16:3 EVALSHA_10:50:16:3 FCALL_GET:50:16:3 FCALL_10:50:16:3"
if [[ ${1:-} == scripting ]]; then DEFAULT_WORKLOADS=$SCRIPTING_WORKLOADS; fi
SCRIPT_GET='return redis.call("GET", KEYS[1])'
SCRIPT_10='local v for i = 1, 10 do v = redis.call("GET", KEYS[1]) end return v'
SCRIPT_LIBRARY='#!lua name=bench
redis.register_function("get1", function(keys) return redis.call("GET", keys[1]) end)
redis.register_function("get10", function(keys) local v for i = 1, 10 do v = redis.call("GET", keys[1]) end return v end)'
SHA_GET=$(printf '%s' "$SCRIPT_GET" | sha1sum | cut -d' ' -f1)
SHA_10=$(printf '%s' "$SCRIPT_10" | sha1sum | cut -d' ' -f1)
WORKLOADS=${WORKLOADS:-$DEFAULT_WORKLOADS}
HZ=$(getconf CLK_TCK)
if [[ $WORKLOADS == *BIT* ]]; then cargo build --release --quiet -p redistill-server --example bitmap_load; fi
if [[ $WORKLOADS == *PUBLISH* ]]; then cargo build --release --quiet -p redistill-server --example pubsub_load; fi
CLIENT=${CLIENT:-redis-benchmark}
case $CLIENT in
  redis-benchmark) BENCH_CLIENT=(redis-benchmark) ;;
  loadgen) cargo build --release --quiet --example loadgen
           BENCH_CLIENT=("${CARGO_TARGET_DIR:-target}/release/examples/loadgen") ;;
  *) echo "bench: CLIENT is redis-benchmark or loadgen, not $CLIENT" >&2; exit 2 ;;
esac

# shellcheck source=scripts/bench-servers.sh
source scripts/bench-servers.sh redis-benchmark

# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

# run PORT PID CMD CLIENTS PIPELINE SIZE N -> "ops/s us_per_request"
run() {
  local port=$1 pid=$2 cmd=$3 c=$4 p=$5 d=$6 n=$7 before after ops
  local what=(-t "${cmd,,}") label=$cmd producer="" keyspace=$KEYSPACE
  if [[ $cmd == LRANGE_* ]]; then  # the read alone, without redis-benchmark's LPUSH prefill
    label="LRANGE mylist 0 $((${cmd#LRANGE_} - 1))"; what=($label)
  fi
  case $cmd in  # commands on the big sorted set, of random members (or from a random score)
    ZRANGE_100) label="ZRANGE big 0 99 WITHSCORES" ;;
    ZRANK) label="ZRANK big member:__rand_int__" ;;
    ZRANGEBYSCORE) label="ZRANGEBYSCORE big __rand_int__ +inf LIMIT 0 10" ;;
    ZINCRBY) label="ZINCRBY big 1 member:__rand_int__" ;;
    GEOSEARCH) label="GEOSEARCH geo FROMLONLAT 14 38 BYRADIUS 1 km"; what=($label) ;;
    SORT_10K) label="SORT sortlist"; what=($label) ;;
  esac
  if [[ $label == *big* ]]; then what=($label); keyspace=$BIG_ZSET; fi
  if [[ $cmd == DUMP_* ]]; then label="DUMP dump:${cmd#DUMP_}"; what=($label); fi
  case $cmd in  # scripts and functions, loaded on both servers before the rows run
    EVALSHA_GET) label="EVALSHA $SHA_GET 1 key:__rand_int__"; what=($label) ;;
    EVALSHA_10) label="EVALSHA $SHA_10 1 key:__rand_int__"; what=($label) ;;
    FCALL_GET) label="FCALL get1 1 key:__rand_int__"; what=($label) ;;
    FCALL_10) label="FCALL get10 1 key:__rand_int__"; what=($label) ;;
  esac
  case $cmd in  # HyperLogLogs: one key of random elements, many small ones, counts
    PFADD) label="PFADD hll ele:__rand_int__"; what=($label) ;;
    PFADD_SPARSE) label="PFADD hll:__rand_int__ ele:__rand_int__"; what=($label) ;;
    PFCOUNT) label="PFCOUNT hll"; what=($label) ;;
    PFCOUNT_MERGE) label="PFCOUNT hll nokey"; what=($label) ;;
  esac
  before=$(cpu_ticks "$pid")
  if [[ $cmd == SETBIT || $cmd == GETBIT || $cmd == BITCOUNT* ]]; then  # random bit offsets
    [[ $cmd == BITCOUNT ]] && n=$((n / 5000 > 0 ? n / 5000 : 1))
    ops=$(taskset -c "$CLIENT_CPU" "${CARGO_TARGET_DIR:-target}/release/examples/bitmap_load" \
          "$port" "${cmd,,}" "$c" "$p" "$n" $((BITMAP_BITS - 1)) "$d")
    after=$(cpu_ticks "$pid")
    awk -v o="$ops" -v t=$((after - before)) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%s %.3f\n", o, t / hz * 1e6 / n }'
    return
  fi
  if [[ $cmd == PUBLISH ]]; then  # c subscribers, one pipelining publisher; n deliveries
    read -r ops n < <(taskset -c "$CLIENT_CPU" "${CARGO_TARGET_DIR:-target}/release/examples/pubsub_load" \
          "$port" "$c" "$n" "$p" "$d")
    after=$(cpu_ticks "$pid")
    awk -v o="$ops" -v t=$((after - before)) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%s %.3f\n", o, t / hz * 1e6 / n }'
    return
  fi
  if [[ $cmd == RESTORE_* ]]; then  # the prepared RESTOREs through one pipe, timed end to end
    local start end
    start=$(date +%s%N)
    taskset -c "$CLIENT_CPU" redis-cli -p "$port" --pipe <"$RESTORE_DIR/$cmd" >/dev/null
    end=$(date +%s%N)
    after=$(cpu_ticks "$pid")
    awk -v n="$n" -v ns=$((end - start)) -v t=$((after - before)) -v hz="$HZ" 'BEGIN { printf "%.0f %.3f\n", n / (ns / 1e9), t / hz * 1e6 / n }'
    return
  fi
  if [[ $cmd == BRPOP ]]; then  # consumers blocked on a queue, fed by as many LPUSHes at once
    label="BRPOP queue 0"; what=($label)
    taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -c "$c" -P "$p" -n "$n" LPUSH queue "$(head -c "$d" /dev/zero | tr '\0' x)" >/dev/null 2>&1 &
    producer=$!
  fi
  ops=$(taskset -c "$CLIENT_CPU" "${BENCH_CLIENT[@]}" -p "$port" -c "$c" -P "$p" -d "$d" \
        -r "$keyspace" -n "$n" --csv "${what[@]}" 2>/dev/null | tr -d '"' | awk -F, -v t="$label" '$1 == t { print $2 }')
  if [[ -n $producer ]]; then wait "$producer"; n=$((n * 2)); fi  # CPU per request: per push or pop
  after=$(cpu_ticks "$pid")
  awk -v o="$ops" -v t=$((after - before)) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%s %.3f\n", o, t / hz * 1e6 / n }'
}

echo "redistill vs redis $(redis-server --version | awk '{ print $3 }' | cut -d= -f2), servers on cpu $SERVER_CPU, $CLIENT on cpu $CLIENT_CPU, redistill workers=$WORKERS, $ROUNDS rounds, keyspace $KEYSPACE"
echo
printf '| %-24s | %12s | %9s | %12s | %9s | %6s | %6s |\n' workload "redis ops/s" "redis us" "ours ops/s" "ours us" "ops x" "cpu x"
printf '|%s|\n' "--------------------------|--------------|-----------|--------------|-----------|--------|--------"
for w in $WORKLOADS; do
  IFS=: read -r cmd c p d <<<"$w"
  n=$REQUESTS; [[ $cmd == SORT_10K ]] && n=$SORT_REQUESTS; (( p > 1 )) && n=$((n * 4))
  if [[ $cmd == EVALSHA_* || $cmd == FCALL_* ]]; then  # the scripts, and values to GET
    for port in "$REDIS_PORT" "$OURS_PORT"; do
      redis-cli -p "$port" SCRIPT LOAD "$SCRIPT_GET" >/dev/null
      redis-cli -p "$port" SCRIPT LOAD "$SCRIPT_10" >/dev/null
      redis-cli -p "$port" FUNCTION LOAD REPLACE "$SCRIPT_LIBRARY" >/dev/null
      taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -t set -c 50 -P 64 -d "$d" -r "$KEYSPACE" -n $((KEYSPACE * 10)) -q >/dev/null
    done
  fi
  if [[ $cmd == GET ]]; then  # GETs should hit values of the workload's size
    for port in "$REDIS_PORT" "$OURS_PORT"; do
      taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -t set -c 50 -P 64 -d "$d" -r "$KEYSPACE" -n $((KEYSPACE * 10)) -q >/dev/null
    done
  fi
  if [[ $cmd == LRANGE_* ]]; then  # a list of 600 elements of the workload's size
    for port in "$REDIS_PORT" "$OURS_PORT"; do
      redis-cli -p "$port" DEL mylist >/dev/null
      taskset -c "$CLIENT_CPU" redis-benchmark -p "$port" -t lpush -c 1 -P 64 -d "$d" -n 600 -q >/dev/null
    done
  fi
  if [[ $cmd == ZRANGE_100 || $cmd == ZRANK || $cmd == ZRANGEBYSCORE || $cmd == ZINCRBY ]]; then
    for port in "$REDIS_PORT" "$OURS_PORT"; do  # the big sorted set, made once per server
      if [[ $(redis-cli -p "$port" ZCARD big) != "$BIG_ZSET" ]]; then
        redis-cli -p "$port" DEL big >/dev/null
        python3 -c '
import sys
n, out = int(sys.argv[1]), sys.stdout.buffer
for start in range(0, n, 1000):
    args = [b"ZADD", b"big"]
    for i in range(start, min(n, start + 1000)):
        args += [b"%d" % i, b"member:%012d" % i]
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
' "$BIG_ZSET" | redis-cli -p "$port" --pipe >/dev/null
      fi
    done
  fi
  if [[ $cmd == SETBIT || $cmd == GETBIT || $cmd == BITCOUNT* ]]; then
    for port in "$REDIS_PORT" "$OURS_PORT"; do  # the bitmap, at its full size from the start
      if [[ $(redis-cli -p "$port" STRLEN bitmap) != $((BITMAP_BITS / 8)) ]]; then
        redis-cli -p "$port" DEL bitmap >/dev/null
        redis-cli -p "$port" SETBIT bitmap $((BITMAP_BITS - 1)) 1 >/dev/null
      fi
    done
  fi
  if [[ $cmd == DUMP_* || $cmd == RESTORE_* ]]; then  # one key of the row's type on each server
    kind=${cmd#*_}
    for port in "$REDIS_PORT" "$OURS_PORT"; do
      python3 scripts/bench-dump.py fill "$port" "$kind" "$d"
    done
    if [[ $cmd == RESTORE_* ]]; then  # Redis's payload, restored over one key
      n=$((REQUESTS / 10)); RESTORE_DIR=${RESTORE_DIR:-$(mktemp -d)}
      python3 scripts/bench-dump.py restores "$REDIS_PORT" "$kind" "$n" >"$RESTORE_DIR/$cmd"
    fi
  fi
  if [[ $cmd == GEOSEARCH ]]; then
    for port in "$REDIS_PORT" "$OURS_PORT"; do  # the points, loaded once per server
      if [[ $(redis-cli -p "$port" ZCARD geo) != "$GEO_POINTS" ]]; then
        redis-cli -p "$port" DEL geo >/dev/null
        python3 -c '
import random, sys
n, out = int(sys.argv[1]), sys.stdout.buffer
rng = random.Random(7)
for start in range(0, n, 1000):
    args = [b"GEOADD", b"geo"]
    for i in range(start, min(n, start + 1000)):
        args += [b"%.6f" % rng.uniform(13, 15), b"%.6f" % rng.uniform(37, 39), b"p:%d" % i]
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
' "$GEO_POINTS" | redis-cli -p "$port" --pipe >/dev/null
      fi
    done
  fi
  if [[ $cmd == SORT_10K ]]; then
    for port in "$REDIS_PORT" "$OURS_PORT"; do  # 10,000 random numbers, the same for both
      if [[ $(redis-cli -p "$port" LLEN sortlist) != 10000 ]]; then
        redis-cli -p "$port" DEL sortlist >/dev/null
        python3 -c '
import random, sys
rng, out = random.Random(7), sys.stdout.buffer
for start in range(0, 10000, 1000):
    args = [b"RPUSH", b"sortlist"] + [b"%d" % rng.randrange(1000000) for _ in range(1000)]
    out.write(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
' | redis-cli -p "$port" --pipe >/dev/null
      fi
    done
  fi
  r_ops=(); r_us=(); o_ops=(); o_us=()
  for ((i = 0; i < ROUNDS; i++)); do
    read -r ops us < <(run "$REDIS_PORT" "$REDIS_PID" "$cmd" "$c" "$p" "$d" "$n"); r_ops+=("$ops"); r_us+=("$us")
    read -r ops us < <(run "$OURS_PORT" "$OURS_PID" "$cmd" "$c" "$p" "$d" "$n"); o_ops+=("$ops"); o_us+=("$us")
  done
  ro=$(median "${r_ops[@]}"); ru=$(median "${r_us[@]}"); oo=$(median "${o_ops[@]}"); ou=$(median "${o_us[@]}")
  awk -v w="$cmd -c $c -P $p -d $d" -v ro="$ro" -v ru="$ru" -v oo="$oo" -v ou="$ou" 'BEGIN {
    printf "| %-24s | %12.0f | %9.3f | %12.0f | %9.3f | %6.2f | %6.2f |\n", w, ro, ru, oo, ou, oo / ro, (ou > 0 ? ru / ou : 0) }'
done
echo
echo "ops x: redistill ops/s / redis ops/s. cpu x: redis CPU us/request / redistill's (>1: redistill needs less CPU)."
