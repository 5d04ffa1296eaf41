/**
 * Row 1, register accessor: `Region.read32` / `write32`, the accessors of `dev.bar(n)`, on a
 * shared 4 KiB page (a tmpfs file that `Region` maps as an mmap-able region, as it maps a BAR
 * from a device fd), cycling over its 1024 words; against C volatile accesses and a Python
 * memoryview over an mmap of the same file.
 */
import { closeSync, openSync } from 'node:fs';
import {
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
  type RegionInfo,
} from '../../structs/index.js';
import { Region } from '../../src/vfio/region/region.js';
import {
  cProgram,
  interleave,
  pyScript,
  runJson,
  scaled,
  sharedFile,
  stats,
  timeLoop,
  type CaseResult,
  type Size,
} from './harness.js';

/** What `Region` is told about the file: a readable, writable, mmap-able region of 4 KiB at offset 0. */
export const PAGE_REGION: RegionInfo = {
  index: 0,
  flags: VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
  size: 4096n,
  offset: 0n,
  msixMappable: false,
  caps: [],
};

function reads(r: Region, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc ^= r.read32((i & 1023) << 2);
  return acc;
}

function writes(r: Region, n: number): number {
  for (let i = 0; i < n; i++) r.write32((i & 1023) << 2, i);
  return 0;
}

type Out = { read32: number[]; write32: number[] };

export async function accessor(s: Size): Promise<CaseResult> {
  const file = sharedFile('accessor', 4096);
  const ops = scaled(s, 10_000_000);
  const pyOps = scaled(s, 500_000);
  const fd = openSync(file, 'r+');
  try {
    using region = new Region(fd, PAGE_REGION, 'shared page (tmpfs file)');
    if (!region.isMapped(0, 4096)) throw new Error('the shared page was not mapped');
    const { c, ts, py } = await interleave<{ c: Out; ts: Out; py: Out }>(s.rounds, {
      c: () => runJson<Out>(cProgram('accessor'), [file, ops, s.reps]),
      ts: () => ({ read32: timeLoop(region, ops, s.reps, reads), write32: timeLoop(region, ops, s.reps, writes) }),
      py: () => runJson<Out>(pyScript('accessor', file, pyOps, s.reps)),
    });
    const line = (name: string, k: keyof Out) => ({ name, c: stats(c[k]), ts: stats(ts[k]), py: stats(py[k]) });
    return {
      case: 'register accessor',
      main: line('Region.read32', 'read32'),
      variants: [line('Region.write32', 'write32')],
    };
  } finally {
    closeSync(fd);
  }
}
