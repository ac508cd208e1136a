#!/usr/bin/env bash
# Builds every image locally (no registry needed):
#   localhost/idlewatch/debian:bookworm   base, from Debian's packages, once (images/base/build.sh)
#   localhost/idlewatch/agent:latest      FROM scratch: /opt/idlewatch (launcher, jlinked runtime, agent)
#   localhost/idlewatch/workspace:latest  the example opencode workspace (images/workspace, opencode from npm)
#   localhost/idlewatch/test-*:latest     images the integration tests run
#   (every tag but the base's is $IDLEWATCH_IMAGE_TAG, default latest)
#   localhost/idlewatch/host:latest       FROM scratch: the host CLI (packaging/build.sh's tree + glibc);
#                                         not in 'all': the packaging module builds it after its tree
# Needs: a Docker engine (scripts/docker-engine), gcc, patchelf, a JDK 17 with jmods,
# and the agent built (mvn package); npm for the workspace's opencode.
# Usage: images/build.sh [agent|workspace|tests|all|host]...
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# The tag of every image built here but the base: `latest`, or another so that two checkouts
# can test side by side on one engine (the tests read the same variable).
tag="${IDLEWATCH_IMAGE_TAG:-latest}"
[[ $tag =~ ^[a-z0-9][a-z0-9._-]{0,63}$ ]] || { echo "images: IDLEWATCH_IMAGE_TAG=$tag is not a tag (e.g. latest)" >&2; exit 2; }
agent_arg=(--build-arg "AGENT=localhost/idlewatch/agent:$tag")
jdk="${IDLEWATCH_JDK:-${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}}"
out="$here/target"

say() { echo "images: $*" >&2; }
need() { "$root/scripts/need" images "$1" "$2" || exit 1; }

# One build at a time per checkout (Maven runs and scripts may overlap).
exec 9>"${TMPDIR:-/tmp}/idlewatch-images-$(echo "$root" | md5sum | cut -c1-8).lock"
flock 9

"$root/scripts/docker-engine"
"$here/base/build.sh"

# The OCI labels org.opencontainers.image.{version,revision,created}, as docker build arguments,
# from the jar's manifest: the same values `idlewatch --version` prints from it.
version_args() {
  local manifest; manifest="$(unzip -p "$1" META-INF/MANIFEST.MF | tr -d '\r')"
  entry() { awk -F': ' -v k="$1" '$1==k {print $2}' <<<"$manifest"; }
  local revision; revision="$(entry Build-Revision)"
  [[ -n $revision && $revision != '${'* ]] || revision=unknown
  [[ $(entry Build-Dirty) != true ]] || revision="$revision-dirty"
  echo --build-arg "VERSION=$(entry Implementation-Version)" --build-arg "REVISION=$revision" \
    --build-arg "CREATED=$(entry Build-Date)"
}

build_agent() {
  need gcc gcc
  need patchelf patchelf
  local jar="$root/agent/target/idlewatch-agent.jar" jna="$root/agent/target/lib/jna.jar"
  [[ -f $jar && -f $jna ]] || { say "agent not built: run 'mvn -B package -DskipTests' first"; exit 1; }
  [[ -d $jdk/jmods ]] || { say "$jdk has no jmods: set IDLEWATCH_JDK to a full JDK 17"; exit 1; }

  local ctx="$out/agent-context" opt
  opt="$ctx/opt/idlewatch"
  rm -rf "$ctx"; mkdir -p "$opt/bin" "$opt/lib"

  # A runtime with only the modules the agent uses (java.logging: JNA logs through it); glibc is
  # the one thing the workspace image must have (the same builder as the host packages').
  "$root/scripts/jlink-runtime" "$jdk" java.base,java.logging "$opt/runtime" --generate-cds-archive
  rm -rf "$opt/runtime/lib/server/classes_nocoops.jsa" "$opt/runtime/release.bak"

  cp "$jar" "$opt/lib/idlewatch-agent.jar"
  cp "$jna" "$opt/lib/jna.jar"
  unzip -q -o -j "$jna" 'com/sun/jna/linux-x86-64/libjnidispatch.so' -d "$opt/lib"
  # Static: PID 1 keeps under 1 MB of RSS (no shared libc pages mapped) and needs nothing from the image.
  gcc -static -Os -Wall -Wextra -Werror -o "$opt/bin/idlewatch" "$here/agent/launcher.c"
  strip "$opt/bin/idlewatch"
  chmod -R a+rX "$opt"

  cp "$here/agent/Dockerfile" "$ctx/Dockerfile"
  # shellcheck disable=SC2046 # version_args prints whole words
  docker build -q $(version_args "$jar") -t "localhost/idlewatch/agent:$tag" "$ctx" >/dev/null
  say "built localhost/idlewatch/agent:$tag ($(docker image inspect -f '{{.Size}}' "localhost/idlewatch/agent:$tag" | numfmt --to=iec))"
}

