/**
 * The device-feature part of `vfio info`: for every `VFIO_DEVICE_FEATURE_*` index, which of GET
 * and SET the kernel accepts, and for migration the states offered. Only PROBE ioctls (which
 * the kernel answers without acting) and the GET of the migration flags: nothing changes.
 */
import {
  VFIO_DEVICE_FEATURES,
  VFIO_DEVICE_FEATURE_MIGRATION,
  VFIO_MIGRATION_P2P,
  VFIO_MIGRATION_PRE_COPY,
  VFIO_MIGRATION_STOP_COPY,
  featureName,
} from '../../structs/index.js';
import type { Device } from '../index.js';

/** One feature index and what its probe said. */
export interface FeatureReport {
  index: number;
  /** The C name without `VFIO_DEVICE_FEATURE_` (`MIGRATION`). */
  name: string;
  /** GET is accepted. */
  get: boolean;
  /** SET is accepted. */
  set: boolean;
  /** MIGRATION alone: the `VFIO_MIGRATION_*` flags the device offers, by name without the prefix. */
  flags?: string[];
}

const MIGRATION_FLAGS: Array<[number, string]> = [
  [VFIO_MIGRATION_STOP_COPY, 'STOP_COPY'],
  [VFIO_MIGRATION_P2P, 'P2P'],
  [VFIO_MIGRATION_PRE_COPY, 'PRE_COPY'],
];

/**
 * Every feature index the kernel defines, probed on `dev`; undefined for a device served over
 * vfio-user (its client passes no features).
 */
export function featuresReport(dev: Device): FeatureReport[] | undefined {
  if (dev.iommu.kind === 'vfio-user') return undefined;
  const features = dev.features;
  return Object.values(VFIO_DEVICE_FEATURES).map((index) => {
    const support = features.has(index) ? features.probe(index) : { get: false, set: false };
    const report: FeatureReport = { index, name: featureName(index), ...support };
    if (index === VFIO_DEVICE_FEATURE_MIGRATION && support.get) {
      const { flags } = dev.migration.caps();
      report.flags = MIGRATION_FLAGS.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
    }
    return report;
  });
}

/** `get, set`, `get`, `set` or `none`. */
function describeSupport(f: FeatureReport): string {
  return [f.get ? 'get' : '', f.set ? 'set' : ''].filter(Boolean).join(', ') || 'none';
}

/** Its lines in the text report (a blank line first): one per feature, the migration flags after its answer. */
export function formatFeaturesReport(features: FeatureReport[] | undefined): string[] {
  if (!features) return [];
  const width = Math.max(...features.map((f) => f.name.length));
  return [
    '',
    'device features (VFIO_DEVICE_FEATURE probes):',
    ...features.map(
      (f) =>
        `  ${String(f.index).padStart(2)} ${f.name.padEnd(width)} ${describeSupport(f)}${f.flags ? `: ${f.flags.join(', ') || 'no flags'}` : ''}`,
    ),
  ];
}
