/**
 * Interrupts of a VFIO device: `Interrupts` composes the parts, each in a file of its own: the
 * enabled vectors and their eventfds (vector-set.ts), waiting for them (waiting.ts,
 * wait-queue.ts), INTx auto-unmask (intx-unmask.ts) and the kernel's signals: its request to
 * give the device back and its error reports (signal.ts).
 */
import { closeAll, Resource } from '../../sys/index.js';
import { IntxAutoUnmask } from './intx-unmask.js';
import { ERROR_SIGNAL, REQUEST_SIGNAL, SignalInterrupt, type IrqErrorReport, type IrqRequest } from './signal.js';
import { IrqVectorSet } from './vector-set.js';
import type { IrqDevice } from './set.js';
import { chooseIrqType, eventfdVectors, IRQ_INDEX, isIrqType, type IrqType } from './vectors.js';
import { oneByOne, type IrqFired } from './wait-queue.js';
import { IrqWaiting } from './waiting.js';
import { removedError } from '../removed.js';
import { VfioError, VfioErrorCode, VfioRangeError } from '../../../structs/index.js';

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
  readonly device: IrqDevice;
  readonly #waiting: IrqWaiting;
  readonly #vectors: IrqVectorSet;
  readonly #request: SignalInterrupt<IrqRequest>;
  readonly #error: SignalInterrupt<IrqErrorReport>;
  readonly #intx = new IntxAutoUnmask(() => this.unmask(0));
  /** Whether the kernel asked for the device back: closing then ends the waits as 'removed'. */
  #requested = false;

  /** @internal Use `device.interrupts`. */
  constructor(device: IrqDevice) {
    super();
    this.device = device;
    this.#waiting = new IrqWaiting(device.address, {
      delivered: (fired) => this.#intx.delivered(fired),
      requested: (count) => {
        this.#requested = true;
        this.device.requested?.();
        this.#request.deliver(count);
      },
      errored: (count) => this.#error.deliver(count),
      listening: () => this.#request.listening || this.#error.listening,
    });
    this.#vectors = new IrqVectorSet(device, this.#waiting);
    this.#request = new SignalInterrupt(device, this.#waiting, REQUEST_SIGNAL);
    this.#error = new SignalInterrupt(device, this.#waiting, ERROR_SIGNAL);
  }

  get name(): string {
    return `interrupts of ${this.device.address}`;
  }

  /** Vectors per type as the device reports them (0 where the type is absent or lacks eventfd signalling). */
  get supported(): Record<IrqType, number> {
    this.check();
    return eventfdVectors((t) => this.device.irqInfo(IRQ_INDEX[t]));
  }

  /** The best type the device supports with eventfd signalling (MSI-X, then MSI, then INTx), or undefined. */
  get best(): IrqType | undefined {
    this.check();
    return chooseIrqType((t) => this.device.irqInfo(IRQ_INDEX[t]));
  }

  /** The enabled type, or undefined. */
  get type(): IrqType | undefined {
    return this.#vectors.type;
  }

  /** The enabled vector numbers (empty when disabled). */
  get vectors(): number[] {
    return this.#vectors.vectors;
  }

  /**
   * Enables `type` (`'auto'`: the best the device supports) on vectors `start..start+count-1`
   * (all by default), each with its own eventfd. Returns the type enabled.
   */
  enable(type: IrqType | 'auto' = 'auto', options: EnableIrqOptions = {}): IrqType {
    this.check();
    const t = type === 'auto' ? this.best : type;
    if (t === undefined) {
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${this.device.address} has no interrupts with eventfd signalling (INTx, MSI and MSI-X all report count 0 or no EVENTFD flag): poll its registers instead`,
      );
    }
    if (!isIrqType(t))
      throw new VfioRangeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `interrupt type must be 'msix', 'msi', 'intx' or 'auto', got ${String(type)}`,
      );
    this.#vectors.enable(t, options.start ?? 0, options.count);
    this.#intx.arm(t === 'intx' && (options.autoUnmask ?? true));
    return t;
  }

  /**
   * Sets the same vectors up again with the same eventfds (after `device.reset()`, which may
   * drop MSI/MSI-X triggers). Pending waits keep waiting.
   */
  rearm(): void {
    this.check();
    this.#vectors.rearm();
    this.#intx.unmasked(); // set up afresh, INTx starts unmasked
  }

  /** Disables the enabled type (the kernel first, then the eventfds are closed). Pending waits end with 'disabled'. */
  disable(): void {
    this.check();
    if (this.#vectors.type === undefined) return;
    try {
      this.#teardown();
    } finally {
      this.#waiting.abort('disabled');
    }
  }

  /** Fires `vector` from software (DATA_NONE + ACTION_TRIGGER): the eventfd is signalled as by the device. */
  trigger(vector = 0): void {
    this.check();
    this.#vectors.act('trigger', vector);
  }

  /** Masks `vector` (INTx; vfio-pci cannot mask MSI/MSI-X vectors). */
  mask(vector = 0): void {
    this.check();
    this.#vectors.act('mask', vector);
  }

  /**
   * Unmasks `vector`. INTx is masked by the kernel on every interrupt: clear the device's
   * interrupt condition first, then unmask (if it is still asserted, it fires again at once).
   */
  unmask(vector = 0): void {
    this.check();
    this.#vectors.act('unmask', vector);
    this.#intx.unmasked();
  }

  /**
   * Waits up to `timeoutMs` (-1: forever) on the calling thread (blocks the event loop) and
   * returns the vectors that fired and how often, sorted by vector; `[]` on timeout (or
   * earlier, with one vector enabled, if its eventfd was ready but found empty: another reader
   * of the eventfd took the count). Reading clears them. Interrupts already collected by an
   * asynchronous wait are returned first.
   */
  wait(timeoutMs = -1): IrqFired[] {
    this.check();
    this.#vectors.requireEnabled('wait');
    this.#intx.settle();
    return this.#waiting.wait(timeoutMs);
  }

  /**
   * Waits without blocking the event loop (the event loop watches the vectors). Resolves with the
   * vectors that fired, `[]` after `timeoutMs` (-1: no timeout); rejects with
   * `IrqWaitAbortedError` on `stop()`, `disable()` or `close()`.
   */
  waitAsync(timeoutMs = -1): Promise<IrqFired[]> {
    try {
      this.check();
      this.#vectors.requireEnabled('waitAsync');
      this.#intx.settle();
      return this.#waiting.waitAsync(timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Interrupts as they come, one `{vector, count}` at a time, without blocking the event loop.
   * Ends (done) on `stop()`, `disable()` or `close()`. INTx is unmasked when the loop asks for
   * the next interrupt (unless enabled with `autoUnmask: false`).
   */
  events(): AsyncGenerator<IrqFired, void, undefined> {
    return oneByOne(() => this.waitAsync());
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
    this.#waiting.abort('stopped');
  }

  /**
   * Calls `handler` when the kernel asks for the device back (VFIO_PCI_REQ_IRQ_INDEX: someone
   * unbinds vfio-pci or the device is being removed); the handler should close the device. The
   * kernel blocks that unbind until the device is closed. Returns a function that unsubscribes.
   * While a handler is registered, the event loop watches for the request (keeping Node alive).
   */
  onRequest(handler: (req: IrqRequest) => void): () => void {
    return this.#listen(this.#request, handler);
  }

  /**
   * Calls `handler` when the kernel reports an uncorrectable PCIe error of the device
   * (VFIO_PCI_ERR_IRQ_INDEX, raised by vfio-pci when the AER driver reports a non-fatal or fatal
   * error; correctable errors are logged by the kernel and never reach it). Throws
   * `ERR_VFIO_UNSUPPORTED` when the device has no error interrupt. Returns a function that
   * unsubscribes. While a handler is registered, the event loop watches for the error (keeping
   * Node alive); a blocked `wait()` calls it too.
   */
  onError(handler: (report: IrqErrorReport) => void): () => void {
    return this.#listen(this.#error, handler);
  }

  /** Adds `handler` to `signal` and watches from the event loop; returns what unsubscribes. */
  #listen<E extends IrqRequest>(signal: SignalInterrupt<E>, handler: (event: E) => void): () => void {
    this.check();
    signal.add(handler);
    this.#waiting.startWatch();
    return () => {
      if (this.closed) return; // closing dropped every handler already
      signal.remove(handler);
      this.#waiting.relaxWatch();
    };
  }

  /** After the kernel asked for the device back, a use of closed interrupts says so. */
  protected override closedError(): VfioError {
    return this.#requested ? removedError(this.name, this.device.address) : super.closedError();
  }

  /** Disables the vectors (the kernel first, then the eventfds); no unmask is owed any more. */
  #teardown(): void {
    this.#intx.arm(false);
    this.#vectors.disable();
  }

  /**
   * Tears the vectors down as `disable()` does, then the signals; pending waits end after that,
   * as 'removed' when the kernel had asked for the device back, else 'closed'.
   */
  protected release(): void {
    closeAll([
      () => this.#teardown(),
      () => this.#vectors.close(), // nothing left to release after the teardown: marks it closed
      () => this.#request.close(),
      () => this.#error.close(),
      () => this.#waiting.end(this.#requested ? 'removed' : 'closed'),
    ]);
  }
}
