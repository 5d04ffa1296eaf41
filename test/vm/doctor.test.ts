// Runs in the test VM: `vfio doctor` on the guest's own sysfs, proc and dev. It passes for edu on
// every row (the way in the row tests, VFIO_TS_IOMMU, reaches the command); each failure it
// knows is made here and its message and fix checked: a device on a host driver, a group that
// is not viable, device files an unprivileged user may not open with a small locked-memory
// limit, iommufd asked for where the kernel has none, and no IOMMU at all (no-IOMMU row).
import { execFileSync } from 'node:child_process';
import { chownSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCompiled } from '../support/run-script.js';
import { manifest, testDevice } from './manifest.js';
import { backend, on, runsOn } from './backend.js';
import { runDoctor, type DoctorReport } from '../../src/cli/doctor/doctor.js';
import { thisMachine } from '../../src/cli/doctor/facts.js';
import { parsePciAddress } from '../../src/pci/index.js';

const REPO = join(import.meta.dirname, '../..');
const vfio = (...args: string[]) => runCompiled('dist/src/cli.js', args, 90_000);

/** The doctor in this process, as root, for the way in of this row. */
const doctor = (address?: string, iommu: string = backend): DoctorReport =>
  runDoctor(thisMachine(), { ...(address ? { address: parsePciAddress(address) } : {}), iommu, dmaBytes: 64 << 20 });
const checkOf = (r: DoctorReport, id: string) => r.checks.find((c) => c.id === id);

