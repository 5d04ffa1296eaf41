/** The close-once, no-use-after-close discipline every kernel resource owner follows. */

export abstract class Resource {
  #closed = false;

  /** What this is, for messages (`group 12 (/dev/vfio/12)`). */
  abstract get name(): string;

  get closed(): boolean {
    return this.#closed;
  }

  /** Throws when used after close. */
  protected check(): void {
    if (this.#closed) throw new Error(`${this.name} is closed: open it again to use it`);
  }

  /** Releases the resource; called at most once. */
  protected abstract release(): void;

  /** Closes; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

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
