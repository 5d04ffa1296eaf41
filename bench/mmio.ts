/**
 * Register access throughput: `read32` / `write32` through the library's accessors on edu's and
 * e1000e's BAR0, the same accessors on plain memory (accessor cost without device emulation),
 * and DMA pool alloc/free, against a C program doing the same loops through the same kernel
 * interfaces (bench/mmio.c, compiled here with cc -O2). Each case: ops/s and ns/op, TS / C.
 *
 * Runs inside the test VM:  npm run bench:mmio  [-- --count 200000 --mem-count 10000000 --pool-count 1000000 --reps 7]
 * (or: scripts/vm/run --devices edu,e1000e -- node --import tsx bench/mmio.ts)
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../structs/index.js';
import { openDevice, Region, type DmaPool } from '../src/index.js';
import { Mapping, MmioWindow } from '../src/sys/index.js';
import { KernelChannel } from '../src/vfio/device/kernel-channel.js';
import { arg, manifestDevices, type BenchDevice } from './common.js';
import { PAGE_REGION } from './host/accessor.js';

const EDU_ID = 0x00;
const EDU_LIVENESS = 0x04;
const E1000E_MTA = 0x5200; // multicast table array, 128 dwords

const devOps = Number(arg('count', '200000'));
const memOps = Number(arg('mem-count', '10000000'));
const poolOps = Number(arg('pool-count', '1000000'));
const reps = Number(arg('reps', '7'));
const [eduDev, nicDev] = manifestDevices(['edu', 'e1000e'], 'npm run bench:mmio');

const here = dirname(fileURLToPath(import.meta.url));
const exe = join(mkdtempSync(join(tmpdir(), 'mmio-')), 'mmio');
execFileSync('cc', ['-O2', '-o', exe, join(here, 'mmio.c')], { stdio: 'inherit' });

/** The C program's timed repetitions of one case, as ns per op. */
function c(name: string, ops: number, dev?: BenchDevice): number[] {
  const args = [name, String(ops), String(reps), ...(dev ? [String(dev.group), dev.bdf] : [])];
  const out = execFileSync(exe, args, { encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const [, n, ns] = line.split(' ');
      return Number(ns) / Number(n);
    });
}

// One function per case, so that each loop is optimised (TurboFan) for its own accessor.
function eduRead(bar: Region, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc ^= bar.read32(EDU_ID);
  return acc;
}
function eduWrite(bar: Region, n: number): number {
  for (let i = 0; i < n; i++) bar.write32(EDU_LIVENESS, i);
  return 0;
}
function eduWriteRead(bar: Region, n: number): number {
  let bad = 0;
  for (let i = 0; i < n; i++) {
    bar.write32(EDU_LIVENESS, i);
    if (bar.read32(EDU_LIVENESS) !== ~i >>> 0) bad++;
  }
  if (bad) throw new Error(`edu liveness: ${bad} of ${n} reads were not the complement`);
  return 0;
}
function mtaRead(bar: Region, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc ^= bar.read32(E1000E_MTA + ((i & 127) << 2));
  return acc;
}
function regionMemRead(region: Region, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc ^= region.read32((i & 1023) << 2);
  return acc;
}
function windowMemRead(w: MmioWindow, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc ^= w.read32((i & 1023) << 2);
  return acc;
}
function poolAllocFree(pool: DmaPool, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const e = pool.alloc()!;
    acc += e.index;
    e.free();
  }
  return acc;
}

let sink = 0;
/** Warm-up (3 runs of a tenth, enough for TurboFan), then `reps` timed runs of `n` ops, as ns per op. */
function time<T>(target: T, n: number, body: (t: T, n: number) => number): number[] {
  for (let w = 0; w < 3; w++) sink ^= body(target, Math.max(5000, Math.floor(n / 10)));
  const ns: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    sink ^= body(target, n);
    const t1 = process.hrtime.bigint();
    ns.push(Number(t1 - t0) / n);
  }
  return ns;
}

