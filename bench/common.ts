/** What the benchmarks share: command-line options and the test VM's devices. */
import { manifestDevice } from '../scripts/vm/manifest.js';

/** The value after `--name` on the command line, or `fallback`. */
export function arg(name: string, fallback: string): string;
export function arg(name: string, fallback?: string): string | undefined;
export function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** A device of the test VM, as the C benchmarks take it: its address and IOMMU group. */
export interface BenchDevice {
  name: string;
  bdf: string;
  group: number;
}

/** The devices named `names` from the test VM's manifest; `how` says how to run the bench. */
export function manifestDevices(names: readonly string[], how: string): BenchDevice[] {
  return names.map((n) => {
    const d = manifestDevice(n, `run inside the test VM with --devices ${names.join(',')}: ${how}`);
    if (d.group === null) throw new Error(`${n} (${d.bdf}) has no IOMMU group: the benchmarks need one`);
    return { name: d.name, bdf: d.bdf, group: d.group };
  });
}
