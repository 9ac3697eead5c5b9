#!/usr/bin/env bash
# Installs the Debian packages zoomq needs, only those that are missing.
# Used by scripts/test.sh and scripts/run.sh; safe to run again. `scripts/deps.sh fuzz` adds
# clang and its fuzzer runtime (scripts/fuzz.sh); `scripts/deps.sh compare` the peers of the
# side-by-side benchmark and their client libraries (bench/lib/peers.sh, docs/peers.md).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config curl
  libgtest-dev libgmock-dev
  libsqlitecpp-dev libsqlite3-dev
  libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev
  nlohmann-json3-dev
  libcli11-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev
  libzookeeper-mt-dev
  zookeeper                  # the server, run with java by scripts/cluster.sh and the tests
  openssl                    # the command: the TLS tests make their certificates with it
)
[ "${1:-}" = fuzz ] && PACKAGES+=(clang libclang-rt-14-dev)
if [ "${1:-}" = compare ]; then
  PACKAGES+=(redis-server redis-tools libhiredis-dev rabbitmq-server librabbitmq-dev)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing missing packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
