/**
 * The package as a user gets it: `npm pack` (which builds dist/ through the prepack script) and
 * `npm install` of the tarball into a project of its own.
 *
 * test/repo/package.test.ts checks the tarball and installs it for TypeScript consumers;
 * test/vm/repl.test.ts runs the installed `vfio repl` in the guest. The guest has no network, so
 * the host installs the package for it beforehand (`npm run test:vm` runs this file first, as
 * its pretest script; the host test does it too): with `--omit=dev` into
 * `$VFIO_TS_CACHE/packed/<key>/` (default `~/.cache/vfio-ts`), outside the checkout, so that
 * nothing resolves from the checkout's node_modules and a devDependency the package needed would
 * show. The key is a hash of everything the tarball is made from, so that an install is made
 * again only when that changed; `.vm-cache/packed-install.json` in the checkout says where the
 * last one is (the guest sees the host's `/`, but not its XDG_CACHE_HOME).
 *
 * Run as a script (`node --import tsx test/support/packed-install.ts`) it makes that install and
 * prints where it is; a failure is printed and leaves the exit status 0, so that it fails only
 * the test that needs the install, not the whole VM suite.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(import.meta.dirname, '../..');

/** What the tarball is made from: a change to any of these means a new pack. */
const INPUTS = [
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts/build.mjs',
  'README.md',
  'LICENSE',
  'src',
  'structs',
];

/** Where `.vm-cache/packed-install.json` is. */
const POINTER = join(ROOT, '.vm-cache', 'packed-install.json');

/** The environment for npm: without the `npm_*` variables of an `npm run` around the tests. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

/** Runs npm in `cwd`; on failure the error carries npm's output. */
function npm(cwd: string, args: string[]): string {
  try {
    return execFileSync('npm', args, { cwd, env: npmEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(' ')} in ${cwd} failed:\n${stdout ?? ''}${stderr ?? ''}`, { cause: e });
  }
}

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((n) => filesUnder(join(path, n)));
}

/** A hash of every file the tarball is made from (names and contents). */
export function sourceKey(): string {
  const hash = createHash('sha256');
  for (const f of INPUTS.flatMap((i) => filesUnder(join(ROOT, i)))) {
    hash.update(`${relative(ROOT, f)}\0`);
    hash.update(readFileSync(f));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

export interface Packed {
  /** The .tgz file. */
  tarball: string;
  /** Every path in it, relative to the package root, sorted. */
  files: string[];
}

/**
 * `npm pack` of the checkout into `dest`. dist/ is removed first, so that the tarball holds what
 * the sources build to now and nothing left from files since deleted.
 */
export function packPackage(dest: string): Packed {
  rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
  const out = npm(ROOT, ['pack', '--json', '--pack-destination', dest]);
  // Lifecycle scripts may print before the JSON; it is the array that starts a line.
  const json = out.slice(out.search(/^\[/m));
  const [info] = JSON.parse(json) as Array<{ filename: string; files: Array<{ path: string }> }>;
  return { tarball: join(dest, info.filename), files: info.files.map((f) => f.path).sort() };
}

/** A fresh project in `dir` (ESM, private) with `specs` installed by npm. */
export function installInto(dir: string, specs: string[], options: { omitDev?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'vfio-ts-consumer', private: true, type: 'module' }, null, 2)}\n`,
  );
  npm(dir, ['install', '--no-audit', '--no-fund', ...(options.omitDev ? ['--omit=dev'] : []), ...specs]);
}

/** `$VFIO_TS_CACHE`, else `$XDG_CACHE_HOME/vfio-ts` or `~/.cache/vfio-ts` (as scripts/vm/run). */
function cacheRoot(): string {
  return process.env.VFIO_TS_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vfio-ts');
}

/** The `vfio` command of an install made by `installForVm`. */
export function installedBin(dir: string): string {
  return join(dir, 'node_modules', '.bin', 'vfio');
}

/** Installs always kept, however old: the current one and the two others used most recently. */
const KEEP = 3;
/**
 * How long an install unused (not made or asked for by `installForVm`) is kept beyond those:
 * other checkouts share the cache, and one in the middle of a VM run (which reads its install
 * all along) made or asked for it at the run's start, well within this.
 */
const STALE_MS = 24 * 60 * 60 * 1000;

/**
 * Which installs of the cache to remove, given each one's name and last use (`mtimeMs`): not
 * `key` (the current one), not the `KEEP` most recently used, and none used within `STALE_MS`.
 */
export function staleInstalls(installs: Array<{ name: string; mtimeMs: number }>, key: string, now: number): string[] {
  return installs
    .filter((i) => i.name !== key)
    .sort((a, b) => b.mtimeMs - a.mtimeMs)
    .slice(KEEP - 1)
    .filter((i) => now - i.mtimeMs > STALE_MS)
    .map((i) => i.name);
}

/**
 * The install for the VM of the current sources: made unless it exists (from `tarball` when
 * given, else from a new pack), marked as used now, and recorded in
 * `.vm-cache/packed-install.json`. Installs of other sources are removed once `staleInstalls`
 * says so. Returns its directory.
 */
export function installForVm(tarball?: string): string {
  const key = sourceKey();
  const base = join(cacheRoot(), 'packed');
  const dir = join(base, key);
  const done = join(dir, '.installed');
  if (!existsSync(done)) {
    rmSync(dir, { recursive: true, force: true });
    const scratch = tarball ? undefined : mkdtempSync(join(tmpdir(), 'vfio-ts-pack-'));
    try {
      installInto(dir, [tarball ?? packPackage(scratch!).tarball], { omitDev: true });
    } finally {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
    writeFileSync(done, `${key}\n`);
  }
  const now = Date.now();
  utimesSync(dir, now / 1000, now / 1000);
  const installs = readdirSync(base).map((name) => ({ name, mtimeMs: statSync(join(base, name)).mtimeMs }));
  for (const name of staleInstalls(installs, key, now)) rmSync(join(base, name), { recursive: true, force: true });
  mkdirSync(join(ROOT, '.vm-cache'), { recursive: true });
  writeFileSync(POINTER, `${JSON.stringify({ key, dir }, null, 2)}\n`);
  return dir;
}

/**
 * Where the host last installed the package for the VM (for the guest, which cannot install
 * it); throws, saying what to run, when there is none. Not compared with the sources: `npm run
 * test:vm` installs the current ones just before, and sources edited while a VM run goes on
 * must not fail it.
 */
export function installedForVm(): string {
  const fix =
    'run `node --import tsx test/support/packed-install.ts` on the host first (npm run test:vm does, as pretest:vm)';
  if (!existsSync(POINTER)) throw new Error(`the package is not installed for the VM: ${fix}`);
  const { dir } = JSON.parse(readFileSync(POINTER, 'utf8')) as { key: string; dir: string };
  if (!existsSync(installedBin(dir))) throw new Error(`${installedBin(dir)} is missing: ${fix}`);
  return dir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.env.VFIO_TS_SKIP_VM === '1') {
    process.stderr.write('packed-install: VFIO_TS_SKIP_VM=1, no VM run: not installing the package for it\n');
  } else {
    const t0 = performance.now();
    try {
      const dir = installForVm();
      process.stderr.write(
        `packed-install: the package is installed for the VM in ${dir} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
      );
    } catch (e) {
      process.stderr.write(
        `packed-install: could not install the package for the VM, test/vm/repl.test.ts will fail:\n${e instanceof Error ? e.message : String(e)}\n`,
      );
    }
  }
}