/** The TypeScript side of each case; devices are opened here and closed before the next C run. */
function edu(body: (bar: Region, n: number) => number) {
  return (): number[] => {
    using dev = openDevice(eduDev.bdf);
    const bar = dev.bar(0);
    if (bar.read32(EDU_ID) !== 0x010000ed)
      throw new Error(`edu id reads 0x${bar.read32(EDU_ID).toString(16)}, not 0x010000ed`);
    return time(bar, devOps, body);
  };
}

function mtaCase(): number[] {
  using dev = openDevice(nicDev.bdf);
  return time(dev.bar(0), devOps, mtaRead);
}

/**
 * Plain memory through Region.read32, the accessor the device rows use: a MAP_SHARED mapping
 * of a tmpfs file, described to Region as an mmap-able region at offset 0.
 */
function regionMemCase(): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'mmio-'));
  const file = join(dir, 'plain');
  writeFileSync(file, Buffer.alloc(4096));
  const fd = openSync(file, 'r+');
  try {
    using region = new Region(new KernelChannel(fd, 'tmpfs file'), PAGE_REGION, 'plain memory (tmpfs file)');
    if (!region.isMapped(0, 4096)) throw new Error('plain-memory region was not mapped');
    return time(region, memOps, regionMemRead);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true });
  }
}

function windowMemCase(): number[] {
  using m = new Mapping({
    length: 4096,
    prot: PROT_READ | PROT_WRITE,
    flags: MAP_PRIVATE | MAP_ANONYMOUS,
    target: 'bench memory',
  });
  const w = new MmioWindow(m.buffer);
  for (let i = 0; i < 1024; i++) w.write32(i << 2, i);
  return time(w, memOps, windowMemRead);
}

function poolCase(): number[] {
  using dev = openDevice(eduDev.bdf);
  using pool = dev.dma.pool(1024, 2048);
  return time(pool, poolOps, poolAllocFree);
}

const cases: Array<{ label: string; c: () => number[]; ts: () => number[] }> = [
  { label: '1. edu read32 id (0x00)', c: () => c('edu-read', devOps, eduDev), ts: edu(eduRead) },
  { label: '2. edu write32 liveness (0x04)', c: () => c('edu-write', devOps, eduDev), ts: edu(eduWrite) },
  {
    label: '3. edu write32 + read32 liveness, checked',
    c: () => c('edu-write-read', devOps, eduDev),
    ts: edu(eduWriteRead),
  },
  { label: '4. e1000e read32 MTA (0x5200-0x53fc)', c: () => c('e1000e-mta-read', devOps, nicDev), ts: mtaCase },
  { label: '5a. plain memory: Region.read32 vs C volatile', c: () => c('mem-read', memOps), ts: regionMemCase },
  { label: '5b. plain memory: MmioWindow.read32 vs C volatile', c: () => c('mem-read', memOps), ts: windowMemCase },
  { label: '6. DMA pool alloc + free', c: () => c('pool-alloc-free', poolOps), ts: poolCase },
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rate = (ns: number): string => {
  const r = 1e9 / ns;
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : `${(r / 1e3).toFixed(1)} k`;
};
const nsFmt = (ns: number): string => (ns >= 100 ? ns.toFixed(0) : ns >= 10 ? ns.toFixed(1) : ns.toFixed(2));

console.log(
  `medians of ${reps} runs after warm-up; ${devOps} device ops, ${memOps} memory reads, ${poolOps} pool pairs per run; C and TS alternate case by case (node ${process.version}, ${process.arch})`,
);
console.log('| case | C ns/op | TS ns/op | C ops/s | TS ops/s | TS / C |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const k of cases) {
  const cn = median(k.c()); // C first, with no group open here: a group can be open in only one process at a time
  const tn = median(k.ts());
  console.log(`| ${k.label} | ${nsFmt(cn)} | ${nsFmt(tn)} | ${rate(cn)} | ${rate(tn)} | ${(tn / cn).toFixed(2)} |`);
}
rmSync(dirname(exe), { recursive: true });
if (sink === 0.5) console.log(sink); // keep the loops' results alive
