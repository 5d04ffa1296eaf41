// Capability chains (structs/cap-chain.ts), walked through the region info parser
// (structs/info-parsers.ts) as a kernel's vfio_region_info reaches them.
import { describe, expect, it } from 'vitest';
import {
  CapChainError,
  VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
  VFIO_REGION_INFO_CAP_SPARSE_MMAP,
  VFIO_REGION_INFO_FLAG_CAPS,
  encodeStruct,
  parseRegionInfo,
  vfio_region_info,
  walkCapChain,
} from '../../../structs/index.js';

/** Builds a vfio_region_info buffer with capabilities at given offsets (`next` as given). */
function regionBuf(
  size: number,
  capOffset: number,
  caps: { at: number; id: number; next: number; body?: number[] }[],
): Buffer {
  const buf = Buffer.alloc(size);
  encodeStruct(buf, vfio_region_info, {
    argsz: size,
    flags: VFIO_REGION_INFO_FLAG_CAPS,
    index: 0,
    cap_offset: capOffset,
    size: 0x4000n,
    offset: 0n,
  });
  for (const c of caps) {
    buf.writeUInt16LE(c.id, c.at);
    buf.writeUInt16LE(1, c.at + 2);
    buf.writeUInt32LE(c.next, c.at + 4);
    (c.body ?? []).forEach((v, i) => buf.writeUInt32LE(v, c.at + 8 + 4 * i));
  }
  return buf;
}

describe('capability chains', () => {
  it('parses a sparse-mmap chain with two areas and an MSI-X-mappable cap', () => {
    const buf = regionBuf(96, 32, [
      { at: 32, id: VFIO_REGION_INFO_CAP_SPARSE_MMAP, next: 80, body: [2, 0, 0, 0, 0x1000, 0, 0x3000, 0, 0x1000, 0] },
      { at: 80, id: VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, next: 0 },
    ]);
    const info = parseRegionInfo(buf);
    expect(info.sparseMmap).toEqual([
      { offset: 0n, size: 0x1000n },
      { offset: 0x3000n, size: 0x1000n },
    ]);
    expect(info.msixMappable).toBe(true);
    expect(info.size).toBe(0x4000n);
  });

  it('rejects a looping chain', () => {
    const buf = regionBuf(64, 32, [
      { at: 32, id: 2, next: 48 },
      { at: 48, id: 3, next: 32 },
    ]);
    expect(() => parseRegionInfo(buf)).toThrow(CapChainError);
    expect(() => parseRegionInfo(buf)).toThrow(/links back to offset 32: a loop/);
  });

  it('rejects a chain that points at itself', () => {
    const buf = regionBuf(64, 32, [{ at: 32, id: 2, next: 32 }]);
    expect(() => parseRegionInfo(buf)).toThrow(/a loop/);
  });

  it('rejects a next offset outside the buffer', () => {
    const buf = regionBuf(64, 32, [{ at: 32, id: 2, next: 4096 }]);
    expect(() => parseRegionInfo(buf)).toThrow(/links to offset 4096, past the 64-byte buffer/);
  });

  it('rejects a first capability inside the fixed struct (backwards)', () => {
    const buf = regionBuf(64, 8, []);
    expect(() => parseRegionInfo(buf)).toThrow(/inside the fixed header/);
  });

  it('rejects a truncated buffer: header cut off', () => {
    const full = regionBuf(64, 32, [
      { at: 32, id: VFIO_REGION_INFO_CAP_SPARSE_MMAP, next: 0, body: [1, 0, 0, 0, 0x1000, 0] },
    ]);
    expect(() => parseRegionInfo(full.subarray(0, 36))).toThrow(
      /past the 36-byte buffer \(truncated or out of bounds\)/,
    );
  });

  it('rejects a truncated buffer: sparse areas cut off', () => {
    const full = regionBuf(64, 32, [{ at: 32, id: VFIO_REGION_INFO_CAP_SPARSE_MMAP, next: 0, body: [4, 0] }]);
    expect(() => parseRegionInfo(full)).toThrow(/needs 80 bytes but only 32 are there \(truncated\)/);
  });

  it('terminates on adversarial chains of every shape (never hangs)', () => {
    for (let seed = 1; seed < 2000; seed++) {
      const buf = Buffer.alloc(128);
      let x = seed;
      for (let i = 0; i < 128; i += 4) {
        x = (x * 1103515245 + 12345) >>> 0;
        buf.writeUInt32LE(x % 160, i);
      }
      try {
        const caps = walkCapChain(buf, 32, 32);
        for (const c of caps) expect(c.offset + 8).toBeLessThanOrEqual(128);
      } catch (e) {
        expect(e).toBeInstanceOf(CapChainError);
      }
    }
  });
});
