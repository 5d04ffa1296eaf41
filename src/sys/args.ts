import { VfioErrorCode, VfioRangeError, VfioTypeError } from '../../structs/index.js';
import { hex, U64_MAX } from './format.js';
/**
 * Argument checks at the public API edge. Plain JavaScript is a first-class caller, so a wrong
 * type, a fraction, a negative, an access outside its region or a value wider than its access
 * is refused, never truncated, with a TypeError (wrong type) or a RangeError (wrong value)
 * whose message names the method, the place, the argument as it was given and what was
 * expected.
 *
 * The rule (docs/DESIGN.md): addresses (IOVA, virtual, physical) are bigints; sizes, lengths,
 * offsets, counts and indexes are numbers (non-negative safe integers); a 64-bit register or
 * memory value is a bigint, an 8-, 16- or 32-bit one a number.
 *
 * Hot callers (MMIO accessors) keep their own cheap comparisons and come here only when those
 * fail: everything here builds messages, so it belongs on the failing path.
 */

/** How an argument looks in a message: `1.5`, `-2`, `4096n`, `"4" (a string)`, `null`. */
export function describeArg(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return String(v);
    case 'bigint':
      return `${v}n`;
    case 'string':
      return `${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)} (a string)`;
    case 'boolean':
      return `${v} (a boolean)`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return `${String(v)} (a symbol)`;
    case 'function':
      return 'a function';
    default:
      if (v === null) return 'null';
      if (Array.isArray(v)) return `an array of ${v.length}`;
      return `an object (${(v as object).constructor?.name ?? 'no prototype'})`;
  }
}

/** Why a bigint is refused where a number belongs. */
const NUMBERS =
  'sizes, lengths, offsets, counts and indexes are numbers (only addresses and 64-bit values are bigints)';

/** The suggestion for a bigint where a number belongs: the number itself when it is safe. */
function asNumberHint(v: bigint): string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? `pass ${v}` : 'pass a number';
}

/**
 * Throws unless `value` is an integer from `min` to `max`: for sizes, lengths, counts, indexes
 * and offsets that are not register accesses. `what` reads `alloc size`, `entry index`;
 * `where` reads `in the DMA context of ...`, `of DMA buffer at IOVA 0x1000 (8 KiB)`.
 */
export function checkInteger(what: string, where: string, value: unknown, min: number, max: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  const expected = `expected an integer from ${min} to ${max}`;
  const head = `${what} ${describeArg(value)} ${where}`;
  if (typeof value === 'bigint')
    throw new VfioTypeError(VfioErrorCode.INVALID_ARGUMENT, `${head}: ${NUMBERS}: ${asNumberHint(value)}`);
  if (typeof value !== 'number')
    throw new VfioTypeError(VfioErrorCode.INVALID_ARGUMENT, `${head}: ${expected} (a number)`);
  if (!Number.isInteger(value))
    throw new VfioRangeError(VfioErrorCode.INVALID_ARGUMENT, `${head} is not an integer: ${expected}`);
  throw new VfioRangeError(
    VfioErrorCode.OUT_OF_RANGE,
    `${head} is ${value < min ? 'too small' : 'too large'}: ${expected}`,
  );
}

/** Throws unless `value` is one of `allowed` (or undefined when `optional`). */
export function checkChoice(
  what: string,
  where: string,
  value: unknown,
  allowed: readonly unknown[],
  optional = true,
): void {
  if ((optional && value === undefined) || allowed.includes(value)) return;
  throw new VfioTypeError(
    VfioErrorCode.INVALID_ARGUMENT,
    `${what} ${describeArg(value)} ${where}: expected ${choiceList(allowed)}${optional ? ' (or leave it out)' : ''}`,
  );
}

/** `one of 'rw', 'ro'`: the allowed values of a choice, as a message lists them. */
export function choiceList(allowed: readonly unknown[]): string {
  return `one of ${allowed.map((a) => (typeof a === 'string' ? `'${a}'` : String(a))).join(', ')}`;
}

/**
 * Throws unless an access of `width` bytes at `offset` lies inside `[0, size)` and, with
 * `align`, starts at a multiple of `width`. `method` is the caller's name (`read32`); `where`
 * names the place with its size (`BAR0 of 0000:00:03.0 (0x100000 bytes)`). Register accesses
 * pass `align`; bulk copies do not.
 */
export function checkAccess(
  method: string,
  where: string,
  offset: unknown,
  width: number,
  size: number,
  align: boolean,
): asserts offset is number {
  const last = size - width;
  if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0 && offset <= last) {
    if (!align || offset % width === 0) return;
  }
  const expected =
    last < 0
      ? `it is smaller than ${width} bytes`
      : `expected ${align && width > 1 ? `a multiple of ${width}` : 'a byte offset'} from 0 to ${hex(align && width > 1 ? last - (last % width) : last)}`;
  const head = `${method} offset ${describeArg(offset)} in ${where}`;
  if (typeof offset === 'bigint')
    throw new VfioTypeError(VfioErrorCode.INVALID_ARGUMENT, `${head}: ${NUMBERS}: ${asNumberHint(offset)}`);
  if (typeof offset !== 'number')
    throw new VfioTypeError(VfioErrorCode.INVALID_ARGUMENT, `${head}: ${expected} (a number)`);
  if (!Number.isInteger(offset))
    throw new VfioRangeError(VfioErrorCode.INVALID_ARGUMENT, `${head} is not an integer: ${expected}`);
  if (offset < 0 || offset > last)
    throw new VfioRangeError(
      VfioErrorCode.OUT_OF_RANGE,
      `${method} of ${width} bytes at ${hex(offset)} is outside ${where}: ${expected}`,
    );
  if (align && offset % width !== 0)
    throw new VfioRangeError(
      VfioErrorCode.MISALIGNED,
      `${method} of ${width} bytes at ${hex(offset)} in ${where} is not ${width}-byte aligned: device registers take aligned accesses only (expected a multiple of ${width})`,
    );
}

