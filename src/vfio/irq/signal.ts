/**
 * The kernel's two signals to the user of a device, each one eventfd on an irq index of its own:
 * the request (`VFIO_PCI_REQ_IRQ_INDEX`), its way to ask for the device back when someone unbinds
 * vfio-pci or the device is being removed (the kernel blocks that until the device is closed, and
 * repeats the request meanwhile); and the error (`VFIO_PCI_ERR_IRQ_INDEX`), raised when the PCIe
 * AER driver reports an uncorrectable error of the device to vfio-pci.
 */
import {
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_PCI_ERR_IRQ_INDEX,
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

/** The kernel reported an uncorrectable PCIe error of the device (AER: non-fatal or fatal). */
export interface IrqErrorReport {
  device: IrqDevice;
  /** Errors reported since the last delivery (an eventfd counts; several may arrive as one). */
  count: number;
}

/** Which signal: its irq index, epoll tag and words for messages. */
export interface IrqSignalKind {
  index: number;
  tag: IrqTag;
  /** `request interrupt`, for messages. */
  what: string;
  /** What a device without it cannot do, for the refusal. */
  without: string;
}

export const REQUEST_SIGNAL: IrqSignalKind = {
  index: VFIO_PCI_REQ_IRQ_INDEX,
  tag: { kind: 'request' },
  what: 'request interrupt',
  without: 'the kernel cannot ask it back',
};

export const ERROR_SIGNAL: IrqSignalKind = {
  index: VFIO_PCI_ERR_IRQ_INDEX,
  tag: { kind: 'error' },
  what: 'error interrupt',
  without: 'vfio-pci of older kernels (6.1) offers it for PCI Express devices only',
};

/** One signal's eventfd, armed while at least one handler listens. */
export class SignalInterrupt<Event extends { device: IrqDevice; count: number }> extends Resource {
  #eventfd: EventFd | undefined;
  readonly #handlers = new Set<(event: Event) => void>();
  readonly #device: IrqDevice;
  readonly #watch: IrqWatch;
  readonly #kind: IrqSignalKind;

  constructor(device: IrqDevice, watch: IrqWatch, kind: IrqSignalKind) {
    super();
    this.#device = device;
    this.#watch = watch;
    this.#kind = kind;
  }

  get name(): string {
    return `${this.#kind.what} of ${this.#device.address}`;
  }

  /** Whether a handler listens (then the event loop must watch for the signal). */
  get listening(): boolean {
    return this.#handlers.size > 0;
  }

  /** Adds `handler`; the first one arms the signal (throws when the device has none). */
  add(handler: (event: Event) => void): void {
    this.check();
    if (!this.#eventfd) this.#eventfd = this.#arm();
    this.#handlers.add(handler);
  }

  /** Removes `handler`; when it was the last one, the signal is disabled and its eventfd closed. */
  remove(handler: (event: Event) => void): void {
    if (!this.#handlers.delete(handler) || this.#handlers.size > 0) return;
    this.#disarm();
  }

  /** Tells every handler that the kernel signalled `count` times; a handler's error is thrown on its own, later. */
  deliver(count: number): void {
    for (const handler of [...this.#handlers]) {
      try {
        handler({ device: this.#device, count } as Event);
      } catch (e) {
        // One handler's failure must not keep the others from closing the device.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  #arm(): EventFd {
    const { index, tag, what, without } = this.#kind;
    const info = this.#device.irqInfo(index);
    if (info.count < 1 || !info.eventfd)
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${this.#device.address} has no ${what} (irq index ${index} reports count 0): ${without}`,
      );
    const fd = new EventFd();
    try {
      this.#watch.add(tag, fd);
      this.#setTrigger(fd.fd, what);
    } catch (e) {
      closeAll([() => this.#watch.remove(tag), () => fd.close()]);
      throw e;
    }
    return fd;
  }

  #disarm(): void {
    const fd = this.#eventfd;
    if (!fd) return;
    this.#eventfd = undefined;
    closeAll([
      () => this.#setTrigger(-1, `disable ${this.#kind.what}`),
      () => this.#watch.remove(this.#kind.tag),
      () => fd.close(),
    ]);
  }

  /** Points the signal at eventfd `fd`; -1 removes the trigger. */
  #setTrigger(fd: number, what: string): void {
    setIrqs(
      this.#device,
      { index: this.#kind.index, start: 0, count: 1, action: VFIO_IRQ_SET_ACTION_TRIGGER, eventfds: [fd] },
      what,
    );
  }

  /** Drops the handlers and disarms the signal. */
  protected release(): void {
    this.#handlers.clear();
    this.#disarm();
  }
}
