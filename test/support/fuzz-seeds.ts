/**
 * Valid inputs the fuzz tests mutate (test/support/fuzz.ts), built with the real koffi layouts
 * of structs/: each comes with the positions of its offsets and counts.
 */
import {
  PCI_CAPABILITY_LIST,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_COMMAND,
  PCI_DEVICE_ID,
  PCI_EXT_CAP_ID_ERR,
  PCI_EXT_CAP_ID_VNDR,
  PCI_HEADER_TYPE,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_VENDOR_ID,
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
  VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
  VFIO_REGION_INFO_CAP_SPARSE_MMAP,
  VFIO_REGION_INFO_CAP_TYPE,
  VFIO_REGION_INFO_FLAG_CAPS,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  encodeStruct,
  vfio_info_cap_header,
  vfio_iommu_type1_info,
  vfio_iommu_type1_info_cap_iova_range,
  vfio_iommu_type1_info_dma_avail,
  vfio_iova_range,
  vfio_region_info,
  vfio_region_info_cap_sparse_mmap,
  vfio_region_info_cap_type,
  vfio_region_sparse_mmap_area,
  vfio_pci_dependent_device,
  vfio_pci_hot_reset_info,
  type TypeObject,
} from '../../structs/index.js';
import type { Seed } from './fuzz.js';

export interface Cap {
  id: number;
  type: TypeObject;
  fields: Record<string, unknown>;
  items?: { type: TypeObject; values: Array<Record<string, unknown>> };
}

/**
 * An info buffer: the fixed struct, then each capability linked to the next, as the kernel lays
 * them out; hot are the positions of cap_offset, each `next` and each count.
 */
export function infoBuffer(fixed: TypeObject, head: Record<string, unknown>, caps: Cap[]): Seed {
  const sizes = caps.map((c) => c.type.size + (c.items ? c.items.type.size * c.items.values.length : 0));
  const total = fixed.size + sizes.reduce((a, b) => a + ((b + 3) & ~3), 0);
  const buf = Buffer.alloc(total);
  encodeStruct(buf, fixed, { ...head, argsz: total, cap_offset: caps.length ? fixed.size : 0 });
  let at = fixed.size;
  const hot = [fixed.members!.cap_offset.offset];
  caps.forEach((c, i) => {
    hot.push(at + 4, ...(c.items ? [at + 8] : []));
    const next = i + 1 < caps.length ? at + ((sizes[i] + 3) & ~3) : 0;
    encodeStruct(buf, c.type, c.fields, at);
    encodeStruct(buf, vfio_info_cap_header, { id: c.id, version: 1, next }, at);
    c.items?.values.forEach((v, j) => encodeStruct(buf, c.items!.type, v, at + c.type.size + j * c.items!.type.size));
    at = next;
  });
  return { bytes: new Uint8Array(buf), hot };
}

export const REGION_SEED = infoBuffer(
  vfio_region_info,
  { flags: VFIO_REGION_INFO_FLAG_CAPS | VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_READ, index: 0 },
  [
    {
      id: VFIO_REGION_INFO_CAP_SPARSE_MMAP,
      type: vfio_region_info_cap_sparse_mmap,
      fields: { nr_areas: 2 },
      items: {
        type: vfio_region_sparse_mmap_area,
        values: [
          { offset: 0n, size: 0x1000n },
          { offset: 0x3000n, size: 0x1000n },
        ],
      },
    },
    { id: VFIO_REGION_INFO_CAP_TYPE, type: vfio_region_info_cap_type, fields: { type: 1, subtype: 3 } },
    { id: VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, type: vfio_info_cap_header, fields: {} },
  ],
);

