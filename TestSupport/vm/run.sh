#!/usr/bin/env bash
# Boots the device-test VM (TestSupport/vm/setup.sh WORKDIR first), runs SCRIPT inside it and exits
# with the guest's verdict: 0 only when the console shows GUEST-RC=0.
# Usage: TestSupport/vm/run.sh SCRIPT [WORKDIR]   env: ACCEL (tcg), VM_MEMORY (MiB, 2048), VM_TIMEOUT (s, 900)
set -uo pipefail
SCRIPT=$1
W=$(cd "${2:-.build/vm}" && pwd)
mkdir -p "$W/out"
rm -f "$W/out/console.log"
ACCEL=${ACCEL:-tcg}
CPU=${VM_CPU:-max}; [ "$ACCEL" = kvm ] && CPU=host
start=$(date +%s)
timeout "${VM_TIMEOUT:-900}" qemu-system-x86_64 -accel "$ACCEL" -cpu "$CPU" -smp 2 -m "${VM_MEMORY:-2048}" \
  -nographic -no-reboot -kernel "$W/vmlinuz" -initrd "$W/initramfs.gz" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$W/out",mount_tag=outdir,security_model=none \
  -append "console=ttyS0 quiet panic=-1 gtest=$SCRIPT" </dev/null 2>&1 | tee "$W/out/console.log"
echo "run.sh: VM ran $(( $(date +%s) - start )) s"
rc=$(tr -d '\r' < "$W/out/console.log" | sed -n 's/^GUEST-RC=\([0-9]*\)$/\1/p' | tail -1)
[ "$rc" = 0 ] && exit 0
echo "run.sh: guest verdict ${rc:-missing (no GUEST-RC line)}" >&2
exit 1
