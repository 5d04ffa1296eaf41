// The host tests under each pinned Node.js (scripts/vm/nodes.mjs) other than the machine's own,
// which `npm run test:host` has just run them under: `vitest run --project host` started by that
// Node, with its bin/ first in PATH so that the `node` and npm the tests start are that Node too.
// The versions run one after another (each vitest keeps every CPU busy); every one runs, whatever
// the others did; the exit code is 0 only when all passed. See scripts/vm/README.md.
import { spawn } from 'node:child_process';
import { dirname, join, delimiter } from 'node:path';
import { NODES, fetchedNode, findNode, otherNodes } from './nodes.mjs';
import { REPO } from './paths.mjs';
import { parseScriptArgs } from './script-args.mjs';

/**
 * What runs under the machine's Node only, and why: none of these is about the library on a
 * given Node. The rig's own tests (they boot QEMU or test the VM suite's wrapper), the lint
 * rules, and the package test, whose slow part (packing, type-checking consumers with
 * TypeScript 5.9 and 7) does not depend on Node; the installed package's `vfio repl`, the part
 * that does, runs on every Node in the node rows of the VM matrix (test/vm/repl.test.ts).
 */
export const MACHINE_NODE_ONLY = [
  'test/rig/run.test.ts',
  'test/rig/guest-vitest.test.ts',
  'test/repo/lint.test.ts',
  'test/repo/package.test.ts',
];

const say = (msg) => process.stderr.write(`${msg}\n`);

function usage(msg, code = 2) {
  if (msg) say(`host-nodes: ${msg}`);
  (code === 0 ? process.stdout : process.stderr).write(
    'usage: scripts/vm/host-nodes [--only VERSION[,VERSION...]] [--list] [-- VITEST ARGS...]\n' +
      "Runs vitest --project host under each pinned Node but the machine's own line, then prints a summary.\n" +
      `VITEST ARGS are appended to every run (test files among them replace the exclusions).\n` +
      `Nodes (scripts/vm/nodes.mjs; fetched by scripts/vm/setup), the machine's being ${process.versions.node}:\n` +
      NODES.map(
        (n) =>
          `  node${n.version.split('.')[0]}  ${n.version}` +
          (otherNodes().includes(n) ? '' : " (the machine's line: not run again)") +
          '\n',
      ).join('') +
      `not run on them: ${MACHINE_NODE_ONLY.map((f) => f.replace('test/', '')).join(' ')}\n`,
  );
  process.exit(code);
}

function parse(argv) {
  const { values, extra } = parseScriptArgs(
    argv,
    { only: { type: 'string' }, list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    usage,
  );
  let nodes = otherNodes();
  if (values.only !== undefined) {
    nodes = values.only
      .split(',')
      .filter(Boolean)
      .map((v) => findNode(v) ?? usage(`no pinned Node "${v}" (${NODES.map((n) => n.version).join(', ')})`));
  }
  return { nodes, extra };
}

function runOne(n, bin, extra) {
  return new Promise((resolve) => {
    const given = extra.some((a) => /\.test\.ts$|^test\//.test(a));
    const excluded = given ? [] : MACHINE_NODE_ONLY.flatMap((f) => ['--exclude', f]);
    const vitest = join(REPO, 'node_modules', 'vitest', 'vitest.mjs');
    const t0 = performance.now();
    const child = spawn(bin, [vitest, 'run', '--project', 'host', ...excluded, ...extra], {
      cwd: REPO,
      stdio: 'inherit',
      env: {
        ...process.env,
        PATH: [dirname(bin), process.env.PATH].filter(Boolean).join(delimiter),
        VFIO_TS_MACHINE_NODE: process.versions.node,
      },
    });
    const stop = (sig) => child.kill(sig);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    child.on('error', (e) => {
      say(`host-nodes: cannot start ${bin}: ${e.message}`);
      resolve({ code: 125, seconds: 0 });
    });
    child.on('close', (code, sig) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve({ code: code ?? 128, signal: sig, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

export async function main(argv) {
  const { nodes, extra } = parse(argv);
  const missing = nodes.filter((n) => !fetchedNode(n));
  if (missing.length) {
    say(
      `host-nodes: Node ${missing.map((n) => n.version).join(', ')} not fetched: run scripts/vm/setup ` +
        '(or, for these alone, node scripts/vm/nodes.mjs fetch)',
    );
    process.exit(1);
  }
  const results = [];
  for (const [i, n] of nodes.entries()) {
    say(
      `\n${'='.repeat(78)}\n=== host tests ${i + 1}/${nodes.length}: Node ${n.version} (${fetchedNode(n)})\n${'='.repeat(78)}`,
    );
    const r = await runOne(n, fetchedNode(n), extra);
    results.push({ n, ...r });
    say(`=== Node ${n.version}: exit ${r.code} after ${r.seconds.toFixed(0)} s`);
    if (r.signal === 'SIGINT' || r.signal === 'SIGTERM') break;
  }
  const failed = results.filter((r) => r.code !== 0);
  say(
    `\n=== host tests per Node: ${results.length - failed.length} of ${nodes.length} passed\n` +
      results
        .map(
          (r) =>
            `node ${r.n.version.padEnd(9)} exit ${String(r.code).padStart(3)} ${r.seconds.toFixed(0).padStart(5)} s`,
        )
        .join('\n'),
  );
  if (failed.length) say(`FAILED: ${failed.map((r) => `Node ${r.n.version}`).join(', ')}`);
  process.exit(failed.length || results.length < nodes.length ? 1 : 0);
}
