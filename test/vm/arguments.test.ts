// Wrong calls from plain JavaScript against a real device: edu's BAR0 (mapped), its config
// region (pread/pwrite), its config space, and DMA buffers and pools of its IOMMU context. Each
// row is the call a JS caller would write and the exact message (or a precise regex) it must
// throw; nothing may reach the device. The rule and the format: src/sys/args.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VFIO_PCI_CONFIG_REGION_INDEX } from '../../structs/index.js';
import { openDevice, type DmaBuffer, type DmaPool, type DmaPoolEntry, type Device } from '../../src/index.js';
import { testDevice } from './manifest.js';
import { backend } from './backend.js';

const EDU_LIVENESS = 0x04; // reads back the complement of what was written
const EDU_DMA_SRC = 0x80;
const BAR0_SIZE = 0x100000;

/** What a JS caller holds: any method, any arguments. */
type Js = Record<string, (...args: unknown[]) => unknown>;
const js = (x: unknown): Js => x as Js;

const ERRORS: Record<string, ErrorConstructor> = { Error, TypeError, RangeError };
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const NUMBERS =
  'sizes, lengths, offsets, counts and indexes are numbers (only addresses and 64-bit values are bigints)';
const STALE = ': the IOVA is unmapped and may already belong to other memory; never give it to a device';

