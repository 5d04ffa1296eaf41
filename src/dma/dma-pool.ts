/**
 * Fixed-size DMA buffers carved from one mapping (what a packet mempool is): one IOMMU mapping
 * for all of them, allocation and release in O(1) from a free stack, with no system call.
 */
import type { DmaBuffer } from './dma-buffer.js';

/** One buffer of a pool: its index, its IOVA and a view of its bytes. */
export class DmaPoolEntry {
  /** @internal */
  inUse = false;
  constructor(
    readonly pool: DmaPool,
    readonly index: number,
    readonly iova: bigint,
    readonly bytes: Uint8Array,
  ) {}

  /** Returns the entry to its pool. */
  free(): void {
    this.pool.free(this);
  }
}

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
    this.#entries = Array.from(
      { length: count },
      (_, i) =>
        new DmaPoolEntry(
          this,
          i,
          buffer.iova + BigInt(i * entrySize),
          bytes.subarray(i * entrySize, (i + 1) * entrySize),
        ),
    );
    // Lowest index on top, so a fresh pool hands out entries in address order.
    this.#stack = new Uint32Array(count);
    for (let i = 0; i < count; i++) this.#stack[i] = count - 1 - i;
    this.#top = count;
  }

  /** Entries free right now. */
  get available(): number {
    return this.#top;
  }

  /** Takes a free entry, or returns `undefined` when all are in use. */
  alloc(): DmaPoolEntry | undefined {
    if (this.#top === 0) {
      if (this.buffer.closed) throw new Error('DMA pool is closed');
      return undefined;
    }
    const e = this.#entries[this.#stack[--this.#top]];
    e.inUse = true;
    return e;
  }

  /** Returns an entry; a double free or an entry of another pool throws. */
  free(entry: DmaPoolEntry): void {
    if (entry.pool !== this) throw new Error('DMA pool entry freed to a pool it does not belong to');
    if (!entry.inUse) throw new Error(`DMA pool entry ${entry.index} freed twice`);
    entry.inUse = false;
    this.#stack[this.#top++] = entry.index;
  }

  /** The entry at `index` (whether free or not). */
  entry(index: number): DmaPoolEntry {
    const e = this.#entries[index];
    if (!e) throw new RangeError(`DMA pool has entries 0-${this.count - 1}, not ${index}`);
    return e;
  }

  /** Unmaps and releases the whole pool. */
  close(): void {
    this.buffer.close();
    this.#top = 0;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
