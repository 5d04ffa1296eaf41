/**
 * Waiting for a device's interrupts. Every eventfd (a vector's, the request's) sits in two
 * epolls: `wait()` blocks the calling thread on the first; Node's event loop watches the second
 * for `waitAsync()` (a libuv poll handle through koffi, `FdWatcher`), so no thread is needed
 * however many vectors or waits there are.
 */
import { closeAll, Epoll, FdWatcher, Resource, type EventFd } from '../../sys/index.js';
import { encodeIrqTag, type IrqTag } from './vectors.js';
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

/** Where eventfds are watched: both epolls, each eventfd under the tag of what it signals. */
export interface IrqWatch {
  add(tag: IrqTag, fd: EventFd): void;
  remove(tag: IrqTag): void;
}

/** How long the watch outlives the last wait (Node may exit this much later than it could). */
const RELAX_MS = 10;

/** A watched eventfd and what it signals: `vector` is -1 for the request. */
interface Watched {
  vector: number;
  fd: EventFd;
}

/** The epoll data of a tag as a number (below 2^35: exact). */
const dataOf = (tag: IrqTag): number => Number(encodeIrqTag(tag));

/**
 * The two epolls, their watcher, the counts read and not yet handed out, and the pending
 * asynchronous waits. The event loop watches only while a wait is pending or a request handler
 * listens: an active watch keeps Node alive, like a listening socket.
 *
 * The wake-up (bench/host's interrupt row) makes no avoidable system call and allocates only
 * what it returns: with one eventfd watched, an epoll's readiness says which it is, so it is
 * read without asking the epoll; the watch is relaxed RELAX_MS after the waits ran out, so a
 * consumer that waits again keeps it (no `epoll_ctl` in libuv per interrupt, one of them
 * before the consumer's code ran).
 */
export class IrqWaiting extends Resource implements IrqWatch {
  readonly #device: string;
  readonly #hooks: IrqWaitingHooks;
  /** Opened with the first eventfd or wait, so that `dev.interrupts` itself makes no system call. */
  #epolls: { sync: Epoll; async: Epoll; watcher: FdWatcher } | undefined;
  /** The watched eventfds by their epoll data; `#only` while there is one. */
  readonly #watched = new Map<number, Watched>();
  #only: Watched | undefined;
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

  /** The two epolls and the watcher of the second, opened on first use. */
  #open(): { sync: Epoll; async: Epoll; watcher: FdWatcher } {
    if (this.#epolls) return this.#epolls;
    const opened: Array<Epoll | FdWatcher> = [];
    try {
      const sync = new Epoll();
      opened.push(sync);
      const async = new Epoll();
      opened.push(async);
      const watcher = new FdWatcher(async.fd, () => this.#onAsyncReady());
      this.#epolls = { sync, async, watcher };
      return this.#epolls;
    } catch (e) {
      closeAll(opened.reverse().map((r) => () => r.close()));
      throw e;
    }
  }

  get name(): string {
    return `interrupt waits of ${this.#device}`;
  }

  /** Watches `fd` in both epolls under `tag`. */
  add(tag: IrqTag, fd: EventFd): void {
    this.check();
    const data = encodeIrqTag(tag);
    const { sync, async } = this.#open();
    sync.add(fd.fd, data);
    try {
      async.add(fd.fd, data);
    } catch (e) {
      sync.remove(fd.fd);
      throw e;
    }
    this.#watched.set(Number(data), { vector: tag.kind === 'vector' ? tag.vector : -1, fd });
    this.#onlyOne();
  }

  #onlyOne(): void {
    this.#only = this.#watched.size === 1 ? this.#watched.values().next().value : undefined;
  }

  /** Stops watching the eventfd of `tag` (the caller closes it); a vector's pending count goes too. */
  remove(tag: IrqTag): void {
    const data = dataOf(tag);
    const fd = this.#watched.get(data)?.fd;
    if (!fd) return;
    this.#watched.delete(data);
    this.#onlyOne();
    if (tag.kind === 'vector') this.#pending.drop(tag.vector);
    const { sync, async } = this.#open();
    closeAll([() => sync.remove(fd.fd), () => async.remove(fd.fd)]);
  }

