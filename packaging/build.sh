#!/usr/bin/env bash
# Builds the host CLI's packages, none of which needs Java on the host (mvn package runs it, after
# the CLI jar is copied to target/ and the man pages and completion are generated into target/docs):
#   target/idlewatch-<version>/                      the tree both packages hold (and the host image)
#     bin/idlewatch                                  C launcher (no shell needed: the host image has none)
#     lib/idlewatch-sweeper.jar, lib/idlewatch.jsa   the CLI and its class-data archive for this runtime
#     lib/libjnidispatch.so                          JNA's library (docker-java's Unix socket), not unpacked per run
#     runtime/                                       jlinked: the modules jdeps finds, zlib/libstdc++ bundled
#     share/man/man1, share/bash-completion, share/zsh, lib/systemd/system
#   target/dist/idlewatch-<version>-linux-x86_64.tar.gz   works unpacked anywhere
#   target/dist/idlewatch_<debian version>_amd64.deb      /usr/lib/idlewatch, /usr/bin/idlewatch, units disabled
# Needs: a JDK 17 with jmods, gcc, patchelf, dpkg-deb (installed with apt-get when root on Debian).
# Usage: packaging/build.sh VERSION
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
version="${1:?usage: packaging/build.sh VERSION}"
jdk="${IDLEWATCH_JDK:-${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}}"
target="$here/target"
jar="$target/idlewatch-sweeper.jar"
docs="$target/docs"
tree="$target/idlewatch-$version"
dist="$target/dist"
# Debian orders 0.1.0~SNAPSHOT before 0.1.0 (a '-' would start a Debian revision instead).
deb_version="${version//-/\~}"
maintainer="${IDLEWATCH_MAINTAINER:-idlewatch maintainers <idlewatch@localhost>}"

# jdeps lists what the jar's classes reference. Two of those modules serve code paths the CLI never
# runs, and java.desktop would bring AWT's native libraries and their system dependencies (X11,
# freetype, ...) into the package: java.desktop (java.beans in commons-lang3's circuit breaker,
# commons-compress' Pack200, JNA's AWT helpers; Jackson checks for it and does without) and
# java.compiler (javax.lang.model in Error Prone's annotations). packaging/test.sh runs every
# command on the result, through the engine.
DROPPED_MODULES="java.desktop java.compiler"
# ServiceLoader providers jdeps cannot see: elliptic-curve TLS for tcp:// engines with DOCKER_TLS_VERIFY.
ADDED_MODULES="jdk.crypto.ec"

say() { echo "packaging: $*" >&2; }
need() { "$here/../scripts/need" packaging "$1" "$2" || exit 1; }

need gcc gcc
need patchelf patchelf
need dpkg-deb dpkg
need objdump binutils
[[ -f $jar ]] || { say "$jar missing: run 'mvn -B package' (it copies the CLI jar here first)"; exit 1; }
[[ -f $docs/completion/idlewatch.bash && -f $docs/man/idlewatch.1 ]] \
  || { say "$docs incomplete: run 'mvn -B package' (it generates man pages and completion first)"; exit 1; }
[[ -d $jdk/jmods ]] || { say "$jdk has no jmods: set IDLEWATCH_JDK to a full JDK 17"; exit 1; }

rm -rf "$tree" "$dist"
mkdir -p "$tree/bin" "$tree/lib" "$dist"

# 1. The runtime: jdeps' modules, less the dropped, plus the added.
modules="$("$jdk/bin/jdeps" --multi-release 17 --ignore-missing-deps --print-module-deps "$jar")"
for m in $DROPPED_MODULES; do modules="$(tr ',' '\n' <<<"$modules" | grep -vx "$m" | paste -sd,)"; done
for m in $ADDED_MODULES; do modules="$modules,$m"; done
say "runtime modules: $modules"
# No CDS archive of the JDK's own classes: lib/idlewatch.jsa below holds the JDK classes the CLI loads.
# Glibc is the one thing the host needs (and the host image can be FROM scratch): the same builder
# as the agent image's.
"$here/../scripts/jlink-runtime" "$jdk" "$modules" "$tree/runtime"
rm -rf "$tree/runtime/bin/keytool" "$tree/runtime/lib/server/classes"*.jsa

# 2. The CLI, JNA's library, the launcher.
cp "$jar" "$tree/lib/idlewatch-sweeper.jar"
unzip -q -o -j "$jar" 'com/sun/jna/linux-x86-64/libjnidispatch.so' -d "$tree/lib"
# The same program as the workspace image's PID 1: beside idlewatch-sweeper.jar it launches the CLI.
# Static, as there: the launcher itself needs nothing of the host's C library.
gcc -static -Os -Wall -Wextra -Werror -o "$tree/bin/idlewatch" "$here/../images/agent/launcher.c"
strip "$tree/bin/idlewatch"

