// Fuzz: what the library reads back from the kernel through ioctls, with a fake kernel in place of
// src/sys's system calls (vi.mock): VFIO_IOMMU_GET_INFO through Type1Iommu.info()
// (src/iommu/type1.ts), IOMMU_IOAS_IOVA_RANGES through IommufdIoas.info() (src/iommu/iommufd.ts,
// with EMSGSIZE and any count), the device, region and irq info of src/vfio/device/info.ts, and
// VFIO_DEVICE_GET_PCI_HOT_RESET_INFO through hotResetPeers (src/vfio/device/hot-reset.ts, with
// ENOSPC and any count). The fake answers each call from a fuzzed script. Every call returns
// within the time bound or throws a coded error; what is returned comes from the bytes the kernel
// wrote, within the room it had. VFIO_TS_FUZZ_RUNS=100000 runs 100,000 scripts per property
// (replay: see test/support/fuzz.ts).
import { constants } from 'node:os';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { Type1Iommu, IommufdIoas } from '../../../../src/iommu/index.js';
import { readDeviceInfo, readIrqInfo, readRegionInfo } from '../../../../src/vfio/device/info.js';
import { hotResetPeers } from '../../../../src/vfio/device/hot-reset.js';
import type { Device } from '../../../../src/vfio/index.js';
import {
  iommu_ioas_iova_ranges,
  VFIO_API_VERSION,
  VFIO_DEVICE_FLAGS_RESET,
  SysError,
} from '../../../../structs/index.js';
import { REGION_SEED, TYPE1_SEED, hotResetSeed } from '../../../support/fuzz-seeds.js';
import { fuzzParams, mutated, outcome } from '../../../support/fuzz.js';

/** The fake kernel: `ioctl` answers every request (the test sets it per input); buffers by fake address. */
const fake = vi.hoisted(() => ({
  ioctl: (_name: string, _arg: unknown): number => 0,
  buffers: new Map<bigint, Uint8Array>(),
}));

vi.mock('../../../../src/sys/index.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../../src/sys/index.js')>()),
  sysOpen: () => 1000,
  sysClose: () => {},
  sysIoctl: (_fd: number, name: string, arg: unknown) => fake.ioctl(name, arg),
  // The kernel writes IOVA ranges through a user pointer: here, a key into fake.buffers.
  bufferAddress: (buf: Uint8Array) => {
    const key = BigInt(fake.buffers.size + 1) << 12n;
    fake.buffers.set(key, buf);
    return key;
  },
}));

const RUNS = 800;
const { EMSGSIZE } = constants.errno;

/**
 * Found by this test: page sizes 0 (type1) and an alignment of 0 (iommufd) taken as a 0-byte
 * minimum page; more ranges reported than the array holds, read from past its end (koffi's raw
 * Error); a room asked for on EMSGSIZE that sizes the array past 4 GiB (Node's RangeError).
 */
const NONE = { count: 0, bytes: new Uint8Array(0) };
const FOUND_TYPE1: Array<[Answer[]]> = [[[NONE]]];
const FOUND_IOMMUFD: Array<[Answer[], bigint]> = [
  [[NONE], 0n],
  [[{ count: 5, bytes: new Uint8Array(0) }], 4096n],
  [[{ errno: EMSGSIZE, count: 0xffffffff, bytes: new Uint8Array(0) }], 4096n],
];

/** One answer of the fake kernel: fail with `errno`, or fill the buffer with `bytes` and this `argsz`/count. */
interface Answer {
  errno?: number;
  count: number;
  bytes: Uint8Array;
}

const count = fc.oneof(fc.nat({ max: 8 }), fc.constantFrom(0x7fffffff, 0xffffffff), fc.nat({ max: 0xffffffff }));

const script = (seed: Uint8Array, errno: number) =>
  fc.array(
    fc.record({
      errno: fc.option(fc.constant(errno), { nil: undefined, freq: 3 }),
      count,
      bytes: fc.oneof(mutated({ bytes: seed }), fc.uint8Array({ maxLength: 128 })),
    }),
    { minLength: 1, maxLength: 5 },
  );

/**
 * Sets the fake to answer call i with script[i] (the last one again after the end); returns
 * outcome() for a call that replays the script from its start (outcome may run a call twice).
 */
function play(answers: Answer[], fill: (name: string, arg: unknown, a: Answer) => void) {
  let i = 0;
  fake.ioctl = (name, arg) => {
    if (name === 'VFIO_GET_API_VERSION') return VFIO_API_VERSION;
    if (name === 'VFIO_CHECK_EXTENSION') return 1;
    if (name === 'VFIO_SET_IOMMU' || name === 'IOMMU_IOAS_ALLOC' || name === 'IOMMU_DESTROY') return 0;
    const a = answers[Math.min(i++, answers.length - 1)];
    fill(name, arg, a);
    if (a.errno !== undefined) throw new SysError({ syscall: `ioctl(${name})`, errno: a.errno });
    return 0;
  };
  return <T>(fn: () => T): T | undefined =>
    outcome(() => {
      i = 0;
      fake.buffers.clear();
      return fn();
    });
}

