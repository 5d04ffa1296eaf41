#!/bin/busybox sh
# /init of the test VM's initramfs (see scripts/vm/README.md). Runs as PID 1 in the guest:
# loads the modules (none for a kernel with everything built in), mounts the host's root (9p, read-only) under a tmpfs overlay, binds the
# test devices to vfio-pci, writes the manifest, then runs the command in a chroot of that tree.
# Its own messages go to the kernel console (ttyS0, the log file on the host); the command's
# stdout/stderr go to two virtio-serial ports and the control messages to a third one.
/bin/busybox mkdir -p /bin /proc /sys /dev
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null

log() { echo "vfiots-init: $*" > /dev/console; }
ctl=/dev/null
fail() {
  dmesg | tail -n 60 > /dev/console
  log "FAIL: $*"
  echo "FAIL $*" > "$ctl"
  sleep 2
  poweroff -f
}

for m in $(cat /modules.list 2>/dev/null); do
  insmod "/lib/modules/$m.ko" || log "insmod $m failed"
done

# Ports by name (no udev: read /sys/class/virtio-ports/*/name). They appear asynchronously
# after virtio_console is loaded: wait for them (up to 10 s).
i=0
while [ $i -lt 200 ]; do
  for p in /sys/class/virtio-ports/*; do
    case "$(cat "$p/name" 2>/dev/null)" in
      vfiots.ctl) ctl=/dev/${p##*/} ;;
      vfiots.out) out=/dev/${p##*/} ;;
      vfiots.err) err=/dev/${p##*/} ;;
    esac
  done
  [ "$ctl" != /dev/null ] && [ -n "$out" ] && [ -n "$err" ] && [ -c "$err" ] && [ -c "$out" ] && [ -c "$ctl" ] && break
  i=$((i + 1)); usleep 50000
done
[ "$ctl" != /dev/null ] && [ -n "$out" ] && [ -n "$err" ] || fail "virtio-serial ports not found"
echo "KERNEL $(uname -r)" > "$ctl"

cfgdir=$(sed -n 's/.*vfiots\.dir=\([^ ]*\).*/\1/p' /proc/cmdline)
mkdir -p /lower /upper /merged
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 host /lower \
  || fail "mount 9p"
[ -f "/lower$cfgdir/cmd.sh" ] || fail "no $cfgdir/cmd.sh on the host share"
. "/lower$cfgdir/guest.conf"   # sets NONCE, CWD, REPO (the checkout), FLAVOUR and LAYER
lower=/lower
# An arm64 guest: the layer of arm64 node, libraries and npm twins (scripts/vm/arch.mjs) on its
# own share, above the host's x86-64 tree.
if [ "$LAYER" = 1 ]; then
  mkdir -p /arch
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 arch /arch || fail "mount 9p arch"
  lower=/arch:/lower
fi
mount -t tmpfs -o mode=755 upper /upper && mkdir /upper/u /upper/w
mount -t overlay -o lowerdir=$lower,upperdir=/upper/u,workdir=/upper/w overlay /merged \
  || fail "mount overlay"

m=/merged
mount -t proc proc $m/proc
mount -t sysfs sys $m/sys
mount -t devtmpfs dev $m/dev
mkdir -p $m/dev/pts $m/dev/shm $m/dev/hugepages
mount -t devpts devpts $m/dev/pts
mount -t tmpfs -o mode=1777 shm $m/dev/shm
mount -t hugetlbfs -o pagesize=2M hugetlbfs $m/dev/hugepages
# Fresh tmpfs on /tmp and /run, unless the working directory or the checkout (scripts/vm/run
# may be started from anywhere) is in there: then the overlay keeps the host's content
# visible and writes still go to its tmpfs upper layer.
under() { case "$CWD/" in "$1"/*) return 0 ;; esac; case "$REPO/" in "$1"/*) return 0 ;; esac; return 1; }
under /tmp || mount -t tmpfs -o mode=1777 tmp $m/tmp
under /run || mount -t tmpfs -o mode=755 run $m/run
mkdir -p $m/run/vfio-ts
cp "/lower$cfgdir/cmd.sh" $m/run/vfio-ts/cmd.sh

# --- devices ---------------------------------------------------------------------------
# devices.list: "name kind vendor device want place", want = vfio|host, place = root|bridge, or
# the device's address (a vfio-user device: whatever its ids, the one at that address).
used=" "
find_bdf() { # vendor device place -> first unused BDF that matches
  case "$3" in *:*) [ -e "/sys/bus/pci/devices/$3" ] && echo "$3"; return ;; esac
  for d in /sys/bus/pci/devices/*; do
    b=${d##*/}
    case "$used" in *" $b "*) continue ;; esac
    [ "$(cat $d/vendor)" = "0x$1" ] && [ "$(cat $d/device)" = "0x$2" ] || continue
    # Path components below the host bridge (x86: /sys/devices/pci0000:00/; arm64:
    # /sys/devices/platform/4010000000.pcie/pci0000:00/): 1 on the root bus.
    path=$(readlink -f $d | sed 's#^.*/pci[0-9a-f]*:[0-9a-f]*/##')
    depth=$(echo "$path" | tr / '\n' | grep -c .)
    if [ "$3" = root ] && [ "$depth" = 1 ]; then echo $b; return; fi
    if [ "$3" = bridge ] && [ "$depth" -gt 1 ]; then echo $b; return; fi
  done
}
drv_of() { [ -e "$1/driver" ] && basename "$(readlink "$1/driver")" || echo ""; }

