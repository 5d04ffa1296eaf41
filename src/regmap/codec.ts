/**
 * A register's value and its fields, both ways, with no device in sight: decoding a raw value
 * into fields (enum fields as their label, or the number when no label matches), encoding
 * fields onto a base value, and the one-line text of a decoded value. Bit arithmetic is on
 * bigints; values come and go as numbers up to 32 bits and bigints beyond (the project's rule).
 */
import type { FieldModel, RegisterModel } from './model.js';
import { ones } from './values.js';
import { RegisterMapError, VfioErrorCode, VfioRangeError, VfioTypeError } from '../../structs/index.js';
import { describeArg, hex, INSPECT } from '../sys/index.js';

/** Where a decoded value's prototype keeps its register's name and width, out of `Object.keys`. */
const NAME = Symbol('register name');
const WIDTH = Symbol('register width');

/** A decoded value's fields as they print: labels quoted, bigints with `n`. */
function show(v: unknown): string {
  return typeof v === 'string' ? `'${v.replace(/'/g, "\\'")}'` : typeof v === 'bigint' ? `${v}n` : String(v);
}

/** The line a decoded value prints as: `STATUS = 0x00080783 { FD: 1, LU: 1, SPEED: '1000Mb/s' }`. */
function line(this: Record<string | symbol, unknown>): string {
  const fields = Object.keys(this)
    .filter((k) => k !== 'raw')
    .map((k) => `${k}: ${show(this[k])}`);
  const raw = this.raw as number | bigint;
  return `${String(this[NAME])} = ${hex(raw, (this[WIDTH] as number) / 4)}${fields.length ? ` { ${fields.join(', ')} }` : ''}`;
}

/** The prototype of the values `read()` and `decode()` give for register `name` (one per register). */
export function decodedPrototype(name: string, width: number): object {
  return Object.create(Object.prototype, {
    [NAME]: { value: name },
    [WIDTH]: { value: width },
    [INSPECT]: { value: line },
    toString: { value: line },
  }) as object;
}

/** `raw` as the register's value type: a number up to 32 bits, else a bigint. */
export function outward(raw: bigint, width: number): number | bigint {
  return width <= 32 ? Number(raw) : raw;
}

/** A field's value in `raw`: its label when one matches, else its number (or bigint). */
export function fieldValue(f: FieldModel, raw: bigint): string | number | bigint {
  const v = (raw & f.mask) >> BigInt(f.lsb);
  return f.labels.get(v) ?? (f.isNumber ? Number(v) : v);
}

/** `raw` decoded: `{ raw, ...fields }` on `proto` (from `decodedPrototype`). */
export function decode(r: RegisterModel, raw: bigint, proto: object): Record<string, unknown> {
  const out = Object.create(proto) as Record<string, unknown>;
  out.raw = outward(raw, r.width);
  for (const f of r.fields) out[f.name] = fieldValue(f, raw);
  return out;
}

/**
 * A register value given by the caller as a bigint, checked: a number up to 32 bits, a bigint
 * at 64, fitting the width (nothing is truncated). `what` names it: `e1000e.CTRL write`.
 */
export function rawIn(r: RegisterModel, v: unknown, what: string): bigint {
  const big = r.width === 64;
  if (big ? typeof v === 'bigint' : typeof v === 'number' && Number.isInteger(v)) {
    const b = BigInt(v as number | bigint);
    if (b >= 0n && b <= ones(r.width)) return b;
    throw new VfioRangeError(
      VfioErrorCode.OUT_OF_RANGE,
      `${what}: ${describeArg(v)} does not fit ${r.width} bits; nothing is truncated`,
    );
  }
  throw new VfioTypeError(
    VfioErrorCode.INVALID_ARGUMENT,
    `${what}: ${describeArg(v)}: a ${r.width}-bit register takes ${big ? 'a bigint' : 'a number'} (or an object of fields)`,
  );
}

/** A field's value from the caller (a label, or a number: a bigint past 32 bits) as its bits. */
export function fieldIn(r: RegisterModel, f: FieldModel, v: unknown, what: string): bigint {
  const where = `${what}: ${r.name}.${f.name}`;
  if (typeof v === 'string') {
    const value = f.values.get(v);
    if (value !== undefined) return value;
    const labels = [...f.values.keys()].map((l) => `'${l}'`).join(', ');
    throw new VfioRangeError(
      VfioErrorCode.REGISTER_MAP,
      `${where}: no value '${v}'${labels ? ` (its values: ${labels})` : ' (it has no labels)'}`,
    );
  }
  const ok = f.isNumber ? typeof v === 'number' && Number.isInteger(v) : typeof v === 'bigint';
  if (!ok)
    throw new VfioTypeError(
      VfioErrorCode.INVALID_ARGUMENT,
      `${where}: ${describeArg(v)}: a ${f.width}-bit field takes ${f.isNumber ? 'a number' : 'a bigint'}${f.values.size ? ' or a label' : ''}`,
    );
  const b = BigInt(v as number | bigint);
  if (b < 0n || b > ones(f.width))
    throw new VfioRangeError(
      VfioErrorCode.OUT_OF_RANGE,
      `${where}: ${describeArg(v)} does not fit ${f.width} bits (0 to ${hex(ones(f.width))}); nothing is truncated`,
    );
  return b;
}

/** The field named `name` of `r`, or an error listing the fields. */
export function fieldNamed(r: RegisterModel, name: string, what: string): FieldModel {
  const f = r.field.get(name);
  if (f) return f;
  const names = r.fields.map((g) => g.name).join(', ');
  throw new RegisterMapError(`${what}: ${r.where} has no field '${name}'${names ? ` (its fields: ${names})` : ''}`);
}

/**
 * `base` with the given fields set, and every field with a write effect that was not given at
 * its neutral value (so that, say, a write-1-to-clear bit read as 1 is not written back as 1).
 */
export function encode(r: RegisterModel, base: bigint, fields: unknown, what: string): bigint {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
    throw new VfioTypeError(
      VfioErrorCode.INVALID_ARGUMENT,
      `${what}: expected an object of fields, got ${describeArg(fields)}`,
    );
  let given = 0n;
  let value = base;
  for (const [name, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const f = fieldNamed(r, name, what);
    if (f.access === 'ro') throw new RegisterMapError(`${what}: ${r.where}.${name} is read-only`);
    value = (value & ~f.mask) | (fieldIn(r, f, v, what) << BigInt(f.lsb));
    given |= f.mask;
  }
  const untouched = r.effectMask & ~given;
  return (value & ~untouched) | (r.neutral & untouched);
}
