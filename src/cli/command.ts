/**
 * What every `vfio` subcommand is: its name, usage, options and what it runs, where it writes
 * (`CliIo`), and the options several of them share.
 */
import { parseDeviceAddress, type OptionSpec, type ParsedArgs } from './args.js';
import type { Device, IommuChoice } from '../index.js';
import { DEFAULT_SYSFS } from '../pci/index.js';

/** Where the command writes. Each call is one chunk of text; a newline is added. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** Writes to the process's stdout and stderr. */
export const processIo: CliIo = {
  out: (t) => void process.stdout.write(`${t}\n`),
  err: (t) => void process.stderr.write(`${t}\n`),
};

/** One subcommand: its name, usage, options and what it runs. */
export interface Command {
  name: string;
  operands: string;
  summary: string;
  details?: string;
  options: Record<string, OptionSpec>;
  /** Resolves to the exit code when it is not 0 without an error (`vfio doctor` finding problems). */
  run(args: ParsedArgs, io: CliIo): Promise<void | number>;
}

export const WIDTH: OptionSpec = {
  type: 'string',
  short: 'w',
  value: 'BITS',
  description: 'access width: 8, 16, 32 or 64 (default 32)',
};
export const JSON_OPT: OptionSpec = { type: 'boolean', description: 'print JSON instead of text' };
export const SYSFS: OptionSpec = {
  type: 'string',
  value: 'ROOT',
  description: `sysfs root (default ${DEFAULT_SYSFS}; for tests and chroots)`,
};

export const IOMMU: OptionSpec = {
  type: 'string',
  value: 'WAY',
  description: 'way into VFIO: auto (default), type1, iommufd or noiommu',
};

export const VF_TOKEN: OptionSpec = {
  type: 'string',
  value: 'UUID',
  description: "the VF token to open an SR-IOV VF with (the one its PF's user set)",
};

/**
 * Opens the device at `address` with the command's `--iommu` and `--sysfs`, bus mastering left
 * as it is, runs `fn` on it and closes it.
 */
export async function withDevice<T>(address: string, values: ParsedArgs['values'], fn: (dev: Device) => T): Promise<T> {
  const addr = parseDeviceAddress(address);
  const { openDevice } = await import('../index.js');
  const iommu = values.iommu as IommuChoice | undefined;
  const sysfsRoot = values.sysfs as string | undefined;
  const vfToken = values['vf-token'] as string | undefined;
  using dev = openDevice(addr, {
    busMaster: false,
    ...(iommu ? { iommu } : {}),
    ...(sysfsRoot ? { sysfsRoot } : {}),
    ...(vfToken ? { vfToken } : {}),
  });
  return fn(dev);
}
