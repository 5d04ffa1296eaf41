/**
 * Interrupts of a VFIO device: INTx, MSI or MSI-X signalled through one eventfd per vector,
 * waited for synchronously (epoll_wait on the calling thread) or asynchronously (an epoll fd
 * watched by Node's event loop, so JavaScript keeps running and no thread is blocked), plus
 * software trigger, mask and unmask, and the kernel's request to give the device back.
 */
import {
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_PCI_REQ_IRQ_INDEX,
  buildIrqSet,
  type IrqSetRequest,
} from '../../structs/index.js';
import { closeAll, Epoll, EventFd, FdWatcher, Resource, SysError, sysIoctl, type EpollReady } from '../sys/index.js';
import {
  IRQ_INDEX,
  IRQ_NAME,
  checkVectorRange,
  chooseIrqType,
  decodeIrqTag,
  encodeIrqTag,
  isIrqType,
  type IrqType,
} from './irq-vectors.js';
import type { Device } from './device.js';

/** Options of {@link Interrupts.enable}. */
export interface EnableIrqOptions {
  /** First vector to enable (default 0). */
  start?: number;
  /**
   * Number of vectors from `start` (default: all the device has from `start`). Keep it <= 16:
   * interrupt remapping entries are limited.
   */
  count?: number;
  /**
   * INTx only (default true): unmask INTx when the consumer comes back for the next interrupt
   * (the next `wait()`, `waitAsync()` or iterator step), i.e. after it handled the last one and
   * cleared the device's interrupt condition. With `false`, call `unmask()` yourself.
   */
  autoUnmask?: boolean;
}

/** Interrupts of one vector since the last wait: `count` is how often it fired (eventfd counter). */
export interface IrqFired {
  vector: number;
  count: number;
}

/** The kernel asks for the device back (a driver unbind or a hot-unplug is waiting). */
export interface IrqRequest {
  device: Device;
  /** Requests since the last one delivered (the kernel repeats it until the device is closed). */
  count: number;
}

/** Why a pending asynchronous wait ended without interrupts. */
export type IrqAbortReason = 'stopped' | 'disabled' | 'closed';

/** A pending `waitAsync()` ended because of `stop()`, `disable()` or `close()` (of the interrupts or the device). */
export class IrqWaitAbortedError extends Error {
  override name = 'IrqWaitAbortedError';
  constructor(
    readonly reason: IrqAbortReason,
    device: string,
  ) {
    const why =
      reason === 'closed'
        ? 'the device (or its interrupts) was closed'
        : reason === 'disabled'
          ? 'interrupts were disabled'
          : 'stop() was called';
    super(`interrupt wait on ${device} ended: ${why}`);
  }
}

interface Waiter {
  resolve(fired: IrqFired[]): void;
  reject(err: unknown): void;
  timer?: ReturnType<typeof setTimeout>;
}

const REQ_TAG = encodeIrqTag({ kind: 'request' });

/**
 * The interrupts of one device. Get it from `device.interrupts`; it is closed with the device.
 *
 * Only one of INTx, MSI and MSI-X can be enabled at a time (a vfio-pci rule): `enable()` of a
 * second type while one is enabled throws; call `disable()` first. Enabling the same type again
 * reprograms it (another vector range).
 *
 * Threads: none. One epoll holds the vectors for synchronous waits (epoll_wait on the calling
 * thread); a second one, for asynchronous waits, is watched by Node's event loop (a libuv poll
 * handle, through koffi), however many vectors or waiters there are. While an asynchronous
 * wait or a request handler is active, that watch keeps the process alive, like a listening
 * socket: close the device (or `stop()`, or unsubscribe the handler) to let Node exit.
 *
 * A device reset (`device.reset()`) may drop MSI/MSI-X triggers in the device: call `rearm()`
 * afterwards (same vectors, same eventfds, waiters keep waiting).
 *
 * @example
 * ```ts
 * using dev = openDevice('00:03.0');
 * const irqs = dev.interrupts;
 * irqs.enable('auto');                 // 'msix' | 'msi' | 'intx', whichever is best
 * dev.bar(0).write32(0x60, 1);         // edu: raise an interrupt
 * console.log(irqs.wait(1000));        // [{ vector: 0, count: 1 }]
 * for await (const { vector } of irqs) { ... }   // never blocks the event loop
 * ```
 */
