/**
 * Time to first register: from spawning a process to it printing edu's identification register
 * (BAR0 + 0x00, 0x010000ed), for C (raw VFIO ioctls), the library from its TypeScript sources
 * (`node --import tsx`), the library as the npm package installs it (its compiled dist/, plain
 * `node`), and Python 3 (ctypes and mmap, no library). Each opens the device the way into VFIO
 * this guest's tests use (test/vm/backend.ts: the container, iommufd's cdev, or no-IOMMU),
 * maps BAR0 and reads it once. The programs are bench/first-register/*; the C one is compiled
 * here with cc -O2 first (not timed). Each variant runs once untimed, then `--reps` times;
 * min / median / max of those.
 *
 * Runs inside the test VM:  npm run bench:start  [-- --reps 5]
 * (npm run bench:start installs the package for the guest first: test/support/packed-install.ts)
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manifestDevice } from '../scripts/vm/manifest.js';
import { installedForVm } from '../test/support/packed-install.js';
import { arg } from './common.js';

const HERE = join(dirname(fileURLToPath(import.meta.url)), 'first-register');
const ROOT = dirname(dirname(HERE));
const EXPECTED = '0x010000ed';

const reps = Number(arg('reps', '5'));
const edu = manifestDevice('edu', 'npm run bench:start');
// After the check above: test/vm/backend.ts reads the manifest as it loads, with the tests' message.
const { backend } = await import('../test/vm/backend.js');

/** What C and Python are told: the way into VFIO, then the group node and address, or the cdev. */
function rawArgs(): string[] {
  if (backend === 'iommufd') {
    if (!edu.cdev) throw new Error(`edu (${edu.bdf}) has no VFIO cdev in this guest`);
    return ['iommufd', edu.cdev];
  }
  if (!edu.groupPath) throw new Error(`edu (${edu.bdf}) has no VFIO group node in this guest`);
  return [backend, edu.groupPath, edu.bdf];
}

/** The installed package in a project of its own, as `npm install vfio-ts` leaves it. */
function userProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'first-register-user-'));
  symlinkSync(join(installedForVm(), 'node_modules'), join(dir, 'node_modules'));
  copyFileSync(join(HERE, 'first-register.mjs'), join(dir, 'first-register.mjs'));
  return dir;
}

interface Variant {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  /** What the program prints: the register, or (a reference line) nothing. */
  prints: string;
}

const scratch = mkdtempSync(join(tmpdir(), 'first-register-'));
const exe = join(scratch, 'first-register');
execFileSync('cc', ['-O2', '-o', exe, join(HERE, 'first-register.c')], { stdio: 'inherit' });
const user = userProject();
// The interpreter itself: a version manager's shim (pyenv's is a shell script) would add its own
// start-up to Python's, as node is started from process.execPath, not through a shim.
const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

const VARIANTS: Variant[] = [
  { name: 'C (ioctl + mmap)', command: exe, args: rawArgs(), prints: EXPECTED },
  {
    name: 'Python 3 (ctypes + mmap)',
    command: 'python3',
    args: [join(HERE, 'first-register.py'), ...rawArgs()],
    prints: EXPECTED,
  },
  { name: 'reference: python3 -c "" (no library)', command: python, args: ['-c', ''], prints: '' },
  {
    name: 'reference: python3, ctypes and mmap imported, no device',
    command: python,
    args: ['-c', 'import ctypes, mmap; ctypes.CDLL(None, use_errno=True)'],
    prints: '',
  },
  { name: 'reference: node -e "" (no library)', command: process.execPath, args: ['-e', ''], prints: '' },
  {
    name: 'TypeScript, node (installed package, dist/)',
    command: process.execPath,
    args: ['first-register.mjs', edu.bdf],
    cwd: user,
    prints: EXPECTED,
  },
  {
    name: 'reference: node --import tsx -e "" (no library)',
    command: process.execPath,
    args: ['--import', 'tsx', '-e', ''],
    cwd: ROOT,
    prints: '',
  },
  {
    name: 'TypeScript, node --import tsx (sources)',
    command: process.execPath,
    args: ['--import', 'tsx', join(HERE, 'first-register.ts'), edu.bdf],
    cwd: ROOT,
    prints: EXPECTED,
  },
];

/** Spawns `v` and resolves with the ms from the spawn to its first line (to its exit when it prints nothing). */
function timeOnce(v: Variant): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(v.command, v.args, {
      cwd: v.cwd ?? ROOT,
      env: { ...process.env, VFIO_TS_IOMMU: backend },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let t1: bigint | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (t1 === undefined && out.includes('\n')) t1 = process.hrtime.bigint();
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const end = t1 ?? process.hrtime.bigint();
      if (code !== 0 || out.trim() !== v.prints)
        reject(new Error(`${v.name}: exit ${code}, printed ${JSON.stringify(out)}, not ${v.prints}\n${err}`));
      else resolve(Number(end - t0) / 1e6);
    });
  });
}

// One variant's runs back to back, the first dropped, the smallest programs first. Under TCG a
// program starts much faster when QEMU still holds the translation of its code: interleaving the
// variants (as bench:host does) let node runs evict Python's, whose start-up then varied from 2
// to 18 s; after the node variants it was 10-26 s, in a fresh guest 2.4-4.8 s.
const times = VARIANTS.map(() => [] as number[]);
for (const [i, v] of VARIANTS.entries()) {
  await timeOnce(v); // warms the page cache, tsx's transform cache and QEMU's translations
  for (let r = 0; r < reps; r++) times[i].push(await timeOnce(v));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cMedian = median(times[0]);
console.log(
  `time to first register: spawn -> edu's id register printed (${EXPECTED}), ${edu.bdf}, ${backend}, ` +
    `${reps} runs of each after one warm-up run (node ${process.version})`,
);
console.log('| variant | min ms | median ms | max ms | median / C |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [i, v] of VARIANTS.entries()) {
  const s = times[i];
  const m = median(s);
  console.log(
    `| ${v.name} | ${Math.min(...s).toFixed(1)} | ${m.toFixed(1)} | ${Math.max(...s).toFixed(1)} | ${(m / cMedian).toFixed(1)} |`,
  );
}
