#!/usr/bin/env bash
# What security costs: plain against TLS + token auth, the same build, alternated run by run in
# one invocation (docs/benchmarks.md, "Security cost"). Every run starts fresh (fsync on):
#   standalone  one broker, no ZooKeeper
#   cluster     3 brokers + 1 ZooKeeper (scripts/cluster.sh [--secure]), RF=3, topic of 3
#               partitions, connections spread over the three brokers (so most requests are
#               forwarded, broker to broker over TLS when secure)
# "secure" is HTTPS on every link (the broker certificate of scripts/lib/secrets.sh, verified
# against its CA), a bearer token on every request, and ACL checks: zoomq-bench runs as the user
# "bench" with allow rules on the topic prefix "bench-" and the group prefix "bench-g-", not as
# the admin (whose superuser check would skip the rules). The cluster also uses ZooKeeper digest
# ACLs. Connections are keep-alive: one TLS handshake per connection.
# Scenarios:
#   batched  produce N messages in batches of 100 over 4 connections (standalone: then consume
#            them with 4 group consumers, pull max 500, one ack per pull)
#   single   produce one-message requests over 16 connections (N/5 standalone, N/5 cluster)
#   [MODES="standalone cluster"] [SCENARIOS="batched single"] \
#     bench/security_cost.sh [BUILD_DIR=build] [ROUNDS=3] [N=200000]
# Prints one line per run, then the median of each configuration and secure/plain. Exits 1 if
# a run failed (no cluster, no report, nothing produced; requests that failed after
# zoomq-bench's retries are counted in the line, not a failure): the suite runs a short form
# (bench.security_cost_short) so the script cannot rot.
set -u
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd); ROUNDS=${2:-3}; N=${3:-200000}
BIN=$BUILD/bin
# shellcheck source=scripts/lib/secrets.sh
source scripts/lib/secrets.sh
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
SEC=$work/secure; make_secrets "$SEC"
results=$work/results.jsonl
declare -A ARGS=(
  [standalone batched]="--mode both --messages $N --batch 100 --connections 4 --consumers 4 --pull-max 500"
  [standalone single]="--mode produce --messages $((N / 5)) --batch 1 --connections 16"
  [cluster batched]="--mode produce --messages $N --batch 100 --connections 4 --partitions 3"
  [cluster single]="--mode produce --messages $((N / 5)) --batch 1 --connections 16 --partitions 3"
)

admin() { ZOOMQ_TOKEN=$(cat "$SEC/admin.token") ZOOMQ_CACERT=$SEC/ca.pem "$BIN/zoomqctl" "$@"; }
# bench_token URLS: creates the user "bench" with its rules, prints a fresh token of it.
bench_token() {
  admin --brokers "$1" user create bench >/dev/null || return 1
  local op
  for op in create produce consume describe; do
    admin --brokers "$1" acl add --principal bench --operation "$op" --topic bench- --prefix \
      >/dev/null || return 1
  done
  for op in consume describe; do
    admin --brokers "$1" acl add --principal bench --operation "$op" --group bench-g- --prefix \
      >/dev/null || return 1
  done
  admin --brokers "$1" token create bench --json | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p'
}
ticks_of() {  # user+system clock ticks of the given pids
  local t=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$t"
}
# record MODE SCENARIO WHICH ROUND TICKS OUTPUT: one result line (and a human line).
record() {
  python3 - "$@" "$(getconf CLK_TCK)" "$(cut -d' ' -f1 /proc/loadavg)" "$results" <<'PY'
import json, sys
mode, scenario, which, rnd, ticks, out, hz, load, results = sys.argv[1:]
try:
    j = json.loads(out)
except Exception:
    print(f"{which} round {rnd} {mode} {scenario}: bad output {out[:200]}"); sys.exit(1)
p, c = j.get('produce', {}), j.get('consume', {})
n = p.get('produced', 0) or 0
cpu = (int(ticks) * 1000 / int(hz)) / (n / 1000) if n else 0
r = dict(mode=mode, scenario=scenario, which=which, produce=p.get('msgs_per_s', 0),
         p99=p.get('latency', {}).get('p99_ms'), consume=c.get('msgs_per_s'), cpu=cpu,
         errors=(p.get('errors', {}).get('errors') or 0) + (c.get('errors', {}).get('errors') or 0))
open(results, 'a').write(json.dumps(r) + "\n")
line = (f"{which:6} round {rnd} {mode} {scenario}: produce {r['produce']:.0f} msg/s, "
        f"p99 {r['p99']} ms, broker CPU {cpu:.0f} ms/1k msg")
if c:
    line += f", consume+ack {c.get('msgs_per_s', 0):.0f} msg/s (acked {c.get('acked')})"
print(line + f", errors {r['errors']}, load {load}", flush=True)
sys.exit(0 if n else 1)
PY
  [ $? = 0 ] || failed=1
}

