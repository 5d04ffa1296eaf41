/**
 * Argument parsing for the `vfio` command: options through `node:util` `parseArgs` (strict),
 * and the number, width and address operands with messages that say what was expected.
 */
import { parseArgs } from 'node:util';
import { parsePciAddress, type PciAddress } from '../pci/index.js';
import { UsageError } from '../../structs/index.js';
import { hex } from '../sys/index.js';

/** An option a subcommand takes. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in help (`N`, `ROOT`). */
  value?: string;
  description: string;
}

/** What `parseCommandArgs` returns: positionals and options by name. */
export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

/**
 * Parses `args` (what follows the subcommand) against `options` (plus `--help`/`-h`).
 * Unknown options and values given to boolean flags are `UsageError`s naming the command.
 */
export function parseCommandArgs(command: string, args: string[], options: Record<string, OptionSpec>): ParsedArgs {
  const spec: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(options))
    spec[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  try {
    const { values, positionals } = parseArgs({ args, options: spec, allowPositionals: true, strict: true });
    return { positionals, values: values };
  } catch (e) {
    // parseArgs errors carry a code (ERR_PARSE_ARGS_UNKNOWN_OPTION, ...) and a long message
    // suggesting `--`; keep the first sentence.
    const msg = e instanceof Error ? e.message.split('. ')[0].replace(/\.$/, '') : String(e);
    throw new UsageError(msg, command);
  }
}

/** Checks the number of operands: `names` are required, `optional` may follow. */
export function requireOperands(
  command: string,
  positionals: string[],
  names: string[],
  optional: string[] = [],
): void {
  if (positionals.length < names.length) {
    throw new UsageError(`missing ${names.slice(positionals.length).join(' and ')}`, command);
  }
  if (positionals.length > names.length + optional.length) {
    throw new UsageError(`unexpected operand '${positionals[names.length + optional.length]}'`, command);
  }
}

const HEX = /^0x[0-9a-f]+(_[0-9a-f]+)*$/i;
const DEC = /^[0-9]+(_[0-9]+)*$/;

/**
 * Parses a non-negative integer written in hex (`0x1f`) or decimal (`31`); `_` may group
 * digits. Returns a bigint so 64-bit values keep every bit.
 */
export function parseInteger(text: string, what: string): bigint {
  const s = text.trim();
  if (!HEX.test(s) && !DEC.test(s)) {
    throw new UsageError(`${what} must be a non-negative integer in hex (0x10) or decimal (16), got '${text}'`);
  }
  return BigInt(s.replaceAll('_', ''));
}

/** `parseInteger` limited to `[0, max]` and returned as a number. */
export function parseSmallInteger(text: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = parseInteger(text, what);
  if (v > BigInt(max)) throw new UsageError(`${what} must be at most ${max} (${hex(max)}), got ${text}`);
  return Number(v);
}

/** Access width in bits. */
export type Width = 8 | 16 | 32 | 64;

/** Parses `--width` (8, 16, 32 or 64; `allowed` narrows it); `fallback` when absent. */
export function parseWidth(
  text: string | boolean | undefined,
  fallback: Width = 32,
  allowed: Width[] = [8, 16, 32, 64],
): Width {
  if (text === undefined || typeof text === 'boolean') return fallback;
  const w = Number(text);
  if (!allowed.includes(w as Width)) throw new UsageError(`--width must be ${allowed.join(', ')}, got '${text}'`);
  return w as Width;
}

/** Parses a PCI address (`0000:00:03.0` or `00:03.0`); the library's message explains the format. */
export function parseAddress(text: string): PciAddress {
  return parsePciAddress(text);
}

/** What may be a mediated device's UUID (bare or `mdev:`): `openDevice` checks it in full. */
const MDEV_LIKE = /^(mdev:|[0-9a-f]{8}-)/i;

/**
 * A device to open: a PCI address, a mediated device's UUID (bare or `mdev:UUID`), or
 * `vfio-user:PATH` for a device a vfio-user server serves.
 */
export function parseDeviceAddress(text: string): string {
  return text.startsWith('vfio-user:') || MDEV_LIKE.test(text) ? text : parsePciAddress(text);
}

/** A value that fits in `width` bits, or a UsageError saying the largest one. */
export function parseValue(text: string, width: Width): bigint {
  const v = parseInteger(text, 'VALUE');
  const max = (1n << BigInt(width)) - 1n;
  if (v > max) throw new UsageError(`VALUE ${text} does not fit in ${width} bits (largest ${hex(max)})`);
  return v;
}
