#!/usr/bin/env bash
# A real system suspend under the agent: what the sleep does to its idle clock.
# The filesystem of localhost/idlewatch/test-workload is booted as the initramfs of Debian's
# kernel (the package linux-image-amd64 depends on) under QEMU, with bench/suspend/init.sh as
# /init. The guest starts the agent (IDLEWATCH_TIMEOUT=TIMEOUT, a 2 s poll, the tty signal only),
# suspends the machine once the agent has counted IDLE seconds of idle time, and stamps the wall,
# boot-time and monotonic clocks before and after the sleep and when the agent exits.
#   mem    : rtcwake -m mem -s SLEEP (S3 where /sys/power/mem_sleep is deep); the RTC alarm wakes it
#   freeze : s2idle, `echo freeze > /sys/power/state`; QEMU's RTC alarm does not end s2idle, so
#            this script presses the ACPI power button over QMP SLEEP s after "PM: suspend entry"
# Each run ends with a summary: the clocks' jumps over the sleep, whether the agent saw a freeze,
# when it stopped the workload relative to the wake, and its log lines. Under TCG a run takes the
# boot and IDLE (about 40 s) plus the sleep plus up to the timeout; `all` about 20 minutes.
# Usage: bench/suspend.sh [all | mem|freeze [sleep_s=120] ...]   e.g. bench/suspend.sh mem 300 freeze 60
#   all: mem 120, mem 300, freeze 120, freeze 300 (the default)
#   IDLE=30 TIMEOUT=60  idle seconds before the suspend, the agent's timeout
#   ACCEL=tcg           QEMU's accelerator; ACCEL=kvm where nested KVM works
#   IDLEWATCH_IMAGE_TAG picks the image (default latest). Work files go to bench/out/suspend/.
#   Needs Debian's apt (the kernel package; qemu-system-x86 and cpio are installed as root when
#   missing), gcc with a static libc, python3 (QMP) and a Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."
src="$PWD/bench/suspend"
out="$PWD/bench/out/suspend"
idle="${IDLE:-30}" timeout="${TIMEOUT:-60}" accel="${ACCEL:-tcg}"
tag="${IDLEWATCH_IMAGE_TAG:-latest}"
img="localhost/idlewatch/test-workload:$tag"

runs=()
[[ $# -gt 0 && $1 != all ]] || set -- mem 120 mem 300 freeze 120 freeze 300
while [[ $# -gt 0 ]]; do
  case $1 in
    mem | freeze) ;;
    *) echo "usage: bench/suspend.sh [all | mem|freeze [sleep_s] ...]" >&2; exit 2 ;;
  esac
  if [[ ${2:-} =~ ^[0-9]+$ ]]; then runs+=("$1:$2"); shift 2; else runs+=("$1:120"); shift; fi
done

scripts/docker-engine
docker image inspect "$img" >/dev/null 2>&1 || { echo "bench: build the images first: images/build.sh all" >&2; exit 1; }
for tool in qemu-system-x86_64:qemu-system-x86 cpio:cpio; do
  command -v "${tool%%:*}" >/dev/null && continue
  [[ $(id -u) -eq 0 ]] || { echo "bench: needs ${tool%%:*} (Debian's ${tool#*:})" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tool#*:}" >/dev/null
done
for tool in gcc python3; do
  command -v "$tool" >/dev/null || { echo "bench: needs $tool" >&2; exit 1; }
done
mkdir -p "$out"
cd "$out"

# The kernel: Debian's current one, unpacked once. rtc_cmos must be built in (the guest has no
# module loader but finit, and the RTC is the wake-up source for mem).
kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
[[ -n $kpkg ]] || { echo "bench: apt knows no linux-image-amd64 (a Debian host with apt-get update done)" >&2; exit 1; }
if [[ ! -d kernel/$kpkg ]]; then
  rm -f linux-image-*.deb
  apt-get download "$kpkg"
  rm -rf kernel && mkdir -p "kernel/$kpkg"
  dpkg-deb -x "$kpkg"_*.deb "kernel/$kpkg"
fi
kernel=$(ls "kernel/$kpkg"/boot/vmlinuz-*)
grep -q '^CONFIG_RTC_DRV_CMOS=y' "kernel/$kpkg"/boot/config-* || { echo "bench: $kpkg has no built-in rtc_cmos" >&2; exit 1; }

# The guest's filesystem: the image exported afresh whenever its ID changes.
id=$(docker image inspect -f '{{.Id}}' "$img")
if [[ ! -f rootfs.tar || $(cat rootfs.id 2>/dev/null) != "$id" ]]; then
  echo "bench: exporting $img"
  c=$(docker create "$img")
  docker export -o rootfs.tar "$c" || { docker rm "$c" >/dev/null; exit 1; }
  docker rm "$c" >/dev/null
  echo "$id" > rootfs.id
fi

# The initramfs: the rootfs, init.sh as /init, the static finit and the ACPI button driver
# (a module in Debian's kernel; xz-compressed in newer ones). Rebuilt when an input is newer.
gcc -static -O2 -o finit "$src/finit.c"
if [[ ! -f initrd.gz || rootfs.tar -nt initrd.gz || $src/init.sh -nt initrd.gz || finit -nt initrd.gz ]]; then
  rm -rf rootfs && mkdir rootfs
  tar -xf rootfs.tar -C rootfs --exclude='dev/*'
  mkdir -p rootfs/{proc,sys,dev,run,tmp} rootfs/usr/local/sbin
  [[ -x rootfs/usr/sbin/rtcwake ]] || cp /usr/sbin/rtcwake rootfs/usr/sbin/
  install -m 755 "$src/init.sh" rootfs/init
  install -m 755 finit rootfs/usr/local/sbin/finit
  button=$(find "kernel/$kpkg/lib/modules" -path '*/drivers/acpi/button.ko*' | head -1)
  case $button in
    *.ko) cp "$button" rootfs/button.ko ;;
    *.ko.xz) xz -dc "$button" > rootfs/button.ko ;;
    *.ko.zst) zstd -qdc "$button" > rootfs/button.ko ;;
    "") grep -q '^CONFIG_ACPI_BUTTON=y' "kernel/$kpkg"/boot/config-* \
          || { echo "bench: $kpkg has no ACPI button driver" >&2; exit 1; } ;;
  esac
  owner=(); [[ $(id -u) -eq 0 ]] || owner=(-R 0:0)   # as root tar kept the image's owners
  (cd rootfs && find . | cpio -o -H newc --quiet "${owner[@]}" | gzip -1) > initrd.gz
  rm -rf rootfs
