/**
 * `npm run demo`: boots the test VM (QEMU with an emulated IOMMU, edu and nvme bound to
 * vfio-pci) and runs the two example drivers in it, so the library can be seen working on a
 * machine without VFIO hardware. Runs inside the guest; scripts/vm/run starts it.
 */
import { readFileSync } from 'node:fs';
import { main as edu } from './edu.js';
import { main as nvmeIdentify } from './nvme-identify.js';
import { runMain } from './common.js';

function demo(): void {
  const manifestPath = process.env.VFIO_TS_MANIFEST;
  if (!manifestPath) throw new Error('VFIO_TS_MANIFEST is not set: run this through npm run demo (it boots the test VM), or run examples/edu.ts and examples/nvme-identify.ts with an address');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { kernel: string; devices: Array<{ name: string; bdf: string; group: number; driver: string }> };
  const say = (line = ''): void => console.log(line);
  const indent = (line: string): void => console.log(`    ${line}`);

  say(`vfio-ts demo in a QEMU guest (Linux ${manifest.kernel}, emulated Intel VT-d).`);
  say('Devices bound to vfio-pci:');
  for (const d of manifest.devices) say(`    ${d.name.padEnd(6)} ${d.bdf}  IOMMU group ${d.group}  /dev/vfio/${d.group}`);
  const t0 = Date.now();

  say();
  say('1. edu (examples/edu.ts): registers through the mmapped BAR0, DMA through the IOMMU');
  edu(undefined, indent);

  say();
  say('2. NVMe (examples/nvme-identify.ts): admin queues in DMA memory, Identify Controller, polled');
  nvmeIdentify(undefined, indent);

  say();
  say(`Both drivers ran in ${((Date.now() - t0) / 1000).toFixed(1)} s of TypeScript: no kernel module, no compiler.`);
}

await runMain(demo);
