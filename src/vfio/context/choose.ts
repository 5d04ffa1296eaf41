/** The IOMMU contexts a device can be opened in, and choosing one for `openDevice`. */
import { existsSync } from 'node:fs';
import { IOMMUFD_PATH, type IommuKind } from '../../iommu/index.js';
import type { Container } from './container.js';
import type { IommufdContext } from './iommufd-context.js';
import { CDEV_DIR, cdevNode, type DeviceLocation } from './locate.js';
import { VfioError, VfioErrorCode, VfioRangeError } from '../../../structs/index.js';

/** A container (Type1 or no-IOMMU) or an iommufd IOAS, with the devices opened in it. */
export type IommuContext = Container | IommufdContext;

/** What `openDevice` may be asked for: a backend, or `auto`. */
export type IommuChoice = 'auto' | IommuKind;

/** The ways into VFIO a caller may ask for, `auto` first. */
export const IOMMU_CHOICES: readonly IommuChoice[] = ['auto', 'type1', 'iommufd', 'noiommu'];

/**
 * The backend for a device: `auto` takes iommufd where `/dev/iommu` and the device's cdev exist,
 * no-IOMMU for a device in a no-IOMMU group, else the container. An explicit choice the
 * machine cannot honour throws, naming what is missing.
 */
export function chooseIommu(
  choice: string,
  loc: DeviceLocation,
  iommufdPath = IOMMUFD_PATH,
  cdevDir = CDEV_DIR,
): IommuKind {
  if (!IOMMU_CHOICES.includes(choice as IommuChoice)) {
    throw new VfioRangeError(
      VfioErrorCode.INVALID_ARGUMENT,
      `iommu must be one of ${IOMMU_CHOICES.join(', ')}; got '${choice}'`,
    );
  }
  const where = `${loc.address} (IOMMU group ${loc.group})`;
  if (loc.noIommu) {
    if (choice === 'auto' || choice === 'noiommu') return 'noiommu';
    throw new VfioError(
      VfioErrorCode.NO_IOMMU,
      `${where} is in a no-IOMMU group (no IOMMU covers it; /dev/vfio/noiommu-${loc.group}): '${choice}' needs an IOMMU. Use { iommu: 'noiommu' }, or turn the IOMMU on (intel_iommu=on / amd_iommu=on) and reboot without vfio.enable_unsafe_noiommu_mode`,
    );
  }
  const iommufd = existsSync(iommufdPath);
  const cdev = cdevNode(loc, cdevDir) !== null;
  switch (choice) {
    case 'noiommu':
      throw new VfioError(
        VfioErrorCode.INVALID_ARGUMENT,
        `${where} has an IOMMU: no-IOMMU mode is only for devices without one; use { iommu: 'auto' }, 'type1' or 'iommufd'`,
      );
    case 'iommufd':
      if (!iommufd)
        throw new VfioError(
          VfioErrorCode.UNAVAILABLE,
          `iommufd is not available for ${where}: ${iommufdPath} does not exist; the kernel needs CONFIG_IOMMUFD=y (and CONFIG_VFIO_DEVICE_CDEV=y). Use { iommu: 'type1' } (the container) on this kernel`,
        );
      if (!cdev)
        throw new VfioError(
          VfioErrorCode.UNAVAILABLE,
          `iommufd is not available for ${where}: the device has no VFIO cdev in ${cdevDir}; the kernel needs CONFIG_VFIO_DEVICE_CDEV=y. Use { iommu: 'type1' } on this kernel`,
        );
      return 'iommufd';
    case 'type1':
      return 'type1';
    default:
      return iommufd && cdev ? 'iommufd' : 'type1';
  }
}
