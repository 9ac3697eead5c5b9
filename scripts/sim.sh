#!/usr/bin/env bash
# The long form of the replication simulation (docs/simulation.md): builds zoomq-sim, then
# runs it, by default 1,000,000 schedules (seeds 1..1000000) on every core:
#   scripts/sim.sh
#   scripts/sim.sh --schedules 100000 --seed 777
#   scripts/sim.sh --seed 4242 --trace          replay one schedule
# Exit status: 0 when every schedule held every invariant, 1 when one did not.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" --target zoomq-sim
args=("$@")
if [[ " ${args[*]-} " != *" --schedules "* && " ${args[*]-} " != *" --trace "* ]]; then
  args+=(--schedules 1000000)
fi
if [[ " ${args[*]-} " != *" --threads "* ]]; then
  args+=(--threads "$(nproc)")
fi
exec "$BUILD_DIR/bin/zoomq-sim" "${args[@]}"
