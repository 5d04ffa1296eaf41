// The VM test matrix behind scripts/vm/test-matrix (npm run test:vm): the vm project of vitest,
// once per guest kernel and VFIO backend, and its core once per other pinned Node, each run in its
// own boot of scripts/vm/run (the rows: matrix-rows.mjs). Every selected run runs, whatever the
// others did; the exit code is 0 only when all passed.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPackage } from '../build.mjs';
import { matrixRows } from './matrix-rows.mjs';
import { startModelServers } from './model-servers.mjs';
import { parseScriptArgs } from './script-args.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const RUN = join(HERE, 'run');
// In the guest: vitest run --project vm, through guest-vitest.mjs (it resumes after a crash of node).
const VITEST = ['node', join(HERE, 'guest-vitest.mjs'), '--project', 'vm'];

export const RUNS = matrixRows();

const say = (msg) => process.stderr.write(`${msg}\n`);

function usage(msg, code = 2) {
  if (msg) say(`test-matrix: ${msg}`);
  (code === 0 ? process.stdout : process.stderr).write(
    'usage: scripts/vm/test-matrix [--only NAME[,NAME...]] [--lanes N] [--long] [--list] [-- VITEST ARGS...]\n' +
      'Runs the VM suite (vitest --project vm) in one guest boot per row, then prints a summary.\n' +
      '--lanes N: up to N guests at once (default 2 on a machine with 2 or more CPUs, else 1); with\n' +
      "more than one, each row's output is printed whole when the row ends.\n" +
      '--long: the soak at full size (VFIO_TS_LONG=1: 100,000 interrupts and DMA cycles; hours under TCG).\n' +
      "VITEST ARGS are appended to every run (e.g. -t NAME, or test files: those replace a run's own).\n" +
      'runs:\n' +
      RUNS.map(
        (r) =>
          `  ${r.name.padEnd(14)} scripts/vm/run ${r.rig.join(' ')}, VFIO_TS_IOMMU=${r.backend}, node ${r.node}` +
          (r.files ? `, only ${r.files.join(' ')}` : '') +
          (r.exclude ? `, not ${r.exclude.map((f) => f.replace('test/vm/', '')).join(' ')}` : '') +
          (r.serve ? `, serving ${r.serve.join(' ')} on the host (--vfio-user)` : '') +
          (r.env
            ? `, ${Object.entries(r.env)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')}`
            : '') +
          '\n',
      ).join(''),
  );
  process.exit(code);
}

