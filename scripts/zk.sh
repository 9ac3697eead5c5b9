#!/usr/bin/env bash
# Local ZooKeeper for development: Debian's server jar run by java directly, loopback only.
#
#   scripts/zk.sh start  DIR [--port P] [--nodes N]   start (N = 1 standalone, or 3 ensemble)
#   scripts/zk.sh stop   DIR                          stop what `start` started in DIR
#   scripts/zk.sh status DIR                          pid, port and mode of each server
#
# Layout: DIR/node<i>/{zoo.cfg,data/,zk.log,zk.pid}. Server i (1-based) listens for clients on
# 127.0.0.1:P+i-1 (default P 2181); an ensemble uses P+1000+i (quorum) and P+2000+i (election).
# tickTime is 500 ms, so sessions may be 1-10 s (DEPENDENCIES.md). `start` waits until every
# server answers `srvr` with a "Mode:" line (`ruok` answers before a server serves), then prints
# the connect string. Env: JAVA (default java), ZK_CLASSPATH, ZK_READY_TIMEOUT (s, default 30).
set -euo pipefail

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 2 ] || usage
CMD=$1
DIR=$2
shift 2
PORT=2181
NODES=1
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=${2:?--port needs a value}; shift 2 ;;
    --nodes) NODES=${2:?--nodes needs a value}; shift 2 ;;
    *) usage ;;
  esac
done
case "$NODES" in 1|3) ;; *) echo "--nodes must be 1 or 3" >&2; exit 2 ;; esac

JAVA=${JAVA:-java}
ZK_CLASSPATH=${ZK_CLASSPATH:-/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar}
READY_TIMEOUT=${ZK_READY_TIMEOUT:-30}

# Sends a four-letter word to 127.0.0.1:$1 and prints the reply (empty if none).
four_letter_word() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf '%s' '$2' >&3 && cat <&3" \
    2>/dev/null || true
}

# Node directories that `start` created, in order.
node_dirs() {
  local d
  for d in "$DIR"/node*; do
    [ -f "$d/zoo.cfg" ] && echo "$d"
  done
  return 0
}

pid_alive() {
  [ -f "$1/zk.pid" ] && kill -0 "$(cat "$1/zk.pid")" 2>/dev/null
}

client_port() {
  sed -n 's/^clientPort=//p' "$1/zoo.cfg"
}

start() {
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  local i d connect=""
  for d in $(node_dirs); do
    if pid_alive "$d"; then
      echo "already running in $DIR (scripts/zk.sh stop $DIR first)" >&2
      exit 1
    fi
  done
  for i in $(seq 1 "$NODES"); do
    d="$DIR/node$i"
    mkdir -p "$d/data"
    {
      echo "tickTime=500"
      echo "dataDir=$d/data"
      echo "clientPort=$((PORT + i - 1))"
      echo "clientPortAddress=127.0.0.1"
      echo "admin.enableServer=false"
      echo "4lw.commands.whitelist=ruok,srvr,mntr"
      echo "maxClientCnxns=0"
      if [ "$NODES" -gt 1 ]; then
        echo "initLimit=10"
        echo "syncLimit=5"
        local j
        for j in $(seq 1 "$NODES"); do
          echo "server.$j=127.0.0.1:$((PORT + 1000 + j)):$((PORT + 2000 + j))"
        done
      fi
    } >"$d/zoo.cfg"
    local main=org.apache.zookeeper.server.ZooKeeperServerMain
    if [ "$NODES" -gt 1 ]; then
      echo "$i" >"$d/data/myid"
      main=org.apache.zookeeper.server.quorum.QuorumPeerMain
    fi
    # setsid: the server outlives this script; stop kills it by its pid file.
    setsid "$JAVA" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m -XX:-UsePerfData \
      -cp "$ZK_CLASSPATH" "$main" "$d/zoo.cfg" >"$d/zk.log" 2>&1 </dev/null &
    echo $! >"$d/zk.pid"
    connect="${connect:+$connect,}127.0.0.1:$((PORT + i - 1))"
  done

  local deadline=$((SECONDS + READY_TIMEOUT))
  for d in $(node_dirs); do
    local port
    port=$(client_port "$d")
    until four_letter_word "$port" srvr | grep -q '^Mode:'; do
      if ! pid_alive "$d"; then
        echo "ZooKeeper in $d exited; last lines of $d/zk.log:" >&2
        tail -n 20 "$d/zk.log" >&2
        stop
        exit 1
      fi
      if [ $SECONDS -ge $deadline ]; then
        echo "ZooKeeper in $d not ready after ${READY_TIMEOUT}s; see $d/zk.log" >&2
        stop
        exit 1
      fi
      sleep 0.1
    done
  done
  echo "$connect"
}

stop() {
  local d pid
  for d in $(node_dirs); do
    [ -f "$d/zk.pid" ] || continue
    pid=$(cat "$d/zk.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      local waited=0
      while kill -0 "$pid" 2>/dev/null && [ $waited -lt 50 ]; do
        sleep 0.1
        waited=$((waited + 1))
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$d/zk.pid"
  done
}

status() {
  local d any=1
  for d in $(node_dirs); do
    any=0
    local port mode
    port=$(client_port "$d")
    if pid_alive "$d"; then
      mode=$(four_letter_word "$port" srvr | sed -n 's/^Mode: //p')
      echo "$(basename "$d") pid $(cat "$d/zk.pid") 127.0.0.1:$port ${mode:-not serving}"
    else
      echo "$(basename "$d") stopped 127.0.0.1:$port"
    fi
  done
  [ $any -eq 0 ] || { echo "nothing started in $DIR"; return 1; }
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