  /**
   * Blocks up to `timeoutMs` (-1: forever) for interrupts; `[]` on timeout, or at once when a
   * request handler disabled the vectors or closed the device meanwhile.
   */
  wait(timeoutMs: number): IrqFired[] {
    this.check();
    if (this.#pending.size > 0) return this.#take();
    const only = this.#only;
    return only !== undefined && only.vector >= 0 ? this.#waitOne(only, timeoutMs) : this.#waitMany(timeoutMs);
  }

  /** `wait` on several eventfds, or on the request's alone (out of line: the one-vector wait stays small). */
  #waitMany(timeoutMs: number): IrqFired[] {
    // The clock is read once before the first wait; again only when a wait must be repeated.
    const start = timeoutMs > 0 ? performance.now() : 0;
    for (let left = timeoutMs < 0 ? -1 : Math.ceil(timeoutMs); ;) {
      const sync = this.#open().sync;
      sync.waitData(left, this.#ready);
      const requests = this.#read(this.#ready);
      if (requests > 0) this.#hooks.requested(requests);
      if (this.#pending.size > 0) return this.#take();
      if (left === 0 || !this.#watchesVectors()) return [];
      if (left > 0) left = Math.max(0, Math.ceil(start + timeoutMs - performance.now()));
    }
  }

  /**
   * `wait` with one vector watched: any readiness of the synchronous epoll is its eventfd's,
   * and nothing else can end the wait, so the clock is not read: `epoll_wait`, then one read.
   * A readiness whose read finds the counter empty (another reader took the count) ends a
   * timed wait early, with `[]`.
   */
  #waitOne(only: Watched, timeoutMs: number): IrqFired[] {
    const sync = this.#open().sync;
    const timeout = timeoutMs < 0 ? -1 : Math.ceil(timeoutMs);
    do {
      if (sync.waitCount(timeout) === 0) return [];
      const count = only.fd.readCount();
      if (count > 0) {
        const fired = [{ vector: only.vector, count }];
        this.#hooks.delivered(fired);
        return fired;
      }
    } while (timeout < 0);
    return [];
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

  /** Watches the asynchronous epoll from the event loop while someone needs it. */
  startWatch(): void {
    if (!this.closed && (this.#waiters.length > 0 || this.#hooks.listening())) this.#open().watcher.start();
  }

  /** Stops watching when nobody needs it any more (so Node may exit). */
  relaxWatch(): void {
    if (!this.closed && this.#waiters.length === 0 && !this.#hooks.listening()) this.#epolls?.watcher.stop();
  }

  #watchesVectors(): boolean {
    for (const w of this.#watched.values()) if (w.vector >= 0) return true;
    return false;
  }

  /** Reads the eventfds of the ready epoll data: vectors into the pending counts; returns the requests' count. */
  #read(ready: readonly number[]): number {
    let requests = 0;
    for (const data of ready) {
      const w = this.#watched.get(data);
      if (w) requests += this.#readOne(w); // else removed since the wait started
    }
    return requests;
  }

  /** Reads one eventfd (0 when it was not signalled after all): a vector's count goes to the pending ones. */
  #readOne({ vector, fd }: Watched): number {
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
   * On the event loop: the asynchronous epoll is readable. With one eventfd in it, that one is
   * ready (a spurious wake-up reads 0), and the epoll drops it from its ready list by itself.
   */
  #onAsyncReady(): void {
    if (this.closed) return;
    const only = this.#only;
    let requests: number;
    if (only !== undefined) requests = this.#readOne(only);
    else {
      this.#open().async.waitData(0, this.#ready);
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

  /** Closes the watcher and both epolls (the eventfds are their owners'); pending waits end with 'closed'. */
  protected release(): void {
    clearTimeout(this.#relaxTimer);
    this.#relaxTimer = undefined;
    this.#watched.clear();
    this.#only = undefined;
    const epolls = this.#epolls;
    this.#epolls = undefined;
    closeAll([
      () => epolls?.watcher.close(),
      () => epolls?.sync.close(),
      () => epolls?.async.close(),
      () => this.#waiters.abort('closed', this.#device),
    ]);
  }
}
