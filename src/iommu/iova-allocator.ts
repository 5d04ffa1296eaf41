/**
 * IOVA allocation inside the ranges an IOMMU accepts. Free space is a sorted list of
 * half-open ranges; allocation is first fit with alignment; freeing merges neighbours.
 * Every live allocation is remembered, so an address is never handed out twice and a free
 * of something not allocated is an error instead of silent corruption.
 *
 * Addresses (IOVAs, the limit, the floor) are bigints; sizes and alignments are numbers, as
 * everywhere in the API. Inside, the arithmetic is on addresses, so it is done in bigint.
 */
import type { IovaRange } from '../../structs/index.js';
import { VfioError, VfioErrorCode, VfioRangeError, VfioTypeError } from '../../structs/index.js';
import { checkInteger, describeArg } from '../sys/index.js';
import { hex } from '../sys/index.js';

/** A half-open range `[start, end)`. */
export interface Span {
  start: bigint;
  end: bigint;
}

/** What an `IovaAllocator` hands out from. */
export interface IovaAllocatorOptions {
  /** Valid IOVA ranges with inclusive ends, as `VFIO_IOMMU_GET_INFO` reports them. */
  ranges: readonly IovaRange[];
  /** Alignment of every allocation in bytes: the IOMMU's smallest page size (a power of two). */
  minAlign: number;
  /** The device's DMA address width in bits: no IOVA at or above 2^bits is handed out (default 64). */
  addressBits?: number;
  /** Lowest IOVA to hand out (default: one page; IOVA 0 is kept free so a null address stays invalid). */
  floor?: bigint;
}

const isPow2 = (n: bigint): boolean => n > 0n && (n & (n - 1n)) === 0n;
const alignUp = (v: bigint, a: bigint): bigint => (v + a - 1n) & ~(a - 1n);

/** How the allocator names itself in argument errors. */
const WHERE = 'in the IOVA allocator';

/**
 * `align` checked as a size (a number from 1 up) that is a power of two, as a bigint for the
 * address arithmetic. `what` names the method and argument (`alloc align`).
 */
function checkAlign(what: string, align: unknown): bigint {
  const a = BigInt(checkInteger(what, WHERE, align, 1, Number.MAX_SAFE_INTEGER));
  if (!isPow2(a))
    throw new VfioRangeError(VfioErrorCode.INVALID_ARGUMENT, `IOVA alignment must be a power of two, got ${a}`);
  return a;
}

/**
 * First-fit allocator of IOVAs inside the ranges an IOMMU accepts, aligned to its page size; every
 * `Dma` of a context shares one (`dma.allocator()`). It makes no system call.
 */
export class IovaAllocator {
  /** Alignment of every allocation in bytes: the IOMMU's smallest page size. */
  readonly minAlign: number;
  /** One past the highest usable IOVA (an address: 2^addressBits, or 2^64). */
  readonly limit: bigint;
  readonly #align: bigint;
  readonly #free: Span[] = [];
  readonly #live = new Map<bigint, bigint>(); // start -> size
  readonly #total: bigint;

  constructor(opts: IovaAllocatorOptions) {
    const align = checkAlign('IovaAllocator option minAlign', opts.minAlign);
    const bits = opts.addressBits ?? 64;
    if (!Number.isInteger(bits) || bits < 12 || bits > 64)
      throw new VfioRangeError(VfioErrorCode.OUT_OF_RANGE, `DMA address width must be 12-64 bits, got ${bits}`);
    this.minAlign = opts.minAlign;
    this.#align = align;
    this.limit = 1n << BigInt(bits);
    const floor = opts.floor ?? align;
    const spans = opts.ranges
      .map((r) => ({
        start: alignUp(r.start > floor ? r.start : floor, align),
        end: ((r.end + 1n < this.limit ? r.end + 1n : this.limit) / align) * align,
      }))
      .filter((s) => s.end > s.start)
      .sort((a, b) => (a.start < b.start ? -1 : 1));
    for (const s of spans) this.#insertFree(s);
    this.#total = this.#freeTotal();
    if (this.#free.length === 0) {
      throw new VfioRangeError(
        VfioErrorCode.IOVA_EXHAUSTED,
        `no usable IOVA space: the IOMMU ranges ${fmtRanges(opts.ranges)} lie outside the device's ${bits}-bit DMA window`,
      );
    }
  }

