/** Parser and builder of the PCI hot-reset buffers (`vfio_pci_hot_reset_info`, `vfio_pci_hot_reset`). */
import { decodeStruct, structBuffer } from './koffi.js';
import { vfio_pci_dependent_device, vfio_pci_hot_reset, vfio_pci_hot_reset_info } from './vfio-structs.js';
import { VfioRangeError } from './errors.js';
import { MAX_INFO_SIZE } from './variable.js';
import { VfioErrorCode } from './error-codes.js';

/** A device a bus or slot reset would also reset. */
export interface DependentDevice {
  /**
   * Its IOMMU group; for a device opened through its cdev (`VFIO_PCI_HOT_RESET_FLAG_DEV_ID` in
   * the flags) the iommufd device id instead: 0 = owned through its group, -1 = not owned.
   */
  group: number;
  segment: number;
  bus: number;
  /** Device (slot) number: devfn >> 3. */
  device: number;
  /** Function number: devfn & 7. */
  fn: number;
}

/** The flags, `count` and devices of a `vfio_pci_hot_reset_info` buffer; throws when it is cut short. */
export function parseHotResetInfo(buf: Uint8Array): { flags: number; count: number; devices: DependentDevice[] } {
  if (buf.length < vfio_pci_hot_reset_info.size)
    throw new VfioRangeError(
      VfioErrorCode.MALFORMED,
      `vfio_pci_hot_reset_info: ${buf.length} bytes, shorter than the ${vfio_pci_hot_reset_info.size}-byte struct`,
    );
  const { flags, count } = decodeStruct<{ flags: number; count: number }>(buf, vfio_pci_hot_reset_info);
  const item = vfio_pci_dependent_device.size;
  const fits = Math.floor((buf.length - vfio_pci_hot_reset_info.size) / item);
  const devices: DependentDevice[] = [];
  for (let i = 0; i < Math.min(count, fits); i++) {
    const d = decodeStruct<{ group_id: number; segment: number; bus: number; devfn: number }>(
      buf,
      vfio_pci_dependent_device,
      vfio_pci_hot_reset_info.size + i * item,
    );
    // The union's devid is a __u32 holding -1 for "not owned": read it signed.
    const group = (flags & 1) !== 0 ? d.group_id | 0 : d.group_id;
    devices.push({ group, segment: d.segment, bus: d.bus, device: d.devfn >> 3, fn: d.devfn & 7 });
  }
  return { flags, count, devices };
}

/**
 * A `vfio_pci_hot_reset_info` buffer with room for `count` devices (the count the kernel asked
 * for): a count past MAX_INFO_SIZE is not trusted, as for the other variable-size buffers.
 */
export function hotResetInfoBuffer(count: number): Buffer {
  const most = Math.floor((MAX_INFO_SIZE - vfio_pci_hot_reset_info.size) / vfio_pci_dependent_device.size);
  if (!Number.isInteger(count) || count < 0 || count > most)
    throw new VfioRangeError(
      VfioErrorCode.MALFORMED,
      `vfio_pci_hot_reset_info: room for ${count} devices asked for, more than the ${most} that fit in ${MAX_INFO_SIZE} bytes`,
    );
  const argsz = vfio_pci_hot_reset_info.size + count * vfio_pci_dependent_device.size;
  return structBuffer(vfio_pci_hot_reset_info, { argsz }, argsz);
}

/** A `vfio_pci_hot_reset` request carrying the fds of every affected group. */
export function buildHotReset(groupFds: readonly number[]): Buffer {
  groupFds.forEach((fd, i) => {
    // An fd is an int32 >= 0: writeInt32LE would truncate a fraction or throw Node's RangeError.
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fff_ffff)
      throw new VfioRangeError(VfioErrorCode.INVALID_ARGUMENT, `vfio_pci_hot_reset: group fd ${i} is ${fd}, not an fd`);
  });
  const argsz = vfio_pci_hot_reset.size + 4 * groupFds.length;
  const buf = structBuffer(vfio_pci_hot_reset, { argsz, flags: 0, count: groupFds.length }, argsz);
  groupFds.forEach((fd, i) => buf.writeInt32LE(fd, vfio_pci_hot_reset.size + 4 * i));
  return buf;
}
