/**
 * `npm run demo`: boots the test VM (QEMU with an emulated IOMMU, edu, nvme and e1000e bound
 * to vfio-pci) and runs the three example drivers in it, so the library can be seen working on a
 * machine without VFIO hardware. Runs inside the guest; scripts/vm/run starts it.
 */
import { readManifest } from '../scripts/vm/manifest.js';
import { main as edu } from './edu.js';
import { main as nvmeIdentify } from './nvme-identify.js';
import { main as e1000eLoopback } from './e1000e-loopback.js';
import { runMain } from './common.js';

function demo(): void {
  const manifest = readManifest();
  if (!manifest)
    throw new Error(
      'VFIO_TS_MANIFEST is not set: run this through npm run demo (it boots the test VM), or run the examples with an address',
    );
  const say = (line = ''): void => console.log(line);
  const indent = (line: string): void => console.log(`    ${line}`);

  say(
    `vfio-ts demo in a QEMU guest (Linux ${manifest.kernel}, ${manifest.iommu === 'none' ? 'no IOMMU' : 'emulated Intel VT-d'}).`,
  );
  say('Devices bound to vfio-pci:');
  for (const d of manifest.devices.filter((x) => x.driver === 'vfio-pci'))
    say(`    ${d.name.padEnd(6)} ${d.bdf}  IOMMU group ${d.group}  ${d.groupPath}`);
  const t0 = Date.now();

  say();
  say('1. edu (examples/edu.ts): registers through the mmapped BAR0, DMA through the IOMMU');
  edu(undefined, indent);

  say();
  say('2. NVMe (examples/nvme-identify.ts): admin queues in DMA memory, Identify Controller, polled');
  nvmeIdentify(undefined, indent);

  say();
  say(
    '3. e1000e (examples/e1000e-loopback.ts): TX and RX rings in DMA memory, one frame out and back through PHY loopback',
  );
  e1000eLoopback(undefined, indent);

  say();
  say(
    `The three drivers ran in ${((Date.now() - t0) / 1000).toFixed(1)} s of TypeScript: no kernel module, no compiler.`,
  );
}

await runMain(demo);
