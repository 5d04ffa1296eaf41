/**
 * Row 5, an ixy-style driver loop: ixy's forwarder (receive a batch of up to 32 frames, refill
 * the RX descriptors from the pool, touch each frame, send the batch, clean the TX ring 32 at a
 * time and free what was sent) against a separate C process that plays the NIC (c/nic.c) in one
 * shared file laid out as c/ring.h says: the registers, two rings of 512 descriptors, 4096
 * packet buffers of 2048 bytes. The TypeScript driver uses the library: `Region.write32` for
 * the tail registers (the page mapped as a BAR is), `DmaBuffer` views for the rings,
 * `Atomics.load` for the status words the NIC writes (a plain load could be served from the
 * driver's own earlier store, docs/DESIGN.md), and a `DmaPool` by index (`allocIndex`,
 * `iovaLow`/`iovaHigh` into the descriptors, `bytesAt`, `freeIndex`) for the buffers. The
 * rings and the pool are `DmaBuffer`s over shared mappings of the file at fixed IOVAs (built
 * with their internal constructors: `Dma` allocates private memory, which another process
 * cannot see). C (c/driver.c) and Python (py/driver.py)
 * run the same loop; each side yields its CPU after 64 empty polls in a row (c/ring.h says
 * why). The NIC and the driver each have a CPU of their own (cpus.ts). Reported per forwarded
 * frame, and as Mpps.
 */
