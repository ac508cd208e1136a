#!/usr/bin/env bash
# Tests the host packages and the images' versions from the outside, on the real engine:
#   1. the .deb in a fresh container of the project's Debian base (no JDK): apt-get install ./*.deb,
#      --help, --version, man, bash completion of "idlewatch sw<TAB>", the units (installed, not
#      enabled), sweep --dry-run through the mounted socket;
#   2. the tarball unpacked in an odd directory of another fresh container: the same, and its
#      class-data archive maps from there;
#   3. the host image: sweep --dry-run, and watch (removes a workspace of ours as it exits, stops on
#      SIGTERM with exit 0), through the mounted socket;
#   4. the agent image's labels and `idlewatch --version` inside a running workspace agree with the
#      agent jar's manifest.
# Every sweep selects a label only this run's containers carry. Needs: mvn -B package (packaging/target/dist),
# images/build.sh all and host.
# Usage: packaging/test.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dist="$root/packaging/target/dist"
run="pkgtest-$$-$(date +%s)"
label="io.idlewatch.pkgtest=$run"
sock=/var/run/docker.sock
base=localhost/idlewatch/debian:bookworm
# Watch sweeps a dead workspace within its grace period plus a sweep; far above that means broken.
WATCH_REMOVES_WITHIN_S=60

