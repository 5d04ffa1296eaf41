/**
 * Where a device stands, read from sysfs before any VFIO file is opened, checked in the order a
 * person reasons: the device exists, it has an IOMMU group, it is on vfio-pci. Each failure
 * says what to do, with the real address.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NOIOMMU_PARAMETER, TURN_IOMMU_ON, bindCommand, type PciAddress, type PciSysfs } from '../../pci/index.js';
import { VfioError, VfioErrorCode } from '../../../structs/index.js';

export interface DeviceLocation {
  address: PciAddress;
  /** IOMMU group number (a no-IOMMU group in no-IOMMU mode). */
  group: number;
  /** The group is a no-IOMMU group (`/dev/vfio/noiommu-N`). */
  noIommu: boolean;
  /** The device's VFIO cdev name (`vfio0`) under /dev/vfio/devices, or null when the kernel has none. */
  cdev: string | null;
  driver: string;
}

/** Whether a driver name is vfio-pci or a vendor's variant of it (mlx5_vfio_pci, ...). */
export const isVfioDriver = (driver: string | null): driver is string => driver !== null && driver.includes('vfio');

export function locateDevice(sysfs: PciSysfs, addr: PciAddress): DeviceLocation {
  sysfs.requireDevice(addr);
  const driver = sysfs.driver(addr);
  const group = sysfs.iommuGroup(addr);
  if (group === null && !isVfioDriver(driver)) {
    // In no-IOMMU mode a group appears only once vfio-pci binds; say both things.
    throw new VfioError(
      VfioErrorCode.NO_IOMMU,
      `${addr} has no IOMMU group and is bound to ${driver ?? 'no driver'}: the IOMMU is off or does not cover it. Turn it on (${TURN_IOMMU_ON}), then bind the device: vfio bind ${addr}. Without an IOMMU, VFIO's unsafe no-IOMMU mode is the way: boot with ${NOIOMMU_PARAMETER} and bind the device.`,
    );
  }
  if (group === null) {
    throw new VfioError(
      VfioErrorCode.NO_IOMMU,
      `${addr} has no IOMMU group: the IOMMU is off or does not cover it; turn it on (${TURN_IOMMU_ON}), or use no-IOMMU mode (${NOIOMMU_PARAMETER}), then rebind the device (vfio bind ${addr})`,
    );
  }
  if (!isVfioDriver(driver)) {
    throw new VfioError(
      VfioErrorCode.NOT_VFIO_BOUND,
      `${addr} is bound to ${driver ?? 'no driver'}, not vfio-pci: bind it first (as root) with: vfio bind ${addr}  (or: ${bindCommand(addr, sysfs.root)})`,
    );
  }
  return { address: addr, group, noIommu: sysfs.isNoIommuGroup(group), cdev: sysfs.vfioCdev(addr), driver };
}

/** Where the kernel puts VFIO device cdevs. */
export const CDEV_DIR = '/dev/vfio/devices';

/**
 * The path of the device's VFIO cdev, or null when there is none. 6.1 already lists
 * `vfio-dev/vfioN` in sysfs with no node behind it: the node decides.
 */
export function cdevNode(loc: DeviceLocation, cdevDir = CDEV_DIR): string | null {
  if (loc.cdev === null) return null;
  const path = join(cdevDir, loc.cdev);
  return existsSync(path) ? path : null;
}
