/**
 * DMA for one IOMMU context: allocates IOVAs inside the ranges it reports, maps memory there,
 * checks the locked-memory limit first, and names the mapping limit when the kernel runs out.
 * Without an IOMMU (no-IOMMU mode) it locks the memory and hands out its physical address.
 */
import { VfioError, VfioErrorCode, VfioRangeError, VfioTypeError } from '../../structs/index.js';
import {
  closeAll,
  formatSize,
  sysClose,
  sysMlock,
  sysMunlock,
  type Mapping,
  checkChoice,
  checkInteger,
  describeArg,
} from '../sys/index.js';
import { IovaAllocator, formatRanges, type Iommu, type IommuInfo } from '../iommu/index.js';
import { DmaBuffer } from './dma-buffer.js';
import { DmaPool } from './dma-pool.js';
import { backingPageSize, bufferMemory, mapDmaMemory, roundUp, type HugePageSize } from './memory.js';
import { checkMemlock, explainMapFailure } from './limits.js';
import { hex } from '../sys/index.js';

/** Options of `Dma.alloc()` and `Dma.pool()`. */
export interface DmaAllocOptions {
  /** Back the buffer with hugepages of this size (they must be reserved). */
  hugepages?: HugePageSize;
  /** The device may only read this memory (VFIO_DMA_MAP_FLAG_READ alone). Default: read and write. */
  deviceReadOnly?: boolean;
  /**
   * `'allocate'` (default): an IOVA from the allocator. `'identity'`: IOVA = virtual address,
   * as the simplest drivers use; refused with the reason when that address is not a valid IOVA.
   */
  iova?: 'allocate' | 'identity';
  /** The device's DMA address width in bits (default: the context's). */
  addressBits?: number;
}

/** Options of a `Dma`. */
export interface DmaOptions {
  /** Default DMA address width of the devices using this context, in bits (default 64). */
  addressBits?: number;
}

/**
 * What every `Dma` of one IOMMU context shares: the IOVA space and the live buffers. The IOVA
 * space is read from the IOMMU at the first allocation (a container has no IOMMU to ask before
 * its first group is in), so making a `Dma` makes no system call.
 */
interface DmaSpace {
  iovas?: { info: IommuInfo; allocator: IovaAllocator };
  live: Set<DmaBuffer>;
  closed: boolean;
}

/**
 * The DMA memory of one IOMMU context (`dev.dma`, `container.dma`): `alloc()` maps a buffer for
 * the device at an IOVA, `pool()` many small ones in one mapping. Closing it, or the context,
 * closes every live buffer.
 */
export class Dma {
  /** The IOMMU context the buffers are mapped in. */
  readonly iommu: Iommu;
  /** The DMA address width in bits of the device(s) this `Dma` allocates for. */
  readonly addressBits: number;
  readonly #space: DmaSpace;

  constructor(
    iommu: Iommu,
    options: DmaOptions = {},
    /** @internal The space of another `Dma` of the same context, for `withAddressBits`. */
    space?: DmaSpace,
  ) {
    this.iommu = iommu;
    this.addressBits = checkInteger(
      'addressBits',
      `of the DMA context of ${iommu.name}`,
      options.addressBits ?? 64,
      12,
      64,
    );
    if (space) {
      this.#space = space;
    } else {
      this.#space = { live: new Set(), closed: false };
      iommu.onClose(() => this.close(), 'before');
    }
  }

