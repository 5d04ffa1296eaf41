/** The error of a device the kernel took back, shared by the device and its interrupts. */
import { VfioError, VfioErrorCode } from '../../structs/index.js';

/**
 * What a use of `what` (a device, its interrupts) throws once it was closed after the kernel
 * asked for device `address` back: a hot-unplug or an unbind of vfio-pci, which finishes once
 * the device is closed.
 */
export function removedError(what: string, address: string): VfioError {
  return new VfioError(
    VfioErrorCode.DEVICE_REMOVED,
    `${what} is gone: the kernel asked for ${address} back (a hot-unplug, or vfio-pci unbound from it) and it was closed; once it is back on vfio-pci, open it again`,
  );
}
