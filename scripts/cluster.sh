#!/usr/bin/env bash
# A local zoomq cluster: ZooKeeper (Debian's package, run with java directly, loopback only)
# and N brokers, everything under a cluster dir (default .cluster/).
#
#   scripts/cluster.sh start [--brokers N] [--zk-nodes 1|3] [--dir DIR] [--base-port P] [--secure]
#   scripts/cluster.sh status|stop [--dir DIR]
#   scripts/cluster.sh kill ID | term ID | stop-broker ID | restart ID [--dir DIR]
#   scripts/cluster.sh zk-kill N | zk-restart N [--dir DIR]      (ZooKeeper server N)
#
# Brokers listen on 127.0.0.1:(base-port + id) (default 9100 + id), ZooKeeper on
# 127.0.0.1:(base-port + 81 + n) (quorum ports base+85.. and base+88..). Extra broker flags:
# ZOOMQ_BROKER_ARGS. --secure (docs/security.md): HTTPS with a local CA made by openssl, an admin
# token and ZooKeeper digest ACLs, all generated once under DIR/secure/ (admin.token, ca.pem).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-build}
case "$BUILD_DIR" in /*) BIN="$BUILD_DIR/bin/zoomq-broker" ;; *) BIN="$ROOT/$BUILD_DIR/bin/zoomq-broker" ;; esac

cmd=${1:-}; shift || true
DIR=.cluster BROKERS=3 ZK_NODES=1 BASE=9100 ARG="" SECURE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --brokers) BROKERS=$2; shift 2 ;;
    --zk-nodes) ZK_NODES=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --base-port) BASE=$2; shift 2 ;;
    --secure) SECURE=1; shift ;;
    *) ARG=$1; shift ;;
  esac
done
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
[ -f "$DIR/cluster.env" ] && [ "$cmd" != start ] && . "$DIR/cluster.env"

SEC="$DIR/secure"
SCHEME=http; [ -n "$SECURE" ] && SCHEME=https
# curl against a broker: trusts the local CA when secure.
bcurl() { if [ -n "$SECURE" ]; then curl --cacert "$SEC/ca.pem" "$@"; else curl "$@"; fi; }
# shellcheck source=scripts/lib/secrets.sh
source scripts/lib/secrets.sh  # (cwd: the repo root)
secure_args() {
  [ -n "$SECURE" ] || return 0
  echo "--tls-cert $SEC/broker.pem --tls-key $SEC/broker.key --tls-ca $SEC/ca.pem" \
       "--admin-token-file $SEC/admin.token --zk-auth-file $SEC/zk.auth"
}

zk_port() { echo $((BASE + 81 + $1)); }
zk_connect() {
  local s="" n
  for n in $(seq 1 "$ZK_NODES"); do s="$s${s:+,}127.0.0.1:$(zk_port "$n")"; done
  echo "$s/zoomq"
}
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
# Bounded: a server that accepts but never answers (starting up) must not hold the caller.
srvr() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && echo srvr >&3 && cat <&3' _ "$1" 2>/dev/null || true; }

wait_zk() {  # ready when `srvr` answers with a Mode: line (not ruok: it says imok too early)
  local n deadline=$((SECONDS + 30))
  for n in $(seq 1 "$ZK_NODES"); do
    until srvr "$(zk_port "$n")" | grep -q Mode:; do
      [ $SECONDS -lt $deadline ] || { echo "ZooKeeper $n did not start (see $DIR/zk$n/zk.log)" >&2; exit 1; }
      sleep 0.1
    done
  done
}

start_zk() {
  local n=$1
  local d="$DIR/zk$n"
  mkdir -p "$d/data"
  alive "$d/pid" && return 0
  {
    echo "tickTime=500"; echo "initLimit=10"; echo "syncLimit=5"
    echo "dataDir=$d/data"; echo "clientPort=$(zk_port "$n")"; echo "clientPortAddress=127.0.0.1"
    echo "admin.enableServer=false"; echo "4lw.commands.whitelist=ruok,srvr,mntr"
    echo "maxClientCnxns=0"
    if [ "$ZK_NODES" -gt 1 ]; then
      local m
      for m in $(seq 1 "$ZK_NODES"); do
        echo "server.$m=127.0.0.1:$((BASE + 84 + m)):$((BASE + 87 + m))"
      done
    fi
  } > "$d/zoo.cfg"
  echo "$n" > "$d/data/myid"
  local main=org.apache.zookeeper.server.ZooKeeperServerMain
  [ "$ZK_NODES" -gt 1 ] && main=org.apache.zookeeper.server.quorum.QuorumPeerMain
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m -XX:-UsePerfData \
    -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-simple.jar \
    $main "$d/zoo.cfg" > "$d/zk.log" 2>&1 &
  echo $! > "$d/pid"
}

start_broker() {
  local id=$1
  local d="$DIR/broker-$id"
  mkdir -p "$d"
  alive "$d/pid" && return 0
  "$BIN" --id "$id" --listen "127.0.0.1:$((BASE + id))" --data-dir "$d/data" \
    --zk "$(zk_connect)" $(secure_args) ${ZOOMQ_BROKER_ARGS:-} >> "$d/broker.log" 2>&1 &
  echo $! > "$d/pid"
}

wait_broker() {
  local id=$1 deadline=$((SECONDS + 30))
  until bcurl -sf "$SCHEME://127.0.0.1:$((BASE + id))/v1/health" > /dev/null; do
    alive "$DIR/broker-$id/pid" || { echo "broker $id exited (see $DIR/broker-$id/broker.log)" >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { echo "broker $id not healthy in 30 s" >&2; exit 1; }
    sleep 0.1
  done
}

stop_pid() {  # SIGTERM, then SIGKILL after 10 s
  local f=$1 i
  alive "$f" || { rm -f "$f"; return 0; }
  kill -TERM "$(cat "$f")" 2>/dev/null || true
  for i in $(seq 100); do alive "$f" || break; sleep 0.1; done
  alive "$f" && kill -KILL "$(cat "$f")" 2>/dev/null || true
  rm -f "$f"
}

status() {
  local n id
  for n in $(seq 1 "$ZK_NODES"); do
    if alive "$DIR/zk$n/pid"; then echo "zookeeper $n  127.0.0.1:$(zk_port "$n")  $(srvr "$(zk_port "$n")" | grep Mode: || echo 'not serving')"
    else echo "zookeeper $n  down"; fi
  done
  for id in $(seq 1 "$BROKERS"); do
    local url="$SCHEME://127.0.0.1:$((BASE + id))"
    if alive "$DIR/broker-$id/pid"; then
      echo "broker $id     $url  $(bcurl -s -m 2 "$url/v1/health" || echo 'not answering')"
    else echo "broker $id     down"; fi
  done
}

case "$cmd" in
  start)
    [ -x "$BIN" ] || { cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null; cmake --build "$BUILD_DIR" -j"$(nproc)" --target zoomq-broker; }
    echo "BROKERS=$BROKERS ZK_NODES=$ZK_NODES BASE=$BASE SECURE=$SECURE" > "$DIR/cluster.env"
    [ -n "$SECURE" ] && make_secrets "$SEC"
    for n in $(seq 1 "$ZK_NODES"); do start_zk "$n"; done
    wait_zk
    for id in $(seq 1 "$BROKERS"); do start_broker "$id"; done
    for id in $(seq 1 "$BROKERS"); do wait_broker "$id"; done
    echo "ZooKeeper: $(zk_connect)"
    for id in $(seq 1 "$BROKERS"); do echo "broker $id: $SCHEME://127.0.0.1:$((BASE + id))"; done
    if [ -n "$SECURE" ]; then echo "secure: CA $SEC/ca.pem, admin token in $SEC/admin.token"; fi
    ;;
  status) status ;;
  stop)
    for id in $(seq 1 "$BROKERS"); do stop_pid "$DIR/broker-$id/pid"; done
    for n in $(seq 1 "$ZK_NODES"); do stop_pid "$DIR/zk$n/pid"; done
    echo "stopped" ;;
  kill) alive "$DIR/broker-$ARG/pid" && kill -KILL "$(cat "$DIR/broker-$ARG/pid")"; rm -f "$DIR/broker-$ARG/pid"; echo "broker $ARG killed (-9)" ;;
  term|stop-broker) stop_pid "$DIR/broker-$ARG/pid"; echo "broker $ARG stopped" ;;
  restart) stop_pid "$DIR/broker-$ARG/pid"; start_broker "$ARG"; wait_broker "$ARG"; echo "broker $ARG: $SCHEME://127.0.0.1:$((BASE + ARG))" ;;
  zk-kill) alive "$DIR/zk$ARG/pid" && kill -KILL "$(cat "$DIR/zk$ARG/pid")"; rm -f "$DIR/zk$ARG/pid"; echo "zookeeper $ARG killed" ;;
  zk-restart) stop_pid "$DIR/zk$ARG/pid"; start_zk "$ARG"; wait_zk; echo "zookeeper $ARG restarted" ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
