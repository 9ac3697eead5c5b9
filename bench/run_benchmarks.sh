#!/usr/bin/env bash
# Runs the scenarios of docs/benchmarks.md, each against a fresh standalone broker on
# 127.0.0.1 (default --sync full), and keeps every report (text and JSON) in $OUT.
#
#   bench/run_benchmarks.sh [SCENARIO...]      # default: all scenarios
#
# Env: BUILD (default build-bench, holding bin/zoomq-broker and bin/zoomq-bench),
#      PORT (default 19701), OUT (default /tmp/zoomq-bench-results),
#      BROKER_ARGS (extra broker flags, e.g. "--sync normal"),
#      REPEAT (default 1: rounds; each round runs every scenario once, in order, each on a
#      fresh broker and data dir, so that a noisy period hits all scenarios alike),
#      QUIET_RUNNABLE (default 2) and QUIET_MAX_S (default 600): before each run, wait up to
#      QUIET_MAX_S seconds until at most QUIET_RUNNABLE threads are runnable for 3 s in a
#      row; the machine has 2 cores and anything else running skews the figures.
# Each summary line ends with the CPU seconds the broker and the bench used during the run.
# Every bench run is bounded by --duration-s, and the broker is stopped after each.
set -uo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
PORT=${PORT:-19701}
OUT=${OUT:-/tmp/zoomq-bench-results}
BROKER_ARGS=${BROKER_ARGS:-}
REPEAT=${REPEAT:-1}
QUIET_RUNNABLE=${QUIET_RUNNABLE:-2}
QUIET_MAX_S=${QUIET_MAX_S:-600}
URL="http://127.0.0.1:${PORT}"
BENCH="${BUILD}/bin/zoomq-bench"
BROKER="${BUILD}/bin/zoomq-broker"
mkdir -p "$OUT"

# name -> zoomq-bench arguments
declare -A SCENARIOS=(
  [produce-batched]="--messages 1000000 --size 100 --batch 100 --connections 4"
  [produce-single]="--messages 200000 --size 100 --batch 1 --connections 16"
  [produce-consume]="--mode both --messages 1000000 --size 100 --batch 100 --connections 4 --consumers 4 --pull-max 500"
  [concurrent]="--mode both --concurrent --messages 1000000 --size 100 --batch 100 --connections 4 --consumers 4 --pull-max 500"
  [rate-idle0]="--mode rate --rate 2000 --messages 40000 --size 100 --connections 16"
  [rate-idle500-longpoll]="--mode rate --rate 2000 --messages 40000 --size 100 --connections 16 --idle-waiters 500 --idle-kind longpoll"
  [rate-idle500-sse]="--mode rate --rate 2000 --messages 40000 --size 100 --connections 16 --idle-waiters 500 --idle-kind sse"
  [single-idle500-longpoll]="--messages 100000 --size 100 --batch 1 --connections 16 --idle-waiters 500 --idle-kind longpoll"
  [single-idle500-sse]="--messages 100000 --size 100 --batch 1 --connections 16 --idle-waiters 500 --idle-kind sse"
)
ORDER=(produce-batched produce-single produce-consume concurrent rate-idle0
       rate-idle500-longpoll rate-idle500-sse single-idle500-longpoll single-idle500-sse)
if [[ $# -gt 0 ]]; then ORDER=("$@"); fi

broker_pid=""
stop_broker() {
  if [[ -n "$broker_pid" ]]; then
    kill "$broker_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$broker_pid" 2>/dev/null
    wait "$broker_pid" 2>/dev/null
    broker_pid=""
  fi
}
trap stop_broker EXIT

# One line per run: ok | produce figures | due-time latency | consume | idle | failures.
SUMMARY='[.ok,
  (.produce // .rate // {} | "produce \(.msgs_per_s // 0 | floor) msg/s \(.mb_per_s // 0 | . * 100 | floor / 100) MB/s, p50 \(.latency.p50_ms // 0 | . * 1000 | floor / 1000) p99 \(.latency.p99_ms // 0 | . * 1000 | floor / 1000) max \(.latency.max_ms // 0 | . * 1000 | floor / 1000) ms, \(.errors.errors // 0) errors"),
  (if .rate then "from due time p50 \(.rate.scheduled_latency.p50_ms * 1000 | floor / 1000) p99 \(.rate.scheduled_latency.p99_ms * 1000 | floor / 1000) max \(.rate.scheduled_latency.max_ms * 1000 | floor / 1000) ms" else empty end),
  (if .consume then "consume+ack \(.consume.msgs_per_s | floor) msg/s, \(.consume.errors.errors) errors" else empty end),
  (if .idle then "idle \(.idle.in_flight_at_start)/\(.idle.requested), \(.idle.errors.errors) errors" else empty end),
  (if (.failures | length) > 0 then "FAILED: " + (.failures | join("; ")) else empty end)]
  | map(tostring) | join(" | ")'

# Waits (up to QUIET_MAX_S) until the machine is quiet: for 3 s in a row, at most
# QUIET_RUNNABLE threads runnable (sampled 5 times a second; the sampler counts as one).
wait_quiet() {
  local quiet=0
  for _ in $(seq $((QUIET_MAX_S * 5))); do
    if (( $(cut -d' ' -f4 /proc/loadavg | cut -d/ -f1) <= QUIET_RUNNABLE )); then
      quiet=$((quiet + 1))
      (( quiet >= 15 )) && return
    else
      quiet=0
    fi
    sleep 0.2
  done
  echo "   (machine still busy)"
}
HZ=$(getconf CLK_TCK)

status=0
for run in $(seq "$REPEAT"); do
  for name in "${ORDER[@]}"; do
    args=${SCENARIOS[$name]:-}
    if [[ -z "$args" ]]; then echo "unknown scenario $name" >&2; exit 2; fi
    data=$(mktemp -d /tmp/zoomq-bench-data.XXXXXX)
    # shellcheck disable=SC2086
    "$BROKER" --id 1 --listen "127.0.0.1:${PORT}" --data-dir "$data" --log-level warn \
      $BROKER_ARGS >"$OUT/$name.$run.broker.log" 2>&1 &
    broker_pid=$!
    for _ in $(seq 100); do
      curl -sf "$URL/v1/health" >/dev/null && break
      sleep 0.1
    done
    wait_quiet
    echo "== $name #$run: zoomq-bench $args"
    broker0=$(awk '{print $14+$15}' "/proc/$broker_pid/stat")
    # shellcheck disable=SC2086
    "$BENCH" --url "$URL" $args --duration-s 120 --json >"$OUT/$name.$run.json"
    rc=$?
    broker1=$(awk '{print $14+$15}' "/proc/$broker_pid/stat")
    cpu=$(jq -r --argjson hz "$HZ" --argjson broker $((broker1 - broker0)) \
      '(.bench_cpu_s.user + .bench_cpu_s.sys) as $b |
       "cpu s: broker \($broker / $hz) bench \($b * 100 | floor / 100) wall \(.wall_s * 100 | floor / 100)"' \
      "$OUT/$name.$run.json")
    echo "$(jq -r "$SUMMARY" "$OUT/$name.$run.json") | $cpu"
    [[ $rc -eq 0 ]] || status=1
    stop_broker
    rm -rf "$data"
  done
done
exit $status
