import { describe, expect, it } from 'vitest';
import { queryVariable, vfio_region_info } from '../../../structs/index.js';

describe('variable-size info buffers', () => {
  it('queryVariable grows the buffer to the argsz the kernel asks for', () => {
    const calls: number[] = [];
    const out = queryVariable(vfio_region_info, { index: 3 }, (buf) => {
      calls.push(buf.length);
      expect(buf.readUInt32LE(8)).toBe(3);
      buf.writeUInt32LE(80, 0); // the "kernel" wants 80 bytes
      if (buf.length >= 80) buf.writeUInt32LE(0xabcd, 76);
    });
    expect(calls).toEqual([32, 80]);
    expect(out.length).toBe(80);
    expect(out.readUInt32LE(76)).toBe(0xabcd);
  });

  it('queryVariable refuses an absurd argsz', () => {
    expect(() => queryVariable(vfio_region_info, {}, (buf) => buf.writeUInt32LE(0x7fffffff, 0))).toThrow(
      /asks for 2147483647 bytes/,
    );
  });
});
