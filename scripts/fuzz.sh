#!/usr/bin/env bash
# Runs every libFuzzer harness of tests/fuzz for SECONDS in total (split evenly), from the seed
# corpora in tests/fuzz/corpus (new inputs go to a copy, the repo's seeds stay as they are).
#   scripts/fuzz.sh [SECONDS=60] [HARNESS...]
# Builds them first in build-fuzz/ with clang and ASan/UBSan (-DZOOMQ_FUZZ=ON). Prints each
# harness's executions and coverage; exits 1 if any found a crash (its input is kept and named).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL=${1:-60}; shift || true
ALL=(fuzz_auth fuzz_api_answers fuzz_requests fuzz_security_state fuzz_fetch_answer)
[ $# -gt 0 ] && HARNESSES=("$@") || HARNESSES=("${ALL[@]}")
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
scripts/deps.sh fuzz
cmake -S . -B "$BUILD" -DZOOMQ_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target "${HARNESSES[@]}" >/dev/null
per=$(( SECONDS_TOTAL / ${#HARNESSES[@]} )); [ "$per" -lt 1 ] && per=1
work=$(mktemp -d); failed=0
for h in "${HARNESSES[@]}"; do
  name=${h#fuzz_}
  mkdir -p "$work/$name" "$work/$name-artifacts"
  cp tests/fuzz/corpus/"$name"/* "$work/$name/" 2>/dev/null || true
  if "$BUILD/bin/$h" -max_total_time="$per" -artifact_prefix="$work/$name-artifacts/" \
       -print_final_stats=1 "$work/$name" >"$work/$name.log" 2>&1; then
    status=ok
  else
    status="CRASH: $(ls "$work/$name-artifacts" | head -1)"; failed=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name.log" | grep -o '[0-9]*$' || echo ?)
  cov=$(grep -o 'cov: [0-9]*' "$work/$name.log" | tail -1 | grep -o '[0-9]*' || echo ?)
  echo "$h: ${per}s, $execs executions, coverage $cov edges, corpus $(ls "$work/$name" | wc -l): $status"
  [ "$status" = ok ] || { tail -30 "$work/$name.log"; echo "kept: $work/$name-artifacts"; }
done
[ "$failed" = 0 ] && rm -rf "$work"
exit "$failed"
