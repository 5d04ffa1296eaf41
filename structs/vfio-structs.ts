/**
 * Every `<linux/vfio.h>` structure the project uses, declared once under its C name.
 * Flexible array members (`data[]`, `areas[]`, ...) are not part of a koffi layout: they start
 * at the struct's size, and `FLEXIBLE_ARRAYS` records each one for the conformance test.
 */
import { cStruct, type TypeObject } from './koffi.js';

export const vfio_info_cap_header = cStruct('vfio_info_cap_header', {
  id: 'uint16_t',
  version: 'uint16_t',
  next: 'uint32_t',
});

export const vfio_group_status = cStruct('vfio_group_status', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
});

export const vfio_device_info = cStruct('vfio_device_info', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  num_regions: 'uint32_t',
  num_irqs: 'uint32_t',
  cap_offset: 'uint32_t',
});

export const vfio_region_info = cStruct('vfio_region_info', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  index: 'uint32_t',
  cap_offset: 'uint32_t',
  size: 'uint64_t',
  offset: 'uint64_t',
});

export const vfio_region_sparse_mmap_area = cStruct('vfio_region_sparse_mmap_area', {
  offset: 'uint64_t',
  size: 'uint64_t',
});

export const vfio_region_info_cap_sparse_mmap = cStruct('vfio_region_info_cap_sparse_mmap', {
  // The u64 items of the flexible array give the C struct 8-byte alignment.
  header: [8, vfio_info_cap_header],
  nr_areas: 'uint32_t',
  reserved: 'uint32_t',
  // areas[]: vfio_region_sparse_mmap_area
});

export const vfio_region_info_cap_type = cStruct('vfio_region_info_cap_type', {
  header: vfio_info_cap_header,
  type: 'uint32_t',
  subtype: 'uint32_t',
});

export const vfio_irq_info = cStruct('vfio_irq_info', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  index: 'uint32_t',
  count: 'uint32_t',
});

export const vfio_irq_set = cStruct('vfio_irq_set', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  index: 'uint32_t',
  start: 'uint32_t',
  count: 'uint32_t',
  // data[]: u8, holding an int32 eventfd or a u8 bool per vector
});

export const vfio_iommu_type1_info = cStruct('vfio_iommu_type1_info', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  iova_pgsizes: 'uint64_t',
  cap_offset: 'uint32_t',
  // 4 bytes of tail padding: sizeof is 24
});

export const vfio_iova_range = cStruct('vfio_iova_range', {
  start: 'uint64_t',
  end: 'uint64_t',
});

export const vfio_iommu_type1_info_cap_iova_range = cStruct('vfio_iommu_type1_info_cap_iova_range', {
  // The u64 items of the flexible array give the C struct 8-byte alignment.
  header: [8, vfio_info_cap_header],
  nr_iovas: 'uint32_t',
  reserved: 'uint32_t',
  // iova_ranges[]: vfio_iova_range
});

export const vfio_iommu_type1_info_dma_avail = cStruct('vfio_iommu_type1_info_dma_avail', {
  header: vfio_info_cap_header,
  avail: 'uint32_t',
});

export const vfio_iommu_type1_dma_map = cStruct('vfio_iommu_type1_dma_map', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  vaddr: 'uint64_t',
  iova: 'uint64_t',
  size: 'uint64_t',
});

export const vfio_iommu_type1_dma_unmap = cStruct('vfio_iommu_type1_dma_unmap', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  iova: 'uint64_t',
  size: 'uint64_t',
  // data[]: u8 (a vfio_bitmap with GET_DIRTY_BITMAP)
});

export const vfio_pci_dependent_device = cStruct('vfio_pci_dependent_device', {
  group_id: 'uint32_t',
  segment: 'uint16_t',
  bus: 'uint8_t',
  devfn: 'uint8_t',
});

export const vfio_pci_hot_reset_info = cStruct('vfio_pci_hot_reset_info', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  count: 'uint32_t',
  // devices[]: vfio_pci_dependent_device
});

export const vfio_pci_hot_reset = cStruct('vfio_pci_hot_reset', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  count: 'uint32_t',
  // group_fds[]: int32
});

/** Every VFIO layout above, by C name (the conformance test walks this). */
export const VFIO_STRUCTS: Readonly<Record<string, TypeObject>> = {
  vfio_info_cap_header,
  vfio_group_status,
  vfio_device_info,
  vfio_region_info,
  vfio_region_sparse_mmap_area,
  vfio_region_info_cap_sparse_mmap,
  vfio_region_info_cap_type,
  vfio_irq_info,
  vfio_irq_set,
  vfio_iommu_type1_info,
  vfio_iova_range,
  vfio_iommu_type1_info_cap_iova_range,
  vfio_iommu_type1_info_dma_avail,
  vfio_iommu_type1_dma_map,
  vfio_iommu_type1_dma_unmap,
  vfio_pci_dependent_device,
  vfio_pci_hot_reset_info,
  vfio_pci_hot_reset,
};

/** A flexible array member: it starts at the struct's size; `element` is its item type or size. */
export interface FlexibleArray {
  field: string;
  element: TypeObject | number;
}

/** The flexible array member of each struct that has one. */
export const FLEXIBLE_ARRAYS: Readonly<Record<string, FlexibleArray>> = {
  vfio_region_info_cap_sparse_mmap: { field: 'areas', element: vfio_region_sparse_mmap_area },
  vfio_irq_set: { field: 'data', element: 1 },
  vfio_iommu_type1_info_cap_iova_range: { field: 'iova_ranges', element: vfio_iova_range },
  vfio_iommu_type1_dma_unmap: { field: 'data', element: 1 },
  vfio_pci_hot_reset_info: { field: 'devices', element: vfio_pci_dependent_device },
  vfio_pci_hot_reset: { field: 'group_fds', element: 4 },
};
