/**
 * Whether a descriptor handed to this process is what its message says: a node's character
 * device (`/dev/vfio/vfio`, `/dev/vfio/N`, `/dev/iommu`, a device cdev) by its device number,
 * and a VFIO device by the anonymous inode the group path makes and the sysfs path the kernel
 * shows in `/proc/self/fdinfo` (7.x; 6.1 shows none, and the device's info is all there is).
 */
import { fstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { VfioError, VfioErrorCode } from '../../../structs/index.js';
import type { PciAddress, PciSysfs } from '../../pci/index.js';
import { describeFd, fdLink } from '../../sys/index.js';

function refuse(what: string, fd: number, expected: string, from: string): never {
  throw new VfioError(
    VfioErrorCode.HANDOFF,
    `device handoff from ${from}: the ${what} descriptor, ${describeFd(fd)}, is not ${expected}; every descriptor received is closed. The sender must send the descriptors sendDevice() sends, in its order`,
  );
}

function sameNode(fd: number, node: string): boolean {
  try {
    const st = fstatSync(fd);
    return st.isCharacterDevice() && st.rdev === statSync(node).rdev;
  } catch {
    return false;
  }
}

/** Throws unless `fd` is the character device at `node` (the same device number). */
export function checkNode(what: string, fd: number, node: string, from: string): void {
  if (!sameNode(fd, node)) refuse(what, fd, node, from);
}

/** The VFIO device a device fd is of, from `/proc/self/fdinfo` (7.x), or undefined where the kernel does not say. */
function fdinfoSysfsPath(fd: number): string | undefined {
  try {
    const m = /^vfio-device-syspath:\s*(\S+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Throws unless `fd` is the VFIO device at `address`: the cdev `cdev` (iommufd), or the
 * anonymous inode `VFIO_GROUP_GET_DEVICE_FD` returns (the group path); where fdinfo names the
 * device's sysfs path, it must be `address`'s.
 */
export function checkDeviceFd(
  fd: number,
  address: PciAddress,
  sysfs: PciSysfs,
  cdev: string | undefined,
  from: string,
): void {
  const expected = `the VFIO device ${address}${cdev ? ` (${cdev})` : ''}`;
  if (cdev) {
    if (!sameNode(fd, cdev)) refuse('device', fd, expected, from);
  } else if (fdLink(fd) !== 'anon_inode:[vfio-device]') refuse('device', fd, expected, from);
  const shown = fdinfoSysfsPath(fd);
  if (shown === undefined) return;
  let own: string;
  try {
    own = realpathSync(sysfs.devicePath(address));
  } catch {
    own = sysfs.devicePath(address);
  }
  if (shown !== own) refuse('device', fd, `${expected}: the kernel says it is ${shown}`, from);
}

/**
 * Throws unless the opened device's config space has the ids sysfs gives `address`: on 6.1,
 * where fdinfo names no device, this tells apart devices of different models at least.
 */
export function checkDeviceIds(
  config: { read16(offset: number): number },
  address: PciAddress,
  sysfs: PciSysfs,
  from: string,
): void {
  const { vendor, device } = sysfs.info(address);
  const got = [config.read16(0), config.read16(2)];
  if (got[0] !== vendor || got[1] !== device)
    throw new VfioError(
      VfioErrorCode.HANDOFF,
      `device handoff from ${from}: the device descriptor is a ${hex4(got[0])}:${hex4(got[1])}, and ${address} is a ${hex4(vendor)}:${hex4(device)}; every descriptor received is closed. The sender must send the device the header names`,
    );
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');
