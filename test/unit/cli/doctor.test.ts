// vfio doctor (src/cli/doctor/) over fake sysfs, proc and dev trees and a chosen user: each
// failure it knows, with the fix it gives; a machine with everything in place; the command's
// exit status and JSON. The VM tests run it on the guests' real trees.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RLIM_INFINITY } from '../../../structs/index.js';
import { formatDoctor, parseSize, runDoctor, type DoctorOptions } from '../../../src/cli/doctor/doctor.js';
import type { MachineFacts } from '../../../src/cli/doctor/facts.js';
import { parsePciAddress } from '../../../src/pci/index.js';
import { runCliCaptured } from '../../support/run-cli.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

const EDU = parsePciAddress('0000:00:03.0');
const RNG = parsePciAddress('0000:00:04.0');
const MiB = 1024n * 1024n;

/** A machine as a test describes it: files under one temporary root, and who asks. */
class FakeMachine {
  readonly root = mkdtempSync(join(tmpdir(), 'vfio-doctor-'));
  uid = 0;
  memlock = { soft: RLIM_INFINITY, hard: RLIM_INFINITY };
  ipcLock = true;
  /** Files this user may not open. */
  readonly closed = new Set<string>();

  constructor() {
    roots.push(this.root);
  }

  file(path: string, text = ''): this {
    const p = join(this.root, path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
    return this;
  }

  dir(path: string): this {
    mkdirSync(join(this.root, path), { recursive: true });
    return this;
  }

  device(addr: string, driver: string | null, group: number | null): this {
    const dir = join(this.root, 'sys/bus/pci/devices', addr);
    mkdirSync(dir, { recursive: true });
    if (driver) {
      this.dir(`sys/bus/pci/drivers/${driver}`);
      symlinkSync(`../../../../bus/pci/drivers/${driver}`, join(dir, 'driver'));
    }
    if (group !== null) {
      this.dir(`sys/kernel/iommu_groups/${group}/devices`);
      symlinkSync(`../../../../kernel/iommu_groups/${group}`, join(dir, 'iommu_group'));
      symlinkSync(
        `../../../../bus/pci/devices/${addr}`,
        join(this.root, `sys/kernel/iommu_groups/${group}/devices/${addr}`),
      );
    }
    return this;
  }

  /** A VT-d machine with VFIO, the container, iommufd and interrupt remapping; edu on vfio-pci in group 3. */
  static healthy(): FakeMachine {
    return new FakeMachine()
      .dir('sys/class/iommu/dmar0')
      .file('sys/kernel/iommu_groups/3/type', 'DMA-FQ\n')
      .dir('sys/module/vfio/parameters')
      .file('sys/module/vfio/parameters/enable_unsafe_noiommu_mode', 'N\n')
      .dir('sys/module/vfio_iommu_type1')
      .dir('sys/bus/pci/drivers/vfio-pci')
      .file('proc/cmdline', 'console=ttyS0 intel_iommu=on\n')
      .file('proc/interrupts', ' 24:  0  0  IR-PCI-MSI-0000:00:03.0  0-edge  vfio-msi[0]\n')
      .file('dev/vfio/vfio')
      .file('dev/vfio/3')
      .file('dev/iommu')
      .file('dev/vfio/devices/vfio0')
      .device(EDU, 'vfio-pci', 3)
      .dir(`sys/bus/pci/devices/${EDU}/vfio-dev/vfio0`)
      .file('sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages', '16\n')
      .file('sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages', '16\n');
  }

  facts(): MachineFacts {
    return {
      sysfs: join(this.root, 'sys'),
      proc: join(this.root, 'proc'),
      dev: join(this.root, 'dev'),
      uid: this.uid,
      ipcLock: this.ipcLock,
      memlock: this.memlock,
      canOpen: (p) => this.uid === 0 || !this.closed.has(p.slice(this.root.length)),
    };
  }

  run(o: Partial<DoctorOptions> = {}) {
    return runDoctor(this.facts(), { iommu: 'auto', dmaBytes: 64 * 1024 ** 2, ...o });
  }
}

/** The check with `id` of a report. */
const byId = (r: ReturnType<FakeMachine['run']>, id: string) => r.checks.find((c) => c.id === id);

/** Asserts a check's status, and what it found and its fix where given (text, or a pattern). */
function expectCheck(c: ReturnType<typeof byId>, status: string, found?: string | RegExp, fix?: string | RegExp): void {
  expect(c?.status).toBe(status);
  const like = (got: string | undefined, want: string | RegExp) =>
    typeof want === 'string' ? expect(got).toBe(want) : expect(got).toMatch(want);
  if (found !== undefined) like(c?.found, found);
  if (fix !== undefined) like(c?.fix, fix);
}

describe('vfio doctor', () => {
  it('passes a machine and a device with everything in place, saying what it found', () => {
    const r = FakeMachine.healthy().run({ address: EDU });
    expect(r.checks.map((c) => [c.id, c.status])).toEqual([
      ['iommu', 'ok'],
      ['translation', 'ok'],
      ['vfio', 'ok'],
      ['ways-in', 'ok'],
      ['irq-remap', 'ok'],
      ['driver', 'ok'],
      ['group', 'ok'],
      ['viable', 'ok'],
      ['access', 'ok'],
      ['memlock', 'ok'],
      ['hugepages', 'ok'],
    ]);
    expect(byId(r, 'iommu')!.found).toMatch(/^dmar0 \(Intel VT-d\) in /);
    expect(byId(r, 'access')!.found).toMatch(/^root may open .*\/dev\/iommu and .*\/dev\/vfio\/devices\/vfio0$/);
    expect(r).toMatchObject({ ok: true, summary: `${EDU} can be used through VFIO` });
  });

  it('no IOMMU: fails with how to turn it on; with no-IOMMU mode on, warns instead', () => {
    const m = FakeMachine.healthy();
    rmSync(join(m.root, 'sys/class/iommu/dmar0'), { recursive: true });
    m.file('proc/cmdline', 'console=ttyS0 intel_iommu=off\n');
    const r = m.run();
    expectCheck(
      byId(r, 'iommu'),
      'fail',
      /no IOMMU: .*class\/iommu is empty \(switched off on the kernel command line \(intel_iommu=off\)\)$/,
      /^intel_iommu=on or amd_iommu=on on the kernel command line/,
    );
    expectCheck(byId(r, 'ways-in'), 'fail', undefined, /enable_unsafe_noiommu_mode/);
    expect(r.ok).toBe(false);
    m.file('sys/module/vfio/parameters/enable_unsafe_noiommu_mode', 'Y\n');
    const again = m.run();
    expect(byId(again, 'iommu')!.status).toBe('warn');
    expect(byId(again, 'ways-in')!.status).toBe('ok');
  });

  it('VFIO missing: fails with modprobe, and says the machine cannot use VFIO', () => {
    const m = FakeMachine.healthy();
    rmSync(join(m.root, 'sys/module/vfio'), { recursive: true });
    const r = m.run();
    expectCheck(
      byId(r, 'vfio'),
      'fail',
      /^VFIO is not loaded or built in/,
      'as root: modprobe vfio-pci (a kernel with CONFIG_VFIO_PCI)',
    );
    expect(r.summary).toBe('this machine cannot use VFIO until 1 problem is fixed: VFIO');
  });

  it('iommufd missing: fine for auto, a failure with the kernel it needs for --iommu iommufd', () => {
    const m = FakeMachine.healthy();
    rmSync(join(m.root, 'dev/iommu'));
    expect(byId(m.run(), 'ways-in')!.status).toBe('ok');
    const r = m.run({ iommu: 'iommufd' });
    expectCheck(
      byId(r, 'ways-in'),
      'fail',
      /iommufd no; .*--iommu iommufd is not usable: iommufd is missing$/,
      /^a kernel with CONFIG_IOMMUFD \(6\.2\+\) and CONFIG_VFIO_DEVICE_CDEV \(6\.6\+\), then as root: modprobe iommufd/,
    );
  });

  it('a device on a host driver, or on none: fails with vfio bind', () => {
    const m = FakeMachine.healthy().device(RNG, 'virtio-pci', 4);
    expectCheck(
      byId(m.run({ address: RNG }), 'driver'),
      'fail',
      `${RNG} is bound to virtio-pci, not vfio-pci`,
      new RegExp(`^as root: vfio bind ${RNG}  \\(or: echo vfio-pci > `),
    );
    expect(byId(m.run({ address: parsePciAddress('0000:00:09.0') }), 'device')).toMatchObject({
      status: 'fail',
      fix: 'vfio list (or lspci -D) shows the addresses there are',
    });
  });

  it('a group that is not viable: names the member and its driver, and binds it', () => {
    const m = FakeMachine.healthy().device(RNG, 'virtio-pci', 3);
    const r = m.run({ address: EDU });
    expect(byId(r, 'group')!.found).toBe(`group 3, with ${RNG} (virtio-pci)`);
    expect(byId(r, 'viable')).toMatchObject({
      status: 'fail',
      found: `group 3 is not viable: ${RNG} is on virtio-pci`,
      fix: `as root, bind it to vfio-pci too: vfio bind ${RNG}`,
    });
    expect(r.summary).toBe(`${EDU} cannot be used through VFIO until 1 problem is fixed: group viable`);
  });

  it('device files this user may not open: names them and the chown', () => {
    const m = FakeMachine.healthy();
    rmSync(join(m.root, 'dev/iommu')); // the container's way: /dev/vfio/vfio and the group file
    m.uid = 65534;
    m.closed.add('/dev/vfio/3');
    const c = byId(m.run({ address: EDU }), 'access')!;
    expect(c.status).toBe('fail');
    expect(c.found).toMatch(/^uid 65534 may not open .*\/dev\/vfio\/3 \(read and write\)$/);
    expect(c.fix).toMatch(/^as root: chown 65534 .*\/dev\/vfio\/3 \(or a udev rule/);
  });

  it('a locked-memory limit below the DMA to pin: fails with how to raise it; CAP_IPC_LOCK passes', () => {
    const m = FakeMachine.healthy();
    m.ipcLock = false;
    m.memlock = { soft: 8n * MiB, hard: 8n * MiB };
    const c = byId(m.run(), 'memlock')!;
    expect(c).toMatchObject({
      status: 'fail',
      found: 'RLIMIT_MEMLOCK 8 MiB (hard 8 MiB), against 64 MiB of DMA to pin: DMA allocations past the limit fail',
    });
    expect(c.fix).toMatch(/limits\.conf/);
    m.memlock = { soft: 8n * MiB, hard: RLIM_INFINITY };
    expect(byId(m.run(), 'memlock')!.fix).toMatch(/^raise it: ulimit -l unlimited in this shell/);
    expect(byId(m.run({ dmaBytes: 4 * 1024 ** 2 }), 'memlock')!.status).toBe('ok');
    m.ipcLock = true;
    expect(byId(m.run(), 'memlock')!.found).toBe('not limited: the process has CAP_IPC_LOCK');
  });

  it('no interrupt remapping: warns with the type1 parameter; passthrough groups are a note', () => {
    const m = FakeMachine.healthy();
    m.file('proc/interrupts', ' 24:  0  0  PCI-MSI-0000:00:03.0  0-edge  vfio-msi[0]\n');
    m.file('sys/kernel/iommu_groups/3/type', 'identity\n');
    const r = m.run();
    expectCheck(byId(r, 'irq-remap'), 'warn', undefined, /allow_unsafe_interrupts=1/);
    expectCheck(byId(r, 'translation'), 'note', /passthrough/);
    expect(r.ok).toBe(true);
    expect(r.summary).toBe('this machine can use VFIO (1 warning: interrupt remapping)');
  });

  it('prints one line per check, each fix under its failure, the summary last', () => {
    const m = FakeMachine.healthy().device(RNG, null, 4);
    const text = formatDoctor(m.run({ address: RNG }));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^ok {4}IOMMU: dmar0 \(Intel VT-d\)/);
    const i = lines.findIndex((l) => l.startsWith('FAIL  driver: '));
    expect(lines[i]).toBe(`FAIL  driver: ${RNG} is bound to no driver, not vfio-pci`);
    expect(lines[i + 1]).toMatch(new RegExp(`^ {6}fix: as root: vfio bind ${RNG}`));
    expect(lines.at(-1)).toBe(`${RNG} cannot be used through VFIO until 1 problem is fixed: driver`);
  });

  it('reads --dma sizes', () => {
    expect([parseSize('4096'), parseSize('64M'), parseSize('1G'), parseSize('2MiB')]).toEqual([
      4096,
      64 * 1024 ** 2,
      1024 ** 3,
      2 * 1024 ** 2,
    ]);
    expect([parseSize('0'), parseSize('-1'), parseSize('lots')]).toEqual([undefined, undefined, undefined]);
  });
});

describe('vfio doctor, the command', () => {
  it('exits 1 when a check failed, prints JSON with --json, and refuses a bad --dma or --iommu', async () => {
    const m = FakeMachine.healthy().device(RNG, 'virtio-pci', 4);
    const sysfs = join(m.root, 'sys');
    const r = await runCliCaptured('doctor', RNG, '--sysfs', sysfs, '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { ok: boolean; checks: Array<{ id: string; status: string }> };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.id === 'driver')!.status).toBe('fail');
    expect((await runCliCaptured('doctor', '--dma', 'lots')).err).toMatch(/^error: --dma 'lots' is not a size/);
    expect((await runCliCaptured('doctor', '--iommu', 'vt-d')).err).toMatch(
      /^error: --iommu 'vt-d': expected one of auto, type1, iommufd, noiommu/,
    );
  });
});
