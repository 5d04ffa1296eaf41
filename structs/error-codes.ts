/**
 * The library's stable error codes. Every error the library throws has one of these on `code`,
 * Node style. A code is part of the API: renaming or removing one is a breaking change
 * (test/repo/error-codes.test.ts pins the list, and docs/errors.md, generated from this file, explains each).
 */
export const VfioErrorCode = {
  /** An argument of the wrong type, or a value that is not allowed (not about ranges). */
  INVALID_ARGUMENT: 'ERR_VFIO_INVALID_ARGUMENT',
  /** A string that is not a PCI address. */
  INVALID_ADDRESS: 'ERR_VFIO_INVALID_ADDRESS',
  /** No PCI device at that address. */
  NO_DEVICE: 'ERR_VFIO_NO_DEVICE',
  /** The device is not bound to vfio-pci (or binding it failed). */
  NOT_VFIO_BOUND: 'ERR_VFIO_NOT_VFIO_BOUND',
  /** The device has no IOMMU group, or no-IOMMU mode was asked for where it is off. */
  NO_IOMMU: 'ERR_VFIO_NO_IOMMU',
  /** The way into VFIO asked for is missing on this kernel (no iommufd, no cdev, no Type1). */
  UNAVAILABLE: 'ERR_VFIO_UNAVAILABLE',
  /** A device of the IOMMU group is bound to a host driver, so the group cannot be used. */
  GROUP_NOT_VIABLE: 'ERR_VFIO_GROUP_NOT_VIABLE',
  /** The IOMMU group is open elsewhere (another process, or a leaked fd in this one). */
  GROUP_BUSY: 'ERR_VFIO_GROUP_BUSY',
  /** The device's VFIO cdev is open elsewhere. */
  DEVICE_BUSY: 'ERR_VFIO_DEVICE_BUSY',
  /** A mediated device type has no instance left to make (its `available_instances` is 0). */
  NO_INSTANCES: 'ERR_VFIO_NO_INSTANCES',
  /** The process may not do that (file permissions, capabilities). */
  PERMISSION: 'ERR_VFIO_PERMISSION',
  /** An offset, length, index, count or value outside what is allowed. */
  OUT_OF_RANGE: 'ERR_VFIO_OUT_OF_RANGE',
  /** An access or address not aligned as required. */
  MISALIGNED: 'ERR_VFIO_MISALIGNED',
  /** The device, region or kernel lacks that feature (an access width, an irq type, reset, mmap). */
  UNSUPPORTED: 'ERR_VFIO_UNSUPPORTED',
  /** A write to a region the kernel reports as not writable. */
  READ_ONLY: 'ERR_VFIO_READ_ONLY',
  /** A read of a region the kernel reports as not readable. */
  WRITE_ONLY: 'ERR_VFIO_WRITE_ONLY',
  /** The object was closed (or its parent was) before this use. */
  CLOSED: 'ERR_VFIO_CLOSED',
  /** A call out of order: something else must be done (or undone) first. */
  INVALID_STATE: 'ERR_VFIO_INVALID_STATE',
  /** The locked-memory limit (RLIMIT_MEMLOCK) is too low for the DMA memory asked for. */
  MEMLOCK: 'ERR_VFIO_MEMLOCK',
  /** The IOMMU has no DMA mapping left (vfio_iommu_type1 dma_entry_limit). */
  DMA_LIMIT: 'ERR_VFIO_DMA_LIMIT',
  /** No free IOVA range of that size below the device's DMA limit. */
  IOVA_EXHAUSTED: 'ERR_VFIO_IOVA_EXHAUSTED',
  /** A fixed IOVA that cannot be used: outside the IOMMU's ranges, above the device's limit, or taken. */
  IOVA_UNAVAILABLE: 'ERR_VFIO_IOVA_UNAVAILABLE',
  /** No-IOMMU DMA memory that is not physically contiguous, or not resident. */
  NOT_CONTIGUOUS: 'ERR_VFIO_NOT_CONTIGUOUS',
  /** Not enough memory or hugepages for the allocation. */
  NO_MEMORY: 'ERR_VFIO_NO_MEMORY',
  /** Data from the kernel, sysfs or a file that does not parse (a broken capability chain, say). */
  MALFORMED: 'ERR_VFIO_MALFORMED',
  /** A register map that is wrong, or a register or field name it does not have. */
  REGISTER_MAP: 'ERR_VFIO_REGISTER_MAP',
  /** A replayed or checked trace met an access that differs from the recording. */
  REPLAY_MISMATCH: 'ERR_VFIO_REPLAY_MISMATCH',
  /** A vfio-user peer sent a message the protocol does not allow (a size, count, descriptor or command). */
  PROTOCOL: 'ERR_VFIO_PROTOCOL',
  /** A device handed over a UNIX socket came in a malformed message, or with descriptors that are not what it says. */
  HANDOFF: 'ERR_VFIO_HANDOFF',
  /** The vfio-user peer closed the connection, or did not answer in time. */
  DISCONNECTED: 'ERR_VFIO_DISCONNECTED',
  /** An interrupt wait ended because the interrupts were disabled or closed. */
  ABORTED: 'ERR_VFIO_ABORTED',
  /** The kernel asked for the device back (a hot-unplug, or vfio-pci unbound) and it was closed since. */
  DEVICE_REMOVED: 'ERR_VFIO_DEVICE_REMOVED',
  /** A system call failed for a reason no other code names: see `errno` and `syscall`. */
  SYSCALL: 'ERR_VFIO_SYSCALL',
  /** The `vfio` command was given arguments it does not take. */
  USAGE: 'ERR_VFIO_USAGE',
  /** A broken invariant inside the library: a bug, please report it. */
  INTERNAL: 'ERR_VFIO_INTERNAL',
} as const;

export type VfioErrorCode = (typeof VfioErrorCode)[keyof typeof VfioErrorCode];
