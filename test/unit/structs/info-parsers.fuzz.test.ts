// Fuzz: capability chains and the info parsers over them (structs/cap-chain.ts,
// structs/info-parsers.ts): vfio_region_info and vfio_iommu_type1_info buffers, random and
// mutated from valid ones built with the real layouts. Every input returns or throws a coded
// error within the time bound, and what is returned describes only bytes inside the buffer.
// VFIO_TS_FUZZ_RUNS=100000 runs 100,000 inputs per property (test/support/fuzz.ts: replay).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
  VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
  VFIO_REGION_INFO_CAP_SPARSE_MMAP,
  VFIO_REGION_INFO_CAP_TYPE,
  VFIO_REGION_INFO_FLAG_CAPS,
  parseIommuType1Info,
  parseRegionInfo,
  vfio_info_cap_header,
  vfio_iommu_type1_info,
  vfio_iommu_type1_info_cap_iova_range,
  vfio_iommu_type1_info_dma_avail,
  vfio_iova_range,
  vfio_region_info,
  vfio_region_info_cap_sparse_mmap,
  vfio_region_info_cap_type,
  vfio_region_sparse_mmap_area,
  walkCapChain,
  type CapEntry,
} from '../../../structs/index.js';
import { REGION_SEED, TYPE1_SEED } from '../../support/fuzz-seeds.js';
import { fuzzBytes, fuzzParams, outcome } from '../../support/fuzz.js';

const RUNS = 2000;

/** Found by this test: a capability at 28 links to 32, inside its own header (now a CapChainError). */
const OVERLAP = Uint8Array.from([
  84, 0, 0, 0, 2, 0, 0, 0, 0, 16, 32, 64, 0, 0, 0, 0, 28, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 72, 0, 0, 0, 32, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 223, 254, 0, 0, 0, 0, 0, 0, 240, 254, 0, 0, 0, 0, 255, 255, 255, 255, 255,
  255, 0, 0, 3, 0, 1, 0, 0, 0, 0, 0, 255, 255, 0, 0,
]);
const HEADER = vfio_info_cap_header.size;

/** Each capability lies after the fixed struct and before the next, its header inside itself and the buffer. */
function expectChainInside(buf: Uint8Array, caps: CapEntry[], fixedSize: number): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  expect(caps.length).toBeLessThanOrEqual(Math.floor(buf.length / HEADER));
  caps.forEach((c, i) => {
    expect(c.offset).toBeGreaterThanOrEqual(fixedSize);
    expect(c.offset % 4).toBe(0);
    expect(c.offset + HEADER).toBeLessThanOrEqual(c.end);
    expect(c.end).toBeLessThanOrEqual(buf.length);
    expect(c.end).toBe(i + 1 < caps.length ? caps[i + 1].offset : buf.length);
    expect([c.id, c.version]).toEqual([view.getUint16(c.offset, true), view.getUint16(c.offset + 2, true)]);
  });
}

/** The capability with `id` holds `bytes` bytes: what was decoded from it came from inside it. */
function expectHolds(caps: CapEntry[], id: number, bytes: number): void {
  const cap = caps.find((c) => c.id === id);
  expect(cap).toBeDefined();
  expect(cap!.offset + bytes).toBeLessThanOrEqual(cap!.end);
}

describe('fuzz: capability chains', () => {
  it('the seeds parse: the fuzzing starts from valid buffers', () => {
    const region = parseRegionInfo(REGION_SEED.bytes);
    expect(region.sparseMmap).toHaveLength(2);
    expect(region.type).toEqual({ type: 1, subtype: 3 });
    expect(region.msixMappable).toBe(true);
    const type1 = parseIommuType1Info(TYPE1_SEED.bytes);
    expect(type1.iovaRanges).toHaveLength(2);
    expect(type1.dmaAvail).toBe(65535);
  });

  it('walkCapChain: any buffer, any first offset, any fixed size', () => {
    const first = fc.oneof(fc.constantFrom(0, 4, 8, 16, 24, 32, 0xfffffff8), fc.nat({ max: 0xffffffff }));
    const fixed = fc.constantFrom(vfio_region_info.size, vfio_iommu_type1_info.size, 16);
    fc.assert(
      fc.property(fuzzBytes([REGION_SEED, TYPE1_SEED]), first, fixed, (buf, start, fixedSize) => {
        const caps = outcome(() => walkCapChain(buf, start, fixedSize));
        if (caps) expectChainInside(buf, caps, fixedSize);
      }),
      fuzzParams(RUNS),
    );
  });

  it('parseRegionInfo: areas and type only from inside their capability', () => {
    fc.assert(
      fc.property(fuzzBytes([REGION_SEED], 160), (buf) => {
        const info = outcome(() => parseRegionInfo(buf));
        if (!info) return;
        expectChainInside(buf, info.caps, vfio_region_info.size);
        if ((info.flags & VFIO_REGION_INFO_FLAG_CAPS) === 0) expect(info.caps).toEqual([]);
        if (info.sparseMmap) {
          const bytes =
            vfio_region_info_cap_sparse_mmap.size + info.sparseMmap.length * vfio_region_sparse_mmap_area.size;
          expectHolds(info.caps, VFIO_REGION_INFO_CAP_SPARSE_MMAP, bytes);
        }
        if (info.type) expectHolds(info.caps, VFIO_REGION_INFO_CAP_TYPE, vfio_region_info_cap_type.size);
        expect(info.msixMappable).toBe(info.caps.some((c) => c.id === VFIO_REGION_INFO_CAP_MSIX_MAPPABLE));
      }),
      fuzzParams(RUNS),
    );
  });

  it('parseIommuType1Info: ranges and dma_avail only from inside their capability', () => {
    fc.assert(
      fc.property(fuzzBytes([TYPE1_SEED], 160), (buf) => {
        const info = outcome(() => parseIommuType1Info(buf));
        if (!info) return;
        expectChainInside(buf, info.caps, vfio_iommu_type1_info.size);
        if ((info.flags & VFIO_IOMMU_INFO_CAPS) === 0) expect(info.caps).toEqual([]);
        if (info.iovaRanges) {
          const bytes = vfio_iommu_type1_info_cap_iova_range.size + info.iovaRanges.length * vfio_iova_range.size;
          expectHolds(info.caps, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, bytes);
        }
        if (info.dmaAvail !== undefined)
          expectHolds(info.caps, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, vfio_iommu_type1_info_dma_avail.size);
      }),
      fuzzParams<[Uint8Array]>(RUNS, [[OVERLAP]]),
    );
  });
});
