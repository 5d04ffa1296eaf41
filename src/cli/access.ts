/** `vfio read`, `vfio write` and `vfio config`: register and config-space access from the shell. */
import type { ConfigSpace, Region } from '../index.js';
import type { Width } from './args.js';
import { hex, hexDump } from './format.js';

/** Reads one register of `width` bits at `offset`. */
export function readRegister(region: Region, offset: number, width: Width): bigint {
  switch (width) {
    case 8:
      return BigInt(region.read8(offset));
    case 16:
      return BigInt(region.read16(offset));
    case 32:
      return BigInt(region.read32(offset));
    case 64:
      return region.read64(offset);
  }
}

/** Writes one register of `width` bits at `offset` (`value` must fit). */
export function writeRegister(region: Region, offset: number, width: Width, value: bigint): void {
  switch (width) {
    case 8:
      return region.write8(offset, Number(value));
    case 16:
      return region.write16(offset, Number(value));
    case 32:
      return region.write32(offset, Number(value));
    case 64:
      return region.write64(offset, value);
  }
}

/** A register value as zero-padded hex of its width: `0x010000ed`. */
export function formatValue(value: bigint, width: Width): string {
  return hex(value, width / 4);
}

/**
 * `count` consecutive registers from `offset`. One register prints as its value alone (for
 * scripts: `$(vfio read ...)`); several print as `offset: value` lines.
 */
export function readRegisters(region: Region, offset: number, width: Width, count: number): string {
  const step = width / 8;
  if (count === 1) return formatValue(readRegister(region, offset, width), width);
  const digits = Math.max(4, (offset + step * count).toString(16).length);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + i * step;
    lines.push(`${hex(at, digits)}: ${formatValue(readRegister(region, at, width), width)}`);
  }
  return lines.join('\n');
}

/** Reads one config-space value of `width` bits (8, 16 or 32). */
export function readConfig(config: ConfigSpace, offset: number, width: 8 | 16 | 32): number {
  return width === 8 ? config.read8(offset) : width === 16 ? config.read16(offset) : config.read32(offset);
}

/** Writes one config-space value of `width` bits (8, 16 or 32). */
export function writeConfig(config: ConfigSpace, offset: number, width: 8 | 16 | 32, value: number): void {
  if (width === 8) config.write8(offset, value);
  else if (width === 16) config.write16(offset, value);
  else config.write32(offset, value);
}

/** The first `length` bytes of config space (read as dwords) as an `lspci -xxx` style dump. */
export function dumpConfig(config: ConfigSpace, length: number): string {
  const n = Math.min(length, config.size) & ~3;
  const bytes = new Uint8Array(n);
  const view = new DataView(bytes.buffer); // a plain buffer: DataView is fine here (not MMIO)
  for (let off = 0; off < n; off += 4) view.setUint32(off, config.read32(off), true);
  return hexDump(bytes);
}
