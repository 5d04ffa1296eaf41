// Soak: many interrupts through `for await` with exact counts, many DMA map/unmap cycles, and
// repeated open/close of every device, each followed by the check that nothing grew: open fds,
// memory mappings and locked memory exactly as before, the JS heap within a stated bound.
//
// The default size runs in seconds under TCG; VFIO_TS_LONG=1 (scripts/vm/test-matrix --long)
// runs the sizes of issue 11: 100,000 interrupts, 100,000 DMA cycles, 200 opens per device.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { openDevice } from '../../src/index.js';
import { dmaToDevice, dmaToRam } from './edu-dma.js';
import { resourceFootprint } from '../support/fd-count.js';
import { testDevice } from './manifest.js';
import { backend } from './backend.js';

const LONG = process.env.VFIO_TS_LONG === '1';
const INTERRUPTS = LONG ? 100_000 : 3_000;
const DMA_CYCLES = LONG ? 100_000 : 500;
const OPENS = LONG ? 200 : 8;
/** The JS heap may grow this much over a whole soak (caches warming up, the test's own arrays). */
const HEAP_BOUND = 8 * 1024 * 1024;
const TIMEOUT = LONG ? 3_600_000 : 120_000;

const EDU_RAISE = 0x60;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function footprint(): ReturnType<typeof resourceFootprint> & { heap: number } {
  gc();
  return { ...resourceFootprint(), heap: process.memoryUsage().heapUsed };
}

function expectNoGrowth(before: ReturnType<typeof footprint>): void {
  const { heap, ...after } = footprint();
  const { heap: heapBefore, ...rest } = before;
  expect(after).toEqual(rest);
  expect(heap - heapBefore).toBeLessThan(HEAP_BOUND);
}

describe(`soak (${backend}, ${LONG ? 'long' : 'default'} size)`, () => {
  const edu = testDevice('edu');

  /**
   * `n` edu MSIs counted by a `for await` loop. Each is raised once the one before arrived: MSIs
   * to one vector coalesce while one is pending in the CPU, so a burst may arrive as fewer.
   */
  async function msiSoak(n: number): Promise<number> {
    using dev = openDevice(edu.bdf);
    const bar0 = dev.bar(0);
    const irqs = dev.interrupts;
    irqs.enable('msi');
    // A lost interrupt ends the loop (stop() finishes the iterator) instead of hanging the test.
    let last = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - last > 10_000) irqs.stop();
    }, 1000);
    let seen = 0;
    try {
      bar0.write32(EDU_RAISE, 1);
      for await (const fired of irqs) {
        expect(fired.vector).toBe(0);
        seen += fired.count;
        last = Date.now();
        if (seen >= n) break;
        bar0.write32(EDU_RAISE, 1);
      }
    } finally {
      clearInterval(watchdog);
    }
    expect(irqs.wait(200)).toEqual([]); // not one more
    irqs.disable();
    return seen;
  }

  it(
    `${INTERRUPTS} edu MSIs through for await, counted exactly; nothing grows`,
    async () => {
      expect(await msiSoak(50)).toBe(50); // warm-up: what is made once per process exists now
      const before = footprint();
      expect(await msiSoak(INTERRUPTS)).toBe(INTERRUPTS);
      expectNoGrowth(before);
    },
    TIMEOUT,
  );

  it(
    `${DMA_CYCLES} DMA map/unmap cycles; the last buffers still move bytes; nothing grows`,
    () => {
      using dev = openDevice(edu.bdf);
      dev.dma.alloc(4096).close(); // warm-up, and BAR0 mapped (regions stay mapped while the device is open)
      dev.bar(0);
      const before = footprint();
      for (let i = 0; i < DMA_CYCLES; i++) dev.dma.alloc(4096).close();
      const src = dev.dma.alloc(4096);
      const dst = dev.dma.alloc(4096);
      src.bytes.fill(0x5a, 0, 256);
      dmaToDevice(dev.bar(0), src.iova, 0, 256);
      dmaToRam(dev.bar(0), 0, dst.iova, 256);
      expect(dst.bytes.subarray(0, 256).every((b) => b === 0x5a)).toBe(true);
      src.close();
      dst.close();
      expectNoGrowth(before);
    },
    TIMEOUT,
  );

  it(
    `${OPENS} opens and closes of every device, each read back; nothing grows`,
    () => {
      const devices = [testDevice('edu'), testDevice('nvme'), testDevice('e1000e')];
      const openEach = (): void => {
        for (const d of devices) {
          using dev = openDevice(d.bdf);
          expect(dev.config.vendorId()).toBe(parseInt(d.vendor, 16));
          dev.bar(0).read32(0);
        }
      };
      openEach(); // warm-up
      const before = footprint();
      for (let i = 0; i < OPENS; i++) openEach();
      expectNoGrowth(before);
    },
    TIMEOUT,
  );
});
