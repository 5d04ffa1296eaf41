// The VM test matrix behind scripts/vm/test-matrix (npm run test:vm): the vm project of vitest,
// once per guest kernel and VFIO backend, each run in its own boot of scripts/vm/run. Every
// selected run runs, whatever the others did; the exit code is 0 only when all passed.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const RUN = join(HERE, 'run');
const VITEST = ['node', 'node_modules/vitest/vitest.mjs', 'run', '--project', 'vm'];

// VFIO_TS_IOMMU: the library's default backend in that run (scripts/vm/run passes VFIO_TS_*
// variables into the guest).
// The front ends (the vfio command, vfio repl, the README's blocks, the example drivers) call
// the library as any script does; they start node processes, which costs seconds each under
// TCG. They run with the container on 6.1 and with iommufd on 7.x, not again with the container
// on 7.x, where the library's own suite covers what differs between kernels.
const FRONT_ENDS = [
  'test/vm/cli.test.ts',
  'test/vm/repl.test.ts',
  'test/vm/regmap-cli.test.ts',
  'test/vm/regmap-repl.test.ts',
  'test/vm/readme-blocks.test.ts',
  'test/vm/examples.test.ts',
  'test/vm/example-e1000e.test.ts',
];

export const RUNS = [
  { name: 'debian-type1', kernel: 'debian', backend: 'type1', rig: ['--kernel', 'debian', '--memory', '6G'] },
  {
    name: 'vfio-type1',
    kernel: 'vfio',
    backend: 'type1',
    rig: ['--kernel', 'vfio', '--memory', '6G'],
    exclude: FRONT_ENDS,
  },
  { name: 'vfio-iommufd', kernel: 'vfio', backend: 'iommufd', rig: ['--kernel', 'vfio', '--memory', '6G'] },
  {
    name: 'vfio-noiommu',
    kernel: 'vfio',
    backend: 'noiommu',
    rig: ['--kernel', 'vfio', '--no-iommu', '--memory', '6G'],
    // Without an IOMMU only DMA, interrupts, the argument checks (whose DMA rows name the
    // no-IOMMU context) and a device with no group mean anything (no groups to share, no IOVA
    // ranges): the rest of the suite is about the IOMMU.
    files: [
      'test/vm/dma.test.ts',
      'test/vm/interrupts.test.ts',
      'test/vm/arguments.test.ts',
      'test/vm/device-missing.test.ts',
    ],
  },
];

const say = (msg) => process.stderr.write(`${msg}\n`);

function usage(msg, code = 2) {
  if (msg) say(`test-matrix: ${msg}`);
  (code === 0 ? process.stdout : process.stderr).write(
    'usage: scripts/vm/test-matrix [--only NAME[,NAME...]] [--list] [-- VITEST ARGS...]\n' +
      'Runs the VM suite (vitest --project vm) in one guest boot per row, then prints a summary.\n' +
      "VITEST ARGS are appended to every run (e.g. -t NAME, or test files: those replace a run's own).\n" +
      'runs:\n' +
      RUNS.map(
        (r) =>
          `  ${r.name.padEnd(14)} scripts/vm/run ${r.rig.join(' ')}, VFIO_TS_IOMMU=${r.backend}` +
          (r.files ? `, only ${r.files.join(' ')}` : '') +
          (r.exclude ? `, not the front ends (${r.exclude.map((f) => f.replace('test/vm/', '')).join(' ')})` : '') +
          '\n',
      ).join(''),
  );
  process.exit(code);
}

function parseArgs(argv) {
  const o = { only: null, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      o.extra = argv.slice(i + 1);
      break;
    } else if (a === '--only') {
      if (i + 1 >= argv.length) usage('--only needs a value');
      o.only = argv[++i].split(',').filter(Boolean);
    } else if (a.startsWith('--only=')) o.only = a.slice('--only='.length).split(',').filter(Boolean);
    else if (a === '--list' || a === '-h' || a === '--help') usage(null, 0);
    else usage(`unknown argument ${a}`);
  }
  if (o.only) {
    for (const n of o.only) if (!RUNS.some((r) => r.name === n)) usage(`unknown run "${n}"`);
  }
  return o;
}

function runOne(r, extra) {
  return new Promise((resolve) => {
    // Test files given by the developer replace a run's own file list.
    const given = extra.some((a) => /\.test\.ts$|^test\//.test(a));
    const ownFiles = given ? [] : (r.files ?? []);
    const excluded = given ? [] : (r.exclude ?? []).flatMap((f) => ['--exclude', f]);
    const args = [...r.rig, '--', ...VITEST, ...ownFiles, ...excluded, ...extra];
    const t0 = performance.now();
    const child = spawn(RUN, args, { stdio: 'inherit', env: { ...process.env, VFIO_TS_IOMMU: r.backend } });
    let stopping = null;
    const forward = (sig) => {
      stopping = sig;
      child.kill(sig);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const done = (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve({ code, seconds: (performance.now() - t0) / 1000, stopping });
    };
    child.on('error', (e) => {
      say(`test-matrix: cannot start ${RUN}: ${e.message}`);
      done(125);
    });
    child.on('exit', (code, sig) => done(code ?? (sig === 'SIGINT' ? 130 : 143)));
  });
}

export async function main(argv) {
  const o = parseArgs(argv);
  const runs = o.only ? RUNS.filter((r) => o.only.includes(r.name)) : RUNS;
  // The README blocks import the package by name, which resolves to dist/: build it first.
  const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: join(HERE, '..', '..'),
    stdio: 'inherit',
  });
  if (build.status !== 0) {
    say('test-matrix: npm run build failed: the VM suite needs dist/ (see the errors above)');
    process.exit(1);
  }
  const results = [];
  for (const [i, r] of runs.entries()) {
    const line = '='.repeat(78);
    say(
      `\n${line}\n=== VM run ${i + 1}/${runs.length}: ${r.name}  (kernel ${r.kernel}, backend ${r.backend}; ` +
        `scripts/vm/run ${r.rig.join(' ')}, VFIO_TS_IOMMU=${r.backend})\n${line}`,
    );
    const res = await runOne(r, o.extra);
    results.push({ ...r, ...res });
    say(`=== ${r.name}: exit ${res.code} after ${res.seconds.toFixed(0)} s`);
    if (res.stopping) {
      say(`test-matrix: ${res.stopping}: not starting the remaining runs`);
      break;
    }
  }
  const rows = [
    ['run', 'kernel', 'backend', 'exit', 'seconds'],
    ...results.map((r) => [r.name, r.kernel, r.backend, String(r.code), r.seconds.toFixed(0)]),
  ];
  const width = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const fmt = (row) => row.map((cell, c) => (c >= 3 ? cell.padStart(width[c]) : cell.padEnd(width[c]))).join('  ');
  const failed = results.filter((r) => r.code !== 0);
  const total = results.reduce((s, r) => s + r.seconds, 0);
  say(
    `\n=== VM test matrix: ${results.length - failed.length} of ${runs.length} runs passed ` +
      `(${total.toFixed(0)} s)\n${rows.map(fmt).join('\n')}`,
  );
  if (failed.length) say(`FAILED: ${failed.map((r) => r.name).join(', ')}`);
  process.exit(failed.length || results.length < runs.length ? 1 : 0);
}
