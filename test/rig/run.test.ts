// The VM rig itself (scripts/vm/run), on the host: exit codes come back from the guest, and a
// hanging command is killed at --timeout with no QEMU left behind. Each of those tests boots
// the VM once. The command-line checks boot nothing.
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
    // A failing command is not a failing rig: no kernel log buries its output.
    expect(r.stderr).not.toContain('guest kernel log');
  });

  it('kills a command that hangs at --timeout, and QEMU with it', async () => {
    const pidfile = join(tmp, 'qemu.pid');
    const start = Date.now();
    const r = await run(['--devices', 'none', '--timeout', '20', '--', 'sleep', '1000'], {
      VFIO_TS_VM_PIDFILE: pidfile,
    });
    expect(r.code, r.stderr).toBe(124);
    expect(r.stderr).toContain('TIMED OUT after 20 s');
    expect(Date.now() - start).toBeLessThan(60_000);
    const pid = Number(readFileSync(pidfile, 'utf8'));
    expect(pid).toBeGreaterThan(1);
    expect(alive(pid), `QEMU pid ${pid} is still alive`).toBe(false);
  });
});

// No boot: the command line is checked before anything starts (even with VFIO_TS_SKIP_VM=1).
describe('scripts/vm/run command line', () => {
  it('refuses --no-iommu without --kernel vfio, saying why, with exit 2', async () => {
    for (const args of [['--no-iommu'], ['--kernel', 'debian', '--no-iommu']]) {
      const r = await run([...args, '--', 'true']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('--no-iommu needs --kernel vfio');
      expect(r.stderr).not.toContain('qemu pid');
    }
  });

  it('refuses an unknown kernel or option with exit 2', async () => {
    const k = await run(['--kernel', 'fedora', '--', 'true']);
    expect(k.code).toBe(2);
    expect(k.stderr).toContain('--kernel must be one of debian, vfio');
    const o = await run(['--bogus', '--', 'true']);
    expect(o.code).toBe(2);
    expect(o.stderr).toContain('unknown option --bogus');
  });

  it("refuses an unknown architecture, and arm64 with a kernel other than Debian's, with exit 2", async () => {
    const a = await run(['--arch', 'sparc', '--', 'true']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--arch must be x86_64 or arm64, not "sparc"');
    const k = await run(['--arch', 'arm64', '--kernel', 'vfio', '--', 'true']);
    expect(k.code).toBe(2);
    expect(k.stderr).toContain("--arch arm64 boots Debian's arm64 kernel only");
  });

  it('says which option lacks a value or takes none, with exit 2', async () => {
    const t = await run(['--timeout', '--', 'true']);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('--timeout needs a value');
    const n = await run(['--no-iommu=yes', '--kernel', 'vfio', '--', 'true']);
    expect(n.code).toBe(2);
    expect(n.stderr).toContain('--no-iommu takes no value');
  });

  it("ends its options at the command's first word: the command's own options are not its", async () => {
    // Skipped once the command line is accepted: exit 0 means --import and --bogus went to node.
    const r = await run(['--devices', 'none', 'node', '--import', 'tsx', '--bogus'], { VFIO_TS_SKIP_VM: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('SKIPPED');
    const d = await run(['--devices', 'none', '--', '--bogus'], { VFIO_TS_SKIP_VM: '1' });
    expect(d.code, d.stderr).toBe(0);
  });

  it('--help lists every option, the devices and the manifest, exit 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const word of [
      '--arch',
      'arm-smmuv3',
      '--kernel',
      '--no-iommu',
      '--devices',
      '--timeout',
      '--memory',
      '--log',
      'edu',
      'nvme',
      'e1000e',
      'nonviable',
      '/run/vfio-ts/manifest.json',
    ])
      expect(r.stdout).toContain(word);
  });
});
