/**
 * Row 1, register accessor: `Region.read32` / `write32`, the accessors of `dev.bar(n)`, on a
 * shared 4 KiB page (a tmpfs file that `Region` maps as an mmap-able region, as it maps a BAR
 * from a device fd), cycling over its 1024 words; against C volatile accesses and a Python
 * memoryview over an mmap of the same file.
 */
import { closeSync, openSync } from 'node:fs';
import {
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
  type RegionInfo,
} from '../../structs/index.js';
import { Region } from '../../src/vfio/region/region.js';
import { KernelChannel } from '../../src/vfio/device/kernel-channel.js';
import { trace } from '../../src/trace/index.js';
import { Mapping } from '../../src/sys/index.js';
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

/** `reads` again for the traced region: a call site of its own keeps `reads` monomorphic. */
function tracedReads(r: Region, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc ^= r.read32((i & 1023) << 2);
  return acc;
}

/** The reference: `Atomics.load` straight on a typed array over the page, the read `Region.read32` makes. */
function atomicReads(words: Uint32Array, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc ^= Atomics.load(words, i & 1023);
  return acc;
}

function writes(r: Region, n: number): number {
  for (let i = 0; i < n; i++) r.write32((i & 1023) << 2, i);
  return 0;
}

type Out = { read32: number[]; write32: number[] };
type TsOut = Out & { untraced: number[]; traced: number[]; atomics: number[] };

export async function accessor(s: Size): Promise<CaseResult> {
  const file = sharedFile('accessor', 4096);
  const ops = scaled(s, 10_000_000);
  const pyOps = scaled(s, 500_000);
  const fd = openSync(file, 'r+');
  try {
    const channel = new KernelChannel(fd, 'tmpfs file'); // pread/pwrite and mmap of the file
    using region = new Region(channel, PAGE_REGION, 'shared page (tmpfs file)');
    if (!region.isMapped(0, 4096)) throw new Error('the shared page was not mapped');
    // Tracing: a second region over the same page, traced to no output while the first is read
    // (what tracing costs a region it does not trace), and read itself (what it costs when on).
    using traced = new Region(channel, PAGE_REGION, 'BAR0 of 0000:00:00.0');
    using page = new Mapping({ length: 4096, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, fd, target: file });
    const words = new Uint32Array(page.buffer);
    const { c, ts, py } = await interleave<{ c: Out; ts: TsOut; py: Out }>(s.rounds, {
      c: () => runJson<Out>(cProgram('accessor'), [file, ops, s.reps]),
      ts: () => {
        const read32 = timeLoop(region, ops, s.reps, reads);
        const write32 = timeLoop(region, ops, s.reps, writes);
        using t = trace(traced, { output: false });
        const untraced = timeLoop(region, ops, s.reps, reads);
        const tracedOps = Math.max(1000, Math.floor(ops / 20));
        const on = timeLoop(traced, tracedOps, s.reps, tracedReads);
        if (t.count < tracedOps * s.reps) throw new Error(`the traced region reported ${t.count} reads`);
        const atomics = timeLoop(words, ops, s.reps, atomicReads);
        return { read32, write32, untraced, traced: on, atomics };
      },
      py: () => runJson<Out>(pyScript('accessor', file, pyOps, s.reps)),
    });
    const line = (name: string, k: keyof TsOut, ck: keyof Out = 'read32') => ({
      name,
      c: stats(c[ck]),
      ts: stats(ts[k]),
      py: stats(py[ck]),
    });
    return {
      case: 'register accessor',
      main: line('Region.read32', 'read32'),
      variants: [
        line('Region.write32', 'write32', 'write32'),
        line('Region.read32, another region traced', 'untraced'),
        { ...line('Region.read32 traced (no output)', 'traced'), aid: true },
        { ...line('Atomics.load on the page, no library', 'atomics'), reference: true },
      ],
    };
  } finally {
    closeSync(fd);
  }
}
