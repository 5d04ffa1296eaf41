import { describe, expect, it } from 'vitest';
import {
  buildHotReset,
  hotResetInfoBuffer,
  parseHotResetInfo,
  vfio_pci_hot_reset,
  vfio_pci_hot_reset_info,
} from '../../../structs/index.js';

describe('hot-reset buffers', () => {
  it('parses the dependent devices, devfn split into device and function', () => {
    const buf = hotResetInfoBuffer(2);
    expect(buf.length).toBe(vfio_pci_hot_reset_info.size + 16);
    expect(buf.readUInt32LE(0)).toBe(buf.length); // argsz
    buf.writeUInt32LE(2, 8); // count
    buf.writeUInt32LE(6, 12);
    buf.writeUInt16LE(0, 16);
    buf[18] = 1;
    buf[19] = (1 << 3) | 0;
    buf.writeUInt32LE(6, 20);
    buf.writeUInt16LE(0, 24);
    buf[26] = 1;
    buf[27] = (2 << 3) | 5;
    expect(parseHotResetInfo(buf)).toEqual({
      flags: 0,
      count: 2,
      devices: [
        { group: 6, segment: 0, bus: 1, device: 1, fn: 0 },
        { group: 6, segment: 0, bus: 1, device: 2, fn: 5 },
      ],
    });
  });

  it('reads only what fits when the kernel reports more devices than the buffer holds (ENOSPC)', () => {
    const buf = hotResetInfoBuffer(0);
    buf.writeUInt32LE(3, 8);
    expect(parseHotResetInfo(buf)).toEqual({ flags: 0, count: 3, devices: [] });
    expect(() => parseHotResetInfo(buf.subarray(0, 8))).toThrow(/shorter than the 12-byte struct/);
  });

  it('builds the reset request with one group fd per affected group', () => {
    const buf = buildHotReset([7, 9]);
    expect(buf.length).toBe(vfio_pci_hot_reset.size + 8);
    expect([
      buf.readUInt32LE(0),
      buf.readUInt32LE(4),
      buf.readUInt32LE(8),
      buf.readInt32LE(12),
      buf.readInt32LE(16),
    ]).toEqual([20, 0, 2, 7, 9]);
  });
});
