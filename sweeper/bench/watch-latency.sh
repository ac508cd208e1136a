#!/usr/bin/env bash
# How long `idlewatch watch` takes from a workspace's exit to its removal, beside its --grace:
# a watcher scoped to this run's own label, then N containers carrying that label that exit one
# after another (each 1 s after it starts, a few seconds apart). Exit and removal times: the
# engine's own `die` and `destroy` events (docker events, nanosecond times).
# Prints each delay, then the median and the range beside the grace.
#
#   sweeper/bench/watch-latency.sh [N=20] [GRACE=5s]
set -euo pipefail

n=${1:-20}
grace=${2:-5s}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
idlewatch=$here/../bin/idlewatch
jar=$here/../target/idlewatch-sweeper.jar
image=localhost/idlewatch/debian:bookworm
run_id=watch-bench-$$-$(date +%s)
label="io.idlewatch.bench=$run_id"
work=$(mktemp -d)

[[ -f $jar ]] || { echo "build first: mvn -pl sweeper package" >&2; exit 2; }
docker image inspect "$image" >/dev/null 2>&1 || { echo "image $image missing: images/build.sh" >&2; exit 2; }

cleanup() {
  [[ -z ${watcher:-} ]] || kill "$watcher" 2>/dev/null || true
  [[ -z ${events:-} ]] || kill "$events" 2>/dev/null || true
  docker ps -aq --filter "label=$label" | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

docker events --filter "label=$label" --filter event=die --filter event=destroy \
  --format '{{.Actor.ID}} {{.Action}} {{.TimeNano}}' > "$work/events" &
events=$!
"$idlewatch" watch --label "$label" --grace "$grace" --interval 1h > "$work/watch.log" 2>&1 &
watcher=$!
sleep 3 # the watcher is connected to the event stream

ids=()
for ((i = 0; i < n; i++)); do
  ids+=("$(docker run -d --log-driver none --label io.idlewatch.managed=true --label "$label" "$image" sh -c 'sleep 1')")
  sleep 3
done

# every container removed, or give up 90 s after the last one
deadline=$(( $(date +%s) + 90 ))
while (( $(grep -c ' destroy ' "$work/events" || true) < n && $(date +%s) < deadline )); do sleep 1; done

printf '%-14s %s\n' container "exit -> removal"
for id in "${ids[@]}"; do
  died=$(awk -v id="$id" '$1 == id && $2 == "die" {print $3; exit}' "$work/events")
  removed=$(awk -v id="$id" '$1 == id && $2 == "destroy" {print $3; exit}' "$work/events")
  if [[ -z $died || -z $removed ]]; then
    printf '%-14s %s\n' "${id:0:12}" "not removed"
    echo missing >> "$work/delays"
    continue
  fi
  d=$(awk -v r="$removed" -v f="$died" 'BEGIN {printf "%.3f", (r - f) / 1e9}')
  printf '%-14s %s s\n' "${id:0:12}" "$d"
  echo "$d" >> "$work/delays"
done
missing=$(grep -c missing "$work/delays" || true)
grep -v missing "$work/delays" | sort -g | awk -v g="$grace" -v n="$n" -v m="$missing" '
  { v[NR] = $1 }
  END {
    med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "watch --grace %s: exit -> removal median %.3f s (min %.3f, max %.3f) over %d containers, %d not removed\n", g, med, v[1], v[NR], NR, m
  }'
echo "watcher log:"; sed 's/^/  /' "$work/watch.log" | tail -5
