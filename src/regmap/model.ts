/**
 * A map spec checked and put in the form the accessors use: every value a bigint, every default
 * filled in, the masks worked out once. Everything a map can get wrong is found here, at load,
 * with a message naming the map, the register and the field: unknown keys, bad names, bits past
 * the width, overlapping fields, an enum value that does not fit, misaligned offsets, registers
 * past the map's size.
 */
import type { Access, FieldSpec, MapSpec, ReadEffect, RegisterSpec, RegisterWidth, WriteEffect } from './spec.js';
import { checkKeys, checkName, checkObject, checkOneOf, ones, specNumber, specValue } from './values.js';
import { RegisterMapError } from '../../structs/index.js';
import { hex } from '../sys/index.js';

/** A field of a checked map (public as `FieldInfo`). */
export interface FieldModel {
  readonly name: string;
  /** Its highest bit. */
  readonly msb: number;
  /** Its lowest bit. */
  readonly lsb: number;
  /** Bits. */
  readonly width: number;
  /** The field's bits in the register. */
  readonly mask: bigint;
  /** Its own access, or its register's. */
  readonly access: Access;
  /** What writing it does besides storing (its own, or its register's `write`). */
  readonly write: WriteEffect | undefined;
  /** Label to value, and back. */
  readonly values: ReadonlyMap<string, bigint>;
  readonly labels: ReadonlyMap<bigint, string>;
  /** Up to 32 bits: its value is a number; wider, a bigint. */
  readonly isNumber: boolean;
  /** The map's words about it, if any. */
  readonly description: string | undefined;
}

export interface RegisterModel {
  readonly name: string;
  /** `map.REGISTER`, for messages. */
  readonly where: string;
  readonly offset: number;
  readonly width: RegisterWidth;
  readonly accessWidth: RegisterWidth;
  readonly access: Access;
  /** The register's read effect, or its fields'. */
  readonly readEffect: ReadEffect | undefined;
  readonly reset: bigint;
  readonly fields: readonly FieldModel[];
  readonly field: ReadonlyMap<string, FieldModel>;
  /** The bits of fields whose writes have side effects, and their neutral (do-nothing) values. */
  readonly effectMask: bigint;
  readonly neutral: bigint;
  /** An array: `count` registers, `stride` bytes apart. */
  readonly count: number | undefined;
  readonly stride: number;
  readonly description: string | undefined;
}

export interface MapModel {
  readonly name: string;
  readonly bar: number;
  readonly size: number | undefined;
  readonly description: string | undefined;
  readonly registers: readonly RegisterModel[];
  readonly register: ReadonlyMap<string, RegisterModel>;
}

const ACCESS: readonly Access[] = ['ro', 'wo', 'rw'];
const READ_EFFECTS: readonly ReadEffect[] = ['clear', 'set', 'modify'];
const WRITE_EFFECTS: readonly WriteEffect[] = [
  'oneToClear',
  'oneToSet',
  'oneToToggle',
  'zeroToClear',
  'zeroToSet',
  'zeroToToggle',
  'selfClearing',
];
const WIDTHS: readonly RegisterWidth[] = [8, 16, 32, 64];
/** Members of a bound map and of a decoded value: no register or field may take their names. */
export const RESERVED_REGISTER_NAMES = ['dump', 'get', 'map', 'region'] as const;
export const RESERVED_FIELD_NAMES = ['raw'] as const;

/** The neutral value of a field with write effect `w`: all ones for the `zeroTo...` kinds, else 0. */
function neutralOf(w: WriteEffect | undefined, mask: bigint): bigint {
  return w?.startsWith('zero') ? mask : 0n;
}

function fieldModel(name: string, spec: unknown, reg: RegisterSpec, width: number, where: string): FieldModel {
  checkObject(spec, where);
  checkKeys(spec, ['bits', 'access', 'write', 'readEffect', 'values', 'description'], where);
  const f = spec as unknown as FieldSpec;
  checkName(name, RESERVED_FIELD_NAMES, where);
  const bits = f.bits;
  const pair = typeof bits === 'number' ? [bits, bits] : Array.isArray(bits) && bits.length === 2 ? bits : undefined;
  if (!pair || !pair.every((b) => Number.isInteger(b) && b >= 0))
    throw new RegisterMapError(`${where}: bits must be a bit number or [msb, lsb], got ${JSON.stringify(bits)}`);
  const [msb, lsb] = pair as [number, number];
  if (msb < lsb) throw new RegisterMapError(`${where}: bits [${msb}, ${lsb}] must be [msb, lsb], msb first`);
  if (msb >= width)
    throw new RegisterMapError(`${where}: bit ${msb} is past the register's ${width} bits (bits 0 to ${width - 1})`);
  const access = checkOneOf(f.access, ACCESS, `${where} access`) ?? reg.access ?? 'rw';
  const regAccess = reg.access ?? 'rw';
  if (regAccess !== 'rw' && access !== regAccess)
    throw new RegisterMapError(`${where}: access '${access}' in a '${regAccess}' register`);
  const write = checkOneOf(f.write, WRITE_EFFECTS, `${where} write`) ?? reg.write;
  checkOneOf(f.readEffect, READ_EFFECTS, `${where} readEffect`);
  const fieldWidth = msb - lsb + 1;
  const values = new Map<string, bigint>();
  const labels = new Map<bigint, string>();
  if (f.values !== undefined) {
    checkObject(f.values, `${where} values`);
    for (const [label, v] of Object.entries(f.values)) {
      const value = specValue(v, `${where} value '${label}'`);
      if (value > ones(fieldWidth))
        throw new RegisterMapError(
          `${where}: value '${label}' = ${hex(value)} does not fit the field's ${fieldWidth} bits`,
        );
      if (labels.has(value))
        throw new RegisterMapError(`${where}: values '${labels.get(value)}' and '${label}' are both ${hex(value)}`);
      values.set(label, value);
      labels.set(value, label);
    }
  }
  return {
    name,
    msb,
    lsb,
    width: fieldWidth,
    mask: ones(fieldWidth) << BigInt(lsb),
    access,
    write,
    values,
    labels,
    isNumber: fieldWidth <= 32,
    description: f.description,
  };
}

