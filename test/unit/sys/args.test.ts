// Argument checks at the public API edge (src/sys/args.ts), as plain JavaScript meets them: a
// Region over a tmpfs file (src/vfio/region/region.ts; mapped, and through pwrite), DMA over a
// stand-in IOMMU (src/dma/), and config space over a buffer (src/pci/config-space.ts). Each
// wrong call must throw its exact type and message; right calls near the edges must still work.
// The same calls on a real device are in test/vm/arguments.test.ts.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_REGION_INFO_FLAG_READ,
  VFIO_REGION_INFO_FLAG_WRITE,
  type RegionInfo,
  isVfioError,
} from '../../../structs/index.js';
import { Region } from '../../../src/vfio/region/region.js';
import { KernelChannel } from '../../../src/vfio/device/kernel-channel.js';
import { Dma, type DmaBuffer, type DmaPool, type DmaPoolEntry } from '../../../src/dma/index.js';
import { ConfigSpace } from '../../../src/pci/index.js';
import type { Iommu } from '../../../src/iommu/index.js';
import { checkInteger, checkValue, checkValue64, describeArg } from '../../../src/sys/index.js';

/** `VfioTypeError: message` of what `fn` throws (marked when it lacks an ERR_VFIO_ code), or `no throw`. */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    const coded = isVfioError(e) ? '' : '(no ERR_VFIO_ code) ';
    return `${coded}${(e as Error).name}: ${(e as Error).message}`;
  }
  return 'no throw';
}

const BAR = 'BAR0 of 0000:00:03.0 (0x1000 bytes)';
const NUMBERS =
  'sizes, lengths, offsets, counts and indexes are numbers (only addresses and 64-bit values are bigints)';

describe('describeArg and the checks themselves', () => {
  it('shows an argument as a caller would recognise it', () => {
    expect([1.5, -2, NaN, 4096n, '4', true, undefined, null, [1, 2], {}, Symbol('s')].map(describeArg)).toEqual([
      '1.5',
      '-2',
      'NaN',
      '4096n',
      '"4" (a string)',
      'true (a boolean)',
      'undefined',
      'null',
      'an array of 2',
      'an object (Object)',
      'Symbol(s) (a symbol)',
    ]);
  });

  it('returns the value when it is right, at both ends of the range', () => {
    expect(checkValue('write8', BAR, 0, 0xff, 1)).toBe(0xff);
    expect(checkValue('write32', BAR, 0, 0, 4)).toBe(0);
    expect(checkValue('write32', BAR, 0, 0xffff_ffff, 4)).toBe(0xffff_ffff);
    expect(checkValue64('write64', BAR, 0, 0xffff_ffff_ffff_ffffn)).toBe(0xffff_ffff_ffff_ffffn);
    expect(checkInteger('n', 'here', 3, 1, 3)).toBe(3);
  });
});

