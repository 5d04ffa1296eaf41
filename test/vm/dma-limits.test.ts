// DMA refused with the reason and the fix, leaving nothing behind: hugepages that are not
// reserved, the container's dma_entry_limit, and a small RLIMIT_MEMLOCK for an unprivileged user.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openDevice } from '../../src/index.js';
import { testDevice } from './manifest.js';
import { backend, on, runsOn } from './backend.js';
import { lendToNobody, NOBODY } from './nobody.js';

describe('DMA limits', () => {
  it('hugepages beyond what is reserved give a clear error', () => {
    using dev = openDevice(testDevice('edu').bdf);
    const free = Number(readFileSync('/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages', 'utf8'));
    expect(() => dev.dma.alloc((free + 1) * (2 << 20), { hugepages: '2M' })).toThrow(
      new RegExp(`${free + 1} free 2M hugepages are needed and ${free} are free`),
    );
    expect(dev.dma.buffers).toBe(0);
  });

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
      using _lent = lendToNobody(files);
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', 'test/vm/fixtures/memlock-child.ts', edu.bdf, String(1 << 20)],
        { ...NOBODY, encoding: 'utf8', timeout: 150_000 },
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
    }, 180_000); // the child starts node with tsx: 7-10 s on x86-64, 23-60 s and more in the arm64 guest
  });
