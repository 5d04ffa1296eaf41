/**
 * Fixed-size DMA buffers carved from one mapping (what a packet mempool is): one IOMMU mapping
 * for all of them, allocation and release in O(1) from a free stack, with no system call.
 * When the pool's buffer is closed (by the pool, or by its DMA context or device closing) every
 * entry's properties throw, as the buffer's do. Entries are objects (`alloc()`) or plain
 * indices (`allocIndex()`), for a driver's loop that moves millions of them a second.
 */
import { closedMessage, type DmaBuffer } from './dma-buffer.js';
import { VfioError, VfioErrorCode, VfioRangeError, VfioTypeError } from '../../structs/index.js';
import { checkInteger, describeArg } from '../sys/index.js';
import { hex } from '../sys/index.js';

/** One buffer of a pool: its index, its IOVA and a view of its bytes. */
export class DmaPoolEntry {
  readonly #pool: DmaPool;
  readonly #buffer: DmaBuffer;
  readonly #index: number;
  readonly #iova: bigint;
  readonly #bytes: Uint8Array;
  /** Puts the entry back on its pool's free stack (the pool's own code: no owner check needed). */
  readonly #release: (index: number) => void;

  /** @internal Entries are made by their pool. */
  constructor(
    pool: DmaPool,
    buffer: DmaBuffer,
    index: number,
    iova: bigint,
    bytes: Uint8Array,
    release: (index: number) => void,
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
    this.#release(this.#index);
  }

  /** @internal Its index when it belongs to `pool`, else -1 (no closed check: `pool` checks itself). */
  indexIn(pool: DmaPool): number {
    return pool === this.#pool ? this.#index : -1;
  }
}

/**
 * `count` buffers of `entrySize` bytes carved from one mapping, from `Dma.pool()`: `alloc()` and
 * `entry.free()` are O(1) and make no system call.
 *
 * The same entries as indices, 0 to `count - 1`, with nothing allocated per use and no BigInt:
 * `allocIndex()`, `freeIndex()`, `bytesAt()`, and the IOVA as the two 32-bit halves a descriptor
 * holds (`iovaLow()`, `iovaHigh()`). An entry taken one way may be freed the other.
 */
export class DmaPool {
  readonly entrySize: number;
  readonly count: number;
  readonly buffer: DmaBuffer;
  readonly #entries: DmaPoolEntry[];
  readonly #views: Uint8Array[];
  readonly #lows: Uint32Array;
  readonly #highs: Uint32Array;
  /** 1 while an entry is allocated, by index. */
  readonly #inUse: Uint8Array;
  readonly #stack: Uint32Array;
  #top: number;

  /** @internal Use `Dma.pool()`. */
  constructor(buffer: DmaBuffer, count: number, entrySize: number) {
    this.buffer = buffer;
    this.count = count;
    this.entrySize = entrySize;
    const bytes = buffer.bytes;
    const iova = buffer.iova;
    const release = (index: number) => this.#release(index);
    this.#views = Array.from({ length: count }, (_, i) => bytes.subarray(i * entrySize, (i + 1) * entrySize));
    this.#lows = new Uint32Array(count);
    this.#highs = new Uint32Array(count);
    this.#entries = this.#views.map((view, i) => {
      const at = iova + BigInt(i * entrySize);
      this.#lows[i] = Number(at & 0xffff_ffffn);
      this.#highs[i] = Number(at >> 32n);
      return new DmaPoolEntry(this, buffer, i, at, view, release);
    });
    this.#inUse = new Uint8Array(count);
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
    const index = this.#take();
    return index < 0 ? undefined : this.#entries[index];
  }

  /** Takes a free entry and returns its index, or -1 when all are in use. */
  allocIndex(): number {
    this.#check('allocIndex()');
    return this.#take();
  }

  /** Pops the free stack: an index, or -1 when it is empty. */
  #take(): number {
    if (this.#top === 0) return -1;
    const index = this.#stack[--this.#top];
    this.#inUse[index] = 1;
    return index;
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
    this.#release(index);
  }

  /** Returns the entry at `index` (taken by `allocIndex()` or `alloc()`); a double free throws. */
  freeIndex(index: number): void {
    this.#check('freeIndex()');
    this.#release(this.#valid(index, 'freeIndex()'));
  }

  /** The bytes of entry `index` (no copy). */
  bytesAt(index: number): Uint8Array {
    this.#check('bytesAt()');
    return this.#views[index] ?? this.#badIndex(index, 'bytesAt()');
  }

  /** Bits 0-31 of the IOVA of entry `index`: what a descriptor's low address word holds. */
  iovaLow(index: number): number {
    this.#check('iovaLow()');
    return this.#lows[index] ?? this.#badIndex(index, 'iovaLow()');
  }

  /** Bits 32-63 of the IOVA of entry `index`. */
  iovaHigh(index: number): number {
    this.#check('iovaHigh()');
    return this.#highs[index] ?? this.#badIndex(index, 'iovaHigh()');
  }

  /** `index` when it names an entry, else the error (a typed array read out of range is `undefined`, not a throw). */
  #valid(index: number, what: string): number {
    return typeof index !== 'number' || this.#views[index] === undefined ? this.#badIndex(index, what) : index;
  }

  #badIndex(index: unknown, what: string): never {
    checkInteger('entry index', `of ${what} of ${this.#name}`, index, 0, this.count - 1);
    throw new VfioRangeError(
      VfioErrorCode.INVALID_ARGUMENT,
      `entry index ${describeArg(index)} of ${what} of ${this.#name} is not one of its entries`,
    );
  }

  /** Puts entry `index` back on the free stack; a double free throws. */
  #release(index: number): void {
    if (this.#inUse[index] === 0)
      throw new VfioError(VfioErrorCode.INVALID_STATE, `DMA pool entry ${index} freed twice`);
    this.#inUse[index] = 0;
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
