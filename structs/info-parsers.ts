/** Parsers of the variable-size info buffers into plain objects (64-bit values as bigint). */
import { decodeStruct, type TypeObject } from './koffi.js';
import { type CapEntry, requireCapSize, walkCapChain } from './cap-chain.js';
import {
  vfio_iommu_type1_info,
  vfio_iommu_type1_info_cap_iova_range,
  vfio_iommu_type1_info_dma_avail,
  vfio_iova_range,
  vfio_region_info,
  vfio_region_info_cap_sparse_mmap,
  vfio_region_info_cap_type,
  vfio_region_sparse_mmap_area,
} from './vfio-structs.js';
import {
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
  VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
  VFIO_REGION_INFO_CAP_SPARSE_MMAP,
  VFIO_REGION_INFO_CAP_TYPE,
  VFIO_REGION_INFO_FLAG_CAPS,
} from './vfio-constants.js';
import { CapChainError } from './errors.js';

/** A byte range `[offset, offset + size)` inside a region. */
export interface SparseArea {
  offset: bigint;
  size: bigint;
}

/** A `vfio_region_info` (`VFIO_DEVICE_GET_REGION_INFO`) as a plain object, with its capabilities parsed. */
export interface RegionInfo {
  index: number;
  flags: number;
  size: bigint;
  /** Offset of the region within the device fd (for pread, pwrite and mmap). */
  offset: bigint;
  /** The mmap-able parts when the kernel gave a sparse-mmap capability; undefined means all of it. */
  sparseMmap?: SparseArea[];
  /** Region type and subtype from VFIO_REGION_INFO_CAP_TYPE. */
  type?: { type: number; subtype: number };
  /** The MSI-X table in this BAR may be mmapped (VFIO_REGION_INFO_CAP_MSIX_MAPPABLE). */
  msixMappable: boolean;
  caps: CapEntry[];
}

/** An inclusive IOVA range `[start, end]`, as the kernel reports it. */
export interface IovaRange {
  start: bigint;
  end: bigint;
}

/** A `vfio_iommu_type1_info` (`VFIO_IOMMU_GET_INFO`) as a plain object, with its capabilities parsed. */
export interface IommuType1Info {
  flags: number;
  /** Bitmap of supported IOMMU page sizes; the lowest set bit is the smallest page. */
  iovaPgsizes: bigint;
  iovaRanges?: IovaRange[];
  /** How many more DMA mappings the container accepts (VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL). */
  dmaAvail?: number;
  caps: CapEntry[];
}

/**
 * A capability that is a header with a count (`countField`) followed by that many `item`
 * structs: the items, after checking that the capability holds them all.
 */
function readCapArray<T>(
  buf: Uint8Array,
  cap: CapEntry,
  header: TypeObject,
  countField: string,
  item: TypeObject,
  what: string,
): T[] {
  requireCapSize(cap, header.size, what);
  const count = decodeStruct<Record<string, number>>(buf, header, cap.offset)[countField];
  const start = cap.offset + header.size;
  requireCapSize(cap, header.size + count * item.size, what);
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(decodeStruct<T>(buf, item, start + i * item.size));
  return out;
}

/**
 * Parses the buffer `VFIO_DEVICE_GET_REGION_INFO` filled: the `vfio_region_info` struct and its
 * capability chain (sparse mmap, region type, MSI-X mappable). Throws `CapChainError` when the
 * buffer is shorter than the struct or the chain is malformed.
 */
export function parseRegionInfo(buf: Uint8Array): RegionInfo {
  if (buf.length < vfio_region_info.size)
    throw new CapChainError(
      `vfio_region_info: buffer of ${buf.length} bytes is shorter than the ${vfio_region_info.size}-byte struct`,
    );
  const raw = decodeStruct<{ index: number; flags: number; size: bigint; offset: bigint; cap_offset: number }>(
    buf,
    vfio_region_info,
  );
  const what = `vfio_region_info ${raw.index}`;
  const caps =
    raw.flags & VFIO_REGION_INFO_FLAG_CAPS ? walkCapChain(buf, raw.cap_offset, vfio_region_info.size, what) : [];
  const info: RegionInfo = {
    index: raw.index,
    flags: raw.flags,
    size: raw.size,
    offset: raw.offset,
    msixMappable: false,
    caps,
  };
  for (const cap of caps) {
    if (cap.id === VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
      const areas = vfio_region_sparse_mmap_area;
      info.sparseMmap = readCapArray<SparseArea>(buf, cap, vfio_region_info_cap_sparse_mmap, 'nr_areas', areas, what);
    } else if (cap.id === VFIO_REGION_INFO_CAP_TYPE) {
      requireCapSize(cap, vfio_region_info_cap_type.size, what);
      const t = decodeStruct<{ type: number; subtype: number }>(buf, vfio_region_info_cap_type, cap.offset);
      info.type = { type: t.type, subtype: t.subtype };
    } else if (cap.id === VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
      info.msixMappable = true;
    }
  }
  return info;
}

/**
 * Parses the buffer `VFIO_IOMMU_GET_INFO` filled: the `vfio_iommu_type1_info` struct and its
 * capability chain (IOVA ranges, DMA mappings available). Throws `CapChainError` when the buffer
 * is shorter than the struct or the chain is malformed.
 */
export function parseIommuType1Info(buf: Uint8Array): IommuType1Info {
  if (buf.length < vfio_iommu_type1_info.size)
    throw new CapChainError(
      `vfio_iommu_type1_info: buffer of ${buf.length} bytes is shorter than the ${vfio_iommu_type1_info.size}-byte struct`,
    );
  const raw = decodeStruct<{ flags: number; iova_pgsizes: bigint; cap_offset: number }>(buf, vfio_iommu_type1_info);
  const what = 'vfio_iommu_type1_info';
  const caps =
    raw.flags & VFIO_IOMMU_INFO_CAPS ? walkCapChain(buf, raw.cap_offset, vfio_iommu_type1_info.size, what) : [];
  const info: IommuType1Info = { flags: raw.flags, iovaPgsizes: raw.iova_pgsizes, caps };
  for (const cap of caps) {
    if (cap.id === VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
      const header = vfio_iommu_type1_info_cap_iova_range;
      info.iovaRanges = readCapArray<IovaRange>(buf, cap, header, 'nr_iovas', vfio_iova_range, what);
    } else if (cap.id === VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
      requireCapSize(cap, vfio_iommu_type1_info_dma_avail.size, what);
      info.dmaAvail = decodeStruct<{ avail: number }>(buf, vfio_iommu_type1_info_dma_avail, cap.offset).avail;
    }
  }
  return info;
}
