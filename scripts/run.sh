#!/usr/bin/env bash
# The run command: installs what is missing, builds, and starts the real thing: one
# ZooKeeper server, 3 brokers on 127.0.0.1:9101-9103 (data in .cluster/) and the IoT demo
# (3 sensors, 2 controllers; scripts/demo.sh), with their output live. Ctrl-C stops
# everything it started. The cluster alone: scripts/cluster.sh start.
#   scripts/run.sh [--interval S]  ZooKeeper + 3 brokers + the IoT demo
#   scripts/run.sh --secure        the same with TLS, tokens and ZooKeeper ACLs (docs/security.md)
#   scripts/run.sh --standalone    one broker without ZooKeeper on 127.0.0.1:9101
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = "--standalone" ] || exec scripts/demo.sh "$@"
scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" --target zoomq-broker

shift
mkdir -p .cluster/standalone
exec "$BUILD_DIR/bin/zoomq-broker" --id 1 --listen 127.0.0.1:9101 \
  --data-dir .cluster/standalone/data "$@"

