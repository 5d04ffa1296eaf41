// Where a device stands (locateDevice, src/vfio/context/locate.ts) and which way into VFIO it
// takes (chooseIommu, src/vfio/context/choose.ts), over a fake sysfs and /dev tree: the checks
// run in the order a person reasons, and each names the fix with the real address.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PciSysfs, parsePciAddress } from '../../../../src/pci/index.js';
import { chooseIommu, locateDevice } from '../../../../src/vfio/index.js';

const root = mkdtempSync(join(tmpdir(), 'vfio-ts-choose-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sys = join(root, 'sys');
const dev = join(root, 'dev');
const iommufd = join(dev, 'iommu');
const cdevs = join(dev, 'vfio/devices');
mkdirSync(cdevs, { recursive: true });

function device(
  bdf: string,
  { driver, group, noiommu = false, cdev }: { driver?: string; group?: number; noiommu?: boolean; cdev?: string },
): void {
  const d = join(sys, 'bus/pci/devices', bdf);
  mkdirSync(d, { recursive: true });
  if (driver) {
    mkdirSync(join(sys, 'bus/pci/drivers', driver), { recursive: true });
    symlinkSync(join(sys, 'bus/pci/drivers', driver), join(d, 'driver'));
  }
  if (group !== undefined) {
    const g = join(sys, 'kernel/iommu_groups', String(group));
    mkdirSync(join(g, 'devices'), { recursive: true });
    if (noiommu) writeFileSync(join(g, 'name'), 'vfio-noiommu\n');
    symlinkSync(g, join(d, 'iommu_group'));
  }
  if (cdev) {
    mkdirSync(join(d, 'vfio-dev', cdev), { recursive: true });
    writeFileSync(join(cdevs, cdev), ''); // the node (a plain file stands in for it)
  }
}

device('0000:00:03.0', { driver: 'vfio-pci', group: 3, cdev: 'vfio0' });
device('0000:00:04.0', { driver: 'vfio-pci', group: 4 }); // no cdev (6.1-style)
device('0000:00:05.0', { driver: 'vfio-pci', group: 0, noiommu: true, cdev: 'noiommu-vfio1' });
device('0000:00:06.0', { driver: 'e1000e' }); // no group, host driver: the IOMMU is off
device('0000:00:07.0', { driver: 'e1000e', group: 7 });
const sysfs = new PciSysfs(sys);
const loc = (bdf: string) => locateDevice(sysfs, parsePciAddress(bdf));
const choose = (choice: string, bdf: string, withIommufd = true) => {
  if (withIommufd) writeFileSync(iommufd, '');
  else rmSync(iommufd, { force: true });
  return chooseIommu(choice, loc(bdf), iommufd, cdevs);
};

describe('locateDevice', () => {
  it('a device that does not exist: says so, before anything about the IOMMU or /dev/vfio', () => {
    expect(() => loc('0000:09:00.0')).toThrow(
      /^PCI device 0000:09:00\.0 not found \(.*\/bus\/pci\/devices\/0000:09:00\.0 does not exist\)/,
    );
  });
  it('no IOMMU group: the IOMMU is off, how to turn it on, and the no-IOMMU alternative, with the address', () => {
    expect(() => loc('0000:00:06.0')).toThrow(
      /^0000:00:06\.0 has no IOMMU group and is bound to e1000e: the IOMMU is off .*intel_iommu=on.*vfio bind 0000:00:06\.0.*vfio\.enable_unsafe_noiommu_mode=1/,
    );
  });
  it('on a host driver: how to bind it, with the address', () => {
    expect(() => loc('0000:00:07.0')).toThrow(
      /^0000:00:07\.0 is bound to e1000e, not vfio-pci: bind it first \(as root\) with: vfio bind 0000:00:07\.0/,
    );
  });
  it('reads the group, no-IOMMU groups and the cdev name', () => {
    expect(loc('0000:00:03.0')).toMatchObject({ group: 3, noIommu: false, cdev: 'vfio0', driver: 'vfio-pci' });
    expect(loc('0000:00:05.0')).toMatchObject({ group: 0, noIommu: true, cdev: 'noiommu-vfio1' });
    expect(loc('0000:00:04.0').cdev).toBeNull();
  });
});

describe('chooseIommu', () => {
  it('auto: iommufd where /dev/iommu and the cdev node exist, else the container; no-IOMMU for a no-IOMMU group', () => {
    expect(choose('auto', '0000:00:03.0')).toBe('iommufd');
    expect(choose('auto', '0000:00:03.0', false)).toBe('type1');
    expect(choose('auto', '0000:00:04.0')).toBe('type1');
    expect(choose('auto', '0000:00:05.0')).toBe('noiommu');
  });
  it('an explicit choice the machine cannot honour names what is missing', () => {
    expect(() => choose('iommufd', '0000:00:03.0', false)).toThrow(/does not exist; the kernel needs CONFIG_IOMMUFD=y/);
    expect(() => choose('iommufd', '0000:00:04.0')).toThrow(
      /has no VFIO cdev in .*; the kernel needs CONFIG_VFIO_DEVICE_CDEV=y/,
    );
    expect(() => choose('noiommu', '0000:00:03.0')).toThrow(
      /^0000:00:03\.0 \(IOMMU group 3\) has an IOMMU: no-IOMMU mode is only for devices without one/,
    );
    expect(() => choose('type1', '0000:00:05.0')).toThrow(/is in a no-IOMMU group .*Use \{ iommu: 'noiommu' \}/);
    expect(() => choose('iommufd', '0000:00:05.0')).toThrow(/no-IOMMU group/);
    expect(() => choose('vfio', '0000:00:03.0')).toThrow(
      /iommu must be one of auto, type1, iommufd, noiommu; got 'vfio'/,
    );
  });
  it('explicit choices that fit are taken as they are', () => {
    expect(choose('type1', '0000:00:03.0')).toBe('type1');
    expect(choose('iommufd', '0000:00:03.0')).toBe('iommufd');
    expect(choose('noiommu', '0000:00:05.0')).toBe('noiommu');
  });
});
