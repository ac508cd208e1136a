#!/usr/bin/env bash
# The agent next to Debian's tini and no init at all, in one run, on this engine.
#   start-up : container start -> the workload's first line, N runs each (median)
#              measured two ways: `docker run` wall time on the host, and inside the
#              container from PID 1's exec (its /proc start time) to the workload's line
#              (agent+settings: IDLEWATCH_TIMEOUT=30m, read by the init itself; agent+checked: a
#              setting the init leaves to the agent, which checks it before the workload starts)
#   memory   : PID 1's Rss and Anonymous (smaps_rollup) after IDLE_WAIT s, and the agent JVM's:
#              the median of SAMPLES containers of each (one sample varies by about 0.3 MB)
#   client   : `docker exec ws idlewatch status` next to `docker exec ws true`, N runs each (median)
#   idle CPU : the whole container's CPU (cgroup cpuacct) over CPU_WINDOW s while idle, all signals
#              on at the default poll, next to the same container under tini (median of SAMPLES)
# Usage: bench/agent.sh [runs=10] [idle_wait=30] [cpu_window=120] [samples=5]
#   REF_IMAGE=localhost/idlewatch/agent:some-tag  also runs that agent's /opt/idlewatch (e.g. one built
#   from an earlier commit) in the memory, client and idle CPU parts, side by side, in the same run
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}" idle_wait="${2:-30}" cpu_window="${3:-120}" samples="${4:-5}"

tag="${IDLEWATCH_IMAGE_TAG:-latest}"
scripts/docker-engine
if ! docker image inspect "localhost/idlewatch/agent:$tag" >/dev/null 2>&1; then
  echo "bench: build the images first: scripts/demo or images/build.sh" >&2; exit 1
