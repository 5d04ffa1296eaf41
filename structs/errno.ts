/**
 * What an errno means for the library: its symbol, its text, the library's code for a call that
 * failed with it, and the hint users need most. `SysError` (errors.ts) is built from these.
 */
import { getSystemErrorMap, getSystemErrorName } from 'node:util';
import { VfioErrorCode } from './error-codes.js';

/** The errno symbol (`EBUSY`) for a number, or `E<n>` when Node does not know it. */
export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `E${errno}`;
  }
}

/** Node's text for an errno (libuv's words), for errors not built by the system-call layer. */
export function errnoDescription(errno: number): string {
  return getSystemErrorMap().get(-errno)?.[1] ?? 'unknown error';
}

/** Whether `syscall` pins memory: VFIO_IOMMU_MAP_DMA (the container), IOMMU_IOAS_MAP (iommufd), mlock. */
function pinsMemory(syscall: string): boolean {
  return syscall.includes('MAP_DMA') || syscall.includes('IOAS_MAP') || syscall.startsWith('mlock');
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
      return pinsMemory(syscall) ? VfioErrorCode.MEMLOCK : VfioErrorCode.NO_MEMORY;
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
      return pinsMemory(syscall)
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
