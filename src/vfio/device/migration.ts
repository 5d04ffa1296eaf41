/**
 * Device migration (the kernel's v2 protocol, `<linux/vfio.h>`): the device's state machine,
 * moved with `VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE`, and the data fds the saving and resuming
 * states open. The kernel walks the shortest path between two states itself, so any state the
 * device offers can be asked for from any other (but not between two saving states).
 */
import {
  decodeStruct,
  structBuffer,
  SysError,
  VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
  VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
  VFIO_DEVICE_FEATURE_MIGRATION,
  VFIO_MIGRATION_P2P,
  VFIO_MIGRATION_PRE_COPY,
  VFIO_MIGRATION_STOP_COPY,
  vfio_device_feature_mig_data_size,
  vfio_device_feature_mig_state,
  vfio_device_feature_migration,
  VfioError,
  VfioErrorCode,
  VfioRangeError,
} from '../../../structs/index.js';
import { closeAll, describeArg } from '../../sys/index.js';
import type { DeviceFeatures } from './features.js';
import { MigrationStream } from './migration-stream.js';

/** The states of `enum vfio_device_mig_state`, in its order (the index is the kernel's value). */
export const MIGRATION_STATES = [
  'error',
  'stop',
  'running',
  'stop-copy',
  'resuming',
  'running-p2p',
  'pre-copy',
  'pre-copy-p2p',
] as const;

/** A migration state: `running`, `stop`, `stop-copy` (saving), `resuming` (loading), ... */
export type MigrationState = (typeof MIGRATION_STATES)[number];

/** What `VFIO_DEVICE_FEATURE_MIGRATION` says a device offers. */
export interface MigrationCaps {
  /** STOP, STOP_COPY and RESUMING (every migratable device has them). */
  stopCopy: boolean;
  /** RUNNING_P2P (and PRE_COPY_P2P with preCopy). */
  p2p: boolean;
  /** PRE_COPY: state read while the device runs, and `precopyInfo()` on its stream. */
  preCopy: boolean;
  /** The raw `VFIO_MIGRATION_*` flags. */
  flags: number;
}

/** What migration needs of its device. */
export interface MigrationDevice {
  readonly features: DeviceFeatures;
  readonly name: string;
}

/**
 * A device's migration (`device.migration`): its capabilities, its state, and the data streams
 * of saving and resuming. `save()` and `load()` do the usual round. Streams still open when the
 * device closes are closed with it.
 */
export class DeviceMigration {
  readonly #device: MigrationDevice;
  readonly #streams = new Set<MigrationStream>();

  /** @internal Use `device.migration`. */
  constructor(device: MigrationDevice) {
    this.#device = device;
  }

  /** Whether the device can be migrated at all (a probe of VFIO_DEVICE_FEATURE_MIGRATION; never throws for no). */
  supported(): boolean {
    return this.#device.features.has(VFIO_DEVICE_FEATURE_MIGRATION);
  }

  /** The states the device offers; `ERR_VFIO_UNSUPPORTED` when it offers none. */
  caps(): MigrationCaps {
    const buf = structBuffer(vfio_device_feature_migration, {});
    this.#call(() => this.#device.features.get(VFIO_DEVICE_FEATURE_MIGRATION, buf));
    const flags = Number(decodeStruct<{ flags: bigint }>(buf, vfio_device_feature_migration).flags);
    return {
      stopCopy: (flags & VFIO_MIGRATION_STOP_COPY) !== 0,
      p2p: (flags & VFIO_MIGRATION_P2P) !== 0,
      preCopy: (flags & VFIO_MIGRATION_PRE_COPY) !== 0,
      flags,
    };
  }

  /** The device's migration state now. */
  state(): MigrationState {
    const buf = structBuffer(vfio_device_feature_mig_state, { data_fd: -1 });
    this.#call(() => this.#device.features.get(VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, buf));
    const { device_state } = decodeStruct<{ device_state: number }>(buf, vfio_device_feature_mig_state);
    return MIGRATION_STATES[device_state] ?? 'error';
  }

