/**
 * DMA for one IOMMU context: allocates IOVAs inside the ranges it reports, maps memory there,
 * checks the locked-memory limit first, and names the mapping limit when the kernel runs out.
 */
import { RLIMIT_MEMLOCK, RLIM_INFINITY } from '../../structs/index.js';
import { CAP_IPC_LOCK, SysError, closeAll, getRlimit, hasCapability, lockedBytes, type Mapping } from '../sys/index.js';
import type { Iommu, IommuInfo } from '../vfio/index.js';
import { IovaAllocator } from './iova-allocator.js';
import { DmaBuffer } from './dma-buffer.js';
import { DmaPool } from './dma-pool.js';
import { backingPageSize, mapDmaMemory, type HugePageSize } from './memory.js';

export interface DmaAllocOptions {
  /** Back the buffer with hugepages of this size (they must be reserved). */
  hugepages?: HugePageSize;
  /** The device may only read this memory (VFIO_DMA_MAP_FLAG_READ alone). Default: read and write. */
  deviceReadOnly?: boolean;
  /**
   * `'allocate'` (default): an IOVA from the allocator. `'identity'`: IOVA = virtual address,
   * as the C seed did; refused with the reason when that address is not a valid IOVA.
   */
  iova?: 'allocate' | 'identity';
  /** The device's DMA address width in bits (default: the context's). */
  addressBits?: number;
}

export interface DmaOptions {
  /** Default DMA address width of the devices using this context, in bits (default 64). */
  addressBits?: number;
}

const fmt = (n: bigint): string => `${n} bytes (${(Number(n) / 2 ** 20).toFixed(1)} MiB)`;

export class Dma {
  readonly iommu: Iommu;
  readonly addressBits: number;
  readonly allocator: IovaAllocator;
  readonly #info: IommuInfo;
  readonly #live = new Set<DmaBuffer>();
  #closed = false;

