/**
 * The rig's hot-pluggable device (scripts/vm/run --devices ...,hotplug --monitor): a virtio-rng with
 * AER alone behind a PCIe root port, which a test unplugs and plugs back through the host's QEMU
 * (monitor.ts), and how to put it back on vfio-pci where the manifest says it is.
 */
import { existsSync, openSync, closeSync, readSync, realpathSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { PCI_COMMAND, PCI_COMMAND_SERR } from '../../structs/index.js';
import { parsePciAddress, PciSysfs } from '../../src/pci/index.js';
import { testDevice } from './manifest.js';
import { monitor } from './monitor.js';

export const hotplug = testDevice('rng-hotplug');
const sysfs = new PciSysfs();
const address = parsePciAddress(hotplug.bdf);

/** Polls `ready` every 50 ms for up to `ms`; fails naming `what`. */
export async function until(ready: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Whether the device is on the bus. */
export const present = (): boolean => existsSync(`/sys/bus/pci/devices/${hotplug.bdf}`);

/**
 * Asks QEMU to unplug the device (the guest's pciehp then removes it, 5 s later). QEMU refuses
 * while the slot's power indicator blinks, which the guest's pciehp does while it powers a
 * plugged-back slot up: asked again every 200 ms then, for up to `ms`.
 */
export async function unplug(ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      monitor({ cmd: 'device_del', device: hotplug.name });
      return;
    } catch (e) {
      if (!/power indicator blinking/.test(String(e)) || Date.now() > end) throw e;
      await sleep(200);
    }
  }
}

/**
 * Plugs the device back (QEMU waits for its removal to have finished first) and binds it to
 * vfio-pci: a device plugged in afresh has no driver_override, so the guest's virtio-pci takes it
 * first. It comes back at the same address, in the same IOMMU group, with the same cdev: later
 * tests read those from the manifest.
 */
export async function plugBack(): Promise<void> {
  monitor({ cmd: 'device_add', device: hotplug.name });
  await until(present, `${hotplug.bdf} to be plugged back`);
  await until(() => sysfs.driver(address) !== null, `a driver to take ${hotplug.bdf}`, 10_000);
  sysfs.bind(address, 'vfio-pci');
  expect(sysfs.iommuGroup(address)).toBe(hotplug.group);
  if (hotplug.cdev) expect(`/dev/vfio/devices/${sysfs.vfioCdev(address)}`).toBe(hotplug.cdev);
}

/** The device as the manifest has it (present, on vfio-pci), whatever an earlier test left. */
export async function ensurePlugged(): Promise<void> {
  if (!present()) await plugBack();
  else if (sysfs.driver(address) !== 'vfio-pci') sysfs.bind(address, 'vfio-pci');
}

/**
 * Sets SERR# in the command register of the device's root port (a guest kernel's device, written
 * through sysfs). QEMU 7.2 passes an uncorrectable error up only through functions with SERR#
 * set (QEMU 8.0 also takes the Device Control register's enables, as PCIe says); Linux enables
 * the latter on a root port, not SERR#.
 */
export function enableRootPortSerr(): void {
  const port = basename(dirname(realpathSync(`/sys/bus/pci/devices/${hotplug.bdf}`)));
  const fd = openSync(`/sys/bus/pci/devices/${port}/config`, 'r+');
  try {
    const word = Buffer.alloc(2);
    readSync(fd, word, 0, 2, PCI_COMMAND);
    word.writeUInt16LE(word.readUInt16LE(0) | PCI_COMMAND_SERR);
    writeSync(fd, word, 0, 2, PCI_COMMAND);
  } finally {
    closeSync(fd);
  }
}
