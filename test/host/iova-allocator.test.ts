import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IovaAllocator } from '../../src/iommu/iova-allocator.js';

const PAGE = 4096n;
// What emulated VT-d reports: everything below 39 bits except the x86 MSI window.
const VTD = [
  { start: 0n, end: 0xfedfffffn },
  { start: 0xfef00000n, end: 0x7fffffffffn },
];

describe('IovaAllocator', () => {
  it('never hands out the MSI window, and skips IOVA 0', () => {
    const a = new IovaAllocator({ ranges: VTD, minAlign: PAGE });
    expect(a.freeSpans[0].start).toBe(PAGE);
    // Fill the first range exactly, then the next allocation must start above the hole.
    const first = a.alloc(0xfee00000n - PAGE);
    expect(first).toBe(PAGE);
    expect(a.alloc(PAGE)).toBe(0xfef00000n);
    expect(() => a.reserve(0xfee00000n, PAGE)).toThrow(/not free: it is outside the IOMMU's valid ranges/);
  });

  it('honours a 28-bit device (edu without dma_mask)', () => {
    const a = new IovaAllocator({ ranges: VTD, minAlign: PAGE, addressBits: 28 });
    expect(a.totalBytes).toBe((1n << 28n) - PAGE);
    const big = a.alloc((1n << 28n) - PAGE);
    expect(big + (1n << 28n) - PAGE).toBe(1n << 28n);
    expect(() => a.alloc(PAGE)).toThrow(/no free IOVA range of 0x1000 bytes/);
    expect(() => a.reserve(1n << 28n, PAGE)).toThrow(/above the device's DMA limit 0x10000000/);
  });

  it('aligns to the requested alignment (hugepages) and the IOMMU page', () => {
    const a = new IovaAllocator({ ranges: VTD, minAlign: PAGE });
    a.alloc(PAGE);
    const huge = a.alloc(2n << 20n, 2n << 20n);
    expect(huge % (2n << 20n)).toBe(0n);
    expect(a.alloc(1n) % PAGE).toBe(0n); // rounded up to a page
    expect(() => a.alloc(PAGE, 3000n)).toThrow(/power of two/);
  });

  it('reports exhaustion with what is held', () => {
    const a = new IovaAllocator({ ranges: [{ start: 0n, end: 0x10000n - 1n }], minAlign: PAGE });
    for (let i = 0; i < 15; i++) a.alloc(PAGE);
    expect(() => a.alloc(PAGE)).toThrow(/15 allocations hold 0xf000 of 0xf000 bytes/);
  });

  it('fragments and coalesces', () => {
    const a = new IovaAllocator({ ranges: [{ start: 0n, end: 0x100000n - 1n }], minAlign: PAGE, floor: 0n });
    const xs = Array.from({ length: 8 }, () => a.alloc(PAGE));
    a.free(xs[1]);
    a.free(xs[3]);
    a.free(xs[5]);
    expect(a.freeSpans.length).toBe(4);
    expect(() => a.alloc(2n * PAGE)).not.toThrow(); // from the tail
    a.free(xs[2]);
    a.free(xs[4]);
    // 1..5 are one span again: a 5-page block fits at xs[1]
    expect(a.alloc(5n * PAGE)).toBe(xs[1]);
    expect(() => a.free(xs[1] + PAGE)).toThrow(/not allocated/);
    a.free(xs[1]);
    expect(() => a.free(xs[1])).toThrow(/double free/);
  });

  it('refuses ranges outside the DMA window', () => {
    expect(
      () =>
        new IovaAllocator({ ranges: [{ start: 1n << 40n, end: (1n << 41n) - 1n }], minAlign: PAGE, addressBits: 32 }),
    ).toThrow(/no usable IOVA space/);
  });

  it('property: live allocations never overlap, stay in range and aligned, and freeing restores all space', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 6 }), fc.nat()), {
          maxLength: 200,
        }),
        (ops) => {
          const a = new IovaAllocator({
            ranges: [
              { start: 0n, end: 0x7fffffn },
              { start: 0x900000n, end: 0xffffffn },
            ],
            minAlign: PAGE,
          });
          const total = a.freeBytes;
          const live: Array<{ start: bigint; end: bigint }> = [];
          for (const [doAlloc, pages, alignLog, pick] of ops) {
            if (doAlloc || live.length === 0) {
              const size = BigInt(pages) * PAGE;
              const align = PAGE << BigInt(alignLog);
              let iova: bigint;
              try {
                iova = a.alloc(size, align);
              } catch {
                continue;
              }
              expect(iova % align).toBe(0n);
              const ok = (iova >= PAGE && iova + size <= 0x800000n) || (iova >= 0x900000n && iova + size <= 0x1000000n);
              expect(ok).toBe(true);
              for (const l of live) expect(iova + size <= l.start || iova >= l.end).toBe(true);
              live.push({ start: iova, end: iova + size });
            } else {
              const [l] = live.splice(pick % live.length, 1);
              a.free(l.start);
            }
          }
          for (const l of live) a.free(l.start);
          expect(a.freeBytes).toBe(total);
          expect(a.freeSpans.length).toBe(2);
        },
      ),
      { numRuns: 300 },
    );
  });
});
