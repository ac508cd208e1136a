#!/usr/bin/env bash
# Times `idlewatch ps` beside `docker ps` (one list call, the floor for any listing) with 50, 100
# and 200 running workspaces: containers of the agent's test image (the agent as PID 1 + sleep),
# each writing its state file, all carrying this run's own label. Both commands list only that
# label, alternating which goes first. Prints medians side by side; removes its containers after.
#
#   sweeper/bench/ps-scale.sh [ROUNDS=7] [COUNTS="50 100 200"]
#   DOCKER_HOST=unix:///run/idlewatch-podman/podman.sock sweeper/bench/ps-scale.sh   (Podman)
set -euo pipefail

rounds=${1:-7}
counts=${2:-50 100 200}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
idlewatch=$here/../bin/idlewatch
jar=$here/../target/idlewatch-sweeper.jar
image=localhost/idlewatch/test-workload:latest
run_id=ps-bench-$$-$(date +%s)
label="io.idlewatch.bench=$run_id"

[[ -f $jar ]] || { echo "build first: mvn -pl sweeper package" >&2; exit 2; }
docker image inspect "$image" >/dev/null 2>&1 || { echo "image $image missing: images/build.sh tests" >&2; exit 2; }

cleanup() { docker ps -aq --filter "label=$label" | xargs -r docker rm -f >/dev/null 2>&1 || true; }
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

running() { docker ps -q --filter "label=$label" --filter status=running | wc -l; }

# Brings the set up to N running workspaces, 8 started at a time. No idle timeout: they stay up.
grow_to() {
  local want=$1 have
  have=$(running)
  ((want > have)) || return 0
  seq "$have" $((want - 1)) | xargs -P 8 -I{} docker run -d --log-driver none \
    --label io.idlewatch.managed=true --label "$label" --label "io.idlewatch.workspace=bench-{}" \
    "$image" >/dev/null
  have=$(running)
  [[ $have -eq $want ]] || { echo "only $have of $want workspaces running" >&2; exit 1; }
}

# Until every workspace's agent has written its state file (ps shows a live record for each).
await_live() {
  local want=$1 live
  for _ in $(seq 1 120); do
    live=$("$idlewatch" ps --json --label "$label" | grep -o '"record":"live"' | wc -l)
    ((live == want)) && return 0
    sleep 2
  done
  echo "only $live of $want workspaces have a live record" >&2
  exit 1
}

time_ps() {
  local want=$1 start end rows
  start=$(now)
  rows=$("$idlewatch" ps --label "$label" | tail -n +2 | wc -l)
  end=$(now)
  [[ $rows -eq $want ]] || { echo "idlewatch ps listed $rows of $want" >&2; exit 1; }
  elapsed "$start" "$end"
}

time_docker_ps() {
  local want=$1 start end rows
  start=$(now)
  rows=$(docker ps --filter "label=$label" | tail -n +2 | wc -l)
  end=$(now)
  [[ $rows -eq $want ]] || { echo "docker ps listed $rows of $want" >&2; exit 1; }
  elapsed "$start" "$end"
}

echo "engine: $(docker version --format '{{.Server.Version}}' 2>/dev/null) at ${DOCKER_HOST:-default}; $(nproc) cores; $rounds rounds"
results=()
for n in $counts; do
  grow_to "$n"
  await_live "$n"
  ours=() theirs=()
  for ((round = 1; round <= rounds; round++)); do
    if ((round % 2)); then
      ours+=("$(time_ps "$n")"); theirs+=("$(time_docker_ps "$n")")
    else
      theirs+=("$(time_docker_ps "$n")"); ours+=("$(time_ps "$n")")
    fi
  done
  mo=$(printf '%s\n' "${ours[@]}" | median)
  md=$(printf '%s\n' "${theirs[@]}" | median)
  echo "  $n workspaces: idlewatch ps ${ours[*]}; docker ps ${theirs[*]}"
  results+=("$(printf '%-14s %14ss %12ss %10s' "$n" "$mo" "$md" "$(awk -v a="$mo" -v b="$md" 'BEGIN { printf "%.1f", a / b }')")")
done

echo
printf '%-14s %15s %13s %10s\n' "workspaces" "idlewatch ps" "docker ps" "ratio"
printf '%s\n' "${results[@]}"
echo "(medians of $rounds; target: 200 workspaces in <= 2 s)"
