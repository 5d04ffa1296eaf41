// DMA through edu's engine: round trips through plain, pool, indexed and hugepage buffers;
// read-only buffers, unmapped IOVAs and identity IOVAs against the IOMMU. At scale (10,000
// cycles, 4 GiB): dma-scale.test.ts.
import { randomFillSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDevice, type DmaBuffer, type Device } from '../../src/index.js';
import { Mapping } from '../../src/sys/index.js';
import { MAP_ANONYMOUS, MAP_POPULATE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../structs/index.js';
import { expectThrown } from '../support/thrown.js';
import { testDevice } from './manifest.js';
import { on, runsOn } from './backend.js';
import { physicalAddressOf } from '../../src/iommu/index.js';
import { dmaToDevice, dmaToRam } from './edu-dma.js';

const NUMBERS =
  'sizes, lengths, offsets, counts and indexes are numbers (only addresses and 64-bit values are bigints)';

// (size, offset in the source buffer, offset in edu's buffer, offset in the destination buffer)
const CASES: Array<[number, number, number, number]> = [
  [1, 0, 0, 0],
  [7, 3, 5, 1],
  [64, 100, 64, 200],
  [255, 1, 3000, 77],
  [1000, 3095, 123, 4095],
  [2048, 2048, 2047, 1],
  [4095, 1, 0, 0],
];

describe('DMA with edu', () => {
  const edu = testDevice('edu');
  let dev: Device;

  beforeAll(() => {
    dev = openDevice(edu.bdf);
  });
  afterAll(() => dev?.close());

  function roundTrip(
    src: Uint8Array,
    srcIova: bigint,
    dst: Uint8Array,
    dstIova: bigint,
    [size, so, devo, doff]: (typeof CASES)[number],
  ): void {
    const data = randomFillSync(new Uint8Array(size));
    src.set(data, so);
    dst.fill(0xa5);
    dmaToDevice(dev.bar(0), srcIova + BigInt(so), devo, size);
    dmaToRam(dev.bar(0), devo, dstIova + BigInt(doff), size);
    expect(dst.subarray(doff, doff + size)).toEqual(data);
    // The device wrote exactly `size` bytes: the bytes on either side are untouched.
    if (doff > 0) expect(dst[doff - 1]).toBe(0xa5);
    if (doff + size < dst.length) expect(dst[doff + size]).toBe(0xa5);
  }

  it('round-trips random data RAM -> device -> RAM through plain buffers', () => {
    using a = dev.dma.alloc(8192);
    using b = dev.dma.alloc(8192);
    expect(a.iova % 4096n).toBe(0n);
    expect(a.iova).not.toBe(b.iova);
    for (const c of CASES) roundTrip(a.bytes, a.iova, b.bytes, b.iova, c);
  });

  it('round-trips through pool buffers', () => {
    using pool = dev.dma.pool(8, 8192);
    const x = pool.alloc()!;
    const y = pool.alloc()!;
    expect(y.iova - x.iova).toBe(8192n);
    for (const c of CASES.slice(0, 4)) roundTrip(x.bytes, x.iova, y.bytes, y.iova, c);
    x.free();
    y.free();
    expect(pool.available).toBe(8);
  });

  it('round-trips through pool entries taken by index, at the IOVA their two halves make', () => {
    using pool = dev.dma.pool(8, 8192);
    const x = pool.allocIndex();
    const y = pool.allocIndex();
    const iova = (i: number) => (BigInt(pool.iovaHigh(i)) << 32n) | BigInt(pool.iovaLow(i));
    expect(iova(x)).toBe(pool.buffer.iova);
    expect(iova(y) - iova(x)).toBe(8192n);
    for (const c of CASES.slice(0, 4)) roundTrip(pool.bytesAt(x), iova(x), pool.bytesAt(y), iova(y), c);
    pool.freeIndex(x);
    pool.freeIndex(y);
    expect(pool.available).toBe(8);
  });

  it('round-trips through a 2 MiB hugepage buffer', () => {
    using h = dev.dma.alloc(2 << 20, { hugepages: '2M' });
    expect(h.size).toBe(2 << 20);
    expect(h.iova % (2n << 20n)).toBe(0n);
    const far = 1 << 20; // the second half of the hugepage
    for (const c of CASES.slice(2, 6)) roundTrip(h.bytes, h.iova, h.view(far, 8192), h.iova + BigInt(far), c);
  });

  if (runsOn('type1', 'iommufd'))
    it(`writes seen by the device stay out of read-only buffers${on('type1', 'iommufd')}`, () => {
      using ro = dev.dma.alloc(4096, { deviceReadOnly: true });
      using rw = dev.dma.alloc(4096);
      ro.bytes.fill(0x11);
      rw.bytes.fill(0x22);
      dmaToDevice(dev.bar(0), ro.iova, 0, 64); // the device may read it
      dmaToRam(dev.bar(0), 0, rw.iova, 64);
      expect(rw.bytes.subarray(0, 64).every((v) => v === 0x11)).toBe(true);
      rw.bytes.fill(0x33);
      dmaToDevice(dev.bar(0), rw.iova, 0, 64);
      dmaToRam(dev.bar(0), 0, ro.iova, 64); // blocked by the IOMMU
      expect(ro.bytes.subarray(0, 64).every((v) => v === 0x11)).toBe(true);
    });

  if (runsOn('type1', 'iommufd'))
    it(`after unmap, the IOMMU blocks device DMA to the old IOVA and the library keeps working${on('type1', 'iommufd')}`, () => {
      const container = dev.iommu;
      const mem = new Mapping({
        length: 4096,
        prot: PROT_READ | PROT_WRITE,
        flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
      });
      try {
        const iova = 0x4000_0000n;
        // Sizes are numbers, addresses bigints: the wrong kind is refused before the kernel is asked.
        const js = container as unknown as Record<string, (...args: unknown[]) => unknown>;
        const at = `in ${container.name}`;
        const req = { vaddr: mem.address, iova, size: 4096, readable: true, writable: true };
        const refused: Array<[() => unknown, Error]> = [
          [() => js.mapDma({ ...req, size: 4096n }), new TypeError(`mapDma size 4096n ${at}: ${NUMBERS}: pass 4096`)],
          [
            () => js.mapDma({ ...req, iova: 0x4000_0000 }),
            new TypeError(
              `mapDma iova 1073741824 ${at}: addresses (IOVA, virtual, physical) are bigints: pass 1073741824n, or BigInt(x)`,
            ),
          ],
          [
            () => js.mapDma(undefined),
            new TypeError(`mapDma request undefined ${at}: expected { vaddr, iova, size, readable, writable }`),
          ],
        ];
        for (const [call, error] of refused) expectThrown(call, error); // kind, exact message, a code
        container.mapDma(req);
        expectThrown(() => js.unmapDma(iova, 4096n), new TypeError(`unmapDma size 4096n ${at}: ${NUMBERS}: pass 4096`));
        expectThrown(
          () => js.unmapDma(iova, 4096.5),
          new RangeError(
            `unmapDma size 4096.5 ${at} is not an integer: expected an integer from 1 to 9007199254740991`,
          ),
        );
        using src = dev.dma.alloc(4096);
        src.bytes.fill(0x5a);
        dmaToDevice(dev.bar(0), src.iova, 0, 256);
        dmaToRam(dev.bar(0), 0, iova, 256);
        expect(mem.u8[0]).toBe(0x5a); // reachable while mapped
        container.unmapDma(iova, 4096); // the refused calls above left the mapping whole
        mem.u8.fill(0xc3);
        dmaToRam(dev.bar(0), 0, iova, 256);
        expect(mem.u8.subarray(0, 256).every((v) => v === 0xc3)).toBe(true);
        using again = dev.dma.alloc(4096);
        dmaToRam(dev.bar(0), 0, again.iova, 256);
        expect(again.bytes[255]).toBe(0x5a);
      } finally {
        mem.close();
      }
    });

  if (runsOn('noiommu'))
    it(`the IOVA is the buffer's physical address, and the device wrote there${on('noiommu')}`, () => {
      using buf = dev.dma.alloc(4096);
      // An independent reading of /proc/self/pagemap for the same memory.
      expect(buf.iova).toBe(physicalAddressOf(buf.vaddr, 4096));
      expectThrown(
        () => physicalAddressOf(buf.vaddr, 4096n as unknown as number),
        new TypeError(`physicalAddressOf size 4096n at 0x${buf.vaddr.toString(16)}: ${NUMBERS}: pass 4096`),
      );
      expect(buf.iova).toBeLessThan(6n << 30n); // inside the guest's RAM
      using src = dev.dma.alloc(4096);
      src.bytes.fill(0x6b);
      dmaToDevice(dev.bar(0), src.iova, 0, 100);
      buf.bytes.fill(0);
      dmaToRam(dev.bar(0), 0, buf.iova, 100);
      expect(buf.bytes.subarray(0, 100).every((v) => v === 0x6b)).toBe(true);
      expect(buf.bytes[100]).toBe(0);
      // A multi-page buffer is physically contiguous: hugepage-backed by default here.
      using big = dev.dma.alloc(64 * 1024);
      expect(big.size).toBe(2 << 20);
      expect(big.iova).toBe(physicalAddressOf(big.vaddr, big.size));
      expect(() => dev.dma.alloc(4096, { deviceReadOnly: true })).toThrow(
        /deviceReadOnly cannot be enforced without an IOMMU/,
      );
      expect(() => dev.dma.alloc(4096, { iova: 'identity' })).toThrow(/identity IOVA does not apply/);
    });

  if (runsOn('type1', 'iommufd'))
    it(`identity IOVA follows the IOMMU's ranges: accepted inside them, refused with the reason outside${on('type1', 'iommufd')}`, () => {
      // Whether a process address is a valid IOVA depends on the IOMMU's aperture (VT-d: 39
      // bits, below any mmap; SMMUv3: 48 bits, around it): the expectation comes from what it reports.
      const { iovaRanges } = dev.dma.info();
      const inside = (a: bigint, n: number) => iovaRanges.some((r) => a >= r.start && a + BigInt(n) - 1n <= r.end);
      const hex = (x: bigint) => `0x${x.toString(16)}`;
      let buf: DmaBuffer | undefined;
      let err: Error | undefined;
      try {
        buf = dev.dma.alloc(4096, { iova: 'identity' });
      } catch (e) {
        err = e as Error;
      }
      if (buf) {
        using b = buf;
        expect(b.iova).toBe(b.vaddr);
        expect(inside(b.iova, 4096)).toBe(true);
        using src = dev.dma.alloc(4096);
        src.bytes.fill(0x3c);
        dmaToDevice(dev.bar(0), src.iova, 0, 128);
        dmaToRam(dev.bar(0), 0, b.iova, 128);
        expect(b.bytes.subarray(0, 128).every((v) => v === 0x3c)).toBe(true);
      } else {
        const vaddr = BigInt(/virtual address (0x[0-9a-f]+)\+/.exec(err!.message)![1]);
        expect(inside(vaddr, 4096)).toBe(false);
        expect(err!.message).toContain(
          `identity IOVA impossible: the buffer's virtual address ${hex(vaddr)}+0x1000 is not a valid IOVA here`,
        );
        expect(err!.message).toContain(
          `IOMMU ranges: ${iovaRanges.map((r) => `${hex(r.start)}-${hex(r.end)}`).join(', ')}`,
        );
      }
      expect(dev.dma.buffers).toBe(0); // nothing left behind
    });
});