while read -r name kind vendor device want place; do
  [ -n "$name" ] || continue
  b=$(find_bdf "$vendor" "$device" "$place")
  [ -n "$b" ] || fail "device $name ($vendor:$device, $place) not found in the guest"
  used="$used$b "
  echo "$name $kind $b" >> /tmp/found
  [ "$want" = vfio ] || continue
  d=/sys/bus/pci/devices/$b
  cur=$(drv_of $d)
  [ "$cur" = vfio-pci ] && continue
  [ -n "$cur" ] && echo "$b" > "$d/driver/unbind"
  echo vfio-pci > "$d/driver_override"
  echo "$b" > /sys/bus/pci/drivers_probe
  [ "$(drv_of $d)" = vfio-pci ] || fail "binding $b ($name) to vfio-pci failed"
done < "/lower$cfgdir/devices.list"
# (drivers_probe is synchronous; the group nodes come from devtmpfs.)

# A device's IOMMU group exists only once it has one: always with an IOMMU; in no-IOMMU mode
# only after vfio-pci made it a fake group (the other devices have no iommu_group link).
group_of() { [ -e "$1/iommu_group" ] && basename "$(readlink "$1/iommu_group")" || echo ""; }
group_viable() {
  for mdev in /sys/kernel/iommu_groups/$1/devices/*; do
    case "$(drv_of $mdev)" in ''|vfio-pci|pci-stub) ;; *) return 1 ;; esac
  done
  return 0
}
jstr() { [ -n "$1" ] && printf '"%s"' "$1" || printf null; }
# The IOMMU: emulated VT-d registers as /sys/class/iommu/dmar0, an SMMUv3 as smmu3.0x<base>.
iommu=none
for i in /sys/class/iommu/*; do
  [ -e "$i" ] || continue
  case "${i##*/}" in
    dmar*) iommu=intel-vtd ;;
    smmu3.*) iommu=arm-smmuv3 ;;
    *) [ "$iommu" = none ] && iommu=${i##*/} ;;
  esac
done
noiommu=N
[ -r /sys/module/vfio/parameters/enable_unsafe_noiommu_mode ] \
  && noiommu=$(cat /sys/module/vfio/parameters/enable_unsafe_noiommu_mode)
# Device cdevs (/dev/vfio/devices/vfioN, found through the device's vfio-dev/ dir in sysfs).
# 6.1 has the vfio-dev/ dirs too (a struct device per vfio device) but no cdev behind them.
cdev_of() { # sysfs dir of a PCI device -> its /dev/vfio/devices/ node, or nothing
  for c in $1/vfio-dev/*; do [ -c "/dev/vfio/devices/${c##*/}" ] && echo "/dev/vfio/devices/${c##*/}"; done
}
cdevs=no
[ -d /sys/class/vfio-dev ] && cdevs=yes # with no vfio device: /dev/iommu decides alone
[ -f /tmp/found ] && while read -r name kind b; do
  [ "$(drv_of /sys/bus/pci/devices/$b)" = vfio-pci ] || continue
  [ -n "$(cdev_of /sys/bus/pci/devices/$b)" ] || { cdevs=no; break; }
done < /tmp/found
# The ways into VFIO, in the library's names. Both type1 and iommufd need an IOMMU (iommufd's
# noiommu cdevs are the no-IOMMU way in, reported as "noiommu").
backends=
add_backend() { backends="$backends${backends:+,}\"$1\""; }
[ "$iommu" != none ] && [ -c /dev/vfio/vfio ] && add_backend type1
[ "$iommu" != none ] && [ -c /dev/iommu ] && [ "$cdevs" = yes ] && add_backend iommufd
[ "$noiommu" = Y ] && add_backend noiommu
{
  printf '{"kernel":"%s","flavour":"%s","arch":"%s","iommu":"%s","backends":[%s],"hugepages2M":%s,"devices":[' \
    "$(uname -r)" "${FLAVOUR:-debian}" "$(uname -m)" "$iommu" "$backends" \
    "$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)"
  sep=
  [ -f /tmp/found ] && while read -r name kind b; do
    d=/sys/bus/pci/devices/$b
    g=$(group_of $d)
    viable=false; [ -n "$g" ] && group_viable "$g" && viable=true
    gpath=
    if [ -n "$g" ]; then
      if [ -c /dev/vfio/$g ]; then gpath=/dev/vfio/$g
      elif [ -c /dev/vfio/noiommu-$g ]; then gpath=/dev/vfio/noiommu-$g; fi
    fi
    cdev=$(cdev_of $d)
    printf '%s{"name":"%s","kind":"%s","bdf":"%s","vendor":"%s","device":"%s","group":%s,"groupPath":%s,"cdev":%s,"driver":"%s","viable":%s}' \
      "$sep" "$name" "$kind" "$b" "$(cut -c3- $d/vendor)" "$(cut -c3- $d/device)" "${g:-null}" \
      "$(jstr "$gpath")" "$(jstr "$cdev")" "$(drv_of $d)" "$viable"
    sep=,
  done < /tmp/found
  printf ']}\n'
} > $m/run/vfio-ts/manifest.json
log "manifest: $(cat $m/run/vfio-ts/manifest.json)"

# --- the command -------------------------------------------------------------------------
echo "READY" > "$ctl"
env -i chroot $m /bin/sh /run/vfio-ts/cmd.sh < /dev/null > "$out" 2> "$err"
rc=$?
[ "$rc" = 0 ] || log "command exited with $rc"  # the kernel log has everything since boot
printf '\000VFIOTS-EOF-%s\000' "$NONCE" > "$out"
printf '\000VFIOTS-EOF-%s\000' "$NONCE" > "$err"
echo "EXIT $rc" > "$ctl"
# The host kills QEMU once it has read everything; power off in case it does not.
sleep 30
poweroff -f
