/**
 * `SysError`: a failed system call with the call, the errno symbol and number, the resource
 * it was about, and what to do about it.
 */
import { getSystemErrorName } from 'node:util';
import { VfioErrorCode } from '../../structs/errors.js';
import { libc } from './libc.js';

/** The errno symbol (`EBUSY`) for a number, or `E<n>` when Node does not know it. */
export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `E${errno}`;
  }
}

export interface SysErrorDetails {
  /** The system call (`open`, `ioctl(VFIO_GROUP_GET_STATUS)`, ...). */
  syscall: string;
  errno: number;
  /** The path or object the call was about (`/dev/vfio/12`, `device 0000:00:03.0`). */
  target?: string;
  /** What to do about it; when absent a default hint for the errno is used. */
  hint?: string;
  /** The library's code for the failure; when absent one is chosen from the errno and the call. */
  code?: VfioErrorCode;
}

/** The library's code for a failed call, from the errno and what the call was about. */
export function defaultCode(errno: string, syscall: string, target = ''): VfioErrorCode {
  switch (errno) {
    case 'EACCES':
    case 'EPERM':
      return VfioErrorCode.PERMISSION;
    case 'EBUSY':
      if (target.includes('/dev/vfio/devices/')) return VfioErrorCode.DEVICE_BUSY;
      return /\/dev\/vfio\/(noiommu-)?\d+/.test(target) ? VfioErrorCode.GROUP_BUSY : VfioErrorCode.SYSCALL;
    case 'ENOMEM':
      if (syscall.includes('MAP_DMA') || syscall.startsWith('mlock')) return VfioErrorCode.MEMLOCK;
      return VfioErrorCode.NO_MEMORY;
    case 'ENOSPC':
      return syscall.includes('MAP_DMA') ? VfioErrorCode.DMA_LIMIT : VfioErrorCode.SYSCALL;
    default:
      return VfioErrorCode.SYSCALL;
  }
}

/** The hint for the errnos users meet most, given the call and what it was about. */
export function defaultHint(code: string, syscall: string, target = ''): string | undefined {
  const vfio = target.includes('/dev/vfio');
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return vfio
        ? `the process may not open ${target}: run as root, or give your user the group file (chown $USER ${target}) and raise RLIMIT_MEMLOCK for DMA`
        : `permission denied: run as root or fix the permissions of ${target || 'the resource'}`;
    case 'ENOENT':
      return vfio
        ? `${target} does not exist: load VFIO (modprobe vfio-pci) and bind the device to vfio-pci; vfio list shows each device's driver and IOMMU group, and vfio bind followed by its address binds it`
        : `${target || 'the path'} does not exist: check the name`;
    case 'ENODEV':
      return `no such device${target ? ` (${target})` : ''}: check the PCI address and that the device is bound to vfio-pci`;
    case 'EBUSY':
      return vfio
        ? `${target} is in use: another process (or a leaked file descriptor in this one) holds it; close it there first (fuser -v ${target})`
        : `${target || 'the resource'} is busy: another user holds it`;
    case 'ENOMEM':
      return syscall.includes('MAP_DMA') || syscall.startsWith('mlock')
        ? 'the locked-memory limit (RLIMIT_MEMLOCK) is too low for this DMA mapping: raise it (ulimit -l, or memlock in /etc/security/limits.conf) or run with CAP_IPC_LOCK'
        : 'out of memory, or no hugepages reserved for a hugepage mapping (echo N > /proc/sys/vm/nr_hugepages)';
    case 'EINVAL':
      return `the kernel rejected the arguments of ${syscall}: check sizes, alignment, flags and the order of calls (VFIO_SET_IOMMU only after a group is in the container)`;
    case 'ENOTTY':
      return `${target || 'this file descriptor'} does not support ${syscall}: it is not the kind of file this request is for`;
    case 'ENOSPC':
      return syscall.includes('MAP_DMA')
        ? 'the container reached its DMA mapping limit (vfio_iommu_type1 dma_entry_limit, 65535 by default): use fewer, larger mappings (pools, hugepages)'
        : undefined;
    case 'EMFILE':
      return 'the process has too many open files: close unused devices or raise RLIMIT_NOFILE (ulimit -n)';
    default:
      return undefined;
  }
}

/**
 * A failed system call. `code` is the library's code ({@link VfioErrorCode}: `ERR_VFIO_MEMLOCK`,
 * `ERR_VFIO_GROUP_BUSY`, or `ERR_VFIO_SYSCALL` when no other fits); the kernel's answer stays on
 * `errno` (the number) and `errnoName` (`EBUSY`).
 */
export class SysError extends Error {
  override name = 'SysError';
  readonly syscall: string;
  readonly errno: number;
  /** The errno symbol (`EBUSY`). */
  readonly errnoName: string;
  readonly code: VfioErrorCode;
  readonly target?: string;
  readonly hint?: string;

  constructor(details: SysErrorDetails) {
    const symbol = errnoName(details.errno);
    const hint = details.hint ?? defaultHint(symbol, details.syscall, details.target);
    const text = String(libc.strerror(details.errno) ?? 'unknown error');
    const on = details.target ? ` on ${details.target}` : '';
    super(`${details.syscall}${on} failed: ${symbol} (errno ${details.errno}, ${text})${hint ? `. ${hint}` : ''}`);
    this.syscall = details.syscall;
    this.errno = details.errno;
    this.errnoName = symbol;
    this.code = details.code ?? defaultCode(symbol, details.syscall, details.target);
    this.target = details.target;
    this.hint = hint;
  }

  /**
   * The same failure told better: for a caller that knows more about the cause than the
   * system call did (a different hint, and the resource or call named as the user knows it).
   */
  withHint(hint: string, rename: { syscall?: string; target?: string; code?: VfioErrorCode } = {}): SysError {
    const syscall = rename.syscall ?? this.syscall;
    const target = rename.target ?? this.target;
    return new SysError({
      syscall,
      errno: this.errno,
      target,
      hint,
      code: rename.code ?? defaultCode(this.errnoName, syscall, target),
    });
  }
}
