// Runs in the test VM: vfio read/write --map, from the compiled sources and from the package
// installed on the host without its devDependencies (test/support/packed-install.ts): the
// shipped maps are library data, so `vfio read ADDRESS --map e1000e STATUS` works from npm too.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installedBin, installedForVm } from '../support/packed-install.js';
import { runCompiled, type ScriptRun } from '../support/run-script.js';
import { testDevice } from './manifest.js';

const nic = testDevice('e1000e');
const nvme = testDevice('nvme');
const edu = testDevice('edu');
const CLI = join(import.meta.dirname, '../../dist/src/cli.js');

/** The installed `vfio`, run in its own directory without this process's NODE_OPTIONS. */
function installed(args: string[]): Promise<ScriptRun> {
  const dir = installedForVm();
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS'));
  return new Promise((resolve, reject) =>
    execFile(installedBin(dir), args, { cwd: dir, env, encoding: 'utf8', timeout: 50_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(err.message, { cause: err }));
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    }),
  );
}

describe('vfio read/write --map', () => {
  it('installed: vfio read ADDRESS --map e1000e STATUS prints STATUS decoded; a field alone', async () => {
    const r = await installed(['read', nic.bdf, '--map', 'e1000e', 'STATUS', 'CTRL.SPEED']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(
      /^STATUS = 0x[0-9a-f]{8} \{ FD: [01], LU: [01], SPEED: '[0-9]+Mb\/s', PHYRA: [01], GIO_MASTER_ENABLE: [01] \}\n/,
    );
    expect(r.stdout).toMatch(/\n(10|100|1000)Mb\/s\n$/);
  });

  it('a write by fields is one modify; a read-only field is refused before any access', async () => {
    const bad = await runCompiled(CLI, ['write', nvme.bdf, '--map', 'nvme', 'CSTS', 'RDY=1']);
    expect(bad).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error [ERR_VFIO_REGISTER_MAP]: nvme.CSTS modify: nvme.CSTS.RDY is read-only\n',
    });
    // edu keeps its registers from one open to the next (it has no reset to run on open).
    const map = join(import.meta.dirname, 'fixtures/facto.ipxact.xml');
    const w = await runCompiled(CLI, ['write', edu.bdf, '--map', map, 'STATUS', 'IRQ_ON_DONE=1']);
    expect(w).toEqual({ code: 0, stdout: 'STATUS <- IRQ_ON_DONE=1\n', stderr: '' });
    const raw = await runCompiled(CLI, ['write', edu.bdf, '--map', map, 'LIVENESS', '0x12345678']);
    expect(raw.stdout).toBe('LIVENESS <- 0x12345678\n');
    const r = await runCompiled(CLI, ['read', edu.bdf, '--map', map, 'STATUS', 'LIVENESS']);
    expect(r.stdout).toBe('STATUS = 0x00000080 { COMPUTING: 0, IRQ_ON_DONE: 1 }\nLIVENESS = 0xedcba987\n');
    await runCompiled(CLI, ['write', edu.bdf, '--map', map, 'STATUS', 'IRQ_ON_DONE=0']);
  });

  it('an IP-XACT file as the map: without names, every register it may read', async () => {
    const r = await runCompiled(CLI, [
      'read',
      edu.bdf,
      '--map',
      join(import.meta.dirname, 'fixtures/facto.ipxact.xml'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ID = 0x010000ed \{ MAGIC: 'edu', MINOR: 0, MAJOR: 1 \}\n/);
    expect(r.stdout).toMatch(/\nnot read: INT_RAISE \(write-only\), INT_ACK \(write-only\)\n$/);
  });
});
