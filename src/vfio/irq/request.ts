/**
 * The request interrupt (`VFIO_PCI_REQ_IRQ_INDEX`): the kernel's way to ask for the device
 * back when someone unbinds vfio-pci or the device is being removed. The kernel blocks that
 * unbind until the device is closed, and repeats the request meanwhile.
 */
import {
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_PCI_REQ_IRQ_INDEX,
  VfioError,
  VfioErrorCode,
} from '../../../structs/index.js';
import { closeAll, EventFd, Resource } from '../../sys/index.js';
import { setIrqs, type IrqDevice } from './set.js';
import type { IrqTag } from './vectors.js';
import type { IrqWatch } from './waiting.js';

/** The kernel asks for the device back (a driver unbind or a hot-unplug is waiting). */
export interface IrqRequest {
  device: IrqDevice;
  /** Requests since the last one delivered (the kernel repeats it until the device is closed). */
  count: number;
}

const REQUEST: IrqTag = { kind: 'request' };

/** The request's eventfd, armed while at least one handler listens. */
export class RequestInterrupt extends Resource {
  #eventfd: EventFd | undefined;
  readonly #handlers = new Set<(req: IrqRequest) => void>();
  readonly #device: IrqDevice;
  readonly #watch: IrqWatch;

  constructor(device: IrqDevice, watch: IrqWatch) {
    super();
    this.#device = device;
    this.#watch = watch;
  }

  get name(): string {
    return `request interrupt of ${this.#device.address}`;
  }

  /** Whether a handler listens (then the event loop must watch for the request). */
  get listening(): boolean {
    return this.#handlers.size > 0;
  }

  /** Adds `handler`; the first one arms the request interrupt (throws when the device has none). */
  add(handler: (req: IrqRequest) => void): void {
    this.check();
    if (!this.#eventfd) this.#eventfd = this.#arm();
    this.#handlers.add(handler);
  }

  /** Removes `handler`; when it was the last one, the request interrupt is disabled and its eventfd closed. */
  remove(handler: (req: IrqRequest) => void): void {
    if (!this.#handlers.delete(handler) || this.#handlers.size > 0) return;
    this.#disarm();
  }

  /** Tells every handler that the kernel asked `count` times; a handler's error is thrown on its own, later. */
  deliver(count: number): void {
    for (const handler of [...this.#handlers]) {
      try {
        handler({ device: this.#device, count });
      } catch (e) {
        // One handler's failure must not keep the others from closing the device.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  #arm(): EventFd {
    const info = this.#device.irqInfo(VFIO_PCI_REQ_IRQ_INDEX);
    if (info.count < 1 || !info.eventfd)
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${this.#device.address} has no request interrupt (irq index ${VFIO_PCI_REQ_IRQ_INDEX} reports count 0): the kernel cannot ask it back`,
      );
    const fd = new EventFd();
    try {
      this.#watch.add(REQUEST, fd);
      this.#setTrigger(fd.fd, 'request interrupt');
    } catch (e) {
      closeAll([() => this.#watch.remove(REQUEST), () => fd.close()]);
      throw e;
    }
    return fd;
  }

  #disarm(): void {
    const fd = this.#eventfd;
    if (!fd) return;
    this.#eventfd = undefined;
    closeAll([
      () => this.#setTrigger(-1, 'disable request interrupt'),
      () => this.#watch.remove(REQUEST),
      () => fd.close(),
    ]);
  }

  /** Points the request at eventfd `fd`; -1 removes the trigger. */
  #setTrigger(fd: number, what: string): void {
    setIrqs(
      this.#device,
      { index: VFIO_PCI_REQ_IRQ_INDEX, start: 0, count: 1, action: VFIO_IRQ_SET_ACTION_TRIGGER, eventfds: [fd] },
      what,
    );
  }

  /** Drops the handlers and disarms the request interrupt. */
  protected release(): void {
    this.#handlers.clear();
    this.#disarm();
  }
}
