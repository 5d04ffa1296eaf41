import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PciSysfs, bindCommand, parsePciAddress } from '../../../src/pci/index.js';

describe('PciSysfs over a fake sysfs tree', () => {
  const root = mkdtempSync(join(tmpdir(), 'vfio-ts-sysfs-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const dev = (bdf: string, driver: string | null, group: number) => {
    const d = join(root, 'bus/pci/devices', bdf);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'vendor'), '0x1234\n');
    writeFileSync(join(d, 'device'), '0x11e8\n');
    writeFileSync(join(d, 'class'), '0x00ff00\n');
    if (driver) {
      mkdirSync(join(root, 'bus/pci/drivers', driver), { recursive: true });
      symlinkSync(join(root, 'bus/pci/drivers', driver), join(d, 'driver'));
    }
    const g = join(root, 'kernel/iommu_groups', String(group));
    mkdirSync(join(g, 'devices'), { recursive: true });
    symlinkSync(g, join(d, 'iommu_group'));
    symlinkSync(d, join(g, 'devices', bdf));
  };
  dev('0000:00:03.0', 'vfio-pci', 3);
  dev('0000:01:01.0', 'vfio-pci', 6);
  dev('0000:01:02.0', 'virtio-pci', 6);
  dev('0000:00:1f.0', null, 7);
  const sysfs = new PciSysfs(root);

  it('finds groups, drivers and members', () => {
    expect(sysfs.list()).toEqual(['0000:00:03.0', '0000:00:1f.0', '0000:01:01.0', '0000:01:02.0']);
    expect(sysfs.iommuGroup(parsePciAddress('00:03.0'))).toBe(3);
    expect(sysfs.driver(parsePciAddress('01:02.0'))).toBe('virtio-pci');
    expect(sysfs.driver(parsePciAddress('00:1f.0'))).toBeNull();
    expect(sysfs.groupMembers(6)).toEqual(['0000:01:01.0', '0000:01:02.0']);
    expect(sysfs.info(parsePciAddress('00:03.0'))).toEqual({
      address: '0000:00:03.0',
      vendor: 0x1234,
      device: 0x11e8,
      class: 0x00ff00,
      driver: 'vfio-pci',
      iommuGroup: 3,
    });
  });

  it('names a missing device and how to list devices', () => {
    expect(() => sysfs.info(parsePciAddress('00:09.0'))).toThrow(/PCI device 0000:00:09.0 not found .* lspci -D/);
  });

  it('gives the bind command for a device', () => {
    expect(bindCommand(parsePciAddress('01:02.0'), root)).toContain(
      `echo vfio-pci > ${root}/bus/pci/devices/0000:01:02.0/driver_override`,
    );
  });
});
