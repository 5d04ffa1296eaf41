/**
 * Waiting for a device's interrupts: `wait()` blocks the calling thread on an epoll of the
 * eventfds (a vector's, the request's); `waitAsync()` is served from Node's event loop, so no
 * thread is needed however many vectors or waits there are (irq-eventfds.ts: where they are
 * watched).
 */
import { closeAll, Resource, type EventFd } from '../../sys/index.js';
import { IrqEventfds, REQUEST_VECTOR, type WatchedEventfd } from './irq-eventfds.js';
import { type IrqTag } from './vectors.js';
import { IrqWaiterQueue, PendingIrqs, type IrqFired } from './wait-queue.js';
import { IrqWaitAbortedError, type IrqAbortReason } from '../../../structs/index.js';

/** What the waiting tells, and asks of, the interrupts it serves. */
export interface IrqWaitingHooks {
  /** Interrupts were handed to a consumer (an INTx line stays masked until it is unmasked). */
  delivered(fired: IrqFired[]): void;
  /** The kernel asked for the device back `count` times since the last call. */
  requested(count: number): void;
  /** The kernel reported `count` errors of the device since the last call. */
  errored(count: number): void;
  /** Whether a handler listens for the request or the error, so the event loop must watch even without waits. */
  listening(): boolean;
}

/** Where eventfds are watched: each under the tag of what it signals. */
export interface IrqWatch {
  add(tag: IrqTag, fd: EventFd): void;
  remove(tag: IrqTag): void;
}

/** How long the watch outlives the last wait (Node may exit this much later than it could). */
const RELAX_MS = 10;

/**
 * The watched eventfds (`IrqEventfds`), the counts read and not yet handed out, and the pending
 * asynchronous waits. The event loop watches only while a wait is pending or a request handler
 * listens: an active watch keeps Node alive, like a listening socket.
 *
 * The wake-up (bench/host's interrupt row) makes no avoidable system call and allocates only
 * what it returns. With one eventfd, a wait first reads it (an interrupt already there costs
 * one call), an epoll's readiness is that eventfd's (read without asking the epoll), and the
 * event loop watches the eventfd itself. The watch is relaxed RELAX_MS after the waits ran out,
 * so a consumer that waits again keeps it (no `epoll_ctl` in libuv per interrupt, one of them
 * before the consumer's code ran).
 */
export class IrqWaiting extends Resource implements IrqWatch {
  readonly #device: string;
  readonly #hooks: IrqWaitingHooks;
  readonly #eventfds = new IrqEventfds(() => this.#onAsyncReady());
  /** The epoll data of the ready eventfds, reused by every wait. */
  readonly #ready: number[] = [];
  /** Set while a relax of the watch is due. */
  #relaxTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #pending = new PendingIrqs();
  readonly #waiters = new IrqWaiterQueue();
  readonly #takeAll = (): IrqFired[] => this.#take();
  /** The kernel's signals read and not yet told (`#signal`). */
  #requests = 0;
  #errors = 0;
  /** Why the waits ended, once closed: a close on the kernel's request ends them as 'removed'. */
  #ended: IrqAbortReason = 'closed';

  /** `device` names the device in messages. */
  constructor(device: string, hooks: IrqWaitingHooks) {
    super();
    this.#device = device;
    this.#hooks = hooks;
  }

  get name(): string {
    return `interrupt waits of ${this.#device}`;
  }

  /** Watches `fd` under `tag`. */
  add(tag: IrqTag, fd: EventFd): void {
    this.check();
    this.#eventfds.add(tag, fd);
  }

