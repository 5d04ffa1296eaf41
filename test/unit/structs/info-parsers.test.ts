import { describe, expect, it } from 'vitest';
import {
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
  encodeStruct,
  parseIommuType1Info,
  parseRegionInfo,
  vfio_iommu_type1_info,
} from '../../../structs/index.js';

// The region info parser's walk of its capability chain is in cap-chain.test.ts.
describe('info parsers', () => {
  it('rejects a buffer shorter than the fixed struct', () => {
    expect(() => parseRegionInfo(Buffer.alloc(16))).toThrow(/shorter than the 32-byte struct/);
  });

  it('parses IOMMU info with IOVA ranges and dma_avail', () => {
    const buf = Buffer.alloc(24 + 16 + 32 + 16);
    encodeStruct(buf, vfio_iommu_type1_info, {
      argsz: buf.length,
      flags: VFIO_IOMMU_INFO_CAPS | 1,
      iova_pgsizes: 0x40201000n,
      cap_offset: 24,
    });
    buf.writeUInt16LE(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 24);
    buf.writeUInt32LE(72, 28);
    buf.writeUInt32LE(2, 32);
    buf.writeBigUInt64LE(0n, 40);
    buf.writeBigUInt64LE(0xfedfffffn, 48);
    buf.writeBigUInt64LE(0xfef00000n, 56);
    buf.writeBigUInt64LE(0x7fffffffffn, 64);
    buf.writeUInt16LE(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 72);
    buf.writeUInt32LE(0, 76);
    buf.writeUInt32LE(65535, 80);
    const info = parseIommuType1Info(buf);
    expect(info.iovaPgsizes).toBe(0x40201000n);
    expect(info.iovaRanges).toEqual([
      { start: 0n, end: 0xfedfffffn },
      { start: 0xfef00000n, end: 0x7fffffffffn },
    ]);
    expect(info.dmaAvail).toBe(65535);
  });
});
