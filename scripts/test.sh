#!/usr/bin/env bash
# The test command: installs what is missing, configures, builds, runs every test.
#   scripts/test.sh            all tests
#   scripts/test.sh -L unit    only one ctest label (unit, service, integration), no fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$BUILD_DIR" -j"$(nproc)"
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 600 -j2 "$@"
# Every fuzz harness for a few seconds (its own clang build), so they keep building and their
# seeds keep passing; long runs: scripts/fuzz.sh SECONDS.
if [ $# -eq 0 ]; then scripts/fuzz.sh 15; fi