  /** The IOVA space, read from the IOMMU on first use. */
  #iovas(): { info: IommuInfo; allocator: IovaAllocator } {
    if (!this.#space.iovas) {
      const info = this.iommu.info();
      this.#space.iovas = {
        info,
        allocator: new IovaAllocator({ ranges: info.iovaRanges, minAlign: info.minPageSize }),
      };
    }
    return this.#space.iovas;
  }

  /**
   * The same IOVA space and buffers, allocating below another device's DMA limit: each device
   * of a shared context keeps its own width (`dev.dma` is this for the device's `dmaBits`).
   */
  withAddressBits(bits: number): Dma {
    return bits === this.addressBits ? this : new Dma(this.iommu, { addressBits: bits }, this.#space);
  }

  /** The IOVA allocator of the context (shared by every `Dma` of it); the first call asks the IOMMU for its ranges. */
  allocator(): IovaAllocator {
    this.#check();
    return this.#iovas().allocator;
  }

  /** Whether the context's DMA was closed (by `close()`, or by the IOMMU context closing). */
  get closed(): boolean {
    return this.#space.closed;
  }

  /** Live buffers and pools of this context. */
  get buffers(): number {
    return this.#space.live.size;
  }

  /** What the IOMMU reports now (page sizes, ranges, dma_avail). */
  info(): IommuInfo {
    return this.iommu.info();
  }

  #check(): void {
    if (this.#space.closed || this.iommu.closed)
      throw new VfioError(VfioErrorCode.CLOSED, `DMA context of ${this.iommu.name} is closed`);
  }

  /** This context for messages: `the DMA context of container /dev/vfio/vfio (fd 5)`. */
  get #where(): string {
    return `in the DMA context of ${this.iommu.name}`;
  }

  /** Throws a TypeError or RangeError naming `method` for options a plain JavaScript caller got wrong. */
  #checkOptions(method: string, options: unknown): DmaAllocOptions {
    if (options === undefined) return {};
    if (typeof options !== 'object' || options === null || Array.isArray(options))
      throw new VfioTypeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `${method} options ${describeArg(options)} ${this.#where}: expected an object (or leave it out)`,
      );
    const o = options as Record<string, unknown>;
    checkChoice(`${method} option hugepages`, this.#where, o.hugepages, ['2M', '1G']);
    checkChoice(`${method} option iova`, this.#where, o.iova, ['allocate', 'identity']);
    checkChoice(`${method} option deviceReadOnly`, this.#where, o.deviceReadOnly, [true, false]);
    if (o.addressBits !== undefined) checkInteger(`${method} option addressBits`, this.#where, o.addressBits, 12, 64);
    return o;
  }

  /**
   * Allocates `size` bytes of DMA memory (rounded up to the page size) and maps it for the
   * device. The result has `iova` for the device and `bytes`/`u32`/`view()` for JavaScript.
   * `size` is a number (a size, not an address: a bigint is refused with a TypeError).
   */
  alloc(size: number, options: DmaAllocOptions = {}): DmaBuffer {
    this.#check();
    checkInteger('alloc size', this.#where, size, 1, Number.MAX_SAFE_INTEGER);
    return this.#alloc(size, this.#checkOptions('alloc', options));
  }

  #alloc(want: number, options: DmaAllocOptions): DmaBuffer {
    if (this.iommu.physicalAddress) return this.#allocPhysical(want, options);
    const page = backingPageSize(options.hugepages);
    const bytes = roundUp(want, page);
    const { memory, fd } = bufferMemory(bytes, options.hugepages, this.iommu, this.#where);
    let iova: bigint;
    try {
      iova = this.#iovaFor(memory, bytes, page, options);
    } catch (e) {
      closeAll([() => memory.close(), () => fd !== undefined && sysClose(fd)]);
      throw e;
    }
    const writable = !options.deviceReadOnly;
    const { allocator } = this.#iovas();
    try {
      this.iommu.mapDma({ vaddr: memory.address, iova, size: bytes, readable: true, writable, fd, fdOffset: 0n });
    } catch (e) {
      allocator.free(iova);
      memory.close();
      throw explainMapFailure(e, bytes, this.iommu, this.#space.live.size);
    } finally {
      // The peer has its own copy of the descriptor now; the mapping keeps the memory here.
      if (fd !== undefined) sysClose(fd);
    }
    // The IOMMU mapping goes first: the device must lose access before the memory is reused.
    return this.#track(memory, iova, writable, [
      () => {
        if (!this.iommu.closed) this.iommu.unmapDma(iova, bytes);
      },
      () => allocator.free(iova),
    ]);
  }

  #track(memory: Mapping, iova: bigint, writable: boolean, release: Array<() => void>): DmaBuffer {
    const { live } = this.#space;
    const buf = new DmaBuffer(memory, iova, writable, () => {
      live.delete(buf);
      closeAll([...release, () => memory.close()]);
    });
    live.add(buf);
    return buf;
  }

  /**
   * No IOMMU: the device uses physical addresses, so the memory is locked where it is and must
   * be physically contiguous (hugepages beyond one page). Nothing can keep the device out.
   */
  #allocPhysical(want: number, options: DmaAllocOptions): DmaBuffer {
    const where = `no-IOMMU DMA (${this.iommu.name})`;
    if (options.iova === 'identity')
      throw new VfioRangeError(
        VfioErrorCode.UNSUPPORTED,
        `${where}: identity IOVA does not apply; the device address is always the buffer's physical address`,
      );
    if (options.deviceReadOnly)
      throw new VfioRangeError(
        VfioErrorCode.UNSUPPORTED,
        `${where}: deviceReadOnly cannot be enforced without an IOMMU (the device can write all memory); leave it out`,
      );
    const small = backingPageSize(undefined);
    const huge = options.hugepages ?? (want > small ? '2M' : undefined);
    const page = backingPageSize(huge);
    const bytes = roundUp(want, page);
    checkMemlock(bytes);
    const memory = mapDmaMemory(bytes, huge);
    let pa: bigint;
    try {
      sysMlock(memory.address, bytes, `${formatSize(bytes)} of DMA memory`);
      pa = this.iommu.physicalAddress!(memory.address, bytes);
      const bits = options.addressBits ?? this.addressBits;
      if (bits < 64 && pa + BigInt(bytes) > 1n << BigInt(bits)) {
        throw new VfioRangeError(
          VfioErrorCode.OUT_OF_RANGE,
          `${where}: the memory's physical address ${hex(pa)}+${hex(bytes)} is above the device's ${bits}-bit DMA limit, and without an IOMMU nothing can remap it; free memory below that limit or give the device a wider mask`,
        );
      }
    } catch (e) {
      memory.close(); // munmap also unlocks
      throw e;
    }
    return this.#track(memory, pa, true, [() => sysMunlock(memory.address, bytes)]);
  }

  #iovaFor(memory: Mapping, bytes: number, page: number, options: DmaAllocOptions): bigint {
    const bits = options.addressBits ?? this.addressBits;
    const { allocator, info } = this.#iovas();
    const below = bits >= 64 ? allocator.limit : 1n << BigInt(bits);
    if (options.iova === 'identity') {
      try {
        if (memory.address + BigInt(bytes) > below)
          throw new VfioRangeError(VfioErrorCode.IOVA_UNAVAILABLE, `it ends above the device's ${bits}-bit DMA limit`);
        return allocator.reserve(memory.address, bytes);
      } catch (e) {
        const ranges = formatRanges(info.iovaRanges);
        throw new VfioRangeError(
          VfioErrorCode.IOVA_UNAVAILABLE,
          `identity IOVA impossible: the buffer's virtual address ${hex(memory.address)}+${hex(bytes)} is not a valid IOVA here (${(e as Error).message}; IOMMU ranges: ${ranges}). Use the default iova: 'allocate'.`,
          { cause: e },
        );
      }
    }
    return allocator.alloc(bytes, page, below);
  }

  /**
   * A pool of `count` buffers of `entrySize` bytes carved from one mapping: `pool.alloc()` and
   * `entry.free()` are O(1) and make no system call.
   */
  pool(count: number, entrySize: number, options: DmaAllocOptions = {}): DmaPool {
    this.#check();
    checkInteger('pool count', this.#where, count, 1, 2 ** 32);
    checkInteger('pool entrySize', this.#where, entrySize, 1, 2 ** 32);
    if (count * entrySize > 2 ** 32)
      throw new VfioRangeError(
        VfioErrorCode.OUT_OF_RANGE,
        `pool of ${count} x ${entrySize} bytes (${formatSize(count * entrySize)}) ${this.#where} is too large: a pool is limited to 4 GiB (one typed-array view)`,
      );
    return new DmaPool(this.#alloc(count * entrySize, this.#checkOptions('pool', options)), count, entrySize);
  }

  /** Closes every live buffer of the context (unmapping it). Safe to call twice. */
  close(): void {
    if (this.#space.closed) return;
    this.#space.closed = true;
    closeAll([...this.#space.live].reverse().map((b) => () => b.close()));
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
