/**
 * What an interrupt wait returns and who is waiting for it, without system calls (so it is
 * unit-tested on the host): the counts read from the eventfds and not yet handed out, the
 * queue of pending asynchronous waits, and the one-at-a-time iteration over their results.
 */
import { IrqWaitAbortedError, type IrqAbortReason } from '../../../structs/index.js';

/** Interrupts of one vector since the last wait: `count` is how often it fired (eventfd counter). */
export interface IrqFired {
  vector: number;
  count: number;
}

/** Fired vectors past which `PendingIrqs` looks a vector up in a map rather than in its list. */
const LINEAR = 8;

/**
 * Interrupts read from the eventfds and not yet handed to a consumer: a count per vector. What
 * `take()` returns is built as the counts arrive (one array, one object per fired vector).
 */
export class PendingIrqs {
  #fired: IrqFired[] = [];
  /** The entries of `#fired` by vector, once there are more than LINEAR of them. */
  #byVector: Map<number, IrqFired> | undefined;

  /** How many vectors have fired since the last `take()`. */
  get size(): number {
    return this.#fired.length;
  }

  /** Counts `count` more interrupts of `vector` (an eventfd read of 0 adds nothing). */
  add(vector: number, count: number): void {
    if (count <= 0) return;
    const fired = this.#fired;
    let entry: IrqFired | undefined;
    if (fired.length <= LINEAR) {
      for (const f of fired) if (f.vector === vector) entry = f;
    } else {
      this.#byVector ??= new Map(fired.map((f) => [f.vector, f]));
      entry = this.#byVector.get(vector);
    }
    if (entry) entry.count += count;
    else {
      entry = { vector, count };
      fired.push(entry);
      this.#byVector?.set(vector, entry);
    }
  }

  /** Forgets `vector` (it was disabled: its interrupts go to nobody). */
  drop(vector: number): void {
    this.#fired = this.#fired.filter((f) => f.vector !== vector);
    this.#byVector?.delete(vector);
  }

  /** Hands out everything: the fired vectors in ascending order with their counts; `[]` when none. */
  take(): IrqFired[] {
    const out = this.#fired;
    if (out.length === 0) return [];
    this.#fired = [];
    this.#byVector = undefined;
    if (out.length > 1) out.sort((a, b) => a.vector - b.vector);
    return out;
  }
}

interface Waiter {
  resolve(fired: IrqFired[]): void;
  reject(err: unknown): void;
  /** The timeout, if the wait has one. */
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Pending asynchronous waits, served in the order they were made. */
export class IrqWaiterQueue {
  #waiters: Waiter[] = [];

  /** How many waits are pending. */
  get length(): number {
    return this.#waiters.length;
  }

  /**
   * A new wait: resolved by {@link serve}, with `[]` once `timeoutMs` passed (negative: no
   * timeout; `onTimeout` runs after the wait left the queue), rejected by {@link abort}.
   */
  add(timeoutMs: number, onTimeout: () => void): Promise<IrqFired[]> {
    let waiter!: Waiter;
    const fired = new Promise<IrqFired[]>((resolve, reject) => (waiter = { resolve, reject, timer: undefined }));
    if (timeoutMs >= 0) {
      waiter.timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        waiter.resolve([]);
        onTimeout();
      }, timeoutMs);
    }
    this.#waiters.push(waiter);
    return fired;
  }

  /** Resolves the oldest waits with batches from `take` until the waits or the batches (`[]`) run out. */
  serve(take: () => IrqFired[]): void {
    while (this.#waiters.length > 0) {
      const batch = take();
      if (batch.length === 0) return;
      const w = this.#waiters.shift()!;
      if (w.timer !== undefined) clearTimeout(w.timer);
      w.resolve(batch);
    }
  }

  /** Rejects every pending wait with an {@link IrqWaitAbortedError} naming `device`. */
  abort(reason: IrqAbortReason, device: string): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (w.timer !== undefined) clearTimeout(w.timer);
      w.reject(new IrqWaitAbortedError(reason, device));
    }
  }
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/**
 * The interrupts of successive waits (`next`), one `{vector, count}` at a time. Ends (done) when
 * a wait is aborted (`stop()`, `disable()`, `close()`); any other error is thrown.
 */
export function oneByOne(next: () => Promise<IrqFired[]>): AsyncGenerator<IrqFired, void, undefined> {
  return new IrqEvents(next);
}

/**
 * What `oneByOne` returns: an async generator written out, because an `async function*` costs a
 * wake-up about 1 us more (its `yield*` and awaits are promise steps of their own). As a
 * generator's, calls made while a wait is pending are answered in turn, after it.
 */
class IrqEvents implements AsyncGenerator<IrqFired, void, undefined> {
  readonly #next: () => Promise<IrqFired[]>;
  #batch: IrqFired[] = [];
  #at = 0;
  #done = false;
  /** The wait under way, if any. */
  #waiting: Promise<IteratorResult<IrqFired, void>> | undefined;

  constructor(next: () => Promise<IrqFired[]>) {
    this.#next = next;
  }

  next(): Promise<IteratorResult<IrqFired, void>> {
    if (this.#waiting) return this.#after(() => this.next());
    if (this.#at < this.#batch.length) return Promise.resolve({ value: this.#batch[this.#at++], done: false });
    if (this.#done) return Promise.resolve(DONE);
    let batch: Promise<IrqFired[]>;
    try {
      batch = this.#next();
    } catch (e) {
      batch = Promise.reject(e);
    }
    const waiting = batch.then(
      (fired): IteratorResult<IrqFired, void> | Promise<IteratorResult<IrqFired, void>> => {
        this.#waiting = undefined;
        this.#batch = fired;
        this.#at = 0;
        // The first interrupt as a result, not as the promise `next()` makes: a promise
        // returned here is adopted in two more promise steps, on the path of every wake-up.
        return fired.length > 0 ? { value: fired[this.#at++], done: false } : this.next();
      },
      (e: unknown) => {
        this.#waiting = undefined;
        this.#finish();
        if (e instanceof IrqWaitAbortedError) return DONE;
        throw e;
      },
    );
    this.#waiting = waiting;
    return waiting;
  }

  return(): Promise<IteratorResult<IrqFired, void>> {
    if (this.#waiting) return this.#after(() => this.return());
    this.#finish();
    return Promise.resolve(DONE);
  }

  throw(e: unknown): Promise<IteratorResult<IrqFired, void>> {
    if (this.#waiting) return this.#after(() => this.throw(e));
    this.#finish();
    return Promise.reject(e);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.return().then(() => undefined);
  }

  /** `then` once the pending wait has settled, however it did. */
  #after<T>(then: () => Promise<T>): Promise<T> {
    return this.#waiting!.then(then, then);
  }

  #finish(): void {
    this.#done = true;
    this.#batch = [];
    this.#at = 0;
  }
}
