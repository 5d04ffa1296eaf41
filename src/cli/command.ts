/**
 * What every `vfio` subcommand is: its name, usage, options and what it runs, where it writes
 * (`CliIo`), and the options several of them share.
 */
import type { OptionSpec, ParsedArgs } from './args.js';
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