/**
 * Throws unless `length` is a byte count and `[offset, offset + length)` lies inside
 * `[0, size)`: bulk copies and views (`readBytes`, `view`). `length` is named as given.
 */
export function checkSpan(method: string, where: string, offset: unknown, length: unknown, size: number): void {
  if (isSpan(offset, length, size)) return;
  if (typeof length === 'number' && Number.isInteger(length) && length >= 0) {
    checkAccess(method, where, offset, length, size, false);
    return;
  }
  const head = `${method} length ${describeArg(length)} in ${where}`;
  if (typeof length === 'bigint')
    throw new VfioTypeError(VfioErrorCode.INVALID_ARGUMENT, `${head}: ${NUMBERS}: ${asNumberHint(length)}`);
  if (typeof length !== 'number')
    throw new VfioTypeError(VfioErrorCode.INVALID_ARGUMENT, `${head}: expected a byte count (a number)`);
  if (!Number.isInteger(length))
    throw new VfioRangeError(VfioErrorCode.INVALID_ARGUMENT, `${head} is not an integer: expected a byte count`);
  throw new VfioRangeError(VfioErrorCode.OUT_OF_RANGE, `${head} is negative: expected a byte count from 0`);
}

/**
 * Whether `checkSpan` would accept the span: integers with `[offset, offset + length)` inside
 * `[0, size)`. For a hot caller that builds `where` only when the span is wrong.
 */
export function isSpan(offset: unknown, length: unknown, size: number): boolean {
  return (
    typeof offset === 'number' &&
    typeof length === 'number' &&
    Number.isInteger(offset) &&
    Number.isInteger(length) &&
    offset >= 0 &&
    length >= 0 &&
    offset <= size - length
  );
}

const LIMIT: Record<1 | 2 | 4, number> = { 1: 0xff, 2: 0xffff, 4: 0xffff_ffff };

/**
 * Throws unless `value` is a number that fits an access of `width` bytes (1, 2 or 4): an
 * integer from 0 to 0xff, 0xffff or 0xffffffff. `offset` is where the write was going.
 */
export function checkValue(method: string, where: string, offset: number, value: unknown, width: 1 | 2 | 4): number {
  const max = LIMIT[width];
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max) return value;
  const bits = width * 8;
  const expected = `expected an integer from 0 to ${hex(max)}`;
  const head = `${method} value ${describeArg(value)} at ${hex(offset)} in ${where}`;
  if (typeof value === 'bigint')
    throw new VfioTypeError(
      VfioErrorCode.INVALID_ARGUMENT,
      `${head}: ${bits}-bit values are numbers (only 64-bit values are bigints): ${value >= 0n && value <= BigInt(max) ? `pass ${value}` : `pass a number from 0 to ${hex(max)}`}`,
    );
  if (typeof value !== 'number')
    throw new VfioTypeError(VfioErrorCode.INVALID_ARGUMENT, `${head}: ${expected} (a number)`);
  if (!Number.isInteger(value))
    throw new VfioRangeError(VfioErrorCode.INVALID_ARGUMENT, `${head} is not an integer: ${expected}`);
  const fix =
    value < 0 && value >= -(2 ** 31)
      ? width === 4
        ? '; a negative from ~, | or << is made unsigned with (x >>> 0)'
        : `; keep the low bits with (x & ${hex(max)})`
      : '';
  const shown = Math.abs(value) > 9 && Number.isSafeInteger(value) ? ` (${hex(value)})` : '';
  throw new VfioRangeError(
    VfioErrorCode.OUT_OF_RANGE,
    `${method} value ${value}${shown} at ${hex(offset)} in ${where} does not fit in ${bits} bits: ${expected}; nothing is truncated${fix}`,
  );
}

/** Throws unless `value` is a bigint from 0n to 2^64 - 1: the value of a 64-bit access. */
export function checkValue64(method: string, where: string, offset: number, value: unknown): bigint {
  if (typeof value === 'bigint' && value >= 0n && value <= U64_MAX) return value;
  const expected = 'expected a bigint from 0n to 0xffffffffffffffffn';
  const head = `${method} value ${describeArg(value)} at ${hex(offset)} in ${where}`;
  if (typeof value === 'number')
    throw new VfioTypeError(
      VfioErrorCode.INVALID_ARGUMENT,
      `${head}: 64-bit values are bigints, not numbers: ${Number.isSafeInteger(value) && value >= 0 ? `pass ${value}n, or BigInt(x)` : expected}`,
    );
  if (typeof value !== 'bigint') throw new VfioTypeError(VfioErrorCode.INVALID_ARGUMENT, `${head}: ${expected}`);
  throw new VfioRangeError(
    VfioErrorCode.OUT_OF_RANGE,
    `${head} does not fit in 64 bits: ${expected}; nothing is truncated${value < 0n ? '; a negative is made unsigned with BigInt.asUintN(64, x)' : ''}`,
  );
}
