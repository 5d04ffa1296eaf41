// Runs in the test VM: `vfio repl ADDRESS` with a script piped in, as a user runs it, from the
// checkout's build (node dist/src/cli.js; the test matrix builds it: tsx compiling the sources
// costs seconds per process in the guest) and from the package installed on the host without
// its devDependencies (test/support/packed-install.ts; npm run test:vm installs it first).
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { installedBin, installedForVm } from '../support/packed-install.js';
import { testDevice } from './manifest.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file args` with `input` on stdin; resolves with the exit code and output. */
function run(file: string, args: string[], input: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<Run>((resolve, reject) => {
    const child = execFile(file, args, { ...options, encoding: 'utf8', timeout: 50_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(err.message, { cause: err }));
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

const edu = testDevice('edu');
const short = edu.bdf.replace(/^0000:/, '');

/** `vfio repl ADDRESS` from the checkout's build, or from the installed package (own directory, no NODE_OPTIONS). */
const variants: Array<[string, (input: string) => Promise<Run>]> = [
  ['from the checkout', (input) => run(process.execPath, ['dist/src/cli.js', 'repl', short], input)],
  [
    'installed (--omit=dev)',
    (input) => {
      const dir = installedForVm();
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS'));
      return run(installedBin(dir), ['repl', short], input, { cwd: dir, env });
    },
  ],
];

/**
 * edu's interrupt, ten lines: MSI on, status cleared, a wait started, the interrupt raised
 * (register 0x60), the wait awaited; then the vector, the status (0x24) and its acknowledgement
 * (0x64). `fired` exists only once the awaited line settled.
 */
const IRQ_SCRIPT = [
  "dev.interrupts.enable('msi')",
  'bar0.write32(0x64, 0xffffffff)',
  'const pending = dev.interrupts.waitAsync(5000)',
  'bar0.write32(0x60, 0x2a)',
  'const fired = await pending',
  'fired',
  'fired[0].vector',
  'bar0.read32(0x24)',
  'bar0.write32(0x64, bar0.read32(0x24))',
  'bar0.read32(0x24)',
  '',
].join('\n');

describe.each(variants)('vfio repl %s', (_name, repl) => {
  it("printf 'await dev.bar(0).read32(0)\\n' | vfio repl ADDRESS prints 16777453 (edu's id, 0x10000ed)", async () => {
    expect(await repl('await dev.bar(0).read32(0)\n')).toEqual({ code: 0, stdout: '16777453\n', stderr: '' });
  });

  it('a piped script raises edu MSI, awaits waitAsync() and prints the fired vector', async () => {
    expect(await repl(IRQ_SCRIPT)).toEqual({
      code: 0,
      stdout: "'msi'\n[ { vector: 0, count: 1 } ]\n0\n42\n0\n",
      stderr: '',
    });
  });
});

describe('vfio repl from the checkout', () => {
  it('an error prints and the REPL goes on; .exit closes the device and its IOMMU context, later lines do not run', async () => {
    const r = await variants[0][1](
      [
        'const context = dev.iommu',
        "dev.onClose(() => console.log('closed; context closed:', context.closed))",
        'nope()',
        'bar0.read32(0).toString(16)',
        "hexdump(dev.config, 0, 4) + ''",
        '.exit',
        'bar0.read32(0)',
        '',
      ].join('\n'),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1); // a line threw
    expect(r.stdout).toBe(
      "Uncaught ReferenceError: nope is not defined\n'10000ed'\n'00: 34 12 e8 11'\nclosed; context closed: true\n",
    );
  });

  it('the end of the input closes the device too; decodeConfig(dev) prints what vfio info does', async () => {
    const r = await variants[0][1](
      "dev.onClose(() => console.log('closed'))\ndecodeConfig(dev).capabilities.map((c) => c.name)\ndecodeConfig()\n",
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[ 'MSI' \]\n/);
    expect(r.stdout).toMatch(new RegExp(`^${edu.bdf} 1234:11e8 .*IOMMU group ${edu.group}$`, 'm'));
    expect(r.stdout).toMatch(/^ +0x40 MSI \(0x05\): 1 vector, 64-bit/m);
    expect(r.stdout).toMatch(/\nclosed\n$/);
  });

  it('trace() prints each access of dev as it happens, trace(null) stops', async () => {
    const r = await variants[0][1](
      ['trace()', 'bar0.read32(0)', 'bar0.write32(4, 5)', 'trace(null)', 'bar0.read32(0)', ''].join('\n'),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const at = ` ms ${edu.bdf} BAR0 `;
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Trace <text to a function, 0 events>');
    // Opening bar0 walks config space (the MSI-X pages are left unmapped): traced too.
    const results = lines.filter((l) => !/^ +\d+\.\d{3} ms /.test(l));
    expect(results).toEqual(['Trace <text to a function, 0 events>', '16777453', 'tracing stopped', '16777453']);
    const read = lines.findIndex((l) => new RegExp(`^ +\\d+\\.\\d{3}${at}0x0000 read32  0x010000ed$`).test(l));
    const write = lines.findIndex((l) => new RegExp(`^ +\\d+\\.\\d{3}${at}0x0004 write32 0x00000005$`).test(l));
    expect(read).toBeGreaterThan(0);
    expect(lines[read + 1]).toBe('16777453'); // the access printed as it happened, before the result
    expect(write).toBe(read + 2);
    expect(lines.slice(write + 1)).toEqual(['tracing stopped', '16777453']); // nothing traced after trace(null)
  });
});
