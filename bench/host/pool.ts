/**
 * Row 4, DMA pool: `pool.alloc()` + `entry.free()` pairs on a `Dma.pool(1024, 2048)`; then what
 * a driver does per packet (alloc, write `entry.bytes[0]`, put `entry.iova` in a descriptor, free); then
 * `buffer.view(offset, 64)`. The `Dma` sits on a stand-in IOMMU whose map and unmap do nothing
 * (the pool's own code makes no system call; a real IOMMU is only asked once, for the pool's
 * one mapping). Against a C free-list stack with the same checks (c/pool.h) and a Python one.
 */
import { Dma, type DmaBuffer, type DmaPool } from '../../src/dma/index.js';
import type { Iommu } from '../../src/iommu/index.js';
import {
  cProgram,
  interleave,
  pyScript,
  runJson,
  scaled,
  stats,
  timeLoop,
  type CaseResult,
  type Size,
} from './harness.js';

/** An IOMMU that maps nothing: enough for `Dma` to hand out IOVAs and carve pools. */
export const STAND_IN_IOMMU: Iommu = {
  kind: 'type1',
  name: 'stand-in IOMMU (no-op map)',
  closed: false,
  onClose: () => {},
  info: () => ({ pageSizes: 0x1000n, minPageSize: 0x1000, iovaRanges: [{ start: 0x100000n, end: (1n << 39n) - 1n }] }),
  mapDma: () => {},
  unmapDma: () => {},
};

function allocFree(pool: DmaPool, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const e = pool.alloc()!;
    acc += e.index;
    e.free();
  }
  return acc;
}

/** What a driver does per packet: an entry, a byte written, its IOVA put in a descriptor, the entry back. */
function allocTouchFree({ pool, desc }: { pool: DmaPool; desc: BigUint64Array }, n: number): number {
  for (let i = 0; i < n; i++) {
    const e = pool.alloc()!;
    e.bytes[0] = i;
    desc[i & 7] = e.iova;
    e.free();
  }
  return desc.length;
}

function views(buffer: DmaBuffer, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += buffer.view((i & 511) * 64, 64).length;
  return acc;
}

type Out = { alloc_free: number[]; alloc_touch_free: number[]; view: number[] };

export async function pool(s: Size): Promise<CaseResult> {
  const ops = scaled(s, 10_000_000);
  const viewOps = scaled(s, 30_000);
  // Each loop its own pool, so that one loop's history does not shape the next one's code.
  using dma = new Dma(STAND_IN_IOMMU);
  const pools = { plain: dma.pool(1024, 2048), touched: dma.pool(1024, 2048), viewed: dma.pool(1024, 2048) };
  const desc = new BigUint64Array(8);
  const { c, ts, py } = await interleave<{ c: Out; ts: Out; py: Out }>(s.rounds, {
    c: () => runJson<Out>(cProgram('pool'), [ops, s.reps]),
    ts: () => ({
      alloc_free: timeLoop(pools.plain, ops, s.reps, allocFree),
      alloc_touch_free: timeLoop({ pool: pools.touched, desc }, ops, s.reps, allocTouchFree),
      view: timeLoop(pools.viewed.buffer, viewOps, s.reps, views),
    }),
    py: () => runJson<Out>(pyScript('pool', scaled(s, 200_000), s.reps)),
  });
  const line = (name: string, k: keyof Out) => ({ name, c: stats(c[k]), ts: stats(ts[k]), py: stats(py[k]) });
  return {
    case: 'DMA pool',
    main: line('alloc() + free()', 'alloc_free'),
    variants: [
      line('alloc, bytes[0] =, desc = iova, free', 'alloc_touch_free'),
      line('buffer.view(offset, 64)', 'view'),
    ],
  };
}
