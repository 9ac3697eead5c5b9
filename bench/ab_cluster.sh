#!/usr/bin/env bash
# A/B of two builds on a 3-broker cluster (RF=3, min_insync_replicas 2, fsync on), alternated
# round by round: each run starts a fresh cluster (scripts/cluster.sh, one ZooKeeper) from one
# build, runs one zoomq-bench scenario with its connections spread over the three brokers
# (most requests are forwarded by a broker that does not lead every partition they touch),
# stops the cluster. The same zoomq-bench (the NEW build's) drives both.
#   [SCENARIOS="batched single"] bench/ab_cluster.sh OLD_BUILD_DIR NEW_BUILD_DIR [ROUNDS=3]
#     scenarios: batched (300,000 messages, batches of 100, 4 connections) and single
#     (60,000 one-message requests, 16 connections); topic of 3 partitions (one per leader)
# Prints one line per run: msg/s, p50/p99 and the brokers' CPU per 1,000 messages; compare
# medians (docs/benchmarks.md).
set -u
cd "$(dirname "$0")/.."
OLD=$(cd "$1" && pwd); NEW=$(cd "$2" && pwd); ROUNDS=${3:-3}
BENCH="$NEW/bin/zoomq-bench"
base=24000
declare -A ARGS=(
  [batched]="--messages 300000 --batch 100 --connections 4"
  [single]="--messages 60000 --batch 1 --connections 16"
)
cpu_ticks() {  # user+system ticks of the brokers of cluster dir $1
  local t=0 f
  for f in "$1"/broker-*/pid; do
    local pid; pid=$(cat "$f")
    [ -r "/proc/$pid/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$t"
}
for r in $(seq 1 "$ROUNDS"); do
  for scenario in ${SCENARIOS:-batched single}; do
    for which in old new; do
      build=$OLD; [[ $which == new ]] && build=$NEW
      base=$((base + 100)); dir=$(mktemp -d)
      if ! BUILD_DIR=$(realpath --relative-to=. "$build") \
          scripts/cluster.sh start --dir "$dir" --base-port "$base" >"$dir/start.log" 2>&1; then
        echo "$which round $r $scenario: cluster did not start ($(tail -1 "$dir/start.log"))"
        BUILD_DIR=$(realpath --relative-to=. "$build") scripts/cluster.sh stop --dir "$dir" >/dev/null 2>&1
        rm -rf "$dir"; continue
      fi
      urls="http://127.0.0.1:$((base + 1)),http://127.0.0.1:$((base + 2)),http://127.0.0.1:$((base + 3))"
      before=$(cpu_ticks "$dir")
      # shellcheck disable=SC2086
      out=$("$BENCH" --url "$urls" ${ARGS[$scenario]} --size 100 --partitions 3 \
            --duration-s 120 --json 2>/dev/null)
      after=$(cpu_ticks "$dir")
      BUILD_DIR=$(realpath --relative-to=. "$build") scripts/cluster.sh stop --dir "$dir" >/dev/null 2>&1
      rm -rf "$dir"
      python3 - "$which" "$r" "$scenario" "$out" "$((after - before))" "$(getconf CLK_TCK)" \
        "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, sys
w, r, s, o, ticks, hz, load = sys.argv[1:]
try:
    j = json.loads(o)
except Exception:
    print(w, "round", r, s, "bad output", o[:200]); sys.exit()
p = j.get('produce', {})
n = p.get('produced', 0) or 0
lat = p.get('latency', {})
cpu = (int(ticks) * 1000 / int(hz)) / (n / 1000) if n else 0
print(f"{w} round {r} {s}: {p.get('msgs_per_s', 0):.0f} msg/s, p50 {lat.get('p50_ms')} ms, "
      f"p99 {lat.get('p99_ms')} ms, broker CPU {cpu:.0f} ms/1k msg, "
      f"errors {p.get('errors', {}).get('errors')}, load {load}")
PY
    done
  done
done
