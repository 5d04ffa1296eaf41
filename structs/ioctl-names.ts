/**
 * Every ioctl the library issues (and FIONREAD, which the host benchmarks time), by C macro
 * name: the one place where a name is bound to its request code. Callers pass the name; the code
 * is looked up here (several VFIO codes share a number, so the code alone cannot name the call
 * in an error).
 */
import { DEVICE_FEATURE_IOCTLS } from './device-feature.js';
import { HOST_IOCTLS } from './host-ioctls.js';
import { IOMMUFD_IOCTLS } from './iommufd.js';
import { VFIO_IOCTLS } from './vfio-ioctls.js';

export const IOCTLS = { ...VFIO_IOCTLS, ...IOMMUFD_IOCTLS, ...DEVICE_FEATURE_IOCTLS, ...HOST_IOCTLS } as const;

/** The macro name of an ioctl in {@link IOCTLS}. */
export type IoctlName = keyof typeof IOCTLS;
