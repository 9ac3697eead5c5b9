#!/usr/bin/env bash
# Runs the scenarios of docs/benchmarks.md, each against a fresh standalone broker on
# 127.0.0.1 (default --sync full), and keeps every report (text and JSON) in $OUT.
#
#   bench/run_benchmarks.sh [SCENARIO...]      # default: all scenarios
#
# Env: BUILD (default build-bench, holding bin/zoomq-broker and bin/zoomq-bench),
#      PORT (default 19701), OUT (default /tmp/zoomq-bench-results),
#      BROKER_ARGS (extra broker flags, e.g. "--sync normal").
# Every bench run is bounded by --duration-s, and the broker is stopped after each.
set -uo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
PORT=${PORT:-19701}
OUT=${OUT:-/tmp/zoomq-bench-results}
BROKER_ARGS=${BROKER_ARGS:-}
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

status=0
for name in "${ORDER[@]}"; do
  args=${SCENARIOS[$name]:-}
  if [[ -z "$args" ]]; then echo "unknown scenario $name" >&2; exit 2; fi
  data=$(mktemp -d /tmp/zoomq-bench-data.XXXXXX)
  # shellcheck disable=SC2086
  "$BROKER" --id 1 --listen "127.0.0.1:${PORT}" --data-dir "$data" --log-level warn \
    $BROKER_ARGS >"$OUT/$name.broker.log" 2>&1 &
  broker_pid=$!
  for _ in $(seq 100); do
    curl -sf "$URL/v1/health" >/dev/null && break
    sleep 0.1
  done
  echo "== $name: zoomq-bench $args   (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  # shellcheck disable=SC2086
  "$BENCH" --url "$URL" $args --duration-s 120 --json >"$OUT/$name.json"
  rc=$?
  jq -r '[.ok, (.produce // .rate // {} | "produce \(.msgs_per_s // 0 | floor) msg/s \(.mb_per_s // 0 | .*100 | floor / 100) MB/s p50 \(.latency.p50_ms // 0) p99 \(.latency.p99_ms // 0) max \(.latency.max_ms // 0) errors \(.errors.errors // 0)"), (if .rate then "due-time p50 \(.rate.scheduled_latency.p50_ms) p99 \(.rate.scheduled_latency.p99_ms) max \(.rate.scheduled_latency.max_ms)" else empty end), (if .consume then "consume+ack \(.consume.msgs_per_s | floor) msg/s errors \(.consume.errors.errors)" else empty end), (if .idle then "idle \(.idle.in_flight_at_start)/\(.idle.requested) errors \(.idle.errors.errors)" else empty end), (.failures | join("; "))] | map(tostring) | join(" | ")' \
    "$OUT/$name.json"
  [[ $rc -eq 0 ]] || status=1
  stop_broker
  du -sh "$data" | sed 's/^/   data: /'
  rm -rf "$data"
done
exit $status
