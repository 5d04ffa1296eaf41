// DMA at scale through edu: 10,000 map/unmap cycles leave the kernel's and the library's
// accounting where it started, and a buffer past 4 GiB is reached by the device at its far end.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDevice, type DmaBuffer, type Device } from '../../src/index.js';
import { lockedBytes } from '../../src/sys/index.js';
import { testDevice } from './manifest.js';
import { on, runsOn } from './backend.js';
import { dmaToDevice, dmaToRam } from './edu-dma.js';

describe('DMA at scale with edu', () => {
  let dev: Device;

  beforeAll(() => {
    dev = openDevice(testDevice('edu').bdf);
  });
  afterAll(() => dev?.close());

  it('10,000 map/unmap cycles leave dma_avail, locked memory and the IOVA space where they started', () => {
    const before = { avail: dev.dma.info().dmaAvail, locked: lockedBytes(), free: dev.dma.allocator().freeBytes };
    expect(typeof before.free).toBe('number'); // a size
    const seen = new Set<bigint>();
    for (let i = 0; i < 10_000; i++) {
      const b: DmaBuffer = dev.dma.alloc(4096);
      seen.add(b.iova);
      b.close();
    }
    expect(dev.dma.info().dmaAvail).toBe(before.avail);
    expect(lockedBytes()).toBe(before.locked);
    expect(dev.dma.allocator().freeBytes).toBe(before.free);
    expect(seen.size).toBeGreaterThan(0);
  }, 300_000); // about 10 s under VT-d; 18-124 s through the emulated SMMUv3

  // Without an IOMMU a buffer must be physically contiguous: no 4 GiB one.
  if (runsOn('type1', 'iommufd'))
    it(`maps 4 GiB and more: the device reaches bytes past the 4 GiB mark${on('type1', 'iommufd')}`, () => {
      const FOUR_GIB = 2 ** 32;
      const available = Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
      if (available < FOUR_GIB + (256 << 20)) {
        throw new Error(
          `this test needs a guest with more than 4 GiB free (${available} bytes are): run it with scripts/vm/run --memory 6G, as npm run test:vm does`,
        );
      }
      using big = dev.dma.alloc(FOUR_GIB + 8192);
      expect(big.size).toBe(FOUR_GIB + 8192);
      expect(() => big.bytes).toThrow(/use view\(offset, length\)/);
      const first = big.view(0, 8192);
      const beyond = big.view(FOUR_GIB, 8192);
      first.fill(0x11);
      beyond.fill(0x77);
      // From past 4 GiB to the device, and back into the second page: a size or IOVA cut to
      // 32 bits would send the device somewhere else.
      dmaToDevice(dev.bar(0), big.iovaAt(FOUR_GIB + 100), 0, 1000);
      dmaToRam(dev.bar(0), 0, big.iovaAt(4096), 1000);
      expect(first.subarray(4096, 5096).every((v) => v === 0x77)).toBe(true);
      expect(first[0]).toBe(0x11);
      first.fill(0x22, 0, 4096);
      dmaToDevice(dev.bar(0), big.iova, 0, 500);
      dmaToRam(dev.bar(0), 0, big.iovaAt(FOUR_GIB + 4096), 500);
      expect(beyond.subarray(4096, 4596).every((v) => v === 0x22)).toBe(true);
    }, 300_000);
});
