// The VM rig itself (scripts/vm/run), on the host: exit codes come back from the guest, and a
// hanging command is killed at --timeout with no QEMU left behind. Each test boots the VM once.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const RUN = join(import.meta.dirname, '..', '..', 'scripts', 'vm', 'run');
const skip = process.env.VFIO_TS_SKIP_VM === '1';
const tmp = mkdtempSync(join(tmpdir(), 'vfiots-rig-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(RUN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// Concurrent: the second guest only sleeps, so both fit on a small machine.
describe.skipIf(skip).concurrent('scripts/vm/run', () => {
  it("exits with the guest command's exit code and streams its output", async () => {
    const r = await run(['--devices', 'edu', '--', 'sh', '-c', 'echo out-$((6*7)); echo err-line >&2; exit 7']);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stdout).toBe('out-42\n');
    expect(r.stderr).toContain('err-line\n');
    expect(r.stderr).toMatch(/guest kernel \d+\.\d+/);
  });

  it('kills a command that hangs at --timeout, and QEMU with it', async () => {
    const pidfile = join(tmp, 'qemu.pid');
    const start = Date.now();
    const r = await run(['--devices', 'none', '--timeout', '20', '--', 'sleep', '1000'],
      { VFIO_TS_VM_PIDFILE: pidfile });
    expect(r.code, r.stderr).toBe(124);
    expect(r.stderr).toContain('TIMED OUT after 20 s');
    expect(Date.now() - start).toBeLessThan(60_000);
    const pid = Number(readFileSync(pidfile, 'utf8'));
    expect(pid).toBeGreaterThan(1);
    expect(alive(pid), `QEMU pid ${pid} is still alive`).toBe(false);
  });
});