# 3. The class-data archive, for this runtime and this jar: the classes a sweep, a listing and the
# help load (no engine is needed: without one they still load most of them and exit 3).
lists="$target/cds"; rm -rf "$lists"; mkdir -p "$lists"
train() {
  IDLEWATCH_JAVA_OPTS="-Xshare:off -XX:DumpLoadedClassList=$lists/$1.lst" "$tree/bin/idlewatch" "${@:2}" \
    >/dev/null 2>&1 || true
}
train help --help
train version --version
train sweep sweep --dry-run --label io.idlewatch.cds-training=none
train sweepjson sweep --dry-run --json --label io.idlewatch.cds-training=none
train ps ps --all --label io.idlewatch.cds-training=none
cat "$lists"/*.lst | grep -v '^#' | sort -u > "$lists/all.lst"
# Dumped through the launcher: the archive records the class path the launcher gives (the jar via a
# fixed descriptor, the same wherever the tree is), and the size and time of the jar behind it.
IDLEWATCH_JAVA_OPTS="-Xshare:dump -XX:SharedClassListFile=$lists/all.lst -XX:SharedArchiveFile=$tree/lib/idlewatch.jsa" \
  "$tree/bin/idlewatch" >"$lists/dump.log" 2>&1 || { cat "$lists/dump.log" >&2; exit 1; }
# A tree whose archive does not map would only be slow: refuse it here rather than ship it.
IDLEWATCH_JAVA_OPTS="-Xshare:on" "$tree/bin/idlewatch" --version >/dev/null \
  || { say "the class-data archive does not map: $tree/lib/idlewatch.jsa"; exit 1; }

# 4. Man pages, completion, units.
mkdir -p "$tree/share/man/man1" "$tree/share/bash-completion/completions" "$tree/share/zsh/vendor-completions" \
  "$tree/lib/systemd/system"
for page in "$docs"/man/*.1; do gzip -9n <"$page" >"$tree/share/man/man1/$(basename "$page").gz"; done
cp "$docs/completion/idlewatch.bash" "$tree/share/bash-completion/completions/idlewatch"
{
  echo '#compdef idlewatch'
  echo '# picocli'"'"'s bash completion for idlewatch, run by zsh'"'"'s bashcompinit (the script sets that up).'
  cat "$docs/completion/idlewatch.bash"
  echo '# compinit autoloaded this file for a first completion: the script above bound idlewatch to'
  echo '# the bash function for the next ones; answer this one through it too.'
  echo '_bash_complete -F _complete_idlewatch -o default "$@"'
} >"$tree/share/zsh/vendor-completions/_idlewatch"
cp "$here"/systemd/*.service "$here"/systemd/*.timer "$tree/lib/systemd/system/"
chmod -R u+rwX,go+rX,go-w "$tree"

# 5. The tarball (file times kept: the archive checks the jar's).
tar -C "$target" --owner=0 --group=0 --numeric-owner --sort=name \
  -czf "$dist/idlewatch-$version-linux-x86_64.tar.gz" "idlewatch-$version"

# 6. The .deb: the same tree under /usr/lib/idlewatch, the rest where Debian looks for it.
root="$target/deb"; rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/usr/lib/idlewatch" "$root/usr/bin" "$root/usr/share/doc/idlewatch" "$root/lib"
cp -a "$tree/bin" "$tree/runtime" "$root/usr/lib/idlewatch/"
mkdir -p "$root/usr/lib/idlewatch/lib"
cp -a "$tree/lib/idlewatch-sweeper.jar" "$tree/lib/idlewatch.jsa" "$tree/lib/libjnidispatch.so" "$root/usr/lib/idlewatch/lib/"
cp -a "$tree/share" "$root/usr/"
cp -a "$tree/lib/systemd" "$root/lib/"
ln -s ../lib/idlewatch/bin/idlewatch "$root/usr/bin/idlewatch"
cat >"$root/usr/share/doc/idlewatch/README" <<EOF
idlewatch $version: the host CLI. 'man idlewatch'; systemd units (disabled):
idlewatch-watch.service, or idlewatch-sweep.timer with idlewatch-sweep.service.
EOF
# The oldest glibc every bundled binary accepts (the newest symbol version any of them asks for);
# the launcher is static and asks for none (objdump -T refuses it, hence the || true).
glibc="$({ find "$root/usr/lib/idlewatch" -type f \( -name '*.so*' -o -perm -u+x \) -exec objdump -T {} + 2>/dev/null \
  || true; } | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)"
cat >"$root/DEBIAN/control" <<EOF
Package: idlewatch
Version: $deb_version
Architecture: amd64
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: libc6 (>= $glibc)
Recommends: man-db, bash-completion
Suggests: docker.io | podman-docker
Section: admin
Priority: optional
Description: removes forgotten dev-workspace containers (host CLI)
 idlewatch sweep removes the exited workspace containers the idlewatch agent
 leaves behind; idlewatch ps shows every workspace's idle state; idlewatch
 watch does the sweeping as a service. Brings its own Java runtime.
 The systemd units idlewatch-watch.service and idlewatch-sweep.timer are
 installed disabled.
EOF
# The units are installed, never enabled: systemd only needs to read them.
for script in postinst postrm; do
  printf '#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n' >"$root/DEBIAN/$script"
  chmod 755 "$root/DEBIAN/$script"
done
dpkg-deb --root-owner-group -Zxz --build "$root" "$dist/idlewatch_${deb_version}_amd64.deb" >/dev/null

for f in "$dist"/*; do say "built ${f#"$here/"} ($(du -h "$f" | cut -f1))"; done
