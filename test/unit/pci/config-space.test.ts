import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_EXT_CAP_ID_DSN,
  PCI_EXT_CAP_ID_ERR,
} from '../../../structs/index.js';
import { ConfigSpace, PciSysfs, bindCommand, parsePciAddress, type ConfigAccessor } from '../../../src/pci/index.js';

describe('PCI addresses', () => {
  it('normalises the short form and case', () => {
    expect(parsePciAddress('00:03.0')).toBe('0000:00:03.0');
    expect(parsePciAddress(' 0000:0A:1f.7 ')).toBe('0000:0a:1f.7');
  });
  it('rejects everything else with the expected shape in the message', () => {
    for (const bad of ['', '0:3.0', '0000:00:20.0', '00:03.8', '00:03', '/dev/vfio/1', '0000:00:03.0/../x']) {
      expect(() => parsePciAddress(bad)).toThrow(/is not a PCI address: expected domain:bus:device.function/);
    }
  });
});

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

/** Config space in a buffer, for walking capability lists without a device. */
function bufferConfig(size: number): { buf: Buffer; cfg: ConfigSpace } {
  const buf = Buffer.alloc(size);
  const acc: ConfigAccessor = {
    size,
    read: (o, w) => (w === 1 ? buf.readUInt8(o) : w === 2 ? buf.readUInt16LE(o) : buf.readUInt32LE(o)),
    write: (o, w, v) =>
      void (w === 1 ? buf.writeUInt8(v, o) : w === 2 ? buf.writeUInt16LE(v, o) : buf.writeUInt32LE(v, o)),
  };
  return { buf, cfg: new ConfigSpace(acc) };
}

describe('ConfigSpace', () => {
  it('walks standard and extended capabilities and decodes BARs', () => {
    const { buf, cfg } = bufferConfig(4096);
    buf.writeUInt16LE(0x0010, 6); // status: capability list
    buf[0x34] = 0x40;
    buf[0x40] = PCI_CAP_ID_MSIX;
    buf[0x41] = 0x60;
    buf[0x60] = PCI_CAP_ID_EXP;
    buf[0x61] = 0x50;
    buf[0x50] = PCI_CAP_ID_MSI;
    buf[0x51] = 0x00;
    buf.writeUInt32LE(PCI_EXT_CAP_ID_ERR | (2 << 16) | (0x140 << 20), 0x100);
    buf.writeUInt32LE(PCI_EXT_CAP_ID_DSN | (1 << 16), 0x140);
    expect(cfg.capabilities()).toEqual([
      { id: 0x11, offset: 0x40 },
      { id: 0x10, offset: 0x60 },
      { id: 5, offset: 0x50 },
    ]);
    expect(cfg.findCapability(PCI_CAP_ID_MSI)).toBe(0x50);
    expect(cfg.extendedCapabilities()).toEqual([
      { id: 1, version: 2, offset: 0x100 },
      { id: 3, version: 1, offset: 0x140 },
    ]);
    buf.writeUInt32LE((0xfebf0000 | 0x4 | 0x8) >>> 0, 0x10); // 64-bit prefetchable memory
    buf.writeUInt32LE(0x00000001, 0x14); // upper half
    buf.writeUInt32LE(0xc001, 0x18); // I/O
    const bars = cfg.bars();
    expect(bars[0]).toEqual({ index: 0, io: false, is64: true, prefetchable: true, address: 0x1febf0000n });
    expect(bars[1]).toEqual({ index: 2, io: true, is64: false, prefetchable: false, address: 0xc000n });
    expect(bars.map((b) => b.index)).toEqual([0, 2, 3, 4, 5]);
  });

  it('rejects a capability list that loops or leaves the header area', () => {
    const { buf, cfg } = bufferConfig(256);
    buf.writeUInt16LE(0x0010, 6);
    buf[0x34] = 0x40;
    buf[0x40] = 5;
    buf[0x41] = 0x48;
    buf[0x48] = 9;
    buf[0x49] = 0x40;
    expect(() => cfg.capabilities()).toThrow(/broken at offset 0x40 \(out of range or a loop\)/);
    buf[0x49] = 0x10;
    expect(() => cfg.capabilities()).toThrow(/broken at offset 0x10/);
  });

  it('checks bounds and alignment, and sets command bits with one write', () => {
    const { buf, cfg } = bufferConfig(256);
    expect(() => cfg.read32(254)).toThrow(/outside the 256-byte config space/);
    expect(() => cfg.read16(3)).toThrow(/not 2-byte aligned/);
    buf.writeUInt16LE(0x0002, 4);
    cfg.setCommandBits(0x4, true);
    expect(buf.readUInt16LE(4)).toBe(0x0006);
    expect(cfg.command()).toBe(0x0006);
    cfg.setCommandBits(0x4, false);
    expect(buf.readUInt16LE(4)).toBe(0x0002);
  });

  it('reads the ids, status and command registers through methods, and writes the command register', () => {
    const { buf, cfg } = bufferConfig(256);
    buf.writeUInt16LE(0x1234, 0);
    buf.writeUInt16LE(0x11e8, 2);
    buf.writeUInt16LE(0x0010, 6);
    expect([cfg.vendorId(), cfg.deviceId(), cfg.status(), cfg.command()]).toEqual([0x1234, 0x11e8, 0x0010, 0]);
    cfg.setCommand(0x0406);
    expect(buf.readUInt16LE(4)).toBe(0x0406);
    expect(cfg.command()).toBe(0x0406);
    expect(buf.readUInt16LE(6)).toBe(0x0010);
  });
});
