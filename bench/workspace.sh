#!/usr/bin/env bash
# The agent inside the real opencode workspace: its share of the container's memory
# next to opencode's own, and its CPU while the workspace idles, extrapolated to an hour.
# Usage: bench/workspace.sh [sample_seconds=120]
set -euo pipefail
cd "$(dirname "$0")/.."
window="${1:-120}"
scripts/docker-engine
docker image inspect localhost/idlewatch/workspace:latest >/dev/null 2>&1 \
  || { echo "bench: build the images first: scripts/demo or images/build.sh" >&2; exit 1; }

id=$(docker run -d -e IDLEWATCH_TIMEOUT=2h localhost/idlewatch/workspace:latest)
trap 'docker rm -f "$id" >/dev/null' EXIT
sleep 60 # past opencode's start-up

# Per process: Rss, Pss and Anonymous from smaps_rollup; CPU from /proc/PID/stat (utime+stime, ticks).
snapshot() {
  docker exec "$id" sh -c 'for p in /proc/[0-9]*; do
      [ "${p#/proc/}" = "$$" ] && continue; [ -r $p/smaps_rollup ] || continue
      c=$(tr "\0\n" "  " < $p/cmdline | cut -c1-40); [ -n "$c" ] || continue
      r=$(awk "/^Rss:/ {print \$2}" $p/smaps_rollup); s=$(awk "/^Pss:/ {print \$2}" $p/smaps_rollup)
      a=$(awk "/^Anonymous:/ {print \$2}" $p/smaps_rollup)
      t=$(cut -d")" -f2 $p/stat | awk "{print \$12 + \$13}")
      echo "${p#/proc/}|$r|$s|$a|$t|$c"; done'
}
s0=$(snapshot); t0=$(date +%s%N)
sleep "$window"
s1=$(snapshot); t1=$(date +%s%N)

echo "== memory after 60 s (kB) =="
printf '%-6s %8s %8s %10s  %s\n' pid Rss Pss Anonymous command
echo "$s1" | awk -F'|' '{printf "%-6s %8s %8s %10s  %s\n", $1, $2, $3, $4, $6}'
# idlewatch = PID 1 (the C init) + its companion, the agent's JVM
echo "$s1" | awk -F'|' '$1 == 1 || $6 ~ /idlewatch\/runtime\/bin\/java/ {a += $3; next} $6 !~ /^(sh|cat|awk|tr|cut) / {o += $3} END {
  printf "idlewatch (PID 1 + agent) Pss %d kB = %.1f%% of the container'"'"'s %d kB (opencode and the rest: %d kB)\n", a, 100 * a / (a + o), a + o, o }'

echo
echo "== CPU while idle, ${window} s sample =="
el=$(( t1 - t0 ))
LC_ALL=C join -t'|' <(echo "$s0" | awk -F'|' '{print $1 "|" $5 "|" $6}' | LC_ALL=C sort) <(echo "$s1" | awk -F'|' '{print $1 "|" $5}' | LC_ALL=C sort) \
  | awk -F'|' -v e="$el" '{ d = ($4 - $2) / 100; printf "%-6s %8.2f CPU-s  %6.3f%% of a core  %7.1f CPU-s/idle hour  %s\n", $1, d, 100 * d / (e / 1e9), 3600 * d / (e / 1e9), $3 }'
