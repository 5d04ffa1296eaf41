// DmaPool by index (allocIndex, freeIndex, bytesAt, iovaLow/iovaHigh; bench/host's driver loop
// uses them): the same entries as alloc(), in the same order, with the IOVA split exactly into
// the halves a descriptor holds, and the same refusals: an empty pool, a double free, an index
// that is not an entry, any use after close.
import { describe, expect, it } from 'vitest';
import { Dma, DmaBuffer, DmaPool } from '../../../src/dma/index.js';
import { Mapping } from '../../../src/sys/index.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../../structs/index.js';
import { STAND_IN_IOMMU } from '../../../bench/host/pool.js';

/** A pool over anonymous memory at `iova` (no IOMMU: the pool only does arithmetic on it). */
function poolAt(iova: bigint, count: number, entrySize: number): DmaPool {
  const m = new Mapping({
    length: count * entrySize,
    prot: PROT_READ | PROT_WRITE,
    flags: MAP_PRIVATE | MAP_ANONYMOUS,
  });
  return new DmaPool(new DmaBuffer(m, iova, true, () => m.close()), count, entrySize);
}

const thrown = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return String(e);
  }
  return 'nothing thrown';
};

describe('DmaPool by index', () => {
  it('hands out the entries alloc() would, in address order, and takes them back either way', () => {
    using dma = new Dma(STAND_IN_IOMMU);
    const pool = dma.pool(4, 2048);
    const a = pool.allocIndex();
    const b = pool.alloc()!;
    const c = pool.allocIndex();
    expect([a, b.index, c]).toEqual([0, 1, 2]);
    expect(pool.available).toBe(1);
    pool.bytesAt(c)[5] = 0x5a;
    expect(pool.entry(c).bytes[5]).toBe(0x5a);
    expect(pool.bytesAt(c).byteOffset - pool.bytesAt(a).byteOffset).toBe(2 * 2048);
    pool.freeIndex(b.index); // taken as an entry, given back by index
    pool.entry(a).free(); // and the other way round
    expect(pool.available).toBe(3);
    expect(pool.allocIndex()).toBe(0); // the last freed comes back first
    expect(thrown(() => b.free())).toBe('VfioError: DMA pool entry 1 freed twice');
  });

  it('splits each IOVA into the two 32-bit words a descriptor holds, above 4 GiB too', () => {
    using pool = poolAt(0x1_ffff_f000n, 4, 0x800);
    for (let i = 0; i < 4; i++) {
      const iova = pool.entry(i).iova;
      expect(iova).toBe(0x1_ffff_f000n + BigInt(i * 0x800));
      expect(pool.iovaLow(i)).toBe(Number(iova & 0xffff_ffffn));
      expect(pool.iovaHigh(i)).toBe(Number(iova >> 32n));
    }
    expect(pool.iovaHigh(1)).toBe(1);
    expect(pool.iovaLow(2)).toBe(0); // the entry that starts at 8 GiB
    expect(pool.iovaHigh(2)).toBe(2);
  });

  it('refuses an empty pool, a double free and what is not an entry, with the pool named', () => {
    using pool = poolAt(0x10000n, 2, 1024);
    const P = 'DMA pool of 2 x 1024 bytes';
    expect([pool.allocIndex(), pool.allocIndex(), pool.allocIndex()]).toEqual([0, 1, -1]);
    pool.freeIndex(1);
    expect(thrown(() => pool.freeIndex(1))).toBe('VfioError: DMA pool entry 1 freed twice');
    const js = pool as unknown as Record<string, (i: unknown) => unknown>;
    expect(thrown(() => js.freeIndex(2))).toBe(
      `VfioRangeError: entry index 2 of freeIndex() of ${P} is too large: expected an integer from 0 to 1`,
    );
    expect(thrown(() => js.freeIndex('0'))).toBe(
      `VfioTypeError: entry index "0" (a string) of freeIndex() of ${P}: expected an integer from 0 to 1 (a number)`,
    );
    expect(thrown(() => js.iovaLow(-1))).toBe(
      `VfioRangeError: entry index -1 of iovaLow() of ${P} is too small: expected an integer from 0 to 1`,
    );
    expect(thrown(() => js.iovaHigh(0.5))).toBe(
      `VfioRangeError: entry index 0.5 of iovaHigh() of ${P} is not an integer: expected an integer from 0 to 1`,
    );
    expect(thrown(() => js.bytesAt(7))).toBe(
      `VfioRangeError: entry index 7 of bytesAt() of ${P} is too large: expected an integer from 0 to 1`,
    );
    expect(pool.available).toBe(1); // none of it changed the free stack
  });

  it('refuses every index method once the pool is closed', () => {
    const pool = poolAt(0x10000n, 2, 1024);
    const a = pool.allocIndex();
    pool.close();
    const closed = (what: string) =>
      `VfioError: DMA pool of 2 x 1024 bytes was closed, so ${what} cannot be used; allocate a new pool`;
    expect(thrown(() => pool.allocIndex())).toBe(closed('allocIndex()'));
    expect(thrown(() => pool.freeIndex(a))).toBe(closed('freeIndex()'));
    expect(thrown(() => pool.bytesAt(a))).toBe(closed('bytesAt()'));
    expect(thrown(() => pool.iovaLow(a))).toBe(closed('iovaLow()'));
    expect(thrown(() => pool.iovaHigh(a))).toBe(closed('iovaHigh()'));
  });
});