  constructor(iommu: Iommu, options: DmaOptions = {}) {
    this.iommu = iommu;
    this.addressBits = options.addressBits ?? 64;
    this.#info = iommu.info();
    this.allocator = new IovaAllocator({ ranges: this.#info.iovaRanges, minAlign: this.#info.minPageSize });
    iommu.onClose(() => this.close(), 'before');
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Live buffers and pools of this context. */
  get buffers(): number {
    return this.#live.size;
  }

  /** What the IOMMU reports now (page sizes, ranges, dma_avail). */
  info(): IommuInfo {
    return this.iommu.info();
  }

  #check(): void {
    if (this.#closed || this.iommu.closed) throw new Error(`DMA context of ${this.iommu.name} is closed`);
  }

  /** Throws a clear error when pinning `bytes` more would pass RLIMIT_MEMLOCK. */
  #checkMemlock(bytes: bigint): void {
    if (hasCapability(CAP_IPC_LOCK)) return; // exempt from the limit
    const { soft } = getRlimit(RLIMIT_MEMLOCK);
    if (soft === RLIM_INFINITY) return;
    const locked = lockedBytes();
    if (locked + bytes > soft) throw new Error(memlockMessage(bytes, locked, soft));
  }

  /**
   * Allocates `size` bytes of DMA memory (rounded up to the page size) and maps it for the
   * device. The result has `iova` for the device and `bytes`/`u32`/`view()` for JavaScript.
   */
  alloc(size: number | bigint, options: DmaAllocOptions = {}): DmaBuffer {
    this.#check();
    const page = backingPageSize(options.hugepages);
    const want = BigInt(size);
    if (want <= 0n) throw new RangeError(`DMA buffer size must be positive, got ${size}`);
    const bytes = ((want + page - 1n) / page) * page;
    this.#checkMemlock(bytes);
    const memory = mapDmaMemory(bytes, options.hugepages);
    let iova: bigint;
    try {
      iova = this.#iovaFor(memory, bytes, page, options);
    } catch (e) {
      memory.close();
      throw e;
    }
    const writable = !options.deviceReadOnly;
    try {
      this.iommu.mapDma({ vaddr: memory.address, iova, size: bytes, readable: true, writable });
    } catch (e) {
      this.allocator.free(iova);
      memory.close();
      throw this.#explainMapFailure(e, bytes);
    }
    const buf = new DmaBuffer(memory, iova, writable, () => {
      this.#live.delete(buf);
      // The IOMMU mapping goes first: the device must lose access before the memory is reused.
      closeAll([
        () => {
          if (!this.iommu.closed) this.iommu.unmapDma(iova, bytes);
        },
        () => this.allocator.free(iova),
        () => memory.close(),
      ]);
    });
    this.#live.add(buf);
    return buf;
  }

  #iovaFor(memory: Mapping, bytes: bigint, page: bigint, options: DmaAllocOptions): bigint {
    const bits = options.addressBits ?? this.addressBits;
    const below = bits >= 64 ? this.allocator.limit : 1n << BigInt(bits);
    if (options.iova === 'identity') {
      try {
        if (memory.address + bytes > below) throw new RangeError(`it ends above the device's ${bits}-bit DMA limit`);
        return this.allocator.reserve(memory.address, bytes);
      } catch (e) {
        const ranges = this.#info.iovaRanges.map((r) => `0x${r.start.toString(16)}-0x${r.end.toString(16)}`).join(', ');
        throw new RangeError(
          `identity IOVA impossible: the buffer's virtual address 0x${memory.address.toString(16)}+0x${bytes.toString(16)} is not a valid IOVA here (${(e as Error).message}; IOMMU ranges: ${ranges}). Use the default iova: 'allocate'.`,
        );
      }
    }
    return this.allocator.alloc(bytes, page, below);
  }

  #explainMapFailure(e: unknown, bytes: bigint): unknown {
    if (!(e instanceof SysError)) return e;
    if (e.code === 'ENOSPC') {
      const avail = this.iommu.info().dmaAvail;
      return new SysError({
        syscall: e.syscall, errno: e.errno, target: e.target,
        hint: `the container has no DMA mapping left (dma_avail ${avail ?? 'unknown'}; the vfio_iommu_type1 dma_entry_limit, 65535 by default, counts mappings; this context holds ${this.#live.size}): use pools or hugepages to need fewer mappings, or raise the limit (modprobe vfio_iommu_type1 dma_entry_limit=N)`,
      });
    }
    if (e.code === 'ENOMEM') {
      const { soft } = getRlimit(RLIMIT_MEMLOCK);
      return new SysError({ syscall: e.syscall, errno: e.errno, target: e.target, hint: memlockMessage(bytes, lockedBytes(), soft) });
    }
    return e;
  }

  /**
   * A pool of `count` buffers of `entrySize` bytes carved from one mapping: `pool.alloc()` and
   * `entry.free()` are O(1) and make no system call.
   */
  pool(count: number, entrySize: number, options: DmaAllocOptions = {}): DmaPool {
    if (!Number.isSafeInteger(count) || count <= 0) throw new RangeError(`pool entry count must be a positive integer, got ${count}`);
    if (!Number.isSafeInteger(entrySize) || entrySize <= 0) throw new RangeError(`pool entry size must be a positive integer, got ${entrySize}`);
    if (count * entrySize > 2 ** 32) throw new RangeError('a pool is limited to 4 GiB (one typed-array view)');
    return new DmaPool(this.alloc(count * entrySize, options), count, entrySize);
  }

  /** Closes every live buffer (unmapping it). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeAll([...this.#live].reverse().map((b) => () => b.close()));
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function memlockMessage(bytes: bigint, locked: bigint, limit: bigint): string {
  return [
    `pinning ${fmt(bytes)} for DMA would pass the locked-memory limit: RLIMIT_MEMLOCK is ${fmt(limit)} and ${fmt(locked)} are already locked.`,
    'Raise it for this shell (ulimit -l unlimited, as root or within the hard limit), for a user (memlock in /etc/security/limits.conf),',
    'for a service (LimitMEMLOCK= in its systemd unit), or run with CAP_IPC_LOCK.',
  ].join(' ');
}