describe('Region arguments (a tmpfs file as a 4 KiB region)', () => {
  let dir: string;
  let fd: number;
  /** The kernel's channel over the file: pread/pwrite and mmap at the region's offset. */
  let channel: KernelChannel;
  const info = (): RegionInfo => ({
    index: 0,
    flags: VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
    size: 0x1000n,
    offset: 0n,
    msixMappable: false,
    caps: [],
  });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vfio-ts-args-'));
    const file = join(dir, 'region');
    writeFileSync(file, Buffer.alloc(0x1000));
    fd = openSync(file, 'r+');
    channel = new KernelChannel(fd, '0000:00:03.0');
  });
  afterAll(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true });
  });

  // Plain JavaScript: no types stop these calls.
  type Js = Record<string, (...args: unknown[]) => unknown>;
  const ROWS: Array<[string, (r: Js) => unknown, string]> = [
    [
      'write32(4, 2 ** 33)',
      (r) => r.write32(4, 2 ** 33),
      `VfioRangeError: write32 value 8589934592 (0x200000000) at 0x4 in ${BAR} does not fit in 32 bits: expected an integer from 0 to 0xffffffff; nothing is truncated`,
    ],
    [
      'write32(4, ~0)',
      (r) => r.write32(4, ~0),
      `VfioRangeError: write32 value -1 at 0x4 in ${BAR} does not fit in 32 bits: expected an integer from 0 to 0xffffffff; nothing is truncated; a negative from ~, | or << is made unsigned with (x >>> 0)`,
    ],
    [
      'write16(2, 0x10000)',
      (r) => r.write16(2, 0x10000),
      `VfioRangeError: write16 value 65536 (0x10000) at 0x2 in ${BAR} does not fit in 16 bits: expected an integer from 0 to 0xffff; nothing is truncated`,
    ],
    [
      'write8(1, 256)',
      (r) => r.write8(1, 256),
      `VfioRangeError: write8 value 256 (0x100) at 0x1 in ${BAR} does not fit in 8 bits: expected an integer from 0 to 0xff; nothing is truncated`,
    ],
    [
      'write32(4, 0.5)',
      (r) => r.write32(4, 0.5),
      `VfioRangeError: write32 value 0.5 at 0x4 in ${BAR} is not an integer: expected an integer from 0 to 0xffffffff`,
    ],
    [
      'write32(4, 5n)',
      (r) => r.write32(4, 5n),
      `VfioTypeError: write32 value 5n at 0x4 in ${BAR}: 32-bit values are numbers (only 64-bit values are bigints): pass 5`,
    ],
    [
      'write32(4, "5")',
      (r) => r.write32(4, '5'),
      `VfioTypeError: write32 value "5" (a string) at 0x4 in ${BAR}: expected an integer from 0 to 0xffffffff (a number)`,
    ],
    [
      'read32(1.5)',
      (r) => r.read32(1.5),
      `VfioRangeError: read32 offset 1.5 in ${BAR} is not an integer: expected a multiple of 4 from 0 to 0xffc`,
    ],
    [
      'read32("4")',
      (r) => r.read32('4'),
      `VfioTypeError: read32 offset "4" (a string) in ${BAR}: expected a multiple of 4 from 0 to 0xffc (a number)`,
    ],
    ['read32(4n)', (r) => r.read32(4n), `VfioTypeError: read32 offset 4n in ${BAR}: ${NUMBERS}: pass 4`],
    [
      'read16(-2)',
      (r) => r.read16(-2),
      `VfioRangeError: read16 of 2 bytes at -0x2 is outside ${BAR}: expected a multiple of 2 from 0 to 0xffe`,
    ],
    [
      'read64(0x1000)',
      (r) => r.read64(0x1000),
      `VfioRangeError: read64 of 8 bytes at 0x1000 is outside ${BAR}: expected a multiple of 8 from 0 to 0xff8`,
    ],
    [
      'read32(2)',
      (r) => r.read32(2),
      `VfioRangeError: read32 of 4 bytes at 0x2 in ${BAR} is not 4-byte aligned: device registers take aligned accesses only (expected a multiple of 4)`,
    ],
    [
      'write64(0x80, 4096)',
      (r) => r.write64(0x80, 4096),
      `VfioTypeError: write64 value 4096 at 0x80 in ${BAR}: 64-bit values are bigints, not numbers: pass 4096n, or BigInt(x)`,
    ],
    [
      'write64(0x80, -1n)',
      (r) => r.write64(0x80, -1n),
      `VfioRangeError: write64 value -1n at 0x80 in ${BAR} does not fit in 64 bits: expected a bigint from 0n to 0xffffffffffffffffn; nothing is truncated; a negative is made unsigned with BigInt.asUintN(64, x)`,
    ],
    [
      'readBytes(0xff0, 32)',
      (r) => r.readBytes(0xff0, 32),
      `VfioRangeError: readBytes of 32 bytes at 0xff0 is outside ${BAR}: expected a byte offset from 0 to 0xfe0`,
    ],
    [
      'readBytes(0, -1)',
      (r) => r.readBytes(0, -1),
      `VfioRangeError: readBytes length -1 in ${BAR} is negative: expected a byte count from 0`,
    ],
    [
      'writeBytes(0, [1, 2])',
      (r) => r.writeBytes(0, [1, 2]),
      `VfioTypeError: writeBytes data an array of 2 at 0x0 in ${BAR}: expected a Uint8Array (a Buffer is one)`,
    ],
    [
      'isMapped(-1)',
      (r) => r.isMapped(-1),
      `VfioRangeError: isMapped offset -1 in ${BAR} is too small: expected an integer from 0 to 9007199254740991`,
    ],
  ];

  for (const mmap of [true, false]) {
    describe(mmap ? 'mapped' : 'through pread/pwrite', () => {
      it.each(ROWS)('%s throws its message and writes nothing', (_call, call, message) => {
        using region = new Region(channel, info(), 'BAR0 of 0000:00:03.0', { mmap });
        expect(region.isMapped(0, 0x1000)).toBe(mmap);
        region.writeBytes(0, new Uint8Array(0x1000));
        expect(thrown(() => call(region as unknown as Js))).toBe(message);
        expect(region.readBytes(0, 0x1000).every((b) => b === 0)).toBe(true);
      });

      it('takes the values at the edges of each width, -0 as 0, and Buffers for bulk writes', () => {
        using region = new Region(channel, info(), 'BAR0 of 0000:00:03.0', { mmap });
        region.write8(0xfff, 0xff);
        region.write16(0xffe - 2, 0xffff);
        region.write32(0, 0xffff_ffff);
        region.write32(4, -0);
        region.write64(8, 0xffff_ffff_ffff_ffffn);
        expect([region.read8(0xfff), region.read16(0xffc), region.read32(0), region.read32(4)]).toEqual([
          0xff, 0xffff, 0xffff_ffff, 0,
        ]);
        expect(region.read64(8)).toBe(0xffff_ffff_ffff_ffffn);
        region.writeBytes(0x10, Buffer.from([1, 2, 3]));
        expect([...region.readBytes(0x10, 3)]).toEqual([1, 2, 3]);
        expect(region.isMapped(0x2000)).toBe(false); // beyond the end is a plain no
        const file = Buffer.alloc(8);
        readSync(fd, file, 0, 8, 8);
        expect(file.readBigUInt64LE(0)).toBe(0xffff_ffff_ffff_ffffn); // the file saw exactly what was written
        region.writeBytes(0, new Uint8Array(0x1000));
      });
    });
  }

  it('a closed region says so whatever the arguments', () => {
    const region = new Region(channel, info(), 'BAR0 of 0000:00:03.0');
    region.close();
    expect(thrown(() => (region as unknown as Js).read32('x'))).toBe(
      'VfioError: BAR0 of 0000:00:03.0 is closed: open it again to use it',
    );
  });
});

