#!/usr/bin/env bash
# The run command: installs what is missing, builds, and starts a local cluster (one
# ZooKeeper server and 3 brokers on 127.0.0.1:9101-9103, data in .cluster/), then shows the
# brokers' logs live. Ctrl-C stops everything it started.
#   scripts/run.sh                 ZooKeeper + 3 brokers
#   scripts/run.sh --standalone    one broker without ZooKeeper on 127.0.0.1:9101
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" --target zoomq-broker

if [ "${1:-}" = "--standalone" ]; then
  shift
  mkdir -p .cluster/standalone
  exec "$BUILD_DIR/bin/zoomq-broker" --id 1 --listen 127.0.0.1:9101 \
    --data-dir .cluster/standalone/data "$@"
fi

scripts/cluster.sh start --dir .cluster --brokers 3 --base-port 9100
trap 'echo; scripts/cluster.sh stop --dir .cluster' EXIT INT TERM
echo
echo "Try: curl -s http://127.0.0.1:9101/v1/cluster    (Ctrl-C stops the cluster)"
echo "Kill a broker: scripts/cluster.sh kill 2 --dir .cluster; bring it back: scripts/cluster.sh restart 2 --dir .cluster"
echo
tail -n 0 -F .cluster/broker-*/broker.log &
wait $!