export class Interrupts extends Resource {
  readonly device: Device;
  readonly #syncEpoll: Epoll;
  readonly #asyncEpoll: Epoll;
  readonly #watcher: FdWatcher;
  #type: IrqType | undefined;
  #start = 0;
  readonly #vectors = new Map<number, EventFd>();
  #autoUnmask = true;
  #intxOwed = false;
  readonly #pending = new Map<number, number>();
  #waiters: Waiter[] = [];
  #requestFd: EventFd | undefined;
  #requestCount = 0;
  readonly #requestHandlers = new Set<(req: IrqRequest) => void>();

  /** @internal Use `device.interrupts`. */
  constructor(device: Device) {
    super();
    this.device = device;
    const opened: Array<{ close(): void }> = [];
    try {
      this.#syncEpoll = new Epoll();
      opened.push(this.#syncEpoll);
      this.#asyncEpoll = new Epoll();
      opened.push(this.#asyncEpoll);
      this.#watcher = new FdWatcher(this.#asyncEpoll.fd, () => this.#afterAsync(this.#asyncEpoll.wait(0)));
    } catch (e) {
      closeAll(opened.reverse().map((r) => () => r.close()));
      throw e;
    }
  }

  get name(): string {
    return `interrupts of ${this.device.address}`;
  }

  /** Vectors per type as the device reports them (0 where the type is absent or lacks eventfd signalling). */
  get supported(): Record<IrqType, number> {
    this.check();
    const out = { intx: 0, msi: 0, msix: 0 };
    for (const t of ['intx', 'msi', 'msix'] as const) {
      const i = this.#info(t);
      out[t] = i.eventfd ? i.count : 0;
    }
    return out;
  }

  /** The best type the device supports with eventfd signalling (MSI-X, then MSI, then INTx), or undefined. */
  get best(): IrqType | undefined {
    this.check();
    return chooseIrqType((t) => this.#info(t));
  }

  /** The enabled type, or undefined. */
  get type(): IrqType | undefined {
    return this.#type;
  }

  /** The enabled vector numbers (empty when disabled). */
  get vectors(): number[] {
    return [...this.#vectors.keys()];
  }

  #info(t: IrqType) {
    return this.device.irqInfo(IRQ_INDEX[t]);
  }

  /**
   * Enables `type` (`'auto'`: the best the device supports) on vectors `start..start+count-1`
   * (all by default), each with its own eventfd. Returns the type enabled.
   */
  enable(type: IrqType | 'auto' = 'auto', options: EnableIrqOptions = {}): IrqType {
    this.check();
    const t = type === 'auto' ? this.best : type;
    if (t === undefined) {
      throw new Error(
        `${this.device.address} has no interrupts with eventfd signalling (INTx, MSI and MSI-X all report count 0 or no EVENTFD flag): poll its registers instead`,
      );
    }
    if (!isIrqType(t))
      throw new RangeError(`interrupt type must be 'msix', 'msi', 'intx' or 'auto', got ${String(type)}`);
    if (this.#type !== undefined && this.#type !== t) {
      throw new Error(
        `${this.device.address}: cannot enable ${IRQ_NAME[t]} while ${IRQ_NAME[this.#type]} is enabled (vfio-pci allows one of INTx, MSI, MSI-X at a time): call interrupts.disable() first`,
      );
    }
    const info = this.#info(t);
    if (!info.eventfd && info.count > 0)
      throw new Error(
        `${this.device.address}: ${IRQ_NAME[t]} (irq index ${IRQ_INDEX[t]}) does not support eventfd signalling`,
      );
    const { start, count } = checkVectorRange(this.device.address, t, info.count, options.start ?? 0, options.count);
    if (this.#type !== undefined) this.#teardown(); // same type again: reprogram
    const fds: EventFd[] = [];
    try {
      for (let i = 0; i < count; i++) fds.push(new EventFd());
      this.#setIrqs(
        { index: IRQ_INDEX[t], start, count, action: VFIO_IRQ_SET_ACTION_TRIGGER, eventfds: fds.map((f) => f.fd) },
        `${IRQ_NAME[t]} vectors ${start}..${start + count - 1}`,
        `the kernel could not set up ${count} ${IRQ_NAME[t]} vector(s): interrupt remapping entries are limited (use <= 16 vectors), and bus mastering must be on for MSI/MSI-X`,
      );
    } catch (e) {
      closeAll(fds.map((f) => () => f.close()));
      throw e;
    }
    this.#type = t;
    this.#start = start;
    this.#autoUnmask = options.autoUnmask ?? true;
    fds.forEach((fd, i) => {
      this.#vectors.set(start + i, fd);
      const tag = encodeIrqTag({ kind: 'vector', vector: start + i });
      this.#syncEpoll.add(fd.fd, tag);
      this.#asyncEpoll.add(fd.fd, tag);
    });
    return t;
  }

  /**
   * Sets the same vectors up again with the same eventfds (after `device.reset()`, which may
   * drop MSI/MSI-X triggers). Pending waits keep waiting.
   */
  rearm(): void {
    this.check();
    const t = this.#requireEnabled('rearm');
    const fds = [...this.#vectors.values()].map((f) => f.fd);
    this.#setIrqs(
      { index: IRQ_INDEX[t], start: 0, count: 0, action: VFIO_IRQ_SET_ACTION_TRIGGER },
      `disable ${IRQ_NAME[t]}`,
    );
    this.#setIrqs(
      {
        index: IRQ_INDEX[t],
        start: this.#start,
        count: fds.length,
        action: VFIO_IRQ_SET_ACTION_TRIGGER,
        eventfds: fds,
      },
      `${IRQ_NAME[t]} vectors ${this.#start}..${this.#start + fds.length - 1}`,
    );
    this.#intxOwed = false;
  }

  /** Disables the enabled type (the kernel first, then the eventfds are closed). Pending waits end with 'disabled'. */
  disable(): void {
    this.check();
    if (this.#type === undefined) return;
    try {
      this.#teardown();
    } finally {
      this.#abortWaiters('disabled');
    }
  }

  #teardown(): void {
    const t = this.#type!;
    const fds = [...this.#vectors.values()];
    this.#type = undefined;
    this.#vectors.clear();
    this.#pending.clear();
    this.#intxOwed = false;
    closeAll([
      // count 0 with DATA_NONE disables the index; count > 0 would fire the vectors instead.
      () =>
        this.#setIrqs(
          { index: IRQ_INDEX[t], start: 0, count: 0, action: VFIO_IRQ_SET_ACTION_TRIGGER },
          `disable ${IRQ_NAME[t]}`,
        ),
      ...fds.map((f) => () => {
        try {
          this.#syncEpoll.remove(f.fd);
          this.#asyncEpoll.remove(f.fd);
        } finally {
          f.close();
        }
      }),
    ]);
  }

  /** Fires `vector` from software (DATA_NONE + ACTION_TRIGGER): the eventfd is signalled as by the device. */
  trigger(vector = 0): void {
    this.#action(VFIO_IRQ_SET_ACTION_TRIGGER, 'trigger', vector);
  }

  /** Masks `vector` (INTx; vfio-pci cannot mask MSI/MSI-X vectors). */
  mask(vector = 0): void {
    this.#action(VFIO_IRQ_SET_ACTION_MASK, 'mask', vector);
  }

  /**
   * Unmasks `vector`. INTx is masked by the kernel on every interrupt: clear the device's
   * interrupt condition first, then unmask (if it is still asserted, it fires again at once).
   */
  unmask(vector = 0): void {
    this.#action(VFIO_IRQ_SET_ACTION_UNMASK, 'unmask', vector);
    if (this.#type === 'intx') this.#intxOwed = false;
  }

  #action(action: number, verb: string, vector: number): void {
    this.check();
    const t = this.#requireEnabled(verb);
    if (!this.#vectors.has(vector)) {
      const v = this.vectors;
      throw new RangeError(
        `${this.device.address}: cannot ${verb} ${IRQ_NAME[t]} vector ${vector}: enabled vectors are ${v[0]}..${v[v.length - 1]} (irq index ${IRQ_INDEX[t]})`,
      );
    }
    if (action !== VFIO_IRQ_SET_ACTION_TRIGGER && !this.#info(t).maskable) {
      throw new Error(
        `${this.device.address}: ${IRQ_NAME[t]} (irq index ${IRQ_INDEX[t]}) is not maskable through VFIO (no MASKABLE flag): mask it in the device instead (e.g. the MSI-X table's vector control or a device register)`,
      );
    }
    this.#setIrqs({ index: IRQ_INDEX[t], start: vector, count: 1, action }, `${verb} ${IRQ_NAME[t]} vector ${vector}`);
  }

  /**
   * Waits up to `timeoutMs` (-1: forever) on the calling thread (blocks the event loop) and
   * returns the vectors that fired and how often, sorted by vector; `[]` on timeout. Reading
   * clears them. Interrupts already collected by an asynchronous wait are returned first.
   */
  wait(timeoutMs = -1): IrqFired[] {
    this.check();
    this.#requireEnabled('wait');
    this.#settleIntx();
    if (this.#pending.size > 0) return this.#take();
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      const left = deadline === Infinity ? -1 : Math.max(0, Math.ceil(deadline - performance.now()));
      const ready = this.#syncEpoll.wait(left);
      const requested = this.#drain(ready);
      if (requested) this.#dispatchRequest();
      if (this.#pending.size > 0) return this.#take();
      if (left === 0 || this.closed || this.#type === undefined) return [];
    }
  }

  /**
   * Waits without blocking the event loop (the event loop watches the vectors). Resolves with the
   * vectors that fired, `[]` after `timeoutMs` (-1: no timeout); rejects with
   * {@link IrqWaitAbortedError} on `stop()`, `disable()` or `close()`.
   */
  waitAsync(timeoutMs = -1): Promise<IrqFired[]> {
    try {
      this.check();
      this.#requireEnabled('waitAsync');
      this.#settleIntx();
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#pending.size > 0) return Promise.resolve(this.#take());
    return new Promise<IrqFired[]>((resolve, reject) => {
      const w: Waiter = {
        resolve: (f) => {
          if (w.timer) clearTimeout(w.timer);
          resolve(f);
        },
        reject: (e) => {
          if (w.timer) clearTimeout(w.timer);
          reject(e);
        },
      };
      if (timeoutMs >= 0) {
        w.timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          resolve([]);
          this.#relax();
        }, timeoutMs);
      }
      this.#waiters.push(w);
      this.#kick();
    });
  }

  /**
   * Interrupts as they come, one `{vector, count}` at a time, without blocking the event loop.
   * Ends (done) on `stop()`, `disable()` or `close()`. INTx is unmasked when the loop asks for
   * the next interrupt (unless enabled with `autoUnmask: false`).
   */
  async *events(): AsyncGenerator<IrqFired, void, undefined> {
    for (;;) {
      let batch: IrqFired[];
      try {
        batch = await this.waitAsync();
      } catch (e) {
        if (e instanceof IrqWaitAbortedError) return;
        throw e;
      }
      for (const f of batch) yield f;
    }
  }

  /** Same as {@link events}. */
  [Symbol.asyncIterator](): AsyncGenerator<IrqFired, void, undefined> {
    return this.events();
  }

  /**
   * Ends pending asynchronous waits (`waitAsync` rejects with 'stopped', iterators finish) and
   * stops watching. Waiting again afterwards is allowed.
   */
  stop(): void {
    if (this.closed) return;
    this.#abortWaiters('stopped');
  }

  /**
   * Calls `handler` when the kernel asks for the device back (VFIO_PCI_REQ_IRQ_INDEX: someone
   * unbinds vfio-pci or the device is being removed); the handler should close the device. The
   * kernel blocks that unbind until the device is closed. Returns a function that unsubscribes.
   * While a handler is registered, the event loop watches for the request (keeping Node alive).
   */
  onRequest(handler: (req: IrqRequest) => void): () => void {
    this.check();
    if (!this.#requestFd) {
      const info = this.device.irqInfo(VFIO_PCI_REQ_IRQ_INDEX);
      if (info.count < 1 || !info.eventfd)
        throw new Error(
          `${this.device.address} has no request interrupt (irq index ${VFIO_PCI_REQ_IRQ_INDEX} reports count 0): the kernel cannot ask it back`,
        );
      const fd = new EventFd();
      try {
        this.#setIrqs(
          { index: VFIO_PCI_REQ_IRQ_INDEX, start: 0, count: 1, action: VFIO_IRQ_SET_ACTION_TRIGGER, eventfds: [fd.fd] },
          'request interrupt',
        );
        this.#syncEpoll.add(fd.fd, REQ_TAG);
        this.#asyncEpoll.add(fd.fd, REQ_TAG);
      } catch (e) {
        fd.close();
        throw e;
      }
      this.#requestFd = fd;
    }
    this.#requestHandlers.add(handler);
    this.#kick();
    return () => {
      if (!this.#requestHandlers.delete(handler) || this.#requestHandlers.size > 0 || this.closed) return;
      this.#dropRequest();
      this.#relax();
    };
  }

  #dropRequest(): void {
    const fd = this.#requestFd;
    if (!fd) return;
    this.#requestFd = undefined;
    closeAll([
      () =>
        this.#setIrqs(
          { index: VFIO_PCI_REQ_IRQ_INDEX, start: 0, count: 1, action: VFIO_IRQ_SET_ACTION_TRIGGER, eventfds: [-1] },
          'disable request interrupt',
        ),
      () => fd.close(), // closing removes it from both epolls
    ]);
  }

  // ---- internals ----

  #requireEnabled(verb: string): IrqType {
    if (this.#type === undefined)
      throw new Error(
        `${this.device.address}: cannot ${verb}: no interrupts are enabled; call device.interrupts.enable() first`,
      );
    return this.#type;
  }

  #setIrqs(req: IrqSetRequest, what: string, hint?: string): void {
    const buf = buildIrqSet(req);
    try {
      sysIoctl(
        this.device.fd,
        'VFIO_DEVICE_SET_IRQS',
        buf,
        `${this.device.address} irq index ${req.index} (${what})`,
        hint,
      );
    } catch (e) {
      if (e instanceof SysError && hint === undefined && e.code === 'EINVAL') {
        throw e.withHint(
          `the kernel refused to ${what}: check the vector range against irqInfo(${req.index}).count and that this type is the one enabled`,
        );
      }
      throw e;
    }
  }

