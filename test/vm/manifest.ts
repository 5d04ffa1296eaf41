/** The test VM's manifest (written by scripts/vm/run): which device is where. No test hard-codes an address. */
import { readFileSync } from 'node:fs';

export interface ManifestDevice {
  name: string;
  kind: string;
  bdf: string;
  vendor: string;
  device: string;
  /**
   * IOMMU group number. With an IOMMU every device has one; in a no-IOMMU boot only the
   * devices bound to vfio-pci do (vfio makes a fake group for each): null for the others.
   */
  group: number | null;
  /** `/dev/vfio/N`, or `/dev/vfio/noiommu-N` in a no-IOMMU boot; null when there is no group node. */
  groupPath: string | null;
  /** The device's VFIO cdev, `/dev/vfio/devices/vfioN` (or `noiommu-vfioN`); null without one. */
  cdev: string | null;
  driver: string;
  viable: boolean;
}

/** The ways into VFIO the guest offers, in the library's names. */
export type Backend = 'type1' | 'iommufd' | 'noiommu';

export interface Manifest {
  /** `uname -r`: Debian's ends in -amd64, ours (scripts/vm/build-kernel) in -vfiots. */
  kernel: string;
  /** Which guest kernel scripts/vm/run booted (--kernel). */
  flavour: 'debian' | 'vfio';
  /** `uname -m`. */
  arch: string;
  /** The IOMMU the guest has: emulated VT-d, or none (--no-iommu). */
  iommu: 'intel-vtd' | 'none';
  /**
   * type1: /dev/vfio/vfio and an IOMMU; iommufd: /dev/iommu, an IOMMU and a cdev for every
   * vfio-pci device; noiommu: vfio's enable_unsafe_noiommu_mode is on.
   */
  backends: Backend[];
  hugepages2M: number;
  devices: ManifestDevice[];
}

let cached: Manifest | undefined;

export function manifest(): Manifest {
  const path = process.env.VFIO_TS_MANIFEST;
  if (!path) throw new Error('VFIO_TS_MANIFEST is not set: VM tests run inside the guest, through npm run test:vm');
  cached ??= JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  return cached;
}

/** The device named `name` in the manifest; throws when the rig did not provide it. */
export function testDevice(name: string): ManifestDevice {
  const d = manifest().devices.find((x) => x.name === name);
  if (!d) throw new Error(`the VM manifest has no device named ${name}`);
  return d;
}
