/**
 * What the DMA layer needs from an IOMMU context, whichever way into VFIO opened it: the
 * legacy Type1 container, an iommufd IOAS, or a no-IOMMU container (no translation at all).
 */
import type { IovaRange } from '../../structs/index.js';
import { VfioErrorCode, VfioRangeError, VfioTypeError } from '../../structs/index.js';
import { checkInteger, describeArg, U64_MAX } from '../sys/index.js';
import { hex } from '../sys/index.js';

/** How a device's DMA is set up: `type1` (container), `iommufd`, `noiommu`, or by a vfio-user server (`vfio-user`). */
export type IommuKind = 'type1' | 'iommufd' | 'noiommu' | 'vfio-user';

/** One mapping for `mapDma`: memory of this process made visible to the device at an IOVA. */
export interface DmaMapRequest {
  /** Process virtual address of the memory (page aligned). */
  vaddr: bigint;
  /** Address the device uses (page aligned). */
  iova: bigint;
  /** Bytes (a number: a multiple of the IOMMU page size). */
  size: number;
  /** The device may read the memory. */
  readable: boolean;
  /** The device may write the memory. */
  writable: boolean;
  /** The memory's file, for an IOMMU in another process (`sharesMemory`); it stays the caller's. */
  fd?: number;
  /** Where the memory starts in `fd`. */
  fdOffset?: bigint;
}

/** What an IOMMU context reports of itself: page sizes, valid IOVA ranges, mappings left. */
export interface IommuInfo {
  /** Bitmap of supported IOMMU page sizes, as the kernel's u64 (iommufd reports only the smallest one). */
  pageSizes: bigint;
  /** Smallest page size in bytes: the alignment every mapping needs. */
  minPageSize: number;
  /** Valid IOVA ranges, inclusive ends. */
  iovaRanges: IovaRange[];
  /** Mappings still available (the kernel's dma_entry_limit minus those in use), when reported (Type1 only). */
  dmaAvail?: number;
}

/**
 * An IOMMU context as the DMA layer uses it, whichever way into VFIO opened it: a `Container`
 * (Type1 or no-IOMMU) or an `IommufdContext`, and their backends `Type1Iommu` and `IommufdIoas`.
 */
export interface Iommu {
  readonly kind: IommuKind;
  readonly name: string;
  /**
   * The device's memory accesses are made by another process (a vfio-user server), which maps
   * DMA memory from a descriptor: buffers are then memfds mapped shared, not private memory.
   */
  readonly sharesMemory?: boolean;
  readonly closed: boolean;
  /** Registers cleanup to run before the IOMMU context goes away (DMA buffers unmap there). */
  onClose(fn: () => void, when?: 'before' | 'after'): void;
  /** The page sizes, IOVA ranges and mappings left, asked of the kernel at each call. */
  info(): IommuInfo;
  /** Maps `req.size` bytes (a number) at `req.vaddr` for the device at `req.iova` (addresses are bigints). */
  mapDma(req: DmaMapRequest): void;
  /** Unmaps exactly one earlier mapping: its IOVA (a bigint) and its size in bytes (a number). */
  unmapDma(iova: bigint, size: number): void;
  /**
   * No-IOMMU only: the bus address of `size` bytes (a number) of locked memory at `vaddr` (its
   * physical address); throws when the memory is not physically contiguous. Absent where an
   * IOMMU translates.
   */
  physicalAddress?(vaddr: bigint, size: number): bigint;
}

/** `0x1000-0x1fff, ...` for messages. */
export function formatRanges(ranges: readonly IovaRange[]): string {
  return ranges.map((r) => `${hex(r.start)}-${hex(r.end)}`).join(', ');
}

/**
 * Throws unless `value` is an address (IOVA, virtual, physical): a bigint from 0n to 2^64 - 1.
 * `what` names the method and argument (`mapDma iova`), `where` the object (`in container ...`).
 */
export function checkAddress(what: string, where: string, value: unknown): bigint {
  if (typeof value === 'bigint' && value >= 0n && value <= U64_MAX) return value;
  const head = `${what} ${describeArg(value)} ${where}`;
  if (typeof value === 'number')
    throw new VfioTypeError(
      VfioErrorCode.INVALID_ARGUMENT,
      `${head}: addresses (IOVA, virtual, physical) are bigints: ${Number.isSafeInteger(value) && value >= 0 ? `pass ${value}n, or BigInt(x)` : 'pass a bigint'}`,
    );
  if (typeof value !== 'bigint')
    throw new VfioTypeError(VfioErrorCode.INVALID_ARGUMENT, `${head}: expected an address (a bigint)`);
  throw new VfioRangeError(
    VfioErrorCode.OUT_OF_RANGE,
    `${head} is not a 64-bit address: expected a bigint from 0n to 0xffffffffffffffffn`,
  );
}

/** Checks what `mapDma` was given (plain JavaScript can pass anything); `where` names the context. */
export function checkMapRequest(where: string, req: unknown): DmaMapRequest {
  if (typeof req !== 'object' || req === null || Array.isArray(req))
    throw new VfioTypeError(
      VfioErrorCode.INVALID_ARGUMENT,
      `mapDma request ${describeArg(req)} ${where}: expected { vaddr, iova, size, readable, writable }`,
    );
  const r = req as Record<string, unknown>;
  checkAddress('mapDma vaddr', where, r.vaddr);
  checkAddress('mapDma iova', where, r.iova);
  checkInteger('mapDma size', where, r.size, 1, Number.MAX_SAFE_INTEGER);
  return req as DmaMapRequest;
}

/** Checks the arguments of `unmapDma(iova, size)`. */
export function checkUnmap(where: string, iova: unknown, size: unknown): void {
  checkAddress('unmapDma iova', where, iova);
  checkInteger('unmapDma size', where, size, 1, Number.MAX_SAFE_INTEGER);
}

/**
 * The smallest IOMMU page of a page-size bitmap the kernel reported, as a number; throws when
 * there is none or it is past 2^52 (every mapping is aligned to it, so 0 cannot stand).
 */
export function minPageSizeOf(what: string, pageSizes: bigint): number {
  const lowest = pageSizes & -pageSizes;
  if (lowest === 0n || lowest > 1n << 52n)
    throw new VfioRangeError(
      VfioErrorCode.MALFORMED,
      `${what}: the kernel reports IOMMU page sizes ${hex(pageSizes)}, which hold no usable page size`,
    );
  return Number(lowest);
}