  /** Stops watching the eventfd of `tag` (the caller closes it); a vector's pending count goes too. */
  remove(tag: IrqTag): void {
    if (this.#eventfds.remove(tag) && tag.kind === 'vector') this.#pending.drop(tag.vector);
  }

  /**
   * Blocks up to `timeoutMs` (-1: forever) for interrupts; `[]` on timeout, or at once when a
   * request handler disabled the vectors meanwhile. When a handler closed the device, throws
   * the `IrqWaitAbortedError` a pending `waitAsync` gets.
   */
  wait(timeoutMs: number): IrqFired[] {
    this.check();
    if (this.#pending.size > 0) return this.#take();
    const only = this.#eventfds.only;
    return only !== undefined && only.vector >= 0 ? this.#waitOne(only, timeoutMs) : this.#waitMany(timeoutMs);
  }

  /** `wait` on several eventfds, or on the request's alone (out of line: the one-vector wait stays small). */
  #waitMany(timeoutMs: number): IrqFired[] {
    // The clock is read once before the first wait; again only when a wait must be repeated.
    const start = timeoutMs > 0 ? performance.now() : 0;
    for (let left = timeoutMs < 0 ? -1 : Math.ceil(timeoutMs); ;) {
      this.#eventfds.sync().waitData(left, this.#ready);
      this.#read(this.#ready);
      this.#signal();
      if (this.closed) throw new IrqWaitAbortedError(this.#ended, this.#device);
      if (this.#pending.size > 0) return this.#take();
      if (left === 0 || !this.#eventfds.hasVectors()) return [];
      if (left > 0) left = Math.max(0, Math.ceil(start + timeoutMs - performance.now()));
    }
  }

  /**
   * `wait` with one vector watched: its eventfd is read first, so an interrupt already there
   * costs one call; else any readiness of the synchronous epoll is that eventfd's, and nothing
   * else can end the wait, so the clock is not read: `epoll_wait`, then one read. A readiness
   * whose read finds the counter empty (another reader took the count) ends a timed wait
   * early, with `[]`.
   */
  #waitOne(only: WatchedEventfd, timeoutMs: number): IrqFired[] {
    let count = only.fd.readCount();
    if (count === 0) {
      const sync = this.#eventfds.sync();
      const timeout = timeoutMs < 0 ? -1 : Math.ceil(timeoutMs);
      do {
        if (sync.waitCount(timeout) === 0) return [];
        count = only.fd.readCount();
      } while (count === 0 && timeout < 0);
      if (count === 0) return [];
    }
    const fired = [{ vector: only.vector, count }];
    this.#hooks.delivered(fired);
    return fired;
  }

  /** Waits from the event loop: see `Interrupts.waitAsync`. */
  waitAsync(timeoutMs: number): Promise<IrqFired[]> {
    this.check();
    if (this.#pending.size > 0) return Promise.resolve(this.#take());
    const fired = this.#waiters.add(timeoutMs, () => this.relaxWatch());
    this.startWatch();
    return fired;
  }

  /** Ends the pending asynchronous waits with `reason`. */
  abort(reason: IrqAbortReason): void {
    this.#waiters.abort(reason, this.#device);
    this.relaxWatch();
  }

  /** Closes, ending the waits (a blocked `wait` too, once back from its handlers) with `reason`. */
  end(reason: IrqAbortReason): void {
    if (!this.closed) this.#ended = reason;
    this.close();
  }

  /** Watches from the event loop while someone needs it. */
  startWatch(): void {
    if (!this.closed && (this.#waiters.length > 0 || this.#hooks.listening())) this.#eventfds.start();
  }

  /** Stops watching when nobody needs it any more (so Node may exit). */
  relaxWatch(): void {
    if (!this.closed && this.#waiters.length === 0 && !this.#hooks.listening()) this.#eventfds.stop();
  }

  /** Reads the eventfds of the ready epoll data: vectors into the pending counts, signals into theirs. */
  #read(ready: readonly number[]): void {
    for (const data of ready) {
      const w = this.#eventfds.get(data);
      if (w) this.#readOne(w); // else removed since the wait started
    }
  }

  /** Reads one eventfd (0 when it was not signalled after all) into the pending counts. */
  #readOne({ vector, fd }: WatchedEventfd): void {
    const count = fd.readCount();
    if (vector >= 0) this.#pending.add(vector, count);
    else if (vector === REQUEST_VECTOR) this.#requests += count;
    else this.#errors += count;
  }

  /** Tells the kernel's signals read so far: errors first, as a request handler may close the device. */
  #signal(): void {
    const errors = this.#errors;
    const requests = this.#requests;
    if (errors === 0 && requests === 0) return;
    this.#errors = this.#requests = 0;
    if (errors > 0) this.#hooks.errored(errors);
    if (requests > 0) this.#hooks.requested(requests);
  }

  #take(): IrqFired[] {
    const fired = this.#pending.take();
    if (fired.length > 0) this.#hooks.delivered(fired);
    return fired;
  }

  /**
   * On the event loop: the watched fd is readable. With one eventfd, it is that one (a spurious
   * wake-up reads 0); else the epoll holding them says which are ready.
   */
  #onAsyncReady(): void {
    if (this.closed) return;
    const only = this.#eventfds.only;
    if (only !== undefined) this.#readOne(only);
    else {
      this.#eventfds.readyData(this.#ready);
      this.#read(this.#ready);
    }
    this.#waiters.serve(this.#takeAll);
    this.#signal();
    if (!this.closed) this.#relaxSoon();
  }

  /**
   * Relaxes the watch RELAX_MS after the waits ran out, unless someone waits again by then: a
   * consumer that waits in a loop arms one timer per RELAX_MS, not a callback per interrupt
   * (a setImmediate here cost 2.5 us between the eventfd's read and the consumer's code).
   */
  #relaxSoon(): void {
    if (this.#relaxTimer !== undefined || this.#waiters.length > 0 || this.#hooks.listening()) return;
    this.#relaxTimer = setTimeout(() => {
      this.#relaxTimer = undefined;
      this.relaxWatch();
    }, RELAX_MS).unref();
  }

  /** Closes the watch and the epolls (the eventfds are their owners'); waits end as `end()` said, else 'closed'. */
  protected release(): void {
    clearTimeout(this.#relaxTimer);
    this.#relaxTimer = undefined;
    closeAll([() => this.#eventfds.close(), () => this.#waiters.abort(this.#ended, this.#device)]);
  }
}