function registerModel(mapName: string, name: string, spec: unknown): RegisterModel {
  const where = `register map ${mapName}: ${name}`;
  checkName(name, RESERVED_REGISTER_NAMES, where);
  checkObject(spec, where);
  checkKeys(
    spec,
    [
      'offset',
      'width',
      'accessWidth',
      'access',
      'readEffect',
      'write',
      'reset',
      'fields',
      'count',
      'stride',
      'description',
    ],
    where,
  );
  const r = spec as unknown as RegisterSpec;
  const width = checkOneOf(r.width, WIDTHS, `${where} width`) ?? 32;
  const accessWidth = checkOneOf(r.accessWidth, WIDTHS, `${where} accessWidth`) ?? width;
  if (accessWidth > width)
    throw new RegisterMapError(`${where}: accessWidth ${accessWidth} is wider than the register (${width} bits)`);
  const access = checkOneOf(r.access, ACCESS, `${where} access`) ?? 'rw';
  checkOneOf(r.write, WRITE_EFFECTS, `${where} write`);
  const offset = specNumber(r.offset, `${where} offset`);
  const bytes = accessWidth / 8;
  if (offset % bytes !== 0)
    throw new RegisterMapError(`${where}: offset ${hex(offset)} is not a multiple of ${bytes} (its access width)`);
  const reset = r.reset === undefined ? 0n : specValue(r.reset, `${where} reset`);
  if (reset > ones(width)) throw new RegisterMapError(`${where}: reset ${hex(reset)} does not fit ${width} bits`);
  const fields: FieldModel[] = [];
  if (r.fields !== undefined) {
    checkObject(r.fields, `${where} fields`);
    for (const [fname, fspec] of Object.entries(r.fields)) {
      const f = fieldModel(fname, fspec, r, width, `${where}.${fname}`);
      const clash = fields.find((g) => (g.mask & f.mask) !== 0n);
      if (clash)
        throw new RegisterMapError(
          `${where}.${fname}: bits ${f.msb}:${f.lsb} overlap ${clash.name} (${clash.msb}:${clash.lsb})`,
        );
      fields.push(f);
    }
  }
  const fieldEffect = Object.values(r.fields ?? {}).find((f) => f.readEffect)?.readEffect;
  const readEffect = checkOneOf(r.readEffect, READ_EFFECTS, `${where} readEffect`) ?? fieldEffect;
  const withEffect = fields.filter((f) => f.write !== undefined);
  const count = r.count === undefined ? undefined : specNumber(r.count, `${where} count`);
  if (count === 0) throw new RegisterMapError(`${where}: count 0: an array has at least one register`);
  const stride = r.stride === undefined ? width / 8 : specNumber(r.stride, `${where} stride`);
  if (count !== undefined && (stride < width / 8 || stride % bytes !== 0))
    throw new RegisterMapError(
      `${where}: stride ${stride} must be at least ${width / 8} bytes and a multiple of ${bytes} (the access width)`,
    );
  return {
    name,
    where: `${mapName}.${name}`,
    offset,
    width,
    accessWidth,
    access,
    readEffect,
    reset,
    fields,
    field: new Map(fields.map((f) => [f.name, f])),
    effectMask: withEffect.reduce((m, f) => m | f.mask, 0n),
    neutral: withEffect.reduce((m, f) => m | neutralOf(f.write, f.mask), 0n),
    count,
    stride,
    description: r.description,
  };
}

/** The byte after the last register of `r` (its last element for an array). */
export function registerEnd(r: RegisterModel, count = r.count ?? 1, stride = r.stride): number {
  return r.offset + (count - 1) * stride + r.width / 8;
}

/** Checks `spec` (from a `.ts` literal or parsed JSON) and returns its model; throws `RegisterMapError`. */
export function mapModel(spec: unknown): MapModel {
  checkObject(spec, 'register map');
  const s = spec as unknown as MapSpec;
  if (typeof s.name !== 'string' || !s.name)
    throw new RegisterMapError(`register map: 'name' must be a non-empty string, got ${JSON.stringify(s.name)}`);
  const where = `register map ${s.name}`;
  checkKeys(spec, ['name', 'bar', 'size', 'description', 'registers'], where);
  const bar = s.bar === undefined ? 0 : specNumber(s.bar, `${where}: bar`);
  if (bar > 5) throw new RegisterMapError(`${where}: bar ${bar}: a PCI function has BARs 0 to 5`);
  const size = s.size === undefined ? undefined : specNumber(s.size, `${where}: size`);
  checkObject(s.registers, `${where}: registers`);
  const registers = Object.entries(s.registers).map(([name, r]) => registerModel(s.name, name, r));
  if (registers.length === 0) throw new RegisterMapError(`${where}: no registers`);
  if (size !== undefined)
    for (const r of registers)
      if (registerEnd(r) > size)
        throw new RegisterMapError(
          `${where}: ${r.name} ends at ${hex(registerEnd(r))}, past the map's size ${hex(size)}`,
        );
  return {
    name: s.name,
    bar,
    size,
    description: s.description,
    registers,
    register: new Map(registers.map((r) => [r.name, r])),
  };
}
