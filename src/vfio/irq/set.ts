/**
 * `VFIO_DEVICE_SET_IRQS`, the one call that arms, fires, masks and disables a device's
 * interrupts, with the advice every caller shares. It goes through the device's channel, so a
 * device served by another process can pass the eventfds its own way.
 */
import { VFIO_IRQ_SET_ACTION_TRIGGER, type IrqSetRequest, SysError } from '../../../structs/index.js';
import { irqIndexName } from '../names.js';
import type { PciAddress } from '../../pci/index.js';
import type { IrqInfo } from '../device/info.js';

/** How the interrupt code reaches its device: the kernel's channel sends `VFIO_DEVICE_SET_IRQS`. */
export interface IrqChannel {
  /**
   * Sends `req` (its eventfds as fds, not yet encoded); `target` names the request in errors
   * and `hint` is the advice for any failure.
   */
  setIrqs(req: IrqSetRequest, target: string, hint?: string): void;
}

/**
 * What the interrupt code needs of its device (a `Device`): its channel, its address for
 * messages, what it reports of each irq index, and `close()` for a request handler.
 */
export interface IrqDevice {
  /** The device's fd (its channel's). */
  readonly fd: number;
  /** @internal How `VFIO_DEVICE_SET_IRQS` reaches the device. */
  readonly channel: IrqChannel;
  /** Its PCI address, for messages. */
  readonly address: PciAddress;
  /** What the device reports of irq index `index` (read at open). */
  irqInfo(index: number): IrqInfo;
  /** Closes the device: what an `onRequest` handler does to give the device back. */
  close(): void;
  /** @internal The kernel asked for the device back: once closed, its uses say it was taken. */
  requested?(): void;
}

/**
 * Sends one `vfio_irq_set`. `what` names the request in errors (`MSI vectors 0..3`); `hint`
 * is the advice for any failure. Without one, EINVAL gets the usual cause: a vector range
 * outside the index, or an index that is not the enabled one.
 */
export function setIrqs(device: IrqDevice, req: IrqSetRequest, what: string, hint?: string): void {
  try {
    device.channel.setIrqs(req, `${device.address} irq index ${req.index} (${what})`, hint);
  } catch (e) {
    if (e instanceof SysError && hint === undefined && e.errnoName === 'EINVAL') {
      throw e.withHint(
        `the kernel refused to ${what}: check the vector range against irqInfo(${req.index}).count and that this type is the one enabled`,
      );
    }
    throw e;
  }
}

/**
 * Disables irq index `index` in the kernel: DATA_NONE with count 0 (with count > 0 the same
 * request would fire the vectors instead). The eventfds stay open; closing them is the caller's.
 */
export function disableIrqIndex(device: IrqDevice, index: number): void {
  setIrqs(device, { index, start: 0, count: 0, action: VFIO_IRQ_SET_ACTION_TRIGGER }, `disable ${irqIndexName(index)}`);
}
