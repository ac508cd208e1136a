#!/bin/bash
# /init of the bench/suspend.sh guest: the test-workload image's filesystem as the initramfs.
# Starts the agent (tty signal only, so nothing in the guest counts as activity), waits until its
# state file says sw_idle seconds of idle time, suspends the machine, and stamps wall, boot-time
# and monotonic clocks before and after, every 5 s while the agent runs, and when it exits; then
# powers off. Parameters from the kernel command line:
#   sw_mode=mem|freeze  what is written to /sys/power/state (mem: S3 here, /sys/power/mem_sleep deep)
#   sw_sleep=N          seconds asleep (wake=rtc: the RTC alarm; wake=button: the host's doing)
#   sw_idle=N           idle seconds the agent has counted when the suspend starts
#   sw_timeout=N        IDLEWATCH_TIMEOUT in seconds
#   sw_wake=rtc|button  rtc: rtcwake -m MODE -s SLEEP; button: the host presses the ACPI power
#                       button (QEMU's RTC alarm does not end s2idle)
# Lines starting with "SW " are this script's, read by bench/suspend.sh's summary.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /tmp
exec >/dev/console 2>&1 </dev/null

MODE=mem WAKE=rtc SLEEP=120 IDLE=30 TIMEOUT=60
read -ra cmdline < /proc/cmdline
for a in "${cmdline[@]}"; do
  case $a in
    sw_mode=*) MODE=${a#*=} ;;
    sw_sleep=*) SLEEP=${a#*=} ;;
    sw_idle=*) IDLE=${a#*=} ;;
    sw_timeout=*) TIMEOUT=${a#*=} ;;
    sw_wake=*) WAKE=${a#*=} ;;
  esac
done
echo 8 > /proc/sys/kernel/printk   # the kernel's PM: lines on the console

# CLOCK_MONOTONIC in seconds (/proc/timer_list's "now at" is ktime_get(), the same clock)
mono() { awk '/^now at/ {printf "%.3f", $3 / 1e9; exit}' /proc/timer_list; }
# wall = CLOCK_REALTIME, boot = CLOCK_BOOTTIME (/proc/uptime), mono = CLOCK_MONOTONIC
stamp() { echo "SW $(date -u +%H:%M:%S) wall=$(date +%s.%N | cut -c1-14) boot=$(awk '{print $1}' /proc/uptime) mono=$(mono) $*"; }
state_file() { for f in /run/idlewatch/state.json /tmp/idlewatch/state.json; do [ -e $f ] && echo $f && return; done; }

echo "SW kernel=$(uname -r) mode=$MODE sleep=$SLEEP idle=$IDLE timeout=$TIMEOUT wake=$WAKE"
echo "SW /sys/power/state: $(cat /sys/power/state); mem_sleep: $(cat /sys/power/mem_sleep)"
echo "SW clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
# with no cpuidle driver the kernel keeps timekeeping running through s2idle
echo "SW cpuidle driver: $(cat /sys/devices/system/cpu/cpuidle/current_driver 2>&1)"

stamp START_AGENT
IDLEWATCH_TIMEOUT=${TIMEOUT}s IDLEWATCH_POLL_INTERVAL=2s IDLEWATCH_SIGNALS=tty IDLEWATCH_WARN_BEFORE=0 \
  /opt/idlewatch/bin/idlewatch -- sleep 100000 &
agent=$!
# every 5 s while the agent runs: the clocks and its idle_ms
( while kill -0 $agent 2>/dev/null; do
    sf=$(state_file)
    idle=$([ -n "$sf" ] && grep -o '"idle_ms":[0-9]*' "$sf" | head -1)
    stamp "TICK $idle"
    sleep 5
  done ) &

sf="" ims=0
for _ in $(seq 1 1200); do
  sf=$(state_file)
  ims=$([ -n "$sf" ] && grep -o '"idle_ms":[0-9]*' "$sf" | head -1 | cut -d: -f2)
  [ -n "$ims" ] && [ "$ims" -ge $((IDLE * 1000)) ] && break
  sleep 1
done
stamp "IDLE_REACHED idle_ms=$ims"

stamp "SUSPEND_BEGIN mode=$MODE wake=$WAKE"
if [ "$WAKE" = button ]; then
  [ -e /button.ko ] && finit /button.ko && echo "SW button.ko loaded"
  rc=0; echo "$MODE" > /sys/power/state || rc=1   # the write fails when the suspend does
else
  rtcwake -m "$MODE" -s "$SLEEP"; rc=$?
fi
stamp "SUSPEND_END rc=$rc"
echo "SW state file right after the wake: $(cat "$sf")"

wait $agent; rc=$?
stamp "AGENT_EXIT rc=$rc"
echo "SW state file at the end: $(cat "$(state_file)")"
dmesg | grep -E 'PM: |Freezing|suspend' | sed 's/^/SW dmesg: /'
sleep 1
echo o > /proc/sysrq-trigger   # power off: QEMU exits
sleep 10