  /**
   * Moves the device to `state`, through the states between as the kernel chooses them. Entering
   * a saving state (`pre-copy`, `pre-copy-p2p`, `stop-copy` from `stop`) or `resuming` opens a
   * data stream, returned (the caller closes it; the device closes it too); otherwise null.
   * A refused move may leave the device in a state on the way, or in `error`: `state()` says.
   */
  setState(state: MigrationState): MigrationStream | null {
    const index = MIGRATION_STATES.indexOf(state);
    if (index <= 0)
      throw new VfioRangeError(
        VfioErrorCode.INVALID_ARGUMENT,
        `setState() of ${this.#device.name}: ${describeArg(state)} is not a state to ask for; one of ${MIGRATION_STATES.slice(1).join(', ')} (error is where a failed move may leave it)`,
      );
    const buf = structBuffer(vfio_device_feature_mig_state, { device_state: index, data_fd: -1 });
    this.#call(() => this.#device.features.set(VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, buf), state);
    const { data_fd } = decodeStruct<{ data_fd: number }>(buf, vfio_device_feature_mig_state);
    if (data_fd < 0) return null;
    const stream = new MigrationStream(data_fd, state === 'resuming' ? 'write' : 'read', this.#device.name);
    this.#streams.add(stream);
    stream.onClose(() => this.#streams.delete(stream));
    return stream;
  }

  /** The estimated bytes of the state STOP_COPY would give now (`VFIO_DEVICE_FEATURE_MIG_DATA_SIZE`). */
  dataSize(): number {
    const buf = structBuffer(vfio_device_feature_mig_data_size, {});
    this.#call(() => this.#device.features.get(VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, buf));
    return Number(decodeStruct<{ stop_copy_length: bigint }>(buf, vfio_device_feature_mig_data_size).stop_copy_length);
  }

  /**
   * Saves the device's state: to STOP_COPY (stopping it), the stream read to its end, then
   * STOP. The device stays stopped: `setState('running')` runs it again.
   */
  save(): Buffer {
    const stream = this.setState('stop-copy') ?? this.#noStream('stop-copy', 'save');
    try {
      return stream.readAll();
    } finally {
      closeAll([() => stream.close(), () => this.setState('stop')]);
    }
  }

  /**
   * Loads a state `save()` gave (from a compatible device): to RESUMING (through STOP), `data`
   * written, then STOP, where the driver checks and takes it. The device stays stopped:
   * `setState('running')` runs it.
   */
  load(data: Uint8Array): void {
    const stream = this.setState('resuming') ?? this.#noStream('resuming', 'load');
    try {
      stream.write(data);
    } finally {
      stream.close();
    }
    this.setState('stop');
  }

  /** @internal Closes the streams still open (the device is closing). */
  closeStreams(): void {
    closeAll([...this.#streams].map((s) => () => s.close()));
  }

  /** A state that opened no stream: the device was in it already, its transfer begun elsewhere. */
  #noStream(state: MigrationState, method: string): never {
    throw new VfioError(
      VfioErrorCode.INVALID_STATE,
      `${method}() of ${this.#device.name}: it was in ${state} already, so no new data stream opened (its transfer began earlier); move it to stop (or reset it) first`,
    );
  }

  /** A failed feature call told in migration's terms. */
  #call(fn: () => number, state?: MigrationState): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      if (e.errnoName === 'ENOTTY')
        throw e.withHint(
          `${this.#device.name} cannot be migrated: its VFIO driver implements no migration states (vfio-pci has none; variant drivers such as mlx5_vfio_pci, hisi_acc_vfio_pci or the mtty sample do). migration.supported() asks without throwing`,
          { code: VfioErrorCode.UNSUPPORTED },
        );
      if (state && e.errnoName === 'EINVAL')
        throw e.withHint(
          `${this.#device.name} refused to move to ${state}: it offers ${describe(this.caps())}, and two saving states (pre-copy, stop-copy) cannot follow each other the other way; the device is now in ${this.state()}`,
          { code: VfioErrorCode.INVALID_STATE },
        );
      throw e;
    }
  }
}

/** The states a device's capabilities add to running and error, for messages. */
function describe(caps: MigrationCaps): string {
  const states = ['running'];
  if (caps.stopCopy) states.push('stop', 'stop-copy', 'resuming');
  if (caps.p2p) states.push('running-p2p');
  if (caps.preCopy) states.push('pre-copy');
  if (caps.preCopy && caps.p2p) states.push('pre-copy-p2p');
  return states.join(', ');
}