describe('DMA arguments (a stand-in IOMMU: mapping is a no-op)', () => {
  // The stand-in maps nothing, but holds Dma to the rule: addresses bigint, sizes number.
  const rule = (iova: unknown, size: unknown): void => {
    if (typeof iova !== 'bigint' || typeof size !== 'number' || !Number.isSafeInteger(size))
      throw new Error(`stand-in IOMMU: got iova ${typeof iova}, size ${typeof size}`);
  };
  const iommu: Iommu = {
    kind: 'type1',
    name: 'stand-in IOMMU',
    closed: false,
    onClose: () => {},
    info: () => ({ pageSizes: 0x1000n, minPageSize: 0x1000, iovaRanges: [{ start: 0n, end: (1n << 39n) - 1n }] }),
    mapDma: (req) => rule(req.iova, req.size),
    unmapDma: (iova, size) => rule(iova, size),
  };
  const CTX = 'in the DMA context of stand-in IOMMU';
  let dma: Dma;
  beforeAll(() => {
    dma = new Dma(iommu);
  });
  afterAll(() => dma.close());

  type Js = Record<string, (...args: unknown[]) => unknown>;
  const js = (x: unknown): Js => x as Js;

  it.each<[string, () => unknown, string]>([
    [
      'alloc(1.5)',
      () => js(dma).alloc(1.5),
      `VfioRangeError: alloc size 1.5 ${CTX} is not an integer: expected an integer from 1 to 9007199254740991`,
    ],
    ['alloc(4096n)', () => js(dma).alloc(4096n), `VfioTypeError: alloc size 4096n ${CTX}: ${NUMBERS}: pass 4096`],
    [
      'alloc(0)',
      () => js(dma).alloc(0),
      `VfioRangeError: alloc size 0 ${CTX} is too small: expected an integer from 1 to 9007199254740991`,
    ],
    [
      "alloc(4096, { hugepages: '2MB' })",
      () => js(dma).alloc(4096, { hugepages: '2MB' }),
      `VfioTypeError: alloc option hugepages "2MB" (a string) ${CTX}: expected one of '2M', '1G' (or leave it out)`,
    ],
    [
      'pool(0, 64)',
      () => js(dma).pool(0, 64),
      `VfioRangeError: pool count 0 ${CTX} is too small: expected an integer from 1 to 4294967296`,
    ],
    ['pool(4, 64n)', () => js(dma).pool(4, 64n), `VfioTypeError: pool entrySize 64n ${CTX}: ${NUMBERS}: pass 64`],
  ])('%s', (_call, call, message) => {
    expect(thrown(call)).toBe(message);
    expect(dma.buffers).toBe(0); // nothing was left behind
  });

  it('buffer and pool arguments, then every property after close', () => {
    const buf: DmaBuffer = dma.alloc(8192);
    const pool: DmaPool = dma.pool(4, 1024);
    const e: DmaPoolEntry = pool.alloc()!;
    const B = `DMA buffer at IOVA 0x${buf.iova.toString(16)} (8 KiB)`;
    const P = 'DMA pool of 4 x 1024 bytes';
    expect(thrown(() => buf.view(8000, 400))).toBe(
      `VfioRangeError: view of 400 bytes at 0x1f40 is outside ${B}: expected a byte offset from 0 to 0x1e70`,
    );
    expect(thrown(() => js(buf).view(0, 1.5))).toBe(
      `VfioRangeError: view length 1.5 in ${B} is not an integer: expected a byte count`,
    );
    expect(thrown(() => buf.iovaAt(8192))).toBe(
      `VfioRangeError: iovaAt offset 8192 of ${B} is too large: expected an integer from 0 to 8191`,
    );
    expect(thrown(() => js(pool).entry('1'))).toBe(
      `VfioTypeError: entry index "1" (a string) of ${P}: expected an integer from 0 to 3 (a number)`,
    );
    expect(thrown(() => js(pool).free({}))).toBe(
      `VfioTypeError: free() of ${P} takes one of its entries, not an object (Object)`,
    );
    expect(buf.iovaAt(8191)).toBe(buf.iova + 8191n);
    expect(pool.entry(3).index).toBe(3);

    const iova = buf.iova;
    buf.close();
    pool.close();
    const stale = ': the IOVA is unmapped and may already belong to other memory; never give it to a device';
    const gone = `DMA buffer at IOVA 0x${iova.toString(16)} (8 KiB) was closed, so`;
    const rows: Array<[() => unknown, string]> = [
      [() => buf.iova, `VfioError: ${gone} iova cannot be used${stale}; allocate a new one`],
      [() => buf.iovaAt(0), `VfioError: ${gone} iovaAt() cannot be used${stale}; allocate a new one`],
      [() => buf.size, `VfioError: ${gone} size cannot be used; allocate a new one`],
      [() => buf.vaddr, `VfioError: ${gone} vaddr cannot be used; allocate a new one`],
      [() => buf.deviceWritable, `VfioError: ${gone} deviceWritable cannot be used; allocate a new one`],
      [() => buf.bytes, `VfioError: ${gone} bytes cannot be used; allocate a new one`],
      [() => buf.u32, `VfioError: ${gone} u32 cannot be used; allocate a new one`],
      [() => buf.u64, `VfioError: ${gone} u64 cannot be used; allocate a new one`],
      [() => buf.view(0, 1), `VfioError: ${gone} view() cannot be used; allocate a new one`],
    ];
    const entryGone = `the pool of DMA pool entry 0 at IOVA 0x${(iova + 0x2000n).toString(16)} was closed, so`;
    rows.push(
      [() => e.iova, `VfioError: ${entryGone} iova cannot be used${stale}; allocate a new one`],
      [() => e.bytes, `VfioError: ${entryGone} bytes cannot be used; allocate a new one`],
      [() => e.index, `VfioError: ${entryGone} index cannot be used; allocate a new one`],
      [() => e.pool, `VfioError: ${entryGone} pool cannot be used; allocate a new one`],
      [() => e.free(), `VfioError: ${entryGone} free() cannot be used; allocate a new one`],
      [() => pool.alloc(), `VfioError: ${P} was closed, so alloc() cannot be used; allocate a new pool`],
      [() => pool.entry(0), `VfioError: ${P} was closed, so entry() cannot be used; allocate a new pool`],
    );
    expect(rows.map(([f]) => thrown(f))).toEqual(rows.map(([, m]) => m));
    expect(buf.closed).toBe(true);
    expect(pool.available).toBe(0);
  });
});

