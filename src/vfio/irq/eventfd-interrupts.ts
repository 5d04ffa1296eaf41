/** Interrupt waits on eventfds that no device owns: the seam of bench/host and the unit tests. */
import { Resource, type EventFd } from '../../sys/index.js';
import { oneByOne, type IrqFired } from './wait-queue.js';
import { IrqWaiting, type IrqWaitingHooks } from './waiting.js';

const NO_DEVICE: IrqWaitingHooks = {
  delivered: () => {},
  requested: () => {},
  errored: () => {},
  listening: () => false,
};

/**
 * @internal Interrupt waits on eventfds no device owns, for bench/host and
 * test/unit/vfio/irq/waiting.test.ts (not exported): vector `i` is `eventfds[i]`, under a
 * device's tag for vector `i`, waited for through the same `IrqWaiting` as `Interrupts`' (without
 * what a device adds: `VFIO_DEVICE_SET_IRQS`, INTx unmask, the request). The eventfds stay the
 * caller's.
 */
export class EventfdInterrupts extends Resource {
  readonly #waiting: IrqWaiting;

  /** `name` stands for the device in messages. */
  constructor(name: string, eventfds: readonly EventFd[]) {
    super();
    this.#waiting = new IrqWaiting(name, NO_DEVICE);
    try {
      eventfds.forEach((fd, vector) => this.#waiting.add({ kind: 'vector', vector }, fd));
    } catch (e) {
      this.#waiting.close();
      throw e;
    }
  }

  get name(): string {
    return this.#waiting.name;
  }

  wait(timeoutMs = -1): IrqFired[] {
    this.check();
    return this.#waiting.wait(timeoutMs);
  }

  waitAsync(timeoutMs = -1): Promise<IrqFired[]> {
    try {
      this.check();
      return this.#waiting.waitAsync(timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  events(): AsyncGenerator<IrqFired, void, undefined> {
    return oneByOne(() => this.waitAsync());
  }

  [Symbol.asyncIterator](): AsyncGenerator<IrqFired, void, undefined> {
    return this.events();
  }

  stop(): void {
    if (!this.closed) this.#waiting.abort('stopped');
  }

  /** Stops watching the eventfds (they stay open); pending waits end with 'closed'. */
  protected release(): void {
    this.#waiting.close();
  }
}