describe(`vfio doctor in the VM (${backend})`, () => {
  const edu = testDevice('edu');

  it('passes edu: the IOMMU the guest has, VFIO, the way in, the group and its files', async () => {
    const r = await vfio('doctor', edu.bdf);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const iommu = manifest().iommu;
    expect(lines[0]).toMatch(
      iommu === 'intel-vtd'
        ? /^ok {4}IOMMU: dmar0 \(Intel VT-d\)/
        : iommu === 'arm-smmuv3'
          ? /^ok {4}IOMMU: smmu3\.0x[0-9a-f]+ \(Arm SMMUv3\)/
          : /^WARN {2}IOMMU: no IOMMU: .* VFIO's no-IOMMU mode is on, without isolation$/,
    );
    expect(r.stdout).toMatch(/^ok {4}VFIO: vfio and the vfio-pci driver are loaded/m);
    expect(r.stdout).toMatch(new RegExp(`^ok {4}ways into VFIO: .*--iommu ${backend} is usable$`, 'm'));
    expect(r.stdout).toContain(`ok    driver: ${edu.bdf} is bound to vfio-pci\n`);
    expect(r.stdout).toMatch(
      new RegExp(
        `^(ok {4}|WARN {2})IOMMU group: ${backend === 'noiommu' ? 'no-IOMMU group' : 'group'} ${edu.group}`,
        'm',
      ),
    );
    expect(r.stdout).toMatch(new RegExp(`^ok {4}group viable: every member of group ${edu.group}`, 'm'));
    const files = backend === 'iommufd' ? `/dev/iommu and ${edu.cdev}` : `/dev/vfio/vfio and ${edu.groupPath}`;
    expect(r.stdout).toContain(`ok    device files: root may open ${files}\n`);
    expect(r.stdout).toMatch(/^ok {4}locked memory: not limited: the process has CAP_IPC_LOCK$/m);
    // The rig's VT-d has intremap=on, and arm64's MSIs go through the GICv3 ITS.
    if (iommu !== 'none') expect(r.stdout).toMatch(/^ok {4}interrupt remapping: /m);
    expect(lines.at(-1)).toMatch(new RegExp(`^${edu.bdf} can be used through VFIO`));
  });

  if (runsOn('type1', 'iommufd')) {
    it(`a device on a host driver: FAIL with vfio bind, exit status 1${on('type1', 'iommufd')}`, async () => {
      const rng = testDevice('rng-host');
      const r = await vfio('doctor', rng.bdf);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        `FAIL  driver: ${rng.bdf} is bound to virtio-pci, not vfio-pci\n      fix: as root: vfio bind ${rng.bdf}  (or: echo vfio-pci > `,
      );
      expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(
        new RegExp(`^${rng.bdf} cannot be used through VFIO until`),
      );
    });

    it(`a group that is not viable: names the member on its host driver, and binds it${on('type1', 'iommufd')}`, () => {
      const stuck = testDevice('edu-nonviable');
      const rng = testDevice('rng-host');
      const c = checkOf(doctor(stuck.bdf), 'viable')!;
      expect(c.status).toBe('fail');
      expect(c.found).toBe(`group ${stuck.group} is not viable: ${rng.bdf} is on virtio-pci`);
      expect(c.fix).toBe(`as root, bind it to vfio-pci too: vfio bind ${rng.bdf}`);
    });

    it(`iommufd asked for: usable exactly where the guest offers it, else the kernel it needs${on('type1', 'iommufd')}`, () => {
      const c = checkOf(doctor(edu.bdf, 'iommufd'), 'ways-in')!;
      if (manifest().backends.includes('iommufd')) {
        expect(c.status).toBe('ok');
      } else {
        expect(c.status).toBe('fail');
        expect(c.found).toMatch(/iommufd no; .*: --iommu iommufd is not usable: iommufd is missing$/);
        expect(c.fix).toMatch(/^a kernel with CONFIG_IOMMUFD \(6\.2\+\) and CONFIG_VFIO_DEVICE_CDEV \(6\.6\+\)/);
      }
    });

    it(`an unprivileged user with a 1 MiB locked-memory limit: the files and the limit, with fixes${on('type1', 'iommufd')}`, () => {
      const script = `ulimit -l 1024 && exec ${process.execPath} ${join(REPO, 'dist/src/cli.js')} doctor ${edu.bdf}`;
      let out: string;
      let status = 0;
      try {
        out = execFileSync('/bin/sh', ['-c', script], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 90_000 });
      } catch (e) {
        const err = e as { status: number; stdout: string };
        status = err.status;
        out = err.stdout;
      }
      expect(status).toBe(1);
      const refused = backend === 'iommufd' ? /may not open \/dev\/iommu/ : new RegExp(`may not open ${edu.groupPath}`);
      expect(out).toMatch(new RegExp(`^FAIL {2}device files: uid 65534 ${refused.source}`, 'm'));
      expect(out).toMatch(/^ {6}fix: as root: chown 65534 /m);
      expect(out).toMatch(/^FAIL {2}locked memory: RLIMIT_MEMLOCK 1 MiB \(hard 1 MiB\), against 64 MiB of DMA to pin/m);
      expect(out).toMatch(/^ {6}fix: raise it: .*limits\.conf/m);
    });
  }

  if (runsOn('type1'))
    it(`given the group file, the user may open it, and 1 MiB of DMA is within the limit: it passes${on('type1')}`, () => {
      const file = edu.groupPath!;
      const owner = statSync(file);
      chownSync(file, 65534, 65534);
      try {
        const out = execFileSync(
          process.execPath,
          [join(REPO, 'dist/src/cli.js'), 'doctor', edu.bdf, '--dma', '1M', '--json'],
          {
            uid: 65534,
            gid: 65534,
            encoding: 'utf8',
            timeout: 90_000,
          },
        );
        const r = JSON.parse(out) as DoctorReport;
        expect(r.checks.find((c) => c.id === 'access')!.found).toBe(`uid 65534 may open /dev/vfio/vfio and ${file}`);
        expect(r.ok).toBe(true);
      } finally {
        chownSync(file, owner.uid, owner.gid);
      }
    });

  if (runsOn('noiommu'))
    it(`no IOMMU and no-IOMMU mode off: FAIL with how to turn the IOMMU on${on('noiommu')}`, () => {
      const param = '/sys/module/vfio/parameters/enable_unsafe_noiommu_mode';
      writeFileSync(param, 'N');
      try {
        const r = doctor(undefined, 'auto');
        const c = checkOf(r, 'iommu')!;
        expect(c.status).toBe('fail');
        expect(c.found).toMatch(/^no IOMMU: \/sys\/class\/iommu is empty/);
        expect(c.fix).toMatch(
          /^intel_iommu=on or amd_iommu=on on the kernel command line.*vfio\.enable_unsafe_noiommu_mode=1/,
        );
        expect(checkOf(r, 'ways-in')!.status).toBe('fail');
        expect(r.ok).toBe(false);
      } finally {
        writeFileSync(param, 'Y');
      }
      expect(checkOf(doctor(undefined, 'auto'), 'iommu')!.status).toBe('warn');
    });
});
