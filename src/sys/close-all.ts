/** Runs every cleanup even when some throw, then rethrows the first error. */
export function closeAll(cleanups: Array<() => void>): void {
  const errors: unknown[] = [];
  for (const c of cleanups) {
    try {
      c();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw errors[0];
}
