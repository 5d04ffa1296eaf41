/**
 * The limits DMA runs into: the locked-memory limit, checked before memory is pinned, and the
 * kernel's refusals of a mapping (out of mappings, or of locked memory) told with their cause.
 */
import { RLIMIT_MEMLOCK, RLIM_INFINITY, SysError, VfioError, VfioErrorCode } from '../../structs/index.js';
import type { Iommu } from '../iommu/index.js';
import { CAP_IPC_LOCK, formatSize, getRlimit, hasCapability, lockedBytes } from '../sys/index.js';

/** The locked-memory limit binding this process: RLIMIT_MEMLOCK's soft limit; none if unlimited or CAP_IPC_LOCK. */
function bindingMemlock(): bigint | undefined {
  if (hasCapability(CAP_IPC_LOCK)) return undefined; // exempt from the limit
  const { soft } = getRlimit(RLIMIT_MEMLOCK);
  return soft === RLIM_INFINITY ? undefined : soft;
}

/** Throws a clear error when pinning `bytes` more would pass RLIMIT_MEMLOCK. */
export function checkMemlock(bytes: number): void {
  const soft = bindingMemlock();
  if (soft === undefined) return;
  const locked = lockedBytes();
  if (locked + BigInt(bytes) > soft) throw new VfioError(VfioErrorCode.MEMLOCK, memlockMessage(bytes, locked, soft));
}

/** The ways to raise the locked-memory limit, or to be exempt from it. */
const RAISE_MEMLOCK =
  'Raise it for this shell (ulimit -l unlimited, as root or within the hard limit), for a user (memlock in /etc/security/limits.conf), ' +
  'for a service (LimitMEMLOCK= in its systemd unit), or run with CAP_IPC_LOCK.';

/** Why pinning `bytes` would fail, and the ways to raise the limit. */
export function memlockMessage(bytes: number, locked = lockedBytes(), limit = getRlimit(RLIMIT_MEMLOCK).soft): string {
  return `pinning ${formatSize(bytes)} for DMA would pass the locked-memory limit: RLIMIT_MEMLOCK is ${formatSize(limit)} and ${formatSize(locked)} are already locked. ${RAISE_MEMLOCK}`;
}

/**
 * A refused DMA mapping told with its cause: the container's mapping limit (ENOSPC), or ENOMEM:
 * the locked-memory limit (`ERR_VFIO_MEMLOCK`) where one binds the process, else memory short
 * (`ERR_VFIO_NO_MEMORY`).
 */
export function explainMapFailure(e: unknown, bytes: number, iommu: Iommu, held: number): unknown {
  if (!(e instanceof SysError)) return e;
  if (e.errnoName === 'ENOSPC') {
    const avail = iommu.info().dmaAvail;
    return e.withHint(
      `the container has no DMA mapping left (dma_avail ${avail ?? 'unknown'}; the vfio_iommu_type1 dma_entry_limit, 65535 by default, counts mappings; this context holds ${held}): use pools or hugepages to need fewer mappings, or raise the limit (modprobe vfio_iommu_type1 dma_entry_limit=N)`,
    );
  }
  if (e.errnoName !== 'ENOMEM') return e;
  // Past the check before pinning (this process's own locked memory), refused by the kernel,
  // which may count more than that (iommufd charges all of a user's processes together).
  const limit = bindingMemlock();
  if (limit !== undefined) {
    return e.withHint(
      `the kernel refused to pin ${formatSize(bytes)} for DMA: RLIMIT_MEMLOCK is ${formatSize(limit)}; this process has ${formatSize(lockedBytes())} locked, ` +
        `but the kernel counts more (iommufd charges all of a user's processes together). ${RAISE_MEMLOCK}`,
      { code: VfioErrorCode.MEMLOCK },
    );
  }
  return e.withHint(
    'no locked-memory limit applies to this process, so the kernel is short of memory to pin: free some, or pin less',
    {
      code: VfioErrorCode.NO_MEMORY,
    },
  );
}
