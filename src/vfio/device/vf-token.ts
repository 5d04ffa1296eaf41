/**
 * VF tokens: the UUID an SR-IOV PF's user sets (`VFIO_DEVICE_FEATURE_PCI_VF_TOKEN`) and every
 * user of its VFs must present, as text in the group path's device name and as 16 bytes in the
 * cdev path's bind and in the feature's payload.
 */
import { VfioTypeError, VfioErrorCode } from '../../../structs/index.js';
import { describeArg } from '../../sys/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A checked VF token: its canonical text (lower case) and its 16 bytes in the same order. */
export interface VfToken {
  text: string;
  bytes: Uint8Array;
}

/** Checks `token` (a UUID string such as `randomUUID()` makes) for `where`; throws a coded TypeError. */
export function parseVfToken(token: unknown, where: string): VfToken {
  if (typeof token !== 'string' || !UUID.test(token))
    throw new VfioTypeError(
      VfioErrorCode.INVALID_ARGUMENT,
      `vfToken ${describeArg(token)} ${where}: expected a UUID such as crypto.randomUUID() makes (8-4-4-4-12 hex digits)`,
    );
  const text = token.toLowerCase();
  return { text, bytes: Uint8Array.from(Buffer.from(text.replaceAll('-', ''), 'hex')) };
}
