/** The close-once, no-use-after-close discipline every kernel resource owner follows. */
import { closeAll } from './close-all.js';
import { VfioError, VfioErrorCode } from '../../structs/index.js';
import { INSPECT } from './format.js';

export abstract class Resource {
  #closed = false;
  readonly #before: Array<() => void> = [];
  readonly #after: Array<() => void> = [];

  /** What this is, for messages (`group 12 (/dev/vfio/12)`). */
  abstract get name(): string;

  /** Whether `close()` was called; a closed resource throws `ERR_VFIO_CLOSED` when used. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws when used after close (the throw is out of line: the check inlines as one load). */
  protected check(): void {
    if (this.#closed) this.#throwClosed();
  }

  #throwClosed(): never {
    throw this.closedError();
  }

  /** What a use after close throws; one closed for a reason of its own (a device the kernel took back) says so. */
  protected closedError(): VfioError {
    return new VfioError(VfioErrorCode.CLOSED, `${this.name} is closed: open it again to use it`);
  }

  /** Releases the resource; called at most once. */
  protected abstract release(): void;

  /**
   * Runs `fn` when this closes: `before` the resource is released (for things that depend on
   * it, such as DMA mappings of a container), or `after` (for things it depends on).
   */
  onClose(fn: () => void, when: 'before' | 'after' = 'after'): void {
    this.check();
    (when === 'before' ? this.#before : this.#after).push(fn);
  }

  /** Closes; safe to call twice. Hooks run even when one of them throws; the first error is rethrown. */
  close(): void {
    if (this.#closed) return;
    const before = this.#before.splice(0).reverse();
    const after = this.#after.splice(0);
    closeAll([
      ...before,
      () => {
        this.#closed = true;
        this.release();
      },
      ...after,
    ]);
  }

  /** `close()`, for `using`: the resource closes when its block ends. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** A one-line summary for the REPL and console.log (subclasses add details in `describe`). */
  [INSPECT](): string {
    const details = this.closed ? 'closed' : this.describe();
    return `${this.constructor.name} <${this.name}>${details ? ` { ${details} }` : ''}`;
  }

  /** Details for the summary; empty by default. */
  protected describe(): string {
    return '';
  }
}
