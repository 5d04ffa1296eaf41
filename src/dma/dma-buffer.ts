/**
 * DMA memory: page-aligned process memory mapped into a device's IOMMU context at an IOVA.
 * The device uses `iova`; JavaScript uses the views. `close()` unmaps it from the IOMMU, frees
 * the IOVA and releases the memory, in that order. After close every property throws, `iova`
 * first of all: a stale IOVA handed to a device would reach memory that is no longer this
 * buffer's.
 */
import { formatSize, rawView, type Mapping, checkInteger, checkSpan, isSpan, INSPECT } from '../sys/index.js';
import { VfioError, VfioErrorCode, VfioRangeError } from '../../structs/index.js';
import { hex } from '../sys/index.js';

/** Largest typed-array view this Node allows at once (4 GiB on Node 20). */
const MAX_VIEW = 2 ** 32;

/**
 * DMA memory mapped for a device, from `Dma.alloc()`: the device uses `iova`, JavaScript the
 * views (`bytes`, `u32`, `view()`). Once it is closed its properties throw, `iova` first of all.
 */
export class DmaBuffer {
  readonly #iova: bigint;
  readonly #size: number;
  readonly #deviceWritable: boolean;
  readonly #memory: Mapping;
  readonly #release: () => void;
  #bytes: Uint8Array | undefined;
  #closed = false;

  /** @internal Use `Dma.alloc()`. */
  constructor(memory: Mapping, iova: bigint, deviceWritable: boolean, release: () => void) {
    this.#memory = memory;
    this.#iova = iova;
    this.#size = memory.length;
    this.#deviceWritable = deviceWritable;
    this.#release = release;
  }

  /** The buffer for messages: `DMA buffer at IOVA 0x1000 (8 KiB)`. */
  get #name(): string {
    return `DMA buffer at IOVA ${hex(this.#iova)} (${formatSize(this.#size)})`;
  }

  /** Throws when the buffer was closed; `what` is the property or method used. */
  #check(what: string): void {
    if (this.#closed) this.#closedError(what);
  }

  /** Out of line, so that the check stays one load. */
  #closedError(what: string): never {
    throw new VfioError(VfioErrorCode.CLOSED, closedMessage(`${this.#name} was closed`, what));
  }

  /** The address the device uses (the physical address without an IOMMU). */
  get iova(): bigint {
    this.#check('iova');
    return this.#iova;
  }

  /** Bytes (rounded up to the backing page size). */
  get size(): number {
    this.#check('size');
    return this.#size;
  }

  /** Whether the device may write (false: the device may only read this memory). */
  get deviceWritable(): boolean {
    this.#check('deviceWritable');
    return this.#deviceWritable;
  }

  /** The process virtual address. */
  get vaddr(): bigint {
    this.#check('vaddr');
    return this.#memory.address;
  }

  /** Whether the buffer was closed (by `close()`, or by its DMA context or device closing). */
  get closed(): boolean {
    return this.#closed;
  }

  /** All of the buffer as bytes (no copy). Buffers over 4 GiB are reached with `view()`. */
  get bytes(): Uint8Array {
    this.#check('bytes');
    if (this.#size > MAX_VIEW)
      throw new VfioRangeError(
        VfioErrorCode.OUT_OF_RANGE,
        `${this.#name} is larger than one typed array can be here (4 GiB): use view(offset, length)`,
      );
    this.#bytes ??= new Uint8Array(this.#memory.buffer);
    return this.#bytes;
  }

  /** All of the buffer as 32-bit words. */
  get u32(): Uint32Array {
    this.#check('u32');
    const b = this.bytes;
    return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
  }

  /** All of the buffer as 64-bit words (bigints). */
  get u64(): BigUint64Array {
    this.#check('u64');
    const b = this.bytes;
    return new BigUint64Array(b.buffer, b.byteOffset, Math.floor(b.byteLength / 8));
  }

  /**
   * `length` bytes from `offset` (no copy); works for buffers of any size. Within the first
   * 4 GiB the view is a slice of `bytes` (its `buffer` is the whole buffer's, at `byteOffset`).
   */
  view(offset: number, length: number): Uint8Array {
    this.#check('view()');
    // The name in the message (a bigint in hex, a size) is built only for a span that is wrong.
    if (!isSpan(offset, length, this.#size)) checkSpan('view', this.#name, offset, length, this.#size);
    // A view of the buffer's one ArrayBuffer: a new external ArrayBuffer from koffi cost ~1 us.
    if (this.#size <= MAX_VIEW) {
      const bytes = (this.#bytes ??= new Uint8Array(this.#memory.buffer));
      return new Uint8Array(bytes.buffer, bytes.byteOffset + offset, length);
    }
    if (length > MAX_VIEW)
      throw new VfioRangeError(
        VfioErrorCode.OUT_OF_RANGE,
        `view of ${length} bytes of ${this.#name} is larger than one typed array can be here (4 GiB): take several views`,
      );
    return new Uint8Array(rawView(this.#memory.address + BigInt(offset), length));
  }

  /** The IOVA of byte `offset` of the buffer. */
  iovaAt(offset: number): bigint {
    this.#check('iovaAt()');
    checkInteger('iovaAt offset', `of ${this.#name}`, offset, 0, this.#size - 1);
    return this.#iova + BigInt(offset);
  }

  /** Unmaps from the IOMMU, frees the IOVA, releases the memory. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#bytes = undefined;
    this.#release();
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** A one-line summary for the REPL and console.log. */
  [INSPECT](): string {
    const state = this.#closed
      ? 'closed'
      : `iova ${hex(this.#iova)}, ${this.#size} bytes${this.#deviceWritable ? '' : ', device read-only'}`;
    return `DmaBuffer { ${state} }`;
  }
}

/**
 * The use-after-close message of a DMA buffer or pool entry: `subject` says what was closed
 * (`DMA buffer at IOVA 0x1000 (8 KiB) was closed`), `what` the property or method used.
 */
export function closedMessage(subject: string, what: string): string {
  const stale =
    what === 'iova' || what === 'iovaAt()'
      ? ': the IOVA is unmapped and may already belong to other memory; never give it to a device'
      : '';
  return `${subject}, so ${what} cannot be used${stale}; allocate a new one`;
}
