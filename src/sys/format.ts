/** Sizes for messages and summaries. */

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
