#!/usr/bin/env bash
# The http signal's cost and reach, on this engine.
#   cost  : the agent's Rss and Anonymous (smaps_rollup of its JVM, PID 1's companion child) and
#           its CPU per poll (utime+stime of its stat over a window, divided by the polls in it) with 0, 2,000 and 10,000
#           connections held open from another container to the watched port, side by side.
#           A reference agent image (REF_IMAGE, e.g. one built from the previous commit) runs
#           the same, in the same run, when given.
#   share : one-shot requests from the host through the published port (curl: the client
#           closes first, so nothing of it is left in the container between polls), each
#           three polls apart at a random phase, at poll intervals of 2 s and 5 s: how many
#           the http signal counted (its last_fired moved).
# Usage: bench/http.sh [cpu_window=60] [share_requests=20]
#   REF_IMAGE=localhost/idlewatch/agent:some-tag  also runs that agent's /opt/idlewatch (OURS=0: only it)
#   COST=0 skips the cost part
set -euo pipefail
cd "$(dirname "$0")/.."
window="${1:-60}" requests="${2:-20}"
img=localhost/idlewatch/test-workload:latest
socat_img=localhost/idlewatch/test-socat:latest
label=io.idlewatch.bench=http-$$

scripts/docker-engine
for i in "$img" "$socat_img"; do
  docker image inspect "$i" >/dev/null 2>&1 || { echo "bench: build the images first: images/build.sh" >&2; exit 1; }
done
cleanup() { docker ps -aq --filter "label=$label" | xargs -r docker rm -f >/dev/null; rm -rf "${ctx:-}"; }
trap cleanup EXIT

# the reference: the same test image with another agent's /opt/idlewatch
images=()
[[ ${OURS:-1} == 0 ]] || images+=("ours=$img")
if [[ -n ${REF_IMAGE:-} ]]; then
  ctx="$(mktemp -d)"
  printf 'FROM %s AS ref\nFROM %s\nCOPY --from=ref /opt/idlewatch /opt/idlewatch\n' "$REF_IMAGE" "$img" > "$ctx/Dockerfile"
  docker build -q -t localhost/idlewatch/bench-http-ref:latest "$ctx" >/dev/null
  images+=("reference=localhost/idlewatch/bench-http-ref:latest")
fi

# a server that accepts and holds every connection (perl-base is in every Debian image)
server='use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalPort => 4096, Listen => 4096, ReuseAddr => 1) or die "listen: $!"; my @held; while (my $c = $s->accept) { push @held, $c }'
client='use IO::Socket::INET; my ($ip, $n) = @ARGV; my @c; for (1 .. $n) { push @c, IO::Socket::INET->new(PeerAddr => $ip, PeerPort => 4096) or die "connect $_: $!" } print "open $n\n"; sleep'

agent() { # rss_kB anon_kB cpu_ticks of the agent's JVM (PID 1's companion child) in container $1
  docker exec "$1" sh -c 'for d in /proc/[0-9]*; do [ "$(readlink "$d/exe")" = /opt/idlewatch/runtime/bin/java ] && p=${d#/proc/}; done
    r=$(awk "/^Rss:/ {print \$2}" /proc/$p/smaps_rollup); a=$(awk "/^Anonymous:/ {print \$2}" /proc/$p/smaps_rollup)
    set -- $(cut -d")" -f2 /proc/$p/stat); echo "$r $a $(( ${12} + ${13} ))"'
}

if [[ ${COST:-1} == 0 ]]; then images=(); fi
echo "== cost: the agent with N connections held open on the watched port (poll 5s, ${window} s CPU window) =="
printf '%-10s %7s %10s %14s %14s\n' agent N "Rss kB" "Anonymous kB" "CPU ms/poll"
for entry in "${images[@]}"; do
  name="${entry%%=*}" image="${entry#*=}"
  for n in 0 2000 10000; do
    ws=$(docker run -d -l "$label" -e IDLEWATCH_TIMEOUT=1h "$image" perl -e "$server")
    ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$ws")
    sleep 2
    if (( n > 0 )); then
      cl=$(docker run -d -l "$label" --entrypoint perl "$img" -e "$client" "$ip" "$n")
      for _ in $(seq 120); do docker logs "$cl" 2>&1 | grep -q "^open" && break; sleep 1; done
    fi
    # let the agent see them all and settle (heap, code cache), then measure
    for _ in $(seq 60); do
      docker exec "$ws" cat /run/idlewatch/state.json 2>/dev/null | grep -q "\"detail\":\"http $n connection" && break; sleep 1
    done
    sleep 20
    read -r _ _ c0 < <(agent "$ws"); t0=$(date +%s%N)
    sleep "$window"
    read -r rss anon c1 < <(agent "$ws"); t1=$(date +%s%N)
    polls=$(awk -v e=$(( t1 - t0 )) 'BEGIN {printf "%.1f", e / 5e9}')
    printf '%-10s %7s %10s %14s %14s\n' "$name" "$n" "$rss" "$anon" \
      "$(awk -v c=$(( c1 - c0 )) -v p="$polls" 'BEGIN {printf "%.1f", c * 10 / p}')"
    docker rm -f "$ws" ${cl:-} >/dev/null; cl=
  done
done
echo "(targets: Rss <= 40960 kB, Anonymous <= 16384 kB; CPU per poll linear in N; the agent's other signals are in every row)"

(( requests > 0 )) || exit 0
echo
echo "== share of one-shot requests to the watched port counted ($requests each, three polls apart) =="
share() { # poll seconds -> "counted/total"
  local poll="$1" ws port counted=0 before after
  ws=$(docker run -d -l "$label" -p 127.0.0.1::4096 -e IDLEWATCH_TIMEOUT=1h -e IDLEWATCH_POLL_INTERVAL="${poll}s" \
    -e IDLEWATCH_SIGNALS=http "$socat_img" serve http-ok)
  port=$(docker port "$ws" 4096/tcp | head -1 | sed 's/.*://')
  for _ in $(seq 30); do curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 1; done
  sleep $(( 3 * poll ))
  last() { docker exec "$ws" cat /run/idlewatch/state.json | grep -o '"http":{"enabled":true,"last_fired":[^,]*'; }
  for ((i = 0; i < requests; i++)); do
    before=$(last)
    sleep "$(awk -v p="$poll" -v r=$RANDOM 'BEGIN {printf "%.2f", p * r / 32768}')"
    curl -fs "http://127.0.0.1:$port/" >/dev/null
    sleep $(( 3 * poll ))
    after=$(last)
    [[ $after != "$before" ]] && counted=$((counted + 1))
  done
  docker rm -f "$ws" >/dev/null
  echo "$counted/$requests"
}
out="$(mktemp -d)"
share 2 > "$out/2" & share 5 > "$out/5"; wait
printf '%-12s %s\n' "poll 2s" "$(cat "$out/2")" "poll 5s" "$(cat "$out/5")"
rm -rf "$out"
