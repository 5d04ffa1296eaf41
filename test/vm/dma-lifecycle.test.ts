// DMA over a device's life: closing it frees every buffer, fd, mapping and locked page, and the
// DMA context costs no system call until the first allocation needs the IOMMU.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Container, openDevice } from '../../src/index.js';
import { libc } from '../../src/sys/libc.js';
import { lockedBytes } from '../../src/sys/index.js';
import { IOCTLS } from '../../structs/index.js';
import { testDevice } from './manifest.js';
import { backend, on, runsOn } from './backend.js';
import { openFdCount, resourceFootprint } from '../support/fd-count.js';

/**
 * Mappings of device memory: the lines of /proc/self/maps that name VFIO. (Not every line: V8
 * maps heap pages of its own, and on arm64 it did so between two counts of one test.)
 */
const mappingCount = (): number => resourceFootprint().deviceMaps;
/** Whether any mapping of this process covers `addr`. */
const mappedAt = (addr: bigint): boolean =>
  readFileSync('/proc/self/maps', 'utf8')
    .trim()
    .split('\n')
    .some((l) => {
      const [start, end] = l
        .split(' ')[0]
        .split('-')
        .map((x) => BigInt(`0x${x}`));
      return addr >= start && addr < end;
    });

describe(`device lifecycle with DMA (${backend})`, () => {
  it('nvme: DMA buffers, reset, then close leaves no fd, mapping or locked memory behind', () => {
    const before = { fds: openFdCount(), maps: mappingCount(), locked: lockedBytes() };
    const dev = openDevice(testDevice('nvme').bdf);
    expect(dev.iommu.kind).toBe(backend);
    const bar0 = dev.bar(0);
    const pool = dev.dma.pool(16, 4096);
    const buf = dev.dma.alloc(4096);
    buf.u32[0] = 0xfeedf00d;
    bar0.write32(0x14, 0x00460000); // CC: IOSQES/IOCQES set, EN clear
    expect(bar0.read32(0x14)).toBe(0x00460000);
    dev.reset();
    expect(bar0.read32(0x14)).toBe(0); // the function reset cleared it
    expect(buf.u32[0]).toBe(0xfeedf00d); // DMA memory is untouched by a device reset
    const dmaMemory = [buf.vaddr, pool.buffer.vaddr];
    dev.close();
    expect(buf.closed && pool.buffer.closed).toBe(true);
    expect(() => buf.bytes).toThrow(/closed/);
    expect(openFdCount()).toBe(before.fds);
    expect(mappingCount()).toBe(before.maps);
    for (const a of dmaMemory) expect(mappedAt(a)).toBe(false); // the DMA memory is unmapped
    expect(lockedBytes()).toBe(before.locked);
  });
});

describe(`reading the DMA context (${backend})`, () => {
  /** The ioctls `fn` makes, by their C macro names, counted at the one place the library calls libc. */
  function ioctlsOf(fn: () => void): string[] {
    const names = new Map(Object.entries(IOCTLS).map(([name, code]) => [code, name]));
    // Every form of the call: a pointer, an integer, and an address (small structs, copied).
    const forms = ['ioctlPtr', 'ioctlInt', 'ioctlAt'] as const;
    const calls = libc as unknown as Record<(typeof forms)[number], (...args: unknown[]) => unknown>;
    const seen: string[] = [];
    const saved = forms.map((form) => calls[form]);
    // A new form of the call that is not counted would make the "no system call" check vacuous.
    expect(Object.keys(libc).filter((k) => k.startsWith('ioctl'))).toEqual(expect.arrayContaining([...forms]));
    expect(Object.keys(libc).filter((k) => k.startsWith('ioctl')).length).toBe(forms.length);
    const count =
      (f: (...args: unknown[]) => unknown) =>
      (...args: unknown[]): unknown => {
        seen.push(names.get(Number(args[1])) ?? String(args[1]));
        return f(...args);
      };
    forms.forEach((form, i) => (calls[form] = count(saved[i])));
    try {
      fn();
    } finally {
      forms.forEach((form, i) => (calls[form] = saved[i]));
    }
    return seen;
  }

  it('makes no system call when dev.dma and its context are read; the first allocation asks the IOMMU', () => {
    using dev = openDevice(testDevice('edu').bdf);
    expect(ioctlsOf(() => [dev.dma, dev.iommu.dma, dev.dma.addressBits, dev.dma.buffers])).toEqual([]);
    const first = ioctlsOf(() => dev.dma.alloc(4096).close());
    const ranges = { type1: 'VFIO_IOMMU_GET_INFO', iommufd: 'IOMMU_IOAS_IOVA_RANGES', noiommu: undefined }[backend];
    if (ranges)
      expect(first[0]).toBe(ranges); // then the map and the unmap
    else expect(first).toEqual([]); // no IOMMU: nothing to ask, nothing to map
    expect(ioctlsOf(() => dev.dma.alloc(4096).close())).not.toContain(ranges);
  });

  if (runsOn('type1'))
    it('gives a container its DMA context before a group is in; allocating waits for one' + on('type1'), () => {
      using container = new Container();
      const dma = container.dma; // VFIO_IOMMU_GET_INFO would fail here: the container has no IOMMU yet
      let refused: unknown;
      try {
        dma.alloc(4096);
      } catch (e) {
        refused = e;
      }
      expect(refused).toMatchObject({ code: 'ERR_VFIO_INVALID_STATE' });
      expect(String(refused)).toMatch(/VFIO_IOMMU_GET_INFO needs a group in the container first/);
      const dev = container.device(testDevice('edu').bdf);
      const buf = dma.alloc(4096);
      expect(dev.dma.allocator()).toBe(dma.allocator());
      expect(buf.iova).toBeGreaterThan(0n);
    });
});
