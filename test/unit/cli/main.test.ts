// The vfio command (src/cli/main.ts) run in-process: usage, --help, unknown commands, and mistakes
// reported before any device is opened.
import { describe, expect, it } from 'vitest';
import { runCliCaptured } from '../../support/run-cli.js';

/** Runs the CLI in-process and captures what it prints. */
const cli = runCliCaptured;

describe('vfio command line', () => {
  it('prints usage on stderr with exit code 1 when no command is given; --help exits 0', async () => {
    const none = await cli();
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/^usage: vfio COMMAND/);
    const help = await cli('--help');
    expect(help.code).toBe(0);
    for (const c of ['list', 'info', 'read', 'write', 'config', 'bind'])
      expect(help.out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it('has --help for every command', async () => {
    for (const c of ['list', 'info', 'read', 'write', 'config', 'bind']) {
      const r = await cli(c, '--help');
      expect(r.code, c).toBe(0);
      expect(r.out).toMatch(new RegExp(`^usage: vfio ${c}`));
      expect(r.out).toMatch(/-h, --help/);
    }
    expect((await cli('help', 'read')).out).toMatch(/--width BITS/);
    expect((await cli('read', '-h')).out).toMatch(/--count N/);
  });

  it('rejects an unknown command', async () => {
    const r = await cli('frobnicate');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: unknown command 'frobnicate'/);
  });

  it('reports a bad address with the library message and exit code 1, before touching /dev/vfio', async () => {
    for (const argv of [
      ['info', 'zz:zz'],
      ['read', '00:3.0', '0', '0'],
      ['config', '0000:00:20.0'],
    ]) {
      const r = await cli(...argv);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /^error \[ERR_VFIO_INVALID_ADDRESS\]: '.*' is not a PCI address: expected domain:bus:device\.function/,
      );
      expect(r.out).toBe('');
    }
  });

  it('reports usage mistakes with a pointer to --help', async () => {
    const missing = await cli('read', '00:03.0', '0');
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('error: missing OFFSET\n(vfio read --help shows the usage)');
    expect((await cli('read', '00:03.0', '6', '0')).err).toMatch(/^error: BAR must be at most 5/);
    expect((await cli('read', '00:03.0', '0', '0', '--width', '24')).err).toMatch(
      /^error: --width must be 8, 16, 32, 64/,
    );
    expect((await cli('read', '00:03.0', '0', '0', '--count', '0')).err).toMatch(/^error: --count must be at least 1/);
    expect((await cli('write', '00:03.0', '0', '4', '0x1ff', '-w', '8')).err).toMatch(
      /^error: VALUE 0x1ff does not fit in 8 bits/,
    );
    expect((await cli('config', '00:03.0', '0', '--width', '64')).err).toMatch(/^error: --width must be 8, 16, 32/);
    expect((await cli('list', 'extra')).err).toMatch(/^error: unexpected operand 'extra'/);
  });
});
