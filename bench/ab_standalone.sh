#!/usr/bin/env bash
# A/B of two broker binaries on one machine, alternated round by round (same zoomq-bench),
# standalone broker, fsync on, fresh data dir per run. Scenarios:
#   batched  produce N messages (batches of 100, 4 connections), then consume them with 4
#            group consumers (pull max 500, one ack per pull)
#   single   produce N/5 one-message requests over 16 connections
#   [SCENARIOS="batched single"] bench/ab_standalone.sh OLD_BROKER NEW_BROKER ZOOMQ_BENCH \
#       [ROUNDS=3] [N=200000]
# Prints one line per run (msg/s, p99, the broker's CPU per 1,000 messages produced); compare
# medians (docs/benchmarks.md).
set -u
OLD=$1; NEW=$2; BENCH=$3; ROUNDS=${4:-3}; N=${5:-200000}
declare -A ARGS=(
  [batched]="--mode both --messages $N --batch 100 --connections 4 --consumers 4 --pull-max 500"
  [single]="--mode produce --messages $((N / 5)) --batch 1 --connections 16"
)
port=19801
for r in $(seq 1 "$ROUNDS"); do
  for scenario in ${SCENARIOS:-batched}; do
    for which in old new; do
      bin=$OLD; [[ $which == new ]] && bin=$NEW
      d=$(mktemp -d); port=$((port+1))
      "$bin" --id 1 --listen 127.0.0.1:$port --data-dir "$d" --log-level warn >/dev/null 2>&1 &
      pid=$!
      for i in $(seq 1 100); do curl -sf http://127.0.0.1:$port/v1/health >/dev/null && break; sleep 0.1; done
      before=$(awk '{print $14 + $15}' /proc/$pid/stat)
      # shellcheck disable=SC2086
      out=$("$BENCH" --url http://127.0.0.1:$port ${ARGS[$scenario]} --size 100 --duration-s 120 \
            --json 2>/dev/null)
      ticks=$(( $(awk '{print $14 + $15}' /proc/$pid/stat) - before ))
      kill -9 $pid; wait $pid 2>/dev/null; rm -rf "$d"
      python3 - "$which" "$r" "$scenario" "$out" "$(cut -d' ' -f1 /proc/loadavg)" "$ticks" \
        "$(getconf CLK_TCK)" <<'PY'
import json,sys
w,r,s,o,load,ticks,hz=sys.argv[1:]
try:
    j=json.loads(o)
except Exception:
    print(w,r,s,"bad output",o[:200]); sys.exit()
p=j.get('produce',{}); c=j.get('consume',{})
n=p.get('produced',0) or 0
cpu=(int(ticks)*1000/int(hz))/(n/1000) if n else 0
line=f"{w} round {r} {s}: produce {p.get('msgs_per_s',0):.0f} msg/s, p99 {p.get('latency',{}).get('p99_ms')} ms"
line+=f", broker CPU {cpu:.0f} ms/1k produced"
if c:
    line+=(f", consume+ack {c.get('msgs_per_s',0):.0f} msg/s (acked {c.get('acked')}, redeliveries "
           f"{c.get('redeliveries')}), ack p99 {c.get('ack_latency',{}).get('p99_ms')} ms")
print(line+f", errors p={p.get('errors',{}).get('errors')} c={c.get('errors',{}).get('errors')}, load {load}")
PY
    done
  done
done
