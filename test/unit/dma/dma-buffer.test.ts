// DmaBuffer.view(): a slice of the buffer's one typed array (bench/host's row 4 measures it),
// sharing memory with `bytes`, bounds-checked, and refused after close.
import { describe, expect, it } from 'vitest';
import { Dma } from '../../../src/dma/index.js';
import { STAND_IN_IOMMU } from '../../../bench/host/pool.js';

describe('DmaBuffer.view', () => {
  it('is a window on the same memory as bytes, at the offset asked for', () => {
    using dma = new Dma(STAND_IN_IOMMU);
    const buf = dma.alloc(8192);
    const v = buf.view(4096 + 8, 64);
    expect(v.length).toBe(64);
    expect(v.byteOffset).toBe(4096 + 8);
    v[0] = 0xa5;
    v[63] = 0x5a;
    expect(buf.bytes[4096 + 8]).toBe(0xa5);
    expect(buf.bytes[4096 + 8 + 63]).toBe(0x5a);
    buf.bytes[4096 + 9] = 7;
    expect(v[1]).toBe(7);
    expect(buf.view(0, 8192).length).toBe(8192);
    expect(buf.view(8192, 0).length).toBe(0);
  });

  it('checks the span and the buffer', () => {
    using dma = new Dma(STAND_IN_IOMMU);
    const buf = dma.alloc(4096);
    expect(() => buf.view(4000, 200)).toThrow(RangeError);
    buf.close();
    expect(() => buf.view(0, 1)).toThrow(/was closed, so view\(\) cannot be used/);
  });
});
