/**
 * Which way into VFIO this VM run tests: `VFIO_TS_IOMMU` (set by the test matrix, and read by
 * the library as its default), else what `auto` takes on this guest.
 */
import type { IommuKind } from '../../src/index.js';
import { manifest } from './manifest.js';

/** The kernel's ways into VFIO: what a VM row tests. */
type KernelBackend = Exclude<IommuKind, 'vfio-user'>;

function current(): KernelBackend {
  const env = process.env.VFIO_TS_IOMMU;
  if (env === 'type1' || env === 'iommufd' || env === 'noiommu') return env;
  const offered = manifest().backends ?? ['type1'];
  return offered.includes('noiommu') ? 'noiommu' : offered.includes('iommufd') ? 'iommufd' : 'type1';
}

export const backend: KernelBackend = current();

/** A test title that says which backends the test is for, e.g. `'...' + on('type1')` -> `... [type1]`. */
export const on = (...kinds: IommuKind[]): string => ` [${kinds.join(', ')} only]`;

/** Whether this run's backend is one of `kinds` (tests that only make sense there are defined only then). */
export const runsOn = (...kinds: IommuKind[]): boolean => kinds.includes(backend);
