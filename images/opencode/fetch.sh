#!/usr/bin/env bash
# Fetches the real opencode binary (linux x64, glibc) from npm's registry, pinned, once:
#   images/target/opencode/<version>/bin/opencode
# opencode ships one self-contained binary per platform as an npm package
# (opencode-linux-x64); `npm pack` downloads its tarball without installing anything.
# Prints the binary's path. Usage: images/opencode/fetch.sh
# Override the version with OPENCODE_VERSION (then also the image's label says so).
set -euo pipefail

version="${OPENCODE_VERSION:-1.18.34}"
here="$(cd "$(dirname "$0")" && pwd)"
dir="$(dirname "$here")/target/opencode/$version"
bin="$dir/bin/opencode"

say() { echo "opencode: $*" >&2; }

if [[ -x $bin ]]; then
  echo "$bin"; exit 0
fi
command -v npm >/dev/null 2>&1 || {
  say "npm is missing: install Node.js/npm (Debian: apt-get install npm), or put the opencode $version"
  say "linux-x64 binary at $bin yourself"; exit 1; }

tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
say "downloading opencode-linux-x64@$version from npm..."
(cd "$tmp" && npm pack --silent "opencode-linux-x64@$version" >/dev/null 2>"$tmp/err") || {
  cat "$tmp/err" >&2; say "npm pack opencode-linux-x64@$version failed (is the npm registry reachable?)"; exit 1; }
tar -xzf "$tmp"/opencode-linux-x64-*.tgz -C "$tmp" package/bin/opencode
mkdir -p "$dir/bin"
install -m 0755 "$tmp/package/bin/opencode" "$bin.part"
mv "$bin.part" "$bin"
say "fetched $bin ($(du -h "$bin" | cut -f1))"
echo "$bin"
