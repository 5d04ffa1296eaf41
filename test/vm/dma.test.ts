import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Container, openDevice, type DmaBuffer, type Device } from '../../src/index.js';
import { libc } from '../../src/sys/libc.js';
import { lockedBytes, Mapping } from '../../src/sys/index.js';
import { IOCTLS, MAP_ANONYMOUS, MAP_POPULATE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../structs/index.js';
import { expectThrown } from '../support/thrown.js';
import { testDevice } from './manifest.js';
import { backend, on, runsOn } from './backend.js';
import { physicalAddressOf } from '../../src/iommu/index.js';
import { dmaToDevice, dmaToRam } from './edu-dma.js';
import { openFdCount, resourceFootprint } from '../support/fd-count.js';

const NUMBERS =
  'sizes, lengths, offsets, counts and indexes are numbers (only addresses and 64-bit values are bigints)';

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

  it('hugepages beyond what is reserved give a clear error', () => {
    const free = Number(readFileSync('/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages', 'utf8'));
    expect(() => dev.dma.alloc((free + 1) * (2 << 20), { hugepages: '2M' })).toThrow(
      new RegExp(`${free + 1} free 2M hugepages are needed and ${free} are free`),
    );
    expect(dev.dma.buffers).toBe(0);
  });
});

describe('DMA limits', () => {
  it('1 GiB hugepages that are not reserved give the same clear error', () => {
    using dev = openDevice(testDevice('edu').bdf);
    const sysfs = '/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages';
    const free = existsSync(sysfs) ? readFileSync(sysfs, 'utf8').trim() : 'none (this page size is not supported here)';
    expect(() => dev.dma.alloc(1 << 30, { hugepages: '1G' })).toThrow(
      `1 free 1G hugepages are needed and ${free} are free: reserve more`,
    );
    expect(dev.dma.buffers).toBe(0);
  });

  if (runsOn('type1'))
    it(`when the kernel runs out of mappings (dma_entry_limit), the error names the limit${on('type1')}`, () => {
      // The limit is read when a container is opened: lower it, open, restore.
      const param = '/sys/module/vfio_iommu_type1/parameters/dma_entry_limit';
      const saved = readFileSync(param, 'utf8').trim();
      writeFileSync(param, '8');
      let dev: ReturnType<typeof openDevice>;
      try {
        dev = openDevice(testDevice('edu').bdf);
      } finally {
        writeFileSync(param, saved);
      }
      try {
        expect(dev.dma.info().dmaAvail).toBe(8);
        const held = Array.from({ length: 8 }, () => dev.dma.alloc(4096));
        expect(dev.dma.info().dmaAvail).toBe(0);
        let err: Error | undefined;
        try {
          dev.dma.alloc(4096);
        } catch (e) {
          err = e as Error;
        }
        expect(err?.message).toMatch(
          /ioctl\(VFIO_IOMMU_MAP_DMA\) on .* failed: ENOSPC .*no DMA mapping left \(dma_avail 0; the vfio_iommu_type1 dma_entry_limit, 65535 by default, counts mappings; this context holds 8\): use pools or hugepages/,
        );
        expect(dev.dma.buffers).toBe(8); // the failed one left nothing behind
        held.pop()!.close();
        using again = dev.dma.alloc(4096); // room again
        expect(again.iova % 4096n).toBe(0n);
      } finally {
        dev.close();
      }
    });
});

// No-IOMMU DMA needs CAP_SYS_RAWIO and physical addresses (CAP_SYS_ADMIN): root only.
if (runsOn('type1', 'iommufd'))
  describe('DMA for an unprivileged user with a small RLIMIT_MEMLOCK', () => {
    it(`gets the locked-memory error with the limit and the fix, not a bare ENOMEM${on('type1', 'iommufd')}`, () => {
      const edu = testDevice('edu');
      // What a deployment gives a service user: the group file, or the iommufd and the cdev.
      const files = backend === 'iommufd' ? ['/dev/iommu', edu.cdev!] : [`/dev/vfio/${edu.group}`];
      const owners = files.map((f) => statSync(f));
      for (const f of files) chownSync(f, 65534, 65534);
      try {
        const out = execFileSync(
          process.execPath,
          ['--import', 'tsx', 'test/vm/fixtures/memlock-child.ts', edu.bdf, String(1 << 20)],
          {
            uid: 65534,
            gid: 65534,
            encoding: 'utf8',
            env: { ...process.env, HOME: '/tmp' },
            timeout: 150_000,
          },
        );
        const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, string | number>;
        expect(r.uid).toBe(65534);
        expect(r.memlock).toBe(String(1 << 20));
        expect(r.small).toMatch(/^ok iova=0x/);
        expect(r.large).toMatch(
          /pinning 64 MiB for DMA would pass the locked-memory limit: RLIMIT_MEMLOCK is 1 MiB and \d+(\.\d)? (B|[KMG]iB) are already locked\./,
        );
        expect(r.large).toMatch(/ulimit -l/);
        expect(r.large).not.toMatch(/^ENOMEM/);
        expect(r.largeCode).toBe('ERR_VFIO_MEMLOCK');
      } finally {
        files.forEach((f, i) => chownSync(f, owners[i].uid, owners[i].gid));
      }
    }, 180_000); // the child starts node with tsx: 7-10 s on x86-64, 23-60 s and more in the arm64 guest
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
