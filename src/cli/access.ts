/** `vfio read`, `vfio write` and `vfio config`: register and config-space access from the shell. */
import { findRegisterMap, type ConfigSpace, type Device, type Region, type RegisterMap } from '../index.js';
import { parseInteger, type Width } from './args.js';
import { hexDump } from './format.js';
import { UsageError } from '../../structs/index.js';
import { hex } from '../sys/index.js';

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

/** `REGISTER`, `REGISTER[i]` or either with `.FIELD`, checked against the map before a device is opened. */
function target(map: RegisterMap, text: string): { register: string; field?: string } {
  const m = /^([A-Za-z_$][\w$]*)(\[\d+\])?(?:\.([A-Za-z_$][\w$]*))?$/.exec(text);
  const def = m ? (map.registers as Record<string, RegisterMap['registers'][string] | undefined>)[m[1]] : undefined;
  if (!m || !def) {
    const names = Object.keys(map.registers).join(', ');
    throw new UsageError(`register map ${map.name} has no register '${text}' (its registers: ${names})`);
  }
  if (m[3] !== undefined && !def.fields.some((f) => f.name === m[3]))
    throw new UsageError(
      `${map.name}.${m[1]} has no field '${m[3]}' (its fields: ${def.fields.map((f) => f.name).join(', ') || 'none'})`,
    );
  return { register: `${m[1]}${m[2] ?? ''}`, ...(m[3] === undefined ? {} : { field: m[3] }) };
}

/**
 * `vfio read ADDRESS --map NAME [REGISTER[.FIELD]...]`: the map and names are checked now; the
 * returned function reads each register once (through `read()`, the map's one reading accessor)
 * and prints it decoded, or the field's value; with no names, `dump()`.
 */
export function readMapped(mapName: string, names: string[]): (dev: Device) => string {
  const map = findRegisterMap(mapName);
  const targets = names.map((n) => target(map, n));
  return (dev) => {
    const regs = map.bind(dev.bar(map.bar));
    if (targets.length === 0) return String(regs.dump());
    return targets
      .map((t) => {
        const value = regs.get(t.register).read();
        return t.field === undefined ? String(value) : String((value as Record<string, unknown>)[t.field]);
      })
      .join('\n');
  };
}

/** `FIELD=VALUE` operands as fields: a number (hex or decimal; a bigint past 32 bits) or a label. */
function fieldsOf(map: RegisterMap, register: string, operands: string[]): Record<string, string | number | bigint> {
  const def = map.registers[register.replace(/\[\d+\]$/, '')];
  return Object.fromEntries(
    operands.map((o): [string, string | number | bigint] => {
      const eq = o.indexOf('=');
      if (eq < 1) throw new UsageError(`expected FIELD=VALUE, got '${o}'`, 'write');
      const name = o.slice(0, eq);
      const f = def.fields.find((x) => x.name === name);
      if (!f) target(map, `${register}.${name}`); // throws, naming the fields
      const text = o.slice(eq + 1);
      if (!/^(0x)?[0-9]/i.test(text)) return [name, text];
      const n = parseInteger(text, name);
      return [name, f?.isNumber === false ? n : Number(n)];
    }),
  );
}

/**
 * `vfio write ADDRESS --map NAME REGISTER VALUE` (the value as it is) or `REGISTER FIELD=VALUE...`
 * (`modify()`, or `write()` from the reset value for a write-only register).
 */
export function writeMapped(mapName: string, operands: string[]): (dev: Device) => string {
  const map = findRegisterMap(mapName);
  const [name, ...rest] = operands;
  const t = target(map, name);
  if (t.field !== undefined) throw new UsageError(`write REGISTER FIELD=VALUE, not ${name}`, 'write');
  const raw = rest.length === 1 && !rest[0].includes('=') ? parseInteger(rest[0], 'VALUE') : undefined;
  const fields = raw === undefined ? fieldsOf(map, t.register, rest) : undefined;
  return (dev) => {
    const r = map.bind(dev.bar(map.bar)).get(t.register);
    if (fields === undefined) {
      r.write(r.width === 64 ? raw! : Number(raw));
      return `${r.name} <- ${hex(raw!, r.width / 4)}`;
    }
    if (r.access === 'wo') r.write(fields);
    else r.modify(fields);
    return `${r.name} <- ${rest.join(' ')}`;
  };
}
