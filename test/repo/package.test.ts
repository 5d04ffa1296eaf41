// The npm package as a user gets it: `npm pack` of the checkout, its file list, TypeScript
// consumers type-checking against the shipped declarations with TypeScript 5.9 and 7 and no
// setup beyond installing it, and the installed `vfio` (compiled, without devDependencies)
// running `vfio repl` with piped input. Needs the npm registry. One pack and two installs per
// run, shared by the tests below.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installForVm, installInto, installedBin, packPackage, type Packed } from '../support/packed-install.js';

const work = mkdtempSync(join(tmpdir(), 'vfio-ts-package-'));
let packed: Packed;
/** The unpacked tarball (`package/...`). */
let unpacked: string;

beforeAll(() => {
  packed = packPackage(work);
  unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  execFileSync('tar', ['-xzf', packed.tarball, '-C', unpacked]);
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the tarball', () => {
  it('holds dist/, README.md, LICENSE and package.json, and no tests, scripts or sources', () => {
    for (const f of [
      'LICENSE',
      'README.md',
      'package.json',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/cli.js',
      'dist/src/cli/repl.d.ts',
      'dist/structs/index.js',
      'dist/structs/index.d.ts',
    ])
      expect(packed.files).toContain(f);
    // The JavaScript is three bundled entries and the chunks they share (scripts/build.mjs).
    const js = packed.files.filter((f) => f.endsWith('.js'));
    expect(js.filter((f) => !f.startsWith('dist/chunks/')).sort()).toEqual([
      'dist/src/cli.js',
      'dist/src/index.js',
      'dist/structs/index.js',
    ]);
    expect(js.length).toBeGreaterThan(3);
    const outside = packed.files.filter(
      (f) => !f.startsWith('dist/') && !['LICENSE', 'README.md', 'package.json'].includes(f),
    );
    expect(outside).toEqual([]);
    expect(packed.files.filter((f) => /^(dist\/)?(test|scripts|examples|bench)\//.test(f))).toEqual([]);
    expect(packed.files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(readFileSync(join(unpacked, 'package', 'LICENSE'), 'utf8')).toMatch(
      /^MIT License\n\nCopyright \(c\) 2026 the vfio-ts authors\n/,
    );
  });

  it('has no source map that points to a file it does not ship', () => {
    const root = join(unpacked, 'package');
    const broken: string[] = [];
    for (const f of packed.files) {
      const path = join(root, f);
      if (f.endsWith('.map')) {
        const map = JSON.parse(readFileSync(path, 'utf8')) as { sources: string[]; sourceRoot?: string };
        for (const s of map.sources) {
          const target = resolve(dirname(path), map.sourceRoot ?? '', s);
          if (!existsSync(target)) broken.push(`${f} -> ${s}`);
        }
      } else if (/\.(js|d\.ts)$/.test(f)) {
        const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(path, 'utf8'))?.[1];
        if (url && !url.startsWith('data:') && !existsSync(resolve(dirname(path), url))) broken.push(`${f} -> ${url}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('package.json: bin, exports, files, repository, homepage, bugs, keywords; @types/node for the declarations', () => {
    const pkg = JSON.parse(readFileSync(join(unpacked, 'package', 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg).toMatchObject({
      name: 'vfio-ts',
      license: 'MIT',
      bin: { vfio: './dist/src/cli.js' },
      types: './dist/src/index.d.ts',
      files: ['dist/', 'README.md', 'LICENSE'],
      repository: { type: 'git', url: 'git+https://github.com/vfio-ts/vfio-ts.git' },
      homepage: 'https://github.com/vfio-ts/vfio-ts#readme',
      bugs: { url: 'https://github.com/vfio-ts/vfio-ts/issues' },
      dependencies: { '@types/node': '>=20', 'fast-xml-parser': '^5.12.1' },
    });
    expect(pkg.keywords).toEqual(expect.arrayContaining(['vfio', 'iommu', 'pci', 'dma']));
  });
});

/** A consumer's code: imports from both entry points, touches a few public types, no `using`. */
const CONSUMER = `import { openDevice, SysError, IrqWaitAbortedError, type Device, type DmaBuffer, type IrqFired, type Region } from 'vfio-ts';
import { PCI_CAP_ID_MSI, VFIO_PCI_BAR0_REGION_INDEX } from 'vfio-ts/structs';

export async function probe(address: string): Promise<number> {
  const dev: Device = openDevice(address, { iommu: 'auto', dmaBits: 32 });
  try {
    const bar: Region = dev.bar(VFIO_PCI_BAR0_REGION_INDEX);
    const buf: DmaBuffer = dev.dma.alloc(4096);
    buf.bytes[0] = 1;
    const iova: bigint = buf.iova;
    dev.interrupts.enable('msi');
    const fired: IrqFired[] = await dev.interrupts.waitAsync(100);
    const msi: number | undefined = dev.config.findCapability(PCI_CAP_ID_MSI);
    return bar.read32(0) + fired.length + Number(iova & 1n) + (msi ?? 0);
  } catch (e) {
    if (e instanceof SysError) return -e.errno;
    if (e instanceof IrqWaitAbortedError) return -1;
    throw e;
  } finally {
    dev.close();
  }
}
`;

/** The strict NodeNext project a consumer starts from. */
const TSCONFIG = {
  compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true },
  files: ['consumer.ts'],
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file` with `args` (and `input` on stdin); resolves with the exit code and output. */
function run(
  file: string,
  args: string[],
  options: { cwd: string; input?: string; env?: NodeJS.ProcessEnv },
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env, encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return fail(new Error(err.message, { cause: err }));
        done({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

describe('a TypeScript consumer (strict, NodeNext) with only vfio-ts installed', () => {
  const project = join(work, 'consumer');

  beforeAll(() => {
    installInto(project, [packed.tarball, 'typescript-5.9@npm:typescript@5.9', 'typescript-7@npm:typescript@7']);
    writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
    writeFileSync(join(project, 'consumer.ts'), CONSUMER);
  }, 180_000);

  /** `tsc -p .` of the TypeScript installed as `alias`. */
  const tsc = (alias: string) =>
    run(process.execPath, [join(project, 'node_modules', alias, 'bin', 'tsc'), '-p', '.'], { cwd: project });

  it('type-checks with TypeScript 5.9', async () => {
    expect(await tsc('typescript-5.9')).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('type-checks with TypeScript 7', async () => {
    // TypeScript 7 includes no @types package unless told ("types" defaults to []): the
    // declarations reference node's types themselves (atop src/index.ts and structs/index.ts).
    const index = readFileSync(join(project, 'node_modules', 'vfio-ts', 'dist', 'src', 'index.d.ts'), 'utf8');
    expect(index).toMatch(/^\/\/\/ <reference types="node" preserve="true" \/>/m);
    expect(await tsc('typescript-7')).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('the installed vfio command (compiled, --omit=dev, outside the checkout)', () => {
  let dir: string;
  // No tsx, no NODE_OPTIONS from around the tests: what a user's shell has.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS'));
  const vfio = (args: string[], input?: string) => run(installedBin(dir), args, { cwd: dir, env, input });

  beforeAll(() => {
    dir = installForVm(packed.tarball);
  }, 180_000);

  it('has only the runtime dependencies', () => {
    expect(existsSync(join(dir, 'node_modules', 'koffi'))).toBe(true);
    for (const dev of ['tsx', 'typescript', 'vitest', 'eslint'])
      expect(existsSync(join(dir, 'node_modules', dev))).toBe(false);
  });

  it('vfio --help lists repl; vfio repl --help says what it does', async () => {
    const help = await vfio(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}repl \[ADDRESS\] +the Node REPL/m);
    const repl = await vfio(['repl', '--help']);
    expect(repl.stdout).toMatch(/^usage: vfio repl \[ADDRESS\] \[options\]$/m);
    expect(repl.stdout).toMatch(/--iommu WAY/);
  });

  it('vfio repl with piped lines: each after the previous one settled, results as the REPL prints them', async () => {
    const script = [
      'let x = 0',
      'await sleep(300); x = 41',
      'x + 1', // 1 if it ran before the await settled
      'for (let i = 0; i < 3; i++) {',
      '  x += i',
      '}',
      'hexdump(new Uint8Array([0x34, 0x12, 0xe8, 0x11, 0xff]))',
      "typeof openDevice + ' ' + typeof structs.VFIO_TYPE1v2_IOMMU + ' ' + typeof decodeConfig",
      '({ a: 1n })',
      '',
    ].join('\n');
    expect(await vfio(['repl'], script)).toEqual({
      code: 0,
      stdout: "41\n42\n44\n00: 34 12 e8 11 ff\n'function number function'\n{ a: 1n }\n",
      stderr: '',
    });
  });

  it('an error prints and the REPL goes on (exit status 1); .exit stops there; .help lists the helpers', async () => {
    const r = await vfio(
      ['repl'],
      'nope()\nawait Promise.reject(new RangeError("later"))\n6 * 7\n.help\n.exit\n7 * 7\n',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Uncaught ReferenceError: nope is not defined\n/);
    expect(r.stdout).toMatch(/^Uncaught RangeError: later$/m);
    expect(r.stdout).toMatch(/^42$/m);
    expect(r.stdout).toMatch(/^ {2}hexdump\(x, offset\?, length\?\) +hex dump/m);
    expect(r.stdout).toMatch(/^ {2}decodeConfig\(device = dev\) /m);
    expect(r.stdout).toMatch(/^ {2}\.exit +/m);
    expect(r.stdout).not.toMatch(/^49$/m);
  });

  it('vfio repl with a bad address: error, exit status 1, no REPL', async () => {
    const r = await vfio(['repl', 'nope'], '1\n');
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/^error \[ERR_VFIO_INVALID_ADDRESS\]: 'nope' is not a PCI address/);
  });
});