/** Copies what fits of `bytes` into `buf` (the kernel never writes past what it was given). */
const copyIn = (buf: Uint8Array, bytes: Uint8Array) => buf.set(bytes.subarray(0, buf.length));

class TestType1 extends Type1Iommu {
  constructor() {
    super();
    this.setIommu();
  }
}

const isPowerOfTwo = (n: number) => Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;

describe('fuzz: info read back through ioctls', () => {
  it('Type1Iommu.info(): page sizes, ranges and dma_avail from VFIO_IOMMU_GET_INFO', () => {
    fc.assert(
      fc.property(script(TYPE1_SEED.bytes, constants.errno.EINVAL), (answers) => {
        const run = play(answers, (_name, buf, a) => {
          copyIn(buf as Uint8Array, a.bytes);
          (buf as Buffer).writeUInt32LE(a.count, 0);
        });
        const info = run(() => new TestType1().info());
        if (!info) return;
        expect(isPowerOfTwo(info.minPageSize)).toBe(true);
        expect(BigInt(info.minPageSize) & info.pageSizes).not.toBe(0n);
        expect(info.iovaRanges.length).toBeGreaterThan(0);
      }),
      fuzzParams(RUNS, FOUND_TYPE1),
    );
  });

  it('IommufdIoas.info(): only the ranges the array had room for, grown on EMSGSIZE', () => {
    fc.assert(
      fc.property(script(new Uint8Array(64), EMSGSIZE), fc.bigInt(0n, 2n ** 64n - 1n), (answers, align) => {
        let room = 0;
        const run = play(answers, (_name, arg, a) => {
          const buf = arg as Buffer;
          const array = fake.buffers.get(buf.readBigUInt64LE(iommu_ioas_iova_ranges.members!.allowed_iovas.offset))!;
          room = buf.readUInt32LE(iommu_ioas_iova_ranges.members!.num_iovas.offset);
          copyIn(array, a.bytes);
          buf.writeUInt32LE(a.count, iommu_ioas_iova_ranges.members!.num_iovas.offset);
          buf.writeBigUInt64LE(align, iommu_ioas_iova_ranges.members!.out_iova_alignment.offset);
        });
        const info = run(() => new IommufdIoas().info());
        if (!info) return;
        expect(info.iovaRanges.length).toBeLessThanOrEqual(room);
        expect(isPowerOfTwo(info.minPageSize)).toBe(true);
        expect(BigInt(info.minPageSize)).toBe(info.pageSizes);
      }),
      fuzzParams(RUNS, FOUND_IOMMUFD),
    );
  });

  it('device, region and irq info: decoded from what the kernel wrote', () => {
    fc.assert(
      fc.property(script(REGION_SEED.bytes, constants.errno.EINVAL), fc.nat({ max: 9 }), (answers, index) => {
        const run = play(answers, (_name, buf, a) => {
          const keep = (buf as Buffer).readUInt32LE(8); // the index the library asked about
          copyIn(buf as Uint8Array, a.bytes);
          (buf as Buffer).writeUInt32LE(a.count, 0);
          (buf as Buffer).writeUInt32LE(keep, 8);
        });
        const dev = run(() => readDeviceInfo(7, '0000:00:03.0'));
        if (dev) expect(dev.canReset).toBe((dev.flags & VFIO_DEVICE_FLAGS_RESET) !== 0);
        const region = run(() => readRegionInfo(7, '0000:00:03.0', index));
        if (region) expect(region.index).toBe(index);
        const irq = run(() => readIrqInfo(7, '0000:00:03.0', index));
        if (irq) expect(irq.index).toBe(index);
      }),
      fuzzParams(RUNS),
    );
  });

  it('hotResetPeers: peers only from inside the buffer the library sized, grown on ENOSPC', () => {
    const seed = hotResetSeed(0, [
      [5, 0, 0, 0x18],
      [7, 0, 1, 0],
    ]).bytes;
    const dev = {
      fd: 7,
      channel: { kernel: true },
      address: '0000:00:03.0',
      iommu: { sysfs: { iommuGroup: () => 5 } },
    } as unknown as Device;
    fc.assert(
      fc.property(script(seed, constants.errno.ENOSPC), (answers) => {
        let room = 0;
        const run = play(answers, (_name, buf, a) => {
          room = Math.floor(((buf as Buffer).length - 12) / 8);
          copyIn(buf as Uint8Array, a.bytes);
          if ((buf as Buffer).length >= 12) (buf as Buffer).writeUInt32LE(a.count, 8);
        });
        const peers = run(() => hotResetPeers(dev));
        if (!peers) return;
        expect(peers.length).toBeLessThanOrEqual(room);
        for (const p of peers) expect(p.address).toMatch(/^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$/);
      }),
      fuzzParams(RUNS),
    );
  });
});
