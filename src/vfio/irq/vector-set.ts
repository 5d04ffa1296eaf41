/**
 * The enabled interrupt type and its vectors: one eventfd per vector, armed in the kernel with
 * `VFIO_DEVICE_SET_IRQS` and watched by the waiting. vfio-pci allows one of INTx, MSI and MSI-X
 * at a time, so one set serves all three.
 */
import {
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VfioError,
  VfioErrorCode,
  VfioRangeError,
} from '../../../structs/index.js';
import { closeAll, EventFd, Resource } from '../../sys/index.js';
import { disableIrqIndex, setIrqs, type IrqDevice } from './set.js';
import { IRQ_INDEX, IRQ_NAME, checkVectorRange, type IrqTag, type IrqType } from './vectors.js';
import type { IrqWatch } from './waiting.js';

/** What `VFIO_DEVICE_SET_IRQS` does to one vector from software. */
export type IrqVectorAction = 'trigger' | 'mask' | 'unmask';

const ACTION: Readonly<Record<IrqVectorAction, number>> = {
  trigger: VFIO_IRQ_SET_ACTION_TRIGGER,
  mask: VFIO_IRQ_SET_ACTION_MASK,
  unmask: VFIO_IRQ_SET_ACTION_UNMASK,
};

const vectorTag = (vector: number): IrqTag => ({ kind: 'vector', vector });

/** The vectors of the enabled type, each with its eventfd; empty while disabled. */
export class IrqVectorSet extends Resource {
  #type: IrqType | undefined;
  readonly #eventfds = new Map<number, EventFd>();

  readonly #device: IrqDevice;
  readonly #watch: IrqWatch;

  constructor(device: IrqDevice, watch: IrqWatch) {
    super();
    this.#device = device;
    this.#watch = watch;
  }

  get name(): string {
    return `interrupt vectors of ${this.#device.address}`;
  }

  /** The enabled type, or undefined. */
  get type(): IrqType | undefined {
    return this.#type;
  }

  /** The enabled vector numbers, ascending (empty when disabled). */
  get vectors(): number[] {
    return [...this.#eventfds.keys()];
  }

  /** The enabled type; throws, saying what to do, when none is (`verb` names what was tried). */
  requireEnabled(verb: string): IrqType {
    if (this.#type === undefined)
      throw new VfioError(
        VfioErrorCode.INVALID_STATE,
        `${this.#device.address}: cannot ${verb}: no interrupts are enabled; call device.interrupts.enable() first`,
      );
    return this.#type;
  }

  /** Enables `type` on `count` vectors from `start` (default: all from `start`); the same type again reprograms it. */
  enable(type: IrqType, start: number, count: number | undefined): void {
    this.check();
    const address = this.#device.address;
    if (this.#type !== undefined && this.#type !== type) {
      throw new VfioError(
        VfioErrorCode.INVALID_STATE,
        `${address}: cannot enable ${IRQ_NAME[type]} while ${IRQ_NAME[this.#type]} is enabled (vfio-pci allows one of INTx, MSI, MSI-X at a time): call interrupts.disable() first`,
      );
    }
    const info = this.#device.irqInfo(IRQ_INDEX[type]);
    if (!info.eventfd && info.count > 0)
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${address}: ${IRQ_NAME[type]} (irq index ${IRQ_INDEX[type]}) does not support eventfd signalling`,
      );
    const range = checkVectorRange(address, type, info.count, start, count);
    this.disable(); // same type again: reprogram
    const armed = new Map<number, EventFd>();
    try {
      for (let v = range.start; v < range.start + range.count; v++) {
        const fd = new EventFd();
        armed.set(v, fd);
        this.#watch.add(vectorTag(v), fd);
      }
      this.#arm(
        type,
        armed,
        `the kernel could not set up ${range.count} ${IRQ_NAME[type]} vector(s): interrupt remapping entries are limited (use <= 16 vectors), and bus mastering must be on for MSI/MSI-X`,
      );
    } catch (e) {
      closeAll(
        [...armed].map(
          ([v, fd]) =>
            () =>
              this.#forget(v, fd),
        ),
      );
      throw e;
    }
    this.#type = type;
    for (const [v, fd] of armed) this.#eventfds.set(v, fd);
  }

  /** Sets the same vectors up again with the same eventfds (after a device reset dropped MSI/MSI-X triggers). */
  rearm(): void {
    this.check();
    const type = this.requireEnabled('rearm');
    disableIrqIndex(this.#device, IRQ_INDEX[type]);
    this.#arm(type, this.#eventfds);
  }

  /** Disables the enabled type: the kernel first, then the eventfds are unwatched and closed. */
  disable(): void {
    const type = this.#type;
    if (type === undefined) return;
    const eventfds = [...this.#eventfds];
    this.#type = undefined;
    this.#eventfds.clear();
    closeAll([
      () => disableIrqIndex(this.#device, IRQ_INDEX[type]),
      ...eventfds.map(
        ([v, fd]) =>
          () =>
            this.#forget(v, fd),
      ),
    ]);
  }

  /** Triggers, masks or unmasks one enabled vector from software. */
  act(action: IrqVectorAction, vector: number): void {
    this.check();
    const type = this.requireEnabled(action);
    const index = IRQ_INDEX[type];
    if (!this.#eventfds.has(vector)) {
      const v = this.vectors;
      throw new VfioRangeError(
        VfioErrorCode.OUT_OF_RANGE,
        `${this.#device.address}: cannot ${action} ${IRQ_NAME[type]} vector ${vector}: enabled vectors are ${v[0]}..${v[v.length - 1]} (irq index ${index})`,
      );
    }
    if (action !== 'trigger' && !this.#device.irqInfo(index).maskable) {
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${this.#device.address}: ${IRQ_NAME[type]} (irq index ${index}) is not maskable through VFIO (no MASKABLE flag): mask it in the device instead (e.g. the MSI-X table's vector control or a device register)`,
      );
    }
    setIrqs(
      this.#device,
      { index, start: vector, count: 1, action: ACTION[action] },
      `${action} ${IRQ_NAME[type]} vector ${vector}`,
    );
  }

  /** Points the vectors `eventfds` holds (consecutive, ascending) at their eventfds in the kernel. */
  #arm(type: IrqType, eventfds: Map<number, EventFd>, hint?: string): void {
    const vectors = [...eventfds.keys()];
    setIrqs(
      this.#device,
      {
        index: IRQ_INDEX[type],
        start: vectors[0],
        count: vectors.length,
        action: VFIO_IRQ_SET_ACTION_TRIGGER,
        eventfds: [...eventfds.values()].map((f) => f.fd),
      },
      `${IRQ_NAME[type]} vectors ${vectors[0]}..${vectors[vectors.length - 1]}`,
      hint,
    );
  }

  /** Unwatches and closes a vector's eventfd. */
  #forget(vector: number, fd: EventFd): void {
    closeAll([() => this.#watch.remove(vectorTag(vector)), () => fd.close()]);
  }

  /** Disables the enabled type, as `disable()`. */
  protected release(): void {
    this.disable();
  }
}
