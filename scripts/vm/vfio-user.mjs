// scripts/vm/run --vfio-user SOCKET: a vfio-user server on the host (serveDevice, libvfio-user)
// attached to the x86-64 guest as a PCI device by QEMU's vfio-user-pci. Bookworm's QEMU 7.2 has
// no such device, so those boots run Debian's newer QEMU from the private root that
// scripts/vm/setup-qemu unpacks into .vm-cache/qemu-backports/. See scripts/vm/README.md.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VM_CACHE } from './paths.mjs';

export const BACKPORTS_QEMU_DIR = join(VM_CACHE, 'qemu-backports');

/** The launcher of the private root's QEMU, or null when scripts/vm/setup-qemu has not run. */
export function findBackportsQemu() {
  const launcher = join(BACKPORTS_QEMU_DIR, 'qemu-system-x86_64');
  return existsSync(join(BACKPORTS_QEMU_DIR, 'root', '.complete')) && existsSync(launcher) ? launcher : null;
}

/** The slot of the first served device: fixed, so that the guest finds each one by its address. */
const FIRST_SLOT = 0x10;

/** Where the guest sees the `i`th socket's device. */
export const vfioUserBdf = (i) => `0000:00:${(FIRST_SLOT + i).toString(16).padStart(2, '0')}.0`;

/** The sockets that have no server behind them (not a socket file), for the runner's message. */
export const missingSockets = (sockets) =>
  sockets.filter((s) => {
    try {
      return !statSync(s).isSocket();
    } catch {
      return true;
    }
  });

/**
 * QEMU's arguments for the served devices and the RAM they need. The server reaches guest
 * memory only through descriptors QEMU sends with its DMA maps, so the RAM is a memfd shared
 * with it (serveDevice refuses DMA to memory shared without one).
 */
export function vfioUserArgs(sockets, memory) {
  if (!sockets.length) return [];
  return [
    '-object',
    `memory-backend-memfd,id=ram,size=${memory},share=on`,
    ...sockets.flatMap((path, i) => [
      '-device',
      JSON.stringify({
        driver: 'vfio-user-pci',
        socket: { path, type: 'unix' },
        addr: `0x${(FIRST_SLOT + i).toString(16)}`,
      }),
    ]),
  ];
}

/**
 * devices.list lines for the guest's /init: `vfio-userN`, found at its slot, bound to vfio-pci
 * (unless run's --keep-driver names it).
 */
export const vfioUserGuestList = (sockets) =>
  sockets.map((_, i) => ['vfio-user' + i, 'vfio-user', 'any', 'any', 'vfio', vfioUserBdf(i)]);

/**
 * A filter for QEMU's output lines on a --vfio-user boot. After each IOTLB flush of the guest,
 * QEMU's vfio-user-pci unmaps IOVA ranges it never mapped on the server (it walks the whole
 * address space); the server answers ENOENT, as the protocol asks of an unmap that matches no
 * map, and QEMU prints a line for each: dozens each time the guest opens the device. The first
 * is kept, with a note; the rest are dropped. Returns the line to print, or null.
 */
export function unmapNoiseFilter() {
  let seen = 0;
  return (line) => {
    if (!/vfio_container_dma_unmap\(.*\) = -2 \(No such file or directory\)/.test(line)) return line;
    if (seen++) return null;
    return `${line}\n(QEMU unmaps IOVA ranges it never mapped on the vfio-user server, which answers ENOENT: the like are not shown)`;
  };
}
