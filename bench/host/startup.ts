/**
 * Row 6, start-up: the wall time from spawning a process to its exit, for `vfio list` (the
 * built command, `dist/src/cli.js`) against the same listing in C (`c/pci-list.c`) and Python
 * (`py/pci_list.py`), and for a process that starts and does nothing (`node -e ''`,
 * `python3 -c ''`, the C program returning at once). Under them, the time `import('vfio-ts')`
 * (`dist/src/index.js`) takes inside Node, a Node process that imports it and exits, and
 * `lspci` where it is installed.
 *
 * Users run the built package, so this measures `dist/`: the checkout's own when it is newer
 * than every source, else a build of the sources into the scratch directory (`scripts/build.mjs
 * --outdir`), which the checkout never sees. Node is this process's own binary and
 * Python the interpreter `python3` resolves to (`sys.executable`: a pyenv shim on the `PATH`
 * adds tens of milliseconds of shell to each start).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENTRIES } from '../../scripts/build.mjs';
import { cProgram, interleave, python, scratchDir, stats, type CaseResult, type Series, type Size } from './harness.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');

/** The `.ts` files under `dir`, relative to the checkout. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = join(dir, e.name);
    return e.isDirectory() ? sources(rel) : e.name.endsWith('.ts') ? [rel] : [];
  });
}

const mtime = (path: string): number => (existsSync(path) ? statSync(path).mtimeMs : 0);

/**
 * A directory holding the built package (`dist/`, `package.json`, `node_modules`): the
 * checkout when its `dist/` is at least as new as every source and build setting, else a
 * fresh build in the scratch directory.
 */
function builtPackage(): { root: string; what: string } {
  const files = [...sources('src'), ...sources('structs')];
  const settings = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs'];
  const newest = Math.max(...[...files, ...settings].map((f) => mtime(join(ROOT, f))));
  // The build writes every entry each time: entries older than any source are from an earlier build.
  const oldest = Math.min(...ENTRIES.map((f) => mtime(join(ROOT, 'dist', f.replace(/\.ts$/, '.js')))));
  if (oldest >= newest) return { root: ROOT, what: 'dist/' };
  const root = join(scratchDir(), 'package');
  mkdirSync(root);
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--outdir', join(root, 'dist')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout?.toString().trim();
    throw new Error(`building the package for the start-up row failed: ${out || (e as Error).message}`, { cause: e });
  }
  copyFileSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  return { root, what: 'built to scratch: dist/ is missing or stale' };
}

/**
 * The sysfs root to list: `/sys` where it shows PCI devices, else a small fake tree (three
 * devices, two in one group) in the scratch directory, which all three listers take as ROOT.
 */
function sysfsRoot(): string {
  const devices = '/sys/bus/pci/devices';
  if (existsSync(devices) && readdirSync(devices).length > 0) return '/sys';
  const root = join(scratchDir(), 'sysfs');
  const add = (addr: string, driver: string | null, group: number) => {
    const dir = join(root, 'bus/pci/devices', addr);
    mkdirSync(dir, { recursive: true });
    for (const [f, v] of [
      ['vendor', '0x1234'],
      ['device', '0x11e8'],
      ['class', '0x00ff00'],
    ])
      writeFileSync(join(dir, f), `${v}\n`);
    if (driver) {
      mkdirSync(join(root, 'bus/pci/drivers', driver), { recursive: true });
      symlinkSync(`../../../../bus/pci/drivers/${driver}`, join(dir, 'driver'));
    }
    const g = join(root, 'kernel/iommu_groups', String(group), 'devices');
    mkdirSync(g, { recursive: true });
    symlinkSync(`../../../../kernel/iommu_groups/${group}`, join(dir, 'iommu_group'));
    symlinkSync(`../../../../bus/pci/devices/${addr}`, join(g, addr));
  };
  add('0000:00:03.0', 'vfio-pci', 3);
  add('0000:01:00.0', 'vfio-pci', 6);
  add('0000:01:00.1', 'virtio-pci', 6);
  return root;
}

/** `lspci` on the `PATH` or in the sbin directories, or undefined. */
function findLspci(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/sbin'];
  return dirs
    .filter((d) => d.startsWith('/'))
    .map((d) => join(d, 'lspci'))
    .find((p) => existsSync(p));
}

