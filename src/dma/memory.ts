/** Page-aligned, populated process memory for DMA: anonymous pages or 2 MiB / 1 GiB hugepages. */
import { readFileSync } from 'node:fs';
import {
  MADV_DONTFORK,
  MAP_ANONYMOUS,
  MAP_HUGETLB,
  MAP_HUGE_1GB,
  MAP_HUGE_2MB,
  MAP_POPULATE,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  SysError,
  VfioError,
  VfioErrorCode,
} from '../../structs/index.js';
import { Mapping, pageSize, sharedMemory, sysMadvise } from '../sys/index.js';
import type { Iommu } from '../iommu/index.js';
import { checkMemlock } from './limits.js';

/** A hugepage size: 2 MiB or 1 GiB (pages of that size must be reserved in the kernel). */
export type HugePageSize = '2M' | '1G';

const HUGE = {
  '2M': { bytes: 2 ** 21, flag: MAP_HUGE_2MB, sysfs: 'hugepages-2048kB' },
  '1G': { bytes: 2 ** 30, flag: MAP_HUGE_1GB, sysfs: 'hugepages-1048576kB' },
} as const;

/** The page size in bytes backing memory of this kind. */
export function backingPageSize(huge: HugePageSize | undefined): number {
  return huge ? HUGE[huge].bytes : pageSize();
}

function freeHugepages(huge: HugePageSize): string {
  try {
    return readFileSync(`/sys/kernel/mm/hugepages/${HUGE[huge].sysfs}/free_hugepages`, 'utf8').trim();
  } catch {
    return 'none (this page size is not supported here)';
  }
}

/**
 * Maps `size` bytes (a multiple of the backing page size) of private memory, populated so the
 * IOMMU pins real pages, and excluded from fork so a child cannot break the pinning by
 * copy-on-write.
 */
export function mapDmaMemory(size: number, huge: HugePageSize | undefined): Mapping {
  const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | (huge ? MAP_HUGETLB | HUGE[huge].flag : 0);
  let m: Mapping;
  try {
    m = new Mapping({
      length: size,
      prot: PROT_READ | PROT_WRITE,
      flags,
      target: huge ? `${huge} hugepage DMA memory` : 'DMA memory',
    });
  } catch (e) {
    if (huge && e instanceof SysError && (e.errnoName === 'ENOMEM' || e.errnoName === 'EINVAL')) {
      const need = size / HUGE[huge].bytes;
      throw e.withHint(
        `${need} free ${huge} hugepages are needed and ${freeHugepages(huge)} are free: reserve more (as root: echo N > /sys/kernel/mm/hugepages/${HUGE[huge].sysfs}/nr_hugepages, or hugepages=N on the kernel command line)`,
        { syscall: 'mmap(MAP_HUGETLB)', target: `${size} bytes of ${huge} hugepages` },
      );
    }
    if (!huge && e instanceof SysError && e.errnoName === 'ENOMEM') {
      throw e.withHint(
        'the machine has not that much free memory to populate now (DMA memory is faulted in at allocation, so the IOMMU pins real pages): allocate less, or free memory',
        { target: `${size} bytes of DMA memory` },
      );
    }
    throw e;
  }
  // A refusal is not fatal: the memory works, and a fork would only share it copy-on-write.
  sysMadvise(m.address, m.length, MADV_DONTFORK);
  return m;
}

/** `n` rounded up to a multiple of `page` (a power of two; exact for sizes up to 2^53). */
export function roundUp(n: number, page: number): number {
  return Math.ceil(n / page) * page;
}

/**
 * The memory of a buffer: private and populated, or, for an IOMMU in another process
 * (vfio-user, `iommu.sharesMemory`), a memfd mapped shared, whose descriptor goes with the map
 * request. `where` names the DMA context in errors.
 */
export function bufferMemory(
  bytes: number,
  huge: HugePageSize | undefined,
  iommu: Iommu,
  where: string,
): { memory: Mapping; fd?: number } {
  if (!iommu.sharesMemory) {
    checkMemlock(bytes);
    return { memory: mapDmaMemory(bytes, huge) };
  }
  if (huge)
    throw new VfioError(
      VfioErrorCode.UNSUPPORTED,
      `hugepages ${where}: memory shared with a vfio-user server is a memfd of normal pages; leave hugepages out`,
    );
  const { mapping, fd } = sharedMemory(bytes, `DMA memory ${where}`);
  return { memory: mapping, fd };
}
