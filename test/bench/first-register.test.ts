// bench:start's programs (bench/first-register*) outside the VM: the C one compiles without a
// warning and, like the Python one, says how it is used; the driver refuses to run without the
// VM's manifest and says how to run it. The timing itself needs edu: npm run bench:start.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const DIR = join(ROOT, 'bench', 'first-register');
const scratch = mkdtempSync(join(tmpdir(), 'first-register-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('bench/first-register', () => {
  it('the C program compiles cleanly and prints its usage when called wrong', () => {
    const exe = join(scratch, 'first-register');
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', exe, join(DIR, 'first-register.c')]);
    const r = spawnSync(exe, [], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: .* type1\|noiommu GROUP_PATH BDF, or .* iommufd CDEV/);
  });

  it('the Python program prints its usage when called wrong', () => {
    const r = spawnSync('python3', [join(DIR, 'first-register.py')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/usage: .* type1\|noiommu GROUP_PATH BDF, or iommufd CDEV/);
  });

  it('bench/first-register.ts outside the VM says how to run it', () => {
    const env = { ...process.env };
    delete env.VFIO_TS_MANIFEST;
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'first-register.ts')], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('VFIO_TS_MANIFEST is not set: npm run bench:start');
  });
});
