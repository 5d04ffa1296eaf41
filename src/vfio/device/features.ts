/**
 * Device features (`VFIO_DEVICE_FEATURE`): one ioctl that probes, gets or sets a feature named
 * by its index (`VFIO_DEVICE_FEATURE_*` in `structs/`). The payload is the feature's own
 * struct, passed as bytes; what each feature means is left to its users (SR-IOV's VF token,
 * migration states).
 */
import {
  SysError,
  VFIO_DEVICE_FEATURE_GET,
  VFIO_DEVICE_FEATURE_MASK,
  VFIO_DEVICE_FEATURE_PROBE,
  VFIO_DEVICE_FEATURE_SET,
  VfioError,
  VfioErrorCode,
  VfioTypeError,
  buildDeviceFeature,
  featureName,
  vfio_device_feature,
} from '../../../structs/index.js';
import { checkInteger, describeArg } from '../../sys/index.js';
import type { DeviceChannel } from './channel.js';
import { DeviceDmaLogging } from './dma-logging.js';
import { DeviceLowPower } from './low-power.js';

/** Which operations a feature offers, from `probe()`. */
export interface FeatureSupport {
  /** `VFIO_DEVICE_FEATURE_GET` is accepted. */
  get: boolean;
  /** `VFIO_DEVICE_FEATURE_SET` is accepted. */
  set: boolean;
}

/** What the features need of their device: its channel, its name, and whether it is still open. */
export interface FeatureDevice {
  readonly channel: Pick<DeviceChannel, 'feature'>;
  readonly name: string;
  /** Throws `ERR_VFIO_CLOSED` once the device is closed. */
  checkOpen(): void;
}

type Op = 'probe' | 'get' | 'set';

/**
 * The features of one open device (`device.features`). Every call is one `VFIO_DEVICE_FEATURE`
 * ioctl (`probe` is up to three); a feature the device lacks is `ERR_VFIO_UNSUPPORTED` with the
 * kernel's errno (ENOTTY), and nothing is left behind by a failed call.
 */
export class DeviceFeatures {
  readonly #device: FeatureDevice;

  /** @internal Use `device.features`. */
  constructor(device: FeatureDevice) {
    this.#device = device;
  }

  /**
   * Which of GET and SET `feature` (a `VFIO_DEVICE_FEATURE_*` index) offers. Throws
   * `ERR_VFIO_UNSUPPORTED` (a `SysError` with the kernel's errno) when the device has no such
   * feature at all.
   */
  probe(feature: number): FeatureSupport {
    this.#device.checkOpen();
    const index = checkFeature(feature, 'probe', this.#device.name);
    this.#ioctl(index | VFIO_DEVICE_FEATURE_PROBE, new Uint8Array(0), 'probe');
    return {
      get: this.#accepts(index | VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET),
      set: this.#accepts(index | VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET),
    };
  }

  /** Runtime low power (`enter()`, `enterWithWakeup()`, `exit()`): vfio-pci's LOW_POWER features. */
  get lowPower(): DeviceLowPower {
    return new DeviceLowPower({ features: this, name: this.#device.name });
  }

  /** The driver's log of the device's DMA writes (`start()`, `report()`, `stop()`): the DMA_LOGGING features. */
  get dmaLogging(): DeviceDmaLogging {
    return new DeviceDmaLogging({ features: this, name: this.#device.name });
  }

  /** Whether the device has `feature` at all (a probe that answers instead of throwing). */
  has(feature: number): boolean {
    this.#device.checkOpen();
    const index = checkFeature(feature, 'has', this.#device.name);
    return this.#accepts(index | VFIO_DEVICE_FEATURE_PROBE);
  }

  /**
   * `VFIO_DEVICE_FEATURE_GET` of `feature` into `payload` (the feature's struct; some take input
   * in it too). Returns the ioctl's result: 0, or a new fd for a feature that makes one (its
   * owner is the caller).
   */
  get(feature: number, payload: Uint8Array): number {
    return this.#transfer(feature, payload, 'get');
  }

  /**
   * `VFIO_DEVICE_FEATURE_SET` of `feature` from `payload` (the feature's struct, or nothing for
   * a feature without one); what the kernel writes back (a data fd, say) lands in `payload`.
   * Returns the ioctl's result.
   */
  set(feature: number, payload: Uint8Array = new Uint8Array(0)): number {
    return this.#transfer(feature, payload, 'set');
  }

  #transfer(feature: number, payload: Uint8Array, op: 'get' | 'set'): number {
    this.#device.checkOpen();
    const index = checkFeature(feature, op, this.#device.name);
    if (!((payload as unknown) instanceof Uint8Array))
      throw new VfioTypeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `${op}() payload ${describeArg(payload)} of ${this.#device.name}: expected a Uint8Array (a Buffer is one) holding the feature's struct`,
      );
    const flag = op === 'get' ? VFIO_DEVICE_FEATURE_GET : VFIO_DEVICE_FEATURE_SET;
    return this.#ioctl(index | flag, payload, op);
  }

  /** Whether the kernel accepts `flags` (a probe): EINVAL and ENOTTY are its "no". */
  #accepts(flags: number): boolean {
    try {
      this.#ioctl(flags, new Uint8Array(0), 'probe');
      return true;
    } catch (e) {
      if (e instanceof SysError && (e.errnoName === 'EINVAL' || e.errnoName === 'ENOTTY')) return false;
      throw e;
    }
  }

  #ioctl(flags: number, payload: Uint8Array, op: Op): number {
    const { channel, name } = this.#device;
    const feature = featureName(flags & VFIO_DEVICE_FEATURE_MASK);
    if (!channel.feature) {
      throw new VfioError(
        VfioErrorCode.UNSUPPORTED,
        `${op} of device feature ${feature} on ${name}: the device is served by another process (vfio-user), and this client does not pass VFIO_DEVICE_FEATURE to its server; only devices the kernel serves have features here`,
      );
    }
    const arg = buildDeviceFeature(flags, payload);
    try {
      return channel.feature(arg, name);
    } catch (e) {
      throw e instanceof SysError ? explain(e, feature, op, name, payload.length) : e;
    } finally {
      payload.set(arg.subarray(vfio_device_feature.size));
    }
  }
}

function checkFeature(feature: number, method: string, name: string): number {
  return checkInteger(`${method}(): feature`, `of ${name}`, feature, 0, VFIO_DEVICE_FEATURE_MASK);
}

/** The failure told in the feature's terms: which feature, which operation, what to do. */
function explain(e: SysError, feature: string, op: Op, name: string, size: number): SysError {
  const syscall = `ioctl(VFIO_DEVICE_FEATURE ${op.toUpperCase()} ${feature})`;
  switch (e.errnoName) {
    case 'ENOTTY':
      return e.withHint(
        `${name} does not offer VFIO_DEVICE_FEATURE_${feature}: neither its VFIO driver nor this kernel implements it for this device (features.has() asks without throwing)`,
        { syscall, code: VfioErrorCode.UNSUPPORTED },
      );
    case 'EINVAL':
      return e.withHint(
        op === 'probe'
          ? `the kernel refused the probe of ${feature}`
          : `the kernel refused ${op.toUpperCase()} of ${feature} with a ${size}-byte payload: the feature may not offer ${op.toUpperCase()} (features.probe() says which it does), or its payload is not the size and content it expects`,
        { syscall, code: VfioErrorCode.INVALID_ARGUMENT },
      );
    default:
      return e.withHint(e.hint ?? '', { syscall });
  }
}