failed=0 port=20800
run_standalone() {  # run_standalone SCENARIO WHICH ROUND
  local d; d=$(mktemp -d -p "$work"); port=$((port + 1))
  local scheme=http extra=() client=()
  if [ "$2" = secure ]; then
    scheme=https
    extra=(--tls-cert "$SEC/broker.pem" --tls-key "$SEC/broker.key"
           --admin-token-file "$SEC/admin.token")
  fi
  local url=$scheme://127.0.0.1:$port
  "$BIN/zoomq-broker" --id 1 --listen 127.0.0.1:$port --data-dir "$d" --log-level warn \
    "${extra[@]}" >/dev/null 2>&1 &
  local pid=$! i
  for i in $(seq 1 100); do
    curl -sf --cacert "$SEC/ca.pem" "$url/v1/health" >/dev/null && break; sleep 0.1
  done
  if [ "$2" = secure ]; then
    client=(--cacert "$SEC/ca.pem" --token "$(bench_token "$url")")
  fi
  local before; before=$(ticks_of $pid)
  # shellcheck disable=SC2086
  local out; out=$("$BIN/zoomq-bench" --url "$url" ${ARGS[standalone $1]} --size 100 \
    --duration-s 120 --json "${client[@]}" 2>/dev/null)
  local ticks=$(( $(ticks_of $pid) - before ))
  kill -9 $pid; wait $pid 2>/dev/null
  record standalone "$1" "$2" "$3" "$ticks" "$out"
}

base=25000
run_cluster() {  # run_cluster SCENARIO WHICH ROUND
  local d; d=$(mktemp -d -p "$work"); base=$((base + 100))
  local scheme=http secure=() client=()
  if [ "$2" = secure ]; then
    scheme=https; secure=(--secure); mkdir -p "$d/secure" && cp -p "$SEC"/* "$d/secure/"
  fi
  if ! BUILD_DIR=$BUILD scripts/cluster.sh start --dir "$d" --base-port "$base" "${secure[@]}" \
       >"$d/start.log" 2>&1; then
    echo "$2 round $3 cluster $1: cluster did not start ($(tail -1 "$d/start.log"))"
    BUILD_DIR=$BUILD scripts/cluster.sh stop --dir "$d" >/dev/null 2>&1; failed=1; return
  fi
  local urls=$scheme://127.0.0.1:$((base + 1)),$scheme://127.0.0.1:$((base + 2)),$scheme://127.0.0.1:$((base + 3))
  if [ "$2" = secure ]; then
    client=(--cacert "$SEC/ca.pem" --token "$(bench_token "$urls")")
  fi
  local pids; pids=$(cat "$d"/broker-*/pid)
  local before; before=$(ticks_of $pids)
  # shellcheck disable=SC2086
  local out; out=$("$BIN/zoomq-bench" --url "$urls" ${ARGS[cluster $1]} --size 100 \
    --duration-s 120 --json "${client[@]}" 2>/dev/null)
  # shellcheck disable=SC2086
  local ticks=$(( $(ticks_of $pids) - before ))
  BUILD_DIR=$BUILD scripts/cluster.sh stop --dir "$d" >/dev/null 2>&1
  record cluster "$1" "$2" "$3" "$ticks" "$out"
}

for r in $(seq 1 "$ROUNDS"); do
  for mode in ${MODES:-standalone cluster}; do
    for scenario in ${SCENARIOS:-batched single}; do
      for which in plain secure; do "run_$mode" "$scenario" "$which" "$r"; done
    done
  done
done

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("\nmedians (msg/s produced; secure/plain):")
keys = sorted({(r['mode'], r['scenario']) for r in rows})
for mode, scenario in keys:
    med = {}
    for which in ('plain', 'secure'):
        xs = [r['produce'] for r in rows if (r['mode'], r['scenario'], r['which']) == (mode, scenario, which)]
        med[which] = statistics.median(xs) if xs else 0
    ratio = med['secure'] / med['plain'] if med['plain'] else 0
    print(f"  {mode:10} {scenario:7} plain {med['plain']:8.0f}  secure {med['secure']:8.0f}  {ratio:5.0%}")
PY
exit "$failed"
