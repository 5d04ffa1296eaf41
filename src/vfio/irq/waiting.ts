/**
 * Waiting for a device's interrupts: `wait()` blocks the calling thread on an epoll of the
 * eventfds (a vector's, the request's); `waitAsync()` is served from Node's event loop, so no
 * thread is needed however many vectors or waits there are (irq-eventfds.ts: where they are
 * watched).
 */
import { closeAll, Resource, type EventFd } from '../../sys/index.js';
import { IrqEventfds, type WatchedEventfd } from './irq-eventfds.js';
import { type IrqTag } from './vectors.js';
import { IrqWaiterQueue, PendingIrqs, type IrqFired } from './wait-queue.js';
import { type IrqAbortReason } from '../../../structs/index.js';

/** What the waiting tells, and asks of, the interrupts it serves. */
export interface IrqWaitingHooks {
  /** Interrupts were handed to a consumer (an INTx line stays masked until it is unmasked). */
  delivered(fired: IrqFired[]): void;
  /** The kernel asked for the device back `count` times since the last call. */
  requested(count: number): void;
  /** Whether a handler listens for the request, so the event loop must watch even without waits. */
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
   * request handler disabled the vectors or closed the device meanwhile.
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
      const requests = this.#read(this.#ready);
      if (requests > 0) this.#hooks.requested(requests);
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

  /** Watches from the event loop while someone needs it. */
  startWatch(): void {
    if (!this.closed && (this.#waiters.length > 0 || this.#hooks.listening())) this.#eventfds.start();
  }

  /** Stops watching when nobody needs it any more (so Node may exit). */
  relaxWatch(): void {
    if (!this.closed && this.#waiters.length === 0 && !this.#hooks.listening()) this.#eventfds.stop();
  }

  /** Reads the eventfds of the ready epoll data: vectors into the pending counts; returns the requests' count. */
  #read(ready: readonly number[]): number {
    let requests = 0;
    for (const data of ready) {
      const w = this.#eventfds.get(data);
      if (w) requests += this.#readOne(w); // else removed since the wait started
    }
    return requests;
  }

  /** Reads one eventfd (0 when it was not signalled after all): a vector's count goes to the pending ones. */
  #readOne({ vector, fd }: WatchedEventfd): number {
    const count = fd.readCount();
    if (vector < 0) return count;
    this.#pending.add(vector, count);
    return 0;
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
    let requests: number;
    if (only !== undefined) requests = this.#readOne(only);
    else {
      this.#eventfds.readyData(this.#ready);
      requests = this.#read(this.#ready);
    }
    this.#waiters.serve(this.#takeAll);
    if (requests > 0) this.#hooks.requested(requests);
    this.#relaxSoon();
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

  /** Closes the watch and the epolls (the eventfds are their owners'); pending waits end with 'closed'. */
  protected release(): void {
    clearTimeout(this.#relaxTimer);
    this.#relaxTimer = undefined;
    closeAll([() => this.#eventfds.close(), () => this.#waiters.abort('closed', this.#device)]);
  }
}
