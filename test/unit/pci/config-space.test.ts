import { describe, expect, it } from 'vitest';
import {
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_EXT_CAP_ID_DSN,
  PCI_EXT_CAP_ID_ERR,
} from '../../../structs/index.js';
import { ConfigSpace, type ConfigAccessor } from '../../../src/pci/index.js';

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
