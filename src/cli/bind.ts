/** `vfio bind`: bind a device to vfio-pci (or another driver) through sysfs `driver_override`. */
import type { PciAddress, PciSysfs } from '../pci/index.js';
import { VfioError, VfioErrorCode } from '../../structs/index.js';

/** Binds `addr` to `driver` and returns the line to print: what it was bound to before and now. */
export function bindDevice(sysfs: PciSysfs, addr: PciAddress, driver: string): string {
  sysfs.requireDevice(addr);
  const before = sysfs.driver(addr);
  if (before === driver) return `${addr} is already bound to ${driver}`;
  try {
    sysfs.bind(addr, driver);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new VfioError(
        VfioErrorCode.PERMISSION,
        `binding ${addr} to ${driver} needs root: writing ${sysfs.devicePath(addr)}/driver_override was refused (${code}); run it with sudo`,
        { cause: e },
      );
    }
    if (code === 'ENOENT') {
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `binding ${addr} to ${driver} failed: ${(e as Error).message}; is this a sysfs with driver_override (Linux 3.16+)?`,
        { cause: e },
      );
    }
    throw e;
  }
  const group = sysfs.iommuGroup(addr);
  return `${addr}: ${before ?? 'no driver'} -> ${driver}${group !== null && driver === 'vfio-pci' ? ` (/dev/vfio/${group})` : ''}`;
}