fi

# press_button LOG SLEEP QMP: SLEEP s after the guest logs "PM: suspend entry", the ACPI power button
press_button() {
  local n=0
  until grep -aq 'PM: suspend entry' "$1" 2>/dev/null; do
    sleep 0.5; n=$((n + 1)); ((n < 2400)) || return 0
  done
  echo "host: suspend entry seen at $(date -u +%T), power button in ${2}s"
  sleep "$2"
  echo "host: power button at $(date -u +%T)"
  python3 - "$3" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
f.readline(); f.write('{"execute":"qmp_capabilities"}\n'); f.flush(); f.readline()
f.write('{"execute":"system_powerdown"}\n'); f.flush(); print("host: qmp", f.readline().strip())
PY
}

# summary LOG: the clocks over the sleep, the agent's stop relative to the wake, its log lines
summary() {
  tr -d '\r' < "$1" | awk '
    function at(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2) }
    / SUSPEND_BEGIN( |$)/ { w0 = at("wall"); b0 = at("boot"); m0 = at("mono") }
    / SUSPEND_END( |$)/   { w1 = at("wall"); b1 = at("boot"); m1 = at("mono") }
    / TICK "idle_ms"/ && w1 != "" && tick == "" { tick = $NF " at wake+" sprintf("%.1f", at("wall") - w1) " s" }
    / AGENT_EXIT( |$)/    { w2 = at("wall") }
    /^idlewatch: resumed after .* frozen/ { frozen = 1 }
    END {
      if (w1 == "") { print "  no wake recorded"; exit }
      printf "  suspend: wall=%s boot=%s mono=%s\n", w0, b0, m0
      printf "  wake:    wall=%s boot=%s mono=%s\n", w1, b1, m1
      printf "  jumps:   wall %+.1f s, boottime %+.1f s, monotonic %+.2f s\n", w1 - w0, b1 - b0, m1 - m0
      printf "  after the wake: %s; freeze logged: %s\n", tick, frozen ? "yes" : "no"
      if (w2 != "") printf "  agent exited %.1f s after the wake\n", w2 - w1; else print "  agent exit not recorded"
    }'
  grep -a '^idlewatch' "$1" | tr -d '\r' | sed 's/^/  /' || true
}

for run in "${runs[@]}"; do
  mode=${run%%:*} sleep_s=${run#*:}
  wake=rtc; [[ $mode == mem ]] || wake=button
  log="$out/console-$mode-$sleep_s.log" qmp="$out/qmp.$$.sock"
  echo "== $mode, ${sleep_s}s asleep (wake=$wake, accel=$accel, $kernel, idle ${idle}s of ${timeout}s)"
  rm -f "$log" "$qmp"
  presser=""
  if [[ $wake == button ]]; then press_button "$log" "$sleep_s" "$qmp" & presser=$!; fi
  # a hung guest (no wake) is given up after everything should have happened plus ten minutes
  timeout $((idle + sleep_s + timeout + 600)) nice -n 19 qemu-system-x86_64 \
    -accel "$accel" -m 2048 -smp 2 -nographic -no-reboot -display none -monitor none \
    -global PIIX4_PM.disable_s3=0 -rtc base=utc,clock=host \
    -kernel "$kernel" -initrd initrd.gz \
    -append "console=ttyS0 rdinit=/init quiet no_timer_check no_console_suspend sw_mode=$mode sw_sleep=$sleep_s sw_idle=$idle sw_timeout=$timeout sw_wake=$wake" \
    -serial "file:$log" -qmp "unix:$qmp,server=on,wait=off" </dev/null || echo "bench: qemu exited with $?" >&2
  [[ -z $presser ]] || { kill "$presser" 2>/dev/null || true; wait "$presser" 2>/dev/null || true; }
  rm -f "$qmp"
  grep -aE '^SW .*(IDLE_REACHED|SUSPEND|AGENT_EXIT)|PM: (suspend|Waking)' "$log" | tr -d '\r' | sed 's/^/  /' || true
done

for run in "${runs[@]}"; do
  echo "== summary: ${run%%:*}, ${run#*:}s asleep (bench/out/suspend/console-${run%%:*}-${run#*:}.log)"
  summary "$out/console-${run%%:*}-${run#*:}.log"
done
