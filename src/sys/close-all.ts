/** Runs every cleanup even when some throw, then rethrows the first error. */
export function closeAll(cleanups: Array<() => void>): void {
  let first: unknown;
  for (const c of cleanups) {
    try {
      c();
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}
