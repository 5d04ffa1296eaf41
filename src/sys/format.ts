/** Numbers for messages and summaries: hex, sizes, and the symbol Node's inspect looks for. */

/** The largest 64-bit unsigned value: the top of an IOVA space, `(void *)-1`. */
export const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** The method `console.log`, `util.inspect` and the REPL call to print an object. */
export const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** `0x1f`, or `-0x2` for a negative; with `digits`, zero-padded to that many hex digits (`0x00080783`). */
export function hex(value: number | bigint, digits = 0): string {
  const negative = value < 0;
  const digitsText = (negative ? -value : value).toString(16).padStart(digits, '0');
  return `${negative ? '-' : ''}0x${digitsText}`;
}

/** Human size: `1 MiB`, `16 KiB`, `256 B`, or bytes with a fraction when not a whole unit. */
export function formatSize(bytes: number | bigint): string {
  const n = BigInt(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (i < units.length - 1 && v >= 1024n && v % 1024n === 0n) {
    v /= 1024n;
    i++;
  }
  if (i === 0 && n >= 1024n) return `${(Number(n) / 1024).toFixed(1)} KiB`;
  return `${v} ${units[i]}`;
}