describe(`wrong arguments from plain JavaScript (${backend})`, () => {
  const edu = testDevice('edu');
  let dev: Device;
  let buf: DmaBuffer;
  let pool: DmaPool;
  let closedBuf: DmaBuffer;
  let closedIova: bigint;
  let closedPool: DmaPool;
  let closedEntry: DmaPoolEntry;
  let closedEntryIova: bigint;
  let closedDevice: Device;
  let closedRegion: Js;
  let dmaSrc: bigint;

  beforeAll(() => {
    // First the device that is closed (a cdev binds once at a time under iommufd).
    closedDevice = openDevice(edu.bdf);
    closedRegion = js(closedDevice.bar(0)); // open, then closed with its device
    closedDevice.close();
    dev = openDevice(edu.bdf);
    buf = dev.dma.alloc(4096);
    pool = dev.dma.pool(8, 512);
    closedBuf = dev.dma.alloc(4096);
    closedIova = closedBuf.iova;
    closedBuf.close();
    closedPool = dev.dma.pool(4, 1024);
    closedEntry = closedPool.alloc()!;
    closedEntryIova = closedEntry.iova;
    closedPool.close();
    dev.bar(0).write32(EDU_LIVENESS, 0x12345678);
    dmaSrc = dev.bar(0).read64(EDU_DMA_SRC);
  });
  afterAll(() => {
    closedDevice?.close();
    dev?.close();
  });

  const bar = (): Js => js(dev.bar(0));
  const B = (): string => `BAR0 of ${edu.bdf} (0x100000 bytes)`;
  const cfgRegion = (): Js => js(dev.region(VFIO_PCI_CONFIG_REGION_INDEX));
  // The config region as messages name it, from the region and from dev.config alike.
  const C = (): string => {
    const r = dev.region(VFIO_PCI_CONFIG_REGION_INDEX);
    return `config of ${edu.bdf} (0x${r.size.toString(16)} bytes)`;
  };
  const CTX = (): string => `in the DMA context of ${dev.dma.iommu.name}`;
  const BUF = (): string => `DMA buffer at IOVA 0x${buf.iova.toString(16)} (4 KiB)`;
  const POOL = 'DMA pool of 8 x 512 bytes';

  const ROWS: Array<[string, () => unknown, () => string | RegExp]> = [
    // Register values: wrong type, fraction, negative, wider than the access.
    [
      'bar0.write32(0x04, 2 ** 33)',
      () => bar().write32(0x04, 2 ** 33),
      () =>
        `VfioRangeError: write32 value 8589934592 (0x200000000) at 0x4 in ${B()} does not fit in 32 bits: expected an integer from 0 to 0xffffffff; nothing is truncated`,
    ],
    [
      'bar0.write32(0x04, ~0x12345678)',
      () => bar().write32(0x04, ~0x12345678),
      () =>
        `VfioRangeError: write32 value -305419897 (-0x12345679) at 0x4 in ${B()} does not fit in 32 bits: expected an integer from 0 to 0xffffffff; nothing is truncated; a negative from ~, | or << is made unsigned with (x >>> 0)`,
    ],
    [
      'bar0.write32(0x04, 1.5)',
      () => bar().write32(0x04, 1.5),
      () =>
        `VfioRangeError: write32 value 1.5 at 0x4 in ${B()} is not an integer: expected an integer from 0 to 0xffffffff`,
    ],
    [
      "bar0.write32(0x04, '5')",
      () => bar().write32(0x04, '5'),
      () =>
        `VfioTypeError: write32 value "5" (a string) at 0x4 in ${B()}: expected an integer from 0 to 0xffffffff (a number)`,
    ],
    [
      'bar0.write32(0x04, 5n)',
      () => bar().write32(0x04, 5n),
      () =>
        `VfioTypeError: write32 value 5n at 0x4 in ${B()}: 32-bit values are numbers (only 64-bit values are bigints): pass 5`,
    ],
    [
      'bar0.write32(0x04)',
      () => bar().write32(0x04),
      () =>
        `VfioTypeError: write32 value undefined at 0x4 in ${B()}: expected an integer from 0 to 0xffffffff (a number)`,
    ],
    [
      'bar0.write64(0x80, 4096)',
      () => bar().write64(0x80, 4096),
      () =>
        `VfioTypeError: write64 value 4096 at 0x80 in ${B()}: 64-bit values are bigints, not numbers: pass 4096n, or BigInt(x)`,
    ],
    [
      'bar0.write64(0x80, -1n)',
      () => bar().write64(0x80, -1n),
      () =>
        `VfioRangeError: write64 value -1n at 0x80 in ${B()} does not fit in 64 bits: expected a bigint from 0n to 0xffffffffffffffffn; nothing is truncated; a negative is made unsigned with BigInt.asUintN(64, x)`,
    ],
    [
      'bar0.write64(0x80, 2n ** 64n)',
      () => bar().write64(0x80, 2n ** 64n),
      () =>
        `VfioRangeError: write64 value 18446744073709551616n at 0x80 in ${B()} does not fit in 64 bits: expected a bigint from 0n to 0xffffffffffffffffn; nothing is truncated`,
    ],
    [
      'bar0.write8(0, 0x100)',
      () => bar().write8(0, 0x100),
      () =>
        `VfioRangeError: write8 value 256 (0x100) at 0x0 in ${B()} does not fit in 8 bits: expected an integer from 0 to 0xff; nothing is truncated`,
    ],
    // Offsets: wrong type, fraction, negative, out of range, misaligned.
    [
      'bar0.read32(1.5)',
      () => bar().read32(1.5),
      () => `VfioRangeError: read32 offset 1.5 in ${B()} is not an integer: expected a multiple of 4 from 0 to 0xffffc`,
    ],
    [
      "bar0.read32('4')",
      () => bar().read32('4'),
      () =>
        `VfioTypeError: read32 offset "4" (a string) in ${B()}: expected a multiple of 4 from 0 to 0xffffc (a number)`,
    ],
    ['bar0.read32(4n)', () => bar().read32(4n), () => `VfioTypeError: read32 offset 4n in ${B()}: ${NUMBERS}: pass 4`],
    [
      'bar0.read32(NaN)',
      () => bar().read32(NaN),
      () => `VfioRangeError: read32 offset NaN in ${B()} is not an integer: expected a multiple of 4 from 0 to 0xffffc`,
    ],
    [
      'bar0.read32(-4)',
      () => bar().read32(-4),
      () => `VfioRangeError: read32 of 4 bytes at -0x4 is outside ${B()}: expected a multiple of 4 from 0 to 0xffffc`,
    ],
    [
      'bar0.read32(0x100000)',
      () => bar().read32(BAR0_SIZE),
      () =>
        `VfioRangeError: read32 of 4 bytes at 0x100000 is outside ${B()}: expected a multiple of 4 from 0 to 0xffffc`,
    ],
    [
      'bar0.write8(0x100000, 0)',
      () => bar().write8(BAR0_SIZE, 0),
      () => `VfioRangeError: write8 of 1 bytes at 0x100000 is outside ${B()}: expected a byte offset from 0 to 0xfffff`,
    ],
    [
      'bar0.read32(2)',
      () => bar().read32(2),
      () =>
        `VfioRangeError: read32 of 4 bytes at 0x2 in ${B()} is not 4-byte aligned: device registers take aligned accesses only (expected a multiple of 4)`,
    ],
    [
      'bar0.read64(0x84)',
      () => bar().read64(0x84),
      () =>
        `VfioRangeError: read64 of 8 bytes at 0x84 in ${B()} is not 8-byte aligned: device registers take aligned accesses only (expected a multiple of 8)`,
    ],
    // Bulk copies and queries.
    [
      'bar0.readBytes(0xffff0, 32)',
      () => bar().readBytes(0xffff0, 32),
      () =>
        `VfioRangeError: readBytes of 32 bytes at 0xffff0 is outside ${B()}: expected a byte offset from 0 to 0xfffe0`,
    ],
    [
      'bar0.readBytes(0, -1)',
      () => bar().readBytes(0, -1),
      () => `VfioRangeError: readBytes length -1 in ${B()} is negative: expected a byte count from 0`,
    ],
    [
      'bar0.writeBytes(0, [1, 2, 3])',
      () => bar().writeBytes(0, [1, 2, 3]),
      () => `VfioTypeError: writeBytes data an array of 3 at 0x0 in ${B()}: expected a Uint8Array (a Buffer is one)`,
    ],
    [
      "bar0.isMapped('0')",
      () => bar().isMapped('0'),
      () =>
        `VfioTypeError: isMapped offset "0" (a string) in ${B()}: expected an integer from 0 to 9007199254740991 (a number)`,
    ],
    // The config region goes through pwrite: the same checks before the system call.
    [
      'config region write16(0x04, 0x10000)',
      () => cfgRegion().write16(0x04, 0x10000),
      () =>
        `VfioRangeError: write16 value 65536 (0x10000) at 0x4 in ${C()} does not fit in 16 bits: expected an integer from 0 to 0xffff; nothing is truncated`,
    ],
    [
      'dev.config.setCommand(0x10004)',
      () => dev.config.setCommand(0x10004),
      () =>
        `VfioRangeError: setCommand value 65540 (0x10004) at 0x4 in ${C()} does not fit in 16 bits: expected an integer from 0 to 0xffff; nothing is truncated`,
    ],
    [
      'dev.config.read32(0x3e)',
      () => dev.config.read32(0x3e),
      () =>
        `VfioRangeError: read32 of 4 bytes at 0x3e in ${C()} is not 4-byte aligned: device registers take aligned accesses only (expected a multiple of 4)`,
    ],
    // DMA sizes and counts are numbers.
    [
      'dev.dma.alloc(1.5)',
      () => js(dev.dma).alloc(1.5),
      () => `VfioRangeError: alloc size 1.5 ${CTX()} is not an integer: expected an integer from 1 to 9007199254740991`,
    ],
    [
      'dev.dma.alloc(4096n)',
      () => js(dev.dma).alloc(4096n),
      () => `VfioTypeError: alloc size 4096n ${CTX()}: ${NUMBERS}: pass 4096`,
    ],
    [
      'dev.dma.alloc(-4096)',
      () => js(dev.dma).alloc(-4096),
      () => `VfioRangeError: alloc size -4096 ${CTX()} is too small: expected an integer from 1 to 9007199254740991`,
    ],
    [
      "dev.dma.alloc('4096')",
      () => js(dev.dma).alloc('4096'),
      () =>
        `VfioTypeError: alloc size "4096" (a string) ${CTX()}: expected an integer from 1 to 9007199254740991 (a number)`,
    ],
    [
      "dev.dma.alloc(4096, { hugepages: '2MB' })",
      () => js(dev.dma).alloc(4096, { hugepages: '2MB' }),
      () =>
        `VfioTypeError: alloc option hugepages "2MB" (a string) ${CTX()}: expected one of '2M', '1G' (or leave it out)`,
    ],
    [
      'dev.dma.pool(8, 2048n)',
      () => js(dev.dma).pool(8, 2048n),
      () => `VfioTypeError: pool entrySize 2048n ${CTX()}: ${NUMBERS}: pass 2048`,
    ],
    [
      'dev.dma.pool(0.5, 64)',
      () => js(dev.dma).pool(0.5, 64),
      () => `VfioRangeError: pool count 0.5 ${CTX()} is not an integer: expected an integer from 1 to 4294967296`,
    ],
    // Buffers and pools: offsets and indexes.
    [
      'buf.view(4000, 200)',
      () => buf.view(4000, 200),
      () => `VfioRangeError: view of 200 bytes at 0xfa0 is outside ${BUF()}: expected a byte offset from 0 to 0xf38`,
    ],
    [
      'buf.iovaAt(4096)',
      () => buf.iovaAt(4096),
      () => `VfioRangeError: iovaAt offset 4096 of ${BUF()} is too large: expected an integer from 0 to 4095`,
    ],
    [
      'buf.iovaAt(-1)',
      () => buf.iovaAt(-1),
      () => `VfioRangeError: iovaAt offset -1 of ${BUF()} is too small: expected an integer from 0 to 4095`,
    ],
    [
      'buf.iovaAt(8n)',
      () => js(buf).iovaAt(8n),
      () => `VfioTypeError: iovaAt offset 8n of ${BUF()}: ${NUMBERS}: pass 8`,
    ],
    [
      'pool.entry(8)',
      () => pool.entry(8),
      () => `VfioRangeError: entry index 8 of ${POOL} is too large: expected an integer from 0 to 7`,
    ],
    [
      "pool.entry('0')",
      () => js(pool).entry('0'),
      () => `VfioTypeError: entry index "0" (a string) of ${POOL}: expected an integer from 0 to 7 (a number)`,
    ],
    // Use after close: the IOVA above all.
    [
      'closed buffer .iova',
      () => closedBuf.iova,
      () =>
        `VfioError: DMA buffer at IOVA 0x${closedIova.toString(16)} (4 KiB) was closed, so iova cannot be used${STALE}; allocate a new one`,
    ],
    [
      'closed buffer .iovaAt(0)',
      () => closedBuf.iovaAt(0),
      () =>
        `VfioError: DMA buffer at IOVA 0x${closedIova.toString(16)} (4 KiB) was closed, so iovaAt() cannot be used${STALE}; allocate a new one`,
    ],
    [
      'closed buffer .bytes',
      () => closedBuf.bytes,
      () =>
        `VfioError: DMA buffer at IOVA 0x${closedIova.toString(16)} (4 KiB) was closed, so bytes cannot be used; allocate a new one`,
    ],
    [
      'closed buffer .size',
      () => closedBuf.size,
      () =>
        `VfioError: DMA buffer at IOVA 0x${closedIova.toString(16)} (4 KiB) was closed, so size cannot be used; allocate a new one`,
    ],
    [
      'entry of a closed pool .iova',
      () => closedEntry.iova,
      () =>
        `VfioError: the pool of DMA pool entry 0 at IOVA 0x${closedEntryIova.toString(16)} was closed, so iova cannot be used${STALE}; allocate a new one`,
    ],
    [
      'entry of a closed pool .free()',
      () => closedEntry.free(),
      () =>
        `VfioError: the pool of DMA pool entry 0 at IOVA 0x${closedEntryIova.toString(16)} was closed, so free() cannot be used; allocate a new one`,
    ],
    [
      'closed pool .alloc()',
      () => closedPool.alloc(),
      () => 'VfioError: DMA pool of 4 x 1024 bytes was closed, so alloc() cannot be used; allocate a new pool',
    ],
    [
      'region of a closed device .read32(0)',
      () => closedRegion.read32(0),
      () => `VfioError: BAR0 of ${edu.bdf} is closed: open it again to use it`,
    ],
  ];

  for (const [call, fn, expected] of ROWS) {
    it(call, () => {
      // A row reads `VfioTypeError: message`: the class, then the exact message (or a regex of both).
      const want = expected();
      const [, kind, message] = /^(\w+): ([^]*)$/.exec(typeof want === 'string' ? want : want.source.slice(1))!;
      expect(fn).toThrow(ERRORS[kind]);
      expect(fn).toThrow(typeof want === 'string' ? new RegExp(`^${escape(message)}$`) : new RegExp(`^${message}`));
    });
  }

  it('none of them reached the device or left DMA memory behind', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(25);
    const bar0 = dev.bar(0);
    expect(bar0.read32(EDU_LIVENESS)).toBe(~0x12345678 >>> 0); // the last write that went through
    expect(bar0.read64(EDU_DMA_SRC)).toBe(dmaSrc);
    expect(dev.dma.buffers).toBe(2); // buf and pool: every failed alloc left nothing
    // Right calls at the edges still work.
    bar0.write32(EDU_LIVENESS, 0xffff_ffff);
    expect(bar0.read32(EDU_LIVENESS)).toBe(0);
    expect(buf.iovaAt(4095)).toBe(buf.iova + 4095n);
    expect(pool.entry(7).iova).toBe(pool.buffer.iova + 7n * 512n);
  });
});
