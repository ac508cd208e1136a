#!/usr/bin/env bash
# Benchmarks `idlewatch sweep` against `docker container prune` on identical sets of exited,
# labelled containers, alternating which goes first, and times the cron case (nothing to remove).
# Prints medians side by side. Touches only containers carrying this run's own label.
#
#   sweeper/bench/sweep-vs-prune.sh [ROUNDS=3] [COUNT=200] [CRON_RUNS=11]
set -euo pipefail

rounds=${1:-3}
count=${2:-200}
cron_runs=${3:-11}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
idlewatch=$here/../bin/idlewatch
jar=$here/../target/idlewatch-sweeper.jar
image=localhost/idlewatch/debian:bookworm
run_id=bench-$$-$(date +%s)

[[ -f $jar ]] || { echo "build first: mvn -pl sweeper package" >&2; exit 2; }
docker image inspect "$image" >/dev/null 2>&1 || { echo "image $image missing (scripts/ build it)" >&2; exit 2; }

cleanup() { docker ps -aq --filter "label=io.idlewatch.bench=$run_id" | xargs -r docker rm -f >/dev/null 2>&1 || true; }
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# COUNT exited containers carrying the managed label and SET's own label, made 8 at a time.
make_set() {
  local set=$1
  seq "$count" | xargs -P 8 -I{} docker run --log-driver none \
    --label io.idlewatch.managed=true --label "io.idlewatch.bench=$run_id" --label "io.idlewatch.bench-set=$set" \
    "$image" true >/dev/null
  local made
  made=$(docker ps -aq --filter "label=io.idlewatch.bench-set=$set" --filter status=exited | wc -l)
  [[ $made -eq $count ]] || { echo "made $made of $count containers for $set" >&2; exit 1; }
}

left() { docker ps -aq --filter "label=io.idlewatch.bench-set=$1" | wc -l; }

time_sweep() {
  local set=$1 start end
  start=$(now)
  "$idlewatch" sweep --label "io.idlewatch.bench=$run_id" --label "io.idlewatch.bench-set=$set" >/dev/null
  end=$(now)
  [[ $(left "$set") -eq 0 ]] || { echo "sweep left containers of $set" >&2; exit 1; }
  elapsed "$start" "$end"
}

time_prune() {
  local set=$1 start end
  start=$(now)
  docker container prune --force --filter "label=io.idlewatch.bench=$run_id" --filter "label=io.idlewatch.bench-set=$set" >/dev/null
  end=$(now)
  [[ $(left "$set") -eq 0 ]] || { echo "prune left containers of $set" >&2; exit 1; }
  elapsed "$start" "$end"
}

# The engine's own floor for removal over the API: a bare DELETE per container, 8 at a time,
# with no list, no inspect and no checks (curl on the socket). No API client can beat this.
socket=${DOCKER_HOST:-unix:///var/run/docker.sock}
socket=${socket#unix://}
time_floor() {
  local set=$1 start end
  docker ps -aq --filter "label=io.idlewatch.bench-set=$set" >"/tmp/idlewatch-bench-$$.ids"
  start=$(now)
  xargs -P 8 -I{} curl -sf -o /dev/null --unix-socket "$socket" -X DELETE "http://docker/v1.41/containers/{}" \
    <"/tmp/idlewatch-bench-$$.ids"
  end=$(now)
  rm -f "/tmp/idlewatch-bench-$$.ids"
  [[ $(left "$set") -eq 0 ]] || { echo "the bare DELETEs left containers of $set" >&2; exit 1; }
  elapsed "$start" "$end"
}
floor_ok=false
[[ -S $socket ]] && command -v curl >/dev/null && floor_ok=true

sweeps=() prunes=() floors=()
for ((round = 1; round <= rounds; round++)); do
  make_set "r$round-a"
  make_set "r$round-b"
  order=(sweep prune)
  if $floor_ok; then
    make_set "r$round-c"
    order+=(floor)
  fi
  # Rotate who goes first: sweep, prune, floor; then prune, floor, sweep; ... (one set each)
  n=${#order[@]} shift_by=$(( (round - 1) % ${#order[@]} ))
  order=("${order[@]:shift_by}" "${order[@]:0:shift_by}")
  sets=(a b c) f=""
  for ((k = 0; k < n; k++)); do
    case ${order[k]} in
      sweep) s=$(time_sweep "r$round-${sets[k]}") ;;
      prune) p=$(time_prune "r$round-${sets[k]}") ;;
      floor) f=$(time_floor "r$round-${sets[k]}") ;;
    esac
  done
  sweeps+=("$s") prunes+=("$p")
  [[ -n $f ]] && floors+=("$f")
  printf 'round %d: sweep %ss  prune %ss  bare DELETEs %ss  (order: %s)\n' "$round" "$s" "$p" "${f:-n/a}" "${order[*]}"
done

# The cron case: nothing to remove (a label nothing carries, so other containers are never touched).
cron=() jvm=() nocds=()
for ((i = 0; i < cron_runs; i++)); do
  start=$(now); "$idlewatch" sweep --label "io.idlewatch.bench=$run_id-none" >/dev/null; end=$(now)
  cron+=("$(elapsed "$start" "$end")")
  start=$(now); "$idlewatch" --version >/dev/null; end=$(now)
  jvm+=("$(elapsed "$start" "$end")")
  start=$(now); IDLEWATCH_JAVA_OPTS=-Xshare:off "$idlewatch" sweep --label "io.idlewatch.bench=$run_id-none" >/dev/null; end=$(now)
  nocds+=("$(elapsed "$start" "$end")")
done
docker_calls=()
for ((i = 0; i < cron_runs; i++)); do
  start=$(now)
  curl_out=$(docker version --format '{{.Server.APIVersion}}' >/dev/null; docker ps -aq --filter label=io.idlewatch.managed=true \
    --filter "label=io.idlewatch.bench=$run_id-none" --filter status=exited --filter status=created --filter status=dead)
  end=$(now)
  docker_calls+=("$(elapsed "$start" "$end")")
done

ms=$(printf '%s\n' "${sweeps[@]}" | median)
mp=$(printf '%s\n' "${prunes[@]}" | median)
echo
printf '%-52s %10s %10s\n' "median over $rounds rounds, $count exited containers" "sweep" "prune"
printf '%-52s %9ss %9ss   ratio sweep/prune %s (target <= 0.8)\n' "remove all" "$ms" "$mp" "$(awk -v a="$ms" -v b="$mp" 'BEGIN { printf "%.2f", a / b }')"
if ((${#floors[@]})); then
  mf=$(printf '%s\n' "${floors[@]}" | median)
  printf '%-52s %9ss %9s   ratio floor/prune %s\n' "engine floor: bare DELETE x8 at a time, no checks" "$mf" "" "$(awk -v a="$mf" -v b="$mp" 'BEGIN { printf "%.2f", a / b }')"
fi
echo
printf '%-52s %10s\n' "cron case, nothing to remove (median of $cron_runs)" "seconds"
printf '%-52s %9ss   (target <= 0.5)\n' "idlewatch sweep (launcher, AppCDS)" "$(printf '%s\n' "${cron[@]}" | median)"
printf '%-52s %9ss\n' "idlewatch sweep without the CDS archive (-Xshare:off)" "$(printf '%s\n' "${nocds[@]}" | median)"
printf '%-52s %9ss\n' "idlewatch --version (JVM start + picocli, no Docker)" "$(printf '%s\n' "${jvm[@]}" | median)"
printf '%-52s %9ss\n' "docker CLI: version + filtered ps (same 2 calls)" "$(printf '%s\n' "${docker_calls[@]}" | median)"
