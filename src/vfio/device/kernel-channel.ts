/** The kernel's `DeviceChannel`: a VFIO device fd, from a group or a cdev. */
import { buildIrqSet, type IrqSetRequest, type RegionInfo } from '../../../structs/index.js';
import { sysClose, sysIoctl, sysPread, sysPwrite } from '../../sys/index.js';
import type { MmapSource } from '../region/channel.js';
import type { DeviceChannel } from './channel.js';
import { readDeviceInfo, readIrqInfo, readRegionInfo, type DeviceInfo, type IrqInfo } from './info.js';

/**
 * A device the kernel serves: ioctls on its fd, and each region at its `offset` in that fd for
 * pread/pwrite and mmap. Errors name `address` as they always have.
 */
export class KernelChannel implements DeviceChannel {
  readonly fd: number;
  readonly kernel = true;
  readonly #address: string;

  /** `fd` is the VFIO device fd, which `close()` closes; `address`, its PCI address, names it in errors. */
  constructor(fd: number, address: string) {
    this.fd = fd;
    this.#address = address;
  }

  readDeviceInfo(): DeviceInfo {
    return readDeviceInfo(this.fd, this.#address);
  }

  readRegionInfo(index: number): RegionInfo {
    return readRegionInfo(this.fd, this.#address, index);
  }

  readIrqInfo(index: number): IrqInfo {
    return readIrqInfo(this.fd, this.#address, index);
  }

  readRegion(info: RegionInfo, offset: number, into: Uint8Array, length: number, target: string): number {
    return sysPread(this.fd, into, length, info.offset + BigInt(offset), target);
  }

  writeRegion(info: RegionInfo, offset: number, from: Uint8Array, length: number, target: string): number {
    return sysPwrite(this.fd, from, length, info.offset + BigInt(offset), target);
  }

  mmapSource(info: RegionInfo, areaOffset: number): MmapSource {
    return { fd: this.fd, offset: info.offset + BigInt(areaOffset) };
  }

  setIrqs(req: IrqSetRequest, target: string, hint?: string): void {
    sysIoctl(this.fd, 'VFIO_DEVICE_SET_IRQS', buildIrqSet(req), target, hint);
  }

  feature(arg: Uint8Array, target: string): number {
    return sysIoctl(this.fd, 'VFIO_DEVICE_FEATURE', arg, target);
  }

  reset(): void {
    sysIoctl(this.fd, 'VFIO_DEVICE_RESET', 0, this.#address);
  }

  close(): void {
    sysClose(this.fd, `device ${this.#address}`);
  }
}
