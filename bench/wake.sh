#!/usr/bin/env bash
# Wake on request: how long a client waits for a stopped workspace, connect to first byte.
#   wake   : `idlewatch watch --wake` holds the published port of a workspace its agent stopped for
#            idleness; curl connects (the watcher accepts at once), the watcher starts the container
#            and passes the request through: curl's time_starttransfer - time_connect.
#   manual : the same workspace without the wake label, stopped the same way; by hand:
#            `docker start`, then curl polling the port every 100 ms until it answers: from the
#            start command to the first byte of the answer. Each poll gives up after 2 s, as the
#            watcher's own probe does: a starting server may accept a connection it never answers.
# Each is the median of N (default 10), for a small HTTP server (socat, images/test/socat) and for
# opencode (images/workspace), in the same run.
# Usage: bench/wake.sh [N=10] [PORT=47900]  (uses PORT..PORT+3 on 127.0.0.1)
#   IDLEWATCH_IMAGE_TAG picks the images (default latest); the host CLI from sweeper/bin/idlewatch (mvn package).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10}" port="${2:-47900}"
tag="${IDLEWATCH_IMAGE_TAG:-latest}"
socat_img="localhost/idlewatch/test-socat:$tag"
opencode_img="localhost/idlewatch/workspace:$tag"
label="io.idlewatch.bench=wake-$$"
log="$(mktemp)"

scripts/docker-engine
for i in "$socat_img" "$opencode_img"; do
  docker image inspect "$i" >/dev/null 2>&1 || { echo "bench: build the images first: images/build.sh all" >&2; exit 1; }
done
[[ -f sweeper/target/idlewatch-sweeper.jar ]] || { echo "bench: build the CLI first: mvn -B -q package -DskipTests" >&2; exit 1; }
cleanup() {
  [[ -z ${watcher:-} ]] || { kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null || true; }
  docker ps -aq --filter "label=$label" | xargs -r docker rm -f >/dev/null
  rm -rf "$log" "${cli:-}"
}
trap cleanup EXIT

# A copy of the CLI, so that a rebuild during the run cannot change the jar under the watcher.
cli="$(mktemp -d)"
cp sweeper/bin/idlewatch sweeper/target/idlewatch-sweeper.jar "$cli/"
"$cli/idlewatch" watch --wake --label "$label" --older-than 1h --interval 1h --grace 500ms >"$log" 2>&1 &
watcher=$!

# workspace NAME PORT IMAGE WAKE(true|false) TIMEOUT SIGNALS [CMD...]
workspace() {
  local name=$1 p=$2 image=$3 wake=$4 timeout=$5 signals=$6; shift 6
  docker run -d --name "$name" --label io.idlewatch.managed=true --label "$label" --label "io.idlewatch.workspace=$name" \
    --label "io.idlewatch.wake=$wake" -p "127.0.0.1:$p:4096" \
    -e "IDLEWATCH_TIMEOUT=$timeout" -e IDLEWATCH_POLL_INTERVAL=1s -e "IDLEWATCH_SIGNALS=$signals" \
    "$image" "$@" >/dev/null
}

await_exited() {
  local deadline=$((SECONDS + 120))
  until [[ $(docker inspect -f '{{.State.Status}}' "$1") == exited ]]; do
    ((SECONDS < deadline)) || { echo "bench: $1 never stopped" >&2; exit 1; }
    sleep 0.2
  done
}

# await_held NAME PORT COUNT: the watcher's COUNT-th "holding" line for it
await_held() {
  local deadline=$((SECONDS + 120))
  until (( $(grep -c "holding 127.0.0.1:$2 for $1 " "$log" || true) >= $3 )); do
    ((SECONDS < deadline)) || { echo "bench: the watcher never held $1; it said:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.1
  done
}

median() { sort -n | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.0f", m}'; }

# wake_times NAME PORT PATH: N connect-to-first-byte times (ms) through a wake
wake_times() {
  local name=$1 p=$2 path=$3 i
  for ((i = 1; i <= n; i++)); do
    await_exited "$name"
    await_held "$name" "$p" "$i"
    curl -sS -o /dev/null --max-time 90 -w '%{time_connect} %{time_starttransfer}\n' "http://127.0.0.1:$p$path" \
      | awk '{printf "%.0f\n", ($2 - $1) * 1000}'
  done
}

# manual_times NAME PORT PATH: N times (ms) from `docker start` to the first byte, polling by hand
manual_times() {
  local name=$1 p=$2 path=$3 i t0 t1
  for ((i = 1; i <= n; i++)); do
    await_exited "$name"
    t0=$(date +%s%N)
    docker start "$name" >/dev/null
    until curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$p$path"; do sleep 0.1; done
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
  done
}

results=()
run_pair() {
  local what=$1 image=$2 timeout=$3 signals=$4 path=$5 base=$6; shift 6
  workspace "bench-wake-$what-$$" "$base" "$image" true "$timeout" "$signals" "$@"
  workspace "bench-start-$what-$$" "$((base + 1))" "$image" false "$timeout" "$signals" "$@"
  local wake manual
  wake=$(wake_times "bench-wake-$what-$$" "$base" "$path" | median)
  manual=$(manual_times "bench-start-$what-$$" "$((base + 1))" "$path" | median)
  results+=("$(printf '%-10s wake (connect to first byte): %6s ms   docker start + polling: %6s ms' "$what" "$wake" "$manual")")
  echo "${results[-1]}" >&2
}

echo "bench: $n of each; host $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
run_pair socat "$socat_img" 3s http / "$port" serve http-ok
run_pair opencode "$opencode_img" 20s http,opencode /global/health "$((port + 2))"
printf '%s\n' "${results[@]}"
echo "wakes counted by the watcher: $(grep -c '^woke ' "$log")"
