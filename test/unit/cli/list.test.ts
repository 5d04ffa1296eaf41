// vfio list (src/cli/list.ts) over a fake sysfs tree, run in-process; with it, what vfio info
// (src/cli/info.ts) and vfio bind (src/cli/bind.ts) say about the same tree before any device
// is opened.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '../../support/run-cli.js';
import type { ListedDevice } from '../../../src/cli/list.js';

/** Runs the CLI in-process and captures what it prints. */
const cli = runCliCaptured;

describe('vfio list over a fake sysfs', () => {
  let root: string;

  /** One device: files vendor/device/class, driver and iommu_group symlinks, group membership. */
  function addDevice(
    addr: string,
    ids: { vendor: number; device: number; class: number },
    driver: string | null,
    group: number | null,
  ): void {
    const dir = join(root, 'bus/pci/devices', addr);
    mkdirSync(dir, { recursive: true });
    const hex = (n: number, d: number): string => `0x${n.toString(16).padStart(d, '0')}\n`;
    writeFileSync(join(dir, 'vendor'), hex(ids.vendor, 4));
    writeFileSync(join(dir, 'device'), hex(ids.device, 4));
    writeFileSync(join(dir, 'class'), hex(ids.class, 6));
    if (driver !== null) {
      mkdirSync(join(root, 'bus/pci/drivers', driver), { recursive: true });
      symlinkSync(`../../../../bus/pci/drivers/${driver}`, join(dir, 'driver'));
    }
    if (group !== null) {
      const g = join(root, 'kernel/iommu_groups', String(group), 'devices');
      mkdirSync(g, { recursive: true });
      symlinkSync(`../../../../kernel/iommu_groups/${group}`, join(dir, 'iommu_group'));
      symlinkSync(`../../../../bus/pci/devices/${addr}`, join(g, addr));
    }
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'vfio-cli-sysfs-'));
    addDevice('0000:00:00.0', { vendor: 0x8086, device: 0x29c0, class: 0x060000 }, null, 0);
    addDevice('0000:00:03.0', { vendor: 0x1234, device: 0x11e8, class: 0x00ff00 }, 'vfio-pci', 3);
    addDevice('0000:00:04.0', { vendor: 0x1b36, device: 0x0010, class: 0x010802 }, 'nvme', 4);
    // A bridge group: an edu on vfio-pci and an rng still on its host driver.
    addDevice('0000:01:01.0', { vendor: 0x1234, device: 0x11e8, class: 0x00ff00 }, 'vfio-pci', 6);
    addDevice('0000:01:02.0', { vendor: 0x1af4, device: 0x1005, class: 0x00ff00 }, 'virtio-pci', 6);
    // A group whose other member has no driver: still viable.
    addDevice('0000:02:00.0', { vendor: 0x8086, device: 0x10d3, class: 0x020000 }, 'vfio-pci', 7);
    addDevice('0000:02:00.1', { vendor: 0x8086, device: 0x10d3, class: 0x020000 }, null, 7);
    // No IOMMU group at all.
    addDevice('0000:03:00.0', { vendor: 0x10de, device: 0x1eb8, class: 0x030200 }, null, null);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('prints JSON with ids, class, driver, group, members and viability', async () => {
    const r = await cli('list', '--sysfs', root, '--json');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as ListedDevice[];
    const by = Object.fromEntries(list.map((d) => [d.address, d]));
    expect(list.map((d) => d.address)).toEqual([
      '0000:00:00.0',
      '0000:00:03.0',
      '0000:00:04.0',
      '0000:01:01.0',
      '0000:01:02.0',
      '0000:02:00.0',
      '0000:02:00.1',
      '0000:03:00.0',
    ]);
    expect(by['0000:00:03.0']).toEqual({
      address: '0000:00:03.0',
      vendor: '1234',
      device: '11e8',
      class: '00ff00',
      className: 'Unclassified device',
      driver: 'vfio-pci',
      iommuGroup: 3,
      groupMembers: ['0000:00:03.0'],
      viable: true,
      blockers: [],
    });
    expect(by['0000:00:00.0'].viable).toBe(true); // no driver
    expect(by['0000:00:04.0']).toMatchObject({
      driver: 'nvme',
      viable: false,
      blockers: [{ address: '0000:00:04.0', driver: 'nvme' }],
      className: 'Non-Volatile memory controller',
    });
    for (const a of ['0000:01:01.0', '0000:01:02.0']) {
      expect(by[a]).toMatchObject({
        iommuGroup: 6,
        groupMembers: ['0000:01:01.0', '0000:01:02.0'],
        viable: false,
        blockers: [{ address: '0000:01:02.0', driver: 'virtio-pci' }],
      });
    }
    expect(by['0000:02:00.0'].viable).toBe(true);
    expect(by['0000:02:00.1']).toMatchObject({ driver: null, viable: true });
    expect(by['0000:03:00.0']).toMatchObject({
      iommuGroup: null,
      groupMembers: [],
      viable: false,
      className: '3D controller',
    });
  });

  it('prints a readable table naming what blocks a group', async () => {
    const r = await cli('list', '--sysfs', root);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^ADDRESS\s+ID\s+CLASS\s+DRIVER\s+GROUP\s+VFIO-VIABLE\s+DESCRIPTION$/);
    expect(lines).toHaveLength(9);
    const row = (addr: string): string[] => lines.find((l) => l.startsWith(addr))!.split(/\s{2,}/);
    expect(row('0000:00:03.0')).toEqual([
      '0000:00:03.0',
      '1234:11e8',
      '00ff',
      'vfio-pci',
      '3',
      'yes',
      'Unclassified device',
    ]);
    expect(row('0000:01:01.0')).toEqual([
      '0000:01:01.0',
      '1234:11e8',
      '00ff',
      'vfio-pci',
      '6',
      'no (0000:01:02.0 on virtio-pci)',
      'Unclassified device',
    ]);
    expect(row('0000:02:00.1')).toEqual(['0000:02:00.1', '8086:10d3', '0200', '-', '7', 'yes', 'Ethernet controller']);
    expect(row('0000:03:00.0')).toEqual([
      '0000:03:00.0',
      '10de:1eb8',
      '0302',
      '-',
      '-',
      'no (no IOMMU group)',
      '3D controller',
    ]);
  });

  it('fails clearly when the sysfs root has no PCI bus', async () => {
    const r = await cli('list', '--sysfs', join(root, 'nowhere'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^error \[ERR_VFIO_NO_DEVICE\]: sysfs: .*nowhere\/bus\/pci\/devices does not exist \(ENOENT\)/,
    );
  });

  it('without IOMMU groups: list says so once at the top; info blames the device, never /dev/vfio', async () => {
    const withGroups = root;
    root = mkdtempSync(join(tmpdir(), 'vfio-cli-noiommu-'));
    try {
      addDevice('0000:00:02.0', { vendor: 0x8086, device: 0x46a6, class: 0x030000 }, 'i915', null);
      addDevice('0000:00:1f.6', { vendor: 0x8086, device: 0x15fb, class: 0x020000 }, 'e1000e', null);
      const list = await cli('list', '--sysfs', root);
      expect(list.code).toBe(0);
      const lines = list.out.split('\n');
      expect(lines[0]).toMatch(
        /^No device has an IOMMU group: the IOMMU is off \(or the machine has none\), so VFIO cannot use any device\. Turn it on \(intel_iommu=on or amd_iommu=on .*\), or use VFIO's unsafe no-IOMMU mode \(vfio\.enable_unsafe_noiommu_mode=1\)/,
      );
      expect(lines[1]).toBe('');
      expect(lines[2]).toMatch(/^ADDRESS\s+ID/);
      expect(list.out.match(/IOMMU group/g)).toHaveLength(1);

      const missing = await cli('info', '0000:09:00.0', '--sysfs', root);
      expect(missing.code).toBe(1);
      expect(missing.err).toMatch(
        /^error \[ERR_VFIO_NO_DEVICE\]: PCI device 0000:09:00\.0 not found \(.*\/bus\/pci\/devices\/0000:09:00\.0 does not exist\)/,
      );
      const noGroup = await cli('info', '0000:00:1f.6', '--sysfs', root);
      expect(noGroup.code).toBe(1);
      expect(noGroup.err).toMatch(
        /^error \[ERR_VFIO_NO_IOMMU\]: 0000:00:1f\.6 has no IOMMU group and is bound to e1000e: the IOMMU is off or does not cover it\. Turn it on \(intel_iommu=on .*vfio bind 0000:00:1f\.6/,
      );
      for (const r of [missing, noGroup]) expect(r.err).not.toMatch(/\/dev\/vfio|BDF/);
    } finally {
      rmSync(root, { recursive: true, force: true });
      root = withGroups;
    }
  });

  it('bind: a device already on the driver is left alone; a bind that does not take is an error', async () => {
    const already = await cli('bind', '00:03.0', '--sysfs', root);
    expect(already).toEqual({ code: 0, out: '0000:00:03.0 is already bound to vfio-pci', err: '' });
    // A fake tree has no kernel behind it: the writes land in files and nothing rebinds.
    const dir = join(root, 'bus/pci/devices/0000:00:04.0');
    writeFileSync(join(dir, 'driver_override'), '');
    writeFileSync(join(root, 'bus/pci/drivers/nvme/unbind'), '');
    writeFileSync(join(root, 'bus/pci/drivers_probe'), '');
    const r = await cli('bind', '0000:00:04.0', '--sysfs', root);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^error \[ERR_VFIO_NOT_VFIO_BOUND\]: binding 0000:00:04\.0 to vfio-pci failed: it is bound to nvme; is the vfio-pci module loaded/,
    );
    expect(readFileSync(join(dir, 'driver_override'), 'utf8')).toBe('vfio-pci');
    expect(readFileSync(join(root, 'bus/pci/drivers_probe'), 'utf8')).toBe('0000:00:04.0');
    const absent = await cli('bind', '05:00.0', '--sysfs', root);
    expect(absent.err).toMatch(/^error \[ERR_VFIO_NO_DEVICE\]: PCI device 0000:05:00\.0 not found/);
  });
});