type Command = [string, string[]];

/** Runs `command` to its end and returns its wall time in ns; throws unless it exits 0. */
function wall([exe, args]: Command): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(exe, args, { stdio: 'ignore' });
  const ns = Number(process.hrtime.bigint() - t0);
  if (r.status !== 0) throw new Error(`${exe} ${args.join(' ')} ended with ${r.signal ?? `exit code ${r.status}`}`);
  return ns;
}

/** Runs `command` once and returns what it printed; throws unless it exits 0. */
function output([exe, args]: Command): string {
  return execFileSync(exe, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function startup(s: Size): Promise<CaseResult> {
  const pkg = builtPackage();
  const sysfs = sysfsRoot();
  const node = process.execPath;
  const py = output([python(), ['-c', 'import sys; print(sys.executable)']]).trim();
  const entry = pathToFileURL(join(pkg.root, 'dist/src/index.js')).href;
  const importer = `const t=performance.now();await import(${JSON.stringify(entry)});console.log(performance.now()-t)`;
  const lspci = findLspci();
  const cmd = {
    c: { list: [cProgram('pci-list'), [sysfs]], bare: [cProgram('pci-list'), ['--exit']] },
    ts: {
      list: [node, [join(pkg.root, 'dist/src/cli.js'), 'list', ...(sysfs === '/sys' ? [] : ['--sysfs', sysfs])]],
      bare: [node, ['-e', '']],
      import: [node, ['--input-type=module', '-e', importer]],
    },
    py: { list: [py, [join(HERE, 'py', 'pci_list.py'), sysfs]], bare: [py, ['-c', '']] },
    lspci: lspci ? ([lspci, []] as Command) : undefined,
  } satisfies Record<string, Record<string, Command> | Command | undefined>;

  // Once untimed (files into the page cache), checking that each listing names every device.
  const addresses = readdirSync(join(sysfs, 'bus/pci/devices'));
  for (const [who, c] of [
    ['C', cmd.c.list],
    ['TypeScript', cmd.ts.list],
    ['Python', cmd.py.list],
  ] as const) {
    const out = output(c);
    const missing = addresses.filter((a) => !out.includes(a));
    if (missing.length) throw new Error(`the ${who} listing did not show ${missing.join(', ')}:\n${out}`);
  }
  for (const c of [cmd.c.bare, cmd.ts.bare, cmd.ts.import, cmd.py.bare, ...(cmd.lspci ? [cmd.lspci] : [])]) output(c);

  const reps = s.quick ? 2 : 10;
  const inProcess: number[] = [];
  const run = (commands: Record<string, Command>): Series => {
    const out: Series = {};
    for (let i = 0; i < reps; i++)
      for (const [name, c] of Object.entries(commands)) {
        if (name !== 'import') (out[name] ??= []).push(wall(c));
        else {
          const t0 = process.hrtime.bigint();
          inProcess.push(Number(output(c).trim()) * 1e6);
          (out[name] ??= []).push(Number(process.hrtime.bigint() - t0));
        }
      }
    return out;
  };
  const {
    c,
    ts,
    py: p,
  } = await interleave<{ c: Series; ts: Series; py: Series }>(s.rounds, {
    c: () => run({ ...cmd.c, ...(cmd.lspci ? { lspci: cmd.lspci } : {}) }),
    ts: () => run(cmd.ts),
    py: () => run(cmd.py),
  });
  const line = (name: string, k: 'list' | 'bare') => ({ name, c: stats(c[k]), ts: stats(ts[k]), py: stats(p[k]) });
  const where = sysfs === '/sys' ? '' : ' (a fake sysfs: /sys shows no PCI device)';
  return {
    case: 'start-up',
    main: line(`vfio list, wall${where}`, 'list'),
    variants: [line('start, no work, wall', 'bare')],
    singles: [
      { name: "import('vfio-ts') inside node", side: 'ts', stats: stats(inProcess), note: pkg.what },
      { name: "node, import('vfio-ts'), exit: wall", side: 'ts', stats: stats(ts.import) },
      lspci
        ? { name: 'lspci, wall', side: 'c', stats: stats(c.lspci) }
        : { name: 'lspci, wall', side: 'c', stats: null, note: 'lspci is not installed (pciutils)' },
    ],
  };
}
