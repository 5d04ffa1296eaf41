/**
 * The Linux ioctl request encoding (`<asm-generic/ioctl.h>`), used by x86-64 and arm64.
 * Request codes are always computed with these encoders, never typed in as numbers.
 */
import type { TypeObject } from './koffi.js';
import { VfioRangeError } from './errors.js';
import { VfioErrorCode } from './error-codes.js';

export const _IOC_NRBITS = 8;
export const _IOC_TYPEBITS = 8;
export const _IOC_SIZEBITS = 14;
export const _IOC_DIRBITS = 2;

export const _IOC_NRSHIFT = 0;
export const _IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS;
export const _IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS;
export const _IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS;

export const _IOC_NONE = 0;
export const _IOC_WRITE = 1;
export const _IOC_READ = 2;

/** A type character such as `';'` (VFIO) or its code. */
export type IoctlType = string | number;
/** The argument's size in bytes, or the koffi type whose size it is. */
export type IoctlSize = number | TypeObject;

function typeCode(type: IoctlType): number {
  const code = typeof type === 'string' ? type.charCodeAt(0) : type;
  if (typeof type === 'string' && type.length !== 1)
    throw new VfioRangeError(VfioErrorCode.INVALID_ARGUMENT, `ioctl type must be one character, got '${type}'`);
  if (!Number.isInteger(code) || code < 0 || code >= 1 << _IOC_TYPEBITS)
    throw new VfioRangeError(VfioErrorCode.OUT_OF_RANGE, `ioctl type ${type} out of range`);
  return code;
}

function sizeOf(size: IoctlSize): number {
  const n = typeof size === 'number' ? size : size.size;
  if (!Number.isInteger(n) || n < 0 || n >= 1 << _IOC_SIZEBITS)
    throw new VfioRangeError(VfioErrorCode.OUT_OF_RANGE, `ioctl size ${n} does not fit in ${_IOC_SIZEBITS} bits`);
  return n;
}

/** `_IOC(dir, type, nr, size)`: the request code as an unsigned 32-bit number. */
export function _IOC(dir: number, type: IoctlType, nr: number, size: IoctlSize): number {
  if (!Number.isInteger(nr) || nr < 0 || nr >= 1 << _IOC_NRBITS)
    throw new VfioRangeError(VfioErrorCode.OUT_OF_RANGE, `ioctl nr ${nr} out of range`);
  if (!Number.isInteger(dir) || dir < 0 || dir >= 1 << _IOC_DIRBITS)
    throw new VfioRangeError(VfioErrorCode.OUT_OF_RANGE, `ioctl dir ${dir} out of range`);
  // >>> 0 keeps the code unsigned when the READ bit lands in bit 31.
  return (
    ((dir << _IOC_DIRSHIFT) |
      (typeCode(type) << _IOC_TYPESHIFT) |
      (nr << _IOC_NRSHIFT) |
      (sizeOf(size) << _IOC_SIZESHIFT)) >>>
    0
  );
}

/** `_IO(type, nr)`: the request code of an ioctl that passes no argument. */
export const _IO = (type: IoctlType, nr: number): number => _IOC(_IOC_NONE, type, nr, 0);
/** `_IOR(type, nr, size)`: the request code of an ioctl whose argument the kernel writes (user reads). */
export const _IOR = (type: IoctlType, nr: number, size: IoctlSize): number => _IOC(_IOC_READ, type, nr, size);
/** `_IOW(type, nr, size)`: the request code of an ioctl whose argument the kernel reads (user writes). */
export const _IOW = (type: IoctlType, nr: number, size: IoctlSize): number => _IOC(_IOC_WRITE, type, nr, size);
/** `_IOWR(type, nr, size)`: the request code of an ioctl whose argument goes both ways. */
export const _IOWR = (type: IoctlType, nr: number, size: IoctlSize): number =>
  _IOC(_IOC_READ | _IOC_WRITE, type, nr, size);
