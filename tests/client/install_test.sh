#!/bin/bash
# ctest SdkInstall: `cmake --install` the SDK of build dir $1 into a temp prefix, then build
# tests/client/install_example against it twice (find_package(zoomq), and plain g++ with
# `pkg-config --cflags --libs zoomq-client`) and run both.
set -euo pipefail
build=$1
example=$2
cxx=${3:-c++}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" --component sdk >/dev/null
test -f "$tmp/prefix/include/zoomq/client.h"
test -f "$tmp/prefix/include/zoomq/common/status.h"

cmake -S "$example" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null
"$tmp/cmake-build/example"

libdir=$(dirname "$(find "$tmp/prefix" -name zoomq-client.pc)")
export PKG_CONFIG_PATH="$libdir"
# shellcheck disable=SC2046  # word splitting of the flags is the point
"$cxx" -std=c++17 "$example/main.cc" -o "$tmp/example-pc" $(pkg-config --cflags --libs zoomq-client)
LD_LIBRARY_PATH="$(pkg-config --variable=libdir zoomq-client)" "$tmp/example-pc"