export const TYPE1_SEED = infoBuffer(
  vfio_iommu_type1_info,
  { flags: VFIO_IOMMU_INFO_CAPS, iova_pgsizes: 0x40201000n },
  [
    {
      id: VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
      type: vfio_iommu_type1_info_cap_iova_range,
      fields: { nr_iovas: 2 },
      items: {
        type: vfio_iova_range,
        values: [
          { start: 0n, end: 0xfedfffffn },
          { start: 0xfef00000n, end: 0xffffffffffffn },
        ],
      },
    },
    { id: VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, type: vfio_iommu_type1_info_dma_avail, fields: { avail: 65535 } },
  ],
);

/** A hot-reset info buffer with `devices` (group or devid, segment, bus, devfn), hot: argsz and count. */
export function hotResetSeed(flags: number, devices: Array<[number, number, number, number]>): Seed {
  const size = vfio_pci_hot_reset_info.size + devices.length * vfio_pci_dependent_device.size;
  const buf = Buffer.alloc(size);
  encodeStruct(buf, vfio_pci_hot_reset_info, { argsz: size, flags, count: devices.length });
  devices.forEach(([group_id, segment, bus, devfn], i) =>
    encodeStruct(
      buf,
      vfio_pci_dependent_device,
      { group_id, segment, bus, devfn },
      vfio_pci_hot_reset_info.size + i * vfio_pci_dependent_device.size,
    ),
  );
  return { bytes: new Uint8Array(buf), hot: [0, 8] };
}

/**
 * A type 0 config space of `size` bytes (256: conventional, 4096: PCIe) with BARs (32-bit,
 * 64-bit prefetchable, I/O), the capabilities PM, MSI, PCIe and MSI-X, and for 4096 bytes two
 * extended capabilities (AER, vendor-specific). Hot: status, header type, the capability
 * pointer, every next pointer, the BARs and the MSI-X table and PBA words.
 */
export function configSeed(size: 256 | 4096): Seed {
  const b = Buffer.alloc(size);
  b.writeUInt16LE(0x1234, PCI_VENDOR_ID);
  b.writeUInt16LE(0x11e8, PCI_DEVICE_ID);
  b.writeUInt16LE(0x0006, PCI_COMMAND);
  b.writeUInt16LE(PCI_STATUS_CAP_LIST, PCI_STATUS);
  b.writeUInt32LE(0xfe000000, 0x10); // BAR0 mem32
  b.writeUInt32LE(0xc000000c, 0x14); // BAR1-2 mem64 prefetchable
  b.writeUInt32LE(0x00000001, 0x18);
  b.writeUInt32LE(0x0000c001, 0x1c); // BAR3 I/O
  b[PCI_CAPABILITY_LIST] = 0x40;
  const caps: Array<[number, number, number]> = [
    [0x40, PCI_CAP_ID_PM, 0x50],
    [0x50, PCI_CAP_ID_MSI, 0x70],
    [0x70, PCI_CAP_ID_EXP, 0xb0],
    [0xb0, PCI_CAP_ID_MSIX, 0],
  ];
  for (const [at, id, next] of caps) [b[at], b[at + 1]] = [id, next];
  b.writeUInt16LE(0x0081, 0x52); // MSI: 64-bit, 1 vector
  b.writeUInt16LE(0x0042, 0x72); // PCIe: endpoint, version 2
  b.writeUInt16LE(0x001f, 0xb2); // MSI-X: 32 vectors
  b.writeUInt32LE(0x00002000, 0xb4); // table in BAR0 at 0x2000
  b.writeUInt32LE(0x00003000, 0xb8); // PBA in BAR0 at 0x3000
  const hot = [PCI_STATUS, PCI_HEADER_TYPE, PCI_CAPABILITY_LIST, ...caps.map(([at]) => at + 1), 0x10, 0x14, 0x18, 0xb4];
  if (size === 4096) {
    b.writeUInt32LE(PCI_EXT_CAP_ID_ERR | (1 << 16) | (0x140 << 20), 0x100);
    b.writeUInt32LE(PCI_EXT_CAP_ID_VNDR | (1 << 16), 0x140);
    hot.push(0x100, 0x140);
  }
  return { bytes: new Uint8Array(b), hot };
}