fi
if [[ ! -x /usr/bin/tini-static ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "bench: needs Debian's tini package (/usr/bin/tini-static)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tini >/dev/null
fi

ctx="$(mktemp -d)"; trap 'rm -rf "$ctx"' EXIT
cp /usr/bin/tini-static "$ctx/tini"
cat > "$ctx/Dockerfile" <<DOCKER
FROM localhost/idlewatch/debian:bookworm
COPY --from=localhost/idlewatch/agent:$tag /opt/idlewatch /opt/idlewatch
COPY tini /usr/bin/tini
DOCKER
docker build -q -t "localhost/idlewatch/bench:$tag" "$ctx" >/dev/null 2>&1
img="localhost/idlewatch/bench:$tag"
declare -A image=([agent]="$img" [agent-nocds]="$img" [tini]="$img")
mem_order=(agent agent-nocds tini)
if [[ -n ${REF_IMAGE:-} ]]; then
  sed -i "s|^COPY --from=.* /opt/idlewatch /opt/idlewatch|COPY --from=$REF_IMAGE /opt/idlewatch /opt/idlewatch|" "$ctx/Dockerfile"
  docker build -q -t "localhost/idlewatch/bench-ref:$tag" "$ctx" >/dev/null 2>&1
  image[reference]="localhost/idlewatch/bench-ref:$tag"
  mem_order=(agent agent-nocds tini reference)
fi

declare -A entry=(
  [agent]="/opt/idlewatch/bin/idlewatch --"
  [agent-nocds]="/opt/idlewatch/bin/idlewatch --"
  [agent+settings]="/opt/idlewatch/bin/idlewatch --"
  [agent+checked]="/opt/idlewatch/bin/idlewatch --"
  [tini]="/usr/bin/tini --"
  [reference]="/opt/idlewatch/bin/idlewatch --"
  [none]=""
)
# agent-nocds: the same agent with its CDS archive turned off, to show what the archive buys.
declare -A extra=([agent-nocds]="-e JAVA_TOOL_OPTIONS=-Xshare:off" [agent+settings]="-e IDLEWATCH_TIMEOUT=30m"
  [agent+checked]="-e IDLEWATCH_SIGNALS=CPU")
order=(agent agent+settings agent+checked tini none)

# In the container: seconds from PID 1's start (field 22 of /proc/1/stat, clock ticks)
# to the workload's first line (/proc/uptime). PID 1 is the init, or sh itself with none.
probe='read -r up _ < /proc/uptime; set -- $(cut -d")" -f2 /proc/1/stat); echo "$up $(( ${20} ))"'

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "== start-up: $runs runs each, interleaved =="
declare -A wall inner
for ((i = 0; i < runs; i++)); do
  for k in "${order[@]}"; do
    # shellcheck disable=SC2086
    t0=$(date +%s%N)
    out=$(docker run --rm ${extra[$k]:-} --entrypoint "" "$img" ${entry[$k]} sh -c "$probe" 2>/dev/null)
    t1=$(date +%s%N)
    wall[$k]+="$(( (t1 - t0) / 1000000 )) "
    inner[$k]+="$(awk -v o="$out" 'BEGIN {split(o, a, " "); printf "%d", (a[1] - a[2] / 100) * 1000}') "
  done
done
printf '%-15s %18s %26s\n' init "docker run wall ms" "PID 1 exec -> first line ms"
for k in "${order[@]}"; do
  w=$(tr ' ' '\n' <<<"${wall[$k]}" | grep . | median)
  n=$(tr ' ' '\n' <<<"${inner[$k]}" | grep . | median)
  printf '%-15s %18s %26s\n' "$k" "$w" "$n"
done
echo "== docker run --rm IMG sh -c 'echo hi': $runs runs each, interleaved =="
declare -A hi
for ((i = 0; i < runs; i++)); do
  for k in agent tini; do
    t0=$(date +%s%N); docker run --rm --entrypoint "" "$img" ${entry[$k]} sh -c 'echo hi' >/dev/null 2>&1; t1=$(date +%s%N)
    hi[$k]+="$(( (t1 - t0) / 1000000 )) "
  done
done
for k in agent tini; do printf '%-15s %18s\n' "$k" "$(tr ' ' '\n' <<<"${hi[$k]}" | grep . | median)"; done
aw=$(tr ' ' '\n' <<<"${wall[agent]}" | grep . | median); tw=$(tr ' ' '\n' <<<"${wall[tini]}" | grep . | median)
echo "agent - tini (wall, medians): $(awk -v a="$aw" -v t="$tw" 'BEGIN {print a - t}') ms (target <= 100 ms)"

echo
echo "== memory after ${idle_wait} s idle (all signals on, default poll): median of $samples containers of each =="
declare -A ids_of
all_ids=()
trap 'docker rm -f "${all_ids[@]}" >/dev/null 2>&1; rm -rf "$ctx"' EXIT
for ((j = 0; j < samples; j++)); do
  for k in "${mem_order[@]}"; do
    # shellcheck disable=SC2086
    id="$(docker run -d ${extra[$k]:-} --entrypoint "" -e IDLEWATCH_TIMEOUT=1h "${image[$k]}" ${entry[$k]} sleep infinity)"
    ids_of[$k]+="$id "; all_ids+=("$id")
  done
done
first() { local a; read -r a _ <<<"${ids_of[$1]}"; echo "$a"; }
sleep "$idle_wait"
printf '%-15s %10s %14s %8s\n' process "Rss kB" "Anonymous kB" threads
# Rss, Anonymous and threads of PID 1 and of the agent's JVM (the same process when the JVM is PID 1)
mem='m() { echo "$(awk "/^Rss:/ {print \$2}" /proc/$1/smaps_rollup) $(awk "/^Anonymous:/ {print \$2}" /proc/$1/smaps_rollup) $(awk "/^Threads:/ {print \$2}" /proc/$1/status)"; }
  j=; for p in /proc/[0-9]*; do [ "$(readlink $p/exe)" = /opt/idlewatch/runtime/bin/java ] && j=${p#/proc/}; done
  echo "pid1 $(m 1)"; [ -z "$j" ] || echo "jvm $(m $j)"'
for k in "${mem_order[@]}"; do
  for id in ${ids_of[$k]}; do docker exec "$id" sh -c "$mem"; done \
    | awk -v k="$k" '{n[$1]++; r[$1, n[$1]] = $2; a[$1, n[$1]] = $3; t[$1] = $4}
      function med(arr, w, c,   i, j, x, v) { for (i = 1; i <= c; i++) v[i] = arr[w, i]
        for (i = 2; i <= c; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
        return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2 }
      END { split("pid1 jvm", w, " "); for (i = 1; i <= 2; i++) if (n[w[i]])
        printf "%-15s %10s %14s %8s\n", k (w[i] == "pid1" ? " PID 1" : " JVM"), med(r, w[i], n[w[i]]), med(a, w[i], n[w[i]]), t[w[i]] }'
done
echo
echo "== docker exec: idlewatch status next to true, $runs runs each, interleaved =="
declare -A ex
ws="$(first agent)"
for ((j = 0; j < runs; j++)); do
  t0=$(date +%s%N); docker exec "$ws" /opt/idlewatch/bin/idlewatch status >/dev/null; t1=$(date +%s%N)
  docker exec "$ws" true; t2=$(date +%s%N)
  ex[status]+="$(( (t1 - t0) / 1000000 )) "; ex[true]+="$(( (t2 - t1) / 1000000 )) "
done
for k in status true; do printf '%-15s %10s ms\n' "$k" "$(tr ' ' '\n' <<<"${ex[$k]}" | grep . | median)"; done
echo "(targets for the agent: Rss <= 40960 kB, Anonymous <= 16384 kB)"

echo
echo "== idle CPU over ${cpu_window} s (cgroup CPU usage of each whole container; median of $samples) =="
cg() { # cumulative ns of a container's cgroup, v1 or v2
  local id="$1"
  if [[ -f /sys/fs/cgroup/cpuacct/docker/$id/cpuacct.usage ]]; then cat "/sys/fs/cgroup/cpuacct/docker/$id/cpuacct.usage"
  elif [[ -f /sys/fs/cgroup/system.slice/docker-$id.scope/cpu.stat ]]; then awk '/^usage_usec/ {print $2 * 1000}' "/sys/fs/cgroup/system.slice/docker-$id.scope/cpu.stat"
  else echo 0; fi
}
cpu_kinds=(agent tini); [[ -z ${REF_IMAGE:-} ]] || cpu_kinds+=(reference)
declare -A c0
for k in "${cpu_kinds[@]}"; do for id in ${ids_of[$k]}; do c0[$id]=$(cg "$id"); done; done
s0=$(date +%s%N)
sleep "$cpu_window"
s1=$(date +%s%N)
printf '%-10s %14s\n' init "% of one core"
declare -A pct
for k in "${cpu_kinds[@]}"; do
  pct[$k]=$(for id in ${ids_of[$k]}; do awk -v d=$(( $(cg "$id") - ${c0[$id]} )) -v e=$(( s1 - s0 )) 'BEGIN {printf "%.4f\n", 100 * d / e}'; done | median)
  printf '%-10s %14.3f%s\n' "$k" "${pct[$k]}" "$([[ $k != reference ]] || echo "   ($REF_IMAGE)")"
done
awk -v p="${pct[agent]}" 'BEGIN {printf "agent extrapolated: %.1f CPU-seconds per idle hour (target <= 0.2 %% of a core = 7.2 s/h)\n", 36 * p}'
