/**
 * Row 5's reference line: the driver loop of driver.ts step for step, with no library code on
 * the per-frame path. The pool is a free stack, in-use flags and IOVA halves in typed arrays of
 * its own, the buffers a plain array of byte views, the tail registers a store and an
 * `Atomics.load` fence (as `Region.write32` makes them), the status words `Atomics.load`.
 * What is left is what V8 itself costs per frame; the gap between this line and the
 * library's is what the library costs. The mappings are the library's `Mapping`s (set-up only).
 */
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../../structs/index.js';
import { Mapping } from '../../src/sys/index.js';
import {
  BATCH,
  DD,
  ENTRY,
  IOVA_BASE,
  MASK,
  POOL,
  POOL_COUNT,
  REG_RDT,
  REG_STOP,
  REG_TDT,
  RING,
  RX_RING,
  SPINS,
  TOUCHED,
  TX_RING,
} from './ring.js';

const FENCE = new Int32Array(1);

export class BareDriver {
  readonly #maps: Mapping[];
  readonly #regs: Uint32Array;
  readonly #rx: Uint32Array;
  readonly #tx: Uint32Array;
  readonly #views: Uint8Array[] = [];
  readonly #lows = new Uint32Array(POOL_COUNT);
  readonly #highs = new Uint32Array(POOL_COUNT);
  readonly #inUse = new Uint8Array(POOL_COUNT);
  readonly #stack = new Uint32Array(POOL_COUNT);
  #top = 0;
  readonly #rxBufs = new Uint32Array(RING);
  readonly #txBufs = new Uint32Array(RING);
  #rxIndex = 0;
  #txIndex = 0;
  #cleanIndex = 0;
  readonly #yield: () => number;

  /** `schedYield` is the caller's binding of sched_yield(2), as driver.ts yields. */
  constructor(fd: number, schedYield: () => number) {
    this.#yield = schedYield;
    const map = (offset: number, length: number) =>
      new Mapping({ length, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, fd, offset, target: 'ring file' });
    this.#maps = [map(0, 4096), map(RX_RING, POOL - RX_RING), map(POOL, POOL_COUNT * ENTRY)];
    const [regs, rings, pool] = this.#maps;
    this.#regs = new Uint32Array(regs.buffer);
    const words = new Uint32Array(rings.buffer);
    this.#rx = words.subarray(0, RING * 4);
    this.#tx = words.subarray((TX_RING - RX_RING) >> 2, ((TX_RING - RX_RING) >> 2) + RING * 4);
    const bytes = new Uint8Array(pool.buffer);
    for (let i = 0; i < POOL_COUNT; i++) {
      this.#views.push(bytes.subarray(i * ENTRY, (i + 1) * ENTRY));
      this.#lows[i] = (IOVA_BASE + POOL + i * ENTRY) >>> 0;
      this.#highs[i] = Math.floor((IOVA_BASE + POOL + i * ENTRY) / 2 ** 32);
      this.#stack[i] = POOL_COUNT - 1 - i;
    }
    this.#top = POOL_COUNT;
    for (let i = 0; i < RING; i++) {
      const b = this.#alloc();
      this.#rxBufs[i] = b;
      this.#rx[i << 2] = this.#lows[b];
      this.#rx[(i << 2) + 1] = this.#highs[b];
      this.#rx[(i << 2) + 3] = 0;
    }
    this.#writeReg(REG_RDT, RING - 1);
  }

  #writeReg(offset: number, value: number): void {
    this.#regs[offset >>> 2] = value;
    Atomics.load(FENCE, 0);
  }

  #alloc(): number {
    if (this.#top === 0) return -1;
    const index = this.#stack[--this.#top];
    this.#inUse[index] = 1;
    return index;
  }

  #free(index: number): void {
    if (this.#inUse[index] === 0) throw new Error(`bare driver: buffer ${index} freed twice`);
    this.#inUse[index] = 0;
    this.#stack[this.#top++] = index;
  }

  rxBatch(bufs: Uint32Array, lens: Uint32Array): number {
    const rx = this.#rx;
    let idx = this.#rxIndex;
    let last = idx;
    let n = 0;
    for (; n < BATCH; n++) {
      const w = idx << 2;
      if ((Atomics.load(rx, w + 3) & DD) === 0) break;
      const fresh = this.#alloc();
      if (fresh < 0) throw new Error('bare driver: the pool is empty');
      bufs[n] = this.#rxBufs[idx];
      lens[n] = rx[w + 2];
      rx[w] = this.#lows[fresh];
      rx[w + 1] = this.#highs[fresh];
      rx[w + 3] = 0;
      this.#rxBufs[idx] = fresh;
      last = idx;
      idx = (idx + 1) & MASK;
    }
    if (n > 0) {
      this.#rxIndex = idx;
      this.#writeReg(REG_RDT, last);
    }
    return n;
  }

  txBatch(bufs: Uint32Array, lens: Uint32Array, num: number): number {
    const tx = this.#tx;
    for (;;) {
      if (((this.#txIndex - this.#cleanIndex) & MASK) < BATCH) break;
      const to = (this.#cleanIndex + BATCH - 1) & MASK;
      if ((Atomics.load(tx, (to << 2) + 3) & DD) === 0) break;
      for (let i = this.#cleanIndex; ; i = (i + 1) & MASK) {
        this.#free(this.#txBufs[i]);
        if (i === to) break;
      }
      this.#cleanIndex = (to + 1) & MASK;
    }
    let sent = 0;
    for (; sent < num; sent++) {
      const next = (this.#txIndex + 1) & MASK;
      if (next === this.#cleanIndex) break;
      const b = bufs[sent];
      const i = this.#txIndex;
      this.#txBufs[i] = b;
      tx[i << 2] = this.#lows[b];
      tx[(i << 2) + 1] = this.#highs[b];
      tx[(i << 2) + 2] = lens[sent];
      tx[(i << 2) + 3] = 0;
      this.#txIndex = next;
    }
    this.#writeReg(REG_TDT, this.#txIndex);
    return sent;
  }

  /** Forwards for `ms` milliseconds: the frames sent and the nanoseconds taken (as `Driver.forward`). */
  forward(ms: number): { frames: number; ns: number } {
    const bufs = new Uint32Array(BATCH);
    const lens = new Uint32Array(BATCH);
    const views = this.#views;
    let frames = 0;
    const t0 = process.hrtime.bigint();
    const end = t0 + BigInt(ms * 1e6);
    let empty = 0;
    for (let round = 0; ; round++) {
      const n = this.rxBatch(bufs, lens);
      if (n > 0) empty = 0;
      else if (++empty === SPINS) {
        empty = 0;
        this.#yield();
      }
      for (let i = 0; i < n; i++) views[bufs[i]][TOUCHED]++;
      const sent = this.txBatch(bufs, lens, n);
      for (let i = sent; i < n; i++) this.#free(bufs[i]);
      frames += sent;
      if ((round & 15) === 0) {
        const t = process.hrtime.bigint();
        if (t >= end && frames > 0) return { frames, ns: Number(t - t0) };
      }
    }
  }

  stop(): void {
    this.#writeReg(REG_STOP, 1);
  }

  close(): void {
    for (const m of this.#maps.reverse()) m.close();
  }
}
