#!/usr/bin/env bash
# Builds localhost/idlewatch/debian:bookworm from Debian's packages, once.
# debootstrap --variant=minbase into a temporary folder, then `docker import`.
# Rebuilt only when missing (or with --force).
set -euo pipefail

image="localhost/idlewatch/debian:bookworm"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [[ "${1:-}" != "--force" ]] && docker image inspect "$image" >/dev/null 2>&1; then
  exit 0
fi

say() { echo "base-image: $*" >&2; }

if ! command -v debootstrap >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && [[ -f /etc/debian_version ]]; then
    say "installing debootstrap (apt-get)..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
      || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  else
    say "$image is missing and building it needs debootstrap as root on Debian."
    say "run this script as root, or build any glibc image and tag it $image."
    exit 1
  fi
fi
if [[ $(id -u) -ne 0 ]]; then
  say "debootstrap needs root; run this script as root, or tag any glibc image as $image."
  exit 1
fi

root="$(mktemp -d /tmp/idlewatch-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
say "debootstrap --variant=minbase bookworm from $mirror (about 30 s)..."
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 \
  || { tail -n 20 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# Smaller image: no apt lists, no docs; apt still works after `apt-get update`.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["bash"]' - "$image" >/dev/null
say "built $image ($(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec))"