  /** INTx owed an unmask since the last delivery: the consumer is back, so it handled it. */
  #settleIntx(): void {
    if (this.#intxOwed && this.#type === 'intx' && this.#autoUnmask) this.unmask(0);
    this.#intxOwed = false;
  }

  /** Reads the ready eventfds into #pending; true when a request arrived. */
  #drain(ready: EpollReady[]): boolean {
    let requested = false;
    for (const r of ready) {
      const tag = decodeIrqTag(r.data);
      if (!tag) continue;
      if (tag.kind === 'request') {
        const n = this.#requestFd ? Number(this.#requestFd.read()) : 0;
        if (n > 0) {
          this.#requestCount += n;
          requested = true;
        }
        continue;
      }
      const fd = this.#vectors.get(tag.vector);
      if (!fd) continue; // disabled since the wait started
      const n = Number(fd.read());
      if (n > 0) this.#pending.set(tag.vector, (this.#pending.get(tag.vector) ?? 0) + n);
    }
    return requested;
  }

  #take(): IrqFired[] {
    const out = [...this.#pending].sort((a, b) => a[0] - b[0]).map(([vector, count]) => ({ vector, count }));
    this.#pending.clear();
    if (this.#type === 'intx' && out.length > 0) this.#intxOwed = true;
    return out;
  }

  #dispatchRequest(): void {
    const count = this.#requestCount;
    this.#requestCount = 0;
    for (const h of [...this.#requestHandlers]) {
      try {
        h({ device: this.device, count });
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  #demand(): boolean {
    return this.#waiters.length > 0 || this.#requestHandlers.size > 0;
  }

  /** Watches the asynchronous epoll from the event loop while someone needs it. */
  #kick(): void {
    if (!this.closed && this.#demand()) this.#watcher.start();
  }

  /** Stops watching when nobody needs it any more (so Node may exit). */
  #relax(): void {
    if (!this.#demand()) this.#watcher.stop();
  }

  /** On the event loop: some vector (or the request) is readable. */
  #afterAsync(ready: EpollReady[]): void {
    if (this.closed) return;
    const requested = this.#drain(ready);
    while (this.#waiters.length > 0 && this.#pending.size > 0) this.#waiters.shift()!.resolve(this.#take());
    if (requested) this.#dispatchRequest();
    this.#relax();
  }

  #abortWaiters(reason: IrqAbortReason): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w.reject(new IrqWaitAbortedError(reason, this.device.address));
    this.#relax();
  }

  /** Disables in the kernel first, then closes the eventfds and epolls; pending waits end with 'closed' after that. */
  protected release(): void {
    this.#requestHandlers.clear();
    const fds = [...this.#vectors.values()];
    const t = this.#type;
    this.#type = undefined;
    this.#vectors.clear();
    this.#pending.clear();
    closeAll([
      () => {
        if (t !== undefined)
          this.#setIrqs(
            { index: IRQ_INDEX[t], start: 0, count: 0, action: VFIO_IRQ_SET_ACTION_TRIGGER },
            `disable ${IRQ_NAME[t]}`,
          );
      },
      () => this.#dropRequest(),
      ...fds.map((f) => () => f.close()),
      () => this.#watcher.close(),
      () => this.#syncEpoll.close(),
      () => this.#asyncEpoll.close(),
      () => {
        const ws = this.#waiters;
        this.#waiters = [];
        for (const w of ws) w.reject(new IrqWaitAbortedError('closed', this.device.address));
      },
    ]);
  }
}
