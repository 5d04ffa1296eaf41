import { expectThrown } from '../../support/thrown.js';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IovaAllocator } from '../../../src/iommu/iova-allocator.js';

// Sizes and alignments are numbers, addresses bigints.
const PAGE = 4096;
const PAGE_N = 4096n;
// What emulated VT-d reports: everything below 39 bits except the x86 MSI window.
const VTD = [
  { start: 0n, end: 0xfedfffffn },
  { start: 0xfef00000n, end: 0x7fffffffffn },
];

describe('IovaAllocator', () => {
  it('never hands out the MSI window, and skips IOVA 0', () => {
    const a = new IovaAllocator({ ranges: VTD, minAlign: PAGE });
    expect(a.freeSpans[0].start).toBe(PAGE_N);
    // Fill the first range exactly, then the next allocation must start above the hole.
    const first = a.alloc(0xfee00000 - PAGE);
    expect(first).toBe(PAGE_N);
    expect(a.alloc(PAGE)).toBe(0xfef00000n);
    expect(() => a.reserve(0xfee00000n, PAGE)).toThrow(/not free: it is outside the IOMMU's valid ranges/);
  });

  it('honours a 28-bit device (edu without dma_mask)', () => {
    const a = new IovaAllocator({ ranges: VTD, minAlign: PAGE, addressBits: 28 });
    expect(a.totalBytes).toBe(2 ** 28 - PAGE);
    const big = a.alloc(2 ** 28 - PAGE);
    expect(big + (1n << 28n) - PAGE_N).toBe(1n << 28n);
    expect(() => a.alloc(PAGE)).toThrow(/no free IOVA range of 0x1000 bytes/);
    expect(() => a.reserve(1n << 28n, PAGE)).toThrow(/above the device's DMA limit 0x10000000/);
  });

  it('aligns to the requested alignment (hugepages) and the IOMMU page', () => {
    const a = new IovaAllocator({ ranges: VTD, minAlign: PAGE });
    a.alloc(PAGE);
    const huge = a.alloc(2 << 20, 2 << 20);
    expect(huge % (2n << 20n)).toBe(0n);
    expect(a.alloc(1) % PAGE_N).toBe(0n); // rounded up to a page
    expect(() => a.alloc(PAGE, 3000)).toThrow(/power of two/);
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
    expect(() => a.alloc(2 * PAGE)).not.toThrow(); // from the tail
    a.free(xs[2]);
    a.free(xs[4]);
    // 1..5 are one span again: a 5-page block fits at xs[1]
    expect(a.alloc(5 * PAGE)).toBe(xs[1]);
    expect(() => a.free(xs[1] + PAGE_N)).toThrow(/not allocated/);
    a.free(xs[1]);
    expect(() => a.free(xs[1])).toThrow(/double free/);
  });

  it('refuses ranges outside the DMA window', () => {
    expect(
      () =>
        new IovaAllocator({ ranges: [{ start: 1n << 40n, end: (1n << 41n) - 1n }], minAlign: PAGE, addressBits: 32 }),
    ).toThrow(/no usable IOVA space/);
  });

  it('takes sizes and alignments as numbers and addresses as bigints, refusing the other with the method named', () => {
    const a = new IovaAllocator({ ranges: VTD, minAlign: PAGE });
    const js = a as unknown as Record<string, (...args: unknown[]) => unknown>;
    const NUMBERS =
      'sizes, lengths, offsets, counts and indexes are numbers (only addresses and 64-bit values are bigints)';
    const ALL = 'expected an integer from 1 to 9007199254740991';
    const rows: Array<[() => unknown, Error]> = [
      [() => js.alloc(4096n), new TypeError(`alloc size 4096n in the IOVA allocator: ${NUMBERS}: pass 4096`)],
      [() => js.alloc(1.5), new RangeError(`alloc size 1.5 in the IOVA allocator is not an integer: ${ALL}`)],
      [() => js.alloc(0), new RangeError(`alloc size 0 in the IOVA allocator is too small: ${ALL}`)],
      [() => js.alloc(PAGE, 8192n), new TypeError(`alloc align 8192n in the IOVA allocator: ${NUMBERS}: pass 8192`)],
      [() => js.alloc(PAGE, 3000), new RangeError('IOVA alignment must be a power of two, got 3000')],
      [
        () => js.alloc(PAGE, PAGE, 1 << 20),
        new TypeError(
          'alloc below 1048576 in the IOVA allocator: expected an address (a bigint), the IOVA the allocation must end at or below',
        ),
      ],
      [
        () => js.reserve(0x10000n, 4096n),
        new TypeError(`reserve size 4096n in the IOVA allocator: ${NUMBERS}: pass 4096`),
      ],
      [
        () => js.reserve(0x10000, PAGE),
        new TypeError('reserve iova 65536 in the IOVA allocator: expected an address (a bigint)'),
      ],
      [() => js.free(4096), new TypeError('free iova 4096 in the IOVA allocator: expected an address (a bigint)')],
      [
        () => new IovaAllocator({ ranges: VTD, minAlign: 4096n as unknown as number }),
        new TypeError(`IovaAllocator option minAlign 4096n in the IOVA allocator: ${NUMBERS}: pass 4096`),
      ],
    ];
    for (const [call, error] of rows) expectThrown(call, error); // kind, exact message, a code
    expect(a.count).toBe(0); // nothing was allocated by the refused calls
    expect(a.minAlign).toBe(PAGE);
    expect(a.freeBytes).toBe(a.totalBytes);
  });

  it('counts a 64-bit IOVA space exactly in a number (whole pages) and still allocates at its top', () => {
    const a = new IovaAllocator({ ranges: [{ start: 0n, end: 0xffff_ffff_ffff_ffffn }], minAlign: PAGE });
    expect(a.limit).toBe(1n << 64n);
    expect(a.totalBytes).toBe(2 ** 64 - 4096); // past 2^53, but a multiple of 4096: exact
    expect(BigInt(a.totalBytes)).toBe((1n << 64n) - PAGE_N);
    const top = a.reserve((1n << 64n) - PAGE_N, PAGE);
    expect(top).toBe(0xffff_ffff_ffff_f000n);
    expect(() => a.alloc(PAGE, PAGE, 1n << 12n)).toThrow(
      /no free IOVA range of 0x1000 bytes aligned to 0x1000 below 0x1000: 1 allocations hold 0x1000 of 0xfffffffffffff000 bytes/,
    );
    a.free(top);
    expect(a.count).toBe(0);
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
              const size = pages * PAGE;
              const align = PAGE * 2 ** alignLog;
              let iova: bigint;
              try {
                iova = a.alloc(size, align);
              } catch {
                continue;
              }
              const end = iova + BigInt(size);
              expect(iova % BigInt(align)).toBe(0n);
              const ok = (iova >= PAGE_N && end <= 0x800000n) || (iova >= 0x900000n && end <= 0x1000000n);
              expect(ok).toBe(true);
              for (const l of live) expect(end <= l.start || iova >= l.end).toBe(true);
              live.push({ start: iova, end });
              const held = live.reduce((n, l) => n + Number(l.end - l.start), 0);
              expect(a.freeBytes + held).toBe(total);
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
