/**
 * vfio-ts: open a PCI device through Linux VFIO, map its registers, give it DMA memory and
 * take its interrupts, from TypeScript.
 *
 * @example
 * ```ts
 * import { openDevice } from 'vfio-ts';
 * using dev = openDevice('00:03.0');
 * console.log(dev.bar(0).read32(0).toString(16));
 * ```
 */
import { Container, type ContainerOptions, type Device } from './vfio/index.js';
import { parsePciAddress } from './pci/index.js';
import { dmaFor, type Dma } from './dma/index.js';

/** A device from `openDevice`, with `dma` for allocating memory it can reach. */
export type OpenedDevice = Device & {
  /** The DMA context of the device's container: `dev.dma.alloc(size)`, `dev.dma.pool(n, size)`. */
  readonly dma: Dma;
};

export interface OpenDeviceOptions extends ContainerOptions {
  /**
   * Container to open the device in (to share one IOMMU context between devices). When absent
   * a new container is created, and closing the device closes it too.
   */
  container?: Container;
  /** Set the bus-master bit so the device can do DMA and MSI (default true). */
  busMaster?: boolean;
  /** The device's DMA address width in bits, for IOVAs handed out by `dev.dma` (default 64). */
  dmaBits?: number;
}

/**
 * One-call bring-up: validates the address, finds the IOMMU group, opens (or reuses) the
 * container and group, opens the device and turns bus mastering on.
 *
 * @param address PCI address, `0000:00:03.0` or short `00:03.0`.
 */
export function openDevice(address: string, options: OpenDeviceOptions = {}): OpenedDevice {
  const addr = parsePciAddress(address); // before any file is touched
  const owned = options.container === undefined;
  const container = options.container ?? new Container(options);
  let dev: Device;
  try {
    dev = container.device(addr);
  } catch (e) {
    if (owned) container.close();
    throw e;
  }
  if (owned) dev.onClose(() => container.close());
  try {
    if (options.busMaster !== false) dev.busMaster = true;
  } catch (e) {
    dev.close();
    throw e;
  }
  const bits = options.dmaBits;
  Object.defineProperty(dev, 'dma', { get: () => dmaFor(container, { addressBits: bits }), enumerable: true });
  return dev as OpenedDevice;
}

export { Container, Group, Device, Region, regionName, irqIndexName, type Iommu, type IommuInfo, type DmaMapRequest, type DeviceInfo, type IrqInfo, type RegionOptions, type ContainerOptions, type HotResetPeer } from './vfio/index.js';
export { ConfigSpace, PciSysfs, parsePciAddress, type PciAddress, type PciBar, type PciCapability } from './pci/index.js';
export { SysError } from './sys/index.js';
export { Dma, DmaBuffer, DmaPool, DmaPoolEntry, IovaAllocator, dmaFor, type DmaAllocOptions, type DmaOptions, type HugePageSize } from './dma/index.js';
export type { RegionInfo, IovaRange, SparseArea } from '../structs/index.js';
export { Interrupts, IrqWaitAbortedError, type EnableIrqOptions, type IrqFired, type IrqRequest, type IrqAbortReason, type IrqType } from './vfio/index.js';
