/**
 * Values of a register map as data: numbers, bigints, and in JSON strings (`"0x1f"`, `"31"`),
 * read into bigints for the bit arithmetic; and the one error class of a map that does not hold
 * together, whose message names the map, the register and the field.
 */
import { RegisterMapError } from '../../structs/index.js';
import { choiceList, describeArg } from '../sys/index.js';

/** All ones in the low `bits` bits. */
export function ones(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/**
 * `v` as a non-negative bigint: a safe integer number, a bigint, or a string in hex (`0x1f`),
 * binary (`0b101`) or decimal (`31`), with `_` allowed between digits. `where` names it in the
 * error (`e1000e: CTRL reset`).
 */
export function specValue(v: unknown, where: string): bigint {
  if (typeof v === 'bigint' && v >= 0n) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^(0x[0-9a-f]+(_[0-9a-f]+)*|0b[01]+(_[01]+)*|[0-9]+(_[0-9]+)*)$/i.test(v.trim()))
    return BigInt(v.trim().replace(/_/g, ''));
  throw new RegisterMapError(
    `${where} ${describeArg(v)}: expected a non-negative integer (a number, a bigint, or a string such as "0x1f"; 64-bit values in JSON are strings)`,
  );
}

/** `v` as a non-negative safe integer (offsets, counts, strides), also from a string. */
export function specNumber(v: unknown, where: string): number {
  const n = specValue(v, where);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RegisterMapError(`${where} ${describeArg(v)} is too large`);
  return Number(n);
}

/** Throws unless every key of `obj` is one of `known`: a misspelled key in JSON is an error, not ignored. */
export function checkKeys(obj: object, known: readonly string[], where: string): void {
  for (const k of Object.keys(obj))
    if (!known.includes(k)) throw new RegisterMapError(`${where}: unknown key '${k}' (known: ${known.join(', ')})`);
}

/** Throws unless `v` is a plain object (not null, not an array). */
export function checkObject(v: unknown, where: string): asserts v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new RegisterMapError(`${where}: expected an object, got ${describeArg(v)}`);
}

/** Throws unless `v` is undefined or one of `allowed`. */
export function checkOneOf<T extends string | number>(v: unknown, allowed: readonly T[], where: string): T | undefined {
  if (v === undefined || allowed.includes(v as T)) return v as T | undefined;
  throw new RegisterMapError(`${where} ${describeArg(v)}: expected ${choiceList(allowed)}`);
}

/** Names usable as properties without clashing with what every object has. */
export function checkName(name: string, reserved: readonly string[], where: string): void {
  if (!/^[A-Za-z_$][\w$]*$/.test(name))
    throw new RegisterMapError(`${where}: the name '${name}' is not an identifier (letters, digits, _ and $)`);
  if (reserved.includes(name) || name in Object.prototype)
    throw new RegisterMapError(`${where}: the name '${name}' is reserved (${reserved.join(', ')} and Object's own)`);
}
