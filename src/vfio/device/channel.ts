/**
 * How a `Device` reaches what serves it. The kernel serves a VFIO device through its fd
 * (ioctls, pread/pwrite, mmap: `KernelChannel`); a device served by another process (vfio-user)
 * answers the same questions over a UNIX socket. Everything a device, its regions and its
 * interrupts ask of it goes through here, so `Device`, `Region` and `Interrupts` stay one set
 * of classes whoever serves the device.
 */
import type { RegionInfo } from '../../../structs/index.js';
import type { RegionChannel } from '../region/channel.js';
import type { IrqChannel } from '../irq/set.js';
import type { DeviceInfo, IrqInfo } from './info.js';

/**
 * What serves one open device: its info, its regions' bytes and mappable areas
 * (`RegionChannel`), its interrupts (`IrqChannel`), reset and close.
 */
export interface DeviceChannel extends RegionChannel, IrqChannel {
  /** The channel's own fd: the VFIO device fd for the kernel's, the socket for another process. */
  readonly fd: number;
  /**
   * Whether `fd` is a kernel VFIO device fd, so that the ioctls outside this interface (the
   * PCI hot reset, which needs the kernel's view of the bus) may be sent to it.
   */
  readonly kernel: boolean;
  /** The device's info (`VFIO_DEVICE_GET_INFO`). */
  readDeviceInfo(): DeviceInfo;
  /** Region `index`'s info with its capabilities: sparse mmap areas, type, MSI-X mappable. */
  readRegionInfo(index: number): RegionInfo;
  /** Irq index `index`'s info. */
  readIrqInfo(index: number): IrqInfo;
  /**
   * `VFIO_DEVICE_FEATURE` with `arg` (a `vfio_device_feature` and its payload, written back in
   * place); returns the ioctl's result. Absent where whoever serves the device takes no features.
   */
  feature?(arg: Uint8Array, target: string): number;
  /** Resets the device (`VFIO_DEVICE_RESET`). */
  reset(): void;
  /** Closes `fd` (once; the device calls it when it closes). */
  close(): void;
}
