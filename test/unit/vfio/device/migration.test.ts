// DeviceMigration over a stand-in channel that answers the migration features as a driver with
// STOP_COPY does: the state kept, a data fd (here /dev/null) handed out on entering STOP_COPY or
// RESUMING, ENOTTY for a device without migration. The real kernel (mtty) is test/vm/mdev.test.ts.
import { describe, expect, it } from 'vitest';
import {
  O_CLOEXEC,
  O_RDWR,
  SysError,
  VFIO_DEVICE_FEATURE_GET,
  VFIO_DEVICE_FEATURE_MASK,
  VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
  VFIO_DEVICE_FEATURE_MIGRATION,
  VFIO_DEVICE_FEATURE_PROBE,
  VfioErrorCode,
  decodeStruct,
  vfio_device_feature,
} from '../../../../structs/index.js';
import { DeviceFeatures } from '../../../../src/vfio/device/features.js';
import { DeviceMigration, type MigrationState } from '../../../../src/vfio/device/migration.js';
import { sysOpen } from '../../../../src/sys/index.js';
import { openFdCount } from '../../../support/fd-count.js';
import { thrownBy } from '../../../support/thrown.js';

const ENOTTY = 25;
const STOP_COPY = 3;
const RESUMING = 4;

/** A driver with STOP_COPY (flags 1): the state as the kernel keeps it; none at all when `migrates` is false. */
class StandIn {
  state = 2; // RUNNING
  constructor(readonly migrates = true) {}

  feature(arg: Uint8Array): number {
    const { flags } = decodeStruct<{ flags: number }>(arg, vfio_device_feature);
    const index = flags & VFIO_DEVICE_FEATURE_MASK;
    const known = index === VFIO_DEVICE_FEATURE_MIGRATION || index === VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
    if (!this.migrates || !known)
      throw new SysError({ syscall: 'ioctl(VFIO_DEVICE_FEATURE)', errno: ENOTTY, target: 'device x' });
    if (flags & VFIO_DEVICE_FEATURE_PROBE) return 0;
    const data = new DataView(arg.buffer, arg.byteOffset + vfio_device_feature.size);
    if (index === VFIO_DEVICE_FEATURE_MIGRATION) data.setBigUint64(0, 1n, true);
    else if (flags & VFIO_DEVICE_FEATURE_GET) data.setUint32(0, this.state, true);
    else {
      this.state = data.getUint32(0, true);
      const opens = this.state === STOP_COPY || this.state === RESUMING;
      data.setInt32(4, opens ? sysOpen('/dev/null', O_RDWR | O_CLOEXEC) : -1, true);
    }
    return 0;
  }
}

function migrationOf(standIn: StandIn): DeviceMigration {
  const features = new DeviceFeatures({ channel: standIn, name: 'device x', checkOpen: () => {} });
  return new DeviceMigration({ features, name: 'device x' });
}

describe('DeviceMigration', () => {
  it('reads the capabilities and the state, and moves it, opening a stream where the kernel gives a data fd', () => {
    const fds = openFdCount();
    const standIn = new StandIn();
    const m = migrationOf(standIn);
    expect(m.supported()).toBe(true);
    expect(m.caps()).toEqual({ stopCopy: true, p2p: false, preCopy: false, flags: 1 });
    expect(m.state()).toBe('running');
    expect(m.setState('stop')).toBeNull();
    expect(standIn.state).toBe(1);
    const saving = m.setState('stop-copy');
    expect(saving?.direction).toBe('read');
    expect(saving?.readAll()).toEqual(Buffer.alloc(0)); // /dev/null: at its end at once
    const resuming = m.setState('resuming');
    expect(resuming?.direction).toBe('write');
    resuming?.write(Buffer.from('state'));
    expect(openFdCount()).toBe(fds + 2);
    m.closeStreams(); // as the device does when it closes
    expect([saving?.closed, resuming?.closed]).toEqual([true, true]);
    expect(openFdCount()).toBe(fds);
  });

  it('refuses a state that is not one, before asking the kernel', () => {
    const standIn = new StandIn();
    const m = migrationOf(standIn);
    for (const bad of ['error', 'flying', 3] as unknown as MigrationState[]) {
      const e = thrownBy(() => m.setState(bad));
      expect(e).toBeInstanceOf(RangeError);
      expect(e).toMatchObject({ code: VfioErrorCode.INVALID_ARGUMENT });
      expect((e as Error).message).toMatch(/^setState\(\) of device x: .* is not a state to ask for; one of stop, /);
    }
    expect(standIn.state).toBe(2);
  });

  it('says a device without migration cannot be migrated, and why', () => {
    const m = migrationOf(new StandIn(false));
    expect(m.supported()).toBe(false);
    for (const call of [() => m.caps(), () => m.state(), () => m.setState('stop'), () => m.save()]) {
      const e = thrownBy(call);
      expect(e).toMatchObject({ code: VfioErrorCode.UNSUPPORTED, errnoName: 'ENOTTY' });
      expect((e as Error).message).toMatch(
        /device x cannot be migrated: its VFIO driver implements no migration states/,
      );
    }
  });
});
