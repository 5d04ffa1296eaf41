// The relay behind scripts/vm/run --monitor (scripts/vm/monitor.mjs), on the host against a real
// QEMU 7.2 that runs no guest (-S): what the guest would write on its port, written to the socket
// QEMU's port would connect to. Allowed requests reach QMP and come back with QEMU's answer;
// anything else is refused with the reason, before QEMU sees it. Which rows boot with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceArgs, hotplugDevices } from '../../scripts/vm/devices.mjs';
import { matrixRows } from '../../scripts/vm/matrix-rows.mjs';
import { openMonitor, type Monitor } from '../../scripts/vm/monitor.mjs';

const skip = process.env.VFIO_TS_SKIP_VM === '1';

describe.skipIf(skip)('the monitor relay, against QEMU', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vfiots-monitor-test-'));
  const said: string[] = [];
  let qemu: ChildProcess;
  let port: Socket;
  let monitor: Monitor | undefined;
  const replies: string[] = [];
  let waiting: (() => void) | undefined;

  /** What the guest would do: one line out, one line back. */
  async function ask(req: object): Promise<{ ok: boolean; said?: string; error?: string }> {
    port.write(JSON.stringify(req) + '\n');
    while (replies.length === 0) await new Promise<void>((r) => (waiting = r));
    return JSON.parse(replies.shift()!) as { ok: boolean; said?: string; error?: string };
  }

  beforeAll(async () => {
    monitor = await openMonitor(tmp, hotplugDevices(['hotplug']), (m: string) => said.push(m));
    // QEMU connects to the relay's QMP socket; the guest's port is this test's socket instead.
    qemu = spawn(
      'qemu-system-x86_64',
      [
        ...['-machine', 'q35', '-accel', 'tcg', '-nodefaults', '-display', 'none', '-S'],
        ...['-chardev', `socket,id=qmp,path=${join(tmp, 'qmp.sock')}`, '-mon', 'chardev=qmp,mode=control'],
        ...deviceArgs(['hotplug'], false, tmp),
      ],
      { stdio: 'ignore' },
    );
    port = connect(join(tmp, 'mon.sock'));
    let buf = '';
    port.setEncoding('utf8');
    port.on('data', (d: string) => {
      buf += d;
      for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) replies.push(buf.slice(0, nl));
      waiting?.();
    });
  });

  afterAll(() => {
    port?.destroy();
    qemu?.kill('SIGKILL');
    monitor?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('injects an uncorrectable and a correctable AER error into the device, by its manifest name', async () => {
    const injected = await ask({ cmd: 'aer', device: 'rng-hotplug', error: 'POISON_TLP' });
    expect(injected.ok).toBe(true);
    expect(injected.said).toMatch(/^OK id: hp0 root bus: 0000:00, bus: \d+ devfn: 0\.0$/);
    expect(await ask({ cmd: 'aer', device: 'rng-hotplug', error: 'RCVR', correctable: true })).toMatchObject({
      ok: true,
    });
    expect(said.filter((m) => m.startsWith('monitor: '))).toHaveLength(2);
  });

  it('passes device_del on, and QEMU refuses a second one while the guest has not answered', async () => {
    expect(await ask({ cmd: 'device_del', device: 'rng-hotplug' })).toEqual({ ok: true, said: '' });
    const again = await ask({ cmd: 'device_del', device: 'rng-hotplug' });
    expect(again.ok).toBe(false);
    expect(again.error).toMatch(/^QEMU: /);
  });

  it('refuses, with the reason, what is not on its list', async () => {
    const cases: Array<[object, string]> = [
      [{ cmd: 'aer', device: 'rng-hotplug', error: 'BOGUS' }, 'aer: uncorrectable errors are DLP, SDN, POISON_TLP'],
      [{ cmd: 'aer', device: 'rng-hotplug', error: 'POISON_TLP', correctable: true }, 'correctable errors are RCVR'],
      [{ cmd: 'device_del', device: 'edu' }, '"edu" is not a hot-pluggable device of this run (rng-hotplug)'],
      [
        { cmd: 'quit', device: 'rng-hotplug' },
        'unknown command "quit" (the monitor takes device_del, device_add and aer)',
      ],
      [{ cmd: 'human-monitor-command', device: 'rng-hotplug' }, 'unknown command'],
    ];
    for (const [req, why] of cases) {
      const r = await ask(req);
      expect(r.ok, JSON.stringify(req)).toBe(false);
      expect(r.error).toContain(why);
    }
    port.write('not json\n');
    while (replies.length === 0) await new Promise<void>((r) => (waiting = r));
    expect(JSON.parse(replies.shift()!)).toMatchObject({ ok: false });
  });

  // Last: it ends QEMU. Killed with a request it has not read, QEMU resets the relay's QMP socket
  // (Linux's ECONNRESET): the relay must outlive that (an unhandled socket error ends the process
  // that runs it) and answer the request, and what comes after, with the reason.
  it('outlives QEMU killed with a request unread, and refuses it and what follows', async () => {
    qemu.kill('SIGSTOP');
    const unread = ask({ cmd: 'aer', device: 'rng-hotplug', error: 'POISON_TLP' });
    // The relay is in this process: a turn of the event loop passes the line on to QMP.
    await new Promise((r) => setTimeout(r, 500));
    const exited = new Promise((r) => qemu.once('exit', r));
    qemu.kill('SIGKILL');
    await exited;
    const refused = await unread;
    expect(refused.ok).toBe(false);
    expect(refused.error).toBe("QEMU's QMP monitor failed: read ECONNRESET");
    const after = await ask({ cmd: 'device_del', device: 'rng-hotplug' });
    expect(after).toEqual({ ok: false, error: "QEMU's QMP monitor failed: read ECONNRESET" });
  });
});

describe('the rows with the monitor', () => {
  it('are the x86-64 rows that run the hot-unplug and AER files, and only they', () => {
    const files = ['test/vm/hot-unplug.test.ts', 'test/vm/aer.test.ts'];
    for (const r of matrixRows()) {
      const runs = files.every((f) => (r.files ? r.files.includes(f) : !(r.exclude ?? []).includes(f)));
      const none = files.every((f) => (r.files ? !r.files.includes(f) : (r.exclude ?? []).includes(f)));
      expect(runs || none, r.name).toBe(true);
      expect(r.rig.includes('--monitor'), r.name).toBe(runs);
      if (runs) expect(r.rig.join(' '), r.name).toMatch(/--devices \S*\bhotplug\b/);
    }
    const rows = matrixRows().filter((r) => r.rig.includes('--monitor'));
    expect(rows.map((r) => r.name).sort()).toEqual(['debian-type1', 'vfio-iommufd', 'vfio-type1']);
  });
});
