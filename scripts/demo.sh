#!/usr/bin/env bash
# The IoT demo on a local cluster (what scripts/run.sh starts): installs what is missing,
# builds, starts ZooKeeper + 3 brokers (scripts/cluster.sh, data in .cluster/), then 3 sensors
# (temperature 1, humidity 1, temperature 2; one reading a second) and 2 controllers sharing
# their readings as the consumer group "controllers". Their output is shown live, each line
# prefixed by the program's name. Ctrl-C stops the sensors (they flush), then the
# controllers, then the cluster (unless it was running before).
#   scripts/demo.sh [--interval S]      seconds between readings (default 1)
#   scripts/demo.sh --secure            the same with security on (docs/security.md): HTTPS with a
#                                       local CA, tokens (users sensors and controllers with
#                                       their own rules), ZooKeeper digest ACLs
#   scripts/demo.sh --dir DIR --base-port P   the cluster in DIR (default .cluster), brokers on
#                                       P+1..P+3 (default 9100; the suite's demo test)
set -euo pipefail
cd "$(dirname "$0")/.."
INTERVAL=1 SECURE="" DIR=.cluster BASE=9100
while [ $# -gt 0 ]; do
  case "$1" in
    --interval) INTERVAL=$2; shift 2 ;;
    --secure) SECURE=--secure; shift ;;
    --dir) DIR=$2; shift 2 ;;
    --base-port) BASE=$2; shift 2 ;;
    *) sed -n '2,14p' "$0"; exit 2 ;;
  esac
done

scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" \
  --target zoomq-broker zoomqctl zoomq-sensor zoomq-controller
BIN="$BUILD_DIR/bin"
SCHEME=http; [ -n "$SECURE" ] && SCHEME=https
export ZOOMQ_BROKERS=$SCHEME://127.0.0.1:$((BASE + 1)),$SCHEME://127.0.0.1:$((BASE + 2)),$SCHEME://127.0.0.1:$((BASE + 3))

SENSORS=() CONTROLLERS=() STOPPED="" OWN_CLUSTER=""
stop_all() {
  [ -n "$STOPPED" ] && return 0
  STOPPED=1
  trap '' INT TERM
  echo
  echo "stopping: sensors (they flush), then controllers, then the cluster"
  stop_pids "${SENSORS[@]}"
  stop_pids "${CONTROLLERS[@]}"
  if [ -n "$OWN_CLUSTER" ]; then
    scripts/cluster.sh stop --dir "$DIR"
  else
    echo "the cluster was running before: left running (scripts/cluster.sh stop --dir $DIR)"
  fi
}
stop_pids() {  # SIGINT, then wait up to 15 s, then SIGKILL
  local pid i
  [ $# -gt 0 ] || return 0
  kill -INT "$@" 2>/dev/null || true
  for i in $(seq 150); do
    kill -0 "$@" 2>/dev/null || break
    sleep 0.1
  done
  for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait "$@" 2>/dev/null || true
}
# Each program runs in a session of its own (setsid), so that a Ctrl-C in the terminal reaches
# only this script, which stops them in order; the prefixer ignores SIGINT and ends with its
# program's output.
start() {  # start NAME PROGRAM ARGS...
  local name=$1; shift
  setsid "$@" > >(trap '' INT; exec sed -u "s/^/[$name] /") 2>&1 &
}
trap stop_all EXIT INT TERM

# A cluster that was already running (ZooKeeper and all 3 brokers) is left running at the end.
for f in "$DIR"/zk1/pid "$DIR"/broker-1/pid "$DIR"/broker-2/pid "$DIR"/broker-3/pid; do
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null || OWN_CLUSTER=1
done
# The cluster in its own session too: a Ctrl-C must not stop the brokers before the sensors
# have flushed.
setsid --wait scripts/cluster.sh start --dir "$DIR" --brokers 3 --base-port "$BASE" $SECURE

SENSOR_TOKEN="" CONTROLLER_TOKEN=""
if [ -n "$SECURE" ]; then
  # Two users with only what they need: the sensors create and write their topics, the
  # controllers read them as the group "controllers". The admin token stays with the operator.
  export ZOOMQ_CACERT=$DIR/secure/ca.pem
  admin() { ZOOMQ_TOKEN=$(cat "$DIR"/secure/admin.token) "$BIN/zoomqctl" "$@"; }
  token_of() {  # token_of USER: a fresh token of USER (created with the user when missing)
    admin user create "$1" > /dev/null 2>&1 || true
    admin token create "$1" --description "scripts/demo.sh" --json |
      sed -n 's/.*"token": *"\([^"]*\)".*/\1/p'
  }
  for p in temperature_ humidity_; do
    for op in create produce describe; do
      admin acl add --principal sensors --operation "$op" --topic "$p" --prefix > /dev/null
    done
    for op in consume describe; do
      admin acl add --principal controllers --operation "$op" --topic "$p" --prefix > /dev/null
    done
  done
  admin acl add --principal controllers --operation consume --group controllers > /dev/null
  admin acl add --principal controllers --operation describe --group controllers > /dev/null
  SENSOR_TOKEN=$(token_of sensors)
  CONTROLLER_TOKEN=$(token_of controllers)
  echo "security on: users sensors and controllers with their own tokens; CA $ZOOMQ_CACERT"
fi

for c in ctl-a ctl-b; do
  ZOOMQ_TOKEN=$CONTROLLER_TOKEN start "$c" "$BIN/zoomq-controller" temperature_1 humidity_1 \
    temperature_2 --name "$c"
  CONTROLLERS+=($!)
done
for s in "temperature 1" "humidity 1" "temperature 2"; do
  set -- $s
  ZOOMQ_TOKEN=$SENSOR_TOKEN start "$1_$2" "$BIN/zoomq-sensor" "$1" "$2" "$INTERVAL"
  SENSORS+=($!)
done

SECURE_HINT=""
if [ -n "$SECURE" ]; then SECURE_HINT="  export ZOOMQ_CACERT=$DIR/secure/ca.pem ZOOMQ_TOKEN=\$(cat $DIR/secure/admin.token)
"
fi
cat <<MSG

The demo runs (Ctrl-C stops everything). In another terminal:
$SECURE_HINT
  $BIN/zoomqctl cluster                               # brokers, leaders, ISR, lag
  $BIN/zoomqctl group describe temperature_1 controllers   # backlog, in flight, acked
  scripts/cluster.sh kill 2 --dir $DIR            # kill -9 a broker: watch seq= stay continuous
  scripts/cluster.sh restart 2 --dir $DIR         # it comes back and catches up

MSG
wait