build_workspace() {
  local bin ctx="$out/workspace-context"
  bin="$("$here/opencode/fetch.sh")"
  rm -rf "$ctx"; mkdir -p "$ctx"
  # a hard link, not a 180 MB copy, when the target folder allows it
  ln "$bin" "$ctx/opencode" 2>/dev/null || cp "$bin" "$ctx/opencode"
  cp "$here/workspace/Dockerfile" "$ctx/Dockerfile"
  docker build -q "${agent_arg[@]}" -t "localhost/idlewatch/workspace:$tag" "$ctx" >/dev/null
  say "built localhost/idlewatch/workspace:$tag (opencode $("$bin" --version 2>/dev/null || echo '?'))"
}

build_tests() {
  for dir in "$here"/test/*/; do
    local name; name="$(basename "$dir")"
    # A test image may need files fetched first (e.g. opencode from npm): prepare.sh does that.
    if [[ -x "$dir/prepare.sh" ]]; then "$dir/prepare.sh"; fi
    docker build -q "${agent_arg[@]}" -t "localhost/idlewatch/test-$name:$tag" "$dir" >/dev/null
    say "built localhost/idlewatch/test-$name:$tag"
  done
}

build_host() {
  local tree; tree="$(ls -td "$root"/packaging/target/idlewatch-*/ 2>/dev/null | head -1)"; tree="${tree%/}"
  [[ -n $tree && -x $tree/bin/idlewatch ]] || { say "host CLI not packaged: run 'mvn -B package -pl packaging -am' first"; exit 1; }
  local ctx="$out/host-context"
  rm -rf "$ctx"; mkdir -p "$ctx/opt/idlewatch"
  # only what runs; man pages, completion and units are for hosts (cp -p: the archive checks the jar's time)
  cp -a "$tree/bin" "$tree/runtime" "$ctx/opt/idlewatch/"
  mkdir -p "$ctx/opt/idlewatch/lib"
  cp -p "$tree"/lib/idlewatch-sweeper.jar "$tree"/lib/idlewatch.jsa "$tree"/lib/libjnidispatch.so "$ctx/opt/idlewatch/lib/"
  cp "$here/host/Dockerfile" "$ctx/Dockerfile"
  # shellcheck disable=SC2046 # version_args prints whole words
  docker build -q $(version_args "$tree/lib/idlewatch-sweeper.jar") -t "localhost/idlewatch/host:$tag" "$ctx" >/dev/null
  say "built localhost/idlewatch/host:$tag ($(docker image inspect -f '{{.Size}}' "localhost/idlewatch/host:$tag" | numfmt --to=iec))"
}

for what in "${@:-all}"; do
  case "$what" in
    agent) build_agent ;;
    workspace) build_workspace ;;
    tests) build_tests ;;
    all) build_agent; build_workspace; build_tests ;;
    host) build_host ;;
    *) say "usage: images/build.sh [agent|workspace|tests|all|host]..."; exit 2 ;;
  esac
done
