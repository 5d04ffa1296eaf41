/**
 * Where a mediated device stands, read from sysfs as `locateDevice` reads a PCI device's: it
 * exists, its vendor driver took it, it has an IOMMU group. And the one entry the contexts use
 * for either kind of address.
 */
import { parsePciAddress, type PciAddress, type PciSysfs } from '../../pci/index.js';
import { VfioError, VfioErrorCode } from '../../../structs/index.js';
import { isMdevAddress, parseMdevAddress, type MdevUuid } from '../mdev/address.js';
import { MdevSysfs } from '../mdev/sysfs.js';
import { locateDevice, type DeviceLocation } from './locate.js';

/**
 * A device's address as the contexts key it: a PCI address normalised, or an mdev's UUID in lower
 * case (its name in sysfs and for `VFIO_GROUP_GET_DEVICE_FD`). Throws before any file is touched.
 * The UUID travels as the `PciAddress` a device's `address` is typed as.
 */
export function parseVfioAddress(address: string): PciAddress {
  return isMdevAddress(address) ? (parseMdevAddress(address) as string as PciAddress) : parsePciAddress(address);
}

/** `locateDevice` for a PCI address, `locateMdev` for an mdev's (`UUID` or `mdev:UUID`). */
export function locateVfioDevice(sysfs: PciSysfs, address: string): DeviceLocation {
  return isMdevAddress(address)
    ? locateMdev(sysfs.root, parseMdevAddress(address))
    : locateDevice(sysfs, parsePciAddress(address));
}

/**
 * Where the mdev `uuid` stands: it exists (`ERR_VFIO_NO_DEVICE`; `ERR_VFIO_UNSUPPORTED` naming the
 * kernel option on a kernel without mdevs), a vendor driver is bound to it, and VFIO gave it an
 * IOMMU group (an emulated one: never a no-IOMMU group).
 */
export function locateMdev(sysfsRoot: string, uuid: MdevUuid): DeviceLocation {
  const info = new MdevSysfs(sysfsRoot).device(uuid);
  const where = `mdev ${uuid} (type ${info.type} of ${info.parent})`;
  if (info.driver === null)
    throw new VfioError(
      VfioErrorCode.NOT_VFIO_BOUND,
      `${where} is bound to no driver: its vendor driver did not take it (the kernel log may say why); remove it and create it again once the driver is loaded`,
    );
  if (info.iommuGroup === null)
    throw new VfioError(
      VfioErrorCode.NO_IOMMU,
      `${where} has no IOMMU group: its driver (${info.driver}) did not register it with VFIO, so it cannot be opened through VFIO`,
    );
  return {
    address: uuid as string as PciAddress,
    group: info.iommuGroup,
    noIommu: false,
    cdev: info.cdev,
    driver: info.driver,
  };
}