say() { echo "pkgtest: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
cleanup() {
  docker ps -aq --filter "label=$label" | xargs -r docker rm -f >/dev/null 2>&1 || true
}
trap cleanup EXIT

deb="$(ls "$dist"/idlewatch_*_amd64.deb 2>/dev/null | head -1)"
tarball="$(ls "$dist"/idlewatch-*-linux-x86_64.tar.gz 2>/dev/null | head -1)"
[[ -f $deb && -f $tarball ]] || fail "no packages in $dist: run 'mvn -B package' first"
version="$(basename "$tarball" | sed 's/^idlewatch-//; s/-linux-x86_64.tar.gz$//')"

# A dead workspace of ours for the sweeps to find (and for nothing else to touch).
docker run --name "$run-dead" --label io.idlewatch.managed=true --label "$label" "$base" true >/dev/null
dead_line="^removed +[0-9a-f]{12} +$run-dead .*\(dry run\)$"

# inside CONTAINER: run the bash script given on stdin
inside() { docker exec -i "$1" bash -euo pipefail ${PKGTEST_TRACE:+-x}; }  # PKGTEST_TRACE=1: show each step
fresh() {  # NAME: a fresh base container with the socket and the packages mounted
  docker run -d --name "$1" --label "$label" -v "$sock:$sock" -v "$dist:/dist:ro" --entrypoint sleep "$base" infinity >/dev/null
}

say "1. the .deb, installed with apt-get in a fresh $base"
fresh "$run-deb"
inside "$run-deb" <<EOF || fail ".deb install"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
cd /dist
# as a user would; its Recommends bring man-db and bash-completion
apt-get install -y -qq ./idlewatch_*.deb >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
EOF
inside "$run-deb" <<EOF || fail ".deb checks"
# no Java anywhere but the package's own runtime
! command -v java
! dpkg -l | grep -Ei '^ii +(openjdk|default-j)'
[[ \$(readlink -f /usr/bin/idlewatch) == /usr/lib/idlewatch/bin/idlewatch ]]

# outputs into variables first: a grep -q that stops reading early must not fail the writer
help=\$(idlewatch --help); grep -q '^Usage: idlewatch' <<<"\$help"
v=\$(idlewatch --version); echo "\$v" >&2
grep -qx 'idlewatch $version' <<<"\$v"
grep -Eq '^build: ([0-9a-f]{12}|unknown)' <<<"\$v"

page=\$(man -P cat idlewatch 2>/dev/null); grep -q 'idlewatch - ' <<<"\$page"
page=\$(man -P cat idlewatch-sweep 2>/dev/null); grep -q -- '--older-than' <<<"\$page"

# completion of "idlewatch sw<TAB>": the file bash-completion loads on demand for the command
# (completion scripts are written for interactive shells, not for set -eu)
set +eu
source /usr/share/bash-completion/bash_completion
_completion_loader idlewatch
COMP_WORDS=(idlewatch sw); COMP_CWORD=1; COMP_LINE='idlewatch sw'; COMP_POINT=\${#COMP_LINE}
\$(complete -p idlewatch | sed 's/.*-F \([^ ]*\) .*/\1/') idlewatch sw idlewatch 2>/dev/null
set -eu
[[ "\${COMPREPLY[*]}" == sweep ]] || { echo "completion: '\${COMPREPLY[*]}'" >&2; exit 1; }
[[ -f /usr/share/zsh/vendor-completions/_idlewatch ]]

# units installed, none enabled (no systemd runs here: the files, and no enablement links)
for unit in idlewatch-watch.service idlewatch-sweep.service idlewatch-sweep.timer; do
  [[ -f /lib/systemd/system/\$unit ]]
  ! ls /etc/systemd/system/*/\$unit 2>/dev/null
done
grep -qx 'ExecStart=/usr/bin/idlewatch watch --interval 5m' /lib/systemd/system/idlewatch-watch.service

out=\$(idlewatch sweep --dry-run --host unix://$sock --label '$label')
echo "\$out" >&2
grep -Eq '$dead_line' <<<"\$out"
ps=\$(idlewatch ps --all --label '$label'); grep -q '$run-dead' <<<"\$ps"
EOF
docker inspect "$run-dead" >/dev/null 2>&1 || fail "a dry run removed $run-dead"

say "2. the tarball, unpacked in an odd directory of a fresh $base"
fresh "$run-tar"
inside "$run-tar" <<EOF || fail "tarball checks"
mkdir -p "/srv/odd place"
tar -xzf /dist/$(basename "$tarball") -C "/srv/odd place"
cd /
bin="/srv/odd place/idlewatch-$version/bin/idlewatch"
! command -v java
help=\$("\$bin" --help); grep -q '^Usage: idlewatch' <<<"\$help"
v=\$("\$bin" --version); grep -qx 'idlewatch $version' <<<"\$v"
# the class-data archive made at build time maps here too (-Xshare:on fails when it does not)
IDLEWATCH_JAVA_OPTS=-Xshare:on "\$bin" --version >/dev/null
page=\$(zcat "/srv/odd place/idlewatch-$version/share/man/man1/idlewatch.1.gz"); grep -q '^\.TH "IDLEWATCH"' <<<"\$page"
set +eu
source "/srv/odd place/idlewatch-$version/share/bash-completion/completions/idlewatch"
COMP_WORDS=(idlewatch sw); COMP_CWORD=1; COMP_LINE='idlewatch sw'; COMP_POINT=\${#COMP_LINE}
_complete_idlewatch idlewatch sw idlewatch 2>/dev/null
set -eu
[[ "\${COMPREPLY[*]}" == sweep ]]
out=\$("\$bin" sweep --dry-run --host unix://$sock --label '$label')
grep -Eq '$dead_line' <<<"\$out"
EOF

say "3. the host image"
host=localhost/idlewatch/host:latest
docker run --rm --label "$label" --entrypoint /bin/sh "$host" -c true >/dev/null 2>&1 && fail "$host has a shell"
out="$(docker run --rm --label "$label" -v "$sock:$sock" "$host" sweep --dry-run --label "$label")"
grep -Eq "$dead_line" <<<"$out" || fail "host image sweep --dry-run: $out"
docker inspect "$run-dead" >/dev/null 2>&1 || fail "a dry run removed $run-dead"
docker run -d --name "$run-watch" --label "$label" -v "$sock:$sock" "$host" watch --interval 1h --label "$label" >/dev/null
# The watcher removes a workspace of ours that dies while it runs (and the one already dead).
docker run --name "$run-dies" --label io.idlewatch.managed=true --label "$label" "$base" true >/dev/null
for ((i = 0; i < WATCH_REMOVES_WITHIN_S; i++)); do
  docker inspect "$run-dies" >/dev/null 2>&1 || break
  sleep 1
done
docker inspect "$run-dies" >/dev/null 2>&1 && fail "watch did not remove $run-dies in ${WATCH_REMOVES_WITHIN_S}s: $(docker logs "$run-watch" 2>&1 | tail -5)"
docker stop -t 30 "$run-watch" >/dev/null
code="$(docker inspect -f '{{.State.ExitCode}}' "$run-watch")"
[[ $code == 0 ]] || fail "watch exited $code on SIGTERM: $(docker logs "$run-watch" 2>&1 | tail -5)"
[[ $(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$host") == "$version" ]] \
  || fail "$host: no org.opencontainers.image.version=$version"

say "4. the agent image's version"
agent=localhost/idlewatch/agent:latest
jar="$root/agent/target/idlewatch-agent.jar"
manifest="$(unzip -p "$jar" META-INF/MANIFEST.MF | tr -d '\r')"
want_version="$(awk -F': ' '$1=="Implementation-Version" {print $2}' <<<"$manifest")"
want_revision="$(awk -F': ' '$1=="Build-Revision" {print $2}' <<<"$manifest")"
label_of() { docker image inspect -f "{{index .Config.Labels \"org.opencontainers.image.$1\"}}" "$agent"; }
[[ $(label_of version) == "$want_version" ]] || fail "$agent version label '$(label_of version)', jar says '$want_version'"
[[ $(label_of revision) == "$want_revision"* ]] || fail "$agent revision label '$(label_of revision)', jar says '$want_revision'"
docker run -d --name "$run-ws" --label "$label" localhost/idlewatch/test-workload:latest >/dev/null
out="$(docker exec "$run-ws" /opt/idlewatch/bin/idlewatch --version)"
head -1 <<<"$out" | grep -qx "idlewatch agent $want_version" || fail "--version in a workspace: $out"
grep -q "^build: ${want_revision:0:12}" <<<"$out" || fail "--version in a workspace: $out (want build ${want_revision:0:12})"

say "all passed (deb $(du -h "$deb" | cut -f1), tarball $(du -h "$tarball" | cut -f1), host image $(docker image inspect -f '{{.Size}}' "$host" | numfmt --to=iec))"
