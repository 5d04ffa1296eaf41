/**
 * The test VM's manifest: what scripts/vm/init.sh found in the guest (kernel, IOMMU, ways into
 * VFIO, and which device is at which address). The one reader of it, for tests, examples and
 * benchmarks alike; its path is in $VFIO_TS_MANIFEST inside the guest.
 */
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
  /** `uname -r`: Debian's ends in -amd64 (-arm64), ours (scripts/vm/build-kernel) in -vfiots. */
  kernel: string;
  /** Which guest kernel scripts/vm/run booted (--kernel). */
  flavour: 'debian' | 'vfio';
  /** `uname -m`: x86_64 or aarch64 (scripts/vm/run --arch). */
  arch: string;
  /** The IOMMU the guest has: emulated VT-d (x86_64), an SMMUv3 (arm64), or none (--no-iommu). */
  iommu: 'intel-vtd' | 'arm-smmuv3' | 'none';
  /**
   * type1: /dev/vfio/vfio and an IOMMU; iommufd: /dev/iommu, an IOMMU and a cdev for every
   * vfio-pci device; noiommu: vfio's enable_unsafe_noiommu_mode is on.
   */
  backends: Backend[];
  hugepages2M: number;
  devices: ManifestDevice[];
}

let cached: Manifest | undefined;

/** The manifest of the guest this runs in, or undefined outside the test VM. */
export function readManifest(): Manifest | undefined {
  const path = process.env.VFIO_TS_MANIFEST;
  if (!path) return undefined;
  cached ??= JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  return cached;
}

/**
 * The manifest's device named `name`. `how` tells the user how to run the caller in the VM:
 * it ends the error outside the VM, and names the devices to ask for when one is missing.
 */
export function manifestDevice(name: string, how: string): ManifestDevice {
  const m = readManifest();
  if (!m) throw new Error(`VFIO_TS_MANIFEST is not set: ${how}`);
  const d = m.devices.find((x) => x.name === name);
  if (!d) throw new Error(`the VM manifest has no device named ${name}: ${how}`);
  return d;
}
