/**
 * The host benchmarks: what the library costs natively, beside C (-O2) and Python 3 doing the
 * same thing, with no device: a register accessor, an interrupt wake-up, an ioctl, the DMA
 * pool, an ixy-style driver loop, the floor of a foreign call, and start-up (`vfio list`,
 * `import('vfio-ts')`). See bench/README.md.
 *
 *   npm run bench:host [-- --quick] [-- --json] [-- --only NAME[,NAME]]
 *   (node --import tsx bench/host/main.ts ...)
 *
 * --quick: short loops, a check that everything runs rather than a measurement (a few seconds).
 * --json: the last line of output is {"rows":[{"case","c_ns","ts_ns","py_ns","ts_over_c",
 * "ts_over_py",...}],...}, medians in ns (the driver loop: ns per forwarded frame).
 * --only: some of accessor, irq, ioctl, pool, driver, floor, startup.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { accessor } from './accessor.js';
import { driver } from './driver.js';
import { floor } from './floor.js';
import { cleanup, compileAll, python, size, type CaseResult, type Size } from './harness.js';
import { ioctl } from './ioctl.js';
import { irq } from './irq.js';
import { pool } from './pool.js';
import { report, targets } from './report.js';
import { startup } from './startup.js';

const CASES: Record<string, (s: Size) => CaseResult | Promise<CaseResult>> = {
  accessor,
  irq,
  ioctl,
  pool,
  driver,
  floor,
  startup,
};

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  process.on('exit', cleanup); // the scratch directory goes, however the run ends
  const s = size(process.argv.includes('--quick'));
  const json = process.argv.includes('--json');
  const only = option('only')?.split(',') ?? Object.keys(CASES);
  for (const name of only)
    if (!(name in CASES)) throw new Error(`--only ${name}: the cases are ${Object.keys(CASES).join(', ')}`);
  const env = {
    node: process.version,
    python: execFileSync(python(), ['--version'], { encoding: 'utf8' }).trim(),
    cc: execFileSync('cc', ['--version'], { encoding: 'utf8' }).split('\n')[0],
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
    quick: s.quick,
  };
  console.log(`vfio-ts host benchmarks${s.quick ? ' (--quick: a check that all runs, not a measurement)' : ''}`);
  console.log(`${env.node}, ${env.python}, ${env.cc}, ${env.cpus}`);
  compileAll();
  const results: CaseResult[] = [];
  try {
    for (const name of only) {
      const t0 = performance.now();
      results.push(await CASES[name](s));
      console.error(`  ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    cleanup();
  }
  const { table, rows } = report(results);
  const goals = targets(results);
  console.log('');
  console.log(table);
  console.log('');
  for (const g of goals) console.log(`${g.met ? 'met   ' : 'MISSED'}  ${g.target}: ${g.value}`);
  if (json) console.log(JSON.stringify({ rows, targets: goals, env }));
}

main().catch((e: unknown) => {
  cleanup();
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