describe('ConfigSpace arguments (a 256-byte buffer)', () => {
  const buf = Buffer.alloc(256);
  const cfg = new ConfigSpace({
    size: 256,
    read: (o, w) => (w === 1 ? buf.readUInt8(o) : w === 2 ? buf.readUInt16LE(o) : buf.readUInt32LE(o)),
    write: (o, w, v) =>
      void (w === 1 ? buf.writeUInt8(v, o) : w === 2 ? buf.writeUInt16LE(v, o) : buf.writeUInt32LE(v, o)),
  });
  const named = new ConfigSpace({ size: 256, name: 'config of 0000:00:03.0', read: () => 0, write: () => {} });
  const js = (x: unknown) => x as Record<string, (...args: unknown[]) => unknown>;

  it.each<[string, () => unknown, string]>([
    [
      'write16(4, 0x10000)',
      () => cfg.write16(4, 0x10000),
      'VfioRangeError: write16 value 65536 (0x10000) at 0x4 in the 256-byte config space does not fit in 16 bits: expected an integer from 0 to 0xffff; nothing is truncated',
    ],
    [
      'write8(0x3c, -1)',
      () => cfg.write8(0x3c, -1),
      'VfioRangeError: write8 value -1 at 0x3c in the 256-byte config space does not fit in 8 bits: expected an integer from 0 to 0xff; nothing is truncated; keep the low bits with (x & 0xff)',
    ],
    [
      'read32(254)',
      () => cfg.read32(254),
      'VfioRangeError: read32 of 4 bytes at 0xfe is outside the 256-byte config space: expected a multiple of 4 from 0 to 0xfc',
    ],
    [
      'read16("4")',
      () => js(cfg).read16('4'),
      'VfioTypeError: read16 offset "4" (a string) in the 256-byte config space: expected a multiple of 2 from 0 to 0xfe (a number)',
    ],
    [
      'setCommand(0x10004)',
      () => cfg.setCommand(0x10004),
      'VfioRangeError: setCommand value 65540 (0x10004) at 0x4 in the 256-byte config space does not fit in 16 bits: expected an integer from 0 to 0xffff; nothing is truncated',
    ],
    [
      'setCommandBits(0x10000, true)',
      () => cfg.setCommandBits(0x10000, true),
      'VfioRangeError: setCommandBits value 65536 (0x10000) at 0x4 in the 256-byte config space does not fit in 16 bits: expected an integer from 0 to 0xffff; nothing is truncated',
    ],
    [
      'named read32(1.5)',
      () => named.read32(1.5),
      'VfioRangeError: read32 offset 1.5 in config of 0000:00:03.0 (0x100 bytes) is not an integer: expected a multiple of 4 from 0 to 0xfc',
    ],
  ])('%s', (_call, call, message) => {
    buf.fill(0);
    expect(thrown(call)).toBe(message);
    expect(buf.every((b) => b === 0)).toBe(true);
  });
});
