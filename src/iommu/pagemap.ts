/**
 * Physical addresses of this process's memory, from `/proc/self/pagemap` (one 64-bit entry per
 * virtual page: bit 63 present, bits 0-54 the page frame number). No-IOMMU DMA needs them: there
 * the device uses physical addresses. The kernel shows frame numbers to CAP_SYS_ADMIN only.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { pageSize, checkInteger } from '../sys/index.js';
import { checkAddress } from './iommu.js';
import { VfioError, VfioErrorCode, VfioRangeError } from '../../structs/index.js';
import { hex } from '../sys/index.js';

const PRESENT = 1n << 63n;
const PFN_MASK = (1n << 55n) - 1n;
const PAGEMAP = '/proc/self/pagemap';

/**
 * The physical address of `size` bytes (a number) at the virtual address `vaddr`, which must be
 * resident (locked) and physically contiguous; throws naming what is not.
 */
export function physicalAddressOf(vaddr: bigint, size: number): bigint {
  checkAddress('physicalAddressOf vaddr', `in ${PAGEMAP}`, vaddr);
  checkInteger('physicalAddressOf size', `at ${hex(vaddr)}`, size, 1, Number.MAX_SAFE_INTEGER);
  const page = BigInt(pageSize());
  const first = vaddr / page;
  const count = Number((vaddr + BigInt(size) + page - 1n) / page - first);
  const entries = new BigUint64Array(count);
  const fd = openSync(PAGEMAP, 'r');
  try {
    const bytes = new Uint8Array(entries.buffer);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, Number(first * 8n) + done);
      if (n <= 0) throw new VfioError(VfioErrorCode.MALFORMED, `${PAGEMAP}: short read at page ${hex(first)}`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  const pfns = Array.from(entries, (e, i) => {
    if ((e & PRESENT) === 0n)
      throw new VfioError(
        VfioErrorCode.NOT_CONTIGUOUS,
        `no-IOMMU DMA: the page at ${hex((first + BigInt(i)) * page)} is not resident; DMA memory must be locked first`,
      );
    return e & PFN_MASK;
  });
  if (pfns[0] === 0n) {
    throw new VfioError(
      VfioErrorCode.PERMISSION,
      `no-IOMMU DMA needs physical addresses, and ${PAGEMAP} shows them only to a process with CAP_SYS_ADMIN: run as root`,
    );
  }
  const broken = pfns.findIndex((pfn, i) => pfn !== pfns[0] + BigInt(i));
  if (broken >= 0) {
    throw new VfioRangeError(
      VfioErrorCode.NOT_CONTIGUOUS,
      `no-IOMMU DMA: the ${size}-byte buffer at ${hex(vaddr)} is not physically contiguous (it breaks after ${broken * Number(page)} bytes), and without an IOMMU the device needs one contiguous range: back it with hugepages ({ hugepages: '2M' } up to 2 MiB, '1G' beyond) or allocate smaller buffers`,
    );
  }
  return pfns[0] * page + (vaddr % page);
}
