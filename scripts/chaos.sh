#!/usr/bin/env bash
# The chaos run (docs/chaos.md): builds what is missing, then runs zoomq-chaos with the
# arguments given, e.g.
#   scripts/chaos.sh                              5 minutes, seed 1
#   scripts/chaos.sh --duration 300 --seed 7      the long form
#   scripts/chaos.sh --duration 60 --seed 1 --json
#   sudo scripts/chaos.sh --netns                 each broker in its own network namespace
# Many runs with fresh seeds, one after the other (issue 10):
#   sudo scripts/chaos.sh --runs 50 --duration 90 [--first-seed S] [--out DIR]
#     run i uses seed S + i (S: from the clock unless given); every second run is --netns
#     when running as root. Each run's table goes to DIR/seed-<seed>.txt and one line per
#     run to DIR/summary.md (a Markdown table for docs/chaos.md); other arguments are passed
#     to every run.
# Exit status: 0 when every must-be-0 figure is 0 (in every run), 1 when one is not, 2 on a
# setup failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$BUILD_DIR" -j"$(nproc)" --target zoomq-chaos zoomq-broker
BIN="$BUILD_DIR/bin/zoomq-chaos"

runs=0
first_seed=""
out=""
pass=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --first-seed) first_seed="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) pass+=("$1"); shift ;;
  esac
done
if [[ "$runs" -eq 0 ]]; then
  exec "$BIN" "${pass[@]+"${pass[@]}"}"
fi

first_seed=${first_seed:-$(( $(date +%s) % 1000000 ))}
out=${out:-"${TMPDIR:-/tmp}/zoomq-chaos-runs-$first_seed"}
mkdir -p "$out"
summary="$out/summary.md"
echo "| run | seed | mode | faults | acked writes | lost | dup | mismatches | deposed acks | acked then redelivered | not settled | order | longest outage (ms) | result |" > "$summary"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |" >> "$summary"

# The value of a row of the table: the first word after the row's label (a fixed string).
figure() {
  local line
  line=$(grep -F -m1 "$1" "$2" || true)
  [[ -n "$line" ]] && awk '{print $1}' <<< "${line:${#1}}"
}

failed=0
for ((i = 0; i < runs; i++)); do
  seed=$((first_seed + i))
  mode=loopback
  args=()
  if (( i % 2 == 1 )) && [[ "$(id -u)" -eq 0 ]]; then
    mode=netns
    args+=(--netns)
  fi
  [[ " ${pass[*]-} " == *" --secure "* ]] && mode+=+secure
  table="$out/seed-$seed.txt"
  echo "[chaos] run $((i + 1))/$runs: seed $seed, $mode" >&2
  set +e
  "$BIN" --seed "$seed" "${args[@]+"${args[@]}"}" "${pass[@]+"${pass[@]}"}" > "$table" 2> "$out/seed-$seed.log"
  rc=$?
  set -e
  case $rc in
    0) result=PASS ;;
    1) result=FAIL; failed=1 ;;
    *) result="setup failure ($rc)"; failed=1 ;;
  esac
  faults=$(grep -m1 -o "faults [0-9]* ([^)]*)" "$table" | sed -E 's/faults ([0-9]+).*/\1/' || true)
  echo "| $((i + 1)) | $seed | $mode | ${faults:-?} | $(figure 'acknowledged writes' "$table") | $(figure 'lost (acked, absent from the log)' "$table") | $(figure 'duplicated in the log' "$table") | $(figure 'replica mismatches below the hwm' "$table") | $(figure 'acks not matching the log (deposed leader)' "$table") | $(figure 'acked, then redelivered' "$table") | $(figure 'partitions not settled after healing' "$table") | $(( $(figure 'per-key order violations in the log' "$table" || echo 0) + $(figure 'per-key order violations in the group' "$table" || echo 0) )) | $(figure 'longest write outage (ms)' "$table") | $result |" >> "$summary"
  tail -1 "$summary" >&2
done
echo "[chaos] $runs runs, summary in $summary" >&2
cat "$summary"
exit $failed
