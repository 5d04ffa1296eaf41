/** The locked-memory limit, checked before DMA memory is pinned and named when the kernel refuses. */
import { RLIMIT_MEMLOCK, RLIM_INFINITY, VfioError, VfioErrorCode } from '../../structs/index.js';
import { CAP_IPC_LOCK, formatSize, getRlimit, hasCapability, lockedBytes } from '../sys/index.js';

/** Throws a clear error when pinning `bytes` more would pass RLIMIT_MEMLOCK. */
export function checkMemlock(bytes: number): void {
  if (hasCapability(CAP_IPC_LOCK)) return; // exempt from the limit
  const { soft } = getRlimit(RLIMIT_MEMLOCK);
  if (soft === RLIM_INFINITY) return;
  const locked = lockedBytes();
  if (locked + BigInt(bytes) > soft) throw new VfioError(VfioErrorCode.MEMLOCK, memlockMessage(bytes, locked, soft));
}

/** Why pinning `bytes` failed or would fail, and the ways to raise the limit. */
export function memlockMessage(bytes: number, locked = lockedBytes(), limit = getRlimit(RLIMIT_MEMLOCK).soft): string {
  return [
    `pinning ${formatSize(bytes)} for DMA would pass the locked-memory limit: RLIMIT_MEMLOCK is ${formatSize(limit)} and ${formatSize(locked)} are already locked.`,
    'Raise it for this shell (ulimit -l unlimited, as root or within the hard limit), for a user (memlock in /etc/security/limits.conf),',
    'for a service (LimitMEMLOCK= in its systemd unit), or run with CAP_IPC_LOCK.',
  ].join(' ');
}