import { closeSync, openSync } from 'node:fs';
import { koffi, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../structs/index.js';
import { DmaBuffer, DmaPool } from '../../src/dma/index.js';
import { Mapping } from '../../src/sys/index.js';
import { Region } from '../../src/vfio/region/region.js';
import { KernelChannel } from '../../src/vfio/device/kernel-channel.js';
import { PAGE_REGION } from './accessor.js';
import {
  BATCH,
  DD,
  ENTRY,
  FILE_SIZE,
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
import { BareDriver } from './driver-bare.js';
import { onCpu, onCpuCommand, twoCpus } from './cpus.js';
import {
  cProgram,
  interleave,
  pyScript,
  sharedFile,
  startHelper,
  stats,
  type CaseResult,
  type Size,
} from './harness.js';

/** sched_yield(2): the bench's own binding (the library has no use for it). */
const schedYield = koffi.load('libc.so.6').func('int sched_yield(void)') as () => number;

/** `length` bytes of the file at `offset` as a DMA buffer at IOVA_BASE + offset. */
function sharedBuffer(fd: number, offset: number, length: number): DmaBuffer {
  const m = new Mapping({ length, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, fd, offset, target: 'ring file' });
  return new DmaBuffer(m, BigInt(IOVA_BASE + offset), true, () => m.close());
}

export class Driver {
  readonly #regs: Region;
  readonly #rings: DmaBuffer;
  readonly #pool: DmaPool;
  readonly #rx: Uint32Array;
  readonly #tx: Uint32Array;
  /** The pool index of the buffer in each descriptor. */
  readonly #rxBufs = new Uint32Array(RING);
  readonly #txBufs = new Uint32Array(RING);
  #rxIndex = 0;
  #txIndex = 0;
  #cleanIndex = 0;

  constructor(fd: number) {
    this.#regs = new Region(new KernelChannel(fd, 'tmpfs file'), PAGE_REGION, 'NIC registers (shared page)');
    this.#rings = sharedBuffer(fd, RX_RING, POOL - RX_RING);
    this.#pool = new DmaPool(sharedBuffer(fd, POOL, POOL_COUNT * ENTRY), POOL_COUNT, ENTRY);
    const words = this.#rings.u32;
    this.#rx = words.subarray(0, RING * 4);
    this.#tx = words.subarray((TX_RING - RX_RING) >> 2, ((TX_RING - RX_RING) >> 2) + RING * 4);
    const pool = this.#pool;
    for (let i = 0; i < RING; i++) {
      const b = pool.allocIndex();
      this.#rxBufs[i] = b;
      this.#rx[i << 2] = pool.iovaLow(b);
      this.#rx[(i << 2) + 1] = pool.iovaHigh(b);
      this.#rx[(i << 2) + 3] = 0;
    }
    this.#regs.write32(REG_RDT, RING - 1);
  }

  rxBatch(bufs: Uint32Array, lens: Uint32Array): number {
    const rx = this.#rx;
    const pool = this.#pool;
    let idx = this.#rxIndex;
    let last = idx;
    let n = 0;
    for (; n < BATCH; n++) {
      const w = idx << 2;
      if ((Atomics.load(rx, w + 3) & DD) === 0) break;
      const fresh = pool.allocIndex();
      if (fresh < 0) throw new Error('driver: the pool is empty');
      bufs[n] = this.#rxBufs[idx];
      lens[n] = rx[w + 2];
      rx[w] = pool.iovaLow(fresh);
      rx[w + 1] = pool.iovaHigh(fresh);
      rx[w + 3] = 0;
      this.#rxBufs[idx] = fresh;
      last = idx;
      idx = (idx + 1) & MASK;
    }
    if (n > 0) {
      this.#rxIndex = idx;
      this.#regs.write32(REG_RDT, last);
    }
    return n;
  }

  txBatch(bufs: Uint32Array, lens: Uint32Array, num: number): number {
    const tx = this.#tx;
    const pool = this.#pool;
    for (;;) {
      if (((this.#txIndex - this.#cleanIndex) & MASK) < BATCH) break;
      const to = (this.#cleanIndex + BATCH - 1) & MASK;
      if ((Atomics.load(tx, (to << 2) + 3) & DD) === 0) break;
      for (let i = this.#cleanIndex; ; i = (i + 1) & MASK) {
        pool.freeIndex(this.#txBufs[i]);
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
      tx[i << 2] = pool.iovaLow(b);
      tx[(i << 2) + 1] = pool.iovaHigh(b);
      tx[(i << 2) + 2] = lens[sent];
      tx[(i << 2) + 3] = 0;
      this.#txIndex = next;
    }
    this.#regs.write32(REG_TDT, this.#txIndex);
    return sent;
  }

  /** Forwards for `ms` milliseconds: the frames sent and the nanoseconds taken. */
  forward(ms: number): { frames: number; ns: number } {
    const bufs = new Uint32Array(BATCH);
    const pool = this.#pool;
    const lens = new Uint32Array(BATCH);
    let frames = 0;
    const t0 = process.hrtime.bigint();
    const end = t0 + BigInt(ms * 1e6);
    let empty = 0;
    for (let round = 0; ; round++) {
      const n = this.rxBatch(bufs, lens);
      if (n > 0) empty = 0;
      else if (++empty === SPINS) {
        empty = 0;
        schedYield();
      }
      for (let i = 0; i < n; i++) pool.bytesAt(bufs[i])[TOUCHED]++;
      const sent = this.txBatch(bufs, lens, n);
      for (let i = sent; i < n; i++) pool.freeIndex(bufs[i]);
      frames += sent;
      if ((round & 15) === 0) {
        const t = process.hrtime.bigint();
        // The window closes only once a frame went through (a loaded machine can starve the
        // peer for a whole short window): a rate of zero frames is no figure.
        if (t >= end && frames > 0) return { frames, ns: Number(t - t0) };
      }
    }
  }

  stop(): void {
    this.#regs.write32(REG_STOP, 1);
  }

  close(): void {
    this.#pool.close();
    this.#rings.close();
    this.#regs.close();
  }
}

type Nic = { rx: number; tx: number; bad: number };
type Out = { ns: number[]; frames: number };

/** One driver against a fresh NIC process and file; checks what the NIC saw. */
async function run(who: string, nicCpu: number | undefined, driver: (file: string) => Promise<Out>): Promise<number[]> {
  const file = sharedFile(`ring-${who}`, FILE_SIZE);
  const nic = startHelper<Nic>(nicCpu === undefined ? cProgram('nic') : onCpuCommand(nicCpu, cProgram('nic')), [file]);
  try {
    const out = await driver(file);
    const seen = await nic.done;
    if (seen.bad !== 0 || seen.tx === 0)
      throw new Error(`driver loop (${who}): the NIC saw ${seen.bad} bad frames of ${seen.tx} sent`);
    return out.ns;
  } finally {
    nic.kill();
  }
}

/** What a TypeScript driver of the row offers: the library's (`Driver`) or the bare one (driver-bare.ts). */
interface Forwarder {
  forward(ms: number): { frames: number; ns: number };
  stop(): void;
  close(): void;
}

function tsDriver(ms: number, reps: number, make: (fd: number) => Forwarder) {
  return (file: string): Promise<Out> => {
    const fd = openSync(file, 'r+');
    const d = make(fd);
    try {
      d.forward(ms); // warm-up: TurboFan optimises the loop
      const ns: number[] = [];
      let frames = 0;
      for (let r = 0; r < reps; r++) {
        const o = d.forward(ms);
        frames += o.frames;
        ns.push(o.ns / o.frames);
      }
      return Promise.resolve({ ns, frames });
    } finally {
      d.stop();
      d.close();
      closeSync(fd);
    }
  };
}

export async function driver(s: Size): Promise<CaseResult> {
  const ms = s.quick ? 30 : 150;
  const reps = s.quick ? 3 : 5;
  const helper = (command: [string, string[]]) => (file: string) => startHelper<Out>(command, [file, ms, reps]).done;
  // The driver (this thread, and the C and Python drivers it starts) on one CPU, the NIC on another.
  const [nicCpu, driverCpu] = twoCpus() ?? [];
  const sides = () =>
    interleave<{ c: { ns: number[] }; ts: { ns: number[] }; bare: { ns: number[] }; py: { ns: number[] } }>(s.rounds, {
      c: async () => ({ ns: await run('c', nicCpu, helper([cProgram('driver'), []])) }),
      ts: async () => ({
        ns: await run(
          'ts',
          nicCpu,
          tsDriver(ms, reps, (fd) => new Driver(fd)),
        ),
      }),
      bare: async () => ({
        ns: await run(
          'bare',
          nicCpu,
          tsDriver(ms, reps, (fd) => new BareDriver(fd, schedYield)),
        ),
      }),
      py: async () => ({ ns: await run('py', nicCpu, helper(pyScript('driver'))) }),
    });
  const { c, ts, bare, py } = driverCpu === undefined ? await sides() : await onCpu(driverCpu, sides);
  return {
    case: 'driver loop',
    main: { name: 'forward 64 B frames, batches of 32', c: stats(c.ns), ts: stats(ts.ns), py: stats(py.ns) },
    variants: [
      {
        name: 'the same loop, no library (bare typed arrays)',
        c: stats(c.ns),
        ts: stats(bare.ns),
        py: stats(py.ns),
        reference: true,
      },
    ],
    perFrame: true,
  };
}
