/** What the benchmarks share: command-line options and the test VM's devices. */
import { readFileSync } from 'node:fs';

/** The value after `--name` on the command line, or `fallback`. */
export function arg(name: string, fallback: string): string;
export function arg(name: string, fallback?: string): string | undefined;
export function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** A device of the test VM. */
export interface BenchDevice {
  name: string;
  bdf: string;
  group: number;
}

/** The devices named `names` from the test VM's manifest; `how` says how to run the bench. */
export function manifestDevices(names: readonly string[], how: string): BenchDevice[] {
  const path = process.env.VFIO_TS_MANIFEST;
  if (!path) throw new Error(`run inside the test VM: ${how}`);
  const m = JSON.parse(readFileSync(path, 'utf8')) as { devices: BenchDevice[] };
  return names.map((n) => {
    const d = m.devices.find((x) => x.name === n);
    if (!d) throw new Error(`the VM manifest has no ${n} device: run with --devices ${names.join(',')}`);
    return d;
  });
}
