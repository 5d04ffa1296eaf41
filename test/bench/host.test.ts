// The host benchmarks run as the README says (npm run bench:host -- --quick --json) and end with
// one JSON line: six cases, each with positive C, TypeScript and Python figures and ratios that
// are the figures' own, and start-up's figures of one language alone. Nothing here asserts a
// timing: --quick is a check that everything runs.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

interface Figures {
  c_ns: number;
  ts_ns: number;
  py_ns: number;
  ts_over_c: number;
  ts_over_py: number;
}
interface Single {
  line: string;
  side: 'c' | 'ts' | 'py';
  ns: number | null;
  note?: string;
}
interface Row extends Figures {
  case: string;
  line: string;
  c_mpps?: number;
  ts_mpps?: number;
  py_mpps?: number;
  variants: Array<Figures & { line: string; aid?: true; reference?: true }>;
  singles?: Single[];
}
interface Output {
  rows: Row[];
  targets: Array<{ target: string; value: string; met: boolean }>;
  env: { node: string; python: string; quick: boolean };
}

/** Whether `ratio` is `a / b` as printed (rounded to three decimals). */
function isRatio(ratio: number, a: number, b: number): boolean {
  return Math.abs(ratio - a / b) <= 0.0015 + 1e-6 * (a / b) + (0.0005 / b) * (1 + a / b);
}

describe('npm run bench:host -- --quick --json', () => {
  let r: SpawnSyncReturns<string>;
  let out: Output | undefined;
  beforeAll(() => {
    r = spawnSync('npm', ['run', '--silent', 'bench:host', '--', '--quick', '--json'], {
      cwd: resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
      timeout: 110_000,
    });
    try {
      out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Output;
    } catch {
      out = undefined;
    }
  });

  it('exits 0 and prints the table, the targets and, last, one JSON object', () => {
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status, `bench:host failed: ${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^1\. register accessor +Region\.read32 /m);
    expect(r.stdout).toMatch(/^(met {3}|MISSED) {2}wait\(\) within 1\.5x of C/m);
    expect(out).toBeDefined();
    expect(out!.env.quick).toBe(true);
  });

  it('has the six cases, in order, with C, TypeScript and Python figures on every line', () => {
    expect(out!.rows.map((row) => row.case)).toEqual([
      'register accessor',
      'interrupt wake-up',
      'ioctl wrapper',
      'DMA pool',
      'driver loop',
      'FFI floor',
      'start-up',
    ]);
    for (const row of out!.rows) {
      for (const f of [row, ...row.variants]) {
        for (const k of ['c_ns', 'ts_ns', 'py_ns', 'ts_over_c', 'ts_over_py'] as const) {
          expect(f[k], `${row.case}: ${f.line}: ${k}`).toBeTypeOf('number');
          expect(f[k], `${row.case}: ${f.line}: ${k}`).toBeGreaterThan(0);
        }
        expect(isRatio(f.ts_over_c, f.ts_ns, f.c_ns), `${row.case}: ${f.line}: ts_over_c`).toBe(true);
        expect(isRatio(f.ts_over_py, f.ts_ns, f.py_ns), `${row.case}: ${f.line}: ts_over_py`).toBe(true);
      }
    }
  });

  it('names the lines the targets speak of, and gives the driver loop in Mpps too', () => {
    const rows = new Map(out!.rows.map((row) => [row.case, row]));
    expect(rows.get('register accessor')!.line).toBe('Region.read32');
    expect(rows.get('register accessor')!.variants.map((v) => v.line)).toEqual([
      'Region.write32',
      'Region.read32, another region traced',
      'Region.read32 traced (no output)',
      'Atomics.load on the page, no library',
    ]);
    // The lines the library is not held to are marked: tracing as an aid, V8's own access as a reference.
    const marks = rows.get('register accessor')!.variants.map((v) => [v.aid === true, v.reference === true]);
    expect(marks).toEqual([
      [false, false],
      [false, false],
      [true, false],
      [false, true],
    ]);
    expect(rows.get('interrupt wake-up')!.line).toBe('wait()');
    expect(rows.get('interrupt wake-up')!.variants.map((v) => v.line)).toEqual([
      'waitAsync()',
      'for await',
      'wait(), own signal (CPU path)',
      'waitAsync(), own signal (CPU path)',
    ]);
    const d = rows.get('driver loop')!;
    const pairs: Array<[number | undefined, number]> = [
      [d.c_mpps, d.c_ns],
      [d.ts_mpps, d.ts_ns],
      [d.py_mpps, d.py_ns],
    ];
    for (const [mpps, ns] of pairs) {
      expect(mpps).toBeTypeOf('number');
      expect(Math.abs(mpps! - 1000 / ns)).toBeLessThan(0.001 + 1e-3 * mpps!);
    }
    expect(d.variants.map((v) => [v.line, v.reference])).toEqual([
      ['the same loop, no library (bare typed arrays)', true],
    ]);
    const driverTarget = out!.targets.find((t) => t.target === 'driver loop at least 50 % of C Mpps');
    expect(driverTarget?.value).toMatch(/; the same loop with no library: \d+ % of C$/);
    const accessorTargets = out!.targets.filter((t) => / under 10 ns, or at Atomics\.load's floor$/.test(t.target));
    expect(accessorTargets.map((t) => t.target.split(' ')[0])).toEqual(['Region.read32', 'Region.write32']);
    for (const t of accessorTargets) expect(t.value).toMatch(/^[\d.]+ ns \(Atomics\.load alone [\d.]+ ns\)$/);
    expect(out!.targets.map((t) => t.target)).toContain(
      'tracing costs an untraced region nothing (read32 within 10 % while another is traced)',
    );
    expect(out!.targets.map((t) => t.target)).toContain("ioctl wrapper within 1.3x of C, or at koffi's floor");
    const floor = rows.get('FFI floor')!;
    expect(floor.line).toBe('empty() in a shared library');
    expect(floor.variants.map((v) => v.line)).toEqual([
      'getppid(), a system call',
      'ioctl(fd, FIONREAD, n), bare',
      'eventfd write, epoll_wait, read, bare',
    ]);
    for (const t of out!.targets) expect(t.met).toBeTypeOf('boolean');
  });

  it('times start-up: vfio list and a bare start, the import in-process, lspci or why not', () => {
    const s = out!.rows.find((row) => row.case === 'start-up')!;
    expect(s.line).toMatch(/^vfio list, wall/);
    expect(s.variants.map((v) => v.line)).toEqual(['start, no work, wall']);
    const singles = new Map(s.singles!.map((x) => [x.line, x]));
    expect([...singles.keys()]).toEqual([
      "import('vfio-ts') inside node",
      "node, import('vfio-ts'), exit: wall",
      'lspci, wall',
    ]);
    for (const name of ["import('vfio-ts') inside node", "node, import('vfio-ts'), exit: wall"]) {
      expect(singles.get(name)!.side).toBe('ts');
      expect(singles.get(name)!.ns).toBeGreaterThan(0);
    }
    const lspci = singles.get('lspci, wall')!;
    if (lspci.ns === null) expect(lspci.note).toMatch(/not installed/);
    else expect(lspci.ns).toBeGreaterThan(0);
    const targets = out!.targets.map((t) => t.target);
    expect(targets).toContain("import('vfio-ts') within 60 ms");
    expect(targets).toContain("vfio list within 2x of bare node (node -e '')");
  });
});
