#!/usr/bin/env bash
# Prepares the QEMU device-test VM (docs/hardware.md, "Hardware tests"): Debian's own kernel unpacked
# (not installed), gpio-sim and v4l2loopback built out of tree against its headers, and a busybox
# initramfs whose init script chroots into the host's / (shared read-only over 9p).
# Non-interactive and idempotent: every step is skipped when its output exists.
# Usage: TestSupport/vm/setup.sh [WORKDIR]   (default .build/vm)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:-.build/vm}
mkdir -p "$W" && W=$(cd "$W" && pwd)
cd "$W"

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
APT=(-o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends)

# The kernel linux-image-amd64 points at today, e.g. linux-image-6.1.0-56-amd64.
KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
if [ -z "$KPKG" ]; then $SUDO apt-get update -qq; KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}'); fi
KVER=${KPKG#linux-image-}
echo "setup: kernel $KVER in $W"

host_packages=(qemu-system-x86 kmod cpio xz-utils make gcc linux-headers-$KVER v4l-utils gpiod libturbojpeg0-dev)
missing=()
for p in "${host_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: apt-get install ${missing[*]}"
  $SUDO apt-get install "${APT[@]}" "${missing[@]}" >/dev/null || { $SUDO apt-get update -qq; $SUDO apt-get install "${APT[@]}" "${missing[@]}" >/dev/null; }
fi

# Debian packages unpacked here, never installed on the host.
ls ${KPKG}_*.deb >/dev/null 2>&1 || apt-get download "$KPKG" 2>/dev/null
ls busybox-static_*.deb >/dev/null 2>&1 || apt-get download busybox-static 2>/dev/null
ls v4l2loopback-dkms_*.deb >/dev/null 2>&1 || apt-get download v4l2loopback-dkms 2>/dev/null
KDEBVER=$(dpkg-deb -f ${KPKG}_*.deb Version)
ls linux-source-6.1_*.deb >/dev/null 2>&1 || apt-get download "linux-source-6.1=$KDEBVER" 2>/dev/null

[ -d kernel/lib/modules/$KVER ] || { rm -rf kernel; dpkg -x ${KPKG}_*.deb kernel; depmod -b "$W/kernel" "$KVER"; }
[ -x bb/bin/busybox ] || dpkg -x busybox-static_*.deb bb
[ -d v4l2lb ] || dpkg -x v4l2loopback-dkms_*.deb v4l2lb

# gpio-sim: Debian 6.1 builds neither GPIO_SIM nor IRQ_SIM. Three files of the matching linux-source,
# one line patched because irq_to_desc is not exported to modules.
if [ ! -f gpiosim/gpiosim.ko ]; then
  if [ ! -f src/drivers/gpio/gpio-sim.c ]; then
    rm -rf src-deb && dpkg -x linux-source-6.1_*.deb src-deb && mkdir -p src
    tar -xf src-deb/usr/src/linux-source-6.1.tar.xz -C src --strip-components=1 --wildcards \
      '*/drivers/gpio/gpio-sim.c' '*/drivers/gpio/gpiolib.h' '*/kernel/irq/irq_sim.c'
    rm -rf src-deb
  fi
  mkdir -p gpiosim
  cp src/drivers/gpio/gpio-sim.c src/drivers/gpio/gpiolib.h src/kernel/irq/irq_sim.c gpiosim/
  sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' gpiosim/irq_sim.c
  grep -q 'generic_handle_irq(irqnum);' gpiosim/irq_sim.c || { echo "setup: irq_sim.c patch did not apply" >&2; exit 1; }
  printf 'obj-m := gpiosim.o\ngpiosim-y := gpio-sim.o irq_sim.o\n' > gpiosim/Kbuild
  make -s -C /usr/src/linux-headers-$KVER M="$W/gpiosim" modules
fi
LB=$(ls -d "$W"/v4l2lb/usr/src/v4l2loopback-* | head -1)
[ -f "$LB/v4l2loopback.ko" ] || make -s -C /usr/src/linux-headers-$KVER M="$LB" modules

# Initramfs: static busybox, the modules in dependency order (evdev and uinput for the keyboard-wedge
# and PIN pad tests), init.
if [ ! -f initramfs.gz ] || [ "$HERE/init" -nt initramfs.gz ] || [ "$HERE/setup.sh" -nt initramfs.gz ]; then
  rm -rf ir && mkdir -p ir/bin ir/proc ir/sys ir/dev ir/host ir/mods
  cp bb/bin/busybox ir/bin/busybox
  for l in sh mount cat sed cut insmod mkdir chroot poweroff echo sleep ls grep ip; do ln -sf busybox ir/bin/$l; done
  n=10
  for ko in $(for m in virtio_pci 9pnet_virtio 9p configfs vivid evdev uinput; do modprobe -d "$W/kernel" -S "$KVER" --show-depends "$m"; done \
                | awk '$1=="insmod"{print $2}' | awk '!seen[$0]++'); do
    base=$(basename "$ko"); base=${base%.ko*}
    case "$ko" in
      *.xz) xz -dc "$ko" > ir/mods/$n-$base.ko ;;
      *.zst) zstd -dqc "$ko" > ir/mods/$n-$base.ko ;;
      *) cp "$ko" ir/mods/$n-$base.ko ;;
    esac
    n=$((n + 1))
  done
  cp gpiosim/gpiosim.ko ir/mods/90-gpiosim.ko
  cp "$LB/v4l2loopback.ko" ir/mods/91-v4l2loopback.ko
  cp "$HERE/init" ir/init && chmod +x ir/init
  (cd ir && find . | cpio -o -H newc --quiet | gzip -1) > initramfs.gz
fi
# Reloaded from inside the guest's chroot by the unplug tests (rmmod, insmod again).
mkdir -p mods && cp ir/mods/*-vivid.ko mods/vivid.ko
cp "$LB/v4l2loopback.ko" v4l2loopback.ko
ln -sf kernel/boot/vmlinuz-$KVER vmlinuz
mkdir -p out
echo "setup: ready ($(ls ir/mods | wc -l) modules, $(du -h initramfs.gz | cut -f1) initramfs)"
