/**
 * What a device is given when it is opened: narrow views of the IOMMU context and the group it
 * was opened through, so that the device knows nothing of the classes that open it.
 */
import type { Dma } from '../../dma/index.js';
import type { Iommu } from '../../iommu/index.js';
import type { PciAddress, PciSysfs } from '../../pci/index.js';
import type { DeviceChannel } from './channel.js';
import { VfioError, VfioErrorCode } from '../../../structs/index.js';

/** The IOMMU context a device is opened in (a `Container` or an `IommufdContext`), as the device sees it. */
export interface DeviceContext extends Iommu {
  /** The DMA context shared by the devices of this IOMMU context. */
  readonly dma: Dma;
  /** The sysfs the context finds devices in. */
  readonly sysfs: PciSysfs;
  /** Closes the context and every device in it. */
  close(): void;
}

/** A VFIO group as a device sees it (a `Group`): enough to name it and to hand it to a hot reset. */
export interface DeviceGroup {
  /** The IOMMU group number. */
  readonly number: number;
  /** Its node, `/dev/vfio/N`. */
  readonly path: string;
  /** The group's fd. */
  readonly fd: number;
  /** Whether the group was closed. */
  readonly closed: boolean;
}

/** Options of a device as it is opened. */
export interface DeviceOptions {
  /**
   * The device's DMA address width in bits: `dev.dma` hands out IOVAs below 2^dmaBits, even when
   * other devices with wider masks share the IOMMU context (default 64).
   */
  dmaBits?: number;
  /**
   * The VF token (a UUID) to open an SR-IOV VF whose PF is on vfio-pci with: the one the PF's
   * user set (`pf.sriov.setVfToken()`). Also needed to open a PF whose VFs are in use.
   */
  vfToken?: string;
}

/** @internal How a device was opened: by its group (container) or by its cdev (iommufd). */
export interface DeviceOpening extends DeviceOptions {
  context: DeviceContext;
  group?: DeviceGroup;
  /** The groups open in the same container, whose fds a hot reset may need; none through iommufd. */
  openGroups?: () => readonly DeviceGroup[];
  iommuGroup: number;
  address: PciAddress;
  /** What serves the device (the device owns it and closes it when it closes). */
  channel: DeviceChannel;
  /** Called when the device closes, so its opener lets go of it. */
  forget: (dev: { readonly address: PciAddress }) => void;
}

/**
 * @internal A device asked for again while open is the same object (as groups, regions and
 * interrupts are), unless the options ask for something it is not.
 */
export function openAgain<T extends { readonly address: string; readonly dmaBits: number }>(
  open: T,
  options: DeviceOptions,
): T {
  if (options.dmaBits !== undefined && options.dmaBits !== open.dmaBits) {
    throw new VfioError(
      VfioErrorCode.INVALID_STATE,
      `${open.address} is already open with dmaBits ${open.dmaBits}: close it first to open it with dmaBits ${options.dmaBits}`,
    );
  }
  return open;
}
