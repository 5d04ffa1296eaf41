/**
 * Ioctls of the host that have nothing to do with VFIO, named as the C macros. `FIONREAD`
 * (bytes ready to read; on a regular file the kernel answers from the inode, the cheapest
 * ioctl there is) lets the host benchmarks time the library's ioctl wrapper without a device.
 * The tty ioctls predate the size encoding: asm-generic (x86-64, arm64) numbers them 0x54xx,
 * which is `_IO('T', nr)`.
 */
import { _IO } from './ioctl.js';

export const FIONREAD = _IO('T', 0x1b);

/** Every request code above, by C macro name (the conformance test walks this). */
export const HOST_IOCTLS = { FIONREAD } as const;
