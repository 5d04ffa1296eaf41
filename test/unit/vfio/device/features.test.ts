// DeviceFeatures over a stand-in channel that answers VFIO_DEVICE_FEATURE as the kernel's
// vfio_check_feature() does: ENOTTY for a feature the device lacks, EINVAL for an operation the
// feature does not offer or a payload of the wrong size. The real kernel is in test/vm/sriov.test.ts.
import { describe, expect, it } from 'vitest';
import {
  SysError,
  VFIO_DEVICE_FEATURE_GET,
  VFIO_DEVICE_FEATURE_MASK,
  VFIO_DEVICE_FEATURE_MIGRATION,
  VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
  VFIO_DEVICE_FEATURE_PROBE,
  VFIO_DEVICE_FEATURE_SET,
  VFIO_DEVICE_FEATURE_ZPCI_ERROR,
  VFIO_MIGRATION_STOP_COPY,
  VfioErrorCode,
  buildDeviceFeature,
  decodeStruct,
  featureName,
  vfio_device_feature,
} from '../../../../structs/index.js';
import { DeviceFeatures, type FeatureDevice } from '../../../../src/vfio/device/features.js';
import { thrownBy } from '../../../support/thrown.js';

const thrown = (call: () => unknown) => thrownBy(call) as SysError;

const ENOTTY = 25;
const EINVAL = 22;
const fail = (errno: number) => new SysError({ syscall: 'ioctl(VFIO_DEVICE_FEATURE)', errno, target: 'device x' });

/** MIGRATION: GET, 8 bytes (answers STOP_COPY); PCI_VF_TOKEN: SET, 16 bytes (kept); nothing else. */
class StandIn {
  token: Uint8Array | undefined;
  readonly seen: number[] = [];

  feature(arg: Uint8Array): number {
    const { argsz, flags } = decodeStruct<{ argsz: number; flags: number }>(arg, vfio_device_feature);
    expect(argsz).toBe(arg.length);
    this.seen.push(flags);
    const index = flags & VFIO_DEVICE_FEATURE_MASK;
    const offers =
      index === VFIO_DEVICE_FEATURE_MIGRATION
        ? { op: VFIO_DEVICE_FEATURE_GET, size: 8 }
        : index === VFIO_DEVICE_FEATURE_PCI_VF_TOKEN
          ? { op: VFIO_DEVICE_FEATURE_SET, size: 16 }
          : undefined;
    if (!offers) throw fail(ENOTTY);
    if (flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET) & ~offers.op) throw fail(EINVAL);
    if (flags & VFIO_DEVICE_FEATURE_PROBE) return 0;
    if (argsz - 8 < offers.size) throw fail(EINVAL);
    if (offers.op === VFIO_DEVICE_FEATURE_GET)
      new DataView(arg.buffer).setBigUint64(8, BigInt(VFIO_MIGRATION_STOP_COPY), true);
    else this.token = arg.slice(8, 24);
    return 0;
  }
}

function features(open = { value: true }, channel: FeatureDevice['channel'] = new StandIn()) {
  const device: FeatureDevice = {
    channel,
    name: 'device 0000:00:04.0',
    checkOpen: () => {
      if (!open.value) throw Object.assign(new Error('closed'), { code: VfioErrorCode.CLOSED });
    },
  };
  return new DeviceFeatures(device);
}

describe('DeviceFeatures', () => {
  it('probe says which of GET and SET a feature offers, in three ioctls', () => {
    const channel = new StandIn();
    const f = features(undefined, channel);
    expect(f.probe(VFIO_DEVICE_FEATURE_MIGRATION)).toEqual({ get: true, set: false });
    expect(f.probe(VFIO_DEVICE_FEATURE_PCI_VF_TOKEN)).toEqual({ get: false, set: true });
    expect(channel.seen.slice(0, 3)).toEqual([
      VFIO_DEVICE_FEATURE_MIGRATION | VFIO_DEVICE_FEATURE_PROBE,
      VFIO_DEVICE_FEATURE_MIGRATION | VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET,
      VFIO_DEVICE_FEATURE_MIGRATION | VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET,
    ]);
  });

  it('a feature the device lacks is ERR_VFIO_UNSUPPORTED with ENOTTY, named; has() answers false', () => {
    const f = features();
    const e = thrown(() => f.probe(VFIO_DEVICE_FEATURE_ZPCI_ERROR));
    expect(e).toBeInstanceOf(SysError);
    expect(e.code).toBe(VfioErrorCode.UNSUPPORTED);
    expect(e.errnoName).toBe('ENOTTY');
    expect(e.message).toContain('VFIO_DEVICE_FEATURE_ZPCI_ERROR');
    expect(e.message).toContain('device 0000:00:04.0');
    expect(f.has(VFIO_DEVICE_FEATURE_ZPCI_ERROR)).toBe(false);
    expect(f.has(VFIO_DEVICE_FEATURE_MIGRATION)).toBe(true);
  });

  it('get fills the payload; set passes it; each refuses the operation a feature lacks', () => {
    const channel = new StandIn();
    const f = features(undefined, channel);
    const mig = new Uint8Array(8);
    expect(f.get(VFIO_DEVICE_FEATURE_MIGRATION, mig)).toBe(0);
    expect(new DataView(mig.buffer).getBigUint64(0, true)).toBe(1n);
    const token = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    f.set(VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, token);
    expect(channel.token).toEqual(token);
    const e = thrown(() => f.get(VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, new Uint8Array(16)));
    expect(e.code).toBe(VfioErrorCode.INVALID_ARGUMENT);
    expect(e.errnoName).toBe('EINVAL');
    expect(e.message).toMatch(/GET of PCI_VF_TOKEN with a 16-byte payload.*probe\(\)/);
  });

  it('checks the feature index and the payload, and refuses use after close', () => {
    const open = { value: true };
    const f = features(open);
    expect(thrown(() => f.probe(0x10000)).code).toBe(VfioErrorCode.OUT_OF_RANGE);
    expect(thrown(() => f.get(1, 'x' as unknown as Uint8Array)).code).toBe(VfioErrorCode.INVALID_ARGUMENT);
    open.value = false;
    expect(thrown(() => f.probe(1)).code).toBe(VfioErrorCode.CLOSED);
  });

  it('a channel without features (a vfio-user device) is a coded refusal that says why', () => {
    const e = thrown(() => features(undefined, {}).probe(VFIO_DEVICE_FEATURE_MIGRATION));
    expect(e.code).toBe(VfioErrorCode.UNSUPPORTED);
    expect(e.message).toContain('vfio-user');
  });

  it('names features by their C names, and the argument carries argsz, flags and payload', () => {
    expect(featureName(VFIO_DEVICE_FEATURE_PCI_VF_TOKEN)).toBe('PCI_VF_TOKEN');
    expect(featureName(99)).toBe('feature 99');
    const arg = buildDeviceFeature(VFIO_DEVICE_FEATURE_SET | 2, Uint8Array.of(7, 8));
    expect([...arg]).toEqual([10, 0, 0, 0, 2, 0, 2, 0, 7, 8]);
  });
});
