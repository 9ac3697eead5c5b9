#!/usr/bin/env bash
# The chaos run (docs/chaos.md): builds what is missing, then runs zoomq-chaos with the
# arguments given, e.g.
#   scripts/chaos.sh                              5 minutes, seed 1
#   scripts/chaos.sh --duration 300 --seed 7      the long form
#   scripts/chaos.sh --duration 60 --seed 1 --json
#   sudo scripts/chaos.sh --netns                 each broker in its own network namespace
# Exit status: 0 when every must-be-0 figure is 0, 1 when one is not, 2 on a setup failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" --target zoomq-chaos zoomq-broker
exec "$BUILD_DIR/bin/zoomq-chaos" "$@"
