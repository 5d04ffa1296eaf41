/**
 * `<linux/iommufd.h>` (the IOMMU file `/dev/iommu`) and the device-cdev part of `<linux/vfio.h>`
 * (binding a `/dev/vfio/devices/vfioN` to an iommufd). Both arrived after 6.1: the
 * conformance test checks these against the headers of the guest kernel the rig builds.
 */
import { _IO } from './ioctl.js';
import { cStruct, type TypeObject } from './koffi.js';
import { VFIO_BASE, VFIO_TYPE } from './vfio-ioctls.js';

export const IOMMUFD_TYPE = ';';
export const IOMMUFD_CMD_BASE = 0x80;

export const iommu_destroy = cStruct('iommu_destroy', {
  size: 'uint32_t',
  id: 'uint32_t',
});

export const iommu_ioas_alloc = cStruct('iommu_ioas_alloc', {
  size: 'uint32_t',
  flags: 'uint32_t',
  out_ioas_id: 'uint32_t',
});

export const iommu_iova_range = cStruct('iommu_iova_range', {
  start: 'uint64_t',
  last: 'uint64_t',
});

export const iommu_ioas_iova_ranges = cStruct('iommu_ioas_iova_ranges', {
  size: 'uint32_t',
  ioas_id: 'uint32_t',
  num_iovas: 'uint32_t',
  __reserved: 'uint32_t',
  allowed_iovas: 'uint64_t', // user pointer to iommu_iova_range[num_iovas]
  out_iova_alignment: 'uint64_t',
});

export const iommu_ioas_map = cStruct('iommu_ioas_map', {
  size: 'uint32_t',
  flags: 'uint32_t',
  ioas_id: 'uint32_t',
  __reserved: 'uint32_t',
  user_va: 'uint64_t',
  length: 'uint64_t',
  iova: 'uint64_t',
});

export const iommu_ioas_unmap = cStruct('iommu_ioas_unmap', {
  size: 'uint32_t',
  ioas_id: 'uint32_t',
  iova: 'uint64_t',
  length: 'uint64_t',
});

export const vfio_device_bind_iommufd = cStruct('vfio_device_bind_iommufd', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  iommufd: 'int32_t',
  out_devid: 'uint32_t',
  // Added in 6.17 with VFIO_DEVICE_BIND_FLAG_TOKEN; older kernels read only the first 16 bytes.
  token_uuid_ptr: 'uint64_t',
});

export const vfio_device_attach_iommufd_pt = cStruct('vfio_device_attach_iommufd_pt', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  pt_id: 'uint32_t',
  pasid: 'uint32_t',
});

export const vfio_device_detach_iommufd_pt = cStruct('vfio_device_detach_iommufd_pt', {
  argsz: 'uint32_t',
  flags: 'uint32_t',
  pasid: 'uint32_t',
});

export const IOMMU_DESTROY = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 0x00);
export const IOMMU_IOAS_ALLOC = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 0x01);
export const IOMMU_IOAS_IOVA_RANGES = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 0x04);
export const IOMMU_IOAS_MAP = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 0x05);
export const IOMMU_IOAS_UNMAP = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 0x06);
export const VFIO_DEVICE_BIND_IOMMUFD = _IO(VFIO_TYPE, VFIO_BASE + 18);
export const VFIO_DEVICE_ATTACH_IOMMUFD_PT = _IO(VFIO_TYPE, VFIO_BASE + 19);
export const VFIO_DEVICE_DETACH_IOMMUFD_PT = _IO(VFIO_TYPE, VFIO_BASE + 20);

// enum iommufd_ioas_map_flags
export const IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0;
export const IOMMU_IOAS_MAP_WRITEABLE = 1 << 1;
export const IOMMU_IOAS_MAP_READABLE = 1 << 2;
// vfio_device_bind_iommufd.flags: token_uuid_ptr points at a VF token (6.17 and later)
export const VFIO_DEVICE_BIND_FLAG_TOKEN = 1 << 0;
// vfio_pci_hot_reset_info.flags on a device opened through its cdev
export const VFIO_PCI_HOT_RESET_FLAG_DEV_ID = 1 << 0;
export const VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED = 1 << 1;

/** Every layout above, by C name (checked against the built kernel's headers). */
export const IOMMUFD_STRUCTS: Readonly<Record<string, TypeObject>> = {
  iommu_destroy,
  iommu_ioas_alloc,
  iommu_iova_range,
  iommu_ioas_iova_ranges,
  iommu_ioas_map,
  iommu_ioas_unmap,
  vfio_device_bind_iommufd,
  vfio_device_attach_iommufd_pt,
  vfio_device_detach_iommufd_pt,
};

/** Every request code above, by C macro name. */
export const IOMMUFD_IOCTLS = {
  IOMMU_DESTROY,
  IOMMU_IOAS_ALLOC,
  IOMMU_IOAS_IOVA_RANGES,
  IOMMU_IOAS_MAP,
  IOMMU_IOAS_UNMAP,
  VFIO_DEVICE_BIND_IOMMUFD,
  VFIO_DEVICE_ATTACH_IOMMUFD_PT,
  VFIO_DEVICE_DETACH_IOMMUFD_PT,
} as const satisfies Readonly<Record<string, number>>;

/** Every constant above that the C headers define, by name. */
export const IOMMUFD_CONSTANTS: Readonly<Record<string, number>> = {
  IOMMUFD_TYPE: IOMMUFD_TYPE.charCodeAt(0),
  IOMMUFD_CMD_BASE,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_IOAS_MAP_READABLE,
  VFIO_DEVICE_BIND_FLAG_TOKEN,
  VFIO_PCI_HOT_RESET_FLAG_DEV_ID,
  VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED,
};
