/**
 * What the DMA layer needs from an IOMMU backend. The legacy VFIO Type1 `Container` is the
 * first implementation; iommufd is meant to be the second, without changes to the DMA layer.
 */
import type { IovaRange } from '../../structs/index.js';

export interface DmaMapRequest {
  /** Process virtual address of the memory (page aligned). */
  vaddr: bigint;
  /** Address the device uses (page aligned). */
  iova: bigint;
  /** Bytes (a multiple of the IOMMU page size). */
  size: bigint;
  /** The device may read the memory. */
  readable: boolean;
  /** The device may write the memory. */
  writable: boolean;
}

export interface IommuInfo {
  /** Bitmap of supported IOMMU page sizes. */
  pageSizes: bigint;
  /** Smallest page size: the alignment every mapping needs. */
  minPageSize: bigint;
  /** Valid IOVA ranges, inclusive ends. */
  iovaRanges: IovaRange[];
  /** Mappings still available (the kernel's dma_entry_limit minus those in use), when reported. */
  dmaAvail?: number;
}

export interface Iommu {
  readonly name: string;
  readonly closed: boolean;
  /** Registers cleanup to run before the IOMMU context goes away (DMA buffers unmap there). */
  onClose(fn: () => void, when?: 'before' | 'after'): void;
  info(): IommuInfo;
  mapDma(req: DmaMapRequest): void;
  unmapDma(iova: bigint, size: bigint): void;
}