function parse(argv) {
  const { values, extra } = parseScriptArgs(
    argv,
    {
      only: { type: 'string' },
      lanes: { type: 'string' },
      long: { type: 'boolean' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    usage,
  );
  if (values.long) process.env.VFIO_TS_LONG = '1'; // scripts/vm/run passes VFIO_TS_* into the guest
  const o = { only: null, extra, lanes: Math.min(2, Math.max(1, availableParallelism())) };
  if (values.lanes !== undefined) {
    o.lanes = Number(values.lanes);
    if (!Number.isInteger(o.lanes) || o.lanes < 1) usage(`--lanes needs a whole number from 1, not ${values.lanes}`);
  }
  if (values.only !== undefined) {
    o.only = values.only.split(',').filter(Boolean);
    for (const n of o.only) if (!RUNS.some((r) => r.name === n)) usage(`unknown run "${n}"`);
  }
  return o;
}

/**
 * One row in its own guest boot. `live`: the output goes straight to ours; otherwise it is kept
 * (stdout and stderr chunks in the order they came) and printed whole by the caller.
 */
async function runOne(r, extra, live) {
  const t0 = performance.now();
  // A row's model servers run on the host for the length of its boot (model-servers.mjs).
  let served = null;
  if (r.serve && process.env.VFIO_TS_SKIP_VM !== '1') {
    try {
      served = await startModelServers(r.serve);
    } catch (e) {
      const output = [[process.stderr, `test-matrix: ${r.name}: ${e.message}\n`]];
      if (live) process.stderr.write(output[0][1]);
      return { code: 125, seconds: (performance.now() - t0) / 1000, stopping: null, output: live ? [] : output };
    }
  }
  const res = await bootRow(r, extra, live, served?.args ?? []);
  const problems = await served?.stop();
  if (problems) {
    const note = `test-matrix: ${r.name} fails: ${problems}\n`;
    if (live) process.stderr.write(note);
    else res.output.push([process.stderr, note]);
    if (res.code === 0) res.code = 1;
  }
  return { ...res, seconds: (performance.now() - t0) / 1000 };
}

/** The row's boot of scripts/vm/run; `rigExtra`: more options for it (the served devices). */
function bootRow(r, extra, live, rigExtra) {
  return new Promise((resolve) => {
    // Test files given by the developer replace a run's own file list.
    const given = extra.some((a) => /\.test\.ts$|^test\//.test(a));
    const ownFiles = given ? [] : (r.files ?? []);
    const excluded = given ? [] : (r.exclude ?? []).flatMap((f) => ['--exclude', f]);
    const args = [...r.rig, ...rigExtra, '--', ...VITEST, ...ownFiles, ...excluded, ...extra];
    const t0 = performance.now();
    const child = spawn(RUN, args, {
      stdio: live ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...r.env, VFIO_TS_IOMMU: r.backend },
    });
    const output = [];
    if (!live) {
      child.stdout.on('data', (d) => output.push([process.stdout, d]));
      child.stderr.on('data', (d) => output.push([process.stderr, d]));
    }
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
      resolve({ code, seconds: (performance.now() - t0) / 1000, stopping, output });
    };
    child.on('error', (e) => {
      say(`test-matrix: cannot start ${RUN}: ${e.message}`);
      done(125);
    });
    // 'close', not 'exit': the piped output has been read to its end.
    child.on('close', (code, sig) => done(code ?? (sig === 'SIGINT' ? 130 : 143)));
  });
}

const banner = (r, i, n) => {
  const line = '='.repeat(78);
  return (
    `\n${line}\n=== VM run ${i + 1}/${n}: ${r.name}  (${r.arch}, kernel ${r.kernel}, backend ${r.backend}, node ${r.node}; ` +
    `scripts/vm/run ${r.rig.join(' ')}, VFIO_TS_IOMMU=${r.backend})\n${line}`
  );
};

/**
 * Runs the rows on up to `lanes` guests at once: each TCG guest mostly keeps one host CPU busy
 * (one vitest worker), so two guests on two CPUs take about the time of the longer lane. Rows
 * are placed longest first (their measured `seconds`) on the lane that frees up first.
 */
async function runLanes(runs, extra, lanes) {
  const queue = [...runs].sort((a, b) => b.seconds - a.seconds);
  const results = new Map();
  let stop = null;
  const lane = async (n) => {
    while (queue.length && !stop) {
      const r = queue.shift();
      const i = runs.indexOf(r);
      say(`=== lane ${n}: ${r.name} started (its output follows when it ends)`);
      const res = await runOne(r, extra, false);
      say(banner(r, i, runs.length));
      for (const [stream, chunk] of res.output) stream.write(chunk);
      say(`=== ${r.name}: exit ${res.code} after ${res.seconds.toFixed(0)} s (lane ${n})`);
      results.set(r, res);
      if (res.stopping) stop = res.stopping;
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, runs.length) }, (_, n) => lane(n + 1)));
  if (stop) say(`test-matrix: ${stop}: not starting the remaining runs`);
  return runs.filter((r) => results.has(r)).map((r) => ({ ...r, ...results.get(r) }));
}

export async function main(argv) {
  const o = parse(argv);
  const runs = o.only ? RUNS.filter((r) => o.only.includes(r.name)) : RUNS;
  // The README blocks import the package by name, which resolves to dist/: build it first (not
  // when VFIO_TS_SKIP_VM=1 skips every guest).
  if (process.env.VFIO_TS_SKIP_VM !== '1') {
    try {
      await buildPackage();
    } catch (e) {
      say(`test-matrix: npm run build failed: the VM suite needs dist/\n${e.message}`);
      process.exit(1);
    }
  }
  const t0 = performance.now();
  let results = [];
  if (o.lanes > 1 && runs.length > 1) results = await runLanes(runs, o.extra, o.lanes);
  else {
    for (const [i, r] of runs.entries()) {
      say(banner(r, i, runs.length));
      const res = await runOne(r, o.extra, true);
      results.push({ ...r, ...res });
      say(`=== ${r.name}: exit ${res.code} after ${res.seconds.toFixed(0)} s`);
      if (res.stopping) {
        say(`test-matrix: ${res.stopping}: not starting the remaining runs`);
        break;
      }
    }
  }
  const wall = (performance.now() - t0) / 1000;
  const rows = [
    ['run', 'arch', 'kernel', 'backend', 'node', 'exit', 'seconds'],
    ...results.map((r) => [r.name, r.arch, r.kernel, r.backend, r.node, String(r.code), r.seconds.toFixed(0)]),
  ];
  const width = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const fmt = (row) => row.map((cell, c) => (c >= 5 ? cell.padStart(width[c]) : cell.padEnd(width[c]))).join('  ');
  const failed = results.filter((r) => r.code !== 0);
  const total = results.reduce((s, r) => s + r.seconds, 0);
  const lanes = Math.min(o.lanes, runs.length);
  say(
    `\n=== VM test matrix: ${results.length - failed.length} of ${runs.length} runs passed ` +
      `(${wall.toFixed(0)} s wall${lanes > 1 ? `, ${lanes} lanes, ${total.toFixed(0)} s of runs` : ''})\n${rows.map(fmt).join('\n')}`,
  );
  if (failed.length) say(`FAILED: ${failed.map((r) => r.name).join(', ')}`);
  process.exit(failed.length || results.length < runs.length ? 1 : 0);
}
