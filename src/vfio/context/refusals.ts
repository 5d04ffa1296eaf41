/**
 * What the kernel's refusal to open a device means, said only as far as it was checked: a
 * holder is named only when one was found; otherwise the hint lists the kernel's reasons for
 * that errno on that call, and where to look further (`vfio doctor ADDRESS`, the kernel log).
 */
import { SysError, VfioErrorCode } from '../../../structs/index.js';
import { describeHolders, holdersOf } from '../../sys/index.js';

/** The reasons, besides another holder, for which the kernel refuses to open a device with EINVAL. */
const OPEN_EINVAL =
  "the device's driver failed to enable it (vfio-pci reading its config space or setting up its BARs), or the device is not one the IOMMU can isolate as VFIO needs";

/**
 * A refused VFIO_DEVICE_BIND_IOMMUFD (asked after our own fd is closed, so that this process
 * shows only where it really holds the device). The cdev path lets a device be bound once at a
 * time: a second bind is EINVAL, as are the reasons in OPEN_EINVAL; EBUSY is the group in use.
 */
export function explainBindFailure(e: unknown, address: string, path: string, group: number): unknown {
  if (!(e instanceof SysError && e.syscall === 'ioctl(VFIO_DEVICE_BIND_IOMMUFD)')) return e;
  const groupPath = `/dev/vfio/${group}`;
  if (e.errnoName === 'EINVAL') {
    const holders = holdersOf(path);
    if (holders.length > 0)
      return e.withHint(
        `${address} is already open (bound to an iommufd), held by ${describeHolders(path, holders)}: use the Device you have, or close it there first`,
        { code: VfioErrorCode.DEVICE_BUSY },
      );
    return e.withHint(
      `the kernel refused to bind ${address}. No process holds ${path}, so it is not open elsewhere; the kernel also refuses when ${OPEN_EINVAL}. vfio doctor ${address} checks the machine's side; the kernel log (dmesg) may name the cause`,
    );
  }
  if (e.errnoName === 'EBUSY')
    return e.withHint(
      `another device of IOMMU group ${group} is in use elsewhere (${groupPath} held by ${describeHolders(groupPath)}), or bound to a host driver`,
      { code: VfioErrorCode.GROUP_BUSY },
    );
  return e;
}

/**
 * A refused VFIO_GROUP_GET_DEVICE_FD with EINVAL: the name is the group's (checked before), so
 * the device's open failed.
 */
export function explainGetDeviceFdFailure(e: unknown, address: string): unknown {
  if (!(e instanceof SysError && e.syscall === 'ioctl(VFIO_GROUP_GET_DEVICE_FD)' && e.errnoName === 'EINVAL')) return e;
  return e.withHint(
    `the kernel refused to open ${address} in its group: ${OPEN_EINVAL}, or it is open through its cdev (bound to an iommufd) elsewhere. vfio doctor ${address} checks the machine's side; the kernel log (dmesg) may name the cause`,
  );
}
