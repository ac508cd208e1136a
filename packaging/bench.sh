#!/usr/bin/env bash
# `idlewatch sweep` on a host with nothing to sweep (a label no container carries): the packaged
# CLI (jlinked runtime, C launcher, its class-data archive) beside the jar-and-script launcher
# (sweeper/bin/idlewatch on the host's JDK), alternating, the same engine. Prints medians in ms.
# Usage: packaging/bench.sh [RUNS]    (default 21; needs mvn -B package and a Docker engine)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-21}"
packaged="$(ls -td "$root"/packaging/target/idlewatch-*/ | head -1)bin/idlewatch"
script="$root/sweeper/bin/idlewatch"
args=(sweep --label "io.idlewatch.bench=nothing-$$")

ms() {  # milliseconds one run of "$@" takes; it must succeed
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

"$packaged" "${args[@]}" >/dev/null; "$script" "${args[@]}" >/dev/null   # warm the page cache
a=() b=()
for ((i = 0; i < runs; i++)); do
  if ((i % 2 == 0)); then
    a+=("$(ms "$packaged" "${args[@]}")"); b+=("$(ms "$script" "${args[@]}")")
  else
    b+=("$(ms "$script" "${args[@]}")"); a+=("$(ms "$packaged" "${args[@]}")")
  fi
done
pa="$(printf '%s\n' "${a[@]}" | median)"; pb="$(printf '%s\n' "${b[@]}" | median)"
echo "idlewatch ${args[*]}: median of $runs alternating runs"
echo "  packaged  ($packaged): $pa ms"
echo "  jar+script ($script, $(java -version 2>&1 | head -1)): $pb ms"
awk -v a="$pa" -v b="$pb" 'BEGIN {printf "  packaged / jar+script = %.2f\n", a / b}'
