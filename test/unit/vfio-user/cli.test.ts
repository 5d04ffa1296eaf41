// The `vfio` command on a `vfio-user:` served.address, against the edu model served by another
// process: `vfio info` (identity from config space, regions, irqs, the server as the IOMMU),
// `vfio read` and `vfio write` of BAR0, and `vfio repl` with the device open as `dev`.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliCaptured } from '../../support/run-cli.js';
import { servedForTests } from '../../support/serve-model.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const served = servedForTests('edu');

describe('vfio on a vfio-user device', () => {
  it('vfio info tells the device from its config space, and the server as its IOMMU', async () => {
    const r = await runCliCaptured('info', served.address);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${served.address} 1234:11e8 Unclassified device (class 00ff00), served over vfio-user`);
    expect(r.out).toMatch(/^ +0 BAR0 +1 MiB +read,write$/m);
    expect(r.out).toMatch(/^ +1 MSI +1 vector +eventfd,noresize$/m);
    expect(r.out).toMatch(/^ {2}0x40 MSI \(0x05\): 1 vector, 64-bit, disabled$/m);
    expect(r.out).toContain(`IOMMU vfio-user (vfio-user server ${served.server.socket})`);
  });

  it('vfio write and vfio read go to the model: the liveness register answers the complement', async () => {
    expect(await runCliCaptured('write', served.address, '0', '0x4', '0x0f0f0f0f')).toMatchObject({ code: 0, err: '' });
    expect(await runCliCaptured('read', served.address, '0', '0x4')).toEqual({ code: 0, out: '0xf0f0f0f0', err: '' });
    expect((await runCliCaptured('read', served.address, '0', '0')).out).toBe('0x010000ed');
  });

  it('vfio repl opens it as dev', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'repl', served.address], {
      cwd: ROOT,
      input: 'dev.bar(0).read32(0).toString(16)\n.exit\n',
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, VFIO_TS_REPL_HISTORY: '' },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain("'10000ed'");
    expect(r.status).toBe(0);
  });
});
