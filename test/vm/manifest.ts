/** The test VM's manifest for the VM tests: which device is where. No test hard-codes an address. */
import { manifestDevice, readManifest, type Manifest, type ManifestDevice } from '../../scripts/vm/manifest.js';

export type { Backend, Manifest, ManifestDevice } from '../../scripts/vm/manifest.js';

const HOW = 'VM tests run inside the guest, through npm run test:vm';

export function manifest(): Manifest {
  const m = readManifest();
  if (!m) throw new Error(`VFIO_TS_MANIFEST is not set: ${HOW}`);
  return m;
}

/** The device named `name` in the manifest; throws when the rig did not provide it. */
export function testDevice(name: string): ManifestDevice {
  return manifestDevice(name, HOW);
}
