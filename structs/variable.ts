/**
 * The VFIO protocol for variable-size info: call with `argsz` = the fixed size, read back the
 * `argsz` the kernel needs for the capabilities, grow the buffer and call again.
 */
import { structBuffer, type TypeObject } from './koffi.js';
import { VfioRangeError } from './errors.js';
import { VfioErrorCode } from './error-codes.js';

/** Upper bound on a variable info buffer: a kernel that asks for more is not trusted. */
export const MAX_INFO_SIZE = 1 << 20;

/**
 * Fills a `type` buffer through `call` (which runs the ioctl on it), growing it until it holds
 * everything the kernel reported in `argsz`. `init` seeds the fixed fields (`index`, ...).
 * Returns the buffer trimmed to the bytes the kernel filled.
 */
export function queryVariable(
  type: TypeObject,
  init: Record<string, unknown>,
  call: (buf: Buffer) => void,
  what = 'info',
): Buffer {
  let size = type.size;
  for (let attempt = 0; attempt < 4; attempt++) {
    const buf = structBuffer(type, { ...init, argsz: size }, size);
    call(buf);
    const wanted = buf.readUInt32LE(0);
    if (wanted <= size) return buf.subarray(0, Math.max(wanted, type.size));
    if (wanted > MAX_INFO_SIZE)
      throw new VfioRangeError(
        VfioErrorCode.MALFORMED,
        `${what}: the kernel asks for ${wanted} bytes, more than ${MAX_INFO_SIZE}`,
      );
    size = wanted;
  }
  throw new VfioRangeError(VfioErrorCode.MALFORMED, `${what}: argsz kept growing after 4 calls`);
}
