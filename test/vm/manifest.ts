/** The test VM's manifest (written by scripts/vm/run): which device is where. No test hard-codes an address. */
import { readFileSync } from 'node:fs';

export interface ManifestDevice {
  name: string;
  kind: string;
  bdf: string;
  vendor: string;
  device: string;
  group: number;
  driver: string;
  viable: boolean;
}

export interface Manifest {
  kernel: string;
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
