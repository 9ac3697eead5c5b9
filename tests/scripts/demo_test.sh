#!/usr/bin/env bash
# scripts/demo.sh, what scripts/run.sh starts, end to end on real processes: ZooKeeper, 3
# brokers, 3 sensors and 2 controllers in a temp dir on ports BASE+1..3. Passes when the
# controllers handle a reading of each of the 3 sensors within 120 s, and a Ctrl-C (SIGINT)
# then stops every process it started within 60 s.
#   tests/scripts/demo_test.sh BUILD_DIR BASE_PORT [--secure]
set -u
cd "$(dirname "$0")/../.."
build=$(cd "$1" && pwd); base=$2; shift 2
work=$(mktemp -d); out=$work/demo.out
fail() {
  echo "FAIL: $*"; echo "--- demo output (last 40 lines):"; tail -40 "$out"
  pkill -9 -P "$pid" 2>/dev/null; kill -9 "$pid" 2>/dev/null  # its sensors and controllers too
  BUILD_DIR=$build scripts/cluster.sh stop --dir "$work/cluster" >/dev/null 2>&1
  rm -rf "$work"; exit 1
}
# With job control on, demo.sh runs in a process group of its own and does not ignore SIGINT,
# as in a terminal (a background job of a shell without job control would ignore it).
set -m
BUILD_DIR=$build scripts/demo.sh --interval 0.2 --dir "$work/cluster" --base-port "$base" \
  "$@" >"$out" 2>&1 &
pid=$!
deadline=$((SECONDS + 120))
for t in temperature_1 humidity_1 temperature_2; do
  until grep -q "^\[ctl-[ab]\] handled $t seq=" "$out"; do
    kill -0 "$pid" 2>/dev/null || fail "demo.sh ended before a controller handled $t"
    [ $SECONDS -lt $deadline ] || fail "no controller handled a reading of $t within 120 s"
    sleep 0.2
  done
done
if [ "${1:-}" = --secure ]; then
  grep -q "^security on: users sensors and controllers" "$out" || fail "no 'security on' line"
  grep -q "^broker 1: https://" "$out" || fail "brokers not on https"
fi
pids=$(cat "$work"/cluster/zk1/pid "$work"/cluster/broker-*/pid)
kill -INT "$pid"
deadline=$((SECONDS + 60))
while kill -0 "$pid" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "demo.sh still running 60 s after SIGINT"
  sleep 0.2
done
grep -q "^stopping: sensors" "$out" || fail "demo.sh did not stop in order"
running() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat")" != Z ]; }
for p in $pids; do
  ! running "$p" || fail "process $p of the cluster still running after the demo stopped"
done
echo "ok: $(grep -c '] handled ' "$out") readings handled, everything stopped"
rm -rf "$work"
