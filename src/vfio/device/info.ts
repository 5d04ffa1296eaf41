/**
 * What a VFIO device says about itself, read once when it opens: `VFIO_DEVICE_GET_INFO`, and
 * the info of every region and irq index.
 */
import {
  VFIO_DEVICE_FLAGS_PCI,
  VFIO_DEVICE_FLAGS_RESET,
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_IRQ_INFO_NORESIZE,
  VFIO_PCI_VGA_REGION_INDEX,
  decodeStruct,
  parseRegionInfo,
  queryVariable,
  structBuffer,
  vfio_device_info,
  vfio_irq_info,
  vfio_region_info,
  type RegionInfo,
  SysError,
} from '../../../structs/index.js';
import { sysIoctl } from '../../sys/index.js';

/** A device's `vfio_device_info` (`VFIO_DEVICE_GET_INFO`), flags decoded. */
export interface DeviceInfo {
  /** `VFIO_DEVICE_FLAGS_*`. */
  flags: number;
  /** Regions the device has (`num_regions`), including unimplemented ones of size 0. */
  numRegions: number;
  /** Irq indexes the device has (`num_irqs`). */
  numIrqs: number;
  /** The device supports VFIO_DEVICE_RESET. */
  canReset: boolean;
  isPci: boolean;
}

/** One irq index's `vfio_irq_info` (`VFIO_DEVICE_GET_IRQ_INFO`), flags decoded. */
export interface IrqInfo {
  /** The irq index (`VFIO_PCI_INTX_IRQ_INDEX`, ...). */
  index: number;
  /** Vectors within this index (0: not available). */
  count: number;
  flags: number;
  eventfd: boolean;
  maskable: boolean;
  automasked: boolean;
  noresize: boolean;
}

/** `VFIO_DEVICE_GET_INFO`. */
export function readDeviceInfo(fd: number, address: string): DeviceInfo {
  const buf = structBuffer(vfio_device_info, { argsz: vfio_device_info.size });
  sysIoctl(fd, 'VFIO_DEVICE_GET_INFO', buf, address);
  const raw = decodeStruct<{ flags: number; num_regions: number; num_irqs: number }>(buf, vfio_device_info);
  return deviceInfoOf(raw.flags, raw.num_regions, raw.num_irqs);
}

/** A `DeviceInfo` from the fields of a `vfio_device_info`, however it was read. */
export function deviceInfoOf(flags: number, numRegions: number, numIrqs: number): DeviceInfo {
  return {
    flags,
    numRegions,
    numIrqs,
    canReset: (flags & VFIO_DEVICE_FLAGS_RESET) !== 0,
    isPci: (flags & VFIO_DEVICE_FLAGS_PCI) !== 0,
  };
}

/** `VFIO_DEVICE_GET_REGION_INFO` for `index`, capabilities parsed (sparse mmap, type, MSI-X mappable). */
export function readRegionInfo(fd: number, address: string, index: number): RegionInfo {
  try {
    const buf = queryVariable(
      vfio_region_info,
      { index },
      (b) => sysIoctl(fd, 'VFIO_DEVICE_GET_REGION_INFO', b, `${address} region ${index}`),
      'VFIO_DEVICE_GET_REGION_INFO',
    );
    return parseRegionInfo(buf);
  } catch (e) {
    // vfio-pci answers EINVAL for the VGA region of a device that is not a VGA controller.
    if (!(index === VFIO_PCI_VGA_REGION_INDEX && e instanceof SysError && e.errnoName === 'EINVAL')) throw e;
    return { index, flags: 0, size: 0n, offset: 0n, msixMappable: false, caps: [] };
  }
}

/** `VFIO_DEVICE_GET_IRQ_INFO` for `index`. */
export function readIrqInfo(fd: number, address: string, index: number): IrqInfo {
  const buf = structBuffer(vfio_irq_info, { argsz: vfio_irq_info.size, index });
  try {
    sysIoctl(fd, 'VFIO_DEVICE_GET_IRQ_INFO', buf, `${address} irq index ${index}`);
  } catch (e) {
    // vfio-pci answers EINVAL for an index the device cannot have (ERR on conventional PCI).
    if (!(e instanceof SysError && e.errnoName === 'EINVAL')) throw e;
    return { index, count: 0, flags: 0, eventfd: false, maskable: false, automasked: false, noresize: false };
  }
  const raw = decodeStruct<{ flags: number; count: number }>(buf, vfio_irq_info);
  return irqInfoOf(index, raw.flags, raw.count);
}

/** An `IrqInfo` from the fields of a `vfio_irq_info`, however it was read. */
export function irqInfoOf(index: number, flags: number, count: number): IrqInfo {
  return {
    index,
    count,
    flags,
    eventfd: (flags & VFIO_IRQ_INFO_EVENTFD) !== 0,
    maskable: (flags & VFIO_IRQ_INFO_MASKABLE) !== 0,
    automasked: (flags & VFIO_IRQ_INFO_AUTOMASKED) !== 0,
    noresize: (flags & VFIO_IRQ_INFO_NORESIZE) !== 0,
  };
}
