/**
 * What the DMA layer needs from an IOMMU context, whichever way into VFIO opened it: the
 * legacy Type1 container, an iommufd IOAS, or a no-IOMMU container (no translation at all).
 */
import type { IovaRange } from '../../structs/index.js';

/** The three ways a device's DMA is set up: `type1` (container), `iommufd`, `noiommu`. */
export type IommuKind = 'type1' | 'iommufd' | 'noiommu';

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
  /** Bitmap of supported IOMMU page sizes (iommufd reports only the smallest one). */
  pageSizes: bigint;
  /** Smallest page size: the alignment every mapping needs. */
  minPageSize: bigint;
  /** Valid IOVA ranges, inclusive ends. */
  iovaRanges: IovaRange[];
  /** Mappings still available (the kernel's dma_entry_limit minus those in use), when reported (Type1 only). */
  dmaAvail?: number;
}

export interface Iommu {
  readonly kind: IommuKind;
  readonly name: string;
  readonly closed: boolean;
  /** Registers cleanup to run before the IOMMU context goes away (DMA buffers unmap there). */
  onClose(fn: () => void, when?: 'before' | 'after'): void;
  info(): IommuInfo;
  mapDma(req: DmaMapRequest): void;
  unmapDma(iova: bigint, size: bigint): void;
  /**
   * No-IOMMU only: the bus address of `size` bytes of locked memory at `vaddr` (its physical
   * address); throws when the memory is not physically contiguous. Absent where an IOMMU
   * translates.
   */
  physicalAddress?(vaddr: bigint, size: bigint): bigint;
}

/** `0x1000-0x1fff, ...` for messages. */
export function formatRanges(ranges: readonly IovaRange[]): string {
  return ranges.map((r) => `0x${r.start.toString(16)}-0x${r.end.toString(16)}`).join(', ');
}