  /**
   * Bytes not allocated. A whole number of `minAlign` pages, so exact even past
   * `Number.MAX_SAFE_INTEGER` (8 PiB) with pages of 4 KiB or more: a 64-bit IOVA space holds
   * at most 2^52 of them. Past 8 PiB, arithmetic on it may round; `BigInt(freeBytes)` is exact.
   */
  get freeBytes(): number {
    return Number(this.#freeTotal());
  }

  /** Bytes of the usable space in all (exact, as `freeBytes`). */
  get totalBytes(): number {
    return Number(this.#total);
  }

  #freeTotal(): bigint {
    return this.#free.reduce((n, s) => n + (s.end - s.start), 0n);
  }

  /** Live allocations. */
  get count(): number {
    return this.#live.size;
  }

  /** The live allocations (and reservations), lowest first. */
  get liveSpans(): Span[] {
    return [...this.#live]
      .map(([start, size]) => ({ start, end: start + size }))
      .sort((a, b) => (a.start < b.start ? -1 : 1));
  }

  /** The free spans, for diagnostics and tests. */
  get freeSpans(): ReadonlyArray<Readonly<Span>> {
    return this.#free.map((s) => ({ ...s }));
  }

  /**
   * Allocates `size` bytes (rounded up to `minAlign`) aligned to `align` bytes (at least
   * `minAlign`) and ending at or below the address `below` (a device's DMA limit, default the
   * allocator's); throws when no span fits. Returns the IOVA.
   */
  alloc(size: number, align: number = this.minAlign, below: bigint = this.limit): bigint {
    checkInteger('alloc size', WHERE, size, 1, Number.MAX_SAFE_INTEGER);
    const wanted = checkAlign('alloc align', align);
    if (typeof below !== 'bigint')
      throw new VfioTypeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `alloc below ${describeArg(below)} ${WHERE}: expected an address (a bigint), the IOVA the allocation must end at or below`,
      );
    const a = wanted > this.#align ? wanted : this.#align;
    const len = alignUp(BigInt(size), this.#align);
    for (let i = 0; i < this.#free.length; i++) {
      const s = this.#free[i];
      const start = alignUp(s.start, a);
      const end = s.end < below ? s.end : below;
      if (start + len > end) continue;
      this.#carve(i, start, start + len);
      this.#live.set(start, len);
      return start;
    }
    throw new VfioRangeError(
      VfioErrorCode.IOVA_EXHAUSTED,
      `no free IOVA range of ${hex(len)} bytes aligned to ${hex(a)}${below < this.limit ? ` below ${hex(below)}` : ''}: ${this.#live.size} allocations hold ${hex(this.#total - this.#freeTotal())} of ${hex(this.#total)} bytes; free some buffers or use fewer, larger ones`,
    );
  }

  /**
   * Reserves exactly `[iova, iova + size)`, `size` rounded up to `minAlign` (identity
   * mapping); throws with the reason when it cannot. Returns `iova`.
   */
  reserve(iova: bigint, size: number): bigint {
    checkIova('reserve', iova);
    checkInteger('reserve size', WHERE, size, 1, Number.MAX_SAFE_INTEGER);
    const len = alignUp(BigInt(size), this.#align);
    if (iova % this.#align !== 0n)
      throw new VfioRangeError(
        VfioErrorCode.MISALIGNED,
        `IOVA ${hex(iova)} is not aligned to the IOMMU page size ${hex(this.minAlign)}`,
      );
    if (iova + len > this.limit) {
      throw new VfioRangeError(
        VfioErrorCode.IOVA_UNAVAILABLE,
        `IOVA ${hex(iova)}+${hex(len)} is above the device's DMA limit ${hex(this.limit)}`,
      );
    }
    const i = this.#free.findIndex((s) => s.start <= iova && iova + len <= s.end);
    if (i < 0) {
      throw new VfioRangeError(
        VfioErrorCode.IOVA_UNAVAILABLE,
        `IOVA range ${hex(iova)}+${hex(len)} is not free: it is outside the IOMMU's valid ranges or overlaps a live mapping (free: ${fmtSpans(this.#free)})`,
      );
    }
    this.#carve(i, iova, iova + len);
    this.#live.set(iova, len);
    return iova;
  }

  /** Returns an allocation to the free list, merging it with its neighbours. */
  free(iova: bigint): void {
    checkIova('free', iova);
    const len = this.#live.get(iova);
    if (len === undefined)
      throw new VfioRangeError(VfioErrorCode.INVALID_STATE, `IOVA ${hex(iova)} is not allocated (double free?)`);
    this.#live.delete(iova);
    this.#insertFree({ start: iova, end: iova + len });
  }

  #carve(i: number, start: bigint, end: bigint): void {
    const s = this.#free[i];
    const parts: Span[] = [];
    if (s.start < start) parts.push({ start: s.start, end: start });
    if (end < s.end) parts.push({ start: end, end: s.end });
    this.#free.splice(i, 1, ...parts);
  }

  #insertFree(span: Span): void {
    // Binary search for the insertion point, then merge with the neighbours.
    let lo = 0;
    let hi = this.#free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#free[mid].start < span.start) lo = mid + 1;
      else hi = mid;
    }
    const prev = this.#free[lo - 1];
    const next = this.#free[lo];
    if (prev && prev.end > span.start)
      throw new VfioError(VfioErrorCode.INTERNAL, `IOVA free list corrupt at ${hex(span.start)}`);
    if (next && span.end > next.start)
      throw new VfioError(VfioErrorCode.INTERNAL, `IOVA free list corrupt at ${hex(span.end)}`);
    if (prev && prev.end === span.start && next && span.end === next.start) {
      prev.end = next.end;
      this.#free.splice(lo, 1);
    } else if (prev && prev.end === span.start) prev.end = span.end;
    else if (next && span.end === next.start) next.start = span.start;
    else this.#free.splice(lo, 0, { ...span });
  }
}

/** Throws a TypeError unless `iova` is an address (a bigint). */
function checkIova(method: string, iova: unknown): asserts iova is bigint {
  if (typeof iova !== 'bigint')
    throw new VfioTypeError(
      VfioErrorCode.INVALID_ARGUMENT,
      `${method} iova ${describeArg(iova)} ${WHERE}: expected an address (a bigint)`,
    );
}

function fmtRanges(ranges: readonly IovaRange[]): string {
  return ranges.map((r) => `[${hex(r.start)}-${hex(r.end)}]`).join(' ') || '(none)';
}

function fmtSpans(spans: readonly Span[]): string {
  const shown = spans.slice(0, 4).map((s) => `[${hex(s.start)}, ${hex(s.end)})`);
  return shown.join(' ') + (spans.length > 4 ? ` and ${spans.length - 4} more` : '');
}
