/**
 * PCI hot reset: a secondary bus (or slot) reset of a device and of every device that shares
 * the bus with it. The kernel wants proof that the caller owns all of them: the fds of every
 * affected IOMMU group.
 */
import {
  VFIO_PCI_HOT_RESET_FLAG_DEV_ID,
  VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED,
  buildHotReset,
  hotResetInfoBuffer,
  parseHotResetInfo,
  type DependentDevice,
  SysError,
  VfioError,
  VfioErrorCode,
} from '../../../structs/index.js';
import { pciAddressOf, type PciAddress } from '../../pci/index.js';
import { sysIoctl } from '../../sys/index.js';
import type { DeviceContext, DeviceGroup } from './opening.js';
import type { DeviceChannel } from './channel.js';

/** What a hot reset needs of the device (a `Device`): its kernel fd, which the ioctls go to. */
export interface HotResetTarget {
  readonly fd: number;
  /** Says whether `fd` is the kernel's: only the kernel can reset a bus or slot. */
  readonly channel: Pick<DeviceChannel, 'kernel'>;
  readonly address: PciAddress;
  readonly group: DeviceGroup | undefined;
  readonly iommu: Pick<DeviceContext, 'sysfs' | 'name'>;
}

/** A device a hot reset of another would also reset. */
export interface HotResetPeer {
  address: PciAddress;
  group: number;
}

const addressOf = (d: DependentDevice): PciAddress =>
  pciAddressOf({ domain: d.segment, bus: d.bus, device: d.device, fn: d.fn });

/** Refuses a device the kernel does not serve: its fd would not take the hot-reset ioctls. */
function requireKernel(dev: HotResetTarget): void {
  if (!dev.channel.kernel)
    throw new VfioError(
      VfioErrorCode.UNSUPPORTED,
      `hot reset of ${dev.address}: the device is served by another process, not by the kernel's VFIO, and only the kernel can reset a PCI bus or slot; use device.reset() instead`,
    );
}

/** `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO`: every device (and its group) a hot reset of `dev` resets. */
export function hotResetPeers(dev: HotResetTarget): HotResetPeer[] {
  requireKernel(dev);
  const { flags, devices } = hotResetInfo(dev);
  return devices.map((d) => {
    const address = addressOf(d);
    // Through a cdev the kernel reports iommufd device ids; the group comes from sysfs then.
    const group =
      (flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID) !== 0 ? (dev.iommu.sysfs.iommuGroup(address) ?? -1) : d.group;
    return { address, group };
  });
}

function hotResetInfo(dev: HotResetTarget): { flags: number; devices: DependentDevice[] } {
  let count = 0;
  for (let attempt = 0; attempt < 4; attempt++) {
    const buf = hotResetInfoBuffer(count);
    try {
      sysIoctl(dev.fd, 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', buf, dev.address);
    } catch (e) {
      if (e instanceof SysError && e.errnoName === 'ENOSPC') {
        count = parseHotResetInfo(buf).count; // the kernel says how many devices there are
        continue;
      }
      if (e instanceof SysError && e.errnoName === 'ENODEV') {
        throw e.withHint(
          `no bus or slot reset can reach ${dev.address}: it has no slot reset and no parent bridge that can reset its bus (devices on a root bus cannot be hot reset); use device.reset() where the device has a function reset`,
          { target: dev.address },
        );
      }
      throw e;
    }
    return parseHotResetInfo(buf);
  }
  throw new VfioError(VfioErrorCode.MALFORMED, `${dev.address}: the number of hot-reset peers kept changing`);
}

/**
 * `VFIO_DEVICE_PCI_HOT_RESET` of `dev`'s bus or slot. Every affected group must be open in
 * this process (in any container); the error names the ones that are not. The reset clears
 * bus mastering and interrupt setup of every affected device.
 */
export function hotReset(dev: HotResetTarget, openGroups: ReadonlyMap<number, number>): void {
  requireKernel(dev);
  if (!dev.group) {
    // Opened through its cdev: the kernel checks ownership through the iommufd; no group fds.
    const { flags, devices } = hotResetInfo(dev);
    if ((flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED) === 0) {
      const who = devices.filter((d) => d.group === -1).map(addressOf);
      throw new VfioError(
        VfioErrorCode.INVALID_STATE,
        `hot reset of ${dev.address} also resets ${who.join(', ')}, which ${who.length > 1 ? 'are' : 'is'} not open in ${dev.iommu.name}: open ${who.length > 1 ? 'them' : 'it'} in the same iommufd context first (context.device(address)), or bind ${who.length > 1 ? 'them' : 'it'} to vfio-pci`,
      );
    }
    sysIoctl(dev.fd, 'VFIO_DEVICE_PCI_HOT_RESET', buildHotReset([]), dev.address);
    return;
  }
  const peers = hotResetPeers(dev);
  const groups = [...new Set(peers.map((p) => p.group))].sort((a, b) => a - b);
  const missing = groups.filter((g) => !openGroups.has(g));
  if (missing.length > 0) {
    const who = peers.filter((p) => missing.includes(p.group)).map((p) => `${p.address} (group ${p.group})`);
    throw new VfioError(
      VfioErrorCode.INVALID_STATE,
      `hot reset of ${dev.address} also resets ${who.join(', ')}: open ${missing.length > 1 ? 'those groups' : 'that group'} in this process first (container.group(n)), so the kernel sees you own every device it resets`,
    );
  }
  sysIoctl(dev.fd, 'VFIO_DEVICE_PCI_HOT_RESET', buildHotReset(groups.map((g) => openGroups.get(g)!)), dev.address);
}
