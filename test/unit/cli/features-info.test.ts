// The device-feature part of `vfio info` over a stand-in channel that answers VFIO_DEVICE_FEATURE
// as the kernel's vfio_check_feature() does (ENOTTY: no such feature; EINVAL: not that
// operation). The real kernel (an mtty mdev, the edu on vfio-pci) is in test/vm/mdev.test.ts.
import { describe, expect, it } from 'vitest';
import {
  SysError,
  VFIO_DEVICE_FEATURE_GET,
  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
  VFIO_DEVICE_FEATURE_MASK,
  VFIO_DEVICE_FEATURE_MIGRATION,
  VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
  VFIO_DEVICE_FEATURE_PROBE,
  VFIO_DEVICE_FEATURE_SET,
  VFIO_DEVICE_FEATURES,
  VFIO_MIGRATION_PRE_COPY,
  VFIO_MIGRATION_STOP_COPY,
  decodeStruct,
  vfio_device_feature,
} from '../../../structs/index.js';
import { DeviceFeatures } from '../../../src/vfio/device/features.js';
import { DeviceMigration } from '../../../src/vfio/device/migration.js';
import { featuresReport, formatFeaturesReport } from '../../../src/cli/features-info.js';
import type { Device } from '../../../src/index.js';

const GET = VFIO_DEVICE_FEATURE_GET;
const SET = VFIO_DEVICE_FEATURE_SET;
const fail = (errno: number) => new SysError({ syscall: 'ioctl(VFIO_DEVICE_FEATURE)', errno, target: 'device x' });

/** A device offering `offers` (feature index: the operations it takes); MIGRATION answers `migrationFlags`. */
function standIn(offers: Record<number, number>, migrationFlags = 0) {
  const seen: number[] = [];
  const channel = {
    feature(arg: Uint8Array): number {
      const { flags } = decodeStruct<{ flags: number }>(arg, vfio_device_feature);
      seen.push(flags);
      const ops = offers[flags & VFIO_DEVICE_FEATURE_MASK];
      if (ops === undefined) throw fail(25);
      if (flags & (GET | SET) & ~ops) throw fail(22);
      if (flags & VFIO_DEVICE_FEATURE_PROBE) return 0;
      if ((flags & VFIO_DEVICE_FEATURE_MASK) === VFIO_DEVICE_FEATURE_MIGRATION)
        new DataView(arg.buffer).setBigUint64(8, BigInt(migrationFlags), true);
      return 0;
    },
  };
  const name = 'device 0000:00:04.0';
  const features = new DeviceFeatures({ channel, name, checkOpen: () => {} });
  const migration = new DeviceMigration({ features, name });
  const dev = { iommu: { kind: 'type1' }, features, migration } as unknown as Device;
  return { dev, seen };
}

describe('featuresReport', () => {
  it('answers every feature index, the migration flags by name, with probes and one GET only', () => {
    const { dev, seen } = standIn(
      {
        [VFIO_DEVICE_FEATURE_MIGRATION]: GET,
        [VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE]: GET | SET,
        [VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY]: SET,
      },
      VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
    );
    const report = featuresReport(dev)!;
    expect(report.map((f) => f.index)).toEqual(Object.values(VFIO_DEVICE_FEATURES));
    expect(report.find((f) => f.name === 'MIGRATION')).toEqual({
      index: 1,
      name: 'MIGRATION',
      get: true,
      set: false,
      flags: ['STOP_COPY', 'PRE_COPY'],
    });
    expect(report.find((f) => f.name === 'MIG_DEVICE_STATE')).toMatchObject({ get: true, set: true });
    expect(report.find((f) => f.name === 'LOW_POWER_ENTRY')).toMatchObject({ get: false, set: true });
    expect(report.filter((f) => !f.get && !f.set)).toHaveLength(report.length - 3);
    // Everything but the migration flags' GET was a probe.
    expect(seen.filter((f) => !(f & VFIO_DEVICE_FEATURE_PROBE))).toEqual([VFIO_DEVICE_FEATURE_MIGRATION | GET]);

    const text = formatFeaturesReport(report);
    expect(text.slice(0, 2)).toEqual(['', 'device features (VFIO_DEVICE_FEATURE probes):']);
    expect(text).toContain('   1 MIGRATION                   get: STOP_COPY, PRE_COPY');
    expect(text).toContain('   2 MIG_DEVICE_STATE            get, set');
    expect(text).toContain('   0 PCI_VF_TOKEN                none');
  });

  it('a device with no features says none for each; a vfio-user device has no report', () => {
    const { dev } = standIn({});
    const report = featuresReport(dev)!;
    expect(report.every((f) => !f.get && !f.set && f.flags === undefined)).toBe(true);
    expect(
      formatFeaturesReport(report)
        .slice(2)
        .every((l) => l.endsWith(' none')),
    ).toBe(true);
    expect(featuresReport({ iommu: { kind: 'vfio-user' } } as unknown as Device)).toBeUndefined();
  });
});
