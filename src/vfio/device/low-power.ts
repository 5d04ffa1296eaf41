/**
 * Low power (`VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY`, `_ENTRY_WITH_WAKEUP`, `_EXIT`): the user of
 * a vfio-pci device lets the kernel's runtime power management suspend it (D3hot where the
 * device has a PM capability). While it is in low power its mmaps are unmapped and touching
 * one faults (SIGBUS); every ioctl, read or write on the device fd wakes it for its length.
 * Entry with a wake-up eventfd also leaves low power for good at the first wake-up, and signals.
 * Without CONFIG_PM the kernel accepts entry but never suspends (and sysfs has no `power`
 * directory): refused here instead.
 */
import {
  SysError,
  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
  VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
  VfioError,
  VfioErrorCode,
  structBuffer,
  vfio_device_low_power_entry_with_wakeup,
} from '../../../structs/index.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SYSFS } from '../../pci/index.js';
import { EventFd } from '../../sys/index.js';
import type { FeatureCalls } from './feature-calls.js';

const NO_LOW_POWER =
  'has no low-power control: vfio-pci and its variant drivers offer it (since Linux 6.0), other VFIO drivers (mdev vendor drivers, vfio-platform) do not';

/** What low power needs of its device. */
export interface LowPowerDevice {
  readonly features: FeatureCalls;
  readonly name: string;
  /** Where sysfs is (default `/sys`; tests pass a fake tree). */
  readonly sysfsRoot?: string;
}

/** A device's runtime low-power state (`device.features.lowPower`). */
export class DeviceLowPower {
  readonly #device: LowPowerDevice;

  /** @internal Use `device.features.lowPower`. */
  constructor(device: LowPowerDevice) {
    this.#device = device;
  }

  /**
   * Lets the kernel suspend the device. It stays in low power, waking for each ioctl and
   * sleeping again after, until `exit()`. `ERR_VFIO_INVALID_STATE` when it is in low power
   * already; `ERR_VFIO_UNSUPPORTED` when its driver or the kernel (CONFIG_PM) cannot.
   */
  enter(): void {
    this.#checkKernel();
    this.#call('enter', () => this.#device.features.set(VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
  }

  /**
   * As `enter()`, and the first wake-up (any ioctl on the device, or the device's own PME) ends
   * low power and signals the eventfd returned. Its owner is the caller (closing it does not
   * exit low power; the kernel holds its own reference until then).
   */
  enterWithWakeup(): EventFd {
    this.#checkKernel();
    const wakeup = new EventFd();
    try {
      const arg = structBuffer(vfio_device_low_power_entry_with_wakeup, { wakeup_eventfd: wakeup.fd });
      this.#call('enter', () => this.#device.features.set(VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP, arg));
      return wakeup;
    } catch (e) {
      wakeup.close();
      throw e;
    }
  }

  /** Leaves low power (nothing to do when the device is not in it). The device answers again. */
  exit(): void {
    this.#call('exit', () => this.#device.features.set(VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
  }

  /**
   * The driver first (an mdev's has no low power on any kernel), then the kernel: without power
   * management (CONFIG_PM) sysfs has no `power` directory, and entry would do nothing.
   */
  #checkKernel(): void {
    if (!this.#device.features.has(VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY)) {
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${this.#device.name} ${NO_LOW_POWER} (its probe of VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY: ENOTTY)`,
      );
    }
    const dir = join(this.#device.sysfsRoot ?? DEFAULT_SYSFS, 'power');
    if (existsSync(dir)) return;
    throw new VfioError(
      VfioErrorCode.UNSUPPORTED,
      `low power for ${this.#device.name}: this kernel has no power management (CONFIG_PM is not set: ${dir} does not exist), so the device would never leave D0; boot a kernel built with CONFIG_PM`,
    );
  }

  /** A failed feature call told in low power's terms. */
  #call(op: 'enter' | 'exit', fn: () => number): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      if (e.errnoName === 'ENOTTY')
        throw e.withHint(`${this.#device.name} ${NO_LOW_POWER}`, { code: VfioErrorCode.UNSUPPORTED });
      if (e.errnoName === 'EINVAL' && op === 'enter')
        throw e.withHint(`${this.#device.name} is in low power already: exit() first`, {
          code: VfioErrorCode.INVALID_STATE,
        });
      throw e;
    }
  }
}
