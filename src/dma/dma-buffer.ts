/**
 * DMA memory: page-aligned process memory mapped into a device's IOMMU context at an IOVA.
 * The device uses `iova`; JavaScript uses the views. `close()` unmaps it from the IOMMU, frees
 * the IOVA and releases the memory, in that order.
 */
import { rawView, type Mapping } from '../sys/index.js';

/** Largest typed-array view this Node allows at once (4 GiB on Node 20). */
const MAX_VIEW = 2 ** 32;

export class DmaBuffer {
  /** The address the device uses. */
  readonly iova: bigint;
  /** Bytes (rounded up to the backing page size). */
  readonly size: number;
  /** Whether the device may write (false: the device may only read this memory). */
  readonly deviceWritable: boolean;
  readonly #memory: Mapping;
  readonly #release: () => void;
  #bytes: Uint8Array | undefined;
  #closed = false;

  /** @internal Use `Dma.alloc()`. */
  constructor(memory: Mapping, iova: bigint, deviceWritable: boolean, release: () => void) {
    this.#memory = memory;
    this.iova = iova;
    this.size = memory.length;
    this.deviceWritable = deviceWritable;
    this.#release = release;
  }

  /** The process virtual address. */
  get vaddr(): bigint {
    return this.#memory.address;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #check(): void {
    if (this.#closed) throw new Error(`DMA buffer at IOVA 0x${this.iova.toString(16)} is closed`);
  }

  /** All of the buffer as bytes (no copy). Buffers over 4 GiB are reached with `view()`. */
  get bytes(): Uint8Array {
    this.#check();
    if (this.size > MAX_VIEW)
      throw new RangeError(
        `DMA buffer of ${this.size} bytes is larger than one typed array can be here: use view(offset, length)`,
      );
    this.#bytes ??= new Uint8Array(this.#memory.buffer);
    return this.#bytes;
  }

  /** All of the buffer as 32-bit words. */
  get u32(): Uint32Array {
    const b = this.bytes;
    return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
  }

  /** All of the buffer as 64-bit words. */
  get u64(): BigUint64Array {
    const b = this.bytes;
    return new BigUint64Array(b.buffer, b.byteOffset, Math.floor(b.byteLength / 8));
  }

  /** `length` bytes from `offset` (no copy); works for buffers of any size. */
  view(offset: number, length: number): Uint8Array {
    this.#check();
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.size
    ) {
      throw new RangeError(`view [${offset}, ${offset + length}) is outside the ${this.size}-byte DMA buffer`);
    }
    if (length > MAX_VIEW) throw new RangeError(`a view of ${length} bytes is larger than one typed array can be here`);
    return new Uint8Array(rawView(this.#memory.address + BigInt(offset), length));
  }

  /** The IOVA of byte `offset` of the buffer. */
  iovaAt(offset: number): bigint {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= this.size)
      throw new RangeError(`offset ${offset} is outside the ${this.size}-byte DMA buffer`);
    return this.iova + BigInt(offset);
  }

  /** Unmaps from the IOMMU, frees the IOVA, releases the memory. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#bytes = undefined;
    this.#release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** A one-line summary for the REPL and console.log. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const state = this.#closed
      ? 'closed'
      : `iova 0x${this.iova.toString(16)}, ${this.size} bytes${this.deviceWritable ? '' : ', device read-only'}`;
    return `DmaBuffer { ${state} }`;
  }
}
