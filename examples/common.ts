/**
 * Shared by the examples: which device to drive (an address from the command line, the test
 * VM's manifest, or the first matching device bound to vfio-pci), and "am I the main module".
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PciSysfs, parsePciAddress } from '../src/index.js';
import { readManifest } from '../scripts/vm/manifest.js';

/** What an example looks for. */
export interface DeviceWanted {
  /** The device's name in the test VM's manifest (`edu`, `nvme`). */
  name: string;
  /** Human description for messages. */
  description: string;
  /** Whether a sysfs device (ids and 24-bit class code) is one of these. */
  matches(d: { vendor: number; device: number; class: number }): boolean;
}

/**
 * The address to use: `given` if there is one (a PCI address, or `vfio-user:PATH`); else the
 * device named `wanted.name` in the manifest at $VFIO_TS_MANIFEST (the test VM writes it); else
 * the first device bound to vfio-pci that `wanted.matches`.
 */
export function findDevice(wanted: DeviceWanted, given?: string): string {
  if (given) return given.startsWith('vfio-user:') ? given : parsePciAddress(given);
  const d = readManifest()?.devices.find((x) => x.name === wanted.name);
  if (d) return parsePciAddress(d.bdf);
  const sysfs = new PciSysfs();
  for (const addr of sysfs.list()) {
    if (sysfs.driver(addr) !== 'vfio-pci') continue;
    if (wanted.matches(sysfs.info(addr))) return addr;
  }
  throw new Error(
    `no ${wanted.description} bound to vfio-pci found: pass its address as the first argument (vfio list shows the devices, vfio bind ADDRESS binds one to vfio-pci)`,
  );
}

/** True when the module with `url` (its `import.meta.url`) is the script node was started with. */
export function isMain(url: string): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(url));
  } catch {
    return false;
  }
}

/** Runs `fn` as the script's main function: errors print as `error: ...` and set exit code 1. */
export async function runMain(fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}

/** Polls `ready` until it is true, or throws after `timeoutMs` naming `what`. */
export function waitFor(ready: () => boolean, timeoutMs: number, what: string): void {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}
