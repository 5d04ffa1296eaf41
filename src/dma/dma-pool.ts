/**
 * Fixed-size DMA buffers carved from one mapping (what a packet mempool is): one IOMMU mapping
 * for all of them, allocation and release in O(1) from a free stack, with no system call.
 * When the pool's buffer is closed (by the pool, or by its DMA context or device closing) every
 * entry's properties throw, as the buffer's do.
 */
import { closedMessage, type DmaBuffer } from './dma-buffer.js';
import { VfioError, VfioErrorCode, VfioTypeError } from '../../structs/index.js';
import { checkInteger, describeArg } from '../sys/index.js';
import { hex } from '../sys/index.js';

/** One buffer of a pool: its index, its IOVA and a view of its bytes. */
export class DmaPoolEntry {
  /** @internal */
  inUse = false;
  readonly #pool: DmaPool;
  readonly #buffer: DmaBuffer;
  readonly #index: number;
  readonly #iova: bigint;
  readonly #bytes: Uint8Array;
  /** Puts the entry back on its pool's free stack (the pool's own code: no owner check needed). */
  readonly #release: (entry: DmaPoolEntry, index: number) => void;

  /** @internal Entries are made by their pool. */
  constructor(
    pool: DmaPool,
    buffer: DmaBuffer,
    index: number,
    iova: bigint,
    bytes: Uint8Array,
    release: (entry: DmaPoolEntry, index: number) => void,
  ) {
    this.#pool = pool;
    this.#buffer = buffer;
    this.#index = index;
    this.#iova = iova;
    this.#bytes = bytes;
    this.#release = release;
  }

  // The check is one load on the hot path (pool.alloc(), entry.index, entry.free()); the message
  // is built out of line, only when it fails.
  #check(what: string): void {
    if (this.#buffer.closed) this.#closed(what);
  }

  #closed(what: string): never {
    const subject = `the pool of DMA pool entry ${this.#index} at IOVA ${hex(this.#iova)} was closed`;
    throw new VfioError(VfioErrorCode.CLOSED, closedMessage(subject, what));
  }

  /** The pool the entry belongs to. */
  get pool(): DmaPool {
    this.#check('pool');
    return this.#pool;
  }

  /** Its index in the pool, 0 to `count - 1`. */
  get index(): number {
    this.#check('index');
    return this.#index;
  }

  /** The address the device uses. */
  get iova(): bigint {
    this.#check('iova');
    return this.#iova;
  }

  /** Its `entrySize` bytes (no copy). */
  get bytes(): Uint8Array {
    this.#check('bytes');
    return this.#bytes;
  }

  /** Returns the entry to its pool (the same as `pool.free(entry)`, less the checks that it is one of its entries). */
  free(): void {
    this.#check('free()');
    this.#release(this, this.#index);
  }

  /** @internal Its index when it belongs to `pool`, else -1 (no closed check: `pool` checks itself). */
  indexIn(pool: DmaPool): number {
    return pool === this.#pool ? this.#index : -1;
  }
}

/**
 * `count` buffers of `entrySize` bytes carved from one mapping, from `Dma.pool()`: `alloc()` and
 * `entry.free()` are O(1) and make no system call.
 */
export class DmaPool {
  readonly entrySize: number;
  readonly count: number;
  readonly buffer: DmaBuffer;
  readonly #entries: DmaPoolEntry[];
  readonly #stack: Uint32Array;
  #top: number;

  /** @internal Use `Dma.pool()`. */
  constructor(buffer: DmaBuffer, count: number, entrySize: number) {
    this.buffer = buffer;
    this.count = count;
    this.entrySize = entrySize;
    const bytes = buffer.bytes;
    const iova = buffer.iova;
    const release = (entry: DmaPoolEntry, index: number) => this.#release(entry, index);
    this.#entries = Array.from(
      { length: count },
      (_, i) =>
        new DmaPoolEntry(
          this,
          buffer,
          i,
          iova + BigInt(i * entrySize),
          bytes.subarray(i * entrySize, (i + 1) * entrySize),
          release,
        ),
    );
    // Lowest index on top, so a fresh pool hands out entries in address order.
    this.#stack = new Uint32Array(count);
    for (let i = 0; i < count; i++) this.#stack[i] = count - 1 - i;
    this.#top = count;
  }

  /** The pool for messages: `DMA pool of 8 x 2048 bytes`. */
  get #name(): string {
    return `DMA pool of ${this.count} x ${this.entrySize} bytes`;
  }

  #check(what: string): void {
    if (this.buffer.closed) this.#closed(what);
  }

  #closed(what: string): never {
    throw new VfioError(
      VfioErrorCode.CLOSED,
      `${this.#name} was closed, so ${what} cannot be used; allocate a new pool`,
    );
  }

  /** Entries free right now (none once the pool is closed). */
  get available(): number {
    return this.buffer.closed ? 0 : this.#top;
  }

  /** Takes a free entry, or returns `undefined` when all are in use. */
  alloc(): DmaPoolEntry | undefined {
    this.#check('alloc()');
    if (this.#top === 0) return undefined;
    const e = this.#entries[this.#stack[--this.#top]];
    e.inUse = true;
    return e;
  }

  /** Returns an entry; a double free or an entry of another pool throws. */
  free(entry: DmaPoolEntry): void {
    this.#check('free()');
    if (!((entry as unknown) instanceof DmaPoolEntry))
      throw new VfioTypeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `free() of ${this.#name} takes one of its entries, not ${describeArg(entry)}`,
      );
    const index = entry.indexIn(this);
    if (index < 0)
      throw new VfioError(
        VfioErrorCode.INVALID_ARGUMENT,
        `DMA pool entry freed to ${this.#name}, a pool it does not belong to`,
      );
    this.#release(entry, index);
  }

  /** Puts entry `index` (one of this pool's) back on the free stack; a double free throws. */
  #release(entry: DmaPoolEntry, index: number): void {
    if (!entry.inUse) throw new VfioError(VfioErrorCode.INVALID_STATE, `DMA pool entry ${index} freed twice`);
    entry.inUse = false;
    this.#stack[this.#top++] = index;
  }

  /** The entry at `index`, 0 to `count - 1` (whether free or not). */
  entry(index: number): DmaPoolEntry {
    this.#check('entry()');
    return this.#entries[checkInteger('entry index', `of ${this.#name}`, index, 0, this.count - 1)];
  }

  /** Unmaps and releases the whole pool. Safe to call twice. */
  close(): void {
    this.buffer.close();
    this.#top = 0;
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
