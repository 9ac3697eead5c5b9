#!/usr/bin/env bash
# The run command: builds what is missing and starts a zoomq broker on 127.0.0.1:9101
# (data in .cluster/broker-1). Ctrl-C stops it cleanly. Flags are passed to the broker.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
if [ ! -x "$BUILD_DIR/bin/zoomq-broker" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" --target zoomq-broker
mkdir -p .cluster/broker-1
exec "$BUILD_DIR/bin/zoomq-broker" --id 1 --listen 127.0.0.1:9101 --data-dir .cluster/broker-1 "$@"
