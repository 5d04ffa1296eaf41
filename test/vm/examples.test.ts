// Runs in the test VM: the example drivers in examples/ as a user runs them, as child processes.
import { describe, expect, it } from 'vitest';
import { runScript } from '../support/run-script.js';
import { testDevice } from './manifest.js';

const run = (script: string, ...args: string[]) => runScript(script, args);

describe('examples', () => {
  it('edu.ts (address on the command line): id, liveness, factorials, DMA round trip', async () => {
    const edu = testDevice('edu');
    const r = await run('examples/edu.ts', edu.bdf);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^edu at ${edu.bdf}: id 0x010000ed \\(version 1\\.0\\)$`, 'm'));
    expect(r.stdout).toMatch(/^liveness check: ok/m);
    expect(r.stdout).toMatch(/^factorials: 5! = 120, 10! = 3628800, 12! = 479001600$/m);
    expect(r.stdout).toMatch(
      /^DMA round trip: 1000 random bytes RAM -> edu -> RAM through IOVA 0x[0-9a-f]+: identical$/m,
    );
  });

  it('nvme-identify.ts (address from the manifest): serial vfiots0001', async () => {
    const nvme = testDevice('nvme');
    const r = await run('examples/nvme-identify.ts');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^nvme at ${nvme.bdf}: NVMe \\d+\\.\\d+`, 'm'));
    expect(r.stdout).toMatch(
      /^identify controller: model "QEMU NVMe Ctrl", serial "vfiots0001", firmware "[^"]+", PCI vendor 0x1b36$/m,
    );
  });

  it('a bad address: error on stderr, exit code 1', async () => {
    const r = await run('examples/edu.ts', 'nope');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: 'nope' is not a PCI address/);
  });
});
