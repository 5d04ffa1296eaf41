/**
 * A mediated device's name: the UUID it was created with, which is its sysfs name
 * (`/sys/bus/mdev/devices/UUID`) and the name `VFIO_GROUP_GET_DEVICE_FD` takes. Written bare or
 * as `mdev:UUID`; either way the device's `address` is the bare UUID in lower case, as the kernel
 * names it.
 */
import { VfioErrorCode, VfioRangeError, VfioTypeError } from '../../../structs/index.js';

/** The optional prefix of an mdev's address: `mdev:0b8f1a2e-...`. */
export const MDEV_PREFIX = 'mdev:';

/** An mdev's UUID in lower case: `0b8f1a2e-6e3c-4f7b-9a43-1c2d3e4f5a6b`. */
export type MdevUuid = string & { readonly __mdev: unique symbol };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `input` names an mdev (`mdev:` anything, or a bare UUID) rather than a PCI device. */
export function isMdevAddress(input: unknown): input is string {
  return typeof input === 'string' && (input.startsWith(MDEV_PREFIX) || UUID.test(input.trim()));
}

/** The UUID `input` names (`UUID` or `mdev:UUID`), lower case; anything else throws, saying the form. */
export function parseMdevAddress(input: string): MdevUuid {
  if (typeof input !== 'string')
    throw new VfioTypeError(
      VfioErrorCode.INVALID_ADDRESS,
      `an mdev address must be a string (a UUID, or mdev:UUID), got ${typeof input}`,
    );
  const bare = input.startsWith(MDEV_PREFIX) ? input.slice(MDEV_PREFIX.length) : input;
  const s = bare.trim();
  if (!UUID.test(s))
    throw new VfioRangeError(
      VfioErrorCode.INVALID_ADDRESS,
      `'${input}' is not an mdev address: expected its UUID (8-4-4-4-12 hex digits, such as 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001), bare or as mdev:UUID; ls /sys/bus/mdev/devices lists them`,
    );
  return s.toLowerCase() as MdevUuid;
}
